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

    /// A GET as the live board's own refresh makes it.
    async fn live_get(&mut self, path: &str) -> StatusCode {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("x-console-live", "1")
            .send()
            .await
            .unwrap();
        res.status()
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
    // Not without the password: a console left open cannot be taken.
    let (st, _, _) = c
        .post(
            "/console/account/totp",
            &[("_csrf", &csrf), ("secret", &secret), ("code", &code)],
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _, body) = c
        .post(
            "/console/account/totp",
            &[
                ("_csrf", &csrf),
                ("current", &password),
                ("secret", &secret),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{body}");
    // Once on, it cannot be replaced from the account page.
    let other = visit_server::service::staff::new_totp_secret();
    let code = s.totp_now(&visit_server::totp::from_base32(&other).unwrap());
    let (st, _, _) = c
        .post(
            "/console/account/totp",
            &[
                ("_csrf", &csrf),
                ("current", &password),
                ("secret", &other),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    // A control character in a place to come back to is not a server error.
    let (st, loc, _) = c.get("/console/lang?to=es&back=/console/%01").await;
    assert_eq!((st, loc.as_str()), (StatusCode::SEE_OTHER, "/console/"));
    let (st, _, _) = c.get("/console/").await;
    assert_eq!(st, StatusCode::OK);
    // The rule is for administrators: an officer goes straight in.
    let mut o = Client::new(&s.base);
    o.sign_in("kim", &officer_password, "").await;
    let (st, _, _) = o.get("/console/").await;
    assert_eq!(st, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn another_facilitys_visit_is_not_found_and_cannot_be_changed() {
    let s = TestServer::start().await;
    let c = crate::sockets::call(&s).await;
    let other = s
        .facility_with(0, serde_json::json!({"name": "Other County Jail"}))
        .await;
    let (password, _) = s.staff(other.id, "lee", "administrator", false);
    let mut lee = Client::new(&s.base);
    lee.sign_in("lee", &password, "").await;
    let (st, _, page) = lee.get(&format!("/console/visits/{}", c.visit)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        !page.contains("James Smith") && !page.contains("Maria"),
        "{page}"
    );
    let (_, _, account) = lee.get("/console/account").await;
    let csrf = Client::hidden(&account, "_csrf");
    let (st, _, page) = lee
        .post(
            &format!("/console/visits/{}/cancel", c.visit),
            &[("_csrf", &csrf), ("reason", "mine now")],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{page}");
    assert_eq!(s.visit_status(c.visit).await, "scheduled");
    // Their own day board does not list it.
    let (st, _, board) = lee.get("/console/?date=2026-11-19").await;
    assert_eq!(st, StatusCode::OK);
    assert!(!board.contains(&c.visit.to_string()), "{board}");
    // A malformed id is a page that says so, not a server error.
    let (st, _, _) = lee.get("/console/visits/not-a-visit").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (outcome, before): (String, Option<String>) = s
        .sql()
        .query_row(
            "SELECT outcome, before FROM audit_log WHERE actor = 'staff:lee' AND action = 'cancel_visit'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(outcome.starts_with("refused"), "{outcome}");
    // The other facility's row does not land in this facility's log.
    assert_eq!(before, None);
    s.stop().await;
}

#[tokio::test]
async fn the_day_board_filters_by_kind_status_and_housing_unit() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let james = s
        .person(&f, "A-1001", "James Smith", f.unit_a, serde_json::json!([]))
        .await;
    let david = s
        .person(&f, "B-2002", "David Brown", f.unit_b, serde_json::json!([]))
        .await;
    let maria = s.approved_adult(james, "Maria Smith").await;
    let jen = s.approved_adult(david, "Jennifer Brown").await;
    let (onsite, _) = s
        .book_ok(james, &[maria], "onsite", local(2026, 11, 19, 10, 0))
        .await;
    let (remote, _) = s
        .book_ok(david, &[jen], "remote", local(2026, 11, 19, 14, 0))
        .await;
    s.admin_post(
        &format!("/api/v1/admin/visits/{remote}/cancel"),
        serde_json::json!({"by": "facility", "reason": "lockdown"}),
    )
    .await;
    let (password, _) = s.staff(f.id, "kim", "officer", false);
    let mut c = Client::new(&s.base);
    c.sign_in("kim", &password, "").await;
    let shown = |page: &str| {
        (
            page.contains(&onsite.to_string()),
            page.contains(&remote.to_string()),
        )
    };
    let (_, _, all) = c.get("/console/today/board?date=2026-11-19").await;
    assert_eq!(shown(&all), (true, true));
    let (_, _, p) = c
        .get("/console/today/board?date=2026-11-19&kind=remote")
        .await;
    assert_eq!(shown(&p), (false, true));
    let (_, _, p) = c
        .get("/console/today/board?date=2026-11-19&status=scheduled")
        .await;
    assert_eq!(shown(&p), (true, false));
    let (_, _, p) = c
        .get(&format!(
            "/console/today/board?date=2026-11-19&unit={}",
            f.unit_b
        ))
        .await;
    assert_eq!(shown(&p), (false, true));
    assert!(p.contains("Cancelled"), "{p}");
    s.stop().await;
}

#[tokio::test]
async fn an_open_live_board_does_not_hold_the_server_at_shutdown() {
    let s = TestServer::start().await;
    let f = s.facility(0).await;
    let (password, _) = s.staff(f.id, "kim", "officer", false);
    let mut c = Client::new(&s.base);
    c.sign_in("kim", &password, "").await;
    let mut stream = c
        .http
        .get(format!("{}/console/today/events", s.base))
        .header(COOKIE, c.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("change"),
        "{first:?}"
    );
    tokio::time::timeout(std::time::Duration::from_secs(5), s.stop())
        .await
        .expect("the server stopped with a live board open");
    // The stream ended rather than being cut mid-event.
    while let Ok(Some(_)) = stream.chunk().await {}
}

#[tokio::test]
async fn only_a_right_unused_code_passes_the_second_factor() {
    let s = TestServer::start().await;
    let f = s.facility(0).await;
    let (password, secret) = s.staff(f.id, "boss", "administrator", true);
    let secret = secret.unwrap();
    let right = s.totp_now(&secret);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let used = visit_server::totp::hotp(
        &secret,
        (visit_server::totp::step_at(visit_server::clock::Clock::now(&*s.clock).timestamp()) - 1)
            as u64,
    );
    for code in [wrong, used.as_str(), ""] {
        let mut c = Client::new(&s.base);
        let (st, _, page) = c.sign_in("boss", &password, code).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "code {code:?} let them in");
        assert!(page.contains("6-digit code"), "{page}");
        let (st, _, _) = c.get("/console/").await;
        assert_eq!(st, StatusCode::SEE_OTHER, "code {code:?}: no session");
    }
    let mut c = Client::new(&s.base);
    let (st, loc, _) = c.sign_in("boss", &password, &right).await;
    assert_eq!((st, loc.as_str()), (StatusCode::SEE_OTHER, "/console/"));
    // The same code a second time is a replay.
    let mut again = Client::new(&s.base);
    let (st, _, _) = again.sign_in("boss", &password, &right).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "a code is good once");
    s.stop().await;
}

#[tokio::test]
async fn the_live_boards_own_refreshes_do_not_keep_a_session_alive() {
    let s = TestServer::start().await;
    let f = s.facility(0).await;
    let (password, _) = s.staff(f.id, "kim", "officer", false);
    let mut c = Client::new(&s.base);
    c.sign_in("kim", &password, "").await;
    for _ in 0..3 {
        s.clock.advance(chrono::Duration::minutes(9));
        assert_eq!(c.live_get("/console/today/board").await, StatusCode::OK);
    }
    // 32 minutes without a request of the person's own: signed out.
    s.clock.advance(chrono::Duration::minutes(5));
    let (st, loc, _) = c.get("/console/").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.starts_with("/console/sign-in"), "{loc}");
    s.stop().await;
}

#[tokio::test]
async fn typed_ids_and_dates_stay_inside_the_facility_and_the_calendar() {
    let s = TestServer::start().await;
    let f = s.facility(0).await;
    let other = s
        .facility_with(0, serde_json::json!({"name": "Other County Jail"}))
        .await;
    let james = s
        .person(&f, "A-1001", "James Smith", f.unit_a, serde_json::json!([]))
        .await;
    let theirs = s
        .person(
            &other,
            "Z-9",
            "Zed Other",
            other.unit_a,
            serde_json::json!([]),
        )
        .await;
    let their_visitor = s.approved_adult(theirs, "Olga Other").await;
    let (password, _) = s.staff(f.id, "kim", "officer", false);
    let mut c = Client::new(&s.base);
    c.sign_in("kim", &password, "").await;
    // Another facility's visitor cannot be put on our person's list by id.
    let (_, _, page) = c.get(&format!("/console/people/{james}")).await;
    let csrf = Client::hidden(&page, "_csrf");
    let (st, _, body) = c
        .post(
            &format!("/console/people/{james}/approvals"),
            &[("_csrf", &csrf), ("visitor_id", &their_visitor.to_string())],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    assert!(!body.contains("Olga"), "{body}");
    let n: i64 = s
        .sql()
        .query_row(
            "SELECT COUNT(*) FROM approvals WHERE person_id = ?1",
            [james.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
    // The end of the calendar is an empty list, not a server error.
    let (st, _, _) = c
        .get(&format!(
            "/console/people/{james}/book?date=%2B262142-12-31&kind=onsite"
        ))
        .await;
    assert!(st.is_success(), "{st}");
    let (st, v) = s
        .admin_get(&format!(
            "/api/v1/admin/facilities/{}/free-slots?date=%2B262142-12-31&kind=remote",
            f.id
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, serde_json::json!([]));
    // A refused sign-in of a real account goes into its facility's log.
    let mut c = Client::new(&s.base);
    c.sign_in("kim", "not the password", "").await;
    let facility: Option<String> = s
        .sql()
        .query_row(
            "SELECT facility_id FROM audit_log WHERE action = 'sign_in' AND outcome LIKE 'refused%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(facility, Some(f.id.to_string()));
    s.stop().await;
}

#[tokio::test]
async fn a_rules_refusal_is_told_in_spanish_on_spanish_pages() {
    let s = TestServer::start().await;
    let c = crate::sockets::call(&s).await;
    s.clock.set(local(2026, 11, 19, 10, 5));
    s.wait_for_status(c.visit, "pending").await;
    let (password, _) = s.staff(c.f.id, "kim", "officer", false);
    let mut b = Client::new(&s.base);
    b.cookies.insert("lang".into(), "es".into());
    b.sign_in("kim", &password, "").await;
    let (_, _, page) = b.get(&format!("/console/visits/{}", c.visit)).await;
    assert!(page.contains("lang=\"es\""), "{page}");
    let csrf = Client::hidden(&page, "_csrf");
    let (st, _, page) = b
        .post(
            &format!("/console/visits/{}/reschedule", c.visit),
            &[("_csrf", &csrf), ("start", "2026-11-20T10:00")],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("ya no se puede cambiar de hora"), "{page}");
    let (st, _, page) = b
        .get(&format!("/console/visits/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(page.contains("No existe"), "{page}");
    s.stop().await;
}
