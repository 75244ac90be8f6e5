//! A server that answers garbage, 500s or an invalid schedule leaves the
//! terminal's cache exactly as it was, and check-in goes on working.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{Duration as Minutes, NaiveDate};
use hmac::{Hmac, Mac};
use protocol::terminal::{
    EnrolResponse, EventBatch, EventBatchResult, EventOutcome, EventResult, HeartbeatAck,
    JoinPolicy, Schedule, ScheduleDay, ScheduleFacility, ScheduledVisit,
};
use protocol::{TerminalRole, VisitKind, VisitStatus};
use sha2::Sha256;
use uuid::Uuid;

use crate::util::*;

const GOOD: u8 = 0;
const GARBAGE: u8 = 1;
const ERROR_500: u8 = 2;
const INVALID: u8 = 3;

fn schedule() -> Schedule {
    let key = [7u8; 32];
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(b"654321");
    Schedule {
        version: "\"v1\"".into(),
        generated_at: chicago(10, 0, 0),
        facility: ScheduleFacility {
            id: Uuid::from_u128(1),
            name: "Fake County Jail".into(),
            time_zone: "America/Chicago".into(),
            pin_length: 6,
            policies: vec![JoinPolicy {
                kind: VisitKind::Onsite,
                visitor_early_minutes: 1,
                person_early_minutes: 2,
            }],
        },
        days: vec![ScheduleDay {
            date: NaiveDate::from_ymd_opt(2026, 11, 19).unwrap(),
            pin_key: B64.encode(key),
            visits: vec![ScheduledVisit {
                id: Uuid::from_u128(9),
                kind: VisitKind::Onsite,
                start: chicago(10, 30, 0),
                end: chicago(10, 30, 0) + Minutes::hours(2),
                status: VisitStatus::Scheduled,
                person_display: "A. B.".into(),
                visitor_display: vec!["C. D.".into()],
                pin_verifier: B64.encode(mac.finalize().into_bytes()),
                person_id: None,
                visitor_checked_in: false,
                confidential: false,
            }],
        }],
        persons: vec![],
    }
}

pub(crate) async fn schedule_route(State(mode): State<Arc<AtomicU8>>) -> Response {
    match mode.load(Ordering::SeqCst) {
        GOOD => ([(header::ETAG, "\"v1\"")], Json(schedule())).into_response(),
        GARBAGE => (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"version\": 5, \"days\": [",
        )
            .into_response(),
        ERROR_500 => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        _ => {
            let mut s = schedule();
            s.version = "\"v2\"".into();
            s.days[0].pin_key = "not a key".into();
            ([(header::ETAG, "\"v2\"")], Json(s)).into_response()
        }
    }
}

async fn events_route(Json(batch): Json<EventBatch>) -> Json<EventBatchResult> {
    Json(EventBatchResult {
        results: batch
            .events
            .iter()
            .map(|e| EventResult {
                id: e.id,
                outcome: EventOutcome::Applied,
                visit_status: Some(VisitStatus::Scheduled),
            })
            .collect(),
    })
}

pub(crate) async fn heartbeat_route() -> Json<HeartbeatAck> {
    Json(HeartbeatAck {
        server_time: chicago(10, 29, 30),
    })
}

fn cached_body(data: &std::path::Path) -> String {
    let c = rusqlite::Connection::open(data.join("schedule.db")).unwrap();
    c.query_row("SELECT body FROM schedule", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn garbage_500s_and_invalid_schedules_leave_the_cache_as_it_was() {
    let mode = Arc::new(AtomicU8::new(GOOD));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/api/v1/terminal/schedule", get(schedule_route))
        .route("/api/v1/terminal/events", post(events_route))
        .route("/api/v1/terminal/heartbeat", post(heartbeat_route))
        .with_state(mode.clone());
    rt.spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    kiosk_app::identity::save(
        &data,
        &EnrolResponse {
            terminal_id: Uuid::from_u128(2),
            facility_id: Uuid::from_u128(1),
            role: TerminalRole::Lobby,
            location: "Lobby 1".into(),
            credential: "fake".into(),
        },
    )
    .unwrap();
    let cfg = kiosk_config(dir.path(), &url, "unused");
    let mut k = Kiosk::start(&cfg);
    k.expect(&["[attract] Fake County Jail 10:29"]);
    let good = cached_body(&data);

    for bad in [GARBAGE, ERROR_500, INVALID] {
        mode.store(bad, Ordering::SeqCst);
        k.expect(&["(offline)"]);
        std::thread::sleep(Duration::from_millis(600)); // a few more bad polls
        assert_eq!(cached_body(&data), good, "mode {bad} changed the cache");
        let line = k.check_in("654321");
        assert!(
            line.contains("Checked in. Waiting for A. B. to join."),
            "mode {bad}: {line}"
        );
        mode.store(GOOD, Ordering::SeqCst);
        k.send("status");
        k.expect(&["[attract] Fake County Jail"]);
        // Back online once the server behaves.
        let end = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            k.send("status");
            let line = k.expect(&["[attract]"]);
            if !line.contains("offline") {
                break;
            }
            assert!(std::time::Instant::now() < end, "never back online");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    k.quit();
}
