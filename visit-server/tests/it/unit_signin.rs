//! What a housing-unit terminal needs for offline sign-in (the persons of
//! its unit with their PIN verifiers, never to a lobby or another unit),
//! whether a visitor has checked in, and the sign-in photo.

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::util::*;

struct Setup {
    f: Facility,
    james: Uuid,
    visits: Vec<Uuid>,
    lobby: String,
    unit_a: String,
    unit_b: String,
}

async fn setup(s: &TestServer) -> Setup {
    let f = s.facility(1).await;
    let james = s
        .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
        .await;
    let david = s
        .person(&f, "B-2002", "David Brown", f.unit_b, json!([]))
        .await;
    let maria = s.approved_adult(james, "Maria Smith").await;
    let jen = s.approved_adult(david, "Jennifer Brown").await;
    let onsite = s
        .book_ok(james, &[maria], "onsite", local(2026, 11, 19, 10, 0))
        .await;
    let remote = s
        .book_ok(james, &[maria], "remote", local(2026, 11, 19, 14, 0))
        .await;
    s.book_ok(david, &[jen], "onsite", local(2026, 11, 19, 12, 0))
        .await;
    let t = s
        .create(
            &format!("/api/v1/admin/facilities/{}/terminals", f.id),
            json!({"role": "unit", "location": "Pod B dayroom", "housing_unit_id": f.unit_b}),
        )
        .await;
    let unit_b = s.enrol(t["code"].as_str().unwrap()).await;
    let lobby = s.enrol(&f.lobbies[0].1).await;
    let unit_a = s.enrol(&f.unit_a_terminal.1).await;
    s.clock.set(local(2026, 11, 19, 7, 0));
    Setup {
        f,
        james,
        visits: vec![onsite.0, remote.0],
        lobby,
        unit_a,
        unit_b,
    }
}

async fn schedule(s: &TestServer, credential: &str) -> Value {
    let (st, body) = s
        .send(
            Method::GET,
            "/api/v1/terminal/schedule",
            Some(credential),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body
}

fn verifies(verifier: &str, pin: &str) -> bool {
    let hash = PasswordHash::new(verifier).expect("a PHC string");
    assert_eq!(hash.algorithm.as_str(), "argon2id");
    Argon2::default()
        .verify_password(pin.as_bytes(), &hash)
        .is_ok()
}

#[tokio::test]
async fn only_the_units_own_terminals_get_its_persons_pin_verifiers() {
    let s = TestServer::start().await;
    let d = setup(&s).await;

    let a = schedule(&s, &d.unit_a).await;
    let persons = a["persons"].as_array().unwrap();
    assert_eq!(persons.len(), 1, "only Pod A's persons: {persons:?}");
    assert_eq!(persons[0]["number"], "A-1001");
    assert_eq!(persons[0]["display"], "James S.");
    assert_eq!(persons[0]["id"], json!(d.james));
    let verifier = persons[0]["pin_verifier"].as_str().unwrap();
    assert!(
        verifies(verifier, "2468"),
        "the person's PIN checks offline"
    );
    assert!(!verifies(verifier, "2469"));
    assert!(!a.to_string().contains("2468"), "never the PIN itself");
    for v in a["days"][0]["visits"].as_array().unwrap() {
        assert_eq!(v["person_id"], json!(d.james));
    }

    let b = schedule(&s, &d.unit_b).await;
    let numbers: Vec<_> = b["persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].clone())
        .collect();
    assert_eq!(numbers, vec![json!("B-2002")]);

    let lobby = schedule(&s, &d.lobby).await;
    assert!(lobby.get("persons").is_none(), "{lobby}");
    assert!(!lobby.to_string().contains("argon2"), "{lobby}");
    assert!(lobby["days"][0]["visits"][0].get("person_id").is_none());

    // A new person in the unit reaches its terminals (the schedule changed).
    s.person(&d.f, "A-1003", "Carl Lee", d.f.unit_a, json!([]))
        .await;
    let a = schedule(&s, &d.unit_a).await;
    assert_eq!(a["persons"].as_array().unwrap().len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn a_lobby_check_in_shows_on_the_unit_terminal() {
    let s = TestServer::start().await;
    let d = setup(&s).await;
    let onsite = |sched: &Value| {
        sched["days"][0]["visits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == json!(d.visits[0]))
            .unwrap()["visitor_checked_in"]
            .clone()
    };
    assert_eq!(onsite(&schedule(&s, &d.unit_a).await), json!(false));
    s.clock.set(local(2026, 11, 19, 9, 59));
    let id = Uuid::new_v4();
    let (st, body) = s
        .send(
            Method::POST,
            "/api/v1/terminal/events",
            Some(&d.lobby),
            Some(
                &json!({"events": [{"id": id, "occurred_at": "2026-11-19T15:59:00Z",
                "visit_id": d.visits[0], "event": {"type": "check_in"}}]}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["outcome"]["type"], "applied", "{body}");
    assert_eq!(onsite(&schedule(&s, &d.unit_a).await), json!(true));
    s.stop().await;
}

/// A small but whole JPEG (start and end markers around some bytes).
fn jpeg() -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend((0..2000u32).map(|i| (i % 251) as u8));
    b.extend([0xFF, 0xD9]);
    b
}

fn photo(id: Uuid, number: &str, bytes: &[u8]) -> Value {
    json!({"id": id, "taken_at": "2026-11-19T13:02:00Z", "person_number": number,
           "jpeg": STANDARD.encode(bytes)})
}

#[tokio::test]
async fn a_sign_in_photo_lands_on_the_days_visits_once_and_staff_can_fetch_it() {
    let s = TestServer::start().await;
    let d = setup(&s).await;
    let id = Uuid::new_v4();
    let post = |credential: String, body: Value| {
        let s = &s;
        async move {
            s.send(
                Method::POST,
                "/api/v1/terminal/photos",
                Some(&credential),
                Some(&body),
            )
            .await
        }
    };
    let (st, body) = post(d.unit_a.clone(), photo(id, "A-1001", &jpeg())).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"]["type"], "applied");
    assert_eq!(body["visits"], json!(d.visits));

    let history_lines = |v: Value| {
        v["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["event"] == "sign_in_photo")
            .cloned()
            .collect::<Vec<_>>()
    };
    for visit in &d.visits {
        let (st, rec) = s.admin_get(&format!("/api/v1/admin/visits/{visit}")).await;
        assert_eq!(st, StatusCode::OK);
        let lines = history_lines(rec);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["detail"]["photo_id"], json!(id));
    }

    // The same photo again (a retry from the queue): nothing new.
    let (st, body) = post(d.unit_a.clone(), photo(id, "A-1001", &jpeg())).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"]["type"], "duplicate");
    let (_, rec) = s
        .admin_get(&format!("/api/v1/admin/visits/{}", d.visits[0]))
        .await;
    assert_eq!(history_lines(rec).len(), 1);

    // Staff fetch it with admin auth, and only so.
    let url = format!("{}/api/v1/admin/photos/{id}", s.base);
    let res = s.http.get(&url).bearer_auth(&s.admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.bytes().await.unwrap().to_vec(), jpeg());
    let res = s.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = s
        .http
        .get(&url)
        .bearer_auth(&d.unit_a)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "a terminal is not staff"
    );

    // Refused: a lobby, another unit's person, not a JPEG, too large.
    let (st, _) = post(d.lobby.clone(), photo(Uuid::new_v4(), "A-1001", &jpeg())).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = post(d.unit_b.clone(), photo(Uuid::new_v4(), "A-1001", &jpeg())).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, body) = post(d.unit_a.clone(), photo(Uuid::new_v4(), "A-1001", b"GIF89a")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("JPEG"), "{body}");
    let mut big = jpeg();
    big.splice(4..4, vec![0u8; 160 * 1024]);
    let (st, _) = post(d.unit_a.clone(), photo(Uuid::new_v4(), "A-1001", &big)).await;
    assert!(st.is_client_error(), "{st}");
    let (st, _) = post(d.unit_a.clone(), photo(Uuid::new_v4(), "A-9999", &jpeg())).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A photo dated days ahead (or long ago) is not attached to those days.
    let mut future = photo(Uuid::new_v4(), "A-1001", &jpeg());
    future["taken_at"] = json!("2026-11-25T13:02:00Z");
    let (st, body) = post(d.unit_a.clone(), future).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("too far"),
        "{body}"
    );
    s.stop().await;
}
