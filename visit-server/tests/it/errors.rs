//! Bad input gets a 4xx with a JSON error that says what is wrong.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::util::*;

async fn raw(
    s: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = s
        .http
        .request(method, format!("{}{path}", s.base))
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text:?}"));
    assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
    (status, v)
}

struct Case<'a> {
    method: Method,
    path: &'a str,
    token: Option<&'a str>,
    content_type: Option<&'a str>,
    body: Vec<u8>,
    status: StatusCode,
    code: &'a str,
}

#[allow(clippy::too_many_arguments)] // a table row, read across
fn case<'a>(
    method: Method,
    path: &'a str,
    token: Option<&'a str>,
    content_type: Option<&'a str>,
    body: Vec<u8>,
    status: StatusCode,
    code: &'a str,
) -> Case<'a> {
    Case {
        method,
        path,
        token,
        content_type,
        body,
        status,
        code,
    }
}

#[tokio::test]
async fn malformed_requests_get_json_errors_not_500s() {
    let s = TestServer::start().await;
    let admin = s.admin.clone();
    let a = Some(admin.as_str());
    let json_ct = Some("application/json");
    let cases: Vec<Case> = vec![
        case(
            Method::POST,
            "/api/v1/admin/visitors",
            a,
            json_ct,
            b"{\"name\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        case(
            Method::POST,
            "/api/v1/admin/visitors",
            a,
            json_ct,
            b"{\"name\": 7}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
        case(
            Method::POST,
            "/api/v1/admin/visitors",
            a,
            Some("text/plain"),
            b"{}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_json",
        ),
        case(
            Method::POST,
            "/api/v1/admin/visitors",
            a,
            json_ct,
            vec![b' '; 300 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        case(
            Method::GET,
            "/api/v1/admin/visits/not-a-uuid",
            a,
            None,
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_path",
        ),
        case(
            Method::GET,
            "/api/v1/admin/facilities/00000000-0000-0000-0000-000000000000/visits?date=tomorrow",
            a,
            None,
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        case(
            Method::GET,
            "/api/v1/admin/visits/00000000-0000-0000-0000-000000000001",
            a,
            None,
            vec![],
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        case(
            Method::GET,
            "/api/v1/admin/outbox",
            None,
            None,
            vec![],
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        case(
            Method::GET,
            "/api/v1/admin/outbox",
            Some("not-a-real-token"),
            None,
            vec![],
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        case(
            Method::GET,
            "/api/v1/terminal/schedule",
            a,
            None,
            vec![],
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        case(
            Method::GET,
            "/api/v1/nope",
            a,
            None,
            vec![],
            StatusCode::NOT_FOUND,
            "no_such_route",
        ),
        case(
            Method::DELETE,
            "/api/v1/admin/outbox",
            a,
            None,
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        case(
            Method::POST,
            "/api/v1/terminal/enrol",
            None,
            json_ct,
            b"{\"code\": \"x\", \"software_version\": \"1\"}".to_vec(),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
    ];
    for c in cases {
        let (st, v) = raw(
            &s,
            c.method.clone(),
            c.path,
            c.token,
            c.content_type,
            c.body,
        )
        .await;
        assert_eq!(
            (st, v["error"].as_str().unwrap()),
            (c.status, c.code),
            "{} {}: {v}",
            c.method,
            c.path
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn unknown_ids_and_invalid_values_are_named() {
    let s = TestServer::start().await;
    let (st, v) = s
        .admin_post(
            "/api/v1/admin/facilities",
            json!({"name": "X", "time_zone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["message"].as_str().unwrap().contains("Mars/Olympus"),
        "{v}"
    );
    let f = s.facility(1).await;
    let ghost = Uuid::new_v4();
    let (st, v) = s
        .book(
            ghost,
            &[Uuid::new_v4()],
            "remote",
            local(2026, 11, 19, 10, 0),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        v["message"].as_str().unwrap().contains(&ghost.to_string()),
        "{v}"
    );
    let (st, v) = s
        .admin_post(
            &format!("/api/v1/admin/facilities/{}/terminals", f.id),
            json!({"role": "unit", "location": "Pod A"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["message"].as_str().unwrap().contains("housing_unit_id"),
        "{v}"
    );
    let (st, _) = s
        .admin_post(
            &format!("/api/v1/admin/facilities/{}/housing-units", f.id),
            json!({"name": "Pod A"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, v) = s
        .admin_post("/api/v1/admin/visitors", json!({"name": "A B", "email": "nope", "date_of_birth": "1990-01-01", "photo_id_verified": true}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().contains("email"), "{v}");
    let (st, v) = s
        .send(
            Method::POST,
            "/api/v1/terminal/events",
            Some(&s.enrol(&f.lobbies[0].1).await),
            Some(&json!({"events": [{"id": "x"}]})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    s.stop().await;
}

#[tokio::test]
async fn a_wrong_credential_is_told_what_to_do_for_its_kind() {
    let s = TestServer::start().await;
    let (st, admin) = s
        .send(
            Method::GET,
            "/api/v1/admin/outbox",
            Some("not-a-real-token"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(admin["error"], "unauthorized");
    let message = admin["message"].as_str().unwrap();
    assert!(message.contains("visit-server admin-token"), "{admin}");
    assert!(
        !message.contains("enrol") && !message.contains("terminal"),
        "an administrator is not told about terminals: {admin}"
    );

    let (st, terminal) = s
        .send(
            Method::GET,
            "/api/v1/terminal/schedule",
            Some("not-a-real-token"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(terminal["error"], "unauthorized");
    assert!(
        terminal["message"]
            .as_str()
            .unwrap()
            .contains("enrolled again"),
        "{terminal}"
    );
    s.stop().await;
}
