//! The staff console's defences over plain HTTP (no browser): the lockout,
//! session expiry, CSRF, the administrator-only pages, and another
//! facility's rows. Every refusal has an audit line; no request gets a 5xx.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::json;

use crate::util::*;

/// A browser stand-in: keeps the console's cookies itself (they are
/// `Secure`, and this is plain HTTP) and follows no redirect.
pub struct Console {
    base: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub location: String,
    pub body: String,
}

impl Console {
    pub fn new(s: &TestServer) -> Self {
        Console {
            base: s.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let res = req
            .header("cookie", cookie)
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        for v in res.headers().get_all("set-cookie") {
            let first = v.to_str().unwrap().split(';').next().unwrap();
            let (k, val) = first.split_once('=').unwrap();
            self.cookies.insert(k.to_string(), val.to_string());
        }
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = res.text().await.unwrap();
        assert!(!status.is_server_error(), "{status}: {body}");
        Answer {
            status,
            location,
            body,
        }
    }

    /// A GET answered in bytes (a download, a video), with an optional
    /// `Range`: status, headers, body.
    pub async fn fetch(
        &mut self,
        path: &str,
        range: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut req = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie);
        if let Some(r) = range {
            req = req.header("range", r);
        }
        let res = req.send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.bytes().await.unwrap().to_vec())
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let req = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    /// A change as a page's form makes it: with the session's CSRF token.
    pub async fn change(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let page = self.get("/console/account").await;
        let csrf = hidden(&page.body, "_csrf");
        let mut all = vec![("_csrf", csrf.as_str())];
        all.extend_from_slice(form);
        self.post(path, &all).await
    }

    pub async fn sign_in(&mut self, user: &str, password: &str) -> Answer {
        let page = self.get("/console/sign-in").await;
        let token = hidden(&page.body, "_signin");
        self.post(
            "/console/sign-in",
            &[
                ("_signin", &token),
                ("next", "/console/"),
                ("username", user),
                ("password", password),
                ("code", ""),
            ],
        )
        .await
    }
}

/// A hidden field's value in a page.
pub fn hidden(body: &str, name: &str) -> String {
    let at = body
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} field in {body}"));
    let rest = &body[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The audit lines of an actor: (action, outcome).
fn lines_of(s: &TestServer, actor: &str) -> Vec<(String, String)> {
    let c = s.sql();
    let mut stmt = c
        .prepare("SELECT action, outcome FROM audit_log WHERE actor = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([actor], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_and_each_is_audited() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let (password, _) = s.staff(f.id, "lee", "officer", false);
    let mut c = Console::new(&s);
    for _ in 0..5 {
        let a = c.sign_in("lee", "wrong password!!").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(a.body.contains("wrong"), "{}", a.body);
    }
    let a = c.sign_in("lee", &password).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.body.contains("locked"), "{}", a.body);
    assert!(!c.cookies.contains_key("vs_session"));
    let lines = lines_of(&s, "staff:lee");
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|(a, o)| a == "sign_in" && o.starts_with("refused")),
        "{lines:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_expired_session_sends_a_page_to_sign_in() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let (password, _) = s.staff(f.id, "lee", "officer", false);
    let mut c = Console::new(&s);
    let a = c.sign_in("lee", &password).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(c.get("/console/approvals").await.status, StatusCode::OK);
    s.clock.advance(chrono::Duration::minutes(31));
    let a = c.get("/console/approvals").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.location.starts_with("/console/sign-in"), "{}", a.location);
    s.stop().await;
}

#[tokio::test]
async fn a_change_without_the_csrf_token_is_refused_and_changes_nothing() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let (password, _) = s.staff(f.id, "boss", "administrator", false);
    let mut c = Console::new(&s);
    c.sign_in("boss", &password).await;
    let terminal = f.lobbies[0].0;
    let a = c
        .post(&format!("/console/terminals/{terminal}/revoke"), &[])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let wrong = c
        .post(
            &format!("/console/terminals/{terminal}/revoke"),
            &[("_csrf", "not the token")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let revoked: Option<i64> = s
        .sql()
        .query_row(
            "SELECT revoked_at FROM terminals WHERE id = ?1",
            [terminal.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(revoked, None);
    let lines = lines_of(&s, "staff:boss");
    let refused = lines
        .iter()
        .filter(|(a, o)| a == "csrf_check" && o == "refused: 403")
        .count();
    assert_eq!(refused, 2, "{lines:?}");
    assert!(!lines.iter().any(|(a, _)| a == "revoke_terminal"));
    s.stop().await;
}

#[tokio::test]
async fn an_officer_is_refused_the_administrators_pages_with_an_audit_line() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let (password, _) = s.staff(f.id, "lee", "officer", false);
    let mut c = Console::new(&s);
    c.sign_in("lee", &password).await;
    for page in [
        "/console/terminals",
        "/console/settings",
        "/console/staff",
        "/console/audit",
        "/console/audit.csv",
    ] {
        let a = c.get(page).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{page}");
        assert!(a.body.contains("administrator"), "{}", a.body);
    }
    let terminal = f.lobbies[0].0;
    let a = c
        .change(&format!("/console/terminals/{terminal}/revoke"), &[])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = c
        .change(
            "/console/staff",
            &[
                ("username", "sneaky"),
                ("name", "Sneaky"),
                ("role", "administrator"),
                ("password", "a long password 1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let lines = lines_of(&s, "staff:lee");
    for action in [
        "view_terminals",
        "view_settings",
        "view_staff",
        "view_audit_log",
        "download_audit_log",
        "revoke_terminal",
        "create_staff",
    ] {
        assert!(
            lines.contains(&(action.to_string(), "refused: 403".to_string())),
            "{action}: {lines:?}"
        );
    }
    let count: i64 = s
        .sql()
        .query_row(
            "SELECT count(*) FROM staff WHERE username = 'sneaky'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 0);
    s.stop().await;
}

#[tokio::test]
async fn another_facilitys_requests_and_terminals_answer_404_without_their_data() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let other = s.facility(1).await;
    let secret_person = s
        .person(&other, "Z-9999", "Zebulon Hidden", other.unit_a, json!([]))
        .await;
    let visitor = s.visitor("Yolanda Hidden", adult_dob(), true).await;
    let req = s
        .create(
            "/api/v1/admin/approval-requests",
            json!({"person_id": secret_person, "visitor_id": visitor}),
        )
        .await;
    let req = id(&req);
    let (password, _) = s.staff(f.id, "boss", "administrator", false);
    let mut c = Console::new(&s);
    c.sign_in("boss", &password).await;
    let theirs = other.lobbies[0].0;
    let attempts: [(String, Vec<(&str, &str)>); 5] = [
        (format!("/console/approvals/requests/{req}/approve"), vec![]),
        (
            format!("/console/approvals/requests/{req}/deny"),
            vec![("reason", "no")],
        ),
        (
            format!("/console/approvals/photo-id/{visitor}/approve"),
            vec![],
        ),
        (format!("/console/terminals/{theirs}/code"), vec![]),
        (format!("/console/terminals/{theirs}/revoke"), vec![]),
    ];
    for (path, form) in &attempts {
        let a = c.change(path, form).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.body);
        for secret in ["Zebulon", "Yolanda", "Lobby monitor"] {
            assert!(!a.body.contains(secret), "{path} shows {secret}");
        }
    }
    let page = c.get("/console/approvals").await;
    assert!(!page.body.contains("Hidden"), "{}", page.body);
    let terminals = c.get("/console/terminals").await;
    assert!(!terminals.body.contains(&theirs.to_string()));
    let (status, pending): (String, Option<i64>) = s
        .sql()
        .query_row(
            "SELECT r.status, t.revoked_at FROM approval_requests r, terminals t
             WHERE r.id = ?1 AND t.id = ?2",
            [req.to_string(), theirs.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), pending), ("pending", None));
    s.stop().await;
}

/// The `<input>` fields of a page's form as a browser would send them
/// (text and number values, ticked checkboxes).
fn inputs(body: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let key = format!(" {name}=\"");
        tag.find(&key).map(|at| {
            let rest = &tag[at + key.len()..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        })
    };
    body.split("<input")
        .skip(1)
        .filter_map(|t| {
            let tag = &t[..t.find('>').unwrap()];
            let name = attr(tag, "name")?;
            if attr(tag, "type").as_deref() == Some("checkbox") && !tag.contains(" checked") {
                return None;
            }
            Some((name, attr(tag, "value").unwrap_or_default()))
        })
        .collect()
}

#[tokio::test]
async fn settings_round_trip_and_malformed_ice_json_is_refused_clearly() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let (password, _) = s.staff(f.id, "boss", "administrator", false);
    let mut c = Console::new(&s);
    c.sign_in("boss", &password).await;
    let rules = |s: &TestServer| -> (String, String, String) {
        s.sql()
            .query_row(
                "SELECT onsite_rules, remote_rules, ice_servers FROM facilities WHERE id = ?1",
                [f.id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    };
    let before = rules(&s);
    let page = c.get("/console/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    let form = &page.body[page.body.find("id=\"settings\"").unwrap()..];
    let fields = inputs(&form[..form.find("</form>").unwrap()]);
    assert!(fields.iter().any(|(k, _)| k == "onsite_mon"), "{fields:?}");
    let with_ice = |ice: &'static str| {
        let mut v: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        v.push(("ice", ice));
        v
    };
    let bad = c.post("/console/settings", &with_ice("[{\"urls\": ")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("not valid JSON"), "{}", bad.body);
    assert_eq!(rules(&s), before);

    let ok = c
        .post(
            "/console/settings",
            &with_ice("stun:stun.example.org:3478\n"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let after = rules(&s);
    assert_eq!((&after.0, &after.1), (&before.0, &before.1));
    assert_eq!(
        after.2,
        r#"[{"urls":["stun:stun.example.org:3478"],"username":null,"credential":null}]"#
    );
    s.stop().await;
}

#[tokio::test]
async fn a_deny_without_a_reason_is_refused_and_changes_nothing() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let james = s
        .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
        .await;
    let ana = s.visitor("Ana Waiting", adult_dob(), false).await;
    let req = id(&s
        .create(
            "/api/v1/admin/approval-requests",
            json!({"person_id": james, "visitor_id": ana}),
        )
        .await);
    let (password, _) = s.staff(f.id, "lee", "officer", false);
    let mut c = Console::new(&s);
    c.sign_in("lee", &password).await;
    for path in [
        format!("/console/approvals/requests/{req}/deny"),
        format!("/console/approvals/photo-id/{ana}/deny"),
    ] {
        let a = c.change(&path, &[("reason", "  ")]).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(a.body.contains("Write the reason"), "{}", a.body);
    }
    let page = c.get("/console/approvals").await;
    assert!(page.body.contains("Ana Waiting"));
    let a = c
        .change(
            &format!("/console/approvals/photo-id/{ana}/deny"),
            &[("reason", "The photo is blurred")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let reason: Option<String> = s
        .sql()
        .query_row(
            "SELECT photo_id_denied_reason FROM visitors WHERE id = ?1",
            [ana.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason.as_deref(), Some("The photo is blurred"));
    s.stop().await;
}

#[tokio::test]
async fn the_audit_log_pages_back_and_the_pages_speak_spanish() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let (password, _) = s.staff(f.id, "boss", "administrator", false);
    let mut c = Console::new(&s);
    c.sign_in("boss", &password).await;
    // 1 sign-in and 55 refused forms, after the fixture's own lines.
    for _ in 0..55 {
        c.post("/console/settings", &[]).await;
    }
    let first = c.get("/console/audit").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.matches("<tr data-seq=").count(), 50);
    let older = hidden_href(&first.body, "audit-older");
    let second = c.get(&older).await;
    let total: usize = s
        .sql()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE facility_id = ?1",
            [f.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(total > 56, "{total}");
    assert_eq!(second.body.matches("<tr data-seq=").count(), total - 50);
    assert!(second.body.contains(">sign_in<"), "{}", second.body);
    assert!(!second.body.contains("id=\"audit-older\""));

    c.cookies.insert("lang".into(), "es".into());
    for (page, words) in [
        ("/console/terminals", "Añadir una terminal"),
        ("/console/settings", "Visitas presenciales"),
        ("/console/staff", "Añadir una cuenta"),
        ("/console/audit", "Descargar CSV"),
        ("/console/approvals", "Comprobación de identificación"),
    ] {
        let a = c.get(page).await;
        assert!(a.body.contains(words), "{page}: {}", a.body);
        assert!(a.body.contains("<html lang=\"es\">"), "{page}");
    }
    s.stop().await;
}

/// A link's address by its id.
fn hidden_href(body: &str, id: &str) -> String {
    let at = body.find(&format!("id=\"{id}\" href=\"")).unwrap();
    let rest = &body[at + id.len() + 12..];
    rest[..rest.find('"').unwrap()].replace("&amp;", "&")
}
