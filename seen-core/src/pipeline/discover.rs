//! Discovery: a breadth-first walk of a scan path that compares each
//! directory with the index in one query and queues only new or changed
//! files (unchanged ones are never opened).

use std::collections::{HashMap, HashSet, VecDeque};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::media::{MediaType, media_type_for_extension};
use crate::stats::Counters;
use crate::store::{AssetStat, ScanPath};

use super::{FileJob, Shared, Tracker};

/// Files of the index that were not found on disk (deleted after the scan,
/// unless a renamed copy claimed them meanwhile).
pub(crate) type Missing = Vec<(i64, String)>;

/// A file that Seen indexes, as found on disk.
pub(crate) struct Found {
    pub(crate) path: String,
    pub(crate) ext: String,
    pub(crate) media: MediaType,
    pub(crate) size: i64,
    pub(crate) mtime_ns: i64,
    pub(crate) ctime_ns: i64,
}

/// Whether a file or directory name is hidden.
pub(crate) fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// Describe `path` when it is a media file Seen indexes.
pub(crate) fn examine(path: &Path, meta: &std::fs::Metadata) -> Option<Found> {
    let name = path.file_name()?.to_str()?;
    if is_hidden(name) || !meta.is_file() {
        return None;
    }
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    let media = media_type_for_extension(&ext)?;
    Some(Found {
        path: path.to_str()?.to_string(),
        ext,
        media,
        size: meta.len() as i64,
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
        ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
    })
}

impl Found {
    /// Whether the index already has this file as it is now: same size and
    /// mtime. A file that failed last time is tried again when anything
    /// about it changed, its permissions included (the ctime).
    pub(crate) fn unchanged(&self, known: Option<&AssetStat>) -> bool {
        known.is_some_and(|k| {
            k.size == self.size
                && k.mtime_ns == self.mtime_ns
                && !(k.failed && k.ctime_ns != self.ctime_ns)
        })
    }

    pub(crate) fn into_job(
        self,
        scan_path_id: i64,
        known: Option<AssetStat>,
        tracker: &Arc<Tracker>,
    ) -> FileJob {
        FileJob {
            scan_path_id,
            path: self.path,
            ext: self.ext,
            media: self.media,
            size: self.size,
            mtime_ns: self.mtime_ns,
            ctime_ns: self.ctime_ns,
            known,
            tracker: tracker.clone(),
        }
    }
}

/// Walk `root` (runs on a blocking thread). Returns the indexed files that
/// were not found.
pub(crate) fn discover(
    shared: &Shared,
    root: &ScanPath,
    tracker: &Arc<Tracker>,
) -> crate::Result<Missing> {
    let rt = shared.runtime.clone();
    let mut missing = Missing::new();
    let mut visited_dirs: HashSet<String> = HashSet::new();
    let mut seen_inodes: HashSet<(u64, u64)> = HashSet::new();
    let mut queue: VecDeque<PathBuf> = VecDeque::from([PathBuf::from(&root.path)]);
    // Files Seen does not index, by extension (for /file-types).
    let mut others: HashMap<String, u64> = HashMap::new();

    while let Some(dir) = queue.pop_front() {
        if tracker.is_cancelled() {
            return Ok(Missing::new());
        }
        // Follow symlinked directories, but never into a loop.
        let Ok(dir_meta) = std::fs::metadata(&dir) else {
            tracing::warn!(dir = %dir.display(), "directory vanished during the scan");
            continue;
        };
        if !seen_inodes.insert((dir_meta.dev(), dir_meta.ino())) {
            tracing::info!(dir = %dir.display(), "already visited (symlink loop or bind mount): skipped");
            continue;
        }
        let Some(dir_text) = dir.to_str().map(str::to_string) else {
            tracing::warn!(dir = %dir.display(), "directory name is not UTF-8: skipped");
            continue;
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(dir = %dir_text, "cannot list directory: {e}");
                Counters::add(&shared.counters.file_errors, 1);
                continue;
            }
        };
        visited_dirs.insert(dir_text.clone());
        let mut files = Vec::new();
        let mut subdirs = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                tracing::warn!(dir = %dir_text, name = ?entry.file_name(), "file name is not UTF-8: skipped");
                continue;
            };
            if is_hidden(name) {
                continue;
            }
            let path = entry.path();
            // metadata() follows symlinks; a dangling link is skipped.
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                subdirs.push(path);
            } else if let Some(found) = examine(&path, &meta) {
                files.push(found);
            } else if meta.is_file() {
                let ext = path.extension().and_then(|e| e.to_str()).map_or_else(
                    || "(none)".to_string(),
                    |e| format!(".{}", e.to_ascii_lowercase()),
                );
                *others.entry(ext).or_insert(0) += 1;
            }
        }
        subdirs.sort();
        queue.extend(subdirs);
        files.sort_by(|a, b| a.path.cmp(&b.path));

        let compared = rt.block_on(async {
            let known = shared.store.stats_in_dir(&dir_text).await?;
            let excluded = shared.store.excluded_in_dir(&dir_text).await?;
            Ok::<_, crate::Error>((known, excluded))
        });
        let (mut known, excluded) = match compared {
            Ok(v) => v,
            Err(e) => {
                // Without the comparison every file would look new; better to
                // leave this directory for the next scan.
                tracing::error!(dir = %dir_text, "cannot compare with the index: {e}");
                continue;
            }
        };
        for found in files {
            if excluded.contains(&found.path) {
                known.remove(&found.path);
                continue;
            }
            let stat = known.remove(&found.path);
            if found.unchanged(stat.as_ref()) {
                Counters::add(&shared.counters.files_unchanged, 1);
                continue;
            }
            Counters::add(&shared.counters.files_discovered, 1);
            Counters::add(&tracker.files_found, 1);
            tracker.begin();
            if !shared
                .sched
                .push_ingest(found.into_job(root.id, stat, tracker))
            {
                return Ok(Missing::new());
            }
        }
        // Indexed here but not on disk any more.
        missing.extend(known.into_iter().map(|(path, s)| (s.id, path)));
    }

    shared
        .other_files
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(root.path.clone(), others);

    // Directories that held indexed files but were not visited are gone.
    let dirs = rt.block_on(shared.store.dirnames_of_scan_path(root.id))?;
    for d in dirs.into_iter().filter(|d| !visited_dirs.contains(d)) {
        if tracker.is_cancelled() {
            return Ok(Missing::new());
        }
        let known = rt.block_on(shared.store.stats_in_dir(&d))?;
        missing.extend(known.into_iter().map(|(path, s)| (s.id, path)));
    }
    Ok(missing)
}
