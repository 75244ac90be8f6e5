//! What a visit's recording holds, read back the way a reviewer would:
//! the segments the server stored (after the unit terminal uploaded them
//! all and kept none), the chained manifest verified, each file's hash,
//! and each file played (`filesrc ! matroskademux ! decodebin`), counting
//! pictures and sound buffers. Also the unit terminal's own rows in
//! `outbox.db`, for the tests that look before the upload.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gst::prelude::*;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::util::Server;

/// One registered segment.
#[derive(Debug, Clone)]
pub struct Segment {
    pub role: String,
    pub party: Uuid,
    pub track: u32,
    pub index: u32,
    pub duration_ms: u64,
    pub size: u64,
    pub sha256: String,
    pub closed: bool,
    pub path: PathBuf,
}

/// The segments registered in `data/outbox.db`, in order.
pub fn segments(data: &Path) -> Vec<Segment> {
    let c = rusqlite::Connection::open(data.join("outbox.db")).unwrap();
    let mut stmt = c
        .prepare(
            "SELECT role, party, track, idx, duration_ms, size, sha256, closed, path \
             FROM segments ORDER BY seq",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(Segment {
            role: r.get(0)?,
            party: r.get::<_, String>(1)?.parse().unwrap(),
            track: r.get(2)?,
            index: r.get(3)?,
            duration_ms: r.get::<_, i64>(4)? as u64,
            size: r.get::<_, i64>(5)? as u64,
            sha256: r.get(6)?,
            closed: r.get(7)?,
            path: PathBuf::from(r.get::<_, String>(8)?),
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Every `.mkv` under `data/recordings`.
pub fn files(data: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(visits) = std::fs::read_dir(data.join("recordings")) else {
        return out;
    };
    for v in visits.flatten() {
        for f in std::fs::read_dir(v.path()).unwrap().flatten() {
            out.push(f.path());
        }
    }
    out.sort();
    out
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What playing a file gave: decoded pictures and sound buffers.
#[derive(Debug, Default, Clone, Copy)]
pub struct Played {
    pub frames: u64,
    pub audio_buffers: u64,
}

/// A pipeline stopped however its test ends (a panic included): one
/// dropped while playing aborts the whole test process.
struct Stopping(gst::Pipeline);

impl Drop for Stopping {
    fn drop(&mut self) {
        let _ = self.0.set_state(gst::State::Null);
    }
}

/// Play `file` to its end as fast as possible and count.
pub fn play(file: &Path) -> Played {
    gst::init().unwrap();
    let stopping = Stopping(gst::Pipeline::new());
    let pipeline = &stopping.0;
    let src = gst::ElementFactory::make("filesrc")
        .property("location", file.to_str().unwrap())
        .build()
        .unwrap();
    let demux = gst::ElementFactory::make("matroskademux").build().unwrap();
    pipeline.add_many([&src, &demux]).unwrap();
    src.link(&demux).unwrap();
    let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let p = pipeline.downgrade();
    let c = counts.clone();
    demux.connect_pad_added(move |_, pad| {
        let Some(pipeline) = p.upgrade() else { return };
        // A queue per stream: one thread would block in the first sink's
        // preroll and never feed the other.
        // Unbounded: on a loaded machine a segment's sound may start more
        // than a queue's default second after its picture, and a full queue
        // would wait for the other stream's preroll for ever.
        let q = gst::ElementFactory::make("queue")
            .property("max-size-buffers", 0u32)
            .property("max-size-bytes", 0u32)
            .property("max-size-time", 0u64)
            .build()
            .unwrap();
        let decode = gst::ElementFactory::make("decodebin").build().unwrap();
        pipeline.add_many([&q, &decode]).unwrap();
        q.link(&decode).unwrap();
        q.sync_state_with_parent().unwrap();
        decode.sync_state_with_parent().unwrap();
        pad.link(&q.static_pad("sink").unwrap()).unwrap();
        let (p2, c2) = (pipeline.downgrade(), c.clone());
        decode.connect_pad_added(move |_, dpad| {
            let Some(pipeline) = p2.upgrade() else { return };
            let caps = dpad.current_caps().unwrap_or_else(|| dpad.query_caps(None));
            let video = caps.structure(0).unwrap().name().starts_with("video/");
            let sink = gst::ElementFactory::make("fakesink")
                .property("sync", false)
                .build()
                .unwrap();
            pipeline.add(&sink).unwrap();
            sink.sync_state_with_parent().unwrap();
            dpad.link(&sink.static_pad("sink").unwrap()).unwrap();
            let c3 = c2.clone();
            dpad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                c3[usize::from(!video)].fetch_add(1, Ordering::Relaxed);
                gst::PadProbeReturn::Ok
            });
        });
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let msg = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(60),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    if let Some(m) = &msg
        && let gst::MessageView::Error(e) = m.view()
    {
        panic!("{} does not play: {}", file.display(), e.error());
    }
    assert!(msg.is_some(), "{} did not play to its end", file.display());
    drop(stopping);
    Played {
        frames: counts[0].load(Ordering::Relaxed),
        audio_buffers: counts[1].load(Ordering::Relaxed),
    }
}

/// Per party: its segments' total length (ms) and what they played.
pub fn by_party(segs: &[Segment]) -> BTreeMap<Uuid, (String, u64, Played)> {
    let mut out: BTreeMap<Uuid, (String, u64, Played)> = BTreeMap::new();
    for s in segs {
        let played = play(&s.path);
        let e = out
            .entry(s.party)
            .or_insert((s.role.clone(), 0, Played::default()));
        e.1 += s.duration_ms;
        e.2.frames += played.frames;
        e.2.audio_buffers += played.audio_buffers;
    }
    out
}

/// Wait (bounded) until the unit terminal (its `data`) has uploaded every
/// segment and kept none; then the segments the server stored of `visit`,
/// after checking its chained manifest: every file there, unaltered.
pub fn uploaded(server: &Server, visit: Uuid, data: &Path) -> Vec<Segment> {
    let until = Instant::now() + Duration::from_secs(60);
    while !(files(data).is_empty() && segments(data).is_empty()) {
        assert!(
            Instant::now() < until,
            "the unit terminal still holds {:?}",
            segments(data)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let dir = server.dir.path().join("recordings");
    let c = rusqlite::Connection::open(server.dir.path().join("visits.db")).unwrap();
    let store = visit_server::service::recordings::Store::new(&dir);
    let check =
        visit_server::service::recordings::verify(&c, &store, visit, chrono::Utc::now()).unwrap();
    assert!(check.intact(), "{:?}", check.problems);
    let mut stmt = c
        .prepare(
            "SELECT role, party, track, idx, duration_ms, size, sha256, closed \
             FROM recording_segments WHERE visit_id = ?1 AND complete = 1 \
             ORDER BY party, track, idx",
        )
        .unwrap();
    let segs: Vec<Segment> = stmt
        .query_map([visit.to_string()], |r| {
            let party: Uuid = r.get::<_, String>(1)?.parse().unwrap();
            let (track, index): (u32, u32) = (r.get(2)?, r.get(3)?);
            Ok(Segment {
                role: r.get(0)?,
                party,
                track,
                index,
                duration_ms: r.get::<_, i64>(4)? as u64,
                size: r.get::<_, i64>(5)? as u64,
                sha256: r.get(6)?,
                closed: r.get(7)?,
                path: dir
                    .join(visit.to_string())
                    .join(format!("{party}-{track}-{index}.mkv")),
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        check.segments,
        segs.len(),
        "the manifest lists every segment"
    );
    segs
}

/// The server holds closed segments of both parties of `visit`, uploaded
/// whole by the unit terminal (whose `data` keeps none), the manifest
/// intact, each file's hash as declared, each playing pictures and sound,
/// and each party's total within a second of the connected time.
pub fn recorded_both_parties(server: &Server, visit: Uuid, data: &Path, connected_ms: u64) {
    recorded_with(server, visit, data, connected_ms, 0);
}

/// The same, a visitor's recording allowed to begin up to `visitor_late_ms`
/// after the call connected. A browser sends a key frame only when asked,
/// and on a loaded machine Chromium has been seen to answer the
/// recorder's request seconds late: until then its stream cannot begin a
/// segment (known, and left to do: issue 15's note).
pub fn recorded_with(
    server: &Server,
    visit: Uuid,
    data: &Path,
    connected_ms: u64,
    visitor_late_ms: u64,
) {
    let segs = uploaded(server, visit, data);
    for s in &segs {
        assert!(s.closed, "{s:?}");
        assert_eq!(sha256(&s.path), s.sha256, "{s:?}");
        assert_eq!(std::fs::metadata(&s.path).unwrap().len(), s.size, "{s:?}");
        // Cut at the first key frame after 6 s (a browser's may come
        // seconds after it is asked for): a power cut loses at most one.
        assert!(s.duration_ms <= 10_000, "a segment of at most ~6 s: {s:?}");
    }
    let parties = by_party(&segs);
    for party in parties.keys() {
        let mut numbers: Vec<(u32, u32)> = segs
            .iter()
            .filter(|s| s.party == *party)
            .map(|s| (s.track, s.index))
            .collect();
        numbers.sort();
        let expected: Vec<(u32, u32)> = (0..numbers.len() as u32).map(|i| (0, i)).collect();
        assert_eq!(numbers, expected, "one track, segments numbered from 0");
    }
    assert_eq!(parties.len(), 2, "both parties: {segs:#?}");
    let roles: Vec<&str> = parties.values().map(|p| p.0.as_str()).collect();
    assert!(
        roles.contains(&"person") && roles.contains(&"visitor"),
        "{roles:?}"
    );
    for (party, (role, total_ms, played)) in &parties {
        eprintln!(
            "recorded {role} {party}: {total_ms} ms, {played:?} (connected {connected_ms} ms)"
        );
        assert!(
            played.frames >= total_ms * 20 / 1000,
            "{role}: {played:?} in {total_ms} ms"
        );
        assert!(
            played.audio_buffers >= total_ms / 40,
            "{role}: {played:?} in {total_ms} ms"
        );
        // The report's connected time runs from the call's quarter-second
        // tick that first saw a frame to the one that last did: up to two
        // ticks short. Within 1 s of the true time is within 1.5 s of it.
        let late = if role == "visitor" {
            visitor_late_ms
        } else {
            0
        };
        assert!(
            *total_ms <= connected_ms + 1500 && total_ms + 1500 + late >= connected_ms,
            "{role}: {total_ms} ms recorded, connected {connected_ms} ms"
        );
    }
}
