//! [`TerminalUi`]: the window plus the translation between a [`TerminalView`] (or
//! an [`EnrolView`]) and the `Api` global, and between the `Api` callbacks
//! and [`UiInput`] (or [`EnrolInput`]).

use std::rc::Rc;

use slint::{ComponentHandle, Model};

use slint::{Image, Rgb8Pixel, SharedPixelBuffer};

use crate::view::{
    CallEnd, CallProblem, CallView, DeviceHealthText, DeviceKindText, EnrolInput, EnrolMessage,
    EnrolView, Lang, Message, PeerNotice, Quality, Screen, StatusText, TechnicianInput,
    TechnicianMessage, TechnicianScreen, TechnicianView, TerminalView, UiInput,
};
use crate::{
    Api, CallEndKind, CallProblemKind, CallQuality, DeviceHealthId, DeviceKindId, EnrolMessageKind,
    MessageKind, PeerNoticeKind, ScreenId, TechDevice, TechMessageKind, TerminalWindow, VideoTile,
    VisitStatus,
};

/// Digits in an enrolment code; `ui/enrol.slint` enables "Enrol" at this
/// many.
const ENROL_CODE_LEN: usize = 12;

/// The lobby window. Create it on the thread that runs the Slint event loop;
/// other threads reach it through `slint::Weak::upgrade_in_event_loop` on
/// [`TerminalUi::component`]`().as_weak()`.
pub struct TerminalUi {
    window: TerminalWindow,
    /// The tiled remote pictures (several visitors), shared with `Api`.
    tiles: Rc<slint::VecModel<VideoTile>>,
}

impl TerminalUi {
    /// Creates the window (not yet shown) with the platform Slint selects,
    /// or the one set with `slint::platform::set_platform`.
    pub fn new() -> Result<Self, slint::PlatformError> {
        let window = TerminalWindow::new()?;
        let tiles = Rc::new(slint::VecModel::<VideoTile>::default());
        window
            .global::<Api>()
            .set_call_tiles(slint::ModelRc::from(tiles.clone()));
        Ok(Self { window, tiles })
    }

    /// Shows `v`: sets every `Api` property and selects the language.
    /// Unchanged values cost nothing, so calling this on every clock tick is
    /// fine.
    pub fn show(&self, v: &TerminalView) {
        let api = self.window.global::<Api>();
        api.set_screen(match v.screen {
            Screen::Attract => ScreenId::Attract,
            Screen::PinEntry => ScreenId::PinEntry,
            Screen::Result => ScreenId::Result,
            Screen::Waiting => ScreenId::Waiting,
            Screen::InCall => ScreenId::InCall,
            Screen::CallEnded => ScreenId::CallEnded,
            Screen::UnitSignIn => ScreenId::UnitSignIn,
            Screen::UnitVisits => ScreenId::UnitVisits,
        });
        api.set_facility_name(v.facility_name.as_str().into());
        api.set_clock(v.clock.as_str().into());
        api.set_pin_length(v.pin_length.into());
        api.set_digits_entered(v.digits_entered.into());
        api.set_offline(v.offline);

        let p = MessageParams::from(&v.message);
        api.set_message(p.kind);
        api.set_message_count(p.count);
        api.set_message_start(p.start.into());
        api.set_message_opens(p.opens.into());
        api.set_message_reason(p.reason.into());
        api.set_message_person(p.person.into());
        api.set_visit_status(p.status);

        self.show_call(&v.call);
        crate::unit_ui::show(&self.window, &v.unit);
        self.select_language(v.lang);
    }

    /// Sets the `call-*` properties from `c`.
    fn show_call(&self, c: &CallView) {
        let api = self.window.global::<Api>();
        api.set_call_peer(c.peer.as_str().into());
        api.set_call_starts_at(c.starts_at.as_str().into());
        api.set_call_ends_at(c.ends_at.as_str().into());
        api.set_call_has_status(c.status.is_some());
        api.set_call_status(c.status.map_or(VisitStatus::Scheduled, visit_status));
        api.set_call_can_join(c.can_join);
        api.set_call_connecting(c.connecting);
        api.set_call_minutes_left(i32::try_from(c.minutes_left).unwrap_or(i32::MAX));
        // 0 is "no banner"; a warning of 0 minutes would say nothing useful.
        api.set_call_warning(
            c.warning
                .map_or(0, |m| i32::try_from(m).unwrap_or(i32::MAX)),
        );
        api.set_call_confirm_end(c.confirm_end);
        api.set_call_quality(match c.quality {
            Quality::Good => CallQuality::Good,
            Quality::Fair => CallQuality::Fair,
            Quality::Poor => CallQuality::Poor,
            Quality::Reconnecting => CallQuality::Reconnecting,
        });
        let (ended, reason) = match &c.ended {
            None => (CallEndKind::None, ""),
            Some(CallEnd::TimeUp) => (CallEndKind::TimeUp, ""),
            // The sentence adds its own full stop.
            Some(CallEnd::ByStaff { reason }) => {
                (CallEndKind::ByStaff, reason.trim().trim_end_matches('.'))
            }
            Some(CallEnd::HungUpHere) => (CallEndKind::HungUpHere, ""),
            Some(CallEnd::HungUpOther) => (CallEndKind::HungUpOther, ""),
            Some(CallEnd::Failed) => (CallEndKind::Failed, ""),
        };
        api.set_call_ended(ended);
        api.set_call_end_reason(reason.into());
        self.set_tiles(&c.tiles);
        api.set_call_peer_notice(match c.peer_notice {
            None => PeerNoticeKind::None,
            Some(PeerNotice::CameraUnavailable) => PeerNoticeKind::CameraUnavailable,
            Some(PeerNotice::MicrophoneUnavailable) => PeerNoticeKind::MicrophoneUnavailable,
        });
        api.set_call_problem(match c.problem {
            None => CallProblemKind::None,
            Some(CallProblem::NoCommonVideo) => CallProblemKind::NoCommonVideo,
            Some(CallProblem::NetworkBlocked) => CallProblemKind::NetworkBlocked,
            Some(CallProblem::NoPicture) => CallProblemKind::NoPicture,
        });
    }

    /// Shows `frame` as the other side's picture on the in-call screen,
    /// scaled to fit. Call it on the event loop's thread (from another, via
    /// `upgrade_in_event_loop`), once per decoded frame. The buffer is
    /// reference-counted, not copied; the window redraws with the new frame
    /// on its next repaint.
    pub fn set_remote_frame(&self, frame: SharedPixelBuffer<Rgb8Pixel>) {
        self.window
            .global::<Api>()
            .set_remote_video(Image::from_rgb8(frame));
    }

    /// Shows `frame` as remote picture `tile` (0 first) when several are
    /// tiled; tile 0 is also the one full-screen picture.
    pub fn set_tile_frame(&self, tile: usize, frame: SharedPixelBuffer<Rgb8Pixel>) {
        let image = Image::from_rgb8(frame);
        if tile == 0 {
            self.window.global::<Api>().set_remote_video(image.clone());
        }
        if let Some(mut t) = self.tiles.row_data(tile) {
            t.video = image;
            self.tiles.set_row_data(tile, t);
        }
    }

    /// Names the tiles (`names[i]` for tile i); pictures already shown stay.
    fn set_tiles(&self, names: &[String]) {
        let names = if names.len() > 1 { names } else { &[] };
        while self.tiles.row_count() > names.len() {
            self.tiles.remove(self.tiles.row_count() - 1);
        }
        for (i, name) in names.iter().enumerate() {
            match self.tiles.row_data(i) {
                Some(t) if t.name.as_str() == name => {}
                Some(mut t) => {
                    t.name = name.as_str().into();
                    self.tiles.set_row_data(i, t);
                }
                None => self.tiles.push(VideoTile {
                    name: name.as_str().into(),
                    video: Image::default(),
                }),
            }
        }
    }

    /// Shows `frame` as the visitor's own picture, small in a corner.
    pub fn set_self_frame(&self, frame: SharedPixelBuffer<Rgb8Pixel>) {
        self.window
            .global::<Api>()
            .set_self_video(Image::from_rgb8(frame));
    }

    /// Drops both pictures: the in-call screen shows dark placeholders until
    /// the next frames. Call it when a call ends, so the next call never
    /// starts with the last one's picture.
    pub fn clear_video(&self) {
        let api = self.window.global::<Api>();
        api.set_remote_video(Image::default());
        api.set_self_video(Image::default());
        for i in 0..self.tiles.row_count() {
            if let Some(mut t) = self.tiles.row_data(i) {
                t.video = Image::default();
                self.tiles.set_row_data(i, t);
            }
        }
    }

    /// Shows the technician's enrolment screen for `v`, in `v.lang`. The
    /// lobby's own properties are left alone, so a later [`TerminalUi::show`]
    /// brings the lobby back as it was.
    pub fn show_enrolment(&self, v: &EnrolView) {
        let api = self.window.global::<Api>();
        api.set_screen(ScreenId::Enrolment);
        let (shown, typed) = grouped_code(&v.code);
        api.set_enrol_code(shown.into());
        api.set_enrol_digits(typed as i32);
        api.set_enrol_role(v.role_label.as_str().into());
        api.set_enrol_server_url(v.server_url.as_str().into());
        api.set_enrol_message(match v.message {
            EnrolMessage::None => EnrolMessageKind::None,
            EnrolMessage::Invalid => EnrolMessageKind::Invalid,
            EnrolMessage::Expired => EnrolMessageKind::Expired,
            EnrolMessage::Unreachable => EnrolMessageKind::Unreachable,
            EnrolMessage::WrongRole => EnrolMessageKind::WrongRole,
            EnrolMessage::Working => EnrolMessageKind::Working,
        });
        self.select_language(v.lang);
    }

    /// Shows a technician screen for `v`, in `v.lang`. Like the enrolment
    /// screen, it leaves the lobby's properties alone: a later
    /// [`TerminalUi::show`] brings the lobby back as it was.
    pub fn show_technician(&self, v: &TechnicianView) {
        let api = self.window.global::<Api>();
        api.set_screen(match v.screen {
            TechnicianScreen::Pin => ScreenId::TechnicianPin,
            TechnicianScreen::Diagnostics => ScreenId::Technician,
        });
        api.set_tech_digits(v.digits_entered.into());
        let (kind, count) = match v.message {
            TechnicianMessage::None => (TechMessageKind::None, 0),
            TechnicianMessage::WrongPin { attempts_left } => {
                (TechMessageKind::WrongPin, attempts_left.into())
            }
            TechnicianMessage::Locked { seconds_left } => (
                TechMessageKind::Locked,
                i32::try_from(seconds_left).unwrap_or(i32::MAX),
            ),
            TechnicianMessage::NotConfigured => (TechMessageKind::NotConfigured, 0),
        };
        api.set_tech_message(kind);
        api.set_tech_message_count(count);
        let rows: Vec<TechDevice> = v
            .devices
            .iter()
            .map(|d| TechDevice {
                kind: match d.kind {
                    DeviceKindText::Camera => DeviceKindId::Camera,
                    DeviceKindText::Microphone => DeviceKindId::Microphone,
                    DeviceKindText::Speaker => DeviceKindId::Speaker,
                    DeviceKindText::Touchscreen => DeviceKindId::Touchscreen,
                },
                health: match d.health {
                    DeviceHealthText::Ok => DeviceHealthId::Ok,
                    DeviceHealthText::Missing => DeviceHealthId::Missing,
                    DeviceHealthText::Error => DeviceHealthId::Error,
                },
                detail: d.detail.as_str().into(),
            })
            .collect();
        // A new model only when a row changed: replacing it rebuilds the list.
        let current = api.get_tech_devices();
        if current.row_count() != rows.len()
            || rows
                .iter()
                .enumerate()
                .any(|(i, r)| current.row_data(i).as_ref() != Some(r))
        {
            api.set_tech_devices(slint::ModelRc::new(slint::VecModel::from(rows)));
        }
        api.set_tech_camera_error(v.camera_error.as_str().into());
        api.set_tech_level(v.level.clamp(0.0, 1.0));
        api.set_tech_level_text(
            v.level_db
                .map_or(String::new(), |db| format!("{db} dB"))
                .into(),
        );
        api.set_tech_microphone_error(v.microphone_error.as_str().into());
        api.set_tech_tone_playing(v.tone_playing);
        api.set_tech_speaker_error(v.speaker_error.as_str().into());
        api.set_tech_online(v.online);
        api.set_tech_media_missing(v.media_missing.as_str().into());
        api.set_tech_server_url(v.server_url.as_str().into());
        let secs = |s: Option<u32>| s.map_or(-1, |s| i32::try_from(s).unwrap_or(i32::MAX));
        api.set_tech_last_sync(secs(v.last_sync_secs));
        api.set_tech_last_heartbeat(secs(v.last_heartbeat_secs));
        api.set_tech_version(v.software_version.as_str().into());
        api.set_tech_terminal_id(v.terminal_id.as_str().into());
        api.set_tech_location(v.location.as_str().into());
        api.set_tech_closes_in(i32::try_from(v.closes_in).unwrap_or(i32::MAX));
        self.select_language(v.lang);
    }

    /// Shows `frame` as the technician's live self-view.
    pub fn set_technician_frame(&self, frame: SharedPixelBuffer<Rgb8Pixel>) {
        self.window
            .global::<Api>()
            .set_tech_video(Image::from_rgb8(frame));
    }

    /// Drops the self-view picture (the camera was stopped).
    pub fn clear_technician_frame(&self) {
        self.window.global::<Api>().set_tech_video(Image::default());
    }

    /// Calls `f` for every touch on the technician screens and on the
    /// attract screen's hidden corner; kept apart from the visitors' input.
    pub fn on_technician_input(&self, f: impl Fn(TechnicianInput) + 'static) {
        let f: Rc<dyn Fn(TechnicianInput)> = Rc::new(f);
        let api = self.window.global::<Api>();
        let send = |input: TechnicianInput| {
            let f = f.clone();
            move || f(input)
        };
        api.on_tech_corner(send(TechnicianInput::CornerTap));
        api.on_tech_backspace(send(TechnicianInput::Backspace));
        api.on_tech_submit(send(TechnicianInput::Submit));
        api.on_tech_cancel(send(TechnicianInput::Cancel));
        api.on_tech_close(send(TechnicianInput::Close));
        api.on_tech_tone(send(TechnicianInput::Tone));
        api.on_tech_digit(move |d| {
            if let Ok(d @ 0..=9) = u8::try_from(d) {
                f(TechnicianInput::Digit(d));
            }
        });
    }

    fn select_language(&self, lang: Lang) {
        let code = lang_code(lang);
        self.window.global::<Api>().set_language(code.into());
        // English is the source language ("" selects the original strings).
        // This fails only if the Spanish catalogue was not bundled, which
        // the screenshot test catches; the UI then stays in English.
        let _ = slint::select_bundled_translation(if lang == Lang::En { "" } else { code });
    }

    /// Calls `f` for every touch that means something.
    pub fn on_input(&self, f: impl Fn(UiInput) + 'static) {
        let f: Rc<dyn Fn(UiInput)> = Rc::new(f);
        let api = self.window.global::<Api>();
        let send = |input: UiInput| {
            let f = f.clone();
            move || f(input)
        };
        api.on_touch_start(send(UiInput::TouchStart));
        api.on_backspace(send(UiInput::Backspace));
        api.on_submit(send(UiInput::Submit));
        api.on_cancel(send(UiInput::Cancel));
        api.on_join(send(UiInput::Join));
        api.on_end_call(send(UiInput::EndCall));
        api.on_confirm_end(send(UiInput::ConfirmEnd));
        api.on_keep_call(send(UiInput::KeepCall));
        crate::unit_ui::on_input(&self.window, f.clone());
        let g = f.clone();
        api.on_digit(move |d| {
            // The pad only has keys 0-9; anything else would be a .slint bug.
            if let Ok(d @ 0..=9) = u8::try_from(d) {
                g(UiInput::Digit(d));
            }
        });
        api.on_set_language(move |code| {
            f(UiInput::Language(if code == "es" {
                Lang::Es
            } else {
                Lang::En
            }))
        });
    }

    /// Calls `f` for every key pressed on the enrolment screen. Kept apart
    /// from [`TerminalUi::on_input`] so that a technician's digit can never
    /// reach the check-in state machine, nor a visitor's the enrolment.
    pub fn on_enrol_input(&self, f: impl Fn(EnrolInput) + 'static) {
        let f: Rc<dyn Fn(EnrolInput)> = Rc::new(f);
        let api = self.window.global::<Api>();
        let g = f.clone();
        api.on_enrol_backspace(move || g(EnrolInput::Backspace));
        let g = f.clone();
        api.on_enrol_submit(move || g(EnrolInput::Submit));
        api.on_enrol_digit(move |d| {
            if let Ok(d @ 0..=9) = u8::try_from(d) {
                f(EnrolInput::Digit(d));
            }
        });
    }

    /// The Slint window, e.g. to set its size or take a snapshot.
    pub fn window(&self) -> &slint::Window {
        self.window.window()
    }

    /// The generated component, for `as_weak()` and UI tests.
    pub fn component(&self) -> &TerminalWindow {
        &self.window
    }

    /// Shows the window and runs the Slint event loop until it quits.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        self.window.run()
    }
}

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Es => "es",
    }
}

fn visit_status(status: StatusText) -> VisitStatus {
    match status {
        StatusText::Scheduled => VisitStatus::Scheduled,
        StatusText::Pending => VisitStatus::Pending,
        StatusText::Ready => VisitStatus::Ready,
        StatusText::InProgress => VisitStatus::InProgress,
    }
}

/// `code`'s digits (at most [`ENROL_CODE_LEN`]) in groups of four, with `_`
/// for each digit still to type ("4821 09__ ____"), and how many were typed.
fn grouped_code(code: &str) -> (String, usize) {
    let digits: Vec<char> = code
        .chars()
        .filter(char::is_ascii_digit)
        .take(ENROL_CODE_LEN)
        .collect();
    let mut shown = String::with_capacity(ENROL_CODE_LEN + 2);
    for i in 0..ENROL_CODE_LEN {
        if i > 0 && i % 4 == 0 {
            shown.push(' ');
        }
        shown.push(digits.get(i).copied().unwrap_or('_'));
    }
    (shown, digits.len())
}

/// A [`Message`] flattened into the `Api`'s `message-*` properties; fields
/// a message does not use stay empty.
struct MessageParams<'a> {
    kind: MessageKind,
    count: i32,
    start: &'a str,
    opens: &'a str,
    reason: &'a str,
    person: &'a str,
    status: VisitStatus,
}

impl<'a> From<&'a Message> for MessageParams<'a> {
    fn from(m: &'a Message) -> Self {
        let none = MessageParams {
            kind: MessageKind::None,
            count: 0,
            start: "",
            opens: "",
            reason: "",
            person: "",
            status: VisitStatus::Scheduled,
        };
        match m {
            Message::None => none,
            Message::NotRecognized { attempts_left } => MessageParams {
                kind: MessageKind::NotRecognized,
                count: (*attempts_left).into(),
                ..none
            },
            Message::Locked { seconds_left } => MessageParams {
                kind: MessageKind::Locked,
                count: i32::try_from(*seconds_left).unwrap_or(i32::MAX),
                ..none
            },
            Message::TooEarly { start, opens } => MessageParams {
                kind: MessageKind::TooEarly,
                start,
                opens,
                ..none
            },
            Message::Ended => MessageParams {
                kind: MessageKind::Ended,
                ..none
            },
            Message::Cancelled => MessageParams {
                kind: MessageKind::Cancelled,
                ..none
            },
            Message::Terminated { reason } => MessageParams {
                kind: MessageKind::Terminated,
                // The sentence adds its own full stop.
                reason: reason.trim().trim_end_matches('.'),
                ..none
            },
            Message::CheckedIn { person, status } => MessageParams {
                kind: MessageKind::CheckedIn,
                person,
                status: visit_status(*status),
                ..none
            },
        }
    }
}
