//! The terminal's own devices: the camera through V4L2 (`v4l2src`) and the
//! sound card through ALSA (`alsasrc`, `alsasink`), at the stable names the
//! udev rules give them (`/dev/kiosk/camera`), falling back to the first
//! device when those names are absent.

use std::path::Path;

use crate::{Camera, Devices, HalError, Microphone, Speaker, VideoMode, bin};

pub fn devices() -> Devices {
    Devices {
        backend: crate::Backend::Real,
        camera: Box::new(V4l2Camera {
            device: first_existing(&["/dev/kiosk/camera", "/dev/video0"]),
        }),
        microphone: Box::new(AlsaMicrophone {
            device: "default".into(),
        }),
        speaker: Box::new(AlsaSpeaker {
            device: "default".into(),
        }),
    }
}

fn first_existing(paths: &[&str]) -> Option<String> {
    paths
        .iter()
        .find(|p| Path::new(p).exists())
        .map(|p| p.to_string())
}

/// A V4L2 capture device.
pub struct V4l2Camera {
    pub device: Option<String>,
}

impl Camera for V4l2Camera {
    fn name(&self) -> String {
        self.device.clone().unwrap_or_else(|| "no camera".into())
    }
    fn source(&self, m: VideoMode) -> Result<gst::Element, HalError> {
        let Some(dev) = &self.device else {
            return Err(HalError::Missing("camera (/dev/kiosk/camera)".into()));
        };
        // Any raw or JPEG mode near the one asked for; decodebin handles MJPEG.
        bin(
            "camera",
            &format!(
                "v4l2src device={dev} ! decodebin ! videoconvert ! videoscale ! videorate ! \
                 capsfilter caps=video/x-raw,width={},height={},framerate={}/1",
                m.width, m.height, m.fps
            ),
        )
    }
}

/// An ALSA capture device.
pub struct AlsaMicrophone {
    pub device: String,
}

impl Microphone for AlsaMicrophone {
    fn name(&self) -> String {
        format!("ALSA {}", self.device)
    }
    fn source(&self) -> Result<gst::Element, HalError> {
        bin(
            "microphone",
            &format!("alsasrc device={} ! audioconvert", self.device),
        )
    }
}

/// An ALSA playback device.
pub struct AlsaSpeaker {
    pub device: String,
}

impl Speaker for AlsaSpeaker {
    fn name(&self) -> String {
        format!("ALSA {}", self.device)
    }
    fn sink(&self) -> Result<gst::Element, HalError> {
        bin(
            "speaker",
            &format!("audioconvert ! alsasink device={}", self.device),
        )
    }
}
