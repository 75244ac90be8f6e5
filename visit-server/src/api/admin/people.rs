//! Incarcerated persons: registration, search, edits, their visits and
//! their approved visitors.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::ErrorBody;
use protocol::admin::{NewPerson, Person, PersonUpdate, Visit, Visitor};
use uuid::Uuid;

use super::{Created, Found, PageQuery, SearchQuery};
use crate::api::auth::AdminAuth;
use crate::api::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::service::audit::Target;
use crate::service::{directory, people, records};
use crate::state::AppState;

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
        .run_audited_create(admin.who(), "create_person", move |c, ctx| {
            let p = people::create_person(c, ctx, id, &req)?;
            let target = Target::Person(p.id);
            Ok((p, target))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// A facility's persons whose name or number contains `q`, by name.
#[utoipa::path(get, path = "/api/v1/admin/facilities/{facility_id}/persons", tag = "admin",
    security(("admin" = [])), params(("facility_id" = Uuid, Path), SearchQuery),
    responses((status = 200, body = [Person]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_persons(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Found<Vec<Person>> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            directory::search_persons(c, ctx, None, id, &q.text(), q.page())
        })
        .await?,
    ))
}

/// An incarcerated person.
#[utoipa::path(get, path = "/api/v1/admin/persons/{person_id}", tag = "admin", security(("admin" = [])),
    params(("person_id" = Uuid, Path)),
    responses((status = 200, body = Person), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
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

/// Change a person's name, housing unit or restrictions.
#[utoipa::path(patch, path = "/api/v1/admin/persons/{person_id}", tag = "admin", security(("admin" = [])),
    params(("person_id" = Uuid, Path)), request_body = PersonUpdate,
    responses((status = 200, body = Person), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_person(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<PersonUpdate>,
) -> Found<Person> {
    Ok(Json(
        st.run_audited(
            admin.who(),
            "update_person",
            Target::Person(id),
            move |c, ctx| records::update_person(c, ctx, None, id, &req),
        )
        .await?,
    ))
}

/// A person's visits, newest first.
#[utoipa::path(get, path = "/api/v1/admin/persons/{person_id}/visits", tag = "admin",
    security(("admin" = [])), params(("person_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = [Visit]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn person_visits(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Found<Vec<Visit>> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            directory::person_visits(c, ctx, None, id, q.page())
        })
        .await?,
    ))
}

/// A person's approved visitors, by name.
#[utoipa::path(get, path = "/api/v1/admin/persons/{person_id}/approved-visitors", tag = "admin",
    security(("admin" = [])), params(("person_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = [Visitor]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn approved_visitors(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Found<Vec<Visitor>> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            directory::approved_visitors(c, ctx, None, id, q.page())
        })
        .await?,
    ))
}

/// Take a visitor off a person's approved list.
#[utoipa::path(delete, path = "/api/v1/admin/persons/{person_id}/approved-visitors/{visitor_id}",
    tag = "admin", security(("admin" = [])),
    params(("person_id" = Uuid, Path), ("visitor_id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_approval(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath((person, visitor)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    let target = Target::Approval { person, visitor };
    st.run_audited(admin.who(), "remove_approval", target, move |c, ctx| {
        records::remove_approval(c, ctx, None, person, visitor)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
