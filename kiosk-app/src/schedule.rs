//! The day schedule as the terminal holds it: validated whole, then indexed
//! by PIN verifier so a typed PIN is checked with one HMAC per day and a
//! hash lookup, with the network up or down.
//!
//! A housing-unit terminal's schedule also carries the unit's persons with
//! an Argon2id verifier of each sign-in PIN ([`PersonEntry`]), checked
//! here so that sign-in works offline too.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use hmac::{Hmac, Mac};
use protocol::signal::Side;
use protocol::terminal::{Schedule, ScheduleDay, SchedulePerson};
use protocol::{VisitKind, VisitStatus};
use sha2::Sha256;
use uuid::Uuid;

/// A schedule the server sent that cannot be used; it is rejected whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schedule: {0}")]
pub struct InvalidSchedule(pub String);

/// One visit a PIN can open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitEntry {
    pub id: Uuid,
    pub kind: VisitKind,
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: VisitStatus,
    pub person_display: String,
    pub visitor_display: Vec<String>,
    /// How early the visitor may check in.
    pub visitor_early: Duration,
    /// How early the incarcerated person may join.
    pub person_early: Duration,
    /// The person's id (unit terminals only).
    pub person_id: Option<Uuid>,
    /// A visitor has checked in at the lobby (on-site visits).
    pub visitor_checked_in: bool,
    /// Never recorded or monitored (the screens say so; the unit terminal
    /// records nothing of it).
    pub confidential: bool,
}

/// When one side may join a visit (and the visitor check in): from
/// `opens` until `closes`, the visit's end. The one place the terminal
/// decides it, so the unit's visit list, the waiting screen and the lobby's
/// check-in agree to the minute with the server, which refuses a join
/// before the same moment (`visit-server` `service/calls.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinWindow {
    pub opens: DateTime<Utc>,
    pub closes: DateTime<Utc>,
}

impl JoinWindow {
    /// Whether `now` is inside the window (the end excluded).
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        self.opens <= now && now < self.closes
    }
}

impl VisitEntry {
    /// The join window of `side`: the person's opens `person_early` before
    /// the start, the visitor's `visitor_early`.
    pub fn join_window(&self, side: Side) -> JoinWindow {
        let early = match side {
            Side::Person => self.person_early,
            Side::Visitor => self.visitor_early,
        };
        JoinWindow {
            opens: self.start - early,
            closes: self.end,
        }
    }
}

/// A person of the unit, as the sign-in sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonEntry {
    pub id: Uuid,
    /// As the facility writes it, e.g. `A-1001`.
    pub number: String,
    /// Its digits, which is what is typed on the keypad (`1001`).
    pub digits: String,
    /// "James S."
    pub display: String,
    /// Argon2id in PHC string form, checked when validating the schedule.
    verifier: String,
}

/// Most memory (KiB) and passes a PIN verifier may ask for: a broken or
/// hostile schedule must not make one sign-in take seconds.
const MAX_ARGON2_M_KIB: u32 = 64 * 1024;
const MAX_ARGON2_T: u32 = 8;

fn check_verifier(v: &str) -> Result<(), String> {
    let h = argon2::PasswordHash::new(v).map_err(|e| format!("not a PHC string: {e}"))?;
    if h.algorithm.as_str() != "argon2id" {
        return Err(format!("{} instead of argon2id", h.algorithm));
    }
    let params = argon2::Params::try_from(&h).map_err(|e| e.to_string())?;
    if params.m_cost() > MAX_ARGON2_M_KIB || params.t_cost() > MAX_ARGON2_T {
        return Err("Argon2 parameters too costly for a terminal".into());
    }
    Ok(())
}

impl PersonEntry {
    /// Whether `pin` is this person's sign-in PIN (one Argon2id run).
    pub fn pin_matches(&self, pin: &str) -> bool {
        use argon2::PasswordVerifier;
        argon2::PasswordHash::new(&self.verifier).is_ok_and(|h| {
            argon2::Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
    }
}

struct Day {
    key: Vec<u8>,
    by_verifier: HashMap<String, usize>,
}

/// A validated, indexed schedule.
pub struct ScheduleIndex {
    pub wire: Schedule,
    pub tz: Tz,
    days: Vec<Day>,
    visits: Vec<VisitEntry>,
    persons: Vec<PersonEntry>,
}

impl std::fmt::Debug for ScheduleIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduleIndex")
            .field("version", &self.wire.version)
            .field("visits", &self.visits.len())
            .finish()
    }
}

fn verifier(key: &[u8], pin: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(pin.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// The facility's time zone, once its PIN length and the number of days
/// are found sound.
fn check_facility(wire: &Schedule) -> Result<Tz, InvalidSchedule> {
    let bad = |m: String| Err(InvalidSchedule(m));
    let tz: Tz = match wire.facility.time_zone.parse() {
        Ok(tz) => tz,
        Err(_) => return bad(format!("unknown time zone {:?}", wire.facility.time_zone)),
    };
    if !(4..=10).contains(&wire.facility.pin_length) {
        return bad(format!(
            "PIN length {} out of range",
            wire.facility.pin_length
        ));
    }
    if wire.days.is_empty() || wire.days.len() > 2 {
        return bad(format!(
            "{} days instead of today and tomorrow",
            wire.days.len()
        ));
    }
    Ok(tz)
}

/// How early (visitor, person) a visit of `kind` may be joined, from the
/// facility's policies.
fn early(wire: &Schedule, kind: VisitKind) -> Option<(Duration, Duration)> {
    wire.facility
        .policies
        .iter()
        .find(|p| p.kind == kind)
        .map(|p| {
            (
                Duration::minutes(i64::from(p.visitor_early_minutes)),
                Duration::minutes(i64::from(p.person_early_minutes)),
            )
        })
}

/// One day's visits, checked and appended to `visits`, and its index by
/// PIN verifier.
fn index_day(
    wire: &Schedule,
    d: &ScheduleDay,
    tz: Tz,
    visits: &mut Vec<VisitEntry>,
) -> Result<Day, InvalidSchedule> {
    let bad = |m: String| Err(InvalidSchedule(m));
    let key = match B64.decode(&d.pin_key) {
        Ok(k) if k.len() == 32 => k,
        _ => return bad(format!("day {} has no usable PIN key", d.date)),
    };
    let mut by_verifier = HashMap::with_capacity(d.visits.len());
    for v in &d.visits {
        if v.end <= v.start {
            return bad(format!("visit {} ends before it starts", v.id));
        }
        if v.start.with_timezone(&tz).date_naive() != d.date {
            return bad(format!("visit {} is not on {}", v.id, d.date));
        }
        let Some((visitor_early, person_early)) = early(wire, v.kind) else {
            return bad(format!("no join policy for {:?} visits", v.kind));
        };
        if by_verifier
            .insert(v.pin_verifier.clone(), visits.len())
            .is_some()
        {
            return bad(format!("two visits share a PIN on {}", d.date));
        }
        visits.push(VisitEntry {
            id: v.id,
            kind: v.kind,
            date: d.date,
            start: v.start,
            end: v.end,
            status: v.status,
            person_display: v.person_display.clone(),
            visitor_display: v.visitor_display.clone(),
            visitor_early,
            person_early,
            person_id: v.person_id,
            visitor_checked_in: v.visitor_checked_in,
            confidential: v.confidential,
        });
    }
    Ok(Day { key, by_verifier })
}

/// A unit's person, with a usable verifier and a number that has digits.
fn person_entry(p: &SchedulePerson) -> Result<PersonEntry, InvalidSchedule> {
    if let Err(e) = check_verifier(&p.pin_verifier) {
        return Err(InvalidSchedule(format!(
            "person {} has an unusable PIN verifier: {e}",
            p.id
        )));
    }
    let digits: String = p.number.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Err(InvalidSchedule(format!(
            "person {} has a number without digits",
            p.id
        )));
    }
    Ok(PersonEntry {
        id: p.id,
        number: p.number.clone(),
        digits,
        display: p.display.clone(),
        verifier: p.pin_verifier.clone(),
    })
}

impl ScheduleIndex {
    /// Check everything a terminal relies on; any fault rejects the whole schedule.
    pub fn new(wire: Schedule) -> Result<Self, InvalidSchedule> {
        let tz = check_facility(&wire)?;
        let mut days = Vec::new();
        let mut visits = Vec::new();
        for d in &wire.days {
            days.push(index_day(&wire, d, tz, &mut visits)?);
        }
        let persons = wire
            .persons
            .iter()
            .map(person_entry)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            wire,
            tz,
            days,
            visits,
            persons,
        })
    }

    /// The persons whose number has these digits (usually one; two only if
    /// the unit has, say, A-1001 and B-1001, and then the PIN tells).
    pub fn persons_numbered(&self, digits: &str) -> impl Iterator<Item = &PersonEntry> {
        self.persons.iter().filter(move |p| p.digits == digits)
    }

    pub fn person(&self, id: Uuid) -> Option<&PersonEntry> {
        self.persons.iter().find(|p| p.id == id)
    }

    /// A person's visits on a facility-local day, by start.
    pub fn visits_of(&self, person: Uuid, day: NaiveDate) -> Vec<&VisitEntry> {
        let mut v: Vec<_> = self
            .visits
            .iter()
            .filter(|v| v.person_id == Some(person) && v.date == day)
            .collect();
        v.sort_by_key(|v| v.start);
        v
    }

    /// The visit this PIN opens: today's before tomorrow's.
    pub fn find(&self, pin: &str, today: NaiveDate) -> Option<&VisitEntry> {
        let mut found: Vec<&VisitEntry> = self
            .days
            .iter()
            .filter_map(|d| d.by_verifier.get(&verifier(&d.key, pin)))
            .map(|&i| &self.visits[i])
            .collect();
        found.sort_by_key(|v| v.date != today);
        found.into_iter().next()
    }

    /// Update a visit's status from what the server reported after an upload.
    pub fn set_status(&mut self, visit: Uuid, status: VisitStatus) {
        if let Some(v) = self.visits.iter_mut().find(|v| v.id == visit) {
            v.status = status;
        }
    }

    /// A visit by id.
    pub fn visit(&self, id: Uuid) -> Option<&VisitEntry> {
        self.visits.iter().find(|v| v.id == id)
    }

    pub fn facility_name(&self) -> &str {
        &self.wire.facility.name
    }

    pub fn pin_length(&self) -> u8 {
        self.wire.facility.pin_length
    }

    pub fn visit_count(&self) -> usize {
        self.visits.len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;
    use protocol::terminal::{JoinPolicy, ScheduleDay, ScheduleFacility, ScheduledVisit};

    pub const KEY: [u8; 32] = [9; 32];

    /// A schedule for 2026-11-19 in Chicago with the given (pin, start hh:mm, status).
    pub fn sample(visits: &[(&str, u32, u32, VisitStatus)]) -> Schedule {
        let tz = chrono_tz::America::Chicago;
        let date = NaiveDate::from_ymd_opt(2026, 11, 19).unwrap();
        Schedule {
            version: "\"v1\"".into(),
            generated_at: Utc::now(),
            facility: ScheduleFacility {
                id: Uuid::from_u128(1),
                name: "Test County Jail".into(),
                time_zone: "America/Chicago".into(),
                pin_length: 6,
                policies: vec![
                    JoinPolicy {
                        kind: VisitKind::Onsite,
                        visitor_early_minutes: 1,
                        person_early_minutes: 2,
                    },
                    JoinPolicy {
                        kind: VisitKind::Remote,
                        visitor_early_minutes: 1,
                        person_early_minutes: 2,
                    },
                ],
            },
            days: vec![ScheduleDay {
                date,
                pin_key: B64.encode(KEY),
                visits: visits
                    .iter()
                    .enumerate()
                    .map(|(i, (pin, h, m, status))| {
                        let start = tz
                            .with_ymd_and_hms(2026, 11, 19, *h, *m, 0)
                            .unwrap()
                            .with_timezone(&Utc);
                        ScheduledVisit {
                            id: Uuid::from_u128(100 + i as u128),
                            kind: VisitKind::Onsite,
                            start,
                            end: start + Duration::hours(2),
                            status: *status,
                            person_display: "J. S.".into(),
                            visitor_display: vec!["M. S.".into()],
                            pin_verifier: verifier(&KEY, pin),
                            person_id: None,
                            visitor_checked_in: false,
                            confidential: false,
                        }
                    })
                    .collect(),
            }],
            persons: vec![],
        }
    }

    #[test]
    fn finds_a_visit_by_pin_and_nothing_for_a_wrong_one() {
        let idx =
            ScheduleIndex::new(sample(&[("123456", 10, 30, VisitStatus::Scheduled)])).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 19).unwrap();
        assert_eq!(idx.find("123456", today).unwrap().id, Uuid::from_u128(100));
        assert!(idx.find("123457", today).is_none());
    }

    #[test]
    fn a_bad_schedule_is_rejected_whole() {
        let mut s = sample(&[("123456", 10, 30, VisitStatus::Scheduled)]);
        s.days[0].pin_key = "short".into();
        assert!(ScheduleIndex::new(s).is_err());
        let mut s = sample(&[
            ("1", 10, 30, VisitStatus::Scheduled),
            ("1", 12, 30, VisitStatus::Scheduled),
        ]);
        assert!(
            ScheduleIndex::new(s.clone())
                .unwrap_err()
                .0
                .contains("share a PIN")
        );
        s.facility.time_zone = "Nowhere/Land".into();
        assert!(ScheduleIndex::new(s).is_err());
        let mut s = sample(&[("123456", 10, 30, VisitStatus::Scheduled)]);
        s.days[0].visits[0].end = s.days[0].visits[0].start;
        assert!(ScheduleIndex::new(s).is_err());
    }
}
