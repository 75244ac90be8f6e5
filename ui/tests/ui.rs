//! The lobby UI driven through its accessibility tree with Slint's headless
//! testing backend: what a touch or a screen reader does, and what reaches
//! the state machine.
//!
//! Each test runs on its own thread, and `init_no_event_loop` gives each
//! thread its own Slint platform, so the tests do not share a window.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot as _};
use ui::screenshots::{sample_enrol_views, sample_technician_views, sample_views};
use ui::{
    CallEnd, CallView, EnrolInput, EnrolMessage, EnrolView, JoinState, Lang, Message, PeerNotice,
    Quality, Screen, SignInStep, StatusText, TechnicianInput, TechnicianMessage, TechnicianScreen,
    TechnicianView, TerminalUi, TerminalView, UiInput, UnitStatus, UnitView, UnitVisit,
};

/// A lobby showing `view`, and the inputs it reported, lobby and enrolment
/// apart.
struct Lobby {
    ui: TerminalUi,
    inputs: Rc<RefCell<Vec<UiInput>>>,
    enrol_inputs: Rc<RefCell<Vec<EnrolInput>>>,
}

impl Lobby {
    fn new(view: &TerminalView) -> Self {
        i_slint_backend_testing::init_no_event_loop();
        let ui = TerminalUi::new().expect("the lobby window opens on the testing backend");
        let inputs = Rc::new(RefCell::new(Vec::new()));
        let sink = inputs.clone();
        ui.on_input(move |input| sink.borrow_mut().push(input));
        let enrol_inputs = Rc::new(RefCell::new(Vec::new()));
        let sink = enrol_inputs.clone();
        ui.on_enrol_input(move |input| sink.borrow_mut().push(input));
        ui.show(view);
        Self {
            ui,
            inputs,
            enrol_inputs,
        }
    }

    /// A lobby showing the enrolment screen for `view`.
    fn enrolling(view: &EnrolView) -> Self {
        let lobby = Self::new(&TerminalView::default());
        lobby.ui.show_enrolment(view);
        lobby
    }

    /// The one button labelled `label` (the text inside a button carries
    /// the same label, hence the role filter).
    fn button(&self, label: &str) -> ElementHandle {
        let mut found: Vec<_> = ElementHandle::find_by_accessible_label(self.ui.component(), label)
            .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .collect();
        assert_eq!(found.len(), 1, "one button labelled {label:?}");
        found.pop().unwrap()
    }

    fn press(&self, label: &str) {
        self.button(label).invoke_accessible_default_action();
    }

    fn buttons(&self) -> Vec<ElementHandle> {
        self.ui
            .component()
            .root_element()
            .query_descendants()
            .match_accessible_role(AccessibleRole::Button)
            .find_all()
    }

    /// Whether some element, e.g. a Text, is labelled `label`.
    fn shows(&self, label: &str) -> bool {
        ElementHandle::find_by_accessible_label(self.ui.component(), label)
            .next()
            .is_some()
    }

    fn take_inputs(&self) -> Vec<UiInput> {
        std::mem::take(&mut self.inputs.borrow_mut())
    }

    fn take_enrol_inputs(&self) -> Vec<EnrolInput> {
        std::mem::take(&mut self.enrol_inputs.borrow_mut())
    }

    /// Every button has a non-empty label, and every TouchArea belongs to
    /// one of them.
    fn assert_touch_targets_labelled(&self, what: &str) {
        let buttons = self.buttons();
        assert!(!buttons.is_empty(), "{what}: no buttons");
        for b in &buttons {
            let label = b.accessible_label().unwrap_or_default();
            assert!(!label.trim().is_empty(), "{what}: a button without a label");
        }
        let touch_areas = self
            .ui
            .component()
            .root_element()
            .query_descendants()
            .match_type_name("TouchArea")
            .find_all();
        assert_eq!(touch_areas.len(), buttons.len(), "{what}");
    }
}

fn enrol_view(code: &str, message: EnrolMessage) -> EnrolView {
    EnrolView {
        code: code.into(),
        server_url: "https://visits.jail.example".into(),
        role_label: "Lobby terminal".into(),
        message,
        lang: Lang::En,
    }
}

fn view(screen: Screen, message: Message) -> TerminalView {
    TerminalView {
        screen,
        facility_name: "Jackson County Jail".into(),
        clock: "10:29".into(),
        message,
        ..TerminalView::default()
    }
}

/// A call screen with J. S., 10:30 to 11:00.
fn call_view(screen: Screen, call: CallView) -> TerminalView {
    TerminalView {
        call: CallView {
            peer: "J. S.".into(),
            starts_at: "10:30".into(),
            ends_at: "11:00".into(),
            ..call
        },
        ..view(screen, Message::None)
    }
}

#[test]
fn pin_pad_keys_report_digits_delete_submit_and_cancel() {
    let lobby = Lobby::new(&TerminalView {
        digits_entered: 3,
        ..view(Screen::PinEntry, Message::None)
    });
    for d in [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 0] {
        lobby.press(&d.to_string());
    }
    lobby.press("Delete");
    lobby.press("Check in");
    lobby.press("Cancel");

    let mut expected: Vec<_> = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 0].map(UiInput::Digit).into();
    expected.extend([UiInput::Backspace, UiInput::Submit, UiInput::Cancel]);
    assert_eq!(lobby.take_inputs(), expected);
    assert!(lobby.shows("3 of 6 digits entered"));
}

#[test]
fn attract_screen_starts_and_switches_language() {
    let lobby = Lobby::new(&view(Screen::Attract, Message::None));
    lobby.press("Touch to start");
    lobby.press("Español");
    lobby.press("English");
    assert_eq!(
        lobby.take_inputs(),
        [
            UiInput::TouchStart,
            UiInput::Language(Lang::Es),
            UiInput::Language(Lang::En)
        ]
    );
    assert_eq!(lobby.button("English").accessible_checked(), Some(true));
    assert_eq!(lobby.button("Español").accessible_checked(), Some(false));
}

#[test]
fn done_on_a_result_goes_back() {
    let lobby = Lobby::new(&view(
        Screen::Result,
        Message::CheckedIn {
            person: "J. S.".into(),
            status: StatusText::Ready,
        },
    ));
    assert!(lobby.shows("Checked in. Waiting for J. S. to join."));
    lobby.press("Done");
    assert_eq!(lobby.take_inputs(), [UiInput::Cancel]);
}

#[test]
fn a_lockout_disables_every_key_but_cancel() {
    let lobby = Lobby::new(&view(
        Screen::PinEntry,
        Message::Locked { seconds_left: 45 },
    ));
    for label in ["5", "0", "Delete", "Check in"] {
        assert_eq!(
            lobby.button(label).accessible_enabled(),
            Some(false),
            "{label}"
        );
        lobby.press(label);
    }
    assert_eq!(lobby.take_inputs(), []);
    lobby.press("Cancel");
    assert_eq!(lobby.take_inputs(), [UiInput::Cancel]);
}

#[test]
fn a_wrong_pin_says_how_many_attempts_are_left() {
    let lobby = Lobby::new(&view(
        Screen::PinEntry,
        Message::NotRecognized { attempts_left: 2 },
    ));
    assert!(lobby.shows("PIN not recognized. 2 attempts left."));
    lobby.ui.show(&view(
        Screen::PinEntry,
        Message::NotRecognized { attempts_left: 1 },
    ));
    assert!(lobby.shows("PIN not recognized. 1 attempt left."));
    // Keys stay usable after a wrong PIN.
    lobby.press("7");
    assert_eq!(lobby.take_inputs(), [UiInput::Digit(7)]);
}

#[test]
fn spanish_relabels_the_keys() {
    let lobby = Lobby::new(&TerminalView {
        lang: Lang::Es,
        ..view(Screen::PinEntry, Message::None)
    });
    lobby.press("Borrar");
    lobby.press("Aceptar");
    lobby.press("Cancelar");
    assert_eq!(
        lobby.take_inputs(),
        [UiInput::Backspace, UiInput::Submit, UiInput::Cancel]
    );
    assert!(lobby.shows("Escriba su PIN"));
}

#[test]
fn offline_mark_shows_on_every_screen() {
    let lobby = Lobby::new(&view(Screen::Attract, Message::None));
    assert!(!lobby.shows("Offline"));
    for (name, v) in sample_views() {
        lobby.ui.show(&TerminalView { offline: true, ..v });
        assert!(lobby.shows("Offline"), "{name}");
    }
}

#[test]
fn every_touch_target_has_a_label() {
    let lobby = Lobby::new(&TerminalView::default());
    for lang in [Lang::En, Lang::Es] {
        for (name, v) in sample_views() {
            lobby.ui.show(&TerminalView { lang, ..v });
            lobby.assert_touch_targets_labelled(&format!("{name} ({lang:?})"));
        }
        for (name, v) in sample_enrol_views() {
            lobby.ui.show_enrolment(&EnrolView { lang, ..v });
            lobby.assert_touch_targets_labelled(&format!("{name} ({lang:?})"));
        }
    }
}

#[test]
fn enrolment_keys_report_to_their_own_closure() {
    let lobby = Lobby::enrolling(&enrol_view("482109375561", EnrolMessage::None));
    let digits = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 0];
    for d in digits {
        lobby.press(&d.to_string());
    }
    lobby.press("Delete");
    lobby.press("Enrol");

    let mut expected: Vec<_> = digits.map(EnrolInput::Digit).into();
    expected.extend([EnrolInput::Backspace, EnrolInput::Submit]);
    assert_eq!(lobby.take_enrol_inputs(), expected);
    assert_eq!(lobby.take_inputs(), [], "nothing reached the check-in");
}

#[test]
fn enrolment_shows_the_code_in_groups_of_four() {
    let lobby = Lobby::enrolling(&enrol_view("482109", EnrolMessage::None));
    let code =
        ElementHandle::find_by_accessible_label(lobby.ui.component(), "6 of 12 digits entered")
            .next()
            .expect("the code says how far along it is");
    assert_eq!(code.accessible_value().as_deref(), Some("4821 09__ ____"));
    assert!(lobby.shows("Set up this terminal"));
    assert!(lobby.shows("Lobby terminal"));
    assert!(lobby.shows("Server: https://visits.jail.example"));
}

#[test]
fn enrol_is_enabled_only_with_twelve_digits() {
    let lobby = Lobby::enrolling(&enrol_view("48210937556", EnrolMessage::None));
    assert_eq!(lobby.button("Enrol").accessible_enabled(), Some(false));
    lobby.press("Enrol");
    assert_eq!(lobby.take_enrol_inputs(), []);

    lobby
        .ui
        .show_enrolment(&enrol_view("482109375561", EnrolMessage::None));
    assert_eq!(lobby.button("Enrol").accessible_enabled(), Some(true));
    lobby.press("Enrol");
    assert_eq!(lobby.take_enrol_inputs(), [EnrolInput::Submit]);
}

#[test]
fn while_enrolling_every_key_is_disabled() {
    let lobby = Lobby::enrolling(&enrol_view("482109375561", EnrolMessage::Working));
    assert!(lobby.shows("Enrolling…"));
    for label in ["1", "0", "Delete", "Enrol"] {
        assert_eq!(
            lobby.button(label).accessible_enabled(),
            Some(false),
            "{label}"
        );
        lobby.press(label);
    }
    assert_eq!(lobby.take_enrol_inputs(), []);
}

#[test]
fn enrolment_explains_each_failure() {
    let lobby = Lobby::enrolling(&enrol_view("482109375561", EnrolMessage::None));
    for (message, text) in [
        (
            EnrolMessage::Invalid,
            "This code is not valid. Check it, or ask for a new one.",
        ),
        (
            EnrolMessage::Expired,
            "This code has expired. Ask the administrator for a new one.",
        ),
        (
            EnrolMessage::Unreachable,
            "Cannot reach the server. Check the network cable and try again.",
        ),
        (
            EnrolMessage::WrongRole,
            "This code is for another kind of terminal.",
        ),
    ] {
        lobby
            .ui
            .show_enrolment(&enrol_view("482109375561", message));
        assert!(lobby.shows(text), "{message:?}");
        // A failed attempt leaves the keys usable.
        assert_eq!(lobby.button("Enrol").accessible_enabled(), Some(true));
    }
    lobby.ui.show_enrolment(&EnrolView {
        lang: Lang::Es,
        ..enrol_view("482109375561", EnrolMessage::Invalid)
    });
    assert!(lobby.shows("Este código no es válido. Revíselo o pida uno nuevo."));
    lobby.press("Aceptar");
    assert_eq!(lobby.take_enrol_inputs(), [EnrolInput::Submit]);
}

#[test]
fn showing_the_lobby_after_enrolment_switches_back() {
    let lobby = Lobby::enrolling(&enrol_view("4821", EnrolMessage::None));
    lobby.ui.show(&view(Screen::PinEntry, Message::None));
    assert!(!lobby.shows("Set up this terminal"));
    assert!(lobby.shows("Enter your PIN"));
    lobby.press("3");
    lobby.press("Check in");
    assert_eq!(lobby.take_inputs(), [UiInput::Digit(3), UiInput::Submit]);
    assert_eq!(lobby.take_enrol_inputs(), []);
}

#[test]
fn join_is_offered_only_once_the_visit_may_start() {
    let lobby = Lobby::new(&call_view(
        Screen::Waiting,
        CallView {
            status: Some(StatusText::Pending),
            ..CallView::default()
        },
    ));
    assert!(lobby.shows("Your visit with J. S."));
    assert!(lobby.shows("10:30 – 11:00"));
    assert!(lobby.shows("Visit status: Pending"));
    assert_eq!(lobby.button("Join").accessible_enabled(), Some(false));
    lobby.press("Join");
    assert_eq!(lobby.take_inputs(), [], "a disabled Join sends nothing");

    lobby.ui.show(&call_view(
        Screen::Waiting,
        CallView {
            status: Some(StatusText::Ready),
            can_join: true,
            ..CallView::default()
        },
    ));
    assert!(lobby.shows("Visit status: Ready"));
    assert_eq!(lobby.button("Join").accessible_enabled(), Some(true));
    lobby.press("Join");
    lobby.press("Cancel");
    assert_eq!(lobby.take_inputs(), [UiInput::Join, UiInput::Cancel]);
}

#[test]
fn waiting_says_connecting_once_joined() {
    let lobby = Lobby::new(&call_view(
        Screen::Waiting,
        CallView {
            status: Some(StatusText::Ready),
            can_join: true,
            connecting: true,
            ..CallView::default()
        },
    ));
    let button = lobby.button("Connecting…");
    assert_eq!(button.accessible_enabled(), Some(false), "no second join");
    button.invoke_accessible_default_action();
    assert_eq!(lobby.take_inputs(), []);
}

#[test]
fn the_red_x_asks_before_ending_the_visit() {
    let talking = CallView {
        minutes_left: 23,
        ..CallView::default()
    };
    let lobby = Lobby::new(&call_view(Screen::InCall, talking.clone()));
    assert!(lobby.shows("J. S."));
    assert!(lobby.shows("23 min left"));
    assert!(lobby.shows("Connection: good"));
    // A big target: a shaking hand must not miss it.
    let x = lobby.button("End visit");
    assert!(x.size().width >= 88.0 && x.size().height >= 88.0);
    x.invoke_accessible_default_action();
    assert_eq!(lobby.take_inputs(), [UiInput::EndCall]);

    lobby.ui.show(&call_view(
        Screen::InCall,
        CallView {
            confirm_end: true,
            ..talking
        },
    ));
    assert!(lobby.shows("End the visit?"));
    // The question's "End visit" is the only one: the X is gone under it.
    lobby.press("Keep talking");
    lobby.press("End visit");
    assert_eq!(
        lobby.take_inputs(),
        [UiInput::KeepCall, UiInput::ConfirmEnd]
    );
}

#[test]
fn the_call_warns_before_time_runs_out() {
    let lobby = Lobby::new(&call_view(
        Screen::InCall,
        CallView {
            minutes_left: 5,
            warning: Some(5),
            quality: Quality::Fair,
            ..CallView::default()
        },
    ));
    assert!(lobby.shows("5 minutes left"));
    assert!(lobby.shows("Connection: fair"));
    lobby.ui.show(&call_view(
        Screen::InCall,
        CallView {
            minutes_left: 1,
            warning: Some(1),
            quality: Quality::Reconnecting,
            peer_notice: Some(PeerNotice::CameraUnavailable),
            ..CallView::default()
        },
    ));
    assert!(lobby.shows("1 minute left"));
    assert!(lobby.shows("1 min left"));
    assert!(lobby.shows("Reconnecting…"));
    assert!(lobby.shows("Their camera is not available."));
    assert!(!lobby.shows("5 minutes left"));
}

#[test]
fn the_ended_screen_says_why_and_done_goes_back() {
    let ended = |end| {
        call_view(
            Screen::CallEnded,
            CallView {
                ended: Some(end),
                ..CallView::default()
            },
        )
    };
    let lobby = Lobby::new(&ended(CallEnd::TimeUp));
    assert!(lobby.shows("Visit ended. Time is up."));
    lobby.press("Done");
    assert_eq!(lobby.take_inputs(), [UiInput::Cancel]);

    for (end, text) in [
        (
            CallEnd::ByStaff {
                reason: "count time.".into(),
            },
            "Visit ended by staff: count time.",
        ),
        (
            CallEnd::ByStaff {
                reason: String::new(),
            },
            "Visit ended by staff.",
        ),
        (CallEnd::HungUpHere, "You ended the visit."),
        (CallEnd::HungUpOther, "J. S. ended the visit."),
        (CallEnd::Failed, "The visit could not continue."),
    ] {
        lobby.ui.show(&ended(end.clone()));
        assert!(lobby.shows(text), "{end:?}");
    }
}

#[test]
fn the_call_screens_speak_spanish() {
    let lobby = Lobby::new(&TerminalView {
        lang: Lang::Es,
        ..call_view(
            Screen::InCall,
            CallView {
                minutes_left: 5,
                warning: Some(5),
                ..CallView::default()
            },
        )
    });
    assert!(lobby.shows("Quedan 5 minutos"));
    assert!(lobby.shows("Quedan 5 min"));
    lobby.press("Terminar visita");
    assert_eq!(lobby.take_inputs(), [UiInput::EndCall]);

    lobby.ui.show(&TerminalView {
        lang: Lang::Es,
        ..call_view(
            Screen::Waiting,
            CallView {
                status: Some(StatusText::Ready),
                can_join: true,
                ..CallView::default()
            },
        )
    });
    assert!(lobby.shows("Su visita con J. S."));
    lobby.press("Entrar");
    assert_eq!(lobby.take_inputs(), [UiInput::Join]);

    lobby.ui.show(&TerminalView {
        lang: Lang::Es,
        ..call_view(
            Screen::CallEnded,
            CallView {
                ended: Some(CallEnd::HungUpOther),
                ..CallView::default()
            },
        )
    });
    assert!(lobby.shows("J. S. terminó la visita."));
    lobby.press("Listo");
    assert_eq!(lobby.take_inputs(), [UiInput::Cancel]);
}

/// Every `@tr("...")` in the .slint sources has a Spanish entry; a missing
/// one would silently show English on the Spanish screens.
#[test]
fn every_string_has_a_spanish_translation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let po = std::fs::read_to_string(dir.join("translations/es/LC_MESSAGES/ui.po")).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.join("ui")).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        for (at, tr) in source.match_indices("@tr(\"") {
            let rest = &source[at + tr.len()..];
            let msgid = &rest[..rest.find('"').unwrap()];
            let msgid = msgid.replace("\\u{a0}", "\u{a0}");
            let entry = format!("msgid \"{msgid}\"\n");
            let at = po
                .find(&entry)
                .unwrap_or_else(|| panic!("{}: no msgid {msgid:?}", path.display()));
            let translated = po[at + entry.len()..]
                .lines()
                .find(|l| l.starts_with("msgstr"))
                .unwrap();
            assert!(!translated.ends_with("\"\""), "{msgid:?} is not translated");
            checked += 1;
        }
    }
    assert!(checked > 20, "found only {checked} strings");
}

/// A lobby whose technician touches are collected.
fn with_technician(lobby: &Lobby) -> Rc<RefCell<Vec<TechnicianInput>>> {
    let got = Rc::new(RefCell::new(Vec::new()));
    let sink = got.clone();
    lobby
        .ui
        .on_technician_input(move |input| sink.borrow_mut().push(input));
    got
}

fn technician_view(screen: TechnicianScreen) -> TechnicianView {
    let (_, view, _) = sample_technician_views()
        .into_iter()
        .find(|(name, ..)| *name == "technician")
        .unwrap();
    TechnicianView { screen, ..view }
}

#[test]
fn the_attract_screens_corner_reaches_the_technician_not_the_check_in() {
    let lobby = Lobby::new(&view(Screen::Attract, Message::None));
    let tech = with_technician(&lobby);
    for _ in 0..5 {
        lobby.press("Technician");
    }
    assert_eq!(*tech.borrow(), vec![TechnicianInput::CornerTap; 5]);
    assert!(lobby.take_inputs().is_empty(), "no check-in started");
    lobby.assert_touch_targets_labelled("attract with the corner");
}

#[test]
fn the_technician_pin_prompt_opens_with_four_digits_and_says_when_wrong() {
    let lobby = Lobby::new(&view(Screen::Attract, Message::None));
    let tech = with_technician(&lobby);
    let pin = |digits, message| TechnicianView {
        screen: TechnicianScreen::Pin,
        digits_entered: digits,
        message,
        ..TechnicianView::default()
    };
    lobby.ui.show_technician(&pin(3, TechnicianMessage::None));
    assert!(!lobby.button("Open").accessible_enabled().unwrap());
    lobby.press("4");
    lobby.press("Delete");
    lobby.ui.show_technician(&pin(4, TechnicianMessage::None));
    assert!(lobby.shows("4 digits entered"));
    lobby.press("Open");
    lobby.press("Cancel");
    assert_eq!(
        *tech.borrow(),
        vec![
            TechnicianInput::Digit(4),
            TechnicianInput::Backspace,
            TechnicianInput::Submit,
            TechnicianInput::Cancel
        ]
    );
    assert!(
        lobby.take_inputs().is_empty(),
        "no digit reached the visitors' pad"
    );

    lobby
        .ui
        .show_technician(&pin(0, TechnicianMessage::WrongPin { attempts_left: 4 }));
    assert!(lobby.shows("Wrong PIN. 4 attempts left."));
    lobby
        .ui
        .show_technician(&pin(0, TechnicianMessage::Locked { seconds_left: 60 }));
    assert!(lobby.shows("Too many attempts. Try again in 60\u{a0}s."));
    assert!(!lobby.button("5").accessible_enabled().unwrap());
    assert!(lobby.button("Cancel").accessible_enabled().unwrap());
    lobby.assert_touch_targets_labelled("technician PIN prompt");
}

#[test]
fn the_diagnostics_test_the_speaker_and_close() {
    let lobby = Lobby::new(&view(Screen::Attract, Message::None));
    let tech = with_technician(&lobby);
    let v = technician_view(TechnicianScreen::Diagnostics);
    lobby.ui.show_technician(&v);
    for shown in [
        "Camera",
        "Microphone",
        "Speaker",
        "Touchscreen",
        "Server reachable: https://visits.jail.example",
        "Version 0.1.0",
    ] {
        assert!(lobby.shows(shown), "{shown}");
    }
    lobby.press("Test speaker");
    lobby.ui.show_technician(&TechnicianView {
        tone_playing: true,
        ..v.clone()
    });
    assert!(lobby.shows("Playing a tone for 2 seconds…"));
    assert!(!lobby.button("Test speaker").accessible_enabled().unwrap());
    lobby.press("Close");
    assert_eq!(
        *tech.borrow(),
        vec![TechnicianInput::Tone, TechnicianInput::Close]
    );
    lobby.assert_touch_targets_labelled("technician diagnostics");

    // A missing camera is named, and there is no picture.
    let (_, missing, _) = sample_technician_views()
        .into_iter()
        .find(|(name, ..)| *name == "technician-camera-missing")
        .unwrap();
    lobby.ui.show_technician(&missing);
    assert!(lobby.shows("Missing"));
    assert!(lobby.shows("Server NOT reachable: https://visits.jail.example"));

    // Spanish.
    lobby.ui.show_technician(&TechnicianView {
        lang: Lang::Es,
        ..v
    });
    assert!(lobby.shows("Probar altavoz") && lobby.shows("Cerrar"));
}

/// The housing unit's sign-in: the keypad types the ID number (shown),
/// "Next", then the PIN (masked) and "Sign in", which needs 4 digits.
#[test]
fn unit_sign_in_keys_and_steps() {
    let number = |number: &str| TerminalView {
        screen: Screen::UnitSignIn,
        unit: UnitView {
            number: number.into(),
            ..UnitView::default()
        },
        ..view(Screen::UnitSignIn, Message::None)
    };
    let lobby = Lobby::new(&number(""));
    assert!(lobby.shows("Sign in with your ID number"));
    // The technician's corner is here too (a unit terminal has no attract screen).
    let tech = with_technician(&lobby);
    lobby.press("Technician");
    assert_eq!(*tech.borrow(), vec![TechnicianInput::CornerTap]);
    assert!(lobby.take_inputs().is_empty());
    assert_eq!(lobby.button("Next").accessible_enabled(), Some(false));
    lobby.press("1");
    lobby.press("Delete");
    lobby.ui.show(&number("1001"));
    assert!(lobby.shows("ID number 1001"));
    lobby.press("Next");
    assert_eq!(
        lobby.take_inputs(),
        [UiInput::Digit(1), UiInput::Backspace, UiInput::Submit]
    );
    let pin = |entered| TerminalView {
        unit: UnitView {
            step: SignInStep::Pin,
            number: "1001".into(),
            pin_entered: entered,
            ..UnitView::default()
        },
        ..number("1001")
    };
    lobby.ui.show(&pin(3));
    assert!(lobby.shows("3 PIN digits entered"));
    assert_eq!(lobby.button("Sign in").accessible_enabled(), Some(false));
    lobby.ui.show(&pin(4));
    lobby.press("Sign in");
    lobby.press("Back");
    assert_eq!(lobby.take_inputs(), [UiInput::Submit, UiInput::Cancel]);
    // A wrong pair, then the lockout (every key but Back disabled).
    lobby.ui.show(&TerminalView {
        message: Message::NotRecognized { attempts_left: 3 },
        ..number("")
    });
    assert!(lobby.shows("ID number or PIN not recognized. 3 attempts left."));
    lobby.ui.show(&TerminalView {
        message: Message::Locked { seconds_left: 45 },
        ..number("")
    });
    for label in ["5", "Delete", "Next"] {
        assert_eq!(
            lobby.button(label).accessible_enabled(),
            Some(false),
            "{label}"
        );
    }
}

/// The visit list: Join on the open row reports that row, Sign out, the
/// visitor-not-checked-in and no-visits states, in both languages.
#[test]
fn unit_visit_list_join_sign_out_and_states() {
    let row = |starts: &str, join| UnitVisit {
        starts_at: starts.into(),
        ends_at: "12:00".into(),
        visitors: "Maria S.".into(),
        remote: false,
        status: UnitStatus::Pending,
        join,
    };
    let list = |visits, lang| TerminalView {
        lang,
        unit: UnitView {
            person: "James S.".into(),
            visits,
            ..UnitView::default()
        },
        ..view(Screen::UnitVisits, Message::None)
    };
    let lobby = Lobby::new(&list(
        vec![
            row("08:00", JoinState::Closed),
            row("10:00", JoinState::Open),
            row("14:00", JoinState::OpensAt("13:58".into())),
        ],
        Lang::En,
    ));
    assert!(lobby.shows("Hello, James S."));
    assert!(lobby.shows("You can join from 13:58."));
    lobby.press("Join the visit at 10:00");
    lobby.press("Sign out");
    assert_eq!(
        lobby.take_inputs(),
        [UiInput::JoinVisit(1), UiInput::SignOut]
    );
    lobby.ui.show(&list(
        vec![row("10:00", JoinState::VisitorNotCheckedIn)],
        Lang::En,
    ));
    assert!(lobby.shows("Your visitor has not checked in yet."));
    assert!(
        ElementHandle::find_by_accessible_label(lobby.ui.component(), "Join the visit at 10:00")
            .next()
            .is_none(),
        "no Join before the visitor is there"
    );
    lobby.ui.show(&list(vec![], Lang::En));
    assert!(lobby.shows("No visits today."));
    lobby.ui.show(&list(vec![], Lang::Es));
    assert!(lobby.shows("No tiene visitas hoy."));
    lobby.press("Cerrar sesión");
    assert_eq!(lobby.take_inputs(), [UiInput::SignOut]);
}
