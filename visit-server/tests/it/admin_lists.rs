//! The admin API's searches and lists: what they find, paging, the facility
//! filter, terminals' health, and bad input.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::util::*;

fn ids(v: &Value) -> Vec<Uuid> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(id)
        .collect()
}

#[tokio::test]
async fn searches_find_by_name_email_and_number_and_keep_facilities_apart() {
    let s = TestServer::start().await;
    let north = s.facility(1).await;
    let south = s.facility(1).await;
    let (_, body) = s
        .admin_patch(
            &format!("/api/v1/admin/facilities/{}", south.id),
            json!({"name": "South Annex"}),
        )
        .await;
    assert_eq!(body["name"], "South Annex");
    let james = s
        .person(&north, "A-1001", "James Carter", north.unit_a, json!([]))
        .await;
    let jim = s
        .person(&south, "A-1001", "Jim Carter", south.unit_a, json!([]))
        .await;
    let maria = s.approved_adult(james, "Maria Lopez").await;
    let mario = s.approved_adult(jim, "Mario Rossi").await;
    let loner = s.visitor("Marianne Nobody", adult_dob(), false).await;

    // Visitors: by name, any case; by e-mail.
    let (st, found) = s.admin_get("/api/v1/admin/visitors?q=MAR").await;
    assert_eq!(st, StatusCode::OK, "{found}");
    let all = ids(&found);
    assert!(
        all.contains(&maria) && all.contains(&mario) && all.contains(&loner),
        "{found}"
    );
    let (_, found) = s
        .admin_get("/api/v1/admin/visitors?q=rossi%40example")
        .await;
    assert_eq!(ids(&found), vec![mario]);
    // Scoped to a facility: only visitors linked to it.
    let (_, found) = s
        .admin_get(&format!(
            "/api/v1/admin/visitors?q=mar&facility_id={}",
            north.id
        ))
        .await;
    assert_eq!(ids(&found), vec![maria]);
    // Paging.
    let (_, page1) = s.admin_get("/api/v1/admin/visitors?q=mar&limit=1").await;
    let (_, page2) = s
        .admin_get("/api/v1/admin/visitors?q=mar&limit=1&offset=1")
        .await;
    assert_eq!(page1.as_array().unwrap().len(), 1);
    assert_ne!(ids(&page1), ids(&page2));

    // Persons: within the facility, by number or name.
    let (_, found) = s
        .admin_get(&format!(
            "/api/v1/admin/facilities/{}/persons?q=1001",
            north.id
        ))
        .await;
    assert_eq!(ids(&found), vec![james]);
    let (_, found) = s
        .admin_get(&format!(
            "/api/v1/admin/facilities/{}/persons?q=carter",
            south.id
        ))
        .await;
    assert_eq!(ids(&found), vec![jim]);

    // Facilities by name.
    let (_, found) = s.admin_get("/api/v1/admin/facilities?q=annex").await;
    assert_eq!(ids(&found), vec![south.id]);

    // Who is linked to whom.
    let (_, list) = s
        .admin_get(&format!("/api/v1/admin/persons/{james}/approved-visitors"))
        .await;
    assert_eq!(ids(&list), vec![maria]);
    let (_, list) = s
        .admin_get(&format!("/api/v1/admin/visitors/{mario}/approved-persons"))
        .await;
    assert_eq!(ids(&list), vec![jim]);
    let (visit, _) = s
        .book_ok(james, &[maria], "remote", local(2026, 11, 20, 10, 0))
        .await;
    for path in [
        format!("/api/v1/admin/persons/{james}/visits"),
        format!("/api/v1/admin/visitors/{maria}/visits"),
    ] {
        let (st, list) = s.admin_get(&path).await;
        assert_eq!((st, ids(&list)), (StatusCode::OK, vec![visit]), "{path}");
    }
    let (_, list) = s
        .admin_get(&format!("/api/v1/admin/persons/{jim}/visits"))
        .await;
    assert_eq!(ids(&list), Vec::<Uuid>::new());
    s.stop().await;
}

#[tokio::test]
async fn terminals_are_listed_with_their_health() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let cred = s.enrol(&f.lobbies[0].1).await;
    let (st, _) = s
        .send(
            Method::POST,
            "/api/v1/terminal/heartbeat",
            Some(&cred),
            Some(&json!({
                "software_version": "1.2.3", "uptime_secs": 5,
                "terminal_time": monday_morning(), "outbox_pending": 3,
                "devices": [{"device": "camera", "state": "missing", "detail": null}]
            })),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let path = format!("/api/v1/admin/facilities/{}/terminals", f.id);
    let (st, list) = s.admin_get(&path).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let lobby = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| id(t) == f.lobbies[0].0)
        .unwrap()
        .clone();
    assert_eq!(lobby["online"], true, "{lobby}");
    assert_eq!(lobby["outbox_pending"], 3);
    assert_eq!(lobby["software_version"], "1.2.3");
    assert_eq!(lobby["devices"][0]["state"], "missing");
    assert_eq!(lobby["revoked_at"], Value::Null);
    assert_eq!(lobby["location"], "Lobby monitor 0");
    let unit = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| id(t) == f.unit_a_terminal.0)
        .unwrap();
    assert_eq!(unit["online"], false, "never heard from");

    s.clock.advance(Duration::minutes(3));
    let (_, list) = s.admin_get(&path).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|t| t["online"] == false),
        "{list}"
    );
    // Another facility's terminals are not in this list.
    let other = s.facility(1).await;
    let (_, list) = s.admin_get(&path).await;
    assert!(!ids(&list).contains(&other.lobbies[0].0));
    s.stop().await;
}

#[tokio::test]
async fn malformed_ids_are_400_unknown_ids_404_never_5xx() {
    let s = TestServer::start().await;
    let unknown = Uuid::new_v4();
    let gets = [
        "/api/v1/admin/persons/{}/visits",
        "/api/v1/admin/persons/{}/approved-visitors",
        "/api/v1/admin/visitors/{}/visits",
        "/api/v1/admin/visitors/{}/approved-persons",
        "/api/v1/admin/facilities/{}/terminals",
        "/api/v1/admin/facilities/{}/persons",
        "/api/v1/admin/facilities/{}/approval-requests",
        "/api/v1/admin/facilities/{}/free-slots?date=2026-11-20&kind=remote",
    ];
    for g in gets {
        let (st, body) = s.admin_get(&g.replace("{}", "not-a-uuid")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{g}: {body}");
        let (st, body) = s.admin_get(&g.replace("{}", &unknown.to_string())).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{g}: {body}");
    }
    let posts = [
        ("/api/v1/admin/terminals/{}/revoke", json!({})),
        ("/api/v1/admin/admin-tokens/{}/revoke", json!({})),
        (
            "/api/v1/admin/sanctions/{}/lift",
            json!({"reason": "appeal"}),
        ),
        (
            "/api/v1/admin/visits/{}/reschedule",
            json!({"start": local(2026, 11, 20, 10, 0)}),
        ),
        ("/api/v1/admin/approval-requests/{}/approve", json!({})),
        (
            "/api/v1/admin/approval-requests/{}/deny",
            json!({"reason": "no"}),
        ),
        (
            "/api/v1/admin/visitors/{}/photo-id/deny",
            json!({"reason": "blurry"}),
        ),
    ];
    for (p, body) in posts {
        let (st, b) = s.admin_post(&p.replace("{}", "123"), body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{p}: {b}");
        let (st, b) = s
            .admin_post(&p.replace("{}", &unknown.to_string()), body)
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{p}: {b}");
    }
    for p in [
        "/api/v1/admin/persons/{}",
        "/api/v1/admin/visitors/{}",
        "/api/v1/admin/facilities/{}",
    ] {
        let (st, b) = s
            .admin_patch(&p.replace("{}", &unknown.to_string()), json!({"name": "X"}))
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{p}: {b}");
        let (st, b) = s
            .admin_patch(&p.replace("{}", &unknown.to_string()), json!({"nme": "X"}))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}: {b}");
    }
    let (st, _) = s
        .admin_delete(&format!(
            "/api/v1/admin/persons/{unknown}/approved-visitors/{unknown}"
        ))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .admin_delete("/api/v1/admin/persons/x/approved-visitors/y")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    s.stop().await;
}
