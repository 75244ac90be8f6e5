//! Visits: booking, the record, cancelling, terminating, rescheduling.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::ErrorBody;
use protocol::admin::{
    BookedVisit, CancelVisit, NewVisit, Reschedule, TerminateVisit, Visit, VisitRecord,
};
use uuid::Uuid;

use super::{Created, Found};
use crate::api::auth::AdminAuth;
use crate::api::error::{ApiJson, ApiPath};
use crate::service::audit::Target;
use crate::service::{reschedule, visits};
use crate::state::AppState;

/// Book a visit. Every facility rule applies; the answer holds the PIN, once.
#[utoipa::path(post, path = "/api/v1/admin/visits", tag = "admin", security(("admin" = [])),
    request_body = NewVisit,
    responses(
        (status = 201, body = BookedVisit),
        (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A rule refused the booking; `error` says which"),
        (status = 404, body = ErrorBody)))]
pub async fn book_visit(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiJson(req): ApiJson<NewVisit>,
) -> Created<BookedVisit> {
    let b = st
        .run_audited_create(admin.who(), "book_visit", move |c, ctx| {
            let b = visits::book(c, ctx, &req)?;
            let target = Target::Visit(b.visit.id);
            Ok((b, target))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(b)))
}

/// A visit and its full history.
#[utoipa::path(get, path = "/api/v1/admin/visits/{visit_id}", tag = "admin", security(("admin" = [])),
    params(("visit_id" = Uuid, Path)),
    responses((status = 200, body = VisitRecord), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_visit(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Found<VisitRecord> {
    Ok(Json(
        st.run(admin.actor(), move |c, _| visits::record_of(c, id))
            .await?,
    ))
}

/// Cancel a visit, by the visitor (credit only 48 h ahead) or the facility (never charged).
#[utoipa::path(post, path = "/api/v1/admin/visits/{visit_id}/cancel", tag = "admin",
    security(("admin" = [])), params(("visit_id" = Uuid, Path)), request_body = CancelVisit,
    responses((status = 200, body = Visit), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel_visit(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<CancelVisit>,
) -> Found<Visit> {
    let visit = st
        .run_audited(
            admin.who(),
            "cancel_visit",
            Target::Visit(id),
            move |c, ctx| visits::cancel(c, ctx, id, &req),
        )
        .await?;
    // Sockets waiting for this call learn it will not happen.
    st.rooms().broadcast(
        id,
        &protocol::signal::ServerMessage::Status {
            status: visit.status,
        },
    );
    Ok(Json(visit))
}

/// End a visit for a rule violation, with the reason both sides will see.
#[utoipa::path(post, path = "/api/v1/admin/visits/{visit_id}/terminate", tag = "admin",
    security(("admin" = [])), params(("visit_id" = Uuid, Path)), request_body = TerminateVisit,
    responses((status = 200, body = Visit), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn terminate_visit(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<TerminateVisit>,
) -> Found<Visit> {
    let reason = req.reason.trim().to_string();
    let visit = st
        .run_audited(
            admin.who(),
            "terminate_visit",
            Target::Visit(id),
            move |c, ctx| visits::terminate(c, ctx, id, &req),
        )
        .await?;
    // Both sides of a call under way are told at once, with the reason.
    st.rooms()
        .end(id, protocol::signal::EndReason::Terminated { reason });
    Ok(Json(visit))
}

/// Move a scheduled visit to a new start under the booking's rules. The
/// visitors are sent a new PIN and join links (shown once here too).
#[utoipa::path(post, path = "/api/v1/admin/visits/{visit_id}/reschedule", tag = "admin",
    security(("admin" = [])), params(("visit_id" = Uuid, Path)), request_body = Reschedule,
    responses(
        (status = 200, body = BookedVisit),
        (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A rule refused the new time; `error` says which"),
        (status = 404, body = ErrorBody)))]
pub async fn reschedule_visit(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<Reschedule>,
) -> Found<BookedVisit> {
    Ok(Json(
        st.run_audited(
            admin.who(),
            "reschedule_visit",
            Target::Visit(id),
            move |c, ctx| reschedule::reschedule(c, ctx, None, id, &req),
        )
        .await?,
    ))
}
