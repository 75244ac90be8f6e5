//! Facilities: creation, settings, housing units, the day's visits and the
//! free slots.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use protocol::admin::{
    Facility, FacilityUpdate, FreeSlot, HousingUnit, NewFacility, NewHousingUnit, Visit,
};
use protocol::{ErrorBody, VisitKind};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{Created, Found, SearchQuery};
use crate::api::auth::AdminAuth;
use crate::api::error::{ApiJson, ApiPath, ApiQuery};
use crate::service::audit::Target;
use crate::service::{directory, facilities, slots, visits};
use crate::state::AppState;

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
        .run_audited_create(admin.who(), "create_facility", move |c, ctx| {
            let f = facilities::create(c, ctx, &req)?;
            let target = Target::Facility(f.id);
            Ok((f, target))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(f)))
}

/// Facilities whose name contains `q`, by name.
#[utoipa::path(get, path = "/api/v1/admin/facilities", tag = "admin", security(("admin" = [])),
    params(SearchQuery),
    responses((status = 200, body = [Facility]), (status = 400, body = ErrorBody)))]
pub async fn list_facilities(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Found<Vec<Facility>> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            directory::search_facilities(c, ctx, None, &q.text(), q.page())
        })
        .await?,
    ))
}

/// A facility and its rules.
#[utoipa::path(get, path = "/api/v1/admin/facilities/{facility_id}", tag = "admin", security(("admin" = [])),
    params(("facility_id" = Uuid, Path)),
    responses((status = 200, body = Facility), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
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

/// Change a facility's settings (rules, limits, ICE servers, languages,
/// second factor); new bookings follow them.
#[utoipa::path(patch, path = "/api/v1/admin/facilities/{facility_id}", tag = "admin", security(("admin" = [])),
    params(("facility_id" = Uuid, Path)), request_body = FacilityUpdate,
    responses((status = 200, body = Facility), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_facility(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<FacilityUpdate>,
) -> Found<Facility> {
    let target = Target::Facility(id);
    Ok(Json(
        st.run_audited(admin.who(), "update_facility", target, move |c, ctx| {
            facilities::update(c, ctx, None, id, &req)
        })
        .await?,
    ))
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
    let target = Target::Facility(id);
    let u = st
        .run_audited(admin.who(), "create_housing_unit", target, move |c, ctx| {
            facilities::create_housing_unit(c, ctx, id, &req)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(u)))
}

/// A facility-local day.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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

/// Which free slots.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FreeSlotsQuery {
    /// `YYYY-MM-DD` in the facility's time zone.
    pub date: NaiveDate,
    /// `onsite` or `remote`.
    pub kind: VisitKind,
    /// The incarcerated person, whose own visits then take slots away.
    pub person_id: Option<Uuid>,
}

/// The start times a booking would accept on a day, under the booking's
/// own rules (hours, blocks, advance window, the person free, a free lobby
/// terminal on site). The visitors' eligibility is checked when booking.
#[utoipa::path(get, path = "/api/v1/admin/facilities/{facility_id}/free-slots", tag = "admin",
    security(("admin" = [])), params(("facility_id" = Uuid, Path), FreeSlotsQuery),
    responses((status = 200, body = [FreeSlot]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn free_slots(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<FreeSlotsQuery>,
) -> Found<Vec<FreeSlot>> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            slots::free_slots(c, ctx, None, id, q.date, q.kind, q.person_id)
        })
        .await?,
    ))
}
