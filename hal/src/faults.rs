//! Scripted faults for the simulated backend, and the record that checks
//! they happened.
//!
//! A script is a short comma-separated string so a configuration file can
//! carry it: `camera-lost-at=5s,camera-back-at=10s`. Items:
//!
//! - `camera-missing`, `microphone-missing`: `source()` fails with
//!   [`HalError::Missing`](crate::HalError::Missing).
//! - `camera-denied`, `microphone-denied`: `source()` fails with
//!   [`HalError::PermissionDenied`](crate::HalError::PermissionDenied).
//! - `camera-lost-at=5s`: 5 s after the first source was made, the device
//!   stops producing, a [`DeviceEvent::Lost`](crate::DeviceEvent::Lost) is
//!   sent, and new sources fail with `Missing` until...
//! - `camera-back-at=10s`: ...it produces again and
//!   [`DeviceEvent::Back`](crate::DeviceEvent::Back) is sent.
//!
//! `mic-` is short for `microphone-`; times take `s` or `ms`.
//! [`FaultReport::done`] says whether everything scripted fired.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use gst::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{DeviceKind, HalError};

/// One scripted fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    Missing(DeviceKind),
    Denied(DeviceKind),
    LostAt(DeviceKind, Duration),
    BackAt(DeviceKind, Duration),
}

impl Fault {
    pub fn device(self) -> DeviceKind {
        match self {
            Fault::Missing(d) | Fault::Denied(d) | Fault::LostAt(d, _) | Fault::BackAt(d, _) => d,
        }
    }
}

fn fmt_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.device().name();
        match self {
            Fault::Missing(_) => write!(f, "{d}-missing"),
            Fault::Denied(_) => write!(f, "{d}-denied"),
            Fault::LostAt(_, t) => write!(f, "{d}-lost-at={}", fmt_duration(*t)),
            Fault::BackAt(_, t) => write!(f, "{d}-back-at={}", fmt_duration(*t)),
        }
    }
}

fn parse_duration(s: &str) -> Option<Duration> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.trim().parse().ok().map(Duration::from_millis);
    }
    let secs: f64 = s.strip_suffix('s')?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

impl FromStr for Fault {
    type Err = HalError;
    fn from_str(item: &str) -> Result<Self, HalError> {
        let bad = || {
            HalError::BadScript(format!(
                "{item:?}: expected camera-/microphone- followed by missing, denied, \
                 lost-at=<time> or back-at=<time> (times like 5s or 500ms)"
            ))
        };
        let (device, what) = if let Some(w) = item.strip_prefix("camera-") {
            (DeviceKind::Camera, w)
        } else if let Some(w) = item
            .strip_prefix("microphone-")
            .or_else(|| item.strip_prefix("mic-"))
        {
            (DeviceKind::Microphone, w)
        } else {
            return Err(bad());
        };
        let (key, value) = match what.split_once('=') {
            Some((k, v)) => (k, Some(parse_duration(v).ok_or_else(bad)?)),
            None => (what, None),
        };
        Ok(match (key, value) {
            ("missing", None) => Fault::Missing(device),
            ("denied", None) => Fault::Denied(device),
            ("lost-at", Some(t)) => Fault::LostAt(device, t),
            ("back-at", Some(t)) => Fault::BackAt(device, t),
            _ => return Err(bad()),
        })
    }
}

/// The faults the simulated backend plays. Empty: everything works.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SimulatedScript(pub Vec<Fault>);

impl SimulatedScript {
    /// The faults of one device.
    pub fn of(&self, device: DeviceKind) -> impl Iterator<Item = Fault> + '_ {
        self.0.iter().copied().filter(move |f| f.device() == device)
    }
}

impl FromStr for SimulatedScript {
    type Err = HalError;
    fn from_str(s: &str) -> Result<Self, HalError> {
        let faults = s
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(Fault::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        for d in [DeviceKind::Camera, DeviceKind::Microphone] {
            let at = |want: fn(&Fault) -> Option<Duration>| {
                faults.iter().filter(|f| f.device() == d).find_map(want)
            };
            let lost = at(|f| match f {
                Fault::LostAt(_, t) => Some(*t),
                _ => None,
            });
            let back = at(|f| match f {
                Fault::BackAt(_, t) => Some(*t),
                _ => None,
            });
            match (lost, back) {
                (None, Some(_)) => {
                    return Err(HalError::BadScript(format!(
                        "{}-back-at without {0}-lost-at",
                        d.name()
                    )));
                }
                (Some(l), Some(b)) if b <= l => {
                    return Err(HalError::BadScript(format!(
                        "{}-back-at must come after {0}-lost-at",
                        d.name()
                    )));
                }
                _ => {}
            }
        }
        Ok(SimulatedScript(faults))
    }
}

impl fmt::Display for SimulatedScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(|x| x.to_string()).collect();
        f.write_str(&items.join(","))
    }
}

impl TryFrom<String> for SimulatedScript {
    type Error = HalError;
    fn try_from(s: String) -> Result<Self, HalError> {
        s.parse()
    }
}

impl From<SimulatedScript> for String {
    fn from(s: SimulatedScript) -> String {
        s.to_string()
    }
}

/// A fault that happened, and when (since the backend was opened, on the
/// backend's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fired {
    pub fault: Fault,
    pub at: Duration,
}

/// What was scripted and what fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultReport {
    pub scripted: Vec<Fault>,
    pub fired: Vec<Fired>,
}

impl FaultReport {
    /// Scripted faults that have not fired.
    pub fn unfired(&self) -> Vec<Fault> {
        self.scripted
            .iter()
            .copied()
            .filter(|f| !self.fired.iter().any(|x| x.fault == *f))
            .collect()
    }
    /// `Ok` if every scripted fault fired; else which did not.
    pub fn done(&self) -> Result<(), HalError> {
        let left = self.unfired();
        if left.is_empty() {
            Ok(())
        } else {
            Err(HalError::FaultsNotFired(SimulatedScript(left).to_string()))
        }
    }
}

/// The running record, shared by the simulated devices.
#[derive(Debug)]
pub(crate) struct FaultLog {
    scripted: Vec<Fault>,
    clock: gst::Clock,
    start: gst::ClockTime,
    fired: Mutex<Vec<Fired>>,
}

impl FaultLog {
    pub(crate) fn new(script: &SimulatedScript, clock: gst::Clock) -> FaultLog {
        FaultLog {
            scripted: script.0.clone(),
            start: clock.time(),
            clock,
            fired: Mutex::new(Vec::new()),
        }
    }
    pub(crate) fn clock(&self) -> &gst::Clock {
        &self.clock
    }
    /// Note that `fault` happened (once: a fault firing again is not news).
    pub(crate) fn fire(&self, fault: Fault) {
        let mut fired = self.fired.lock().unwrap();
        if fired.iter().any(|f| f.fault == fault) {
            return;
        }
        let at = self.clock.time().saturating_sub(self.start);
        tracing::info!(%fault, "simulated fault");
        fired.push(Fired {
            fault,
            at: Duration::from_nanos(at.nseconds()),
        });
    }
    pub(crate) fn report(&self) -> FaultReport {
        FaultReport {
            scripted: self.scripted.clone(),
            fired: self.fired.lock().unwrap().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_parse_and_print_back() {
        let s: SimulatedScript =
            "camera-lost-at=5s, camera-back-at=10s,mic-denied,microphone-lost-at=1500ms"
                .parse()
                .unwrap();
        assert_eq!(
            s.0,
            vec![
                Fault::LostAt(DeviceKind::Camera, Duration::from_secs(5)),
                Fault::BackAt(DeviceKind::Camera, Duration::from_secs(10)),
                Fault::Denied(DeviceKind::Microphone),
                Fault::LostAt(DeviceKind::Microphone, Duration::from_millis(1500)),
            ]
        );
        assert_eq!(
            s.to_string(),
            "camera-lost-at=5s,camera-back-at=10s,microphone-denied,microphone-lost-at=1500ms"
        );
        assert_eq!(s.to_string().parse::<SimulatedScript>().unwrap(), s);
        assert_eq!(
            "".parse::<SimulatedScript>().unwrap(),
            SimulatedScript::default()
        );
    }

    #[test]
    fn bad_scripts_say_what_is_wrong() {
        for bad in [
            "speaker-missing",
            "camera-lost",
            "camera-lost-at=soon",
            "camera-missing=5s",
            "camera-back-at=5s",
            "camera-lost-at=5s,camera-back-at=2s",
        ] {
            let e = bad.parse::<SimulatedScript>().unwrap_err();
            assert!(matches!(e, HalError::BadScript(_)), "{bad}: {e}");
        }
    }

    #[test]
    fn the_report_names_what_did_not_fire() {
        gst::init().unwrap();
        let script: SimulatedScript = "camera-missing,mic-denied".parse().unwrap();
        let log = FaultLog::new(&script, gst::SystemClock::obtain());
        log.fire(Fault::Missing(DeviceKind::Camera));
        log.fire(Fault::Missing(DeviceKind::Camera));
        let r = log.report();
        assert_eq!(r.fired.len(), 1);
        assert_eq!(r.unfired(), vec![Fault::Denied(DeviceKind::Microphone)]);
        let e = r.done().unwrap_err().to_string();
        assert!(e.contains("microphone-denied"), "{e}");
        log.fire(Fault::Denied(DeviceKind::Microphone));
        log.report().done().unwrap();
    }
}
