//! How each of the terminal's devices is, in a technician's words: the
//! facts the technician screen, `kiosk-app diagnose` and the heartbeat all
//! show, gathered here once.
//!
//! Each device answers through its trait's `check` (the camera with the
//! mode it would use for a call), the touchscreen through discovery. A
//! check never starts a stream: the camera is only asked for its modes, the
//! sound cards are looked up, not opened, so checking during a call
//! disturbs nothing.

use serde::Serialize;

use crate::{DeviceKind, Devices, HalError, VideoMode};

/// Whether a device can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Found and usable.
    Ok,
    /// Not there (unplugged, or lost mid-call).
    Missing,
    /// There, but it cannot be used (permission, no usable mode...).
    Error,
}

/// One device's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceStatus {
    pub kind: DeviceKind,
    pub health: Health,
    /// What is used, for a technician: "/dev/kiosk/camera: Mjpg 1280x720@30.00"
    /// when it works, the reason when it does not ("permission denied on
    /// ...: the terminal's user must be in the device's group").
    pub detail: String,
}

impl DeviceStatus {
    fn from_check(kind: DeviceKind, r: Result<String, HalError>) -> DeviceStatus {
        let (health, detail) = match r {
            Ok(d) => (Health::Ok, d),
            Err(e @ HalError::Missing(_)) => (Health::Missing, e.to_string()),
            Err(e) => (Health::Error, e.to_string()),
        };
        DeviceStatus {
            kind,
            health,
            detail,
        }
    }
}

impl Devices {
    /// The state of the camera (for a call at `wanted`), microphone, speaker
    /// and touchscreen, in that order.
    pub fn status(&self, wanted: VideoMode) -> Vec<DeviceStatus> {
        let touchscreen = match &self.watch {
            // The real backend: what discovery finds under its roots.
            Some(roots) => match crate::discover(roots).touchscreen() {
                Some(t) => Ok(format!("{} ({})", t.name, t.path.display())),
                None => Err(HalError::Missing(format!(
                    "touchscreen (no {} and no touch input device)",
                    roots.stable_name(DeviceKind::Touchscreen).display()
                ))),
            },
            None => Ok("Simulated (touches come from the program)".into()),
        };
        vec![
            DeviceStatus::from_check(DeviceKind::Camera, self.camera.check(wanted)),
            DeviceStatus::from_check(DeviceKind::Microphone, self.microphone.check()),
            DeviceStatus::from_check(DeviceKind::Speaker, self.speaker.check()),
            DeviceStatus::from_check(DeviceKind::Touchscreen, touchscreen),
        ]
    }

    /// Everything found, for the diagnostics report: the real backend's
    /// [`crate::full_report`] (camera modes, ALSA's PCMs and mixers); empty
    /// for the simulated one, which has no hardware to list.
    pub fn report(&self) -> crate::DeviceReport {
        match &self.watch {
            Some(roots) => crate::full_report(roots),
            None => crate::DeviceReport::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Backend, HalConfig, RealConfig, Roots, open};

    #[test]
    fn simulated_devices_are_ok_and_scripted_faults_show() {
        let d = open(Backend::Simulated);
        let s = d.status(VideoMode::default());
        assert_eq!(s.len(), 4);
        assert!(s.iter().all(|x| x.health == Health::Ok), "{s:?}");
        assert!(s[0].detail.contains("1280x720@30"), "{s:?}");

        let d = open(HalConfig {
            backend: Backend::Simulated,
            faults: "camera-missing,mic-denied".parse().unwrap(),
            ..HalConfig::default()
        });
        let s = d.status(VideoMode::default());
        assert_eq!(s[0].health, Health::Missing, "{s:?}");
        assert_eq!(s[1].health, Health::Error, "{s:?}");
        assert!(s[1].detail.contains("group"), "{s:?}");
        assert_eq!(s[2].health, Health::Ok);
    }

    #[test]
    fn a_real_terminal_without_devices_says_what_is_missing() {
        let empty = tempfile::tempdir().unwrap();
        let d = open(HalConfig {
            backend: Backend::Real,
            real: RealConfig {
                roots: Roots::under(empty.path()),
                ..RealConfig::default()
            },
            ..HalConfig::default()
        });
        let s = d.status(VideoMode::default());
        let kinds: Vec<_> = s.iter().map(|x| (x.kind, x.health)).collect();
        assert_eq!(
            kinds,
            vec![
                (DeviceKind::Camera, Health::Missing),
                (DeviceKind::Microphone, Health::Missing),
                (DeviceKind::Speaker, Health::Missing),
                (DeviceKind::Touchscreen, Health::Missing),
            ]
        );
        assert!(s[0].detail.contains("kiosk/camera"), "{s:?}");
    }
}
