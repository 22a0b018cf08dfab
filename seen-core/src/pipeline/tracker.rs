//! Follows one scan (or the watcher of one path): outstanding work units,
//! cancellation, and the figures of the current scan.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::Notify;

/// Outstanding work of one scan. Every queued file, pending database write
/// and pending derived image is one unit; the scan is done at zero.
#[derive(Debug)]
pub(crate) struct Tracker {
    pending: AtomicI64,
    cancelled: AtomicBool,
    idle: Notify,
    /// When the scan started.
    pub(crate) started: Instant,
    /// Files read and hashed by this scan.
    pub(crate) files_read: AtomicU64,
    /// Files committed by this scan.
    pub(crate) files_processed: AtomicU64,
    /// Photos committed by this scan.
    pub(crate) photos: AtomicU64,
    /// Videos committed by this scan.
    pub(crate) videos: AtomicU64,
    /// Files found needing work.
    pub(crate) files_found: AtomicU64,
    /// Files stored with a recorded problem (unreadable, partly read, or
    /// metadata the database refused).
    pub(crate) files_with_errors: AtomicU64,
    /// Files the database could not take at all.
    pub(crate) files_not_stored: AtomicU64,
}

impl Tracker {
    pub(crate) fn new() -> Tracker {
        Tracker {
            pending: AtomicI64::new(0),
            cancelled: AtomicBool::new(false),
            idle: Notify::new(),
            started: Instant::now(),
            files_read: AtomicU64::new(0),
            files_processed: AtomicU64::new(0),
            photos: AtomicU64::new(0),
            videos: AtomicU64::new(0),
            files_found: AtomicU64::new(0),
            files_with_errors: AtomicU64::new(0),
            files_not_stored: AtomicU64::new(0),
        }
    }

    /// One more unit of work.
    pub(crate) fn begin(&self) {
        self.pending.fetch_add(1, Ordering::AcqRel);
    }

    /// One unit finished.
    pub(crate) fn end(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) <= 1 {
            self.idle.notify_waiters();
        }
    }

    /// Units still outstanding.
    pub(crate) fn pending(&self) -> i64 {
        self.pending.load(Ordering::Acquire)
    }

    /// Ask the scan to stop.
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.idle.notify_waiters();
    }

    /// Whether the scan was asked to stop.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Wait until no unit is outstanding.
    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending() <= 0 {
                return;
            }
            notified.await;
        }
    }
}
