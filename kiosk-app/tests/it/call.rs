//! The visit itself: two headless terminals (lobby and housing unit, with
//! simulated camera and microphone) in a real WebRTC call through a real
//! visit-server, on loopback or inside a network namespace of our own.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::*;

pub(crate) fn fps_at_least(n: u64) -> impl Fn(&serde_json::Value) -> bool {
    move |v| v["fps"].as_u64().unwrap_or(0) >= n && v["audio_buffers"].as_u64().unwrap_or(0) > 0
}

/// Check in at the lobby, open the visit at the unit, join both; returns
/// once both sides have joined.
pub(crate) fn join_both(lobby: &mut Kiosk, unit: &mut Kiosk, visit: uuid::Uuid, pin: &str) {
    lobby.expect(&["[attract] Test County Jail"]);
    lobby.send("touch");
    lobby.send(&format!("pin {pin}"));
    lobby.send("ok");
    lobby.expect(&["[result] Checked in. Waiting for J. S. to join."]);
    lobby.send("done");
    lobby.expect(&["[waiting] Visit with J. S. 10:00-12:00"]);

    unit.expect(&["[sign-in] Test County Jail"]);
    unit.send(&format!("visit {visit}"));
    unit.expect(&["[waiting] Visit with Maria S.", "[Join]"]);
    unit.send("join");
    unit.expect(&["[call] with Maria S."]);

    // The person joined: the visit is Ready and the lobby may join.
    lobby.expect(&["[waiting]", "(ready to start)", "[Join]"]);
    lobby.send("join");
    lobby.expect(&["[call] with J. S."]);
}

pub(crate) const SMALL: &str = "width = 640\nheight = 360\n";

/// A lobby and a unit terminal on loopback (the unit's `[call]` extras given).
pub(crate) fn lobby_and_unit(
    server: &Server,
    seeded: &Seeded,
    unit_call: &str,
) -> ([tempfile::TempDir; 2], Kiosk, Kiosk) {
    lobby_and_unit_with(server, seeded, SMALL, unit_call)
}

/// The same with the lobby's `[call]` extras too.
fn lobby_and_unit_with(
    server: &Server,
    seeded: &Seeded,
    lobby_call: &str,
    unit_call: &str,
) -> ([tempfile::TempDir; 2], Kiosk, Kiosk) {
    lobby_and_unit_env(server, seeded, lobby_call, &[], unit_call)
}

/// The same with the lobby's environment too.
fn lobby_and_unit_env(
    server: &Server,
    seeded: &Seeded,
    lobby_call: &str,
    lobby_env: &[(&str, std::path::PathBuf)],
    unit_call: &str,
) -> ([tempfile::TempDir; 2], Kiosk, Kiosk) {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let lobby = Kiosk::start_env(
        &call_config_with(
            dirs[0].path(),
            &server.url(),
            &seeded.lobby_code,
            "lobby",
            "127.0.0.1",
            lobby_call,
        ),
        lobby_env,
    );
    let unit = Kiosk::start(&call_config_with(
        dirs[1].path(),
        &server.url(),
        &seeded.unit_code,
        "unit",
        "127.0.0.1",
        unit_call,
    ));
    (dirs, lobby, unit)
}

#[test]
fn a_visit_carries_video_and_sound_both_ways_and_ends_at_its_time() {
    let (server, seeded) = Server::seeded();
    let (visit, pin) = seeded.visits[0].clone();
    let (dirs, mut lobby, mut unit) = lobby_and_unit(&server, &seeded, SMALL);
    join_both(&mut lobby, &mut unit, visit, &pin);

    // Real media both ways: at least 25 decoded frames a second, and sound.
    let l = lobby.stats_until(Duration::from_secs(30), fps_at_least(25));
    let u = unit.stats_until(Duration::from_secs(30), fps_at_least(25));
    assert_eq!(l["codec"], "H264", "{l}");
    assert_eq!(u["codec"], "H264", "{u}");
    lobby.send("status");
    lobby.expect(&["[call] with J. S., 121 min left"]);

    // Let the visit go on (long enough for a few recorded segments), then
    // come shortly before its end.
    std::thread::sleep(Duration::from_secs(12));
    // Shortly before the end: warned, then ended by the server, on both sides.
    server.clock.set(chicago(11, 59, 50));
    lobby.expect(&["warning: 1 min left"]);
    server.clock.set(chicago(12, 0, 0));
    unit.expect(&["[ended] Visit ended. Time is up."]);
    lobby.expect(&["[ended] Visit ended. Time is up."]);

    // The server's record tells the story: both joined, media flowed, and
    // each side's report came in.
    server.wait_until("both call reports", Duration::from_secs(10), || {
        server
            .history(visit)
            .iter()
            .filter(|(e, _)| e == "call_report")
            .count()
            == 2
    });
    let h = server.history(visit);
    let events: Vec<&str> = h.iter().map(|(e, _)| e.as_str()).collect();
    for e in [
        "check_in",
        "joined_call",
        "call_connected",
        "media_flowing",
        "call_report",
        "recording_started",
    ] {
        assert!(events.contains(&e), "{e} missing from {events:?}");
    }
    assert!(!events.contains(&"recording_problem"), "{h:?}");
    let report = h.iter().find(|(e, _)| e == "call_report").unwrap();
    let r: serde_json::Value = serde_json::from_str(&report.1).unwrap();
    assert!(r["report"]["frames_decoded"].as_u64().unwrap() > 60, "{r}");
    assert!(r["report"]["connected_ms"].as_u64().unwrap() > 2000, "{r}");
    assert_eq!(
        r["report"]["interruptions"].as_array().unwrap().len(),
        0,
        "{r}"
    );
    // The unit terminal recorded both parties, as sent and as received.
    let connected_ms = h
        .iter()
        .filter(|(e, _)| e == "call_report")
        .map(|(_, d)| serde_json::from_str::<serde_json::Value>(d).unwrap())
        .map(|r| r["report"]["connected_ms"].as_u64().unwrap())
        .max()
        .unwrap();
    let unit_data = dirs[1].path().join("data");
    crate::recording::recorded_both_parties(&server, visit, &unit_data, connected_ms);
    assert!(
        crate::recording::files(&dirs[0].path().join("data")).is_empty(),
        "the lobby terminal records nothing"
    );
    // Back to the attract screen after "Done".
    lobby.send("done");
    lobby.expect(&["[attract]"]);
    lobby.quit();
    unit.quit();
}

#[test]
fn a_staff_termination_ends_both_sides_within_a_second_with_the_reason() {
    let (server, seeded) = Server::seeded();
    let (visit, pin) = seeded.visits[0].clone();
    // This unit terminal sends VP8 (the fallback): the lobby answers in kind.
    let (_dirs, mut lobby, mut unit) = lobby_and_unit(
        &server,
        &seeded,
        "width = 640\nheight = 360\nvideo_codec = \"vp8\"\n",
    );
    join_both(&mut lobby, &mut unit, visit, &pin);
    let l = lobby.stats_until(Duration::from_secs(30), |v| v["flowing"] == true);
    let u = unit.stats_until(Duration::from_secs(30), |v| v["flowing"] == true);
    assert_eq!(
        (l["codec"].as_str(), u["codec"].as_str()),
        (Some("VP8"), Some("VP8"))
    );

    let t = Instant::now();
    server.terminate(&seeded.admin_token, visit, "Displaying contraband");
    lobby.expect(&["[ended] Visit ended by staff: Displaying contraband"]);
    unit.expect(&["[ended] Visit ended by staff: Displaying contraband"]);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(1), "took {took:?}");
    lobby.quit();
    unit.quit();
}

#[test]
fn a_terminal_of_another_housing_unit_cannot_join() {
    // The server refuses it too (visit-server's signal tests); here the
    // terminal itself does not offer a visit outside its unit's schedule.
    let (server, seeded) = Server::seeded();
    let (visit, _) = seeded.visits[0].clone();
    let d = tempfile::tempdir().unwrap();
    let mut wrong = Kiosk::start(&call_config(
        d.path(),
        &server.url(),
        &seeded.other_unit_code,
        "unit",
        "127.0.0.1",
    ));
    wrong.expect(&["[sign-in] Test County Jail"]);
    wrong.send(&format!("visit {visit}"));
    wrong.expect(&["error: visit", "is not in today's schedule"]);
    wrong.quit();
}

/// A network namespace with a veth pair to it: the test's own network.
struct Netns {
    name: String,
    host_if: String,
    pub host_ip: String,
    pub ns_ip: String,
}

fn ip(args: &[&str]) {
    let s = Command::new("ip")
        .args(args)
        .status()
        .expect("the ip command (iproute2)");
    assert!(
        s.success(),
        "ip {args:?} failed (network namespaces need root)"
    );
}

impl Netns {
    fn new() -> Netns {
        let id = std::process::id() % 10000;
        let name = format!("kiosk-test-{id}");
        let host_if = format!("vkh{id}");
        let ns_if = format!("vkn{id}");
        let net = 100 + id % 150;
        let (host_ip, ns_ip) = (format!("10.231.{net}.1"), format!("10.231.{net}.2"));
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        ip(&["netns", "add", &name]);
        ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if,
        ]);
        ip(&["link", "set", &ns_if, "netns", &name]);
        ip(&["addr", "add", &format!("{host_ip}/24"), "dev", &host_if]);
        ip(&["link", "set", &host_if, "up"]);
        ip(&[
            "netns",
            "exec",
            &name,
            "ip",
            "addr",
            "add",
            &format!("{ns_ip}/24"),
            "dev",
            &ns_if,
        ]);
        ip(&["netns", "exec", &name, "ip", "link", "set", &ns_if, "up"]);
        ip(&["netns", "exec", &name, "ip", "link", "set", "lo", "up"]);
        Netns {
            name,
            host_if,
            host_ip,
            ns_ip,
        }
    }

    fn link(&self, up: bool) {
        ip(&["link", "set", &self.host_if, if up { "up" } else { "down" }]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

#[test]
fn a_five_second_network_cut_recovers_by_itself_and_is_recorded() {
    let net = Netns::new();
    let (server, seeded) = Server::seeded_on(&net.host_ip);
    let (visit, pin) = seeded.visits[0].clone();
    let dl = tempfile::tempdir().unwrap();
    let du = tempfile::tempdir().unwrap();
    // The lobby terminal sits behind the link we cut; the unit terminal and
    // the server are on the other side of it.
    let mut lobby = Kiosk::start_in(
        &net.name,
        &call_config(
            dl.path(),
            &server.url(),
            &seeded.lobby_code,
            "lobby",
            &net.ns_ip,
        ),
    );
    let mut unit = Kiosk::start(&call_config(
        du.path(),
        &server.url(),
        &seeded.unit_code,
        "unit",
        &net.host_ip,
    ));
    join_both(&mut lobby, &mut unit, visit, &pin);
    lobby.stats_until(Duration::from_secs(30), fps_at_least(20));
    unit.stats_until(Duration::from_secs(30), fps_at_least(20));

    net.link(false);
    std::thread::sleep(Duration::from_secs(5));
    net.link(true);

    // Nobody touches anything: media flows again on both sides, and the gap is on record.
    let l = lobby.stats_until(Duration::from_secs(30), |v| {
        v["interruptions"].as_u64().unwrap_or(0) >= 1
            && v["flowing"] == true
            && v["fps"].as_u64().unwrap_or(0) >= 20
    });
    let u = unit.stats_until(Duration::from_secs(30), |v| {
        v["interruptions"].as_u64().unwrap_or(0) >= 1
            && v["flowing"] == true
            && v["fps"].as_u64().unwrap_or(0) >= 20
    });
    println!("after the cut: lobby {l}\nunit {u}");
    server.wait_until(
        "the interruption on record",
        Duration::from_secs(10),
        || {
            server
                .history(visit)
                .iter()
                .any(|(e, _)| e == "media_interrupted")
        },
    );
    lobby.quit();
    unit.quit();
}

fn u(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

/// textoverlay (gstreamer1.0-x) is optional: a lobby terminal without it,
/// whose camera is missing so that the camera-unavailable picture (which
/// would carry its words) is what it sends, still has a call with video and
/// sound both ways; `diagnose` names what is missing and its package.
#[test]
fn a_terminal_without_an_optional_element_has_video_and_sound() {
    let (server, seeded) = Server::seeded();
    let (visit, pin) = seeded.visits[0].clone();
    let (_plugins, env) = plugins_without(&["libgstpango.so"]);
    let (dirs, mut lobby, mut unit) = lobby_and_unit_env(
        &server,
        &seeded,
        &format!("{SMALL}faults = \"camera-missing\"\n"),
        &env,
        SMALL,
    );
    join_both(&mut lobby, &mut unit, visit, &pin);
    let u = unit.stats_until(Duration::from_secs(30), fps_at_least(20));
    let l = lobby.stats_until(Duration::from_secs(30), fps_at_least(20));
    assert!(
        u["fps"].as_u64().unwrap() >= 20 && u["audio_buffers"].as_u64().unwrap() > 0,
        "{u}"
    );
    assert!(
        l["fps"].as_u64().unwrap() >= 20 && l["audio_buffers"].as_u64().unwrap() > 0,
        "{l}"
    );
    assert_eq!(l["camera"], false, "the lobby sends its stand-in: {l}");
    lobby.quit();
    unit.quit();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk-app"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("--config")
        .arg(dirs[0].path().join("kiosk.toml"))
        .arg("diagnose")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("optional textoverlay (install gstreamer1.0-x)"),
        "{text}"
    );
}

/// A lobby terminal that can encode no video (its video encoders are not
/// installed) answers the unit's offer with the video line inactive, and
/// again when the unit offers once more with VP8 alone: the visit goes on
/// with sound both ways, both screens say "sound only", and the visit's
/// history records why, from both sides.
#[test]
fn a_visit_whose_answer_refuses_video_goes_on_with_sound_and_says_so() {
    let (server, seeded) = Server::seeded();
    let (visit, pin) = seeded.visits[0].clone();
    let (_plugins, env) = plugins_without(&[
        "libgstvpx.so",
        "libgstx264.so",
        "libgstopenh264.so",
        "libgstlibav.so",
    ]);
    let (_dirs, mut lobby, mut unit) = lobby_and_unit_env(&server, &seeded, SMALL, &env, SMALL);
    join_both(&mut lobby, &mut unit, visit, &pin);
    unit.expect(&[
        "[call] with Maria S.",
        "sound only: no video format in common",
    ]);
    lobby.expect(&["[call] with J. S.", "sound only: no video format in common"]);
    let sound = |v: &serde_json::Value| v["audio_buffers"].as_u64().unwrap_or(0) > 100;
    let u = unit.stats_until(Duration::from_secs(20), sound);
    let l = lobby.stats_until(Duration::from_secs(20), sound);
    for (who, v) in [("unit", &u), ("lobby", &l)] {
        assert!(sound(v), "{who} hears the other side: {v}");
        assert_eq!(v["frames"], 0, "{who}: no picture: {v}");
        assert_eq!(
            v["flowing"], true,
            "{who}: the sound counts as the call: {v}"
        );
    }
    assert_eq!(u["sessions"], 2, "one more offer, with another codec: {u}");
    server.wait_until(
        "both sides' reasons on record",
        Duration::from_secs(10),
        || {
            let problems: Vec<String> = server
                .history(visit)
                .into_iter()
                .filter(|(e, d)| e == "media_problem" && d.contains("no_common_video"))
                .map(|(_, d)| d)
                .collect();
            problems.len() >= 2
        },
    );
    lobby.quit();
    unit.quit();
}

#[test]
fn a_lost_camera_shows_camera_unavailable_and_comes_back_and_a_lost_microphone_is_noticed() {
    let (server, seeded) = Server::seeded();
    let (visit, pin) = seeded.visits[0].clone();
    // Simulated faults, counted from each side's first media session: the
    // lobby's camera is unplugged for 12 s, the unit's microphone likewise.
    let (_dirs, mut lobby, mut unit) = lobby_and_unit_with(
        &server,
        &seeded,
        &format!("{SMALL}faults = \"camera-lost-at=6s,camera-back-at=18s\"\n"),
        &format!("{SMALL}faults = \"microphone-lost-at=6s,microphone-back-at=18s\"\n"),
    );
    join_both(&mut lobby, &mut unit, visit, &pin);
    unit.stats_until(Duration::from_secs(30), fps_at_least(20));
    lobby.stats_until(Duration::from_secs(30), fps_at_least(20));

    // The camera and the microphone go: each side is told of the other's.
    unit.expect(&["[call] with Maria S.", "their camera is not working"]);
    lobby.expect(&["[call] with J. S.", "their microphone is not working"]);
    let lost = lobby.stats_until(Duration::from_secs(5), |v| v["camera"] == false);
    assert_eq!(lost["camera"], false, "{lost}");
    // The unit keeps receiving a picture, a still one ("camera
    // unavailable"): frames, hardly any of them new.
    std::thread::sleep(Duration::from_millis(1500));
    let a = unit.stats_until(Duration::from_secs(5), |_| true);
    std::thread::sleep(Duration::from_secs(3));
    let b = unit.stats_until(Duration::from_secs(5), |_| true);
    let (frames, moving) = (
        u(&b, "frames") - u(&a, "frames"),
        u(&b, "moving_frames") - u(&a, "moving_frames"),
    );
    assert!(frames >= 45, "the call goes on with a picture: {a} -> {b}");
    assert!(
        moving * 5 < frames,
        "the picture is still while the camera is gone: {moving} of {frames} frames changed"
    );
    // Sound (silence) from the unit keeps flowing: the call does not break.
    let l1 = lobby.stats_until(Duration::from_secs(5), |_| true);
    std::thread::sleep(Duration::from_secs(1));
    let l2 = lobby.stats_until(Duration::from_secs(5), |_| true);
    assert!(
        u(&l2, "audio_buffers") > u(&l1, "audio_buffers") + 20,
        "audio keeps flowing: {l1} -> {l2}"
    );
    assert_eq!(
        u(&b, "sessions"),
        u(&a, "sessions"),
        "no new session was needed"
    );

    // Both come back: the moving picture returns without a restart.
    lobby.stats_until(Duration::from_secs(15), |v| v["camera"] == true);
    unit.stats_until(Duration::from_secs(5), |v| v["microphone"] == true);
    let c = unit.stats_until(Duration::from_secs(5), |_| true);
    let d = unit.stats_until(Duration::from_secs(10), |v| {
        u(v, "moving_frames") >= u(&c, "moving_frames") + 30
    });
    assert!(u(&d, "fps") >= 15, "{d}");

    // The visit's record says what happened, side by side.
    server.wait_until("device events recorded", Duration::from_secs(10), || {
        server
            .history(visit)
            .iter()
            .filter(|(e, _)| e == "device_back")
            .count()
            == 2
    });
    let h = server.history(visit);
    let device_events: Vec<(String, String)> = h
        .iter()
        .filter(|(e, _)| e.starts_with("device_"))
        .map(|(e, d)| {
            let d: serde_json::Value = serde_json::from_str(d).unwrap();
            (e.clone(), d["device"].as_str().unwrap_or("?").to_string())
        })
        .collect();
    for (e, dev) in [
        ("device_lost", "camera"),
        ("device_back", "camera"),
        ("device_lost", "microphone"),
        ("device_back", "microphone"),
    ] {
        assert!(
            device_events.contains(&(e.to_string(), dev.to_string())),
            "{e} {dev} missing from {device_events:?}"
        );
    }
    lobby.send("end");
    lobby.send("confirm");
    lobby.expect(&["[ended] You ended the visit."]);
}

#[test]
fn lifting_the_handset_moves_the_calls_sound_to_it_and_back() {
    let (server, seeded) = Server::seeded();
    let (visit, pin) = seeded.visits[0].clone();
    // The unit terminal's hook switch: an input device the test writes to.
    let hook_dir = tempfile::tempdir().unwrap();
    let hook = hook_dir.path().join("hook");
    std::fs::write(&hook, b"").unwrap();
    let (_dirs, mut lobby, mut unit) = lobby_and_unit(
        &server,
        &seeded,
        &format!("{SMALL}[call.hook]\ndevice = \"{}\"\n", hook.display()),
    );
    join_both(&mut lobby, &mut unit, visit, &pin);
    unit.stats_until(Duration::from_secs(30), fps_at_least(20));
    let press = |value: i32| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&hook)
            .unwrap();
        f.write_all(&hal::hook::encode(hal::hook::InputEvent {
            kind: hal::hook::EV_KEY,
            code: hal::hook::KEY_PHONE,
            value,
        }))
        .unwrap();
    };
    let audio = |k: &mut Kiosk| {
        u(
            &k.stats_until(Duration::from_secs(5), |_| true),
            "audio_buffers",
        )
    };

    // Lifted: the call's sound goes through the handset, and keeps flowing
    // both ways in the same session.
    press(1);
    let s = unit.stats_until(Duration::from_secs(10), |v| v["handset"] == true);
    let (l0, u0) = (audio(&mut lobby), audio(&mut unit));
    std::thread::sleep(Duration::from_secs(2));
    assert!(audio(&mut lobby) > l0 + 20, "the lobby hears the handset");
    assert!(audio(&mut unit) > u0 + 20, "the handset plays the lobby");
    // Down again: back to the speaker.
    press(0);
    let t = unit.stats_until(Duration::from_secs(10), |v| v["handset"] == false);
    assert_eq!(
        u(&t, "sessions"),
        u(&s, "sessions"),
        "no new session: {s} -> {t}"
    );
    let l1 = audio(&mut lobby);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        audio(&mut lobby) > l1 + 20,
        "the lobby hears the speakerphone again"
    );
    lobby.send("end");
    lobby.send("confirm");
    lobby.expect(&["[ended] You ended the visit."]);
}
