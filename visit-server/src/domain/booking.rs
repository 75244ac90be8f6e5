//! Who may book a visit: the checks that do not depend on the calendar.
//!
//! The service gathers the facts from the database inside the booking
//! transaction and hands them here; the time-slot rules live in
//! [`super::policy::KindPolicy::check_slot`].

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use protocol::admin::VisitPurpose;
use uuid::Uuid;

use super::Refusal;

/// What the rules need to know about one visitor of the requested visit.
#[derive(Debug, Clone)]
pub struct VisitorFacts {
    pub id: Uuid,
    pub photo_id_verified: bool,
    pub approved: bool,
    pub date_of_birth: NaiveDate,
    /// The sanction in force at booking time or at the visit, if any:
    /// `Some(None)` is permanent.
    pub sanctioned_until: Option<Option<DateTime<Utc>>>,
}

/// Everything but the time slot.
#[derive(Debug, Clone)]
pub struct Eligibility<'a> {
    pub purpose: VisitPurpose,
    pub visitors: &'a [VisitorFacts],
    pub max_visitors: u8,
    pub no_child_contact: bool,
    /// The facility-local date of the visit, to know who is a minor then.
    pub visit_date: NaiveDate,
}

/// Age in whole years on `on`.
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - date_of_birth.year();
    if (on.month(), on.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age
}

/// Check eligibility in the order a visitor would want to hear about it:
/// kind of visit first, then each visitor, then the person's restrictions.
pub fn check_eligibility(e: &Eligibility<'_>) -> Result<(), Refusal> {
    if e.purpose == VisitPurpose::Legal {
        return Err(Refusal::LegalVisit);
    }
    if e.visitors.is_empty() {
        return Err(Refusal::NoVisitors);
    }
    if e.visitors.len() > usize::from(e.max_visitors) {
        return Err(Refusal::TooManyVisitors {
            max: e.max_visitors,
        });
    }
    for (i, v) in e.visitors.iter().enumerate() {
        if e.visitors[..i].iter().any(|w| w.id == v.id) {
            return Err(Refusal::DuplicateVisitor);
        }
        if !v.photo_id_verified {
            return Err(Refusal::PhotoIdNotVerified { visitor: v.id });
        }
        if !v.approved {
            return Err(Refusal::NotApproved { visitor: v.id });
        }
        if let Some(until) = v.sanctioned_until {
            return Err(Refusal::Sanctioned {
                visitor: v.id,
                until,
            });
        }
    }
    let includes_minor = e
        .visitors
        .iter()
        .any(|v| age_on(v.date_of_birth, e.visit_date) < 18);
    if e.no_child_contact && includes_minor {
        return Err(Refusal::ChildContactRestricted);
    }
    Ok(())
}

/// The most visits running at once within `[start, end)`, given the other
/// active visits' intervals (a sweep over their edges).
pub fn peak_concurrency(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    others: &[(DateTime<Utc>, DateTime<Utc>)],
) -> usize {
    let mut edges: Vec<(DateTime<Utc>, i32)> = Vec::new();
    for (s, e) in others {
        if *s < end && *e > start {
            edges.push(((*s).max(start), 1));
            edges.push(((*e).min(end), -1));
        }
    }
    // Ends sort before starts at the same instant: back-to-back visits do not overlap.
    edges.sort_by_key(|(t, d)| (*t, *d));
    let (mut now, mut peak) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        peak = peak.max(now);
    }
    peak as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn adult(id: u128) -> VisitorFacts {
        VisitorFacts {
            id: Uuid::from_u128(id),
            photo_id_verified: true,
            approved: true,
            date_of_birth: NaiveDate::from_ymd_opt(1980, 5, 1).unwrap(),
            sanctioned_until: None,
        }
    }

    fn check(visitors: &[VisitorFacts], no_child_contact: bool) -> Result<(), Refusal> {
        check_eligibility(&Eligibility {
            purpose: VisitPurpose::Social,
            visitors,
            max_visitors: 3,
            no_child_contact,
            visit_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        })
    }

    #[test]
    fn an_approved_verified_adult_may_book() {
        assert_eq!(check(&[adult(1)], false), Ok(()));
    }

    #[test]
    fn legal_visits_are_refused_for_video() {
        let r = check_eligibility(&Eligibility {
            purpose: VisitPurpose::Legal,
            visitors: &[adult(1)],
            max_visitors: 3,
            no_child_contact: false,
            visit_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        });
        assert_eq!(r, Err(Refusal::LegalVisit));
    }

    #[test]
    fn unverified_photo_id_is_refused() {
        let mut v = adult(1);
        v.photo_id_verified = false;
        assert_eq!(
            check(&[v], false),
            Err(Refusal::PhotoIdNotVerified {
                visitor: Uuid::from_u128(1)
            })
        );
    }

    #[test]
    fn visitor_not_on_the_approved_list_is_refused() {
        let mut v = adult(2);
        v.approved = false;
        assert_eq!(
            check(&[adult(1), v], false),
            Err(Refusal::NotApproved {
                visitor: Uuid::from_u128(2)
            })
        );
    }

    #[test]
    fn sanctioned_visitor_is_refused() {
        let mut v = adult(1);
        v.sanctioned_until = Some(None);
        let err = check(&[v], false).unwrap_err();
        assert!(err.to_string().contains("no end date"), "{err}");
    }

    #[test]
    fn visitor_count_is_limited_by_the_facility() {
        assert!(check(&[adult(1), adult(2), adult(3)], false).is_ok());
        assert_eq!(
            check(&[adult(1), adult(2), adult(3), adult(4)], false),
            Err(Refusal::TooManyVisitors { max: 3 })
        );
        assert_eq!(check(&[], false), Err(Refusal::NoVisitors));
        assert_eq!(
            check(&[adult(1), adult(1)], false),
            Err(Refusal::DuplicateVisitor)
        );
    }

    #[test]
    fn child_contact_restriction_turns_on_at_the_eighteenth_birthday() {
        // The visit is on 2026-12-01.
        let mut minor = adult(2);
        minor.date_of_birth = NaiveDate::from_ymd_opt(2008, 12, 2).unwrap(); // 17 that day
        assert_eq!(
            check(&[adult(1), minor.clone()], true),
            Err(Refusal::ChildContactRestricted)
        );
        // Without the restriction the same minor may visit.
        assert_eq!(check(&[adult(1), minor.clone()], false), Ok(()));
        minor.date_of_birth = NaiveDate::from_ymd_opt(2008, 12, 1).unwrap(); // 18 that day
        assert_eq!(check(&[adult(1), minor], true), Ok(()));
    }

    #[test]
    fn peak_concurrency_counts_overlaps_not_neighbours() {
        let t = |h: i64| Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + Duration::hours(h);
        let others = [(t(8), t(10)), (t(10), t(12)), (t(9), t(11))];
        assert_eq!(peak_concurrency(t(10), t(12), &others), 2);
        assert_eq!(peak_concurrency(t(12), t(14), &others), 0);
        assert_eq!(peak_concurrency(t(8), t(12), &others), 2);
    }
}
