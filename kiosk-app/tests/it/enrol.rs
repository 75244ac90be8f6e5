//! Enrolment against a real server: an expired code is told as expired
//! (from the server's error code, not its wording), a wrong one as wrong.

use chrono::Duration;
use kiosk_app::config::Config;
use kiosk_app::terminal::{EnrolError, enrol};

use crate::util::*;

fn attempt(server: &Server, code: &str) -> Result<(), EnrolError> {
    let dir = tempfile::tempdir().unwrap();
    let path = kiosk_config(dir.path(), &server.url(), code);
    let cfg = Config::load(Some(&path), |_| None).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    enrol(&cfg, code, &rt).map(|_| ())
}

#[test]
fn an_expired_enrolment_code_is_told_as_expired_and_a_wrong_one_as_invalid() {
    let (server, seeded) = Server::seeded();
    assert_eq!(attempt(&server, "000000000000"), Err(EnrolError::Invalid));
    // Codes last 72 hours.
    server.clock.advance(Duration::hours(73));
    let e = attempt(&server, &seeded.lobby_code).unwrap_err();
    assert_eq!(e, EnrolError::Expired);
    assert!(
        e.to_string()
            .contains("ask the administrator for a new one"),
        "{e}"
    );
}
