//! The technician screen, headless: the PIN from the configuration's hash
//! opens it and a wrong one does not; with simulated devices the self-view
//! gets moving pictures and the level meter hears the microphone; a missing
//! camera is named; and the heartbeat carries the device states to the
//! server.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::*;

const PIN: &str = "482193";

/// `kiosk-app hash-pin`, the PIN on standard input.
fn hash_pin(pin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk-app"))
        .arg("hash-pin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{pin}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A terminal configuration with the technician PIN's hash (and `call`
/// settings).
fn config(
    dir: &std::path::Path,
    server: &str,
    code: &str,
    role: &str,
    call: &str,
) -> std::path::PathBuf {
    let hash = hash_pin(PIN);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let cfg = call_config_with(dir, server, code, role, "127.0.0.1", call);
    let mut f = std::fs::OpenOptions::new().append(true).open(&cfg).unwrap();
    writeln!(f, "\n[technician]\npin_hash = \"{hash}\"").unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        !text.contains(PIN),
        "the configuration holds only the hash:\n{text}"
    );
    cfg
}

fn tech_stats(k: &mut Kiosk) -> serde_json::Value {
    k.send("tech-stats");
    let line = k.expect(&["[tech-stats]"]);
    serde_json::from_str(line.trim_start_matches("[tech-stats] ")).unwrap()
}

/// Wait (bounded) until the technician figures satisfy `f`.
fn tech_stats_until(k: &mut Kiosk, f: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let end = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let s = tech_stats(k);
        if f(&s) {
            return s;
        }
        assert!(
            std::time::Instant::now() < end,
            "technician figures never got there: {s}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The devices the server stored from the terminal's last heartbeat.
fn stored_devices(server: &Server, location: &str) -> serde_json::Value {
    let c = rusqlite::Connection::open(server.dir.path().join("visits.db")).unwrap();
    let json: Option<String> = c
        .query_row(
            "SELECT devices FROM terminals WHERE location = ?1",
            [location],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(json.as_deref().unwrap_or("[]")).unwrap()
}

fn state_of<'a>(devices: &'a serde_json::Value, device: &str) -> &'a str {
    devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == device)
        .and_then(|d| d["state"].as_str())
        .unwrap_or("absent")
}

#[test]
fn the_technician_pin_opens_live_diagnostics_and_a_wrong_one_does_not() {
    let (server, seeded) = Server::seeded();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &server.url(),
        &seeded.lobby_code,
        "lobby",
        "width = 640\nheight = 360\n",
    );
    let mut k = Kiosk::start(&cfg);
    k.expect(&["[attract] Test County Jail"]);

    k.send("technician 111111");
    k.expect(&["[technician-pin]", "Wrong PIN. 4 attempts left."]);
    // Nothing live runs behind the prompt.
    assert_eq!(tech_stats(&mut k)["open"], false);

    k.send(&format!("technician {PIN}"));
    let line = k.expect(&["[technician]"]);
    for part in [
        "camera ok",
        "microphone ok",
        "speaker ok",
        "touchscreen ok",
        "server reachable",
        "version 0.1.0",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }

    // The self-view moves and the meter hears the simulated tone.
    let first = tech_stats_until(&mut k, |s| s["video"]["frames"].as_u64() > Some(2));
    assert_eq!(first["video"]["width"], 640, "{first}");
    let later = tech_stats_until(&mut k, |s| {
        s["video"]["frames"].as_u64() > first["video"]["frames"].as_u64()
            && s["video"]["fingerprint"] != first["video"]["fingerprint"]
    });
    let db = later["level"]["rms_db"].as_f64().expect("a level reading");
    assert!(db > -30.0, "the microphone reads {db} dB");

    k.send("tech-tone");
    k.expect(&["[technician]", "playing tone"]);
    assert_eq!(tech_stats(&mut k)["tones_played"], 1);

    // The server has the device states from a heartbeat.
    server.wait_until("a heartbeat with devices", Duration::from_secs(10), || {
        state_of(&stored_devices(&server, "Lobby 0"), "camera") == "ok"
    });
    let stored = stored_devices(&server, "Lobby 0");
    for d in ["microphone", "speaker", "touchscreen"] {
        assert_eq!(state_of(&stored, d), "ok", "{stored}");
    }

    k.send("tech-close");
    k.expect(&["[attract]"]);
    assert_eq!(
        tech_stats(&mut k)["open"],
        false,
        "the devices are released"
    );
    k.quit();
}

#[test]
fn a_unit_terminal_names_its_missing_camera_on_screen_and_to_the_server() {
    let (server, seeded) = Server::seeded();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &server.url(),
        &seeded.unit_code,
        "unit",
        "width = 640\nheight = 360\nfaults = \"camera-missing\"\n",
    );
    let mut k = Kiosk::start(&cfg);
    // A unit terminal opens on its sign-in screen (it has no attract screen).
    k.expect(&["[sign-in] Test County Jail"]);
    k.send(&format!("technician {PIN}"));
    k.expect(&["[technician]", "camera missing", "microphone ok"]);
    let s = tech_stats_until(&mut k, |s| s["level"]["readings"].as_u64() > Some(0));
    assert_eq!(s["video"]["frames"], 0);
    assert!(
        s["video"]["error"].as_str().unwrap().contains("camera"),
        "{s}"
    );
    server.wait_until(
        "a heartbeat naming the missing camera",
        Duration::from_secs(10),
        || state_of(&stored_devices(&server, "Pod A dayroom"), "camera") == "missing",
    );
    k.quit();
}
