//! Sanctions: imposing, listing and lifting (never deleting).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::ErrorBody;
use protocol::admin::{NewSanction, Reason, Sanction};
use uuid::Uuid;

use super::{Created, Found};
use crate::api::auth::AdminAuth;
use crate::api::error::{ApiJson, ApiPath};
use crate::service::audit::Target;
use crate::service::{people, sanctions};
use crate::state::AppState;

/// A visitor's sanctions, all of them, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/visitors/{visitor_id}/sanctions", tag = "admin",
    security(("admin" = [])), params(("visitor_id" = Uuid, Path)),
    responses((status = 200, body = [Sanction]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_sanctions(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Found<Vec<Sanction>> {
    Ok(Json(
        st.run(admin.actor(), move |c, _| {
            people::get_visitor(c, id)?;
            sanctions::list(c, id)
        })
        .await?,
    ))
}

/// Sanction a visitor: 90 days for a first offense, permanent for a second.
#[utoipa::path(post, path = "/api/v1/admin/sanctions", tag = "admin", security(("admin" = [])),
    request_body = NewSanction,
    responses((status = 201, body = Sanction), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_sanction(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiJson(req): ApiJson<NewSanction>,
) -> Created<Sanction> {
    let s = st
        .run_audited_create(admin.who(), "create_sanction", move |c, ctx| {
            let s = sanctions::create(c, ctx, &req)?;
            let target = Target::Sanction(s.id);
            Ok((s, target))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// Lift a sanction early, with the reason; the visitor may book again.
/// The sanction stays on record (and counts as an offense).
#[utoipa::path(post, path = "/api/v1/admin/sanctions/{sanction_id}/lift", tag = "admin",
    security(("admin" = [])), params(("sanction_id" = Uuid, Path)), request_body = Reason,
    responses((status = 200, body = Sanction), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn lift_sanction(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<Reason>,
) -> Found<Sanction> {
    Ok(Json(
        st.run_audited(
            admin.who(),
            "lift_sanction",
            Target::Sanction(id),
            move |c, ctx| sanctions::lift(c, ctx, None, id, &req.reason),
        )
        .await?,
    ))
}
