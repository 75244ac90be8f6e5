//! `Range: bytes=...` as a browser's `<video>` sends it when it seeks: one
//! range (first-last, first-, or the last N bytes); anything else is
//! answered whole, as RFC 9110 allows.

/// What to send of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// All of it (no range, or one we do not serve): 200.
    Whole,
    /// Bytes `first..=last`: 206.
    Part { first: u64, last: u64 },
    /// A range that starts past the end: 416.
    Unsatisfiable,
}

/// Read a `Range` header against a file of `len` bytes.
pub fn wanted(header: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Wanted::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return Wanted::Whole; // "+5" is not a number here
    }
    if a.is_empty() && b == "0" {
        return Wanted::Unsatisfiable; // the last 0 bytes (RFC 9110 14.1.2)
    }
    let (first, last) = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(first), Ok(last)) if first <= last => (first, last.min(len.saturating_sub(1))),
        (Ok(first), Err(_)) if b.is_empty() => (first, len.saturating_sub(1)),
        (Err(_), Ok(n)) if a.is_empty() && n > 0 => (len.saturating_sub(n), len.saturating_sub(1)),
        _ => return Wanted::Whole,
    };
    if first >= len {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part { first, last }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seek_gets_the_bytes_it_asks_for() {
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(
            wanted(Some("bytes=0-"), 100),
            Wanted::Part { first: 0, last: 99 }
        );
        assert_eq!(
            wanted(Some("bytes=10-19"), 100),
            Wanted::Part {
                first: 10,
                last: 19
            }
        );
        assert_eq!(
            wanted(Some("bytes=90-500"), 100),
            Wanted::Part {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            wanted(Some("bytes=-10"), 100),
            Wanted::Part {
                first: 90,
                last: 99
            }
        );
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=9-2"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=+5-9"), 100), Wanted::Whole);
    }
}
