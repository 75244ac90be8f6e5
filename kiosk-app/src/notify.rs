//! Telling systemd how the terminal is doing (`sd_notify`): `READY=1` once
//! the first frame is on screen, then `WATCHDOG=1` from the main loop, with
//! `STATUS=` lines for `systemctl status`.
//!
//! `kiosk.service` is `Type=notify` with a watchdog: if the loop that draws
//! the screen hangs, the pings stop and systemd restarts the terminal, which
//! comes back to where it was from its data directory.
//!
//! Why not the `sd-notify` crate: the protocol is one datagram of text on the
//! Unix socket named by `$NOTIFY_SOCKET`; writing it here is a few lines,
//! handles abstract sockets (`@name`), and needs no new dependency. Outside
//! systemd (`NOTIFY_SOCKET` unset) every call does nothing.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the watchdog is fed at most: far below any sane `WatchdogSec=`,
/// far above the main loop's 250 ms tick, so systemd is not woken for nothing.
pub const PING_INTERVAL: Duration = Duration::from_secs(1);

/// The connection to systemd's notification socket, and where we are.
pub struct Notifier {
    socket: Option<(UnixDatagram, String)>,
    started: Instant,
    ready: bool,
    min_interval: Duration,
    last_ping: Option<Instant>,
}

impl Notifier {
    /// From `$NOTIFY_SOCKET` (nothing is sent when it is unset). `started` is
    /// when the program started, for the start-to-first-frame figure.
    pub fn from_env(started: Instant) -> Notifier {
        let path = std::env::var("NOTIFY_SOCKET").ok();
        Notifier::new(path.as_deref(), started, PING_INTERVAL)
    }

    /// To the socket at `path` (`@name` is an abstract socket), or nowhere.
    pub fn new(path: Option<&str>, started: Instant, min_interval: Duration) -> Notifier {
        let socket = path.filter(|p| !p.is_empty()).and_then(|p| {
            UnixDatagram::unbound()
                .inspect_err(|e| tracing::warn!(error = %e, "cannot notify systemd"))
                .ok()
                .map(|s| (s, p.to_string()))
        });
        Notifier {
            socket,
            started,
            ready: false,
            min_interval,
            last_ping: None,
        }
    }

    /// Send one message; a failure is logged, never fatal (the terminal
    /// keeps serving; systemd's watchdog will act if it must).
    fn send(&self, message: &str) {
        let Some((socket, path)) = &self.socket else {
            return;
        };
        let result = match path.strip_prefix('@') {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name)
                    .and_then(|a| socket.send_to_addr(message.as_bytes(), &a))
            }
            None => socket.send_to(message.as_bytes(), Path::new(path)),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, socket = %path, "cannot notify systemd");
        }
    }

    /// Call from every turn of the main loop, after a frame has been drawn.
    /// The first call reports readiness and how long the start took; later
    /// calls feed the watchdog (at most once per `min_interval`).
    pub fn tick(&mut self) {
        let now = Instant::now();
        if !self.ready {
            self.ready = true;
            self.last_ping = Some(now);
            let ms = now.duration_since(self.started).as_millis();
            tracing::info!(start_to_first_frame_ms = ms as u64, "first frame on screen");
            self.send(&format!(
                "READY=1\nSTATUS=Running; first frame {ms} ms after start"
            ));
            return;
        }
        if self
            .last_ping
            .is_none_or(|t| now.duration_since(t) >= self.min_interval)
        {
            self.last_ping = Some(now);
            self.send("WATCHDOG=1");
        }
    }

    /// A `STATUS=` line for `systemctl status` (e.g. the current screen).
    pub fn status(&self, text: &str) {
        self.send(&format!("STATUS={}", text.replace('\n', " ")));
    }

    /// Whether [`tick`](Self::tick) has reported readiness.
    pub fn is_ready(&self) -> bool {
        self.ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recv(s: &UnixDatagram) -> String {
        let mut buf = [0u8; 256];
        let n = s.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn ready_once_then_watchdog_pings_and_status() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let systemd = UnixDatagram::bind(&path).unwrap();
        systemd
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut n = Notifier::new(path.to_str(), Instant::now(), Duration::ZERO);
        assert!(!n.is_ready());
        n.tick();
        let first = recv(&systemd);
        assert!(
            first.starts_with("READY=1\nSTATUS=Running; first frame "),
            "{first}"
        );
        assert!(n.is_ready());
        n.tick();
        n.tick();
        assert_eq!(recv(&systemd), "WATCHDOG=1");
        assert_eq!(recv(&systemd), "WATCHDOG=1");
        n.status("attract\nscreen");
        assert_eq!(recv(&systemd), "STATUS=attract screen");
    }

    #[test]
    fn pings_are_spaced_and_abstract_sockets_work() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("kiosk-notify-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
        let systemd = UnixDatagram::bind_addr(&addr).unwrap();
        systemd.set_nonblocking(true).unwrap();
        let mut n = Notifier::new(
            Some(&format!("@{name}")),
            Instant::now(),
            Duration::from_secs(3600),
        );
        n.tick();
        n.tick(); // Too soon after READY for a ping.
        let mut buf = [0u8; 256];
        let k = systemd.recv(&mut buf).unwrap();
        assert!(buf[..k].starts_with(b"READY=1"));
        assert!(
            systemd.recv(&mut buf).is_err(),
            "no ping within the interval"
        );
    }

    #[test]
    fn without_a_socket_nothing_happens() {
        let mut n = Notifier::new(None, Instant::now(), Duration::ZERO);
        n.tick();
        n.tick();
        assert!(n.is_ready());
    }
}
