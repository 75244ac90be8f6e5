//! Video encoders set up for a call, one place per encoder factory: its
//! real-time settings (rate control, speed, a key frame every 2 s so a
//! receiver that lost one recovers quickly, threads) and how its bitrate is
//! set, since every factory names and scales it differently. The shape is
//! gst-plugins-rs `webrtcsink`'s `configure_encoder` and `set_bitrate`.
//!
//! Which codec a session sends, and its payloader and caps, is
//! [`super::codec`]'s; this module only knows encoders.

use gst::glib;
use gst::prelude::*;
use hal::elements::{self, Element};

/// The encoder factories the terminal knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `x264enc`: H.264 in software; `bitrate` in kbit/s.
    X264,
    /// `vp8enc`, `vp9enc` (libvpx); `target-bitrate` in bit/s.
    Vpx,
    /// `v4l2h264enc` (a board's hardware encoder, e.g. a Raspberry Pi's):
    /// everything through V4L2 controls in `extra-controls`, bitrate in bit/s.
    V4l2,
    /// `vah264enc` (GStreamer's VA plugin); `bitrate` in kbit/s.
    Va,
    /// `vaapih264enc` (gstreamer-vaapi, older drivers); `bitrate` in kbit/s.
    Vaapi,
}

impl Kind {
    fn of(factory: &Element) -> Option<Kind> {
        Some(match factory.factory {
            "x264enc" => Kind::X264,
            "vp8enc" | "vp9enc" => Kind::Vpx,
            "v4l2h264enc" => Kind::V4l2,
            "vah264enc" => Kind::Va,
            "vaapih264enc" => Kind::Vaapi,
            _ => return None,
        })
    }
}

/// A session's video encoder, and how to change its bitrate.
#[derive(Debug, Clone)]
pub struct VideoEncoder {
    element: gst::Element,
    kind: Kind,
}

/// Seconds between key frames.
const KEY_FRAME_SECONDS: u32 = 2;

impl VideoEncoder {
    /// `factory` made and set up for a call at `fps` frames a second,
    /// starting at `kbps`.
    pub fn make(factory: &'static Element, fps: u32, kbps: u32) -> anyhow::Result<VideoEncoder> {
        let kind = Kind::of(factory)
            .ok_or_else(|| anyhow::anyhow!("{} is not a video encoder", factory.factory))?;
        let element = factory.make().build()?;
        let key_frames = fps * KEY_FRAME_SECONDS;
        match kind {
            Kind::X264 => {
                set_str(&element, "tune", "zerolatency");
                set_str(&element, "speed-preset", "ultrafast");
                set(&element, "key-int-max", key_frames);
                set(&element, "threads", 2u32);
            }
            // Real time: no look-ahead, the fastest speed, resilient partitions.
            Kind::Vpx => {
                set(&element, "deadline", 1i64);
                set(&element, "lag-in-frames", 0i32);
                set(&element, "keyframe-max-dist", key_frames as i32);
                set(&element, "cpu-used", 8i32);
                set_str(&element, "error-resilient", "partitions");
            }
            // Constant bitrate, no B-frames (they wait for later pictures).
            Kind::Va => {
                set_str(&element, "rate-control", "cbr");
                set(&element, "key-int-max", key_frames);
                set(&element, "b-frames", 0u32);
            }
            Kind::Vaapi => {
                set_str(&element, "rate-control", "cbr");
                set(&element, "keyframe-period", key_frames);
                set(&element, "max-bframes", 0u32);
            }
            // The key frame interval and repeated headers (a receiver
            // joining late needs them); the bitrate follows in `set_kbps`.
            Kind::V4l2 => v4l2_controls(
                &element,
                &[
                    ("h264_i_frame_period", key_frames as i32),
                    ("repeat_sequence_header", 1),
                    // 1: constant bitrate.
                    ("video_bitrate_mode", 1),
                ],
            ),
        }
        let encoder = VideoEncoder { element, kind };
        encoder.set_kbps(kbps);
        Ok(encoder)
    }

    /// The element, to link into the session.
    pub fn element(&self) -> &gst::Element {
        &self.element
    }

    /// Send at `kbps` kbit/s from now on.
    pub fn set_kbps(&self, kbps: u32) {
        let e = &self.element;
        match self.kind {
            Kind::X264 | Kind::Va | Kind::Vaapi => set(e, "bitrate", kbps),
            Kind::Vpx => set(e, "target-bitrate", (kbps * 1000) as i32),
            Kind::V4l2 => v4l2_controls(e, &[("video_bitrate", (kbps * 1000) as i32)]),
        }
    }
}

/// The H.264 encoders, in order of preference: hardware first.
pub static H264: [&Element; 4] = [
    &elements::V4L2H264ENC,
    &elements::VAH264ENC,
    &elements::VAAPIH264ENC,
    &elements::X264ENC,
];

/// Set V4L2 controls of a `v4l2h264enc` (applied at once while it runs,
/// else when it opens the device). A control the driver lacks is skipped
/// by the element with a warning.
fn v4l2_controls(e: &gst::Element, controls: &[(&str, i32)]) {
    let mut s = gst::Structure::builder("controls");
    for (name, value) in controls {
        s = s.field(*name, *value);
    }
    set(e, "extra-controls", s.build());
}

/// Set a property if the element has it, as the type it has; a driver's
/// element of another version that differs is logged, not a crash.
fn set(e: &gst::Element, name: &str, value: impl Into<glib::Value>) {
    let value = value.into();
    match e.find_property(name) {
        Some(p) if p.value_type() == value.type_() => e.set_property_from_value(name, &value),
        _ => tracing::warn!(
            element = %e.name(),
            property = name,
            "the encoder has no such property of this type; left as it is"
        ),
    }
}

/// Set an enum (or other) property from its text form, as `gst-launch` would.
fn set_str(e: &gst::Element, name: &str, value: &str) {
    let parsed = e
        .find_property(name)
        .and_then(|p| glib::Value::deserialize_with_pspec(value, &p).ok());
    match parsed {
        Some(v) => e.set_property_from_value(name, &v),
        None => tracing::warn!(
            element = %e.name(),
            property = name,
            value,
            "the encoder does not take this setting; left as it is"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_software_encoder_is_set_for_real_time_with_its_bitrate_in_its_own_unit() {
        gst::init().unwrap();
        // The development machine has x264 and libvpx (scripts/deps).
        let x264 = VideoEncoder::make(&elements::X264ENC, 30, 800).unwrap();
        assert_eq!(x264.element().property::<u32>("bitrate"), 800);
        assert_eq!(x264.element().property::<u32>("key-int-max"), 60);
        assert_eq!(x264.element().property::<u32>("threads"), 2);
        x264.set_kbps(300);
        assert_eq!(x264.element().property::<u32>("bitrate"), 300);
        for vpx in [&elements::VP8ENC, &elements::VP9ENC] {
            let e = VideoEncoder::make(vpx, 15, 500).unwrap();
            assert_eq!(e.element().property::<i32>("target-bitrate"), 500_000);
            assert_eq!(e.element().property::<i32>("keyframe-max-dist"), 30);
            assert_eq!(e.element().property::<i64>("deadline"), 1);
            assert_eq!(e.element().property::<i32>("cpu-used"), 8);
            assert_eq!(e.element().property::<i32>("lag-in-frames"), 0);
        }
    }
}
