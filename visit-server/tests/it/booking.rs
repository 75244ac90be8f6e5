//! Booking rules at their boundaries, through the admin API.

use chrono::{Duration, NaiveDate};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::*;

fn code(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

#[tokio::test]
async fn booking_opens_exactly_72_hours_ahead() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let v = s.approved_adult(p, "Maria Smith").await;
    let start = local(2026, 11, 19, 10, 0);

    s.clock
        .set(start - Duration::hours(72) + Duration::minutes(1));
    let (st, body) = s.book(p, &[v], "remote", start).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "too_late_to_book");
    assert!(
        body["message"].as_str().unwrap().contains("72 hours"),
        "{body}"
    );

    s.clock.set(start - Duration::hours(72));
    let (st, body) = s.book(p, &[v], "remote", start).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["visit"]["end"], json!(start + Duration::minutes(30)));
    assert_eq!(body["visit"]["price_cents"], 795);
    assert_eq!(body["visit"]["charge"], "charged");
    s.stop().await;
}

#[tokio::test]
async fn blocks_and_hours_follow_the_county_jail() {
    let s = TestServer::start().await;
    let f = s.facility(2).await;
    let mut people = Vec::new();
    for n in 0..4 {
        let p = s
            .person(&f, &format!("A{n}"), "Pat Doe", f.unit_a, json!([]))
            .await;
        let v = s.approved_adult(p, &format!("Vis Itor{n}")).await;
        people.push((p, v));
    }
    // Friday: every hour of it is more than 72 h after Monday 09:00.
    let fri = |h, m| local(2026, 11, 20, h, m);
    let cases = [
        // remote: 08:00-17:30 and 18:00-21:30 in 30-minute blocks
        ("remote", fri(17, 30), Some("outside_visiting_hours")),
        ("remote", fri(21, 30), Some("outside_visiting_hours")),
        ("remote", fri(8, 15), Some("not_on_block_boundary")),
        ("remote", fri(7, 30), Some("outside_visiting_hours")),
        // on-site: 08:00-19:00 Monday to Friday in 2-hour blocks
        ("onsite", fri(18, 0), Some("outside_visiting_hours")), // would end at 20:00
        ("onsite", fri(9, 0), Some("not_on_block_boundary")),
        (
            "onsite",
            local(2026, 11, 21, 10, 0),
            Some("outside_visiting_hours"),
        ), // Saturday
        ("remote", fri(17, 0), None),
        ("remote", fri(21, 0), None),
        ("onsite", fri(16, 0), None),
        ("onsite", fri(8, 0), None),
    ];
    let mut next = 0;
    for (kind, start, want) in cases {
        // Accepted bookings use a fresh person so they do not overlap each other.
        let (p, v) = people[next.min(3)];
        let (st, body) = s.book(p, &[v], kind, start).await;
        match want {
            Some(c) => assert_eq!(
                (st, code(&body)),
                (StatusCode::UNPROCESSABLE_ENTITY, c),
                "{kind} {start}"
            ),
            None => {
                assert_eq!(st, StatusCode::CREATED, "{kind} {start}: {body}");
                let block = if kind == "remote" { 30 } else { 120 };
                assert_eq!(
                    body["visit"]["end"],
                    json!(start + Duration::minutes(block))
                );
                next += 1;
            }
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn block_length_is_facility_configuration() {
    let s = TestServer::start().await;
    let mut onsite =
        serde_json::to_value(visit_server::domain::policy::default_onsite_rules()).unwrap();
    onsite["block_minutes"] = json!(60);
    let f = s.facility_with(1, json!({ "onsite": onsite })).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let v = s.approved_adult(p, "Maria Smith").await;
    let (st, body) = s.book(p, &[v], "onsite", local(2026, 11, 19, 9, 0)).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["visit"]["end"], json!(local(2026, 11, 19, 10, 0)));
    s.stop().await;
}

#[tokio::test]
async fn visitors_must_be_verified_and_approved() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let start = local(2026, 11, 19, 10, 0);

    let stranger = s.visitor("Sam Stranger", adult_dob(), true).await;
    let (st, body) = s.book(p, &[stranger], "remote", start).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "not_approved")
    );

    let unverified = s.visitor("Una Verified", adult_dob(), false).await;
    s.approve(p, unverified).await;
    let (st, body) = s.book(p, &[unverified], "remote", start).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "photo_id_not_verified")
    );

    let (st, _) = s
        .admin_post(
            &format!("/api/v1/admin/visitors/{unverified}/photo-id"),
            json!({"verified": true}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, body) = s.book(p, &[unverified], "remote", start).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn first_come_first_served_without_overlaps() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p1 = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let p2 = s
        .person(&f, "A2", "Robert Johnson", f.unit_a, json!([]))
        .await;
    let maria = s.approved_adult(p1, "Maria Smith").await;
    let linda = s.approved_adult(p1, "Linda Johnson").await;
    s.approve(p2, maria).await;
    let ten = local(2026, 11, 19, 10, 0);

    s.book_ok(p1, &[maria], "remote", ten).await;
    let (st, body) = s.book(p1, &[linda], "remote", ten).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "person_busy")
    );
    let (st, body) = s.book(p2, &[maria], "remote", ten).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "visitor_busy")
    );
    // Back to back is fine.
    s.book_ok(p1, &[linda], "remote", ten + Duration::minutes(30))
        .await;
    s.book_ok(p2, &[maria], "remote", ten - Duration::minutes(30))
        .await;
    s.stop().await;
}

#[tokio::test]
async fn onsite_visits_are_limited_by_lobby_terminals() {
    let s = TestServer::start().await;
    let f = s.facility(2).await;
    let mut pv = Vec::new();
    for n in 0..3 {
        let p = s
            .person(&f, &format!("A{n}"), "Pat Doe", f.unit_a, json!([]))
            .await;
        pv.push((p, s.approved_adult(p, &format!("Vis Itor{n}")).await));
    }
    let ten = local(2026, 11, 19, 10, 0);
    let (first, _) = s.book_ok(pv[0].0, &[pv[0].1], "onsite", ten).await;
    s.book_ok(pv[1].0, &[pv[1].1], "onsite", ten).await;
    let (st, body) = s.book(pv[2].0, &[pv[2].1], "onsite", ten).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "lobby_full")
    );
    // Remote visits do not use the lobby.
    s.book_ok(pv[2].0, &[pv[2].1], "remote", ten + Duration::hours(4))
        .await;
    // A cancellation frees the terminal.
    let (st, _) = s
        .admin_post(
            &format!("/api/v1/admin/visits/{first}/cancel"),
            json!({"by": "visitor", "reason": "car trouble"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    s.book_ok(pv[2].0, &[pv[2].1], "onsite", ten).await;

    let none = s.facility(0).await;
    let p = s
        .person(&none, "Z1", "Zed Doe", none.unit_a, json!([]))
        .await;
    let v = s.approved_adult(p, "Zoe Doe").await;
    let (st, body) = s.book(p, &[v], "onsite", ten).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "no_lobby_terminals")
    );
    s.stop().await;
}

#[tokio::test]
async fn legal_visits_and_minors_under_restriction_are_refused() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let restricted = s
        .person(
            &f,
            "B1",
            "Michael Williams",
            f.unit_b,
            json!(["no_child_contact"]),
        )
        .await;
    let other = s.person(&f, "B2", "David Brown", f.unit_b, json!([])).await;
    let adult = s.approved_adult(restricted, "Patricia Williams").await;
    s.approve(other, adult).await;
    let thu = local(2026, 11, 19, 10, 0);
    // 17 on the visit day (turns 18 the day after), then 18 on it.
    let minor = s
        .visitor(
            "Emily Smith",
            NaiveDate::from_ymd_opt(2008, 11, 20).unwrap(),
            true,
        )
        .await;
    let just_adult = s
        .visitor(
            "Anna Smith",
            NaiveDate::from_ymd_opt(2008, 11, 19).unwrap(),
            true,
        )
        .await;
    for v in [minor, just_adult] {
        s.approve(restricted, v).await;
        s.approve(other, v).await;
    }

    let (st, body) = s.book(restricted, &[adult, minor], "remote", thu).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "child_contact_restricted")
    );
    s.book_ok(restricted, &[adult, just_adult], "remote", thu)
        .await;
    s.book_ok(other, &[minor], "remote", thu).await;

    let (st, body) = s
        .admin_post(
            "/api/v1/admin/visits",
            json!({"person_id": other, "visitor_ids": [adult], "kind": "remote",
                   "start": thu + Duration::hours(2), "purpose": "legal"}),
        )
        .await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "legal_visit_not_by_video")
    );
    s.stop().await;
}

#[tokio::test]
async fn visitor_count_is_limited() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let mut vs = Vec::new();
    for n in 0..4 {
        vs.push(s.approved_adult(p, &format!("Fam Ily{n}")).await);
    }
    let thu = local(2026, 11, 19, 10, 0);
    let (st, body) = s.book(p, &vs, "remote", thu).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "too_many_visitors")
    );
    s.book_ok(p, &vs[..3], "remote", thu).await;
    s.stop().await;
}

#[tokio::test]
async fn pins_have_the_configured_length_are_unique_per_day_and_never_stored() {
    let s = TestServer::start().await;
    let f = s.facility_with(1, json!({"pin_length": 4})).await;
    let slots: Vec<_> = (0..19)
        .map(|i| local(2026, 11, 20, 8, 0) + Duration::minutes(30 * i))
        .collect();
    let mut pins = Vec::new();
    for n in 0..30 {
        let p = s
            .person(&f, &format!("A{n}"), "Pat Doe", f.unit_a, json!([]))
            .await;
        let v = s.approved_adult(p, &format!("Vis Itor{n}")).await;
        let (_, pin) = s.book_ok(p, &[v], "remote", slots[n % slots.len()]).await;
        assert_eq!(pin.len(), 4);
        assert!(pin.bytes().all(|b| b.is_ascii_digit()), "{pin}");
        pins.push(pin);
    }
    let mut unique = pins.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        pins.len(),
        "PINs repeat within a day: {pins:?}"
    );

    // No table holds a PIN in clear: not the visits, not the outbox.
    let db = s.sql();
    let (st, outbox) = s.admin_get("/api/v1/admin/outbox?limit=100").await;
    assert_eq!(st, StatusCode::OK);
    for pin in &pins {
        let found: i64 = db
            .query_row(
                "SELECT (SELECT count(*) FROM visits WHERE pin_hash = ?1 OR length(pin_hash) < 40)
                      + (SELECT count(*) FROM outbox WHERE body LIKE '%PIN: ' || ?1 || '%')",
                [pin],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, 0, "PIN {pin} found in the database");
        assert!(!outbox.to_string().contains(&format!("PIN: {pin}")));
    }
    s.stop().await;
}
