//! The recording page in real headless Chromium with real media: two
//! parties' H.264 + Opus Matroska segments (`tests/fixtures/recording/`,
//! made by its `make.sh`) uploaded as a unit terminal does, then played in
//! step, paused, and sought, by keyboard; the page passes axe, and opening
//! it is in the audit log.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Duration as Span;
use serde_json::json;
use uuid::Uuid;

use crate::console_browser::{assert_accessible, axe_source, sign_in, text, wait_for};
use crate::recording_upload::{Recorded, a_visit, sha256_hex, upload};
use crate::util::*;
use crate::webdriver::Browser;

fn fixture(party: usize, index: usize) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/recording/party{party}-{index}.mkv"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// How far each video is from the shared position `ms`, in ms, as the page
/// has them (`null` while a video has not loaded its segment).
fn offsets_script(ms: u64) -> String {
    format!(
        "return [0, 1].map(i => {{ const v = document.getElementById('party-' + i);\
           return v.readyState >= 1 && v.dataset.segmentStart !== undefined\
             ? Math.abs(v.currentTime * 1000 + Number(v.dataset.segmentStart) - {ms}) : null; }});"
    )
}

/// Both videos are within half a second of the shared position `ms`.
fn in_step_script(ms: u64) -> String {
    offsets_script(ms).replacen("return [0, 1]", "const o = [0, 1]", 1)
        + "return o.every(x => x !== null && x < 500);"
}

/// The fixtures as a unit terminal uploads them: the person from
/// 10:01:00, the visitor half a second later, two segments of 2 s each.
fn upload_fixtures(rt: &tokio::runtime::Runtime, r: &Recorded) {
    let t0 = local(2026, 11, 19, 10, 1);
    let parties = [
        (r.f.unit_a_terminal.0, "person", 0),
        (r.visitor, "visitor", 500),
    ];
    for (p, (party, role, lag)) in parties.iter().enumerate() {
        for index in 0..2 {
            let bytes = fixture(p, index);
            let m = json!({
                "id": Uuid::new_v4(), "visit_id": r.visit, "role": role, "party": party,
                "track": 0, "index": index,
                "started_at": t0 + Span::milliseconds(lag + 2000 * index as i64),
                "duration_ms": 2000, "size": bytes.len(), "sha256": sha256_hex(&bytes),
                "media_type": "video/x-matroska",
            });
            let done = rt.block_on(upload(&r.s, &r.unit, &m, &bytes, 16 * 1024));
            assert_eq!(done["complete"], true);
        }
    }
}

/// The audit log's `recording_viewed` lines: (actor, target).
fn viewed(s: &TestServer) -> Vec<(String, String)> {
    let c = s.sql();
    let mut stmt = c
        .prepare("SELECT actor, target FROM audit_log WHERE action = 'recording_viewed'")
        .unwrap();
    stmt.query_map([], |x| Ok((x.get(0)?, x.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Enter on the focused Play button plays both parties on one clock; Enter
/// again pauses them, in step.
fn play_and_pause_by_keyboard(b: &Browser) {
    b.js("document.getElementById('play').focus(); return true;");
    b.keys("\u{E007}");
    let took = wait_for(
        b,
        "both parties playing",
        Duration::from_secs(10),
        "const v = [0, 1].map(i => document.getElementById('party-' + i));\
         return v.every(x => !x.paused && x.readyState >= 2 && x.currentTime > 0.3);",
    );
    eprintln!("both parties played {took:?} after Play");
    b.keys("\u{E007}");
    wait_for(
        b,
        "the pause",
        Duration::from_secs(3),
        "return [0, 1].every(i => document.getElementById('party-' + i).paused);",
    );
    let position: u64 = b
        .js("return Number(document.getElementById('seek').value);")
        .as_u64()
        .unwrap();
    let gaps = b.js(&offsets_script(position));
    for g in gaps.as_array().unwrap() {
        assert!(
            g.as_f64().unwrap() < 500.0,
            "out of step when paused: {gaps}"
        );
    }
}

#[test]
fn staff_watch_both_parties_in_step_seek_by_keyboard_and_the_viewing_is_audited() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let r = rt.block_on(a_visit());
    upload_fixtures(&rt, &r);
    let (password, _) = r.s.staff(r.f.id, "rivera", "officer", false);
    let base = r.s.base.replace("127.0.0.1", "localhost");
    let axe = axe_source();
    let b = Browser::chromium();
    sign_in(&b, &base, "rivera", &password, None);
    wait_for(
        &b,
        "the signed-in console",
        Duration::from_secs(10),
        "return location.pathname === '/console/';",
    );
    b.open(&format!("{base}/console/visits/{}/recording", r.visit));
    wait_for(
        &b,
        "both videos with their first segment",
        Duration::from_secs(10),
        "return document.getElementById('party-0').readyState >= 2;",
    );
    assert!(
        text(&b, ".videos").contains("James Smith"),
        "{}",
        text(&b, "main")
    );
    assert!(text(&b, ".videos").contains("Maria Smith"));
    assert_accessible(&b, &axe, "the recording page");

    play_and_pause_by_keyboard(&b);

    // Seek into the second segments; both videos follow within half a second.
    b.js(
        "const s = document.getElementById('seek'); s.value = '3000';\
          s.dispatchEvent(new Event('input')); return true;",
    );
    wait_for(
        &b,
        "both videos at 0:03",
        Duration::from_secs(10),
        &in_step_script(3000),
    );
    assert!(
        text(&b, "#time").starts_with("0:03"),
        "{}",
        text(&b, "#time")
    );
    // The slider moves by arrow keys as well.
    b.js("document.getElementById('seek').focus(); return true;");
    b.keys("\u{E014}\u{E014}\u{E014}\u{E014}\u{E014}");
    wait_for(
        &b,
        "the slider moved by keyboard",
        Duration::from_secs(3),
        "return Number(document.getElementById('seek').value) === 3500;",
    );
    wait_for(
        &b,
        "both videos at 0:03.5",
        Duration::from_secs(10),
        &in_step_script(3500),
    );

    assert_eq!(
        viewed(&r.s),
        vec![("staff:rivera".to_string(), format!("visit:{}", r.visit))]
    );
    drop(b);
    rt.block_on(r.s.stop());
}
