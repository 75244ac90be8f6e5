//! The lobby screen as plain data: what `kiosk-app`'s check-in state machine
//! decides to show, and what a touch means. No Slint types here, so the
//! state machine and its tests never depend on the toolkit.

/// Interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Es,
}

/// Which screen is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    /// Facility name, clock, "Touch to start", language choice.
    #[default]
    Attract,
    /// The PIN pad (with an inline message for a wrong PIN or a lockout).
    PinEntry,
    /// The outcome of a PIN: checked in, too early, ended, cancelled...
    Result,
    /// Before the call: who, when, the status, and "Join" once it may start.
    Waiting,
    /// The call: remote video full screen, self-view, minutes left, red X.
    InCall,
    /// "Visit ended" / "Visit ended by staff: reason", then back to attract.
    CallEnded,
    /// Housing unit: ID number, then PIN, on the keypad ([`crate::UnitView`]).
    UnitSignIn,
    /// Housing unit: the signed-in person's visits of the day, "Sign out".
    UnitVisits,
}

/// How the call is doing, as a small mark on the in-call screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quality {
    #[default]
    Good,
    Fair,
    Poor,
    /// No media for a moment: "Reconnecting…" over the frozen picture.
    Reconnecting,
}

/// Why the call screen closed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CallEnd {
    /// "Visit ended. Time is up."
    #[default]
    TimeUp,
    /// "Visit ended by staff: <reason>."
    ByStaff { reason: String },
    /// "You ended the visit."
    HungUpHere,
    /// "<name> ended the visit."
    HungUpOther,
    /// "The visit could not continue." (the server went away for good)
    Failed,
}

/// The waiting, in-call and ended screens. The video itself is not here: it
/// goes to the window as frames (`TerminalUi::set_remote_frame`, `set_self_frame`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallView {
    /// The other side as shown: "J. S." in the lobby, "Maria G." at a unit.
    pub peer: String,
    /// Scheduled start and end, local, e.g. "10:30" and "11:00".
    pub starts_at: String,
    pub ends_at: String,
    /// The visit status (waiting screen).
    pub status: Option<StatusText>,
    /// "Join" is offered (the waiting screen, once the visit may start).
    pub can_join: bool,
    /// Joined, the picture has not arrived yet: "Connecting…".
    pub connecting: bool,
    /// Whole minutes left (in-call), rounded up.
    pub minutes_left: u32,
    /// A banner: "5 minutes left" / "1 minute left".
    pub warning: Option<u32>,
    /// The red X was touched: "End the visit?" with "End visit" / "Keep talking".
    pub confirm_end: bool,
    pub quality: Quality,
    /// Set on the CallEnded screen.
    pub ended: Option<CallEnd>,
    /// The other side's microphone or camera is not working (a notice).
    pub peer_notice: Option<PeerNotice>,
    /// The remote pictures, by tile, each with its name ("Maria S."; empty
    /// if none): one fills the screen, two sit side by side, three or more
    /// make a grid. Empty: the one remote picture, unnamed.
    pub tiles: Vec<String>,
    /// Why there is no picture or no media (instead of "Connecting…", or
    /// a notice over a call with sound only).
    pub problem: Option<CallProblem>,
    /// A confidential visit: "This visit is confidential: it is not
    /// recorded or monitored." Otherwise every call screen says "This
    /// visit is recorded and may be monitored."
    pub confidential: bool,
}

/// Why a call has no picture or no media, as a family is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallProblem {
    /// "Sound only: the two sides have no video format in common."
    NoCommonVideo,
    /// "The network is blocking this call."
    NetworkBlocked,
    /// "You can hear them, but their camera sends no picture."
    NoPicture,
}

/// A notice about the other side's devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerNotice {
    /// "Their camera is not available." (their picture is a placeholder)
    CameraUnavailable,
    /// "Their microphone is not working."
    MicrophoneUnavailable,
}

/// The visit status as the server last reported it, for the checked-in screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusText {
    Scheduled,
    Pending,
    Ready,
    InProgress,
}

/// What to tell the visitor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Message {
    #[default]
    None,
    /// "PIN not recognized. N attempts left." (on the PIN pad)
    NotRecognized { attempts_left: u8 },
    /// "Too many attempts. Try again in N s." (on the PIN pad, keys disabled)
    Locked { seconds_left: u32 },
    /// "Your visit starts at 10:30. Check-in opens at 10:29."
    TooEarly { start: String, opens: String },
    /// "This visit has ended."
    Ended,
    /// "This visit was cancelled."
    Cancelled,
    /// "This visit was ended by staff: <reason>." (reason may be empty)
    Terminated { reason: String },
    /// "Checked in. Waiting for J. S. to join." plus the status line.
    CheckedIn { person: String, status: StatusText },
}

/// Everything the lobby UI shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalView {
    pub screen: Screen,
    pub facility_name: String,
    /// Local time, e.g. "10:29".
    pub clock: String,
    pub lang: Lang,
    /// Digits a PIN has.
    pub pin_length: u8,
    /// Digits typed so far (shown masked).
    pub digits_entered: u8,
    pub message: Message,
    /// The server could not be reached lately (a discreet mark).
    pub offline: bool,
    /// The waiting, in-call and ended screens.
    pub call: CallView,
    /// The housing-unit screens.
    pub unit: crate::UnitView,
}

impl Default for TerminalView {
    fn default() -> Self {
        Self {
            screen: Screen::Attract,
            facility_name: String::new(),
            clock: String::new(),
            lang: Lang::En,
            pin_length: 6,
            digits_entered: 0,
            message: Message::None,
            offline: false,
            call: CallView::default(),
            unit: Default::default(),
        }
    }
}

/// What a touch on the lobby screen means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiInput {
    /// Anywhere on the attract screen.
    TouchStart,
    /// A digit key, 0-9.
    Digit(u8),
    /// The delete key.
    Backspace,
    /// The OK / check-in key.
    Submit,
    /// Back to the attract screen ("Cancel" on the pad, "Done" on a result).
    Cancel,
    /// English / Español.
    Language(Lang),
    /// "Join" on the waiting screen.
    Join,
    /// The red X on the in-call screen (asks for confirmation).
    EndCall,
    /// "End visit" in the confirmation.
    ConfirmEnd,
    /// "Keep talking" in the confirmation.
    KeepCall,
    /// "Join" on a row of the unit's visit list (0 is the first row).
    JoinVisit(u8),
    /// "Sign out" on the unit's visit list.
    SignOut,
}

/// Why enrolment did not work, shown on the technician screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnrolMessage {
    #[default]
    None,
    /// The server does not know this code (typo, or already used).
    Invalid,
    /// The code is too old; ask for a new one.
    Expired,
    /// The server cannot be reached; check the network and try again.
    Unreachable,
    /// The code is for another kind of terminal (lobby vs housing unit).
    WrongRole,
    /// Enrolling now (keys disabled).
    Working,
}

/// The technician screen shown until the terminal is enrolled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnrolView {
    /// The digits typed so far (up to 12; shown in groups of four).
    pub code: String,
    /// Where the terminal will enrol, e.g. "https://visits.jail.example".
    pub server_url: String,
    /// "Lobby terminal" or "Housing-unit terminal", as configured.
    pub role_label: String,
    pub message: EnrolMessage,
    pub lang: Lang,
}

/// A touch on the technician screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolInput {
    Digit(u8),
    Backspace,
    Submit,
}

/// Which technician screen is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TechnicianScreen {
    /// The PIN prompt, opened by five taps on the attract screen's corner.
    #[default]
    Pin,
    /// The diagnostics: devices, self-view, level, tone, network, version.
    Diagnostics,
}

/// What the technician PIN prompt says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TechnicianMessage {
    #[default]
    None,
    /// "Wrong PIN. N attempts left."
    WrongPin { attempts_left: u8 },
    /// "Too many attempts. Try again in N s." (keys disabled)
    Locked { seconds_left: u32 },
    /// No technician PIN is configured (keys disabled).
    NotConfigured,
}

/// A kind of device, as the technician screen names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKindText {
    Camera,
    Microphone,
    Speaker,
    Touchscreen,
}

/// Whether a device works, as the technician screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceHealthText {
    Ok,
    Missing,
    Error,
}

/// One device on the technician screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub kind: DeviceKindText,
    pub health: DeviceHealthText,
    /// The device and its mode, or why it does not work (technical English:
    /// it is for the technician and remote support).
    pub detail: String,
}

/// The technician screens. The self-view itself is not here: it goes to the
/// window as frames ([`crate::TerminalUi::set_technician_frame`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TechnicianView {
    pub screen: TechnicianScreen,
    pub lang: Lang,
    /// PIN digits typed so far (shown masked).
    pub digits_entered: u8,
    pub message: TechnicianMessage,
    /// Camera, microphone, speaker, touchscreen.
    pub devices: Vec<DeviceRow>,
    /// Why the self-view shows no picture; empty while it does.
    pub camera_error: String,
    /// The microphone level, 0 (silence, -60 dB) to 1 (full scale).
    pub level: f32,
    /// The level in dB, once read.
    pub level_db: Option<i32>,
    /// Why the meter reads nothing; empty while it reads.
    pub microphone_error: String,
    /// The test tone is playing.
    pub tone_playing: bool,
    /// Why the last test tone could not play; empty if it did.
    pub speaker_error: String,
    /// GStreamer elements not installed, each with the package to install
    /// ("textoverlay (gstreamer1.0-x)"); empty when all are there.
    pub media_missing: String,
    /// The server answered lately.
    pub online: bool,
    pub server_url: String,
    /// Seconds since the schedule was last checked with the server, and
    /// since the last heartbeat; `None`: not since the program started.
    pub last_sync_secs: Option<u32>,
    pub last_heartbeat_secs: Option<u32>,
    pub software_version: String,
    /// Empty until enrolled.
    pub terminal_id: String,
    pub location: String,
    /// Seconds before the screen closes by itself.
    pub closes_in: u32,
}

/// A touch on a technician screen (or on the attract screen's corner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TechnicianInput {
    /// The hidden corner of the attract screen.
    CornerTap,
    Digit(u8),
    Backspace,
    Submit,
    /// "Cancel" on the PIN prompt.
    Cancel,
    /// "Close" on the diagnostics.
    Close,
    /// "Test speaker".
    Tone,
    /// Activity that keeps the diagnostics open without pressing a button
    /// (headless `tech-touch`).
    Touch,
}
