//! The terminal's own devices: the camera through V4L2 ([`crate::v4l2`])
//! and the sound card through ALSA ([`crate::alsa_dev`]), at the stable
//! names the udev rules give them (`/dev/kiosk/camera`, ...), else the
//! first device discovery finds, else ALSA's `default`.
//!
//! Devices are looked up each time the call asks for an element, not once
//! at start: a camera unplugged and plugged back (maybe as another
//! `/dev/videoN`) is found again without restarting the program.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::alsa_dev::{AlsaMicrophone, AlsaOptions, AlsaSpeaker};
use crate::discovery::{Roots, discover};
use crate::v4l2::V4l2Camera;
use crate::{DeviceKind, Devices, EventHub, HalError, Microphone, Speaker};

/// Options of the real backend. Every field has a default that suits a
/// terminal with the udev rules installed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RealConfig {
    /// A fixed camera device; default: `/dev/kiosk/camera`, else the first
    /// capture device.
    pub camera: Option<PathBuf>,
    /// An ALSA capture PCM; default: the card of `/dev/kiosk/microphone`,
    /// else `default`.
    pub microphone: Option<String>,
    /// An ALSA playback PCM; default: the card of `/dev/kiosk/speaker`,
    /// else `default`.
    pub speaker: Option<String>,
    /// The mixer control for the volume; default: the first of Master, PCM,
    /// Speaker, Headphone; without one, the volume is applied in software.
    pub mixer_control: Option<String>,
    /// Echo cancellation (`webrtcdsp`) for speakerphone terminals; off for
    /// handsets, which do not echo.
    pub echo_cancellation: bool,
    /// Let the sound card clock the pipeline (always off for `null`).
    pub provide_clock: bool,
    /// Where sysfs and /dev are.
    pub roots: Roots,
}

impl Default for RealConfig {
    fn default() -> Self {
        RealConfig {
            camera: None,
            microphone: None,
            speaker: None,
            mixer_control: None,
            echo_cancellation: false,
            provide_clock: true,
            roots: Roots::default(),
        }
    }
}

/// Distinguishes the echo probes of several terminals in one process (tests).
static PROBES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// An ALSA device: the configured one, else the stable name's card, else `default`.
fn pcm(
    fixed: &Option<String>,
    roots: &Roots,
    capture: bool,
) -> Arc<dyn Fn() -> String + Send + Sync> {
    if let Some(f) = fixed {
        let f = f.clone();
        return Arc::new(move || f.clone());
    }
    let roots = roots.clone();
    Arc::new(move || {
        let r = discover(&roots);
        let found = if capture { r.microphone() } else { r.speaker() };
        found
            .filter(|a| a.stable)
            .map(|a| a.alsa.clone())
            .unwrap_or_else(|| "default".into())
    })
}

/// What a sound device check says: the configured PCM if ALSA knows its
/// card; else the stable name's card; else `default` when some card is
/// there (not named by the udev rules); else missing.
fn check_pcm(
    fixed: &Option<String>,
    roots: &Roots,
    kind: DeviceKind,
) -> Arc<dyn Fn() -> Result<String, HalError> + Send + Sync> {
    let (fixed, roots) = (fixed.clone(), roots.clone());
    Arc::new(move || {
        let name = kind.name();
        if let Some(pcm) = &fixed {
            return match crate::alsa_dev::ctl_for_pcm(pcm) {
                Some(ctl) if ctl != "default" && alsa::Ctl::new(&ctl, false).is_err() => Err(
                    HalError::Missing(format!("{name} {pcm} (no such sound card)")),
                ),
                _ => Ok(format!("ALSA {pcm} (configured)")),
            };
        }
        let r = discover(&roots);
        let found = if kind == DeviceKind::Microphone {
            r.microphone()
        } else {
            r.speaker()
        };
        match found {
            Some(a) if a.stable => Ok(format!("{} ({})", a.alsa, a.path.display())),
            Some(a) => Ok(format!(
                "ALSA default; found {} but no {} (see udev-rules/)",
                a.name,
                roots.stable_name(kind).display()
            )),
            None => Err(HalError::Missing(format!(
                "{name} (no {} and no sound card)",
                roots.stable_name(kind).display()
            ))),
        }
    })
}

/// An ALSA microphone whose check knows about the configuration and discovery.
struct RealMicrophone {
    alsa: AlsaMicrophone,
    check: Arc<dyn Fn() -> Result<String, HalError> + Send + Sync>,
}

impl Microphone for RealMicrophone {
    fn name(&self) -> String {
        self.alsa.name()
    }
    fn source(&self) -> Result<gst::Element, HalError> {
        self.alsa.source()
    }
    fn check(&self) -> Result<String, HalError> {
        (self.check)()
    }
}

/// An ALSA speaker whose check knows about the configuration and discovery.
struct RealSpeaker {
    alsa: AlsaSpeaker,
    check: Arc<dyn Fn() -> Result<String, HalError> + Send + Sync>,
}

impl Speaker for RealSpeaker {
    fn name(&self) -> String {
        self.alsa.name()
    }
    fn sink(&self) -> Result<gst::Element, HalError> {
        self.alsa.sink()
    }
    fn volume(&self) -> Result<u8, HalError> {
        self.alsa.volume()
    }
    fn set_volume(&self, percent: u8) -> Result<(), HalError> {
        self.alsa.set_volume(percent)
    }
    fn check(&self) -> Result<String, HalError> {
        (self.check)()
    }
}

pub fn devices(config: &RealConfig) -> Devices {
    let options = AlsaOptions {
        provide_clock: config.provide_clock,
        echo_probe: config.echo_cancellation.then(|| {
            let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            format!("hal-echo-probe-{n}")
        }),
    };
    Devices {
        backend: crate::Backend::Real,
        camera: Box::new(V4l2Camera {
            device: config.camera.clone(),
            roots: config.roots.clone(),
        }),
        microphone: Box::new(RealMicrophone {
            alsa: AlsaMicrophone {
                device: pcm(&config.microphone, &config.roots, true),
                options: options.clone(),
            },
            check: check_pcm(&config.microphone, &config.roots, DeviceKind::Microphone),
        }),
        speaker: Box::new(RealSpeaker {
            alsa: AlsaSpeaker::new(
                pcm(&config.speaker, &config.roots, false),
                options,
                config.mixer_control.clone(),
            ),
            check: check_pcm(&config.speaker, &config.roots, DeviceKind::Speaker),
        }),
        events: EventHub::default(),
        watch: Some(config.roots.clone()),
        watcher: Mutex::new(None),
        faults: None,
    }
}
