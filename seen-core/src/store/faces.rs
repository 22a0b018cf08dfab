//! Faces and persons.

use super::{Store, now, on_read, on_write};
use crate::error::Result;

/// A detected face, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFace {
    /// The asset it was found in.
    pub asset_id: i64,
    /// Bounding box in original-image pixels: x1, y1, x2, y2.
    pub bbox: [f32; 4],
    /// Five keypoints (eyes, nose, mouth corners) as x, y pairs.
    pub landmarks: [f32; 10],
    /// Detector confidence.
    pub score: f32,
    /// L2-normalised embedding, if computed.
    pub embedding: Option<Vec<f32>>,
}

fn embedding_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl Store {
    /// Store the faces of one asset; returns their ids.
    pub async fn insert_faces(&self, faces: &[NewFace]) -> Result<Vec<i64>> {
        let t = now();
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut ids = Vec::with_capacity(faces.len());
            for f in faces {
                let landmarks =
                    serde_json::to_string(&f.landmarks.to_vec()).expect("floats serialise to JSON");
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO faces (asset_id, x1, y1, x2, y2, landmarks, score, embedding, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(f.asset_id)
                .bind(f.bbox[0] as f64)
                .bind(f.bbox[1] as f64)
                .bind(f.bbox[2] as f64)
                .bind(f.bbox[3] as f64)
                .bind(landmarks)
                .bind(f.score as f64)
                .bind(f.embedding.as_deref().map(embedding_bytes))
                .bind(t)
                .fetch_one(&mut *tx)
                .await?;
                ids.push(id);
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// Number of stored faces.
    pub async fn count_faces(&self) -> Result<i64> {
        on_read!(self, |pool| {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM faces")
                .fetch_one(pool)
                .await?)
        })
    }

    /// Create a person; returns its id.
    pub async fn create_person(&self, name: Option<&str>) -> Result<i64> {
        let t = now();
        on_write!(self, |pool| {
            Ok(sqlx::query_scalar(
                "INSERT INTO persons (name, created_at, updated_at) VALUES ($1, $2, $2) \
                 RETURNING id",
            )
            .bind(name)
            .bind(t)
            .fetch_one(pool)
            .await?)
        })
    }

    /// Attach a face to a person (or detach it with `None`).
    pub async fn set_face_person(
        &self,
        face_id: i64,
        person_id: Option<i64>,
        manual: bool,
    ) -> Result<()> {
        on_write!(self, |pool| {
            sqlx::query("UPDATE faces SET person_id = $1, manual = $2 WHERE id = $3")
                .bind(person_id)
                .bind(manual)
                .bind(face_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
