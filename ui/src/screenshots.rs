//! Every lobby screen, the technician's enrolment screen and the
//! technician's diagnostics, rendered to
//! PNG with no display and no GPU, for reviewing the layout and the
//! translations (`kiosk-app screenshots DIR`).
//!
//! The in-call samples carry made-up video frames ([`sample_remote_frame`],
//! [`sample_self_frame`]): a picture drawn in code, so the screenshots need
//! no camera and show where the video goes and how it is scaled.
//!
//! Rendering installs a software-only Slint platform with
//! `slint::platform::set_platform`. A platform can be set only once and
//! another backend (winit, linuxkms, the testing backend) cannot share it,
//! so run these functions in a process of their own that opens no other
//! Slint window: `kiosk-app screenshots DIR`, or a test binary of its own.
//! Calling them again in the same process is fine; if another backend got
//! there first they return an error rather than render with it.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, anyhow};
use slint::Rgb8Pixel;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};

use crate::TerminalUi;
use crate::view::{EnrolView, Lang, TechnicianView, TerminalView};

pub use crate::samples::{
    Frame, SAMPLE_FACE, Sample, sample_enrol_views, sample_remote_frame, sample_self_frame,
    sample_technician_views, sample_views, samples,
};

/// Renders each of [`samples`], [`sample_enrol_views`] and
/// [`sample_technician_views`] in English
/// and Spanish at 1280x800 to `dir/{lang}-{name}.png` (`dir` is created)
/// and returns the paths.
pub fn render_all(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    render_all_at(dir, 1280, 800)
}

/// [`render_all`] at another screen size.
pub fn render_all_at(dir: &Path, width: u32, height: u32) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let renderer = Renderer::new(width, height)?;
    let mut paths = Vec::new();
    for lang in [Lang::En, Lang::Es] {
        let code = match lang {
            Lang::En => "en",
            Lang::Es => "es",
        };
        let lobby = samples().into_iter().map(|sample| {
            let rgb = renderer.render(|ui| sample.show_on(ui, lang));
            (sample.name, rgb)
        });
        let enrol = sample_enrol_views().into_iter().map(|(name, view)| {
            let rgb = renderer.render(|ui| ui.show_enrolment(&EnrolView { lang, ..view }));
            (name, rgb)
        });
        let technician = sample_technician_views()
            .into_iter()
            .map(|(name, view, frame)| {
                let rgb = renderer.render(|ui| {
                    ui.clear_technician_frame();
                    if let Some(f) = frame {
                        ui.set_technician_frame(f);
                    }
                    ui.show_technician(&TechnicianView { lang, ..view });
                });
                (name, rgb)
            });
        for (name, rgb) in lobby.chain(enrol).chain(technician) {
            let path = dir.join(format!("{code}-{name}.png"));
            write_png(&path, width, height, &rgb?)?;
            paths.push(path);
        }
    }
    Ok(paths)
}

/// Renders `view` (in `view.lang`) at `width` x `height` and returns the
/// pixels as RGB, 3 bytes each, row by row.
pub fn render_to_rgb(view: &TerminalView, width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    Renderer::new(width, height)?.render(|ui| ui.show(view))
}

/// [`render_to_rgb`] for a [`Sample`], with its video, in `lang`.
pub fn render_sample_to_rgb(
    sample: &Sample,
    lang: Lang,
    width: u32,
    height: u32,
) -> anyhow::Result<Vec<u8>> {
    Renderer::new(width, height)?.render(|ui| sample.show_on(ui, lang))
}

thread_local! {
    /// The window the screenshot platform made last on this thread. Empty
    /// after creating a component means another platform made its window.
    static LAST_WINDOW: RefCell<Option<Rc<MinimalSoftwareWindow>>> = const { RefCell::new(None) };
}

/// A platform with nothing but an in-memory window: no event loop, no input.
struct ScreenshotPlatform;

impl Platform for ScreenshotPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        LAST_WINDOW.with(|w| *w.borrow_mut() = Some(window.clone()));
        Ok(window)
    }
}

/// One lobby UI in a software window of a fixed size.
struct Renderer {
    ui: TerminalUi,
    window: Rc<MinimalSoftwareWindow>,
    width: u32,
    height: u32,
}

impl Renderer {
    fn new(width: u32, height: u32) -> anyhow::Result<Self> {
        // Already set is fine if it is ours (a second call on this thread);
        // LAST_WINDOW tells after the window is made.
        let _ = slint::platform::set_platform(Box::new(ScreenshotPlatform));
        LAST_WINDOW.with(|w| w.borrow_mut().take());
        let ui = TerminalUi::new().context("creating the lobby UI")?;
        let window = LAST_WINDOW.with(|w| w.borrow_mut().take()).ok_or_else(|| {
            anyhow!(
                "another Slint platform is active on this thread; \
                 render screenshots in a process of their own"
            )
        })?;
        window.set_size(slint::PhysicalSize::new(width, height));
        ui.window().show().context("showing the lobby window")?;
        Ok(Self {
            ui,
            window,
            width,
            height,
        })
    }

    /// Renders what `show` puts up, e.g. `|ui| ui.show(&view)`.
    fn render(&self, show: impl FnOnce(&TerminalUi)) -> anyhow::Result<Vec<u8>> {
        show(&self.ui);
        slint::platform::update_timers_and_animations();
        self.ui.window().request_redraw();
        let (w, h) = (self.width as usize, self.height as usize);
        let mut pixels = vec![Rgb8Pixel::new(0, 0, 0); w * h];
        let drawn = self.window.draw_if_needed(|renderer| {
            renderer.render(&mut pixels, w);
        });
        if !drawn {
            return Err(anyhow!("the software window did not redraw"));
        }
        Ok(pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect())
    }
}

fn write_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Flat UI colours compress well even at the fastest setting, and the
    // default level takes seconds per image in an unoptimised test build.
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::Up);
    let mut writer = encoder
        .write_header()
        .with_context(|| format!("writing {}", path.display()))?;
    writer
        .write_image_data(rgb)
        .with_context(|| format!("writing {}", path.display()))?;
    writer
        .finish()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
