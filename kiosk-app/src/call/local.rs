//! The terminal's own camera and microphone as they go into a call: sources
//! that never stop. Each is an `input-selector` between the device and a
//! stand-in: a still "camera unavailable" picture for the camera, silence for
//! the microphone. When a device is lost (a hal event, or its element's
//! error on the bus) the stand-in takes over and the device's branch is torn
//! down; when it is back, a new branch is built and takes over again at its
//! first buffer. Downstream (encoder, payloader, webrtcbin) never notices:
//! both inputs give the same caps, so the call goes on without a new session.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use gst::prelude::*;
use hal::elements;

/// What the stand-in picture says, in both languages (the other side may
/// read either).
const CAMERA_UNAVAILABLE: &str = "Camera unavailable · Cámara no disponible";

/// Raw audio both microphone inputs give: what Opus takes.
const AUDIO_CAPS: &str = "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1";

/// Which device a [`Local`] input stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Camera,
    Microphone,
}

impl Input {
    fn name(self) -> &'static str {
        match self {
            Input::Camera => "camera",
            Input::Microphone => "microphone",
        }
    }
}

/// A bin from a description whose last element is named `out`, with only
/// that element's src pad exposed (textoverlay's text input must stay
/// unlinked, or it waits for text).
fn standin_bin(description: &str) -> anyhow::Result<gst::Element> {
    let bin = elements::parse_bin(description, false)?;
    let out = bin.by_name("out").context("no element named out")?;
    let pad = gst::GhostPad::with_target(&out.static_pad("src").context("out has no src")?)?;
    bin.add_pad(&pad)?;
    Ok(bin.upcast())
}

/// The device's part of the pipeline while it works.
struct Branch {
    bin: gst::Element,
    selector_pad: gst::Pad,
}

/// One never-ending local source (see the module doc).
pub struct Local {
    input: Input,
    pipeline: gst::Pipeline,
    selector: gst::Element,
    standin_pad: gst::Pad,
    caps: String,
    device: Mutex<Option<Branch>>,
    /// The device's element reported an error (set from the bus handler).
    failed: std::sync::atomic::AtomicBool,
}

impl Local {
    /// The camera at `mode`, as I420 of exactly that size and rate.
    pub fn camera(
        pipeline: &gst::Pipeline,
        devices: &hal::Devices,
        mode: hal::VideoMode,
    ) -> anyhow::Result<Local> {
        let caps = format!(
            "video/x-raw,format=I420,width={},height={},framerate={}/1,pixel-aspect-ratio=1/1",
            mode.width, mode.height, mode.fps
        );
        // One picture, drawn once and repeated: it costs nothing while hidden.
        // Its words need textoverlay (gstreamer1.0-x, optional): without it
        // the picture is plain, and the other side is told in words anyway
        // (the device notice).
        let font = (mode.height / 24).max(8);
        let words = if elements::TEXTOVERLAY.available() {
            format!(
                "textoverlay text=\"{CAMERA_UNAVAILABLE}\" font-desc=\"Sans {font}\" \
                 valignment=center halignment=center shaded-background=false ! "
            )
        } else {
            tracing::warn!(
                "{}: the camera-unavailable picture has no words",
                elements::Missing(&elements::TEXTOVERLAY)
            );
            String::new()
        };
        let standin = standin_bin(&format!(
            "videotestsrc num-buffers=1 pattern=solid-color foreground-color=0xff1f2933 ! \
                 video/x-raw,format=I420,width={w},height={h} ! {words}\
                 imagefreeze is-live=true ! capsfilter name=out caps=\"{caps}\"",
            w = mode.width,
            h = mode.height,
        ))
        .context("the camera-unavailable picture")?;
        let local = Local::new(Input::Camera, pipeline, standin, caps)?;
        local.attach(devices.camera.source(mode));
        Ok(local)
    }

    /// The microphone, as 48 kHz mono S16.
    pub fn microphone(pipeline: &gst::Pipeline, devices: &hal::Devices) -> anyhow::Result<Local> {
        let standin = standin_bin(&format!(
            "audiotestsrc is-live=true wave=silence samplesperbuffer=960 ! \
             capsfilter name=out caps=\"{AUDIO_CAPS}\""
        ))
        .context("the silent stand-in")?;
        let local = Local::new(Input::Microphone, pipeline, standin, AUDIO_CAPS.into())?;
        local.attach(devices.microphone.source());
        Ok(local)
    }

    fn new(
        input: Input,
        pipeline: &gst::Pipeline,
        standin: gst::Element,
        caps: String,
    ) -> anyhow::Result<Local> {
        // Not sync-streams: the hidden input's buffers are dropped at once,
        // never held back, so tearing a branch down cannot block on them.
        let selector = elements::INPUT_SELECTOR
            .make()
            .property("sync-streams", false)
            .build()?;
        pipeline.add_many([&standin, &selector])?;
        let standin_pad = selector
            .request_pad_simple("sink_%u")
            .context("input-selector pad")?;
        standin
            .static_pad("src")
            .context("stand-in src")?
            .link(&standin_pad)?;
        selector.set_property("active-pad", &standin_pad);
        Ok(Local {
            input,
            pipeline: pipeline.clone(),
            selector,
            standin_pad,
            caps,
            device: Mutex::new(None),
            failed: Default::default(),
        })
    }

    /// Which device this is.
    pub fn input(&self) -> Input {
        self.input
    }

    /// The element to link onward (its `src` pad).
    pub fn output(&self) -> &gst::Element {
        &self.selector
    }

    /// Whether the device (not the stand-in) feeds the call, or will at its
    /// next buffer.
    pub fn device_present(&self) -> bool {
        self.device
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Whether `obj` is part of one of the device's branches (an error from
    /// it means the device failed, not the call). By name, without a lock:
    /// the bus handler asks from streaming threads.
    pub fn owns(&self, obj: &gst::Object) -> bool {
        let prefix = self.branch_prefix();
        let mut o = Some(obj.clone());
        while let Some(x) = o {
            if x.name().starts_with(&prefix) {
                return true;
            }
            o = x.parent();
        }
        false
    }

    fn branch_prefix(&self) -> String {
        format!("local-{}-", self.input.name())
    }

    /// Show the stand-in now (any thread, e.g. the bus handler's); the
    /// device's branch is torn down later by [`Local::detach`] on the
    /// call's thread.
    pub fn show_standin(&self) {
        self.failed.store(true, Ordering::SeqCst);
        self.selector.set_property("active-pad", &self.standin_pad);
    }

    /// Whether the device's element reported an error since it was attached.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Use the device's new element; on an error, keep the stand-in. Returns
    /// whether the device is now in use.
    ///
    /// Call it from the call's own thread, never from a streaming thread:
    /// starting the device may post an error, which the bus handler meets
    /// on this same thread (so no lock is held while it starts).
    pub fn attach(&self, source: Result<gst::Element, hal::HalError>) -> bool {
        if self.device_present() {
            return true;
        }
        let input = self.input.name();
        let source = match source {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(device = input, error = %e, "device unavailable; the call goes on without it");
                return false;
            }
        };
        self.failed.store(false, Ordering::SeqCst);
        match self.branch(source) {
            Ok(b) => {
                *self.device.lock().unwrap_or_else(|e| e.into_inner()) = Some(b);
                tracing::info!(device = input, "device in use by the call");
                true
            }
            Err(e) => {
                tracing::warn!(device = input, error = %format!("{e:#}"), "cannot use the device; the call goes on without it");
                false
            }
        }
    }

    /// Build the branch `source -> convert -> caps` and switch to it at its
    /// first buffer.
    fn branch(&self, source: gst::Element) -> anyhow::Result<Branch> {
        static BRANCHES: AtomicU64 = AtomicU64::new(0);
        let bin = gst::Bin::with_name(&format!(
            "{}{}",
            self.branch_prefix(),
            BRANCHES.fetch_add(1, Ordering::Relaxed)
        ));
        let (conv, scale) = match self.input {
            Input::Camera => (&elements::VIDEOCONVERT, &elements::VIDEOSCALE),
            Input::Microphone => (&elements::AUDIOCONVERT, &elements::AUDIORESAMPLE),
        };
        let conv = conv.make().build()?;
        let scale = scale.make().build()?;
        let caps = elements::CAPSFILTER
            .make()
            .property("caps", self.caps.parse::<gst::Caps>()?)
            .build()?;
        bin.add_many([&source, &conv, &scale, &caps])?;
        gst::Element::link_many([&source, &conv, &scale, &caps])?;
        let src = gst::GhostPad::with_target(&caps.static_pad("src").context("capsfilter src")?)?;
        bin.add_pad(&src)?;
        let bin: gst::Element = bin.upcast();
        self.pipeline.add(&bin)?;
        let selector_pad = self
            .selector
            .request_pad_simple("sink_%u")
            .context("input-selector pad")?;
        src.link(&selector_pad)?;
        let selector = self.selector.downgrade();
        let pad = selector_pad.clone();
        let input = self.input.name();
        src.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            if let Some(sel) = selector.upgrade() {
                sel.set_property("active-pad", &pad);
                tracing::info!(device = input, "device feeds the call");
            }
            gst::PadProbeReturn::Remove
        });
        if let Err(e) = bin.sync_state_with_parent() {
            self.remove(Branch { bin, selector_pad });
            anyhow::bail!("the {input} did not start: {e}");
        }
        Ok(Branch { bin, selector_pad })
    }

    /// The device is gone: show the stand-in and tear the branch down.
    /// Returns whether it was in use.
    pub fn detach(&self) -> bool {
        let branch = self.device.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(branch) = branch else {
            return false;
        };
        self.selector.set_property("active-pad", &self.standin_pad);
        self.remove(branch);
        tracing::info!(
            device = self.input.name(),
            "device lost; the stand-in feeds the call"
        );
        true
    }

    fn remove(&self, b: Branch) {
        let _ = b.bin.set_state(gst::State::Null);
        if let Some(src) = b.bin.static_pad("src") {
            let _ = src.unlink(&b.selector_pad);
        }
        self.selector.release_request_pad(&b.selector_pad);
        let _ = self.pipeline.remove(&b.bin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    /// A pipeline `local -> appsink` that counts buffers and keeps the last.
    fn run(
        local_of: impl Fn(&gst::Pipeline) -> Local,
    ) -> (gst::Pipeline, Local, Arc<AtomicU64>, Arc<Mutex<Vec<u8>>>) {
        gst::init().unwrap();
        let pipeline = gst::Pipeline::new();
        let local = local_of(&pipeline);
        let sink = elements::APPSINK
            .make()
            .property("sync", false)
            .property("emit-signals", true)
            .build()
            .unwrap();
        pipeline.add(&sink).unwrap();
        local.output().link(&sink).unwrap();
        let n = Arc::new(AtomicU64::new(0));
        let last = Arc::new(Mutex::new(Vec::new()));
        let (n2, last2) = (n.clone(), last.clone());
        sink.connect("new-sample", false, move |v| {
            let s: gst::Sample = v[0]
                .get::<gst::Element>()
                .unwrap()
                .emit_by_name("pull-sample", &[]);
            if let Some(b) = s.buffer() {
                *last2.lock().unwrap() = b.map_readable().unwrap().to_vec();
            }
            n2.fetch_add(1, Ordering::SeqCst);
            Some(gst::FlowReturn::Ok.to_value())
        });
        pipeline.set_state(gst::State::Playing).unwrap();
        (pipeline, local, n, last)
    }

    fn grows(n: &AtomicU64) -> bool {
        let before = n.load(Ordering::SeqCst);
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(3) {
            if n.load(Ordering::SeqCst) >= before + 5 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    const MODE: hal::VideoMode = hal::VideoMode {
        width: 160,
        height: 120,
        fps: 30,
    };

    #[test]
    fn the_picture_goes_on_through_a_lost_camera_and_comes_back_from_it() {
        let devices = hal::open(hal::Backend::Simulated);
        let (pipeline, local, n, last) = run(|p| Local::camera(p, &devices, MODE).unwrap());
        assert!(local.device_present());
        assert!(grows(&n), "the camera's frames reach the call");
        let moving = last.lock().unwrap().clone();
        std::thread::sleep(Duration::from_millis(200));
        assert_ne!(*last.lock().unwrap(), moving, "the camera's picture moves");

        assert!(local.detach());
        assert!(!local.device_present());
        assert!(grows(&n), "frames go on without the camera");
        std::thread::sleep(Duration::from_millis(100));
        let a = last.lock().unwrap().clone();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(*last.lock().unwrap(), a, "the stand-in is a still picture");

        assert!(local.attach(devices.camera.source(MODE)));
        assert!(grows(&n));
        std::thread::sleep(Duration::from_millis(300));
        let b = last.lock().unwrap().clone();
        std::thread::sleep(Duration::from_millis(200));
        assert_ne!(
            *last.lock().unwrap(),
            b,
            "the camera's moving picture is back"
        );
        pipeline.set_state(gst::State::Null).unwrap();
    }

    #[test]
    fn a_missing_camera_starts_on_the_stand_in() {
        let devices = hal::open(hal::HalConfig {
            backend: hal::Backend::Simulated,
            faults: "camera-missing".parse().unwrap(),
            ..Default::default()
        });
        let (pipeline, local, n, _) = run(|p| Local::camera(p, &devices, MODE).unwrap());
        assert!(!local.device_present());
        assert!(grows(&n), "the call still sends a picture");
        pipeline.set_state(gst::State::Null).unwrap();
    }

    #[test]
    fn without_the_optional_textoverlay_the_stand_in_is_a_plain_still_picture() {
        // As if gstreamer1.0-x were not installed: take textoverlay out of
        // this process's registry (other tests here only lose the words).
        gst::init().unwrap();
        if let Some(f) = gst::ElementFactory::find("textoverlay") {
            gst::Registry::get().remove_feature(&f);
        }
        assert!(!elements::TEXTOVERLAY.available());
        let devices = hal::open(hal::HalConfig {
            backend: hal::Backend::Simulated,
            faults: "camera-missing".parse().unwrap(),
            ..Default::default()
        });
        let (pipeline, local, n, last) = run(|p| Local::camera(p, &devices, MODE).unwrap());
        assert!(!local.device_present());
        assert!(grows(&n), "the call still sends a picture");
        let frame = last.lock().unwrap().clone();
        // I420: the luma plane is uniform, the stand-in's colour without words.
        let luma = &frame[..(MODE.width * MODE.height) as usize];
        assert!(luma.iter().all(|&y| y == luma[0]), "a plain picture");
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(*last.lock().unwrap(), frame, "and a still one");
        pipeline.set_state(gst::State::Null).unwrap();
    }

    #[test]
    fn sound_goes_on_through_a_lost_microphone() {
        let devices = hal::open(hal::Backend::Simulated);
        let (pipeline, local, n, last) = run(|p| Local::microphone(p, &devices).unwrap());
        assert!(grows(&n));
        assert!(
            last.lock().unwrap().iter().any(|&b| b != 0),
            "the tone is heard"
        );
        assert!(local.detach());
        assert!(grows(&n), "silence keeps the audio stream going");
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            last.lock().unwrap().iter().all(|&b| b == 0),
            "and it is silence"
        );
        assert!(local.attach(devices.microphone.source()));
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            last.lock().unwrap().iter().any(|&b| b != 0),
            "the tone is back"
        );
        pipeline.set_state(gst::State::Null).unwrap();
    }

    #[test]
    fn a_device_that_fails_to_start_is_recognised_without_a_hang() {
        // A camera node that cannot be opened fails while it starts, on the
        // thread that starts it; the bus handler must tell it from a call
        // failure without waiting for anything `attach` holds.
        let devices = hal::open(hal::Backend::Simulated);
        let (pipeline, local, n, _) = run(|p| Local::camera(p, &devices, MODE).unwrap());
        assert!(grows(&n));
        assert!(local.detach());
        let local = Arc::new(local);
        let (l, seen) = (local.clone(), Arc::new(AtomicBool::new(false)));
        let s2 = seen.clone();
        pipeline.bus().unwrap().set_sync_handler(move |_, msg| {
            if let gst::MessageView::Error(_) = msg.view()
                && msg.src().is_some_and(|o| l.owns(o))
            {
                l.show_standin();
                s2.store(true, Ordering::SeqCst);
            }
            gst::BusSyncReply::Drop
        });
        let broken = elements::V4L2SRC
            .make()
            .property("device", "/nonexistent/video9")
            .build()
            .unwrap();
        local.attach(Ok(broken));
        assert!(
            seen.load(Ordering::SeqCst),
            "the device's error was recognised"
        );
        local.detach();
        assert!(grows(&n), "the stand-in still feeds the call");
        pipeline.bus().unwrap().unset_sync_handler();
        pipeline.set_state(gst::State::Null).unwrap();
    }
}
