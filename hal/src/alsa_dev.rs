//! The real microphone and speaker through ALSA: the PCM devices and mixer
//! controls the `alsa` crate sees, the `alsasrc`/`alsasink` elements for the
//! chosen devices, the playback volume, and optional echo cancellation.
//!
//! Volume: the card's mixer (`Master`, `PCM`, `Speaker` or `Headphone`, or
//! the configured control) when it has one; otherwise a `volume` element in
//! the speaker's own bin, so a card without a mixer (and ALSA's `null`
//! device in tests) still gets a working volume.
//!
//! Echo cancellation (speakerphone terminals): `webrtcechoprobe` sees what
//! the speaker plays, `webrtcdsp` on the microphone subtracts it. They find
//! each other by the probe's name, unique to one [`crate::Devices`].

use std::sync::{Arc, Mutex};

use gst::prelude::*;
use serde::Serialize;

use crate::{HalError, Microphone, Speaker, bin};

fn alsa_err(what: &str, e: alsa::Error) -> HalError {
    HalError::Alsa {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

/// A PCM device as ALSA's hints list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PcmInfo {
    /// What to give `alsasrc`/`alsasink` (`null`, `default`, `plughw:CARD=X,DEV=0`).
    pub name: String,
    pub description: Option<String>,
    pub capture: bool,
    pub playback: bool,
}

/// Every PCM device ALSA's configuration and cards define.
pub fn pcms() -> Result<Vec<PcmInfo>, HalError> {
    let hints = alsa::device_name::HintIter::new_str(None, "pcm")
        .map_err(|e| alsa_err("listing PCM devices", e))?;
    Ok(hints
        .filter_map(|h| {
            Some(PcmInfo {
                name: h.name?,
                description: h.desc.map(|d| d.replace('\n', ", ")),
                // No direction in the hint means both.
                capture: h.direction != Some(alsa::Direction::Playback),
                playback: h.direction != Some(alsa::Direction::Capture),
            })
        })
        .collect())
}

/// A simple mixer control of a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MixerControl {
    pub name: String,
    pub index: u32,
    pub playback_volume: bool,
    pub capture_volume: bool,
    /// The playback volume now, in percent, if it has one.
    pub volume_percent: Option<u8>,
}

/// The mixer controls of a card (`ctl`: `hw:0`, `hw:CARD=Headset`, `default`).
pub fn mixer_controls(ctl: &str) -> Result<Vec<MixerControl>, HalError> {
    let mixer = alsa::mixer::Mixer::new(ctl, false)
        .map_err(|e| alsa_err(&format!("opening mixer {ctl}"), e))?;
    Ok(mixer
        .iter()
        .filter_map(alsa::mixer::Selem::new)
        .map(|s| {
            let id = s.get_id();
            MixerControl {
                name: id.get_name().unwrap_or("?").to_string(),
                index: id.get_index(),
                playback_volume: s.has_playback_volume(),
                capture_volume: s.has_capture_volume(),
                volume_percent: s.has_playback_volume().then(|| percent_of(&s)).flatten(),
            }
        })
        .collect())
}

fn percent_of(s: &alsa::mixer::Selem) -> Option<u8> {
    let (min, max) = s.get_playback_volume_range();
    let v = s
        .get_playback_volume(alsa::mixer::SelemChannelId::mono())
        .ok()?;
    if max <= min {
        return Some(100);
    }
    Some((((v - min) * 100 + (max - min) / 2) / (max - min)).clamp(0, 100) as u8)
}

/// The control device of the card behind a PCM name: `plughw:CARD=X,DEV=0`
/// -> `hw:CARD=X`, `hw:1,0` -> `hw:1`, `default` -> `default`; `None` for
/// devices without a card (`null`, `file:...`).
pub fn ctl_for_pcm(pcm: &str) -> Option<String> {
    if pcm == "default" || pcm == "sysdefault" {
        return Some("default".into());
    }
    let (plugin, args) = pcm.split_once(':')?;
    if !matches!(plugin, "hw" | "plughw" | "dsnoop" | "dmix" | "sysdefault") {
        return None;
    }
    let card = args.split(',').next().unwrap_or("");
    (!card.is_empty()).then(|| format!("hw:{card}"))
}

/// Controls tried for the playback volume when none is configured.
const VOLUME_CONTROLS: [&str; 4] = ["Master", "PCM", "Speaker", "Headphone"];

/// How the elements are made; shared by microphone and speaker.
#[derive(Debug, Clone)]
pub struct AlsaOptions {
    /// Let the sound card clock the pipeline. Off for devices that do not
    /// keep real time (`null`, the `file` plugin).
    pub provide_clock: bool,
    /// The echo probe's name when echo cancellation is on.
    pub echo_probe: Option<String>,
}

impl AlsaOptions {
    fn provide_clock(&self, device: &str) -> bool {
        self.provide_clock && device != "null"
    }
}

/// Audio format `webrtcdsp` and `webrtcechoprobe` both take.
const AEC_CAPS: &str = "audio/x-raw,format=S16LE,rate=48000";

/// An ALSA capture device.
pub struct AlsaMicrophone {
    /// The PCM, or a function that finds it when the call asks (discovery).
    pub device: Arc<dyn Fn() -> String + Send + Sync>,
    pub options: AlsaOptions,
}

impl AlsaMicrophone {
    pub fn fixed(device: &str, options: AlsaOptions) -> AlsaMicrophone {
        let device = device.to_string();
        AlsaMicrophone {
            device: Arc::new(move || device.clone()),
            options,
        }
    }
}

impl Microphone for AlsaMicrophone {
    fn name(&self) -> String {
        format!("ALSA {}", (self.device)())
    }
    fn source(&self) -> Result<gst::Element, HalError> {
        let device = (self.device)();
        let aec = match &self.options.echo_probe {
            Some(p) => format!(
                " ! audioresample ! audioconvert ! {AEC_CAPS} ! webrtcdsp probe={p} ! audioconvert"
            ),
            None => String::new(),
        };
        bin(
            "microphone",
            &format!(
                "alsasrc device=\"{device}\" provide-clock={} ! audioconvert{aec}",
                self.options.provide_clock(&device)
            ),
        )
    }
}

/// An ALSA playback device with a volume.
pub struct AlsaSpeaker {
    pub device: Arc<dyn Fn() -> String + Send + Sync>,
    pub options: AlsaOptions,
    /// The mixer control to use; `None`: the first of Master, PCM, Speaker, Headphone.
    pub mixer_control: Option<String>,
    soft: Arc<Mutex<SoftVolume>>,
}

/// The volume when the card has no mixer, and the `volume` elements of the
/// sinks handed out (weakly: a finished call's sink goes away).
struct SoftVolume {
    percent: u8,
    elements: Vec<gst::glib::WeakRef<gst::Element>>,
}

impl AlsaSpeaker {
    pub fn new(
        device: Arc<dyn Fn() -> String + Send + Sync>,
        options: AlsaOptions,
        mixer_control: Option<String>,
    ) -> AlsaSpeaker {
        AlsaSpeaker {
            device,
            options,
            mixer_control,
            soft: Arc::new(Mutex::new(SoftVolume {
                percent: 100,
                elements: Vec::new(),
            })),
        }
    }
    pub fn fixed(device: &str, options: AlsaOptions) -> AlsaSpeaker {
        let device = device.to_string();
        AlsaSpeaker::new(Arc::new(move || device.clone()), options, None)
    }

    /// Run `f` on the card's playback volume control, if it has one.
    fn with_control<T>(
        &self,
        f: impl FnOnce(&alsa::mixer::Selem) -> Result<T, HalError>,
    ) -> Option<Result<T, HalError>> {
        let ctl = ctl_for_pcm(&(self.device)())?;
        let mixer = alsa::mixer::Mixer::new(&ctl, false).ok()?;
        let names: Vec<&str> = match &self.mixer_control {
            Some(c) => vec![c.as_str()],
            None => VOLUME_CONTROLS.to_vec(),
        };
        for n in names {
            if let Some(s) = mixer.find_selem(&alsa::mixer::SelemId::new(n, 0))
                && s.has_playback_volume()
            {
                return Some(f(&s));
            }
        }
        None
    }
}

impl Speaker for AlsaSpeaker {
    fn name(&self) -> String {
        format!("ALSA {}", (self.device)())
    }
    fn sink(&self) -> Result<gst::Element, HalError> {
        let device = (self.device)();
        let aec = match &self.options.echo_probe {
            Some(p) => {
                format!("audioresample ! {AEC_CAPS} ! webrtcechoprobe name={p} ! audioconvert ! ")
            }
            None => String::new(),
        };
        let mut soft = self.soft.lock().unwrap();
        let sink = bin(
            "speaker",
            &format!(
                "audioconvert ! {aec}volume name=hal-volume volume={} ! audioconvert ! \
                 alsasink device=\"{device}\" provide-clock={}",
                soft.percent as f64 / 100.0,
                self.options.provide_clock(&device)
            ),
        )?;
        let volume = sink
            .downcast_ref::<gst::Bin>()
            .and_then(|b| b.by_name("hal-volume"))
            .expect("the volume element is in the bin");
        soft.elements.retain(|w| w.upgrade().is_some());
        soft.elements.push(volume.downgrade());
        Ok(sink)
    }
    fn volume(&self) -> Result<u8, HalError> {
        if let Some(r) = self.with_control(|s| {
            percent_of(s).ok_or_else(|| HalError::Alsa {
                what: "reading the volume".into(),
                detail: "the control has no value".into(),
            })
        }) {
            return r;
        }
        Ok(self.soft.lock().unwrap().percent)
    }
    fn set_volume(&self, percent: u8) -> Result<(), HalError> {
        let percent = percent.min(100);
        if let Some(r) = self.with_control(|s| {
            let (min, max) = s.get_playback_volume_range();
            s.set_playback_volume_all(min + (max - min) * percent as i64 / 100)
                .map_err(|e| alsa_err("setting the volume", e))
        }) {
            return r;
        }
        let mut soft = self.soft.lock().unwrap();
        soft.percent = percent;
        for e in soft.elements.iter().filter_map(|w| w.upgrade()) {
            e.set_property("volume", percent as f64 / 100.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_behind_a_pcm_name() {
        let ctl = |p| ctl_for_pcm(p);
        assert_eq!(ctl("plughw:CARD=Headset,DEV=0").unwrap(), "hw:CARD=Headset");
        assert_eq!(ctl("hw:1,0").unwrap(), "hw:1");
        assert_eq!(ctl("default").unwrap(), "default");
        assert_eq!(ctl("null"), None);
        assert_eq!(ctl("file:FILE=/tmp/x"), None);
    }
}
