//! # seen-core
//!
//! The Seen engine as a library. A [`Library`] indexes folders of photos,
//! videos and audio in place and answers questions about them. The HTTP
//! server, the C library and the Python module are thin layers over it.

pub mod config;
pub mod error;
#[cfg(feature = "faces")]
pub mod faces;
pub mod files;
mod library;
pub mod media;
pub mod pipeline;
pub mod search;
pub mod stats;
pub mod store;

pub use config::{Accel, Config};
pub use error::{Error, ErrorKind, Result};
pub use library::{Faces, Health, Library, PathStatus, PersonProfile};
pub use pipeline::{ScanHandle, ScanOutcome};

/// The engine's version (the crate version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
