//! A housing-unit terminal uploads a visit's recording: segments declared,
//! sent in chunks from the offset the server holds, stored once and only
//! when their hash matches; confidential visits and terminals that may not
//! record a visit are refused.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::util::*;

/// A remote visit of a person in unit A, with the unit's terminal enrolled.
pub struct Recorded {
    pub s: TestServer,
    pub f: Facility,
    pub visit: Uuid,
    pub person: Uuid,
    pub visitor: Uuid,
    pub unit: String,
}

pub async fn a_visit() -> Recorded {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let person = s
        .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
        .await;
    let visitor = s.approved_adult(person, "Maria Smith").await;
    let (visit, _) = s
        .book_ok(person, &[visitor], "remote", local(2026, 11, 19, 10, 0))
        .await;
    let unit = s.enrol(&f.unit_a_terminal.1).await;
    Recorded {
        s,
        f,
        visit,
        person,
        visitor,
        unit,
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The declaration of `bytes` as segment `index` of track 0 of `party`.
pub fn meta(visit: Uuid, party: Uuid, role: &str, index: u32, bytes: &[u8]) -> Value {
    json!({
        "id": Uuid::new_v4(), "visit_id": visit, "role": role, "party": party,
        "track": 0, "index": index,
        "started_at": local(2026, 11, 19, 10, 1) + chrono::Duration::seconds(2 * i64::from(index)),
        "duration_ms": 2000, "size": bytes.len(), "sha256": sha256_hex(bytes),
        "media_type": "video/x-matroska",
    })
}

pub async fn declare(s: &TestServer, terminal: &str, meta: &Value) -> (StatusCode, Value) {
    s.send(
        Method::POST,
        "/api/v1/terminal/recordings",
        Some(terminal),
        Some(meta),
    )
    .await
}

pub async fn put(
    s: &TestServer,
    terminal: &str,
    id: &Value,
    offset: usize,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let res = s
        .http
        .put(format!(
            "{}/api/v1/terminal/recordings/{}?offset={offset}",
            s.base,
            id.as_str().unwrap()
        ))
        .bearer_auth(terminal)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

/// Declare and send `bytes` in chunks of `chunk`; the last answer.
pub async fn upload(
    s: &TestServer,
    terminal: &str,
    meta: &Value,
    bytes: &[u8],
    chunk: usize,
) -> Value {
    let (st, v) = declare(s, terminal, meta).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut last = v;
    for (i, part) in bytes.chunks(chunk).enumerate() {
        let (st, v) = put(s, terminal, &meta["id"], i * chunk, part).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        last = v;
    }
    last
}

pub fn recordings_dir(s: &TestServer) -> std::path::PathBuf {
    s.db_path.parent().unwrap().join("recordings")
}

fn history_events(s: &TestServer, visit: Uuid, event: &str) -> usize {
    s.sql()
        .query_row(
            "SELECT COUNT(*) FROM visit_history WHERE visit_id = ?1 AND event = ?2",
            [visit.to_string(), event.to_string()],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as usize
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
}

#[tokio::test]
async fn a_segment_sent_in_chunks_is_stored_once_and_said_complete() {
    let r = a_visit().await;
    let data = bytes(300_000, 7);
    let m = meta(r.visit, r.f.unit_a_terminal.0, "person", 0, &data);
    let done = upload(&r.s, &r.unit, &m, &data, 128 * 1024).await;
    assert_eq!(done["complete"], true, "{done}");
    assert_eq!(done["received"], 300_000);

    // The file is where the console reads it, byte for byte, with the manifest.
    let dir = recordings_dir(&r.s).join(r.visit.to_string());
    let stored = std::fs::read(dir.join(format!("{}-0-0.mkv", r.f.unit_a_terminal.0))).unwrap();
    assert_eq!(stored, data);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["entries"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["entries"][0]["meta"]["sha256"], m["sha256"]);
    assert!(
        !dir.join(".partial")
            .join(m["id"].as_str().unwrap())
            .exists()
    );

    // Declared again, sent again, asked: the same answer, nothing written twice.
    let (st, again) = declare(&r.s, &r.unit, &m).await;
    assert_eq!(
        (st, again["complete"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (st, again) = put(&r.s, &r.unit, &m["id"], 0, &data[..1000]).await;
    assert_eq!(
        (st, again["complete"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (st, asked) =
        r.s.send(
            Method::GET,
            &format!("/api/v1/terminal/recordings/{}", m["id"].as_str().unwrap()),
            Some(&r.unit),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(asked, done);
    assert_eq!(
        std::fs::read(dir.join(format!("{}-0-0.mkv", r.f.unit_a_terminal.0))).unwrap(),
        data
    );
    let rows: i64 =
        r.s.sql()
            .query_row("SELECT COUNT(*) FROM recording_segments", [], |x| x.get(0))
            .unwrap();
    assert_eq!(rows, 1);
    // The visit's history says recording was stored, once per track.
    assert_eq!(history_events(&r.s, r.visit, "recording_stored"), 1);
    r.s.stop().await;
}

#[tokio::test]
async fn a_wrong_offset_is_told_where_to_resume_and_an_interrupted_upload_resumes() {
    let r = a_visit().await;
    let data = bytes(50_000, 3);
    let m = meta(r.visit, r.f.unit_a_terminal.0, "person", 0, &data);
    declare(&r.s, &r.unit, &m).await;
    let (st, v) = put(&r.s, &r.unit, &m["id"], 0, &data[..20_000]).await;
    assert_eq!((st, v["received"].clone()), (StatusCode::OK, json!(20_000)));

    // Out of order: refused, the server says where it is.
    let (st, v) = put(&r.s, &r.unit, &m["id"], 30_000, &data[30_000..]).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["error"], "segment_offset");
    assert!(v["message"].as_str().unwrap().contains("20000"), "{v}");

    // A crash left bytes after the last acknowledged offset: they are dropped.
    let partial = recordings_dir(&r.s)
        .join(r.visit.to_string())
        .join(".partial")
        .join(m["id"].as_str().unwrap());
    let mut junk = std::fs::read(&partial).unwrap();
    junk.extend_from_slice(&[0xEE; 5000]);
    std::fs::write(&partial, junk).unwrap();

    // More than one request may carry: refused before it is read whole.
    let huge = vec![0u8; protocol::recording::MAX_CHUNK_BYTES + 1];
    let (st, v) = put(&r.s, &r.unit, &m["id"], 20_000, &huge).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::PAYLOAD_TOO_LARGE, json!("body_too_large"))
    );

    // Beyond the declared size: refused.
    let mut too_long = data[20_000..].to_vec();
    too_long.push(0);
    let (st, _) = put(&r.s, &r.unit, &m["id"], 20_000, &too_long).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    let (st, v) = put(&r.s, &r.unit, &m["id"], 20_000, &data[20_000..]).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["complete"], true);
    r.s.stop().await;
}

#[tokio::test]
async fn bytes_that_do_not_match_the_hash_are_dropped_and_sent_again() {
    let r = a_visit().await;
    let data = bytes(40_000, 9);
    let m = meta(r.visit, r.f.unit_a_terminal.0, "person", 0, &data);
    declare(&r.s, &r.unit, &m).await;
    let mut damaged = data.clone();
    damaged[12_345] ^= 0xFF;
    let (st, v) = put(&r.s, &r.unit, &m["id"], 0, &damaged).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "segment_hash_mismatch");
    let partial = recordings_dir(&r.s)
        .join(r.visit.to_string())
        .join(".partial")
        .join(m["id"].as_str().unwrap());
    assert!(!partial.exists(), "the damaged bytes were kept");
    let (_, asked) =
        r.s.send(
            Method::GET,
            &format!("/api/v1/terminal/recordings/{}", m["id"].as_str().unwrap()),
            Some(&r.unit),
            None,
        )
        .await;
    assert_eq!(asked["received"], 0);
    let (st, v) = put(&r.s, &r.unit, &m["id"], 0, &data).await;
    assert_eq!((st, v["complete"].clone()), (StatusCode::OK, json!(true)));
    r.s.stop().await;
}

#[tokio::test]
async fn a_segment_declared_with_other_contents_is_a_conflict() {
    let r = a_visit().await;
    let data = bytes(1000, 1);
    let m = meta(r.visit, r.f.unit_a_terminal.0, "person", 0, &data);
    declare(&r.s, &r.unit, &m).await;
    let mut other = m.clone();
    other["size"] = json!(999);
    let (st, v) = declare(&r.s, &r.unit, &other).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::CONFLICT, json!("segment_conflict"))
    );
    // Another id for the same party, track and index.
    let same_place = meta(r.visit, r.f.unit_a_terminal.0, "person", 0, &bytes(1000, 2));
    let (st, v) = declare(&r.s, &r.unit, &same_place).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::CONFLICT, json!("segment_conflict"))
    );
    // Malformed declarations are told what is wrong.
    let mut bad = meta(r.visit, r.f.unit_a_terminal.0, "person", 1, &data);
    bad["sha256"] = json!("XYZ");
    let (st, v) = declare(&r.s, &r.unit, &bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    bad["sha256"] = m["sha256"].clone();
    bad["size"] = json!(300u64 * 1024 * 1024);
    let (st, _) = declare(&r.s, &r.unit, &bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    r.s.stop().await;
}

#[tokio::test]
async fn a_confidential_visit_is_never_recorded_and_its_history_says_so_once() {
    let r = a_visit().await;
    let visit = r.visit;
    r.s.service(|c, ctx| {
        visit_server::service::confidential::set(c, ctx, None, visit, true).unwrap()
    });
    // The unit terminal's schedule says so.
    r.s.clock.set(local(2026, 11, 19, 9, 0));
    let (_, schedule) =
        r.s.send(
            Method::GET,
            "/api/v1/terminal/schedule",
            Some(&r.unit),
            None,
        )
        .await;
    assert_eq!(
        schedule["days"][0]["visits"][0]["confidential"], true,
        "{schedule}"
    );
    for index in 0..3 {
        let data = bytes(1000, index as u8);
        let m = meta(r.visit, r.f.unit_a_terminal.0, "person", index, &data);
        let (st, v) = declare(&r.s, &r.unit, &m).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_eq!(v["error"], "recording_refused");
    }
    assert_eq!(history_events(&r.s, r.visit, "recording_refused"), 1);
    assert!(!recordings_dir(&r.s).join(r.visit.to_string()).exists());
    r.s.stop().await;
}

#[tokio::test]
async fn only_a_terminal_of_the_persons_unit_may_record() {
    let r = a_visit().await;
    let lobby = r.s.enrol(&r.f.lobbies[0].1).await;
    let t =
        r.s.create(
            &format!("/api/v1/admin/facilities/{}/terminals", r.f.id),
            json!({"role": "unit", "location": "Pod B dayroom", "housing_unit_id": r.f.unit_b}),
        )
        .await;
    let other_unit = r.s.enrol(t["code"].as_str().unwrap()).await;
    let data = bytes(1000, 5);
    for terminal in [&lobby, &other_unit] {
        let m = meta(r.visit, r.visitor, "visitor", 0, &data);
        let (st, v) = declare(&r.s, terminal, &m).await;
        assert_eq!(
            (st, v["error"].clone()),
            (StatusCode::FORBIDDEN, json!("recording_refused"))
        );
    }
    // The unit's own terminal may; another terminal cannot read its segment.
    let m = meta(r.visit, r.visitor, "visitor", 0, &data);
    let (st, _) = declare(&r.s, &r.unit, &m).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = put(&r.s, &other_unit, &m["id"], 0, &data).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    r.s.stop().await;
}

#[tokio::test]
async fn the_same_bytes_sent_at_once_from_several_connections_are_stored_intact() {
    let r = a_visit().await;
    let data = bytes(2_000_000, 4);
    let m = meta(r.visit, r.f.unit_a_terminal.0, "person", 0, &data);
    declare(&r.s, &r.unit, &m).await;
    let answers =
        futures_util::future::join_all((0..4).map(|_| put(&r.s, &r.unit, &m["id"], 0, &data)))
            .await;
    // One stores it; the others are told it is stored, or where it is.
    for (st, v) in &answers {
        assert!(
            (*st == StatusCode::OK && v["complete"] == true)
                || (*st == StatusCode::CONFLICT && v["error"] == "segment_offset"),
            "{st} {v}"
        );
    }
    let stored = std::fs::read(
        recordings_dir(&r.s)
            .join(r.visit.to_string())
            .join(format!("{}-0-0.mkv", r.f.unit_a_terminal.0)),
    )
    .unwrap();
    assert!(stored == data, "the stored segment is not the bytes sent");
    r.s.stop().await;
}

#[tokio::test]
async fn a_recorded_visit_stays_recorded_and_strangers_or_finer_times_change_nothing() {
    let r = a_visit().await;
    let data = bytes(1000, 7);
    let mut m = meta(r.visit, r.f.unit_a_terminal.0, "person", 0, &data);
    // A terminal's clock gives nanoseconds; the server keeps milliseconds,
    // and the same declaration sent again (its answer lost) is the same.
    m["started_at"] = json!("2026-11-19T16:01:00.123456789Z");
    let (st, v) = declare(&r.s, &r.unit, &m).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = declare(&r.s, &r.unit, &m).await;
    assert_eq!(st, StatusCode::OK, "a repeated declaration: {v}");

    // Once a segment of the call is declared, the visit can no longer be
    // made confidential (it was recorded), and its bytes are still taken.
    let visit = r.visit;
    let refused = r.s.service(move |c, ctx| {
        visit_server::service::confidential::set(c, ctx, None, visit, true).is_err()
    });
    assert!(refused, "a recorded visit was marked confidential");
    let (st, v) = put(&r.s, &r.unit, &m["id"], 0, &data).await;
    assert_eq!(
        (st, v["complete"].clone()),
        (StatusCode::OK, json!(true)),
        "{v}"
    );

    // A party that is not in the call, or the person's seat claimed as a
    // visitor's, is refused.
    for (party, role) in [(Uuid::new_v4(), "visitor"), (r.visitor, "person")] {
        let (st, v) = declare(&r.s, &r.unit, &meta(r.visit, party, role, 1, &data)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{party} as {role}: {v}");
    }
    r.s.stop().await;
}
