//! The terminal API: enrolment, the cached schedule, events, heartbeats.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::Duration;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::util::*;

#[tokio::test]
async fn an_enrolment_code_works_once_and_expires() {
    let s = TestServer::start().await;
    let f = s.facility(2).await;
    let credential = s.enrol(&f.lobbies[0].1).await;
    // The credential is kept only as a keyed hash.
    let stored: String = s
        .sql()
        .query_row(
            "SELECT credential_hash FROM terminals WHERE id = ?1",
            [f.lobbies[0].0.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_ne!(stored, credential);

    let enrol = |code: String| {
        let s = &s;
        async move {
            s.send(
                Method::POST,
                "/api/v1/terminal/enrol",
                None,
                Some(&json!({"code": code, "software_version": "t"})),
            )
            .await
        }
    };
    let (st, body) = enrol(f.lobbies[0].1.clone()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "used twice: {body}");
    let (st, body) = enrol("1234-5678-9012".into()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized", "a wrong code: {body}");

    s.clock.advance(Duration::hours(72));
    let (st, body) = enrol(f.lobbies[1].1.clone()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    assert_eq!(
        body["error"],
        protocol::error::codes::ENROLMENT_CODE_EXPIRED,
        "an expired code is told apart from a wrong one: {body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("administrator"),
        "{body}"
    );
    // A fresh code for the same terminal works; typed with spaces instead of dashes.
    let t = s
        .create(
            &format!("/api/v1/admin/terminals/{}/enrolment-code", f.lobbies[1].0),
            json!({}),
        )
        .await;
    let typed = t["code"].as_str().unwrap().replace('-', " ");
    let (st, body) = enrol(typed).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "lobby");
    assert_eq!(body["facility_id"], json!(f.id));
    s.stop().await;
}

struct Day {
    f: Facility,
    james_onsite: (Uuid, String),
    james_remote: (Uuid, String),
    david_onsite_tomorrow: (Uuid, String),
    lobby: String,
    unit_a: String,
}

/// Visits on Thursday and Friday, then the clock moved to Thursday 07:00.
async fn a_day(s: &TestServer) -> Day {
    let f = s.facility(2).await;
    let james = s
        .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
        .await;
    let david = s
        .person(&f, "B-2002", "David Brown", f.unit_b, json!([]))
        .await;
    let maria = s.approved_adult(james, "Maria Smith").await;
    let jen = s.approved_adult(david, "Jennifer Brown").await;
    let james_onsite = s
        .book_ok(james, &[maria], "onsite", local(2026, 11, 19, 10, 0))
        .await;
    let james_remote = s
        .book_ok(james, &[maria], "remote", local(2026, 11, 19, 14, 0))
        .await;
    let david_onsite_tomorrow = s
        .book_ok(david, &[jen], "onsite", local(2026, 11, 20, 8, 0))
        .await;
    s.book_ok(david, &[jen], "remote", local(2026, 11, 25, 8, 0))
        .await; // next week: not in the schedule
    let lobby = s.enrol(&f.lobbies[0].1).await;
    let unit_a = s.enrol(&f.unit_a_terminal.1).await;
    s.clock.set(local(2026, 11, 19, 7, 0));
    Day {
        f,
        james_onsite,
        james_remote,
        david_onsite_tomorrow,
        lobby,
        unit_a,
    }
}

async fn get_schedule(
    s: &TestServer,
    credential: &str,
    etag: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = s
        .http
        .get(format!("{}/api/v1/terminal/schedule", s.base))
        .bearer_auth(credential);
    if let Some(e) = etag {
        req = req.header(header::IF_NONE_MATCH, e);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let etag = res
        .headers()
        .get(header::ETAG)
        .map(|v| v.to_str().unwrap().to_string());
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, etag, body)
}

fn verifier(pin_key: &str, pin: &str) -> String {
    let key = B64.decode(pin_key).unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(pin.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn lobby_schedule_has_todays_and_tomorrows_onsite_visits_with_initials_and_verifiers() {
    let s = TestServer::start().await;
    let d = a_day(&s).await;
    let (st, etag, sched) = get_schedule(&s, &d.lobby, None).await;
    assert_eq!(st, StatusCode::OK, "{sched}");
    let etag = etag.expect("an ETag");
    assert_eq!(sched["version"], json!(etag));
    assert_eq!(sched["facility"]["time_zone"], "America/Chicago");
    assert_eq!(sched["facility"]["pin_length"], 6);
    let days = sched["days"].as_array().unwrap();
    assert_eq!(days.len(), 2);
    assert_eq!(days[0]["date"], "2026-11-19");
    assert_eq!(days[1]["date"], "2026-11-20");
    let today = days[0]["visits"].as_array().unwrap();
    assert_eq!(today.len(), 1, "only on-site visits in a lobby: {today:?}");
    let v = &today[0];
    assert_eq!(v["id"], json!(d.james_onsite.0));
    assert_eq!(v["person_display"], "J. S.");
    assert_eq!(v["visitor_display"], json!(["M. S."]));
    assert!(!sched.to_string().contains("James") && !sched.to_string().contains("Maria"));
    // A terminal can check the PIN offline with the day's key.
    let key = days[0]["pin_key"].as_str().unwrap();
    assert_eq!(v["pin_verifier"], json!(verifier(key, &d.james_onsite.1)));
    assert_ne!(v["pin_verifier"], json!(verifier(key, "000000")));
    let tomorrow = days[1]["visits"].as_array().unwrap();
    assert_eq!(tomorrow.len(), 1);
    assert_eq!(tomorrow[0]["id"], json!(d.david_onsite_tomorrow.0));
    assert_eq!(
        tomorrow[0]["pin_verifier"],
        json!(verifier(
            days[1]["pin_key"].as_str().unwrap(),
            &d.david_onsite_tomorrow.1
        ))
    );
    assert_ne!(days[0]["pin_key"], days[1]["pin_key"]);

    // Unchanged: 304 and no body.
    let (st, again, body) = get_schedule(&s, &d.lobby, Some(&etag)).await;
    assert_eq!(st, StatusCode::NOT_MODIFIED);
    assert_eq!(again.as_deref(), Some(etag.as_str()));
    assert_eq!(body, Value::Null);

    // A cancellation changes it.
    s.admin_post(
        &format!("/api/v1/admin/visits/{}/cancel", d.david_onsite_tomorrow.0),
        json!({"by": "facility", "reason": "count"}),
    )
    .await;
    let (st, newer, sched) = get_schedule(&s, &d.lobby, Some(&etag)).await;
    assert_eq!(st, StatusCode::OK);
    assert_ne!(newer.unwrap(), etag);
    assert_eq!(sched["days"][1]["visits"][0]["status"], "cancelled");
    s.stop().await;
}

#[tokio::test]
async fn unit_terminal_sees_its_own_units_visits_with_short_names() {
    let s = TestServer::start().await;
    let d = a_day(&s).await;
    let (st, _, sched) = get_schedule(&s, &d.unit_a, None).await;
    assert_eq!(st, StatusCode::OK);
    let today = sched["days"][0]["visits"].as_array().unwrap();
    let ids: Vec<_> = today.iter().map(|v| v["id"].clone()).collect();
    assert_eq!(ids, vec![json!(d.james_onsite.0), json!(d.james_remote.0)]);
    assert_eq!(today[1]["kind"], "remote");
    assert_eq!(today[0]["person_display"], "James S.");
    assert_eq!(today[0]["visitor_display"], json!(["Maria S."]));
    assert!(
        sched["days"][1]["visits"].as_array().unwrap().is_empty(),
        "David is in Pod B"
    );
    s.stop().await;
}

fn event(visit: Uuid, kind: Value) -> (Uuid, Value) {
    let id = Uuid::new_v4();
    (
        id,
        json!({"id": id, "occurred_at": "2026-11-19T15:59:30Z", "visit_id": visit, "event": kind}),
    )
}

async fn post_events(s: &TestServer, credential: &str, events: &[&Value]) -> Value {
    let (st, body) = s
        .send(
            Method::POST,
            "/api/v1/terminal/events",
            Some(credential),
            Some(&json!({ "events": events })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body["results"].clone()
}

#[tokio::test]
async fn a_visit_from_check_in_to_end_is_recorded_once_and_in_order() {
    let s = TestServer::start().await;
    let d = a_day(&s).await;
    let (visit, _) = d.james_onsite;
    s.clock.set(local(2026, 11, 19, 9, 59));
    let (check_in_id, check_in) = event(visit, json!({"type": "check_in"}));
    // The terminal retried: the same event three times, twice in one batch.
    let r = post_events(&s, &d.lobby, &[&check_in, &check_in]).await;
    assert_eq!(r[0]["outcome"]["type"], "applied", "{r}");
    assert_eq!(r[1]["outcome"]["type"], "duplicate");
    assert_eq!(r[0]["visit_status"], "scheduled");
    let r = post_events(&s, &d.lobby, &[&check_in]).await;
    assert_eq!(r[0]["outcome"]["type"], "duplicate");

    s.clock.set(local(2026, 11, 19, 10, 0));
    s.wait_for_status(visit, "pending").await;
    let (_, wrong_person) = event(visit, json!({"type": "sign_in", "person_number": "B-2002"}));
    let r = post_events(&s, &d.unit_a, &[&wrong_person]).await;
    assert_eq!(r[0]["outcome"]["type"], "refused");
    let (_, sign_in) = event(visit, json!({"type": "sign_in", "person_number": "A-1001"}));
    let (_, started) = event(visit, json!({"type": "call_started"}));
    let (_, cut) = event(
        visit,
        json!({"type": "call_interrupted", "reason": "network"}),
    );
    let (_, back) = event(visit, json!({"type": "call_recovered"}));
    let r = post_events(&s, &d.unit_a, &[&sign_in, &started, &cut, &back]).await;
    let outcomes: Vec<_> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["outcome"]["type"].clone())
        .collect();
    assert_eq!(outcomes, vec![json!("applied"); 4]);
    assert_eq!(r[0]["visit_status"], "ready");
    assert_eq!(r[1]["visit_status"], "in_progress");

    s.clock.set(local(2026, 11, 19, 12, 0));
    s.wait_for_status(visit, "ended").await;

    let (_, rec) = s.admin_get(&format!("/api/v1/admin/visits/{visit}")).await;
    let events: Vec<_> = rec["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        events,
        [
            "booked",
            "check_in",
            "start_reached",
            "refused_sign_in",
            "sign_in",
            "call_started",
            "call_interrupted",
            "call_recovered",
            "end_reached"
        ]
    );
    let h = rec["history"].as_array().unwrap();
    assert_eq!(h[1]["detail"]["event_id"], json!(check_in_id));
    assert_eq!(h[1]["detail"]["terminal_time"], "2026-11-19T15:59:30Z");
    assert_eq!(
        h[1]["actor"],
        json!(format!("terminal:{}", d.f.lobbies[0].0))
    );
    assert_eq!(
        (h[4]["from_status"].clone(), h[4]["to_status"].clone()),
        (json!("pending"), json!("ready"))
    );
    assert_eq!(h[8]["to_status"], "ended");
    let stored: i64 = s
        .sql()
        .query_row(
            "SELECT count(*) FROM terminal_events WHERE id = ?1",
            [check_in_id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 1);
    s.stop().await;
}

#[tokio::test]
async fn events_for_cancelled_or_foreign_visits_are_refused_but_acknowledged() {
    let s = TestServer::start().await;
    let d = a_day(&s).await;
    let (visit, _) = d.james_onsite;
    s.admin_post(
        &format!("/api/v1/admin/visits/{visit}/cancel"),
        json!({"by": "facility", "reason": "lockdown"}),
    )
    .await;
    let (_, check_in) = event(visit, json!({"type": "check_in"}));
    let r = post_events(&s, &d.lobby, &[&check_in]).await;
    assert_eq!(r[0]["outcome"]["type"], "refused");
    assert!(
        r[0]["outcome"]["reason"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{r}"
    );
    assert_eq!(r[0]["visit_status"], "cancelled");
    // Remote visits are not checked in at a lobby.
    let (_, remote) = event(d.james_remote.0, json!({"type": "check_in"}));
    assert_eq!(
        post_events(&s, &d.lobby, &[&remote]).await[0]["outcome"]["type"],
        "refused"
    );
    // Unknown visit.
    let (_, ghost) = event(Uuid::new_v4(), json!({"type": "check_in"}));
    let r = post_events(&s, &d.lobby, &[&ghost]).await;
    assert_eq!(r[0]["outcome"]["type"], "refused");
    assert_eq!(r[0]["visit_status"], Value::Null);
    // Another facility's terminal.
    let other = s.facility(1).await;
    let stranger = s.enrol(&other.lobbies[0].1).await;
    let (_, sneaky) = event(d.david_onsite_tomorrow.0, json!({"type": "check_in"}));
    let r = post_events(&s, &stranger, &[&sneaky]).await;
    assert!(
        r[0]["outcome"]["reason"]
            .as_str()
            .unwrap()
            .contains("another facility")
    );
    s.stop().await;
}

#[tokio::test]
async fn heartbeat_returns_server_time_and_records_device_health() {
    let s = TestServer::start().await;
    let d = a_day(&s).await;
    let (st, ack) = s
        .send(
            Method::POST,
            "/api/v1/terminal/heartbeat",
            Some(&d.lobby),
            Some(&json!({
                "software_version": "0.1.0-test", "uptime_secs": 42, "terminal_time": "2026-11-19T13:00:02Z",
                "outbox_pending": 0,
                "devices": [{"device": "camera", "state": "ok", "detail": "/dev/kiosk/camera"},
                            {"device": "microphone", "state": "missing", "detail": null}]
            })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{ack}");
    assert_eq!(ack["server_time"], json!(local(2026, 11, 19, 7, 0)));
    let (_, t) = s
        .admin_get(&format!("/api/v1/admin/terminals/{}", d.f.lobbies[0].0))
        .await;
    assert_eq!(t["software_version"], "0.1.0-test");
    assert_eq!(t["devices"][1]["state"], "missing");
    assert_eq!(t["last_seen_at"], json!(local(2026, 11, 19, 7, 0)));
    s.stop().await;
}

#[tokio::test]
async fn staff_termination_and_no_shows_are_recorded_with_their_reasons() {
    let s = TestServer::start().await;
    let d = a_day(&s).await;
    let (onsite, _) = d.james_onsite;
    let (remote, _) = d.james_remote;

    // Nothing to terminate before the visit begins.
    let (st, body) = s
        .admin_post(
            &format!("/api/v1/admin/visits/{onsite}/terminate"),
            json!({"reason": "dress code"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    s.clock.set(local(2026, 11, 19, 10, 5));
    s.wait_for_status(onsite, "pending").await;
    let (_, sign_in) = event(
        onsite,
        json!({"type": "sign_in", "person_number": "A-1001"}),
    );
    let (_, started) = event(onsite, json!({"type": "call_started"}));
    post_events(&s, &d.unit_a, &[&sign_in, &started]).await;
    let (st, v) = s
        .admin_post(
            &format!("/api/v1/admin/visits/{onsite}/terminate"),
            json!({"reason": "use of a cell phone"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "terminated");
    // The terminal's later account of the call is kept without changing the outcome.
    let (_, ended) = event(
        onsite,
        json!({"type": "call_ended", "reason": "terminated"}),
    );
    let r = post_events(&s, &d.unit_a, &[&ended]).await;
    assert_eq!(r[0]["visit_status"], "terminated");

    // Nobody joined the remote visit: a no-show once its block is over.
    s.clock.set(local(2026, 11, 19, 14, 30));
    s.wait_for_status(remote, "no_show").await;

    let (_, rec) = s.admin_get(&format!("/api/v1/admin/visits/{onsite}")).await;
    let h = rec["history"].as_array().unwrap();
    let term = h.iter().find(|e| e["event"] == "terminated").unwrap();
    assert_eq!(term["detail"]["reason"], "use of a cell phone");
    assert_eq!(term["actor"], "admin:tester");
    assert_eq!(
        (term["from_status"].clone(), term["to_status"].clone()),
        (json!("in_progress"), json!("terminated"))
    );
    assert_eq!(h.last().unwrap()["event"], "call_ended");
    s.stop().await;
}
