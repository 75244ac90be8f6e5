//! The real ALSA backend against ALSA's `null` device and against a
//! private configuration (a `file` plugin "card", tests/fixtures/alsa-private.conf).
//!
//! ALSA reads its configuration once per process, from `ALSA_CONFIG_PATH`;
//! setting that variable in a test would change it under every other test
//! of this binary. So the private-configuration test runs in a child
//! process: this binary again, with the variable set, running only
//! `alsa::in_private_config` (ignored in normal runs).

use std::time::Duration;

use gst::prelude::*;
use hal::{HalConfig, RealConfig};

use crate::util::{appsink, fixture, pipeline, pull, run_to_eos};

fn real(device: &str, echo_cancellation: bool) -> hal::Devices {
    hal::open(HalConfig {
        backend: hal::Backend::Real,
        real: RealConfig {
            microphone: Some(device.into()),
            speaker: Some(device.into()),
            echo_cancellation,
            // The null device and the file plugin do not keep real time.
            provide_clock: false,
            ..RealConfig::default()
        },
        ..HalConfig::default()
    })
}

fn tone(buffers: u32) -> gst::Element {
    gst::init().unwrap();
    gst::ElementFactory::make("audiotestsrc")
        .property("num-buffers", buffers as i32)
        .property("samplesperbuffer", 480i32)
        .build()
        .unwrap()
}

#[test]
fn the_speaker_plays_a_tone_into_the_null_device() {
    let d = real("null", false);
    assert_eq!(d.speaker.name(), "ALSA null");
    run_to_eos(
        &pipeline(&tone(20), &d.speaker.sink().unwrap()),
        Duration::from_secs(20),
    );
}

#[test]
fn the_microphone_records_from_the_null_device() {
    let d = real("null", false);
    let sink = appsink();
    let p = pipeline(&d.microphone.source().unwrap(), &sink);
    p.set_state(gst::State::Playing).unwrap();
    for _ in 0..3 {
        let s = pull(&sink, Duration::from_secs(5)).expect("audio from the microphone");
        assert!(s.buffer().unwrap().size() > 0);
    }
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn echo_cancellation_runs_between_speaker_and_microphone() {
    // webrtcdsp needs its probe to exist: both in one pipeline, as in a call.
    let d = real("null", true);
    let speaker = d.speaker.sink().unwrap();
    let tone = tone(-1i32 as u32);
    tone.set_property("is-live", true);
    let mic = d.microphone.source().unwrap();
    let sink = appsink();
    let p = pipeline(&tone, &speaker);
    p.add_many([&mic, &sink]).unwrap();
    mic.link(&sink).unwrap();
    p.set_state(gst::State::Playing).unwrap();
    for _ in 0..3 {
        assert!(
            pull(&sink, Duration::from_secs(5)).is_some(),
            "processed audio"
        );
    }
    p.set_state(gst::State::Null).unwrap();
}

#[test]
fn without_a_mixer_the_volume_is_applied_in_the_speaker() {
    let d = real("null", false);
    let sink = d.speaker.sink().unwrap();
    assert_eq!(d.speaker.volume().unwrap(), 100);
    d.speaker.set_volume(40).unwrap();
    assert_eq!(d.speaker.volume().unwrap(), 40);
    let volume = sink
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .by_name("hal-volume")
        .unwrap();
    assert!((volume.property::<f64>("volume") - 0.4).abs() < 1e-6);
    // A sink made later starts at the set volume.
    let later = d.speaker.sink().unwrap();
    let v = later
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .by_name("hal-volume")
        .unwrap();
    assert!((v.property::<f64>("volume") - 0.4).abs() < 1e-6);
}

#[test]
fn the_null_device_is_listed_and_a_missing_card_has_no_mixer() {
    let pcms = hal::alsa_dev::pcms().unwrap();
    let null = pcms
        .iter()
        .find(|p| p.name == "null")
        .expect("null in the hints");
    assert!(null.capture && null.playback);
    let e = hal::alsa_dev::mixer_controls("hw:99").unwrap_err();
    assert!(e.to_string().contains("opening mixer hw:99"), "{e}");
}

#[test]
fn a_private_alsa_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let played = dir.path().join("played.raw");
    let capture = dir.path().join("capture.raw");
    std::fs::write(&capture, vec![0x55u8; 48000 * 4]).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "alsa::in_private_config",
            "--ignored",
            "--nocapture",
        ])
        .env(
            "ALSA_CONFIG_PATH",
            format!(
                "/usr/share/alsa/alsa.conf:{}",
                fixture("alsa-private.conf").display()
            ),
        )
        .env("HAL_TEST_PLAYBACK", &played)
        .env("HAL_TEST_CAPTURE", &capture)
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && log.contains("1 passed"), "{log}");
    // What the speaker played reached the "card".
    let bytes = std::fs::metadata(&played).map(|m| m.len()).unwrap_or(0);
    assert!(bytes > 10_000, "{bytes} bytes played\n{log}");
}

#[test]
#[ignore = "run by a_private_alsa_configuration in a child process with ALSA_CONFIG_PATH set"]
fn in_private_config() {
    if std::env::var_os("HAL_TEST_PLAYBACK").is_none() {
        // Run with --include-ignored outside its parent: nothing to check here.
        eprintln!("in_private_config runs only as a_private_alsa_configuration's child");
        return;
    }
    assert!(std::env::var("ALSA_CONFIG_PATH").is_ok_and(|p| p.contains("alsa-private.conf")));
    let pcms = hal::alsa_dev::pcms().unwrap();
    for name in ["kiosk_speaker", "kiosk_microphone"] {
        assert!(pcms.iter().any(|p| p.name == name), "{name} in {pcms:?}");
    }
    let spk = hal::open(HalConfig {
        real: RealConfig {
            speaker: Some("kiosk_speaker".into()),
            microphone: Some("kiosk_microphone".into()),
            provide_clock: false,
            ..RealConfig::default()
        },
        ..HalConfig::default()
    });
    run_to_eos(
        &pipeline(&tone(50), &spk.speaker.sink().unwrap()),
        Duration::from_secs(20),
    );
    let sink = appsink();
    let p = pipeline(&spk.microphone.source().unwrap(), &sink);
    p.set_state(gst::State::Playing).unwrap();
    let s = pull(&sink, Duration::from_secs(5)).expect("audio from the file");
    assert!(s.buffer().unwrap().size() > 0);
    p.set_state(gst::State::Null).unwrap();
}
