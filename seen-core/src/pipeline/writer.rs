//! The database writer: one task that batches rows into transactions
//! (never one round trip per file), resolves renames by content hash, and
//! retries failed batches before reporting them.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::stats::Counters;
use crate::store::{AssetKind, DerivedUpdate, NewAsset, Store};

use super::tracker::Tracker;

/// Rows per transaction at most.
const BATCH: usize = 256;
/// How long a batch may wait to fill up.
const LINGER: Duration = Duration::from_millis(40);

/// Work for the writer.
pub(crate) enum WriteOp {
    /// Insert or update one asset (ends one unit of its tracker).
    Upsert {
        /// The row.
        asset: Box<NewAsset>,
        /// The scan it belongs to.
        tracker: Arc<Tracker>,
        /// The path was not indexed when the file was queued (it may be a
        /// renamed or moved asset).
        is_new: bool,
    },
    /// Record derived-image states of a content hash (ends one unit).
    Derived {
        /// Content hash.
        sha256: String,
        /// Rotation the images were made for.
        rotation: i64,
        /// New thumbnail state, if it changed.
        thumb: Option<i64>,
        /// New preview state, if it changed.
        preview: Option<i64>,
        /// The scan it belongs to.
        tracker: Arc<Tracker>,
    },
    /// Answer once everything sent before has been written.
    Flush(oneshot::Sender<()>),
}

/// Run the writer until every sender is gone.
pub(crate) async fn run(store: Store, counters: Arc<Counters>, mut rx: mpsc::Receiver<WriteOp>) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(op)) => batch.push(op),
                _ => break,
            }
        }
        write_batch(&store, &counters, &mut batch).await;
    }
}

async fn with_retries<T, F, Fut>(what: &str, counters: &Counters, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::Result<T>>,
{
    let mut delay = Duration::from_millis(100);
    for attempt in 1..=4 {
        match f().await {
            Ok(v) => return Some(v),
            Err(e) if attempt < 4 => {
                tracing::warn!("{what} failed (attempt {attempt} of 4), retrying: {e}");
                tokio::time::sleep(delay).await;
                delay *= 3;
            }
            Err(e) => {
                tracing::error!("{what} failed after 4 attempts; these rows were not written: {e}");
                Counters::add(&counters.db_failures, 1);
            }
        }
    }
    None
}

async fn write_batch(store: &Store, counters: &Counters, batch: &mut Vec<WriteOp>) {
    let mut rows: Vec<NewAsset> = Vec::new();
    let mut new_rows = Vec::new();
    let mut row_trackers = Vec::new();
    let mut derived = Vec::new();
    let mut flushes = Vec::new();
    for op in batch.drain(..) {
        match op {
            WriteOp::Upsert {
                asset,
                tracker,
                is_new,
            } => {
                rows.push(*asset);
                new_rows.push(is_new);
                row_trackers.push(tracker);
            }
            WriteOp::Derived {
                sha256,
                rotation,
                thumb,
                preview,
                tracker,
            } => {
                derived.push((
                    DerivedUpdate {
                        sha256,
                        rotation,
                        thumb,
                        preview,
                    },
                    tracker,
                ));
            }
            WriteOp::Flush(tx) => flushes.push(tx),
        }
    }
    if !rows.is_empty() {
        resolve_moves(store, &mut rows, &new_rows).await;
        let written = with_retries("writing asset rows", counters, || {
            store.upsert_assets(&rows)
        })
        .await;
        if written.is_some() {
            counters.committed_now();
            Counters::add(&counters.files_committed, rows.len() as u64);
            for (row, tracker) in rows.iter().zip(&row_trackers) {
                Counters::add(&counters.bytes_committed, row.size.max(0) as u64);
                Counters::add(&tracker.files_processed, 1);
                match row.kind {
                    Some(AssetKind::Video) => {
                        Counters::add(&counters.videos_committed, 1);
                        Counters::add(&tracker.videos, 1);
                    }
                    Some(AssetKind::Audio) => Counters::add(&counters.audio_committed, 1),
                    _ => {
                        Counters::add(&counters.photos_committed, 1);
                        Counters::add(&tracker.photos, 1);
                    }
                }
            }
        }
        for t in row_trackers {
            t.end();
        }
    }
    if !derived.is_empty() {
        let (updates, trackers): (Vec<DerivedUpdate>, Vec<Arc<Tracker>>) =
            derived.into_iter().unzip();
        with_retries("recording derived images", counters, || {
            store.set_derived_states(&updates)
        })
        .await;
        for t in trackers {
            t.end();
        }
    }
    for f in flushes {
        let _ = f.send(());
    }
}

/// A new path whose content matches an indexed asset whose file is gone is
/// that asset, renamed or moved: it keeps its id.
async fn resolve_moves(store: &Store, rows: &mut [NewAsset], is_new: &[bool]) {
    let shas: Vec<String> = rows
        .iter()
        .zip(is_new)
        .filter(|(r, new)| **new && r.moved_from.is_none())
        .filter_map(|(r, _)| r.sha256.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if shas.is_empty() {
        return;
    }
    let Ok(candidates) = store.assets_with_any_sha256(&shas).await else {
        return;
    };
    let new_paths: HashSet<&str> = rows.iter().map(|r| r.path.as_str()).collect();
    let mut gone = Vec::new();
    for (id, path, sha) in candidates {
        if !new_paths.contains(path.as_str()) && !tokio::fs::try_exists(&path).await.unwrap_or(true)
        {
            gone.push((id, sha));
        }
    }
    let mut claimed = HashSet::new();
    for (row, new) in rows.iter_mut().zip(is_new) {
        let Some(sha) = row.sha256.as_ref().filter(|_| *new) else {
            continue;
        };
        if let Some((id, _)) = gone
            .iter()
            .find(|(id, s)| s == sha && !claimed.contains(id))
        {
            claimed.insert(*id);
            row.moved_from = Some(*id);
        }
    }
}
