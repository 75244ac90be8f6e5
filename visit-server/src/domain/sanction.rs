//! Sanctions (seed 001): a first offense restricts visiting for 90 days, a
//! second is permanent. Sanctions are never deleted, so the offense count is
//! the visitor's whole history.

use chrono::{DateTime, Duration, Utc};

/// Length of a first-offense restriction.
pub const FIRST_OFFENSE: Duration = Duration::days(90);

/// The offense number and end of a new sanction given the earlier ones.
pub fn next_sanction(earlier_offenses: u32, now: DateTime<Utc>) -> (u32, Option<DateTime<Utc>>) {
    let offense = earlier_offenses + 1;
    if offense == 1 {
        (offense, Some(now + FIRST_OFFENSE))
    } else {
        (offense, None)
    }
}

/// Whether a sanction restricts visiting at `at` (end exclusive).
pub fn is_active(
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> bool {
    starts_at <= at && ends_at.is_none_or(|end| at < end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn first_offense_is_ninety_days_second_is_permanent() {
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        assert_eq!(next_sanction(0, now), (1, Some(now + Duration::days(90))));
        assert_eq!(next_sanction(1, now), (2, None));
        assert_eq!(next_sanction(5, now), (6, None));
    }

    #[test]
    fn a_ninety_day_sanction_ends_exactly_at_its_end() {
        let start = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let end = start + FIRST_OFFENSE;
        assert!(is_active(start, Some(end), start));
        assert!(is_active(start, Some(end), end - Duration::seconds(1)));
        assert!(!is_active(start, Some(end), end));
        assert!(is_active(start, None, end + Duration::days(10_000)));
    }
}
