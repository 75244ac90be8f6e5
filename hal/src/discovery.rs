//! What is plugged in: cameras, microphones, speakers and touchscreens, read
//! from sysfs and /dev without opening anything (so it is cheap enough to
//! poll every second, and testable against a fake tree: see
//! `tests/fixtures/`).
//!
//! The stable names the udev rules create (`/dev/kiosk/camera`,
//! `/dev/kiosk/microphone`, `/dev/kiosk/speaker`, `/dev/kiosk/touchscreen`)
//! come first in each list: that is the device the terminal uses. Camera
//! modes need the device opened: [`DeviceReport::read_camera_modes`] does it
//! for the diagnostics report.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::alsa_dev::{MixerControl, PcmInfo};
use crate::v4l2::CameraMode;

/// Where sysfs and /dev are: `/sys` and `/dev`, or a fake tree in tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roots {
    pub sys: PathBuf,
    pub dev: PathBuf,
}

impl Default for Roots {
    fn default() -> Self {
        Roots {
            sys: "/sys".into(),
            dev: "/dev".into(),
        }
    }
}

impl Roots {
    /// `<root>/sys` and `<root>/dev`: a fake tree.
    pub fn under(root: &Path) -> Roots {
        Roots {
            sys: root.join("sys"),
            dev: root.join("dev"),
        }
    }
    /// The stable name the udev rules give a device of this kind.
    pub fn stable_name(&self, kind: crate::DeviceKind) -> PathBuf {
        self.dev.join("kiosk").join(kind.name())
    }
}

/// A video capture device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraInfo {
    /// The driver's name for it ("HD Webcam C615").
    pub name: String,
    /// The path to open: the stable name if it points here, else `node`.
    pub path: PathBuf,
    /// The kernel's node (`/dev/video0`).
    pub node: PathBuf,
    /// Whether `path` is the udev rules' stable name.
    pub stable: bool,
    /// Formats, sizes and rates (after [`DeviceReport::read_camera_modes`]).
    pub modes: Vec<CameraMode>,
    /// Why `modes` could not be read, if it could not.
    pub modes_error: Option<String>,
}

/// An ALSA PCM device (one direction of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioInfo {
    /// "Headset (card 1, device 0)".
    pub name: String,
    /// The path: the stable name if it points here, else `node`.
    pub path: PathBuf,
    /// The kernel's node (`/dev/snd/pcmC1D0c`).
    pub node: PathBuf,
    pub stable: bool,
    pub card: u32,
    /// The card's id (`/sys/class/sound/cardN/id`), stable across reboots.
    pub card_id: String,
    pub device: u32,
    /// The name to give `alsasrc`/`alsasink` (`plughw:CARD=Headset,DEV=0`).
    pub alsa: String,
}

/// An input device (a touchscreen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputInfo {
    pub name: String,
    pub path: PathBuf,
    /// `/dev/input/eventN`.
    pub node: PathBuf,
    pub stable: bool,
}

/// The mixer of one sound card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardMixer {
    /// `hw:CARD=Headset`.
    pub ctl: String,
    pub controls: Vec<MixerControl>,
    /// Why the mixer could not be read, if it could not.
    pub error: Option<String>,
}

/// Everything found, preferred device first in each list.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceReport {
    pub cameras: Vec<CameraInfo>,
    pub microphones: Vec<AudioInfo>,
    pub speakers: Vec<AudioInfo>,
    pub touchscreens: Vec<InputInfo>,
    /// ALSA's PCM devices (after [`DeviceReport::read_alsa`]).
    pub pcms: Vec<PcmInfo>,
    /// Each card's mixer controls (after [`DeviceReport::read_alsa`]).
    pub mixers: Vec<CardMixer>,
    /// Things that look wrong (a sysfs entry without its /dev node, a
    /// stable name pointing nowhere), in plain words.
    pub problems: Vec<String>,
}

impl DeviceReport {
    /// The camera the terminal uses.
    pub fn camera(&self) -> Option<&CameraInfo> {
        self.cameras.first()
    }
    pub fn microphone(&self) -> Option<&AudioInfo> {
        self.microphones.first()
    }
    pub fn speaker(&self) -> Option<&AudioInfo> {
        self.speakers.first()
    }
    pub fn touchscreen(&self) -> Option<&InputInfo> {
        self.touchscreens.first()
    }
    /// Open each camera and list its modes (errors go to `modes_error`).
    pub fn read_camera_modes(&mut self) {
        for c in &mut self.cameras {
            match crate::v4l2::modes(&c.path) {
                Ok(m) => c.modes = m,
                Err(e) => c.modes_error = Some(e.to_string()),
            }
        }
    }
    /// Ask ALSA for its PCM devices and each found card's mixer controls
    /// (errors go to `problems` and each mixer's `error`).
    pub fn read_alsa(&mut self) {
        match crate::alsa_dev::pcms() {
            Ok(p) => self.pcms = p,
            Err(e) => self.problems.push(e.to_string()),
        }
        let mut cards: Vec<&str> = self
            .microphones
            .iter()
            .chain(&self.speakers)
            .map(|a| a.card_id.as_str())
            .collect();
        cards.sort();
        cards.dedup();
        self.mixers = cards
            .into_iter()
            .map(|id| {
                let ctl = format!("hw:CARD={id}");
                match crate::alsa_dev::mixer_controls(&ctl) {
                    Ok(controls) => CardMixer {
                        ctl,
                        controls,
                        error: None,
                    },
                    Err(e) => CardMixer {
                        ctl,
                        controls: Vec::new(),
                        error: Some(e.to_string()),
                    },
                }
            })
            .collect();
    }
}

/// Everything there is to know, for the diagnostics report: [`discover`],
/// then each camera's modes and ALSA's PCMs and mixers (this opens devices).
pub fn full_report(roots: &Roots) -> DeviceReport {
    let mut r = discover(roots);
    r.read_camera_modes();
    r.read_alsa();
    r
}

/// List the devices under `roots`. Never fails: what cannot be read is
/// missing from the lists or named in `problems`.
pub fn discover(roots: &Roots) -> DeviceReport {
    let mut r = DeviceReport::default();
    cameras(roots, &mut r);
    sound(roots, &mut r);
    touchscreens(roots, &mut r);
    for kind in [
        crate::DeviceKind::Camera,
        crate::DeviceKind::Microphone,
        crate::DeviceKind::Speaker,
        crate::DeviceKind::Touchscreen,
    ] {
        let link = roots.stable_name(kind);
        if link.symlink_metadata().is_ok() && !link.exists() {
            r.problems.push(format!(
                "{} points to a device that is not there",
                link.display()
            ));
        }
    }
    r
}

fn read_trim(p: &Path) -> Option<String> {
    fs::read_to_string(p).ok().map(|s| s.trim().to_string())
}

/// Entries of a sysfs class directory, sorted by their number
/// (`video2` before `video10`).
fn class_entries(roots: &Roots, class: &str, prefix: &str) -> Vec<(String, PathBuf)> {
    let dir = roots.sys.join("class").join(class);
    let mut v: Vec<(String, PathBuf)> = fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(prefix).then(|| (name, e.path()))
        })
        .collect();
    v.sort_by_key(|(n, _)| (n.len(), n.clone()));
    v
}

/// The stable name if it resolves to `node`.
fn stable_for(roots: &Roots, kind: crate::DeviceKind, node: &Path) -> Option<PathBuf> {
    let link = roots.stable_name(kind);
    let target = fs::canonicalize(&link).ok()?;
    (fs::canonicalize(node).ok()? == target).then_some(link)
}

/// Preferred (stable) first, then the kernel's order.
fn prefer_stable<T>(v: &mut [T], stable: impl Fn(&T) -> bool) {
    v.sort_by_key(|x| !stable(x));
}

fn cameras(roots: &Roots, r: &mut DeviceReport) {
    for (name, sys) in class_entries(roots, "video4linux", "video") {
        // A UVC camera has two nodes: index 0 captures, index 1 carries
        // metadata. Only the first is a camera.
        if read_trim(&sys.join("index")).is_some_and(|i| i != "0") {
            continue;
        }
        let node = roots.dev.join(&name);
        if !node.exists() {
            r.problems.push(format!(
                "{name} is in sysfs but {} is missing",
                node.display()
            ));
            continue;
        }
        let stable = stable_for(roots, crate::DeviceKind::Camera, &node);
        r.cameras.push(CameraInfo {
            name: read_trim(&sys.join("name")).unwrap_or_else(|| name.clone()),
            path: stable.clone().unwrap_or_else(|| node.clone()),
            node,
            stable: stable.is_some(),
            modes: Vec::new(),
            modes_error: None,
        });
    }
    prefer_stable(&mut r.cameras, |c| c.stable);
}

/// `pcmC1D0c` -> (1, 0, capture).
fn parse_pcm(name: &str) -> Option<(u32, u32, bool)> {
    let rest = name.strip_prefix("pcmC")?;
    let (card, rest) = rest.split_once('D')?;
    let (dev, dir) = rest.split_at(rest.len().checked_sub(1)?);
    let capture = match dir {
        "c" => true,
        "p" => false,
        _ => return None,
    };
    Some((card.parse().ok()?, dev.parse().ok()?, capture))
}

fn sound(roots: &Roots, r: &mut DeviceReport) {
    for (name, _) in class_entries(roots, "sound", "pcmC") {
        let Some((card, device, capture)) = parse_pcm(&name) else {
            continue;
        };
        let node = roots.dev.join("snd").join(&name);
        if !node.exists() {
            r.problems.push(format!(
                "{name} is in sysfs but {} is missing",
                node.display()
            ));
            continue;
        }
        let card_dir = roots.sys.join("class/sound").join(format!("card{card}"));
        let card_id = read_trim(&card_dir.join("id")).unwrap_or_else(|| card.to_string());
        let kind = if capture {
            crate::DeviceKind::Microphone
        } else {
            crate::DeviceKind::Speaker
        };
        let stable = stable_for(roots, kind, &node);
        let info = AudioInfo {
            name: format!("{card_id} (card {card}, device {device})"),
            path: stable.clone().unwrap_or_else(|| node.clone()),
            node,
            stable: stable.is_some(),
            card,
            // plughw: converts rate and format, so any card takes the call's audio.
            alsa: format!("plughw:CARD={card_id},DEV={device}"),
            card_id,
            device,
        };
        if capture {
            r.microphones.push(info);
        } else {
            r.speakers.push(info);
        }
    }
    prefer_stable(&mut r.microphones, |a| a.stable);
    prefer_stable(&mut r.speakers, |a| a.stable);
}

/// Whether bit `bit` is set in a sysfs capability bitmap: hex words
/// separated by spaces, most significant first, 64 bits each.
fn has_bit(bitmap: &str, bit: usize) -> bool {
    let words: Vec<&str> = bitmap.split_whitespace().rev().collect();
    words
        .get(bit / 64)
        .and_then(|w| u64::from_str_radix(w, 16).ok())
        .is_some_and(|w| w & (1 << (bit % 64)) != 0)
}

const ABS_X: usize = 0x00;
const ABS_Y: usize = 0x01;
const ABS_MT_POSITION_X: usize = 0x35;
const ABS_MT_POSITION_Y: usize = 0x36;
const BTN_TOOL_FINGER: usize = 0x145;
const BTN_TOUCH: usize = 0x14a;
const INPUT_PROP_DIRECT: usize = 0x01;

/// udev's `input_id` rule, in short: absolute X/Y, and either marked as a
/// direct-touch device or touching without being a touchpad.
fn is_touchscreen(dev: &Path) -> bool {
    let caps = |f: &str| read_trim(&dev.join("capabilities").join(f)).unwrap_or_default();
    let abs = caps("abs");
    let key = caps("key");
    let props = read_trim(&dev.join("properties")).unwrap_or_default();
    let xy = (has_bit(&abs, ABS_X) && has_bit(&abs, ABS_Y))
        || (has_bit(&abs, ABS_MT_POSITION_X) && has_bit(&abs, ABS_MT_POSITION_Y));
    xy && (has_bit(&props, INPUT_PROP_DIRECT)
        || (has_bit(&key, BTN_TOUCH) && !has_bit(&key, BTN_TOOL_FINGER)))
}

fn touchscreens(roots: &Roots, r: &mut DeviceReport) {
    for (name, sys) in class_entries(roots, "input", "event") {
        // eventN/device is the inputM directory with the name and capabilities.
        let dev = sys.join("device");
        if !is_touchscreen(&dev) {
            continue;
        }
        let node = roots.dev.join("input").join(&name);
        if !node.exists() {
            r.problems.push(format!(
                "{name} is in sysfs but {} is missing",
                node.display()
            ));
            continue;
        }
        let stable = stable_for(roots, crate::DeviceKind::Touchscreen, &node);
        r.touchscreens.push(InputInfo {
            name: read_trim(&dev.join("name")).unwrap_or_else(|| name.clone()),
            path: stable.clone().unwrap_or_else(|| node.clone()),
            node,
            stable: stable.is_some(),
        });
    }
    prefer_stable(&mut r.touchscreens, |t| t.stable);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_names_parse() {
        assert_eq!(parse_pcm("pcmC1D0c"), Some((1, 0, true)));
        assert_eq!(parse_pcm("pcmC0D10p"), Some((0, 10, false)));
        assert_eq!(parse_pcm("pcmC0D0x"), None);
        assert_eq!(parse_pcm("controlC0"), None);
    }

    #[test]
    fn capability_bitmaps_read_most_significant_word_first() {
        assert!(has_bit("3", 0) && has_bit("3", 1) && !has_bit("3", 2));
        // BTN_TOUCH (330) is bit 10 of the sixth word.
        assert!(has_bit("400 0 0 0 0 0", BTN_TOUCH));
        assert!(!has_bit("400 0 0 0 0", BTN_TOUCH));
        assert!(!has_bit("", 0));
    }
}
