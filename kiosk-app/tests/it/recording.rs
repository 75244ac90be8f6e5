//! What a unit terminal's recording of a visit holds, read back the way a
//! reviewer would: the segment rows in `outbox.db`, each file's hash, and
//! each file played (`filesrc ! matroskademux ! decodebin`), counting
//! pictures and sound buffers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gst::prelude::*;
use sha2::{Digest, Sha256};
use uuid::Uuid;

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

/// Play `file` to its end as fast as possible and count.
pub fn play(file: &Path) -> Played {
    gst::init().unwrap();
    let pipeline = gst::Pipeline::new();
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
        let q = gst::ElementFactory::make("queue").build().unwrap();
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
        gst::ClockTime::from_seconds(20),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    if let Some(m) = &msg
        && let gst::MessageView::Error(e) = m.view()
    {
        panic!("{} does not play: {}", file.display(), e.error());
    }
    assert!(msg.is_some(), "{} did not play to its end", file.display());
    pipeline.set_state(gst::State::Null).unwrap();
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

/// The unit terminal's `data` holds closed segments of both parties, each
/// registered with its file's hash, each playing pictures and sound, and
/// each party's total within about a second of the connected time.
pub fn recorded_both_parties(data: &std::path::Path, connected_ms: u64) {
    // The last segments close once the call has ended.
    let until = Instant::now() + Duration::from_secs(10);
    let segs = loop {
        let segs = segments(data);
        let paths: Vec<_> = segs.iter().map(|s| s.path.clone()).collect();
        let files = files(data);
        if !segs.is_empty() && files.iter().all(|f| paths.contains(f)) {
            break segs;
        }
        assert!(
            Instant::now() < until,
            "files {files:?} not all registered: {segs:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    for s in &segs {
        assert!(s.closed, "{s:?}");
        assert_eq!(sha256(&s.path), s.sha256, "{s:?}");
        assert_eq!(std::fs::metadata(&s.path).unwrap().len(), s.size, "{s:?}");
        assert!(s.duration_ms <= 8000, "a segment of at most ~6 s: {s:?}");
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
        assert!(
            total_ms.abs_diff(connected_ms) <= 1500,
            "{role}: {total_ms} ms recorded, connected {connected_ms} ms"
        );
    }
}
