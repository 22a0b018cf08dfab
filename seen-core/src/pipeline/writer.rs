//! The database writer: one task that batches rows into transactions
//! (never one round trip per file), resolves renames by content hash, and
//! retries failed batches before reporting them.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::stats::Counters;
use crate::store::{AssetKind, DerivedUpdate, NewAsset, Store};

use super::ContentInFlight;
use super::derived::Derived;
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
pub(crate) async fn run(
    store: Store,
    counters: Arc<Counters>,
    derived_files: Derived,
    in_flight: Arc<ContentInFlight>,
    mut rx: mpsc::Receiver<WriteOp>,
) {
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
        write_batch(&store, &counters, &derived_files, &in_flight, &mut batch).await;
    }
}

/// Run a write up to four times, backing off between attempts.
async fn with_retries<T, F, Fut>(what: &str, mut f: F) -> crate::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::Result<T>>,
{
    let mut delay = Duration::from_millis(100);
    for attempt in 1..4 {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                tracing::warn!("{what} failed (attempt {attempt} of 4), retrying: {e}");
                tokio::time::sleep(delay).await;
                delay *= 3;
            }
        }
    }
    f().await
}

async fn write_batch(
    store: &Store,
    counters: &Counters,
    derived_files: &Derived,
    in_flight: &ContentInFlight,
    batch: &mut Vec<WriteOp>,
) {
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
        drop_repeats(&mut rows, &mut new_rows, &mut row_trackers, in_flight);
        resolve_moves(store, &mut rows, &new_rows).await;
        let stored = write_rows(store, counters, &mut rows).await;
        for sha in rows.iter().filter_map(|r| r.sha256.as_deref()) {
            in_flight.leave(sha);
        }
        if stored.iter().any(|s| *s) {
            counters.committed_now();
        }
        for ((row, tracker), stored) in rows.iter().zip(&row_trackers).zip(stored) {
            if !stored {
                Counters::add(&tracker.files_not_stored, 1);
                continue;
            }
            Counters::add(&counters.files_committed, 1);
            Counters::add(&counters.bytes_committed, row.size.max(0) as u64);
            Counters::add(&tracker.files_processed, 1);
            if row.error.is_some() {
                Counters::add(&tracker.files_with_errors, 1);
            }
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
        for t in row_trackers {
            t.end();
        }
    }
    if !derived.is_empty() {
        let (updates, trackers): (Vec<DerivedUpdate>, Vec<Arc<Tracker>>) =
            derived.into_iter().unzip();
        if let Err(e) = with_retries("recording derived images", || {
            store.set_derived_states(&updates)
        })
        .await
        {
            // The images are on disk; their assets stay pending and are
            // finished again by the next scan or restart.
            tracing::error!(
                "recording {} derived images failed after 4 attempts: {e}",
                updates.len()
            );
            Counters::add(&counters.db_failures, updates.len() as u64);
        }
        drop_orphans(store, derived_files, in_flight, &updates).await;
        for t in trackers {
            t.end();
        }
    }
    for f in flushes {
        let _ = f.send(());
    }
}

/// A path queued twice before its row was written (it changed again, or a
/// scan and the watcher both saw it) is written once, as last read, so no
/// later split of the batch can write the older row after the newer one.
/// The earlier units end here, uncounted.
fn drop_repeats(
    rows: &mut Vec<NewAsset>,
    is_new: &mut Vec<bool>,
    trackers: &mut Vec<Arc<Tracker>>,
    in_flight: &ContentInFlight,
) {
    let mut last: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        last.insert(r.path.as_str(), i);
    }
    if last.len() == rows.len() {
        return;
    }
    let keep: Vec<bool> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| last[r.path.as_str()] == i)
        .collect();
    let mut k = keep.iter();
    rows.retain(|r| {
        let kept = *k.next().expect("one flag per row");
        if let (false, Some(sha)) = (kept, &r.sha256) {
            in_flight.leave(sha);
        }
        kept
    });
    let mut k = keep.iter();
    is_new.retain(|_| *k.next().expect("one flag per row"));
    let mut k = keep.iter();
    trackers.retain(|t| {
        let kept = *k.next().expect("one flag per row");
        if !kept {
            t.end();
        }
        kept
    });
}

/// Remove images just made for content no asset has any more (its asset
/// was deleted while they were being made); a delete after this check
/// removes the files itself. Content of a file read but whose row is not
/// written yet is kept (its images may be made, or found made, already).
async fn drop_orphans(
    store: &Store,
    derived_files: &Derived,
    in_flight: &ContentInFlight,
    updates: &[DerivedUpdate],
) {
    let shas: Vec<String> = updates.iter().map(|u| u.sha256.clone()).collect();
    super::remove_unused_derived(store, derived_files, in_flight, &shas).await;
}

/// Store asset rows: the whole batch (retried); when the database refuses
/// it, halves of it until the refused rows are found, so one bad row costs
/// no other. A refused row is stored once more without its metadata and
/// with the reason, so it is visible and read again when the file changes.
/// Returns whether each row was stored.
async fn write_rows(store: &Store, counters: &Counters, rows: &mut [NewAsset]) -> Vec<bool> {
    let err = match with_retries("writing asset rows", || store.upsert_assets(rows)).await {
        Ok(_) => return vec![true; rows.len()],
        Err(e) => e,
    };
    let mut stored = vec![false; rows.len()];
    if !err.is_rejected_by_database() {
        tracing::error!(
            "writing {} asset rows failed after 4 attempts; those files were not stored \
             and are read again by the next scan: {err}",
            rows.len()
        );
        Counters::add(&counters.db_failures, rows.len() as u64);
        return stored;
    }
    let mut refused = vec![(0..rows.len(), err)];
    while let Some((range, err)) = refused.pop() {
        if range.len() == 1 {
            let i = range.start;
            Counters::add(&counters.db_failures, 1);
            stored[i] = store_without_metadata(store, &mut rows[i], &err).await;
            continue;
        }
        let mid = range.start + range.len() / 2;
        for half in [range.start..mid, mid..range.end] {
            match store.upsert_assets(&rows[half.clone()]).await {
                Ok(_) => stored[half].fill(true),
                Err(e) if e.is_rejected_by_database() => refused.push((half, e)),
                Err(e) => {
                    tracing::error!(
                        "writing {} asset rows failed; those files were not stored: {e}",
                        half.len()
                    );
                    Counters::add(&counters.db_failures, half.len() as u64);
                }
            }
        }
    }
    stored
}

/// Store what identifies a file whose full row the database refused, with
/// the reason (`row` becomes what was stored); whether that worked.
async fn store_without_metadata(store: &Store, row: &mut NewAsset, err: &crate::Error) -> bool {
    let reason = format!("the database refused this file's metadata: {err}");
    tracing::error!(path = %row.path, "{reason}");
    let bare = NewAsset {
        scan_path_id: row.scan_path_id,
        path: row.path.clone(),
        ext: row.ext.clone(),
        mime: row.mime.clone(),
        kind: row.kind,
        size: row.size,
        mtime_ns: row.mtime_ns,
        ctime_ns: row.ctime_ns,
        sha256: row.sha256.clone(),
        width: row.width,
        height: row.height,
        orientation: row.orientation,
        error: Some(reason),
        thumb_state: row.thumb_state,
        preview_state: row.preview_state,
        moved_from: row.moved_from,
        ..NewAsset::default()
    };
    match store.upsert_assets(std::slice::from_ref(&bare)).await {
        Ok(_) => {
            *row = bare;
            true
        }
        Err(e) => {
            tracing::error!(path = %row.path, "the file could not be stored at all: {e}");
            false
        }
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
