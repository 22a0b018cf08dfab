//! Counters of the pipeline's work. Lifetime totals and per-stage figures
//! are plain atomics updated where the work is done (never estimated).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counters shared by the pipeline stages.
#[derive(Debug)]
pub struct Counters {
    /// Files found by discovery that need work (new or changed).
    pub files_discovered: AtomicU64,
    /// Files seen unchanged and skipped without being opened.
    pub files_unchanged: AtomicU64,
    /// Files read and hashed.
    pub files_hashed: AtomicU64,
    /// Bytes read and hashed.
    pub bytes_hashed: AtomicU64,
    /// Asset rows committed to the database.
    pub files_committed: AtomicU64,
    /// Bytes of the files whose rows were committed.
    pub bytes_committed: AtomicU64,
    /// Photos committed.
    pub photos_committed: AtomicU64,
    /// Videos committed.
    pub videos_committed: AtomicU64,
    /// Audio files committed.
    pub audio_committed: AtomicU64,
    /// Thumbnails written.
    pub thumbs_written: AtomicU64,
    /// Previews written.
    pub previews_written: AtomicU64,
    /// Files that could only be partly read (error recorded).
    pub file_errors: AtomicU64,
    /// Database batches that failed after retries.
    pub db_failures: AtomicU64,
    /// Assets removed because their files were gone.
    pub files_removed: AtomicU64,
    /// When these counters (re)started.
    since: Mutex<Instant>,
    /// When the last row was committed.
    last_commit: Mutex<Option<Instant>>,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            files_discovered: AtomicU64::new(0),
            files_unchanged: AtomicU64::new(0),
            files_hashed: AtomicU64::new(0),
            bytes_hashed: AtomicU64::new(0),
            files_committed: AtomicU64::new(0),
            bytes_committed: AtomicU64::new(0),
            photos_committed: AtomicU64::new(0),
            videos_committed: AtomicU64::new(0),
            audio_committed: AtomicU64::new(0),
            thumbs_written: AtomicU64::new(0),
            previews_written: AtomicU64::new(0),
            file_errors: AtomicU64::new(0),
            db_failures: AtomicU64::new(0),
            files_removed: AtomicU64::new(0),
            since: Mutex::new(Instant::now()),
            last_commit: Mutex::new(None),
        }
    }
}

/// A consistent-enough copy of the counters.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq)]
pub struct CountersSnapshot {
    /// See [`Counters::files_discovered`].
    pub files_discovered: u64,
    /// See [`Counters::files_unchanged`].
    pub files_unchanged: u64,
    /// See [`Counters::files_hashed`].
    pub files_hashed: u64,
    /// See [`Counters::bytes_hashed`].
    pub bytes_hashed: u64,
    /// See [`Counters::files_committed`].
    pub files_committed: u64,
    /// See [`Counters::bytes_committed`].
    pub bytes_committed: u64,
    /// See [`Counters::photos_committed`].
    pub photos_committed: u64,
    /// See [`Counters::videos_committed`].
    pub videos_committed: u64,
    /// See [`Counters::audio_committed`].
    pub audio_committed: u64,
    /// See [`Counters::thumbs_written`].
    pub thumbs_written: u64,
    /// See [`Counters::previews_written`].
    pub previews_written: u64,
    /// See [`Counters::file_errors`].
    pub file_errors: u64,
    /// See [`Counters::db_failures`].
    pub db_failures: u64,
    /// See [`Counters::files_removed`].
    pub files_removed: u64,
    /// Seconds since the counters started.
    pub elapsed_seconds: f64,
    /// Seconds from the start to the last commit (for rates of finished work).
    pub last_completed_elapsed_seconds: Option<f64>,
}

impl Counters {
    /// Add to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Note that rows were just committed.
    pub fn committed_now(&self) {
        *self.last_commit.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// Copy the counters.
    pub fn snapshot(&self) -> CountersSnapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let since = *self.since.lock().unwrap_or_else(|e| e.into_inner());
        let last = *self.last_commit.lock().unwrap_or_else(|e| e.into_inner());
        CountersSnapshot {
            files_discovered: g(&self.files_discovered),
            files_unchanged: g(&self.files_unchanged),
            files_hashed: g(&self.files_hashed),
            bytes_hashed: g(&self.bytes_hashed),
            files_committed: g(&self.files_committed),
            bytes_committed: g(&self.bytes_committed),
            photos_committed: g(&self.photos_committed),
            videos_committed: g(&self.videos_committed),
            audio_committed: g(&self.audio_committed),
            thumbs_written: g(&self.thumbs_written),
            previews_written: g(&self.previews_written),
            file_errors: g(&self.file_errors),
            db_failures: g(&self.db_failures),
            files_removed: g(&self.files_removed),
            elapsed_seconds: since.elapsed().as_secs_f64(),
            last_completed_elapsed_seconds: last
                .filter(|l| *l >= since)
                .map(|l| (l - since).as_secs_f64()),
        }
    }

    /// Start counting from zero again.
    pub fn reset(&self) {
        for c in [
            &self.files_discovered,
            &self.files_unchanged,
            &self.files_hashed,
            &self.bytes_hashed,
            &self.files_committed,
            &self.bytes_committed,
            &self.photos_committed,
            &self.videos_committed,
            &self.audio_committed,
            &self.thumbs_written,
            &self.previews_written,
            &self.file_errors,
            &self.db_failures,
            &self.files_removed,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        *self.since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        *self.last_commit.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
