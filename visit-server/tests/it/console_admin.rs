//! The console's review and administration pages in real headless
//! Chromium: an officer works the approval queues; an administrator adds
//! and revokes terminals, changes the settings, adds an account and reads
//! (and downloads) the audit log. Each page passes the axe-core check.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::console_browser::*;
use crate::util::*;
use crate::webdriver::Browser;

/// The server in its own runtime; the browser (which blocks) on this thread.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Chromium keeps `Secure` cookies for http://localhost (a secure context).
fn localhost(s: &TestServer) -> String {
    s.base.replace("127.0.0.1", "localhost")
}

fn open(b: &Browser, base: &str, path: &str, ready: &str) {
    b.open(&format!("{base}{path}"));
    wait_for(
        b,
        path,
        Duration::from_secs(10),
        &format!("return !!document.querySelector({ready:?});"),
    );
    let overflow =
        b.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "{path} at 1280x800 scrolls sideways by {overflow}px"
    );
}

fn wait_notice(b: &Browser, what: &str) {
    wait_for(
        b,
        what,
        Duration::from_secs(10),
        "return !!document.getElementById('notice');",
    );
}

fn audit_lines(s: &TestServer, actor: &str) -> Vec<(String, String)> {
    let c = s.sql();
    let mut stmt = c
        .prepare("SELECT action, outcome FROM audit_log WHERE actor = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([actor], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn done(lines: &[(String, String)], action: &str) -> bool {
    lines.contains(&(action.to_string(), "done".to_string()))
}

#[test]
fn an_officer_approves_a_photo_id_and_a_request_to_be_on_the_list() {
    let rt = runtime();
    let (s, f, james, ana) = rt.block_on(async {
        let s = TestServer::start().await;
        let f = s.facility(1).await;
        let james = s
            .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
            .await;
        let ana = s.visitor("Ana Waiting", adult_dob(), false).await;
        s.create(
            "/api/v1/admin/approval-requests",
            json!({"person_id": james, "visitor_id": ana}),
        )
        .await;
        (s, f, james, ana)
    });
    let (password, _) = s.staff(f.id, "rivera", "officer", false);
    let base = localhost(&s);
    let axe = axe_source();
    let b = Browser::chromium();
    b.resize(1280, 800);
    sign_in(&b, &base, "rivera", &password, None);
    open(&b, &base, "/console/approvals", "#photo-id-queue");
    assert!(text(&b, "#photo-id-queue").contains("Ana Waiting"));
    assert!(text(&b, "#photo-id-queue").contains("ana.waiting@example.org"));
    assert!(
        text(&b, "#request-queue").contains("James Smith #A-1001"),
        "{}",
        text(&b, "main")
    );
    assert!(text(&b, "#request-queue").contains("not checked yet"));
    assert_accessible(&b, &axe, "the approvals page");

    submit(
        &b,
        &format!("form[action='/console/approvals/photo-id/{ana}/approve']"),
    );
    wait_notice(&b, "the photo ID approved");
    assert!(text(&b, "#photo-id-empty").contains("No visitor"));
    assert!(text(&b, "#request-queue").contains("checked"));

    let req: String = s
        .sql()
        .query_row("SELECT id FROM approval_requests", [], |r| r.get(0))
        .unwrap();
    submit(
        &b,
        &format!("form[action='/console/approvals/requests/{req}/approve']"),
    );
    wait_notice(&b, "the request approved");
    assert!(text(&b, "#requests-empty").contains("No request"));

    let (st, list) =
        rt.block_on(s.admin_get(&format!("/api/v1/admin/persons/{james}/approved-visitors")));
    assert_eq!(st, reqwest::StatusCode::OK, "{list}");
    assert!(list.to_string().contains(&ana.to_string()), "{list}");
    let lines = audit_lines(&s, "staff:rivera");
    assert!(done(&lines, "set_photo_id"), "{lines:?}");
    assert!(done(&lines, "approve_request"), "{lines:?}");
    drop(b);
    rt.block_on(s.stop());
}

/// The enrolment code on the page: twelve digits in groups of four.
fn shown_code(b: &Browser) -> String {
    wait_for(
        b,
        "the enrolment code",
        Duration::from_secs(10),
        "return !!document.getElementById('enrolment-code');",
    );
    let code = text(b, "#enrolment-code");
    assert_eq!(code.len(), 14, "{code}");
    code
}

fn heartbeat() -> Value {
    json!({"software_version": "0.1.0-test", "uptime_secs": 42, "terminal_time": "2026-11-16T15:00:00Z",
           "outbox_pending": 0, "devices": [{"device": "camera", "state": "ok", "detail": null}]})
}

/// Fetch a URL from inside the page (with its cookies): status, type,
/// disposition, body.
fn fetch(b: &Browser, path: &str) -> Value {
    b.post(
        "execute/async",
        json!({"script": "const done = arguments[arguments.length - 1];\
            fetch(arguments[0]).then(async r => done([r.status, r.headers.get('content-type'),\
              r.headers.get('content-disposition'), await r.text()])).catch(e => done(['' + e]));",
            "args": [path]}),
    )
}

#[test]
fn an_administrator_runs_terminals_settings_staff_and_the_audit_log() {
    let rt = runtime();
    let (s, f, lobby) = rt.block_on(async {
        let s = TestServer::start().await;
        let f = s.facility(1).await;
        let lobby = s.enrol(&f.lobbies[0].1).await;
        (s, f, lobby)
    });
    let (password, _) = s.staff(f.id, "boss", "administrator", false);
    let base = localhost(&s);
    let axe = axe_source();
    let b = Browser::chromium();
    b.resize(1280, 800);
    sign_in(&b, &base, "boss", &password, None);

    // A new terminal and its one-time code, which enrols it.
    open(&b, &base, "/console/terminals", "#fleet");
    assert!(text(&b, "#fleet").contains("Lobby monitor 0"));
    assert_accessible(&b, &axe, "the terminals page");
    fill(&b, &[("t-location", "Lobby monitor 9")]);
    submit(&b, "#add-terminal");
    let code = shown_code(&b);
    assert!(text(&b, "main").contains("Lobby monitor 9"));
    assert_accessible(&b, &axe, "the enrolment code page");
    rt.block_on(s.enrol(&code));

    // Revoking a terminal refuses its next request.
    let lobby_id: Uuid = f.lobbies[0].0;
    let (st, _) = rt.block_on(s.send(
        reqwest::Method::POST,
        "/api/v1/terminal/heartbeat",
        Some(&lobby),
        Some(&heartbeat()),
    ));
    assert_eq!(st, reqwest::StatusCode::OK);
    open(&b, &base, "/console/terminals", "#fleet");
    let row = format!("tr[data-terminal='{lobby_id}']");
    assert!(text(&b, &row).contains("Online"), "{}", text(&b, &row));
    assert!(text(&b, &row).contains("camera: working"));
    submit(
        &b,
        &format!("form[action='/console/terminals/{lobby_id}/revoke']"),
    );
    wait_notice(&b, "the terminal revoked");
    assert!(text(&b, &row).contains("Revoked"));
    let (st, body) = rt.block_on(s.send(
        reqwest::Method::POST,
        "/api/v1/terminal/heartbeat",
        Some(&lobby),
        Some(&heartbeat()),
    ));
    assert_eq!(st, reqwest::StatusCode::UNAUTHORIZED, "{body}");

    // Settings: visitors per visit.
    open(&b, &base, "/console/settings", "#settings");
    assert_accessible(&b, &axe, "the settings page");
    fill(&b, &[("s-max", "4")]);
    submit(&b, "#settings");
    wait_notice(&b, "the settings saved");
    let max: i64 = s
        .sql()
        .query_row(
            "SELECT max_visitors_per_visit FROM facilities WHERE id = ?1",
            [f.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(max, 4);

    // Staff: a new account.
    open(&b, &base, "/console/staff", "#staff");
    assert_accessible(&b, &axe, "the staff page");
    fill(
        &b,
        &[
            ("n-username", "clerk"),
            ("n-name", "Casey Clerk"),
            ("n-password", "a long initial password"),
        ],
    );
    submit(&b, "#add-staff");
    wait_notice(&b, "the account added");
    assert!(text(&b, "tr[data-staff='clerk']").contains("Casey Clerk"));

    // The audit log, and its CSV.
    open(&b, &base, "/console/audit", "#audit");
    assert!(text(&b, "#audit").contains("revoke_terminal"));
    assert_accessible(&b, &axe, "the audit log");
    let got = fetch(&b, "/console/audit.csv");
    assert_eq!(got[0], 200, "{got}");
    assert!(got[1].as_str().unwrap().starts_with("text/csv"), "{got}");
    assert_eq!(got[2], "attachment; filename=\"audit-2026-11-16.csv\"");
    let csv = got[3].as_str().unwrap();
    for action in [
        "create_terminal",
        "revoke_terminal",
        "update_facility",
        "create_staff",
    ] {
        let n = csv
            .lines()
            .filter(|l| {
                l.contains(&format!(",staff:boss,127.0.0.1,{action},")) && l.contains(",done,")
            })
            .count();
        assert_eq!(n, 1, "{action} in {csv}");
    }
    drop(b);
    rt.block_on(s.stop());
}
