//! The admin API's review queues and edits as a user would notice them:
//! approval requests, photo-ID denial, record and settings edits, and an
//! audit line for each change.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::util::*;

fn code(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

async fn outbox(s: &TestServer) -> Vec<Value> {
    let (st, list) = s.admin_get("/api/v1/admin/outbox").await;
    assert_eq!(st, StatusCode::OK);
    list.as_array().unwrap().clone()
}

#[tokio::test]
async fn approval_requests_are_approved_or_denied_with_a_letter() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p = s
        .person(&f, "A-7", "James Smith", f.unit_a, json!([]))
        .await;
    let v = s.visitor("Maria Smith", adult_dob(), true).await;
    let w = s.visitor("Bob Jones", adult_dob(), false).await;
    let r1 = s
        .create(
            "/api/v1/admin/approval-requests",
            json!({"person_id": p, "visitor_id": v}),
        )
        .await;
    let r2 = s
        .create(
            "/api/v1/admin/approval-requests",
            json!({"person_id": p, "visitor_id": w}),
        )
        .await;
    let (st, _) = s
        .admin_post(
            "/api/v1/admin/approval-requests",
            json!({"person_id": p, "visitor_id": v}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, pending) = s
        .admin_get(&format!(
            "/api/v1/admin/facilities/{}/approval-requests",
            f.id
        ))
        .await;
    assert_eq!(pending.as_array().unwrap().len(), 2, "{pending}");
    assert_eq!(pending[1]["visitor_name"], "Bob Jones");
    assert_eq!(pending[1]["visitor_photo_id_verified"], false);
    assert_eq!(pending[1]["person_number"], "A-7");
    assert_eq!(pending[1]["person_name"], "James Smith");

    let (st, done) = s
        .admin_post(
            &format!("/api/v1/admin/approval-requests/{}/approve", id(&r1)),
            json!({}),
        )
        .await;
    assert_eq!(
        (st, done["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{done}"
    );
    s.book_ok(p, &[v], "remote", local(2026, 11, 20, 10, 0))
        .await;

    let deny = format!("/api/v1/admin/approval-requests/{}/deny", id(&r2));
    let (st, _) = s.admin_post(&deny, json!({"reason": ""})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, done) = s
        .admin_post(&deny, json!({"reason": "no contact order"}))
        .await;
    assert_eq!(
        (st, done["status"].as_str()),
        (StatusCode::OK, Some("denied")),
        "{done}"
    );
    assert_eq!(
        s.admin_post(&deny, json!({"reason": "again"})).await.0,
        StatusCode::CONFLICT
    );
    let letter = &outbox(&s).await[0];
    assert_eq!(letter["to"], "bob.jones@example.org");
    assert!(
        letter["body"]
            .as_str()
            .unwrap()
            .contains("no contact order"),
        "{letter}"
    );
    let (_, pending) = s
        .admin_get(&format!(
            "/api/v1/admin/facilities/{}/approval-requests",
            f.id
        ))
        .await;
    assert_eq!(pending, json!([]));
    s.stop().await;
}

#[tokio::test]
async fn a_refused_photo_id_is_told_to_the_visitor_and_leaves_the_queue() {
    let s = TestServer::start().await;
    let v = s.visitor("Maria Smith", adult_dob(), false).await;
    let (_, queue) = s.admin_get("/api/v1/admin/photo-id-queue").await;
    assert!(
        queue.as_array().unwrap().iter().any(|x| id(x) == v),
        "{queue}"
    );
    let (st, denied) = s
        .admin_post(
            &format!("/api/v1/admin/visitors/{v}/photo-id/deny"),
            json!({"reason": "the photo is blurred"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{denied}");
    assert_eq!(denied["photo_id_denied_reason"], "the photo is blurred");
    let letter = &outbox(&s).await[0];
    assert_eq!(letter["to"], "maria.smith@example.org");
    assert!(
        letter["body"]
            .as_str()
            .unwrap()
            .contains("the photo is blurred")
    );
    let (_, queue) = s.admin_get("/api/v1/admin/photo-id-queue").await;
    assert!(!queue.as_array().unwrap().iter().any(|x| id(x) == v));
    let (_, ok) = s
        .admin_post(
            &format!("/api/v1/admin/visitors/{v}/photo-id"),
            json!({"verified": true}),
        )
        .await;
    assert_eq!(
        (
            ok["photo_id_verified"].as_bool(),
            &ok["photo_id_denied_reason"]
        ),
        (Some(true), &Value::Null)
    );
    s.stop().await;
}

#[tokio::test]
async fn edits_are_validated_and_take_effect() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let v = s.approved_adult(p, "Maria Smith").await;
    let person = format!("/api/v1/admin/persons/{p}");
    let (st, body) = s
        .admin_patch(
            &person,
            json!({"name": "James R. Smith", "housing_unit_id": f.unit_b,
            "restrictions": ["no_child_contact"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["housing_unit_id"], json!(f.unit_b));
    assert_eq!(body["restrictions"], json!(["no_child_contact"]));
    let other = s.facility(1).await;
    let (st, body) = s
        .admin_patch(&person, json!({"housing_unit_id": other.unit_a}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    let visitor = format!("/api/v1/admin/visitors/{v}");
    let (st, body) = s
        .admin_patch(&visitor, json!({"email": "not an address"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("email"),
        "{body}"
    );
    let (st, body) = s
        .admin_patch(
            &visitor,
            json!({"email": "m.smith@example.org", "date_of_birth": "1979-01-02"}),
        )
        .await;
    assert_eq!(
        (st, body["email"].as_str()),
        (StatusCode::OK, Some("m.smith@example.org"))
    );
    // Facility rules: invalid ones are refused, valid ones apply to new bookings.
    let facility = format!("/api/v1/admin/facilities/{}", f.id);
    let (st, body) = s.admin_patch(&facility, json!({"languages": ["fr"]})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("en, es"),
        "{body}"
    );
    let (_, before) = s.admin_get(&facility).await;
    let mut remote = before["remote"].clone();
    remote["block_minutes"] = json!(60);
    remote["min_advance_minutes"] = json!(60);
    let (st, after) = s
        .admin_patch(
            &facility,
            json!({"remote": remote, "languages": ["es"], "require_totp_for_admins": true}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{after}");
    assert_eq!(
        (
            after["languages"].clone(),
            after["require_totp_for_admins"].clone()
        ),
        (json!(["es"]), json!(true))
    );
    let (st, booked) = s.book(p, &[v], "remote", local(2026, 11, 16, 13, 0)).await;
    assert_eq!(st, StatusCode::CREATED, "{booked}");
    assert_eq!(booked["visit"]["end"], json!(local(2026, 11, 16, 14, 0)));
    // Approval removal: the visitor can no longer book.
    let remove = format!("/api/v1/admin/persons/{p}/approved-visitors/{v}");
    assert_eq!(s.admin_delete(&remove).await.0, StatusCode::NO_CONTENT);
    assert_eq!(s.admin_delete(&remove).await.0, StatusCode::NOT_FOUND);
    let (st, body) = s.book(p, &[v], "remote", local(2026, 11, 16, 15, 0)).await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "not_approved"),
        "{body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn every_change_leaves_an_audit_line() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let v = s.approved_adult(p, "Maria Smith").await;
    let (visit, _) = s
        .book_ok(p, &[v], "remote", local(2026, 11, 20, 10, 0))
        .await;
    s.admin_post(
        &format!("/api/v1/admin/visits/{visit}/reschedule"),
        json!({"start": local(2026, 11, 20, 10, 15)}),
    )
    .await;
    s.admin_patch(
        &format!("/api/v1/admin/visitors/{v}"),
        json!({"name": "Maria S."}),
    )
    .await;
    s.admin_post(
        &format!("/api/v1/admin/terminals/{}/revoke", f.lobbies[0].0),
        json!({}),
    )
    .await;
    let lines = s.audit_actions();
    let has = |action: &str, outcome: &str| {
        lines
            .iter()
            .any(|(a, o)| a == action && o.starts_with(outcome))
    };
    for action in [
        "create_facility",
        "create_housing_unit",
        "create_terminal",
        "create_person",
        "create_visitor",
        "create_approval",
        "book_visit",
        "update_visitor",
        "revoke_terminal",
    ] {
        assert!(has(action, "done"), "no `{action}` line in {lines:?}");
    }
    assert!(has("reschedule_visit", "refused: "), "{lines:?}");
    let conn = s.sql();
    let (before, after): (String, String) = conn
        .query_row(
            "SELECT before, after FROM audit_log WHERE action = 'update_visitor'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        before.contains("Maria Smith") && after.contains("Maria S."),
        "{before} {after}"
    );
    s.stop().await;
}
