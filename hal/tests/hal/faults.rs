//! The simulated backend's scripted faults, seen from the call's side.

use std::time::Duration;

use gst::prelude::*;
use hal::{DeviceEvent, DeviceKind, HalConfig, HalError, VideoMode};

use crate::util::{appsink, pipeline, pull};

fn simulated(faults: &str) -> hal::Devices {
    hal::open(HalConfig {
        backend: hal::Backend::Simulated,
        faults: faults.parse().unwrap(),
        ..HalConfig::default()
    })
}

const SMALL: VideoMode = VideoMode {
    width: 160,
    height: 120,
    fps: 30,
};

#[test]
fn missing_and_denied_devices_fail_and_are_recorded() {
    let d = simulated("camera-missing,microphone-denied");
    let e = d.camera.source(SMALL).unwrap_err();
    assert!(matches!(e, HalError::Missing(_)), "{e}");
    let e = d.microphone.source().unwrap_err();
    assert!(matches!(e, HalError::PermissionDenied { .. }), "{e}");
    assert!(d.speaker.sink().is_ok(), "the speaker is not scripted");
    d.fault_report().unwrap().done().unwrap();
}

#[test]
fn faults_that_did_not_happen_are_named() {
    let d = simulated("camera-lost-at=60s,microphone-missing");
    let _src = d.camera.source(SMALL).unwrap();
    let report = d.fault_report().unwrap();
    assert!(report.fired.is_empty());
    let e = report.done().unwrap_err().to_string();
    assert!(
        e.contains("camera-lost-at=60s") && e.contains("microphone-missing"),
        "{e}"
    );
}

#[test]
fn a_camera_lost_mid_call_stops_and_comes_back() {
    let d = simulated("camera-lost-at=300ms,camera-back-at=2500ms");
    let events = d.events();
    let src = d.camera.source(SMALL).unwrap();
    let sink = appsink();
    let p = pipeline(&src, &sink);
    p.set_state(gst::State::Playing).unwrap();
    assert!(
        pull(&sink, Duration::from_secs(2)).is_some(),
        "frames at first"
    );

    let e = events.recv_timeout(Duration::from_secs(3)).unwrap();
    assert_eq!(e, DeviceEvent::Lost(DeviceKind::Camera));
    // Lost: no more frames, and no new source either.
    let _ = pull(&sink, Duration::ZERO);
    assert!(
        pull(&sink, Duration::from_millis(300)).is_none(),
        "frames stop"
    );
    assert!(matches!(d.camera.source(SMALL), Err(HalError::Missing(_))));

    let e = events.recv_timeout(Duration::from_secs(3)).unwrap();
    assert_eq!(e, DeviceEvent::Back(DeviceKind::Camera));
    assert!(
        pull(&sink, Duration::from_secs(2)).is_some(),
        "frames again"
    );
    // Stopped (a camera captures for one pipeline at a time), a new
    // source works too.
    p.set_state(gst::State::Null).unwrap();
    assert!(d.camera.source(SMALL).is_ok(), "a new source works too");

    let report = d.fault_report().unwrap();
    report.done().unwrap();
    assert!(report.fired[0].at < report.fired[1].at);
}

#[test]
fn a_lost_microphone_is_an_event_too() {
    let d = simulated("mic-lost-at=100ms");
    let events = d.events();
    let _src = d.microphone.source().unwrap();
    let e = events.recv_timeout(Duration::from_secs(3)).unwrap();
    assert_eq!(e, DeviceEvent::Lost(DeviceKind::Microphone));
    assert!(matches!(d.microphone.source(), Err(HalError::Missing(_))));
    d.fault_report().unwrap().done().unwrap();
}

#[test]
fn the_simulated_speaker_remembers_its_volume() {
    let d = simulated("");
    assert_eq!(d.speaker.volume().unwrap(), 100);
    d.speaker.set_volume(35).unwrap();
    assert_eq!(d.speaker.volume().unwrap(), 35);
    d.speaker.set_volume(250).unwrap();
    assert_eq!(d.speaker.volume().unwrap(), 100);
}
