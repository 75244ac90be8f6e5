//! The terminal's devices behind traits: camera, microphone, speaker.
//!
//! The call pipeline in `kiosk-app` only ever sees these traits: each device
//! hands out the GStreamer element that produces (or plays) its media. Which
//! backend stands behind them, the real one ([`real`]: V4L2 and ALSA) or the
//! simulated one ([`simulated`]: a moving test pattern, a tone, a silent
//! speaker that keeps real time), is decided in one place: [`open`].

pub mod real;
pub mod simulated;

use serde::{Deserialize, Serialize};

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

/// Why a device cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HalError {
    #[error("{0} not found")]
    Missing(String),
    #[error("GStreamer cannot build the {what}: {detail}")]
    Pipeline { what: String, detail: String },
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
}

/// Something that records sound.
pub trait Microphone: Send + Sync {
    fn name(&self) -> String;
    /// A live source element with one src pad giving raw audio.
    fn source(&self) -> Result<gst::Element, HalError>;
}

/// Something that plays sound.
pub trait Speaker: Send + Sync {
    fn name(&self) -> String;
    /// A sink element with one sink pad taking raw audio (the caller converts).
    fn sink(&self) -> Result<gst::Element, HalError>;
}

/// The devices of one terminal.
pub struct Devices {
    pub backend: Backend,
    pub camera: Box<dyn Camera>,
    pub microphone: Box<dyn Microphone>,
    pub speaker: Box<dyn Speaker>,
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

/// The one place the backend is chosen.
pub fn open(backend: Backend) -> Devices {
    match backend {
        Backend::Real => real::devices(),
        Backend::Simulated => simulated::devices(),
    }
}

/// Build a bin from a `gst-launch` style description, with its unlinked
/// pads exposed as ghost pads.
pub(crate) fn bin(what: &str, description: &str) -> Result<gst::Element, HalError> {
    gst::init().map_err(|e| HalError::pipeline(what, e))?;
    gst::parse::bin_from_description(description, true)
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
        let conv = gst::ElementFactory::make("videoconvert").build().unwrap();
        let sink = gst::ElementFactory::make("appsink")
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
