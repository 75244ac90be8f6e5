//! The speaker test: a 2-second 660 Hz tone (`audiotestsrc`) played into the
//! `hal` speaker, loud enough to hear across a dayroom, then stopped.

use std::time::{Duration, Instant};

use gst::prelude::*;

/// How long the tone plays.
pub const LENGTH: Duration = Duration::from_secs(2);

/// A tone playing; dropping it stops it.
pub struct Tone {
    pipeline: gst::Pipeline,
    started: Instant,
}

impl Tone {
    /// Start the tone on the speaker. Fails (with the reason a technician
    /// needs) when the speaker cannot be opened.
    pub fn play(devices: &hal::Devices) -> Result<Tone, String> {
        gst::init().map_err(|e| e.to_string())?;
        let sink = devices.speaker.sink().map_err(|e| e.to_string())?;
        // 100 buffers of 20 ms at 48 kHz: the tone ends by itself after LENGTH.
        let buffers = (LENGTH.as_millis() / 20) as i32;
        let src = hal::elements::AUDIOTESTSRC
            .make()
            .property("is-live", true)
            .property("freq", 660.0f64)
            .property("volume", 0.5f64)
            .property("samplesperbuffer", 960i32)
            .property("num-buffers", buffers)
            .build()
            .map_err(|e| e.to_string())?;
        let caps = hal::elements::CAPSFILTER
            .make()
            .property(
                "caps",
                gst::Caps::builder("audio/x-raw")
                    .field("rate", 48000i32)
                    .field("channels", 1i32)
                    .build(),
            )
            .build()
            .map_err(|e| e.to_string())?;
        let conv = hal::elements::AUDIOCONVERT
            .make()
            .build()
            .map_err(|e| e.to_string())?;
        let resample = hal::elements::AUDIORESAMPLE
            .make()
            .build()
            .map_err(|e| e.to_string())?;
        let pipeline = gst::Pipeline::with_name("technician-test-tone");
        pipeline
            .add_many([&src, &caps, &conv, &resample, &sink])
            .map_err(|e| e.to_string())?;
        gst::Element::link_many([&src, &caps, &conv, &resample, &sink])
            .map_err(|e| e.to_string())?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("the speaker does not start: {e}"))?;
        tracing::info!("technician test tone");
        Ok(Tone {
            pipeline,
            started: Instant::now(),
        })
    }

    /// Whether it is still playing (false once LENGTH has passed).
    pub fn playing(&self) -> bool {
        self.started.elapsed() < LENGTH
    }
}

impl Drop for Tone {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tone_plays_for_two_seconds_on_the_speaker() {
        let devices = hal::open(hal::Backend::Simulated);
        let tone = Tone::play(&devices).unwrap();
        assert!(tone.playing());
        let (_, state, _) = tone.pipeline.state(gst::ClockTime::from_seconds(5));
        assert_eq!(state, gst::State::Playing);
        // Position advances in real time on the clocked (simulated) speaker.
        std::thread::sleep(Duration::from_millis(500));
        let pos = tone
            .pipeline
            .query_position::<gst::ClockTime>()
            .unwrap_or_default();
        assert!(pos >= gst::ClockTime::from_mseconds(300), "{pos}");
    }
}
