//! Faces: SCRFD detection and ArcFace embeddings through ONNX Runtime
//! (loaded at run time), with the 5-point similarity alignment ArcFace
//! expects. Clustering into persons builds on these embeddings.

mod align;
pub mod cluster;
mod models;
mod service;

pub use align::{ARCFACE_TEMPLATE, similarity_transform};
pub use models::{Detection, FaceModels, find_onnxruntime};
pub use service::FaceService;

/// Cosine similarity of two L2-normalised embeddings.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests;
