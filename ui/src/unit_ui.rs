//! The housing-unit screens' half of [`crate::TerminalUi`]: a [`UnitView`] into
//! the `UnitApi` global, and its two callbacks into [`UiInput`]s.

use std::rc::Rc;

use slint::{ComponentHandle, Model, ModelRc, VecModel};

use crate::unit_view::{JoinState, SignInStep, UnitStatus as Status, UnitView};
use crate::view::UiInput;
use crate::{TerminalWindow, UnitApi, UnitJoin, UnitVisitRow, UnitVisitStatus};

/// Sets every `UnitApi` property from `u`.
pub(crate) fn show(window: &TerminalWindow, u: &UnitView) {
    let api = window.global::<UnitApi>();
    api.set_pin_step(u.step == SignInStep::Pin);
    api.set_number(u.number.as_str().into());
    api.set_pin_entered(u.pin_entered.into());
    api.set_person(u.person.as_str().into());
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

/// Hands the unit screens' own touches to `f`.
pub(crate) fn on_input(window: &TerminalWindow, f: Rc<dyn Fn(UiInput)>) {
    let api = window.global::<UnitApi>();
    let g = f.clone();
    api.on_join_visit(move |row| {
        if let Ok(row) = u8::try_from(row) {
            g(UiInput::JoinVisit(row));
        }
    });
    api.on_sign_out(move || f(UiInput::SignOut));
}
