//! One peer's session in the call's pipeline ([`MediaSession`], a bin
//! around `webrtcbin` added and removed while the pipeline plays), and what
//! the call task hears from it ([`MediaEvent`]).
//!
//! The pipeline's other parts have their own modules: the terminal's
//! capture and speaker mix, shared by every session ([`super::capture`]);
//! negotiation, one path for offer and answer ([`super::negotiate`]); the
//! encoders ([`super::encoder`]) behind the codecs ([`super::codec`]);
//! what a session receives ([`super::receive`]) and the pictures it puts
//! on the screen ([`super::frames`]).
//!
//! A session sends Opus from the shared microphone tee and its own video
//! encoding (so its bitrate follows that peer's network and its codec that
//! peer's offer) from the shared camera tee, once the codec is known. A
//! session never outlives its negotiation: a new offer means a new session
//! (that is how a call recovers after a network cut).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, anyhow};
use gst::prelude::*;
use hal::elements;
use protocol::signal::{IceServer, SdpKind};
use tokio::sync::mpsc::UnboundedSender;

use super::capture::ErrorRoutes;
pub use super::capture::LocalMedia;
use super::codec;
pub use super::codec::Codec;
use super::encoder::VideoEncoder;
pub use super::frames::{Frame, FrameSink, Screens};
pub use super::local::Input;
pub use super::negotiate::VideoPlan;
use super::negotiate::{self, Negotiation};
pub use super::receive::Counters;
use super::receive::Incoming;
use super::record::tap::Stream;
use super::record::{Kind, SessionTracks, Track};
use super::sdp::{Format, VideoAnswer};
use crate::config::CallConfig;

/// Something the session needs the call task to do or know.
#[derive(Debug)]
pub enum MediaEvent {
    /// Send this description to the other side.
    LocalSdp { kind: SdpKind, sdp: String },
    /// Send this candidate to the other side.
    LocalIce { candidate: String, mline: u32 },
    /// A glass-to-glass latency measurement (stamped frames only).
    Latency(u64),
    /// The pipeline failed.
    Error(String),
    /// The other side's answer is applied to session `session` (its
    /// name: a late event of a replaced session is told apart): what it
    /// did with our video.
    Answered { session: String, video: VideoAnswer },
}

/// A session's way to the call task: its events, tagged with its peer.
#[derive(Clone)]
pub struct PeerEvents {
    pub peer: uuid::Uuid,
    pub tx: UnboundedSender<(uuid::Uuid, MediaEvent)>,
}

impl PeerEvents {
    /// Tell the call task; false if it is gone (then nobody listens).
    pub fn send(&self, e: MediaEvent) -> bool {
        self.tx.send((self.peer, e)).is_ok()
    }
}

/// One peer's session: a bin in the call's pipeline around `webrtcbin`,
/// fed by the shared tees, its incoming audio into the shared mixer.
pub struct MediaSession {
    pipeline: gst::Pipeline,
    bin: gst::Bin,
    name: String,
    webrtc: gst::Element,
    negotiation: Negotiation,
    /// The video encoder and its codec, once chosen (an offerer's after
    /// the answer).
    encoder: Option<VideoEncoder>,
    codec: Option<Codec>,
    /// Video out: the queue the camera tee feeds (through `video_in`), and
    /// webrtcbin's pad.
    enc_q: gst::Element,
    video_in: gst::Pad,
    video_pad: gst::Pad,
    video_tee: gst::Element,
    kbps: AtomicU32,
    fps: u32,
    pub counters: Arc<Counters>,
    /// The tee pads feeding this session (released when it ends).
    tees: Vec<(gst::Element, gst::Pad)>,
    mixer: gst::Element,
    /// The mixer pads its incoming audio uses (released when it ends).
    mixer_pads: Arc<Mutex<Vec<gst::Pad>>>,
    routes: Arc<ErrorRoutes>,
    /// The session's recording tracks (unit terminals), finished when it ends.
    rec: SessionTracks,
}

pub(super) fn caps_filter(caps: &str) -> anyhow::Result<gst::Element> {
    let caps: gst::Caps = caps.parse().map_err(|_| anyhow!("bad caps {caps}"))?;
    Ok(elements::CAPSFILTER.make().property("caps", caps).build()?)
}

pub(super) fn queue_leaky(buffers: u32) -> anyhow::Result<gst::Element> {
    Ok(elements::QUEUE
        .make()
        .property("max-size-buffers", buffers)
        .property("max-size-bytes", 0u32)
        .property("max-size-time", 0u64)
        .property_from_str("leaky", "downstream")
        .build()?)
}

static SESSIONS: AtomicU64 = AtomicU64::new(0);

impl SessionTracks {
    /// Put the tracks in the session's bin. They run on their own: their
    /// state is theirs (see `record::track`), never held against the
    /// session's or the call's, and their messages go to them.
    fn add_to(&self, bin: &gst::Bin, local: &LocalMedia) -> anyhow::Result<()> {
        for t in self.own.iter().chain(self.peer.iter()) {
            bin.add(t.bin())?;
            t.bin().set_locked_state(true);
            local.routes.add_track(t.clone());
        }
        Ok(())
    }

    /// Start them, once the session runs.
    fn play(&self) {
        for t in self.own.iter().chain(self.peer.iter()) {
            // Asynchronous until its first segment starts: not waited for.
            if t.bin().set_state(gst::State::Playing).is_err() {
                t.problem("the recording did not start".into());
            }
        }
    }
}

impl MediaSession {
    /// Add a session to the call's pipeline, towards one peer. The offerer
    /// creates its offer as soon as webrtcbin asks for negotiation; the
    /// answerer waits for [`Self::set_remote`]. Its pictures go to `remote`
    /// as tile `tile`.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        local: &LocalMedia,
        cfg: &CallConfig,
        video: VideoPlan,
        ice_servers: &[IceServer],
        remote: Option<FrameSink>,
        tile: usize,
        events: PeerEvents,
        rec: SessionTracks,
    ) -> anyhow::Result<MediaSession> {
        let name = format!("session-{}", SESSIONS.fetch_add(1, Ordering::Relaxed));
        let bin = gst::Bin::with_name(&name);
        let webrtc = negotiate::webrtcbin(cfg, ice_servers)?;
        bin.add(&webrtc)?;
        rec.add_to(&bin, local)?;
        // Audio out first: its m-line leads the bundle, so a refused video
        // line never takes the sound with it.
        let aq = send_audio(&bin, &webrtc, rec.own.as_deref())?;
        // Video out: this session's own encoder, fed from the shared camera
        // tee once its codec is known. An offer lists every codec on the
        // video transceiver and leaves webrtcbin's pad unlinked until the
        // answer has chosen.
        let enc_q = queue_leaky(2)?;
        bin.add(&enc_q)?;
        let video_pad = webrtc
            .request_pad_simple("sink_%u")
            .context("webrtcbin gave no video pad")?;
        let (negotiation, answer) = Negotiation::new(
            webrtc.clone(),
            name.clone(),
            video,
            &video_pad,
            events.clone(),
        );
        let video_in = ghost(&bin, "video", &enc_q)?;
        let audio_in = ghost(&bin, "audio", &aq)?;
        local.routes.add(&name, events.clone());
        let mut session = MediaSession {
            pipeline: local.pipeline.clone(),
            bin,
            name,
            webrtc,
            negotiation,
            encoder: None,
            codec: None,
            enc_q,
            video_in,
            video_pad,
            video_tee: local.video_tee.clone(),
            kbps: AtomicU32::new(cfg.max_kbps.min(2000)),
            fps: cfg.fps,
            counters: Arc::new(Counters::default()),
            tees: Vec::new(),
            mixer: local.mixer.clone(),
            mixer_pads: Arc::new(Mutex::new(Vec::new())),
            routes: local.routes.clone(),
            rec,
        };
        session.receive(cfg, remote, tile, events);
        session.pipeline.add(&session.bin)?;
        session
            .bin
            .sync_state_with_parent()
            .context("the session did not start")?;
        session.rec.play();
        // Media flows in only once the bin runs.
        session.feed(&local.audio_tee, &audio_in)?;
        if let Some(f) = answer {
            session.send_video(f)?;
        }
        Ok(session)
    }

    /// What comes in: pictures to tile `tile` of `remote`, sound to the mixer.
    fn receive(
        &self,
        cfg: &CallConfig,
        remote: Option<FrameSink>,
        tile: usize,
        events: PeerEvents,
    ) {
        let incoming = Incoming {
            counters: self.counters.clone(),
            remote,
            tile,
            stamped: cfg.stamp_frames,
            events,
            mixer: self.mixer.clone(),
            mixer_pads: self.mixer_pads.clone(),
            track: self.rec.peer.clone(),
        };
        incoming.connect(&self.webrtc, &self.bin);
    }

    /// Link a new pad of the shared `tee` to the session's `input`.
    fn feed(&mut self, tee: &gst::Element, input: &gst::Pad) -> anyhow::Result<()> {
        let pad = tee
            .request_pad_simple("src_%u")
            .context("the tee gave no pad")?;
        pad.link(input)?;
        self.tees.push((tee.clone(), pad));
        Ok(())
    }

    /// Send our video as `format` (the answer's choice, or ours when we
    /// answer): the encoder chain into webrtcbin's video pad, then the
    /// camera's tee into it.
    pub fn send_video(&mut self, format: Format) -> anyhow::Result<()> {
        if self.codec.is_some() {
            return Ok(());
        }
        let kbps = self.kbps.load(Ordering::Relaxed);
        let mut chain = codec::chain(format.codec, format.pt, self.fps, kbps)?;
        // Recorded as sent: a tee right after the encoder's caps.
        if let Some(own) = &self.rec.own {
            match record_tee(&self.bin, own, Kind::Video, &Stream::Encoded(format.codec)) {
                Ok(tee) => chain.elements.insert(2, tee),
                Err(e) => own.problem(format!("{e:#}")),
            }
        }
        self.bin
            .add_many(chain.elements.iter().filter(|e| e.parent().is_none()))?;
        gst::Element::link_many(std::iter::once(&self.enc_q).chain(chain.elements.iter()))?;
        let last = chain.elements.last().context("an empty chain")?;
        last.static_pad("src")
            .context("chain src")?
            .link(&self.video_pad)?;
        for e in &chain.elements {
            e.sync_state_with_parent()?;
        }
        let (tee, input) = (self.video_tee.clone(), self.video_in.clone());
        self.feed(&tee, &input)?;
        self.encoder = Some(chain.encoder);
        self.codec = Some(format.codec);
        Ok(())
    }

    /// The session's name, unique in the process.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The video codec sent, once chosen.
    pub fn codec(&self) -> Option<Codec> {
        self.codec
    }

    /// The other side's description: an answer to our offer, or an offer we answer.
    pub fn set_remote(&self, kind: SdpKind, sdp: &str) -> anyhow::Result<()> {
        self.negotiation.set_remote(kind, sdp)
    }

    /// A candidate from the other side.
    pub fn add_ice(&self, candidate: &str, mline: u32) {
        self.negotiation.add_ice(candidate, mline);
    }

    /// Set the video encoder's bitrate (kbit/s).
    pub fn set_video_kbps(&self, kbps: u32) {
        self.kbps.store(kbps, Ordering::Relaxed);
        if let Some(e) = &self.encoder {
            e.set_kbps(kbps);
        }
    }

    /// Whether ICE has found a way to the other side (now or before).
    pub fn ice_connected(&self) -> bool {
        use gst_webrtc::WebRTCICEConnectionState as S;
        matches!(
            self.webrtc.property::<S>("ice-connection-state"),
            S::Connected | S::Completed
        )
    }

    /// webrtcbin's statistics, summed over streams.
    pub fn stats(&self) -> Option<super::stats::Sample> {
        let promise = gst::Promise::new();
        self.webrtc
            .emit_by_name::<()>("get-stats", &[&None::<gst::Pad>, &promise]);
        let reply = match promise.wait() {
            gst::PromiseResult::Replied => promise.get_reply()?,
            _ => return None,
        };
        Some(super::stats_gst::sample(reply))
    }
}

impl Drop for MediaSession {
    /// Take the session out of the running call: stop feeding it, stop it,
    /// and give the tee and mixer pads back.
    fn drop(&mut self) {
        for (tee, pad) in self.tees.drain(..) {
            if let Some(peer) = pad.peer() {
                let _ = pad.unlink(&peer);
            }
            tee.release_request_pad(&pad);
        }
        self.routes.remove(&self.name);
        self.finish_recording();
        let _ = self.bin.set_state(gst::State::Null);
        for pad in self
            .mixer_pads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            self.mixer.release_request_pad(&pad);
        }
        let _ = self.pipeline.remove(&self.bin);
    }
}

/// Opus from the shared microphone tee into `webrtc` (and, as sent, into
/// `own`, our recording track); returns the queue the tee feeds.
fn send_audio(
    bin: &gst::Bin,
    webrtc: &gst::Element,
    own: Option<&Track>,
) -> anyhow::Result<gst::Element> {
    let aq = queue_leaky(10)?;
    let opus = elements::OPUSENC
        .make()
        .property("bitrate", 32000i32)
        .property_from_str("frame-size", "20")
        .build()?;
    let apay = elements::RTPOPUSPAY.make().property("pt", 111u32).build()?;
    let acaps = caps_filter(
        "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000",
    )?;
    bin.add_many([&aq, &opus, &apay, &acaps])?;
    let mut chain = vec![aq.clone(), opus];
    if let Some(own) = own {
        match record_tee(bin, own, Kind::Audio, &Stream::Opus) {
            Ok(tee) => chain.push(tee),
            Err(e) => own.problem(format!("{e:#}")),
        }
    }
    chain.extend([apay, acaps.clone()]);
    gst::Element::link_many(chain.iter())?;
    let src = acaps.static_pad("src").context("src pad")?;
    let sink = webrtc
        .request_pad_simple("sink_%u")
        .context("webrtcbin gave no sink pad")?;
    src.link(&sink)?;
    Ok(aq)
}

/// A tee in `bin` whose second branch records into `track`; its first
/// src pad is left for the sending chain (linked by `link_many`).
fn record_tee(
    bin: &gst::Bin,
    track: &Track,
    kind: Kind,
    stream: &Stream,
) -> anyhow::Result<gst::Element> {
    let tee = elements::TEE
        .make()
        .property("allow-not-linked", true)
        .build()?;
    bin.add(&tee)?;
    let input = track.input(kind, stream)?;
    tee.request_pad_simple("src_%u")
        .context("the tee gave no pad")?
        .link(&input)?;
    Ok(tee)
}

impl MediaSession {
    /// Take the session's tracks out of its bin and finish them (the last
    /// segment closed properly) on their own threads: the call goes on.
    fn finish_recording(&mut self) {
        for t in [self.rec.own.take(), self.rec.peer.take()]
            .into_iter()
            .flatten()
        {
            let moved = self.bin.remove(t.bin()).is_ok() && self.pipeline.add(t.bin()).is_ok();
            if !moved {
                tracing::warn!(track = %t.name(), "a recording track could not be finished");
                self.routes.remove_track(&t.name());
                continue;
            }
            let (routes, name) = (self.routes.clone(), t.name());
            self.rec
                .finishing
                .finish(t, self.pipeline.clone(), move || routes.remove_track(&name));
        }
    }
}

/// `q`'s sink pad as the bin's input `name`.
fn ghost(bin: &gst::Bin, name: &str, q: &gst::Element) -> anyhow::Result<gst::Pad> {
    let pad = gst::GhostPad::builder_with_target(&q.static_pad("sink").context("queue sink")?)?
        .name(name)
        .build();
    bin.add_pad(&pad)?;
    Ok(pad.upcast())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The offer lists every codec this terminal can encode, in the
    /// configured order (the answer chooses), behind the audio line.
    #[test]
    fn an_offer_lists_every_codec_this_terminal_can_encode_in_the_configured_order() {
        use crate::config::VideoCodecChoice;
        gst::init().unwrap();
        let devices = hal::open(hal::Backend::Simulated);
        for (choice, expected) in [
            (
                VideoCodecChoice::Auto,
                [Codec::H264, Codec::Vp8, Codec::Vp9],
            ),
            (VideoCodecChoice::Vp8, [Codec::Vp8, Codec::H264, Codec::Vp9]),
        ] {
            let cfg = CallConfig {
                width: 320,
                height: 240,
                video_codec: choice,
                local_addresses: vec!["127.0.0.1".into()],
                ..Default::default()
            };
            let local = LocalMedia::start(&cfg, &devices, None, |_| {}).unwrap();
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let events = PeerEvents {
                peer: uuid::Uuid::nil(),
                tx,
            };
            let plan = VideoPlan::Offer(codec::preference(choice));
            let session = MediaSession::start(
                &local,
                &cfg,
                plan,
                &[],
                None,
                0,
                events,
                SessionTracks::default(),
            )
            .unwrap();
            let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
            let offer = loop {
                match rx.try_recv() {
                    Ok((_, MediaEvent::LocalSdp { kind, sdp })) => {
                        assert_eq!(kind, SdpKind::Offer);
                        break sdp;
                    }
                    Ok(_) => {}
                    Err(_) if std::time::Instant::now() < until => {
                        std::thread::sleep(std::time::Duration::from_millis(20))
                    }
                    Err(e) => panic!("no offer: {e:?}"),
                }
            };
            let codecs: Vec<Codec> = super::super::sdp::video_formats(&offer)
                .iter()
                .map(|f| f.codec)
                .collect();
            assert_eq!(codecs, expected, "{offer}");
            let (audio, video) = (
                offer.find("m=audio").unwrap(),
                offer.find("m=video").unwrap(),
            );
            assert!(audio < video, "the audio line leads the bundle: {offer}");
            drop(session);
        }
    }
}
