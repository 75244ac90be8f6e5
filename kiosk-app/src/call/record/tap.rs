//! What a recorded stream goes through before the muxer, by its format:
//! RTP as received (the depayloader for its encoding name, then the
//! parser), or what our own encoders make (the parser only). Nothing is
//! decoded or encoded again.

use anyhow::bail;
use gst::prelude::*;
use hal::elements::{self, Element};

use crate::call::codec::Codec;

/// A stream as the recorder taps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stream {
    /// RTP as webrtcbin hands it out, by its caps' `encoding-name`.
    Rtp { encoding_name: String },
    /// Our own encoder's video.
    Encoded(Codec),
    /// Our own Opus encoder's sound.
    Opus,
}

impl Stream {
    /// A received stream from its RTP caps (`None`: not RTP).
    pub fn from_rtp_caps(caps: &gst::CapsRef) -> Option<Stream> {
        let s = caps.structure(0)?;
        if s.name() != "application/x-rtp" {
            return None;
        }
        let encoding_name = s.get::<String>("encoding-name").ok()?;
        Some(Stream::Rtp { encoding_name })
    }
}

/// The factories, in order, between the tap and the muxer's pad.
pub fn factories(stream: &Stream) -> anyhow::Result<Vec<&'static Element>> {
    Ok(match stream {
        Stream::Rtp { encoding_name } => match encoding_name.to_ascii_uppercase().as_str() {
            "H264" => vec![&elements::RTPH264DEPAY, &elements::H264PARSE],
            "VP8" => vec![&elements::RTPVP8DEPAY],
            "VP9" => vec![&elements::RTPVP9DEPAY, &elements::VP9PARSE],
            "OPUS" => vec![&elements::RTPOPUSDEPAY, &elements::OPUSPARSE],
            other => bail!("cannot record RTP {other}"),
        },
        // Matroska takes VP8 as it is.
        Stream::Encoded(Codec::H264) => vec![&elements::H264PARSE],
        Stream::Encoded(Codec::Vp8) => vec![],
        Stream::Encoded(Codec::Vp9) => vec![&elements::VP9PARSE],
        Stream::Opus => vec![&elements::OPUSPARSE],
    })
}

/// H.264 goes to the muxer with its parameter sets in the stream (`avc3`),
/// not in the caps: Matroska then takes a change of picture size, which a
/// browser makes whenever its network or CPU changes (with `avc`, the new
/// caps are refused and the track fails: "Could not multiplex stream").
const H264_IN_BAND: &str = "video/x-h264,stream-format=avc3,alignment=au";

fn is_h264(stream: &Stream) -> bool {
    match stream {
        Stream::Rtp { encoding_name } => encoding_name.eq_ignore_ascii_case("H264"),
        Stream::Encoded(c) => *c == Codec::H264,
        Stream::Opus => false,
    }
}

/// The elements of [`factories`], made (and for H.264, the caps filter that
/// keeps its parameter sets in band).
pub fn chain(stream: &Stream) -> anyhow::Result<Vec<gst::Element>> {
    let mut made = factories(stream)?
        .into_iter()
        .map(|e| {
            let el = e.make().build()?;
            if e.factory == elements::H264PARSE.factory {
                // The parameter sets before every key frame: each segment
                // starts on one and decodes alone.
                el.set_property("config-interval", -1i32);
            }
            Ok(el)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if is_h264(stream) {
        made.push(crate::call::media::caps_filter(H264_IN_BAND)?);
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_received_codec_is_depayloaded_and_parsed_and_our_own_only_parsed() {
        let names =
            |s: Stream| -> Vec<&str> { factories(&s).unwrap().iter().map(|e| e.factory).collect() };
        let rtp = |n: &str| Stream::Rtp {
            encoding_name: n.into(),
        };
        assert_eq!(names(rtp("H264")), ["rtph264depay", "h264parse"]);
        assert_eq!(names(rtp("vp8")), ["rtpvp8depay"]);
        assert_eq!(names(rtp("OPUS")), ["rtpopusdepay", "opusparse"]);
        assert_eq!(names(Stream::Encoded(Codec::H264)), ["h264parse"]);
        assert_eq!(names(Stream::Opus), ["opusparse"]);
        assert!(factories(&rtp("G711")).is_err());
    }
}
