//! Video codecs: which the terminal can send, in the configured order of
//! preference, and for each its RTP payloader and caps. The encoders
//! themselves (their settings and bitrate) are [`super::encoder`]'s.

use anyhow::Context;
use hal::elements::{self, Element};

use super::encoder::{self, VideoEncoder};
use crate::config::VideoCodecChoice;

/// A video codec a session can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Constrained baseline (`42e01f`): what Safari and hardware decoders take.
    H264,
    /// What every browser decodes.
    Vp8,
    Vp9,
}

impl Codec {
    /// Every codec, in the default order of preference.
    pub const ALL: [Codec; 3] = [Codec::H264, Codec::Vp8, Codec::Vp9];

    /// As SDP and the call report name it.
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "H264",
            Codec::Vp8 => "VP8",
            Codec::Vp9 => "VP9",
        }
    }

    /// From an SDP `rtpmap` encoding name.
    pub fn from_encoding_name(name: &str) -> Option<Codec> {
        Codec::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The payload type our offers give it.
    pub fn offer_pt(self) -> u32 {
        match self {
            Codec::H264 => 96,
            Codec::Vp8 => 97,
            Codec::Vp9 => 98,
        }
    }

    fn payloader(self) -> &'static Element {
        match self {
            Codec::H264 => &elements::RTPH264PAY,
            Codec::Vp8 => &elements::RTPVP8PAY,
            Codec::Vp9 => &elements::RTPVP9PAY,
        }
    }

    /// The encoder this terminal would use, if it has one (and the payloader).
    pub fn encoder(self) -> Option<&'static Element> {
        if !self.payloader().available() {
            return None;
        }
        match self {
            Codec::H264 => encoder::H264.into_iter().find(|e| e.available()),
            Codec::Vp8 => Some(&elements::VP8ENC).filter(|e| e.available()),
            Codec::Vp9 => Some(&elements::VP9ENC).filter(|e| e.available()),
        }
    }

    /// The RTP caps of this codec with payload type `pt`, as webrtcbin and
    /// SDP describe it.
    pub fn rtp_caps(self, pt: u32) -> gst::Caps {
        let b = gst::Caps::builder("application/x-rtp")
            .field("media", "video")
            .field("encoding-name", self.name())
            .field("payload", pt as i32)
            .field("clock-rate", 90000i32);
        match self {
            Codec::H264 => b
                .field("packetization-mode", "1")
                .field("profile-level-id", "42e01f")
                .build(),
            Codec::Vp8 | Codec::Vp9 => b.build(),
        }
    }

    /// What the encoder's output must be.
    fn encoded_caps(self) -> gst::Caps {
        match self {
            Codec::H264 => gst::Caps::builder("video/x-h264")
                .field("profile", "constrained-baseline")
                .field("stream-format", "byte-stream")
                .build(),
            Codec::Vp8 => gst::Caps::new_empty_simple("video/x-vp8"),
            Codec::Vp9 => gst::Caps::new_empty_simple("video/x-vp9"),
        }
    }
}

/// The codecs this terminal offers, most preferred first: the configured
/// one, then the others in the default order; only those it can encode.
pub fn preference(choice: VideoCodecChoice) -> Vec<Codec> {
    let first = match choice {
        VideoCodecChoice::Auto | VideoCodecChoice::H264 => Codec::H264,
        VideoCodecChoice::Vp8 => Codec::Vp8,
        VideoCodecChoice::Vp9 => Codec::Vp9,
    };
    std::iter::once(first)
        .chain(Codec::ALL.into_iter().filter(|c| *c != first))
        .filter(|c| c.encoder().is_some())
        .collect()
}

/// A codec's sending elements, in order: encoder, its caps, payloader, RTP caps.
pub struct Chain {
    pub encoder: VideoEncoder,
    pub elements: Vec<gst::Element>,
}

/// The encoder (set up for a call at `fps` and `kbps`) and payloader of
/// `codec`, with payload type `pt`.
pub fn chain(codec: Codec, pt: u32, fps: u32, kbps: u32) -> anyhow::Result<Chain> {
    let factory = codec
        .encoder()
        .with_context(|| format!("no {} encoder", codec.name()))?;
    let encoder = VideoEncoder::make(factory, fps, kbps)?;
    let payloader = codec.payloader().make().property("pt", pt);
    let payloader = match codec {
        Codec::H264 => payloader
            .property("config-interval", -1i32)
            .property_from_str("aggregate-mode", "zero-latency"),
        Codec::Vp8 | Codec::Vp9 => payloader.property_from_str("picture-id-mode", "15-bit"),
    }
    .build()?;
    let caps = |c: gst::Caps| elements::CAPSFILTER.make().property("caps", c).build();
    Ok(Chain {
        elements: vec![
            encoder.element().clone(),
            caps(codec.encoded_caps())?,
            payloader,
            caps(codec.rtp_caps(pt))?,
        ],
        encoder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_codec_comes_first_then_every_other_this_terminal_can_encode() {
        gst::init().unwrap();
        // The development machine has x264 and libvpx (scripts/deps).
        assert_eq!(
            preference(VideoCodecChoice::Auto),
            [Codec::H264, Codec::Vp8, Codec::Vp9]
        );
        assert_eq!(
            preference(VideoCodecChoice::Vp8),
            [Codec::Vp8, Codec::H264, Codec::Vp9]
        );
        assert_eq!(
            preference(VideoCodecChoice::Vp9),
            [Codec::Vp9, Codec::H264, Codec::Vp8]
        );
        for c in Codec::ALL {
            assert_eq!(Codec::from_encoding_name(&c.name().to_lowercase()), Some(c));
        }
    }
}
