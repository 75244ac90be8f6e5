//! Confirmations leave by SMTP with their PIN; the PIN then leaves the database.

use std::time::Duration;

use serde_json::json;
use visit_server::config::SmtpConfig;

use crate::util::*;

#[tokio::test]
async fn confirmation_is_mailed_with_the_pin_which_is_then_erased() {
    let (port, mut inbox) = fake_relay().await;
    let s = TestServer::start_with(Some(SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        from: "Visits <visits@jail.example>".into(),
    }))
    .await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let v = s.approved_adult(p, "Maria Smith").await;
    let (visit, pin) = s
        .book_ok(p, &[v], "onsite", local(2026, 11, 19, 10, 0))
        .await;

    let mail = tokio::time::timeout(Duration::from_secs(20), inbox.recv())
        .await
        .expect("a mail within 20 s")
        .unwrap();
    assert!(mail.contains("To: maria.smith@example.org"), "{mail}");
    assert!(mail.contains(&format!("PIN: {pin}")), "{mail}");
    assert!(mail.contains(&visit.to_string()), "{mail}");

    // Marked sent, and the sealed PIN is gone.
    for _ in 0..100 {
        let (sent, sealed): (Option<i64>, Option<Vec<u8>>) = s
            .sql()
            .query_row(
                "SELECT sent_at, sealed_pin FROM outbox WHERE visit_id = ?1",
                [visit.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        if sent.is_some() {
            assert!(sealed.is_none());
            s.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox never recorded the message as sent");
}

#[tokio::test]
async fn an_unreachable_relay_loses_nothing() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = TestServer::start_with(Some(SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        from: "visits@jail.example".into(),
    }))
    .await;
    let f = s.facility(1).await;
    let p = s.person(&f, "A1", "James Smith", f.unit_a, json!([])).await;
    let v = s.approved_adult(p, "Maria Smith").await;
    s.book_ok(p, &[v], "remote", local(2026, 11, 19, 10, 0))
        .await;
    for _ in 0..200 {
        let (_, outbox) = s.admin_get("/api/v1/admin/outbox").await;
        if outbox[0]["last_error"].is_string() {
            assert_eq!(outbox[0]["sent_at"], serde_json::Value::Null);
            let (pin, token): (Option<Vec<u8>>, Option<Vec<u8>>) = s
                .sql()
                .query_row("SELECT sealed_pin, sealed_token FROM outbox", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap();
            assert!(pin.is_some(), "the PIN must wait for the next attempt");
            assert!(token.is_some(), "so must the remote visitor's join token");
            s.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the failed delivery was never recorded");
}
