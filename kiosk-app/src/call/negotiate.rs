//! A session's negotiation with its peer through `webrtcbin`: the element
//! itself (max-bundle, the jitter buffer, STUN/TURN as the server hands
//! them out, ICE on the configured addresses), the video transceiver's
//! codecs, our candidates out and theirs in, and descriptions both ways.
//!
//! Offer and answer go through one path: whichever side we are, the other
//! side's description is applied with [`Negotiation::set_remote`], and ours
//! is made, set and sent by `describe`. The offerer describes when webrtcbin
//! asks for negotiation (once per session), the answerer when the offer is
//! applied; an answer to an offer with no video codec in common has its
//! video lines made inactive on the way out (`sdp::refuse_video`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{anyhow, bail};
use gst::prelude::*;
use hal::elements;
use protocol::signal::{IceServer, SdpKind};

use super::codec::Codec;
use super::media::{MediaEvent, PeerEvents};
use super::nice;
use super::sdp::{self, Format};
use crate::config::CallConfig;

/// How a session's video is negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoPlan {
    /// Offer every one of these codecs, most preferred first; the answer
    /// chooses, and the encoder is built for its choice.
    Offer(Vec<Codec>),
    /// Answer an offer with this codec and payload type, or with video
    /// refused (`None`: nothing in common).
    Answer(Option<Format>),
}

/// The `webrtcbin` of a session, set up for a call.
pub fn webrtcbin(cfg: &CallConfig, ice_servers: &[IceServer]) -> anyhow::Result<gst::Element> {
    let webrtc = elements::WEBRTCBIN
        .make()
        .name("webrtc")
        .property_from_str("bundle-policy", "max-bundle")
        .property("latency", cfg.latency_ms)
        .build()?;
    let (stun, turns) = ice_urls(ice_servers);
    if let Some(s) = stun {
        webrtc.set_property("stun-server", s);
    }
    for t in turns {
        let _ = webrtc.emit_by_name::<bool>("add-turn-server", &[&t]);
    }
    nice::use_local_addresses(&webrtc, &cfg.local_addresses)?;
    Ok(webrtc)
}

/// `stun:host:port` -> `stun://host:port`; `turn:host:port` with its
/// credentials -> `turn://user:pass@host:port`.
fn ice_urls(servers: &[IceServer]) -> (Option<String>, Vec<String>) {
    let mut stun = None;
    let mut turn = Vec::new();
    for s in servers {
        for u in &s.urls {
            if let Some(rest) = u.strip_prefix("stun:") {
                stun.get_or_insert_with(|| format!("stun://{}", rest.trim_start_matches("//")));
            } else if let Some((scheme, rest)) = u.split_once(':')
                && (scheme == "turn" || scheme == "turns")
            {
                let enc = |v: &Option<String>| {
                    v.as_deref()
                        .unwrap_or("")
                        .replace('%', "%25")
                        .replace(':', "%3A")
                        .replace('@', "%40")
                };
                turn.push(format!(
                    "{scheme}://{}:{}@{}",
                    enc(&s.username),
                    enc(&s.credential),
                    rest.trim_start_matches("//")
                ));
            }
        }
    }
    (stun, turn)
}

/// One session's side of the negotiation.
pub struct Negotiation {
    webrtc: gst::Element,
    /// The session's name, which `MediaEvent::Answered` carries.
    session: String,
    offerer: bool,
    /// An answerer with no video format in common with the offer.
    refuse_video: bool,
    events: PeerEvents,
}

impl Negotiation {
    /// Negotiate through `webrtc` as `plan` says; `video_pad` is its video
    /// sink pad. An offer lists every codec of the plan on the video
    /// transceiver. Returns the negotiation and, for an answer with video,
    /// the format to send at once.
    pub fn new(
        webrtc: gst::Element,
        session: String,
        plan: VideoPlan,
        video_pad: &gst::Pad,
        events: PeerEvents,
    ) -> (Negotiation, Option<Format>) {
        let offerer = matches!(plan, VideoPlan::Offer(_));
        let answer = match plan {
            VideoPlan::Offer(codecs) => {
                let transceiver =
                    video_pad.property::<gst_webrtc::WebRTCRTPTransceiver>("transceiver");
                let mut all = gst::Caps::new_empty();
                for c in &codecs {
                    all.merge(c.rtp_caps(c.offer_pt()));
                }
                transceiver.set_property("codec-preferences", all);
                transceiver.set_property(
                    "direction",
                    gst_webrtc::WebRTCRTPTransceiverDirection::Sendrecv,
                );
                None
            }
            // `None`: nothing in common; the answer says so and the sound
            // goes on.
            VideoPlan::Answer(f) => f,
        };
        let negotiation = Negotiation {
            webrtc,
            session,
            offerer,
            refuse_video: !offerer && answer.is_none(),
            events,
        };
        negotiation.connect();
        (negotiation, answer)
    }

    /// Our candidates to the other side; the offerer's offer when webrtcbin
    /// asks for it.
    fn connect(&self) {
        let events = self.events.clone();
        self.webrtc.connect("on-ice-candidate", false, move |v| {
            let mline = v[1].get::<u32>().unwrap_or(0);
            if let Ok(candidate) = v[2].get::<String>() {
                let _ = events.send(MediaEvent::LocalIce { candidate, mline });
            }
            None
        });
        if !self.offerer {
            return;
        }
        let events = self.events.clone();
        let offered = Arc::new(AtomicBool::new(false));
        self.webrtc
            .connect("on-negotiation-needed", false, move |v| {
                // One offer per session (linking the encoder after the
                // answer makes webrtcbin ask again).
                if let Ok(webrtc) = v[0].get::<gst::Element>()
                    && !offered.swap(true, Ordering::SeqCst)
                {
                    describe(&webrtc, SdpKind::Offer, false, events.clone());
                }
                None
            });
    }

    /// The other side's description: an answer to our offer, or an offer we
    /// answer (ours is made once it is applied).
    pub fn set_remote(&self, kind: SdpKind, sdp: &str) -> anyhow::Result<()> {
        let msg = gst_sdp::SDPMessage::parse_buffer(sdp.as_bytes())
            .map_err(|_| anyhow!("the other side sent an unreadable SDP"))?;
        match (kind, self.offerer) {
            (SdpKind::Answer, false) => bail!("an answer came, but this side made no offer"),
            (SdpKind::Offer, true) => bail!("an offer came, but this side is the offerer"),
            _ => {}
        }
        let desc = gst_webrtc::WebRTCSessionDescription::new(sdp_type(kind), msg);
        let events = self.events.clone();
        let applied = match kind {
            // Once webrtcbin has it, the call task hears what the answer
            // did with our video (and links the encoder it chose).
            SdpKind::Answer => {
                let video = sdp::video_answer(sdp);
                let session = self.session.clone();
                gst::Promise::with_change_func(move |_| {
                    let _ = events.send(MediaEvent::Answered { session, video });
                })
            }
            SdpKind::Offer => {
                let webrtc = self.webrtc.clone();
                let refuse_video = self.refuse_video;
                gst::Promise::with_change_func(move |_| {
                    describe(&webrtc, SdpKind::Answer, refuse_video, events);
                })
            }
        };
        self.webrtc
            .emit_by_name::<()>("set-remote-description", &[&desc, &applied]);
        Ok(())
    }

    /// A candidate from the other side.
    pub fn add_ice(&self, candidate: &str, mline: u32) {
        self.webrtc
            .emit_by_name::<()>("add-ice-candidate", &[&mline, &candidate]);
    }
}

fn sdp_type(kind: SdpKind) -> gst_webrtc::WebRTCSDPType {
    match kind {
        SdpKind::Offer => gst_webrtc::WebRTCSDPType::Offer,
        SdpKind::Answer => gst_webrtc::WebRTCSDPType::Answer,
    }
}

fn kind_name(kind: SdpKind) -> &'static str {
    match kind {
        SdpKind::Offer => "offer",
        SdpKind::Answer => "answer",
    }
}

/// Make our description (`kind`), set it as ours and send it to the other
/// side; with `refuse_video`, its video lines inactive.
fn describe(webrtc: &gst::Element, kind: SdpKind, refuse_video: bool, events: PeerEvents) {
    let w = webrtc.clone();
    let name = kind_name(kind);
    let promise = gst::Promise::with_change_func(move |reply| {
        let ours = description(reply, name).and_then(|d| {
            if refuse_video {
                inactive_video(&d, kind)
            } else {
                Ok(d)
            }
        });
        match ours {
            Ok(d) => {
                w.emit_by_name::<()>("set-local-description", &[&d, &None::<gst::Promise>]);
                let sdp = d.sdp().as_text().unwrap_or_default();
                let _ = events.send(MediaEvent::LocalSdp { kind, sdp });
            }
            Err(e) => {
                let _ = events.send(MediaEvent::Error(format!("no {name}: {e}")));
            }
        }
    });
    let signal = format!("create-{name}");
    webrtc.emit_by_name::<()>(&signal, &[&None::<gst::Structure>, &promise]);
}

fn description(
    reply: Result<Option<&gst::StructureRef>, gst::PromiseError>,
    field: &str,
) -> anyhow::Result<gst_webrtc::WebRTCSessionDescription> {
    let s = reply
        .map_err(|e| anyhow!("{e:?}"))?
        .ok_or_else(|| anyhow!("empty reply"))?;
    s.get::<gst_webrtc::WebRTCSessionDescription>(field)
        .map_err(|e| anyhow!("{e}"))
}

/// `desc` with its video lines inactive: no format in common.
fn inactive_video(
    desc: &gst_webrtc::WebRTCSessionDescription,
    kind: SdpKind,
) -> anyhow::Result<gst_webrtc::WebRTCSessionDescription> {
    let text = desc.sdp().as_text()?;
    let msg = gst_sdp::SDPMessage::parse_buffer(sdp::refuse_video(&text).as_bytes())
        .map_err(|_| anyhow!("an unreadable {}", kind_name(kind)))?;
    Ok(gst_webrtc::WebRTCSessionDescription::new(
        sdp_type(kind),
        msg,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ice_servers_become_webrtcbin_urls_with_escaped_credentials() {
        let (stun, turn) = ice_urls(&[
            IceServer {
                urls: vec!["stun:stun.jail.example:3478".into()],
                username: None,
                credential: None,
            },
            IceServer {
                urls: vec!["turn:turn.jail.example:3478?transport=udp".into()],
                username: Some("kiosk".into()),
                credential: Some("p@ss:word".into()),
            },
        ]);
        assert_eq!(stun.as_deref(), Some("stun://stun.jail.example:3478"));
        assert_eq!(
            turn,
            vec!["turn://kiosk:p%40ss%3Aword@turn.jail.example:3478?transport=udp"]
        );
    }
}
