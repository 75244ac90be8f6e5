//! The handset's hook switch: terminals with a handset talk through it when
//! it is lifted and through the speaker when it rests in its cradle. The
//! switch is a Linux input device (`/dev/input/event*`, named
//! `/dev/kiosk/hook` by the udev rules): a key or switch event whose value
//! says lifted or down. Which event is configurable, since handsets report
//! it differently (a telephony key such as `KEY_PHONE`, or a GPIO switch).
//!
//! [`decode`] and [`HookConfig::state`] are pure; [`watch`] reads the
//! device on a thread of its own and stops when dropped.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where the handset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookState {
    /// Resting in its cradle: the speaker and the terminal's microphone.
    OnHook,
    /// Lifted: the handset's earpiece and microphone.
    OffHook,
}

/// `EV_KEY` and `EV_SW` from `linux/input-event-codes.h`.
pub const EV_KEY: u16 = 0x01;
pub const EV_SW: u16 = 0x05;
/// `KEY_PHONE`: what many USB handsets report for the hook.
pub const KEY_PHONE: u16 = 0xa9;

/// Which input device and event is the hook switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HookConfig {
    /// The input device; none: the terminal has no handset.
    pub device: Option<PathBuf>,
    /// The event type: 1 (`EV_KEY`) or 5 (`EV_SW`).
    pub event_type: u16,
    /// The key or switch code.
    pub code: u16,
    /// The value that means lifted (the other values mean down).
    pub lifted_value: i32,
}

impl Default for HookConfig {
    fn default() -> Self {
        HookConfig {
            device: None,
            event_type: EV_KEY,
            code: KEY_PHONE,
            lifted_value: 1,
        }
    }
}

/// One `struct input_event` (64-bit layout: a 16-byte time, then type,
/// code and value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputEvent {
    pub kind: u16,
    pub code: u16,
    pub value: i32,
}

/// Bytes of one event as the kernel writes it on 64-bit machines.
pub const EVENT_SIZE: usize = 24;

/// The whole events in `buf` (a partial one at the end is left out).
pub fn decode(buf: &[u8]) -> Vec<InputEvent> {
    buf.chunks_exact(EVENT_SIZE)
        .map(|e| InputEvent {
            kind: u16::from_ne_bytes([e[16], e[17]]),
            code: u16::from_ne_bytes([e[18], e[19]]),
            value: i32::from_ne_bytes([e[20], e[21], e[22], e[23]]),
        })
        .collect()
}

/// The bytes of one event (for tests and tools that play a handset).
pub fn encode(e: InputEvent) -> [u8; EVENT_SIZE] {
    let mut b = [0u8; EVENT_SIZE];
    b[16..18].copy_from_slice(&e.kind.to_ne_bytes());
    b[18..20].copy_from_slice(&e.code.to_ne_bytes());
    b[20..24].copy_from_slice(&e.value.to_ne_bytes());
    b
}

impl HookConfig {
    /// What `e` says about the hook, if it is the hook's event (key repeats,
    /// value 2, say nothing).
    pub fn state(&self, e: &InputEvent) -> Option<HookState> {
        if e.kind != self.event_type || e.code != self.code {
            return None;
        }
        if e.value == self.lifted_value {
            Some(HookState::OffHook)
        } else if self.event_type == EV_KEY && e.value == 2 {
            None
        } else {
            Some(HookState::OnHook)
        }
    }
}

/// A running watch of the hook; dropping it stops the thread.
pub struct HookWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for HookWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Watch the configured hook switch and call `on_change` (on the watch's
/// thread) whenever it is lifted or put down. `Ok(None)`: no hook switch
/// is configured.
pub fn watch(
    cfg: &HookConfig,
    on_change: impl Fn(HookState) + Send + 'static,
) -> std::io::Result<Option<HookWatch>> {
    let Some(path) = cfg.device.clone() else {
        return Ok(None);
    };
    // Not blocking: the thread looks at `stop` between reads.
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(0o4000) // O_NONBLOCK
        .open(&path)?;
    let cfg = cfg.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let thread = std::thread::Builder::new()
        .name("hal-hook".into())
        .spawn(move || {
            let mut buf = [0u8; EVENT_SIZE * 16];
            let mut pending: Vec<u8> = Vec::new();
            while !s.load(Ordering::SeqCst) {
                match file.read(&mut buf) {
                    Ok(n) if n > 0 => {
                        pending.extend_from_slice(&buf[..n]);
                        let whole = pending.len() / EVENT_SIZE * EVENT_SIZE;
                        for e in decode(&pending[..whole]) {
                            if let Some(state) = cfg.state(&e) {
                                tracing::info!(?state, device = %path.display(), "hook switch");
                                on_change(state);
                            }
                        }
                        pending.drain(..whole);
                    }
                    Ok(_) => std::thread::sleep(Duration::from_millis(50)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(50))
                    }
                    Err(e) => {
                        tracing::warn!(device = %path.display(), error = %e, "the hook switch cannot be read");
                        return;
                    }
                }
            }
        })?;
    Ok(Some(HookWatch {
        stop,
        thread: Some(thread),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Mutex;

    const LIFT: InputEvent = InputEvent {
        kind: EV_KEY,
        code: KEY_PHONE,
        value: 1,
    };
    const DOWN: InputEvent = InputEvent {
        kind: EV_KEY,
        code: KEY_PHONE,
        value: 0,
    };

    #[test]
    fn events_decode_and_only_the_hooks_own_say_lifted_or_down() {
        let other = InputEvent {
            kind: EV_KEY,
            code: 30,
            value: 1,
        };
        let repeat = InputEvent { value: 2, ..LIFT };
        let mut bytes = Vec::new();
        for e in [LIFT, other, repeat, DOWN] {
            bytes.extend_from_slice(&encode(e));
        }
        bytes.extend_from_slice(&[0; 10]); // a partial event
        let events = decode(&bytes);
        assert_eq!(events, vec![LIFT, other, repeat, DOWN]);
        let cfg = HookConfig::default();
        let states: Vec<_> = events.iter().filter_map(|e| cfg.state(e)).collect();
        assert_eq!(states, vec![HookState::OffHook, HookState::OnHook]);
        // A GPIO switch reporting "lifted" as 0.
        let sw = HookConfig {
            event_type: EV_SW,
            code: 0x0f,
            lifted_value: 0,
            ..HookConfig::default()
        };
        let e = InputEvent {
            kind: EV_SW,
            code: 0x0f,
            value: 0,
        };
        assert_eq!(sw.state(&e), Some(HookState::OffHook));
        assert_eq!(sw.state(&LIFT), None);
    }

    #[test]
    fn the_watch_reports_lifting_and_putting_down_from_the_device() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hook");
        let mut dev = std::fs::File::create(&path).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let cfg = HookConfig {
            device: Some(path),
            ..HookConfig::default()
        };
        let w = watch(&cfg, move |st| s.lock().unwrap().push(st))
            .unwrap()
            .unwrap();
        // Written in two pieces: a partial event waits for its rest.
        let lift = encode(LIFT);
        dev.write_all(&lift[..10]).unwrap();
        dev.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
        dev.write_all(&lift[10..]).unwrap();
        dev.write_all(&encode(DOWN)).unwrap();
        dev.flush().unwrap();
        let t = std::time::Instant::now();
        while seen.lock().unwrap().len() < 2 && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(w);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![HookState::OffHook, HookState::OnHook]
        );
        assert!(
            watch(&HookConfig::default(), |_| {}).unwrap().is_none(),
            "no device, no watch"
        );
    }
}
