//! The terminal's devices behind traits: camera, microphone, speaker.
//!
//! The call pipeline in `kiosk-app` only ever sees these traits: each device
//! hands out the GStreamer element that produces (or plays) its media. Which
//! backend stands behind them, the real one ([`real`]: V4L2 and ALSA) or the
//! simulated one ([`simulated`]: a moving test pattern, a tone, a silent
//! speaker that keeps real time, and scripted faults), is decided in one
//! place: [`open`].
//!
//! Around the traits: [`discovery`] lists what is plugged in (from sysfs and
//! /dev, for the diagnostics report), [`v4l2`] picks a camera mode,
//! [`alsa_dev`] reaches the sound cards, [`watch`] notices devices leaving
//! and coming back, and [`faults`] scripts the simulated backend's failures.

pub mod alsa_dev;
pub mod config;
pub mod discovery;
pub mod elements;
pub mod faults;
pub mod health;
pub mod hook;
pub mod real;
pub mod simulated;
pub mod v4l2;
pub mod watch;

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

pub use config::DeviceConfig;
pub use discovery::{DeviceReport, Roots, discover, full_report};
pub use faults::{FaultReport, SimulatedScript};
pub use health::{DeviceStatus, Health};
pub use hook::{HookConfig, HookState};
pub use real::RealConfig;
pub use v4l2::{CameraMode, PixelFormat, choose_mode};
pub use watch::Watcher;

/// Where the devices come from. Configuration chooses; nothing else does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// The terminal's own camera (V4L2) and sound card (ALSA).
    #[default]
    Real,
    /// Generated media: for tests, demos and machines without devices.
    Simulated,
}

/// Everything [`open`] needs: the backend and each backend's options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HalConfig {
    pub backend: Backend,
    /// Options of the real backend (ignored by the simulated one).
    pub real: RealConfig,
    /// Faults the simulated backend plays (ignored by the real one), e.g.
    /// `"camera-lost-at=5s,camera-back-at=10s"`.
    pub faults: SimulatedScript,
}

impl From<Backend> for HalConfig {
    fn from(backend: Backend) -> Self {
        HalConfig {
            backend,
            ..HalConfig::default()
        }
    }
}

impl From<&HalConfig> for HalConfig {
    fn from(c: &HalConfig) -> Self {
        c.clone()
    }
}

/// A capture mode: the call asks for this and the camera delivers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoMode {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for VideoMode {
    /// What a call prefers: 1280x720 at 30 frames/s.
    fn default() -> Self {
        VideoMode {
            width: 1280,
            height: 720,
            fps: 30,
        }
    }
}

/// Why a device cannot be used. Each message says what happened and, where
/// there is something to do, what.
#[derive(Debug, thiserror::Error)]
pub enum HalError {
    #[error("{0} not found")]
    Missing(String),
    #[error(
        "permission denied on {device}: the terminal's user must be in the device's group \
         (video, audio or input; see udev-rules/)"
    )]
    PermissionDenied { device: String },
    #[error("cannot open {device}: {detail}")]
    Open { device: String, detail: String },
    #[error("{device} is not a video capture device: {detail}")]
    NotACamera { device: String, detail: String },
    #[error("{device} offers no capture mode the call can use")]
    NoMode { device: String },
    #[error("{0} is not supported by this device")]
    Unsupported(String),
    #[error("ALSA: {what}: {detail}")]
    Alsa { what: String, detail: String },
    #[error("GStreamer cannot build the {what}: {detail}")]
    Pipeline { what: String, detail: String },
    #[error("bad fault script: {0}")]
    BadScript(String),
    #[error("scripted faults did not happen: {0}")]
    FaultsNotFired(String),
}

impl HalError {
    fn pipeline(what: &str, e: impl std::fmt::Display) -> HalError {
        HalError::Pipeline {
            what: what.to_string(),
            detail: e.to_string(),
        }
    }
}

/// Something that takes pictures.
pub trait Camera: Send + Sync {
    /// A human name for reports ("Simulated camera", "/dev/kiosk/camera").
    fn name(&self) -> String;
    /// A live source element with one src pad giving raw video (any raw
    /// format; the caller converts and scales to `mode`).
    fn source(&self, mode: VideoMode) -> Result<gst::Element, HalError>;
    /// Whether a source for `mode` could be made now, and with what (the
    /// device and the mode it would use), without starting it.
    fn check(&self, mode: VideoMode) -> Result<String, HalError> {
        let _ = mode;
        Ok(self.name())
    }
}

/// Something that records sound.
pub trait Microphone: Send + Sync {
    fn name(&self) -> String;
    /// A live source element with one src pad giving raw audio.
    fn source(&self) -> Result<gst::Element, HalError>;
    /// Whether a source could be made now, and from what, without starting it.
    fn check(&self) -> Result<String, HalError> {
        Ok(self.name())
    }
}

/// Something that plays sound.
pub trait Speaker: Send + Sync {
    fn name(&self) -> String;
    /// A sink element with one sink pad taking raw audio (the caller converts).
    fn sink(&self) -> Result<gst::Element, HalError>;
    /// Whether a sink could be made now, and to what, without starting it.
    fn check(&self) -> Result<String, HalError> {
        Ok(self.name())
    }
    /// The playback volume in percent (0-100).
    fn volume(&self) -> Result<u8, HalError> {
        Err(HalError::Unsupported(format!("volume of {}", self.name())))
    }
    /// Set the playback volume in percent (values above 100 count as 100).
    fn set_volume(&self, percent: u8) -> Result<(), HalError> {
        let _ = percent;
        Err(HalError::Unsupported(format!("volume of {}", self.name())))
    }
}

/// A kind of device, in events and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Camera,
    Microphone,
    Speaker,
    Touchscreen,
}

impl DeviceKind {
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Camera => "camera",
            DeviceKind::Microphone => "microphone",
            DeviceKind::Speaker => "speaker",
            DeviceKind::Touchscreen => "touchscreen",
        }
    }
}

/// A device went away or came back. The call reacts: a "camera
/// unavailable" picture on `Lost(Camera)`, a new camera source on
/// `Back(Camera)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceEvent {
    /// The device is gone; its element stopped producing (the simulated one)
    /// or posted an error on the bus (a real one, from inside its bin).
    Lost(DeviceKind),
    /// The device is there again: ask for a new element.
    Back(DeviceKind),
}

type Listener = Arc<dyn Fn(&DeviceEvent) + Send + Sync>;

/// Hands events to every subscriber, from whichever thread noticed them.
#[derive(Clone, Default)]
pub(crate) struct EventHub(Arc<Mutex<Vec<Listener>>>);

impl EventHub {
    pub(crate) fn add(&self, f: Listener) {
        self.0.lock().unwrap().push(f);
    }
    pub(crate) fn emit(&self, e: DeviceEvent) {
        tracing::info!(event = ?e, "device event");
        // Listeners are called outside the lock: one may subscribe another.
        let listeners = self.0.lock().unwrap().clone();
        for l in listeners {
            l(&e);
        }
    }
}

/// The devices of one terminal.
pub struct Devices {
    pub backend: Backend,
    pub camera: Box<dyn Camera>,
    pub microphone: Box<dyn Microphone>,
    pub speaker: Box<dyn Speaker>,
    events: EventHub,
    /// The real backend watches sysfs once someone subscribes.
    watch: Option<Roots>,
    watcher: Mutex<Option<Watcher>>,
    faults: Option<Arc<faults::FaultLog>>,
}

impl Devices {
    /// Be told when a device is lost or comes back. The callback runs on a
    /// hal thread (the watcher's, or GStreamer's clock thread for simulated
    /// faults): hand the event on to your own task, do not block.
    pub fn subscribe(&self, f: impl Fn(&DeviceEvent) + Send + Sync + 'static) {
        self.events.add(Arc::new(f));
        if let Some(roots) = &self.watch {
            let mut w = self.watcher.lock().unwrap();
            if w.is_none() {
                let hub = self.events.clone();
                *w = Some(Watcher::spawn(
                    roots.clone(),
                    std::time::Duration::from_secs(1),
                    move |e| hub.emit(e),
                ));
            }
        }
    }

    /// Events as a channel (a convenience over [`Devices::subscribe`]).
    pub fn events(&self) -> std::sync::mpsc::Receiver<DeviceEvent> {
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = Mutex::new(tx);
        self.subscribe(move |e| {
            let _ = tx.lock().unwrap().send(*e);
        });
        rx
    }

    /// What the fault script asked for and what fired so far (simulated
    /// backend only; `None` for the real one).
    pub fn fault_report(&self) -> Option<FaultReport> {
        self.faults.as_ref().map(|f| f.report())
    }
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices")
            .field("backend", &self.backend)
            .field("camera", &self.camera.name())
            .field("microphone", &self.microphone.name())
            .field("speaker", &self.speaker.name())
            .finish()
    }
}

/// The one place the backend is chosen. Takes a [`Backend`] (default
/// options) or a [`HalConfig`] (owned or borrowed).
pub fn open(config: impl Into<HalConfig>) -> Devices {
    let config = config.into();
    match config.backend {
        Backend::Real => real::devices(&config.real),
        Backend::Simulated => simulated::devices_with(&config.faults),
    }
}

/// Build a bin from a `gst-launch` style description, with its unlinked
/// pads exposed as ghost pads.
pub(crate) fn bin(what: &str, description: &str) -> Result<gst::Element, HalError> {
    elements::parse_bin(description, true)
        .map(|b| b.upcast())
        .map_err(|e| HalError::pipeline(what, e))
}

use gst::prelude::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_devices_produce_elements_with_the_right_pads() {
        let d = open(Backend::Simulated);
        let cam = d.camera.source(VideoMode::default()).unwrap();
        assert!(cam.static_pad("src").is_some());
        let mic = d.microphone.source().unwrap();
        assert!(mic.static_pad("src").is_some());
        let spk = d.speaker.sink().unwrap();
        assert!(spk.static_pad("sink").is_some());
    }

    #[test]
    fn open_takes_a_backend_or_a_config() {
        let cfg = HalConfig {
            backend: Backend::Simulated,
            faults: "camera-missing".parse().unwrap(),
            ..HalConfig::default()
        };
        let d = open(&cfg);
        assert_eq!(d.backend, Backend::Simulated);
        assert!(matches!(
            d.camera.source(VideoMode::default()),
            Err(HalError::Missing(_))
        ));
        assert_eq!(open(Backend::Real).backend, Backend::Real);
        assert!(open(Backend::Real).fault_report().is_none());
    }

    #[test]
    fn the_configuration_reads_from_toml_like_data() {
        // kiosk-app's configuration carries this struct; serde round trip.
        let cfg: HalConfig = serde_json::from_str(
            r#"{"backend":"simulated","faults":"camera-lost-at=5s,camera-back-at=10s",
                "real":{"echo_cancellation":true}}"#,
        )
        .unwrap();
        assert_eq!(cfg.backend, Backend::Simulated);
        assert!(cfg.real.echo_cancellation);
        assert_eq!(
            cfg.faults.to_string(),
            "camera-lost-at=5s,camera-back-at=10s"
        );
        let back: HalConfig = serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
    }

    #[test]
    fn the_simulated_camera_moves() {
        // Two frames a few apart differ: a frozen picture would not be noticed otherwise.
        gst::init().unwrap();
        let d = open(Backend::Simulated);
        let pipeline = gst::Pipeline::new();
        let src = d
            .camera
            .source(VideoMode {
                width: 160,
                height: 120,
                fps: 30,
            })
            .unwrap();
        let conv = elements::VIDEOCONVERT.make().build().unwrap();
        let sink = elements::APPSINK
            .make()
            .property("sync", false)
            .property(
                "caps",
                gst::Caps::builder("video/x-raw")
                    .field("format", "GRAY8")
                    .build(),
            )
            .build()
            .unwrap();
        pipeline.add_many([&src, &conv, &sink]).unwrap();
        gst::Element::link_many([&src, &conv, &sink]).unwrap();
        pipeline.set_state(gst::State::Playing).unwrap();
        let mut frames = Vec::new();
        for _ in 0..6 {
            let s = sink
                .emit_by_name::<Option<gst::Sample>>("pull-sample", &[])
                .expect("a frame");
            let b = s.buffer().unwrap().map_readable().unwrap().to_vec();
            frames.push(b);
        }
        pipeline.set_state(gst::State::Null).unwrap();
        assert_ne!(frames[0], frames[5]);
    }
}
