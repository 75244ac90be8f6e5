//! Console sessions over plain HTTP: signing out everywhere ends every
//! session of the account, and a facility that requires a second factor
//! of administrators sends one without it to set it up, and nowhere else.

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::util::*;

/// A browser-like client: keeps cookies, does not follow redirects.
struct Client {
    http: reqwest::Client,
    base: String,
    cookies: HashMap<String, String>,
}

impl Client {
    fn new(base: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if val.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
    }

    /// (status, Location, body)
    async fn get(&mut self, path: &str) -> (StatusCode, String, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&res);
        let loc = res
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (res.status(), loc, res.text().await.unwrap())
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&res);
        let loc = res
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (res.status(), loc, res.text().await.unwrap())
    }

    /// A hidden field's value in a page.
    fn hidden(page: &str, name: &str) -> String {
        let at = page
            .find(&format!("name=\"{name}\" value=\""))
            .unwrap_or_else(|| panic!("no {name} in {page}"));
        let rest = &page[at + name.len() + 15..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    async fn sign_in(
        &mut self,
        user: &str,
        password: &str,
        code: &str,
    ) -> (StatusCode, String, String) {
        let (_, _, page) = self.get("/console/sign-in").await;
        let token = Self::hidden(&page, "_signin");
        self.post(
            "/console/sign-in",
            &[
                ("_signin", &token),
                ("next", "/console/"),
                ("username", user),
                ("password", password),
                ("code", code),
            ],
        )
        .await
    }
}

#[tokio::test]
async fn signing_out_everywhere_ends_the_other_sessions_too() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let (password, _) = s.staff(f.id, "kim", "officer", false);
    let mut desk = Client::new(&s.base);
    let mut laptop = Client::new(&s.base);
    for c in [&mut desk, &mut laptop] {
        let (st, loc, body) = c.sign_in("kim", &password, "").await;
        assert_eq!(
            (st, loc.as_str()),
            (StatusCode::SEE_OTHER, "/console/"),
            "{body}"
        );
        let (st, _, _) = c.get("/console/").await;
        assert_eq!(st, StatusCode::OK);
    }
    let (_, _, account) = desk.get("/console/account").await;
    let csrf = Client::hidden(&account, "_csrf");
    let (st, loc, _) = desk
        .post("/console/sign-out-everywhere", &[("_csrf", &csrf)])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.starts_with("/console/sign-in"), "{loc}");
    for c in [&mut desk, &mut laptop] {
        let (st, loc, _) = c.get("/console/").await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(
            loc.starts_with("/console/sign-in"),
            "signed out everywhere: {loc}"
        );
    }
    let n: i64 = s
        .sql()
        .query_row("SELECT COUNT(*) FROM staff_sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    s.stop().await;
}

#[tokio::test]
async fn an_administrator_without_a_second_factor_must_set_one_up_first() {
    let s = TestServer::start().await;
    let f = s.facility_with(1, serde_json::json!({})).await;
    s.sql()
        .execute(
            "UPDATE facilities SET require_totp_for_admins = 1 WHERE id = ?1",
            [f.id.to_string()],
        )
        .unwrap();
    let (password, _) = s.staff(f.id, "boss", "administrator", false);
    let (officer_password, _) = s.staff(f.id, "kim", "officer", false);
    let mut c = Client::new(&s.base);
    c.sign_in("boss", &password, "").await;
    let (st, loc, _) = c.get("/console/").await;
    assert_eq!(
        (st, loc.as_str()),
        (StatusCode::SEE_OTHER, "/console/account"),
        "sent to set it up"
    );
    let (st, _, account) = c.get("/console/account").await;
    assert_eq!(st, StatusCode::OK);
    assert!(account.contains("requires administrators"), "{account}");
    // Setting it up with a right code lets them in.
    let secret = Client::hidden(&account, "secret");
    let csrf = Client::hidden(&account, "_csrf");
    let code = s.totp_now(&visit_server::totp::from_base32(&secret).unwrap());
    let (st, _, body) = c
        .post(
            "/console/account/totp",
            &[("_csrf", &csrf), ("secret", &secret), ("code", &code)],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{body}");
    let (st, _, _) = c.get("/console/").await;
    assert_eq!(st, StatusCode::OK);
    // The rule is for administrators: an officer goes straight in.
    let mut o = Client::new(&s.base);
    o.sign_in("kim", &officer_password, "").await;
    let (st, _, _) = o.get("/console/").await;
    assert_eq!(st, StatusCode::OK);
    s.stop().await;
}
