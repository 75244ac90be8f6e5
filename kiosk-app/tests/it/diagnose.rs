//! `kiosk-app diagnose`: the technician's and remote support's report.

use std::process::Command;

use crate::util::*;

fn diagnose(cfg: &std::path::Path) -> (bool, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk-app"))
        .arg("--config")
        .arg(cfg)
        .args(["diagnose", "--json"])
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout))),
    )
}

#[test]
fn diagnose_names_the_terminal_the_server_and_the_devices_and_fails_when_offline() {
    let (mut server, seeded) = Server::seeded();
    let dir = tempfile::tempdir().unwrap();
    let cfg = kiosk_config(dir.path(), &server.url(), &seeded.lobby_code);
    // Not enrolled yet: said so, and a failure exit.
    let (ok, r) = diagnose(&cfg);
    assert!(!ok);
    assert!(r["terminal_id"].is_null(), "{r}");
    assert!(
        r["server"]["detail"]
            .as_str()
            .unwrap()
            .contains("not enrolled"),
        "{r}"
    );

    let k = Kiosk::start(&cfg);
    let mut k = k;
    k.expect(&["[attract] Test County Jail"]);
    k.quit();
    let (ok, r) = diagnose(&cfg);
    assert!(ok, "{r}");
    assert_eq!(r["role"], "lobby");
    assert!(r["terminal_id"].is_string(), "{r}");
    assert_eq!(r["server"]["reachable"], true, "{r}");
    assert!(r["devices"]["cameras"].is_array(), "{r}");

    server.stop();
    let (ok, r) = diagnose(&cfg);
    assert!(!ok);
    assert_eq!(r["server"]["reachable"], false, "{r}");
}
