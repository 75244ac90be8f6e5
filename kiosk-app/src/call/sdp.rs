//! What a session description says about video, read without webrtcbin:
//! the codecs an offer lists (in its order, with their payload types), and
//! what an answer chose (or that it rejected video). Pure.

use super::codec::Codec;

/// One video codec of a description, with its payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    pub codec: Codec,
    pub pt: u32,
}

/// What the other side's answer says of our video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoAnswer {
    /// Port 0, `a=inactive`, no video line, or no codec we know: no video
    /// either way.
    Rejected,
    /// The codec it chose (the first of its list); `send`: whether it
    /// wants our video (not `a=sendonly`).
    Chosen { format: Format, send: bool },
}

/// The first video section: its m-line and attribute lines.
fn video_section(sdp: &str) -> Option<(Vec<&str>, Vec<&str>)> {
    let mut lines = sdp.lines().map(str::trim_end);
    let m = lines.find(|l| l.starts_with("m=video "))?;
    let fields: Vec<&str> = m.split_whitespace().collect();
    let attrs = lines.take_while(|l| !l.starts_with("m=")).collect();
    Some((fields, attrs))
}

/// The codec of payload type `pt` in a section's attributes, if we know it
/// (H.264 only in packetization mode 1, the one our payloader sends).
fn codec_of(attrs: &[&str], pt: &str) -> Option<Codec> {
    let rtpmap = format!("a=rtpmap:{pt} ");
    let name = attrs
        .iter()
        .find_map(|l| l.strip_prefix(&rtpmap))?
        .split('/')
        .next()?;
    let codec = Codec::from_encoding_name(name)?;
    if codec == Codec::H264 {
        let fmtp = format!("a=fmtp:{pt} ");
        let params = attrs
            .iter()
            .find_map(|l| l.strip_prefix(&fmtp))
            .unwrap_or("");
        if !params
            .split(';')
            .any(|p| p.trim() == "packetization-mode=1")
        {
            return None;
        }
    }
    Some(codec)
}

/// The video codecs a description lists that we know, in its order (the
/// first payload type of each codec).
pub fn video_formats(sdp: &str) -> Vec<Format> {
    let Some((m, attrs)) = video_section(sdp) else {
        return Vec::new();
    };
    let mut out: Vec<Format> = Vec::new();
    for pt in m.iter().skip(3) {
        if let (Some(codec), Ok(n)) = (codec_of(&attrs, pt), pt.parse())
            && !out.iter().any(|f| f.codec == codec)
        {
            out.push(Format { codec, pt: n });
        }
    }
    out
}

/// What an answer did with our video.
pub fn video_answer(sdp: &str) -> VideoAnswer {
    let Some((m, attrs)) = video_section(sdp) else {
        return VideoAnswer::Rejected;
    };
    if m.get(1) == Some(&"0") || attrs.contains(&"a=inactive") {
        return VideoAnswer::Rejected;
    }
    match video_formats(sdp).first() {
        Some(&format) => VideoAnswer::Chosen {
            format,
            send: !attrs.contains(&"a=sendonly"),
        },
        None => VideoAnswer::Rejected,
    }
}

/// The codec to answer an offer with: the offer's first (its order is the
/// offerer's preference) that is one of `ours` (the codecs we can send),
/// with the offer's payload type for it.
pub fn answer_format(ours: &[Codec], offer: &str) -> Option<Format> {
    video_formats(offer)
        .into_iter()
        .find(|f| ours.contains(&f.codec))
}

/// `sdp` with every video section's direction made `a=inactive`: an answer
/// that refuses video (no format in common) and keeps the sound.
pub fn refuse_video(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    let mut video = false;
    for line in sdp.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare.starts_with("m=") {
            video = bare.starts_with("m=video ");
        }
        if video && matches!(bare, "a=sendrecv" | "a=recvonly" | "a=sendonly") {
            out.push_str("a=inactive\r\n");
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Firefox without OpenH264 answering a terminal's offer: VP8 only.
    const FIREFOX_ANSWER: &str = "v=0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=sendrecv\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=rtpmap:97 VP8/90000\r\na=sendrecv\r\n";
    /// The same browser when only H.264 was offered.
    const FIREFOX_REJECTS: &str = "v=0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=sendrecv\r\n\
        m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\na=inactive\r\n";
    /// Chromium's offer: VP8, then several H.264 profiles (mode 0 first).
    const CHROMIUM_OFFER: &str = "v=0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 98\r\n\
        a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n\
        a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n\
        a=rtpmap:103 H264/90000\r\na=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n\
        a=rtpmap:104 H264/90000\r\na=fmtp:104 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n\
        a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0\r\n";

    #[test]
    fn an_offer_lists_its_codecs_in_order_with_their_payload_types() {
        assert_eq!(
            video_formats(CHROMIUM_OFFER),
            [
                Format {
                    codec: Codec::Vp8,
                    pt: 96
                },
                Format {
                    codec: Codec::H264,
                    pt: 103
                },
                Format {
                    codec: Codec::Vp9,
                    pt: 98
                },
            ]
        );
        assert_eq!(video_formats("v=0\r\nm=audio 9 X 111\r\n"), []);
    }

    #[test]
    fn the_answer_takes_the_offers_first_codec_we_can_send() {
        assert_eq!(
            answer_format(&[Codec::H264, Codec::Vp8], CHROMIUM_OFFER),
            Some(Format {
                codec: Codec::Vp8,
                pt: 96
            })
        );
        assert_eq!(
            answer_format(&[Codec::H264, Codec::Vp9], CHROMIUM_OFFER),
            Some(Format {
                codec: Codec::H264,
                pt: 103
            })
        );
        // Only what the offer lists: an H.264-only offer gets H.264 even
        // from a terminal that prefers VP8.
        let h264_only =
            "v=0\r\nm=video 9 X 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n";
        assert_eq!(
            answer_format(&[Codec::Vp8, Codec::H264], h264_only),
            Some(Format {
                codec: Codec::H264,
                pt: 96
            })
        );
        assert_eq!(answer_format(&[Codec::Vp8], h264_only), None);
    }

    #[test]
    fn an_answer_chooses_a_codec_or_rejects_video() {
        assert_eq!(
            video_answer(FIREFOX_ANSWER),
            VideoAnswer::Chosen {
                format: Format {
                    codec: Codec::Vp8,
                    pt: 97
                },
                send: true
            }
        );
        assert_eq!(video_answer(FIREFOX_REJECTS), VideoAnswer::Rejected);
        let inactive = FIREFOX_ANSWER.replace(
            "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=rtpmap:97 VP8/90000\r\na=sendrecv",
            "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=rtpmap:97 VP8/90000\r\na=inactive",
        );
        assert_eq!(video_answer(&inactive), VideoAnswer::Rejected);
        let no_camera =
            FIREFOX_ANSWER.replace("VP8/90000\r\na=sendrecv", "VP8/90000\r\na=sendonly");
        assert_eq!(
            video_answer(&no_camera),
            VideoAnswer::Chosen {
                format: Format {
                    codec: Codec::Vp8,
                    pt: 97
                },
                send: false
            }
        );
        assert_eq!(
            video_answer("v=0\r\nm=audio 9 X 111\r\n"),
            VideoAnswer::Rejected
        );
    }

    #[test]
    fn a_refusing_answer_has_its_video_inactive_and_its_sound_untouched() {
        let refused = refuse_video(FIREFOX_ANSWER);
        assert_eq!(video_answer(&refused), VideoAnswer::Rejected);
        assert!(refused.contains(
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=sendrecv\r\n"
        ));
        assert_eq!(refused.matches("a=inactive").count(), 1);
    }
}
