//! Extractors whose rejections are JSON errors (`{"error": ...}`, 400)
//! instead of axum's plain-text ones.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use seen_core::Error;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Query-string parameters as text; typed parsing happens in the handler
/// so every bad value becomes a clear 400.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(Params)
            .map_err(|e| ApiError(Error::invalid(format!("bad query string: {e}"))))
    }
}

impl Params {
    /// A parameter parsed as `T`, or `None` when absent or empty.
    pub fn get<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        match self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|e| ApiError(Error::invalid(format!("query parameter {key}={v:?}: {e}")))),
        }
    }

    /// A required text parameter.
    pub fn require(&self, key: &str) -> Result<String, ApiError> {
        self.0
            .get(key)
            .filter(|v| !v.trim().is_empty())
            .cloned()
            .ok_or_else(|| ApiError(Error::invalid(format!("query parameter {key} is required"))))
    }
}

/// A JSON request body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError(Error::invalid(format!("cannot read the body: {e}"))))?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| ApiError(Error::invalid(format!("invalid JSON body: {e}"))))
    }
}

/// Parse an id from a path segment (400 for anything but a positive integer).
pub fn id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError(Error::invalid(format!("invalid id {text:?}"))))
}
