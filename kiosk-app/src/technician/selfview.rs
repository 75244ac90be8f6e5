//! The live self-view: the configured camera (a `hal` source, in the mode a
//! call would use) scaled to at most 640 pixels wide, converted to RGB, and
//! handed frame by frame to a [`FrameSink`] (the window copies each into a
//! Slint image) through the call's own RGB sink ([`frames::rgb_appsink`]).
//! Kept apart from the call's pipelines: the technician looks
//! at the camera when no call is running.

use std::sync::{Arc, Mutex};

use gst::prelude::*;

use crate::call::frames::{self, Frame, FrameSink, Shape};

/// What the self-view has shown so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VideoStats {
    pub frames: u64,
    /// A fingerprint of the last frame's pixels: two that differ mean a
    /// moving picture, not a frozen one.
    pub fingerprint: u64,
    pub width: u32,
    pub height: u32,
    /// Why there is no picture (the camera is missing, failed...).
    pub error: Option<String>,
}

/// A running self-view; dropping it stops the camera.
pub struct SelfView {
    pipeline: Option<gst::Pipeline>,
    stats: Arc<Mutex<VideoStats>>,
}

/// Width of the picture on the technician screen.
const SHOWN_WIDTH: u32 = 640;

/// Sample every few bytes: enough to tell frames apart, cheap at 30 frames/s.
fn fingerprint(data: &[u8]) -> u64 {
    data.iter()
        .step_by(61)
        .fold(0xcbf29ce484222325u64, |h, &b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        })
}

impl SelfView {
    /// Start the camera in `mode`. Never fails: a camera that cannot be
    /// opened leaves `stats().error` saying why.
    pub fn start(
        devices: &hal::Devices,
        mode: hal::VideoMode,
        sink: Option<FrameSink>,
    ) -> SelfView {
        let stats = Arc::new(Mutex::new(VideoStats::default()));
        let pipeline = match Self::build(devices, mode, sink, stats.clone()) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(error = %e, "technician self-view: no camera picture");
                stats.lock().unwrap().error = Some(e);
                None
            }
        };
        SelfView { pipeline, stats }
    }

    fn build(
        devices: &hal::Devices,
        mode: hal::VideoMode,
        sink: Option<FrameSink>,
        stats: Arc<Mutex<VideoStats>>,
    ) -> Result<gst::Pipeline, String> {
        gst::init().map_err(|e| e.to_string())?;
        let src = devices.camera.source(mode).map_err(|e| e.to_string())?;
        let height = (SHOWN_WIDTH * mode.height / mode.width.max(1)) & !1;
        use hal::elements::{CAPSFILTER, Element, VIDEOCONVERT, VIDEORATE, VIDEOSCALE};
        let make = |e: &'static Element| e.make().build().map_err(|e| e.to_string());
        let (conv, scale, rate) = (make(&VIDEOCONVERT)?, make(&VIDEOSCALE)?, make(&VIDEORATE)?);
        let caps = CAPSFILTER
            .make()
            .property(
                "caps",
                gst::Caps::builder("video/x-raw")
                    .field("format", "RGB")
                    .field("width", SHOWN_WIDTH.min(mode.width) as i32)
                    .field("height", height.min(mode.height) as i32)
                    // The screen redraws at 15 frames/s: plenty to check a camera.
                    .field("framerate", gst::Fraction::new(15, 1))
                    .build(),
            )
            .build()
            .map_err(|e| e.to_string())?;
        let shape = Shape {
            size: None,
            max_buffers: 1,
            tile: 0,
        };
        let on_sample = stats.clone();
        let appsink = frames::rgb_appsink(shape, move |frame: Frame| {
            {
                let mut st = on_sample.lock().unwrap();
                st.frames += 1;
                st.fingerprint = fingerprint(frame.bytes());
                st.width = frame.width;
                st.height = frame.height;
            }
            if let Some(sink) = &sink {
                sink(frame);
            }
        });
        let pipeline = gst::Pipeline::with_name("technician-self-view");
        pipeline
            .add_many([&src, &conv, &scale, &rate, &caps, &appsink])
            .map_err(|e| e.to_string())?;
        gst::Element::link_many([&src, &conv, &scale, &rate, &caps, &appsink])
            .map_err(|e| e.to_string())?;
        let bus = pipeline.bus().expect("a pipeline has a bus");
        let on_error = stats;
        bus.set_sync_handler(move |_, m| {
            if let gst::MessageView::Error(e) = m.view() {
                let text = format!("the camera stopped: {}", e.error());
                tracing::warn!(error = %text, "technician self-view");
                on_error.lock().unwrap().error = Some(text);
            }
            gst::BusSyncReply::Drop
        });
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("the camera does not start: {e}"))?;
        Ok(pipeline)
    }

    pub fn stats(&self) -> VideoStats {
        self.stats.lock().unwrap().clone()
    }
}

impl Drop for SelfView {
    fn drop(&mut self) {
        if let Some(p) = self.pipeline.take() {
            let _ = p.set_state(gst::State::Null);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait_for(what: &str, f: impl Fn() -> bool) {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out waiting for {what}");
    }

    #[test]
    fn the_simulated_camera_shows_moving_pictures_scaled_for_the_screen() {
        let devices = hal::open(hal::Backend::Simulated);
        let got = Arc::new(Mutex::new(Vec::<(u32, u32)>::new()));
        let g = got.clone();
        let sink: FrameSink = Arc::new(move |f: Frame| g.lock().unwrap().push((f.width, f.height)));
        let mode = hal::VideoMode {
            width: 1280,
            height: 720,
            fps: 30,
        };
        let view = SelfView::start(&devices, mode, Some(sink));
        wait_for("a first frame", || view.stats().frames > 0);
        let first = view.stats();
        wait_for("a different frame", || {
            let s = view.stats();
            s.frames > first.frames + 3 && s.fingerprint != first.fingerprint
        });
        assert_eq!((first.width, first.height), (640, 360));
        assert_eq!(got.lock().unwrap()[0], (640, 360));
        assert_eq!(first.error, None);
    }

    #[test]
    fn a_missing_camera_says_why_instead_of_a_picture() {
        let devices = hal::open(hal::HalConfig {
            backend: hal::Backend::Simulated,
            faults: "camera-missing".parse().unwrap(),
            ..Default::default()
        });
        let view = SelfView::start(&devices, hal::VideoMode::default(), None);
        let s = view.stats();
        assert_eq!(s.frames, 0);
        assert!(s.error.unwrap().contains("camera"));
    }
}
