//! `/openapi.json` documents every route, and every documented route is served.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::util::*;

/// The operations the API must offer (the list).
const EXPECTED: &[(&str, &str)] = &[
    ("post", "/api/v1/terminal/enrol"),
    ("get", "/api/v1/terminal/schedule"),
    ("post", "/api/v1/terminal/events"),
    ("post", "/api/v1/terminal/heartbeat"),
    ("post", "/api/v1/admin/facilities"),
    (
        "post",
        "/api/v1/admin/facilities/{facility_id}/housing-units",
    ),
    ("post", "/api/v1/admin/facilities/{facility_id}/terminals"),
    ("post", "/api/v1/admin/facilities/{facility_id}/persons"),
    ("post", "/api/v1/admin/visitors"),
    ("post", "/api/v1/admin/approvals"),
    ("post", "/api/v1/admin/visits"),
    ("post", "/api/v1/admin/visits/{visit_id}/cancel"),
    ("post", "/api/v1/admin/visits/{visit_id}/terminate"),
    ("post", "/api/v1/admin/sanctions"),
    ("get", "/api/v1/admin/outbox"),
    ("get", "/openapi.json"),
];

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_is_served() {
    let s = TestServer::start().await;
    let res = s
        .http
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in EXPECTED {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} missing from /openapi.json"
        );
    }
    let mut served = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let concrete = path
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        "00000000-0000-0000-0000-000000000000"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = s
                .http
                .request(m, format!("{}{concrete}", s.base))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_ne!(
                body["error"], "no_such_route",
                "{method} {path} is documented but not routed"
            );
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            // Everything but enrolment and the document itself needs credentials.
            if op.get("security").is_some() {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} answered without credentials"
                );
            }
            served += 1;
        }
    }
    assert!(served >= EXPECTED.len());
    // The document the CLI prints is the one served.
    assert_eq!(
        serde_json::to_value(visit_server::api::openapi()).unwrap()["paths"],
        doc["paths"]
    );
    s.stop().await;
}
