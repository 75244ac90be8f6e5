//! Discovery against the fake terminal in `tests/fixtures/terminal`.

use std::path::Path;

use crate::util::{terminal, terminal_copy};

#[test]
fn the_stable_camera_comes_first_and_metadata_nodes_are_not_cameras() {
    let roots = terminal();
    let r = hal::discover(&roots);
    let names: Vec<&str> = r.cameras.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Integrated Camera", "HD Webcam C615"]);
    let cam = r.camera().unwrap();
    assert!(cam.stable);
    assert_eq!(cam.path, roots.dev.join("kiosk/camera"));
    assert_eq!(cam.node, roots.dev.join("video2"));
    assert!(!r.cameras[1].stable);
    assert_eq!(r.cameras[1].path, roots.dev.join("video0"));
}

#[test]
fn sound_cards_give_alsa_names_with_the_headset_first() {
    let r = hal::discover(&terminal());
    let mic = r.microphone().unwrap();
    assert!(mic.stable);
    assert_eq!(mic.alsa, "plughw:CARD=Headset,DEV=0");
    assert_eq!((mic.card, mic.device), (1, 0));
    assert_eq!(mic.name, "Headset (card 1, device 0)");
    let speakers: Vec<&str> = r.speakers.iter().map(|s| s.alsa.as_str()).collect();
    assert_eq!(
        speakers,
        [
            "plughw:CARD=Headset,DEV=0",
            "plughw:CARD=PCH,DEV=0",
            "plughw:CARD=PCH,DEV=3"
        ]
    );
    assert_eq!(r.microphones.len(), 2);
}

#[test]
fn only_the_touchscreen_is_a_touchscreen() {
    let roots = terminal();
    let r = hal::discover(&roots);
    assert_eq!(
        r.touchscreens.len(),
        1,
        "not the keyboard, not the touchpad"
    );
    let t = r.touchscreen().unwrap();
    assert_eq!(t.name, "ILITEK ILITEK-TP");
    assert_eq!(t.path, roots.dev.join("kiosk/touchscreen"));
}

#[test]
fn a_node_missing_from_dev_is_a_problem_not_a_device() {
    let r = hal::discover(&terminal());
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(r.problems[0].contains("video4"), "{:?}", r.problems);
}

#[test]
fn the_report_is_json_for_remote_support() {
    let mut r = hal::discover(&terminal());
    r.read_camera_modes();
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["cameras"][0]["name"], "Integrated Camera");
    assert_eq!(j["cameras"][0]["stable"], true);
    // The fixture's nodes are plain files: their modes cannot be read, and say why.
    let why = j["cameras"][0]["modes_error"].as_str().unwrap();
    assert!(why.contains("not a video capture device"), "{why}");
    assert_eq!(j["speakers"][0]["alsa"], "plughw:CARD=Headset,DEV=0");
    assert_eq!(j["touchscreens"][0]["name"], "ILITEK ILITEK-TP");
}

#[test]
fn the_full_report_adds_alsa_and_says_what_it_could_not_read() {
    let r = hal::full_report(&terminal());
    assert!(r.pcms.iter().any(|p| p.name == "null"), "{:?}", r.pcms);
    let ctls: Vec<&str> = r.mixers.iter().map(|m| m.ctl.as_str()).collect();
    assert_eq!(ctls, ["hw:CARD=Headset", "hw:CARD=PCH"]);
    // The fixture's cards are not real here: each mixer says why it is empty.
    assert!(
        r.mixers
            .iter()
            .all(|m| m.error.is_some() || !m.controls.is_empty())
    );
    assert!(r.cameras.iter().all(|c| c.modes_error.is_some()));
    serde_json::to_string_pretty(&r).unwrap();
}

#[test]
fn a_machine_without_devices_reports_nothing() {
    for root in ["/nonexistent", env!("CARGO_MANIFEST_DIR")] {
        let r = hal::discover(&hal::Roots::under(Path::new(root)));
        assert_eq!(r, hal::DeviceReport::default());
    }
}

#[test]
fn a_dangling_stable_name_is_reported_and_the_next_camera_used() {
    let (_dir, roots) = terminal_copy();
    std::fs::remove_file(roots.dev.join("video2")).unwrap();
    let r = hal::discover(&roots);
    assert_eq!(r.camera().unwrap().path, roots.dev.join("video0"));
    assert!(!r.camera().unwrap().stable);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("kiosk/camera points to a device that is not there")),
        "{:?}",
        r.problems
    );
}
