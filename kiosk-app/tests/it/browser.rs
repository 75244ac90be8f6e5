//! A remote visitor in a real headless browser (Chromium through Debian's
//! chromedriver, Firefox ESR through geckodriver) visits with a person at a
//! headless housing-unit terminal, through visit-server, on loopback only.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;
use crate::webdriver::Browser;

fn status_of(url: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The server may still be starting.
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        match rt.block_on(reqwest::get(url)) {
            Ok(r) => return r.status().as_u16(),
            Err(e) if Instant::now() > end => panic!("{url}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[test]
fn a_remote_visitor_in_chromium_visits_a_unit_terminal_until_the_end() {
    let (server, seeded) = Server::seeded();
    let (visit, token) = seeded.remote.clone();
    let link = format!("{}/join/{visit}?token={token}", server.url());
    // A wrong token, or none, is refused before any page is served.
    assert_eq!(
        status_of(&format!("{}/join/{visit}?token=not-a-token", server.url())),
        401
    );
    assert_eq!(status_of(&format!("{}/join/{visit}", server.url())), 401);

    let du = tempfile::tempdir().unwrap();
    // The terminal's microphone gives out for a while during the call.
    let mut unit = Kiosk::start(&call_config_with(
        du.path(),
        &server.url(),
        &seeded.unit_code,
        "unit",
        "127.0.0.1",
        "width = 640\nheight = 360\nfaults = \"microphone-lost-at=6s,microphone-back-at=12s\"\n",
    ));
    unit.expect(&["[sign-in] Test County Jail"]);

    let b = Browser::start();
    b.to_waiting_room(&link);
    // The waiting room says where the visit stands: Scheduled, so far.
    b.until("Scheduled", Duration::from_secs(10), |s| {
        s["status"] == "scheduled"
    });

    unit.send(&format!("visit {visit}"));
    unit.expect(&["[waiting] Visit with Carlos L.", "[Join]"]);
    unit.send("join");
    unit.expect(&["[call] with Carlos L."]);

    // The person is in: Ready in the page; the visitor joins.
    b.until("Ready", Duration::from_secs(10), |s| s["status"] == "ready");
    b.click("join");
    // Media both ways: frames decoded in the page, and in the terminal.
    let s = b.until("decoded video and sound", Duration::from_secs(30), |s| {
        s["screen"] == "visit"
            && s["framesDecoded"].as_u64().unwrap_or(0) > 50
            && s["audioPackets"].as_u64().unwrap_or(0) > 20
    });
    println!("page: {s}");
    let u = unit.stats_until(Duration::from_secs(30), |v| {
        v["fps"].as_u64().unwrap_or(0) >= 15 && v["audio_buffers"].as_u64().unwrap_or(0) > 0
    });
    println!("unit terminal: {u}");
    // The page said when the person's microphone stopped, and when it worked again.
    let s = b.until("the microphone notices", Duration::from_secs(30), |s| {
        s["peerDeviceLog"]
            .as_array()
            .is_some_and(|l| l.iter().any(|e| e == "microphone back"))
    });
    assert_eq!(
        s["peerDeviceLog"],
        serde_json::json!(["microphone lost", "microphone back"]),
        "{s}"
    );
    assert_eq!(s["peerLost"]["microphone"], false, "{s}");

    // The visit ends at its time on both.
    server.clock.set(chicago(10, 30, 0));
    unit.expect(&["[ended] Visit ended. Time is up."]);
    b.until("the end", Duration::from_secs(10), |s| {
        s["ended"] == "time_expired"
    });
    // An expired link no longer opens the page.
    assert_eq!(status_of(&link), 401);
    // Recorded: the person as sent, the visitor as Chromium sent it (from
    // its first key frame).
    let connected = crate::recorded::connected_ms(&server, visit);
    let data = du.path().join("data");
    crate::recording::recorded_with(&server, visit, &data, connected, 6000);
    unit.quit();
}

/// The fixture's housing-unit terminal (640x360, default codecs), on its
/// sign-in screen.
fn unit_terminal(server: &Server, seeded: &Seeded, dir: &std::path::Path) -> Kiosk {
    let mut unit = Kiosk::start(&call_config(
        dir,
        &server.url(),
        &seeded.unit_code,
        "unit",
        "127.0.0.1",
    ));
    unit.expect(&["[sign-in] Test County Jail"]);
    unit
}

/// A remote visitor in `b` visits a unit terminal whose codec settings are
/// the defaults (H.264 preferred): video at 25 frames/s or more and sound,
/// both ways. Returns the video codec the page receives.
fn visit_with_default_codecs(b: Browser) -> String {
    let (server, seeded) = Server::seeded();
    let (visit, token) = seeded.remote.clone();
    let du = tempfile::tempdir().unwrap();
    let mut unit = unit_terminal(&server, &seeded, du.path());
    b.to_waiting_room(&format!("{}/join/{visit}?token={token}", server.url()));
    unit.send(&format!("visit {visit}"));
    unit.expect(&["[waiting] Visit with Carlos L.", "[Join]"]);
    unit.send("join");
    unit.expect(&["[call] with Carlos L."]);
    b.until("Ready", Duration::from_secs(10), |s| s["status"] == "ready");
    b.click("join");
    let s = b.until(
        "25 frames/s and sound from the terminal",
        Duration::from_secs(40),
        |s| s["fps"].as_u64().unwrap_or(0) >= 25 && s["audioPackets"].as_u64().unwrap_or(0) > 20,
    );
    let u = unit.stats_until(Duration::from_secs(40), |v| {
        v["fps"].as_u64().unwrap_or(0) >= 25 && v["audio_buffers"].as_u64().unwrap_or(0) > 20
    });
    println!("page: {s}\nunit terminal: {u}");
    assert!(
        u["fps"].as_u64().unwrap_or(0) >= 25 && u["audio_buffers"].as_u64().unwrap_or(0) > 20,
        "the terminal gets the visitor's picture and sound: {u}"
    );
    assert_eq!(s["problem"], Value::Null, "{s}");
    assert_eq!(
        u["codec"], s["videoCodec"],
        "both send the codec the answer chose"
    );
    unit.quit();
    s["videoCodec"].as_str().unwrap_or_default().to_string()
}

/// Firefox without OpenH264 (a fresh, managed or offline install) answers
/// VP8: the terminal's offer lists it, and the visit has picture and sound.
#[test]
fn a_visitor_in_firefox_esr_sees_and_hears_a_unit_terminal_in_its_default_configuration() {
    assert_eq!(visit_with_default_codecs(Browser::firefox()), "VP8");
}

/// Chromium may choose H.264 (the terminal's first choice) or VP8.
#[test]
fn a_visitor_in_chromium_sees_and_hears_a_unit_terminal_in_its_default_configuration() {
    let codec = visit_with_default_codecs(Browser::chromium());
    assert!(codec == "H264" || codec == "VP8", "{codec}");
}

/// The page's figures for the other visitor (by name) in its audio mesh.
fn other_visitor<'a>(s: &'a Value, name: &str) -> Option<&'a Value> {
    s["visitors"]
        .as_object()?
        .values()
        .find(|v| v["name"] == name)
}

#[test]
fn two_family_members_in_two_browsers_visit_together_and_each_hears_all() {
    let (server, seeded) = Server::seeded();
    let (visit, tokens) = seeded.family.clone();
    let link = |token: &str| format!("{}/join/{visit}?token={token}", server.url());
    // Someone else's link (another visit's visitor) does not open this visit.
    assert_eq!(status_of(&link(&seeded.remote.1)), 401);

    let du = tempfile::tempdir().unwrap();
    let mut unit = unit_terminal(&server, &seeded, du.path());
    let elena = Browser::start();
    let tomas = Browser::start();
    elena.to_waiting_room(&link(&tokens[0]));
    tomas.to_waiting_room(&link(&tokens[1]));

    unit.send(&format!("visit {visit}"));
    unit.expect(&["[waiting] Visit with", "[Join]"]);
    unit.send("join");
    unit.expect(&["[call] with"]);
    for b in [&elena, &tomas] {
        // Ready, or already in progress once the first visitor is in.
        b.until("Ready", Duration::from_secs(10), |s| {
            s["status"] == "ready" || s["status"] == "in_progress"
        });
        b.click("join");
    }

    // At the terminal: both visitors seen and heard, each in a named tile.
    let u = unit.stats_until(Duration::from_secs(60), |v| {
        let peers = v["peers"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        peers.len() == 2
            && peers.iter().all(|p| {
                p["frames"].as_u64().unwrap_or(0) > 30
                    && p["audio_buffers"].as_u64().unwrap_or(0) > 20
            })
    });
    println!("unit terminal: {u}");
    let mut names: Vec<_> = u["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["tile"].as_u64().unwrap(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [(0, "Elena D.".to_string()), (1, "Tomas D.".to_string())]
    );

    // In each browser: the person's picture and sound, and the other
    // visitor's sound (their audio-only connection).
    for (b, other) in [(&elena, "Tomas D."), (&tomas, "Elena D.")] {
        let s = b.until(
            "the person and the other visitor",
            Duration::from_secs(60),
            |s| {
                s["screen"] == "visit"
                    && s["framesDecoded"].as_u64().unwrap_or(0) > 50
                    && s["audioPackets"].as_u64().unwrap_or(0) > 20
                    && other_visitor(s, other)
                        .is_some_and(|v| v["audioPackets"].as_u64().unwrap_or(0) > 20)
            },
        );
        println!("page: {s}");
    }

    // Tomas leaves; Elena and the person go on, and Elena's list forgets him.
    tomas.click("end");
    tomas.click("confirm-end");
    elena.until("Tomas gone", Duration::from_secs(10), |s| {
        other_visitor(s, "Tomas D.").is_none()
    });
    let u = unit.stats_until(Duration::from_secs(10), |v| {
        v["peers"].as_array().is_some_and(|p| p.len() == 1)
    });
    assert_eq!(u["peers"][0]["name"], "Elena D.");

    // The visit ends at its time for everyone still in it.
    server.clock.set(chicago(10, 30, 0));
    unit.expect(&["[ended] Visit ended. Time is up."]);
    elena.until("the end", Duration::from_secs(10), |s| {
        s["ended"] == "time_expired"
    });
    unit.quit();
}
