//! Approvals: the two review queues officers work through. Visitors
//! waiting for their photo ID check (approve, or deny with a reason the
//! visitor is sent), and requests to be on a person's approved list
//! (approve, or deny with a reason).
//!
//! Also the small helpers the administration pages share ([`back`],
//! [`reason_missing`]).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};
use protocol::admin::{PendingApprovalRequest, Visitor};
use serde::Deserialize;
use uuid::Uuid;

use super::page::{self, Lang, Section};
use super::session::{Checked, Staff};
use crate::service::audit::Target;
use crate::service::{Page, approvals, console_admin, directory, records};
use crate::state::AppState;

/// This page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/approvals", get(show))
        .route(
            "/console/approvals/photo-id/{id}/approve",
            post(approve_photo_id),
        )
        .route("/console/approvals/photo-id/{id}/deny", post(deny_photo_id))
        .route(
            "/console/approvals/requests/{id}/approve",
            post(approve_request),
        )
        .route("/console/approvals/requests/{id}/deny", post(deny_request))
}

/// `?done=...` on a page after a change.
#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    pub done: Option<String>,
}

/// A 303 back to a page, with what was done (a code the page words).
pub fn back(path: &str, done: &str) -> Response {
    Redirect::to(&format!("{path}?done={done}")).into_response()
}

/// The refusal when a deny form comes without a reason.
pub fn reason_missing(staff: &Staff) -> Response {
    page::problem(
        Some(staff),
        staff.lang,
        StatusCode::UNPROCESSABLE_ENTITY,
        staff.lang.t(
            "Write the reason: the visitor is sent it. Nothing was changed.",
            "Escriba el motivo: se le envía al visitante. No se cambió nada.",
        ),
    )
}

fn done_words(l: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "photo_id_approved" => l.t("Photo ID approved.", "Identificación aprobada."),
        "photo_id_denied" => l.t(
            "Photo ID denied; the visitor is sent the reason.",
            "Identificación rechazada; se envía el motivo al visitante.",
        ),
        "request_approved" => l.t(
            "Request approved: the visitor is on the approved list.",
            "Solicitud aprobada: el visitante está en la lista de aprobados.",
        ),
        "request_denied" => l.t(
            "Request denied; the visitor is sent the reason.",
            "Solicitud denegada; se envía el motivo al visitante.",
        ),
        _ => return None,
    })
}

/// `GET /console/approvals`.
async fn show(State(st): State<AppState>, staff: Staff, Query(q): Query<Done>) -> Response {
    let l = staff.lang;
    let facility = staff.facility();
    let loaded = st
        .run(staff.actor(), move |c, ctx| {
            let page = Page::new(Some(Page::MAX_LIMIT), None);
            Ok((
                directory::photo_id_queue(c, ctx, Some(facility), page)?,
                approvals::pending(c, ctx, Some(facility), facility, page)?,
            ))
        })
        .await;
    let (visitors, requests) = match loaded {
        Ok(v) => v,
        Err(e) => return page::service_error(&staff, e),
    };
    let today = st.now().with_timezone(&staff.tz).date_naive();
    let body = html! {
        (page::notice(done_words(l, q.done.as_deref())))
        h2 #photo-ids { (l.t("Photo ID checks", "Comprobación de identificación")) }
        @if visitors.is_empty() {
            p.muted #photo-id-empty { (l.t("No visitor is waiting for a photo ID check.", "Ningún visitante espera la comprobación de identificación.")) }
        } @else {
            ul.cards #photo-id-queue {
                @for v in &visitors { li.card { (photo_card(&staff, v, today)) } }
            }
        }
        h2 #requests { (l.t("Requests to be on an approved list", "Solicitudes para la lista de aprobados")) }
        @if requests.is_empty() {
            p.muted #requests-empty { (l.t("No request is waiting.", "No hay solicitudes pendientes.")) }
        } @else {
            ul.cards #request-queue {
                @for r in &requests { li.card { (request_card(&staff, r, today)) } }
            }
        }
    };
    page::respond(
        StatusCode::OK,
        page::shell(
            &staff,
            Section::Approvals,
            l.t("Approvals", "Aprobaciones"),
            body,
        ),
    )
}

/// Whole years from a date of birth to `today`.
fn age(dob: NaiveDate, today: NaiveDate) -> i32 {
    let mut years = today.year() - dob.year();
    if (today.month(), today.day()) < (dob.month(), dob.day()) {
        years -= 1;
    }
    years
}

fn photo_card(staff: &Staff, v: &Visitor, today: NaiveDate) -> Markup {
    let l = staff.lang;
    let base = format!("/console/approvals/photo-id/{}", v.id);
    html! {
        h3 { (v.name) }
        dl data-visitor=(v.id) {
            dt { (l.t("Date of birth", "Fecha de nacimiento")) } dd { (v.date_of_birth) }
            dt { (l.t("Age", "Edad")) } dd { (age(v.date_of_birth, today)) }
            dt { (l.t("E-mail", "Correo electrónico")) } dd { (v.email) }
        }
        form.inline method="post" action={ (base) "/approve" } {
            (staff.csrf_field())
            button type="submit" { (l.t("Approve photo ID of ", "Aprobar la identificación de ")) (v.name) }
        }
        (deny_form(staff, &format!("{base}/deny"), &format!("deny-id-{}", v.id), &v.name))
    }
}

fn request_card(staff: &Staff, r: &PendingApprovalRequest, today: NaiveDate) -> Markup {
    let l = staff.lang;
    let id = r.request.id;
    let base = format!("/console/approvals/requests/{id}");
    let photo = if r.visitor_photo_id_verified {
        l.t("checked", "comprobada")
    } else if r.visitor_photo_id_denied_reason.is_some() {
        l.t("denied", "rechazada")
    } else {
        l.t("not checked yet", "aún sin comprobar")
    };
    html! {
        h3 { (r.visitor_name) " → " (r.person_name) }
        dl data-request=(id) {
            dt { (l.t("Visitor", "Visitante")) } dd { (r.visitor_name) }
            dt { (l.t("Date of birth", "Fecha de nacimiento")) }
            dd { (r.visitor_date_of_birth) " (" (age(r.visitor_date_of_birth, today)) ")" }
            dt { (l.t("Photo ID", "Identificación")) } dd { (photo) }
            dt { (l.t("Person", "Persona")) } dd { (r.person_name) " #" (r.person_number) }
        }
        form.inline method="post" action={ (base) "/approve" } {
            (staff.csrf_field())
            button type="submit" { (l.t("Approve request of ", "Aprobar la solicitud de ")) (r.visitor_name) }
        }
        (deny_form(staff, &format!("{base}/deny"), &format!("deny-req-{id}"), &r.visitor_name))
    }
}

fn deny_form(staff: &Staff, action: &str, field: &str, name: &str) -> Markup {
    let l = staff.lang;
    html! {
        form.stack method="post" action=(action) {
            (staff.csrf_field())
            label for=(field) { (l.t("Reason for denying (the visitor is sent it)", "Motivo del rechazo (se le envía al visitante)")) }
            textarea id=(field) name="reason" rows="2" required {}
            button.danger type="submit" { (l.t("Deny ", "Rechazar a ")) (name) }
        }
    }
}

#[derive(Deserialize)]
pub struct Reason {
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
pub struct Nothing {}

async fn approve_photo_id(
    State(st): State<AppState>,
    Path(id): Path<Uuid>,
    c: Checked<Nothing>,
) -> Response {
    let staff = c.staff;
    let scope = Some(staff.facility());
    let r = st
        .run_audited(
            staff.who(),
            "set_photo_id",
            Target::Visitor(id),
            move |c, ctx| console_admin::verify_photo_id(c, ctx, scope, id),
        )
        .await;
    match r {
        Ok(_) => back("/console/approvals", "photo_id_approved"),
        Err(e) => page::service_error(&staff, e),
    }
}

async fn deny_photo_id(
    State(st): State<AppState>,
    Path(id): Path<Uuid>,
    c: Checked<Reason>,
) -> Response {
    let (staff, f) = (c.staff, c.form);
    if f.reason.trim().is_empty() {
        return reason_missing(&staff);
    }
    let scope = Some(staff.facility());
    let r = st
        .run_audited(
            staff.who(),
            "deny_photo_id",
            Target::Visitor(id),
            move |c, ctx| records::deny_photo_id(c, ctx, scope, id, &f.reason),
        )
        .await;
    match r {
        Ok(_) => back("/console/approvals", "photo_id_denied"),
        Err(e) => page::service_error(&staff, e),
    }
}

async fn approve_request(
    State(st): State<AppState>,
    Path(id): Path<Uuid>,
    c: Checked<Nothing>,
) -> Response {
    let staff = c.staff;
    let scope = Some(staff.facility());
    let r = st
        .run_audited(
            staff.who(),
            "approve_request",
            Target::ApprovalRequest(id),
            move |c, ctx| approvals::approve(c, ctx, scope, id),
        )
        .await;
    match r {
        Ok(_) => back("/console/approvals", "request_approved"),
        Err(e) => page::service_error(&staff, e),
    }
}

async fn deny_request(
    State(st): State<AppState>,
    Path(id): Path<Uuid>,
    c: Checked<Reason>,
) -> Response {
    let (staff, f) = (c.staff, c.form);
    if f.reason.trim().is_empty() {
        return reason_missing(&staff);
    }
    let scope = Some(staff.facility());
    let r = st
        .run_audited(
            staff.who(),
            "deny_request",
            Target::ApprovalRequest(id),
            move |c, ctx| approvals::deny(c, ctx, scope, id, &f.reason),
        )
        .await;
    match r {
        Ok(_) => back("/console/approvals", "request_denied"),
        Err(e) => page::service_error(&staff, e),
    }
}
