//! The staff console in real headless Chromium: signing in with a second
//! factor, the day board following a terminal live, signing out; and an
//! accessibility check (axe-core) of each page on the way.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::util::*;
use crate::webdriver::Browser;

/// axe-core's one-file build, fetched by `scripts/deps --tests`.
pub fn axe_source() -> String {
    let tools = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("tools/axe-core-4.10.3/axe.min.js");
    std::fs::read_to_string(&tools)
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/deps --tests fetches it)", tools.display()))
}

/// No serious or critical accessibility violation on the page shown.
pub fn assert_accessible(b: &Browser, axe: &str, page: &str) {
    b.js(&format!("{axe}\nreturn true;"));
    let found = b.post(
        "execute/async",
        json!({"script": "const done = arguments[arguments.length - 1];\
            axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations\
              .filter(v => v.impact === 'serious' || v.impact === 'critical')\
              .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))))\
              .catch(e => done(['axe failed: ' + e]));",
            "args": []}),
    );
    assert_eq!(found, json!([]), "accessibility violations on {page}");
}

/// Type into a field and submit its form, as a user would.
pub fn fill(b: &Browser, fields: &[(&str, &str)]) {
    for (id, value) in fields {
        b.js(&format!(
            "const e = document.getElementById({id:?}); e.focus(); e.value = {value:?}; return true;"
        ));
    }
}

pub fn submit(b: &Browser, form_selector: &str) {
    b.js(&format!(
        "document.querySelector({form_selector:?}).requestSubmit(); return true;"
    ));
    std::thread::sleep(Duration::from_millis(300));
}

pub fn text(b: &Browser, selector: &str) -> String {
    b.js(&format!(
        "const e = document.querySelector({selector:?}); return e ? e.innerText : '';"
    ))
    .as_str()
    .unwrap_or("")
    .to_string()
}

pub fn path(b: &Browser) -> String {
    b.js("return location.pathname;")
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Wait (bounded) for a condition in the page; how long it took.
pub fn wait_for(b: &Browser, what: &str, timeout: Duration, script: &str) -> Duration {
    let start = Instant::now();
    loop {
        if b.js(script) == Value::Bool(true) {
            return start.elapsed();
        }
        if start.elapsed() > timeout {
            panic!(
                "{what} did not happen in {timeout:?}; at {} the page says: {}",
                b.js("return location.href;"),
                text(b, "body")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Day {
    s: TestServer,
    f: Facility,
    visit: Uuid,
    lobby: String,
}

async fn a_day() -> Day {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let james = s
        .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
        .await;
    let maria = s.approved_adult(james, "Maria Smith").await;
    let (visit, _) = s
        .book_ok(james, &[maria], "onsite", local(2026, 11, 19, 10, 0))
        .await;
    let lobby = s.enrol(&f.lobbies[0].1).await;
    s.clock.set(local(2026, 11, 19, 9, 50));
    Day { s, f, visit, lobby }
}

/// The server in its own runtime; the browser (which blocks) on this thread.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub fn sign_in(b: &Browser, base: &str, user: &str, password: &str, code: Option<&str>) {
    b.open(&format!("{base}/console/"));
    wait_for(
        b,
        "the sign-in page",
        Duration::from_secs(10),
        "return location.pathname === '/console/sign-in';",
    );
    let mut fields = vec![("username", user), ("password", password)];
    if let Some(c) = code {
        fields.push(("code", c));
    }
    fill(b, &fields);
    submit(b, "form[action='/console/sign-in']");
}

#[test]
fn an_officer_signs_in_with_a_code_and_the_board_follows_a_check_in_live() {
    let rt = runtime();
    let d = rt.block_on(a_day());
    let (password, secret) = d.s.staff(d.f.id, "rivera", "officer", true);
    // Chromium keeps `Secure` cookies for http://localhost (a secure context).
    let base = d.s.base.replace("127.0.0.1", "localhost");
    let axe = axe_source();
    let b = Browser::chromium();

    // Without the code, the page asks for it; nothing else is said.
    sign_in(&b, &base, "rivera", &password, None);
    wait_for(
        &b,
        "the request for a code",
        Duration::from_secs(5),
        "return !!document.getElementById('signin-error');",
    );
    assert!(
        text(&b, "#signin-error").contains("6-digit code"),
        "{}",
        text(&b, "main")
    );
    assert_accessible(&b, &axe, "the sign-in page");

    let code = d.s.totp_now(secret.as_ref().unwrap());
    sign_in(&b, &base, "rivera", &password, Some(&code));
    wait_for(
        &b,
        "the day board",
        Duration::from_secs(10),
        "return !!document.querySelector('#visits');",
    );
    assert_eq!(path(&b), "/console/");
    let row = format!("tr[data-visit='{}']", d.visit);
    assert!(
        text(&b, &row).contains("James Smith"),
        "{}",
        text(&b, "main")
    );
    assert!(text(&b, &row).contains("Maria Smith"));
    assert_eq!(
        b.js(&format!(
            "return document.querySelector(\"{row}\").dataset.status;"
        )),
        "scheduled"
    );
    assert_accessible(&b, &axe, "the day board");

    // The lobby terminal checks Maria in; the board shows it without a reload.
    wait_for(
        &b,
        "the live stream",
        Duration::from_secs(5),
        "return document.getElementById('board').dataset.state === 'live';",
    );
    b.js("window.notReloaded = true; return true;");
    let check_in = json!({"events": [{"id": Uuid::new_v4(), "occurred_at": local(2026, 11, 19, 9, 50),
        "visit_id": d.visit, "event": {"type": "check_in"}}]});
    let (st, body) = rt.block_on(d.s.send(
        reqwest::Method::POST,
        "/api/v1/terminal/events",
        Some(&d.lobby),
        Some(&check_in),
    ));
    assert_eq!(st, reqwest::StatusCode::OK, "{body}");
    let took = wait_for(
        &b,
        "the check-in on the board",
        Duration::from_secs(5),
        &format!(
            "const r = document.querySelector(\"{row}\"); return !!r && r.querySelector('.checkin').innerText.trim() === '09:50';"
        ),
    );
    eprintln!("the board showed the check-in {took:?} after the terminal sent it");
    assert!(
        took < Duration::from_millis(1500),
        "the board took {took:?} to show the check-in"
    );
    assert_eq!(
        b.js("return window.notReloaded === true;"),
        true,
        "the page was reloaded"
    );

    // Signing out ends the session: the board asks for a sign-in again.
    submit(&b, "form[action='/console/sign-out']");
    wait_for(
        &b,
        "the signed-out page",
        Duration::from_secs(5),
        "return location.pathname === '/console/sign-in';",
    );
    assert!(
        text(&b, "main").contains("signed out"),
        "{}",
        text(&b, "main")
    );
    b.open(&format!("{base}/console/"));
    wait_for(
        &b,
        "the sign-in page again",
        Duration::from_secs(5),
        "return location.pathname === '/console/sign-in';",
    );
    let lines: Vec<(String, String)> = {
        let c = d.s.sql();
        let mut stmt = c
            .prepare(
                "SELECT action, outcome FROM audit_log WHERE actor = 'staff:rivera' ORDER BY seq",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(lines.first().map(|l| l.0.as_str()), Some("sign_in"));
    assert!(lines[0].1.starts_with("refused"), "{lines:?}");
    assert!(
        lines.contains(&("sign_out".to_string(), "done".to_string())),
        "{lines:?}"
    );
    drop(b);
    rt.block_on(d.s.stop());
}

#[test]
fn an_officer_terminates_a_visit_in_progress_and_both_terminals_are_told_why() {
    use crate::sockets::{call, in_call, until};
    use protocol::signal::{EndReason, ServerMessage};
    let rt = runtime();
    let s = rt.block_on(TestServer::start());
    let c = rt.block_on(call(&s));
    s.clock.set(local(2026, 11, 19, 10, 5));
    rt.block_on(s.wait_for_status(c.visit, "pending"));
    let (mut unit, mut lobby) = rt.block_on(in_call(&s, &c));
    let (password, _) = s.staff(c.f.id, "okafor", "officer", false);
    let base = s.base.replace("127.0.0.1", "localhost");
    let axe = axe_source();
    let b = Browser::chromium();
    sign_in(&b, &base, "okafor", &password, None);
    wait_for(
        &b,
        "the day board",
        Duration::from_secs(10),
        "return !!document.querySelector('#visits');",
    );
    // From the board to the visit, as staff would go.
    b.js(&format!(
        "document.querySelector(\"tr[data-visit='{}'] a\").click(); return true;",
        c.visit
    ));
    wait_for(
        &b,
        "the visit page",
        Duration::from_secs(5),
        "return !!document.getElementById('timeline');",
    );
    assert!(
        text(&b, "#visit-status").contains("In progress"),
        "{}",
        text(&b, "main")
    );
    assert!(
        text(&b, "#timeline").contains("Joined the call")
            || text(&b, "#timeline").contains("Media"),
        "{}",
        text(&b, "#timeline")
    );
    assert_accessible(&b, &axe, "the visit page");

    fill(&b, &[("terminate-reason", "use of a cell phone")]);
    let started = Instant::now();
    submit(&b, "form[action$='/terminate']");
    let want = ServerMessage::Ended {
        reason: EndReason::Terminated {
            reason: "use of a cell phone".into(),
        },
    };
    for ws in [&mut unit, &mut lobby] {
        let m = rt.block_on(until(ws, |m| matches!(m, ServerMessage::Ended { .. })));
        assert_eq!(m, want);
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    wait_for(
        &b,
        "the notice",
        Duration::from_secs(5),
        "return !!document.getElementById('notice');",
    );
    assert!(
        text(&b, "#visit-status").contains("Terminated"),
        "{}",
        text(&b, "main")
    );
    assert!(
        text(&b, "#timeline").contains("use of a cell phone"),
        "{}",
        text(&b, "#timeline")
    );
    let line: (String, String) = s
        .sql()
        .query_row(
            "SELECT target, outcome FROM audit_log WHERE actor = 'staff:okafor' AND action = 'terminate_visit'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(line, (format!("visit:{}", c.visit), "done".to_string()));
    drop(b);
    rt.block_on(s.stop());
}
