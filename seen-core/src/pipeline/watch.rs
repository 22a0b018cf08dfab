//! The watcher: notify (inotify, or polling where that is unavailable) on
//! every registered path. A changed file is indexed once its size and mtime
//! have stayed still for `watch_settle_ms`; removals wait until pending
//! additions are done so a rename keeps its asset id. Paused paths hold
//! their events until resumed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use notify::Watcher as _;
use tokio::sync::mpsc;

use crate::stats::Counters;
use crate::store::ScanPath;

use super::discover::{Found, examine, is_hidden};
use super::{Pipeline, Shared, Tracker};

/// Events waiting at most in the channel before we fall back to a rescan.
const EVENT_CAPACITY: usize = 8192;
/// Pending paths per root before we fall back to a rescan.
const PENDING_LIMIT: usize = 50_000;

enum Msg {
    /// Something happened at this path under this root.
    Changed(String, PathBuf),
    /// Events were lost (overflow): rescan the root.
    Rescan(String),
}

struct Root {
    scan_path: ScanPath,
    _watcher: Box<dyn notify::Watcher + Send>,
    paused: bool,
    tracker: Arc<Tracker>,
}

struct Pending {
    root: String,
    last: Option<(u64, i64)>,
    since: Instant,
}

#[derive(Default)]
struct State {
    roots: HashMap<String, Root>,
    pending: HashMap<PathBuf, Pending>,
    rescan: HashSet<String>,
}

/// Watches every registered path of one library.
pub(crate) struct Watcher {
    state: Arc<Mutex<State>>,
    tx: mpsc::Sender<Msg>,
    stop: Arc<tokio::sync::Notify>,
    /// Polling interval (ms) for new watchers; 0 = inotify.
    poll_ms: u64,
}

impl Watcher {
    pub(crate) fn new(shared: Arc<Shared>, pipeline: Weak<Pipeline>) -> Watcher {
        let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(tokio::sync::Notify::new());
        let poll_ms = shared.config.watch_poll_ms;
        tokio::spawn(event_loop(
            state.clone(),
            rx,
            shared,
            pipeline,
            stop.clone(),
        ));
        Watcher {
            state,
            tx,
            stop,
            poll_ms,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start watching a root (again).
    pub(crate) fn add(&self, root: &ScanPath) {
        let key = root.path.clone();
        let tx = self.tx.clone();
        let handler = move |res: notify::Result<notify::Event>| match res {
            Ok(event) => {
                if matches!(event.kind, notify::EventKind::Access(_)) {
                    return;
                }
                let rescan = event.need_rescan();
                for p in event.paths {
                    if tx.try_send(Msg::Changed(key.clone(), p)).is_err() {
                        let _ = tx.try_send(Msg::Rescan(key.clone()));
                    }
                }
                if rescan {
                    let _ = tx.try_send(Msg::Rescan(key.clone()));
                }
            }
            Err(e) => {
                tracing::warn!("watch error: {e}");
                let _ = tx.try_send(Msg::Rescan(key.clone()));
            }
        };
        let watcher = match make_watcher(handler, Path::new(&root.path), self.poll_ms) {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(path = %root.path, "cannot watch: {e}");
                return;
            }
        };
        let paused = root.paused;
        self.lock().roots.insert(
            root.path.clone(),
            Root {
                scan_path: root.clone(),
                _watcher: watcher,
                paused,
                tracker: Arc::new(Tracker::new()),
            },
        );
    }

    /// Stop watching a root and forget its pending events.
    pub(crate) fn remove(&self, path: &str) {
        let mut s = self.lock();
        s.roots.remove(path);
        s.pending.retain(|_, p| p.root != path);
        s.rescan.remove(path);
    }

    /// Hold events of a root.
    pub(crate) fn pause(&self, path: &str) {
        if let Some(r) = self.lock().roots.get_mut(path) {
            r.paused = true;
        }
    }

    /// Process held events of a root again.
    pub(crate) fn resume(&self, path: &str) {
        if let Some(r) = self.lock().roots.get_mut(path) {
            r.paused = false;
        }
    }

    /// `(watching, paused)`.
    pub(crate) fn status(&self, path: &str) -> (bool, bool) {
        match self.lock().roots.get(path) {
            Some(r) => (!r.paused, r.paused),
            None => (false, false),
        }
    }

    /// Stop every watcher.
    pub(crate) fn shutdown(&self) {
        self.lock().roots.clear();
        self.stop.notify_one();
    }
}

fn make_watcher<F>(
    handler: F,
    root: &Path,
    poll_ms: u64,
) -> notify::Result<Box<dyn notify::Watcher + Send>>
where
    F: notify::EventHandler + Clone,
{
    let poll = |ms: u64| -> notify::Result<Box<dyn notify::Watcher + Send>> {
        let cfg = notify::Config::default().with_poll_interval(Duration::from_millis(ms.max(100)));
        let mut w = notify::PollWatcher::new(handler.clone(), cfg)?;
        w.watch(root, notify::RecursiveMode::Recursive)?;
        Ok(Box::new(w))
    };
    if poll_ms > 0 {
        return poll(poll_ms);
    }
    let native = notify::RecommendedWatcher::new(handler.clone(), notify::Config::default())
        .and_then(|mut w| w.watch(root, notify::RecursiveMode::Recursive).map(|()| w));
    match native {
        Ok(w) => Ok(Box::new(w)),
        Err(e) => {
            tracing::warn!(path = %root.display(), "inotify unavailable ({e}); polling every 2 s instead");
            poll(2000)
        }
    }
}

fn hidden_below(root: &str, path: &Path) -> bool {
    path.strip_prefix(root).is_ok_and(|rel| {
        rel.components()
            .any(|c| c.as_os_str().to_str().is_some_and(is_hidden))
    })
}

async fn event_loop(
    state: Arc<Mutex<State>>,
    mut rx: mpsc::Receiver<Msg>,
    shared: Arc<Shared>,
    pipeline: Weak<Pipeline>,
    stop: Arc<tokio::sync::Notify>,
) {
    let settle = Duration::from_millis(shared.config.watch_settle_ms);
    let period = Duration::from_millis(200);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    // The pipeline is still being built when this task starts.
    let mut was_alive = false;
    loop {
        tokio::select! {
            _ = stop.notified() => return,
            msg = rx.recv() => match msg {
                None => return,
                Some(Msg::Changed(root, path)) => {
                    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                    if hidden_below(&root, &path) || !s.roots.contains_key(&root) {
                        continue;
                    }
                    if s.pending.len() >= PENDING_LIMIT {
                        s.pending.retain(|_, p| p.root != root);
                        s.rescan.insert(root);
                        continue;
                    }
                    s.pending.entry(path).or_insert(Pending { root, last: None, since: Instant::now() });
                }
                Some(Msg::Rescan(root)) => {
                    state.lock().unwrap_or_else(|e| e.into_inner()).rescan.insert(root);
                }
            },
            _ = tick.tick() => {
                match pipeline.upgrade() {
                    Some(p) => {
                        was_alive = true;
                        settle_pending(&state, &shared, &p, settle).await;
                    }
                    None if was_alive => return,
                    None => {}
                }
            }
        }
    }
}

enum Ready {
    Ingest(super::FileJob),
    Remove(String),
}

/// Files ready to index or remove, and roots to rescan: the part of a tick
/// that touches the filesystem (stat calls), run off the async runtime.
type Sweep = (
    Vec<(PathBuf, Arc<Tracker>, i64, Option<Found>)>,
    Vec<ScanPath>,
);

fn sweep(state: &Mutex<State>, settle: Duration) -> Sweep {
    let now = Instant::now();
    let mut ready: Vec<(PathBuf, Arc<Tracker>, i64, Option<Found>)> = Vec::new();
    let mut rescans = Vec::new();
    {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        let State {
            roots,
            pending,
            rescan,
        } = &mut *s;
        for root in rescan.iter() {
            if roots.get(root).is_some_and(|r| !r.paused) {
                rescans.push(roots[root].scan_path.clone());
            }
        }
        rescan.retain(|r| roots.get(r).is_some_and(|r| r.paused));
        let busy_roots: HashSet<String> = pending
            .iter()
            .filter(|(path, _)| path.exists())
            .map(|(_, p)| p.root.clone())
            .collect();
        pending.retain(|path, p| {
            let Some(root) = roots.get(&p.root) else {
                return false;
            };
            if root.paused {
                return true;
            }
            match std::fs::metadata(path) {
                Ok(meta) if meta.is_dir() => {
                    // A directory appeared or moved in: an incremental rescan
                    // picks up everything inside it.
                    rescans.push(root.scan_path.clone());
                    false
                }
                Ok(meta) => {
                    let Some(found) = examine(path, &meta) else {
                        return false;
                    };
                    let sig = (found.size as u64, found.mtime_ns);
                    if p.last != Some(sig) {
                        p.last = Some(sig);
                        p.since = now;
                        return true;
                    }
                    if now.duration_since(p.since) < settle {
                        return true;
                    }
                    ready.push((
                        path.clone(),
                        root.tracker.clone(),
                        root.scan_path.id,
                        Some(found),
                    ));
                    false
                }
                Err(_) => {
                    // Gone: remove once additions under this root are done,
                    // so a renamed file is matched to its asset first.
                    if now.duration_since(p.since) < settle
                        || busy_roots.contains(&p.root)
                        || root.tracker.pending() > 0
                    {
                        return true;
                    }
                    ready.push((path.clone(), root.tracker.clone(), root.scan_path.id, None));
                    false
                }
            }
        });
    }
    (ready, rescans)
}

async fn settle_pending(
    state: &Arc<Mutex<State>>,
    shared: &Arc<Shared>,
    pipeline: &Arc<Pipeline>,
    settle: Duration,
) {
    let sweep_state = state.clone();
    let Ok((ready, mut rescans)) =
        tokio::task::spawn_blocking(move || sweep(&sweep_state, settle)).await
    else {
        return;
    };
    let mut work = Vec::new();
    for (path, tracker, scan_path_id, found) in ready {
        let Some(text) = path.to_str().map(str::to_string) else {
            continue;
        };
        match found {
            Some(found) => {
                let known = match shared.store.asset_by_path(&text).await {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!("watcher cannot look up {text}: {e}");
                        continue;
                    }
                };
                if shared.store.is_excluded(&text).await.unwrap_or(false) {
                    continue;
                }
                let stat = known.map(|a| crate::store::AssetStat {
                    id: a.id,
                    size: a.size,
                    mtime_ns: a.mtime_ns,
                    ctime_ns: a.ctime_ns,
                    rotation: a.rotation,
                    failed: a.error.is_some() || a.sha256.is_none(),
                });
                if found.unchanged(stat.as_ref()) {
                    continue;
                }
                Counters::add(&shared.counters.files_discovered, 1);
                tracker.begin();
                work.push(Ready::Ingest(found.into_job(scan_path_id, stat, &tracker)));
            }
            None => work.push(Ready::Remove(text)),
        }
    }
    for w in work {
        match w {
            Ready::Ingest(job) => {
                let sh = shared.clone();
                let pushed = tokio::task::spawn_blocking(move || sh.sched.push_ingest(job)).await;
                if pushed.is_err() {
                    tracing::error!("watcher could not queue a file");
                }
            }
            Ready::Remove(path) => {
                if let Ok(Some(asset)) = shared.store.asset_by_path(&path).await {
                    match pipeline.delete_assets(&[asset], false).await {
                        Ok(n) => {
                            Counters::add(&shared.counters.files_removed, n);
                            tracing::info!(path, "removed from the index: the file is gone");
                        }
                        Err(e) => tracing::warn!(path, "cannot remove from the index: {e}"),
                    }
                } else {
                    // Perhaps a directory: its files are found by a rescan.
                    let root = state
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .roots
                        .values()
                        .find(|r| path.starts_with(&r.scan_path.path))
                        .map(|r| r.scan_path.clone());
                    if let Some(r) = root
                        && shared
                            .store
                            .dirnames_of_scan_path(r.id)
                            .await
                            .is_ok_and(|d| {
                                d.iter()
                                    .any(|d| d == &path || d.starts_with(&format!("{path}/")))
                            })
                    {
                        rescans.push(r);
                    }
                }
            }
        }
    }
    let mut done = HashSet::new();
    for root in rescans {
        if !done.insert(root.path.clone()) {
            continue;
        }
        if pipeline.is_scanning(&root.path) {
            // Try again after the running scan.
            state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .rescan
                .insert(root.path.clone());
            continue;
        }
        if let Err(e) = pipeline.scan(root) {
            tracing::warn!("watcher rescan: {e}");
        }
    }
}
