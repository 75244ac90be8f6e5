//! Noticing a camera unplugged and plugged back.

use std::time::Duration;

use hal::{DeviceEvent, DeviceKind, HalConfig, RealConfig};

use crate::util::terminal_copy;

/// Unplug every camera of the fake terminal: their /dev nodes go.
fn unplug_cameras(roots: &hal::Roots) {
    for n in ["video0", "video1", "video2"] {
        std::fs::remove_file(roots.dev.join(n)).unwrap();
    }
}

fn plug_cameras(roots: &hal::Roots) {
    for n in ["video0", "video1", "video2"] {
        std::fs::write(roots.dev.join(n), "").unwrap();
    }
}

#[test]
fn changes_between_two_looks() {
    let (_dir, roots) = terminal_copy();
    let before = hal::discover(&roots);
    assert!(hal::watch::changes(&before, &before).is_empty());
    unplug_cameras(&roots);
    let after = hal::discover(&roots);
    let lost = DeviceEvent::Lost(DeviceKind::Camera);
    let back = DeviceEvent::Back(DeviceKind::Camera);
    assert_eq!(hal::watch::changes(&before, &after), [lost]);
    assert_eq!(hal::watch::changes(&after, &before), [back]);
    // Plugged back as another device between two looks: lost, then back.
    std::fs::write(roots.dev.join("video0"), "").unwrap();
    let other = hal::discover(&roots);
    assert_eq!(hal::watch::changes(&before, &other), [lost, back]);
}

#[test]
fn the_watcher_sees_a_camera_unplugged_and_plugged_back() {
    let (_dir, roots) = terminal_copy();
    let (tx, rx) = std::sync::mpsc::channel();
    let _w = hal::Watcher::spawn(roots.clone(), Duration::from_millis(20), move |e| {
        let _ = tx.send(e);
    });
    unplug_cameras(&roots);
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        DeviceEvent::Lost(DeviceKind::Camera)
    );
    plug_cameras(&roots);
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        DeviceEvent::Back(DeviceKind::Camera)
    );
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "nothing else changed"
    );
}

#[test]
fn the_real_backend_reports_camera_events_to_subscribers() {
    let (_dir, roots) = terminal_copy();
    let d = hal::open(HalConfig {
        real: RealConfig {
            roots: roots.clone(),
            ..RealConfig::default()
        },
        ..HalConfig::default()
    });
    // The watch starts with the first subscriber, and polls once a second.
    let events = d.events();
    unplug_cameras(&roots);
    assert_eq!(
        events.recv_timeout(Duration::from_secs(5)).unwrap(),
        DeviceEvent::Lost(DeviceKind::Camera)
    );
    assert_eq!(d.camera.name(), "no camera");
}
