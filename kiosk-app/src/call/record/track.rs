//! One track of the recording: one party's streams from one media session
//! into a `splitmuxsink` (Matroska, 6 s segments), in a bin of its own
//! (`rec-N`) inside the session's bin.
//!
//! Both of the sink's pads (`video`, `audio_0`) are requested when the
//! track is made, before any data: Matroska cannot take a new stream once
//! a file has begun. Each stream comes in through [`Track::input`]: a leaky
//! queue (the call never waits for the recording), the depayloader and
//! parser its format needs ([`super::tap`]), the sink's pad. A buffer
//! probe in front of each input drops everything once the track failed, so
//! an error in the recording never flows back into the call's tees.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use gst::prelude::*;
use hal::elements;

use super::tap::{self, Stream};
use super::worker::{Note, TrackKey};

/// How long a segment may grow: key frames come every 2 s from our
/// encoders, and a browser is asked for one at each split.
pub const SEGMENT: Duration = Duration::from_secs(6);

static TRACKS: AtomicU64 = AtomicU64::new(0);

/// A track's streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Video,
    Audio,
}

/// One party's recording from one session.
pub struct Track {
    pub(super) key: TrackKey,
    bin: gst::Bin,
    sink_pads: [gst::Pad; 2],
    inputs: std::sync::Mutex<Vec<gst::Pad>>,
    /// Raised at the track's first error; its inputs' probes read it.
    failed: Arc<AtomicBool>,
    /// Fragments open (between opened and closed): with `async-finalize`
    /// the next one opens before the last one is closed.
    open: AtomicU32,
    notes: std::sync::mpsc::Sender<Note>,
    now: super::Now,
}

impl Track {
    /// A track writing `<dir>/<party>-<track>-<index>.mkv`.
    pub(super) fn new(
        key: TrackKey,
        dir: &Path,
        notes: std::sync::mpsc::Sender<Note>,
        now: super::Now,
    ) -> anyhow::Result<Arc<Track>> {
        let name = format!("rec-{}", TRACKS.fetch_add(1, Ordering::Relaxed));
        let bin = gst::Bin::with_name(&name);
        // splitmuxsink changes state asynchronously, completing only once
        // its first segment starts; the track's bin keeps that to itself
        // (and its state is locked by the session that holds it).
        // Forwarded, it would take the whole call's pipeline out of
        // PLAYING until then: a track that never gets its first key frame
        // (a sound-only call) would silence the call.
        bin.set_property("async-handling", true);
        let location: PathBuf = dir.join(format!("{}-{}-%d.mkv", key.party, key.track));
        let sink = elements::SPLITMUXSINK
            .make()
            .property("location", location.to_string_lossy().to_string())
            .property("max-size-time", SEGMENT.as_nanos() as u64)
            .property("max-size-bytes", 0u64)
            .property("send-keyframe-requests", true)
            .property("async-finalize", true)
            .property("muxer-factory", elements::MATROSKAMUX.factory)
            .property("sink-factory", elements::FILESINK.factory)
            .build()?;
        bin.add(&sink)?;
        let video = sink
            .request_pad_simple("video")
            .context("splitmuxsink gave no video pad")?;
        let audio = sink
            .request_pad_simple("audio_%u")
            .context("splitmuxsink gave no audio pad")?;
        Ok(Arc::new(Track {
            key,
            bin,
            sink_pads: [video, audio],
            inputs: std::sync::Mutex::new(Vec::new()),
            failed: Arc::new(AtomicBool::new(false)),
            open: AtomicU32::new(0),
            notes,
            now,
        }))
    }

    /// The track's bin (to add to a session's bin).
    pub fn bin(&self) -> &gst::Bin {
        &self.bin
    }

    /// A stream of `kind` arriving as `stream`: its chain into the sink's
    /// pad; returns the bin's input pad to link to (a tee's).
    pub fn input(&self, kind: Kind, stream: &Stream) -> anyhow::Result<gst::Pad> {
        let q = elements::QUEUE
            .make()
            .property("max-size-buffers", 0u32)
            .property("max-size-bytes", 0u32)
            // Room for a starved recorder on a busy terminal (a few MB):
            // a dropped packet costs the picture until the next key frame.
            .property("max-size-time", 10_000_000_000u64)
            .property_from_str("leaky", "downstream")
            .build()?;
        let mut chain = vec![q.clone()];
        chain.extend(tap::chain(stream)?);
        self.bin.add_many(chain.iter())?;
        gst::Element::link_many(chain.iter())?;
        let last = chain.last().context("an empty chain")?;
        let target = &self.sink_pads[kind as usize];
        last.static_pad("src").context("chain src")?.link(target)?;
        for e in &chain {
            e.sync_state_with_parent()?;
        }
        let q_sink = q.static_pad("sink").context("queue sink")?;
        let failed = self.failed.clone();
        q_sink.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            if failed.load(Ordering::Relaxed) {
                gst::PadProbeReturn::Drop
            } else {
                gst::PadProbeReturn::Ok
            }
        });
        let name = match kind {
            Kind::Video => "video",
            Kind::Audio => "audio",
        };
        // A serialized query (the tee's allocation query) would wait in
        // the queue until the muxer takes it, and the muxer waits for every
        // stream: with one stream missing (a sound-only call) the call's
        // own encoder would wait with it. The track answers them here.
        q_sink.add_probe(gst::PadProbeType::QUERY_DOWNSTREAM, |_, info| {
            match info.query().map(|q| q.view()) {
                Some(gst::QueryView::Allocation(_)) | Some(gst::QueryView::Drain(_)) => {
                    gst::PadProbeReturn::Handled
                }
                _ => gst::PadProbeReturn::Ok,
            }
        });
        let ghost = gst::GhostPad::builder_with_target(&q_sink)?
            .name(name)
            .build();
        ghost.set_active(true)?;
        if matches!(kind, Kind::Video) {
            // A browser sends a key frame only when asked: ask (an RTCP PLI,
            // through the tee and the session) at the track's first buffer,
            // or its first segment waits seconds for the next one it sends.
            ghost.add_probe(gst::PadProbeType::BUFFER, |pad, _| {
                let ask = gst_video::UpstreamForceKeyUnitEvent::builder()
                    .all_headers(true)
                    .build();
                pad.push_event(ask);
                gst::PadProbeReturn::Remove
            });
        }
        self.bin.add_pad(&ghost)?;
        let ghost: gst::Pad = ghost.upcast();
        self.lock_inputs().push(ghost.clone());
        Ok(ghost)
    }

    fn lock_inputs(&self) -> std::sync::MutexGuard<'_, Vec<gst::Pad>> {
        self.inputs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The bin's name (`rec-N`): its elements' messages carry it in their path.
    pub fn name(&self) -> String {
        self.bin.name().to_string()
    }

    /// A message from one of the track's elements (on the posting thread,
    /// from the bus's sync handler): fragments opened and closed go to the
    /// worker; an error stops the track at once.
    pub fn on_message(&self, msg: &gst::Message) {
        match msg.view() {
            gst::MessageView::Element(e) => {
                let Some(s) = e.structure() else { return };
                let location = s.get::<String>("location").unwrap_or_default();
                let running = s.get::<u64>("running-time").unwrap_or(0);
                if s.name() == "splitmuxsink-fragment-opened" {
                    self.open.fetch_add(1, Ordering::Relaxed);
                    let _ = self.notes.send(Note::Opened {
                        key: self.key.clone(),
                        location: location.into(),
                        running_ns: running,
                        at: (self.now)() - since_running(msg, running),
                    });
                } else if s.name() == "splitmuxsink-fragment-closed" {
                    let _ = self.notes.send(Note::Closed {
                        location: location.into(),
                        running_ns: running,
                    });
                    let _ = self
                        .open
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                            Some(n.saturating_sub(1))
                        });
                }
            }
            gst::MessageView::Error(e) => {
                self.problem(format!("recorder_failed: {}", e.error()));
            }
            _ => {}
        }
    }

    /// A stream of the track cannot be recorded: the track stops (what it
    /// has is closed as usual), the call goes on.
    pub fn problem(&self, reason: String) {
        if !self.failed.swap(true, Ordering::Relaxed) {
            let _ = self.notes.send(Note::Failed {
                key: self.key.clone(),
                reason,
            });
        }
    }

    /// Whether the track failed (it records nothing more).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Close the track: end of stream into each input (the open segment is
    /// finished properly), then, once it is closed (at most `wait`), stop
    /// it and take it out of `pipeline`. The caller has taken the bin out
    /// of its session already. Runs on the calling thread: see
    /// [`super::Recorder`] for who waits.
    pub(super) fn finish(&self, pipeline: &gst::Pipeline, wait: Duration) {
        for pad in self.lock_inputs().iter() {
            pad.send_event(gst::event::Eos::new());
        }
        let until = Instant::now() + wait;
        while !self.failed() && self.open.load(Ordering::Relaxed) > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.open.load(Ordering::Relaxed) > 0 && !self.failed() {
            tracing::warn!(track = %self.name(), "the last segment did not close in time; it is recovered at the next start");
        }
        let _ = self.bin.set_state(gst::State::Null);
        let _ = pipeline.remove(&self.bin);
    }
}

/// How long ago the pipeline's running time was `running` (ns): a fragment
/// is said opened once splitmuxsink has gathered its first GOP, seconds
/// after its first frame; its wall-clock start is that much earlier. The
/// pipeline is the message source's topmost parent (zero when there is
/// none: a track being finished outside it).
fn since_running(msg: &gst::Message, running: u64) -> chrono::Duration {
    let mut top = msg.src().cloned();
    while let Some(parent) = top.as_ref().and_then(|o| o.parent()) {
        top = Some(parent);
    }
    let now = top
        .and_then(|o| o.downcast::<gst::Pipeline>().ok())
        .and_then(|p| p.current_running_time())
        .map_or(running, |t| t.nseconds());
    chrono::Duration::nanoseconds(now.saturating_sub(running).min(60_000_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::recording::PartyRole;
    use uuid::Uuid;

    /// An element of the track failing (a full disk) is said once, as a
    /// recording problem, and from then on the track takes nothing more:
    /// its inputs drop what the call's tees give them.
    #[test]
    fn a_failing_track_says_so_once_and_takes_nothing_more() {
        gst::init().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let key = TrackKey {
            visit: Uuid::from_u128(1),
            role: PartyRole::Visitor,
            party: Uuid::from_u128(2),
            track: 0,
        };
        let now: crate::call::record::Now = Arc::new(chrono::Utc::now);
        let track = Track::new(key.clone(), dir.path(), tx, now).unwrap();
        let input = track.input(Kind::Audio, &Stream::Opus).unwrap();
        track.bin().set_state(gst::State::Paused).unwrap();
        let sink = track
            .bin()
            .iterate_elements()
            .into_iter()
            .flatten()
            .find(|e| e.factory().is_some_and(|f| f.name() == "splitmuxsink"));
        let error = |text: &str| {
            gst::message::Error::builder(gst::ResourceError::NoSpaceLeft, text)
                .src(sink.as_ref().unwrap())
                .build()
        };
        assert!(!track.failed());
        track.on_message(&error("No space left on device"));
        track.on_message(&error("again"));
        match rx.try_recv() {
            Ok(Note::Failed { key: k, reason }) => {
                assert_eq!(k, key);
                assert!(reason.starts_with("recorder_failed"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(rx.try_recv().is_err(), "said once");
        assert!(track.failed());
        // What the tee pushes in is dropped, and the push succeeds: the
        // call's stream never sees the recording's error.
        let queue_sink = input
            .downcast_ref::<gst::GhostPad>()
            .unwrap()
            .target()
            .unwrap();
        let parent = queue_sink.parent_element().unwrap();
        let before: u32 = parent.property("current-level-buffers");
        let peer = gst::Pad::new(gst::PadDirection::Src);
        peer.set_active(true).unwrap();
        peer.link(&input).unwrap();
        peer.push_event(gst::event::StreamStart::new("s"));
        peer.push_event(gst::event::Caps::new(&gst::Caps::new_empty_simple(
            "audio/x-opus",
        )));
        peer.push_event(gst::event::Segment::new(&gst::FormattedSegment::<
            gst::ClockTime,
        >::new()));
        assert_eq!(
            peer.push(gst::Buffer::with_size(10).unwrap()),
            Ok(gst::FlowSuccess::Ok)
        );
        let after: u32 = parent.property("current-level-buffers");
        assert_eq!(before, after, "the failed track took a buffer");
        track.bin().set_state(gst::State::Null).unwrap();
    }
}
