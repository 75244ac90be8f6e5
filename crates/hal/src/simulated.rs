//! Simulated devices: a moving test pattern for the camera, a tone for the
//! microphone, and a speaker that plays into nothing at real-time pace.
//! Used where there is no hardware (tests, CI, demos).

use crate::{Camera, Devices, HalError, Microphone, Speaker, VideoMode, bin};

pub fn devices() -> Devices {
    Devices {
        backend: crate::Backend::Simulated,
        camera: Box::new(SimCamera),
        microphone: Box::new(SimMicrophone),
        speaker: Box::new(SimSpeaker),
    }
}

/// A bouncing ball on a test pattern: every frame differs from the last.
pub struct SimCamera;

impl Camera for SimCamera {
    fn name(&self) -> String {
        "Simulated camera".into()
    }
    fn source(&self, m: VideoMode) -> Result<gst::Element, HalError> {
        bin(
            "simulated camera",
            &format!(
                "videotestsrc is-live=true pattern=ball motion=wavy ! \
                 capsfilter caps=video/x-raw,format=I420,width={},height={},framerate={}/1",
                m.width, m.height, m.fps
            ),
        )
    }
}

/// A quiet 440 Hz tone.
pub struct SimMicrophone;

impl Microphone for SimMicrophone {
    fn name(&self) -> String {
        "Simulated microphone".into()
    }
    fn source(&self) -> Result<gst::Element, HalError> {
        bin(
            "simulated microphone",
            "audiotestsrc is-live=true wave=sine freq=440 volume=0.2 samplesperbuffer=480 ! \
             capsfilter caps=audio/x-raw,rate=48000,channels=1",
        )
    }
}

/// Plays into nothing, synchronised to the clock as a sound card would be.
pub struct SimSpeaker;

impl Speaker for SimSpeaker {
    fn name(&self) -> String {
        "Simulated speaker".into()
    }
    fn sink(&self) -> Result<gst::Element, HalError> {
        bin("simulated speaker", "fakesink sync=true async=false")
    }
}
