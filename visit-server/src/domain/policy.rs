//! Per-facility rules for each kind of visit, and where a visit may start.
//!
//! Defaults come from the seed documents. The state policy (seed 000):
//! 2-hour on-site and 30-minute remote blocks, booking 72 h ahead, credit for
//! cancelling 48 h ahead, early log-in of 1 minute for the visitor and 2 for
//! the incarcerated person, $7.95 a remote block. The county jail (seed 001):
//! remote visits from 08:00 to 17:30 and from 18:00 to 21:30 every day,
//! on-site visits from 08:00 to 19:00 on weekdays.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use protocol::VisitKind;
use protocol::admin::{KindRules, TimeRange, WeeklyHours};

use super::Refusal;

/// On-site or remote (domain twin of the wire enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Onsite,
    Remote,
}

impl Kind {
    pub fn as_db(self) -> &'static str {
        match self {
            Kind::Onsite => "onsite",
            Kind::Remote => "remote",
        }
    }
    pub fn from_db(s: &str) -> Option<Kind> {
        match s {
            "onsite" => Some(Kind::Onsite),
            "remote" => Some(Kind::Remote),
            _ => None,
        }
    }
    pub fn from_wire(k: VisitKind) -> Kind {
        match k {
            VisitKind::Onsite => Kind::Onsite,
            VisitKind::Remote => Kind::Remote,
        }
    }
    pub fn to_wire(self) -> VisitKind {
        match self {
            Kind::Onsite => VisitKind::Onsite,
            Kind::Remote => VisitKind::Remote,
        }
    }
}

/// Validated rules for one kind of visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindPolicy {
    pub block: Duration,
    /// Bookable ranges per weekday, Monday first.
    pub hours: [Vec<(NaiveTime, NaiveTime)>; 7],
    pub min_advance: Duration,
    pub cancel_credit: Duration,
    pub visitor_early: Duration,
    pub person_early: Duration,
    pub price_cents: u32,
}

/// Wrong facility configuration, reported to the administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRules(pub String);

fn parse_hhmm(s: &str) -> Result<NaiveTime, InvalidRules> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| InvalidRules(format!("'{s}' is not a time of day like 08:00")))
}

impl KindPolicy {
    pub fn from_wire(rules: &KindRules) -> Result<Self, InvalidRules> {
        if rules.block_minutes == 0 || rules.block_minutes > 24 * 60 {
            return Err(InvalidRules(
                "block_minutes must be between 1 and 1440".into(),
            ));
        }
        let days = [
            &rules.hours.mon,
            &rules.hours.tue,
            &rules.hours.wed,
            &rules.hours.thu,
            &rules.hours.fri,
            &rules.hours.sat,
            &rules.hours.sun,
        ];
        let mut hours: [Vec<(NaiveTime, NaiveTime)>; 7] = Default::default();
        for (day, ranges) in hours.iter_mut().zip(days) {
            for r in ranges {
                let (start, end) = (parse_hhmm(&r.start)?, parse_hhmm(&r.end)?);
                if end <= start {
                    return Err(InvalidRules(format!(
                        "visiting hours {}-{} end before they start",
                        r.start, r.end
                    )));
                }
                day.push((start, end));
            }
        }
        let minutes = |m: u32| Duration::minutes(i64::from(m));
        Ok(KindPolicy {
            block: minutes(rules.block_minutes),
            hours,
            min_advance: minutes(rules.min_advance_minutes),
            cancel_credit: minutes(rules.cancel_credit_minutes),
            visitor_early: minutes(rules.visitor_early_minutes),
            person_early: minutes(rules.person_early_minutes),
            price_cents: rules.price_cents,
        })
    }

    pub fn to_wire(&self) -> KindRules {
        let day = |i: usize| -> Vec<TimeRange> {
            self.hours[i]
                .iter()
                .map(|(s, e)| TimeRange {
                    start: s.format("%H:%M").to_string(),
                    end: e.format("%H:%M").to_string(),
                })
                .collect()
        };
        let minutes = |d: Duration| d.num_minutes() as u32;
        KindRules {
            block_minutes: minutes(self.block),
            hours: WeeklyHours {
                mon: day(0),
                tue: day(1),
                wed: day(2),
                thu: day(3),
                fri: day(4),
                sat: day(5),
                sun: day(6),
            },
            min_advance_minutes: minutes(self.min_advance),
            cancel_credit_minutes: minutes(self.cancel_credit),
            visitor_early_minutes: minutes(self.visitor_early),
            person_early_minutes: minutes(self.person_early),
            price_cents: self.price_cents,
        }
    }

    /// Check that a visit of this kind may start at `start` when booked at
    /// `now`, and return its end. Checks, in order: the advance-booking
    /// window, a whole-minute start, the facility's hours for that weekday,
    /// and the block grid inside those hours.
    pub fn check_slot(
        &self,
        tz: Tz,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, Refusal> {
        if start - now < self.min_advance {
            return Err(Refusal::TooLateToBook {
                min_advance_minutes: self.min_advance.num_minutes() as u32,
                earliest: now + self.min_advance,
            });
        }
        let block_minutes = self.block.num_minutes() as u32;
        let local = start.with_timezone(&tz);
        let time = local.time();
        let ranges = &self.hours[local.weekday().num_days_from_monday() as usize];
        let inside: Vec<_> = ranges
            .iter()
            .filter(|(s, e)| *s <= time && time < *e)
            .collect();
        if inside.is_empty() {
            return Err(Refusal::OutsideHours);
        }
        let on_grid = inside.iter().find(|(s, _)| {
            let offset = time - *s;
            offset.num_seconds() % self.block.num_seconds() == 0
        });
        let Some((_, range_end)) = on_grid else {
            return Err(Refusal::NotOnBlockBoundary { block_minutes });
        };
        // A block that would run past the end of the range is outside hours.
        // (A start at the end of time has no end: outside hours, not a panic.)
        let end = start
            .checked_add_signed(self.block)
            .ok_or(Refusal::OutsideHours)?;
        let end_local = end.with_timezone(&tz);
        if end_local.date_naive() != local.date_naive() || end_local.time() > *range_end {
            return Err(Refusal::OutsideHours);
        }
        Ok(end)
    }

    /// Every start this kind offers on a local day (for demo data and listings).
    pub fn slots_on(&self, tz: Tz, date: chrono::NaiveDate) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        for (s, e) in &self.hours[date.weekday().num_days_from_monday() as usize] {
            let mut t = *s;
            while t + self.block <= *e {
                if let LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) =
                    tz.from_local_datetime(&date.and_time(t))
                {
                    out.push(dt.with_timezone(&Utc));
                }
                let (next, wrapped) = t.overflowing_add_signed(self.block);
                if wrapped != 0 {
                    break;
                }
                t = next;
            }
        }
        out.sort();
        out
    }
}

fn ranges(pairs: &[(&str, &str)]) -> Vec<TimeRange> {
    pairs
        .iter()
        .map(|(s, e)| TimeRange {
            start: (*s).into(),
            end: (*e).into(),
        })
        .collect()
}

/// Seed 001's on-site hours (08:00-19:00, Monday to Friday) with seed 000's rules.
pub fn default_onsite_rules() -> KindRules {
    let day = ranges(&[("08:00", "19:00")]);
    KindRules {
        block_minutes: 120,
        hours: WeeklyHours {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day,
            sat: vec![],
            sun: vec![],
        },
        min_advance_minutes: 72 * 60,
        cancel_credit_minutes: 48 * 60,
        visitor_early_minutes: 1,
        person_early_minutes: 2,
        price_cents: 0,
    }
}

/// Seed 001's remote hours (08:00-17:30 and 18:00-21:30, every day) with seed 000's rules.
pub fn default_remote_rules() -> KindRules {
    let day = ranges(&[("08:00", "17:30"), ("18:00", "21:30")]);
    KindRules {
        block_minutes: 30,
        hours: WeeklyHours {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day.clone(),
            sat: day.clone(),
            sun: day,
        },
        min_advance_minutes: 72 * 60,
        cancel_credit_minutes: 48 * 60,
        visitor_early_minutes: 1,
        person_early_minutes: 2,
        price_cents: 795,
    }
}

/// The weekday a date falls on, for messages.
pub fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    const TZ: Tz = chrono_tz::America::Chicago;

    fn local(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> DateTime<Utc> {
        TZ.with_ymd_and_hms(y, m, d, hh, mm, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn onsite() -> KindPolicy {
        KindPolicy::from_wire(&default_onsite_rules()).unwrap()
    }
    fn remote() -> KindPolicy {
        KindPolicy::from_wire(&default_remote_rules()).unwrap()
    }

    // 2026-11-23 is a Monday.
    fn monday(hh: u32, mm: u32) -> DateTime<Utc> {
        local(2026, 11, 23, hh, mm)
    }

    #[test]
    fn booking_72_hours_ahead_is_the_boundary() {
        let start = monday(10, 0);
        let at_72h = start - Duration::hours(72);
        assert_eq!(
            onsite().check_slot(TZ, start, at_72h),
            Ok(start + Duration::hours(2))
        );
        let at_71h59 = at_72h + Duration::minutes(1);
        let err = onsite().check_slot(TZ, start, at_71h59).unwrap_err();
        assert!(matches!(err, Refusal::TooLateToBook { .. }), "{err:?}");
        assert!(err.to_string().contains("72 hours"), "{err}");
    }

    #[test]
    fn onsite_blocks_are_two_hours_on_the_grid_inside_hours() {
        let now = monday(0, 0) - Duration::days(7);
        let p = onsite();
        assert_eq!(p.check_slot(TZ, monday(8, 0), now), Ok(monday(10, 0)));
        // Last block 16:00-18:00; 18:00-20:00 would run past 19:00.
        assert_eq!(p.check_slot(TZ, monday(16, 0), now), Ok(monday(18, 0)));
        assert_eq!(
            p.check_slot(TZ, monday(9, 0), now),
            Err(Refusal::NotOnBlockBoundary { block_minutes: 120 })
        );
        // 18:00 is on the grid, but the block would run past 19:00.
        assert_eq!(
            p.check_slot(TZ, monday(18, 0), now),
            Err(Refusal::OutsideHours)
        );
        assert_eq!(
            p.check_slot(TZ, monday(7, 0), now),
            Err(Refusal::OutsideHours)
        );
        assert_eq!(
            p.check_slot(TZ, monday(19, 0), now),
            Err(Refusal::OutsideHours)
        );
    }

    #[test]
    fn onsite_is_weekdays_only() {
        let saturday = local(2026, 11, 28, 10, 0);
        let now = saturday - Duration::days(7);
        assert_eq!(
            onsite().check_slot(TZ, saturday, now),
            Err(Refusal::OutsideHours)
        );
        let friday = local(2026, 11, 27, 10, 0);
        assert!(onsite().check_slot(TZ, friday, now).is_ok());
    }

    #[test]
    fn remote_blocks_are_thirty_minutes_with_an_evening_gap() {
        let now = monday(0, 0) - Duration::days(7);
        let p = remote();
        assert_eq!(p.check_slot(TZ, monday(17, 0), now), Ok(monday(17, 30)));
        assert_eq!(
            p.check_slot(TZ, monday(17, 30), now),
            Err(Refusal::OutsideHours)
        );
        assert_eq!(p.check_slot(TZ, monday(18, 0), now), Ok(monday(18, 30)));
        assert_eq!(p.check_slot(TZ, monday(21, 0), now), Ok(monday(21, 30)));
        assert_eq!(
            p.check_slot(TZ, monday(21, 30), now),
            Err(Refusal::OutsideHours)
        );
        assert_eq!(
            p.check_slot(TZ, monday(8, 15), now),
            Err(Refusal::NotOnBlockBoundary { block_minutes: 30 })
        );
        let sunday = local(2026, 11, 29, 8, 0);
        assert!(p.check_slot(TZ, sunday, now).is_ok());
    }

    #[test]
    fn block_length_is_per_facility_configuration() {
        let mut rules = default_onsite_rules();
        rules.block_minutes = 60;
        let p = KindPolicy::from_wire(&rules).unwrap();
        let now = monday(0, 0) - Duration::days(7);
        assert_eq!(p.check_slot(TZ, monday(9, 0), now), Ok(monday(10, 0)));
        assert_eq!(p.check_slot(TZ, monday(18, 0), now), Ok(monday(19, 0)));
    }

    #[test]
    fn invalid_rules_are_explained() {
        let mut rules = default_remote_rules();
        rules.hours.mon = ranges(&[("9am", "10:00")]);
        assert!(KindPolicy::from_wire(&rules).unwrap_err().0.contains("9am"));
        rules.hours.mon = ranges(&[("10:00", "09:00")]);
        assert!(KindPolicy::from_wire(&rules).is_err());
        rules.hours.mon = vec![];
        rules.block_minutes = 0;
        assert!(KindPolicy::from_wire(&rules).is_err());
    }

    #[test]
    fn rules_round_trip_through_the_wire_form() {
        let p = remote();
        assert_eq!(KindPolicy::from_wire(&p.to_wire()).unwrap(), p);
    }

    #[test]
    fn slots_of_a_day_follow_the_grid() {
        let slots = onsite().slots_on(TZ, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(slots.len(), 5, "08,10,12,14,16");
        assert_eq!(slots[0], monday(8, 0));
        assert_eq!(slots[4], monday(16, 0));
        let remote_slots = remote().slots_on(TZ, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(remote_slots.len(), 19 + 7);
    }
}
