//! The console's people and visitors pages: an officer books a visit on a
//! visitor's behalf from the free slots, lifts a sanction (both in real
//! headless Chromium, with axe-core on each page); and over plain HTTP,
//! another facility's person or visitor answers 404 without its data, and
//! a change without the CSRF field is refused and changes nothing.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::json;
use uuid::Uuid;

use crate::console_browser::*;
use crate::util::*;
use crate::webdriver::Browser;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn axe() -> String {
    let tools = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("tools/axe-core-4.10.3/axe.min.js");
    std::fs::read_to_string(&tools).unwrap_or_else(|e| panic!("{}: {e}", tools.display()))
}

fn count(s: &TestServer, sql: &str, arg: &str) -> i64 {
    s.sql().query_row(sql, [arg], |r| r.get(0)).unwrap()
}

fn wait_path(b: &Browser, what: &str, want: &str) {
    wait_for(
        b,
        what,
        Duration::from_secs(10),
        &format!("return location.pathname === {want:?} && document.readyState === 'complete';"),
    );
}

fn wait_el(b: &Browser, what: &str, selector: &str) {
    wait_for(
        b,
        what,
        Duration::from_secs(10),
        &format!("return !!document.querySelector({selector:?});"),
    );
}

#[test]
fn an_officer_books_a_visit_on_behalf_of_an_approved_visitor() {
    let rt = runtime();
    let (s, f, james, maria) = rt.block_on(async {
        let s = TestServer::start().await;
        let f = s.facility(1).await;
        let james = s
            .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
            .await;
        let maria = s.approved_adult(james, "Maria Smith").await;
        (s, f, james, maria)
    });
    let (password, _) = s.staff(f.id, "rivera", "officer", false);
    let base = s.base.replace("127.0.0.1", "localhost");
    let axe = axe();
    let b = Browser::chromium();
    sign_in(&b, &base, "rivera", &password, None);
    wait_path(&b, "the day board", "/console/");

    b.open(&format!("{base}/console/people"));
    wait_el(&b, "the search form", "#q");
    fill(&b, &[("q", "a-1001")]);
    submit(&b, "form[action='/console/people']");
    wait_el(&b, "the results", "#people a");
    assert!(text(&b, "#people").contains("James Smith"));
    assert_accessible(&b, &axe, "the people search");

    b.js("document.querySelector('#people a').click(); return true;");
    wait_path(&b, "the person page", &format!("/console/people/{james}"));
    assert!(text(&b, "#approved").contains("Maria Smith"));
    assert!(text(&b, "#unit").contains("Pod A"));
    assert_accessible(&b, &axe, "the person page");

    b.js("document.getElementById('book-link').click(); return true;");
    wait_el(&b, "the booking page", "#slot-choice");
    fill(&b, &[("date", "2026-11-19")]);
    submit(&b, "#slot-choice");
    wait_el(&b, "the free slots", "#slots button");
    let checked = b.js(&format!(
        "return document.getElementById('v-{maria}').checked;"
    ));
    assert_eq!(checked, true, "the approved visitor is chosen");
    assert_accessible(&b, &axe, "the booking page");
    let start = b.js("return document.querySelector('#slots button').dataset.start;");
    submit(&b, "#slots form");
    wait_el(&b, "the confirmation", "#booked-visit");
    assert_eq!(path(&b), format!("/console/people/{james}"));
    assert!(
        text(&b, "#notice").contains("PIN by e-mail"),
        "{}",
        text(&b, "main")
    );
    let href = b.js("return document.getElementById('booked-visit').getAttribute('href');");
    let visit: Uuid = href
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(text(&b, "#visits").contains("Maria Smith"));

    let (st, v) = rt.block_on(s.admin_get(&format!("/api/v1/admin/visits/{visit}")));
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["visit"]["visitor_ids"], json!([maria]));
    assert_eq!(
        v["visit"]["start"]
            .as_str()
            .map(|t| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap()),
        start.as_str().map(|t| t.parse().unwrap())
    );
    let visit = visit.to_string();
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM outbox WHERE visit_id = ?1 AND kind = 'confirmation'",
            &visit
        ),
        1
    );
    let audit = "SELECT count(*) FROM audit_log WHERE action = 'book_visit' AND actor = 'staff:rivera' AND outcome = 'done' AND target = ?1";
    assert_eq!(count(&s, audit, &format!("visit:{visit}")), 1);
    drop(b);
    rt.block_on(s.stop());
}

#[test]
fn an_officer_lifts_a_sanction_and_the_visitor_can_book_again() {
    let rt = runtime();
    let (s, f, james, maria, sanction) = rt.block_on(async {
        let s = TestServer::start().await;
        let f = s.facility(1).await;
        let james = s
            .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
            .await;
        let maria = s.approved_adult(james, "Maria Smith").await;
        let sanction = s
            .create(
                "/api/v1/admin/sanctions",
                json!({"visitor_id": maria, "reason": "passed contraband"}),
            )
            .await;
        let (st, _) = s
            .book(james, &[maria], "onsite", local(2026, 11, 19, 10, 0))
            .await;
        assert_eq!(
            st,
            StatusCode::UNPROCESSABLE_ENTITY,
            "sanctioned visitors cannot book"
        );
        (s, f, james, maria, id(&sanction))
    });
    let (password, _) = s.staff(f.id, "okafor", "officer", false);
    let base = s.base.replace("127.0.0.1", "localhost");
    let axe = axe();
    let b = Browser::chromium();
    sign_in(&b, &base, "okafor", &password, None);
    wait_path(&b, "the day board", "/console/");
    b.open(&format!("{base}/console/visitors/{maria}"));
    wait_el(&b, "the sanctions", "#sanctions");
    assert!(text(&b, "#sanctions").contains("passed contraband"));
    assert!(text(&b, "#persons").contains("James Smith"));
    assert_accessible(&b, &axe, "the visitor page");

    fill(
        &b,
        &[(&format!("lift-{sanction}"), "appeal granted by the captain")],
    );
    submit(&b, "form.lift");
    wait_el(&b, "the notice", "#notice");
    let row = format!("tr[data-sanction='{sanction}'] .lifted");
    assert!(
        text(&b, &row).contains("appeal granted by the captain"),
        "{}",
        text(&b, "main")
    );
    assert_eq!(
        b.js("return document.querySelectorAll('form.lift').length;"),
        0
    );
    assert_accessible(&b, &axe, "the visitor page after lifting");

    rt.block_on(s.book_ok(james, &[maria], "onsite", local(2026, 11, 19, 10, 0)));
    let audit = "SELECT count(*) FROM audit_log WHERE action = 'lift_sanction' AND actor = 'staff:okafor' AND outcome = 'done' AND target = ?1";
    assert_eq!(count(&s, audit, &format!("sanction:{sanction}")), 1);
    drop(b);
    rt.block_on(s.stop());
}

/// A signed-in console session over plain HTTP: its cookie and CSRF token.
struct Session {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

fn set_cookie(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_string()
}

/// The value of the first hidden field `name` in a page.
fn hidden(body: &str, name: &str) -> String {
    let at = body
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name}"));
    let rest = &body[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

impl Session {
    async fn sign_in(s: &TestServer, user: &str, password: &str) -> Session {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .get(format!("{}/console/sign-in", s.base))
            .send()
            .await
            .unwrap();
        let signin_cookie = set_cookie(&r, "vs_signin");
        let token = hidden(&r.text().await.unwrap(), "_signin");
        let r = http
            .post(format!("{}/console/sign-in", s.base))
            .header(COOKIE, signin_cookie)
            .form(&[
                ("_signin", token.as_str()),
                ("next", "/console/"),
                ("username", user),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        Session {
            http,
            base: s.base.clone(),
            cookie: set_cookie(&r, "vs_session"),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }
}

#[tokio::test]
async fn another_facilitys_records_are_not_found_and_changes_need_the_csrf_token() {
    let s = TestServer::start().await;
    let here = s.facility(0).await;
    let there = s.facility(0).await;
    let james = s
        .person(&here, "A-1", "James Smith", here.unit_a, json!([]))
        .await;
    let maria = s.approved_adult(james, "Maria Smith").await;
    let other = s
        .person(&there, "Z-9", "Zed Otherplace", there.unit_a, json!([]))
        .await;
    let olga = s.approved_adult(other, "Olga Elsewhere").await;
    let (password, _) = s.staff(here.id, "rivera", "officer", false);
    let c = Session::sign_in(&s, "rivera", &password).await;

    let (st, body) = c.get(&format!("/console/people/{james}")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(body.contains("James Smith") && body.contains("Maria Smith"));
    let csrf = hidden(&body, "_csrf");
    for path in [
        format!("/console/people/{other}"),
        format!("/console/people/{other}/book"),
        format!("/console/visitors/{olga}"),
    ] {
        let (st, body) = c.get(&path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {body}");
        for secret in [
            "Zed Otherplace",
            "Z-9",
            "Olga Elsewhere",
            "olga.elsewhere@example.org",
        ] {
            assert!(!body.contains(secret), "{path} shows {secret}");
        }
    }
    let (_, body) = c.get("/console/visitors?q=Olga").await;
    assert!(!body.contains("Olga Elsewhere"));
    let (st, _) = c
        .post(
            &format!("/console/people/{other}"),
            &[
                ("_csrf", &csrf),
                ("housing_unit_id", &there.unit_b.to_string()),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // A rule's refusal shows the rule's words.
    let start = local(2026, 11, 19, 10, 0).to_rfc3339();
    let olga_id = olga.to_string();
    let (st, body) = c
        .post(
            &format!("/console/people/{james}/book"),
            &[
                ("_csrf", &csrf),
                ("start", &start),
                ("kind", "remote"),
                ("visitor", &olga_id),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("not on this person&#39;s approved visitor list")
            || body.contains("not on this person's approved visitor list"),
        "{body}"
    );

    // Without the CSRF field: refused, nothing changed.
    let unit_b = here.unit_b.to_string();
    let (st, _) = c
        .post(
            &format!("/console/people/{james}"),
            &[("housing_unit_id", &unit_b)],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = c
        .post(
            &format!("/console/people/{james}/approvals/{maria}/remove"),
            &[],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, v) = s.admin_get(&format!("/api/v1/admin/persons/{james}")).await;
    assert_eq!(v["housing_unit_id"], json!(here.unit_a));
    let (_, v) = s
        .admin_get(&format!("/api/v1/admin/persons/{james}/approved-visitors"))
        .await;
    assert!(v.to_string().contains(&maria.to_string()), "{v}");

    // With it, the change is made and audited.
    let (st, _) = c
        .post(
            &format!("/console/people/{james}"),
            &[("_csrf", &csrf), ("housing_unit_id", &unit_b)],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, v) = s.admin_get(&format!("/api/v1/admin/persons/{james}")).await;
    assert_eq!(v["housing_unit_id"], json!(here.unit_b));
    let actions = s.audit_actions();
    assert!(
        actions.contains(&("update_person".into(), "done".into())),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|(a, o)| a == "csrf_check" && o.starts_with("refused")),
        "{actions:?}"
    );
    s.stop().await;
}
