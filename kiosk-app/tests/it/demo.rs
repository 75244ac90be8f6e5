//! The README's demo: `visit-server demo` and a lobby terminal enrolled to it
//! check a visitor in, at any hour of any day.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn the_scripted_demo_checks_a_visitor_in_and_writes_screenshots() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.json");
    let (server_dir, summary2) = (dir.path().join("server"), summary.clone());
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
    assert!(text.contains("72 screenshots"), "{text}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("kiosk/screenshots"))
            .unwrap()
            .count(),
        72
    );
}
