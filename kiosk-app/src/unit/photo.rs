//! The still taken when a person signs in: one frame from `hal`'s camera,
//! scaled to 640x480 and JPEG-encoded by GStreamer (`jpegenc`). It deters
//! shared PINs: staff see who sat at the terminal.
//!
//! Runs on a worker thread (a camera takes a moment to start); the caller
//! queues the JPEG in the outbox. GStreamer objects stay inside this file.

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use gst::prelude::*;

/// Size of the still: enough to recognise a face, small to store and send.
pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 480;
/// Frames let through before the one kept: a camera's exposure settles.
const SETTLE_FRAMES: u32 = 5;
const TIMEOUT: Duration = Duration::from_secs(5);

/// Take one still from the terminal's camera as JPEG.
pub fn capture_jpeg(devices: &hal::Devices) -> anyhow::Result<Vec<u8>> {
    gst::init().context("starting GStreamer")?;
    let source = devices
        .camera
        .source(hal::VideoMode {
            width: WIDTH,
            height: HEIGHT,
            fps: 15,
        })
        .context("opening the camera")?;
    let rest = hal::elements::parse_bin(
        &format!(
            "videoconvert ! videoscale ! video/x-raw,format=I420,width={WIDTH},height={HEIGHT},pixel-aspect-ratio=1/1 \
             ! jpegenc quality=75 ! appsink name=out sync=false max-buffers=2 drop=true"
        ),
        true,
    )
    .context("building the JPEG pipeline")?;
    let pipeline = gst::Pipeline::new();
    pipeline
        .add_many([&source, rest.upcast_ref()])
        .context("assembling the pipeline")?;
    source
        .link(&rest)
        .map_err(|e| anyhow!("linking the camera: {e}"))?;
    let sink = rest
        .downcast_ref::<gst::Bin>()
        .and_then(|b| b.by_name("out"))
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .ok_or_else(|| anyhow!("the pipeline has no appsink"))?;
    let result = (|| {
        pipeline
            .set_state(gst::State::Playing)
            .context("starting the camera")?;
        let deadline = Instant::now() + TIMEOUT;
        let mut kept = None;
        let mut seen = 0;
        while seen <= SETTLE_FRAMES {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let Some(sample) =
                sink.try_pull_sample(gst::ClockTime::from_mseconds(left.as_millis() as u64))
            else {
                if sink.is_eos() {
                    break;
                }
                continue;
            };
            seen += 1;
            kept = Some(sample);
        }
        let sample =
            kept.ok_or_else(|| anyhow!("the camera gave no picture within {TIMEOUT:?}"))?;
        let buffer = sample.buffer().ok_or_else(|| anyhow!("an empty sample"))?;
        let map = buffer.map_readable().context("reading the JPEG")?;
        let jpeg = map.as_slice().to_vec();
        if !jpeg.starts_with(&[0xFF, 0xD8]) {
            bail!("the encoder did not produce a JPEG");
        }
        Ok(jpeg)
    })();
    let _ = pipeline.set_state(gst::State::Null);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulated_camera_gives_a_640x480_jpeg() {
        let devices = hal::open(hal::Backend::Simulated);
        let jpeg = capture_jpeg(&devices).unwrap();
        assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]) && jpeg.ends_with(&[0xFF, 0xD9]));
        assert!(jpeg.len() < 150 * 1024, "{} bytes", jpeg.len());
        // The frame header (SOF0) says 480 rows of 640.
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        let h = u16::from_be_bytes([jpeg[sof + 5], jpeg[sof + 6]]);
        let w = u16::from_be_bytes([jpeg[sof + 7], jpeg[sof + 8]]);
        assert_eq!((w, h), (640, 480));
    }
}
