//! What a cancellation costs (seed 000, items 5 and 6).
//!
//! A visitor who cancels at least 48 hours (the facility's credit window)
//! before the start gets the price back as credit; later, nothing. A visit
//! cancelled by the facility is never charged.

use chrono::{DateTime, Duration, Utc};
use protocol::admin::{CancelledBy, Charge};

/// The payment state after a cancellation.
pub fn charge_after_cancel(
    by: CancelledBy,
    price_cents: u32,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    credit_window: Duration,
) -> Charge {
    if price_cents == 0 {
        return Charge::Free;
    }
    match by {
        CancelledBy::Facility => Charge::Waived,
        CancelledBy::Visitor if start - now >= credit_window => Charge::Credited,
        CancelledBy::Visitor => Charge::Forfeited,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn credit_only_at_least_48_hours_ahead() {
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap();
        let window = Duration::hours(48);
        let at = |m: i64| start - Duration::minutes(m);
        assert_eq!(
            charge_after_cancel(CancelledBy::Visitor, 795, start, at(48 * 60), window),
            Charge::Credited
        );
        assert_eq!(
            charge_after_cancel(CancelledBy::Visitor, 795, start, at(48 * 60 - 1), window),
            Charge::Forfeited
        );
    }

    #[test]
    fn facility_cancellation_is_never_charged() {
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap();
        let late = start - Duration::minutes(5);
        assert_eq!(
            charge_after_cancel(CancelledBy::Facility, 795, start, late, Duration::hours(48)),
            Charge::Waived
        );
    }

    #[test]
    fn free_visits_stay_free() {
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap();
        assert_eq!(
            charge_after_cancel(CancelledBy::Visitor, 0, start, start, Duration::hours(48)),
            Charge::Free
        );
    }
}
