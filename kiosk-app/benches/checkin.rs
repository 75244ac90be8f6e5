//! Lobby terminal figures (`cargo bench -p kiosk-app --bench checkin`):
//!
//! - the PIN check-in decision from the cache with 10,000 visits in the day
//!   (typing OK on a full PIN through the real state machine: one HMAC per
//!   cached day and a hash lookup), hits and misses, p50/p99;
//! - applying a 10,000-visit schedule as sync does: validate and index it
//!   (rejecting it whole if anything is wrong), then write it to the SQLite
//!   cache in the data directory.
//!
//! Medians are what to quote: the machine is shared and noisy.
//! `-- --quick` (what `.ci/run` runs) takes a tenth of the samples.

use std::time::{Duration as StdDuration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use hmac::{Hmac, Mac};
use kiosk_app::checkin::{Checkin, Effect, Input, Policy};
use kiosk_app::schedule::ScheduleIndex;
use kiosk_app::store::Store;
use protocol::terminal::{JoinPolicy, Schedule, ScheduleDay, ScheduleFacility, ScheduledVisit};
use protocol::{VisitKind, VisitStatus};
use sha2::Sha256;
use ui::{Lang, UiInput};
use uuid::Uuid;

const VISITS: usize = 10_000;

fn verifier(key: &[u8], pin: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(pin.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

fn pin(i: usize) -> String {
    format!("{:06}", (i * 7919 + 13) % 1_000_000)
}

fn schedule() -> Schedule {
    let tz = chrono_tz::America::Chicago;
    let key = [5u8; 32];
    let visits = (0..VISITS)
        .map(|i| {
            let start = tz
                .with_ymd_and_hms(2026, 11, 19, 8, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
                + Duration::minutes(((i / 100) % 5) as i64 * 120);
            ScheduledVisit {
                id: Uuid::from_u128(i as u128),
                kind: VisitKind::Onsite,
                start,
                end: start + Duration::hours(2),
                status: VisitStatus::Scheduled,
                person_display: "J. S.".into(),
                visitor_display: vec!["M. S.".into()],
                pin_verifier: verifier(&key, &pin(i)),
                person_id: None,
                visitor_checked_in: false,
                confidential: false,
            }
        })
        .collect();
    Schedule {
        version: "\"bench\"".into(),
        generated_at: Utc::now(),
        facility: ScheduleFacility {
            id: Uuid::from_u128(1),
            name: "Bench County Jail".into(),
            time_zone: "America/Chicago".into(),
            pin_length: 6,
            policies: vec![JoinPolicy {
                kind: VisitKind::Onsite,
                visitor_early_minutes: 1,
                person_early_minutes: 2,
            }],
        },
        days: vec![
            ScheduleDay {
                date: NaiveDate::from_ymd_opt(2026, 11, 19).unwrap(),
                pin_key: B64.encode(key),
                visits,
            },
            ScheduleDay {
                date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
                pin_key: B64.encode([6u8; 32]),
                visits: vec![],
            },
        ],
        persons: vec![],
    }
}

fn percentile(sorted: &[StdDuration], p: f64) -> StdDuration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<StdDuration>) {
    samples.sort();
    println!(
        "{name:<52} median {:>10.3?}  p99 {:>10.3?}  (n={})",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.len()
    );
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` only checks that this builds.
    }
    // A tenth of the samples: CI's check that the bench still runs.
    let quick = std::env::args().any(|a| a == "--quick");
    let n = |full: usize| if quick { full.div_ceil(10) } else { full };
    let wire = schedule();
    let bytes = serde_json::to_vec(&wire).unwrap();
    println!("schedule: {VISITS} visits, {} bytes of JSON", bytes.len());

    // Applying a schedule: parse, validate and index, save to SQLite.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (mut parse, mut index, mut save) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n(21) {
        let t = Instant::now();
        let parsed: Schedule = serde_json::from_slice(&bytes).unwrap();
        parse.push(t.elapsed());
        let t = Instant::now();
        let idx = ScheduleIndex::new(parsed.clone()).unwrap();
        index.push(t.elapsed());
        assert_eq!(idx.visit_count(), VISITS);
        let t = Instant::now();
        store.save_schedule(&parsed).unwrap();
        save.push(t.elapsed());
    }
    report("apply schedule: parse JSON", parse);
    report("apply schedule: validate + index", index);
    report("apply schedule: save to SQLite (synchronous=NORMAL)", save);

    // The check-in decision: OK pressed on a full PIN.
    let idx = ScheduleIndex::new(wire).unwrap();
    let now = chrono_tz::America::Chicago
        .with_ymd_and_hms(2026, 11, 19, 8, 30, 0)
        .unwrap()
        .with_timezone(&Utc);
    let (mut hits, mut misses) = (Vec::new(), Vec::new());
    for i in 0..n(2000) {
        let mut m = Checkin::new(
            Policy {
                max_attempts: u8::MAX,
                ..Policy::default()
            },
            Lang::En,
            now,
        );
        m.handle(Input::Ui(UiInput::TouchStart), now, Some(&idx));
        let typed = if i % 2 == 0 {
            pin(i * 3 % VISITS)
        } else {
            format!("{:06}", 999_999 - i)
        };
        for b in typed.bytes() {
            m.handle(Input::Ui(UiInput::Digit(b - b'0')), now, Some(&idx));
        }
        let t = Instant::now();
        let effects = m.handle(Input::Ui(UiInput::Submit), now, Some(&idx));
        let took = t.elapsed();
        let found = effects.iter().any(|e| matches!(e, Effect::CheckIn { .. }))
            || m.view(now, Some(&idx), false).screen == ui::Screen::Result;
        if found {
            hits.push(took)
        } else {
            misses.push(took)
        }
    }
    report("check-in decision, PIN found (10,000 visits)", hits);
    report("check-in decision, PIN not recognized", misses);

    // And the durable part of a check-in: the outbox write with fsync.
    let mut writes = Vec::new();
    for i in 0..n(200) as u128 {
        let t = Instant::now();
        store
            .record_check_in(Uuid::from_u128(1_000_000 + i), Utc::now())
            .unwrap();
        writes.push(t.elapsed());
    }
    report("record check-in in the outbox (synchronous=FULL)", writes);
}
