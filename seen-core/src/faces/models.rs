//! The ONNX models: an InsightFace SCRFD detector and an ArcFace embedder,
//! run through ONNX Runtime loaded at run time (`load-dynamic`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{Error, Result};
use crate::media::{Rgb, iou};

use super::align::{ARCFACE_TEMPLATE, similarity_transform, warp};

/// Detector input size (square).
const DET_SIZE: usize = 640;
/// Embedder input size (square).
const EMB_SIZE: usize = 112;

/// A face found in an image, in that image's pixel coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Box: x1, y1, x2, y2.
    pub bbox: [f32; 4],
    /// Eyes, nose tip, mouth corners as x, y pairs.
    pub landmarks: [f32; 10],
    /// Detector confidence (0..1).
    pub score: f32,
}

/// Loaded detector and embedder.
pub struct FaceModels {
    detector: Mutex<Session>,
    embedder: Mutex<Session>,
    /// File names of the models in use.
    pub names: (String, String),
}

/// The ONNX Runtime environment, once it loaded. A failed load is not
/// remembered: installing ONNX Runtime later works without a restart.
static ENVIRONMENT: Mutex<Option<ort::environment::Environment>> = Mutex::new(None);

const ORT_MISSING: &str = "ONNX Runtime 1.31 not found: pip install onnxruntime==1.31.1, or set ORT_DYLIB_PATH / ort_dylib_path to libonnxruntime.so";
const DETECTORS: [&str; 2] = ["det_10g.onnx", "scrfd_500m_bnkps.onnx"];
const EMBEDDERS: [&str; 2] = ["w600k_r50.onnx", "w600k_mbf.onnx"];

fn environment(ort_dylib: Option<&Path>) -> Result<ort::environment::Environment> {
    let mut env = ENVIRONMENT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = env.as_ref() {
        return Ok(e.clone());
    }
    let lib = find_onnxruntime(ort_dylib).ok_or_else(|| Error::Model(ORT_MISSING.into()))?;
    let built = ort::init_from(&lib)
        .map_err(|e| Error::Model(format!("cannot load {}: {e}", lib.display())))?
        .with_name("seen")
        .build()
        .map_err(|e| Error::Model(format!("ONNX Runtime environment: {e}")))?;
    *env = Some(built.clone());
    Ok(built)
}

fn detector_path(models_dir: &Path) -> Result<PathBuf> {
    first_existing(models_dir, &DETECTORS).ok_or_else(|| {
        Error::Model(format!(
            "no face detector in {}: put det_10g.onnx or scrfd_500m_bnkps.onnx there (InsightFace models, non-commercial licence)",
            models_dir.display()
        ))
    })
}

fn embedder_path(models_dir: &Path) -> Result<PathBuf> {
    first_existing(models_dir, &EMBEDDERS).ok_or_else(|| {
        Error::Model(format!(
            "no face embedder in {}: put w600k_r50.onnx or w600k_mbf.onnx there (InsightFace models, non-commercial licence)",
            models_dir.display()
        ))
    })
}

/// What stops the models from loading, found without loading them (cheap
/// enough for every `/faces/progress`): a missing ONNX Runtime or model file.
pub fn missing_parts(models_dir: &Path, ort_dylib: Option<&Path>) -> Option<String> {
    let loaded = ENVIRONMENT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_some();
    let mut missing = Vec::new();
    if !loaded && find_onnxruntime(ort_dylib).is_none() {
        missing.push(ORT_MISSING.to_string());
    }
    for found in [detector_path(models_dir), embedder_path(models_dir)] {
        if let Err(Error::Model(m)) = found {
            missing.push(m);
        }
    }
    (!missing.is_empty()).then(|| missing.join("; "))
}

/// Where `libonnxruntime.so` is: the configured path, `ORT_DYLIB_PATH`, or
/// the `onnxruntime` Python package of `python3`.
pub fn find_onnxruntime(configured: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = configured.filter(|p| p.exists()) {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .filter(|p| p.exists())
    {
        return Some(p);
    }
    python_onnxruntime()
}

/// The library of `python3`'s onnxruntime package. Asking Python costs a
/// process, so the answer is kept: for good when found, for a while when
/// not (a later `pip install` is still noticed).
fn python_onnxruntime() -> Option<PathBuf> {
    static LAST: Mutex<Option<(std::time::Instant, Option<PathBuf>)>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((at, found)) = last.as_ref()
        && (found.as_ref().is_some_and(|p| p.exists()) || at.elapsed().as_secs() < 30)
    {
        return found.clone();
    }
    let found = (|| {
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))",
            ])
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("capi");
        std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libonnxruntime.so."))
            })
    })();
    *last = Some((std::time::Instant::now(), found.clone()));
    found
}

fn model_err(e: impl std::fmt::Display) -> Error {
    Error::Model(e.to_string())
}

fn first_existing(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

impl FaceModels {
    /// Load ONNX Runtime from `ort_dylib` and the models from `models_dir`
    /// (`det_10g.onnx` or `scrfd_500m_bnkps.onnx`; `w600k_r50.onnx` or
    /// `w600k_mbf.onnx`). The error says exactly what is missing.
    pub fn load(models_dir: &Path, ort_dylib: Option<&Path>, threads: usize) -> Result<FaceModels> {
        let env = environment(ort_dylib)?;
        let det = detector_path(models_dir)?;
        let emb = embedder_path(models_dir)?;
        let session = |path: &Path| -> Result<Session> {
            Session::builder(&env)
                .map_err(model_err)?
                .with_intra_threads(threads.max(1))
                .map_err(model_err)?
                .commit_from_file(path)
                .map_err(|e| Error::Model(format!("{}: {e}", path.display())))
        };
        let name = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        Ok(FaceModels {
            detector: Mutex::new(session(&det)?),
            embedder: Mutex::new(session(&emb)?),
            names: (name(&det), name(&emb)),
        })
    }

    /// Faces in `img` with at least `min_score` confidence, after non-maximum
    /// suppression at `nms_iou`.
    pub fn detect(&self, img: &Rgb, min_score: f32, nms_iou: f32) -> Result<Vec<Detection>> {
        let scale = (DET_SIZE as f32 / img.width as f32).min(DET_SIZE as f32 / img.height as f32);
        let (rw, rh) = (
            ((img.width as f32 * scale).round() as u32).clamp(1, DET_SIZE as u32),
            ((img.height as f32 * scale).round() as u32).clamp(1, DET_SIZE as u32),
        );
        let resized = img.resized(rw, rh)?;
        // Letterbox: top-left aligned, black padding right and bottom; NCHW, (px − 127.5) / 128.
        let plane = DET_SIZE * DET_SIZE;
        let mut input = vec![-127.5f32 / 128.0; 3 * plane];
        for y in 0..rh as usize {
            for x in 0..rw as usize {
                let i = (y * rw as usize + x) * 3;
                for c in 0..3 {
                    input[c * plane + y * DET_SIZE + x] =
                        (resized.data[i + c] as f32 - 127.5) / 128.0;
                }
            }
        }
        let mut session = self.detector.lock().unwrap_or_else(|e| e.into_inner());
        let outputs = session
            .run(ort::inputs![
                TensorRef::from_array_view(([1usize, 3, DET_SIZE, DET_SIZE], input.as_slice()))
                    .map_err(model_err)?
            ])
            .map_err(model_err)?;
        if outputs.len() < 9 {
            return Err(Error::Model(format!(
                "the detector has {} outputs; an SCRFD model with keypoints has 9",
                outputs.len()
            )));
        }
        let mut found = Vec::new();
        for (level, stride) in [8usize, 16, 32].into_iter().enumerate() {
            let (_, scores) = outputs[level]
                .try_extract_tensor::<f32>()
                .map_err(model_err)?;
            let (_, boxes) = outputs[level + 3]
                .try_extract_tensor::<f32>()
                .map_err(model_err)?;
            let (_, kps) = outputs[level + 6]
                .try_extract_tensor::<f32>()
                .map_err(model_err)?;
            let cells = DET_SIZE / stride;
            for k in 0..scores.len() {
                let score = scores[k];
                if score < min_score {
                    continue;
                }
                let cell = k / 2; // two anchors per cell
                let (cx, cy) = (
                    ((cell % cells) * stride) as f32,
                    ((cell / cells) * stride) as f32,
                );
                let s = stride as f32;
                let d = &boxes[k * 4..k * 4 + 4];
                let bbox = [
                    (cx - d[0] * s) / scale,
                    (cy - d[1] * s) / scale,
                    (cx + d[2] * s) / scale,
                    (cy + d[3] * s) / scale,
                ];
                let mut landmarks = [0f32; 10];
                for j in 0..5 {
                    landmarks[2 * j] = (cx + kps[k * 10 + 2 * j] * s) / scale;
                    landmarks[2 * j + 1] = (cy + kps[k * 10 + 2 * j + 1] * s) / scale;
                }
                found.push(Detection {
                    bbox,
                    landmarks,
                    score,
                });
            }
        }
        Ok(nms(found, nms_iou, img.width as f32, img.height as f32))
    }

    /// L2-normalised 512-d ArcFace embeddings of faces in `img`, one per
    /// detection, computed in one batch.
    pub fn embed(&self, img: &Rgb, faces: &[Detection]) -> Result<Vec<Vec<f32>>> {
        if faces.is_empty() {
            return Ok(Vec::new());
        }
        let plane = EMB_SIZE * EMB_SIZE;
        let mut input = vec![0f32; faces.len() * 3 * plane];
        for (n, f) in faces.iter().enumerate() {
            let src: [[f32; 2]; 5] =
                std::array::from_fn(|j| [f.landmarks[2 * j], f.landmarks[2 * j + 1]]);
            let crop = warp(img, similarity_transform(&src, &ARCFACE_TEMPLATE), EMB_SIZE);
            let base = n * 3 * plane;
            for p in 0..plane {
                for c in 0..3 {
                    input[base + c * plane + p] = (crop[p * 3 + c] as f32 - 127.5) / 127.5;
                }
            }
        }
        let mut session = self.embedder.lock().unwrap_or_else(|e| e.into_inner());
        let outputs = session
            .run(ort::inputs![
                TensorRef::from_array_view((
                    [faces.len(), 3, EMB_SIZE, EMB_SIZE],
                    input.as_slice()
                ))
                .map_err(model_err)?
            ])
            .map_err(model_err)?;
        let (_, values) = outputs[0].try_extract_tensor::<f32>().map_err(model_err)?;
        let dim = values.len() / faces.len();
        Ok(values
            .chunks_exact(dim)
            .map(|v| {
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.iter().map(|x| x / norm).collect()
            })
            .collect())
    }
}

/// Non-maximum suppression, then boxes clipped to the image.
fn nms(mut found: Vec<Detection>, threshold: f32, w: f32, h: f32) -> Vec<Detection> {
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in found {
        let overlap = |k: &Detection| iou(k.bbox.map(f64::from), d.bbox.map(f64::from));
        if kept.iter().all(|k| overlap(k) <= threshold as f64) {
            kept.push(d);
        }
    }
    for d in &mut kept {
        d.bbox = [
            d.bbox[0].clamp(0.0, w),
            d.bbox[1].clamp(0.0, h),
            d.bbox[2].clamp(0.0, w),
            d.bbox[3].clamp(0.0, h),
        ];
    }
    kept
}
