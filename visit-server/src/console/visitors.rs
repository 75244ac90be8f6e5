//! Visitors: finding one the facility knows (an approval, a request or a
//! visit there), their details, photo ID status, sanctions (impose, lift
//! with a reason), the persons they may visit and their visits here.
//! A visitor the facility does not know answers 404.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use protocol::admin::{NewSanction, Sanction, VisitorUpdate};
use serde::Deserialize;
use uuid::Uuid;

use super::page::{self, Section};
use super::people::{bad_form, not_found, photo_id, visits_table, when};
use super::session::{Checked, Staff};
use crate::service::audit::Target;
use crate::service::console_queries::{self, VisitorOverview};
use crate::service::{Page, directory, records, sanctions};
use crate::state::AppState;

/// This page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/visitors", get(search))
        .route("/console/visitors/{id}", get(visitor).post(update))
        .route("/console/visitors/{id}/sanctions", post(impose))
        .route(
            "/console/visitors/{id}/sanctions/{sanction}/lift",
            post(lift),
        )
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /console/visitors?q=`: visitors by name or e-mail.
pub async fn search(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<SearchQuery>,
) -> Response {
    let l = staff.lang;
    let f = staff.facility();
    let text = q.q.clone();
    let found = st
        .run(staff.actor(), move |c, ctx| {
            directory::search_visitors(c, ctx, Some(f), text.trim(), Page::default())
        })
        .await;
    let rows = match found {
        Ok(v) => v,
        Err(e) => return page::service_error(&staff, e),
    };
    let body = html! {
        form.inline method="get" action="/console/visitors" role="search" {
            label for="q" { (l.t("Name or e-mail", "Nombre o correo electrónico")) }
            input #q name="q" type="search" value=(q.q);
            button type="submit" { (l.t("Search", "Buscar")) }
        }
        @if rows.is_empty() {
            p #no-results { (l.t("Nobody matches.", "Nadie coincide.")) }
        } @else {
            table #visitors {
                thead { tr {
                    th scope="col" { (l.t("Name", "Nombre")) }
                    th scope="col" { (l.t("E-mail", "Correo electrónico")) }
                    th scope="col" { (l.t("Photo ID", "Identificación")) }
                } }
                tbody { @for v in &rows { tr {
                    td { a href={ "/console/visitors/" (v.id) } { (v.name) } }
                    td { (v.email) }
                    td { (photo_id(l, v)) }
                } } }
            }
        }
    };
    page::respond(
        StatusCode::OK,
        page::shell(
            &staff,
            Section::Visitors,
            l.t("Visitors", "Visitantes"),
            body,
        ),
    )
}

#[derive(Deserialize, Default)]
pub struct VisitorQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /console/visitors/{id}`.
pub async fn visitor(
    State(st): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Query(q): Query<VisitorQuery>,
) -> Response {
    let Ok(id) = raw.parse::<Uuid>() else {
        return not_found(&staff);
    };
    let f = staff.facility();
    let loaded = st
        .run(staff.actor(), move |c, ctx| {
            console_queries::visitor_overview(c, ctx, Some(f), id)
        })
        .await;
    let o = match loaded {
        Ok(o) => o,
        Err(e) => return page::service_error(&staff, e),
    };
    let l = staff.lang;
    let now = st.now();
    let notice = match q.done.as_deref() {
        Some("saved") => Some(l.t("Changes saved.", "Cambios guardados.")),
        Some("sanctioned") => Some(l.t(
            "Sanction imposed. Visits booked inside it were cancelled.",
            "Sanción impuesta. Se cancelaron las visitas reservadas dentro de ella.",
        )),
        Some("lifted") => Some(l.t(
            "Sanction lifted. The visitor may book again.",
            "Sanción levantada. El visitante puede reservar de nuevo.",
        )),
        _ => None,
    };
    let body = html! {
        (page::notice(notice))
        (details(&staff, &o))
        (sanctions_section(&staff, &o, now))
        h2 { (l.t("Approved to visit", "Aprobado para visitar")) }
        @if o.persons.is_empty() {
            p.muted { (l.t("Nobody at this facility.", "Nadie en este centro.")) }
        } @else {
            ul #persons { @for p in &o.persons {
                li { a href={ "/console/people/" (p.id) } { (p.name) " #" (p.number) } }
            } }
        }
        h2 { (l.t("Visits", "Visitas")) }
        (visits_table(&staff, &o.visits, l.t("Person", "Persona")))
    };
    page::respond(
        StatusCode::OK,
        page::shell(&staff, Section::Visitors, &o.visitor.name, body),
    )
}

fn details(staff: &Staff, o: &VisitorOverview) -> Markup {
    let l = staff.lang;
    let v = &o.visitor;
    html! {
        h2 { (l.t("Details", "Datos")) }
        p { (l.t("Photo ID", "Identificación")) ": " span #photo-id { (photo_id(l, v)) } }
        form.stack #edit-visitor method="post" action={ "/console/visitors/" (v.id) } {
            (staff.csrf_field())
            label for="name" { (l.t("Name", "Nombre")) }
            input #name name="name" type="text" value=(v.name) required autocomplete="off";
            label for="email" { (l.t("E-mail (confirmations go here)", "Correo electrónico (aquí llegan las confirmaciones)")) }
            input #email name="email" type="email" value=(v.email) required autocomplete="off";
            label for="date-of-birth" { (l.t("Date of birth", "Fecha de nacimiento")) }
            input #date-of-birth name="date_of_birth" type="date" value=(v.date_of_birth.to_string()) required;
            button type="submit" { (l.t("Save", "Guardar")) }
        }
    }
}

/// Whether a sanction still restricts the visitor.
fn active(s: &Sanction, now: DateTime<Utc>) -> bool {
    s.lifted_at.is_none() && s.ends_at.is_none_or(|e| e > now)
}

fn sanctions_section(staff: &Staff, o: &VisitorOverview, now: DateTime<Utc>) -> Markup {
    let l = staff.lang;
    let vid = o.visitor.id;
    html! {
        h2 { (l.t("Sanctions", "Sanciones")) }
        @if o.sanctions.is_empty() {
            p.muted #no-sanctions { (l.t("None.", "Ninguna.")) }
        } @else {
            table #sanctions {
                thead { tr {
                    th scope="col" { (l.t("Offense", "Falta")) }
                    th scope="col" { (l.t("From", "Desde")) }
                    th scope="col" { (l.t("Until", "Hasta")) }
                    th scope="col" { (l.t("Reason", "Motivo")) }
                    th scope="col" { (l.t("Lifted", "Levantada")) }
                } }
                tbody { @for s in &o.sanctions { tr data-sanction=(s.id) {
                    td { (s.offense) }
                    td { (when(staff, s.starts_at)) }
                    td { @match s.ends_at { Some(e) => (when(staff, e)), None => (l.t("Permanent", "Permanente")) } }
                    td { (s.reason) }
                    td.lifted { @match (&s.lifted_at, &s.lift_reason) {
                        (Some(t), r) => { (l.t("Lifted", "Levantada")) " " (when(staff, *t)) @if let Some(r) = r { ": " (r) } }
                        _ => { (l.t("No", "No")) }
                    } }
                } } }
            }
            @for s in o.sanctions.iter().filter(|s| active(s, now)) {
                form.inline.lift method="post" action={ "/console/visitors/" (vid) "/sanctions/" (s.id) "/lift" } {
                    (staff.csrf_field())
                    label for={ "lift-" (s.id) } { (l.t("Reason to lift offense", "Motivo para levantar la falta")) " " (s.offense) }
                    input id={ "lift-" (s.id) } name="reason" type="text" required;
                    button type="submit" { (l.t("Lift sanction", "Levantar la sanción")) }
                }
            }
        }
        h3 { (l.t("Impose a sanction", "Imponer una sanción")) }
        p.muted { (l.t("A first offense restricts visits for 90 days; a second is permanent. Booked visits inside it are cancelled.", "Una primera falta restringe las visitas 90 días; una segunda es permanente. Se cancelan las visitas reservadas dentro.")) }
        form.stack #impose method="post" action={ "/console/visitors/" (vid) "/sanctions" } {
            (staff.csrf_field())
            label for="sanction-reason" { (l.t("The violation", "La infracción")) }
            input #sanction-reason name="reason" type="text" required;
            label for="sanction-visit" { (l.t("During the visit (optional)", "Durante la visita (opcional)")) }
            select #sanction-visit name="visit_id" {
                option value="" { (l.t("None", "Ninguna")) }
                @for line in &o.visits {
                    option value=(line.visit.id) { (when(staff, line.visit.start)) " · " (line.names.join(", ")) }
                }
            }
            button.danger type="submit" { (l.t("Impose sanction", "Imponer la sanción")) }
        }
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    date_of_birth: String,
}

/// `POST /console/visitors/{id}`: name, e-mail, date of birth.
pub async fn update(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    c: Checked<UpdateForm>,
) -> Response {
    let (staff, form) = (c.staff, c.form);
    let Ok(id) = raw.parse::<Uuid>() else {
        return not_found(&staff);
    };
    let Ok(dob) = NaiveDate::parse_from_str(form.date_of_birth.trim(), "%Y-%m-%d") else {
        return bad_form(
            &staff,
            "The date of birth is not a date (YYYY-MM-DD).",
            "La fecha de nacimiento no es una fecha (AAAA-MM-DD).",
        );
    };
    let req = VisitorUpdate {
        name: Some(form.name),
        email: Some(form.email),
        date_of_birth: Some(dob),
    };
    let f = staff.facility();
    let r = st
        .run_audited(
            staff.who(),
            "update_visitor",
            Target::Visitor(id),
            move |c, ctx| records::update_visitor(c, ctx, Some(f), id, &req),
        )
        .await;
    back(&staff, r.map(|_| ()), id, "saved")
}

fn back(staff: &Staff, r: crate::service::Result<()>, id: Uuid, done: &str) -> Response {
    match r {
        Ok(()) => Redirect::to(&format!("/console/visitors/{id}?done={done}")).into_response(),
        Err(e) => page::service_error(staff, e),
    }
}

#[derive(Deserialize)]
pub struct SanctionForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    visit_id: String,
}

/// `POST /console/visitors/{id}/sanctions`: as `POST /api/v1/admin/sanctions`.
pub async fn impose(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    c: Checked<SanctionForm>,
) -> Response {
    let (staff, form) = (c.staff, c.form);
    let Ok(id) = raw.parse::<Uuid>() else {
        return not_found(&staff);
    };
    let visit_id = match form.visit_id.trim() {
        "" => None,
        v => match v.parse::<Uuid>() {
            Ok(v) => Some(v),
            Err(_) => {
                return bad_form(
                    &staff,
                    "Choose a visit from the list.",
                    "Elija una visita de la lista.",
                );
            }
        },
    };
    let req = NewSanction {
        visitor_id: id,
        reason: form.reason,
        visit_id,
    };
    let f = staff.facility();
    let r = st
        .run_audited_create(staff.who(), "create_sanction", move |c, ctx| {
            let s = console_queries::sanction(c, ctx, Some(f), &req)?;
            let target = Target::Sanction(s.id);
            Ok((s, target))
        })
        .await;
    back(&staff, r.map(|_| ()), id, "sanctioned")
}

#[derive(Deserialize)]
pub struct LiftForm {
    #[serde(default)]
    reason: String,
}

/// `POST /console/visitors/{id}/sanctions/{sanction}/lift`.
pub async fn lift(
    State(st): State<AppState>,
    Path((raw, raw_sanction)): Path<(String, String)>,
    c: Checked<LiftForm>,
) -> Response {
    let (staff, form) = (c.staff, c.form);
    let (Ok(id), Ok(sid)) = (raw.parse::<Uuid>(), raw_sanction.parse::<Uuid>()) else {
        return not_found(&staff);
    };
    let f = staff.facility();
    let r = st
        .run_audited(
            staff.who(),
            "lift_sanction",
            Target::Sanction(sid),
            move |c, ctx| {
                // The sanction must be this visitor's (the address says so).
                if !sanctions::list(c, id)?.iter().any(|s| s.id == sid) {
                    return Err(crate::service::Error::not_found("sanction", sid));
                }
                sanctions::lift(c, ctx, Some(f), sid, &form.reason)
            },
        )
        .await;
    back(&staff, r.map(|_| ()), id, "lifted")
}
