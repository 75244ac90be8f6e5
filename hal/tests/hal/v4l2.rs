//! The real camera's error paths: what a technician reads when the camera
//! is not there or is not a camera. (No /dev/video* on CI machines.)

use std::path::Path;

use hal::{HalConfig, HalError, RealConfig, VideoMode};

use crate::util::{fixture, terminal};

#[test]
fn no_device_is_missing() {
    let e = hal::v4l2::modes(Path::new("/nonexistent/video9")).unwrap_err();
    assert!(matches!(e, HalError::Missing(_)), "{e}");
    assert_eq!(e.to_string(), "camera /nonexistent/video9 not found");
}

#[test]
fn a_file_that_is_not_a_device_is_not_a_camera() {
    let f = tempfile::NamedTempFile::new().unwrap();
    let e = hal::v4l2::modes(f.path()).unwrap_err();
    assert!(matches!(e, HalError::NotACamera { .. }), "{e}");
    let e = hal::v4l2::modes(Path::new("/dev/null")).unwrap_err();
    assert!(matches!(e, HalError::NotACamera { .. }), "{e}");
}

#[test]
fn a_directory_cannot_be_opened() {
    let e = hal::v4l2::modes(&fixture("terminal")).unwrap_err();
    assert!(matches!(e, HalError::Open { .. }), "{e}");
    assert!(e.to_string().starts_with("cannot open "), "{e}");
}

#[test]
fn permission_denied_tells_what_to_do() {
    // Tests run as root, which no permission stops: check the mapping.
    let e = hal::v4l2::open_error(
        Path::new("/dev/kiosk/camera"),
        std::io::Error::from(std::io::ErrorKind::PermissionDenied),
    );
    assert!(matches!(e, HalError::PermissionDenied { .. }));
    assert!(e.to_string().contains("video"), "{e}");
}

fn real(roots: hal::Roots, camera: Option<&str>) -> hal::Devices {
    hal::open(HalConfig {
        backend: hal::Backend::Real,
        real: RealConfig {
            roots,
            camera: camera.map(Into::into),
            ..RealConfig::default()
        },
        ..HalConfig::default()
    })
}

#[test]
fn the_real_camera_without_a_camera_fails_clearly() {
    let d = real(hal::Roots::under(Path::new("/nonexistent")), None);
    assert_eq!(d.camera.name(), "no camera");
    let e = d.camera.source(VideoMode::default()).unwrap_err();
    assert!(matches!(e, HalError::Missing(_)), "{e}");
    assert!(e.to_string().contains("kiosk/camera"), "{e}");
}

#[test]
fn the_real_camera_opens_the_stable_name() {
    // The fixture's /dev/kiosk/camera is a plain file: discovery finds it,
    // opening it fails as "not a camera" (so it was the one tried).
    let roots = terminal();
    let d = real(roots.clone(), None);
    assert_eq!(
        d.camera.name(),
        roots.dev.join("kiosk/camera").display().to_string()
    );
    let e = d.camera.source(VideoMode::default()).unwrap_err();
    assert!(matches!(e, HalError::NotACamera { .. }), "{e}");
    let d = real(roots, Some("/nonexistent/video7"));
    let e = d.camera.source(VideoMode::default()).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/video7"), "{e}");
}
