//! The housing-unit terminal's screens as plain data: sign-in with ID number
//! and PIN, then the person's visits of the day. Shown through
//! [`crate::TerminalView::unit`] when the screen is [`crate::Screen::UnitSignIn`]
//! or [`crate::Screen::UnitVisits`]; a wrong PIN or a lockout uses the
//! lobby's [`crate::Message`]s.

/// Which half of the sign-in is on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignInStep {
    /// "Enter your ID number" (shown as typed: it is not secret).
    #[default]
    Number,
    /// "Enter your PIN" (shown masked).
    Pin,
}

/// Everything the unit screens show beyond the lobby's fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnitView {
    pub step: SignInStep,
    /// The ID number's digits typed so far.
    pub number: String,
    /// PIN digits typed so far (shown as dots).
    pub pin_entered: u8,
    /// Whom the list greets: "James S.".
    pub person: String,
    /// Today's visits, by start.
    pub visits: Vec<UnitVisit>,
}

/// One visit in the person's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitVisit {
    /// Local times, "10:00" and "12:00".
    pub starts_at: String,
    pub ends_at: String,
    /// The visitors as shown: "Maria S., Emily S.".
    pub visitors: String,
    /// From home (remote) rather than at the lobby (on-site).
    pub remote: bool,
    pub status: UnitStatus,
    pub join: JoinState,
}

/// A visit's status in words the person understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitStatus {
    Scheduled,
    /// The start has come: "Waiting for you".
    Pending,
    /// Signed in for it: "Ready".
    Ready,
    InProgress,
    Ended,
    Cancelled,
    /// "Ended by staff".
    Terminated,
    /// "Missed".
    NoShow,
}

/// What the visit's row offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinState {
    /// The "Join" button.
    Open,
    /// "You can join from 09:58."
    OpensAt(String),
    /// "Your visitor has not checked in yet." (on-site, window open)
    VisitorNotCheckedIn,
    /// Over, cancelled or ended: nothing to do.
    Closed,
}
