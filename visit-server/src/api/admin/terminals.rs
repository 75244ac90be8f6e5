//! Terminals (registration, listing with their health, enrolment codes,
//! revocation) and admin tokens (listing, revocation).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::ErrorBody;
use protocol::admin::{AdminToken, EnrolmentCode, NewTerminal, Terminal};
use uuid::Uuid;

use super::{Created, Found, PageQuery};
use crate::api::auth::AdminAuth;
use crate::api::error::{ApiJson, ApiPath, ApiQuery};
use crate::service::audit::Target;
use crate::service::{admin_tokens, terminals};
use crate::state::AppState;

/// Register a terminal; the answer holds its one-time enrolment code.
#[utoipa::path(post, path = "/api/v1/admin/facilities/{facility_id}/terminals", tag = "admin",
    security(("admin" = [])), params(("facility_id" = Uuid, Path)), request_body = NewTerminal,
    responses((status = 201, body = EnrolmentCode), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_terminal(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<NewTerminal>,
) -> Created<EnrolmentCode> {
    let code = st
        .run_audited_create(admin.who(), "create_terminal", move |c, ctx| {
            let code = terminals::create(c, ctx, id, &req)?;
            let target = Target::Terminal(code.terminal.id);
            Ok((code, target))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(code)))
}

/// A facility's terminals by location, each with whether it is online
/// (a heartbeat in the last 2 minutes), its last heartbeat, software,
/// devices, outbox backlog and revocation.
#[utoipa::path(get, path = "/api/v1/admin/facilities/{facility_id}/terminals", tag = "admin",
    security(("admin" = [])), params(("facility_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = [Terminal]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_terminals(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Found<Vec<Terminal>> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            terminals::list(c, ctx, None, id, q.page())
        })
        .await?,
    ))
}

/// A terminal, with its last heartbeat.
#[utoipa::path(get, path = "/api/v1/admin/terminals/{terminal_id}", tag = "admin", security(("admin" = [])),
    params(("terminal_id" = Uuid, Path)),
    responses((status = 200, body = Terminal), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_terminal(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Found<Terminal> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| terminals::get(c, id, ctx.now))
            .await?,
    ))
}

/// A new one-time enrolment code for a terminal (replacement device,
/// re-imaging). A revoked terminal comes back only once it enrols with it.
#[utoipa::path(post, path = "/api/v1/admin/terminals/{terminal_id}/enrolment-code", tag = "admin",
    security(("admin" = [])), params(("terminal_id" = Uuid, Path)),
    responses((status = 201, body = EnrolmentCode), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn new_enrolment_code(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Created<EnrolmentCode> {
    let target = Target::Terminal(id);
    let code = st
        .run_audited(admin.who(), "new_enrolment_code", target, move |c, ctx| {
            terminals::new_enrolment_code(c, ctx, id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(code)))
}

/// Revoke a terminal: its next call and signalling connection are refused
/// (401, saying it was revoked) until it enrols again with a new code.
#[utoipa::path(post, path = "/api/v1/admin/terminals/{terminal_id}/revoke", tag = "admin",
    security(("admin" = [])), params(("terminal_id" = Uuid, Path)),
    responses((status = 200, body = Terminal), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke_terminal(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Found<Terminal> {
    Ok(Json(
        st.run_audited(
            admin.who(),
            "revoke_terminal",
            Target::Terminal(id),
            move |c, ctx| terminals::revoke(c, ctx, None, id),
        )
        .await?,
    ))
}

/// Every admin token by holder's name: id, name and dates, never a secret.
#[utoipa::path(get, path = "/api/v1/admin/admin-tokens", tag = "admin", security(("admin" = [])),
    params(PageQuery),
    responses((status = 200, body = [AdminToken]), (status = 400, body = ErrorBody)))]
pub async fn list_admin_tokens(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Found<Vec<AdminToken>> {
    Ok(Json(
        st.run(admin.actor(), move |c, _| admin_tokens::list(c, q.page()))
            .await?,
    ))
}

/// Revoke an admin token; it is refused from its next call on.
#[utoipa::path(post, path = "/api/v1/admin/admin-tokens/{token_id}/revoke", tag = "admin",
    security(("admin" = [])), params(("token_id" = Uuid, Path)),
    responses((status = 200, body = AdminToken), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke_admin_token(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Found<AdminToken> {
    let target = Target::AdminToken(id);
    Ok(Json(
        st.run_audited(admin.who(), "revoke_admin_token", target, move |c, ctx| {
            admin_tokens::revoke(c, ctx, id)
        })
        .await?,
    ))
}
