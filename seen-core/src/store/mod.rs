//! The database: connection pools, migrations and typed queries for SQLite
//! and Postgres. Nothing outside this module writes SQL.
//!
//! Most statements are written once with `$N` placeholders (both SQLite and
//! Postgres accept them); where the dialects differ the two versions sit side
//! by side in the same function.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{Error, Result};

mod albums;
mod assets;
mod faces;
mod paths;

pub use albums::Album;
pub use assets::{
    Asset, AssetKind, AssetStat, DerivedUpdate, ListQuery, NewAsset, Order, SortField,
    derived_state,
};
pub use faces::{Face, FaceSettings, FaceVector, NewFace, Person};
pub use paths::{RemovedPath, ScanPath};

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Backend {
    /// SQLite (the default, a file under the data directory).
    SQLite,
    /// PostgreSQL (for large installs).
    Postgres,
}

impl Backend {
    /// The name `/health` reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::SQLite => "SQLite",
            Backend::Postgres => "Postgres",
        }
    }
}

enum Pools {
    /// One writer connection (SQLite allows one writer at a time; serialising
    /// writes in the pool avoids SQLITE_BUSY on lock upgrades) and a pool of
    /// readers that run concurrently thanks to WAL.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres {
        pool: PgPool,
    },
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pools: std::sync::Arc<Pools>,
}

/// Run `$body` with `$pool` bound to the pool used for writes.
macro_rules! on_write {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &*$store.pools {
            $crate::store::Pools::Sqlite { write: $pool, .. } => $body,
            $crate::store::Pools::Postgres { pool: $pool } => $body,
        }
    };
}

/// Run `$body` with `$pool` bound to the pool used for reads.
macro_rules! on_read {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &*$store.pools {
            $crate::store::Pools::Sqlite { read: $pool, .. } => $body,
            $crate::store::Pools::Postgres { pool: $pool } => $body,
        }
    };
}

pub(crate) use {on_read, on_write};

/// Current time as unix seconds.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Store {
    /// Open (and create or migrate) the database at `url`: `sqlite://FILE`
    /// or `postgres://...`.
    pub async fn open(url: &str, max_connections: u32) -> Result<Store> {
        let max_connections = max_connections.max(1);
        let pools = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| Error::invalid(format!("database URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|e| Error::database(format!("cannot connect to Postgres: {e}")))?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            Pools::Postgres { pool }
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| Error::invalid(format!("database URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .pragma("temp_store", "memory")
                .pragma("cache_size", "-16000");
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(options.clone())
                .await
                .map_err(|e| Error::database(format!("cannot open SQLite database: {e}")))?;
            sqlx::migrate!("migrations/sqlite").run(&write).await?;
            let read = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(options)
                .await
                .map_err(|e| Error::database(format!("cannot open SQLite database: {e}")))?;
            Pools::Sqlite { read, write }
        } else {
            return Err(Error::invalid(format!(
                "database URL must start with sqlite:// or postgres://, got {url:?}"
            )));
        };
        Ok(Store {
            pools: std::sync::Arc::new(pools),
        })
    }

    /// Which engine this store uses.
    pub fn backend(&self) -> Backend {
        match &*self.pools {
            Pools::Sqlite { .. } => Backend::SQLite,
            Pools::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Check that the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_read!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Close every connection, waiting for running statements to finish.
    pub async fn close(&self) {
        match &*self.pools {
            Pools::Sqlite { read, write } => {
                read.close().await;
                // Fold the WAL back into the main file so the database is one file at rest.
                let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(write)
                    .await;
                write.close().await;
            }
            Pools::Postgres { pool } => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests;
