//! Sign-in photos: posted by housing-unit terminals, fetched by staff.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use protocol::ErrorBody;
use protocol::terminal::{SignInPhoto, SignInPhotoResult};
use uuid::Uuid;

use super::auth::{AdminAuth, TerminalAuth};
use super::error::{ApiError, ApiJson, ApiPath};
use crate::service::photos;
use crate::state::AppState;

/// Post the still taken at a person's sign-in (from the terminal's queue;
/// idempotent by photo id). It is attached to the person's visits of the day.
#[utoipa::path(post, path = "/api/v1/terminal/photos", tag = "terminal",
    security(("terminal" = [])),
    request_body = SignInPhoto,
    responses(
        (status = 200, body = SignInPhotoResult, description = "Stored (or stored before)"),
        (status = 400, body = ErrorBody, description = "Not a JPEG, or too large"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not a unit terminal of the person's housing unit"),
        (status = 404, body = ErrorBody, description = "No such person at this facility")))]
pub async fn post_photo(
    State(st): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    ApiJson(photo): ApiJson<SignInPhoto>,
) -> Result<Json<SignInPhotoResult>, ApiError> {
    Ok(Json(
        st.run(format!("terminal:{}", t.id), move |c, ctx| {
            photos::store(c, ctx, &t, &photo)
        })
        .await?,
    ))
}

/// A sign-in photo as JPEG, by the id its visit's history names.
#[utoipa::path(get, path = "/api/v1/admin/photos/{photo_id}", tag = "admin",
    security(("admin" = [])), params(("photo_id" = Uuid, Path)),
    responses(
        (status = 200, content_type = "image/jpeg", description = "The photo"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_photo(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let jpeg = st
        .run(admin.actor(), move |c, _| photos::get(c, id))
        .await?;
    tracing::info!(photo_id = %id, actor = admin.actor(), "sign-in photo viewed");
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jpeg,
    )
        .into_response())
}
