//! The microphone level meter: the `hal` microphone source into GStreamer's
//! `level` element, which posts the RMS level every 100 ms; the loudest
//! channel's figure is kept for the screen.

use std::sync::{Arc, Mutex};

use gst::prelude::*;

/// What the meter reads.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LevelStats {
    /// RMS level of the last 100 ms, dB below full scale (0 is the loudest;
    /// -60 and below is silence). `None` before the first reading.
    pub rms_db: Option<f64>,
    /// Readings so far.
    pub readings: u64,
    /// Why there is no level (the microphone is missing, failed...).
    pub error: Option<String>,
}

impl LevelStats {
    /// The meter's fill, 0 to 1: -60 dB and below is empty, 0 dB full.
    pub fn fraction(&self) -> f32 {
        self.rms_db
            .map_or(0.0, |db| ((db + 60.0) / 60.0).clamp(0.0, 1.0) as f32)
    }
}

/// A running meter; dropping it releases the microphone.
pub struct Meter {
    pipeline: Option<gst::Pipeline>,
    stats: Arc<Mutex<LevelStats>>,
}

/// The loudest channel's RMS from a `level` message.
fn rms_of(s: &gst::StructureRef) -> Option<f64> {
    let rms = s.get::<gst::glib::ValueArray>("rms").ok()?;
    rms.iter()
        .filter_map(|v| v.get::<f64>().ok())
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
}

impl Meter {
    /// Start listening. Never fails: a microphone that cannot be opened
    /// leaves `stats().error` saying why.
    pub fn start(devices: &hal::Devices) -> Meter {
        let stats = Arc::new(Mutex::new(LevelStats::default()));
        let pipeline = match Self::build(devices, stats.clone()) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(error = %e, "technician level meter: no microphone");
                stats.lock().unwrap().error = Some(e);
                None
            }
        };
        Meter { pipeline, stats }
    }

    fn build(
        devices: &hal::Devices,
        stats: Arc<Mutex<LevelStats>>,
    ) -> Result<gst::Pipeline, String> {
        gst::init().map_err(|e| e.to_string())?;
        let src = devices.microphone.source().map_err(|e| e.to_string())?;
        use hal::elements::{AUDIOCONVERT, FAKESINK, LEVEL};
        let conv = AUDIOCONVERT.make().build().map_err(|e| e.to_string())?;
        let level = LEVEL
            .make()
            .property("interval", 100_000_000u64)
            .property("post-messages", true)
            .build()
            .map_err(|e| e.to_string())?;
        let sink = FAKESINK
            .make()
            .property("sync", false)
            .property("async", false)
            .build()
            .map_err(|e| e.to_string())?;
        let pipeline = gst::Pipeline::with_name("technician-level-meter");
        pipeline
            .add_many([&src, &conv, &level, &sink])
            .map_err(|e| e.to_string())?;
        gst::Element::link_many([&src, &conv, &level, &sink]).map_err(|e| e.to_string())?;
        let bus = pipeline.bus().expect("a pipeline has a bus");
        bus.set_sync_handler(move |_, m| {
            match m.view() {
                gst::MessageView::Element(e) => {
                    if let Some(s) = e.structure().filter(|s| s.name() == "level")
                        && let Some(db) = rms_of(s)
                    {
                        let mut st = stats.lock().unwrap();
                        st.rms_db = Some(db);
                        st.readings += 1;
                    }
                }
                gst::MessageView::Error(e) => {
                    let text = format!("the microphone stopped: {}", e.error());
                    tracing::warn!(error = %text, "technician level meter");
                    stats.lock().unwrap().error = Some(text);
                }
                _ => {}
            }
            gst::BusSyncReply::Drop
        });
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("the microphone does not start: {e}"))?;
        Ok(pipeline)
    }

    pub fn stats(&self) -> LevelStats {
        self.stats.lock().unwrap().clone()
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        if let Some(p) = self.pipeline.take() {
            let _ = p.set_state(gst::State::Null);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn the_simulated_microphone_reads_a_tone_not_silence() {
        let devices = hal::open(hal::Backend::Simulated);
        let meter = Meter::start(&devices);
        let end = Instant::now() + Duration::from_secs(10);
        while meter.stats().readings < 3 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        let s = meter.stats();
        assert!(s.readings >= 3, "{s:?}");
        // A sine of amplitude 0.2 has an RMS of 0.141: -17 dB.
        let db = s.rms_db.unwrap();
        assert!((-20.0..-14.0).contains(&db), "{db} dB");
        assert!(s.fraction() > 0.6, "{}", s.fraction());
    }

    #[test]
    fn a_denied_microphone_says_why_and_reads_nothing() {
        let devices = hal::open(hal::HalConfig {
            backend: hal::Backend::Simulated,
            faults: "mic-denied".parse().unwrap(),
            ..Default::default()
        });
        let s = Meter::start(&devices).stats();
        assert_eq!(s.rms_db, None);
        assert_eq!(s.fraction(), 0.0);
        assert!(s.error.unwrap().contains("permission"));
    }
}
