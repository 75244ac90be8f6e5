//! Simulated devices: a moving test pattern for the camera, a tone for the
//! microphone, and a speaker that plays into nothing at real-time pace.
//! Used where there is no hardware (tests, CI, demos).
//!
//! Camera and microphone play the faults of a [`SimulatedScript`] (see
//! [`crate::faults`]): missing, permission denied, lost after a time and
//! back after another. Times count from the device's first source, on
//! GStreamer's system clock; the [`FaultLog`] records what fired.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use gst::prelude::*;

use crate::faults::{Fault, FaultLog, SimulatedScript};
use crate::{
    Camera, DeviceEvent, DeviceKind, Devices, EventHub, HalError, Microphone, Speaker, VideoMode,
    bin,
};

/// Simulated devices that never fail.
pub fn devices() -> Devices {
    devices_with(&SimulatedScript::default())
}

/// Simulated devices playing `script`.
pub fn devices_with(script: &SimulatedScript) -> Devices {
    let _ = gst::init();
    let events = EventHub::default();
    let log = Arc::new(FaultLog::new(script, gst::SystemClock::obtain()));
    let faulty = |kind| Faulty {
        kind,
        faults: script.of(kind).collect(),
        log: log.clone(),
        events: events.clone(),
        lost: Arc::new(AtomicBool::new(false)),
        timers: Mutex::new(None),
    };
    Devices {
        backend: crate::Backend::Simulated,
        camera: Box::new(SimCamera {
            faults: faulty(DeviceKind::Camera),
            capturing: Mutex::new(Vec::new()),
        }),
        microphone: Box::new(SimMicrophone {
            faults: faulty(DeviceKind::Microphone),
        }),
        speaker: Box::new(SimSpeaker::default()),
        events,
        watch: None,
        watcher: Mutex::new(None),
        faults: Some(log),
    }
}

/// The scripted faults of one device and their state.
struct Faulty {
    kind: DeviceKind,
    faults: Vec<Fault>,
    log: Arc<FaultLog>,
    events: EventHub,
    /// Between lost-at and back-at: sources drop their buffers.
    lost: Arc<AtomicBool>,
    /// The lost/back timers, set when the first source is made.
    timers: Mutex<Option<Vec<gst::SingleShotClockId>>>,
}

impl Faulty {
    /// The scripted failure of this device (missing or denied), if any.
    fn scripted_failure(&self) -> Option<(Fault, HalError)> {
        let name = self.kind.name();
        self.faults.iter().find_map(|f| match f {
            Fault::Missing(_) => Some((
                *f,
                HalError::Missing(format!("{name} (simulated fault {name}-missing)")),
            )),
            Fault::Denied(_) => Some((
                *f,
                HalError::PermissionDenied {
                    device: format!("the simulated {name}"),
                },
            )),
            _ => None,
        })
    }

    /// What `source` would say now: the scripted failure, `Missing` while
    /// lost, else fine. Fires nothing: a check is not the call using it.
    fn check(&self) -> Result<(), HalError> {
        if let Some((_, e)) = self.scripted_failure() {
            return Err(e);
        }
        if self.lost.load(Ordering::SeqCst) {
            let name = self.kind.name();
            return Err(HalError::Missing(format!("{name} (lost, simulated)")));
        }
        Ok(())
    }

    /// Fail as scripted, or hand `element` back wired to the lost/back timeline.
    fn source(&self, element: Result<gst::Element, HalError>) -> Result<gst::Element, HalError> {
        if let Some((f, _)) = self.scripted_failure() {
            self.log.fire(f);
        }
        self.check()?;
        let element = element?;
        self.start_timers();
        let lost = self.lost.clone();
        element
            .static_pad("src")
            .expect("sources have a src pad")
            .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                if lost.load(Ordering::SeqCst) {
                    gst::PadProbeReturn::Drop
                } else {
                    gst::PadProbeReturn::Ok
                }
            });
        Ok(element)
    }

    fn start_timers(&self) {
        let mut timers = self.timers.lock().unwrap();
        if timers.is_some() {
            return;
        }
        let clock = self.log.clock().clone();
        let t0 = clock.time();
        let mut ids = Vec::new();
        for f in &self.faults {
            let (at, lost, event) = match *f {
                Fault::LostAt(k, t) => (t, true, DeviceEvent::Lost(k)),
                Fault::BackAt(k, t) => (t, false, DeviceEvent::Back(k)),
                _ => continue,
            };
            let id =
                clock.new_single_shot_id(t0 + gst::ClockTime::from_nseconds(at.as_nanos() as u64));
            let (flag, log, events, fault) =
                (self.lost.clone(), self.log.clone(), self.events.clone(), *f);
            let scheduled = id.wait_async(move |_, _, _| {
                flag.store(lost, Ordering::SeqCst);
                log.fire(fault);
                events.emit(event);
            });
            if let Err(e) = scheduled {
                tracing::warn!(%fault, ?e, "cannot schedule a simulated fault");
            }
            ids.push(id);
        }
        *timers = Some(ids);
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        // A closed backend plays no more faults.
        for id in self.timers.lock().unwrap().iter().flatten() {
            id.unschedule();
        }
    }
}

/// A bouncing ball on a test pattern: every frame differs from the last.
/// Like a V4L2 camera, it captures for one pipeline at a time: a source
/// asked for while another of its sources is running (out of the `Null`
/// state) is refused as busy, so a test sees what two users of the camera
/// at once would do on a terminal.
pub struct SimCamera {
    faults: Faulty,
    capturing: Mutex<Vec<gst::glib::WeakRef<gst::Element>>>,
}

impl SimCamera {
    /// Refuse a second capture while one runs; remember the new source.
    fn exclusive(&self, element: gst::Element) -> Result<gst::Element, HalError> {
        let mut capturing = self.capturing.lock().unwrap();
        capturing.retain(|w| w.upgrade().is_some());
        let busy = capturing
            .iter()
            .filter_map(|w| w.upgrade())
            .any(|e| e.current_state() > gst::State::Null);
        if busy {
            return Err(HalError::Open {
                device: "simulated camera".into(),
                detail: "device or resource busy (another pipeline is capturing)".into(),
            });
        }
        capturing.push(element.downgrade());
        Ok(element)
    }
}

impl Camera for SimCamera {
    fn name(&self) -> String {
        "Simulated camera".into()
    }
    fn source(&self, m: VideoMode) -> Result<gst::Element, HalError> {
        let element = self.faults.source(bin(
            "simulated camera",
            &format!(
                "videotestsrc is-live=true pattern=ball motion=wavy ! \
                 capsfilter caps=video/x-raw,format=I420,width={},height={},framerate={}/1",
                m.width, m.height, m.fps
            ),
        ))?;
        self.exclusive(element)
    }
    fn check(&self, m: VideoMode) -> Result<String, HalError> {
        self.faults.check()?;
        Ok(format!(
            "Simulated camera: moving test pattern {}x{}@{}",
            m.width, m.height, m.fps
        ))
    }
}

/// A quiet 440 Hz tone.
pub struct SimMicrophone {
    faults: Faulty,
}

impl Microphone for SimMicrophone {
    fn name(&self) -> String {
        "Simulated microphone".into()
    }
    fn source(&self) -> Result<gst::Element, HalError> {
        self.faults.source(bin(
            "simulated microphone",
            "audiotestsrc is-live=true wave=sine freq=440 volume=0.2 samplesperbuffer=480 ! \
             capsfilter caps=audio/x-raw,rate=48000,channels=1",
        ))
    }
    fn check(&self) -> Result<String, HalError> {
        self.faults.check()?;
        Ok("Simulated microphone: 440 Hz tone".into())
    }
}

/// Plays into nothing, synchronised to the clock as a sound card would be.
/// Its volume is only remembered.
pub struct SimSpeaker {
    volume: AtomicU8,
}

impl Default for SimSpeaker {
    fn default() -> Self {
        SimSpeaker {
            volume: AtomicU8::new(100),
        }
    }
}

impl Speaker for SimSpeaker {
    fn name(&self) -> String {
        "Simulated speaker".into()
    }
    fn sink(&self) -> Result<gst::Element, HalError> {
        bin("simulated speaker", "fakesink sync=true async=false")
    }
    fn check(&self) -> Result<String, HalError> {
        Ok("Simulated speaker: plays into nothing".into())
    }
    fn volume(&self) -> Result<u8, HalError> {
        Ok(self.volume.load(Ordering::SeqCst))
    }
    fn set_volume(&self, percent: u8) -> Result<(), HalError> {
        self.volume.store(percent.min(100), Ordering::SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulated_camera_captures_for_one_pipeline_at_a_time() {
        let devices = devices();
        let mode = VideoMode::default();
        let first = devices.camera.source(mode).unwrap();
        // Made but not started: a second user may still take the camera.
        let idle = devices.camera.source(mode).unwrap();
        drop(idle);
        first.set_state(gst::State::Playing).unwrap();
        let e = devices.camera.source(mode).unwrap_err();
        assert!(e.to_string().contains("busy"), "{e}");
        first.set_state(gst::State::Null).unwrap();
        assert!(
            devices.camera.source(mode).is_ok(),
            "free again once stopped"
        );
    }
}
