//! Derived files (thumbnails, previews) under `<data-dir>/derived/`,
//! content-addressed by SHA-256, rotation and size, written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where derived files live.
#[derive(Debug, Clone)]
pub(crate) struct Derived {
    dir: PathBuf,
}

impl Derived {
    pub(crate) fn new(dir: PathBuf) -> Derived {
        Derived { dir }
    }

    fn shard(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256.get(..2).unwrap_or("__"))
    }

    /// The WebP of `size` px for content `sha256` shown at `rotation`.
    pub(crate) fn image_path(&self, sha256: &str, rotation: i64, size: u32) -> PathBuf {
        self.shard(sha256)
            .join(format!("{sha256}_r{rotation}_{size}.webp"))
    }

    /// A derived file of content `sha256` named `{sha256}.{ext}` (transcodes).
    pub(crate) fn file_path(&self, sha256: &str, ext: &str) -> PathBuf {
        self.shard(sha256).join(format!("{sha256}.{ext}"))
    }

    /// Write `bytes` to `path` through a temporary file and a rename, so a
    /// reader never sees half a file.
    pub(crate) fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(|e| Error::io_at(parent, e))?;
        let mut tmp =
            tempfile::NamedTempFile::new_in(parent).map_err(|e| Error::io_at(parent, e))?;
        tmp.write_all(bytes)
            .map_err(|e| Error::io_at(tmp.path(), e))?;
        tmp.persist(path).map_err(|e| Error::io_at(path, e.error))?;
        Ok(())
    }

    /// Remove every derived file of this content (all rotations and sizes).
    pub(crate) fn remove_all(&self, sha256: &str) {
        let shard = self.shard(sha256);
        let Ok(entries) = std::fs::read_dir(&shard) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(sha256)
                && let Err(err) = std::fs::remove_file(e.path())
            {
                tracing::warn!(path = %e.path().display(), "cannot remove derived file: {err}");
            }
        }
    }

    /// Remove every derived file.
    pub(crate) fn clear(&self) -> Result<()> {
        if !self.dir.exists() {
            return Ok(());
        }
        for e in std::fs::read_dir(&self.dir).map_err(|e| Error::io_at(&self.dir, e))? {
            let e = e?;
            let removed = if e.file_type()?.is_dir() {
                std::fs::remove_dir_all(e.path())
            } else {
                std::fs::remove_file(e.path())
            };
            removed.map_err(|err| Error::io_at(e.path(), err))?;
        }
        Ok(())
    }
}
