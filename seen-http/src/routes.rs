//! Route table: every route is served at the root and under `/api`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use seen_core::search::SearchQuery;
use seen_core::store::{Album, Asset, ListQuery};
use seen_core::{Error, Health, Library};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, CorsLayer};

use crate::error::ApiError;
use crate::extract::{Body, Params, id};
use crate::files::{attachment, serve_file};

type ApiResult<T> = Result<T, ApiError>;

/// The whole application over `library`.
pub fn router(library: Library) -> Router {
    let routes = Router::new()
        .route("/health", get(health))
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset_stats))
        .route("/metrics", get(metrics))
        .route("/performance", get(performance))
        .route("/diag/ffmpeg", get(diag_ffmpeg))
        .route("/file-types", get(file_types))
        .route("/assets", get(assets))
        .route("/assets/search", get(search))
        .route("/assets/permanent", post(delete_permanent_bulk))
        .route("/asset/{id}", get(asset).delete(delete_asset))
        .route("/asset/{id}/permanent", delete(delete_permanent))
        .route("/asset/{id}/download", get(download))
        .route("/asset/{id}/video", get(video))
        .route("/asset/{id}/audio.mp3", get(audio))
        .route("/asset/{id}/orientation", post(set_orientation))
        .route("/thumb/{id}", get(thumb))
        .route("/preview/{id}", get(preview))
        .route("/paths", get(paths).post(add_path).delete(remove_path))
        .route("/paths/scan", post(scan_path))
        .route("/paths/pause", post(pause_path))
        .route("/paths/resume", post(resume_path))
        .route("/paths/status", get(path_status))
        .route("/browse", get(browse))
        .route("/clear", delete(clear))
        .route("/albums", get(albums).post(create_album))
        .route(
            "/albums/{id}",
            get(album).put(update_album).delete(delete_album),
        )
        .route(
            "/albums/{id}/assets",
            post(add_to_album).delete(remove_from_album),
        )
        .route("/albums/for-asset/{id}", get(albums_for_asset))
        .route("/faces/detect", post(faces_detect))
        .route("/faces/stop", post(faces_stop))
        .route("/faces/status", get(faces_status))
        .route("/faces/progress", get(faces_progress))
        .route(
            "/faces/settings",
            get(face_settings).post(update_face_settings),
        )
        .route("/faces/unassigned", get(unassigned_faces))
        .route("/faces/clear", delete(clear_faces))
        .route("/faces/{id}/thumb", get(face_thumb))
        .route("/assets/{id}/faces", get(asset_faces))
        .route("/faces/cluster", post(faces_cluster))
        .route("/faces/recluster", post(faces_recluster))
        .route("/faces/smart-merge", post(faces_smart_merge))
        .route("/faces/recluster/person/{id}", post(refresh_person))
        .route("/faces/{id}/assign", post(assign_face))
        .route("/persons", get(persons))
        .route("/persons/merge", post(merge_persons))
        .route(
            "/persons/{id}",
            get(person).post(rename_person).delete(delete_person),
        )
        .route("/persons/{id}/assets", get(person_assets))
        .route("/persons/{id}/face", get(person_face))
        .method_not_allowed_fallback(method_not_allowed);
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::RANGE,
            header::AUTHORIZATION,
        ])
        .expose_headers([
            header::CONTENT_RANGE,
            header::CONTENT_LENGTH,
            header::ACCEPT_RANGES,
        ]);
    Router::new()
        .merge(routes.clone())
        .nest("/api", routes)
        .fallback(not_found)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(cors)
        .with_state(library)
}

async fn not_found() -> ApiError {
    ApiError(Error::not_found("no such route"))
}

async fn method_not_allowed(method: Method) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({"error": format!("{method} is not allowed on this route")})),
    )
        .into_response()
}

/// A handler that panicked still answers with a JSON error (and the
/// server keeps serving).
fn panic_response(panic: Box<dyn std::any::Any + Send>) -> Response {
    let why = seen_core::error::panic_message(&*panic);
    tracing::error!("request handler panicked: {why}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"error": format!("internal error: {why}")})),
    )
        .into_response()
}

async fn health(State(lib): State<Library>) -> ApiResult<Json<Health>> {
    Ok(Json(lib.health().await?))
}

async fn stats(State(lib): State<Library>) -> ApiResult<Json<seen_core::stats::StatsReport>> {
    Ok(Json(lib.stats().await?))
}

async fn reset_stats(State(lib): State<Library>) -> ApiResult<Json<Value>> {
    lib.reset_stats()?;
    Ok(Json(
        json!({"success": true, "message": "Performance statistics reset"}),
    ))
}

fn list_query(q: &Params) -> ApiResult<ListQuery> {
    let defaults = ListQuery::default();
    Ok(ListQuery {
        offset: q.get("offset")?.unwrap_or(defaults.offset),
        limit: q.get("limit")?.unwrap_or(defaults.limit),
        sort: q.get("sort")?.unwrap_or(defaults.sort),
        order: q.get("order")?.unwrap_or(defaults.order),
        person_id: q.get("person_id")?,
    })
}

async fn assets(State(lib): State<Library>, q: Params) -> ApiResult<Json<Vec<Asset>>> {
    Ok(Json(lib.assets(&list_query(&q)?).await?))
}

async fn search(State(lib): State<Library>, q: Params) -> ApiResult<Json<Vec<Asset>>> {
    let query = SearchQuery {
        q: q.require("q")?,
        from: q.get("from")?,
        to: q.get("to")?,
        camera_make: q.get("camera_make")?,
        camera_model: q.get("camera_model")?,
        page: list_query(&q)?,
    };
    Ok(Json(lib.search(&query).await?))
}

async fn metrics(State(lib): State<Library>) -> ApiResult<Response> {
    let text = lib.metrics_text().await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

async fn performance(State(lib): State<Library>) -> ApiResult<Json<Value>> {
    Ok(Json(lib.performance().await?))
}

async fn diag_ffmpeg(State(lib): State<Library>) -> ApiResult<Json<Value>> {
    Ok(Json(lib.ffmpeg_diagnostics().await?))
}

async fn file_types(State(lib): State<Library>) -> ApiResult<Json<Value>> {
    Ok(Json(lib.file_types().await?))
}

async fn download(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let a = lib.asset(id(&raw)?).await?;
    serve_file(
        std::path::Path::new(&a.path),
        &a.mime,
        &headers,
        Some(attachment(&a.filename)),
    )
    .await
}

async fn video(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (path, mime) = lib.video_file(id(&raw)?).await?;
    serve_file(&path, &mime, &headers, None).await
}

async fn audio(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (path, mime) = lib.audio_file(id(&raw)?).await?;
    serve_file(&path, &mime, &headers, None).await
}

async fn delete_permanent(
    State(lib): State<Library>,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let r = lib.delete_asset_permanent(id(&raw)?).await?;
    let mut body = json!({
        "success": r.deleted,
        "deleted_from_disk": r.deleted_from_disk,
        "read_only": r.read_only,
        "path": r.path,
    });
    if let Some(e) = &r.error {
        body["error"] = e.clone().into();
    }
    let status = if r.deleted {
        StatusCode::OK
    } else if r.read_only {
        StatusCode::CONFLICT
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    Ok((status, Json(body)).into_response())
}

#[derive(Deserialize)]
struct Ids {
    ids: Vec<i64>,
}

async fn delete_permanent_bulk(
    State(lib): State<Library>,
    Body(body): Body<Ids>,
) -> ApiResult<Response> {
    if body.ids.is_empty() {
        return Err(Error::invalid("ids must not be empty").into());
    }
    let results = lib.delete_assets_permanent(&body.ids).await;
    let read_only: Vec<Value> = results
        .iter()
        .filter(|r| r.read_only)
        .map(|r| json!({"id": r.id, "path": r.path, "error": r.error}))
        .collect();
    let all = results.iter().all(|r| r.deleted);
    let status = if all {
        StatusCode::OK
    } else if !read_only.is_empty() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"success": all, "results": results, "read_only_failures": read_only})),
    )
        .into_response())
}

async fn asset(State(lib): State<Library>, Path(raw): Path<String>) -> ApiResult<Json<Asset>> {
    Ok(Json(lib.asset(id(&raw)?).await?))
}

async fn delete_asset(
    State(lib): State<Library>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    lib.delete_asset(id(&raw)?).await?;
    Ok(Json(json!({"success": true})))
}

#[derive(Deserialize)]
struct Rotation {
    rotation: i64,
}

async fn set_orientation(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    Body(body): Body<Rotation>,
) -> ApiResult<Json<Value>> {
    lib.set_rotation(id(&raw)?, body.rotation).await?;
    Ok(Json(json!({"success": true, "rotation": body.rotation})))
}

/// A derived WebP with validators: the ETag names content, rotation and size.
async fn derived(
    lib: &Library,
    raw: &str,
    preview: bool,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let asset = lib.asset(id(raw)?).await?;
    let size = if preview {
        lib.config().preview_size
    } else {
        lib.config().thumb_size
    };
    let etag = format!(
        "\"{}-r{}-{}\"",
        asset.sha256.as_deref().unwrap_or("none"),
        asset.rotation,
        size
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let bytes = lib.image_of(&asset, preview).await?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/webp"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(resp)
}

async fn thumb(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    derived(&lib, &raw, false, &headers).await
}

async fn preview(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    derived(&lib, &raw, true, &headers).await
}

async fn paths(State(lib): State<Library>) -> ApiResult<Json<Vec<seen_core::store::ScanPath>>> {
    Ok(Json(lib.paths().await?))
}

#[derive(Deserialize)]
struct PathBody {
    path: String,
}

async fn add_path(
    State(lib): State<Library>,
    Body(body): Body<PathBody>,
) -> ApiResult<Json<Value>> {
    let sp = lib.add_path(&body.path).await?;
    match lib.scan(&sp.path).await {
        Ok(_) | Err(Error::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Json(
        json!({"success": true, "message": "Path added successfully", "path": sp.path}),
    ))
}

async fn remove_path(State(lib): State<Library>, q: Params) -> ApiResult<Json<Value>> {
    let path = q.require("path")?;
    let removed = lib.remove_path(&path).await?;
    Ok(Json(json!({
        "success": true,
        "path_removed": true,
        "assets_deleted": removed.assets_deleted,
        "faces_deleted": removed.faces_deleted,
        "message": format!(
            "Path removed. {} assets and {} faces deleted.",
            removed.assets_deleted, removed.faces_deleted
        ),
    })))
}

async fn scan_path(State(lib): State<Library>, Body(body): Body<PathBody>) -> ApiResult<Response> {
    lib.scan(&body.path).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"success": true, "message": "Scan started for path"})),
    )
        .into_response())
}

async fn pause_path(
    State(lib): State<Library>,
    Body(body): Body<PathBody>,
) -> ApiResult<Json<Value>> {
    lib.pause(&body.path).await?;
    Ok(Json(json!({"success": true, "message": "Path paused"})))
}

async fn resume_path(
    State(lib): State<Library>,
    Body(body): Body<PathBody>,
) -> ApiResult<Json<Value>> {
    lib.resume(&body.path).await?;
    Ok(Json(json!({"success": true, "message": "Path resumed"})))
}

async fn path_status(
    State(lib): State<Library>,
    q: Params,
) -> ApiResult<Json<seen_core::PathStatus>> {
    Ok(Json(lib.path_status(&q.require("path")?).await?))
}

async fn browse(
    State(lib): State<Library>,
    q: Params,
) -> ApiResult<Json<seen_core::files::Browse>> {
    let path = q.0.get("path").cloned().unwrap_or_else(|| "/".into());
    Ok(Json(lib.browse(&path).await?))
}

async fn clear(State(lib): State<Library>) -> ApiResult<Json<Value>> {
    let (assets, faces, persons) = lib.clear().await?;
    Ok(Json(json!({
        "success": true,
        "assets_deleted": assets,
        "faces_deleted": faces,
        "persons_deleted": persons,
        "message": "All data cleared",
    })))
}

async fn albums(State(lib): State<Library>) -> ApiResult<Json<Vec<Album>>> {
    Ok(Json(lib.albums().await?))
}

async fn album(State(lib): State<Library>, Path(raw): Path<String>) -> ApiResult<Json<Album>> {
    Ok(Json(lib.album(id(&raw)?).await?))
}

#[derive(Deserialize)]
struct NewAlbum {
    name: String,
    description: Option<String>,
}

async fn create_album(
    State(lib): State<Library>,
    Body(body): Body<NewAlbum>,
) -> ApiResult<Response> {
    let album = lib
        .create_album(&body.name, body.description.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(album)).into_response())
}

#[derive(Deserialize)]
struct AlbumChange {
    name: Option<String>,
    #[serde(default, with = "serde_double_option")]
    description: Option<Option<String>>,
}

/// Tell an absent field from an explicit `null`.
mod serde_double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

async fn update_album(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    Body(body): Body<AlbumChange>,
) -> ApiResult<Json<Album>> {
    Ok(Json(
        lib.update_album(
            id(&raw)?,
            body.name.as_deref(),
            body.description.as_ref().map(|d| d.as_deref()),
        )
        .await?,
    ))
}

async fn delete_album(
    State(lib): State<Library>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    lib.delete_album(id(&raw)?).await?;
    Ok(Json(json!({"success": true})))
}

#[derive(Deserialize)]
struct AssetIds {
    asset_ids: Vec<i64>,
}

async fn add_to_album(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    Body(body): Body<AssetIds>,
) -> ApiResult<Json<Album>> {
    Ok(Json(lib.add_to_album(id(&raw)?, &body.asset_ids).await?))
}

async fn remove_from_album(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    Body(body): Body<AssetIds>,
) -> ApiResult<Json<Album>> {
    Ok(Json(
        lib.remove_from_album(id(&raw)?, &body.asset_ids).await?,
    ))
}

async fn albums_for_asset(
    State(lib): State<Library>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Vec<i64>>> {
    Ok(Json(lib.albums_for_asset(id(&raw)?).await?))
}

async fn faces_detect(State(lib): State<Library>) -> ApiResult<Response> {
    lib.faces_detect().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"status": "started", "message": "Face detection started"})),
    )
        .into_response())
}

async fn faces_stop(State(lib): State<Library>) -> ApiResult<Json<Value>> {
    lib.faces_stop().await?;
    Ok(Json(
        json!({"status": "stopped", "message": "Face detection disabled"}),
    ))
}

async fn faces_status(State(lib): State<Library>) -> ApiResult<Json<Value>> {
    Ok(Json(lib.faces_status().await?))
}

async fn faces_progress(State(lib): State<Library>) -> ApiResult<Json<Value>> {
    Ok(Json(lib.faces_progress().await?))
}

async fn face_settings(
    State(lib): State<Library>,
) -> ApiResult<Json<seen_core::store::FaceSettings>> {
    Ok(Json(lib.face_settings().await?))
}

async fn update_face_settings(
    State(lib): State<Library>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    let settings = lib.update_face_settings(&body).await?;
    Ok(Json(json!({"status": "updated", "settings": settings})))
}

async fn unassigned_faces(State(lib): State<Library>, q: Params) -> ApiResult<Json<Value>> {
    let faces = lib
        .unassigned_faces(q.get("offset")?.unwrap_or(0), q.get("limit")?.unwrap_or(60))
        .await?;
    let faces: Vec<Value> = faces
        .into_iter()
        .map(|f| {
            json!({
                "id": f.id,
                "asset_id": f.asset_id,
                "bbox": {"x1": f.bbox[0], "y1": f.bbox[1], "x2": f.bbox[2], "y2": f.bbox[3]},
                "confidence": f.confidence,
            })
        })
        .collect();
    Ok(Json(json!({ "faces": faces })))
}

async fn clear_faces(State(lib): State<Library>) -> ApiResult<Json<Value>> {
    let (faces, persons) = lib.clear_faces().await?;
    Ok(Json(json!({
        "success": true,
        "faces_deleted": faces,
        "persons_deleted": persons,
        "message": "All facial data cleared",
    })))
}

async fn face_thumb(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    q: Params,
) -> ApiResult<Response> {
    let png = lib
        .face_thumbnail(id(&raw)?, q.get("size")?.unwrap_or(160))
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=86400"),
        ],
        png,
    )
        .into_response())
}

/// The document shows `bbox` here as a JSON string of the box object.
async fn asset_faces(
    State(lib): State<Library>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let faces = lib.faces_of_asset(id(&raw)?).await?;
    Ok(Json(Value::Array(
        faces
            .into_iter()
            .map(|f| {
                let bbox =
                    json!({"x1": f.bbox[0], "y1": f.bbox[1], "x2": f.bbox[2], "y2": f.bbox[3]});
                json!({
                    "id": f.id,
                    "person_id": f.person_id,
                    "bbox": bbox.to_string(),
                    "confidence": f.confidence,
                })
            })
            .collect(),
    )))
}

async fn faces_cluster(State(lib): State<Library>, q: Params) -> ApiResult<Json<Value>> {
    let o = lib
        .faces_cluster(q.get("epsilon")?, q.get("min_samples")?)
        .await?;
    Ok(Json(json!({
        "success": true,
        "persons_created": o.persons_created,
        "faces_assigned": o.faces_assigned,
        "message": format!("Clustered {} faces into {} persons", o.faces_assigned, o.persons_created),
    })))
}

async fn faces_recluster(State(lib): State<Library>) -> ApiResult<Json<Value>> {
    let (persons, faces) = lib.faces_recluster().await?;
    Ok(Json(
        json!({"success": true, "persons": persons, "faces": faces}),
    ))
}

async fn faces_smart_merge(State(lib): State<Library>, q: Params) -> ApiResult<Json<Value>> {
    let (merged, moved, remaining) = lib
        .faces_smart_merge(q.get("threshold")?.unwrap_or(0.5))
        .await?;
    Ok(Json(json!({
        "success": true,
        "persons_merged": merged,
        "faces_merged": moved,
        "remaining_persons": remaining,
    })))
}

async fn refresh_person(
    State(lib): State<Library>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let profile = lib.refresh_person(id(&raw)?).await?;
    Ok(Json(json!({"success": true, "profile": profile})))
}

#[derive(Deserialize)]
struct Assign {
    person_id: Option<i64>,
}

async fn assign_face(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    let obj = body
        .as_object()
        .ok_or_else(|| Error::invalid("body must be a JSON object"))?;
    if !obj.contains_key("person_id") {
        return Err(Error::invalid("person_id is required (a number or null)").into());
    }
    let a: Assign =
        serde_json::from_value(body).map_err(|e| Error::invalid(format!("invalid body: {e}")))?;
    let previous = lib.assign_face(id(&raw)?, a.person_id).await?;
    Ok(Json(match a.person_id {
        Some(p) => json!({"success": true, "action": "assigned", "person_id": p}),
        None => json!({"success": true, "action": "unassigned", "previous_person_id": previous}),
    }))
}

async fn persons(State(lib): State<Library>) -> ApiResult<Json<Vec<seen_core::store::Person>>> {
    Ok(Json(lib.persons().await?))
}

async fn person(
    State(lib): State<Library>,
    Path(raw): Path<String>,
) -> ApiResult<Json<seen_core::store::Person>> {
    Ok(Json(lib.person(id(&raw)?).await?))
}

#[derive(Deserialize)]
struct Rename {
    name: String,
}

async fn rename_person(
    State(lib): State<Library>,
    Path(raw): Path<String>,
    Body(body): Body<Rename>,
) -> ApiResult<Json<Value>> {
    lib.rename_person(id(&raw)?, &body.name).await?;
    Ok(Json(json!({"success": true})))
}

async fn delete_person(
    State(lib): State<Library>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    lib.delete_person(id(&raw)?).await?;
    Ok(Json(json!({"success": true})))
}

async fn person_assets(
    State(lib): State<Library>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"asset_ids": lib.person_assets(id(&raw)?).await?}),
    ))
}

async fn person_face(
    State(lib): State<Library>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"face_id": lib.person_face(id(&raw)?).await?})))
}

#[derive(Deserialize)]
struct Merge {
    source_person_id: i64,
    target_person_id: i64,
}

async fn merge_persons(
    State(lib): State<Library>,
    Body(body): Body<Merge>,
) -> ApiResult<Json<Value>> {
    let p = lib
        .merge_persons(body.source_person_id, body.target_person_id)
        .await?;
    let profile = lib.person_profile(p.id).await?;
    Ok(Json(json!({
        "success": true,
        "merged_person": {"id": p.id, "name": p.name, "face_count": p.face_count, "centroid_dim": profile.centroid_dim},
    })))
}
