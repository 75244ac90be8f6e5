//! A visit's recording as the console shows it: its parties, their tracks
//! and stored segments on the wall clock, and (when asked) whether the
//! manifest verifies.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use protocol::recording::PartyRole;
use rusqlite::Connection;
use uuid::Uuid;

use super::super::{Error, Result};
use super::{SegmentRow, Store, find, manifest, segments_of};

/// One stored segment, placed on the wall clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaySegment {
    pub id: Uuid,
    pub track: u32,
    pub index: u32,
    pub started_at: DateTime<Utc>,
    /// Its length; for a segment of unknown length (recovered after a
    /// crash), up to the next segment of its track, else 0.
    pub duration_ms: u64,
}

/// One party's stored recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub role: PartyRole,
    /// The person's terminal side, a visitor's id, or (an on-site visit's
    /// lobby seat) the visit's id.
    pub party: Uuid,
    pub tracks: Vec<u32>,
    pub segments: Vec<PlaySegment>,
    pub total_ms: u64,
}

/// A visit's recording.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The person first, then visitors, each by first segment.
    pub parties: Vec<Party>,
    /// Segments declared but not (yet) complete.
    pub waiting: usize,
    /// When the retention removed it, if it did.
    pub removed_at: Option<DateTime<Utc>>,
    /// Whether it verifies, when asked for.
    pub verification: Option<manifest::Verification>,
}

impl Summary {
    /// The earliest segment's start, if any segment is stored.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        self.parties
            .iter()
            .flat_map(|p| p.segments.iter().map(|s| s.started_at))
            .min()
    }
}

/// A visit's recording; with `check`, every file is hashed again and the
/// chain recomputed (cost: reading every byte).
pub fn summary(
    conn: &Connection,
    store: &Store,
    visit: Uuid,
    check: bool,
    now: DateTime<Utc>,
) -> Result<Summary> {
    let rows = segments_of(conn, visit)?;
    let removed_at = rows.iter().find_map(|r| r.removed_at);
    let waiting = rows.iter().filter(|r| !r.complete).count();
    let stored: Vec<&SegmentRow> = rows
        .iter()
        .filter(|r| r.complete && r.removed_at.is_none())
        .collect();
    let mut parties: Vec<Party> = Vec::new();
    for r in &stored {
        let seg = PlaySegment {
            id: r.meta.id,
            track: r.meta.track,
            index: r.meta.index,
            started_at: r.meta.started_at,
            duration_ms: effective_duration(r, &stored),
        };
        let party = match parties.iter_mut().find(|p| p.party == r.meta.party) {
            Some(p) => p,
            None => {
                parties.push(Party {
                    role: r.meta.role,
                    party: r.meta.party,
                    tracks: Vec::new(),
                    segments: Vec::new(),
                    total_ms: 0,
                });
                parties.last_mut().expect("just pushed")
            }
        };
        if !party.tracks.contains(&seg.track) {
            party.tracks.push(seg.track);
        }
        party.total_ms += seg.duration_ms;
        party.segments.push(seg);
    }
    parties.sort_by_key(|p| p.role != PartyRole::Person);
    let verification = if check && !stored.is_empty() {
        Some(manifest::verify(conn, store, visit, now)?)
    } else {
        None
    };
    Ok(Summary {
        parties,
        waiting,
        removed_at,
        verification,
    })
}

fn effective_duration(r: &SegmentRow, stored: &[&SegmentRow]) -> u64 {
    if r.meta.duration_ms > 0 {
        return r.meta.duration_ms;
    }
    stored
        .iter()
        .filter(|o| {
            o.meta.party == r.meta.party
                && o.meta.track == r.meta.track
                && o.meta.index == r.meta.index + 1
        })
        .map(|o| {
            (o.meta.started_at - r.meta.started_at)
                .num_milliseconds()
                .max(0) as u64
        })
        .next()
        .unwrap_or(0)
}

/// The file of a stored segment of `visit`.
///
/// Served only to `actor` having opened the visit's recording (the audited
/// `recording_viewed`) since `since` (the longest a session lives): a
/// segment's address alone is no way round that audit line.
pub fn segment_file(
    conn: &Connection,
    store: &Store,
    (visit, segment): (Uuid, Uuid),
    actor: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<PathBuf> {
    let viewed: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM audit_log WHERE target = ?1
             AND action = 'recording_viewed' AND actor = ?2 AND at >= ?3)",
        rusqlite::params![
            crate::service::audit::Target::Visit(visit).to_string(),
            actor,
            crate::db::ts(since)
        ],
        |r| r.get(0),
    )?;
    if !viewed {
        return Err(Error::Forbidden(
            "open the visit's recording page first: watching a recording is recorded in the audit log".into(),
        ));
    }
    find(conn, segment)?
        .filter(|r| r.meta.visit_id == visit && r.complete && r.removed_at.is_none())
        .map(|r| store.final_path(&r.meta))
        .ok_or_else(|| Error::not_found("recording segment", segment))
}
