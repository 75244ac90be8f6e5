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

use protocol::TerminalRole;
use ui::{EnrolInput, EnrolMessage, EnrolView, TerminalUi};

use crate::call::{Frame, FrameSink, Screens};
use crate::config::Config;
use crate::identity;
use crate::technician::Technician;
use crate::terminal::{EnrolError, Terminal, enrol};

fn enrol_message(e: &EnrolError) -> EnrolMessage {
    match e {
        EnrolError::Invalid => EnrolMessage::Invalid,
        EnrolError::Expired => EnrolMessage::Expired,
        EnrolError::Unreachable(_) => EnrolMessage::Unreachable,
        EnrolError::WrongRole(..) => EnrolMessage::WrongRole,
        EnrolError::Other(_) => EnrolMessage::Unreachable,
    }
}

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

fn start_terminal(cfg: &Config) -> anyhow::Result<Terminal> {
    let mut t = Terminal::start(cfg)?;
    t.set_screens(Screens {
        remote: Some(frame_sink(true)),
        own: Some(frame_sink(false)),
    });
    Ok(t)
}

pub fn run(cfg: &Config) -> anyhow::Result<()> {
    let mut notify = crate::notify::Notifier::from_env(std::time::Instant::now());
    let ui = Rc::new(TerminalUi::new()?);
    UI.with(|u| *u.borrow_mut() = Rc::downgrade(&ui));
    let terminal: Rc<RefCell<Option<Terminal>>> = Rc::new(RefCell::new(None));
    let enrolled = identity::load(&cfg.data_dir)?.is_some();
    let mut first_message = EnrolMessage::None;
    if enrolled || cfg.enrolment_code.is_some() {
        match start_terminal(cfg) {
            Ok(t) => *terminal.borrow_mut() = Some(t),
            Err(e) if !enrolled => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "the configured enrolment code did not work"
                );
                first_message = e
                    .downcast_ref::<EnrolError>()
                    .map_or(EnrolMessage::Invalid, enrol_message);
            }
            Err(e) => return Err(e),
        }
    }

    let enrol_view = Rc::new(RefCell::new(EnrolView {
        code: String::new(),
        server_url: cfg.server_url.clone(),
        role_label: match cfg.role {
            TerminalRole::Lobby => "Lobby terminal".into(),
            TerminalRole::Unit => "Housing-unit terminal".into(),
        },
        message: first_message,
        lang: cfg.language,
    }));
    match terminal.borrow().as_ref() {
        Some(t) => ui.show(&t.view()),
        None => ui.show_enrolment(&enrol_view.borrow()),
    }

    // The technician screen, over whatever the terminal shows.
    let technician = Rc::new(RefCell::new(Technician::new(cfg, chrono::Utc::now())));
    technician
        .borrow_mut()
        .set_frame_sink(frame_sink_to(TerminalUi::set_technician_frame));
    {
        let (ui2, t, tech) = (Rc::downgrade(&ui), terminal.clone(), technician.clone());
        ui.on_technician_input(move |input| {
            let Some(ui) = ui2.upgrade() else { return };
            let term = t.borrow();
            let Some(term) = term.as_ref() else { return };
            let mut tech = tech.borrow_mut();
            let now = term.now();
            tech.touch(input, term.view().lang, now);
            show_technician_or_terminal(&ui, &tech, term, now);
        });
    }

    let (done_tx, done_rx) = mpsc::channel::<Result<(), EnrolError>>();
    {
        let (ui2, view, cfg) = (Rc::downgrade(&ui), enrol_view.clone(), cfg.clone());
        ui.on_enrol_input(move |input| {
            let mut v = view.borrow_mut();
            if v.message == EnrolMessage::Working {
                return;
            }
            match input {
                EnrolInput::Digit(d) if d <= 9 && v.code.len() < 12 => {
                    v.code.push(char::from(b'0' + d));
                    v.message = EnrolMessage::None;
                }
                EnrolInput::Backspace => {
                    v.code.pop();
                }
                EnrolInput::Submit if v.code.len() == 12 => {
                    v.message = EnrolMessage::Working;
                    let (cfg, code, tx) = (cfg.clone(), v.code.clone(), done_tx.clone());
                    std::thread::spawn(move || {
                        let result = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .map_err(|e| EnrolError::Other(e.to_string()))
                            .and_then(|rt| enrol(&cfg, &code, &rt).map(|_| ()));
                        let _ = tx.send(result);
                    });
                }
                _ => {}
            }
            if let Some(ui) = ui2.upgrade() {
                ui.show_enrolment(&v);
            }
        });
    }
    {
        let (ui2, t) = (Rc::downgrade(&ui), terminal.clone());
        ui.on_input(move |input| {
            if let Some(term) = t.borrow_mut().as_mut() {
                let view = term.touch(input);
                if let Some(ui) = ui2.upgrade() {
                    ui.show(&view);
                }
            }
        });
    }
    let timer = slint::Timer::default();
    {
        let (ui2, t, view, cfg, tech) = (
            Rc::downgrade(&ui),
            terminal.clone(),
            enrol_view.clone(),
            cfg.clone(),
            technician.clone(),
        );
        let last_screen = std::cell::Cell::new(ui::Screen::Attract);
        timer.start(
            slint::TimerMode::Repeated,
            Duration::from_millis(250),
            move || {
                // The linuxkms backend presents a frame before it runs timers,
                // so the first tick comes after the first frame is on screen.
                notify.tick();
                let Some(ui) = ui2.upgrade() else { return };
                if let Ok(result) = done_rx.try_recv() {
                    let mut v = view.borrow_mut();
                    match result
                        .map_err(|e| (enrol_message(&e), anyhow::Error::from(e)))
                        .and_then(|()| {
                            start_terminal(&cfg).map_err(|e| (EnrolMessage::Unreachable, e))
                        }) {
                        Ok(term) => *t.borrow_mut() = Some(term),
                        Err((message, e)) => {
                            tracing::warn!(error = format!("{e:#}"), "enrolment failed");
                            v.message = message;
                            v.code.clear();
                            ui.show_enrolment(&v);
                        }
                    }
                }
                if let Some(term) = t.borrow_mut().as_mut() {
                    let v = term.tick();
                    if v.screen != ui::Screen::InCall
                        && last_screen.replace(v.screen) == ui::Screen::InCall
                    {
                        // No call picture outlives its call.
                        ui.clear_video();
                    }
                    last_screen.set(v.screen);
                    let mut tech = tech.borrow_mut();
                    if tech.showing() {
                        tech.tick(term.now());
                        show_technician_or_terminal(&ui, &tech, term, term.now());
                    } else {
                        ui.show(&v);
                    }
                }
            },
        );
    }
    ui.run()?;
    Ok(())
}

/// The technician screen while it is up, else the terminal's (and the
/// last self-view picture dropped once the camera is off).
fn show_technician_or_terminal(
    ui: &TerminalUi,
    tech: &Technician,
    term: &Terminal,
    now: chrono::DateTime<chrono::Utc>,
) {
    if tech.showing() {
        ui.show_technician(&tech.view(&term.technician_facts(), now));
    } else {
        ui.clear_technician_frame();
        ui.show(&term.view());
    }
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
