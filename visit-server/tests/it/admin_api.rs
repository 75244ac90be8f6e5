//! The admin API's changes as a user would notice them: revocation, lifting
//! a sanction, rescheduling and free slots.

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::util::*;

fn code(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

async fn outbox(s: &TestServer) -> Vec<Value> {
    let (st, list) = s.admin_get("/api/v1/admin/outbox").await;
    assert_eq!(st, StatusCode::OK);
    list.as_array().unwrap().clone()
}

async fn heartbeat(s: &TestServer, cred: &str) -> (StatusCode, Value) {
    s.send(
        Method::POST,
        "/api/v1/terminal/heartbeat",
        Some(cred),
        Some(&json!({"software_version": "t", "uptime_secs": 1,
            "terminal_time": monday_morning(), "outbox_pending": 0, "devices": []})),
    )
    .await
}

#[tokio::test]
async fn a_revoked_terminal_is_refused_until_it_enrols_again() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let (tid, code0) = f.lobbies[0].clone();
    let cred = s.enrol(&code0).await;
    assert_eq!(heartbeat(&s, &cred).await.0, StatusCode::OK);
    let (st, t) = s
        .admin_post(&format!("/api/v1/admin/terminals/{tid}/revoke"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert!(t["revoked_at"].is_string());
    let (st, body) = heartbeat(&s, &cred).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap().contains("revoked"),
        "{body}"
    );
    // Every terminal call, and the signalling connection, is refused.
    for path in [
        "/api/v1/terminal/schedule".to_string(),
        format!("/api/v1/signal/{}", Uuid::new_v4()),
    ] {
        let (st, body) = s.send(Method::GET, &path, Some(&cred), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{path}");
        assert!(
            body["message"].as_str().unwrap().contains("revoked"),
            "{path}: {body}"
        );
    }
    let (st, _) = s
        .admin_post(&format!("/api/v1/admin/terminals/{tid}/revoke"), json!({}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT);

    // A new code does not bring it back; enrolling with it does.
    let new = s
        .create(
            &format!("/api/v1/admin/terminals/{tid}/enrolment-code"),
            json!({}),
        )
        .await;
    assert!(new["terminal"]["revoked_at"].is_string());
    assert_eq!(heartbeat(&s, &cred).await.0, StatusCode::UNAUTHORIZED);
    let cred2 = s.enrol(new["code"].as_str().unwrap()).await;
    assert_eq!(heartbeat(&s, &cred2).await.0, StatusCode::OK);
    let (_, t) = s.admin_get(&format!("/api/v1/admin/terminals/{tid}")).await;
    assert_eq!(t["revoked_at"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn a_revoked_admin_token_is_refused_and_tokens_are_listed_without_secrets() {
    let s = TestServer::start().await;
    let other = s.new_admin_token("night shift");
    let (st, list) = s.admin_get("/api/v1/admin/admin-tokens").await;
    assert_eq!(st, StatusCode::OK);
    let text = list.to_string();
    assert!(!text.contains(&other) && !text.contains("hash"), "{text}");
    let night = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "night shift")
        .unwrap()
        .clone();
    let (st, _) = s
        .send(Method::GET, "/api/v1/admin/outbox", Some(&other), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, t) = s
        .admin_post(
            &format!("/api/v1/admin/admin-tokens/{}/revoke", id(&night)),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let (st, body) = s
        .send(Method::GET, "/api/v1/admin/outbox", Some(&other), None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap().contains("revoked"),
        "{body}"
    );
    // The holder of the first token is unaffected.
    assert_eq!(s.admin_get("/api/v1/admin/outbox").await.0, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn lifting_a_sanction_lets_the_visitor_book_again() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let v = s.approved_adult(p, "Maria Smith").await;
    let sanction = s
        .create(
            "/api/v1/admin/sanctions",
            json!({"visitor_id": v, "reason": "phone"}),
        )
        .await;
    let start = local(2026, 11, 20, 10, 0);
    let (st, body) = s.book(p, &[v], "remote", start).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "visitor_sanctioned"),
        "{body}"
    );
    let lift = format!("/api/v1/admin/sanctions/{}/lift", id(&sanction));
    let (st, body) = s.admin_post(&lift, json!({"reason": "  "})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    let (st, lifted) = s
        .admin_post(&lift, json!({"reason": "appeal upheld"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{lifted}");
    assert_eq!(lifted["lift_reason"], "appeal upheld");
    assert_eq!(lifted["lifted_by"], "admin:tester");
    s.book_ok(p, &[v], "remote", start).await;
    // Never deleted: still listed, and it still counts as an offense.
    let (_, all) = s
        .admin_get(&format!("/api/v1/admin/visitors/{v}/sanctions"))
        .await;
    assert_eq!(all[0]["lifted_at"], lifted["lifted_at"]);
    let second = s
        .create(
            "/api/v1/admin/sanctions",
            json!({"visitor_id": v, "reason": "again"}),
        )
        .await;
    assert_eq!(second["offense"], 2);
    assert_eq!(
        s.admin_post(&lift, json!({"reason": "x"})).await.0,
        StatusCode::CONFLICT
    );
    s.stop().await;
}

#[tokio::test]
async fn rescheduling_follows_the_booking_rules_and_writes_to_the_visitor() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let v = s.approved_adult(p, "Maria Smith").await;
    let (visit, pin) = s
        .book_ok(p, &[v], "remote", local(2026, 11, 20, 10, 0))
        .await;
    let (other, _) = s
        .book_ok(p, &[v], "remote", local(2026, 11, 20, 12, 0))
        .await;
    let path = format!("/api/v1/admin/visits/{visit}/reschedule");
    let refusals = [
        (local(2026, 11, 20, 10, 15), "not_on_block_boundary"),
        (local(2026, 11, 20, 22, 0), "outside_visiting_hours"),
        (local(2026, 11, 17, 10, 0), "too_late_to_book"),
        (local(2026, 11, 20, 12, 0), "person_busy"),
    ];
    for (start, want) in refusals {
        let (st, body) = s.admin_post(&path, json!({"start": start})).await;
        assert_eq!(
            (st, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, want),
            "{body}"
        );
    }
    let before = outbox(&s).await.len();
    let to = local(2026, 11, 20, 10, 30);
    let (st, moved) = s.admin_post(&path, json!({"start": to})).await;
    assert_eq!(st, StatusCode::OK, "{moved}");
    assert_eq!(moved["visit"]["start"], json!(to));
    assert_eq!(moved["visit"]["end"], json!(to + Duration::minutes(30)));
    assert_ne!(moved["pin"], json!(pin));
    assert_eq!(moved["join_tokens"].as_array().unwrap().len(), 1);
    let mail = outbox(&s).await;
    assert_eq!(mail.len(), before + 1);
    assert!(
        mail[0]["subject"]
            .as_str()
            .unwrap()
            .starts_with("Visit moved"),
        "{}",
        mail[0]
    );
    assert!(mail[0]["body"].as_str().unwrap().contains("has been moved"));
    let (_, record) = s.admin_get(&format!("/api/v1/admin/visits/{visit}")).await;
    assert!(
        record["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["event"] == "rescheduled")
    );
    // A cancelled visit cannot be moved.
    s.admin_post(
        &format!("/api/v1/admin/visits/{other}/cancel"),
        json!({"by": "facility", "reason": "lockdown"}),
    )
    .await;
    let (st, body) = s
        .admin_post(
            &format!("/api/v1/admin/visits/{other}/reschedule"),
            json!({"start": local(2026, 11, 20, 15, 0)}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    s.stop().await;
}

async fn free_slots(s: &TestServer, f: &Facility, query: &str) -> Vec<DateTime<Utc>> {
    let (st, list) = s
        .admin_get(&format!(
            "/api/v1/admin/facilities/{}/free-slots?{query}",
            f.id
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| serde_json::from_value(x["start"].clone()).unwrap())
        .collect()
}

#[tokio::test]
async fn every_free_slot_books_and_a_full_or_closed_slot_is_not_offered() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let q = s.person(&f, "A2", "John Doe", f.unit_a, json!([])).await;
    let v = s.approved_adult(p, "Maria Smith").await;
    let w = s.approved_adult(q, "Ann Doe").await;
    // Saturday: no on-site hours. Tuesday: inside the 72-hour window.
    assert!(
        free_slots(&s, &f, "date=2026-11-21&kind=onsite")
            .await
            .is_empty()
    );
    assert!(
        free_slots(&s, &f, "date=2026-11-17&kind=remote")
            .await
            .is_empty()
    );
    let friday = free_slots(
        &s,
        &f,
        &format!("date=2026-11-20&kind=onsite&person_id={p}"),
    )
    .await;
    assert_eq!(friday.first(), Some(&local(2026, 11, 20, 8, 0)));
    for start in &friday {
        s.book_ok(p, &[v], "onsite", *start).await;
    }
    // The one lobby terminal is now taken all day: nothing is offered to
    // anyone, and a booking there is refused.
    assert!(
        free_slots(&s, &f, "date=2026-11-20&kind=onsite")
            .await
            .is_empty()
    );
    let (st, body) = s.book(q, &[w], "onsite", friday[0]).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "lobby_full"),
        "{body}"
    );
    // Remote: the person's own visits take slots away.
    let remote = free_slots(
        &s,
        &f,
        &format!("date=2026-11-20&kind=remote&person_id={q}"),
    )
    .await;
    // p is on site from 08:00 to 18:00: only the evening's remote slots remain.
    let busy = free_slots(
        &s,
        &f,
        &format!("date=2026-11-20&kind=remote&person_id={p}"),
    )
    .await;
    assert!(
        !busy.is_empty() && busy.iter().all(|t| *t >= local(2026, 11, 20, 18, 0)),
        "{busy:?}"
    );
    for start in remote.iter().take(3) {
        s.book_ok(q, &[w], "remote", *start).await;
    }
    let after = free_slots(
        &s,
        &f,
        &format!("date=2026-11-20&kind=remote&person_id={q}"),
    )
    .await;
    assert_eq!(after.len(), remote.len() - 3);
    let (st, body) = s
        .admin_get(&format!(
            "/api/v1/admin/facilities/{}/free-slots?date=2026-11-20&kind=remote&person_id={}",
            f.id,
            Uuid::new_v4()
        ))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    s.stop().await;
}
