//! The call's media: one GStreamer pipeline holding the terminal's own
//! capture ([`LocalMedia`]) and one `webrtcbin` session per peer
//! ([`MediaSession`], a bin added and removed while the pipeline plays).
//!
//! Captured once: camera (from `hal`, or a still "camera unavailable"
//! picture while it is lost: [`super::local`]) -> I420 at the configured size ->
//! [latency stamp] -> tee -> self-view and each session; microphone -> tee
//! -> each session. Each session encodes for its peer (H.264 constrained
//! baseline, or VP8; its own encoder, so its bitrate follows that peer's
//! network and its codec that peer's offer) -> RTP -> webrtcbin, and Opus
//! likewise. Receiving: webrtcbin -> decodebin -> video to an appsink whose
//! frames go to the screen as the peer's tile (and are counted), audio to
//! the shared `audiomixer` in front of the speaker (counted), so several
//! visitors are heard at once. Max-bundle, a jitter buffer of `latency_ms`,
//! STUN/TURN only as the server hands them out.
//!
//! A session never outlives its negotiation: a new offer means a new
//! session (that is how a call recovers after a network cut).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, anyhow, bail};
use gst::prelude::*;
use hal::elements;
use protocol::signal::{IceServer, SdpKind};
use tokio::sync::mpsc::UnboundedSender;

pub use super::local::Input;
use super::local::Local;
use super::nice;
use super::stamp;
use crate::config::CallConfig;

/// A decoded picture for the screen: RGB, 3 bytes a pixel.
pub struct Frame {
    /// Which remote picture (tile) this is, 0 first; 0 for the self-view.
    pub tile: usize,
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub data: gst::MappedBuffer<gst::buffer::Readable>,
}

/// Where pictures go (the window); headless terminals pass none.
pub type FrameSink = Arc<dyn Fn(Frame) + Send + Sync>;

/// The two picture outputs of a session.
#[derive(Clone, Default)]
pub struct Screens {
    pub remote: Option<FrameSink>,
    pub own: Option<FrameSink>,
}

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

use super::codec;
pub use super::codec::Codec;
use super::sdp::{Format, VideoAnswer};

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

/// Counters the call task reads.
#[derive(Default)]
pub struct Counters {
    pub frames: AtomicU64,
    pub audio: AtomicU64,
    /// When the first remote frame reached the display sink (monotonic µs; 0: not yet).
    pub first_frame_us: AtomicU64,
    /// Frames that differ from the one before: a moving picture, not a
    /// still one such as the other side's "camera unavailable".
    pub changed: AtomicU64,
    last_signature: AtomicU64,
}

/// A cheap fingerprint of a picture: every 997th byte (~2,800 of a 720p frame).
fn signature(pixels: &[u8]) -> u64 {
    pixels
        .iter()
        .step_by(997)
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        })
}

/// One peer's session: a bin in the call's pipeline around `webrtcbin`,
/// fed by the shared tees, its incoming audio into the shared mixer.
pub struct MediaSession {
    pipeline: gst::Pipeline,
    bin: gst::Bin,
    name: String,
    webrtc: gst::Element,
    /// The video encoder and its codec, once chosen (an offerer's after
    /// the answer).
    encoder: Option<gst::Element>,
    codec: Option<Codec>,
    /// Video out: the queue the camera tee feeds (through `video_in`), and
    /// webrtcbin's pad.
    enc_q: gst::Element,
    video_in: gst::Pad,
    video_pad: gst::Pad,
    video_tee: gst::Element,
    kbps: std::sync::atomic::AtomicU32,
    fps: u32,
    /// An offerer makes one offer: webrtcbin asks again when the encoder
    /// is linked after the answer.
    offered: Arc<std::sync::atomic::AtomicBool>,
    /// An answerer with no video format in common with the offer.
    refuse_video: bool,
    pub counters: Arc<Counters>,
    offerer: bool,
    events: PeerEvents,
    /// The tee pads feeding this session (released when it ends).
    tees: Vec<(gst::Element, gst::Pad)>,
    mixer: gst::Element,
    /// The mixer pads its incoming audio uses (released when it ends).
    mixer_pads: Arc<std::sync::Mutex<Vec<gst::Pad>>>,
    routes: Arc<ErrorRoutes>,
}

fn caps_filter(caps: &str) -> anyhow::Result<gst::Element> {
    let caps: gst::Caps = caps.parse().map_err(|_| anyhow!("bad caps {caps}"))?;
    Ok(elements::CAPSFILTER.make().property("caps", caps).build()?)
}

fn queue_leaky(buffers: u32) -> anyhow::Result<gst::Element> {
    Ok(elements::QUEUE
        .make()
        .property("max-size-buffers", buffers)
        .property("max-size-bytes", 0u32)
        .property("max-size-time", 0u64)
        .property_from_str("leaky", "downstream")
        .build()?)
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

/// The terminal's own media, captured once for the whole call and shared
/// by every session: the camera (-> self-view and one encoder per session)
/// and the microphone through tees, and the speaker behind an `audiomixer`
/// that mixes what every session receives. Sessions are bins added to and
/// removed from this one pipeline while it plays.
pub struct LocalMedia {
    pipeline: gst::Pipeline,
    video_tee: gst::Element,
    audio_tee: gst::Element,
    mixer: gst::Element,
    routes: Arc<ErrorRoutes>,
    video: Arc<Local>,
    audio: Arc<Local>,
    /// The element before the speaker, and the speaker (the handset's
    /// earpiece while it is lifted).
    speaker_feed: gst::Element,
    speaker: std::sync::Mutex<gst::Element>,
}

impl LocalMedia {
    /// Open the devices and start capturing and playing. `device_failed`
    /// hears of a camera or microphone whose element failed (unplugged
    /// mid-call): the stand-in has taken over by then.
    pub fn start(
        cfg: &CallConfig,
        devices: &hal::Devices,
        own: Option<FrameSink>,
        device_failed: impl Fn(Input) + Send + Sync + 'static,
    ) -> anyhow::Result<LocalMedia> {
        gst::init()?;
        let pipeline = gst::Pipeline::with_name("call");
        let (video_tee, audio_tee, video, audio) = local_sources(&pipeline, cfg, devices, own)?;
        let (video, audio) = (Arc::new(video), Arc::new(audio));
        let (mixer, speaker_feed, speaker) = speaker_mix(&pipeline, devices)?;
        let routes = Arc::new(ErrorRoutes::default());
        let r = routes.clone();
        let locals = [video.clone(), audio.clone()];
        // Errors of the shared part are logged, a device's make the call go
        // on without it, and a session's own errors go to the call task,
        // which replaces the session.
        pipeline
            .bus()
            .context("pipeline bus")?
            .set_sync_handler(move |_, msg| {
                if let gst::MessageView::Error(e) = msg.view() {
                    if let Some(local) = msg.src().and_then(|o| locals.iter().find(|l| l.owns(o))) {
                        tracing::warn!(device = ?local.input(), error = %e.error(), "device failed during the call");
                        // Not torn down here: this may be the device's own
                        // streaming thread. The call task detaches it.
                        local.show_standin();
                        device_failed(local.input());
                        return gst::BusSyncReply::Drop;
                    }
                    let src = msg
                        .src()
                        .map(|s| s.path_string().to_string())
                        .unwrap_or_default();
                    let text = format!(
                        "{} ({})",
                        e.error(),
                        e.debug().map(|d| d.to_string()).unwrap_or_default()
                    );
                    r.route(&src, text);
                }
                gst::BusSyncReply::Drop
            });
        if pipeline.set_state(gst::State::Playing).is_err() {
            // A device that cannot be opened now (busy: the sign-in photo may
            // still hold the camera) must not stop the call: go on with the
            // stand-ins; the call task tries the device again shortly.
            tracing::warn!("the camera or microphone did not start; the call starts without it");
            for l in [&video, &audio] {
                if l.failed() || !l.device_present() {
                    l.detach();
                }
            }
            pipeline
                .set_state(gst::State::Playing)
                .context("the call pipeline did not start")?;
        }
        Ok(LocalMedia {
            pipeline,
            video_tee,
            audio_tee,
            mixer,
            routes,
            video,
            audio,
            speaker_feed,
            speaker: std::sync::Mutex::new(speaker),
        })
    }

    /// Play the call through `sink` from now on (the handset's earpiece,
    /// or the speaker again); the mix goes on meanwhile.
    pub fn set_speaker(&self, sink: gst::Element) -> anyhow::Result<()> {
        let mut current = self.speaker.lock().unwrap_or_else(|e| e.into_inner());
        self.pipeline.add(&sink)?;
        sink.sync_state_with_parent()?;
        // Relink while no buffer is on its way (an idle probe): unlinking
        // under a running stream would stop the mixer for good.
        let feed = self
            .speaker_feed
            .static_pad("src")
            .context("speaker feed")?;
        let old_pad = current.static_pad("sink").context("speaker sink pad")?;
        let new_pad = sink.static_pad("sink").context("speaker sink pad")?;
        let (tx, rx) = std::sync::mpsc::channel();
        feed.add_probe(gst::PadProbeType::IDLE, move |pad, _| {
            let _ = pad.unlink(&old_pad);
            let _ = tx.send(pad.link(&new_pad).is_ok());
            gst::PadProbeReturn::Remove
        });
        let linked = rx
            .recv_timeout(std::time::Duration::from_secs(2))
            .unwrap_or(false);
        if !linked {
            let _ = sink.set_state(gst::State::Null);
            let _ = self.pipeline.remove(&sink);
            anyhow::bail!("the new speaker could not be linked");
        }
        let _ = current.set_state(gst::State::Null);
        let _ = self.pipeline.remove(&*current);
        *current = sink;
        Ok(())
    }

    /// The camera or microphone source of the call.
    pub fn local(&self, input: Input) -> &Local {
        match input {
            Input::Camera => &self.video,
            Input::Microphone => &self.audio,
        }
    }
}

impl Drop for LocalMedia {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
        if let Some(bus) = self.pipeline.bus() {
            bus.unset_sync_handler();
        }
    }
}

/// Where pipeline errors go: the session whose bin the failing element is
/// in, by the bin's name (`session-N`), else the log.
#[derive(Default)]
struct ErrorRoutes(std::sync::Mutex<Vec<(String, PeerEvents)>>);

impl ErrorRoutes {
    fn add(&self, bin: &str, events: PeerEvents) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((format!("/{bin}/"), events));
    }
    fn remove(&self, bin: &str) {
        let key = format!("/{bin}/");
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(k, _)| *k != key);
    }
    fn route(&self, path: &str, text: String) {
        let routes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match routes.iter().find(|(k, _)| path.contains(k.as_str())) {
            Some((_, events)) => {
                let _ = events.send(MediaEvent::Error(text));
            }
            None => tracing::warn!(element = path, error = text, "local media error"),
        }
    }
}

/// The local sources: camera -> I420 at the configured size -> [latency
/// stamp] -> tee (self-view, and each session's encoder); microphone ->
/// tee (each session's Opus encoder). Each device sits behind a [`Local`]
/// that switches to its stand-in while the device is lost. Returns the two
/// tees and the two sources.
fn local_sources(
    pipeline: &gst::Pipeline,
    cfg: &CallConfig,
    devices: &hal::Devices,
    own: Option<FrameSink>,
) -> anyhow::Result<(gst::Element, gst::Element, Local, Local)> {
    let mode = hal::VideoMode {
        width: cfg.width,
        height: cfg.height,
        fps: cfg.fps,
    };
    // The camera, or the "camera unavailable" picture while it is lost.
    let video = Local::camera(pipeline, devices, mode)?;
    let raw = caps_filter(&format!(
        "video/x-raw,format=I420,width={},height={}",
        cfg.width, cfg.height
    ))?;
    let tee = elements::TEE
        .make()
        .property("allow-not-linked", true)
        .build()?;
    pipeline.add_many([&raw, &tee])?;
    gst::Element::link_many([video.output(), &raw, &tee])?;
    if cfg.stamp_frames {
        let pad = raw.static_pad("src").context("capsfilter src")?;
        let (w, h) = (cfg.width as usize, cfg.height as usize);
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(buffer) = info.buffer_mut() {
                let b = buffer.make_mut();
                if let Ok(mut map) = b.map_writable() {
                    // I420: the luma plane comes first, `w` bytes a row.
                    stamp::write(map.as_mut_slice(), w, w, h, stamp::now_micros());
                }
            }
            gst::PadProbeReturn::Ok
        });
    }
    if let Some(own) = own {
        let q = queue_leaky(1)?;
        let s = elements::VIDEOSCALE.make().build()?;
        let c = elements::VIDEOCONVERT.make().build()?;
        let sink = rgb_appsink(320, 180, own, None, 0)?;
        pipeline.add_many([&q, &s, &c, &sink])?;
        gst::Element::link_many([&tee, &q, &s, &c, &sink])?;
    }

    // The microphone, or silence while it is lost.
    let audio = Local::microphone(pipeline, devices)?;
    let aconv = elements::AUDIOCONVERT.make().build()?;
    let ares = elements::AUDIORESAMPLE.make().build()?;
    let atee = elements::TEE
        .make()
        .property("allow-not-linked", true)
        .build()?;
    pipeline.add_many([&aconv, &ares, &atee])?;
    gst::Element::link_many([audio.output(), &aconv, &ares, &atee])?;
    Ok((tee, atee, video, audio))
}

/// The speaker, behind a mixer of every session's incoming audio. A silent
/// live source keeps the mixer running (and live) before and between
/// sessions.
fn speaker_mix(
    pipeline: &gst::Pipeline,
    devices: &hal::Devices,
) -> anyhow::Result<(gst::Element, gst::Element, gst::Element)> {
    let silence = elements::AUDIOTESTSRC
        .make()
        .property_from_str("wave", "silence")
        .property("is-live", true)
        .build()?;
    let mixer = elements::AUDIOMIXER.make().build()?;
    let conv = elements::AUDIOCONVERT.make().build()?;
    let res = elements::AUDIORESAMPLE.make().build()?;
    let speaker = devices.speaker.sink()?;
    pipeline.add_many([&silence, &mixer, &conv, &res, &speaker])?;
    gst::Element::link_many([&silence, &mixer, &conv, &res, &speaker])?;
    Ok((mixer, res, speaker))
}

static SESSIONS: AtomicU64 = AtomicU64::new(0);

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
    ) -> anyhow::Result<MediaSession> {
        let name = format!("session-{}", SESSIONS.fetch_add(1, Ordering::Relaxed));
        let bin = gst::Bin::with_name(&name);
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
        bin.add(&webrtc)?;

        // Audio out first: Opus from the shared microphone tee. Its m-line
        // leads the bundle, so a refused video line never takes the sound
        // with it.
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
        gst::Element::link_many([&aq, &opus, &apay, &acaps])?;
        link_to_webrtc(&acaps, &webrtc)?;

        // Video out: this session's own encoder (its bitrate follows this
        // peer's network), fed from the shared camera tee once its codec is
        // known. An offer lists every codec on the video transceiver and
        // leaves webrtcbin's pad unlinked until the answer has chosen.
        let enc_q = queue_leaky(2)?;
        bin.add(&enc_q)?;
        let video_pad = webrtc
            .request_pad_simple("sink_%u")
            .context("webrtcbin gave no video pad")?;
        let transceiver = video_pad.property::<gst_webrtc::WebRTCRTPTransceiver>("transceiver");
        let offerer = matches!(video, VideoPlan::Offer(_));
        let answer = match video {
            VideoPlan::Offer(codecs) => {
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
            VideoPlan::Answer(Some(f)) => Some(f),
            // Nothing in common: the answer says so (its video lines
            // inactive, see `set_remote`), and the sound goes on.
            VideoPlan::Answer(None) => None,
        };
        let refuse_video = !offerer && answer.is_none();

        let ghost = |name: &str, q: &gst::Element| -> anyhow::Result<gst::Pad> {
            let pad =
                gst::GhostPad::builder_with_target(&q.static_pad("sink").context("queue sink")?)?
                    .name(name)
                    .build();
            bin.add_pad(&pad)?;
            Ok(pad.upcast())
        };
        let video_in = ghost("video", &enc_q)?;
        let audio_in = ghost("audio", &aq)?;

        let counters = Arc::new(Counters::default());
        local.routes.add(&name, events.clone());
        let session = MediaSession {
            pipeline: local.pipeline.clone(),
            bin,
            name,
            webrtc,
            encoder: None,
            codec: None,
            enc_q,
            video_in,
            video_pad,
            video_tee: local.video_tee.clone(),
            kbps: std::sync::atomic::AtomicU32::new(cfg.max_kbps.min(2000)),
            fps: cfg.fps,
            offered: Default::default(),
            refuse_video,
            counters,
            offerer,
            events,
            tees: Vec::new(),
            mixer: local.mixer.clone(),
            mixer_pads: Arc::new(std::sync::Mutex::new(Vec::new())),
            routes: local.routes.clone(),
        };
        session.wire(cfg, remote, tile)?;
        session.pipeline.add(&session.bin)?;
        session
            .bin
            .sync_state_with_parent()
            .context("the session did not start")?;
        // Media flows in only once the bin runs.
        let mut session = session;
        let pad = local
            .audio_tee
            .request_pad_simple("src_%u")
            .context("the tee gave no pad")?;
        pad.link(&audio_in)?;
        session.tees.push((local.audio_tee.clone(), pad));
        if let Some(f) = answer {
            session.send_video(f)?;
        }
        Ok(session)
    }

    /// Send our video as `format` (the answer's choice, or ours when we
    /// answer): the encoder chain into webrtcbin's video pad, then the
    /// camera's tee into it.
    pub fn send_video(&mut self, format: Format) -> anyhow::Result<()> {
        if self.codec.is_some() {
            return Ok(());
        }
        let kbps = self.kbps.load(Ordering::Relaxed);
        let chain = codec::chain(format.codec, format.pt, self.fps, kbps)?;
        self.bin.add_many(chain.elements.iter())?;
        gst::Element::link_many(std::iter::once(&self.enc_q).chain(chain.elements.iter()))?;
        let last = chain.elements.last().context("an empty chain")?;
        last.static_pad("src")
            .context("chain src")?
            .link(&self.video_pad)?;
        for e in &chain.elements {
            e.sync_state_with_parent()?;
        }
        let pad = self
            .video_tee
            .request_pad_simple("src_%u")
            .context("the tee gave no pad")?;
        pad.link(&self.video_in)?;
        self.tees.push((self.video_tee.clone(), pad));
        self.encoder = Some(chain.encoder);
        self.codec = Some(format.codec);
        Ok(())
    }

    fn wire(&self, cfg: &CallConfig, remote: Option<FrameSink>, tile: usize) -> anyhow::Result<()> {
        let events = self.events.clone();
        self.webrtc.connect("on-ice-candidate", false, move |v| {
            let mline = v[1].get::<u32>().unwrap_or(0);
            if let Ok(candidate) = v[2].get::<String>() {
                let _ = events.send(MediaEvent::LocalIce { candidate, mline });
            }
            None
        });
        if self.offerer {
            let events = self.events.clone();
            let offered = self.offered.clone();
            self.webrtc
                .connect("on-negotiation-needed", false, move |v| {
                    let Ok(webrtc) = v[0].get::<gst::Element>() else {
                        return None;
                    };
                    // One offer per session (linking the encoder after the
                    // answer makes webrtcbin ask again).
                    if offered.swap(true, Ordering::SeqCst) {
                        return None;
                    }
                    let events = events.clone();
                    let w = webrtc.clone();
                    let promise = gst::Promise::with_change_func(move |reply| {
                        match description(reply, "offer") {
                            Ok(offer) => {
                                w.emit_by_name::<()>(
                                    "set-local-description",
                                    &[&offer, &None::<gst::Promise>],
                                );
                                let sdp = offer.sdp().as_text().unwrap_or_default();
                                let _ = events.send(MediaEvent::LocalSdp {
                                    kind: SdpKind::Offer,
                                    sdp,
                                });
                            }
                            Err(e) => {
                                let _ = events.send(MediaEvent::Error(format!("no offer: {e}")));
                            }
                        }
                    });
                    webrtc.emit_by_name::<()>("create-offer", &[&None::<gst::Structure>, &promise]);
                    None
                });
        }

        // Incoming streams: decode, then picture (a tile) or sound (the mixer).
        let bin = self.bin.downgrade();
        let counters = self.counters.clone();
        let mixer = self.mixer.clone();
        let mixer_pads = self.mixer_pads.clone();
        let events = self.events.clone();
        let stamped = cfg.stamp_frames;
        self.webrtc.connect_pad_added(move |_, pad| {
            if pad.direction() != gst::PadDirection::Src {
                return;
            }
            let Some(bin) = bin.upgrade() else {
                return;
            };
            let Ok(decode) = elements::DECODEBIN.make().build() else {
                return;
            };
            let counters = counters.clone();
            let remote = remote.clone();
            let events = events.clone();
            let mixer = mixer.clone();
            let mixer_pads = mixer_pads.clone();
            let b2 = bin.downgrade();
            decode.connect_pad_added(move |_, dpad| {
                let Some(bin) = b2.upgrade() else { return };
                let caps = dpad.current_caps().or_else(|| Some(dpad.query_caps(None)));
                let name = caps
                    .as_ref()
                    .and_then(|c| c.structure(0).map(|s| s.name().to_string()))
                    .unwrap_or_default();
                let r = if name.starts_with("video/") {
                    link_remote_video(
                        &bin,
                        dpad,
                        &counters,
                        remote.clone(),
                        tile,
                        stamped,
                        events.clone(),
                    )
                } else if name.starts_with("audio/") {
                    link_remote_audio(&bin, dpad, &mixer, &mixer_pads, &counters)
                } else {
                    Ok(())
                };
                if let Err(e) = r {
                    let _ = events.send(MediaEvent::Error(format!(
                        "cannot play the incoming {name}: {e:#}"
                    )));
                }
            });
            if bin.add(&decode).is_err() {
                return;
            }
            let _ = decode.sync_state_with_parent();
            if let Some(sink) = decode.static_pad("sink") {
                let _ = pad.link(&sink);
            }
        });
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
        let msg = gst_sdp::SDPMessage::parse_buffer(sdp.as_bytes())
            .map_err(|_| anyhow!("the other side sent an unreadable SDP"))?;
        let t = match kind {
            SdpKind::Offer => gst_webrtc::WebRTCSDPType::Offer,
            SdpKind::Answer => gst_webrtc::WebRTCSDPType::Answer,
        };
        let desc = gst_webrtc::WebRTCSessionDescription::new(t, msg);
        if kind == SdpKind::Answer {
            if !self.offerer {
                bail!("an answer came, but this side made no offer");
            }
            // Once webrtcbin has it, the call task hears what the answer
            // did with our video (and links the encoder it chose).
            let video = super::sdp::video_answer(sdp);
            let events = self.events.clone();
            let session = self.name.clone();
            let applied = gst::Promise::with_change_func(move |_| {
                let _ = events.send(MediaEvent::Answered { session, video });
            });
            self.webrtc
                .emit_by_name::<()>("set-remote-description", &[&desc, &applied]);
            return Ok(());
        }
        if self.offerer {
            bail!("an offer came, but this side is the offerer");
        }
        let webrtc = self.webrtc.clone();
        let events = self.events.clone();
        let refuse_video = self.refuse_video;
        let promise = gst::Promise::with_change_func(move |_| {
            let w = webrtc.clone();
            let events = events.clone();
            let answer =
                gst::Promise::with_change_func(move |reply| match description(reply, "answer") {
                    Ok(answer) => {
                        let answer = if refuse_video {
                            match inactive_video(&answer) {
                                Ok(a) => a,
                                Err(e) => {
                                    let _ =
                                        events.send(MediaEvent::Error(format!("no answer: {e}")));
                                    return;
                                }
                            }
                        } else {
                            answer
                        };
                        w.emit_by_name::<()>(
                            "set-local-description",
                            &[&answer, &None::<gst::Promise>],
                        );
                        let sdp = answer.sdp().as_text().unwrap_or_default();
                        let _ = events.send(MediaEvent::LocalSdp {
                            kind: SdpKind::Answer,
                            sdp,
                        });
                    }
                    Err(e) => {
                        let _ = events.send(MediaEvent::Error(format!("no answer: {e}")));
                    }
                });
            webrtc.emit_by_name::<()>("create-answer", &[&None::<gst::Structure>, &answer]);
        });
        self.webrtc
            .emit_by_name::<()>("set-remote-description", &[&desc, &promise]);
        Ok(())
    }

    /// A candidate from the other side.
    pub fn add_ice(&self, candidate: &str, mline: u32) {
        self.webrtc
            .emit_by_name::<()>("add-ice-candidate", &[&mline, &candidate]);
    }

    /// Set the video encoder's bitrate (kbit/s).
    pub fn set_video_kbps(&self, kbps: u32) {
        self.kbps.store(kbps, Ordering::Relaxed);
        if let Some(e) = &self.encoder {
            codec::set_kbps(e, kbps);
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

/// `answer` with its video lines inactive: no format in common.
fn inactive_video(
    answer: &gst_webrtc::WebRTCSessionDescription,
) -> anyhow::Result<gst_webrtc::WebRTCSessionDescription> {
    let text = answer.sdp().as_text()?;
    let msg = gst_sdp::SDPMessage::parse_buffer(super::sdp::refuse_video(&text).as_bytes())
        .map_err(|_| anyhow!("an unreadable answer"))?;
    Ok(gst_webrtc::WebRTCSessionDescription::new(
        gst_webrtc::WebRTCSDPType::Answer,
        msg,
    ))
}

fn link_to_webrtc(from: &gst::Element, webrtc: &gst::Element) -> anyhow::Result<()> {
    let src = from.static_pad("src").context("src pad")?;
    let sink = webrtc
        .request_pad_simple("sink_%u")
        .context("webrtcbin gave no sink pad")?;
    src.link(&sink)?;
    Ok(())
}

fn rgb_appsink(
    width: u32,
    height: u32,
    to: FrameSink,
    counter: Option<(Arc<Counters>, bool, PeerEvents)>,
    tile: usize,
) -> anyhow::Result<gst::Element> {
    let mut caps = gst::Caps::builder("video/x-raw").field("format", "RGB");
    if width > 0 {
        caps = caps
            .field("width", width as i32)
            .field("height", height as i32);
    }
    let sink = gst_app::AppSink::builder()
        .caps(&caps.build())
        .sync(false)
        .max_buffers(2)
        .drop(true)
        .build();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |s| {
                let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let Some(info) = sample
                    .caps()
                    .and_then(|c| gst_video::VideoInfo::from_caps(c).ok())
                else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let Some(buffer) = sample.buffer_owned() else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let Ok(map) = buffer.into_mapped_buffer_readable() else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let stride = info.stride()[0] as usize;
                if let Some((counters, stamped, events)) = &counter {
                    if counters.frames.fetch_add(1, Ordering::Relaxed) == 0 {
                        counters
                            .first_frame_us
                            .store(stamp::now_micros(), Ordering::Relaxed);
                    }
                    let sig = signature(map.as_slice());
                    if counters.last_signature.swap(sig, Ordering::Relaxed) != sig {
                        counters.changed.fetch_add(1, Ordering::Relaxed);
                    }
                    if *stamped
                        && let Some(t) = stamp::read_rgb(
                            map.as_slice(),
                            stride,
                            info.width() as usize,
                            info.height() as usize,
                        )
                    {
                        let _ = events.send(MediaEvent::Latency(stamp::age_micros(
                            t,
                            stamp::now_micros(),
                        )));
                    }
                }
                to(Frame {
                    tile,
                    width: info.width(),
                    height: info.height(),
                    stride,
                    data: map,
                });
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    Ok(sink.upcast())
}

fn link_remote_video(
    bin: &gst::Bin,
    pad: &gst::Pad,
    counters: &Arc<Counters>,
    remote: Option<FrameSink>,
    tile: usize,
    stamped: bool,
    events: PeerEvents,
) -> anyhow::Result<()> {
    let q = elements::QUEUE.make().build()?;
    let conv = elements::VIDEOCONVERT.make().build()?;
    let to: FrameSink = remote.unwrap_or_else(|| Arc::new(|_| {}));
    let sink = rgb_appsink(0, 0, to, Some((counters.clone(), stamped, events)), tile)?;
    bin.add_many([&q, &conv, &sink])?;
    gst::Element::link_many([&q, &conv, &sink])?;
    for e in [&q, &conv, &sink] {
        e.sync_state_with_parent()?;
    }
    pad.link(&q.static_pad("sink").context("queue sink")?)?;
    Ok(())
}

/// Incoming audio into the shared mixer, through a ghost pad of the bin.
fn link_remote_audio(
    bin: &gst::Bin,
    pad: &gst::Pad,
    mixer: &gst::Element,
    mixer_pads: &std::sync::Mutex<Vec<gst::Pad>>,
    counters: &Arc<Counters>,
) -> anyhow::Result<()> {
    let q = elements::QUEUE.make().build()?;
    let conv = elements::AUDIOCONVERT.make().build()?;
    let res = elements::AUDIORESAMPLE.make().build()?;
    bin.add_many([&q, &conv, &res])?;
    gst::Element::link_many([&q, &conv, &res])?;
    let src = res.static_pad("src").context("audioresample src")?;
    let c = counters.clone();
    src.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        c.audio.fetch_add(1, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
    let ghost = gst::GhostPad::with_target(&src)?;
    ghost.set_active(true)?;
    bin.add_pad(&ghost)?;
    let mix_in = mixer
        .request_pad_simple("sink_%u")
        .context("the mixer gave no pad")?;
    ghost.link(&mix_in)?;
    mixer_pads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(mix_in);
    for e in [&q, &conv, &res] {
        e.sync_state_with_parent()?;
    }
    pad.link(&q.static_pad("sink").context("queue sink")?)?;
    Ok(())
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
            let session = MediaSession::start(&local, &cfg, plan, &[], None, 0, events).unwrap();
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
