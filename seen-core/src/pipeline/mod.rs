//! Ingestion: discover → read once + hash → metadata → batched store →
//! thumbnails → previews, with bounded queues, CPU work on worker threads
//! (never on the async runtime), and a watcher that keeps the index in step
//! with the disk.

mod derived;
mod discover;
mod process;
mod queue;
mod tracker;
mod watch;
mod writer;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot, watch as tokio_watch};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::media::webp::Picture;
use crate::media::{MediaType, Orient};
use crate::stats::Counters;
use crate::store::{Asset, AssetKind, AssetStat, NewAsset, ScanPath, Store, derived_state};

pub(crate) use derived::Derived;
pub(crate) use process::render_from_file as render_file;
pub(crate) use tracker::Tracker;
use writer::WriteOp;

/// A file queued for ingestion.
pub(crate) struct FileJob {
    scan_path_id: i64,
    path: String,
    ext: String,
    media: MediaType,
    size: i64,
    mtime_ns: i64,
    ctime_ns: i64,
    /// The index's row for this path, when it has one.
    known: Option<AssetStat>,
    tracker: Arc<Tracker>,
}

impl FileJob {
    fn base_asset(&self) -> NewAsset {
        NewAsset {
            scan_path_id: self.scan_path_id,
            path: self.path.clone(),
            ext: self.ext.clone(),
            mime: self.media.mime.to_string(),
            kind: Some(self.media.kind),
            size: self.size,
            mtime_ns: self.mtime_ns,
            ctime_ns: self.ctime_ns,
            orientation: 1,
            ..NewAsset::default()
        }
    }
}

/// Derived images still to make for one content hash and rotation.
pub(crate) struct DerivedJob {
    path: PathBuf,
    sha256: String,
    orient: Orient,
    thumb: bool,
    preview: bool,
    /// The preview's picture, already decoded, fitted and converted for
    /// the WebP encoder, when it was kept in memory (only for preview-only
    /// jobs: the thumbnail was made from the same decode).
    parked: Option<Picture>,
    tracker: Arc<Tracker>,
}

impl DerivedJob {
    /// Bytes of parking budget this job holds.
    fn parked_bytes(&self) -> usize {
        self.parked.as_ref().map_or(0, Picture::heap_bytes)
    }
}

/// Content hashes of files read but whose rows the writer has not handled
/// yet: their derived images may exist before any asset has the content,
/// and must not be taken for orphans. A count per hash (two copies of one
/// content can be on their way at once).
#[derive(Default)]
pub(crate) struct ContentInFlight(Mutex<HashMap<String, usize>>);

impl ContentInFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A file with this content was read.
    pub(crate) fn enter(&self, sha256: &str) {
        *self.lock().entry(sha256.to_string()).or_default() += 1;
    }

    /// Its row was handled (stored or given up).
    pub(crate) fn leave(&self, sha256: &str) {
        let mut map = self.lock();
        if let Some(n) = map.get_mut(sha256) {
            *n -= 1;
            if *n == 0 {
                map.remove(sha256);
            }
        }
    }

    /// Whether a file with this content is on its way to the index.
    pub(crate) fn contains(&self, sha256: &str) -> bool {
        self.lock().contains_key(sha256)
    }
}

/// Remove the derived files of those content hashes that no asset has and
/// no file on its way to the index has (deletes, and images finished for an
/// asset deleted meanwhile, both come here).
pub(crate) async fn remove_unused_derived(
    store: &Store,
    derived: &Derived,
    in_flight: &ContentInFlight,
    shas: &[String],
) {
    let unused: Vec<String> = match store.unused_sha256s(shas).await {
        Ok(unused) => unused
            .into_iter()
            .filter(|sha| !in_flight.contains(sha))
            .collect(),
        Err(e) => {
            tracing::warn!("cannot tell which derived files are unused; kept: {e}");
            return;
        }
    };
    if unused.is_empty() {
        return;
    }
    let derived = derived.clone();
    let _ = tokio::task::spawn_blocking(move || {
        for sha in &unused {
            derived.remove_all(sha);
        }
    })
    .await;
}

/// What every pipeline stage shares.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) derived: Derived,
    pub(crate) counters: Arc<Counters>,
    sched: queue::Scheduler,
    writer: mpsc::Sender<WriteOp>,
    runtime: tokio::runtime::Handle,
    /// Files being read, hashed and described right now.
    in_flight: std::sync::atomic::AtomicUsize,
    /// Hardware acceleration state for video decoding.
    pub(crate) accel: crate::media::accel::AccelState,
    /// Files the last scan of each root saw but does not index, by extension.
    other_files: Mutex<HashMap<String, HashMap<String, u64>>>,
    /// Content read whose rows are not handled yet.
    pub(crate) content_in_flight: Arc<ContentInFlight>,
}

impl Shared {
    /// Hand an operation to the writer (from a worker thread).
    fn send(&self, op: WriteOp) {
        if let Err(e) = self.writer.blocking_send(op) {
            // The writer only stops at shutdown; end the unit so nobody waits forever.
            match e.0 {
                WriteOp::Upsert { asset, tracker, .. } => {
                    if let Some(sha) = &asset.sha256 {
                        self.content_in_flight.leave(sha);
                    }
                    tracker.end()
                }
                WriteOp::Derived { tracker, .. } => tracker.end(),
                WriteOp::Flush(_) => {}
            }
        }
    }
}

/// A running or finished scan; await [`ScanHandle::wait`] for every stage
/// (rows, thumbnails, previews) to be done.
#[derive(Clone)]
pub struct ScanHandle {
    done: tokio_watch::Receiver<Option<ScanOutcome>>,
}

/// How a scan ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScanOutcome {
    /// The scan path.
    pub path: String,
    /// Files that were new or changed and were processed.
    pub files_processed: u64,
    /// Of those, files stored with a recorded problem (see
    /// [`crate::Library::problem_assets`]).
    pub files_with_errors: u64,
    /// Files that could not be stored because the database failed; the
    /// next scan reads them again.
    pub files_not_stored: u64,
    /// Assets removed because their files were gone.
    pub files_removed: u64,
    /// Whether it was stopped before the end (pause, removal, shutdown).
    pub cancelled: bool,
}

impl ScanHandle {
    /// Wait until the scan and all its derived images are done.
    pub async fn wait(mut self) -> Result<ScanOutcome> {
        loop {
            if let Some(outcome) = self.done.borrow().clone() {
                return Ok(outcome);
            }
            if self.done.changed().await.is_err() {
                return Err(Error::Cancelled(
                    "the library closed during the scan".into(),
                ));
            }
        }
    }

    /// Wait like [`ScanHandle::wait`], but a scan stopped before its end
    /// (pause, removal of its folder, closing) is `Error::Cancelled`: for
    /// callers that only want to know whether the folder is fully indexed.
    pub async fn completed(self) -> Result<ScanOutcome> {
        let outcome = self.wait().await?;
        if outcome.cancelled {
            return Err(Error::Cancelled(format!(
                "the scan of {} was stopped before the end (paused, removed or closing)",
                outcome.path
            )));
        }
        Ok(outcome)
    }

    /// Whether the scan has finished.
    pub fn is_finished(&self) -> bool {
        self.done.borrow().is_some()
    }
}

struct RunningScan {
    tracker: Arc<Tracker>,
    handle: ScanHandle,
}

/// Per-path live state.
#[derive(Default)]
struct PathState {
    scan: Option<RunningScan>,
    /// A scan was stopped by pause and must run again on resume.
    interrupted: bool,
}

/// Live figures of the running scans, for /stats.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq)]
pub struct CurrentScan {
    /// Files read and hashed by running scans.
    pub files_read: u64,
    /// Files committed by running scans.
    pub files_processed: u64,
    /// Files found needing work by running scans.
    pub files_found: u64,
    /// Photos processed.
    pub photos_processed: u64,
    /// Videos processed.
    pub videos_processed: u64,
    /// Seconds since the oldest running scan started.
    pub elapsed_seconds: f64,
}

/// Queue depths per stage.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
pub struct QueueDepths {
    /// Scans still walking their directories.
    pub discover: usize,
    /// Files waiting to be read and hashed.
    pub hash: usize,
    /// Files being read, hashed and described by the workers right now.
    pub metadata: usize,
    /// Rows waiting for the database writer.
    pub db_write: usize,
    /// Derived images waiting (previews and regenerations).
    pub thumb: usize,
}

/// What a transcode produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transcode {
    /// H.264/AAC MP4 for browsers.
    Mp4,
    /// MP3 audio.
    Mp3,
    /// AAC audio in M4A (the fallback when MP3 encoding fails).
    M4a,
}

/// Memory for decoded previews waiting for a worker (each file decoded
/// once makes both sizes; past this budget the preview decodes again
/// later). Parking costs the thumbnail phase the larger decode, so more is
/// not better: 64 MiB (22 previews of 4:3 photos) keeps a large library
/// browsable as soon (0.11 of `vipsthumbnail`'s time in the ingest bench)
/// while saving a decode on each parked file (100 MiB: 0.123 and 0.317 in
/// all, against 0.112 and 0.320).
const PARKED_PREVIEW_BYTES: usize = 64 << 20;

/// A failed transcode is not tried again for this long.
const TRANSCODE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// The ingestion engine of one library.
pub(crate) struct Pipeline {
    shared: Arc<Shared>,
    /// One lock per transcode target, so concurrent requests share one run.
    transcodes: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
    /// Transcodes that failed lately, so a request does not redo the
    /// failing work every time: (when, why).
    failed_transcodes: Mutex<HashMap<PathBuf, (std::time::Instant, String)>>,
    paths: Mutex<HashMap<String, PathState>>,
    watcher: watch::Watcher,
    workers: Mutex<Vec<std::thread::JoinHandle<()>>>,
    discovering: std::sync::atomic::AtomicUsize,
}

impl Pipeline {
    /// Start the writer task and the worker threads.
    pub(crate) fn start(config: Config, store: Store, counters: Arc<Counters>) -> Arc<Pipeline> {
        let (tx, rx) = mpsc::channel(1024);
        let workers_n = config.effective_workers();
        let shared = Arc::new(Shared {
            derived: Derived::new(config.derived_dir()),
            sched: queue::Scheduler::new(64, PARKED_PREVIEW_BYTES),
            writer: tx,
            runtime: tokio::runtime::Handle::current(),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            other_files: Mutex::new(HashMap::new()),
            accel: crate::media::accel::AccelState::new(config.accel),
            counters: counters.clone(),
            store: store.clone(),
            config,
            content_in_flight: Arc::new(ContentInFlight::default()),
        });
        tokio::spawn(writer::run(
            store,
            counters,
            shared.derived.clone(),
            shared.content_in_flight.clone(),
            rx,
        ));
        let workers = (0..workers_n)
            .map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("seen-worker-{i}"))
                    .spawn(move || process::worker_loop(shared))
                    .expect("spawn worker thread")
            })
            .collect();
        Arc::new_cyclic(|weak: &std::sync::Weak<Pipeline>| Pipeline {
            shared: shared.clone(),
            paths: Mutex::new(HashMap::new()),
            transcodes: Mutex::new(HashMap::new()),
            failed_transcodes: Mutex::new(HashMap::new()),
            watcher: watch::Watcher::new(shared.clone(), weak.clone()),
            workers: Mutex::new(workers),
            discovering: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    fn lock_paths(&self) -> std::sync::MutexGuard<'_, HashMap<String, PathState>> {
        self.paths.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start a scan of a registered path; `Conflict` if one is running.
    pub(crate) fn scan(self: &Arc<Self>, root: ScanPath) -> Result<ScanHandle> {
        let mut paths = self.lock_paths();
        let state = paths.entry(root.path.clone()).or_default();
        if let Some(running) = &state.scan
            && !running.handle.is_finished()
        {
            return Err(Error::Conflict(format!(
                "{} is already being scanned",
                root.path
            )));
        }
        let tracker = Arc::new(Tracker::new());
        let (tx, rx) = tokio_watch::channel(None);
        let handle = ScanHandle { done: rx };
        state.scan = Some(RunningScan {
            tracker: tracker.clone(),
            handle: handle.clone(),
        });
        state.interrupted = false;
        drop(paths);
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.run_scan(&root, &tracker).await;
            let _ = tx.send(Some(outcome));
        });
        Ok(handle)
    }

    async fn run_scan(self: &Arc<Self>, root: &ScanPath, tracker: &Arc<Tracker>) -> ScanOutcome {
        tracing::info!(path = %root.path, "scan started");
        self.discovering
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let shared = self.shared.clone();
        let (root2, tracker2) = (root.clone(), tracker.clone());
        let found =
            tokio::task::spawn_blocking(move || discover::discover(&shared, &root2, &tracker2))
                .await;
        self.discovering
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        let missing = match found {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                tracing::error!(path = %root.path, "scan failed: {e}");
                Vec::new()
            }
            Err(e) => {
                tracing::error!(path = %root.path, "scan task failed: {e}");
                Vec::new()
            }
        };
        tracker.wait_idle().await;
        let cancelled = tracker.is_cancelled();
        let mut removed = 0;
        if !cancelled {
            removed = self.remove_missing(missing).await;
            if let Err(e) = self.shared.store.mark_scanned(&root.path).await {
                tracing::warn!("cannot record the scan time: {e}");
            }
        }
        let outcome = ScanOutcome {
            path: root.path.clone(),
            files_processed: tracker
                .files_processed
                .load(std::sync::atomic::Ordering::Relaxed),
            files_with_errors: tracker
                .files_with_errors
                .load(std::sync::atomic::Ordering::Relaxed),
            files_not_stored: tracker
                .files_not_stored
                .load(std::sync::atomic::Ordering::Relaxed),
            files_removed: removed,
            cancelled,
        };
        tracing::info!(
            path = %root.path,
            processed = outcome.files_processed,
            with_errors = outcome.files_with_errors,
            not_stored = outcome.files_not_stored,
            removed,
            cancelled,
            seconds = tracker.started.elapsed().as_secs_f64(),
            "scan finished"
        );
        outcome
    }

    /// Delete assets whose files are gone (unless a moved copy took them over).
    async fn remove_missing(&self, missing: discover::Missing) -> u64 {
        let mut gone = HashMap::new();
        for (id, path) in missing {
            if !tokio::fs::try_exists(&path).await.unwrap_or(true) {
                gone.insert(id, path);
            }
        }
        if gone.is_empty() {
            return 0;
        }
        let ids: Vec<i64> = gone.keys().copied().collect();
        let assets = match self.shared.store.assets_by_ids(&ids).await {
            Ok(found) => found
                .into_iter()
                .filter(|a| gone.get(&a.id) == Some(&a.path))
                .collect::<Vec<_>>(),
            Err(e) => {
                tracing::error!("cannot look up vanished files: {e}");
                return 0;
            }
        };
        if assets.is_empty() {
            return 0;
        }
        let removed = self
            .delete_assets(&assets, false)
            .await
            .unwrap_or_else(|e| {
                tracing::error!("cannot remove vanished files from the index: {e}");
                0
            });
        Counters::add(&self.shared.counters.files_removed, removed);
        removed
    }

    /// Remove assets from the index and drop derived files nobody else uses.
    pub(crate) async fn delete_assets(&self, assets: &[Asset], exclude: bool) -> Result<u64> {
        let ids: Vec<i64> = assets.iter().map(|a| a.id).collect();
        let n = self.shared.store.delete_assets(&ids, exclude).await?;
        let shas: Vec<String> = assets.iter().filter_map(|a| a.sha256.clone()).collect();
        self.forget_derived(&shas).await;
        Ok(n)
    }

    /// Remove the derived files of those content hashes no asset uses any
    /// more (and no file on its way to the index has).
    pub(crate) async fn forget_derived(&self, shas: &[String]) {
        let s = &self.shared;
        remove_unused_derived(&s.store, &s.derived, &s.content_in_flight, shas).await;
    }

    /// Whether a scan of `path` is running.
    pub(crate) fn is_scanning(&self, path: &str) -> bool {
        self.lock_paths()
            .get(path)
            .and_then(|s| s.scan.as_ref())
            .is_some_and(|s| !s.handle.is_finished())
    }

    /// Whether any scan is running.
    pub(crate) fn any_scanning(&self) -> bool {
        self.lock_paths()
            .values()
            .filter_map(|s| s.scan.as_ref())
            .any(|s| !s.handle.is_finished())
    }

    /// The handle of the running scan of `path`, if any.
    pub(crate) fn running_scan(&self, path: &str) -> Option<ScanHandle> {
        self.lock_paths()
            .get(path)
            .and_then(|s| s.scan.as_ref())
            .filter(|s| !s.handle.is_finished())
            .map(|s| s.handle.clone())
    }

    /// Stop the running scan of `path` and hold its watcher's events.
    pub(crate) fn pause(&self, path: &str) {
        let tracker = {
            let mut paths = self.lock_paths();
            let state = paths.entry(path.to_string()).or_default();
            match &state.scan {
                Some(s) if !s.handle.is_finished() => {
                    state.interrupted = true;
                    Some(s.tracker.clone())
                }
                _ => None,
            }
        };
        self.watcher.pause(path);
        if let Some(t) = tracker {
            t.cancel();
            self.shared.sched.cancel(&t);
        }
    }

    /// Hold a path that was paused when the library opened: its watcher
    /// holds events, and since the start-up reconcile was skipped, resume
    /// scans it (files that changed while the server was down are found).
    pub(crate) fn paused_at_start(&self, path: &str) {
        self.lock_paths()
            .entry(path.to_string())
            .or_default()
            .interrupted = true;
        self.watcher.pause(path);
    }

    /// Resume watching `path`: held events are processed, a scan that pause
    /// interrupted runs again (unchanged files are skipped unopened), and
    /// derived images the pause dropped are queued again.
    pub(crate) fn resume(self: &Arc<Self>, root: ScanPath) -> Result<()> {
        self.watcher.resume(&root.path);
        let interrupted = self
            .lock_paths()
            .get(&root.path)
            .is_some_and(|s| s.interrupted);
        if interrupted && !self.is_scanning(&root.path) {
            self.scan(root.clone())?;
        }
        if interrupted {
            let this = self.clone();
            tokio::spawn(async move {
                if let Err(e) = this.resume_unfinished(Some(root.id)).await {
                    tracing::warn!(path = %root.path, "cannot queue unfinished previews: {e}");
                }
            });
        }
        Ok(())
    }

    /// Start watching `root` (no-op when watching is disabled).
    pub(crate) fn watch(&self, root: &ScanPath) {
        if self.shared.config.watch {
            self.watcher.add(root);
        }
    }

    /// Stop scanning and watching `path` (it is being removed).
    pub(crate) fn forget_path(&self, path: &str) {
        self.watcher.remove(path);
        let state = self.lock_paths().remove(path);
        if let Some(RunningScan { tracker, .. }) = state.and_then(|s| s.scan) {
            tracker.cancel();
            self.shared.sched.cancel(&tracker);
        }
    }

    /// `(watching, paused)` for a path.
    pub(crate) fn watch_status(&self, path: &str) -> (bool, bool) {
        self.watcher.status(path)
    }

    /// Figures of the running scans.
    pub(crate) fn current_scan(&self) -> Option<CurrentScan> {
        let paths = self.lock_paths();
        let running: Vec<&RunningScan> = paths
            .values()
            .filter_map(|s| s.scan.as_ref())
            .filter(|s| !s.handle.is_finished())
            .collect();
        if running.is_empty() {
            return None;
        }
        let load = |f: fn(&Tracker) -> &std::sync::atomic::AtomicU64| {
            running
                .iter()
                .map(|s| f(&s.tracker).load(std::sync::atomic::Ordering::Relaxed))
                .sum()
        };
        Some(CurrentScan {
            files_read: load(|t| &t.files_read),
            files_processed: load(|t| &t.files_processed),
            files_found: load(|t| &t.files_found),
            photos_processed: load(|t| &t.photos),
            videos_processed: load(|t| &t.videos),
            elapsed_seconds: running
                .iter()
                .map(|s| s.tracker.started.elapsed().as_secs_f64())
                .fold(0.0, f64::max),
        })
    }

    /// Non-media files seen by the last scan of each root, by extension.
    pub(crate) fn other_files(&self) -> HashMap<String, u64> {
        let mut total = HashMap::new();
        for per_root in self
            .shared
            .other_files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            for (ext, n) in per_root {
                *total.entry(ext.clone()).or_insert(0) += n;
            }
        }
        total
    }

    /// Remove every derived file.
    pub(crate) async fn clear_derived(&self) -> Result<()> {
        let d = self.shared.derived.clone();
        tokio::task::spawn_blocking(move || d.clear()).await?
    }

    /// Hardware acceleration figures.
    pub(crate) fn gpu_usage(&self) -> crate::media::accel::GpuUsage {
        self.shared.accel.usage()
    }

    /// Queue depths per stage.
    pub(crate) fn queue_depths(&self) -> QueueDepths {
        let (ingest, buffered, deferred) = self.shared.sched.depths();
        QueueDepths {
            discover: self.discovering.load(std::sync::atomic::Ordering::Relaxed),
            hash: ingest,
            metadata: self
                .shared
                .in_flight
                .load(std::sync::atomic::Ordering::Relaxed),
            db_write: self.shared.writer.max_capacity() - self.shared.writer.capacity(),
            thumb: buffered + deferred,
        }
    }

    /// The WebP bytes of a derived image of `asset` (`preview` or thumbnail),
    /// made now if missing.
    pub(crate) async fn derived_image(&self, asset: &Asset, preview: bool) -> Result<Vec<u8>> {
        if asset.kind() == AssetKind::Audio {
            return Err(Error::NotFound(format!(
                "asset {} is audio and has no picture",
                asset.id
            )));
        }
        let sha = asset
            .sha256
            .clone()
            .ok_or_else(|| Error::NotFound(format!("asset {} has not been read yet", asset.id)))?;
        let cfg = &self.shared.config;
        let size = if preview {
            cfg.preview_size
        } else {
            cfg.thumb_size
        };
        let path = self.shared.derived.image_path(&sha, asset.rotation, size);
        match tokio::fs::read(&path).await {
            Ok(bytes) => return Ok(bytes),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io_at(&path, e));
            }
            Err(_) => {}
        }
        // Not made yet (queued, failed before, or removed): make it now.
        let shared = self.shared.clone();
        let source = PathBuf::from(&asset.path);
        let orient = Orient {
            exif: asset.orientation as u16,
            rotation: asset.rotation as u16,
        };
        let target = path.clone();
        let quality = cfg.webp_quality;
        tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
            Counters::add(&shared.counters.derived_rereads, 1);
            let img = process::render_for_webp(&source, size, orient, &shared.accel)?;
            let webp = img.webp_within(
                size,
                quality,
                if preview {
                    process::PREVIEW_METHOD
                } else {
                    process::THUMB_METHOD
                },
            )?;
            shared.derived.write_atomic(&target, &webp)?;
            Ok(webp)
        })
        .await?
        .map_err(|e| match e {
            Error::Io { source, path } if source.kind() == std::io::ErrorKind::NotFound => {
                Error::NotFound(format!(
                    "the original of asset {} is gone: {}",
                    asset.id,
                    path.map(|p| p.display().to_string()).unwrap_or_default()
                ))
            }
            other => other,
        })
    }

    /// The cached transcode of `asset` (made now if missing; concurrent
    /// callers for the same file wait for one transcode).
    pub(crate) async fn transcoded(&self, asset: &Asset, kind: Transcode) -> Result<PathBuf> {
        let sha = asset
            .sha256
            .clone()
            .ok_or_else(|| Error::NotFound(format!("asset {} has not been read yet", asset.id)))?;
        let ext = match kind {
            Transcode::Mp4 => "mp4",
            Transcode::Mp3 => "mp3",
            Transcode::M4a => "m4a",
        };
        let target = self.shared.derived.file_path(&sha, ext);
        if tokio::fs::try_exists(&target).await.unwrap_or(false) {
            return Ok(target);
        }
        let lock = self
            .transcodes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(target.clone())
            .or_default()
            .clone();
        let _guard = lock.lock().await;
        if tokio::fs::try_exists(&target).await.unwrap_or(false) {
            return Ok(target);
        }
        if let Some((at, why)) = self
            .failed_transcodes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&target)
            && at.elapsed() < TRANSCODE_RETRY_AFTER
        {
            return Err(Error::Media(format!("transcoding failed earlier: {why}")));
        }
        let source = PathBuf::from(&asset.path);
        let out = target.clone();
        let shared = self.shared.clone();
        tracing::info!(path = %asset.path, ?kind, "transcoding");
        let result = tokio::task::spawn_blocking(move || -> Result<()> {
            let dir = out
                .parent()
                .expect("derived files live in a shard directory");
            std::fs::create_dir_all(dir).map_err(|e| Error::io_at(dir, e))?;
            let tmp = tempfile::Builder::new()
                .prefix(".transcode-")
                .tempfile_in(dir)
                .map_err(|e| Error::io_at(dir, e))?;
            match kind {
                Transcode::Mp4 => {
                    crate::media::transcode::video_mp4(&source, tmp.path(), &shared.accel)?
                }
                Transcode::Mp3 => crate::media::transcode::audio(
                    &source,
                    tmp.path(),
                    crate::media::transcode::AudioOut::Mp3,
                )?,
                Transcode::M4a => crate::media::transcode::audio(
                    &source,
                    tmp.path(),
                    crate::media::transcode::AudioOut::M4a,
                )?,
            }
            tmp.persist(&out).map_err(|e| Error::io_at(&out, e.error))?;
            Ok(())
        })
        .await
        .map_err(Error::from)
        .and_then(|r| r);
        Counters::add(&self.shared.counters.transcodes, 1);
        // Whatever happened, the lock entry goes (later callers find the
        // file, or the remembered failure).
        self.transcodes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&target);
        if let Err(e) = &result {
            tracing::warn!(path = %asset.path, "transcoding failed: {e}");
            self.failed_transcodes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(target.clone(), (std::time::Instant::now(), e.to_string()));
        }
        result.map(|()| target)
    }

    /// Queue new derived images for `asset` (after a rotation change).
    pub(crate) fn regenerate(&self, asset: &Asset) {
        self.queue_derived(asset, true, true);
    }

    /// Queue the thumbnail and/or preview of `asset` (none for audio or an
    /// asset not read yet).
    fn queue_derived(&self, asset: &Asset, thumb: bool, preview: bool) {
        let Some(sha) = asset.sha256.clone() else {
            return;
        };
        if asset.kind() == AssetKind::Audio || !(thumb || preview) {
            return;
        }
        let tracker = Arc::new(Tracker::new());
        tracker.begin();
        let job = DerivedJob {
            path: PathBuf::from(&asset.path),
            sha256: sha,
            orient: Orient {
                exif: asset.orientation as u16,
                rotation: asset.rotation as u16,
            },
            thumb,
            preview,
            parked: None,
            tracker,
        };
        self.shared.sched.push_derived(job);
    }

    /// Queue derived images still missing (left when the library last
    /// closed, or dropped by a pause), of one scan path or of all: only the
    /// sizes still pending, so a finished thumbnail is not made again.
    pub(crate) async fn resume_unfinished(&self, scan_path_id: Option<i64>) -> Result<usize> {
        let assets = self
            .shared
            .store
            .assets_needing_derived(scan_path_id, 100_000)
            .await?;
        let n = assets.len();
        for a in &assets {
            self.queue_derived(
                a,
                a.thumb_state == derived_state::PENDING,
                a.preview_state == derived_state::PENDING,
            );
        }
        Ok(n)
    }

    /// Wait until everything handed to the writer so far is committed.
    pub(crate) async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.shared.writer.send(WriteOp::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Stop watchers and scans, let workers finish their current file,
    /// flush pending writes.
    pub(crate) async fn shutdown(&self) {
        self.watcher.shutdown();
        let trackers: Vec<Arc<Tracker>> = self
            .lock_paths()
            .values()
            .filter_map(|s| s.scan.as_ref().map(|r| r.tracker.clone()))
            .collect();
        for t in &trackers {
            t.cancel();
        }
        self.shared.sched.close();
        let workers: Vec<_> =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        let _ = tokio::task::spawn_blocking(move || {
            for w in workers {
                let _ = w.join();
            }
        })
        .await;
        self.flush().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic while reading one file is caught: the file gets a row with
    /// the reason, the scan's work count reaches zero, and the one worker
    /// lives on to index the next file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_decoder_neither_kills_its_worker_nor_stalls_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::with_data_dir(dir.path().join("data"));
        config.workers = 1;
        std::fs::create_dir_all(config.derived_dir()).unwrap();
        let store = Store::open(&config.effective_database_url(), 2)
            .await
            .unwrap();
        let root = store
            .add_scan_path(dir.path().to_str().unwrap(), false)
            .await
            .unwrap();
        let pipeline = Pipeline::start(config, store.clone(), Arc::new(Counters::default()));
        let tracker = Arc::new(Tracker::new());
        let jobs: Vec<FileJob> = ["boom.jpg", "fine.jpg"]
            .iter()
            .map(|name| {
                let path = dir.path().join(name);
                let bytes = seen_testkit::media::jpeg(64, 48, 1, None);
                std::fs::write(&path, &bytes).unwrap();
                FileJob {
                    scan_path_id: root.id,
                    path: path.to_str().unwrap().to_string(),
                    ext: "jpg".into(),
                    media: crate::media::media_type_for_extension("jpg").unwrap(),
                    size: bytes.len() as i64,
                    mtime_ns: 1,
                    ctime_ns: 1,
                    known: None,
                    tracker: tracker.clone(),
                }
            })
            .collect();
        let boom = jobs[0].path.clone();
        *process::PANIC_ON.lock().unwrap() = Some(boom.clone());
        let shared = pipeline.shared.clone();
        tokio::task::spawn_blocking(move || {
            for job in jobs {
                job.tracker.begin();
                assert!(shared.sched.push_ingest(job));
            }
        })
        .await
        .unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(20), tracker.wait_idle())
            .await
            .expect("the scan's work reaches zero");
        pipeline.flush().await;
        *process::PANIC_ON.lock().unwrap() = None;
        let boom = store
            .asset_by_path(&boom)
            .await
            .unwrap()
            .expect("a row for the panicking file");
        assert!(
            boom.error
                .as_deref()
                .unwrap()
                .contains("injected by a test"),
            "{:?}",
            boom.error
        );
        let fine = store
            .asset_by_path(dir.path().join("fine.jpg").to_str().unwrap())
            .await
            .unwrap()
            .expect("the next file is indexed by the same worker");
        assert_eq!((fine.error, fine.width), (None, Some(64)));
        assert!(
            pipeline.shared.content_in_flight.lock().is_empty(),
            "every row handed over was accounted for"
        );
        pipeline.shutdown().await;
    }

    /// A file that discovery saw but that is gone when a worker comes to
    /// read it is skipped: no row, no error row, and the scan's work count
    /// still reaches zero (nothing waits forever).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_vanishing_before_it_is_read_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::with_data_dir(dir.path().join("data"));
        std::fs::create_dir_all(config.derived_dir()).unwrap();
        let url = config.effective_database_url();
        let store = Store::open(&url, 2).await.unwrap();
        let root = store
            .add_scan_path(dir.path().to_str().unwrap(), false)
            .await
            .unwrap();
        let counters = Arc::new(Counters::default());
        let pipeline = Pipeline::start(config, store.clone(), counters.clone());
        let tracker = Arc::new(Tracker::new());
        let gone = dir.path().join("gone.jpg");
        let job = FileJob {
            scan_path_id: root.id,
            path: gone.to_str().unwrap().to_string(),
            ext: "jpg".into(),
            media: crate::media::media_type_for_extension("jpg").unwrap(),
            size: 1234,
            mtime_ns: 1,
            ctime_ns: 1,
            known: None,
            tracker: tracker.clone(),
        };
        tracker.begin();
        let shared = pipeline.shared.clone();
        assert!(
            tokio::task::spawn_blocking(move || shared.sched.push_ingest(job))
                .await
                .unwrap()
        );
        tokio::time::timeout(std::time::Duration::from_secs(10), tracker.wait_idle())
            .await
            .expect("the scan's work reaches zero");
        pipeline.flush().await;
        assert_eq!(store.count_assets().await.unwrap(), 0);
        let c = counters.snapshot();
        assert_eq!(
            (c.files_hashed, c.files_committed, c.file_errors),
            (0, 0, 0)
        );
        pipeline.shutdown().await;
    }

    /// Images of content on its way to the index (read, row not written)
    /// are not orphans: forgetting that content keeps them until the row
    /// is handled, and removes them after when no asset has it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn images_of_content_on_its_way_in_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::with_data_dir(dir.path().join("data"));
        std::fs::create_dir_all(config.derived_dir()).unwrap();
        let store = Store::open(&config.effective_database_url(), 2)
            .await
            .unwrap();
        let pipeline = Pipeline::start(config, store, Arc::new(Counters::default()));
        let shared = pipeline.shared.clone();
        let sha = "ab".repeat(32);
        let thumb = shared.derived.image_path(&sha, 0, 256);
        shared.derived.write_atomic(&thumb, b"webp").unwrap();

        shared.content_in_flight.enter(&sha);
        shared.content_in_flight.enter(&sha);
        pipeline.forget_derived(std::slice::from_ref(&sha)).await;
        assert!(thumb.exists(), "kept while a file with it is on its way");
        shared.content_in_flight.leave(&sha);
        pipeline.forget_derived(std::slice::from_ref(&sha)).await;
        assert!(thumb.exists(), "kept while the second copy is on its way");
        shared.content_in_flight.leave(&sha);
        assert!(!shared.content_in_flight.contains(&sha));
        pipeline.forget_derived(std::slice::from_ref(&sha)).await;
        assert!(!thumb.exists(), "removed once no asset and no file has it");
        pipeline.shutdown().await;
    }
}
