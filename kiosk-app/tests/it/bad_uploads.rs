//! Recording uploads against a misbehaving server (the schedule and
//! heartbeat of `bad_server`, and scripted recording endpoints): a
//! segment is stored exactly once whatever goes wrong on the way, dropped
//! only when the server refuses the visit's recording, and its file is
//! never deleted before the server said `complete`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use protocol::ErrorBody;
use protocol::recording::{SegmentMeta, SegmentStatus};
use protocol::terminal::EnrolResponse;
use protocol::{TerminalRole, error::codes};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::bad_server::{heartbeat_route, schedule_route};
use crate::util::*;

/// What the server does wrong with one visit's segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// It already holds the first 1000 bytes but declares 0: the first PUT
    /// is answered `segment_offset`.
    Offset,
    /// The first complete upload is answered `segment_hash_mismatch` (and
    /// dropped).
    HashOnce,
    /// The first PUT keeps half its bytes and drops the connection.
    DropMidPut,
    /// `recording_refused` (a confidential visit).
    Refuse,
}

/// One segment as the server sees it.
struct Held {
    fault: Fault,
    fault_done: bool,
    file: PathBuf,
    meta: Option<SegmentMeta>,
    bytes: Vec<u8>,
    stored: u32,
    /// A PUT came while the terminal's file was already gone.
    deleted_early: bool,
}

type Fake = Arc<Mutex<HashMap<Uuid, Held>>>;

fn refuse(status: StatusCode, code: &str) -> Response {
    let body = ErrorBody {
        error: code.into(),
        message: format!("scripted {code}"),
    };
    (status, Json(body)).into_response()
}

fn status(id: Uuid, h: &Held) -> Json<SegmentStatus> {
    Json(SegmentStatus {
        id,
        received: h.bytes.len() as u64,
        complete: h.stored > 0,
    })
}

async fn declare(State(fake): State<Fake>, Json(meta): Json<SegmentMeta>) -> Response {
    let mut fake = fake.lock().unwrap();
    let id = meta.id;
    let Some(h) = fake
        .get_mut(&meta.visit_id)
        .filter(|h| h.file.ends_with(segment_name(&meta)))
    else {
        return refuse(StatusCode::NOT_FOUND, "not_found");
    };
    if h.fault == Fault::Refuse {
        return refuse(StatusCode::FORBIDDEN, codes::RECORDING_REFUSED);
    }
    if h.meta.as_ref().is_some_and(|m| *m != meta) {
        return refuse(StatusCode::CONFLICT, codes::SEGMENT_CONFLICT);
    }
    h.meta = Some(meta);
    if h.fault == Fault::Offset && !h.fault_done {
        // It holds more than it says.
        let file = std::fs::read(&h.file).unwrap();
        h.bytes = file[..1000].to_vec();
        return Json(SegmentStatus {
            id,
            received: 0,
            complete: false,
        })
        .into_response();
    }
    status(id, h).into_response()
}

fn segment_name(meta: &SegmentMeta) -> String {
    format!("{}-{}-{}.mkv", meta.party, meta.track, meta.index)
}

fn held(fake: &mut HashMap<Uuid, Held>, id: Uuid) -> Option<&mut Held> {
    fake.values_mut()
        .find(|h| h.meta.as_ref().is_some_and(|m| m.id == id))
}

async fn put(
    State(fake): State<Fake>,
    Path(id): Path<Uuid>,
    Query(q): Query<HashMap<String, u64>>,
    body: axum::body::Bytes,
) -> Response {
    let mut fake = fake.lock().unwrap();
    let Some(h) = held(&mut fake, id) else {
        return refuse(StatusCode::NOT_FOUND, "not_found");
    };
    if !h.file.exists() {
        h.deleted_early = true;
    }
    if h.fault == Fault::Offset && !h.fault_done {
        h.fault_done = true;
        return refuse(StatusCode::CONFLICT, codes::SEGMENT_OFFSET);
    }
    if q.get("offset").copied() != Some(h.bytes.len() as u64) {
        return refuse(StatusCode::CONFLICT, codes::SEGMENT_OFFSET);
    }
    if h.fault == Fault::DropMidPut && !h.fault_done {
        h.fault_done = true;
        h.bytes.extend_from_slice(&body[..body.len() / 2]);
        drop(fake);
        // A panicking handler drops the connection without an answer.
        panic!("scripted: the connection drops mid-PUT");
    }
    h.bytes.extend_from_slice(&body);
    let meta = h.meta.clone().unwrap();
    if h.bytes.len() as u64 == meta.size {
        let hex: String = Sha256::digest(&h.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let scripted = h.fault == Fault::HashOnce && !h.fault_done;
        if scripted || hex != meta.sha256 {
            h.fault_done = true;
            h.bytes.clear();
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::SEGMENT_HASH_MISMATCH,
            );
        }
        h.stored += 1;
    }
    status(id, h).into_response()
}

async fn get_status(State(fake): State<Fake>, Path(id): Path<Uuid>) -> Response {
    let mut fake = fake.lock().unwrap();
    match held(&mut fake, id) {
        Some(h) => status(id, h).into_response(),
        None => refuse(StatusCode::NOT_FOUND, "not_found"),
    }
}

/// Bytes that look like nothing in particular, different for each seed.
fn contents(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

#[test]
fn segments_are_stored_once_through_offsets_mismatches_and_drops_and_dropped_only_when_refused() {
    let faults = [
        Fault::None,
        Fault::Offset,
        Fault::HashOnce,
        Fault::DropMidPut,
        Fault::Refuse,
    ];
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Segments a crash left behind: registered at start, then uploaded.
    let fake: Fake = Arc::default();
    let mut files = Vec::new();
    for (i, fault) in faults.iter().enumerate() {
        let (visit, party) = (Uuid::from_u128(100 + i as u128), Uuid::from_u128(7));
        let vdir = data.join("recordings").join(visit.to_string());
        std::fs::create_dir_all(&vdir).unwrap();
        let file = vdir.join(format!("{party}-0-0.mkv"));
        let bytes = contents(i as u8, 300_000 + i * 1000);
        std::fs::write(&file, &bytes).unwrap();
        files.push((*fault, file.clone(), bytes));
        fake.lock().unwrap().insert(
            visit,
            Held {
                fault: *fault,
                fault_done: false,
                file,
                meta: None,
                bytes: Vec::new(),
                stored: 0,
                deleted_early: false,
            },
        );
    }
    let url = serve(fake.clone());
    kiosk_app::identity::save(
        &data,
        &EnrolResponse {
            terminal_id: Uuid::from_u128(2),
            facility_id: Uuid::from_u128(1),
            role: TerminalRole::Lobby,
            location: "Lobby 1".into(),
            credential: "fake".into(),
        },
    )
    .unwrap();
    let k = Kiosk::start(&kiosk_config(dir.path(), &url, "unused"));

    // Every file leaves the terminal: stored, or refused.
    let until = Instant::now() + Duration::from_secs(30);
    while files.iter().any(|(_, f, _)| f.exists()) {
        assert!(Instant::now() < until, "files still waiting: {files:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let fake = fake.lock().unwrap();
    for (fault, file, bytes) in &files {
        let h = fake.values().find(|h| h.file == *file).unwrap();
        assert!(!h.deleted_early, "{fault:?}: the file went before complete");
        if *fault == Fault::Refuse {
            assert_eq!(h.stored, 0, "{fault:?}");
            assert!(h.bytes.is_empty(), "{fault:?}");
        } else {
            assert_eq!(h.stored, 1, "{fault:?}: stored exactly once");
            assert!(
                h.bytes == *bytes,
                "{fault:?}: the server has the file's bytes"
            );
            assert!(h.fault == Fault::None || h.fault_done, "{fault:?} happened");
        }
    }
    // Nothing of them waits in the outbox.
    let c = rusqlite::Connection::open(data.join("outbox.db")).unwrap();
    let rows: i64 = c
        .query_row("SELECT count(*) FROM segments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
    k.quit();
}

/// The fake server on loopback, on its own runtime (kept for the test).
fn serve(fake: Fake) -> String {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", std_listener.local_addr().unwrap());
    let mode = Arc::new(std::sync::atomic::AtomicU8::new(0));
    let terminal = Router::new()
        .route("/api/v1/terminal/schedule", get(schedule_route))
        .route("/api/v1/terminal/heartbeat", post(heartbeat_route))
        .with_state(mode);
    let recordings = Router::new()
        .route("/api/v1/terminal/recordings", post(declare))
        .route("/api/v1/terminal/recordings/{id}", get(get_status).put(put))
        .layer(DefaultBodyLimit::disable())
        .with_state(fake);
    let app = terminal.merge(recordings);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            axum::serve(listener, app).await
        })
    });
    url
}
