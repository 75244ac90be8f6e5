//! Versioned schema migrations, applied in order inside one transaction each.
//! `PRAGMA user_version` records how far a file has come. Never edit a
//! migration that has shipped: add the next one.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
    CREATE TABLE facilities (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        time_zone TEXT NOT NULL,
        pin_length INTEGER NOT NULL,
        max_visitors_per_visit INTEGER NOT NULL,
        onsite_rules TEXT NOT NULL,
        remote_rules TEXT NOT NULL,
        -- Bumped in the same transaction as any change a terminal's schedule shows.
        schedule_version INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE housing_units (
        id TEXT PRIMARY KEY,
        facility_id TEXT NOT NULL REFERENCES facilities(id),
        name TEXT NOT NULL,
        UNIQUE (facility_id, name)
    );
    CREATE TABLE terminals (
        id TEXT PRIMARY KEY,
        facility_id TEXT NOT NULL REFERENCES facilities(id),
        role TEXT NOT NULL CHECK (role IN ('lobby', 'unit')),
        location TEXT NOT NULL,
        housing_unit_id TEXT REFERENCES housing_units(id),
        credential_hash TEXT UNIQUE,
        enrolment_code_hash TEXT UNIQUE,
        enrolment_expires_at INTEGER,
        enrolled_at INTEGER,
        last_seen_at INTEGER,
        software_version TEXT,
        devices TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL,
        CHECK (role = 'lobby' OR housing_unit_id IS NOT NULL)
    );
    CREATE TABLE persons (
        id TEXT PRIMARY KEY,
        facility_id TEXT NOT NULL REFERENCES facilities(id),
        number TEXT NOT NULL,
        name TEXT NOT NULL,
        housing_unit_id TEXT NOT NULL REFERENCES housing_units(id),
        pin_hash TEXT NOT NULL,
        restrictions TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL,
        UNIQUE (facility_id, number)
    );
    CREATE TABLE visitors (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        date_of_birth TEXT NOT NULL,
        photo_id_verified INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE approvals (
        person_id TEXT NOT NULL REFERENCES persons(id),
        visitor_id TEXT NOT NULL REFERENCES visitors(id),
        approved_at INTEGER NOT NULL,
        PRIMARY KEY (person_id, visitor_id)
    );
    -- Never deleted: the offense count is the whole history.
    CREATE TABLE sanctions (
        id TEXT PRIMARY KEY,
        visitor_id TEXT NOT NULL REFERENCES visitors(id),
        offense INTEGER NOT NULL,
        starts_at INTEGER NOT NULL,
        ends_at INTEGER,
        reason TEXT NOT NULL,
        visit_id TEXT REFERENCES visits(id),
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX sanctions_visitor ON sanctions (visitor_id);
    CREATE TABLE visits (
        id TEXT PRIMARY KEY,
        facility_id TEXT NOT NULL REFERENCES facilities(id),
        person_id TEXT NOT NULL REFERENCES persons(id),
        kind TEXT NOT NULL CHECK (kind IN ('onsite', 'remote')),
        starts_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL,
        local_date TEXT NOT NULL,
        status TEXT NOT NULL,
        -- HMAC(day key, PIN): the same value terminals verify against.
        pin_hash TEXT NOT NULL,
        price_cents INTEGER NOT NULL,
        charge TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (facility_id, local_date, pin_hash)
    );
    CREATE INDEX visits_facility_day ON visits (facility_id, local_date, starts_at);
    CREATE INDEX visits_person ON visits (person_id, starts_at);
    CREATE INDEX visits_status_start ON visits (status, starts_at);
    CREATE INDEX visits_status_end ON visits (status, ends_at);
    CREATE TABLE visit_visitors (
        visit_id TEXT NOT NULL REFERENCES visits(id),
        visitor_id TEXT NOT NULL REFERENCES visitors(id),
        position INTEGER NOT NULL,
        PRIMARY KEY (visit_id, visitor_id)
    );
    CREATE INDEX visit_visitors_visitor ON visit_visitors (visitor_id);
    -- Append-only: the record a family needs when a visit fails.
    CREATE TABLE visit_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        visit_id TEXT NOT NULL REFERENCES visits(id),
        at INTEGER NOT NULL,
        event TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT,
        actor TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX visit_history_visit ON visit_history (visit_id, seq);
    CREATE TABLE terminal_events (
        id TEXT PRIMARY KEY,
        terminal_id TEXT NOT NULL REFERENCES terminals(id),
        visit_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        occurred_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        visit_id TEXT REFERENCES visits(id),
        to_address TEXT NOT NULL,
        subject TEXT NOT NULL,
        -- '{PIN}' stands where the PIN goes; the PIN itself is in `sealed_pin`
        -- until the message is sent, then erased.
        body TEXT NOT NULL,
        sealed_pin BLOB,
        created_at INTEGER NOT NULL,
        sent_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX outbox_unsent ON outbox (sent_at, next_attempt_at);
    CREATE TABLE admin_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    );
    "#,
    // 2: STUN/TURN configuration per facility (none by default).
    r#"
    ALTER TABLE facilities ADD COLUMN ice_servers TEXT NOT NULL DEFAULT '[]';
    "#,
    // 3: remote visitors' join tokens, stored only as keyed hashes, and the
    // token sealed in a queued confirmation like its PIN.
    r#"
    CREATE TABLE join_tokens (
        token_hash TEXT PRIMARY KEY,
        visit_id TEXT NOT NULL REFERENCES visits(id),
        visitor_id TEXT NOT NULL REFERENCES visitors(id),
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX join_tokens_visit ON join_tokens (visit_id);
    -- '{TOKEN}' stands where the join token goes; erased once sent.
    ALTER TABLE outbox ADD COLUMN sealed_token BLOB;
    "#,
    // 4: the still a housing-unit terminal takes when a person signs in;
    // visit_history's `sign_in_photo` lines name it.
    r#"
    CREATE TABLE sign_in_photos (
        id TEXT PRIMARY KEY,
        terminal_id TEXT NOT NULL REFERENCES terminals(id),
        person_id TEXT NOT NULL REFERENCES persons(id),
        taken_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        jpeg BLOB NOT NULL
    );
    CREATE INDEX sign_in_photos_person ON sign_in_photos (person_id, taken_at);
    "#,
    // 5: the staff console: staff accounts and their sessions, the audit
    // log (append-only: triggers refuse any update or delete), requests to
    // be on a person's approved list, revocation, and the facility settings
    // the console edits.
    r#"
    CREATE TABLE staff (
        id TEXT PRIMARY KEY,
        facility_id TEXT NOT NULL REFERENCES facilities(id),
        username TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('administrator', 'officer')),
        -- Argon2id.
        password_hash TEXT NOT NULL,
        -- The TOTP secret, sealed with the server key; NULL until set up.
        totp_sealed BLOB,
        -- The last TOTP step accepted: a code is good once.
        totp_last_step INTEGER,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER,
        disabled_at INTEGER,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE staff_sessions (
        -- Keyed hash of the cookie's token; the token itself is never stored.
        token_hash TEXT PRIMARY KEY,
        staff_id TEXT NOT NULL REFERENCES staff(id),
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        origin TEXT NOT NULL
    );
    CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        facility_id TEXT,
        actor TEXT NOT NULL,
        origin TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL,
        before TEXT,
        after TEXT
    );
    CREATE INDEX audit_log_facility ON audit_log (facility_id, seq);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TABLE approval_requests (
        id TEXT PRIMARY KEY,
        person_id TEXT NOT NULL REFERENCES persons(id),
        visitor_id TEXT NOT NULL REFERENCES visitors(id),
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
        reason TEXT,
        created_at INTEGER NOT NULL,
        decided_at INTEGER,
        decided_by TEXT
    );
    CREATE INDEX approval_requests_status ON approval_requests (status, created_at);
    ALTER TABLE visitors ADD COLUMN photo_id_denied_reason TEXT;
    ALTER TABLE terminals ADD COLUMN revoked_at INTEGER;
    ALTER TABLE admin_tokens ADD COLUMN revoked_at INTEGER;
    ALTER TABLE facilities ADD COLUMN require_totp_for_admins INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE facilities ADD COLUMN languages TEXT NOT NULL DEFAULT '["en","es"]';
    "#,
    // 6: lifting a sanction early (sanctions are never deleted, so the
    // lifting is recorded on the row), and the outbox backlog a terminal's
    // heartbeat reports.
    r#"
    ALTER TABLE sanctions ADD COLUMN lifted_at INTEGER;
    ALTER TABLE sanctions ADD COLUMN lifted_by TEXT;
    ALTER TABLE sanctions ADD COLUMN lift_reason TEXT;
    ALTER TABLE terminals ADD COLUMN outbox_pending INTEGER;
    "#,
    // 7: visit recordings. Each segment a unit terminal declares, how much
    // of it arrived, and once complete its place in the visit's chained
    // manifest (`chain` = SHA-256 of the previous entry's chain and this
    // segment's metadata); confidential visits (never recorded); how long
    // a facility keeps recordings; and the recording backlog a terminal's
    // heartbeat reports.
    r#"
    CREATE TABLE recording_segments (
        id TEXT PRIMARY KEY,
        visit_id TEXT NOT NULL REFERENCES visits(id),
        terminal_id TEXT NOT NULL REFERENCES terminals(id),
        role TEXT NOT NULL CHECK (role IN ('person', 'visitor')),
        party TEXT NOT NULL,
        track INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        media_type TEXT NOT NULL,
        closed INTEGER NOT NULL,
        declared_at INTEGER NOT NULL,
        received INTEGER NOT NULL DEFAULT 0,
        complete INTEGER NOT NULL DEFAULT 0,
        stored_at INTEGER,
        manifest_seq INTEGER,
        chain TEXT,
        removed_at INTEGER,
        UNIQUE (visit_id, party, track, idx),
        UNIQUE (visit_id, manifest_seq)
    );
    CREATE INDEX recording_segments_visit ON recording_segments (visit_id, started_at);
    ALTER TABLE visits ADD COLUMN confidential INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE facilities ADD COLUMN recording_retention_days INTEGER NOT NULL DEFAULT 90;
    ALTER TABLE terminals ADD COLUMN recordings_pending INTEGER;
    ALTER TABLE terminals ADD COLUMN recordings_pending_bytes INTEGER;
    ALTER TABLE terminals ADD COLUMN recordings_pending_since INTEGER;
    ALTER TABLE terminals ADD COLUMN data_free_bytes INTEGER;
    -- A segment is served to a staff member who opened the recording
    -- (an audited viewing): found by its target and action.
    CREATE INDEX audit_log_target ON audit_log (target, action, actor, at);
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        anyhow::bail!(
            "the database has schema version {current}, newer than this program's {SCHEMA_VERSION}; \
             run the newer visit-server or restore a backup"
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied schema migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_newer_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(err.contains("newer than this program"), "{err}");
    }
}
