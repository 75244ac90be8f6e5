//! The "Recording" section of a visit's page: who was recorded, their
//! tracks and length, whether the stored recording verifies, links to
//! watch and (administrators) download; or that the visit is confidential.
//! And the form that marks a visit confidential, or undoes it.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use protocol::admin::Visit;
use protocol::visit::VisitStatus;
use serde::Deserialize;
use uuid::Uuid;

use super::super::page::{self, Lang};
use super::super::session::{Checked, Staff};
use super::{Names, not_found};
use crate::service::audit::Target;
use crate::service::confidential;
use crate::service::recordings::{Problem, Summary};
use crate::service::staff::Role;
use crate::state::AppState;

/// A length as `m:ss`.
pub fn length(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// The section on the visit's page.
pub fn section(staff: &Staff, visit: &Visit, names: &Names<'_>, rec: &Summary) -> Markup {
    let l = staff.lang;
    html! {
        h2 #recording { (l.t("Recording", "Grabación")) }
        @if visit.confidential {
            p #recording-state { strong { (l.t("Confidential: not recorded or monitored.", "Confidencial: no se graba ni se supervisa.")) } }
        } @else if let Some(at) = rec.removed_at {
            p #recording-state { (l.t("Removed after the facility's retention on", "Eliminada al cumplirse el plazo de conservación el")) " " (at.with_timezone(&staff.tz).format("%Y-%m-%d")) "." }
        } @else if rec.parties.is_empty() {
            p #recording-state { (l.t("Nothing recorded has arrived yet.", "Aún no ha llegado nada grabado.")) }
        } @else {
            (parties(l, names, rec))
            (check(l, rec))
            p {
                a href={ "/console/visits/" (visit.id) "/recording" } { (l.t("Watch the recording", "Ver la grabación")) }
                @if staff.member.role == Role::Administrator {
                    " · " a href={ "/console/visits/" (visit.id) "/recording.tar" } download { (l.t("Download it (tar, with the manifest)", "Descargarla (tar, con el manifiesto)")) }
                }
            }
        }
        @if rec.waiting > 0 {
            p.muted { (rec.waiting) " " (l.t("segment(s) still arriving from the terminal.", "segmento(s) aún llegando desde la terminal.")) }
        }
        (confidential_form(l, staff, visit))
    }
}

fn parties(l: Lang, names: &Names<'_>, rec: &Summary) -> Markup {
    html! {
        table #recording-parties {
            thead { tr {
                th scope="col" { (l.t("Party", "Participante")) }
                th scope="col" { (l.t("Tracks", "Pistas")) }
                th scope="col" { (l.t("Segments", "Segmentos")) }
                th scope="col" { (l.t("Length", "Duración")) }
            } }
            tbody { @for p in &rec.parties {
                tr data-party=(p.party) {
                    td { (names.party(l, p.role, p.party)) }
                    td { (p.tracks.len()) }
                    td { (p.segments.len()) }
                    td { (length(p.total_ms)) }
                }
            } }
        }
    }
}

fn check(l: Lang, rec: &Summary) -> Markup {
    let Some(v) = &rec.verification else {
        return html! {};
    };
    html! {
        @if v.intact() {
            p.notice #recording-check data-intact="true" {
                (l.t("Verified: every file matches the manifest and the chain holds.",
                     "Verificada: cada archivo coincide con el manifiesto y la cadena está intacta."))
            }
        } @else {
            div #recording-check data-intact="false" role="alert" {
                p.error { (l.t("This recording does not verify:", "Esta grabación no se puede verificar:")) }
                ul { @for p in &v.problems { li { (problem(l, p)) } } }
            }
        }
    }
}

fn problem(l: Lang, p: &Problem) -> String {
    match p {
        Problem::Missing { file } => format!("{} {file}", l.t("missing:", "falta:")),
        Problem::Altered { file } => format!("{} {file}", l.t("altered:", "alterado:")),
        Problem::OutOfChain { file } => {
            format!("{} {file}", l.t("out of the chain:", "fuera de la cadena:"))
        }
        Problem::ManifestFile => l
            .t(
                "manifest.json is missing or differs from the manifest kept by the server",
                "manifest.json falta o difiere del manifiesto que guarda el servidor",
            )
            .to_string(),
    }
}

fn confidential_form(l: Lang, staff: &Staff, visit: &Visit) -> Markup {
    let open = matches!(
        visit.status,
        VisitStatus::Scheduled | VisitStatus::Pending | VisitStatus::Ready
    );
    html! {
        @if open {
            form.inline method="post" action={ "/console/visits/" (visit.id) "/confidential" } {
                (staff.csrf_field())
                @if visit.confidential {
                    input type="hidden" name="confidential" value="no";
                    button.plain type="submit" { (l.t("Undo: record this visit", "Deshacer: grabar esta visita")) }
                } @else {
                    input type="hidden" name="confidential" value="yes";
                    button.plain type="submit" { (l.t("Mark as confidential (not recorded)", "Marcar como confidencial (no se graba)")) }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ConfidentialForm {
    #[serde(default)]
    confidential: String,
}

/// `POST /console/visits/{id}/confidential`: any staff member, before the
/// visit is in progress; audited, in the history, and in the terminals'
/// schedule.
pub async fn set(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Checked<ConfidentialForm>,
) -> Response {
    let (staff, f) = (c.staff, c.form);
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found(&staff);
    };
    let on = f.confidential == "yes";
    let facility = staff.facility();
    let action = if on {
        "mark_confidential"
    } else {
        "unmark_confidential"
    };
    let r = st
        .run_audited(staff.who(), action, Target::Visit(id), move |c, ctx| {
            confidential::set(c, ctx, Some(facility), id, on)
        })
        .await;
    match r {
        Ok(_) => {
            let done = if on { "confidential" } else { "recorded" };
            Redirect::to(&format!("/console/visits/{id}?done={done}")).into_response()
        }
        Err(e) => page::service_error(&staff, e),
    }
}
