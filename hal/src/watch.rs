//! Noticing devices leave and come back: a thread that runs discovery every
//! so often and reports the difference. Polling sysfs once a second costs a
//! few directory reads and needs no udev daemon or netlink socket (which a
//! test cannot fake); a camera's return is noticed within a second.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::discovery::{DeviceReport, Roots, discover};
use crate::{DeviceEvent, DeviceKind};

/// The events between two discoveries: for each kind, the preferred
/// device's path going away (`Lost`), appearing (`Back`), or changing
/// (`Lost` then `Back`: a camera replugged elsewhere between two looks).
pub fn changes(before: &DeviceReport, after: &DeviceReport) -> Vec<DeviceEvent> {
    let key = |r: &DeviceReport, k: DeviceKind| match k {
        DeviceKind::Camera => r.camera().map(|c| c.node.clone()),
        DeviceKind::Microphone => r.microphone().map(|c| c.node.clone()),
        DeviceKind::Speaker => r.speaker().map(|c| c.node.clone()),
        DeviceKind::Touchscreen => r.touchscreen().map(|c| c.node.clone()),
    };
    let mut out = Vec::new();
    for k in [
        DeviceKind::Camera,
        DeviceKind::Microphone,
        DeviceKind::Speaker,
        DeviceKind::Touchscreen,
    ] {
        match (key(before, k), key(after, k)) {
            (Some(_), None) => out.push(DeviceEvent::Lost(k)),
            (None, Some(_)) => out.push(DeviceEvent::Back(k)),
            (Some(a), Some(b)) if a != b => {
                out.push(DeviceEvent::Lost(k));
                out.push(DeviceEvent::Back(k));
            }
            _ => {}
        }
    }
    out
}

/// A running watch; dropping it stops the thread.
pub struct Watcher {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Look at `roots` every `interval` and call `on_event` for each change
    /// (on the watcher's thread). The first look, made before this returns, is the
    /// baseline: devices present at the start produce no event.
    pub fn spawn(
        roots: Roots,
        interval: Duration,
        on_event: impl Fn(DeviceEvent) + Send + 'static,
    ) -> Watcher {
        // The baseline is taken here, before returning: a change made right
        // after `spawn` is reported.
        let mut last = discover(&roots);
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("hal-watch".into())
            .spawn(move || {
                let (lock, cvar) = &*s;
                let mut stopped = lock.lock().unwrap();
                loop {
                    stopped = cvar.wait_timeout(stopped, interval).unwrap().0;
                    if *stopped {
                        return;
                    }
                    let now = discover(&roots);
                    for e in changes(&last, &now) {
                        on_event(e);
                    }
                    last = now;
                }
            })
            .expect("a thread for the device watch");
        Watcher {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        *self.stop.0.lock().unwrap() = true;
        self.stop.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
