//! Cancellations (credit window, facility notices) and sanctions.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::util::*;

async fn one_booking(
    s: &TestServer,
) -> (Facility, Uuid, Uuid, Uuid, chrono::DateTime<chrono::Utc>) {
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let v = s.approved_adult(p, "Maria Smith").await;
    let start = local(2026, 11, 20, 10, 0);
    let (visit, _) = s.book_ok(p, &[v], "remote", start).await;
    (f, p, v, visit, start)
}

#[tokio::test]
async fn visitor_gets_credit_only_at_least_48_hours_ahead() {
    let s = TestServer::start().await;
    let (_, p, v, visit, start) = one_booking(&s).await;
    s.clock.set(start - Duration::hours(48));
    let (st, body) = s
        .admin_post(
            &format!("/api/v1/admin/visits/{visit}/cancel"),
            json!({"by": "visitor", "reason": "sick"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "cancelled");
    assert_eq!(body["charge"], "credited");

    // The slot is free again: book it anew and cancel one minute later than the window.
    s.clock.set(start - Duration::hours(73));
    let (late, _) = s.book_ok(p, &[v], "remote", start).await;
    s.clock
        .set(start - Duration::hours(48) + Duration::minutes(1));
    let (_, body) = s
        .admin_post(
            &format!("/api/v1/admin/visits/{late}/cancel"),
            json!({"by": "visitor", "reason": "sick"}),
        )
        .await;
    assert_eq!(body["charge"], "forfeited");
    let (_, outbox) = s.admin_get("/api/v1/admin/outbox").await;
    assert!(
        outbox.to_string().contains("no credit is given"),
        "{outbox}"
    );

    // Cancelling twice is refused and changes nothing.
    let (st, body) = s
        .admin_post(
            &format!("/api/v1/admin/visits/{late}/cancel"),
            json!({"by": "facility", "reason": "again"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"], "invalid_status_transition");
    s.stop().await;
}

#[tokio::test]
async fn facility_cancellation_is_free_and_notifies_every_visitor() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let maria = s.approved_adult(p, "Maria Smith").await;
    let ana = s.approved_adult(p, "Ana Smith").await;
    let start = local(2026, 11, 20, 10, 0);
    let (visit, _) = s.book_ok(p, &[maria, ana], "remote", start).await;
    s.clock.set(start - Duration::minutes(10));
    let (st, body) = s
        .admin_post(
            &format!("/api/v1/admin/visits/{visit}/cancel"),
            json!({"by": "facility", "reason": "facility lockdown"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["charge"], "waived");
    let (_, outbox) = s.admin_get("/api/v1/admin/outbox").await;
    let notices: Vec<_> = outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "cancellation")
        .collect();
    assert_eq!(notices.len(), 2, "{outbox}");
    let to: Vec<_> = notices.iter().map(|m| m["to"].as_str().unwrap()).collect();
    assert!(to.contains(&"maria.smith@example.org") && to.contains(&"ana.smith@example.org"));
    assert!(
        notices[0]["body"]
            .as_str()
            .unwrap()
            .contains("facility lockdown")
    );
    assert!(
        notices[0]["body"]
            .as_str()
            .unwrap()
            .contains("will not be charged")
    );
    s.stop().await;
}

#[tokio::test]
async fn first_offense_is_90_days_second_is_permanent() {
    let s = TestServer::start().await;
    let (_, p, v, visit, _) = one_booking(&s).await;
    let now = monday_morning();

    let (st, first) = s
        .admin_post(
            "/api/v1/admin/sanctions",
            json!({"visitor_id": v, "reason": "use of a cell phone"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    assert_eq!(first["offense"], 1);
    assert_eq!(first["ends_at"], json!(now + Duration::days(90)));
    // The booked visit inside the restriction is cancelled by the facility, free.
    assert_eq!(first["cancelled_visits"], json!([visit]));
    let (_, rec) = s.admin_get(&format!("/api/v1/admin/visits/{visit}")).await;
    assert_eq!(rec["visit"]["status"], "cancelled");
    assert_eq!(rec["visit"]["charge"], "waived");

    // Booking during the restriction is refused ...
    let later = local(2026, 12, 10, 10, 0);
    let (st, body) = s.book(p, &[v], "remote", later).await;
    assert_eq!(
        (st, body["error"].as_str().unwrap()),
        (StatusCode::UNPROCESSABLE_ENTITY, "visitor_sanctioned")
    );
    // ... also for a visit after it ends, while it is still in force ...
    let (st, _) = s.book(p, &[v], "remote", local(2027, 2, 18, 10, 0)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // ... and allowed the moment it ends.
    s.clock.set(now + Duration::days(90));
    s.book_ok(p, &[v], "remote", local(2027, 2, 18, 10, 0))
        .await;

    let (st, second) = s
        .admin_post(
            "/api/v1/admin/sanctions",
            json!({"visitor_id": v, "reason": "abusive language"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(second["offense"], 2);
    assert_eq!(second["ends_at"], serde_json::Value::Null);
    s.clock.set(now + Duration::days(3650));
    let (st, body) = s
        .book(p, &[v], "remote", now + Duration::days(3650 + 4))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["message"].as_str().unwrap().contains("no end date"),
        "{body}"
    );

    // The history is kept.
    let (_, all) = s
        .admin_get(&format!("/api/v1/admin/visitors/{v}/sanctions"))
        .await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["reason"], "use of a cell phone");
    s.stop().await;
}
