//! Visitors: registration, search, edits, the photo-ID check and its
//! queue, their visits and the persons they may visit.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::ErrorBody;
use protocol::admin::{NewVisitor, Person, PhotoIdCheck, Reason, Visit, Visitor, VisitorUpdate};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{Created, Found, PageQuery};
use crate::api::auth::AdminAuth;
use crate::api::error::{ApiJson, ApiPath, ApiQuery};
use crate::service::audit::Target;
use crate::service::{Page, directory, people, records};
use crate::state::AppState;

/// Register a visitor.
#[utoipa::path(post, path = "/api/v1/admin/visitors", tag = "admin", security(("admin" = [])),
    request_body = NewVisitor,
    responses((status = 201, body = Visitor), (status = 400, body = ErrorBody)))]
pub async fn create_visitor(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiJson(req): ApiJson<NewVisitor>,
) -> Created<Visitor> {
    let v = st
        .run_audited_create(admin.who(), "create_visitor", move |c, ctx| {
            let v = people::create_visitor(c, ctx, &req)?;
            let target = Target::Visitor(v.id);
            Ok((v, target))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// A visitor search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitorQuery {
    /// Text the name or e-mail contains, in any case; absent for everyone.
    pub q: Option<String>,
    /// Only visitors with an approval, a request or a visit at this facility.
    pub facility_id: Option<Uuid>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
    /// Skip this many first.
    pub offset: Option<u32>,
}

/// Visitors whose name or e-mail contains `q`, by name.
#[utoipa::path(get, path = "/api/v1/admin/visitors", tag = "admin", security(("admin" = [])),
    params(VisitorQuery),
    responses((status = 200, body = [Visitor]), (status = 400, body = ErrorBody)))]
pub async fn list_visitors(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiQuery(q): ApiQuery<VisitorQuery>,
) -> Found<Vec<Visitor>> {
    let text = q.q.unwrap_or_default();
    let page = Page::new(q.limit, q.offset);
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            directory::search_visitors(c, ctx, q.facility_id, &text, page)
        })
        .await?,
    ))
}

/// A visitor.
#[utoipa::path(get, path = "/api/v1/admin/visitors/{visitor_id}", tag = "admin", security(("admin" = [])),
    params(("visitor_id" = Uuid, Path)),
    responses((status = 200, body = Visitor), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_visitor(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Found<Visitor> {
    Ok(Json(
        st.run(admin.actor(), move |c, _| people::get_visitor(c, id))
            .await?,
    ))
}

/// Change a visitor's name, e-mail or date of birth.
#[utoipa::path(patch, path = "/api/v1/admin/visitors/{visitor_id}", tag = "admin", security(("admin" = [])),
    params(("visitor_id" = Uuid, Path)), request_body = VisitorUpdate,
    responses((status = 200, body = Visitor), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_visitor(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<VisitorUpdate>,
) -> Found<Visitor> {
    Ok(Json(
        st.run_audited(
            admin.who(),
            "update_visitor",
            Target::Visitor(id),
            move |c, ctx| records::update_visitor(c, ctx, None, id, &req),
        )
        .await?,
    ))
}

/// Record the result of a visitor's photo and ID check.
#[utoipa::path(post, path = "/api/v1/admin/visitors/{visitor_id}/photo-id", tag = "admin",
    security(("admin" = [])), params(("visitor_id" = Uuid, Path)), request_body = PhotoIdCheck,
    responses((status = 200, body = Visitor), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_photo_id(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<PhotoIdCheck>,
) -> Found<Visitor> {
    Ok(Json(
        st.run_audited(
            admin.who(),
            "set_photo_id",
            Target::Visitor(id),
            move |c, ctx| people::set_photo_id(c, ctx, id, &req),
        )
        .await?,
    ))
}

/// Refuse a visitor's photo ID; the visitor is sent the reason.
#[utoipa::path(post, path = "/api/v1/admin/visitors/{visitor_id}/photo-id/deny", tag = "admin",
    security(("admin" = [])), params(("visitor_id" = Uuid, Path)), request_body = Reason,
    responses((status = 200, body = Visitor), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deny_photo_id(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<Reason>,
) -> Found<Visitor> {
    Ok(Json(
        st.run_audited(
            admin.who(),
            "deny_photo_id",
            Target::Visitor(id),
            move |c, ctx| records::deny_photo_id(c, ctx, None, id, &req.reason),
        )
        .await?,
    ))
}

/// Visitors waiting for their photo-ID check (neither verified nor refused),
/// oldest first.
#[utoipa::path(get, path = "/api/v1/admin/photo-id-queue", tag = "admin", security(("admin" = [])),
    params(PageQuery),
    responses((status = 200, body = [Visitor]), (status = 400, body = ErrorBody)))]
pub async fn photo_id_queue(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Found<Vec<Visitor>> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            directory::photo_id_queue(c, ctx, None, q.page())
        })
        .await?,
    ))
}

/// A visitor's visits, newest first.
#[utoipa::path(get, path = "/api/v1/admin/visitors/{visitor_id}/visits", tag = "admin",
    security(("admin" = [])), params(("visitor_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = [Visit]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn visitor_visits(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Found<Vec<Visit>> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            directory::visitor_visits(c, ctx, None, id, q.page())
        })
        .await?,
    ))
}

/// The persons a visitor is approved to visit, by name.
#[utoipa::path(get, path = "/api/v1/admin/visitors/{visitor_id}/approved-persons", tag = "admin",
    security(("admin" = [])), params(("visitor_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = [Person]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn approved_persons(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Found<Vec<Person>> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            directory::approved_persons(c, ctx, None, id, q.page())
        })
        .await?,
    ))
}
