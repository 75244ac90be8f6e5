//! Versioned migrations of the terminal's two files (`PRAGMA user_version`).

use rusqlite::Connection;

pub const SCHEDULE: &[&str] = &[r#"
    CREATE TABLE schedule (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        etag TEXT NOT NULL,
        body TEXT NOT NULL,
        saved_at INTEGER NOT NULL
    );
    CREATE TABLE clock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        offset_ms INTEGER NOT NULL
    );
"#];

pub const OUTBOX: &[&str] = &[
    r#"
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    -- One check-in per visit per terminal, kept after acknowledgement.
    CREATE TABLE checkins (
        visit_id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE TABLE log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        visit_id TEXT,
        detail TEXT NOT NULL
    );
"#,
    r#"
    -- Sign-in photos waiting for the server (deleted once it answered).
    CREATE TABLE photos (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        photo_id TEXT NOT NULL UNIQUE,
        person_number TEXT NOT NULL,
        taken_at INTEGER NOT NULL,
        jpeg BLOB NOT NULL
    );
"#,
    r#"
    -- Closed recording segments waiting for the server (a row leaves only
    -- once the server stored the segment or refused the visit).
    CREATE TABLE segments (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        segment_id TEXT NOT NULL UNIQUE,
        visit_id TEXT NOT NULL,
        role TEXT NOT NULL,
        party TEXT NOT NULL,
        track INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        closed INTEGER NOT NULL,
        path TEXT NOT NULL UNIQUE,
        -- 'pending', 'uploaded' (the file may still be there), or
        -- 'mismatch' (the file no longer matches its hash: kept, not sent).
        state TEXT NOT NULL DEFAULT 'pending',
        UNIQUE (visit_id, party, track, idx)
    );
    -- The next track number of each party of a visit, so a restarted
    -- recorder never reuses one the server may hold.
    CREATE TABLE tracks (
        visit_id TEXT NOT NULL,
        party TEXT NOT NULL,
        next_track INTEGER NOT NULL,
        PRIMARY KEY (visit_id, party)
    );
"#,
];

pub fn apply(conn: &mut Connection, migrations: &[&str]) -> anyhow::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > migrations.len() as i64 {
        anyhow::bail!("the file has schema version {current}, newer than this program knows");
    }
    for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
