//! The touchscreen: the Slint lobby UI driven by the terminal.
//!
//! An enrolled terminal (or one with a code in its configuration) starts on
//! the attract screen. Otherwise the technician screen comes first: the code
//! is typed there, traded for a credential on a worker thread, and the lobby
//! starts once it is saved.
//!
//! Everything runs on the UI thread; the network lives on the sync runtime
//! (and, during enrolment, on the worker thread). A 250 ms timer moves time
//! along (idle timeout, lock countdown, clock, statuses from the server) and
//! collects the enrolment result.
//!
//! Call pictures arrive on GStreamer's threads; each is copied into a Slint
//! pixel buffer there and handed to the UI thread, at most one pending per
//! picture (a late frame is dropped, never queued).

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use slint::{Rgb8Pixel, SharedPixelBuffer};

use ui::{EnrolInput, EnrolMessage, TerminalUi};

use crate::call::{Frame, FrameSink, Screens};
use crate::config::Config;
use crate::devices::DeviceOwner;
use crate::enrolment::{self, Effect, Enrolment};
use crate::identity;
use crate::shown::{self, Shown};
use crate::technician::Technician;
use crate::terminal::{EnrolError, Terminal, enrol};

thread_local! {
    static UI: RefCell<Weak<TerminalUi>> = const { RefCell::new(Weak::new()) };
}

fn pixels(f: &Frame) -> SharedPixelBuffer<Rgb8Pixel> {
    let (w, h) = (f.width as usize, f.height as usize);
    let mut buf = SharedPixelBuffer::<Rgb8Pixel>::new(f.width, f.height);
    let out = buf.make_mut_bytes();
    let data = f.bytes();
    for row in 0..h {
        let src = &data[row * f.stride..row * f.stride + w * 3];
        out[row * w * 3..(row + 1) * w * 3].copy_from_slice(src);
    }
    buf
}

/// A picture output for the call: the other side's (a tile each) or our own.
fn frame_sink(remote: bool) -> FrameSink {
    // One flag per tile (a facility allows at most 10 visitors), so one
    // visitor's frames never crowd out another's.
    let pending: Arc<[AtomicBool; 10]> = Arc::new(Default::default());
    Arc::new(move |f: Frame| {
        let slot = f.tile.min(9);
        if pending[slot].swap(true, Ordering::AcqRel) {
            return; // The UI has not shown the last one yet.
        }
        let buf = pixels(&f);
        let tile = f.tile;
        let pending = pending.clone();
        let _ = slint::invoke_from_event_loop(move || {
            pending[slot].store(false, Ordering::Release);
            UI.with(|u| {
                if let Some(ui) = u.borrow().upgrade() {
                    if remote {
                        ui.set_tile_frame(tile, buf);
                    } else {
                        ui.set_self_frame(buf);
                    }
                }
            });
        });
    })
}

/// A picture output that hands frames to the UI thread, to `set` (the
/// technician's self-view).
fn frame_sink_to(set: fn(&TerminalUi, SharedPixelBuffer<Rgb8Pixel>)) -> FrameSink {
    let pending = Arc::new(AtomicBool::new(false));
    Arc::new(move |f: Frame| {
        if pending.swap(true, Ordering::AcqRel) {
            return; // The UI has not shown the last one yet.
        }
        let buf = pixels(&f);
        let pending = pending.clone();
        let _ = slint::invoke_from_event_loop(move || {
            pending.store(false, Ordering::Release);
            UI.with(|u| {
                if let Some(ui) = u.borrow().upgrade() {
                    set(&ui, buf);
                }
            });
        });
    })
}

fn start_terminal(cfg: &Config, devices: DeviceOwner) -> anyhow::Result<Terminal> {
    let mut t = Terminal::start_with(cfg, devices)?;
    t.set_screens(Screens {
        remote: Some(frame_sink(true)),
        own: Some(frame_sink(false)),
    });
    Ok(t)
}

/// The server's answer to a typed enrolment code.
type Answer = Result<(), EnrolError>;

/// The window's state: the terminal once enrolled, the enrolment screen
/// until then, and the technician screen over either.
struct App {
    cfg: Config,
    devices: DeviceOwner,
    terminal: Option<Terminal>,
    enrolment: Enrolment,
    technician: Technician,
    /// Enrolment answers from the worker thread.
    answers: (mpsc::Sender<Answer>, mpsc::Receiver<Answer>),
    last_screen: ui::Screen,
    /// Whether the technician screen was up at the last show.
    technician_was_up: bool,
}

impl App {
    /// Open the devices; start the terminal if it is enrolled or has a
    /// code to enrol with (a code that does not work is said on the
    /// enrolment screen).
    fn new(cfg: &Config) -> anyhow::Result<App> {
        let devices = DeviceOwner::open(&cfg.devices);
        let enrolled = identity::load(&cfg.data_dir)?.is_some();
        let mut terminal = None;
        let mut first = EnrolMessage::None;
        if enrolled || cfg.enrolment_code.is_some() {
            match start_terminal(cfg, devices.clone()) {
                Ok(t) => terminal = Some(t),
                Err(e) if !enrolled => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "the configured enrolment code did not work"
                    );
                    first = e
                        .downcast_ref::<EnrolError>()
                        .map_or(EnrolMessage::Invalid, enrolment::message);
                }
                Err(e) => return Err(e),
            }
        }
        let mut technician = Technician::new(cfg, devices.clone(), chrono::Utc::now());
        technician.set_frame_sink(frame_sink_to(TerminalUi::set_technician_frame));
        Ok(App {
            enrolment: Enrolment::new(&cfg.server_url, cfg.role, cfg.language, first),
            cfg: cfg.clone(),
            devices,
            terminal,
            technician,
            answers: mpsc::channel(),
            last_screen: ui::Screen::Attract,
            technician_was_up: false,
        })
    }

    /// Put what is shown on the window (and drop the last self-view
    /// picture once the technician screen closes).
    fn show(&mut self, ui: &TerminalUi, shown: Shown) {
        let up = matches!(shown, Shown::Technician(_));
        if self.technician_was_up && !up {
            ui.clear_technician_frame();
        }
        self.technician_was_up = up;
        match shown {
            Shown::Enrolment(v) => ui.show_enrolment(&v),
            Shown::Technician(v) => ui.show_technician(&v),
            Shown::Terminal(v) => ui.show(&v),
        }
    }

    fn shown_now(&self) -> Shown {
        match &self.terminal {
            Some(t) => shown::over(t, &self.technician, t.view()),
            None => Shown::Enrolment(self.enrolment.view().clone()),
        }
    }

    fn on_technician(&mut self, ui: &TerminalUi, input: ui::TechnicianInput) {
        let Some(term) = &self.terminal else { return };
        self.technician.touch(input, term.view().lang, term.now());
        let shown = self.shown_now();
        self.show(ui, shown);
    }

    fn on_enrol(&mut self, ui: &TerminalUi, input: EnrolInput) {
        if let Some(Effect::Enrol(code)) = self.enrolment.handle(enrolment::Input::Touch(input)) {
            let (cfg, tx) = (self.cfg.clone(), self.answers.0.clone());
            std::thread::spawn(move || {
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| EnrolError::Other(e.to_string()))
                    .and_then(|rt| enrol(&cfg, &code, &rt).map(|_| ()));
                let _ = tx.send(result);
            });
        }
        self.show(ui, Shown::Enrolment(self.enrolment.view().clone()));
    }

    fn on_touch(&mut self, ui: &TerminalUi, input: ui::UiInput) {
        if let Some(term) = &mut self.terminal {
            let view = term.touch(input);
            ui.show(&view);
        }
    }

    /// An enrolment answer: start the terminal, or say why not.
    fn on_answer(&mut self, ui: &TerminalUi, answer: Result<(), EnrolError>) {
        if self.enrolment.handle(enrolment::Input::Done(answer)) != Some(Effect::Enrolled) {
            tracing::warn!(message = ?self.enrolment.view().message, "enrolment failed");
            self.show(ui, Shown::Enrolment(self.enrolment.view().clone()));
            return;
        }
        match start_terminal(&self.cfg, self.devices.clone()) {
            Ok(term) => self.terminal = Some(term),
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "enrolment failed");
                let failed = EnrolError::Unreachable(format!("{e:#}"));
                self.enrolment.handle(enrolment::Input::Done(Err(failed)));
                self.show(ui, Shown::Enrolment(self.enrolment.view().clone()));
            }
        }
    }

    /// Every 250 ms: enrolment answers, then time for the terminal.
    fn tick(&mut self, ui: &TerminalUi) {
        if let Ok(answer) = self.answers.1.try_recv() {
            self.on_answer(ui, answer);
        }
        let Some(term) = &mut self.terminal else {
            return;
        };
        let shown = shown::tick(term, &mut self.technician);
        let screen = match &shown {
            Shown::Terminal(v) => v.screen,
            _ => term.view().screen,
        };
        if screen != ui::Screen::InCall && self.last_screen == ui::Screen::InCall {
            // No call picture outlives its call.
            ui.clear_video();
        }
        self.last_screen = screen;
        self.show(ui, shown);
    }
}

pub fn run(cfg: &Config) -> anyhow::Result<()> {
    let mut notify = crate::notify::Notifier::from_env(std::time::Instant::now());
    let ui = Rc::new(TerminalUi::new()?);
    UI.with(|u| *u.borrow_mut() = Rc::downgrade(&ui));
    let app = Rc::new(RefCell::new(App::new(cfg)?));
    let shown = app.borrow().shown_now();
    app.borrow_mut().show(&ui, shown);
    // Each callback hands its touch to the app, with the window.
    let (ui2, a) = (Rc::downgrade(&ui), app.clone());
    ui.on_technician_input(move |i| {
        if let Some(ui) = ui2.upgrade() {
            a.borrow_mut().on_technician(&ui, i);
        }
    });
    let (ui2, a) = (Rc::downgrade(&ui), app.clone());
    ui.on_enrol_input(move |i| {
        if let Some(ui) = ui2.upgrade() {
            a.borrow_mut().on_enrol(&ui, i);
        }
    });
    let (ui2, a) = (Rc::downgrade(&ui), app.clone());
    ui.on_input(move |i| {
        if let Some(ui) = ui2.upgrade() {
            a.borrow_mut().on_touch(&ui, i);
        }
    });
    let timer = slint::Timer::default();
    let (ui2, a) = (Rc::downgrade(&ui), app.clone());
    // The linuxkms backend presents a frame before it runs timers, so the
    // first tick comes after the first frame is on screen.
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(250),
        move || {
            notify.tick();
            if let Some(ui) = ui2.upgrade() {
                a.borrow_mut().tick(&ui);
            }
        },
    );
    ui.run()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_rows_from_gstreamer_become_a_tight_slint_picture() {
        // 3x2 RGB with rows padded to 12 bytes, as GStreamer aligns them.
        let mut bytes = vec![0u8; 24];
        for row in 0..2 {
            for x in 0..9 {
                bytes[row * 12 + x] = (row * 9 + x) as u8 + 1;
            }
        }
        let frame = Frame::new(0, 3, 2, 12, bytes);
        let p = pixels(&frame);
        assert_eq!((p.width(), p.height()), (3, 2));
        assert_eq!(p.as_bytes(), (1..=18).collect::<Vec<u8>>().as_slice());
    }
}
