//! What a session receives: webrtcbin's streams -> decodebin -> the
//! picture to the peer's tile on the screen ([`super::frames`]), counted
//! and read for the latency stamp; the sound into the call's shared
//! `audiomixer` (counted), through a ghost pad of the session's bin. On a
//! recording terminal each stream is also tapped before decodebin, as
//! received, into the peer's recording track ([`super::record`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use gst::prelude::*;
use hal::elements;

use super::frames::{self, Frame, FrameSink, Shape};
use super::media::{MediaEvent, PeerEvents};
use super::record::tap::Stream;
use super::record::{Kind, Track};
use super::stamp;

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

impl Counters {
    /// Count a received picture (and whether it moved).
    fn count(&self, pixels: &[u8]) {
        if self.frames.fetch_add(1, Ordering::Relaxed) == 0 {
            self.first_frame_us
                .store(stamp::now_micros(), Ordering::Relaxed);
        }
        let sig = signature(pixels);
        if self.last_signature.swap(sig, Ordering::Relaxed) != sig {
            self.changed.fetch_add(1, Ordering::Relaxed);
        }
    }
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

/// Where a session's incoming media goes.
#[derive(Clone)]
pub struct Incoming {
    pub counters: Arc<Counters>,
    /// The screen (`None`: headless) and the peer's tile on it.
    pub remote: Option<FrameSink>,
    pub tile: usize,
    /// Whether pictures carry the latency stamp (the benchmark).
    pub stamped: bool,
    pub events: PeerEvents,
    pub mixer: gst::Element,
    /// The mixer pads its incoming audio uses (released when it ends).
    pub mixer_pads: Arc<Mutex<Vec<gst::Pad>>>,
    /// The peer's recording track, if this terminal records.
    pub track: Option<Arc<Track>>,
}

impl Incoming {
    /// Decode every stream `webrtc` (in `bin`) receives, then picture or sound.
    pub fn connect(self, webrtc: &gst::Element, bin: &gst::Bin) {
        let bin = bin.downgrade();
        webrtc.connect_pad_added(move |_, pad| {
            if pad.direction() != gst::PadDirection::Src {
                return;
            }
            let Some(bin) = bin.upgrade() else {
                return;
            };
            let Ok(decode) = elements::DECODEBIN.make().build() else {
                return;
            };
            let this = self.clone();
            let b2 = bin.downgrade();
            decode.connect_pad_added(move |_, dpad| {
                if let Some(bin) = b2.upgrade() {
                    this.decoded(&bin, dpad);
                }
            });
            if bin.add(&decode).is_err() {
                return;
            }
            let _ = decode.sync_state_with_parent();
            let Some(sink) = decode.static_pad("sink") else {
                return;
            };
            let to_decode = match &self.track {
                Some(track) => record(&bin, pad, track),
                None => Some(pad.clone()),
            };
            if let Some(src) = to_decode {
                let _ = src.link(&sink);
            }
        });
    }

    /// A decoded stream: video to the tile, audio to the mixer.
    fn decoded(&self, bin: &gst::Bin, dpad: &gst::Pad) {
        let caps = dpad.current_caps().or_else(|| Some(dpad.query_caps(None)));
        let name = caps
            .as_ref()
            .and_then(|c| c.structure(0).map(|s| s.name().to_string()))
            .unwrap_or_default();
        let r = if name.starts_with("video/") {
            self.video(bin, dpad)
        } else if name.starts_with("audio/") {
            self.audio(bin, dpad)
        } else {
            Ok(())
        };
        if let Err(e) = r {
            let _ = self.events.send(MediaEvent::Error(format!(
                "cannot play the incoming {name}: {e:#}"
            )));
        }
    }

    /// Each picture is counted, read for the stamp, and shown.
    fn video(&self, bin: &gst::Bin, pad: &gst::Pad) -> anyhow::Result<()> {
        let q = elements::QUEUE.make().build()?;
        let conv = elements::VIDEOCONVERT.make().build()?;
        let to: FrameSink = self.remote.clone().unwrap_or_else(|| Arc::new(|_| {}));
        let (counters, stamped, events) =
            (self.counters.clone(), self.stamped, self.events.clone());
        let shape = Shape {
            size: None,
            max_buffers: 2,
            tile: self.tile,
        };
        let sink = frames::rgb_appsink(shape, move |f: Frame| {
            counters.count(f.bytes());
            if stamped
                && let Some(t) =
                    stamp::read_rgb(f.bytes(), f.stride, f.width as usize, f.height as usize)
            {
                let age = stamp::age_micros(t, stamp::now_micros());
                let _ = events.send(MediaEvent::Latency(age));
            }
            to(f);
        });
        bin.add_many([&q, &conv, &sink])?;
        gst::Element::link_many([&q, &conv, &sink])?;
        for e in [&q, &conv, &sink] {
            e.sync_state_with_parent()?;
        }
        pad.link(&q.static_pad("sink").context("queue sink")?)?;
        Ok(())
    }

    /// Incoming audio into the shared mixer, through a ghost pad of the bin.
    fn audio(&self, bin: &gst::Bin, pad: &gst::Pad) -> anyhow::Result<()> {
        let q = elements::QUEUE.make().build()?;
        let conv = elements::AUDIOCONVERT.make().build()?;
        let res = elements::AUDIORESAMPLE.make().build()?;
        bin.add_many([&q, &conv, &res])?;
        gst::Element::link_many([&q, &conv, &res])?;
        let src = res.static_pad("src").context("audioresample src")?;
        let c = self.counters.clone();
        src.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            c.audio.fetch_add(1, Ordering::Relaxed);
            gst::PadProbeReturn::Ok
        });
        let ghost = gst::GhostPad::with_target(&src)?;
        ghost.set_active(true)?;
        bin.add_pad(&ghost)?;
        let mix_in = self
            .mixer
            .request_pad_simple("sink_%u")
            .context("the mixer gave no pad")?;
        ghost.link(&mix_in)?;
        self.mixer_pads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(mix_in);
        for e in [&q, &conv, &res] {
            e.sync_state_with_parent()?;
        }
        pad.link(&q.static_pad("sink").context("queue sink")?)?;
        Ok(())
    }
}

/// Tee `pad` (RTP as received) into `track` before it is decoded; returns
/// the pad to decode from (`pad` itself when it cannot be recorded: the
/// call never depends on the recording).
fn record(bin: &gst::Bin, pad: &gst::Pad, track: &Track) -> Option<gst::Pad> {
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let kind = match caps
        .structure(0)
        .and_then(|s| s.get::<String>("media").ok())
        .as_deref()
    {
        Some("video") => Kind::Video,
        Some("audio") => Kind::Audio,
        _ => return Some(pad.clone()),
    };
    let tapped = (|| -> anyhow::Result<gst::Pad> {
        let stream = Stream::from_rtp_caps(&caps).context("not RTP")?;
        let tee = elements::TEE
            .make()
            .property("allow-not-linked", true)
            .build()?;
        bin.add(&tee)?;
        tee.sync_state_with_parent()?;
        let input = track.input(kind, &stream)?;
        tee.request_pad_simple("src_%u")
            .context("the tee gave no pad")?
            .link(&input)?;
        pad.link(&tee.static_pad("sink").context("tee sink")?)?;
        tee.request_pad_simple("src_%u")
            .context("the tee gave no pad")
    })();
    match tapped {
        Ok(p) => Some(p),
        Err(e) => {
            track.problem(format!("a received stream cannot be recorded: {e:#}"));
            (!pad.is_linked()).then(|| pad.clone())
        }
    }
}
