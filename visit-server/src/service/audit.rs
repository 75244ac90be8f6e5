//! The audit log: every change staff make (in the console or through the
//! bearer-token API), and every refusal of one, with who, what, when, from
//! where, and the record before and after. Append-only: the table's
//! triggers refuse updates and deletes, so not even a bug here can rewrite
//! it.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::Result;
use crate::db::{from_ts, ts};

/// What a change was made to: the row whose before and after are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Facility(Uuid),
    Terminal(Uuid),
    Person(Uuid),
    Visitor(Uuid),
    Visit(Uuid),
    Staff(Uuid),
    ApprovalRequest(Uuid),
    /// A person's approved visitor.
    Approval {
        person: Uuid,
        visitor: Uuid,
    },
    AdminToken(Uuid),
    Sanction(Uuid),
    /// Nothing with a row (a sign-in, a refused request).
    None,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Facility(id) => write!(f, "facility:{id}"),
            Target::Terminal(id) => write!(f, "terminal:{id}"),
            Target::Person(id) => write!(f, "person:{id}"),
            Target::Visitor(id) => write!(f, "visitor:{id}"),
            Target::Visit(id) => write!(f, "visit:{id}"),
            Target::Staff(id) => write!(f, "staff:{id}"),
            Target::ApprovalRequest(id) => write!(f, "approval_request:{id}"),
            Target::Approval { person, visitor } => write!(f, "approval:{person}/{visitor}"),
            Target::AdminToken(id) => write!(f, "admin_token:{id}"),
            Target::Sanction(id) => write!(f, "sanction:{id}"),
            Target::None => f.write_str("-"),
        }
    }
}

/// The row behind a target as JSON, without any hash or sealed secret, or
/// `None` when there is no such row (before a creation, after a removal).
pub fn snapshot(conn: &Connection, target: &Target) -> Result<Option<Value>> {
    let (sql, args): (&str, Vec<String>) = match target {
        Target::Facility(id) => (
            "SELECT * FROM facilities WHERE id = ?1",
            vec![id.to_string()],
        ),
        Target::Terminal(id) => (
            "SELECT * FROM terminals WHERE id = ?1",
            vec![id.to_string()],
        ),
        Target::Person(id) => ("SELECT * FROM persons WHERE id = ?1", vec![id.to_string()]),
        Target::Visitor(id) => ("SELECT * FROM visitors WHERE id = ?1", vec![id.to_string()]),
        Target::Visit(id) => ("SELECT * FROM visits WHERE id = ?1", vec![id.to_string()]),
        Target::Staff(id) => ("SELECT * FROM staff WHERE id = ?1", vec![id.to_string()]),
        Target::ApprovalRequest(id) => (
            "SELECT * FROM approval_requests WHERE id = ?1",
            vec![id.to_string()],
        ),
        Target::Approval { person, visitor } => (
            "SELECT * FROM approvals WHERE person_id = ?1 AND visitor_id = ?2",
            vec![person.to_string(), visitor.to_string()],
        ),
        Target::AdminToken(id) => (
            "SELECT * FROM admin_tokens WHERE id = ?1",
            vec![id.to_string()],
        ),
        Target::Sanction(id) => (
            "SELECT * FROM sanctions WHERE id = ?1",
            vec![id.to_string()],
        ),
        Target::None => return Ok(None),
    };
    let mut stmt = conn.prepare(sql)?;
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let mut out = Map::new();
    for (i, name) in names.iter().enumerate() {
        if is_secret(name) {
            continue;
        }
        let v = match row.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::from(n),
            ValueRef::Real(x) => Value::from(x),
            ValueRef::Text(t) => {
                let s = String::from_utf8_lossy(t).into_owned();
                // JSON columns stay structured.
                match serde_json::from_str::<Value>(&s) {
                    Ok(v @ (Value::Array(_) | Value::Object(_))) => v,
                    _ => Value::String(s),
                }
            }
            ValueRef::Blob(_) => continue,
        };
        let v = redact(v);
        out.insert(name.clone(), v);
    }
    Ok(Some(Value::Object(out)))
}

/// The facility a change belongs to, from its target and its row.
pub fn facility_of(target: &Target, row: Option<&Value>) -> Option<Uuid> {
    if let Target::Facility(id) = target {
        return Some(*id);
    }
    row.and_then(|r| r["facility_id"].as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}

/// TURN credentials (in a facility's `ice_servers`) are secrets too.
fn redact(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            for (k, inner) in map.iter_mut() {
                if k == "credential" || k == "password" {
                    *inner = Value::String("(hidden)".into());
                } else {
                    *inner = redact(inner.take());
                }
            }
        }
        Value::Array(items) => {
            for inner in items.iter_mut() {
                *inner = redact(inner.take());
            }
        }
        _ => {}
    }
    v
}

/// Columns never copied into the log: hashes and sealed secrets.
fn is_secret(column: &str) -> bool {
    column.ends_with("_hash") || column.ends_with("_sealed") || column.starts_with("sealed_")
}

/// Who acted, and from where.
#[derive(Debug, Clone)]
pub struct Who {
    /// `staff:<username>` or `admin:<token name>`; for a failed sign-in the
    /// name that was tried.
    pub actor: String,
    /// The staff member's facility (`None` for a facility-wide admin token).
    pub facility: Option<Uuid>,
    /// The client's address.
    pub origin: String,
}

/// One line to append.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub who: &'a Who,
    pub action: &'a str,
    pub target: &'a Target,
    /// `done`, or `refused: <why>`.
    pub outcome: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Append a line.
pub fn record(
    conn: &Connection,
    now: chrono::DateTime<chrono::Utc>,
    line: &Line<'_>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_log (at, facility_id, actor, origin, action, target, outcome, before, after) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            ts(now),
            line.who.facility.map(|f| f.to_string()),
            line.who.actor,
            line.who.origin,
            line.action,
            line.target.to_string(),
            line.outcome,
            line.before.as_ref().map(Value::to_string),
            line.after.as_ref().map(Value::to_string),
        ],
    )?;
    tracing::info!(
        actor = %line.who.actor,
        action = line.action,
        target = %line.target,
        outcome = %line.outcome,
        "audit"
    );
    Ok(())
}

/// A line as read back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub facility_id: Option<String>,
    pub actor: String,
    pub origin: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A facility's lines, newest first; `before_seq` pages back.
pub fn list(
    conn: &Connection,
    facility: Uuid,
    before_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, facility_id, actor, origin, action, target, outcome, before, after \
         FROM audit_log WHERE facility_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![facility.to_string(), before_seq.unwrap_or(i64::MAX), limit],
        |r| {
            Ok(Entry {
                seq: r.get(0)?,
                at: from_ts(r.get(1)?),
                facility_id: r.get(2)?,
                actor: r.get(3)?,
                origin: r.get(4)?,
                action: r.get(5)?,
                target: r.get(6)?,
                outcome: r.get(7)?,
                before: r.get(8)?,
                after: r.get(9)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The lines as CSV (RFC 4180), oldest first, with a header row.
pub fn csv(entries: &[Entry]) -> String {
    let mut out = String::from("seq,at,actor,origin,action,target,outcome,before,after\r\n");
    for e in entries.iter().rev() {
        let fields = [
            e.seq.to_string(),
            e.at.to_rfc3339(),
            e.actor.clone(),
            e.origin.clone(),
            e.action.clone(),
            e.target.clone(),
            e.outcome.clone(),
            e.before.clone().unwrap_or_default(),
            e.after.clone().unwrap_or_default(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV field, quoted when needed. A field that a spreadsheet would run
/// as a formula (`=`, `+`, `-`, `@`) is prefixed with `'`.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_commas_and_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn the_log_refuses_to_be_rewritten_and_keeps_no_hash() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(&dir.path().join("a.db")).unwrap();
        let conn = db.conn().unwrap();
        let who = Who {
            actor: "staff:jones".into(),
            facility: None,
            origin: "127.0.0.1".into(),
        };
        let target = Target::None;
        record(
            &conn,
            chrono::Utc::now(),
            &Line {
                who: &who,
                action: "sign_in",
                target: &target,
                outcome: "done".into(),
                before: None,
                after: None,
            },
        )
        .unwrap();
        let upd = conn.execute("UPDATE audit_log SET actor = 'someone else'", []);
        assert!(upd.unwrap_err().to_string().contains("append-only"));
        let del = conn.execute("DELETE FROM audit_log", []);
        assert!(del.unwrap_err().to_string().contains("append-only"));
        assert!(is_secret("pin_hash") && is_secret("totp_sealed") && is_secret("sealed_pin"));
        assert!(!is_secret("name"));
        let ice = serde_json::json!([{"urls": ["turn:t.example:3478"], "username": "u", "credential": "s3cret"}]);
        let shown = redact(ice).to_string();
        assert!(
            !shown.contains("s3cret") && shown.contains("turn:t.example"),
            "{shown}"
        );
    }
}
