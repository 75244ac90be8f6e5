//! What the screen shows around a call, as a pure state machine: the
//! waiting screen (status, "Join"), the call (minutes left, warnings, the
//! red X and its confirmation, the quality mark) and the ended screen.
//! Inputs are touches, [`CallEvent`]s and the clock; outputs are commands
//! for the call.

use chrono::{DateTime, Duration, Utc};
use protocol::VisitStatus;
use protocol::signal::{EndReason, MediaDevice, MediaProblem, Side};
use ui::{CallEnd, CallProblem, CallView, PeerNotice, Quality, Screen, StatusText, UiInput};

use super::{CallCommand, CallEvent};
use crate::schedule::JoinWindow;

/// The ended screen goes back to the attract screen by itself after this.
pub const ENDED_SCREEN: Duration = Duration::seconds(15);
/// The 5-minute banner shows this long (the 1-minute one stays).
pub const WARNING_SHOWN: Duration = Duration::seconds(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    InCall,
    Ended,
}

/// What the flow asks of the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowEffect {
    Call(CallCommand),
    /// Close the call and go back to the attract screen.
    Leave,
}

#[derive(Debug, Clone)]
pub struct CallFlow {
    side: Side,
    peer: String,
    /// When this side may join; it closes at the visit's end.
    join: JoinWindow,
    starts_at: String,
    ends_at: String,
    phase: Phase,
    status: Option<VisitStatus>,
    connected: bool,
    join_requested: bool,
    flowing: bool,
    quality: Quality,
    warning: Option<(u32, DateTime<Utc>)>,
    confirm_end: bool,
    ended: Option<(CallEnd, DateTime<Utc>)>,
    /// The remote pictures' names, by tile (several visitors of a remote visit).
    tiles: Vec<String>,
    /// The other side's devices that do not work: camera, microphone.
    peer_lost: [bool; 2],
    /// Why media does not flow, or carries no picture.
    problem: Option<MediaProblem>,
    /// A confidential visit (not recorded; the screens say so).
    confidential: bool,
}

impl CallFlow {
    /// `join` is this side's window from the schedule
    /// ([`crate::schedule::VisitEntry::join_window`]), whose close is the
    /// visit's end; `starts_at`/`ends_at` are the local times as shown
    /// ("10:30").
    pub fn new(
        side: Side,
        peer: String,
        join: JoinWindow,
        starts_at: String,
        ends_at: String,
    ) -> CallFlow {
        CallFlow {
            side,
            peer,
            join,
            starts_at,
            ends_at,
            phase: Phase::Waiting,
            status: None,
            connected: false,
            join_requested: false,
            flowing: false,
            quality: Quality::Good,
            warning: None,
            confirm_end: false,
            ended: None,
            tiles: Vec::new(),
            peer_lost: [false; 2],
            problem: None,
            confidential: false,
        }
    }

    /// The visit's end, where the join window closes.
    fn end(&self) -> DateTime<Utc> {
        self.join.closes
    }

    fn can_join(&self, now: DateTime<Utc>) -> bool {
        let status_ok = match self.side {
            // The person starts the visit.
            Side::Person => true,
            // The visitor joins once the person is there ("Join when Ready").
            Side::Visitor => matches!(
                self.status,
                Some(VisitStatus::Ready | VisitStatus::InProgress)
            ),
        };
        self.phase == Phase::Waiting
            && self.connected
            && !self.join_requested
            && status_ok
            && self.join.contains(now)
    }

    fn end_with(&mut self, why: CallEnd, now: DateTime<Utc>) {
        self.phase = Phase::Ended;
        self.confirm_end = false;
        self.ended = Some((why, now));
    }

    pub fn handle_ui(&mut self, input: UiInput, now: DateTime<Utc>) -> Vec<FlowEffect> {
        match (self.phase, input) {
            (Phase::Waiting, UiInput::Join) if self.can_join(now) => {
                self.join_requested = true;
                vec![FlowEffect::Call(CallCommand::Join)]
            }
            (Phase::Waiting, UiInput::Cancel) => vec![FlowEffect::Leave],
            (Phase::InCall, UiInput::EndCall) => {
                self.confirm_end = true;
                vec![]
            }
            (Phase::InCall, UiInput::KeepCall) => {
                self.confirm_end = false;
                vec![]
            }
            (Phase::InCall, UiInput::ConfirmEnd) if self.confirm_end => {
                self.end_with(CallEnd::HungUpHere, now);
                vec![FlowEffect::Call(CallCommand::HangUp)]
            }
            (Phase::Ended, UiInput::Cancel) => vec![FlowEffect::Leave],
            _ => vec![],
        }
    }

    pub fn handle_event(&mut self, e: CallEvent, now: DateTime<Utc>) {
        match e {
            CallEvent::Connected { status, .. } => {
                self.connected = true;
                self.status = Some(status);
            }
            CallEvent::ConnectionLost => {
                self.connected = false;
                if self.phase == Phase::InCall && !self.flowing {
                    self.quality = Quality::Reconnecting;
                }
            }
            CallEvent::Status(s) => self.status = Some(s),
            CallEvent::Joined => {
                if self.phase == Phase::Waiting {
                    self.phase = Phase::InCall;
                }
            }
            CallEvent::JoinRefused(_) => self.join_requested = false,
            CallEvent::PeerJoined => self.peer_lost = [false; 2],
            CallEvent::PeerDevice { device, available } => {
                let i = match device {
                    MediaDevice::Camera => 0,
                    MediaDevice::Microphone => 1,
                };
                self.peer_lost[i] = !available;
            }
            CallEvent::Tiles(t) => self.tiles = t,
            CallEvent::Problem(p) => self.problem = p,
            CallEvent::PeerLeft => {
                if self.phase == Phase::InCall {
                    self.quality = Quality::Reconnecting;
                }
            }
            CallEvent::Flowing => {
                self.flowing = true;
                self.quality = Quality::Good;
            }
            CallEvent::Interrupted => {
                self.flowing = false;
                self.quality = Quality::Reconnecting;
            }
            CallEvent::Quality(q) => {
                if self.flowing {
                    self.quality = q;
                }
            }
            CallEvent::Warning(m) => self.warning = Some((m, now)),
            CallEvent::Ended(reason) => {
                if self.phase != Phase::Ended {
                    let why = match reason {
                        EndReason::TimeExpired => CallEnd::TimeUp,
                        EndReason::Terminated { reason } => CallEnd::ByStaff { reason },
                        EndReason::HungUp { by } if by == self.side => CallEnd::HungUpHere,
                        EndReason::HungUp { .. } => CallEnd::HungUpOther,
                    };
                    self.end_with(why, now);
                }
            }
            CallEvent::Failed(_) => {
                if self.phase != Phase::Ended {
                    self.end_with(CallEnd::Failed, now);
                }
            }
        }
    }

    /// Time passes: the ended screen closes itself, the end passes unnoticed
    /// by the server (offline) still ends the call on screen.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<FlowEffect> {
        match self.phase {
            Phase::Ended => match &self.ended {
                Some((_, at)) if now - *at >= ENDED_SCREEN => vec![FlowEffect::Leave],
                _ => vec![],
            },
            // The server ends calls; if it cannot be reached, the clock does.
            _ if now >= self.end() + Duration::seconds(5) => {
                self.end_with(CallEnd::TimeUp, now);
                vec![FlowEffect::Call(CallCommand::HangUp)]
            }
            _ => vec![],
        }
    }

    pub fn screen(&self) -> Screen {
        match self.phase {
            Phase::Waiting => Screen::Waiting,
            Phase::InCall => Screen::InCall,
            Phase::Ended => Screen::CallEnded,
        }
    }

    /// A confidential visit: the screens say it is not recorded.
    pub fn confidential(mut self, yes: bool) -> CallFlow {
        self.confidential = yes;
        self
    }

    pub fn view(&self, now: DateTime<Utc>) -> CallView {
        let left = (self.end() - now).num_seconds().max(0);
        CallView {
            confidential: self.confidential,
            peer: self.peer.clone(),
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
            status: self.status.and_then(|s| match s {
                VisitStatus::Scheduled => Some(StatusText::Scheduled),
                VisitStatus::Pending => Some(StatusText::Pending),
                VisitStatus::Ready => Some(StatusText::Ready),
                VisitStatus::InProgress => Some(StatusText::InProgress),
                _ => None,
            }),
            can_join: self.can_join(now),
            connecting: (self.phase == Phase::Waiting && self.join_requested)
                || (self.phase == Phase::InCall
                    && !self.flowing
                    && self.quality != Quality::Reconnecting),
            minutes_left: ((left + 59) / 60) as u32,
            warning: self
                .warning
                .and_then(|(m, at)| (m <= 1 || now - at < WARNING_SHOWN).then_some(m)),
            confirm_end: self.confirm_end,
            quality: self.quality,
            ended: self.ended.as_ref().map(|(e, _)| e.clone()),
            // Silence is the one loss the other side cannot see for itself.
            peer_notice: match self.peer_lost {
                [_, true] => Some(PeerNotice::MicrophoneUnavailable),
                [true, false] => Some(PeerNotice::CameraUnavailable),
                [false, false] => None,
            },
            tiles: self.tiles.clone(),
            problem: self.problem.map(|p| match p {
                MediaProblem::NoCommonVideo => CallProblem::NoCommonVideo,
                MediaProblem::NetworkBlocked => CallProblem::NetworkBlocked,
                MediaProblem::NoPicture => CallProblem::NoPicture,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 16, h, m, s).unwrap()
    }

    /// A 10:30-11:00 visit whose side may join `early` minutes before.
    fn window(early: i64) -> JoinWindow {
        JoinWindow {
            opens: t(10, 30, 0) - Duration::minutes(early),
            closes: t(11, 0, 0),
        }
    }

    fn lobby() -> CallFlow {
        CallFlow::new(
            Side::Visitor,
            "J. S.".into(),
            window(1),
            "10:30".into(),
            "11:00".into(),
        )
    }

    #[test]
    fn the_visitor_may_join_only_when_ready_and_from_one_minute_before() {
        let mut f = lobby();
        f.handle_event(
            CallEvent::Connected {
                side: Side::Visitor,
                status: VisitStatus::Pending,
            },
            t(10, 28, 0),
        );
        assert!(!f.view(t(10, 29, 30)).can_join, "not Ready yet");
        f.handle_event(CallEvent::Status(VisitStatus::Ready), t(10, 28, 30));
        assert!(!f.view(t(10, 28, 59)).can_join, "too early");
        assert!(f.handle_ui(UiInput::Join, t(10, 28, 59)).is_empty());
        assert!(f.view(t(10, 29, 0)).can_join);
        assert_eq!(
            f.handle_ui(UiInput::Join, t(10, 29, 0)),
            vec![FlowEffect::Call(CallCommand::Join)]
        );
        assert!(f.view(t(10, 29, 0)).connecting);
        f.handle_event(CallEvent::Joined, t(10, 29, 1));
        assert_eq!(f.screen(), Screen::InCall);
        f.handle_event(CallEvent::Flowing, t(10, 29, 2));
        let v = f.view(t(10, 29, 2));
        assert!(!v.connecting);
        assert_eq!(v.minutes_left, 31);
    }

    #[test]
    fn the_person_may_join_two_minutes_early_without_waiting_for_anyone() {
        let mut f = CallFlow::new(
            Side::Person,
            "Maria G.".into(),
            window(2),
            "10:30".into(),
            "11:00".into(),
        );
        f.handle_event(
            CallEvent::Connected {
                side: Side::Person,
                status: VisitStatus::Scheduled,
            },
            t(10, 27, 0),
        );
        assert!(!f.view(t(10, 27, 59)).can_join);
        assert!(f.view(t(10, 28, 0)).can_join);
    }

    #[test]
    fn the_red_x_asks_first_then_hangs_up() {
        let mut f = lobby();
        f.handle_event(
            CallEvent::Connected {
                side: Side::Visitor,
                status: VisitStatus::Ready,
            },
            t(10, 30, 0),
        );
        f.handle_ui(UiInput::Join, t(10, 30, 0));
        f.handle_event(CallEvent::Joined, t(10, 30, 0));
        assert!(
            f.handle_ui(UiInput::ConfirmEnd, t(10, 40, 0)).is_empty(),
            "no confirmation asked yet"
        );
        f.handle_ui(UiInput::EndCall, t(10, 40, 0));
        assert!(f.view(t(10, 40, 0)).confirm_end);
        f.handle_ui(UiInput::KeepCall, t(10, 40, 1));
        assert_eq!(f.screen(), Screen::InCall);
        f.handle_ui(UiInput::EndCall, t(10, 40, 2));
        assert_eq!(
            f.handle_ui(UiInput::ConfirmEnd, t(10, 40, 3)),
            vec![FlowEffect::Call(CallCommand::HangUp)]
        );
        assert_eq!(f.view(t(10, 40, 3)).ended, Some(CallEnd::HungUpHere));
        assert!(f.tick(t(10, 40, 17)).is_empty());
        assert_eq!(f.tick(t(10, 40, 18)), vec![FlowEffect::Leave]);
    }

    #[test]
    fn warnings_staff_termination_and_the_clock() {
        let mut f = lobby();
        f.handle_event(CallEvent::Joined, t(10, 30, 0));
        f.handle_event(CallEvent::Warning(5), t(10, 55, 0));
        assert_eq!(f.view(t(10, 55, 10)).warning, Some(5));
        assert_eq!(
            f.view(t(10, 55, 20)).warning,
            None,
            "the 5-minute banner goes"
        );
        f.handle_event(CallEvent::Warning(1), t(10, 59, 0));
        assert_eq!(
            f.view(t(10, 59, 50)).warning,
            Some(1),
            "the 1-minute one stays"
        );
        f.handle_event(
            CallEvent::Ended(EndReason::Terminated {
                reason: "contraband".into(),
            }),
            t(10, 59, 55),
        );
        assert_eq!(
            f.view(t(10, 59, 55)).ended,
            Some(CallEnd::ByStaff {
                reason: "contraband".into()
            })
        );
        // Offline at the end: the clock ends the call on screen.
        let mut g = lobby();
        g.handle_event(CallEvent::Joined, t(10, 30, 0));
        assert!(g.tick(t(11, 0, 4)).is_empty());
        assert_eq!(
            g.tick(t(11, 0, 5)),
            vec![FlowEffect::Call(CallCommand::HangUp)]
        );
        assert_eq!(g.screen(), Screen::CallEnded);
    }

    #[test]
    fn an_interruption_shows_reconnecting_until_media_returns() {
        let mut f = lobby();
        f.handle_event(CallEvent::Joined, t(10, 30, 0));
        f.handle_event(CallEvent::Flowing, t(10, 30, 1));
        f.handle_event(CallEvent::Interrupted, t(10, 35, 0));
        assert_eq!(f.view(t(10, 35, 0)).quality, Quality::Reconnecting);
        f.handle_event(CallEvent::Flowing, t(10, 35, 6));
        assert_eq!(f.view(t(10, 35, 6)).quality, Quality::Good);
    }

    #[test]
    fn the_other_sides_lost_devices_are_noticed_until_they_are_back() {
        let mut f = lobby();
        f.handle_event(CallEvent::Joined, t(10, 30, 0));
        let lost = |d| CallEvent::PeerDevice {
            device: d,
            available: false,
        };
        let back = |d| CallEvent::PeerDevice {
            device: d,
            available: true,
        };
        assert_eq!(f.view(t(10, 30, 1)).peer_notice, None);
        f.handle_event(lost(MediaDevice::Camera), t(10, 31, 0));
        assert_eq!(
            f.view(t(10, 31, 0)).peer_notice,
            Some(PeerNotice::CameraUnavailable)
        );
        f.handle_event(lost(MediaDevice::Microphone), t(10, 31, 1));
        assert_eq!(
            f.view(t(10, 31, 1)).peer_notice,
            Some(PeerNotice::MicrophoneUnavailable)
        );
        f.handle_event(back(MediaDevice::Microphone), t(10, 31, 2));
        f.handle_event(back(MediaDevice::Camera), t(10, 31, 3));
        assert_eq!(f.view(t(10, 31, 3)).peer_notice, None);
        // A peer that rejoins starts with working devices until it says otherwise.
        f.handle_event(lost(MediaDevice::Microphone), t(10, 32, 0));
        f.handle_event(CallEvent::PeerJoined, t(10, 32, 5));
        assert_eq!(f.view(t(10, 32, 5)).peer_notice, None);
    }
}
