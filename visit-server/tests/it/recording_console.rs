//! A visit's recording as staff meet it over plain HTTP: the visit page
//! says whether the stored recording verifies (and what was altered or
//! lost), administrators download it with its manifest, officers cannot,
//! segments need a session; a visit made confidential is told so
//! everywhere; old recordings go after the facility's retention.

use std::io::Read;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console_security::Console;
use crate::recording_upload::{a_visit, meta, recordings_dir, upload};
use crate::util::*;

/// Three stored segments: the person's two, the visitor's one.
async fn three_segments(r: &crate::recording_upload::Recorded) -> Vec<Value> {
    let person = r.f.unit_a_terminal.0;
    let mut metas = Vec::new();
    for (party, role, index, seed) in [
        (person, "person", 0, 1u8),
        (person, "person", 1, 2),
        (r.visitor, "visitor", 0, 3),
    ] {
        let data: Vec<u8> = (0..5000).map(|i| (i as u8) ^ seed).collect();
        let m = meta(r.visit, party, role, index, &data);
        let done = upload(&r.s, &r.unit, &m, &data, 4096).await;
        assert_eq!(done["complete"], true);
        metas.push(m);
    }
    metas
}

fn audit_outcomes(s: &TestServer, action: &str) -> Vec<(String, String)> {
    let c = s.sql();
    let mut stmt = c
        .prepare("SELECT actor, outcome FROM audit_log WHERE action = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([action], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn the_visit_page_says_whether_the_recording_verifies_and_what_was_lost() {
    let r = a_visit().await;
    let metas = three_segments(&r).await;
    let (password, _) = r.s.staff(r.f.id, "ada", "administrator", false);
    let mut admin = Console::new(&r.s);
    admin.sign_in("ada", &password).await;
    let page = admin.get(&format!("/console/visits/{}", r.visit)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-intact=\"true\""), "{}", page.body);
    assert!(page.body.contains("Maria Smith") && page.body.contains("0:04"));
    assert!(page.body.contains("/recording.tar"));

    // One byte of the person's second segment changed, the visitor's lost.
    let dir = recordings_dir(&r.s).join(r.visit.to_string());
    let altered = format!("{}-0-1.mkv", r.f.unit_a_terminal.0);
    let mut bytes = std::fs::read(dir.join(&altered)).unwrap();
    bytes[100] ^= 1;
    std::fs::write(dir.join(&altered), bytes).unwrap();
    let lost = format!("{}-0-0.mkv", metas[2]["party"].as_str().unwrap());
    std::fs::remove_file(dir.join(&lost)).unwrap();
    let page = admin.get(&format!("/console/visits/{}", r.visit)).await;
    assert!(page.body.contains("data-intact=\"false\""), "{}", page.body);
    assert!(
        page.body.contains(&format!("altered: {altered}")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!("missing: {lost}")),
        "{}",
        page.body
    );
    r.s.stop().await;
}

/// The names in a tar, and its `manifest.json`.
fn tar_contents(tar: &[u8]) -> (Vec<String>, Value) {
    let mut names = Vec::new();
    let mut manifest = Value::Null;
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        if name.ends_with("manifest.json") {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            manifest = serde_json::from_str(&text).unwrap();
        }
        names.push(name);
    }
    (names, manifest)
}

/// Whether a visit record (the admin API's) has a history line `event`.
fn has_event(record: &Value, event: &str) -> bool {
    record["history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["event"] == event)
}

/// The join page a visitor opens from their link.
async fn join_page(s: &TestServer, visit: uuid::Uuid, token: &str) -> String {
    let url = format!("{}/join/{visit}?token={token}", s.base);
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn an_administrator_downloads_the_recording_with_its_manifest_and_an_officer_cannot() {
    let r = a_visit().await;
    let metas = three_segments(&r).await;
    let (password, _) = r.s.staff(r.f.id, "ada", "administrator", false);
    let mut admin = Console::new(&r.s);
    admin.sign_in("ada", &password).await;
    let (password, _) = r.s.staff(r.f.id, "rivera", "officer", false);
    let mut officer = Console::new(&r.s);
    officer.sign_in("rivera", &password).await;
    let tar_path = format!("/console/visits/{}/recording.tar", r.visit);

    let page = officer.get(&format!("/console/visits/{}", r.visit)).await;
    assert!(
        !page.body.contains("/recording.tar"),
        "an officer is offered the download"
    );
    let (st, _, _) = officer.fetch(&tar_path, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(
        audit_outcomes(&r.s, "recording_downloaded"),
        vec![("staff:rivera".to_string(), "refused: 403".to_string())]
    );

    let (st, headers, tar) = admin.fetch(&tar_path, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/x-tar");
    let (names, manifest) = tar_contents(&tar);
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(names[0], format!("{}/manifest.json", r.visit));
    let hashes: Vec<&Value> = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["meta"]["sha256"])
        .collect();
    assert_eq!(
        hashes,
        metas.iter().map(|m| &m["sha256"]).collect::<Vec<_>>()
    );
    let done = audit_outcomes(&r.s, "recording_downloaded");
    assert_eq!(
        done.last().unwrap(),
        &("staff:ada".to_string(), "done".to_string())
    );

    // A segment: not by its address alone (watching is audited when the
    // recording's page opens); after that, with a range, the bytes asked
    // for; without a session, the sign-in page and nothing of the video.
    let segment = format!(
        "/console/recordings/{}/segments/{}",
        r.visit,
        metas[0]["id"].as_str().unwrap()
    );
    let (st, _, _) = officer.fetch(&segment, Some("bytes=0-")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a segment without a viewing");
    officer
        .get(&format!("/console/visits/{}/recording", r.visit))
        .await;
    let (st, headers, part) = officer.fetch(&segment, Some("bytes=100-199")).await;
    assert_eq!(st, StatusCode::PARTIAL_CONTENT);
    assert_eq!(headers["content-type"], "video/x-matroska");
    assert_eq!(headers["content-range"], "bytes 100-199/5000");
    let expected: Vec<u8> = (100..200).map(|i| (i as u8) ^ 1).collect();
    assert_eq!(part, expected);
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}{segment}", r.s.base))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/console/sign-in")
    );
    r.s.stop().await;
}

#[tokio::test]
async fn a_visit_marked_confidential_is_told_so_on_its_page_the_join_page_and_the_schedule() {
    let s = TestServer::start().await;
    let f = s.facility(1).await;
    let person = s
        .person(&f, "A-1", "James Smith", f.unit_a, json!([]))
        .await;
    let visitor = s.approved_adult(person, "Maria Smith").await;
    let (st, booked) = s
        .book(person, &[visitor], "remote", local(2026, 11, 19, 10, 0))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let visit = id(&booked["visit"]);
    let token = booked["join_tokens"][0]["token"].as_str().unwrap();
    assert!(
        join_page(&s, visit, token)
            .await
            .contains("This visit is recorded and may be monitored.")
    );
    assert!(
        join_page(&s, visit, token)
            .await
            .contains("Esta visita se graba y puede ser supervisada.")
    );

    let (password, _) = s.staff(f.id, "rivera", "officer", false);
    let mut officer = Console::new(&s);
    officer.sign_in("rivera", &password).await;
    let page = officer.get(&format!("/console/visits/{visit}")).await;
    assert!(page.body.contains("Mark as confidential (not recorded)"));
    let answer = officer
        .change(
            &format!("/console/visits/{visit}/confidential"),
            &[("confidential", "yes")],
        )
        .await;
    assert!(
        answer.location.ends_with("?done=confidential"),
        "{}",
        answer.body
    );
    let page = officer.get(&format!("/console/visits/{visit}")).await;
    assert!(
        page.body
            .contains("Confidential: not recorded or monitored."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Undo: record this visit"));
    assert!(
        join_page(&s, visit, token)
            .await
            .contains("This visit is confidential: it is not recorded or monitored.")
    );
    assert!(
        join_page(&s, visit, token)
            .await
            .contains("Esta visita es confidencial: no se graba ni se supervisa.")
    );
    assert_eq!(
        audit_outcomes(&s, "mark_confidential"),
        vec![("staff:rivera".to_string(), "done".to_string())]
    );
    let (_, v) = s.admin_get(&format!("/api/v1/admin/visits/{visit}")).await;
    assert_eq!(v["visit"]["confidential"], true);
    assert!(has_event(&v, "marked_confidential"), "{v}");

    // Once the visit is over, it cannot be changed any more.
    s.clock.set(local(2026, 11, 19, 11, 0));
    s.wait_for_status(visit, "no_show").await;
    // (Three days on, the session is long over: sign in again.)
    officer.sign_in("rivera", &password).await;
    let answer = officer
        .change(
            &format!("/console/visits/{visit}/confidential"),
            &[("confidential", "no")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    s.stop().await;
}

#[tokio::test]
async fn recordings_older_than_the_facilitys_retention_are_removed_and_younger_ones_stay() {
    let r = a_visit().await;
    let (st, v) =
        r.s.admin_patch(
            &format!("/api/v1/admin/facilities/{}", r.f.id),
            json!({"recording_retention_days": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["recording_retention_days"], 1);
    let person = r.f.unit_a_terminal.0;
    let (st, booked) =
        r.s.book(r.person, &[r.visitor], "remote", local(2026, 11, 20, 10, 0))
            .await;
    assert_eq!(st, StatusCode::CREATED, "{booked}");
    let younger = id(&booked["visit"]);
    for visit in [r.visit, younger] {
        let data = vec![7u8; 3000];
        let m = meta(visit, person, "person", 0, &data);
        upload(&r.s, &r.unit, &m, &data, 4096).await;
    }
    // A day and a half after the first visit ended, before the second's end
    // is a day old.
    r.s.clock.set(local(2026, 11, 20, 23, 0));
    let dir = recordings_dir(&r.s);
    // Files go first, then the rows and the lines: wait for the lines.
    for _ in 0..250 {
        if !audit_outcomes(&r.s, "recording_removed").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        !dir.join(r.visit.to_string()).exists(),
        "the old recording is still there"
    );
    assert!(dir.join(younger.to_string()).join("manifest.json").exists());
    let lines: Vec<(String, String)> = {
        let c = r.s.sql();
        let mut stmt = c
            .prepare("SELECT actor, target FROM audit_log WHERE action = 'recording_removed'")
            .unwrap();
        stmt.query_map([], |x| Ok((x.get(0)?, x.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        lines,
        vec![("system".to_string(), format!("visit:{}", r.visit))]
    );
    let (_, v) =
        r.s.admin_get(&format!("/api/v1/admin/visits/{}", r.visit))
            .await;
    assert!(has_event(&v, "recording_removed"), "{v}");
    let removed: Option<i64> =
        r.s.sql()
            .query_row(
                "SELECT removed_at FROM recording_segments WHERE visit_id = ?1",
                [r.visit.to_string()],
                |x| x.get(0),
            )
            .unwrap();
    assert!(removed.is_some());
    r.s.stop().await;
}

#[tokio::test]
async fn the_terminals_page_shows_a_recording_backlog_and_flags_it_when_old() {
    let r = a_visit().await;
    let beat = json!({"software_version": "1.0", "terminal_time": local(2026, 11, 16, 9, 0),
        "uptime_secs": 100, "devices": [], "outbox_pending": 0, "recordings_pending": 3,
        "recordings_pending_bytes": 42_000_000u64, "data_free_bytes": 500_000_000u64});
    let (st, v) =
        r.s.send(
            reqwest::Method::POST,
            "/api/v1/terminal/heartbeat",
            Some(&r.unit),
            Some(&beat),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (password, _) = r.s.staff(r.f.id, "ada", "administrator", false);
    let mut admin = Console::new(&r.s);
    admin.sign_in("ada", &password).await;
    // The settings page offers how long recordings are kept (90 days at first).
    let settings = admin.get("/console/settings").await;
    assert!(
        settings.body.contains(
            r#"name="retention_days" type="number" min="1" max="3650" required value="90""#
        ),
        "{}",
        settings.body
    );
    let page = admin.get("/console/terminals").await;
    assert!(
        page.body.contains("3 recordings (42 MB) waiting to upload"),
        "{}",
        page.body
    );
    assert!(page.body.contains("low disk space"));
    assert!(!page.body.contains("waiting for over an hour"));
    // Two hours later, still waiting.
    r.s.clock.set(local(2026, 11, 16, 11, 0));
    r.s.send(
        reqwest::Method::POST,
        "/api/v1/terminal/heartbeat",
        Some(&r.unit),
        Some(&beat),
    )
    .await;
    admin.sign_in("ada", &password).await;
    let page = admin.get("/console/terminals").await;
    assert!(
        page.body.contains("waiting for over an hour"),
        "{}",
        page.body
    );
    r.s.stop().await;
}
