//! The console's main pages on the demo facility, at the two screen sizes
//! staff use (1280x800, a 1920x1080 monitor): each fits the width (no
//! sideways scrolling), passes the accessibility check, and is captured.
//! `UPDATE_CONSOLE_SCREENSHOTS=1` copies the captures into `docs/console/`
//! for the README. Also: signing in and reaching a page with the keyboard
//! alone.

use std::path::PathBuf;
use std::time::Duration;

use crate::console_browser::*;
use crate::util::*;
use crate::webdriver::Browser;

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// Sign in with the keyboard alone: type, Tab, Enter.
fn keyboard_sign_in(b: &Browser, base: &str, password: &str) {
    b.open(&format!("{base}/console/"));
    wait_for(
        b,
        "the sign-in page",
        Duration::from_secs(10),
        "return location.pathname === '/console/sign-in';",
    );
    // The user name has the focus when the page opens.
    assert_eq!(b.js("return document.activeElement.id;"), "username");
    b.keys(&format!("admin{TAB}{password}{ENTER}"));
    wait_for(
        b,
        "the day board",
        Duration::from_secs(10),
        "return !!document.querySelector('#visits');",
    );
}

#[test]
fn the_main_pages_fit_both_screens_pass_the_accessibility_check_and_work_by_keyboard() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(TestServer::start());
    let demo = s
        .service(|c, ctx| visit_server::demo::seed(c, ctx.keys, ctx.now))
        .unwrap();
    let base = s.base.replace("127.0.0.1", "localhost");
    let axe = axe_source();
    let b = Browser::chromium();
    b.resize(1280, 800);
    keyboard_sign_in(&b, &base, &demo.console_password);

    // The first Tab reaches the skip link, which moves the focus to the page.
    b.js("document.activeElement.blur(); return true;");
    b.keys(TAB);
    assert_eq!(b.js("return document.activeElement.className;"), "skip");
    b.keys(ENTER);
    assert_eq!(b.js("return document.activeElement.id;"), "main");

    let visit = demo.visits.first().expect("the demo has visits").id;
    let row = |sql: &str| -> String { s.sql().query_row(sql, [], |r| r.get(0)).unwrap() };
    let person = row("SELECT id FROM persons WHERE name = 'James Smith'");
    let visitor = row("SELECT id FROM visitors WHERE name = 'Maria Smith'");
    let pages = [
        ("today", "/console/".to_string()),
        ("visit", format!("/console/visits/{visit}")),
        ("approvals", "/console/approvals".to_string()),
        ("people", "/console/people?q=Smith".to_string()),
        ("person", format!("/console/people/{person}")),
        ("book", format!("/console/people/{person}/book")),
        ("visitors", "/console/visitors?q=Smith".to_string()),
        ("visitor", format!("/console/visitors/{visitor}")),
        ("terminals", "/console/terminals".to_string()),
        ("settings", "/console/settings".to_string()),
        ("staff", "/console/staff".to_string()),
        ("audit", "/console/audit".to_string()),
        ("account", "/console/account".to_string()),
    ];
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots");
    std::fs::create_dir_all(&out).unwrap();
    for (name, path) in &pages {
        for (w, h) in [(1280, 800), (1920, 1080)] {
            b.resize(w, h);
            b.open(&format!("{base}{path}"));
            wait_for(
                &b,
                name,
                Duration::from_secs(10),
                "return document.readyState === 'complete' && !!document.querySelector('main h1');",
            );
            let overflow = b.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
            assert!(
                overflow.as_i64().unwrap_or(1) <= 0,
                "{name} at {w}x{h} scrolls sideways by {overflow}px"
            );
            if w == 1280 {
                assert_accessible(&b, &axe, name);
            }
            let png = b.screenshot();
            assert!(
                png.starts_with(b"\x89PNG") && png.len() > 10_000,
                "{name}: a real capture"
            );
            std::fs::write(out.join(format!("{name}-{w}.png")), &png).unwrap();
        }
    }
    if std::env::var_os("UPDATE_CONSOLE_SCREENSHOTS").is_some() {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/console");
        std::fs::create_dir_all(&docs).unwrap();
        for (name, _) in &pages {
            std::fs::copy(
                out.join(format!("{name}-1280.png")),
                docs.join(format!("{name}.png")),
            )
            .unwrap();
        }
    }
    drop(b);
    rt.block_on(s.stop());
}
