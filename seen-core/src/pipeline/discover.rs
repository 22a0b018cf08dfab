//! Discovery: a walk of a scan path (walkdir) that compares each directory
//! with the index in one query and queues only new or changed files
//! (unchanged ones are never opened).

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
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

/// One directory's media files, compared with the index in one query.
struct DirBatch {
    dir: String,
    files: Vec<Found>,
}

/// Walk `root` (runs on a blocking thread) with walkdir: symlinked
/// directories are followed, but a directory reached twice (a loop, or two
/// links to one place) is walked once, real directories before links to
/// them. Each directory's files come before its subdirectories, so they
/// are compared with the index in one query per directory. Returns the
/// indexed files that were not found.
pub(crate) fn discover(
    shared: &Shared,
    root: &ScanPath,
    tracker: &Arc<Tracker>,
) -> crate::Result<Missing> {
    let mut missing = Missing::new();
    let mut visited_dirs: HashSet<String> = HashSet::new();
    let mut seen_dirs: HashSet<(u64, u64)> = HashSet::new();
    // Files Seen does not index, by extension (for /file-types).
    let mut others: HashMap<String, u64> = HashMap::new();
    let walker = walkdir::WalkDir::new(&root.path)
        .follow_links(true)
        .sort_by(|a, b| {
            let key = |e: &walkdir::DirEntry| (e.file_type().is_dir(), e.path_is_symlink());
            key(a).cmp(&key(b)).then_with(|| a.file_name().cmp(b.file_name()))
        })
        .into_iter()
        .filter_entry(|e| {
            if e.depth() > 0 {
                match e.file_name().to_str() {
                    None => {
                        tracing::warn!(path = %e.path().display(), "name is not UTF-8: skipped");
                        return false;
                    }
                    Some(name) if is_hidden(name) => return false,
                    Some(_) => {}
                }
            }
            if !e.file_type().is_dir() {
                return true;
            }
            match e.metadata() {
                Ok(m) if seen_dirs.insert((m.dev(), m.ino())) => true,
                Ok(_) => {
                    tracing::info!(dir = %e.path().display(), "already walked (symlink loop or second link): skipped");
                    false
                }
                Err(_) => false,
            }
        });
    let mut batch: Option<DirBatch> = None;
    for entry in walker {
        if tracker.is_cancelled() {
            return Ok(Missing::new());
        }
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // A dangling link, a directory that cannot be listed or
                // that vanished: logged, and the walk goes on.
                if e.loop_ancestor().is_none()
                    && e.io_error()
                        .is_some_and(|io| io.kind() != std::io::ErrorKind::NotFound)
                {
                    tracing::warn!(
                        "cannot read {}: {e}",
                        e.path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default()
                    );
                    Counters::add(&shared.counters.file_errors, 1);
                }
                continue;
            }
        };
        if entry.file_type().is_dir() {
            if let Some(b) = batch.take() {
                if !queue_changed(shared, root, tracker, b, &mut missing)? {
                    return Ok(Missing::new());
                }
            }
            let Some(dir) = entry.path().to_str() else {
                continue;
            };
            visited_dirs.insert(dir.to_string());
            batch = Some(DirBatch {
                dir: dir.to_string(),
                files: Vec::new(),
            });
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if let Some(found) = examine(entry.path(), &meta) {
            if let Some(b) = batch.as_mut() {
                b.files.push(found);
            }
        } else if meta.is_file() {
            let ext = entry
                .path()
                .extension()
                .and_then(|e| e.to_str())
                .map_or_else(
                    || "(none)".to_string(),
                    |e| format!(".{}", e.to_ascii_lowercase()),
                );
            *others.entry(ext).or_insert(0) += 1;
        }
    }
    if let Some(b) = batch.take()
        && !queue_changed(shared, root, tracker, b, &mut missing)?
    {
        return Ok(Missing::new());
    }

    shared
        .other_files
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(root.path.clone(), others);

    // Directories that held indexed files but were not visited are gone.
    let rt = &shared.runtime;
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

/// Compare one directory's files with the index (one query) and queue the
/// new and changed ones; indexed files not found go to `missing`. Returns
/// `false` when the scan was cancelled while queueing.
fn queue_changed(
    shared: &Shared,
    root: &ScanPath,
    tracker: &Arc<Tracker>,
    batch: DirBatch,
    missing: &mut Missing,
) -> crate::Result<bool> {
    let compared = shared.runtime.block_on(async {
        let known = shared.store.stats_in_dir(&batch.dir).await?;
        let excluded = shared.store.excluded_in_dir(&batch.dir).await?;
        Ok::<_, crate::Error>((known, excluded))
    });
    let (mut known, excluded) = match compared {
        Ok(v) => v,
        Err(e) => {
            // Without the comparison every file would look new; better to
            // leave this directory for the next scan.
            tracing::error!(dir = %batch.dir, "cannot compare with the index: {e}");
            return Ok(true);
        }
    };
    for found in batch.files {
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
            return Ok(false);
        }
    }
    // Indexed here but not on disk any more.
    missing.extend(known.into_iter().map(|(path, s)| (s.id, path)));
    Ok(true)
}
