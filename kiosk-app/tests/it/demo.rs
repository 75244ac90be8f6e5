//! The README's demo: `visit-server demo` and a lobby terminal enrolled to it
//! check a visitor in, at any hour of any day.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::webdriver::Browser;

/// `visit-server demo` on a free loopback port (serving until the test
/// process ends); returns the summary it wrote.
fn demo_server(dir: &std::path::Path) -> std::path::PathBuf {
    let summary = dir.join("summary.json");
    let (server_dir, summary2) = (dir.join("server"), summary.clone());
    // Serves until the test process ends.
    std::thread::spawn(move || {
        visit_server::demo::run(
            &server_dir,
            "127.0.0.1:0".parse().unwrap(),
            true,
            Some(&summary2),
        )
    });
    let end = Instant::now() + Duration::from_secs(30);
    while !summary.exists() {
        assert!(
            Instant::now() < end,
            "visit-server demo never wrote its summary"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    summary
}

#[test]
fn the_scripted_demo_checks_a_visitor_in_and_writes_screenshots() {
    let dir = tempfile::tempdir().unwrap();
    let summary = demo_server(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk-app"))
        .args(["demo", "--headless", "--summary"])
        .arg(&summary)
        .arg("--dir")
        .arg(dir.path().join("kiosk"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("PIN not recognized. 4 attempts left."),
        "{text}"
    );
    assert!(
        text.contains("Checked in. Waiting for J. S. to join."),
        "{text}"
    );
    assert!(text.contains("Check-in opens at"), "{text}");
    // The visit itself, with real media both ways (the demo clock is always
    // inside an on-site block).
    assert!(text.contains("lobby receives"), "{text}");
    assert!(text.contains("frames/s of H264 video"), "{text}");
    assert!(text.contains("[ended] You ended the visit."), "{text}");
    assert!(text.contains("74 screenshots"), "{text}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("kiosk/screenshots"))
            .unwrap()
            .count(),
        74
    );
}

/// A newcomer can be the remote visitor: the demo prints the join link of
/// the remote visit under way on its clock, and a browser on the same
/// machine that opens it sees and hears the demo's housing-unit terminal.
#[test]
fn the_demos_join_link_connects_a_browser_to_its_unit_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let summary = demo_server(dir.path());
    let mut unit = Command::new(env!("CARGO_BIN_EXE_kiosk-app"))
        .args(["demo", "--remote-visit", "--summary"])
        .arg(&summary)
        .arg("--dir")
        .arg(dir.path().join("kiosk"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(unit.stdout.take().unwrap()).lines();
    let link = lines
        .map_while(Result::ok)
        .find_map(|l| {
            l.trim()
                .strip_prefix("http://")
                .map(|rest| format!("http://{rest}"))
        })
        .expect("the demo printed a join link");
    assert!(
        link.contains("/join/") && link.contains("?token="),
        "{link}"
    );
    let b = Browser::chromium();
    b.to_waiting_room(&link);
    b.until("Ready", Duration::from_secs(30), |s| s["status"] == "ready");
    b.click("join");
    let s = b.until(
        "the unit terminal's picture and sound",
        Duration::from_secs(30),
        |s| {
            s["framesDecoded"].as_u64().unwrap_or(0) > 30
                && s["audioPackets"].as_u64().unwrap_or(0) > 20
        },
    );
    println!("page: {s}");
    let _ = unit.kill();
    let _ = unit.wait();
}
