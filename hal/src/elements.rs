//! Every GStreamer element the terminal needs at run time, the Debian 12
//! package that provides it, and whether the terminal can do without it.
//!
//! This list is the one place that knows. The code makes elements only
//! through it: [`Element::make`] for one element, [`parse_bin`] for a
//! `gst-launch` style description (which refuses a name not on the list).
//! `scripts/deps` and the kiosk-app package's dependencies are checked
//! against it by tests, and `kiosk-app diagnose` and the technician screen
//! report what is missing from it with the package to install.

use std::fmt;

use gst::prelude::*;

/// Can the terminal work without it?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Without it there is no call (or no terminal).
    Required,
    /// The terminal works without it; the text says what is lost.
    Optional(&'static str),
    /// Only of use on hardware that has it (a hardware encoder); the text
    /// says which.
    Hardware(&'static str),
}

/// How the element comes into a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// The code makes it ([`Element::make`] or a description).
    ByUs,
    /// Another element makes it (`webrtcbin` its transport, `decodebin` the
    /// decoders): we never name it, but the call needs it all the same.
    Inside(&'static str),
}

/// One element of the list.
#[derive(Debug, PartialEq, Eq)]
pub struct Element {
    /// The factory name (`gst-inspect-1.0 NAME`).
    pub factory: &'static str,
    /// The Debian 12 package that provides it.
    pub package: &'static str,
    pub need: Need,
    pub made: Made,
    /// What the terminal uses it for, in a few words.
    pub used_for: &'static str,
}

/// The core library's own elements (capsfilter, queue...).
const CORE: &str = "libgstreamer1.0-0";
const BASE: &str = "gstreamer1.0-plugins-base";
const GOOD: &str = "gstreamer1.0-plugins-good";
const BAD: &str = "gstreamer1.0-plugins-bad";

macro_rules! elements {
    ($($id:ident = $factory:literal, $package:expr, $need:expr, $made:expr, $used:literal;)*) => {
        $(
            #[doc = concat!("`", $factory, "`: ", $used)]
            pub static $id: Element = Element {
                factory: $factory,
                package: $package,
                need: $need,
                made: $made,
                used_for: $used,
            };
        )*
        /// Every element, in the order of the list above.
        pub static ALL: &[&Element] = &[$(&$id),*];
    };
}

use Made::{ByUs, Inside};
use Need::{Hardware, Optional, Required};

elements! {
    // Plumbing.
    CAPSFILTER = "capsfilter", CORE, Required, ByUs, "fixing formats between elements";
    QUEUE = "queue", CORE, Required, ByUs, "thread boundaries";
    TEE = "tee", CORE, Required, ByUs, "one capture shared by the self-view and each visitor";
    INPUT_SELECTOR = "input-selector", CORE, Required, ByUs, "switching between a device and its stand-in";
    FAKESINK = "fakesink", CORE, Required, ByUs, "the technician's level meter";
    APPSINK = "appsink", BASE, Required, ByUs, "frames to the screen, stills for the sign-in photo";
    // Raw media.
    VIDEOCONVERT = "videoconvert", BASE, Required, ByUs, "colour conversion";
    VIDEOSCALE = "videoscale", BASE, Required, ByUs, "scaling";
    VIDEORATE = "videorate", BASE, Required, ByUs, "the self-view's frame rate";
    VIDEOTESTSRC = "videotestsrc", BASE, Required, ByUs, "the camera-unavailable picture and the simulated camera";
    IMAGEFREEZE = "imagefreeze", GOOD, Required, ByUs, "the camera-unavailable picture, repeated";
    TEXTOVERLAY = "textoverlay", "gstreamer1.0-x", Optional("the words on the camera-unavailable picture"), ByUs, "the words on the camera-unavailable picture";
    AUDIOCONVERT = "audioconvert", BASE, Required, ByUs, "sample formats";
    AUDIORESAMPLE = "audioresample", BASE, Required, ByUs, "sample rates";
    AUDIOTESTSRC = "audiotestsrc", BASE, Required, ByUs, "silence for a lost microphone, the test tone, the simulated microphone";
    AUDIOMIXER = "audiomixer", BASE, Required, ByUs, "several visitors heard at once";
    VOLUME = "volume", BASE, Required, ByUs, "the speaker's volume";
    LEVEL = "level", GOOD, Required, ByUs, "the technician's microphone meter";
    JPEGENC = "jpegenc", GOOD, Required, ByUs, "the sign-in photo";
    // Devices.
    V4L2SRC = "v4l2src", GOOD, Required, ByUs, "the camera";
    JPEGDEC = "jpegdec", GOOD, Required, ByUs, "cameras that send MJPEG";
    H264PARSE = "h264parse", BAD, Required, ByUs, "cameras that send H.264, H.264 received, and H.264 recorded";
    AVDEC_H264 = "avdec_h264", "gstreamer1.0-libav", Required, ByUs, "decoding H.264 (cameras, and what visitors send)";
    ALSASRC = "alsasrc", "gstreamer1.0-alsa", Required, ByUs, "the microphone";
    ALSASINK = "alsasink", "gstreamer1.0-alsa", Required, ByUs, "the speaker";
    WEBRTCDSP = "webrtcdsp", BAD, Optional("echo cancellation for speakerphones ([devices] echo_cancellation)"), ByUs, "echo cancellation";
    WEBRTCECHOPROBE = "webrtcechoprobe", BAD, Optional("echo cancellation for speakerphones ([devices] echo_cancellation)"), ByUs, "echo cancellation's reference";
    // The call.
    WEBRTCBIN = "webrtcbin", BAD, Required, ByUs, "the WebRTC session";
    NICESRC = "nicesrc", "gstreamer1.0-nice", Required, Inside("webrtcbin"), "ICE (the network path)";
    NICESINK = "nicesink", "gstreamer1.0-nice", Required, Inside("webrtcbin"), "ICE (the network path)";
    DTLSSRTPENC = "dtlssrtpenc", BAD, Required, Inside("webrtcbin"), "encryption (DTLS-SRTP)";
    DTLSSRTPDEC = "dtlssrtpdec", BAD, Required, Inside("webrtcbin"), "encryption (DTLS-SRTP)";
    RTPBIN = "rtpbin", GOOD, Required, Inside("webrtcbin"), "RTP sessions and the jitter buffer";
    DECODEBIN = "decodebin", BASE, Required, ByUs, "decoding what the other side sends";
    OPUSENC = "opusenc", BASE, Required, ByUs, "sound sent (Opus)";
    OPUSDEC = "opusdec", BASE, Required, Inside("decodebin"), "sound received (Opus)";
    RTPOPUSPAY = "rtpopuspay", GOOD, Required, ByUs, "sound sent (Opus over RTP)";
    RTPOPUSDEPAY = "rtpopusdepay", GOOD, Required, ByUs, "sound received (Opus over RTP) (and recorded)";
    VP8ENC = "vp8enc", GOOD, Required, ByUs, "video sent as VP8 (every browser)";
    VP8DEC = "vp8dec", GOOD, Required, Inside("decodebin"), "video received as VP8";
    RTPVP8PAY = "rtpvp8pay", GOOD, Required, ByUs, "VP8 over RTP";
    RTPVP8DEPAY = "rtpvp8depay", GOOD, Required, ByUs, "VP8 over RTP (and recorded)";
    VP9ENC = "vp9enc", GOOD, Optional("video sent as VP9 (H.264 and VP8 are offered)"), ByUs, "video sent as VP9";
    VP9DEC = "vp9dec", GOOD, Optional("video received as VP9 (the other side sends H.264 or VP8)"), Inside("decodebin"), "video received as VP9";
    RTPVP9PAY = "rtpvp9pay", GOOD, Optional("video sent as VP9 (H.264 and VP8 are offered)"), ByUs, "VP9 over RTP";
    RTPVP9DEPAY = "rtpvp9depay", GOOD, Optional("video received as VP9 (the other side sends H.264 or VP8)"), ByUs, "VP9 over RTP (and recorded)";
    X264ENC = "x264enc", "gstreamer1.0-plugins-ugly", Optional("H.264 in software (VP8 is sent instead)"), ByUs, "video sent as H.264";
    V4L2H264ENC = "v4l2h264enc", GOOD, Hardware("a hardware H.264 encoder (boards that have one)"), ByUs, "video sent as H.264 in hardware";
    VAH264ENC = "vah264enc", BAD, Hardware("a hardware H.264 encoder (Intel/AMD graphics, VA plugin)"), ByUs, "video sent as H.264 in hardware";
    VAAPIH264ENC = "vaapih264enc", "gstreamer1.0-vaapi", Hardware("a hardware H.264 encoder (Intel/AMD graphics)"), ByUs, "video sent as H.264 in hardware";
    RTPH264PAY = "rtph264pay", GOOD, Required, ByUs, "H.264 over RTP";
    RTPH264DEPAY = "rtph264depay", GOOD, Required, ByUs, "H.264 over RTP (and recorded)";
    // The recording (housing-unit terminals): what is sent and received,
    // muxed as it is, without a second encode.
    SPLITMUXSINK = "splitmuxsink", GOOD, Required, ByUs, "the visit's recording, in short closed segments";
    MATROSKAMUX = "matroskamux", GOOD, Required, Inside("splitmuxsink"), "the recording's container (Matroska)";
    FILESINK = "filesink", CORE, Required, Inside("splitmuxsink"), "the recording's segment files";
    OPUSPARSE = "opusparse", BAD, Required, ByUs, "Opus recorded";
    VP9PARSE = "vp9parse", BAD, Optional("recording VP9 as received (H.264 and VP8 are recorded)"), ByUs, "VP9 recorded";
}

impl Element {
    /// Is it installed (in GStreamer's registry)?
    pub fn available(&self) -> bool {
        gst::init().is_ok() && gst::ElementFactory::find(self.factory).is_some()
    }

    /// Start making one. `build()` says which package is missing.
    pub fn make(&'static self) -> Make {
        Make {
            element: self,
            builder: gst::ElementFactory::make(self.factory),
        }
    }
}

/// An element being made: `gst::ElementBuilder` with the list entry.
#[must_use]
pub struct Make {
    element: &'static Element,
    builder: gst::element_factory::ElementBuilder<'static>,
}

impl Make {
    pub fn property(
        self,
        name: &'static str,
        value: impl Into<gst::glib::Value> + 'static,
    ) -> Self {
        Make {
            builder: self.builder.property(name, value),
            ..self
        }
    }

    pub fn property_from_str(self, name: &'static str, value: &'static str) -> Self {
        Make {
            builder: self.builder.property_from_str(name, value),
            ..self
        }
    }

    pub fn name(self, name: impl Into<gst::glib::GString>) -> Self {
        Make {
            builder: self.builder.name(name),
            ..self
        }
    }

    pub fn build(self) -> Result<gst::Element, Missing> {
        gst::init().map_err(|_| Missing(self.element))?;
        self.builder.build().map_err(|_| Missing(self.element))
    }
}

/// An element that is not installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missing(pub &'static Element);

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GStreamer element \"{}\" is missing (Debian package {})",
            self.0.factory, self.0.package
        )
    }
}

impl std::error::Error for Missing {}

/// Why a description could not become a bin.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{0}")]
    Missing(Missing),
    /// A programming error: every element must be on the list.
    #[error("GStreamer element \"{0}\" is not on the list of hal::elements")]
    Unlisted(String),
    #[error("{0}")]
    Other(String),
}

/// The entry for a factory name.
pub fn lookup(factory: &str) -> Option<&'static Element> {
    ALL.iter().copied().find(|e| e.factory == factory)
}

/// The element names in a `gst-launch` style description (not caps, not
/// pad references such as `t.`).
pub fn factories_in(description: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    let mut segments = Vec::new();
    for (i, c) in description.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '!' if !quoted => {
                segments.push(&description[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(&description[start..]);
    for s in segments {
        let Some(first) = s.split_whitespace().next() else {
            continue;
        };
        let is_caps = first.contains('/');
        let is_pad_ref = first.ends_with('.') || first.contains("=");
        if !is_caps && !is_pad_ref {
            names.push(first);
        }
    }
    names
}

/// The first name in `description` that is not on the list.
pub fn unlisted_in(description: &str) -> Option<&str> {
    factories_in(description)
        .into_iter()
        .find(|n| lookup(n).is_none())
}

/// A bin from a `gst-launch` style description whose every element is on
/// the list; `ghost` exposes its unlinked pads. A missing element names its
/// package.
pub fn parse_bin(description: &str, ghost: bool) -> Result<gst::Bin, ParseError> {
    if let Some(name) = unlisted_in(description) {
        return Err(ParseError::Unlisted(name.to_string()));
    }
    gst::init().map_err(|e| ParseError::Other(e.to_string()))?;
    let mut context = gst::ParseContext::new();
    match gst::parse::bin_from_description_full(
        description,
        ghost,
        Some(&mut context),
        gst::ParseFlags::empty(),
    ) {
        Ok(b) => b
            .downcast::<gst::Bin>()
            .map_err(|_| ParseError::Other("not a bin".into())),
        Err(e) => {
            let missing = context.missing_elements();
            match missing.first().and_then(|m| lookup(m)) {
                Some(el) => Err(ParseError::Missing(Missing(el))),
                None => Err(ParseError::Other(e.to_string())),
            }
        }
    }
}

/// Every element of the list that is not installed, required ones first.
pub fn missing() -> Vec<&'static Element> {
    let mut gone: Vec<_> = ALL.iter().copied().filter(|e| !e.available()).collect();
    gone.sort_by_key(|e| !matches!(e.need, Need::Required));
    gone
}

/// Packages whose every element is for hardware only some terminals have:
/// the project's machines (`scripts/deps`) and the kiosk-app package leave
/// them to the facility (the package recommends them).
pub fn hardware_only_packages() -> Vec<&'static str> {
    let mut out = Vec::new();
    for e in ALL {
        let all_hardware = ALL
            .iter()
            .filter(|o| o.package == e.package)
            .all(|o| matches!(o.need, Need::Hardware(_)));
        if all_hardware && !out.contains(&e.package) {
            out.push(e.package);
        }
    }
    out
}

/// The Debian packages a terminal installs, each once, in list order: every
/// package of the list but the hardware-only ones.
pub fn packages() -> Vec<&'static str> {
    let hardware = hardware_only_packages();
    let mut out = Vec::new();
    for e in ALL {
        if !out.contains(&e.package) && !hardware.contains(&e.package) {
            out.push(e.package);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_from_descriptions_without_caps_or_pad_references() {
        assert_eq!(
            factories_in(
                "videotestsrc pattern=ball ! video/x-raw,width=640 ! textoverlay text=\"a ! b\" ! \
                 tee name=t t. ! queue ! appsink name=out"
            ),
            ["videotestsrc", "textoverlay", "tee", "queue", "appsink"]
        );
        assert_eq!(
            unlisted_in("videotestsrc ! fancyfilter"),
            Some("fancyfilter")
        );
        assert_eq!(unlisted_in("audiotestsrc ! audioconvert"), None);
    }

    #[test]
    fn every_factory_is_listed_once() {
        for (i, e) in ALL.iter().enumerate() {
            assert!(
                ALL[i + 1..].iter().all(|o| o.factory != e.factory),
                "{} twice",
                e.factory
            );
        }
    }

    #[test]
    fn an_unlisted_element_is_refused_and_a_missing_one_names_its_package() {
        let e = parse_bin("videotestsrc ! notanelement", true).unwrap_err();
        assert!(matches!(e, ParseError::Unlisted(ref n) if n == "notanelement"));
        // Take textoverlay out of this process's registry: as if gstreamer1.0-x
        // were not installed.
        gst::init().unwrap();
        if let Some(f) = gst::ElementFactory::find("textoverlay") {
            gst::Registry::get().remove_feature(&f);
        }
        let e = parse_bin("videotestsrc ! textoverlay ! fakesink", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "GStreamer element \"textoverlay\" is missing (Debian package gstreamer1.0-x)"
        );
        let e = TEXTOVERLAY.make().build().unwrap_err();
        assert_eq!(e.0.package, "gstreamer1.0-x");
        assert!(missing().contains(&&TEXTOVERLAY));
    }

    /// The package each installed element comes from is the one the list
    /// names (asked of dpkg, from the plugin's file).
    #[test]
    fn the_list_names_the_package_dpkg_knows() {
        gst::init().unwrap();
        let mut checked = 0;
        for e in ALL {
            let Some(factory) = gst::ElementFactory::find(e.factory) else {
                continue;
            };
            let Some(file) = factory.plugin().and_then(|p| p.filename()) else {
                continue;
            };
            let file = std::fs::canonicalize(&file).unwrap_or(file);
            let Ok(out) = std::process::Command::new("dpkg")
                .arg("-S")
                .arg(&file)
                .output()
            else {
                return; // not a Debian machine
            };
            let owner = String::from_utf8_lossy(&out.stdout);
            // dpkg -S answers for the path as the package installed it
            // (/usr/lib or /lib); try the other spelling too.
            let owner = if owner.is_empty() {
                let other = file.to_string_lossy().replacen("/usr/lib/", "/lib/", 1);
                let out = std::process::Command::new("dpkg")
                    .args(["-S", &other])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).into_owned()
            } else {
                owner.into_owned()
            };
            let package = owner.split(':').next().unwrap_or("").trim();
            assert_eq!(
                package,
                e.package,
                "{} comes from {}",
                e.factory,
                file.display()
            );
            checked += 1;
        }
        assert!(checked > 30, "only {checked} elements found installed");
    }

    /// `scripts/deps` installs every package of the list, and the kiosk-app
    /// package depends on them (the core library comes through its shared
    /// libraries) and recommends the hardware-only ones.
    #[test]
    fn scripts_deps_and_the_package_install_the_list() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let deps = std::fs::read_to_string(root.join("scripts/deps")).unwrap();
        let debs = std::fs::read_to_string(root.join("packaging/build-debs.sh")).unwrap();
        let field = |name: &str| -> Vec<String> {
            let line = debs
                .lines()
                .find(|l| l.contains(&format!("KIOSK_{name}=")))
                .unwrap_or_else(|| panic!("build-debs.sh has no KIOSK_{name}"));
            let value = line.split('"').nth(1).unwrap();
            value.split(',').map(|p| p.trim().to_string()).collect()
        };
        let (depends, recommends) = (field("DEPENDS"), field("RECOMMENDS"));
        let words: Vec<&str> = deps.split_whitespace().collect();
        for p in packages() {
            assert!(words.contains(&p), "scripts/deps does not install {p}");
            if p != CORE {
                assert!(
                    depends.iter().any(|d| d == p),
                    "kiosk-app does not depend on {p}"
                );
            }
        }
        for p in hardware_only_packages() {
            assert!(
                recommends.iter().any(|d| d == p),
                "kiosk-app does not recommend {p}"
            );
            assert!(
                !words.contains(&p),
                "scripts/deps installs hardware-only {p}"
            );
        }
    }

    /// Elements are made only through this list: nowhere else in the
    /// terminal's code is a factory named by a string.
    #[test]
    fn no_element_is_made_around_the_list() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut dirs = vec![
            root.join("kiosk-app/src"),
            root.join("hal/src"),
            root.join("ui/src"),
        ];
        let mut offenders = Vec::new();
        let mut files = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs")
                    || path.ends_with("hal/src/elements.rs")
                {
                    continue;
                }
                files += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if ["ElementFactory::make", "gst::parse::", "parse::launch"]
                        .iter()
                        .any(|f| line.contains(f))
                    {
                        offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
        assert!(files > 50, "only {files} source files found");
        assert!(
            offenders.is_empty(),
            "made around hal::elements:\n{}",
            offenders.join("\n")
        );
    }
}
