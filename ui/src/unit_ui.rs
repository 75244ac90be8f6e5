//! The housing-unit screens (sign-in, the day's visits) as far as Rust is
//! concerned: a [`UnitView`] and the view's wrong-PIN or lockout message
//! into the `UnitApi` global, and its callbacks into [`UiInput`]s, the same
//! ones as the lobby's PIN pad sends.

use std::rc::Rc;

use slint::{ComponentHandle, Model, ModelRc, VecModel};

use crate::checkin_ui::MessageParams;
use crate::terminal_ui::key_digit;
use crate::unit_view::{JoinState, SignInStep, UnitStatus as Status, UnitView};
use crate::view::{Message, UiInput};
use crate::{TerminalWindow, UnitApi, UnitJoin, UnitVisitRow, UnitVisitStatus};

/// Sets every `UnitApi` property from `u` and `message`.
pub(crate) fn show(window: &TerminalWindow, u: &UnitView, message: &Message) {
    let api = window.global::<UnitApi>();
    api.set_pin_step(u.step == SignInStep::Pin);
    api.set_number(u.number.as_str().into());
    api.set_pin_entered(u.pin_entered.into());
    api.set_person(u.person.as_str().into());
    let p = MessageParams::from(message);
    api.set_message(p.kind);
    api.set_message_count(p.count);
    set_visits(&api, u);
}

/// The visit list.
fn set_visits(api: &UnitApi<'_>, u: &UnitView) {
    let rows: Vec<UnitVisitRow> = u
        .visits
        .iter()
        .map(|v| {
            let (join, opens_at) = match &v.join {
                JoinState::Open => (UnitJoin::Open, ""),
                JoinState::OpensAt(t) => (UnitJoin::OpensAt, t.as_str()),
                JoinState::VisitorNotCheckedIn => (UnitJoin::VisitorNotCheckedIn, ""),
                JoinState::Closed => (UnitJoin::Closed, ""),
            };
            UnitVisitRow {
                starts_at: v.starts_at.as_str().into(),
                ends_at: v.ends_at.as_str().into(),
                visitors: v.visitors.as_str().into(),
                remote: v.remote,
                status: match v.status {
                    Status::Scheduled => UnitVisitStatus::Scheduled,
                    Status::Pending => UnitVisitStatus::Pending,
                    Status::Ready => UnitVisitStatus::Ready,
                    Status::InProgress => UnitVisitStatus::InProgress,
                    Status::Ended => UnitVisitStatus::Ended,
                    Status::Cancelled => UnitVisitStatus::Cancelled,
                    Status::Terminated => UnitVisitStatus::Terminated,
                    Status::NoShow => UnitVisitStatus::NoShow,
                },
                join,
                opens_at: opens_at.into(),
            }
        })
        .collect();
    // Replace the model only when the rows changed, so a clock tick does
    // not rebuild the list.
    let old = api.get_visits();
    let same = old.row_count() == rows.len()
        && rows
            .iter()
            .enumerate()
            .all(|(i, r)| old.row_data(i).as_ref() == Some(r));
    if !same {
        api.set_visits(ModelRc::new(VecModel::from(rows)));
    }
}

/// Hands the unit screens' touches (the keypad, Back, Join, Sign out) to `f`.
pub(crate) fn on_input(window: &TerminalWindow, f: Rc<dyn Fn(UiInput)>) {
    let api = window.global::<UnitApi>();
    let send = |input: UiInput| {
        let f = f.clone();
        move || f(input)
    };
    api.on_backspace(send(UiInput::Backspace));
    api.on_submit(send(UiInput::Submit));
    api.on_back(send(UiInput::Cancel));
    api.on_sign_out(send(UiInput::SignOut));
    let g = f.clone();
    api.on_digit(move |d| {
        if let Some(d) = key_digit(d) {
            g(UiInput::Digit(d));
        }
    });
    api.on_join_visit(move |row| {
        if let Ok(row) = u8::try_from(row) {
            f(UiInput::JoinVisit(row));
        }
    });
}
