//! Handlers of the terminal API.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::ErrorBody;
use protocol::terminal::{
    BrowserToken, EnrolRequest, EnrolResponse, EventBatch, EventBatchResult, Heartbeat,
    HeartbeatAck, Schedule,
};

use super::auth::TerminalAuth;
use super::error::{ApiError, ApiJson, ApiPath};
use crate::service::{browser_tokens, events, schedule, terminals};
use crate::state::{AppState, CachedSchedule};
use uuid::Uuid;

/// Trade a one-time enrolment code for this terminal's credential.
#[utoipa::path(post, path = "/api/v1/terminal/enrol", tag = "terminal",
    request_body = EnrolRequest,
    responses(
        (status = 200, body = EnrolResponse, description = "Enrolled; keep the credential"),
        (status = 401, body = ErrorBody, description = "`error` is `unauthorized` for a wrong or already used code, `enrolment_code_expired` for a right code past its expiry (ask the administrator for a new one)"),
        (status = 400, body = ErrorBody)))]
pub async fn enrol(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> Result<Json<EnrolResponse>, ApiError> {
    Ok(Json(
        st.run("enrolment", move |c, ctx| terminals::enrol(c, ctx, &req))
            .await?,
    ))
}

enum ScheduleAnswer {
    NotModified(String),
    Body(CachedSchedule),
}

/// Today's and tomorrow's visits for this terminal, with PIN verifiers.
/// Send the last `ETag` as `If-None-Match`: an unchanged schedule is `304`.
#[utoipa::path(get, path = "/api/v1/terminal/schedule", tag = "terminal",
    security(("terminal" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "ETag of the schedule the terminal holds")),
    responses(
        (status = 200, body = Schedule, description = "The schedule; its ETag is in the header"),
        (status = 304, description = "Unchanged since the given ETag"),
        (status = 401, body = ErrorBody)))]
pub async fn schedule(
    State(st): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let held = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let cache = st.clone();
    let answer = st
        .run(format!("terminal:{}", t.id), move |c, ctx| {
            let etag = schedule::current_etag(c, ctx, &t)?;
            if held.as_deref() == Some(etag.as_str()) {
                return Ok(ScheduleAnswer::NotModified(etag));
            }
            let key = format!("{}|{:?}|{:?}", t.facility_id, t.role, t.housing_unit_id);
            if let Some(hit) = cache.cached_schedule(&key).filter(|h| h.etag == etag) {
                return Ok(ScheduleAnswer::Body(hit));
            }
            let built = schedule::build(c, ctx, &t)?;
            let entry = CachedSchedule {
                etag: built.version.clone(),
                body: serde_json::to_vec(&built).expect("schedules serialise").into(),
            };
            cache.store_schedule(key, entry.clone());
            tracing::debug!(terminal_id = %t.id, visits = built.days.iter().map(|d| d.visits.len()).sum::<usize>(), "schedule built");
            Ok(ScheduleAnswer::Body(entry))
        })
        .await?;
    Ok(match answer {
        ScheduleAnswer::NotModified(etag) => {
            (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response()
        }
        ScheduleAnswer::Body(s) => (
            [
                (header::ETAG, s.etag),
                (header::CONTENT_TYPE, "application/json".into()),
            ],
            s.body,
        )
            .into_response(),
    })
}

/// Post events from the terminal's outbox, oldest first. Idempotent by event id.
#[utoipa::path(post, path = "/api/v1/terminal/events", tag = "terminal",
    security(("terminal" = [])),
    request_body = EventBatch,
    responses(
        (status = 200, body = EventBatchResult, description = "Every listed event is acknowledged"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn events(
    State(st): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    ApiJson(batch): ApiJson<EventBatch>,
) -> Result<Json<EventBatchResult>, ApiError> {
    let results = st
        .run(format!("terminal:{}", t.id), move |c, ctx| {
            events::apply_batch(c, ctx, &t, &batch.events)
        })
        .await?;
    Ok(Json(EventBatchResult { results }))
}

/// Report that the terminal is alive, its version and device health.
#[utoipa::path(post, path = "/api/v1/terminal/heartbeat", tag = "terminal",
    security(("terminal" = [])),
    request_body = Heartbeat,
    responses((status = 200, body = HeartbeatAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn heartbeat(
    State(st): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    ApiJson(hb): ApiJson<Heartbeat>,
) -> Result<Json<HeartbeatAck>, ApiError> {
    Ok(Json(
        st.run(format!("terminal:{}", t.id), move |c, ctx| {
            terminals::heartbeat(c, ctx, &t, &hb)
        })
        .await?,
    ))
}

/// A token that lets a browser be the person's side of one of this unit's
/// visits: the web page at `page` (as a browser-based kiosk would run it).
/// Housing-unit terminals only; valid until the visit's end, and only while
/// this terminal keeps its credential.
#[utoipa::path(post, path = "/api/v1/terminal/visits/{visit_id}/browser-token", tag = "terminal",
    security(("terminal" = [])),
    params(("visit_id" = Uuid, Path)),
    responses(
        (status = 200, body = BrowserToken, description = "The token and the page to open with it"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not this unit's visit, or not a housing-unit terminal"),
        (status = 404, body = ErrorBody, description = "No such visit"),
        (status = 422, body = ErrorBody, description = "The visit is over or was cancelled")))]
pub async fn browser_token(
    State(st): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    ApiPath(visit_id): ApiPath<Uuid>,
) -> Result<Json<BrowserToken>, ApiError> {
    Ok(Json(
        st.run(format!("terminal:{}", t.id), move |c, ctx| {
            browser_tokens::issue(c, ctx, &t, visit_id)
        })
        .await?,
    ))
}
