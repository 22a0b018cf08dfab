//! Counters of the pipeline's work. Lifetime totals and per-stage figures
//! are plain atomics updated where the work is done (never estimated).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A pause in the work longer than this is idle time: rates leave it out.
const IDLE_GAP: Duration = Duration::from_secs(10);

/// When the pipeline was working, for rates that idle hours do not dilute.
#[derive(Debug, Default, Clone, Copy)]
struct Activity {
    /// The last file read or row committed.
    last: Option<Instant>,
    /// Working time so far: the gaps between events, idle gaps left out.
    active: Duration,
    /// Working time up to the last commit.
    active_at_last_commit: Option<Duration>,
}

impl Activity {
    fn event(&mut self, now: Instant) {
        if let Some(last) = self.last {
            let gap = now.saturating_duration_since(last);
            if gap <= IDLE_GAP {
                self.active += gap;
            }
        }
        self.last = Some(now);
    }
}

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
    /// Files decoded again from disk for derived images: JPEG previews that
    /// found no room to wait in memory after the thumbnail's decode, and
    /// images made on request.
    pub derived_rereads: AtomicU64,
    /// Files that could only be partly read (error recorded).
    pub file_errors: AtomicU64,
    /// Rows the database could not take after retries (files not stored,
    /// or stored without their metadata; derived-image states not recorded).
    pub db_failures: AtomicU64,
    /// Assets removed because their files were gone.
    pub files_removed: AtomicU64,
    /// Transcodes run (video to MP4, audio to MP3/M4A).
    pub transcodes: AtomicU64,
    /// When these counters (re)started.
    since: Mutex<Instant>,
    /// When the pipeline was working.
    activity: Mutex<Activity>,
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
            derived_rereads: AtomicU64::new(0),
            file_errors: AtomicU64::new(0),
            db_failures: AtomicU64::new(0),
            files_removed: AtomicU64::new(0),
            transcodes: AtomicU64::new(0),
            since: Mutex::new(Instant::now()),
            activity: Mutex::new(Activity::default()),
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
    /// See [`Counters::derived_rereads`].
    pub derived_rereads: u64,
    /// See [`Counters::file_errors`].
    pub file_errors: u64,
    /// See [`Counters::db_failures`].
    pub db_failures: u64,
    /// See [`Counters::files_removed`].
    pub files_removed: u64,
    /// See [`Counters::transcodes`].
    pub transcodes: u64,
    /// Seconds since the counters started.
    pub elapsed_seconds: f64,
    /// Seconds of work (reading, hashing, committing; idle gaps over
    /// 10 s left out).
    pub active_seconds: f64,
    /// Seconds of work up to the last commit (for rates of finished work).
    pub last_completed_elapsed_seconds: Option<f64>,
}

impl Counters {
    /// Add to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Note that a file was just read and hashed.
    pub fn worked_now(&self) {
        self.activity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .event(Instant::now());
    }

    /// Note that rows were just committed.
    pub fn committed_now(&self) {
        let mut a = self.activity.lock().unwrap_or_else(|e| e.into_inner());
        a.event(Instant::now());
        a.active_at_last_commit = Some(a.active);
    }

    /// Copy the counters.
    pub fn snapshot(&self) -> CountersSnapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let since = *self.since.lock().unwrap_or_else(|e| e.into_inner());
        let activity = *self.activity.lock().unwrap_or_else(|e| e.into_inner());
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
            derived_rereads: g(&self.derived_rereads),
            file_errors: g(&self.file_errors),
            db_failures: g(&self.db_failures),
            files_removed: g(&self.files_removed),
            transcodes: g(&self.transcodes),
            elapsed_seconds: since.elapsed().as_secs_f64(),
            active_seconds: activity.active.as_secs_f64(),
            last_completed_elapsed_seconds: activity.active_at_last_commit.map(|d| d.as_secs_f64()),
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
            &self.derived_rereads,
            &self.file_errors,
            &self.db_failures,
            &self.files_removed,
            &self.transcodes,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        *self.since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        *self.activity.lock().unwrap_or_else(|e| e.into_inner()) = Activity::default();
    }
}

/// `GET /stats`: the same shape for every binding.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct StatsReport {
    /// Seconds since the library opened.
    pub uptime_seconds: u64,
    /// Queue depths per stage.
    pub queues: crate::pipeline::QueueDepths,
    /// Files read and hashed since the counters started.
    pub processed: Processed,
    /// Rows committed to the database since the counters started.
    pub processing: Processing,
    /// Whether any path is being scanned.
    pub scan_running: bool,
    /// Whether any stage has work queued or in progress.
    pub processing_active: bool,
    /// Figures of the running scans.
    pub current_scan: Option<ScanFigures>,
    /// Commit figures of the running scans.
    pub current_processing: Option<ScanProcessing>,
    /// Database figures.
    pub db: DbFigures,
    /// Every counter, for diagnostics.
    pub counters: CountersSnapshot,
}

/// Reading and hashing since the counters started.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct Processed {
    /// Files read and hashed.
    pub files_total: u64,
    /// Bytes read and hashed.
    pub bytes_total: u64,
    /// Files per second of work (idle time left out).
    pub files_per_sec: f64,
    /// Bytes per second of work.
    pub bytes_per_sec: f64,
    /// MB (10^6 bytes) per second.
    pub mb_per_sec: f64,
}

/// Committed work since the counters started.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct Processing {
    /// Asset rows committed.
    pub files_committed: u64,
    /// Bytes of the committed files.
    pub bytes_total: u64,
    /// Committed files per second of work, up to the last commit.
    pub rate_files_per_sec: f64,
    /// Committed MB per second, same span.
    pub throughput_mb_per_sec: f64,
    /// Seconds of work up to the last commit.
    pub last_completed_elapsed_seconds: f64,
}

/// The running scans.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct ScanFigures {
    /// Files read, hashed and described by the running scans.
    pub files_processed: u64,
    /// Files per second since the oldest running scan started.
    pub files_per_sec: f64,
    /// Seconds since the oldest running scan started.
    pub elapsed_seconds: f64,
    /// Photos committed.
    pub photos_processed: u64,
    /// Videos committed.
    pub videos_processed: u64,
}

/// Commit figures of the running scans.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct ScanProcessing {
    /// Rows committed by the running scans.
    pub files_committed: u64,
    /// Committed files per second.
    pub processing_rate_files_per_sec: f64,
    /// Seconds since the oldest running scan started.
    pub elapsed_seconds: f64,
}

/// Database figures.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct DbFigures {
    /// Indexed assets.
    pub assets: i64,
}

fn rate(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
}

impl StatsReport {
    /// Assemble the report from its parts.
    pub fn build(
        uptime_seconds: u64,
        queues: crate::pipeline::QueueDepths,
        c: CountersSnapshot,
        scan: Option<crate::pipeline::CurrentScan>,
        assets: i64,
    ) -> StatsReport {
        let busy_span = c.last_completed_elapsed_seconds.unwrap_or(0.0);
        let processing_active =
            queues.discover + queues.hash + queues.metadata + queues.db_write + queues.thumb > 0;
        StatsReport {
            uptime_seconds,
            processed: Processed {
                files_total: c.files_hashed,
                bytes_total: c.bytes_hashed,
                files_per_sec: rate(c.files_hashed, c.active_seconds),
                bytes_per_sec: rate(c.bytes_hashed, c.active_seconds),
                mb_per_sec: rate(c.bytes_hashed, c.active_seconds) / 1e6,
            },
            processing: Processing {
                files_committed: c.files_committed,
                bytes_total: c.bytes_committed,
                rate_files_per_sec: rate(c.files_committed, busy_span),
                throughput_mb_per_sec: rate(c.bytes_committed, busy_span) / 1e6,
                last_completed_elapsed_seconds: busy_span,
            },
            scan_running: scan.is_some(),
            processing_active,
            current_scan: scan.as_ref().map(|s| ScanFigures {
                files_processed: s.files_read,
                files_per_sec: rate(s.files_read, s.elapsed_seconds),
                elapsed_seconds: s.elapsed_seconds,
                photos_processed: s.photos_processed,
                videos_processed: s.videos_processed,
            }),
            current_processing: scan.as_ref().map(|s| ScanProcessing {
                files_committed: s.files_processed,
                processing_rate_files_per_sec: rate(s.files_processed, s.elapsed_seconds),
                elapsed_seconds: s.elapsed_seconds,
            }),
            db: DbFigures { assets },
            queues,
            counters: c,
        }
    }
}

/// Prometheus text exposition of the pipeline's figures (with `# HELP` and
/// `# TYPE` lines), built from the same counters as [`StatsReport`].
pub fn prometheus_text(report: &StatsReport, gpu: &crate::media::accel::GpuUsage) -> String {
    use prometheus::{
        Encoder, Gauge, IntCounter, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
    };
    let registry = Registry::new();
    let c = &report.counters;
    let counters: [(&str, &str, u64); 15] = [
        (
            "seen_files_discovered_total",
            "Files found new or changed by scans and the watcher",
            c.files_discovered,
        ),
        (
            "seen_files_unchanged_total",
            "Files skipped unopened because size and mtime were unchanged",
            c.files_unchanged,
        ),
        (
            "seen_files_hashed_total",
            "Files read and hashed",
            c.files_hashed,
        ),
        (
            "seen_bytes_hashed_total",
            "Bytes read and hashed",
            c.bytes_hashed,
        ),
        (
            "seen_files_committed_total",
            "Asset rows committed to the database",
            c.files_committed,
        ),
        (
            "seen_bytes_committed_total",
            "Bytes of the files whose rows were committed",
            c.bytes_committed,
        ),
        (
            "seen_photos_committed_total",
            "Photo rows committed",
            c.photos_committed,
        ),
        (
            "seen_videos_committed_total",
            "Video rows committed",
            c.videos_committed,
        ),
        (
            "seen_thumbnails_written_total",
            "Thumbnails written",
            c.thumbs_written,
        ),
        (
            "seen_previews_written_total",
            "Previews written",
            c.previews_written,
        ),
        (
            "seen_derived_rereads_total",
            "Files decoded again from disk for derived images",
            c.derived_rereads,
        ),
        (
            "seen_file_errors_total",
            "Files that could only be partly read",
            c.file_errors,
        ),
        (
            "seen_db_failures_total",
            "Rows the database could not take after retries",
            c.db_failures,
        ),
        (
            "seen_files_removed_total",
            "Assets removed because their files were gone",
            c.files_removed,
        ),
        (
            "seen_video_jobs_gpu_total",
            "Video frames decoded on a hardware device",
            gpu.jobs_gpu,
        ),
    ];
    for (name, help, value) in counters {
        let m = IntCounter::with_opts(Opts::new(name, help)).expect("valid metric");
        m.inc_by(value);
        registry.register(Box::new(m)).expect("unique metric");
    }
    let cpu = IntCounter::with_opts(Opts::new(
        "seen_video_jobs_cpu_total",
        "Video frames decoded on the CPU",
    ))
    .expect("valid metric");
    cpu.inc_by(gpu.jobs_cpu);
    registry.register(Box::new(cpu)).expect("unique metric");
    let queues = IntGaugeVec::new(
        Opts::new("seen_queue_depth", "Work waiting per pipeline stage"),
        &["stage"],
    )
    .expect("valid metric");
    let q = &report.queues;
    for (stage, v) in [
        ("discover", q.discover),
        ("hash", q.hash),
        ("metadata", q.metadata),
        ("db_write", q.db_write),
        ("thumb", q.thumb),
    ] {
        queues.with_label_values(&[stage]).set(v as i64);
    }
    registry.register(Box::new(queues)).expect("unique metric");
    let gauges: [(&str, &str, i64); 4] = [
        ("seen_assets", "Indexed assets", report.db.assets),
        (
            "seen_uptime_seconds",
            "Seconds since the library opened",
            report.uptime_seconds as i64,
        ),
        (
            "seen_scan_running",
            "1 while a scan runs",
            i64::from(report.scan_running),
        ),
        (
            "seen_accel_auto_disabled",
            "1 when hardware acceleration switched itself off",
            i64::from(gpu.auto_disabled),
        ),
    ];
    for (name, help, value) in gauges {
        let g = IntGauge::with_opts(Opts::new(name, help)).expect("valid metric");
        g.set(value);
        registry.register(Box::new(g)).expect("unique metric");
    }
    let rates: [(&str, &str, f64); 2] = [
        (
            "seen_commit_rate_files_per_second",
            "Committed files per second over the busy span",
            report.processing.rate_files_per_sec,
        ),
        (
            "seen_commit_throughput_bytes_per_second",
            "Committed bytes per second over the busy span",
            report.processing.throughput_mb_per_sec * 1e6,
        ),
    ];
    for (name, help, value) in rates {
        let g = Gauge::with_opts(Opts::new(name, help)).expect("valid metric");
        g.set(value);
        registry.register(Box::new(g)).expect("unique metric");
    }
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut out)
        .expect("text encoding cannot fail");
    String::from_utf8(out).expect("Prometheus text is UTF-8")
}

/// How a rate compares with what other photo libraries reach.
pub fn rate_status(files_per_sec: f64) -> &'static str {
    match files_per_sec {
        r if r <= 0.0 => "idle",
        r if r >= 15.6 => "excellent",
        r if r >= 8.4 => "good",
        r if r >= 2.1 => "fair",
        _ => "slow",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_does_not_dilute_rates() {
        let t0 = Instant::now();
        let mut a = Activity::default();
        // A burst of ten events a second apart, an hour of nothing, another
        // burst: 18 s of work, not an hour.
        for i in 0..10 {
            a.event(t0 + Duration::from_secs(i));
        }
        for i in 0..10 {
            a.event(t0 + Duration::from_secs(3600 + i));
        }
        assert_eq!(a.active, Duration::from_secs(18));
    }
}
