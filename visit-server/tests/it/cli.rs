//! The binary itself: the demo and `serve` as a user runs them.

use std::process::{Command, Stdio};
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_visit-server"))
}

#[test]
fn demo_prints_pins_codes_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["demo", "--no-serve", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Jackson County Detention Center"), "{text}");
    assert!(text.contains("Lobby monitor 4"), "{text}");
    assert!(text.contains("72 hours"), "{text}");
    assert!(
        text.contains("may not have visits that include a minor"),
        "{text}"
    );
    assert!(text.contains("Attorney/client"), "{text}");
    // Running it again starts afresh rather than failing on the old data.
    let again = bin()
        .args(["demo", "--no-serve", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(again.status.success());
}

#[test]
fn serve_answers_on_loopback_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let token = bin()
        .args(["admin-token", "--name", "ops"])
        .env("VISIT_SERVER_DATABASE", dir.path().join("v.db"))
        .env("VISIT_SERVER_KEY_FILE", dir.path().join("k"))
        .output()
        .unwrap();
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    assert_eq!(token.len(), 43);
    let mut child = bin()
        .arg("serve")
        .env("VISIT_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("VISIT_SERVER_DATABASE", dir.path().join("v.db"))
        .env("VISIT_SERVER_KEY_FILE", dir.path().join("k"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ok = rt.block_on(async {
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(res) = http
                .get(format!("http://127.0.0.1:{port}/api/v1/admin/outbox"))
                .bearer_auth(&token)
                .send()
                .await
            {
                return res.status().is_success();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    });
    // SAFETY: plain libc call on a child we own.
    unsafe { libc_kill(child.id() as i32, 15) };
    let status = child.wait().unwrap();
    assert!(ok, "the server never answered with the token");
    assert!(status.success(), "serve exited with {status} after SIGTERM");
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
