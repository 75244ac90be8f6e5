//! Reading webrtcbin's `get-stats` reply into a [`Sample`].
//!
//! The reply holds one structure per statistics object, each with a `type`.
//! Fields differ a little between GStreamer versions, so numbers are read
//! leniently and anything missing stays absent.

use super::stats::Sample;

fn num(s: &gst::StructureRef, field: &str) -> Option<f64> {
    let v = s.value(field).ok()?;
    v.get::<u64>()
        .map(|x| x as f64)
        .or_else(|_| v.get::<i64>().map(|x| x as f64))
        .or_else(|_| v.get::<u32>().map(|x| x as f64))
        .or_else(|_| v.get::<i32>().map(|x| x as f64))
        .or_else(|_| v.get::<f64>())
        .ok()
}

fn kind(s: &gst::StructureRef) -> Option<gst_webrtc::WebRTCStatsType> {
    s.get::<gst_webrtc::WebRTCStatsType>("type").ok()
}

pub fn sample(reply: &gst::StructureRef) -> Sample {
    tracing::debug!(stats = %reply, "webrtcbin statistics");
    let mut out = Sample::default();
    for (_, value) in reply.iter() {
        let Ok(s) = value.get::<gst::Structure>() else {
            continue;
        };
        match kind(&s) {
            Some(gst_webrtc::WebRTCStatsType::InboundRtp) => {
                out.video_bytes_received += num(&s, "bytes-received").unwrap_or(0.0) as u64;
                out.packets_received += num(&s, "packets-received").unwrap_or(0.0) as u64;
                out.packets_lost += num(&s, "packets-lost").unwrap_or(0.0).max(0.0) as u64;
            }
            Some(gst_webrtc::WebRTCStatsType::RemoteInboundRtp) => {
                if let Some(rtt) = num(&s, "round-trip-time").filter(|r| *r > 0.0) {
                    let ms = rtt * 1000.0;
                    out.rtt_ms = Some(out.rtt_ms.map_or(ms, |m: f64| m.max(ms)));
                }
                if let Some(f) = num(&s, "fraction-lost") {
                    out.remote_fraction_lost =
                        Some(out.remote_fraction_lost.map_or(f, |m: f64| m.max(f)));
                }
            }
            _ => {}
        }
    }
    out
}
