//! Albums: named, ordered sets of assets.

use serde::Serialize;

use super::{Store, now, on_read, on_write};
use crate::error::{Error, Result};

/// An album with the ids of its assets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Album {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Assets in the order they were added.
    pub asset_ids: Vec<i64>,
    /// Creation time (unix s).
    pub created_at: i64,
    /// Last change (unix s).
    pub updated_at: i64,
}

impl Store {
    /// Create an album; returns its id.
    pub async fn create_album(&self, name: &str, description: Option<&str>) -> Result<i64> {
        if name.trim().is_empty() {
            return Err(Error::invalid("album name must not be empty"));
        }
        let t = now();
        on_write!(self, |pool| {
            Ok(sqlx::query_scalar(
                "INSERT INTO albums (name, description, created_at, updated_at) \
                 VALUES ($1, $2, $3, $3) RETURNING id",
            )
            .bind(name)
            .bind(description)
            .bind(t)
            .fetch_one(pool)
            .await?)
        })
    }

    /// One album with its asset ids.
    pub async fn album(&self, id: i64) -> Result<Album> {
        on_read!(self, |pool| {
            let row: Option<(i64, String, Option<String>, i64, i64)> = sqlx::query_as(
                "SELECT id, name, description, created_at, updated_at FROM albums WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?;
            let (id, name, description, created_at, updated_at) =
                row.ok_or_else(|| Error::not_found(format!("album {id}")))?;
            let asset_ids = sqlx::query_scalar(
                "SELECT asset_id FROM album_assets WHERE album_id = $1 ORDER BY added_at, asset_id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            Ok(Album {
                id,
                name,
                description,
                asset_ids,
                created_at,
                updated_at,
            })
        })
    }

    /// Add assets to an album (already present ones are left alone); every
    /// id must exist.
    pub async fn add_to_album(&self, album_id: i64, asset_ids: &[i64]) -> Result<()> {
        let t = now();
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM albums WHERE id = $1")
                .bind(album_id)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(Error::not_found(format!("album {album_id}")));
            }
            for asset_id in asset_ids {
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM assets WHERE id = $1")
                    .bind(asset_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_none() {
                    return Err(Error::invalid(format!("unknown asset id {asset_id}")));
                }
                sqlx::query(
                    "INSERT INTO album_assets (album_id, asset_id, added_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (album_id, asset_id) DO NOTHING",
                )
                .bind(album_id)
                .bind(asset_id)
                .bind(t)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE albums SET updated_at = $1 WHERE id = $2")
                .bind(t)
                .bind(album_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
