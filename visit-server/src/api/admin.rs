//! Handlers of the administrator API. Each is a thin wrapper over one
//! service call, run as `admin:<token name>` so the history says who acted.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use protocol::ErrorBody;
use protocol::admin::{
    Approval, BookedVisit, CancelVisit, EnrolmentCode, Facility, HousingUnit, NewApproval,
    NewFacility, NewHousingUnit, NewPerson, NewSanction, NewTerminal, NewVisit, NewVisitor,
    OutboxMessage, Person, PhotoIdCheck, Sanction, Terminal, TerminateVisit, Visit, VisitRecord,
    Visitor,
};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::auth::AdminAuth;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::service::{facilities, outbox, people, sanctions, terminals, visits};
use crate::state::AppState;

type Created<T> = Result<(StatusCode, Json<T>), ApiError>;
type Found<T> = Result<Json<T>, ApiError>;

/// Register a facility with its rules (defaults: the seed policies).
#[utoipa::path(post, path = "/api/v1/admin/facilities", tag = "admin", security(("admin" = [])),
    request_body = NewFacility,
    responses((status = 201, body = Facility), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn create_facility(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiJson(req): ApiJson<NewFacility>,
) -> Created<Facility> {
    let f = st
        .run(admin.actor(), move |c, ctx| {
            facilities::create(c, ctx, &req)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(f)))
}

/// A facility and its rules.
#[utoipa::path(get, path = "/api/v1/admin/facilities/{facility_id}", tag = "admin", security(("admin" = [])),
    params(("facility_id" = Uuid, Path)),
    responses((status = 200, body = Facility), (status = 404, body = ErrorBody)))]
pub async fn get_facility(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Found<Facility> {
    let f = st
        .run(admin.actor(), move |c, _| facilities::get(c, id))
        .await?;
    Ok(Json(f.to_wire()))
}

/// Add a housing unit to a facility.
#[utoipa::path(post, path = "/api/v1/admin/facilities/{facility_id}/housing-units", tag = "admin",
    security(("admin" = [])), params(("facility_id" = Uuid, Path)), request_body = NewHousingUnit,
    responses((status = 201, body = HousingUnit), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_housing_unit(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<NewHousingUnit>,
) -> Created<HousingUnit> {
    let u = st
        .run(admin.actor(), move |c, ctx| {
            facilities::create_housing_unit(c, ctx, id, &req)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(u)))
}

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
        .run(admin.actor(), move |c, ctx| {
            terminals::create(c, ctx, id, &req)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(code)))
}

/// A terminal, with its last heartbeat.
#[utoipa::path(get, path = "/api/v1/admin/terminals/{terminal_id}", tag = "admin", security(("admin" = [])),
    params(("terminal_id" = Uuid, Path)),
    responses((status = 200, body = Terminal), (status = 404, body = ErrorBody)))]
pub async fn get_terminal(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Found<Terminal> {
    Ok(Json(
        st.run(admin.actor(), move |c, _| terminals::get(c, id))
            .await?,
    ))
}

/// A new one-time enrolment code for a terminal (replacement device, re-imaging).
#[utoipa::path(post, path = "/api/v1/admin/terminals/{terminal_id}/enrolment-code", tag = "admin",
    security(("admin" = [])), params(("terminal_id" = Uuid, Path)),
    responses((status = 201, body = EnrolmentCode), (status = 404, body = ErrorBody)))]
pub async fn new_enrolment_code(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Created<EnrolmentCode> {
    let code = st
        .run(admin.actor(), move |c, ctx| {
            terminals::new_enrolment_code(c, ctx, id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(code)))
}

/// Register an incarcerated person.
#[utoipa::path(post, path = "/api/v1/admin/facilities/{facility_id}/persons", tag = "admin",
    security(("admin" = [])), params(("facility_id" = Uuid, Path)), request_body = NewPerson,
    responses((status = 201, body = Person), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_person(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<NewPerson>,
) -> Created<Person> {
    let p = st
        .run(admin.actor(), move |c, ctx| {
            people::create_person(c, ctx, id, &req)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// An incarcerated person.
#[utoipa::path(get, path = "/api/v1/admin/persons/{person_id}", tag = "admin", security(("admin" = [])),
    params(("person_id" = Uuid, Path)),
    responses((status = 200, body = Person), (status = 404, body = ErrorBody)))]
pub async fn get_person(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Found<Person> {
    Ok(Json(
        st.run(admin.actor(), move |c, _| people::get_person(c, id))
            .await?,
    ))
}

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
        .run(admin.actor(), move |c, ctx| {
            people::create_visitor(c, ctx, &req)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// A visitor.
#[utoipa::path(get, path = "/api/v1/admin/visitors/{visitor_id}", tag = "admin", security(("admin" = [])),
    params(("visitor_id" = Uuid, Path)),
    responses((status = 200, body = Visitor), (status = 404, body = ErrorBody)))]
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

/// Record the result of a visitor's photo and ID check.
#[utoipa::path(post, path = "/api/v1/admin/visitors/{visitor_id}/photo-id", tag = "admin",
    security(("admin" = [])), params(("visitor_id" = Uuid, Path)), request_body = PhotoIdCheck,
    responses((status = 200, body = Visitor), (status = 404, body = ErrorBody)))]
pub async fn set_photo_id(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<PhotoIdCheck>,
) -> Found<Visitor> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            people::set_photo_id(c, ctx, id, &req)
        })
        .await?,
    ))
}

/// A visitor's sanctions, all of them, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/visitors/{visitor_id}/sanctions", tag = "admin",
    security(("admin" = [])), params(("visitor_id" = Uuid, Path)),
    responses((status = 200, body = [Sanction]), (status = 404, body = ErrorBody)))]
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

/// Put a visitor on a person's approved-visitor list.
#[utoipa::path(post, path = "/api/v1/admin/approvals", tag = "admin", security(("admin" = [])),
    request_body = NewApproval,
    responses((status = 201, body = Approval), (status = 404, body = ErrorBody)))]
pub async fn create_approval(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiJson(req): ApiJson<NewApproval>,
) -> Created<Approval> {
    let a = st
        .run(admin.actor(), move |c, ctx| people::approve(c, ctx, &req))
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// Book a visit. Every facility rule applies; the answer holds the PIN, once.
#[utoipa::path(post, path = "/api/v1/admin/visits", tag = "admin", security(("admin" = [])),
    request_body = NewVisit,
    responses(
        (status = 201, body = BookedVisit),
        (status = 422, body = ErrorBody, description = "A rule refused the booking; `error` says which"),
        (status = 404, body = ErrorBody)))]
pub async fn book_visit(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiJson(req): ApiJson<NewVisit>,
) -> Created<BookedVisit> {
    let b = st
        .run(admin.actor(), move |c, ctx| visits::book(c, ctx, &req))
        .await?;
    Ok((StatusCode::CREATED, Json(b)))
}

/// A facility-local day.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DayQuery {
    /// `YYYY-MM-DD` in the facility's time zone.
    pub date: NaiveDate,
}

/// A facility's visits on one local day.
#[utoipa::path(get, path = "/api/v1/admin/facilities/{facility_id}/visits", tag = "admin",
    security(("admin" = [])), params(("facility_id" = Uuid, Path), DayQuery),
    responses((status = 200, body = [Visit]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_visits(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Found<Vec<Visit>> {
    Ok(Json(
        st.run(admin.actor(), move |c, _| visits::list_day(c, id, q.date))
            .await?,
    ))
}

/// A visit and its full history.
#[utoipa::path(get, path = "/api/v1/admin/visits/{visit_id}", tag = "admin", security(("admin" = [])),
    params(("visit_id" = Uuid, Path)),
    responses((status = 200, body = VisitRecord), (status = 404, body = ErrorBody)))]
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
    responses((status = 200, body = Visit), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel_visit(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<CancelVisit>,
) -> Found<Visit> {
    let visit = st
        .run(admin.actor(), move |c, ctx| {
            visits::cancel(c, ctx, id, &req)
        })
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
    responses((status = 200, body = Visit), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn terminate_visit(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<TerminateVisit>,
) -> Found<Visit> {
    let reason = req.reason.trim().to_string();
    let visit = st
        .run(admin.actor(), move |c, ctx| {
            visits::terminate(c, ctx, id, &req)
        })
        .await?;
    // Both sides of a call under way are told at once, with the reason.
    st.rooms()
        .end(id, protocol::signal::EndReason::Terminated { reason });
    Ok(Json(visit))
}

/// Sanction a visitor: 90 days for a first offense, permanent for a second.
#[utoipa::path(post, path = "/api/v1/admin/sanctions", tag = "admin", security(("admin" = [])),
    request_body = NewSanction,
    responses((status = 201, body = Sanction), (status = 404, body = ErrorBody)))]
pub async fn create_sanction(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiJson(req): ApiJson<NewSanction>,
) -> Created<Sanction> {
    let s = st
        .run(admin.actor(), move |c, ctx| sanctions::create(c, ctx, &req))
        .await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// How many outbox messages to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct OutboxQuery {
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// Messages to visitors, newest first. PINs are never shown.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "admin", security(("admin" = [])),
    params(OutboxQuery),
    responses((status = 200, body = [OutboxMessage]), (status = 401, body = ErrorBody)))]
pub async fn list_outbox(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Found<Vec<OutboxMessage>> {
    let limit = q.limit.unwrap_or(100).min(1000);
    Ok(Json(
        st.run(admin.actor(), move |c, _| outbox::list(c, limit))
            .await?,
    ))
}
