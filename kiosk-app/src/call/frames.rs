//! Decoded video to the screen: an RGB `appsink` whose every picture becomes
//! a [`Frame`] for a [`FrameSink`] (the window). The call uses it for each
//! peer's tile and for the self-view, the technician screen for its camera
//! check: one place that turns GStreamer buffers into bytes.
//!
//! A [`Frame`] lends its bytes (`Frame::bytes`) without copying them: the
//! mapped buffer stays inside, so GStreamer types never reach the window.

use std::sync::Arc;

use gst::prelude::*;

/// A decoded picture for the screen: RGB, 3 bytes a pixel, rows `stride`
/// bytes apart.
pub struct Frame {
    /// Which remote picture (tile) this is, 0 first; 0 for the self-view.
    pub tile: usize,
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pixels: Pixels,
}

/// Where a frame's bytes live: GStreamer's buffer, mapped for reading (no
/// copy), or bytes of our own (tests).
enum Pixels {
    Mapped(gst::MappedBuffer<gst::buffer::Readable>),
    Owned(Vec<u8>),
}

impl Frame {
    /// A frame of bytes already in memory (`stride` bytes a row).
    pub fn new(tile: usize, width: u32, height: u32, stride: usize, bytes: Vec<u8>) -> Frame {
        Frame {
            tile,
            width,
            height,
            stride,
            pixels: Pixels::Owned(bytes),
        }
    }

    /// The picture's bytes, `stride` bytes a row.
    pub fn bytes(&self) -> &[u8] {
        match &self.pixels {
            Pixels::Mapped(m) => m.as_slice(),
            Pixels::Owned(v) => v,
        }
    }
}

/// Where pictures go (the window); headless terminals pass none.
pub type FrameSink = Arc<dyn Fn(Frame) + Send + Sync>;

/// The picture outputs of a call: every peer's tile, and our own camera.
#[derive(Clone, Default)]
pub struct Screens {
    pub remote: Option<FrameSink>,
    pub own: Option<FrameSink>,
}

/// How an RGB sink takes pictures.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// The size to scale to (`None`: as they come).
    pub size: Option<(u32, u32)>,
    /// Pictures waiting at most; older ones are dropped (a slow screen
    /// never holds the pipeline back).
    pub max_buffers: u32,
    /// The tile its frames are marked with.
    pub tile: usize,
}

/// An appsink taking RGB pictures shaped by `shape`, each handed to
/// `on_frame` as a [`Frame`] (in GStreamer's streaming thread).
pub fn rgb_appsink(shape: Shape, on_frame: impl Fn(Frame) + Send + Sync + 'static) -> gst::Element {
    let mut caps = gst::Caps::builder("video/x-raw").field("format", "RGB");
    if let Some((width, height)) = shape.size {
        caps = caps
            .field("width", width as i32)
            .field("height", height as i32);
    }
    let sink = gst_app::AppSink::builder()
        .caps(&caps.build())
        .sync(false)
        .max_buffers(shape.max_buffers)
        .drop(true)
        .build();
    let tile = shape.tile;
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |s| {
                let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                if let Some(frame) = frame_of(&sample, tile) {
                    on_frame(frame);
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    sink.upcast()
}

/// The sample's picture as a frame (`None`: no caps or no buffer yet).
fn frame_of(sample: &gst::Sample, tile: usize) -> Option<Frame> {
    let info = sample
        .caps()
        .and_then(|c| gst_video::VideoInfo::from_caps(c).ok())?;
    let map = sample.buffer_owned()?.into_mapped_buffer_readable().ok()?;
    Some(Frame {
        tile,
        width: info.width(),
        height: info.height(),
        stride: info.stride()[0] as usize,
        pixels: Pixels::Mapped(map),
    })
}
