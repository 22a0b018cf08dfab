//! Scan paths: the folders the library indexes.

use serde::Serialize;

use super::{Store, now, on_read, on_write};
use crate::error::{Error, Result};

/// A registered folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ScanPath {
    /// Id.
    pub id: i64,
    /// Absolute path.
    pub path: String,
    /// Whether it is the default root.
    pub is_default: bool,
    /// The host path it maps to (container set-ups), if any.
    pub host_path: Option<String>,
    /// Whether scanning and watching are paused.
    pub paused: bool,
    /// When it was added (unix s).
    pub added_at: i64,
    /// When its last full scan finished (unix s).
    pub last_scan_at: Option<i64>,
}

/// What removing a scan path took with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedPath {
    /// Assets removed from the index.
    pub assets_deleted: i64,
    /// Faces removed.
    pub faces_deleted: i64,
    /// Content hashes of the removed assets, so their derived files can go.
    #[serde(skip)]
    pub sha256s: Vec<String>,
}

const PATH_COLUMNS: &str = "id, path, is_default, host_path, paused, added_at, last_scan_at";

impl Store {
    /// Register a folder (or return the existing registration).
    pub async fn add_scan_path(&self, path: &str, is_default: bool) -> Result<ScanPath> {
        let t = now();
        let sql = format!(
            "INSERT INTO scan_paths (path, is_default, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (path) DO UPDATE SET path = excluded.path RETURNING {PATH_COLUMNS}"
        );
        on_write!(self, |pool| {
            Ok(sqlx::query_as::<_, ScanPath>(&sql)
                .bind(path)
                .bind(is_default)
                .bind(t)
                .fetch_one(pool)
                .await?)
        })
    }

    /// Every registered folder, in the order they were added.
    pub async fn scan_paths(&self) -> Result<Vec<ScanPath>> {
        let sql = format!("SELECT {PATH_COLUMNS} FROM scan_paths ORDER BY id");
        on_read!(self, |pool| {
            Ok(sqlx::query_as::<_, ScanPath>(&sql).fetch_all(pool).await?)
        })
    }

    /// One registered folder by path.
    pub async fn scan_path(&self, path: &str) -> Result<ScanPath> {
        let sql = format!("SELECT {PATH_COLUMNS} FROM scan_paths WHERE path = $1");
        on_read!(self, |pool| {
            sqlx::query_as::<_, ScanPath>(&sql)
                .bind(path)
                .fetch_optional(pool)
                .await?
                .ok_or_else(|| Error::not_found(format!("scan path {path}")))
        })
    }

    /// Remember whether a folder is paused.
    pub async fn set_scan_path_paused(&self, path: &str, paused: bool) -> Result<()> {
        let n = on_write!(self, |pool| {
            sqlx::query("UPDATE scan_paths SET paused = $1 WHERE path = $2")
                .bind(paused)
                .bind(path)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(Error::not_found(format!("scan path {path}")));
        }
        Ok(())
    }

    /// Record that a full scan of a folder finished now.
    pub async fn mark_scanned(&self, path: &str) -> Result<()> {
        let t = now();
        on_write!(self, |pool| {
            sqlx::query("UPDATE scan_paths SET last_scan_at = $1 WHERE path = $2")
                .bind(t)
                .bind(path)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Unregister a folder; its assets, their faces and album links go too.
    pub async fn remove_scan_path(&self, path: &str) -> Result<RemovedPath> {
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar("SELECT id FROM scan_paths WHERE path = $1")
                .bind(path)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| Error::not_found(format!("scan path {path}")))?;
            let faces_deleted: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM faces WHERE asset_id IN \
                 (SELECT id FROM assets WHERE scan_path_id = $1)",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let sha256s: Vec<Option<String>> =
                sqlx::query_scalar("DELETE FROM assets WHERE scan_path_id = $1 RETURNING sha256")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            sqlx::query("DELETE FROM scan_paths WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(RemovedPath {
                assets_deleted: sha256s.len() as i64,
                faces_deleted,
                sha256s: sha256s.into_iter().flatten().collect(),
            })
        })
    }
}
