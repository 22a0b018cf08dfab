//! The one mapping from core errors to HTTP statuses and JSON bodies.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use seen_core::{Error, ErrorKind};

/// A core error on its way to becoming an HTTP response: `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

/// The HTTP status for each kind of core error.
pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidInput | ErrorKind::Unsupported => StatusCode::BAD_REQUEST,
        ErrorKind::Conflict | ErrorKind::ReadOnly => StatusCode::CONFLICT,
        ErrorKind::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Model => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Io | ErrorKind::Database | ErrorKind::Media | ErrorKind::Internal => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_for(self.0.kind());
        if status.is_server_error() {
            tracing::error!(error = %self.0, "request failed");
        }
        let mut body = serde_json::json!({ "error": self.0.to_string() });
        if let Error::ReadOnly { path, .. } = &self.0 {
            body["read_only"] = true.into();
            body["path"] = path.display().to_string().into();
        }
        (status, Json(body)).into_response()
    }
}
