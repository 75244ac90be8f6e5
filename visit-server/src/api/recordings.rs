//! Visit recordings from housing-unit terminals: declare a segment, send
//! its bytes from an offset, ask how much the server holds. The rules are
//! `service::recordings`; these handlers only carry the bytes.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::ErrorBody;
use protocol::recording::{MAX_CHUNK_BYTES, SegmentMeta, SegmentStatus};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::TerminalAuth;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::service::recordings;
use crate::state::AppState;

/// Declare a closed segment before its bytes (idempotent by its id).
#[utoipa::path(post, path = "/api/v1/terminal/recordings", tag = "terminal",
    security(("terminal" = [])),
    request_body = SegmentMeta,
    responses(
        (status = 200, body = SegmentStatus, description = "Declared (or declared before): send its bytes from `received`"),
        (status = 400, body = ErrorBody, description = "Too large, a malformed SHA-256, or not Matroska"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`recording_refused`: the visit is confidential, or not this terminal's to record; drop it"),
        (status = 404, body = ErrorBody, description = "No such visit at this facility"),
        (status = 409, body = ErrorBody, description = "`segment_conflict`: this id, or this party's track and index, was declared with other contents"),
        (status = 507, body = ErrorBody, description = "`storage_full`: no room for it on the server now; keep it and try later")))]
pub async fn declare(
    State(st): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    ApiJson(meta): ApiJson<SegmentMeta>,
) -> Result<Json<SegmentStatus>, ApiError> {
    let store = st.recordings();
    Ok(Json(
        st.run(format!("terminal:{}", t.id), move |c, ctx| {
            recordings::declare(c, ctx, &store, &t, &meta)
        })
        .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Offset {
    /// Where these bytes start: the `received` the server last reported.
    offset: u64,
}

/// Send a segment's bytes from `offset` (at most 4 MiB a request). The
/// request that brings the last byte has the whole file checked against
/// its SHA-256: `complete: true` means it is stored.
#[utoipa::path(put, path = "/api/v1/terminal/recordings/{segment_id}", tag = "terminal",
    security(("terminal" = [])),
    params(("segment_id" = Uuid, Path), Offset),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, body = SegmentStatus, description = "How much the server holds; `complete` once stored"),
        (status = 400, body = ErrorBody, description = "Bytes beyond the declared size"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "Not declared by this terminal"),
        (status = 409, body = ErrorBody, description = "`segment_offset`: the server holds another number of bytes; ask (GET) and send from there"),
        (status = 413, body = ErrorBody, description = "More than 4 MiB in one request"),
        (status = 422, body = ErrorBody, description = "`segment_hash_mismatch`: the bytes were dropped; send them again from 0")))]
pub async fn put_bytes(
    State(st): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<Offset>,
    body: Body,
) -> Result<Json<SegmentStatus>, ApiError> {
    // Read with this route's own limit: the router's default is for JSON.
    let bytes = axum::body::to_bytes(body, MAX_CHUNK_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("send at most {MAX_CHUNK_BYTES} bytes of a segment per request"),
            )
        })?;
    let store = st.recordings();
    Ok(Json(
        st.run(format!("terminal:{}", t.id), move |c, ctx| {
            recordings::put_chunk(c, ctx, &store, &t, id, q.offset, &bytes)
        })
        .await?,
    ))
}

/// How much of a segment the server holds.
#[utoipa::path(get, path = "/api/v1/terminal/recordings/{segment_id}", tag = "terminal",
    security(("terminal" = [])),
    params(("segment_id" = Uuid, Path)),
    responses(
        (status = 200, body = SegmentStatus),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "Not declared by this terminal")))]
pub async fn get_status(
    State(st): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<SegmentStatus>, ApiError> {
    Ok(Json(
        st.run(format!("terminal:{}", t.id), move |c, _| {
            recordings::status(c, t.id, id)
        })
        .await?,
    ))
}
