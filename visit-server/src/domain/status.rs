//! The visit status machine: which event moves a visit from which status.
//!
//! `Scheduled -> Pending` (start reached, or the person signs in early)
//! `-> Ready` (person signed in) `-> InProgress` (call connected) `-> Ended`,
//! with `Terminated` (staff), `Cancelled` (before it starts) and `NoShow`
//! (block over, never connected) as the other endings. Anything else is an
//! error the caller records and reports; the status never jumps.

use protocol::VisitStatus as WireStatus;

use super::Refusal;

/// A visit's status (domain twin of the wire enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Scheduled,
    Pending,
    Ready,
    InProgress,
    Ended,
    Terminated,
    Cancelled,
    NoShow,
}

/// What happened to a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The scheduled start time came.
    StartReached,
    /// The incarcerated person signed in for the visit.
    PersonSignedIn,
    /// Media flows both ways.
    CallStarted,
    /// A party hung up.
    CallEnded,
    /// The scheduled end time came.
    EndReached,
    /// The visitor or the facility cancelled.
    Cancel,
    /// Staff ended the visit.
    Terminate,
}

impl Status {
    /// Active visits occupy their slot; finished ones free it.
    pub const ACTIVE: [Status; 4] = [
        Status::Scheduled,
        Status::Pending,
        Status::Ready,
        Status::InProgress,
    ];

    /// The active statuses as an SQL list, for `status IN ...`.
    pub const ACTIVE_SQL: &'static str = "('scheduled', 'pending', 'ready', 'in_progress')";

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }

    /// The status after `trigger`, or a refusal that says why not.
    pub fn next(self, trigger: Trigger) -> Result<Status, Refusal> {
        use Status::*;
        use Trigger::*;
        let next = match (self, trigger) {
            (Scheduled, StartReached) => Pending,
            // Early log-in: the person may sign in before the start.
            (Scheduled | Pending, PersonSignedIn) => Ready,
            (Ready, PersonSignedIn) => Ready,
            (Ready, CallStarted) => InProgress,
            (InProgress, CallStarted) => InProgress,
            (InProgress, CallEnded | EndReached) => Ended,
            (Scheduled | Pending | Ready, EndReached) => NoShow,
            (Scheduled | Pending | Ready, Cancel) => Cancelled,
            (Pending | Ready | InProgress, Terminate) => Terminated,
            (status, trigger) => {
                return Err(Refusal::InvalidTransition {
                    status: status.label(),
                    action: trigger.label(),
                });
            }
        };
        Ok(next)
    }

    /// Lower-case words for messages.
    pub fn label(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Pending => "pending",
            Status::Ready => "ready",
            Status::InProgress => "in progress",
            Status::Ended => "ended",
            Status::Terminated => "terminated by staff",
            Status::Cancelled => "cancelled",
            Status::NoShow => "over (no-show)",
        }
    }

    /// Column value in SQLite.
    pub fn as_db(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Pending => "pending",
            Status::Ready => "ready",
            Status::InProgress => "in_progress",
            Status::Ended => "ended",
            Status::Terminated => "terminated",
            Status::Cancelled => "cancelled",
            Status::NoShow => "no_show",
        }
    }

    pub fn from_db(s: &str) -> Option<Status> {
        [
            Status::Scheduled,
            Status::Pending,
            Status::Ready,
            Status::InProgress,
            Status::Ended,
            Status::Terminated,
            Status::Cancelled,
            Status::NoShow,
        ]
        .into_iter()
        .find(|st| st.as_db() == s)
    }

    pub fn to_wire(self) -> WireStatus {
        match self {
            Status::Scheduled => WireStatus::Scheduled,
            Status::Pending => WireStatus::Pending,
            Status::Ready => WireStatus::Ready,
            Status::InProgress => WireStatus::InProgress,
            Status::Ended => WireStatus::Ended,
            Status::Terminated => WireStatus::Terminated,
            Status::Cancelled => WireStatus::Cancelled,
            Status::NoShow => WireStatus::NoShow,
        }
    }
}

impl Trigger {
    fn label(self) -> &'static str {
        match self {
            Trigger::StartReached => "started",
            Trigger::PersonSignedIn => "signed in to",
            Trigger::CallStarted => "joined",
            Trigger::CallEnded => "hung up",
            Trigger::EndReached => "ended by the clock",
            Trigger::Cancel => "cancelled",
            Trigger::Terminate => "terminated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::Trigger::*;
    use super::*;

    #[test]
    fn the_happy_path_of_a_visit() {
        let s = Scheduled.next(StartReached).unwrap();
        assert_eq!(s, Pending);
        let s = s.next(PersonSignedIn).unwrap();
        assert_eq!(s, Ready);
        let s = s.next(CallStarted).unwrap();
        assert_eq!(s, InProgress);
        assert_eq!(s.next(EndReached).unwrap(), Ended);
        assert_eq!(s.next(CallEnded).unwrap(), Ended);
    }

    #[test]
    fn early_sign_in_makes_a_scheduled_visit_ready() {
        assert_eq!(Scheduled.next(PersonSignedIn).unwrap(), Ready);
    }

    #[test]
    fn a_visit_that_never_connected_is_a_no_show() {
        for s in [Scheduled, Pending, Ready] {
            assert_eq!(s.next(EndReached).unwrap(), NoShow);
        }
    }

    #[test]
    fn finished_visits_never_change() {
        for s in [Ended, Terminated, Cancelled, NoShow] {
            for t in [
                StartReached,
                PersonSignedIn,
                CallStarted,
                CallEnded,
                EndReached,
                Cancel,
                Terminate,
            ] {
                let err = s.next(t).unwrap_err();
                assert_eq!(err.code(), "invalid_status_transition", "{s:?} {t:?}");
            }
        }
    }

    #[test]
    fn a_started_call_cannot_be_cancelled_only_terminated() {
        assert!(InProgress.next(Cancel).is_err());
        assert_eq!(InProgress.next(Terminate).unwrap(), Terminated);
        // Nothing to terminate before the visit has begun: cancel instead.
        assert!(Scheduled.next(Terminate).is_err());
    }

    #[test]
    fn a_call_cannot_start_before_the_person_signed_in() {
        assert!(Pending.next(CallStarted).is_err());
        assert!(Scheduled.next(CallStarted).is_err());
    }

    #[test]
    fn the_sql_list_of_active_statuses_matches_the_enum() {
        let listed: Vec<String> = Status::ACTIVE
            .iter()
            .map(|s| format!("'{}'", s.as_db()))
            .collect();
        assert_eq!(Status::ACTIVE_SQL, format!("({})", listed.join(", ")));
    }

    #[test]
    fn db_names_round_trip() {
        for s in [
            Scheduled, Pending, Ready, InProgress, Ended, Terminated, Cancelled, NoShow,
        ] {
            assert_eq!(Status::from_db(s.as_db()), Some(s));
        }
        assert_eq!(Status::from_db("bogus"), None);
    }
}
