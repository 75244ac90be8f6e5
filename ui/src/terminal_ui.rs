//! [`TerminalUi`]: the window, and which part of a view goes to which
//! global. What the whole window shares (the screen, the language, the
//! status bar) it writes itself, into `TerminalApi`; each family of screens
//! has a module that writes its own global and turns its callbacks into
//! inputs: [`crate::checkin_ui`] (`CheckinApi`), [`crate::call_ui`]
//! (`CallApi`), [`crate::enrol_ui`] (`EnrolApi`), [`crate::technician_ui`]
//! (`TechnicianApi`) and [`crate::unit_ui`] (`UnitApi`).

use std::rc::Rc;

use slint::ComponentHandle;
use slint::{Rgb8Pixel, SharedPixelBuffer};

use crate::call_ui::CallUi;
use crate::view::{
    EnrolInput, EnrolView, Lang, Screen, TechnicianInput, TechnicianScreen, TechnicianView,
    TerminalView, UiInput,
};
use crate::{ScreenId, TerminalApi, TerminalWindow};
use crate::{checkin_ui, enrol_ui, technician_ui, unit_ui};

/// The lobby window. Create it on the thread that runs the Slint event loop;
/// other threads reach it through `slint::Weak::upgrade_in_event_loop` on
/// [`TerminalUi::component`]`().as_weak()`.
pub struct TerminalUi {
    window: TerminalWindow,
    /// The call screens' pictures.
    call: CallUi,
}

impl TerminalUi {
    /// Creates the window (not yet shown) with the platform Slint selects,
    /// or the one set with `slint::platform::set_platform`.
    pub fn new() -> Result<Self, slint::PlatformError> {
        let window = TerminalWindow::new()?;
        let call = CallUi::new(&window);
        Ok(Self { window, call })
    }

    /// Shows `v`: sets the window's, the check-in's, the call's and the
    /// housing unit's globals and selects the language. Unchanged values
    /// cost nothing, so calling this on every clock tick is fine.
    pub fn show(&self, v: &TerminalView) {
        let api = self.window.global::<TerminalApi>();
        api.set_screen(match v.screen {
            Screen::Attract => ScreenId::Attract,
            Screen::PinEntry => ScreenId::PinEntry,
            Screen::Result => ScreenId::Result,
            Screen::Waiting => ScreenId::Waiting,
            Screen::InCall => ScreenId::InCall,
            Screen::CallEnded => ScreenId::CallEnded,
            Screen::UnitSignIn => ScreenId::UnitSignIn,
            Screen::UnitVisits => ScreenId::UnitVisits,
        });
        api.set_facility_name(v.facility_name.as_str().into());
        api.set_clock(v.clock.as_str().into());
        api.set_offline(v.offline);
        checkin_ui::show(&self.window, v);
        self.call.show(&self.window, &v.call);
        unit_ui::show(&self.window, &v.unit, &v.message);
        self.select_language(v.lang);
    }

    /// Shows `frame` as the other side's picture on the in-call screen,
    /// scaled to fit. Call it on the event loop's thread (from another, via
    /// `upgrade_in_event_loop`), once per decoded frame. The buffer is
    /// reference-counted, not copied; the window redraws with the new frame
    /// on its next repaint.
    pub fn set_remote_frame(&self, frame: SharedPixelBuffer<Rgb8Pixel>) {
        self.call.set_remote_frame(&self.window, frame);
    }

    /// Shows `frame` as remote picture `tile` (0 first) when several are
    /// tiled; tile 0 is also the one full-screen picture.
    pub fn set_tile_frame(&self, tile: usize, frame: SharedPixelBuffer<Rgb8Pixel>) {
        self.call.set_tile_frame(&self.window, tile, frame);
    }

    /// Shows `frame` as the visitor's own picture, small in a corner.
    pub fn set_self_frame(&self, frame: SharedPixelBuffer<Rgb8Pixel>) {
        self.call.set_self_frame(&self.window, frame);
    }

    /// Drops both pictures: the in-call screen shows dark placeholders until
    /// the next frames. Call it when a call ends, so the next call never
    /// starts with the last one's picture.
    pub fn clear_video(&self) {
        self.call.clear_video(&self.window);
    }

    /// Shows the technician's enrolment screen for `v`, in `v.lang`. The
    /// lobby's own globals are left alone, so a later [`TerminalUi::show`]
    /// brings the lobby back as it was.
    pub fn show_enrolment(&self, v: &EnrolView) {
        let api = self.window.global::<TerminalApi>();
        api.set_screen(ScreenId::Enrolment);
        enrol_ui::show(&self.window, v);
        self.select_language(v.lang);
    }

    /// Shows a technician screen for `v`, in `v.lang`. Like the enrolment
    /// screen, it leaves the lobby's globals alone: a later
    /// [`TerminalUi::show`] brings the lobby back as it was.
    pub fn show_technician(&self, v: &TechnicianView) {
        let api = self.window.global::<TerminalApi>();
        api.set_screen(match v.screen {
            TechnicianScreen::Pin => ScreenId::TechnicianPin,
            TechnicianScreen::Diagnostics => ScreenId::Technician,
        });
        technician_ui::show(&self.window, v);
        self.select_language(v.lang);
    }

    /// Shows `frame` as the technician's live self-view.
    pub fn set_technician_frame(&self, frame: SharedPixelBuffer<Rgb8Pixel>) {
        technician_ui::set_frame(&self.window, frame);
    }

    /// Drops the self-view picture (the camera was stopped).
    pub fn clear_technician_frame(&self) {
        technician_ui::clear_frame(&self.window);
    }

    /// Calls `f` for every touch on the technician screens and on the
    /// hidden corner of the attract and unit sign-in screens; kept apart
    /// from the visitors' input.
    pub fn on_technician_input(&self, f: impl Fn(TechnicianInput) + 'static) {
        technician_ui::on_input(&self.window, Rc::new(f));
    }

    fn select_language(&self, lang: Lang) {
        let code = match lang {
            Lang::En => "en",
            Lang::Es => "es",
        };
        self.window
            .global::<TerminalApi>()
            .set_language(code.into());
        // English is the source language ("" selects the original strings).
        // This fails only if the Spanish catalogue was not bundled, which
        // the screenshot test catches; the UI then stays in English.
        let _ = slint::select_bundled_translation(if lang == Lang::En { "" } else { code });
    }

    /// Calls `f` for every touch that means something: the language buttons
    /// here, the rest through the check-in's, the call's and the housing
    /// unit's globals.
    pub fn on_input(&self, f: impl Fn(UiInput) + 'static) {
        let f: Rc<dyn Fn(UiInput)> = Rc::new(f);
        let g = f.clone();
        self.window
            .global::<TerminalApi>()
            .on_set_language(move |code| {
                g(UiInput::Language(if code == "es" {
                    Lang::Es
                } else {
                    Lang::En
                }))
            });
        checkin_ui::on_input(&self.window, f.clone());
        crate::call_ui::on_input(&self.window, f.clone());
        unit_ui::on_input(&self.window, f);
    }

    /// Calls `f` for every key pressed on the enrolment screen. Kept apart
    /// from [`TerminalUi::on_input`] so that a technician's digit can never
    /// reach the check-in state machine, nor a visitor's the enrolment.
    pub fn on_enrol_input(&self, f: impl Fn(EnrolInput) + 'static) {
        enrol_ui::on_input(&self.window, Rc::new(f));
    }

    /// The Slint window, e.g. to set its size or take a snapshot.
    pub fn window(&self) -> &slint::Window {
        self.window.window()
    }

    /// The generated component, for `as_weak()` and UI tests.
    pub fn component(&self) -> &TerminalWindow {
        &self.window
    }

    /// Shows the window and runs the Slint event loop until it quits.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        self.window.run()
    }
}

/// A pad key's digit: the pads only have keys 0-9, so anything else would
/// be a .slint bug and is dropped.
pub(crate) fn key_digit(d: i32) -> Option<u8> {
    u8::try_from(d).ok().filter(|d| *d <= 9)
}
