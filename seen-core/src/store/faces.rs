//! Faces and persons.

use super::{Store, now, on_read, on_write};
use crate::error::Result;

/// A detected face, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFace {
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

/// Face detection and clustering settings, persisted in the database.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FaceSettings {
    /// Minimum detector confidence (0..1). Default 0.5, measured: at the
    /// API document's 0.20 SCRFD-500M finds 160 "faces" among 23 people.
    pub confidence_threshold: f64,
    /// Non-maximum suppression IoU threshold (0..1).
    pub nms_iou_threshold: f64,
    /// HDBSCAN cluster selection epsilon (0..1): the Euclidean distance
    /// between L2-normalised embeddings (√(2 · cosine distance)) below
    /// which clusters are merged.
    pub cluster_epsilon: f64,
    /// HDBSCAN minimum cluster size (≥ 2: a person needs two faces).
    pub min_cluster_size: i64,
    /// HDBSCAN minimum samples (≥ 1).
    pub min_samples: i64,
    /// File extensions (lower case, no dot) never sent to the detector.
    pub excluded_extensions: Vec<String>,
}

impl Default for FaceSettings {
    fn default() -> Self {
        FaceSettings {
            confidence_threshold: 0.5,
            nms_iou_threshold: 0.4,
            cluster_epsilon: 0.55,
            min_cluster_size: 2,
            min_samples: 2,
            excluded_extensions: vec!["gif".into(), "bmp".into()],
        }
    }
}

impl FaceSettings {
    /// Reject thresholds outside 0..1 and sizes below 1.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("confidence_threshold", self.confidence_threshold),
            ("nms_iou_threshold", self.nms_iou_threshold),
            ("cluster_epsilon", self.cluster_epsilon),
        ] {
            if !(0.0..=1.0).contains(&v) || v.is_nan() {
                return Err(crate::Error::invalid(format!(
                    "{name} must be within 0..1, not {v}"
                )));
            }
        }
        for (name, v, min) in [
            ("min_cluster_size", self.min_cluster_size, 2),
            ("min_samples", self.min_samples, 1),
        ] {
            if v < min {
                return Err(crate::Error::invalid(format!(
                    "{name} must be at least {min}, not {v}"
                )));
            }
        }
        Ok(())
    }
}

/// A stored face.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Face {
    /// Id.
    pub id: i64,
    /// The asset it was found in.
    pub asset_id: i64,
    /// Box in the asset's displayed pixels: x1, y1, x2, y2.
    pub bbox: [f64; 4],
    /// Detector confidence.
    pub confidence: f64,
    /// The person it belongs to, if any.
    pub person_id: Option<i64>,
    /// Whether a person assignment was made by hand.
    pub manual: bool,
}

type FaceRow = (i64, i64, f64, f64, f64, f64, f64, Option<i64>, bool);

fn face_from(r: FaceRow) -> Face {
    Face {
        id: r.0,
        asset_id: r.1,
        bbox: [r.2, r.3, r.4, r.5],
        confidence: r.6,
        person_id: r.7,
        manual: r.8,
    }
}

const FACE_COLUMNS: &str = "id, asset_id, x1, y1, x2, y2, score, person_id, manual";

impl Store {
    /// The persisted face settings (defaults until saved).
    pub async fn face_settings(&self) -> Result<FaceSettings> {
        let row: Option<(f64, f64, f64, i64, i64, String)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT confidence_threshold, nms_iou_threshold, cluster_epsilon, \
                 min_cluster_size, min_samples, excluded_extensions FROM face_settings WHERE id = 1",
            )
            .fetch_optional(pool)
            .await?
        });
        Ok(match row {
            None => FaceSettings::default(),
            Some((c, n, e, mcs, ms, ext)) => FaceSettings {
                confidence_threshold: c,
                nms_iou_threshold: n,
                cluster_epsilon: e,
                min_cluster_size: mcs,
                min_samples: ms,
                excluded_extensions: serde_json::from_str(&ext).unwrap_or_default(),
            },
        })
    }

    /// Whether face detection was left switched on (survives restarts).
    pub async fn face_detection_enabled(&self) -> Result<bool> {
        let v: Option<i64> = on_read!(self, |pool| {
            sqlx::query_scalar("SELECT enabled FROM face_detection_state WHERE id = 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(v.unwrap_or(0) != 0)
    }

    /// Faces found since the last clustering run.
    pub async fn faces_since_clustering(&self) -> Result<i64> {
        on_read!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM faces WHERE id > \
                 (SELECT COALESCE(MAX(clustered_through), 0) FROM face_detection_state)",
            )
            .fetch_one(pool)
            .await?)
        })
    }

    /// Record that clustering has seen every face up to `face_id`.
    pub async fn set_clustered_through(&self, face_id: i64) -> Result<()> {
        on_write!(self, |pool| {
            sqlx::query(
                "INSERT INTO face_detection_state (id, clustered_through) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET clustered_through = excluded.clustered_through",
            )
            .bind(face_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Remember whether face detection is switched on.
    pub async fn set_face_detection_enabled(&self, enabled: bool) -> Result<()> {
        on_write!(self, |pool| {
            sqlx::query(
                "INSERT INTO face_detection_state (id, enabled) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled",
            )
            .bind(i64::from(enabled))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Validate and persist face settings (extensions are stored lower case,
    /// without a leading dot).
    pub async fn save_face_settings(&self, s: &FaceSettings) -> Result<()> {
        s.validate()?;
        let extensions: Vec<String> = s
            .excluded_extensions
            .iter()
            .map(|e| e.trim().trim_start_matches('.').to_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        let ext = serde_json::to_string(&extensions).expect("strings serialise");
        let t = now();
        on_write!(self, |pool| {
            sqlx::query(
                "INSERT INTO face_settings (id, confidence_threshold, nms_iou_threshold, \
                 cluster_epsilon, min_cluster_size, min_samples, excluded_extensions, updated_at) \
                 VALUES (1, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
                 confidence_threshold = excluded.confidence_threshold, \
                 nms_iou_threshold = excluded.nms_iou_threshold, \
                 cluster_epsilon = excluded.cluster_epsilon, \
                 min_cluster_size = excluded.min_cluster_size, min_samples = excluded.min_samples, \
                 excluded_extensions = excluded.excluded_extensions, updated_at = excluded.updated_at",
            )
            .bind(s.confidence_threshold)
            .bind(s.nms_iou_threshold)
            .bind(s.cluster_epsilon)
            .bind(s.min_cluster_size)
            .bind(s.min_samples)
            .bind(ext)
            .bind(t)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Images not yet through face detection (with a picture to look at).
    pub async fn assets_needing_faces(&self, limit: i64) -> Result<Vec<super::Asset>> {
        let sql = format!(
            "SELECT {} FROM assets WHERE kind = 'image' AND faces_scanned_at IS NULL \
             AND thumb_state = 1 ORDER BY id LIMIT $1",
            super::assets::ASSET_COLUMNS
        );
        on_read!(self, |pool| {
            Ok(sqlx::query_as::<_, super::Asset>(&sql)
                .bind(limit)
                .fetch_all(pool)
                .await?)
        })
    }

    /// How many images still wait for face detection.
    pub async fn count_assets_needing_faces(&self) -> Result<i64> {
        on_read!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM assets WHERE kind = 'image' AND faces_scanned_at IS NULL \
                 AND thumb_state = 1",
            )
            .fetch_one(pool)
            .await?)
        })
    }

    /// Replace the automatically found faces of an asset and mark it done.
    /// A face assigned by hand keeps its person when a new detection
    /// overlaps it (IoU ≥ 0.5: the file changed, the face did not); one no
    /// detection overlaps any more is gone from the picture and deleted.
    pub async fn replace_faces(&self, asset_id: i64, faces: &[NewFace]) -> Result<Vec<i64>> {
        let t = now();
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let manual: Vec<(i64, f64, f64, f64, f64)> = sqlx::query_as(
                "SELECT id, x1, y1, x2, y2 FROM faces WHERE asset_id = $1 AND manual",
            )
            .bind(asset_id)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM faces WHERE asset_id = $1 AND NOT manual")
                .bind(asset_id)
                .execute(&mut *tx)
                .await?;
            let mut kept = std::collections::HashSet::new();
            let mut ids = Vec::with_capacity(faces.len());
            for f in faces {
                let landmarks =
                    serde_json::to_string(&f.landmarks.to_vec()).expect("floats serialise");
                let b = f.bbox.map(f64::from);
                let same = manual
                    .iter()
                    .filter(|m| !kept.contains(&m.0))
                    .map(|m| (m.0, crate::media::iou(b, [m.1, m.2, m.3, m.4])))
                    .filter(|(_, overlap)| *overlap >= 0.5)
                    .max_by(|x, y| x.1.total_cmp(&y.1))
                    .map(|(id, _)| id);
                let id: i64 = match same {
                    Some(id) => {
                        kept.insert(id);
                        sqlx::query(
                            "UPDATE faces SET x1 = $1, y1 = $2, x2 = $3, y2 = $4, landmarks = $5, \
                             score = $6, embedding = $7 WHERE id = $8",
                        )
                        .bind(b[0])
                        .bind(b[1])
                        .bind(b[2])
                        .bind(b[3])
                        .bind(landmarks)
                        .bind(f.score as f64)
                        .bind(f.embedding.as_deref().map(embedding_bytes))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                    None => {
                        sqlx::query_scalar(
                            "INSERT INTO faces (asset_id, x1, y1, x2, y2, landmarks, score, \
                             embedding, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                             RETURNING id",
                        )
                        .bind(asset_id)
                        .bind(b[0])
                        .bind(b[1])
                        .bind(b[2])
                        .bind(b[3])
                        .bind(landmarks)
                        .bind(f.score as f64)
                        .bind(f.embedding.as_deref().map(embedding_bytes))
                        .bind(t)
                        .fetch_one(&mut *tx)
                        .await?
                    }
                };
                ids.push(id);
            }
            for (id, ..) in manual.iter().filter(|m| !kept.contains(&m.0)) {
                sqlx::query("DELETE FROM faces WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE assets SET faces_scanned_at = $1, faces_error = NULL WHERE id = $2",
            )
            .bind(t)
            .bind(asset_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// Record that face detection could not read an asset: it leaves the
    /// detection queue (until its file changes) and keeps the reason.
    pub async fn mark_faces_failed(&self, asset_id: i64, reason: &str) -> Result<()> {
        let t = now();
        on_write!(self, |pool| {
            sqlx::query("UPDATE assets SET faces_scanned_at = $1, faces_error = $2 WHERE id = $3")
                .bind(t)
                .bind(reason)
                .bind(asset_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// One face.
    pub async fn face(&self, id: i64) -> Result<Face> {
        let sql = format!("SELECT {FACE_COLUMNS} FROM faces WHERE id = $1");
        let row: Option<FaceRow> = on_read!(self, |pool| {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        row.map(face_from)
            .ok_or_else(|| crate::Error::not_found(format!("face {id}")))
    }

    /// Faces of one asset.
    pub async fn faces_of_asset(&self, asset_id: i64) -> Result<Vec<Face>> {
        let sql = format!("SELECT {FACE_COLUMNS} FROM faces WHERE asset_id = $1 ORDER BY id");
        let rows: Vec<FaceRow> = on_read!(self, |pool| {
            sqlx::query_as(&sql).bind(asset_id).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(face_from).collect())
    }

    /// Faces without a person, most confident first.
    pub async fn unassigned_faces(&self, offset: i64, limit: i64) -> Result<Vec<Face>> {
        let sql = format!(
            "SELECT {FACE_COLUMNS} FROM faces WHERE person_id IS NULL \
             ORDER BY score DESC, id LIMIT $1 OFFSET $2"
        );
        let rows: Vec<FaceRow> = on_read!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(face_from).collect())
    }

    /// (faces, persons, assets with faces).
    pub async fn face_counts(&self) -> Result<(i64, i64, i64)> {
        on_read!(self, |pool| {
            let faces: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM faces")
                .fetch_one(pool)
                .await?;
            let persons: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons")
                .fetch_one(pool)
                .await?;
            let assets: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT asset_id) FROM faces")
                .fetch_one(pool)
                .await?;
            Ok((faces, persons, assets))
        })
    }

    /// Delete every face and person; images will be detected again.
    /// Returns (faces, persons) deleted.
    pub async fn clear_faces(&self) -> Result<(i64, i64)> {
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let faces: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM faces")
                .fetch_one(&mut *tx)
                .await?;
            let persons: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons")
                .fetch_one(&mut *tx)
                .await?;
            for sql in [
                "DELETE FROM faces",
                "DELETE FROM person_profiles",
                "DELETE FROM persons",
                "UPDATE assets SET faces_scanned_at = NULL, faces_error = NULL",
                "UPDATE face_detection_state SET clustered_through = 0",
            ] {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok((faces, persons))
        })
    }
}

/// A face with its embedding, for clustering.
#[derive(Debug, Clone)]
pub struct FaceVector {
    /// Face id.
    pub id: i64,
    /// Asset it was found in.
    pub asset_id: i64,
    /// Current person, if any.
    pub person_id: Option<i64>,
    /// Whether the assignment was made by hand.
    pub manual: bool,
    /// Detector confidence.
    pub score: f64,
    /// L2-normalised embedding.
    pub embedding: Vec<f32>,
}

/// A person as the API shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Person {
    /// Id.
    pub id: i64,
    /// Name (`Person <id>` until named).
    pub name: String,
    /// Creation time, ISO 8601 UTC.
    pub created_at: String,
    /// Faces assigned.
    pub face_count: i64,
    /// Whether a user gave the name (otherwise it is `Person <id>`).
    #[serde(skip)]
    pub named: bool,
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Store {
    /// Every face that has an embedding.
    pub async fn face_vectors(&self) -> Result<Vec<FaceVector>> {
        type Row = (i64, i64, Option<i64>, bool, f64, Vec<u8>);
        let rows: Vec<Row> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT id, asset_id, person_id, manual, score, embedding FROM faces \
                 WHERE embedding IS NOT NULL ORDER BY id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, asset_id, person_id, manual, score, e)| FaceVector {
                id,
                asset_id,
                person_id,
                manual,
                score,
                embedding: floats(&e),
            })
            .collect())
    }

    /// Apply many face → person assignments in one transaction.
    pub async fn assign_faces(&self, assignments: &[(i64, Option<i64>)]) -> Result<()> {
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (face, person) in assignments {
                sqlx::query("UPDATE faces SET person_id = $1 WHERE id = $2 AND NOT manual")
                    .bind(person)
                    .bind(face)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Store every person's centroid (L2-normalised mean of their faces)
    /// and face count, dropping the profiles of everyone else.
    pub async fn replace_profiles(
        &self,
        centroids: &std::collections::HashMap<i64, Vec<f32>>,
        counts: &std::collections::HashMap<i64, i64>,
    ) -> Result<()> {
        let t = now();
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM person_profiles")
                .execute(&mut *tx)
                .await?;
            for (person, c) in centroids {
                sqlx::query(
                    "INSERT INTO person_profiles (person_id, centroid, face_count, updated_at) \
                     SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM persons WHERE id = $1)",
                )
                .bind(person)
                .bind(embedding_bytes(c))
                .bind(counts.get(person).copied().unwrap_or(0))
                .bind(t)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The stored centroid of a person, if they have faces.
    pub async fn profile(&self, person_id: i64) -> Result<Option<Vec<f32>>> {
        let row: Option<Vec<u8>> = on_read!(self, |pool| {
            sqlx::query_scalar("SELECT centroid FROM person_profiles WHERE person_id = $1")
                .bind(person_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|b| floats(&b)))
    }

    /// Every person with their face counts, oldest first.
    pub async fn persons(&self) -> Result<Vec<Person>> {
        self.query_persons(None).await
    }

    async fn query_persons(&self, id: Option<i64>) -> Result<Vec<Person>> {
        let rows: Vec<(i64, Option<String>, i64, i64)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT p.id, p.name, p.created_at, \
                 (SELECT COUNT(*) FROM faces f WHERE f.person_id = p.id) \
                 FROM persons p WHERE ($1 IS NULL OR p.id = $1) ORDER BY p.id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, name, created, faces)| Person {
                id,
                named: name.is_some(),
                name: name.unwrap_or_else(|| format!("Person {id}")),
                created_at: chrono::DateTime::from_timestamp(created, 0)
                    .unwrap_or_default()
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
                face_count: faces,
            })
            .collect())
    }

    /// One person.
    pub async fn person(&self, id: i64) -> Result<Person> {
        self.query_persons(Some(id))
            .await?
            .pop()
            .ok_or_else(|| crate::Error::not_found(format!("person {id}")))
    }

    /// Rename a person.
    pub async fn rename_person(&self, id: i64, name: &str) -> Result<()> {
        if name.trim().is_empty() {
            return Err(crate::Error::invalid("name must not be empty"));
        }
        let t = now();
        let n = on_write!(self, |pool| {
            sqlx::query("UPDATE persons SET name = $1, updated_at = $2 WHERE id = $3")
                .bind(name.trim())
                .bind(t)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(crate::Error::not_found(format!("person {id}")));
        }
        Ok(())
    }

    /// Delete a person; their faces become unassigned, as if by hand, so
    /// automatic clustering does not make the same person again.
    pub async fn delete_person(&self, id: i64) -> Result<()> {
        let n = on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE faces SET person_id = NULL, manual = $2 WHERE person_id = $1")
                .bind(id)
                .bind(true)
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query("DELETE FROM persons WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            n
        });
        if n == 0 {
            return Err(crate::Error::not_found(format!("person {id}")));
        }
        Ok(())
    }

    /// Move every face of `source` to `target` and delete `source`;
    /// returns the number of faces moved. In a photo where both appear,
    /// `target` keeps its face and the face of `source` becomes unassigned
    /// (one person is never twice in one photo).
    pub async fn merge_persons(&self, source: i64, target: i64) -> Result<i64> {
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE faces SET person_id = NULL, manual = $3 WHERE person_id = $1 \
                 AND asset_id IN (SELECT asset_id FROM faces WHERE person_id = $2)",
            )
            .bind(source)
            .bind(target)
            .bind(false)
            .execute(&mut *tx)
            .await?;
            let moved = sqlx::query("UPDATE faces SET person_id = $1 WHERE person_id = $2")
                .bind(target)
                .bind(source)
                .execute(&mut *tx)
                .await?
                .rows_affected() as i64;
            sqlx::query("DELETE FROM persons WHERE id = $1")
                .bind(source)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(moved)
        })
    }

    /// Delete persons that no face belongs to; returns how many.
    pub async fn delete_empty_persons(&self) -> Result<u64> {
        on_write!(self, |pool| {
            Ok(sqlx::query(
                "DELETE FROM persons WHERE id NOT IN \
                 (SELECT DISTINCT person_id FROM faces WHERE person_id IS NOT NULL)",
            )
            .execute(pool)
            .await?
            .rows_affected())
        })
    }

    /// Assets showing a person.
    pub async fn person_asset_ids(&self, id: i64) -> Result<Vec<i64>> {
        on_read!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT asset_id FROM faces WHERE person_id = $1 ORDER BY asset_id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The most confident face of a person, if any.
    pub async fn representative_face(&self, id: i64) -> Result<Option<i64>> {
        on_read!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT id FROM faces WHERE person_id = $1 ORDER BY score DESC, id LIMIT 1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }
}
