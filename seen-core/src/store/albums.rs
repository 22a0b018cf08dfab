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

    /// Every album, oldest first.
    pub async fn albums(&self) -> Result<Vec<Album>> {
        let rows: Vec<(i64, String, Option<String>, i64, i64)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT id, name, description, created_at, updated_at FROM albums ORDER BY id",
            )
            .fetch_all(pool)
            .await?
        });
        let links: Vec<(i64, i64)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT album_id, asset_id FROM album_assets ORDER BY album_id, added_at, asset_id",
            )
            .fetch_all(pool)
            .await?
        });
        let mut by_album: std::collections::HashMap<i64, Vec<i64>> =
            std::collections::HashMap::new();
        for (album, asset) in links {
            by_album.entry(album).or_default().push(asset);
        }
        Ok(rows
            .into_iter()
            .map(|(id, name, description, created_at, updated_at)| Album {
                asset_ids: by_album.remove(&id).unwrap_or_default(),
                id,
                name,
                description,
                created_at,
                updated_at,
            })
            .collect())
    }

    /// Rename an album and/or change its description (`Some(None)` clears it).
    pub async fn update_album(
        &self,
        id: i64,
        name: Option<&str>,
        description: Option<Option<&str>>,
    ) -> Result<()> {
        if name.is_some_and(|n| n.trim().is_empty()) {
            return Err(Error::invalid("album name must not be empty"));
        }
        let t = now();
        let n = on_write!(self, |pool| {
            sqlx::query(
                "UPDATE albums SET name = COALESCE($1, name), \
                 description = CASE WHEN $2 THEN $3 ELSE description END, updated_at = $4 \
                 WHERE id = $5",
            )
            .bind(name)
            .bind(description.is_some())
            .bind(description.flatten())
            .bind(t)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(Error::not_found(format!("album {id}")));
        }
        Ok(())
    }

    /// Delete an album (its assets stay).
    pub async fn delete_album(&self, id: i64) -> Result<()> {
        let n = on_write!(self, |pool| {
            sqlx::query("DELETE FROM albums WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(Error::not_found(format!("album {id}")));
        }
        Ok(())
    }

    /// Take assets out of an album.
    pub async fn remove_from_album(&self, album_id: i64, asset_ids: &[i64]) -> Result<()> {
        self.album(album_id).await?;
        let t = now();
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            for asset_id in asset_ids {
                sqlx::query("DELETE FROM album_assets WHERE album_id = $1 AND asset_id = $2")
                    .bind(album_id)
                    .bind(asset_id)
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

    /// Ids of the albums holding an asset.
    pub async fn albums_for_asset(&self, asset_id: i64) -> Result<Vec<i64>> {
        on_read!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT album_id FROM album_assets WHERE asset_id = $1 ORDER BY album_id",
            )
            .bind(asset_id)
            .fetch_all(pool)
            .await?)
        })
    }
}
