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
pub struct LobbyView {
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
}

impl Default for LobbyView {
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
