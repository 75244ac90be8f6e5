//! A visit's recording as rules: what a declared segment must look like,
//! how the manifest's chain is computed, when a visit may still be made
//! confidential, when a recording has been kept long enough, and when a
//! terminal's upload backlog needs a look.
//!
//! The chain is what makes a stored recording tamper-evident: entry `n`'s
//! `chain` is `SHA-256(chain_{n-1} || canonical JSON of its SegmentMeta)`,
//! starting from 32 zero bytes, and the metadata includes the segment's own
//! SHA-256. Changing, dropping or reordering a segment (or its metadata)
//! breaks every later link.

use chrono::{DateTime, Duration, Utc};
use protocol::recording::{MAX_SEGMENT_BYTES, SegmentMeta};
use sha2::{Digest, Sha256};

use super::status::Status;

/// The only container a terminal records in today.
pub const MEDIA_TYPE: &str = "video/x-matroska";

/// The chain's value before the first entry: 32 zero bytes, as hex.
pub const CHAIN_START: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A backlog older than this is flagged on the console's terminals page.
pub const BACKLOG_STALE: Duration = Duration::hours(1);

/// Less free space than this on a terminal's data partition is flagged.
pub const LOW_DISK_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Why a declared segment is not accepted, in plain words.
pub fn check_meta(meta: &SegmentMeta) -> Result<(), String> {
    if meta.size == 0 {
        return Err("a segment cannot be empty".into());
    }
    if meta.size > MAX_SEGMENT_BYTES {
        return Err(format!(
            "the segment is {} bytes; at most {MAX_SEGMENT_BYTES} are accepted",
            meta.size
        ));
    }
    if !is_sha256_hex(&meta.sha256) {
        return Err("sha256 must be 64 lower-case hexadecimal characters".into());
    }
    if meta.media_type != MEDIA_TYPE {
        return Err(format!(
            "media_type '{}' is not accepted; segments are {MEDIA_TYPE}",
            meta.media_type
        ));
    }
    Ok(())
}

/// 64 lower-case hexadecimal characters.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The metadata as the chain hashes it: serde's JSON of [`SegmentMeta`],
/// fields in declaration order, no whitespace.
pub fn canonical(meta: &SegmentMeta) -> String {
    serde_json::to_string(meta).expect("segment metadata serialises")
}

/// The chain value of the entry after one whose chain is `previous` (hex).
pub fn chain_next(previous: &str, meta: &SegmentMeta) -> String {
    let mut h = Sha256::new();
    h.update(hex_bytes(previous));
    h.update(canonical(meta).as_bytes());
    hex(&h.finalize())
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// Where a complete segment is kept inside its visit's directory:
/// `<party>-<track>-<index>.mkv` (the party id alone tells whose it is).
pub fn file_name(meta: &SegmentMeta) -> String {
    format!("{}-{}-{}.mkv", meta.party, meta.track, meta.index)
}

/// Whether staff may still mark a visit confidential (or undo it): only
/// before it is in progress, since a call under way is already recorded.
pub fn may_change_confidential(status: Status) -> bool {
    matches!(status, Status::Scheduled | Status::Pending | Status::Ready)
}

/// Whether a recording of a visit that ended at `ended` has been kept for
/// the facility's `days`.
pub fn retention_over(ended: DateTime<Utc>, days: u32, now: DateTime<Utc>) -> bool {
    now - ended > Duration::days(i64::from(days))
}

/// What the console flags about a terminal's recording backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogFlags {
    /// Segments have been waiting for more than [`BACKLOG_STALE`].
    pub stale: bool,
    /// Less than [`LOW_DISK_BYTES`] free where the segments wait.
    pub low_disk: bool,
}

/// Flags for a terminal's last reported backlog.
pub fn backlog_flags(
    pending: u32,
    pending_since: Option<DateTime<Utc>>,
    free_bytes: Option<u64>,
    now: DateTime<Utc>,
) -> BacklogFlags {
    BacklogFlags {
        stale: pending > 0 && pending_since.is_some_and(|t| now - t > BACKLOG_STALE),
        low_disk: free_bytes.is_some_and(|f| f < LOW_DISK_BYTES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::recording::PartyRole;
    use uuid::Uuid;

    fn meta() -> SegmentMeta {
        SegmentMeta {
            id: Uuid::nil(),
            visit_id: Uuid::nil(),
            role: PartyRole::Person,
            party: Uuid::nil(),
            track: 0,
            index: 0,
            started_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            duration_ms: 2000,
            size: 10,
            sha256: "a".repeat(64),
            media_type: MEDIA_TYPE.into(),
            closed: true,
        }
    }

    #[test]
    fn a_declaration_must_have_a_size_a_hash_and_the_container() {
        assert_eq!(check_meta(&meta()), Ok(()));
        let too_big = SegmentMeta {
            size: MAX_SEGMENT_BYTES + 1,
            ..meta()
        };
        assert!(check_meta(&too_big).unwrap_err().contains("at most"));
        let upper = SegmentMeta {
            sha256: "A".repeat(64),
            ..meta()
        };
        assert!(check_meta(&upper).unwrap_err().contains("sha256"));
        let webm = SegmentMeta {
            media_type: "video/webm".into(),
            ..meta()
        };
        assert!(check_meta(&webm).unwrap_err().contains("video/webm"));
    }

    #[test]
    fn the_chain_changes_with_any_field_and_with_the_order() {
        let a = meta();
        let b = SegmentMeta { index: 1, ..meta() };
        let ab = chain_next(&chain_next(CHAIN_START, &a), &b);
        let ba = chain_next(&chain_next(CHAIN_START, &b), &a);
        assert_ne!(ab, ba);
        assert_eq!(ab, chain_next(&chain_next(CHAIN_START, &a), &b));
        let altered = SegmentMeta {
            sha256: "b".repeat(64),
            ..meta()
        };
        assert_ne!(
            chain_next(CHAIN_START, &a),
            chain_next(CHAIN_START, &altered)
        );
        assert!(is_sha256_hex(&ab));
    }

    #[test]
    fn confidentiality_is_decided_before_the_call_and_retention_after_its_days() {
        assert!(may_change_confidential(Status::Scheduled));
        assert!(may_change_confidential(Status::Ready));
        assert!(!may_change_confidential(Status::InProgress));
        assert!(!may_change_confidential(Status::Ended));
        let ended = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(!retention_over(ended, 90, ended + Duration::days(90)));
        assert!(retention_over(
            ended,
            90,
            ended + Duration::days(90) + Duration::seconds(1)
        ));
    }

    #[test]
    fn a_backlog_is_flagged_when_old_or_when_the_disk_fills() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let fresh = backlog_flags(3, Some(now - Duration::minutes(5)), Some(u64::MAX), now);
        assert_eq!(
            fresh,
            BacklogFlags {
                stale: false,
                low_disk: false
            }
        );
        assert!(backlog_flags(3, Some(now - Duration::hours(2)), None, now).stale);
        assert!(!backlog_flags(0, Some(now - Duration::hours(2)), None, now).stale);
        assert!(backlog_flags(0, None, Some(1024), now).low_disk);
    }
}
