//! The words of the mail a visit sends: the booking confirmations and the
//! cancellation notice, composed from plain values.
//!
//! Kept apart from the transactions that queue them so the wording lives in
//! one place and can be read (and tested) without a database. Secrets never
//! pass through here: a body carries [`outbox`]'s placeholders for the PIN,
//! the join token and the public address, which the outbox fills in only
//! when it hands the message to the mail server.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use protocol::admin::{CancelledBy, Charge};
use uuid::Uuid;

use super::outbox;
use crate::domain::names::initials;
use crate::domain::policy::Kind;

/// A subject and a body, ready to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub body: String,
}

/// What a booking confirmation says.
#[derive(Debug, Clone, Copy)]
pub struct Booked<'a> {
    pub visit_id: Uuid,
    pub kind: Kind,
    /// The incarcerated person's full name; the letter shows only initials.
    pub person_name: &'a str,
    pub facility_name: &'a str,
    pub tz: Tz,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// How early a visitor may check in or join.
    pub visitor_early: Duration,
    /// Never recorded nor monitored: the letter says so, instead of that
    /// the visit is recorded.
    pub confidential: bool,
}

/// One confirmation per visitor who gets one, in the visit's visitor order.
///
/// On-site: only the booking visitor is written to, with the PIN. Remote:
/// every visitor joins from their own device, so each gets a confirmation
/// with their own join link; the booking visitor's also carries the PIN.
pub fn confirmations(b: &Booked<'_>, visitors: usize) -> Vec<Letter> {
    let count = match b.kind {
        Kind::Onsite => visitors.min(1),
        Kind::Remote => visitors,
    };
    let start = b.start.with_timezone(&b.tz);
    let end = b.end.with_timezone(&b.tz);
    let what = format!(
        "Your {} video visit with {} at {} is booked.\n\n\
         When: {} from {} to {} ({})",
        match b.kind {
            Kind::Onsite => "on-site",
            Kind::Remote => "remote",
        },
        initials(b.person_name),
        b.facility_name,
        start.format("%A %-d %B %Y"),
        start.format("%H:%M"),
        end.format("%H:%M"),
        b.tz.name(),
    );
    let how = how_to_come(b);
    let subject = format!("Visit confirmed: {}", start.format("%a %-d %b %H:%M"));
    (0..count)
        .map(|pos| {
            let mut body = what.clone();
            if pos == 0 {
                body.push_str(&format!("\nPIN: {}", outbox::PIN_PLACEHOLDER));
            }
            body.push_str(&format!("\n\n{how}\n\n{}\n", recording_notice(b.confidential)));
            if b.kind == Kind::Remote {
                body.push_str(&format!(
                    "\nYour join link (only for you; it works until the visit ends):\n{}/join/{}?token={}\n",
                    outbox::PUBLIC_URL_PLACEHOLDER,
                    b.visit_id,
                    outbox::TOKEN_PLACEHOLDER
                ));
            }
            body.push_str(&format!("\nVisit id: {}\n", b.visit_id));
            Letter {
                subject: subject.clone(),
                body,
            }
        })
        .collect()
}

/// What every visitor is told about recording, in English and Spanish (the
/// join page says the same).
pub fn recording_notice(confidential: bool) -> &'static str {
    if confidential {
        "This visit is confidential: it is not recorded or monitored.\n\
         Esta visita es confidencial: no se graba ni se supervisa."
    } else {
        "This visit is recorded and may be monitored.\n\
         Esta visita se graba y puede ser supervisada."
    }
}

fn how_to_come(b: &Booked<'_>) -> String {
    let early = b.visitor_early.num_minutes();
    match b.kind {
        Kind::Onsite => format!(
            "Come to the lobby of {} and enter your PIN at a visitation monitor. \
             Check-in opens {early} minute(s) before the start.",
            b.facility_name,
        ),
        Kind::Remote => format!(
            "Join from your own device with camera and microphone. You may join {early} minute(s) \
             before the start."
        ),
    }
}

/// What a cancellation notice says.
#[derive(Debug, Clone, Copy)]
pub struct Cancelled<'a> {
    pub visit_id: Uuid,
    pub by: CancelledBy,
    pub reason: &'a str,
    pub facility_name: &'a str,
    pub tz: Tz,
    pub start: DateTime<Utc>,
    pub price_cents: u32,
    /// The charge after the cancellation.
    pub charge: Charge,
}

/// The notice sent to each visitor told of a cancellation.
pub fn cancellation(c: &Cancelled<'_>) -> Letter {
    let when = c.start.with_timezone(&c.tz).format("%A %-d %B %Y at %H:%M");
    let money = match c.charge {
        Charge::Credited => format!(
            " The ${}.{:02} you paid has been credited to your account.",
            c.price_cents / 100,
            c.price_cents % 100
        ),
        Charge::Waived => " You will not be charged for it.".to_string(),
        Charge::Forfeited => {
            " It was cancelled less than 48 hours ahead, so no credit is given.".to_string()
        }
        Charge::Free | Charge::Charged => String::new(),
    };
    let by_whom = match c.by {
        CancelledBy::Facility => format!("{} cancelled", c.facility_name),
        CancelledBy::Visitor => "You cancelled".to_string(),
    };
    Letter {
        subject: "Visit cancelled".to_string(),
        body: format!(
            "{by_whom} your visit on {when}.\nReason: {}.{money}\n\nVisit id: {}\n",
            c.reason, c.visit_id
        ),
    }
}

/// The letters a rescheduled visit sends: the booking's confirmations (a
/// new PIN and new join links), each opening with where the visit moved from.
pub fn rescheduled(b: &Booked<'_>, from: DateTime<Utc>, visitors: usize) -> Vec<Letter> {
    let was = from.with_timezone(&b.tz).format("%A %-d %B %Y at %H:%M");
    let subject = format!(
        "Visit moved: {}",
        b.start.with_timezone(&b.tz).format("%a %-d %b %H:%M")
    );
    confirmations(b, visitors)
        .into_iter()
        .map(|l| Letter {
            subject: subject.clone(),
            body: format!(
                "Your visit on {was} has been moved. The earlier PIN and join link no longer \
                 work; use these.\n\n{}",
                l.body
            ),
        })
        .collect()
}

/// The notice that staff could not accept a visitor's photo ID.
pub fn photo_id_denied(visitor_name: &str, reason: &str) -> Letter {
    Letter {
        subject: "Your photo ID could not be accepted".to_string(),
        body: format!(
            "Dear {visitor_name},\n\nThe facility could not accept the photo ID you registered \
             with.\nReason: {reason}\n\nYou cannot book visits until a valid photo ID is checked. \
             Please register it again.\n"
        ),
    }
}

/// The notice that a request to be on a person's approved list was denied.
pub fn approval_denied(
    visitor_name: &str,
    person_name: &str,
    facility_name: &str,
    reason: &str,
) -> Letter {
    Letter {
        subject: "Your visitor request was denied".to_string(),
        body: format!(
            "Dear {visitor_name},\n\n{facility_name} denied your request to visit {}.\n\
             Reason: {reason}\n",
            initials(person_name)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn booked(kind: Kind) -> Booked<'static> {
        let start = Utc.with_ymd_and_hms(2026, 3, 5, 15, 0, 0).unwrap();
        Booked {
            visit_id: Uuid::nil(),
            kind,
            person_name: "James Carter",
            facility_name: "North",
            tz: chrono_tz::America::Chicago,
            start,
            end: start + Duration::minutes(30),
            visitor_early: Duration::minutes(10),
            confidential: false,
        }
    }

    #[test]
    fn an_onsite_booking_writes_only_to_the_booking_visitor_with_the_pin() {
        let letters = confirmations(&booked(Kind::Onsite), 3);
        assert_eq!(letters.len(), 1);
        let body = &letters[0].body;
        assert!(
            body.contains("on-site video visit with J. C. at North"),
            "{body}"
        );
        assert!(
            body.contains("from 09:00 to 09:30 (America/Chicago)"),
            "{body}"
        );
        assert!(body.contains(outbox::PIN_PLACEHOLDER), "{body}");
        assert!(!body.contains("join link"), "{body}");
        assert_eq!(letters[0].subject, "Visit confirmed: Thu 5 Mar 09:00");
        assert!(
            body.contains("This visit is recorded and may be monitored."),
            "{body}"
        );
        let private = Booked {
            confidential: true,
            ..booked(Kind::Onsite)
        };
        let body = &confirmations(&private, 1)[0].body;
        assert!(
            body.contains("confidential: it is not recorded or monitored"),
            "{body}"
        );
        assert!(!body.contains("is recorded and may be"), "{body}");
    }

    #[test]
    fn a_remote_booking_gives_each_visitor_a_link_and_only_the_first_the_pin() {
        let letters = confirmations(&booked(Kind::Remote), 2);
        assert_eq!(letters.len(), 2);
        assert!(letters[0].body.contains(outbox::PIN_PLACEHOLDER));
        assert!(!letters[1].body.contains(outbox::PIN_PLACEHOLDER));
        for l in &letters {
            assert!(l.body.contains(outbox::TOKEN_PLACEHOLDER), "{}", l.body);
        }
    }

    #[test]
    fn a_credited_cancellation_says_how_much_comes_back() {
        let letter = cancellation(&Cancelled {
            visit_id: Uuid::nil(),
            by: CancelledBy::Visitor,
            reason: "ill",
            facility_name: "North",
            tz: chrono_tz::America::Chicago,
            start: Utc.with_ymd_and_hms(2026, 3, 5, 15, 0, 0).unwrap(),
            price_cents: 550,
            charge: Charge::Credited,
        });
        assert!(letter.body.starts_with("You cancelled your visit on Thursday 5 March 2026 at 09:00.\nReason: ill. The $5.50"), "{}", letter.body);
    }
}
