//! The device follower: the call's capture follows the terminal's devices.
//! It borrows the camera from the `DeviceOwner` for as long as the capture
//! runs, swaps a source in when a device comes back (or, after a failure
//! without an unplug, when a retry finds it working: 5 s, doubling to a
//! minute), swaps in the stand-in when one is lost, and moves the sound to
//! the handset while it is lifted.

use std::time::{Duration, Instant};

use super::FrameSink;
use super::media::{Input, LocalMedia};
use crate::config::CallConfig;
use crate::devices::{CAMERA_WAIT, CameraLoan, DeviceOwner};

const INPUTS: [Input; 2] = [Input::Camera, Input::Microphone];

pub struct Follower {
    owner: DeviceOwner,
    mode: hal::VideoMode,
    /// The camera, ours while the capture runs.
    loan: Option<CameraLoan>,
    /// Per input without its device: when it was last tried, and the wait.
    retry: [Option<(Instant, Duration)>; 2],
    /// Where the handset is (no hook switch: always on its hook).
    hook: hal::HookState,
}

impl Follower {
    pub fn new(owner: DeviceOwner, mode: hal::VideoMode) -> Follower {
        Follower {
            owner,
            mode,
            loan: None,
            retry: [None; 2],
            hook: hal::HookState::OnHook,
        }
    }

    pub fn owner(&self) -> &DeviceOwner {
        &self.owner
    }

    /// Whether the call's sound goes through the lifted handset.
    pub fn handset_on(&self) -> bool {
        self.hook == hal::HookState::OffHook
    }

    /// Start the capture: borrow the camera (waiting while the sign-in
    /// photo finishes with it), then the camera and microphone sources.
    /// `failed` is told (from GStreamer's threads) when a device's element
    /// fails.
    pub fn start(
        &mut self,
        cfg: &CallConfig,
        own: Option<FrameSink>,
        failed: impl Fn(Input) + Send + Sync + 'static,
    ) -> anyhow::Result<LocalMedia> {
        if self.loan.is_none() {
            self.loan = Some(self.owner.borrow_camera("call", CAMERA_WAIT)?);
        }
        LocalMedia::start(cfg, self.owner.devices(), own, failed)
    }

    /// The capture has stopped: the camera goes back to its owner.
    pub fn stopped(&mut self) {
        self.loan = None;
    }

    /// Whether our camera and microphone feed the call now.
    pub fn present(local: &LocalMedia) -> [bool; 2] {
        INPUTS.map(|i| local.local(i).device_present())
    }

    /// A device went away or came back (hal, or its element failed).
    /// Returns whether anything changed for the call.
    pub fn on_device(&mut self, e: hal::DeviceEvent, local: Option<&LocalMedia>) -> bool {
        let (kind, back) = match e {
            hal::DeviceEvent::Lost(k) => (k, false),
            hal::DeviceEvent::Back(k) => (k, true),
        };
        let input = match kind {
            hal::DeviceKind::Camera => Input::Camera,
            hal::DeviceKind::Microphone => Input::Microphone,
            _ => return false,
        };
        tracing::info!(device = kind.name(), back, "device event during the call");
        let Some(l) = local else { return false };
        let local = l.local(input);
        if back {
            local.attach(self.source(input));
        } else {
            local.detach();
        }
        true
    }

    /// A device whose element failed without being unplugged (a USB
    /// hiccup) gets no `Back` from hal: try it again now and then. One
    /// that is really gone just fails to open again.
    pub fn retry(&mut self, l: &LocalMedia) -> bool {
        let now = Instant::now();
        let mut changed = false;
        for (i, input) in INPUTS.into_iter().enumerate() {
            let local = l.local(input);
            if local.device_present() {
                self.retry[i] = None;
                continue;
            }
            let (at, wait) = *self.retry[i].get_or_insert((now, Duration::from_secs(5)));
            if now < at + wait {
                continue;
            }
            self.retry[i] = Some((now, (wait * 2).min(Duration::from_secs(60))));
            changed |= local.attach(self.source(input));
        }
        changed
    }

    /// The handset was lifted or put down: the call's microphone and
    /// speaker follow, without a new session. Returns whether it moved.
    pub fn on_hook(&mut self, state: hal::HookState, local: Option<&LocalMedia>) -> bool {
        if state == self.hook {
            return false;
        }
        self.hook = state;
        tracing::info!(?state, "hook switch: the call's sound follows");
        let Some(l) = local else { return true };
        let d = self.audio_devices();
        let mic = l.local(Input::Microphone);
        mic.detach();
        mic.attach(d.microphone.source());
        match d.speaker.sink() {
            Ok(sink) => {
                if let Err(e) = l.set_speaker(sink) {
                    tracing::warn!(error = %format!("{e:#}"), "cannot switch the speaker");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the speaker for this hook position is unavailable")
            }
        }
        true
    }

    /// A fresh source for `input` from the devices in use now.
    fn source(&self, input: Input) -> Result<gst::Element, hal::HalError> {
        match input {
            Input::Camera => self.owner.devices().camera.source(self.mode),
            Input::Microphone => self.audio_devices().microphone.source(),
        }
    }

    /// The devices sound goes through now: the handset's while it is
    /// lifted (the camera is always the terminal's).
    fn audio_devices(&self) -> &hal::Devices {
        if self.hook == hal::HookState::OffHook {
            self.owner.handset()
        } else {
            self.owner.devices()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::DeviceOwner;

    #[test]
    fn a_call_starting_during_the_sign_in_photo_gets_the_camera_without_a_busy_retry() {
        let owner = DeviceOwner::open(&hal::DeviceConfig::simulated());
        let (taking, photo_started) = std::sync::mpsc::channel();
        let o = owner.clone();
        let photo = std::thread::spawn(move || {
            let _loan = o.borrow_camera("sign-in photo", CAMERA_WAIT).unwrap();
            taking.send(()).unwrap();
            crate::unit::photo::capture_jpeg(o.devices())
        });
        photo_started.recv().unwrap();
        let cfg = CallConfig {
            width: 320,
            height: 240,
            ..CallConfig::default()
        };
        let mut follower = Follower::new(owner.clone(), cfg.mode());
        let local = follower.start(&cfg, None, |_| {}).unwrap();
        assert_eq!(
            Follower::present(&local),
            [true, true],
            "the camera feeds the call from its start, not a stand-in waiting for a retry"
        );
        let jpeg = photo.join().unwrap().expect("the photo was taken too");
        assert!(jpeg.starts_with(&[0xFF, 0xD8]));
        // The camera is the call's until the capture stops.
        assert!(
            owner
                .borrow_camera("test", Duration::from_millis(10))
                .is_err()
        );
        drop(local);
        follower.stopped();
        assert!(
            owner
                .borrow_camera("test", Duration::from_millis(10))
                .is_ok()
        );
    }
}
