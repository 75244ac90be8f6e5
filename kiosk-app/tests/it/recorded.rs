//! A visit's recording when things go wrong, end to end between the two
//! headless terminals and a real visit-server: the server gone for the
//! whole call (the unit terminal records anyway and uploads once it is
//! back), the unit terminal killed in the middle (it uploads everything
//! but the last seconds after it restarts), and a confidential visit,
//! which leaves no recording anywhere.

use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::call::{SMALL, fps_at_least, join_both, lobby_and_unit};
use crate::recording::{files, segments, uploaded};
use crate::util::*;

/// The longest a call's connected time, as the terminals reported it.
pub(crate) fn connected_ms(server: &Server, visit: Uuid) -> u64 {
    server.wait_until("a call report", Duration::from_secs(30), || {
        server
            .history(visit)
            .iter()
            .any(|(e, _)| e == "call_report")
    });
    server
        .history(visit)
        .iter()
        .filter(|(e, _)| e == "call_report")
        .map(|(_, d)| serde_json::from_str::<serde_json::Value>(d).unwrap())
        .map(|r| r["report"]["connected_ms"].as_u64().unwrap())
        .max()
        .unwrap()
}

#[test]
fn a_visit_while_the_server_is_gone_is_recorded_and_uploaded_once_it_is_back() {
    let (mut server, seeded) = Server::seeded();
    let (visit, pin) = seeded.visits[0].clone();
    let (dirs, mut lobby, mut unit) = lobby_and_unit(&server, &seeded, SMALL);
    join_both(&mut lobby, &mut unit, visit, &pin);
    unit.stats_until(Duration::from_secs(30), fps_at_least(20));

    // The server goes away; the call (peer to peer) goes on, recorded.
    server.stop();
    std::thread::sleep(Duration::from_secs(10));
    let data = dirs[1].path().join("data");
    assert!(
        !segments(&data).is_empty(),
        "segments wait on the unit terminal while the server is gone"
    );
    unit.send("end");
    unit.send("confirm");
    unit.expect(&["[ended] You ended the visit."]);
    // Every segment closed and registered, nothing uploaded yet.
    let until = Instant::now() + Duration::from_secs(10);
    while files(&data).len() != segments(&data).len() {
        assert!(Instant::now() < until, "{:?}", files(&data));
        std::thread::sleep(Duration::from_millis(100));
    }

    server.start();
    let connected = connected_ms(&server, visit);
    crate::recording::recorded_both_parties(&server, visit, &data, connected);
    lobby.kill();
    unit.quit();
}

#[test]
fn a_unit_terminal_killed_mid_visit_uploads_all_but_the_last_seconds_after_it_restarts() {
    let (server, seeded) = Server::seeded();
    let (visit, pin) = seeded.visits[0].clone();
    let (dirs, mut lobby, mut unit) = lobby_and_unit(&server, &seeded, SMALL);
    join_both(&mut lobby, &mut unit, visit, &pin);
    unit.stats_until(Duration::from_secs(30), fps_at_least(20));
    let flowing = Instant::now();
    std::thread::sleep(Duration::from_secs(16));
    let recorded_ms = flowing.elapsed().as_millis() as u64;
    unit.kill(); // SIGKILL: the open segments are never closed

    let config = dirs[1].path().join("kiosk.toml");
    let mut unit = Kiosk::start(&config);
    unit.expect(&["[sign-in] Test County Jail"]);
    let data = dirs[1].path().join("data");
    let stored = uploaded(&server, visit, &data);
    for role in ["person", "visitor"] {
        let mine: Vec<_> = stored.iter().filter(|s| s.role == role).collect();
        let closed: u64 = mine
            .iter()
            .filter(|s| s.closed)
            .map(|s| s.duration_ms)
            .sum();
        eprintln!(
            "{role}: {closed} ms closed of {recorded_ms} ms, {} recovered segment(s)",
            mine.iter().filter(|s| !s.closed).count()
        );
        assert!(
            closed + 10_000 >= recorded_ms,
            "{role}: only {closed} ms of {recorded_ms} ms survived the kill: {mine:?}"
        );
        for s in mine.iter().filter(|s| s.closed) {
            let played = crate::recording::play(&s.path);
            assert!(
                played.frames > 0 && played.audio_buffers > 0,
                "{s:?}: {played:?}"
            );
        }
    }
    lobby.kill();
    unit.quit();
}

#[test]
fn a_confidential_visit_leaves_no_recording_anywhere() {
    let (server, seeded) = Server::seeded();
    let (visit, pin) = seeded.visits[0].clone();
    server.mark_confidential(visit);
    let (dirs, mut lobby, mut unit) = lobby_and_unit(&server, &seeded, SMALL);
    join_both(&mut lobby, &mut unit, visit, &pin);
    unit.send("status");
    unit.expect(&["This visit is confidential: it is not recorded or monitored."]);
    unit.stats_until(Duration::from_secs(30), fps_at_least(20));
    std::thread::sleep(Duration::from_secs(8));
    unit.send("end");
    unit.send("confirm");
    unit.expect(&["[ended] You ended the visit."]);
    server.wait_until("the call report", Duration::from_secs(20), || {
        server
            .history(visit)
            .iter()
            .any(|(e, _)| e == "call_report")
    });
    for d in &dirs {
        assert!(
            files(&d.path().join("data")).is_empty(),
            "a file was written"
        );
        assert!(segments(&d.path().join("data")).is_empty());
    }
    let c = rusqlite::Connection::open(server.dir.path().join("visits.db")).unwrap();
    let rows: i64 = c
        .query_row(
            "SELECT count(*) FROM recording_segments WHERE visit_id = ?1",
            [visit.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0);
    assert!(
        !server
            .dir
            .path()
            .join("recordings")
            .join(visit.to_string())
            .exists()
    );
    let events: Vec<String> = server.history(visit).into_iter().map(|(e, _)| e).collect();
    assert!(
        events.contains(&"marked_confidential".to_string()),
        "{events:?}"
    );
    assert!(
        !events.contains(&"recording_started".to_string()),
        "{events:?}"
    );
    lobby.kill();
    unit.quit();
}
