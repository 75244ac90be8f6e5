//! The recording's bytes for staff: one segment for the player (with
//! `Range`, which seeking needs), and the whole recording as a tar for an
//! administrator. Both stream from disk on a blocking thread, so a long
//! recording is never held in memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::super::page;
use super::super::session::Staff;
use super::range::{Wanted, wanted};
use super::{not_found, scoped};
use crate::service::audit::Target;
use crate::service::recordings;
use crate::state::AppState;

/// How much is read from disk at a time.
const PIECE: usize = 256 * 1024;

type Piece = io::Result<Bytes>;

/// A body fed from a blocking thread through a small channel.
fn channel_body() -> (mpsc::Sender<Piece>, Body) {
    let (tx, rx) = mpsc::channel::<Piece>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    });
    (tx, Body::from_stream(stream))
}

/// `len` bytes of a file from `first`.
fn stream_file(path: PathBuf, first: u64, len: u64) -> Body {
    let (tx, body) = channel_body();
    tokio::task::spawn_blocking(move || {
        let read = || -> io::Result<()> {
            let mut f = File::open(&path)?;
            f.seek(SeekFrom::Start(first))?;
            let mut left = len;
            let mut buf = vec![0u8; PIECE];
            while left > 0 {
                let n = f.read(&mut buf[..PIECE.min(left as usize)])?;
                if n == 0 {
                    break;
                }
                left -= n as u64;
                if tx
                    .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                    .is_err()
                {
                    break; // the browser went away (a seek cancels a request)
                }
            }
            Ok(())
        };
        if let Err(e) = read() {
            tracing::warn!(error = %e, path = %path.display(), "reading a recording segment failed");
            let _ = tx.blocking_send(Err(e));
        }
    });
    body
}

/// `GET /console/recordings/{visit}/segments/{segment}`: a staff member of
/// the visit's facility who opened its recording page (audited) during
/// this session's lifetime.
pub async fn segment(
    State(st): State<AppState>,
    staff: Staff,
    Path((visit, segment)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (Ok(visit), Ok(segment)) = (Uuid::parse_str(&visit), Uuid::parse_str(&segment)) else {
        return not_found(&staff);
    };
    let (store, facility) = (st.recordings(), staff.facility());
    let actor = staff.actor();
    let found = st
        .run(staff.actor(), move |c, ctx| {
            scoped(c, facility, visit)?;
            let since = ctx.now - crate::service::sessions::MAX_AGE;
            recordings::segment_file(c, &store, (visit, segment), &actor, since)
        })
        .await;
    let path = match found {
        Ok(p) => p,
        Err(e) => return page::service_error(&staff, e),
    };
    let Ok(len) = std::fs::metadata(&path).map(|m| m.len()) else {
        tracing::warn!(visit_id = %visit, segment_id = %segment, "a stored segment's file is missing");
        return not_found(&staff);
    };
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, first, last) = match wanted(range, len) {
        Wanted::Whole => (StatusCode::OK, 0, len.saturating_sub(1)),
        Wanted::Part { first, last } => (StatusCode::PARTIAL_CONTENT, first, last),
        Wanted::Unsatisfiable => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            page::secure_headers(r.headers_mut(), "video/x-matroska");
            set(
                r.headers_mut(),
                header::CONTENT_RANGE,
                format!("bytes */{len}"),
            );
            return r;
        }
    };
    let size = if len == 0 { 0 } else { last - first + 1 };
    let mut r = (status, stream_file(path, first, size)).into_response();
    let h = r.headers_mut();
    page::secure_headers(h, "video/x-matroska");
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    set(h, header::CONTENT_LENGTH, size.to_string());
    if status == StatusCode::PARTIAL_CONTENT {
        set(
            h,
            header::CONTENT_RANGE,
            format!("bytes {first}-{last}/{len}"),
        );
    }
    r
}

fn set(h: &mut HeaderMap, name: header::HeaderName, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.insert(name, v);
    }
}

/// Bytes written on a blocking thread, sent to the answer's body.
struct ToBody(mpsc::Sender<Piece>);

impl Write for ToBody {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the download was cancelled"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `GET /console/visits/{id}/recording.tar`: administrators only (an
/// officer is refused, with an audit line); the download is audited.
pub async fn download(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = staff.require_admin(&st, "recording_downloaded").await {
        return r;
    }
    let Ok(visit) = Uuid::parse_str(&id) else {
        return not_found(&staff);
    };
    let (store, facility) = (st.recordings(), staff.facility());
    let archive = st
        .run_audited(
            staff.who(),
            "recording_downloaded",
            Target::Visit(visit),
            move |c, _| {
                scoped(c, facility, visit)?;
                recordings::archive_contents(c, &store, visit)
            },
        )
        .await;
    let archive = match archive {
        Ok(a) => a,
        Err(e) => return page::service_error(&staff, e),
    };
    tracing::info!(visit_id = %visit, actor = %staff.actor(), segments = archive.files.len(), "recording downloaded");
    let (tx, body) = channel_body();
    tokio::task::spawn_blocking(move || {
        let out = io::BufWriter::with_capacity(PIECE, ToBody(tx.clone()));
        if let Err(e) = recordings::write_tar(&archive, out) {
            tracing::warn!(visit_id = %archive.visit, error = %e, "a recording's download ended early");
            let _ = tx.blocking_send(Err(e));
        }
    });
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    page::secure_headers(h, "application/x-tar");
    set(
        h,
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"visit-{visit}-recording.tar\""),
    );
    r
}
