//! The call's media sessions, one per peer: starting the capture (once per
//! call, whatever the number of peers), starting a session as offerer or
//! answerer, what a session tells the task (descriptions, candidates,
//! errors, the answer's choice of video), and the retry with another codec
//! when the other side refuses our video.

use std::time::Instant;

use protocol::signal::{ClientMessage, SdpKind};
use uuid::Uuid;

use super::codec::{self, Codec};
use super::media::{Input, MediaEvent, MediaSession, PeerEvents, VideoPlan};
use super::sdp::{self, VideoAnswer};
use super::task::Call;

impl Call {
    /// Start the camera and microphone unless they run; `false` while they
    /// cannot (retried with a growing wait, each cause logged once).
    fn start_local(&mut self) -> bool {
        if self.local.is_some() {
            return true;
        }
        if !self.local_backoff.ready(Instant::now()) {
            return false;
        }
        let tx = self.device_tx.clone();
        let failed = move |input| {
            let kind = match input {
                Input::Camera => hal::DeviceKind::Camera,
                Input::Microphone => hal::DeviceKind::Microphone,
            };
            let _ = tx.send(hal::DeviceEvent::Lost(kind));
        };
        let own = self.p.screens.own.clone();
        match self.follower.start(&self.p.cfg, own, failed) {
            Ok(l) => {
                if self.local_backoff.succeeded() {
                    tracing::info!("the camera and microphone started after all");
                }
                self.local = Some(l);
                self.devices_changed();
                true
            }
            Err(e) => {
                let cause = format!("{e:#}");
                if self.local_backoff.failed(Instant::now(), &cause) {
                    tracing::error!(error = %cause, "cannot start the camera and microphone; trying again with a growing wait");
                }
                false
            }
        }
    }

    /// Start a fresh media session with `peer` (dropping any old one): an
    /// offer, or the answer to `offer_sdp`.
    pub(super) fn new_session(&mut self, peer: Uuid, offer_sdp: Option<&str>) {
        if !self.start_local() || !self.session_backoff.ready(Instant::now()) {
            return;
        }
        let Some(local) = &self.local else { return };
        let tile = self.sig.seat(peer).map_or(0, |(tile, _)| tile);
        let Some(pc) = self.peers.get_mut(&peer) else {
            return;
        };
        pc.count();
        pc.session = None;
        pc.seen = (0, 0);
        pc.seen_moving = 0;
        let plan = match offer_sdp {
            None => VideoPlan::Offer(pc.offer.clone()),
            Some(sdp) => VideoPlan::Answer(sdp::answer_format(
                &codec::preference(self.p.cfg.video_codec),
                sdp,
            )),
        };
        // An answer without video: nothing in common with the offer.
        pc.sound_only = plan == VideoPlan::Answer(None);
        let codec_name = match &plan {
            VideoPlan::Answer(Some(f)) => f.codec.name(),
            VideoPlan::Answer(None) => "none",
            VideoPlan::Offer(_) => "offered",
        };
        let events = PeerEvents {
            peer,
            tx: self.media_tx.clone(),
        };
        let you = self.sig.you();
        let tracks = self
            .recorder
            .as_mut()
            .map(|r| r.session(you, peer, tile))
            .unwrap_or_default();
        let started = MediaSession::start(
            local,
            &self.p.cfg,
            plan,
            self.sig.ice_servers(),
            self.p.screens.remote.clone(),
            tile,
            events,
            tracks,
        );
        match started {
            Ok(s) => {
                self.session_backoff.succeeded();
                s.set_video_kbps(pc.controller.kbps());
                if let Some(sdp) = offer_sdp
                    && let Err(e) = s.set_remote(SdpKind::Offer, sdp)
                {
                    tracing::warn!(error = %e, "cannot use the offer");
                }
                self.rec.count_session(codec_name);
                tracing::info!(peer = %peer, tile, codec = codec_name, offerer = offer_sdp.is_none(), session = self.rec.sessions, "media session started");
                pc.session = Some(s);
                pc.started = Instant::now();
            }
            Err(e) => {
                let cause = format!("{e:#}");
                if self.session_backoff.failed(Instant::now(), &cause) {
                    tracing::error!(peer = %peer, error = %cause, "cannot start the media session; trying again with a growing wait");
                }
            }
        }
    }

    pub(super) fn on_media(&mut self, peer: Uuid, e: MediaEvent) {
        let to = Some(peer);
        match e {
            MediaEvent::LocalSdp { kind, sdp } => self.send(ClientMessage::Sdp { kind, sdp, to }),
            MediaEvent::LocalIce { candidate, mline } => self.send(ClientMessage::Ice {
                candidate,
                sdp_mline_index: mline,
                to,
            }),
            MediaEvent::Latency(us) => self.rec.latency(us),
            MediaEvent::Answered { session, video } => self.on_answered(peer, &session, video),
            MediaEvent::Error(e) => {
                tracing::warn!(peer = %peer, error = e, "media error; the session will be replaced");
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.count();
                    p.session = None;
                }
            }
        }
    }

    /// The other side's answer is applied: send our video as it chose, or,
    /// when it refused video, try once more offering another codec alone,
    /// then go on with sound only.
    fn on_answered(&mut self, peer: Uuid, name: &str, video: VideoAnswer) {
        let Some(pc) = self.peers.get_mut(&peer) else {
            return;
        };
        // A session replaced since: its answer no longer matters.
        let Some(session) = pc.session.as_mut().filter(|s| s.name() == name) else {
            return;
        };
        match video {
            VideoAnswer::Chosen { format, send } => {
                self.rec.video_codec = format.codec.name().to_string();
                tracing::info!(peer = %peer, codec = format.codec.name(), send, "the answer chose a video codec");
                if send && let Err(e) = session.send_video(format) {
                    tracing::warn!(peer = %peer, error = %format!("{e:#}"), "cannot send video; the session will be replaced");
                    pc.count();
                    pc.session = None;
                }
            }
            VideoAnswer::Rejected => {
                let offered: Vec<&str> = pc.offer.iter().map(|c| c.name()).collect();
                tracing::warn!(peer = %peer, offered = ?offered, "the answer refused our video");
                // Another codec alone: VP8 (what every browser decodes),
                // or the next one when VP8 was all we offered.
                let all = codec::preference(self.p.cfg.video_codec);
                let other = all
                    .iter()
                    .copied()
                    .find(|c| *c == Codec::Vp8 && pc.offer != [Codec::Vp8])
                    .or_else(|| all.iter().copied().find(|c| !pc.offer.contains(c)));
                match other {
                    Some(c) if !pc.retried => {
                        pc.retried = true;
                        pc.offer = vec![c];
                        tracing::info!(peer = %peer, codec = c.name(), "offering video once more, with another codec");
                        self.new_session(peer, None);
                    }
                    _ => {
                        pc.sound_only = true;
                        self.rec.video_codec = "none".into();
                    }
                }
            }
        }
    }

    /// Every session first, then the capture, then the camera goes back.
    pub(super) fn close_media(&mut self) {
        for p in self.peers.values_mut() {
            p.count();
            p.session = None;
        }
        // The recording's last segments close before the pipeline stops.
        if let Some(r) = &self.recorder {
            r.close();
        }
        self.local = None;
        self.follower.stopped();
    }

    /// Say again which of our devices work, after a retry found one.
    pub(super) fn retry_devices(&mut self) {
        let changed = match &self.local {
            Some(l) => self.follower.retry(l),
            None => false,
        };
        if changed {
            self.devices_changed();
        }
    }
}
