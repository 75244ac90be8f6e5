//! One owner for the terminal's devices. The terminal (or `diagnose`)
//! opens them once, from the `[devices]` table, and lends them: the call,
//! the sign-in photo and the technician screen borrow the camera, which
//! only one pipeline at a time can capture from (a V4L2 camera opens
//! once), and wait their turn instead of failing as "busy"; the handset's
//! devices are opened the first time it is lifted; device events (lost,
//! back) reach whoever listens now, and a listener that has gone is
//! forgotten.

use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

/// How long a borrower waits for the camera before giving up: longer than
/// the sign-in photo takes (its own timeout is 5 s).
pub const CAMERA_WAIT: Duration = Duration::from_secs(8);

/// The terminal's devices and who has the camera now. Cheap to clone: every
/// clone is the same owner.
#[derive(Clone)]
pub struct DeviceOwner {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: hal::DeviceConfig,
    devices: hal::Devices,
    handset: OnceLock<hal::Devices>,
    /// Who holds the camera (its purpose, for the logs), if anyone.
    camera: Mutex<Option<&'static str>>,
    freed: Condvar,
    listeners: Arc<Mutex<Vec<UnboundedSender<hal::DeviceEvent>>>>,
}

/// The camera, lent to one user until this is dropped.
#[must_use = "the camera goes back to the owner when the loan is dropped"]
pub struct CameraLoan {
    inner: Arc<Inner>,
}

impl Drop for CameraLoan {
    fn drop(&mut self) {
        *self.inner.camera.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.inner.freed.notify_all();
    }
}

impl std::fmt::Debug for DeviceOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.devices.fmt(f)
    }
}

impl DeviceOwner {
    /// Open the configured devices: the one place the terminal calls
    /// `hal::open` (and, for the handset, [`DeviceOwner::handset`]).
    pub fn open(cfg: &hal::DeviceConfig) -> DeviceOwner {
        let devices = hal::open(cfg.hal());
        let listeners: Arc<Mutex<Vec<UnboundedSender<hal::DeviceEvent>>>> = Arc::default();
        let l = listeners.clone();
        devices.subscribe(move |e| {
            l.lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|tx| tx.send(*e).is_ok());
        });
        DeviceOwner {
            inner: Arc::new(Inner {
                cfg: cfg.clone(),
                devices,
                handset: OnceLock::new(),
                camera: Mutex::new(None),
                freed: Condvar::new(),
                listeners,
            }),
        }
    }

    /// The configuration they were opened with.
    pub fn config(&self) -> &hal::DeviceConfig {
        &self.inner.cfg
    }

    /// The terminal's camera, microphone and speaker. Making a camera
    /// source needs a [`CameraLoan`] first.
    pub fn devices(&self) -> &hal::Devices {
        &self.inner.devices
    }

    /// The handset's microphone and earpiece, opened the first time asked.
    pub fn handset(&self) -> &hal::Devices {
        self.inner
            .handset
            .get_or_init(|| hal::open(self.inner.cfg.handset()))
    }

    /// Be told of devices leaving and coming back until `tx` is closed.
    pub fn listen(&self, tx: UnboundedSender<hal::DeviceEvent>) {
        self.inner
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx);
    }

    /// Borrow the camera for `user`, waiting up to `wait` while someone
    /// else has it. Blocks: call it from a worker thread, or where a short
    /// wait is acceptable (the call's task while it starts its capture).
    pub fn borrow_camera(&self, user: &'static str, wait: Duration) -> Result<CameraLoan, Busy> {
        let deadline = Instant::now() + wait;
        let mut holder = self.inner.camera.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(other) = *holder {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Busy {
                    user,
                    holder: other,
                });
            }
            tracing::info!(user, holder = other, "waiting for the camera");
            holder = self
                .inner
                .freed
                .wait_timeout(holder, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *holder = Some(user);
        Ok(CameraLoan {
            inner: self.inner.clone(),
        })
    }
}

/// The camera stayed with another user for the whole wait.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the camera is in use by the {holder}; the {user} goes without it")]
pub struct Busy {
    pub user: &'static str,
    pub holder: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_camera_is_lent_to_one_user_at_a_time_and_the_next_one_waits() {
        let owner = DeviceOwner::open(&hal::DeviceConfig::simulated());
        let photo = owner.borrow_camera("sign-in photo", CAMERA_WAIT).unwrap();
        let e = owner
            .borrow_camera("call", Duration::from_millis(20))
            .err()
            .expect("busy while lent");
        assert_eq!(e.holder, "sign-in photo");
        let o = owner.clone();
        let waiter = std::thread::spawn(move || o.borrow_camera("call", CAMERA_WAIT).is_ok());
        std::thread::sleep(Duration::from_millis(50));
        drop(photo);
        assert!(
            waiter.join().unwrap(),
            "the call gets the camera once the photo is done"
        );
    }

    #[test]
    fn device_events_reach_the_listeners_still_there() {
        let owner = DeviceOwner::open(&hal::DeviceConfig {
            faults: "camera-lost-at=0s".parse().unwrap(),
            ..hal::DeviceConfig::simulated()
        });
        let (gone, rx) = tokio::sync::mpsc::unbounded_channel();
        drop(rx);
        owner.listen(gone);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        owner.listen(tx);
        let _loan = owner.borrow_camera("test", CAMERA_WAIT).unwrap();
        let _source = owner
            .devices()
            .camera
            .source(hal::VideoMode::default())
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let event = loop {
            if let Ok(e) = rx.try_recv() {
                break Some(e);
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(event, Some(hal::DeviceEvent::Lost(hal::DeviceKind::Camera)));
        assert_eq!(
            owner.inner.listeners.lock().unwrap().len(),
            1,
            "the closed one is forgotten"
        );
    }
}
