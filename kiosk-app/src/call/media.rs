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
use hal::elements::{self, Element};
use protocol::signal::{IceServer, SdpKind};
use tokio::sync::mpsc::UnboundedSender;

pub use super::local::Input;
use super::local::Local;
use super::nice;
use super::stamp;
use crate::config::{CallConfig, VideoCodecChoice};

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

/// The video codec a session sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    H264,
    Vp8,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "H264",
            Codec::Vp8 => "VP8",
        }
    }
}

/// H.264 encoders in order of preference: hardware first.
static H264_ENCODERS: [&Element; 3] = [
    &elements::V4L2H264ENC,
    &elements::VAAPIH264ENC,
    &elements::X264ENC,
];

fn h264_encoder() -> Option<&'static Element> {
    H264_ENCODERS.into_iter().find(|e| e.available())
}

/// The codec to offer, from the configuration and the encoders present.
pub fn offer_codec(choice: VideoCodecChoice) -> Codec {
    match choice {
        VideoCodecChoice::Vp8 => Codec::Vp8,
        VideoCodecChoice::H264 | VideoCodecChoice::Auto if h264_encoder().is_some() => Codec::H264,
        _ => Codec::Vp8,
    }
}

/// The codec to answer an offer with: the offer's H.264 if we can encode it
/// (and are allowed to), else VP8.
pub fn answer_codec(choice: VideoCodecChoice, offer_sdp: &str) -> Codec {
    let offers_h264 = offer_sdp
        .lines()
        .any(|l| l.starts_with("a=rtpmap:") && l.contains(" H264/"));
    if offers_h264 && choice != VideoCodecChoice::Vp8 && h264_encoder().is_some() {
        Codec::H264
    } else {
        Codec::Vp8
    }
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
    encoder: gst::Element,
    codec: Codec,
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
        codec: Codec,
        offerer: bool,
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

        // Video out: this session's own encoder (its bitrate follows this
        // peer's network), fed from the shared camera tee.
        let enc_q = queue_leaky(2)?;
        let kbps = cfg.max_kbps.min(2000);
        let (encoder, enc_caps, pay, rtp_caps) = match codec {
            Codec::H264 => {
                let name = h264_encoder().context("no H.264 encoder")?;
                let enc = name.make().build()?;
                if name == &elements::X264ENC {
                    enc.set_property_from_str("tune", "zerolatency");
                    enc.set_property_from_str("speed-preset", "ultrafast");
                    enc.set_property("bitrate", kbps);
                    enc.set_property("key-int-max", cfg.fps * 2);
                    enc.set_property("threads", 2u32);
                }
                let pay = elements::RTPH264PAY
                    .make()
                    .property("config-interval", -1i32)
                    .property_from_str("aggregate-mode", "zero-latency")
                    .property("pt", 96u32)
                    .build()?;
                (
                    enc,
                    "video/x-h264,profile=constrained-baseline,stream-format=byte-stream",
                    pay,
                    "application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,packetization-mode=(string)1,profile-level-id=(string)42e01f",
                )
            }
            Codec::Vp8 => {
                let enc = elements::VP8ENC
                    .make()
                    .property("deadline", 1i64)
                    .property("lag-in-frames", 0i32)
                    .property("target-bitrate", (kbps * 1000) as i32)
                    .property("keyframe-max-dist", (cfg.fps * 2) as i32)
                    .property("cpu-used", 8i32)
                    .property_from_str("error-resilient", "partitions")
                    .build()?;
                let pay = elements::RTPVP8PAY
                    .make()
                    .property("pt", 96u32)
                    .property_from_str("picture-id-mode", "15-bit")
                    .build()?;
                (
                    enc,
                    "video/x-vp8",
                    pay,
                    "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000",
                )
            }
        };
        let enc_caps = caps_filter(enc_caps)?;
        let rtp_caps = caps_filter(rtp_caps)?;
        bin.add_many([&enc_q, &encoder, &enc_caps, &pay, &rtp_caps])?;
        gst::Element::link_many([&enc_q, &encoder, &enc_caps, &pay, &rtp_caps])?;
        link_to_webrtc(&rtp_caps, &webrtc)?;

        // Audio out: Opus from the shared microphone tee.
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
            encoder,
            codec,
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
        for (tee, input) in [(&local.video_tee, &video_in), (&local.audio_tee, &audio_in)] {
            let pad = tee
                .request_pad_simple("src_%u")
                .context("the tee gave no pad")?;
            pad.link(input)?;
            session.tees.push((tee.clone(), pad));
        }
        Ok(session)
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
            self.webrtc
                .connect("on-negotiation-needed", false, move |v| {
                    let Ok(webrtc) = v[0].get::<gst::Element>() else {
                        return None;
                    };
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

    pub fn codec(&self) -> Codec {
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
            self.webrtc
                .emit_by_name::<()>("set-remote-description", &[&desc, &None::<gst::Promise>]);
            return Ok(());
        }
        if self.offerer {
            bail!("an offer came, but this side is the offerer");
        }
        let webrtc = self.webrtc.clone();
        let events = self.events.clone();
        let promise = gst::Promise::with_change_func(move |_| {
            let w = webrtc.clone();
            let events = events.clone();
            let answer =
                gst::Promise::with_change_func(move |reply| match description(reply, "answer") {
                    Ok(answer) => {
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
        let e = &self.encoder;
        if e.find_property("bitrate").is_some()
            && e.property_type("bitrate") == Some(u32::static_type())
        {
            // x264enc: kbit/s.
            e.set_property("bitrate", kbps);
        } else if e.find_property("target-bitrate").is_some() {
            // vp8enc: bit/s.
            e.set_property("target-bitrate", (kbps * 1000) as i32);
        }
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

    const OFFER_VP8: &str = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n";
    const OFFER_H264: &str = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n";

    #[test]
    fn the_answer_follows_the_offer_and_vp8_is_the_fallback() {
        gst::init().unwrap();
        assert_eq!(answer_codec(VideoCodecChoice::Auto, OFFER_VP8), Codec::Vp8);
        assert_eq!(
            answer_codec(VideoCodecChoice::Auto, OFFER_H264),
            Codec::H264
        );
        assert_eq!(answer_codec(VideoCodecChoice::Vp8, OFFER_H264), Codec::Vp8);
        assert_eq!(offer_codec(VideoCodecChoice::Vp8), Codec::Vp8);
        assert_eq!(
            offer_codec(VideoCodecChoice::Auto),
            Codec::H264,
            "x264enc is installed"
        );
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
