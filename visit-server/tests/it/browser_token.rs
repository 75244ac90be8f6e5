//! A housing-unit terminal's browser token: the web page as the person's
//! side (a browser-based kiosk). Only the person's unit terminal gets one,
//! for its visit, and it works until the visit's end.

use protocol::signal::{ServerMessage, Side};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::sockets::{connect_token, next};
use crate::util::*;

/// Open the signalling socket with `?token=`: the first message, or the
/// refusal's status and body.
async fn signal(s: &TestServer, visit: Uuid, token: &str) -> Result<ServerMessage, (u16, Value)> {
    let mut ws = connect_token(s, visit, token).await?;
    Ok(next(&mut ws).await)
}

async fn ask(s: &TestServer, visit: Uuid, credential: Option<&str>) -> (StatusCode, Value) {
    s.send(
        reqwest::Method::POST,
        &format!("/api/v1/terminal/visits/{visit}/browser-token"),
        credential,
        None,
    )
    .await
}

async fn page(s: &TestServer, path: &str) -> (StatusCode, String) {
    let r = s
        .http
        .get(format!("{}{path}", s.base))
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn only_the_persons_unit_terminal_gets_a_browser_token_and_it_works_until_the_end() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let james = s
        .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
        .await;
    let maria = s.approved_adult(james, "Maria Smith").await;
    let (visit, _) = s
        .book_ok(james, &[maria], "remote", local(2026, 11, 19, 10, 0))
        .await;
    let unit = s.enrol(&f.unit_a_terminal.1).await;
    let lobby = s.enrol(&f.lobbies[0].1).await;
    let pod_b = s
        .create(
            &format!("/api/v1/admin/facilities/{}/terminals", f.id),
            json!({"role": "unit", "location": "Pod B dayroom", "housing_unit_id": f.unit_b}),
        )
        .await;
    let pod_b = s.enrol(pod_b["code"].as_str().unwrap()).await;

    // No credential, a lobby, and another unit's terminal get nothing.
    assert_eq!(ask(&s, visit, None).await.0, StatusCode::UNAUTHORIZED);
    let (st, body) = ask(&s, visit, Some(&lobby)).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    let (st, body) = ask(&s, visit, Some(&pod_b)).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        ask(&s, Uuid::new_v4(), Some(&unit)).await.0,
        StatusCode::NOT_FOUND
    );

    // James's unit terminal gets one, valid until the visit's end.
    let (st, t) = ask(&s, visit, Some(&unit)).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let token = t["token"].as_str().unwrap().to_string();
    let end: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(t["expires_at"].clone()).unwrap();
    assert_eq!(end, local(2026, 11, 19, 10, 30));
    assert_eq!(
        t["page"].as_str().unwrap(),
        format!("/join/{visit}?token={token}")
    );
    // The page opens as the person's side.
    let (st, html) = page(&s, t["page"].as_str().unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("data-side=\"person\""));

    // The signalling socket takes it as the person's side of this visit.
    s.clock.set(local(2026, 11, 19, 9, 58));
    match signal(&s, visit, &token).await {
        Ok(ServerMessage::Welcome { side, you, .. }) => {
            assert_eq!((side, you), (Side::Person, f.unit_a_terminal.0));
        }
        other => panic!("{other:?}"),
    }

    // A tampered token, or the token on another visit, is refused.
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (st, body) = signal(&s, visit, &tampered).await.err().unwrap();
    assert_eq!((st, body["error"].as_str().unwrap()), (401, "unauthorized"));
    assert_eq!(
        signal(&s, Uuid::new_v4(), &token).await.err().unwrap().0,
        401
    );
    assert_eq!(
        page(&s, &format!("/join/{visit}?token={tampered}")).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Once the visit's end has come, the token is worth nothing.
    s.clock.set(end);
    let (st, body) = signal(&s, visit, &token).await.err().unwrap();
    assert_eq!((st, body["error"].as_str().unwrap()), (401, "unauthorized"));
    assert_eq!(
        page(&s, t["page"].as_str().unwrap()).await.0,
        StatusCode::UNAUTHORIZED
    );
    s.stop().await;
}
