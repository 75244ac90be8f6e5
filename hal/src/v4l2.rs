//! The real camera through V4L2: what modes a device offers ([`modes`],
//! with the `v4l` crate), which one a call should use ([`choose_mode`], pure)
//! and the GStreamer source that captures in it ([`source_description`]).
//!
//! Why choose ourselves rather than let `v4l2src` negotiate: a USB 2 camera
//! typically offers 1280x720 raw YUYV at 10 frames/s only and MJPG at 30;
//! caps negotiation would happily settle for the raw mode and a call would
//! stutter.

use std::path::Path;

use serde::Serialize;
use v4l::video::Capture;

use crate::{Camera, HalError, VideoMode, bin};

/// How a camera encodes its pictures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PixelFormat {
    /// Motion JPEG: what USB cameras send at 720p and above.
    Mjpg,
    /// H.264 from the camera's own encoder.
    H264,
    /// Packed 4:2:2, the raw format every UVC camera has.
    Yuyv,
    /// Another format, by its fourcc ("NV12").
    Other(String),
}

impl PixelFormat {
    pub fn from_fourcc(f: &[u8; 4]) -> PixelFormat {
        match f {
            b"MJPG" | b"JPEG" => PixelFormat::Mjpg,
            b"H264" => PixelFormat::H264,
            b"YUYV" => PixelFormat::Yuyv,
            _ => PixelFormat::Other(String::from_utf8_lossy(f).trim().to_string()),
        }
    }
    /// Lower is better: compressed first (less USB bandwidth, hence full
    /// frame rate at 720p), then the raw format GStreamer converts cheaply.
    fn rank(&self) -> u8 {
        match self {
            PixelFormat::Mjpg => 0,
            PixelFormat::H264 => 1,
            PixelFormat::Yuyv => 2,
            PixelFormat::Other(_) => 3,
        }
    }
    /// The caps (without size and rate) `v4l2src` produces in this format.
    fn caps(&self) -> String {
        match self {
            PixelFormat::Mjpg => "image/jpeg".into(),
            PixelFormat::H264 => "video/x-h264,stream-format=byte-stream".into(),
            PixelFormat::Yuyv => "video/x-raw,format=YUY2".into(),
            PixelFormat::Other(f) => match f.as_str() {
                "NV12" => "video/x-raw,format=NV12".into(),
                "YU12" => "video/x-raw,format=I420".into(),
                "GREY" => "video/x-raw,format=GRAY8".into(),
                "RGB3" => "video/x-raw,format=RGB".into(),
                "BGR3" => "video/x-raw,format=BGR".into(),
                _ => "video/x-raw".into(),
            },
        }
    }
    /// What turns this format into raw video.
    fn decoder(&self) -> &'static str {
        match self {
            PixelFormat::Mjpg => "jpegdec ! ",
            PixelFormat::H264 => "h264parse ! avdec_h264 ! ",
            _ => "",
        }
    }
}

/// One format, size and frame rate a camera offers. The rate is a fraction
/// (`fps_num/fps_den` frames/s) because cameras offer 30000/1001.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CameraMode {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    pub fps_num: u32,
    pub fps_den: u32,
}

impl CameraMode {
    pub fn new(format: PixelFormat, width: u32, height: u32, fps: u32) -> CameraMode {
        CameraMode {
            format,
            width,
            height,
            fps_num: fps,
            fps_den: 1,
        }
    }
    pub fn fps(&self) -> f64 {
        self.fps_num as f64 / self.fps_den.max(1) as f64
    }
}

impl std::fmt::Display for CameraMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} {}x{}@{:.2}",
            self.format,
            self.width,
            self.height,
            self.fps()
        )
    }
}

/// The best mode for a call wanting `wanted`, or `None` if there is none.
///
/// In order: the mode that covers the wanted size and rate best (a rate
/// within half a frame counts as met: 29.97 is 30); among those, compressed
/// formats first, then YUYV; then the wanted aspect ratio; then the smallest
/// size and rate that still cover it (less to scale and to carry).
pub fn choose_mode(available: &[CameraMode], wanted: VideoMode) -> Option<CameraMode> {
    let wfps = wanted.fps as f64;
    available
        .iter()
        .filter(|m| m.width > 0 && m.height > 0 && m.fps_num > 0)
        .min_by_key(|m| {
            let fps = if m.fps() >= wfps - 0.5 { wfps } else { m.fps() };
            let covered = m.width.min(wanted.width) as u64
                * m.height.min(wanted.height) as u64
                * (fps * 1000.0) as u64;
            let want = wanted.width as u64 * wanted.height as u64 * (wfps * 1000.0) as u64;
            let shortfall = want.saturating_sub(covered);
            let aspect_off =
                m.width as u64 * wanted.height as u64 != m.height as u64 * wanted.width as u64;
            (
                shortfall,
                m.format.rank(),
                aspect_off,
                m.width as u64 * m.height as u64,
                (m.fps() * 1000.0) as u64,
            )
        })
        .cloned()
}

/// The `gst-launch` description of a source capturing `device` in `mode`
/// and delivering raw video in `wanted`.
pub fn source_description(device: &Path, mode: &CameraMode, wanted: VideoMode) -> String {
    format!(
        "v4l2src device=\"{}\" ! {},width={},height={},framerate={}/{} ! {}\
         videoconvert ! videoscale ! videorate ! \
         capsfilter caps=video/x-raw,width={},height={},framerate={}/1",
        device.display(),
        mode.format.caps(),
        mode.width,
        mode.height,
        mode.fps_num,
        mode.fps_den,
        mode.format.decoder(),
        wanted.width,
        wanted.height,
        wanted.fps,
    )
}

/// Turn an error opening `device` into what the technician needs to know.
pub fn open_error(device: &Path, e: std::io::Error) -> HalError {
    let device = device.display().to_string();
    match e.kind() {
        std::io::ErrorKind::NotFound => HalError::Missing(format!("camera {device}")),
        std::io::ErrorKind::PermissionDenied => HalError::PermissionDenied { device },
        _ => HalError::Open {
            device,
            detail: e.to_string(),
        },
    }
}

/// Sizes a camera with stepwise sizes is asked about: the common ones, the
/// wanted one and its largest.
const COMMON_SIZES: [(u32, u32); 4] = [(640, 480), (1280, 720), (1920, 1080), (640, 360)];

/// Every mode `device` offers. Fails with a clear error if it is missing,
/// cannot be opened, or is not a capture device.
pub fn modes(device: &Path) -> Result<Vec<CameraMode>, HalError> {
    let dev = v4l::Device::with_path(device).map_err(|e| open_error(device, e))?;
    let not_camera = |e: std::io::Error| HalError::NotACamera {
        device: device.display().to_string(),
        detail: e.to_string(),
    };
    let caps = dev.query_caps().map_err(not_camera)?;
    if !caps
        .capabilities
        .contains(v4l::capability::Flags::VIDEO_CAPTURE)
    {
        return Err(HalError::NotACamera {
            device: device.display().to_string(),
            detail: format!("{} ({}) does not capture video", caps.card, caps.driver),
        });
    }
    let mut out = Vec::new();
    for f in Capture::enum_formats(&dev).map_err(not_camera)? {
        let format = PixelFormat::from_fourcc(&f.fourcc.repr);
        let sizes = Capture::enum_framesizes(&dev, f.fourcc).unwrap_or_default();
        let mut discrete = Vec::new();
        for s in sizes {
            match s.size {
                v4l::framesize::FrameSizeEnum::Discrete(d) => discrete.push((d.width, d.height)),
                v4l::framesize::FrameSizeEnum::Stepwise(st) => {
                    // Enumerating every step could mean millions of sizes.
                    let fits = |w: u32, h: u32| {
                        (st.min_width..=st.max_width).contains(&w)
                            && (st.min_height..=st.max_height).contains(&h)
                            && (w - st.min_width).is_multiple_of(st.step_width.max(1))
                            && (h - st.min_height).is_multiple_of(st.step_height.max(1))
                    };
                    discrete.extend(COMMON_SIZES.iter().copied().filter(|&(w, h)| fits(w, h)));
                    discrete.push((st.max_width, st.max_height));
                }
            }
        }
        for (w, h) in discrete {
            let intervals = Capture::enum_frameintervals(&dev, f.fourcc, w, h).unwrap_or_default();
            for i in intervals {
                let rates: Vec<(u32, u32)> = match i.interval {
                    // An interval of n/d seconds is d/n frames a second.
                    v4l::frameinterval::FrameIntervalEnum::Discrete(fr) => {
                        vec![(fr.denominator, fr.numerator)]
                    }
                    v4l::frameinterval::FrameIntervalEnum::Stepwise(st) => vec![
                        (st.min.denominator, st.min.numerator),
                        (st.max.denominator, st.max.numerator),
                    ],
                };
                for (num, den) in rates {
                    let m = CameraMode {
                        format: format.clone(),
                        width: w,
                        height: h,
                        fps_num: num,
                        fps_den: den,
                    };
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A V4L2 camera: at a fixed path, or the one discovery prefers at the time
/// the call asks (so a camera replugged under another number is found).
pub struct V4l2Camera {
    /// A fixed device (configuration); `None`: discover.
    pub device: Option<std::path::PathBuf>,
    pub roots: crate::Roots,
}

impl V4l2Camera {
    /// The devices to try, best first.
    fn candidates(&self) -> Result<Vec<std::path::PathBuf>, HalError> {
        if let Some(d) = &self.device {
            return Ok(vec![d.clone()]);
        }
        let found: Vec<_> = crate::discover(&self.roots)
            .cameras
            .into_iter()
            .map(|c| c.path)
            .collect();
        if found.is_empty() {
            return Err(HalError::Missing(format!(
                "camera (no {} and no video capture device)",
                self.roots.stable_name(crate::DeviceKind::Camera).display()
            )));
        }
        Ok(found)
    }
}

impl Camera for V4l2Camera {
    fn name(&self) -> String {
        match self.candidates() {
            Ok(d) => d[0].display().to_string(),
            Err(_) => "no camera".into(),
        }
    }
    fn source(&self, wanted: VideoMode) -> Result<gst::Element, HalError> {
        let (device, mode) = self.pick(wanted)?;
        tracing::info!(device = %device.display(), %mode, "camera mode");
        bin("camera", &source_description(&device, &mode, wanted))
    }
    fn check(&self, wanted: VideoMode) -> Result<String, HalError> {
        let (device, mode) = self.pick(wanted)?;
        Ok(format!("{}: {mode}", device.display()))
    }
}

impl V4l2Camera {
    /// The device and mode a call at `wanted` gets.
    fn pick(&self, wanted: VideoMode) -> Result<(std::path::PathBuf, CameraMode), HalError> {
        // Without the udev rules, a discovered node may not capture (a
        // codec's, say): the first one that lists capture modes wins, and
        // if none does, the best candidate's error is the one reported.
        let mut first_error = None;
        for device in self.candidates()? {
            let available = match modes(&device) {
                Ok(m) => m,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            let Some(mode) = choose_mode(&available, wanted) else {
                first_error.get_or_insert(HalError::NoMode {
                    device: device.display().to_string(),
                });
                continue;
            };
            return Ok((device, mode));
        }
        Err(first_error.expect("at least one candidate"))
    }
}

#[cfg(test)]
mod tests {
    use super::PixelFormat::*;
    use super::*;

    fn m(f: PixelFormat, w: u32, h: u32, fps: u32) -> CameraMode {
        CameraMode::new(f, w, h, fps)
    }
    const HD: VideoMode = VideoMode {
        width: 1280,
        height: 720,
        fps: 30,
    };

    #[test]
    fn a_usb_camera_gets_720p30_in_mjpg_not_raw_at_10() {
        // A Logitech C270's list, in the order the driver gives it.
        let c270 = [
            m(Yuyv, 640, 480, 30),
            m(Yuyv, 1280, 720, 10),
            m(Mjpg, 640, 480, 30),
            m(Mjpg, 1280, 720, 30),
            m(Mjpg, 1280, 960, 30),
        ];
        assert_eq!(choose_mode(&c270, HD), Some(m(Mjpg, 1280, 720, 30)));
    }

    #[test]
    fn compressed_wins_over_raw_when_both_cover_the_call() {
        let both = [m(Yuyv, 1280, 720, 30), m(H264, 1280, 720, 30)];
        assert_eq!(choose_mode(&both, HD), Some(m(H264, 1280, 720, 30)));
        let all = [
            m(Yuyv, 1280, 720, 30),
            m(H264, 1280, 720, 30),
            m(Mjpg, 1280, 720, 30),
        ];
        assert_eq!(choose_mode(&all, HD).unwrap().format, Mjpg);
    }

    #[test]
    fn raw_yuyv_when_that_is_all_there_is() {
        let raw = [m(Yuyv, 640, 480, 30), m(Yuyv, 1280, 720, 30)];
        assert_eq!(choose_mode(&raw, HD), Some(m(Yuyv, 1280, 720, 30)));
    }

    #[test]
    fn the_smallest_mode_that_covers_the_call_and_its_aspect_ratio() {
        let big = [
            m(Mjpg, 1920, 1080, 30),
            m(Mjpg, 1280, 960, 30),
            m(Mjpg, 1280, 720, 60),
            m(Mjpg, 1280, 720, 30),
        ];
        assert_eq!(choose_mode(&big, HD), Some(m(Mjpg, 1280, 720, 30)));
        let no_720 = [m(Mjpg, 1920, 1080, 30), m(Mjpg, 1280, 960, 30)];
        assert_eq!(choose_mode(&no_720, HD), Some(m(Mjpg, 1920, 1080, 30)));
    }

    #[test]
    fn ntsc_rates_count_as_the_wanted_rate() {
        let ntsc = CameraMode {
            fps_num: 30000,
            fps_den: 1001,
            ..m(Mjpg, 1280, 720, 0)
        };
        let modes = [m(Yuyv, 1280, 720, 30), ntsc.clone()];
        assert_eq!(choose_mode(&modes, HD), Some(ntsc));
    }

    #[test]
    fn a_small_camera_gives_its_best_and_nothing_gives_none() {
        let vga = [
            m(Yuyv, 320, 240, 30),
            m(Yuyv, 640, 480, 15),
            m(Yuyv, 640, 480, 30),
        ];
        assert_eq!(choose_mode(&vga, HD), Some(m(Yuyv, 640, 480, 30)));
        assert_eq!(choose_mode(&[], HD), None);
        assert_eq!(choose_mode(&[m(Mjpg, 0, 0, 30)], HD), None);
    }

    #[test]
    fn the_source_decodes_mjpg_and_scales_to_the_call() {
        let d = source_description(Path::new("/dev/kiosk/camera"), &m(Mjpg, 1280, 960, 30), HD);
        assert_eq!(
            d,
            "v4l2src device=\"/dev/kiosk/camera\" ! image/jpeg,width=1280,height=960,framerate=30/1 ! \
             jpegdec ! videoconvert ! videoscale ! videorate ! \
             capsfilter caps=video/x-raw,width=1280,height=720,framerate=30/1"
        );
        let raw = source_description(Path::new("/dev/video0"), &m(Yuyv, 640, 480, 30), HD);
        assert!(raw.contains(
            "video/x-raw,format=YUY2,width=640,height=480,framerate=30/1 ! videoconvert"
        ));
        // Every description parses into elements that exist here.
        for f in [Mjpg, H264, Yuyv, Other("NV12".into())] {
            let d = source_description(Path::new("/dev/video0"), &m(f, 640, 480, 30), HD);
            bin("camera", &d).unwrap_or_else(|e| panic!("{d}: {e}"));
        }
    }
}
