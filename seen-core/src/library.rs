//! [`Library`]: the engine value every binding drives.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::{Asset, ListQuery, ScanPath, Store};

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
    started: Instant,
}

/// An open photo library. Cheap to clone; every clone is the same library.
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
        Ok(Library {
            inner: Arc::new(Inner {
                config,
                store,
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

    /// Register a folder to index. It must be an existing directory; the
    /// stored path is absolute and canonical.
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
        self.inner.store.add_scan_path(text, first).await
    }

    /// Registered folders.
    pub async fn paths(&self) -> Result<Vec<ScanPath>> {
        self.inner.store.scan_paths().await
    }

    /// A page of assets.
    pub async fn assets(&self, query: &ListQuery) -> Result<Vec<Asset>> {
        self.inner.store.list_assets(query).await
    }

    /// One asset.
    pub async fn asset(&self, id: i64) -> Result<Asset> {
        self.inner.store.asset(id).await
    }

    /// Flush and close the database.
    pub async fn close(&self) {
        self.inner.store.close().await;
        tracing::info!("library closed");
    }
}
