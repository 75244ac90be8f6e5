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
    ("get", "/api/v1/admin/visitors"),
    ("get", "/api/v1/admin/facilities/{facility_id}/free-slots"),
    ("post", "/api/v1/admin/visits/{visit_id}/reschedule"),
    ("post", "/api/v1/admin/terminals/{terminal_id}/revoke"),
    ("post", "/api/v1/terminal/recordings"),
    ("put", "/api/v1/terminal/recordings/{segment_id}"),
    ("get", "/api/v1/terminal/recordings/{segment_id}"),
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

/// A value of this schema the server must refuse, or `None` for free text.
fn malformed(schema: &Value, doc: &Value) -> Option<&'static str> {
    let schema = resolve(schema, doc);
    if schema.get("enum").is_some() {
        return Some("no-such-value");
    }
    let types = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.contains(&"integer") || types.contains(&"number") {
        return Some("-1x");
    }
    if types.contains(&"boolean") {
        return Some("maybe");
    }
    match schema["format"].as_str() {
        Some("date") => Some("not-a-date"),
        Some("date-time") => Some("not-a-time"),
        Some("uuid") => Some("not-a-uuid"),
        _ => None,
    }
}

/// A value of this schema the server accepts.
fn valid(schema: &Value, doc: &Value) -> String {
    let schema = resolve(schema, doc);
    if let Some(e) = schema["enum"].as_array() {
        return e[0].as_str().unwrap().to_string();
    }
    match (schema["format"].as_str(), malformed(schema, doc)) {
        (Some("date"), _) => "2026-11-20".into(),
        (Some("date-time"), _) => "2026-11-20T16:00:00Z".into(),
        (Some("uuid"), _) => "00000000-0000-0000-0000-000000000000".into(),
        (_, Some("-1x")) => "1".into(),
        (_, Some("maybe")) => "true".into(),
        _ => String::new(),
    }
}

fn resolve<'a>(schema: &'a Value, doc: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// What one request answered: status and error code (if JSON), length of
/// a JSON list.
struct Answer {
    status: StatusCode,
    error: String,
    len: Option<usize>,
}

async fn call(
    s: &TestServer,
    method: &str,
    path: &str,
    query: &[(String, String)],
    auth: Option<&str>,
) -> Answer {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut req = s.http.request(m, format!("{}{path}", s.base)).query(query);
    if let Some(t) = auth {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap_or(Value::Null);
    Answer {
        status,
        error: body["error"].as_str().unwrap_or("").to_string(),
        len: body.as_array().map(Vec::len),
    }
}

/// What the parameter checks call with: a server with a facility, an
/// enrolled lobby terminal and a booked remote visit with its join token.
struct Fixture {
    s: TestServer,
    facility: String,
    lobby: String,
    visit: String,
    token: String,
}

impl Fixture {
    async fn new() -> Self {
        let s = TestServer::start().await;
        let f = s.facility(1).await;
        let lobby = s.enrol(&f.lobbies[0].1).await;
        let p = s
            .person(&f, "A1", "James Smith", f.unit_a, serde_json::json!([]))
            .await;
        let v = s.approved_adult(p, "Maria Smith").await;
        let (st, booked) = s.book(p, &[v], "remote", local(2026, 11, 20, 10, 0)).await;
        assert_eq!(st, StatusCode::CREATED);
        let visit = id(&booked["visit"]).to_string();
        let token = booked["join_tokens"][0]["token"]
            .as_str()
            .unwrap()
            .to_string();
        Fixture {
            s,
            facility: f.id.to_string(),
            lobby,
            visit,
            token,
        }
    }

    /// The template with the fixture's ids (an unknown id elsewhere).
    fn concrete(&self, path: &str) -> String {
        path.replace("{visit_id}", &self.visit)
            .replace("{facility_id}", &self.facility)
            .split('/')
            .map(|g| {
                if g.starts_with('{') {
                    "00000000-0000-0000-0000-000000000000"
                } else {
                    g
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The credential the operation's security asks for. Signalling reads
    /// its `token` only without an Authorization header, so none there.
    fn auth(&self, path: &str, op: &Value) -> Option<&str> {
        let security = op["security"].to_string();
        if path.starts_with("/api/v1/signal") {
            None
        } else if security.contains("\"admin\"") {
            Some(self.s.admin.as_str())
        } else if security.contains("\"terminal\"") {
            Some(self.lobby.as_str())
        } else {
            None
        }
    }
}

/// A path parameter is `{name}` in the template, a query parameter is not,
/// and every `{name}` is documented as a path parameter.
fn check_locations(what: &str, path: &str, params: &[Value]) {
    for seg in path.split('/').filter(|g| g.starts_with('{')) {
        let name = seg.trim_matches(['{', '}']);
        assert!(
            params
                .iter()
                .any(|p| p["name"] == name && p["in"] == "path"),
            "{what}: `{name}` is not documented as a path parameter"
        );
    }
    for param in params {
        let name = param["name"].as_str().unwrap();
        let in_template = path.contains(&format!("{{{name}}}"));
        match param["in"].as_str().unwrap() {
            "path" => assert!(
                in_template,
                "{what}: path parameter `{name}` is not in the path"
            ),
            "query" => assert!(
                !in_template,
                "{what}: query parameter `{name}` is in the path"
            ),
            "header" => {}
            other => panic!("{what}: `{name}` in {other}"),
        }
    }
}

/// Sending `param` malformed is a 400 `invalid_query` where the other
/// values are accepted; a free-text one changes the answer.
async fn check_query_param(
    fx: &Fixture,
    doc: &Value,
    (method, path, op): (&str, &str, &Value),
    param: &Value,
    good: &[(String, String)],
) {
    let name = param["name"].as_str().unwrap();
    let with = |value: &str| -> Vec<(String, String)> {
        let mut q: Vec<_> = good.iter().filter(|(n, _)| n != name).cloned().collect();
        q.push((name.to_string(), value.to_string()));
        q
    };
    let what = format!("{method} {path} ?{name}");
    let (s, concrete, auth) = (&fx.s, fx.concrete(path), fx.auth(path, op));
    let base = call(s, method, &concrete, good, auth).await;
    assert_ne!(base.error, "invalid_query", "{what}: refused valid values");
    assert!(!base.status.is_server_error(), "{what}");
    match malformed(&param["schema"], doc) {
        Some(bad) => {
            let a = call(s, method, &concrete, &with(bad), auth).await;
            let got = (a.status, a.error.as_str());
            assert_eq!(
                got,
                (StatusCode::BAD_REQUEST, "invalid_query"),
                "{what}={bad}"
            );
        }
        None if name == "q" => {
            let all = call(s, method, &concrete, &[], auth).await;
            let none = call(s, method, &concrete, &with("zz-matches-nothing"), auth).await;
            assert!(
                all.len.unwrap() > 0,
                "{what}: the fixture gives nothing to search"
            );
            assert_eq!(none.len, Some(0), "{what}: the text did not filter");
        }
        None if name == "token" => {
            let right = call(s, method, &concrete, &with(&fx.token), auth).await;
            let wrong = call(s, method, &concrete, &with(""), auth).await;
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{what}");
            assert_ne!(
                right.status,
                StatusCode::UNAUTHORIZED,
                "{what}: the token was not read"
            );
        }
        None => panic!("{what}: free-text query parameter with no check here; add one"),
    }
}

#[tokio::test]
async fn every_documented_parameter_is_read_from_where_the_document_says() {
    let fx = Fixture::new().await;
    let doc: Value =
        fx.s.http
            .get(format!("{}/openapi.json", fx.s.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let mut query_params = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            check_locations(&format!("{method} {path}"), path, &params);
            let query: Vec<&Value> = params.iter().filter(|p| p["in"] == "query").collect();
            // Accepted values for every query parameter (no search text).
            let good: Vec<(String, String)> = query
                .iter()
                .map(|q| {
                    let name = q["name"].as_str().unwrap().to_string();
                    let value = match name.as_str() {
                        "token" => fx.token.clone(),
                        _ => valid(&q["schema"], &doc),
                    };
                    (name, value)
                })
                .filter(|(n, _)| n != "q")
                .collect();
            for param in query {
                query_params += 1;
                check_query_param(&fx, &doc, (method, path, op), param, &good).await;
            }
        }
    }
    assert!(
        query_params >= 10,
        "only {query_params} query parameters checked"
    );
    fx.s.stop().await;
}
