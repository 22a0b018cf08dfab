//! The Seen REST server as a library: [`router`] builds the axum app over a
//! [`seen_core::Library`]; the `seen-http` binary adds the command line.

mod error;
mod extract;
pub mod files;
mod routes;

pub use error::ApiError;
pub use routes::router;
