//! The `[devices]` table of a terminal's configuration, deserialised
//! straight into this type: which backend, the real devices' names, the
//! simulated backend's faults, and the handset and its hook switch. [`DeviceConfig::hal`] and [`DeviceConfig::handset`] are the
//! only places it becomes what [`crate::open`] takes.
//!
//! ```toml
//! [devices]
//! backend = "real"               # or "simulated" (no camera or sound card)
//! camera = "/dev/kiosk/camera"   # default: /dev/kiosk/camera, else the first capture device
//! microphone = "plughw:CARD=Headset,DEV=0"   # ALSA PCM; default: /dev/kiosk/microphone's card
//! speaker = "plughw:CARD=Headset,DEV=0"      # ALSA PCM; default: /dev/kiosk/speaker's card
//! mixer_control = "Speaker"      # volume control; default: Master, PCM, Speaker, Headphone
//! echo_cancellation = false      # webrtcdsp, for speakerphones (not handsets)
//! provide_clock = true           # let the sound card clock the pipeline
//! device_root = "/"              # where sys/ and dev/ are (a fake tree in tests)
//! faults = "camera-lost-at=5s,camera-back-at=10s"   # simulated backend only
//! handset_microphone = "plughw:CARD=Handset,DEV=0"
//! handset_speaker = "plughw:CARD=Handset,DEV=0"
//! [devices.hook]
//! device = "/dev/kiosk/hook"     # an input device (udev-rules/)
//! ```

use std::path::PathBuf;

use serde::Deserialize;

use crate::{Backend, HalConfig, HookConfig, RealConfig, Roots, SimulatedScript};

/// A terminal's devices, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceConfig {
    pub backend: Backend,
    /// A fixed camera device (real backend).
    pub camera: Option<PathBuf>,
    /// ALSA PCMs for the microphone and the speaker (real backend).
    pub microphone: Option<String>,
    pub speaker: Option<String>,
    /// The mixer control for the volume (real backend).
    pub mixer_control: Option<String>,
    /// `webrtcdsp` echo cancellation, for speakerphones.
    pub echo_cancellation: bool,
    /// Let the sound card clock the pipeline.
    pub provide_clock: bool,
    /// Where `sys/` and `dev/` are (a fake tree in tests).
    pub device_root: Option<PathBuf>,
    /// Faults the simulated backend plays.
    pub faults: SimulatedScript,
    /// The handset's hook switch; without a device the terminal has no
    /// handset and sound stays on the speaker.
    pub hook: HookConfig,
    /// The handset's microphone and earpiece (ALSA PCMs), used while lifted.
    pub handset_microphone: Option<String>,
    pub handset_speaker: Option<String>,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        let real = RealConfig::default();
        DeviceConfig {
            backend: Backend::Real,
            camera: None,
            microphone: None,
            speaker: None,
            mixer_control: None,
            echo_cancellation: real.echo_cancellation,
            provide_clock: real.provide_clock,
            device_root: None,
            faults: SimulatedScript::default(),
            hook: HookConfig::default(),
            handset_microphone: None,
            handset_speaker: None,
        }
    }
}

impl DeviceConfig {
    /// Simulated devices with default options (tests, demos).
    pub fn simulated() -> DeviceConfig {
        DeviceConfig {
            backend: Backend::Simulated,
            ..DeviceConfig::default()
        }
    }

    /// The terminal's own devices.
    pub fn hal(&self) -> HalConfig {
        HalConfig {
            backend: self.backend,
            real: RealConfig {
                camera: self.camera.clone(),
                microphone: self.microphone.clone(),
                speaker: self.speaker.clone(),
                mixer_control: self.mixer_control.clone(),
                echo_cancellation: self.echo_cancellation,
                provide_clock: self.provide_clock,
                roots: self
                    .device_root
                    .as_deref()
                    .map_or_else(Roots::default, Roots::under),
            },
            faults: self.faults.clone(),
        }
    }

    /// The handset's microphone and earpiece (the same camera); no echo
    /// cancellation (a handset does not echo) and no scripted faults.
    pub fn handset(&self) -> HalConfig {
        let mut h = self.hal();
        h.real.microphone = self.handset_microphone.clone();
        h.real.speaker = self.handset_speaker.clone();
        h.real.echo_cancellation = false;
        h.faults = SimulatedScript::default();
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_devices_table_reads_straight_into_the_configuration() {
        let c: DeviceConfig = toml::from_str(
            "backend = \"simulated\"\nfaults = \"camera-missing\"\n\
             handset_speaker = \"hw:1\"\n[hook]\ndevice = \"/dev/kiosk/hook\"\n",
        )
        .unwrap();
        assert_eq!(c.backend, Backend::Simulated);
        assert_eq!(c.hal().faults.to_string(), "camera-missing");
        assert_eq!(c.handset().real.speaker.as_deref(), Some("hw:1"));
        assert!(
            c.handset().faults.0.is_empty(),
            "the handset plays no faults"
        );
        assert_eq!(c.hook.device, Some(PathBuf::from("/dev/kiosk/hook")));
        let e = toml::from_str::<DeviceConfig>("camra = \"/dev/video0\"\n").unwrap_err();
        assert!(e.to_string().contains("camra"), "{e}");
    }
}
