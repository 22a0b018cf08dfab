//! Route table: every route is served at the root and under `/api`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use seen_core::{Health, Library};

use crate::error::ApiError;

/// The whole application over `library`.
pub fn router(library: Library) -> Router {
    let routes = Router::new().route("/health", get(health));
    Router::new()
        .merge(routes.clone())
        .nest("/api", routes)
        .with_state(library)
}

async fn health(State(lib): State<Library>) -> Result<Json<Health>, ApiError> {
    Ok(Json(lib.health().await?))
}
