//! Operations on users' files and folders that the engine decides on:
//! permanent deletion (the only thing that ever touches an original) and
//! browsing directories for a folder picker.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

/// The outcome of permanently deleting one asset.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PermanentDelete {
    /// The asset.
    pub id: i64,
    /// Its path.
    pub path: String,
    /// Whether the asset is gone (from disk and index).
    pub deleted: bool,
    /// Whether the original file was removed from disk by this call.
    pub deleted_from_disk: bool,
    /// Whether the failure was a read-only file or filesystem.
    pub read_only: bool,
    /// What went wrong, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Remove a file from disk. A file marked read-only, or on a read-only
/// filesystem, or that we may not remove, is reported as read-only.
/// Returns whether the file existed.
pub(crate) fn remove_original(path: &Path) -> std::result::Result<bool, (bool, String)> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err((false, format!("cannot inspect the file: {e}"))),
        Ok(m) if m.permissions().readonly() => {
            return Err((true, "File is read-only".to_string()));
        }
        Ok(_) => {}
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(removal_failure(&e)),
    }
}

/// Why removing a file failed: `(read_only, message)`. A read-only
/// filesystem (EROFS) and a refusal by permissions (EACCES, EPERM) are all
/// "read-only" to the user: the file cannot be removed from here.
fn removal_failure(e: &std::io::Error) -> (bool, String) {
    match e.raw_os_error() {
        Some(libc::EROFS) => (true, "File is on a read-only filesystem".to_string()),
        Some(libc::EACCES | libc::EPERM) => (true, format!("File cannot be removed: {e}")),
        _ => (false, format!("cannot remove the file: {e}")),
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BrowseEntry {
    /// File or directory name.
    pub name: String,
    /// Absolute path.
    pub path: String,
    /// Whether it is a directory (symlinks to directories count).
    pub is_dir: bool,
}

/// A directory listing for a folder picker.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Browse {
    /// The directory listed.
    pub path: String,
    /// Directories first, then files, each alphabetical; hidden entries dropped.
    pub entries: Vec<BrowseEntry>,
}

/// List an absolute directory.
pub fn browse(path: &str) -> Result<Browse> {
    let dir = Path::new(path);
    if !dir.is_absolute() {
        return Err(Error::invalid(format!("path must be absolute: {path:?}")));
    }
    let read = std::fs::read_dir(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found(format!("no such directory: {path}")),
        std::io::ErrorKind::NotADirectory => Error::invalid(format!("not a directory: {path}")),
        _ => Error::io_at(dir, e),
    })?;
    let mut entries: Vec<BrowseEntry> = read
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            if name.starts_with('.') {
                return None;
            }
            let full = e.path();
            let is_dir = std::fs::metadata(&full)
                .map(|m| m.is_dir())
                .unwrap_or(false);
            Some(BrowseEntry {
                path: full.to_str()?.to_string(),
                name,
                is_dir,
            })
        })
        .collect();
    entries.sort_by(|a, b| {
        b.is_dir
            .cmp(&a.is_dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(Browse {
        path: path.to_string(),
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_failures_are_told_apart() {
        let os = std::io::Error::from_raw_os_error;
        let (ro, msg) = removal_failure(&os(libc::EROFS));
        assert!(ro && msg.contains("read-only filesystem"), "{msg}");
        for errno in [libc::EACCES, libc::EPERM] {
            let (ro, msg) = removal_failure(&os(errno));
            assert!(ro && msg.contains("cannot be removed"), "{msg}");
        }
        let (ro, _) = removal_failure(&os(libc::EIO));
        assert!(!ro, "an I/O error is not a read-only file");
    }

    #[test]
    fn a_read_only_file_is_reported_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("keep.jpg");
        std::fs::write(&f, b"x").unwrap();
        let mut p = std::fs::metadata(&f).unwrap().permissions();
        p.set_readonly(true);
        std::fs::set_permissions(&f, p).unwrap();
        assert_eq!(
            remove_original(&f),
            Err((true, "File is read-only".to_string()))
        );
        assert!(f.exists());
        assert_eq!(remove_original(&dir.path().join("gone.jpg")), Ok(false));
    }
}
