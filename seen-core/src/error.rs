//! The one error type of the engine. Every binding (HTTP, C, Python) maps
//! [`ErrorKind`] exactly once to its own vocabulary.

use std::path::PathBuf;

/// Result alias used across `seen-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The asked-for asset, path, person, face or album does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller passed something nonsensical (bad id, sort field, setting, body).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The operation clashes with the current state (a scan is running, ...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A file (or its filesystem) is read-only, so it could not be changed.
    #[error("read-only: {path}: {message}")]
    ReadOnly {
        /// The file that could not be changed.
        path: PathBuf,
        /// What the operating system said.
        message: String,
    },
    /// The file type or operation is not supported.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// An I/O failure, with the path it concerns when known.
    #[error("i/o error{}: {source}", path.as_ref().map(|p| format!(" on {}", p.display())).unwrap_or_default())]
    Io {
        /// The path involved, if any.
        path: Option<PathBuf>,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The database failed (connection, constraint, migration).
    #[error("database error: {message}")]
    Database {
        /// What went wrong.
        message: String,
        /// The database refused the statement itself (a constraint or a
        /// value it cannot take), as opposed to failing to run it
        /// (connection, pool, I/O): other rows may still go through.
        rejected: bool,
    },
    /// Decoding, probing or encoding media failed.
    #[error("media error: {0}")]
    Media(String),
    /// A face model is missing or failed to run.
    #[error("model error: {0}")]
    Model(String),
    /// The operation was cancelled (shutdown, stop, pause).
    #[error("cancelled: {0}")]
    Cancelled(String),
    /// A bug or an unexpected state; never the caller's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The category of an [`Error`], stable across versions; bindings map this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::InvalidInput`].
    InvalidInput,
    /// See [`Error::Conflict`].
    Conflict,
    /// See [`Error::ReadOnly`].
    ReadOnly,
    /// See [`Error::Unsupported`].
    Unsupported,
    /// See [`Error::Io`].
    Io,
    /// See [`Error::Database`].
    Database,
    /// See [`Error::Media`].
    Media,
    /// See [`Error::Model`].
    Model,
    /// See [`Error::Cancelled`].
    Cancelled,
    /// See [`Error::Internal`].
    Internal,
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::ReadOnly { .. } => ErrorKind::ReadOnly,
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::Io { .. } => ErrorKind::Io,
            Error::Database { .. } => ErrorKind::Database,
            Error::Media(_) => ErrorKind::Media,
            Error::Model(_) => ErrorKind::Model,
            Error::Cancelled(_) => ErrorKind::Cancelled,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// An I/O error about `path`.
    pub fn io_at(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: Some(path.into()),
            source,
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(what: impl std::fmt::Display) -> Error {
        Error::NotFound(what.to_string())
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(what: impl std::fmt::Display) -> Error {
        Error::InvalidInput(what.to_string())
    }

    /// A database failure that is not a refusal of the statement.
    pub fn database(what: impl std::fmt::Display) -> Error {
        Error::Database {
            message: what.to_string(),
            rejected: false,
        }
    }

    /// Whether the database refused the statement (see [`Error::Database`]).
    pub fn is_rejected_by_database(&self) -> bool {
        matches!(self, Error::Database { rejected: true, .. })
    }
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io { path: None, source }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound("row not found".into()),
            sqlx::Error::Database(db) => Error::Database {
                message: db.to_string(),
                rejected: refuses_the_data(&*db),
            },
            other => Error::database(other),
        }
    }
}

/// Whether a database error is about the statement's data (a constraint,
/// a value out of range or of the wrong kind, a trigger's refusal), which
/// retrying the same rows cannot change, rather than about the database's
/// state (busy, locked, full, I/O, serialization, shutdown), which may pass.
fn refuses_the_data(db: &dyn sqlx::error::DatabaseError) -> bool {
    let code = db.code().unwrap_or_default();
    if db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        // SQLSTATE classes 22 (data exception) and 23 (integrity
        // constraint), and P0001 (raised by a function or trigger).
        code.starts_with("22") || code.starts_with("23") || code == "P0001"
    } else {
        // SQLite's extended result code; its low byte is the primary one:
        // 18 TOOBIG, 19 CONSTRAINT (a trigger's RAISE too), 20 MISMATCH.
        code.parse::<i64>()
            .is_ok_and(|c| matches!(c & 0xff, 18..=20))
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::database(format!("migration failed: {e}"))
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(format!("background task failed: {e}"))
    }
}

/// The message of a caught panic (`&str` or `String` payloads), for the
/// places that turn a panic into an error instead of a crash.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
