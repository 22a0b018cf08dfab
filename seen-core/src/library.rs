//! [`Library`]: the engine value every binding drives.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::files::{self, PermanentDelete};
use crate::pipeline::{CurrentScan, Pipeline, QueueDepths, ScanHandle, Transcode};
use crate::stats::{Counters, CountersSnapshot};
use crate::store::{Album, Asset, ListQuery, RemovedPath, ScanPath, Store};

/// The answer of a health check.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Health {
    /// Always `"ok"` when the database answers.
    pub status: &'static str,
    /// Engine version.
    pub version: &'static str,
    /// `"SQLite"` or `"Postgres"`.
    pub database: &'static str,
}

struct Inner {
    config: Config,
    store: Store,
    pipeline: Arc<Pipeline>,
    counters: Arc<Counters>,
    #[cfg(feature = "faces")]
    faces: Arc<crate::faces::FaceService>,
    started: Instant,
}

/// What `/paths/status` reports for a path.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct PathStatus {
    /// A scan of it is running.
    pub scanning: bool,
    /// Its watcher is paused (events are held).
    pub watcher_paused: bool,
    /// Its watcher is active.
    pub watching: bool,
}

/// An open photo library. Cheap to clone; every clone is the same library.
/// A person's profile as `/faces/recluster/person/:id` shows it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct PersonProfile {
    /// Person id.
    pub person_id: i64,
    /// Faces assigned to them.
    pub face_count: i64,
    /// Length of their stored centroid (512 with ArcFace; 0 without faces).
    pub centroid_dim: usize,
}

#[derive(Clone)]
pub struct Library {
    inner: Arc<Inner>,
}

impl Library {
    /// Open the library described by `config`: create the data directory,
    /// open (and migrate) the database.
    pub async fn open(config: Config) -> Result<Library> {
        config.validate()?;
        tokio::fs::create_dir_all(&config.data_dir)
            .await
            .map_err(|e| Error::io_at(&config.data_dir, e))?;
        tokio::fs::create_dir_all(config.derived_dir())
            .await
            .map_err(|e| Error::io_at(config.derived_dir(), e))?;
        let url = config.effective_database_url();
        let store = Store::open(&url, config.db_max_connections).await?;
        tracing::info!(database = store.backend().name(), data_dir = %config.data_dir.display(), "library open");
        let counters = Arc::new(Counters::default());
        let pipeline = Pipeline::start(config.clone(), store.clone(), counters.clone());
        #[cfg(feature = "faces")]
        let faces = crate::faces::FaceService::new(&config, store.clone());
        Ok(Library {
            inner: Arc::new(Inner {
                config,
                store,
                pipeline,
                counters,
                #[cfg(feature = "faces")]
                faces,
                started: Instant::now(),
            }),
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Seconds since the library was opened.
    pub fn uptime_seconds(&self) -> u64 {
        self.inner.started.elapsed().as_secs()
    }

    /// Check the database and report version and backend.
    pub async fn health(&self) -> Result<Health> {
        self.inner.store.ping().await?;
        Ok(Health {
            status: "ok",
            version: crate::VERSION,
            database: self.inner.store.backend().name(),
        })
    }

    /// Register a folder to index and start watching it (it is not scanned
    /// until [`Library::scan`]). It must be an existing directory; the stored
    /// path is absolute and canonical.
    pub async fn add_path(&self, path: &str) -> Result<ScanPath> {
        let canonical = tokio::fs::canonicalize(path)
            .await
            .map_err(|e| Error::invalid(format!("{path}: {e}")))?;
        let meta = tokio::fs::metadata(&canonical)
            .await
            .map_err(|e| Error::io_at(&canonical, e))?;
        if !meta.is_dir() {
            return Err(Error::invalid(format!("{path} is not a directory")));
        }
        let text = canonical
            .to_str()
            .ok_or_else(|| Error::invalid(format!("{path}: path is not valid UTF-8")))?;
        let first = self.inner.store.scan_paths().await?.is_empty();
        let sp = self.inner.store.add_scan_path(text, first).await?;
        self.inner.pipeline.watch(&sp);
        Ok(sp)
    }

    /// A registered folder, by the path given at registration or any path
    /// that resolves to it.
    async fn registered(&self, path: &str) -> Result<ScanPath> {
        if let Ok(sp) = self.inner.store.scan_path(path).await {
            return Ok(sp);
        }
        let canonical = tokio::fs::canonicalize(path)
            .await
            .map_err(|_| Error::not_found(format!("scan path {path}")))?;
        let text = canonical.to_string_lossy();
        self.inner.store.scan_path(&text).await
    }

    /// Unregister a folder: stop its scan and watcher, drop its assets,
    /// their faces, album links and derived files. The files stay on disk.
    pub async fn remove_path(&self, path: &str) -> Result<RemovedPath> {
        let sp = self.registered(path).await?;
        self.inner.pipeline.forget_path(&sp.path);
        let removed = self.inner.store.remove_scan_path(&sp.path).await?;
        self.inner.pipeline.forget_derived(&removed.sha256s).await;
        Ok(removed)
    }

    /// Start scanning a registered folder; `Conflict` when it is already
    /// being scanned. Await the handle for every stage to finish.
    pub async fn scan(&self, path: &str) -> Result<ScanHandle> {
        let sp = self.registered(path).await?;
        if sp.paused {
            self.inner
                .store
                .set_scan_path_paused(&sp.path, false)
                .await?;
            self.inner.pipeline.resume(ScanPath {
                paused: false,
                ..sp.clone()
            })?;
            if let Some(h) = self.inner.pipeline.running_scan(&sp.path) {
                return Ok(h);
            }
        }
        self.inner.pipeline.scan(ScanPath {
            paused: false,
            ..sp
        })
    }

    /// Watch every registered folder again and reconcile it with the disk
    /// (files added, changed or removed while the library was closed), and
    /// queue derived images left unfinished. Paused folders stay paused.
    pub async fn start_background(&self) -> Result<Vec<ScanHandle>> {
        let mut handles = Vec::new();
        for sp in self.inner.store.scan_paths().await? {
            self.inner.pipeline.watch(&sp);
            if sp.paused {
                self.inner.pipeline.paused_at_start(&sp.path);
                continue;
            }
            match self.inner.pipeline.scan(sp) {
                Ok(h) => handles.push(h),
                Err(e) => tracing::warn!("reconcile: {e}"),
            }
        }
        self.inner.pipeline.resume_unfinished(None).await?;
        Ok(handles)
    }

    /// Stop the running scan of a folder and hold its watcher's events.
    pub async fn pause(&self, path: &str) -> Result<()> {
        let sp = self.registered(path).await?;
        self.inner
            .store
            .set_scan_path_paused(&sp.path, true)
            .await?;
        self.inner.pipeline.pause(&sp.path);
        Ok(())
    }

    /// Resume a paused folder: events held while paused are processed, and
    /// a scan that the pause interrupted continues.
    pub async fn resume(&self, path: &str) -> Result<()> {
        let sp = self.registered(path).await?;
        self.inner
            .store
            .set_scan_path_paused(&sp.path, false)
            .await?;
        self.inner.pipeline.resume(ScanPath {
            paused: false,
            ..sp
        })
    }

    /// Scanning and watching state of a registered folder.
    pub async fn path_status(&self, path: &str) -> Result<PathStatus> {
        let sp = self.registered(path).await?;
        let (watching, watcher_paused) = self.inner.pipeline.watch_status(&sp.path);
        Ok(PathStatus {
            scanning: self.inner.pipeline.is_scanning(&sp.path),
            watcher_paused: watcher_paused || sp.paused,
            watching: watching && !sp.paused,
        })
    }

    /// Whether any folder is being scanned.
    pub fn scanning(&self) -> bool {
        self.inner.pipeline.any_scanning()
    }

    /// Registered folders.
    pub async fn paths(&self) -> Result<Vec<ScanPath>> {
        self.inner.store.scan_paths().await
    }

    /// A page of assets.
    pub async fn assets(&self, query: &ListQuery) -> Result<Vec<Asset>> {
        self.inner.store.list_assets(query).await
    }

    /// Assets whose path matches every word of the query, with filters.
    pub async fn search(&self, query: &crate::search::SearchQuery) -> Result<Vec<Asset>> {
        self.inner.store.search_assets(query).await
    }

    /// Assets stored with a recorded problem (the `error` field says why:
    /// unreadable, partly read, or metadata the database refused), oldest
    /// first; `limit` within 1..=1000.
    pub async fn problem_assets(&self, limit: i64, offset: i64) -> Result<Vec<Asset>> {
        self.inner.store.problem_assets(limit, offset).await
    }

    /// One asset.
    pub async fn asset(&self, id: i64) -> Result<Asset> {
        self.inner.store.asset(id).await
    }

    /// The asset indexed at `path`, if any.
    pub async fn asset_by_path(&self, path: &str) -> Result<Option<Asset>> {
        self.inner.store.asset_by_path(path).await
    }

    /// The 256 px WebP thumbnail (made now if missing).
    pub async fn thumbnail(&self, id: i64) -> Result<Vec<u8>> {
        let asset = self.inner.store.asset(id).await?;
        self.inner.pipeline.derived_image(&asset, false).await
    }

    /// The 1600 px WebP preview (made now if missing).
    pub async fn preview(&self, id: i64) -> Result<Vec<u8>> {
        let asset = self.inner.store.asset(id).await?;
        self.inner.pipeline.derived_image(&asset, true).await
    }

    /// The preview (or thumbnail) WebP of an asset already fetched, so a
    /// caller that needed the row anyway does not look it up twice.
    pub async fn image_of(&self, asset: &Asset, preview: bool) -> Result<Vec<u8>> {
        self.inner.pipeline.derived_image(asset, preview).await
    }

    /// The file to stream for a video, and its MIME type: the original when
    /// browsers play it, else an H.264/AAC MP4 made once and cached.
    pub async fn video_file(&self, id: i64) -> Result<(std::path::PathBuf, String)> {
        let asset = self.inner.store.asset(id).await?;
        if asset.kind() != crate::store::AssetKind::Video {
            return Err(Error::invalid(format!("asset {id} is not a video")));
        }
        if crate::media::transcode::browser_playable(&asset.ext, asset.video_codec.as_deref()) {
            let mime = if asset.ext == "mov" {
                "video/mp4".to_string()
            } else {
                asset.mime.clone()
            };
            return Ok((asset.path.clone().into(), mime));
        }
        let path = self
            .inner
            .pipeline
            .transcoded(&asset, Transcode::Mp4)
            .await?;
        Ok((path, "video/mp4".into()))
    }

    /// The audio of a video or audio asset as MP3 (passed through when it
    /// already is MP3), or as AAC in M4A when MP3 encoding fails; `(path, mime)`.
    pub async fn audio_file(&self, id: i64) -> Result<(std::path::PathBuf, String)> {
        let asset = self.inner.store.asset(id).await?;
        if asset.kind() == crate::store::AssetKind::Image {
            return Err(Error::invalid(format!(
                "asset {id} is an image, not video or audio"
            )));
        }
        if !asset.has_audio {
            return Err(Error::invalid(format!("asset {id} has no audio stream")));
        }
        if asset.audio_codec.as_deref() == Some("mp3") && asset.ext == "mp3" {
            return Ok((asset.path.clone().into(), "audio/mpeg".into()));
        }
        match self.inner.pipeline.transcoded(&asset, Transcode::Mp3).await {
            Ok(p) => Ok((p, "audio/mpeg".into())),
            Err(e) => {
                tracing::warn!(id, "MP3 encoding failed, falling back to AAC/M4A: {e}");
                let p = self
                    .inner
                    .pipeline
                    .transcoded(&asset, Transcode::M4a)
                    .await?;
                Ok((p, "audio/mp4".into()))
            }
        }
    }

    /// Remove an asset from the index (and its derived images). The file
    /// stays on disk and later scans leave it out.
    pub async fn delete_asset(&self, id: i64) -> Result<()> {
        let asset = self.inner.store.asset(id).await?;
        self.inner.pipeline.delete_assets(&[asset], true).await?;
        Ok(())
    }

    /// Delete an asset's original file from disk and the asset from the
    /// index. A read-only file or filesystem is reported (`read_only`), and
    /// then nothing is changed.
    pub async fn delete_asset_permanent(&self, id: i64) -> Result<PermanentDelete> {
        let asset = self.inner.store.asset(id).await?;
        let path = std::path::PathBuf::from(&asset.path);
        let removed = tokio::task::spawn_blocking(move || files::remove_original(&path)).await?;
        let mut out = PermanentDelete {
            id,
            path: asset.path.clone(),
            deleted: false,
            deleted_from_disk: false,
            read_only: false,
            error: None,
        };
        match removed {
            Ok(existed) => {
                out.deleted_from_disk = existed;
                self.inner.pipeline.delete_assets(&[asset], false).await?;
                out.deleted = true;
            }
            Err((read_only, message)) => {
                tracing::warn!(path = %out.path, "permanent delete refused: {message}");
                out.read_only = read_only;
                out.error = Some(message);
            }
        }
        Ok(out)
    }

    /// [`Library::delete_asset_permanent`] for many assets; one failure
    /// never stops the others (unknown ids are reported as not found).
    pub async fn delete_assets_permanent(&self, ids: &[i64]) -> Vec<PermanentDelete> {
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            out.push(match self.delete_asset_permanent(id).await {
                Ok(r) => r,
                Err(e) => PermanentDelete {
                    id,
                    path: String::new(),
                    deleted: false,
                    deleted_from_disk: false,
                    read_only: false,
                    error: Some(e.to_string()),
                },
            });
        }
        out
    }

    /// Counts of indexed assets per MIME type (audio summed as `audio`),
    /// plus files in the scanned folders that Seen does not index.
    pub async fn file_types(&self) -> Result<serde_json::Value> {
        let mut map = serde_json::Map::new();
        let mut audio = 0;
        for (mime, n) in self.inner.store.mime_counts().await? {
            if mime.starts_with("audio/") {
                audio += n;
            } else {
                map.insert(mime, n.into());
            }
        }
        map.insert("audio".into(), audio.into());
        let others = self.inner.pipeline.other_files();
        let mut exts: Vec<&String> = others.keys().collect();
        exts.sort();
        map.insert("other".into(), others.values().sum::<u64>().into());
        map.insert("other_extensions".into(), serde_json::json!(exts));
        map.insert("other_breakdown".into(), serde_json::json!(others));
        Ok(serde_json::Value::Object(map))
    }

    /// List a directory (absolute path) for a folder picker.
    pub async fn browse(&self, path: &str) -> Result<files::Browse> {
        let path = path.to_string();
        tokio::task::spawn_blocking(move || files::browse(&path)).await?
    }

    /// Empty the index (assets, faces, persons, album links, exclusions)
    /// and every derived file; `Conflict` while a scan runs. Folders,
    /// albums and the originals stay. Returns (assets, faces, persons).
    pub async fn clear(&self) -> Result<(i64, i64, i64)> {
        if self.scanning() {
            return Err(Error::Conflict(
                "cannot clear while a scan is running".into(),
            ));
        }
        let counts = self.inner.store.clear_index().await?;
        self.inner.pipeline.clear_derived().await?;
        Ok(counts)
    }

    /// Every album.
    pub async fn albums(&self) -> Result<Vec<Album>> {
        self.inner.store.albums().await
    }

    /// One album.
    pub async fn album(&self, id: i64) -> Result<Album> {
        self.inner.store.album(id).await
    }

    /// Create an album; returns it.
    pub async fn create_album(&self, name: &str, description: Option<&str>) -> Result<Album> {
        let id = self.inner.store.create_album(name, description).await?;
        self.inner.store.album(id).await
    }

    /// Rename an album or change its description (`Some(None)` clears it).
    pub async fn update_album(
        &self,
        id: i64,
        name: Option<&str>,
        description: Option<Option<&str>>,
    ) -> Result<Album> {
        self.inner.store.update_album(id, name, description).await?;
        self.inner.store.album(id).await
    }

    /// Delete an album (its assets stay).
    pub async fn delete_album(&self, id: i64) -> Result<()> {
        self.inner.store.delete_album(id).await
    }

    /// Add assets to an album; unknown asset ids are `InvalidInput`.
    pub async fn add_to_album(&self, id: i64, asset_ids: &[i64]) -> Result<Album> {
        self.inner.store.add_to_album(id, asset_ids).await?;
        self.inner.store.album(id).await
    }

    /// Take assets out of an album.
    pub async fn remove_from_album(&self, id: i64, asset_ids: &[i64]) -> Result<Album> {
        self.inner.store.remove_from_album(id, asset_ids).await?;
        self.inner.store.album(id).await
    }

    /// Ids of the albums holding an asset.
    pub async fn albums_for_asset(&self, asset_id: i64) -> Result<Vec<i64>> {
        self.inner.store.asset(asset_id).await?;
        self.inner.store.albums_for_asset(asset_id).await
    }

    /// Save the user's rotation (0, 90, 180, 270 degrees clockwise) and
    /// remake the derived images. The original file is never touched.
    pub async fn set_rotation(&self, id: i64, rotation: i64) -> Result<()> {
        self.inner.store.set_rotation(id, rotation).await?;
        let asset = self.inner.store.asset(id).await?;
        self.inner.pipeline.regenerate(&asset);
        Ok(())
    }

    /// Groups of assets with identical content.
    pub async fn duplicates(&self) -> Result<Vec<Vec<i64>>> {
        self.inner.store.duplicate_groups().await
    }

    /// Number of indexed assets.
    pub async fn asset_count(&self) -> Result<i64> {
        self.inner.store.count_assets().await
    }

    /// The `/stats` report.
    pub async fn stats(&self) -> Result<crate::stats::StatsReport> {
        Ok(crate::stats::StatsReport::build(
            self.uptime_seconds(),
            self.queue_depths(),
            self.counters(),
            self.current_scan(),
            self.asset_count().await?,
        ))
    }

    /// `/metrics`: Prometheus text format.
    pub async fn metrics_text(&self) -> Result<String> {
        let report = self.stats().await?;
        Ok(crate::stats::prometheus_text(
            &report,
            &self.inner.pipeline.gpu_usage(),
        ))
    }

    /// `/performance`: Seen's measured rates, this machine, acceleration,
    /// and the static table of typical rates of other software.
    pub async fn performance(&self) -> Result<serde_json::Value> {
        use crate::stats::rate_status;
        let report = self.stats().await?;
        let gpu = self.inner.pipeline.gpu_usage();
        let overall = report.processing.rate_files_per_sec;
        let current = report
            .current_scan
            .as_ref()
            .map_or(0.0, |s| s.files_per_sec);
        let cpu_brand = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(serde_json::json!({
            "seen": {
                "files_per_sec": overall,
                "current_rate": current,
                "mb_per_sec": report.processing.throughput_mb_per_sec,
                "status": rate_status(if report.scan_running { current } else { overall }),
                "is_active": report.scan_running || report.processing_active,
            },
            "system_info": {
                "cpu_cores": cores,
                "cpu_brand": cpu_brand,
                "accel": gpu.accel,
                "note": "Estimated performance ranges based on your hardware (CPU cores). Values are static and don't change with Seen's current rate.",
            },
            "gpu_usage": gpu,
            "typical_ranges": {
                "digikam": {"files_per_sec": "2.1-3.9", "note": "Desktop application, single-threaded indexing (less affected by cores)"},
                "photoprism": {"files_per_sec": "5.6-10.4", "note": "Go-based, multi-threaded, includes AI features (scales with cores)"},
                "immich": {"files_per_sec": "8.4-15.6", "note": "TypeScript/Node.js, optimized for modern hardware (scales with cores)"},
                "lightroom": {"files_per_sec": "1.4-2.6", "note": "Desktop application, includes full RAW processing (CPU-intensive)"},
                "synology_ds220_plus": {"files_per_sec": "0.5-1.0", "note": "NAS device (Intel Celeron J4025, 2 cores). Optimized for storage, slower CPU processing."},
            },
            "current_scan": report.current_scan.as_ref().map(|s| serde_json::json!({
                "files_processed": s.files_processed,
                "files_per_sec": s.files_per_sec,
                "elapsed_seconds": s.elapsed_seconds,
                "status": rate_status(s.files_per_sec),
            })),
            "current_rate": current,
            "notes": [
                "Performance varies significantly based on:",
                "- File sizes (larger files = slower processing)",
                "- Storage type (SSD vs HDD)",
                "- CPU cores and speed",
                "- Whether thumbnails are being generated",
                "- Network latency (if files are on network storage)",
            ],
        }))
    }

    /// `/diag/ffmpeg`: FFmpeg library version, hardware device types,
    /// hardware filters and the acceleration state.
    pub async fn ffmpeg_diagnostics(&self) -> Result<serde_json::Value> {
        let (version, hwaccels, filters) =
            tokio::task::spawn_blocking(crate::media::accel::ffmpeg_diagnostics).await?;
        let gpu = self.inner.pipeline.gpu_usage();
        let (cuda, intel, opencl) = crate::media::accel::device_counts();
        Ok(serde_json::json!({
            "ffmpeg_version": version,
            "hwaccels": hwaccels,
            "filters": filters,
            "gpu_config": {
                "accel": gpu.accel,
                "enabled": gpu.enabled,
                "consecutive_failures": gpu.consecutive_failures,
                "auto_disabled": gpu.auto_disabled,
                "device_counts": {"cuda": cuda, "intel_gpu": intel, "opencl": opencl},
            },
        }))
    }

    /// Start the rate counters from zero; `Conflict` while a scan runs.
    pub fn reset_stats(&self) -> Result<()> {
        if self.scanning() {
            return Err(Error::Conflict(
                "cannot reset statistics while a scan is running".into(),
            ));
        }
        self.inner.counters.reset();
        Ok(())
    }

    /// Lifetime counters of the pipeline.
    pub fn counters(&self) -> CountersSnapshot {
        self.inner.counters.snapshot()
    }

    /// Queue depths per stage.
    pub fn queue_depths(&self) -> QueueDepths {
        self.inner.pipeline.queue_depths()
    }

    /// Figures of the running scans, if any.
    pub fn current_scan(&self) -> Option<CurrentScan> {
        self.inner.pipeline.current_scan()
    }

    /// Wait until every row handed to the database writer is committed.
    pub async fn flush(&self) {
        self.inner.pipeline.flush().await;
    }

    /// Start face detection for every image without faces (202 in the API);
    /// `Conflict` if it runs, `Model` when models or ONNX Runtime are missing.
    #[cfg(feature = "faces")]
    pub async fn faces_detect(&self) -> Result<()> {
        self.inner.faces.start().await
    }

    /// Stop face detection and stop queuing new images (remembered across
    /// restarts until the next `faces_detect`).
    #[cfg(feature = "faces")]
    pub async fn faces_stop(&self) -> Result<()> {
        self.inner.faces.stop().await
    }

    /// `{running, queue_depth}` of face detection.
    #[cfg(feature = "faces")]
    pub async fn faces_status(&self) -> Result<serde_json::Value> {
        self.inner.faces.status().await
    }

    /// Face detection progress, models and counts.
    #[cfg(feature = "faces")]
    pub async fn faces_progress(&self) -> Result<serde_json::Value> {
        self.inner.faces.progress().await
    }

    /// The persisted face settings.
    pub async fn face_settings(&self) -> Result<crate::store::FaceSettings> {
        self.inner.store.face_settings().await
    }

    /// Change face settings from a JSON object of the fields to change;
    /// nonsense values are `InvalidInput`.
    pub async fn update_face_settings(
        &self,
        changes: &serde_json::Value,
    ) -> Result<crate::store::FaceSettings> {
        let mut current = serde_json::to_value(self.inner.store.face_settings().await?)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let obj = changes
            .as_object()
            .ok_or_else(|| Error::invalid("settings must be a JSON object"))?;
        for (k, v) in obj {
            if current.get(k).is_none() {
                return Err(Error::invalid(format!("unknown face setting {k:?}")));
            }
            current[k] = v.clone();
        }
        let settings: crate::store::FaceSettings = serde_json::from_value(current)
            .map_err(|e| Error::invalid(format!("invalid face settings: {e}")))?;
        self.inner.store.save_face_settings(&settings).await?;
        Ok(settings)
    }

    /// Faces without a person (`limit` 1..=500).
    pub async fn unassigned_faces(
        &self,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<crate::store::Face>> {
        if offset < 0 || !(1..=500).contains(&limit) {
            return Err(Error::invalid(
                "offset must be ≥ 0 and limit within 1..=500",
            ));
        }
        self.inner.store.unassigned_faces(offset, limit).await
    }

    /// A padded square PNG crop of a face, `size` px (32..=1024), cut from
    /// the asset's preview and cached under the data directory.
    pub async fn face_thumbnail(&self, face_id: i64, size: u32) -> Result<Vec<u8>> {
        if !(32..=1024).contains(&size) {
            return Err(Error::invalid("size must be within 32..=1024"));
        }
        let face = self.inner.store.face(face_id).await?;
        let cache = self
            .inner
            .config
            .derived_dir()
            .join("faces")
            .join(format!("{face_id}_{size}.png"));
        if let Ok(bytes) = tokio::fs::read(&cache).await {
            return Ok(bytes);
        }
        let asset = self.inner.store.asset(face.asset_id).await?;
        // Faces are found on the unrotated image: use rotation 0 for the crop.
        let unrotated = Asset {
            rotation: 0,
            ..asset.clone()
        };
        let preview = self.inner.pipeline.derived_image(&unrotated, true).await?;
        let full_w = asset.width.unwrap_or(1).max(1) as f64;
        tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
            let img = image::load_from_memory_with_format(&preview, image::ImageFormat::WebP)
                .map_err(|e| Error::Media(format!("preview: {e}")))?
                .to_rgb8();
            let k = img.width() as f64 / full_w;
            let [x1, y1, x2, y2] = face.bbox.map(|v| v * k);
            let side = ((x2 - x1).max(y2 - y1) * 1.5).max(1.0);
            let (cx, cy) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
            let (left, top) = (cx - side / 2.0, cy - side / 2.0);
            let n = side.round().max(1.0) as u32;
            let square = image::RgbImage::from_fn(n, n, |x, y| {
                let (sx, sy) = (left + x as f64, top + y as f64);
                if sx < 0.0 || sy < 0.0 || sx >= img.width() as f64 || sy >= img.height() as f64 {
                    image::Rgb([0, 0, 0])
                } else {
                    *img.get_pixel(sx as u32, sy as u32)
                }
            });
            let out = image::imageops::resize(
                &square,
                size,
                size,
                image::imageops::FilterType::CatmullRom,
            );
            let mut png = std::io::Cursor::new(Vec::new());
            out.write_to(&mut png, image::ImageFormat::Png)
                .map_err(|e| Error::Media(format!("PNG: {e}")))?;
            let png = png.into_inner();
            // Cached atomically: a concurrent request never reads half a PNG.
            if let Some(dir) = cache.parent()
                && std::fs::create_dir_all(dir).is_ok()
                && let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir)
                && std::io::Write::write_all(&mut tmp, &png).is_ok()
            {
                let _ = tmp.persist(&cache);
            }
            Ok(png)
        })
        .await?
    }

    /// Faces found in one asset.
    pub async fn faces_of_asset(&self, asset_id: i64) -> Result<Vec<crate::store::Face>> {
        self.inner.store.asset(asset_id).await?;
        self.inner.store.faces_of_asset(asset_id).await
    }

    /// Delete every face and person, and the cached face crops
    /// (`Conflict` while detection runs).
    #[cfg(feature = "faces")]
    pub async fn clear_faces(&self) -> Result<(i64, i64)> {
        self.no_detection_running()?;
        let cleared = self.inner.store.clear_faces().await?;
        let crops = self.inner.config.derived_dir().join("faces");
        match tokio::fs::remove_dir_all(&crops).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io_at(&crops, e));
            }
            _ => {}
        }
        Ok(cleared)
    }

    #[cfg(feature = "faces")]
    fn no_detection_running(&self) -> Result<()> {
        if self.inner.faces.running() {
            return Err(Error::Conflict("face detection is running".into()));
        }
        Ok(())
    }

    /// Group unassigned faces into persons (HDBSCAN, `epsilon` and
    /// `min_samples` overriding the settings); `Conflict` while detecting.
    #[cfg(feature = "faces")]
    pub async fn faces_cluster(
        &self,
        epsilon: Option<f64>,
        min_samples: Option<i64>,
    ) -> Result<crate::faces::cluster::ClusterOutcome> {
        self.no_detection_running()?;
        if epsilon.is_some_and(|e| !(0.0..=1.0).contains(&e)) || min_samples.is_some_and(|m| m < 1)
        {
            return Err(Error::invalid(
                "epsilon must be within 0..1 and min_samples at least 1",
            ));
        }
        let settings = self.inner.store.face_settings().await?;
        let params = crate::faces::cluster::Params::from_settings(
            &settings,
            epsilon,
            min_samples.map(|m| m as usize),
        );
        crate::faces::cluster::cluster(&self.inner.store, params).await
    }

    /// Full re-clustering; returns (persons, faces assigned).
    #[cfg(feature = "faces")]
    pub async fn faces_recluster(&self) -> Result<(usize, usize)> {
        self.no_detection_running()?;
        let settings = self.inner.store.face_settings().await?;
        let params = crate::faces::cluster::Params::from_settings(&settings, None, None);
        crate::faces::cluster::recluster(&self.inner.store, params).await
    }

    /// Merge persons closer than `threshold` (cosine distance); returns
    /// (persons merged, faces moved, persons remaining).
    #[cfg(feature = "faces")]
    pub async fn faces_smart_merge(&self, threshold: f64) -> Result<(usize, i64, usize)> {
        self.no_detection_running()?;
        if !(0.0..=1.0).contains(&threshold) {
            return Err(Error::invalid("threshold must be within 0..1"));
        }
        if self.inner.store.persons().await?.len() < 2 {
            return Err(Error::invalid("smart merge needs at least two persons"));
        }
        let (merged, moved) =
            crate::faces::cluster::smart_merge(&self.inner.store, threshold as f32).await?;
        Ok((merged, moved, self.inner.store.persons().await?.len()))
    }

    /// Assign a face to a person by hand (or unassign it with `None`); the
    /// choice is never undone by automatic clustering. Returns the previous person.
    pub async fn assign_face(&self, face_id: i64, person_id: Option<i64>) -> Result<Option<i64>> {
        let face = self.inner.store.face(face_id).await?;
        if let Some(p) = person_id {
            self.inner.store.person(p).await?;
            let others = self.inner.store.faces_of_asset(face.asset_id).await?;
            if others
                .iter()
                .any(|f| f.id != face_id && f.person_id == Some(p))
            {
                return Err(Error::Conflict(format!(
                    "person {p} is already in this photo"
                )));
            }
        }
        self.inner
            .store
            .set_face_person(face_id, person_id, true)
            .await?;
        Ok(face.person_id)
    }

    /// Every person.
    pub async fn persons(&self) -> Result<Vec<crate::store::Person>> {
        self.inner.store.persons().await
    }

    /// One person.
    pub async fn person(&self, id: i64) -> Result<crate::store::Person> {
        self.inner.store.person(id).await
    }

    /// Assets showing a person.
    pub async fn person_assets(&self, id: i64) -> Result<Vec<i64>> {
        self.inner.store.person(id).await?;
        self.inner.store.person_asset_ids(id).await
    }

    /// Rename a person.
    pub async fn rename_person(&self, id: i64, name: &str) -> Result<()> {
        self.inner.store.rename_person(id, name).await
    }

    /// Delete a person (their faces become unassigned).
    pub async fn delete_person(&self, id: i64) -> Result<()> {
        self.inner.store.delete_person(id).await
    }

    /// Move every face of `source` to `target` and delete `source` (in a
    /// photo showing both, the face of `source` becomes unassigned).
    pub async fn merge_persons(&self, source: i64, target: i64) -> Result<crate::store::Person> {
        if source == target {
            return Err(Error::invalid("cannot merge a person into itself"));
        }
        self.inner.store.person(source).await?;
        self.inner.store.person(target).await?;
        self.inner.store.merge_persons(source, target).await?;
        #[cfg(feature = "faces")]
        crate::faces::cluster::refresh_profiles(&self.inner.store).await?;
        self.inner.store.person(target).await
    }

    /// Recompute a person's centroid from their faces.
    #[cfg(feature = "faces")]
    pub async fn refresh_person(&self, id: i64) -> Result<PersonProfile> {
        self.inner.store.person(id).await?;
        crate::faces::cluster::refresh_profiles(&self.inner.store).await?;
        self.person_profile(id).await
    }

    /// A person's face count and the length of their stored centroid (0
    /// when they have no faces).
    pub async fn person_profile(&self, id: i64) -> Result<PersonProfile> {
        let p = self.inner.store.person(id).await?;
        let centroid = self.inner.store.profile(id).await?;
        Ok(PersonProfile {
            person_id: id,
            face_count: p.face_count,
            centroid_dim: centroid.map_or(0, |c| c.len()),
        })
    }

    /// The representative (most confident) face of a person.
    pub async fn person_face(&self, id: i64) -> Result<i64> {
        self.inner.store.person(id).await?;
        self.inner
            .store
            .representative_face(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("person {id} has no faces")))
    }

    /// Stop scans and watchers, flush pending writes and close the database.
    pub async fn close(&self) {
        #[cfg(feature = "faces")]
        self.inner.faces.halt();
        self.inner.pipeline.shutdown().await;
        self.inner.store.close().await;
        tracing::info!("library closed");
    }
}

/// The face side of a library, as LIBRARY.md names it: `lib.faces().detect()`,
/// `cluster`, `persons`, `merge`, `assign`. Each call is the `Library`
/// method of the same meaning.
#[derive(Clone, Copy)]
pub struct Faces<'a> {
    lib: &'a Library,
}

impl Library {
    /// Face detection, clustering and persons.
    pub fn faces(&self) -> Faces<'_> {
        Faces { lib: self }
    }
}

impl Faces<'_> {
    /// Start detecting faces in every image not scanned yet (background);
    /// see [`Library::faces_detect`].
    pub async fn detect(&self) -> Result<()> {
        self.lib.faces_detect().await
    }

    /// Stop detection; see [`Library::faces_stop`].
    pub async fn stop(&self) -> Result<()> {
        self.lib.faces_stop().await
    }

    /// Whether detection runs, with its counts; see [`Library::faces_status`].
    pub async fn status(&self) -> Result<serde_json::Value> {
        self.lib.faces_status().await
    }

    /// Group unassigned faces into persons; see [`Library::faces_cluster`].
    pub async fn cluster(
        &self,
        epsilon: Option<f64>,
        min_samples: Option<i64>,
    ) -> Result<crate::faces::cluster::ClusterOutcome> {
        self.lib.faces_cluster(epsilon, min_samples).await
    }

    /// Every person, largest first; see [`Library::persons`].
    pub async fn persons(&self) -> Result<Vec<crate::store::Person>> {
        self.lib.persons().await
    }

    /// Move every face of `source` to `target`; see [`Library::merge_persons`].
    pub async fn merge(&self, source: i64, target: i64) -> Result<crate::store::Person> {
        self.lib.merge_persons(source, target).await
    }

    /// Give a face to a person by hand (`None` unassigns it); see
    /// [`Library::assign_face`].
    pub async fn assign(&self, face_id: i64, person_id: Option<i64>) -> Result<Option<i64>> {
        self.lib.assign_face(face_id, person_id).await
    }
}
