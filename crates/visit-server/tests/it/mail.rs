//! Confirmations leave by SMTP with their PIN; the PIN then leaves the database.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use visit_server::config::SmtpConfig;

use crate::util::*;

/// A minimal SMTP relay on loopback that hands each message's data to `tx`.
async fn fake_relay() -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 relay.test ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            tx.send(data.take().unwrap()).unwrap();
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-relay.test\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            w.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

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
            let sealed: Option<Vec<u8>> = s
                .sql()
                .query_row("SELECT sealed_pin FROM outbox", [], |r| r.get(0))
                .unwrap();
            assert!(sealed.is_some(), "the PIN must wait for the next attempt");
            s.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the failed delivery was never recorded");
}
