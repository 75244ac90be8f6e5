//! A timestamp written into a video frame's pixels before the encoder and
//! read back after the decoder, so glass-to-glass latency can be measured
//! in software (both terminals on one machine share the monotonic clock).
//!
//! The stamp is a row of black and white blocks across the top of the
//! picture: a fixed marker, then 40 bits of microseconds. Blocks are large
//! (1/48 of the width) so compression does not blur them away.

const MARKER: [bool; 4] = [true, false, true, true];
const BITS: usize = 40;
const BLOCKS: usize = MARKER.len() + BITS;

fn block_size(width: usize) -> usize {
    (width / 48).max(4)
}

/// The monotonic clock in microseconds (CLOCK_MONOTONIC: shared by the
/// processes of one machine).
pub fn now_micros() -> u64 {
    gst::glib::monotonic_time() as u64
}

/// Write `micros` into the luma plane (8-bit, `stride` bytes a row) of a
/// `width` x `height` frame.
pub fn write(luma: &mut [u8], stride: usize, width: usize, height: usize, micros: u64) {
    let b = block_size(width);
    if b * BLOCKS > width || b > height {
        return;
    }
    let bits = MARKER
        .iter()
        .copied()
        .chain((0..BITS).rev().map(|i| micros >> i & 1 == 1));
    for (i, on) in bits.enumerate() {
        let v = if on { 235 } else { 16 };
        for row in 0..b {
            let start = row * stride + i * b;
            luma[start..start + b].fill(v);
        }
    }
}

/// Read a stamp from an RGB frame (3 bytes a pixel); `None` if there is none.
pub fn read_rgb(rgb: &[u8], stride: usize, width: usize, height: usize) -> Option<u64> {
    let b = block_size(width);
    if b * BLOCKS > width || b > height {
        return None;
    }
    let y = b / 2;
    let bit = |i: usize| {
        let x = i * b + b / 2;
        let p = y * stride + x * 3;
        let px = rgb.get(p..p + 3)?;
        Some((px[0] as u32 + px[1] as u32 + px[2] as u32) / 3 > 128)
    };
    for (i, m) in MARKER.iter().enumerate() {
        if bit(i)? != *m {
            return None;
        }
    }
    let mut v = 0u64;
    for i in 0..BITS {
        v = v << 1 | bit(MARKER.len() + i)? as u64;
    }
    Some(v)
}

/// The latency from a stamp read now, allowing for the 40-bit wrap.
pub fn age_micros(stamp: u64, now: u64) -> u64 {
    let mask = (1u64 << BITS) - 1;
    (now & mask).wrapping_sub(stamp) & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_survives_the_trip_from_luma_to_rgb() {
        let (w, h) = (1280, 720);
        let mut luma = vec![90u8; w * h];
        let t = 0xAB_CDEF_1234u64;
        write(&mut luma, w, w, h, t);
        // Grey to RGB, as a decoder and converter would give it.
        let rgb: Vec<u8> = luma.iter().flat_map(|&y| [y, y, y]).collect();
        assert_eq!(read_rgb(&rgb, w * 3, w, h), Some(t));
        // No stamp in an unstamped frame.
        let plain = vec![90u8; w * h * 3];
        assert_eq!(read_rgb(&plain, w * 3, w, h), None);
    }

    #[test]
    fn ages_wrap_around() {
        let mask = (1u64 << BITS) - 1;
        assert_eq!(age_micros(mask - 10, mask + 1 + 20), 31);
        assert_eq!(age_micros(100, 5100), 5000);
    }
}
