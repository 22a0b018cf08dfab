//! The face detection queue: a background task that runs every image
//! without faces through the detector and embedder, stoppable at any time;
//! newly ingested images are picked up while detection is enabled.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::{Accel, Config};
use crate::error::{Error, Result};
use crate::media::Orient;
use crate::media::accel::AccelState;
use crate::store::{Asset, NewFace, Store};

use super::FaceModels;

/// Longest side of the image faces are detected on.
const DETECT_SIZE: u32 = 1600;
/// New faces are clustered into persons every this many faces while
/// detection runs, and once more when it ends.
pub const CLUSTER_BATCH: i64 = 100;
/// Inference failing on this many images in a row means the models, not
/// the images, are at fault: detection stops and says why.
const MODEL_FAILURES_TO_STOP: u32 = 3;

/// Detection state of one library.
pub struct FaceService {
    store: Store,
    models_dir: PathBuf,
    ort_dylib: Option<PathBuf>,
    allowed: bool,
    threads: usize,
    models: Mutex<Option<Arc<FaceModels>>>,
    model_error: Mutex<Option<String>>,
    running: AtomicBool,
    enabled: AtomicBool,
    stop: AtomicBool,
}

impl FaceService {
    /// Detection for the library described by `config`.
    pub fn new(config: &Config, store: Store) -> Arc<FaceService> {
        let service = Arc::new(FaceService {
            store,
            models_dir: config.effective_models_dir(),
            ort_dylib: config.ort_dylib_path.clone(),
            allowed: config.faces_enabled,
            threads: config.effective_workers(),
            models: Mutex::new(None),
            model_error: Mutex::new(None),
            running: AtomicBool::new(false),
            enabled: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        // Pick up newly ingested images while detection is enabled (a
        // choice that survives restarts).
        let weak = Arc::downgrade(&service);
        tokio::spawn(async move {
            if let Some(s) = weak.upgrade()
                && s.allowed
                && s.store.face_detection_enabled().await.unwrap_or(false)
            {
                s.enabled.store(true, Ordering::Release);
            }
            loop {
                tokio::time::sleep(Duration::from_secs(3)).await;
                let Some(s) = weak.upgrade() else { return };
                if s.enabled.load(Ordering::Acquire)
                    && !s.running.load(Ordering::Acquire)
                    && s.store.count_assets_needing_faces().await.unwrap_or(0) > 0
                {
                    let _ = s.start().await;
                }
            }
        });
        service
    }

    /// Whether detection is running.
    pub fn running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    async fn load_models(&self) -> Result<Arc<FaceModels>> {
        if let Some(m) = self
            .models
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(m);
        }
        let (dir, dylib, threads) = (
            self.models_dir.clone(),
            self.ort_dylib.clone(),
            self.threads,
        );
        let loaded =
            tokio::task::spawn_blocking(move || FaceModels::load(&dir, dylib.as_deref(), threads))
                .await?;
        match loaded {
            Ok(m) => {
                let m = Arc::new(m);
                *self.models.lock().unwrap_or_else(|e| e.into_inner()) = Some(m.clone());
                *self.model_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Ok(m)
            }
            Err(e) => {
                *self.model_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Start detecting every image without faces; `Conflict` if running,
    /// `Model` when the models or ONNX Runtime are missing, `Unsupported`
    /// when the configuration turned faces off.
    pub async fn start(self: &Arc<Self>) -> Result<()> {
        if !self.allowed {
            return Err(Error::Unsupported(
                "face detection is disabled in the configuration".into(),
            ));
        }
        if self
            .running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(Error::Conflict("face detection is already running".into()));
        }
        // A stop() from here on (even while the models load) wins.
        self.stop.store(false, Ordering::Release);
        let models = match self.load_models().await {
            Ok(m) => m,
            Err(e) => {
                self.running.store(false, Ordering::Release);
                return Err(e);
            }
        };
        if self.stop.load(Ordering::Acquire) {
            self.running.store(false, Ordering::Release);
            return Ok(());
        }
        self.enabled.store(true, Ordering::Release);
        if let Err(e) = self.store.set_face_detection_enabled(true).await {
            tracing::warn!("cannot remember that face detection is on: {e}");
        }
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.run(models).await {
                tracing::error!("face detection stopped: {e}");
            }
            this.running.store(false, Ordering::Release);
        });
        Ok(())
    }

    /// Stop detection (the current image finishes; queued work is dropped)
    /// and stop picking up new images, also after a restart.
    pub async fn stop(&self) -> Result<()> {
        self.halt();
        self.store.set_face_detection_enabled(false).await
    }

    /// Stop detection for now (closing the library): the switch stays as
    /// the user left it.
    pub fn halt(&self) {
        self.enabled.store(false, Ordering::Release);
        self.stop.store(true, Ordering::Release);
    }

    /// Detect until no image waits (or stop), clustering new faces every
    /// [`CLUSTER_BATCH`] faces and at the end.
    async fn run(&self, models: Arc<FaceModels>) -> Result<()> {
        let detected = self.detect_all(models).await;
        if self.store.faces_since_clustering().await? > 0 {
            self.cluster_new_faces().await?;
        }
        detected
    }

    async fn cluster_new_faces(&self) -> Result<()> {
        let settings = self.store.face_settings().await?;
        let params = super::cluster::Params::from_settings(&settings, None, None);
        let o = super::cluster::cluster(&self.store, params).await?;
        tracing::info!(
            persons_created = o.persons_created,
            faces_assigned = o.faces_assigned,
            "new faces clustered"
        );
        Ok(())
    }

    async fn detect_all(&self, models: Arc<FaceModels>) -> Result<()> {
        let mut model_failures = 0;
        loop {
            let settings = self.store.face_settings().await?;
            let batch: Vec<Asset> = self.store.assets_needing_faces(64).await?;
            if batch.is_empty() {
                return Ok(());
            }
            if self.store.faces_since_clustering().await? >= CLUSTER_BATCH {
                self.cluster_new_faces().await?;
            }
            for asset in batch {
                if self.stop.load(Ordering::Acquire) {
                    return Ok(());
                }
                if settings
                    .excluded_extensions
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&asset.ext))
                {
                    self.store.replace_faces(asset.id, &[]).await?;
                    continue;
                }
                let m = models.clone();
                let path = PathBuf::from(&asset.path);
                let orient = Orient {
                    exif: asset.orientation as u16,
                    rotation: 0,
                };
                let (conf, nms) = (
                    settings.confidence_threshold as f32,
                    settings.nms_iou_threshold as f32,
                );
                let (full_w, full_h) = (asset.width, asset.height);
                // Stills only: hardware video decoding has no part here.
                let cpu = AccelState::new(Accel::Cpu);
                let found = tokio::task::spawn_blocking(move || -> Result<Vec<NewFace>> {
                    let img = crate::pipeline::render_file(&path, DETECT_SIZE, orient, &cpu)?;
                    let dets = m.detect(&img, conf, nms)?;
                    let embeddings = m.embed(&img, &dets)?;
                    // Boxes and keypoints in the asset's displayed pixels.
                    let sx = full_w.map_or(1.0, |w| w as f32 / img.width as f32);
                    let sy = full_h.map_or(1.0, |h| h as f32 / img.height as f32);
                    Ok(dets
                        .into_iter()
                        .zip(embeddings)
                        .map(|(d, e)| NewFace {
                            bbox: [
                                d.bbox[0] * sx,
                                d.bbox[1] * sy,
                                d.bbox[2] * sx,
                                d.bbox[3] * sy,
                            ],
                            landmarks: std::array::from_fn(|i| {
                                d.landmarks[i] * if i % 2 == 0 { sx } else { sy }
                            }),
                            score: d.score,
                            embedding: Some(e),
                        })
                        .collect())
                })
                .await?;
                match found {
                    Ok(faces) => {
                        model_failures = 0;
                        self.store.replace_faces(asset.id, &faces).await?;
                    }
                    Err(e @ Error::Model(_)) if model_failures + 1 >= MODEL_FAILURES_TO_STOP => {
                        let why = format!(
                            "face detection stopped: inference failed on {MODEL_FAILURES_TO_STOP} images in a row: {e}"
                        );
                        *self.model_error.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(why.clone());
                        return Err(Error::Model(why));
                    }
                    Err(e) => {
                        if matches!(e, Error::Model(_)) {
                            model_failures += 1;
                        }
                        // Recorded, so the queue moves on and does not retry
                        // it until the file changes.
                        tracing::warn!(path = %asset.path, "face detection failed: {e}");
                        self.store
                            .mark_faces_failed(asset.id, &e.to_string())
                            .await?;
                    }
                }
            }
        }
    }

    /// `{running, queue_depth}`.
    pub async fn status(&self) -> Result<Value> {
        Ok(json!({
            "running": self.running(),
            "queue_depth": self.store.count_assets_needing_faces().await?,
        }))
    }

    /// What `/faces/progress` reports; `models_loaded` is true only when the
    /// models really loaded, and `models_status` says what is missing.
    pub async fn progress(&self) -> Result<Value> {
        let loaded = self
            .models
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        let error = self
            .model_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let (faces, persons, assets_with_faces) = self.store.face_counts().await?;
        let queue = self.store.count_assets_needing_faces().await?;
        let unclustered = self.store.faces_since_clustering().await?;
        let running = self.running();
        let models_status = match (loaded, &error) {
            (true, _) => format!(
                "SCRFD and ArcFace loaded ({})",
                self.models
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .as_ref()
                    .map(|m| format!("{}, {}", m.names.0, m.names.1))
                    .unwrap_or_default()
            ),
            (false, _) => match (
                // Looking for ONNX Runtime may ask python3: not on the runtime.
                {
                    let (dir, dylib) = (self.models_dir.clone(), self.ort_dylib.clone());
                    tokio::task::spawn_blocking(move || {
                        super::models::missing_parts(&dir, dylib.as_deref())
                    })
                    .await?
                },
                error,
            ) {
                (Some(missing), _) => missing,
                (None, Some(e)) => e,
                (None, None) => format!(
                    "found in {}, not loaded yet: POST /faces/detect loads them",
                    self.models_dir.display()
                ),
            },
        };
        let status = if !self.allowed {
            "Disabled in the configuration"
        } else if running {
            "Detecting faces"
        } else if queue > 0 {
            "Images waiting for detection"
        } else if unclustered > 0 {
            "Ready to cluster"
        } else {
            "Idle"
        };
        Ok(json!({
            "enabled": self.allowed && self.enabled.load(Ordering::Acquire),
            "running": running,
            "queue_depth": queue,
            "models_loaded": {"scrfd": loaded, "arcface": loaded},
            "models_status": models_status,
            "counts": {"faces_total": faces, "persons_total": persons, "assets_with_faces": assets_with_faces},
            "thresholds": {"cluster_batch_size": CLUSTER_BATCH, "remaining_to_next_cluster": (CLUSTER_BATCH - unclustered).max(0)},
            "status": status,
        }))
    }
}
