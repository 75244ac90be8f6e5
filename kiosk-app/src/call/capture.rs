//! The terminal's own media in a call, captured once and shared by every
//! session ([`LocalMedia`]): camera (from `hal`, or a still "camera
//! unavailable" picture while it is lost: [`super::local`]) -> I420 at the
//! configured size -> [latency stamp] -> tee -> self-view and each
//! session's encoder; microphone -> tee -> each session's Opus encoder; and
//! the speaker behind an `audiomixer` of every session's sound, so several
//! visitors are heard at once. It also owns the pipeline's bus: which
//! errors are a device's, a session's, or only worth a log line.

use std::sync::Arc;

use anyhow::Context;
use gst::prelude::*;
use hal::elements;

use super::frames::{self, FrameSink, Shape};
use super::local::{Input, Local};
use super::media::{MediaEvent, PeerEvents, caps_filter, queue_leaky};
use super::record::Track;
use super::stamp;
use crate::config::CallConfig;

/// The terminal's own media, captured once for the whole call and shared
/// by every session: the camera (-> self-view and one encoder per session)
/// and the microphone through tees, and the speaker behind an `audiomixer`
/// that mixes what every session receives. Sessions are bins added to and
/// removed from this one pipeline while it plays.
pub struct LocalMedia {
    pub(super) pipeline: gst::Pipeline,
    pub(super) video_tee: gst::Element,
    pub(super) audio_tee: gst::Element,
    pub(super) mixer: gst::Element,
    pub(super) routes: Arc<ErrorRoutes>,
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
        route_errors(
            &pipeline,
            [video.clone(), audio.clone()],
            routes.clone(),
            device_failed,
        )?;
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

/// Errors of the shared part are logged, a device's make the call go on
/// without it (`device_failed` hears of it), and a session's own errors go
/// to the call task, which replaces the session.
fn route_errors(
    pipeline: &gst::Pipeline,
    locals: [Arc<Local>; 2],
    routes: Arc<ErrorRoutes>,
    device_failed: impl Fn(Input) + Send + Sync + 'static,
) -> anyhow::Result<()> {
    pipeline
        .bus()
        .context("pipeline bus")?
        .set_sync_handler(move |_, msg| {
            // A recording track's own messages (segments, errors) go to
            // it, never to its session: the call goes on without it.
            if matches!(
                msg.view(),
                gst::MessageView::Error(_) | gst::MessageView::Element(_)
            ) && routes.tap(msg)
            {
                return gst::BusSyncReply::Drop;
            }
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
                routes.route(&src, text);
            }
            gst::BusSyncReply::Drop
        });
    Ok(())
}

impl Drop for LocalMedia {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
        if let Some(bus) = self.pipeline.bus() {
            bus.unset_sync_handler();
        }
    }
}

/// Where pipeline errors go: a recording track's to the track (by its
/// bin's name, `rec-N`), the session whose bin the failing element is
/// in, by the bin's name (`session-N`), else the log.
#[derive(Default)]
pub(super) struct ErrorRoutes(
    std::sync::Mutex<Vec<(String, PeerEvents)>>,
    std::sync::Mutex<Vec<(String, Arc<Track>)>>,
);

impl ErrorRoutes {
    /// `track`'s messages go to it from now on.
    pub(super) fn add_track(&self, track: Arc<Track>) {
        // A path names each level `Type:name`
        // (`/GstPipeline:call/GstBin:session-0/GstBin:rec-0/...`).
        let key = format!(":{}/", track.name());
        self.1
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((key, track));
    }
    pub(super) fn remove_track(&self, name: &str) {
        let key = format!(":{name}/");
        self.1
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(k, _)| *k != key);
    }
    /// Hand `msg` to the track it comes from; false: not a track's.
    fn tap(&self, msg: &gst::Message) -> bool {
        let Some(path) = msg.src().map(|s| s.path_string()) else {
            return false;
        };
        let track = self
            .1
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(k, _)| path.contains(k.as_str()))
            .map(|(_, t)| t.clone());
        match track {
            Some(t) => {
                t.on_message(msg);
                true
            }
            None => false,
        }
    }
    pub(super) fn add(&self, bin: &str, events: PeerEvents) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((format!(":{bin}/"), events));
    }
    pub(super) fn remove(&self, bin: &str) {
        // Paths name each level `Type:name` (`/GstPipeline:call/GstBin:session-0/...`).
        let key = format!(":{bin}/");
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
    let mode = cfg.mode();
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
        stamp_frames(&raw, cfg.width as usize, cfg.height as usize)?;
    }
    if let Some(own) = own {
        self_view(pipeline, &tee, own)?;
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

/// Write the latency stamp into every picture leaving `raw` (I420 of
/// `w`x`h`), before any encoder.
fn stamp_frames(raw: &gst::Element, w: usize, h: usize) -> anyhow::Result<()> {
    let pad = raw.static_pad("src").context("capsfilter src")?;
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
    Ok(())
}

/// Our own picture, small, to `own` (a leaky queue: the screen never holds
/// the camera back).
fn self_view(pipeline: &gst::Pipeline, tee: &gst::Element, own: FrameSink) -> anyhow::Result<()> {
    let q = queue_leaky(1)?;
    let s = elements::VIDEOSCALE.make().build()?;
    let c = elements::VIDEOCONVERT.make().build()?;
    let shape = Shape {
        size: Some((320, 180)),
        max_buffers: 2,
        tile: 0,
    };
    let sink = frames::rgb_appsink(shape, move |f| own(f));
    pipeline.add_many([&q, &s, &c, &sink])?;
    gst::Element::link_many([tee, &q, &s, &c, &sink])?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sessions_error_reaches_that_session_and_no_other() {
        let routes = ErrorRoutes::default();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (three, thirty) = (uuid::Uuid::from_u128(3), uuid::Uuid::from_u128(30));
        routes.add(
            "session-3",
            PeerEvents {
                peer: three,
                tx: tx.clone(),
            },
        );
        routes.add("session-30", PeerEvents { peer: thirty, tx });
        let path = "/GstPipeline:call/GstBin:session-30/GstWebRTCBin:webrtcbin7";
        routes.route(path, "boom".into());
        let (peer, e) = rx.try_recv().expect("routed to a session");
        assert_eq!(peer, thirty);
        assert!(matches!(e, MediaEvent::Error(t) if t == "boom"));
        routes.remove("session-30");
        routes.route(path, "again".into());
        assert!(rx.try_recv().is_err(), "a removed session hears nothing");
    }
}
