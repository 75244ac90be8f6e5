//! People: finding an incarcerated person of the facility, their record
//! (housing unit, restrictions), their approved visitors and visits, and
//! booking a visit on a visitor's behalf from the same free slots the
//! booking API offers. Another facility's person answers 404.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use protocol::VisitKind;
use protocol::admin::{NewApproval, PersonUpdate, Restriction, Visitor};
use serde::Deserialize;
use uuid::Uuid;

use super::page::{self, Lang, Section};
use super::session::{Checked, Staff};
use super::words;
use crate::service::audit::Target;
use crate::service::console_queries::{self, PersonOverview, VisitLine};
use crate::service::{Page, directory, facilities, records};
use crate::state::AppState;

mod book;

/// This page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/people", get(search))
        .route("/console/people/{id}", get(person).post(update))
        .route("/console/people/{id}/approvals", post(add_approval))
        .route(
            "/console/people/{id}/approvals/{visitor}/remove",
            post(remove_approval),
        )
        .route(
            "/console/people/{id}/book",
            get(book::page).post(book::submit),
        )
}

/// An address naming nothing: a page that does not exist.
pub(super) fn not_found(staff: &Staff) -> Response {
    let l = staff.lang;
    page::problem(
        Some(staff),
        l,
        StatusCode::NOT_FOUND,
        l.t("There is no such page.", "Esa página no existe."),
    )
}

/// A bad form field, as a page.
pub(super) fn bad_form(staff: &Staff, en: &'static str, es: &'static str) -> Response {
    page::problem(
        Some(staff),
        staff.lang,
        StatusCode::BAD_REQUEST,
        staff.lang.t(en, es),
    )
}

/// A date and time in the facility's zone.
pub(super) fn when(staff: &Staff, t: DateTime<Utc>) -> String {
    t.with_timezone(&staff.tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A table of visits (time, kind, status, who, a link to each).
pub(super) fn visits_table(staff: &Staff, lines: &[VisitLine], who: &str) -> Markup {
    let l = staff.lang;
    html! {
        @if lines.is_empty() {
            p.muted { (l.t("No visits yet.", "Todavía no hay visitas.")) }
        } @else {
            table #visits {
                thead { tr {
                    th scope="col" { (l.t("Time", "Hora")) }
                    th scope="col" { (l.t("Kind", "Tipo")) }
                    th scope="col" { (l.t("Status", "Estado")) }
                    th scope="col" { (who) }
                } }
                tbody {
                    @for line in lines {
                        @let v = &line.visit;
                        tr data-visit=(v.id) {
                            td { a href={ "/console/visits/" (v.id) } { (when(staff, v.start)) } }
                            td { (words::kind(l, if v.kind == VisitKind::Remote { "remote" } else { "onsite" })) }
                            td { span class={ "status " (words::status_code(v.status)) } { (words::status(l, v.status)) } }
                            td { (line.names.join(", ")) }
                        }
                    }
                }
            }
        }
    }
}

/// Photo ID status in words.
pub(super) fn photo_id(l: Lang, v: &Visitor) -> String {
    match (&v.photo_id_denied_reason, v.photo_id_verified) {
        (_, true) => l.t("Verified", "Verificada").to_string(),
        (Some(r), false) => format!("{}: {r}", l.t("Refused", "Rechazada")),
        (None, false) => l
            .t("Waiting for a check", "Pendiente de revisión")
            .to_string(),
    }
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /console/people?q=`: the facility's persons by name or number.
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
            let units = facilities::housing_units(c, f)?;
            let rows = directory::search_persons(c, ctx, Some(f), f, text.trim(), Page::default())?;
            Ok((units, rows))
        })
        .await;
    let (units, rows) = match found {
        Ok(v) => v,
        Err(e) => return page::service_error(&staff, e),
    };
    let unit_name = |id: Uuid| {
        units
            .iter()
            .find(|(u, _)| *u == id)
            .map(|(_, n)| n.as_str())
            .unwrap_or("")
    };
    let body = html! {
        form.inline method="get" action="/console/people" role="search" {
            label for="q" { (l.t("Name or ID number", "Nombre o número de identificación")) }
            input #q name="q" type="search" value=(q.q);
            button type="submit" { (l.t("Search", "Buscar")) }
        }
        @if rows.is_empty() {
            p #no-results { (l.t("Nobody matches.", "Nadie coincide.")) }
        } @else {
            table #people {
                thead { tr {
                    th scope="col" { (l.t("Name", "Nombre")) }
                    th scope="col" { (l.t("ID number", "Número")) }
                    th scope="col" { (l.t("Housing unit", "Unidad")) }
                } }
                tbody { @for p in &rows { tr {
                    td { a href={ "/console/people/" (p.id) } { (p.name) } }
                    td { (p.number) }
                    td { (unit_name(p.housing_unit_id)) }
                } } }
            }
        }
    };
    page::respond(
        StatusCode::OK,
        page::shell(&staff, Section::People, l.t("People", "Personas"), body),
    )
}

#[derive(Deserialize, Default)]
pub struct PersonQuery {
    #[serde(default)]
    vq: String,
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    visit: Option<Uuid>,
}

/// `GET /console/people/{id}`: the record, approved visitors, visits.
pub async fn person(
    State(st): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    Query(q): Query<PersonQuery>,
) -> Response {
    let Ok(id) = raw.parse::<Uuid>() else {
        return not_found(&staff);
    };
    let f = staff.facility();
    let vq = q.vq.clone();
    let loaded = st
        .run(staff.actor(), move |c, ctx| {
            console_queries::person_overview(c, ctx, Some(f), id, &vq)
        })
        .await;
    let o = match loaded {
        Ok(o) => o,
        Err(e) => return page::service_error(&staff, e),
    };
    let body = html! {
        (done_notice(&staff, &q))
        (record(&staff, &o))
        (approved(&staff, &o, &q.vq))
        h2 { (staff.lang.t("Visits", "Visitas")) }
        p { a #book-link href={ "/console/people/" (id) "/book" } {
            (staff.lang.t("Book a visit on behalf of a visitor", "Reservar una visita en nombre de un visitante")) } }
        (visits_table(&staff, &o.visits, staff.lang.t("Visitors", "Visitantes")))
    };
    let title = format!("{} #{}", o.person.name, o.person.number);
    page::respond(
        StatusCode::OK,
        page::shell(&staff, Section::People, &title, body),
    )
}

fn done_notice(staff: &Staff, q: &PersonQuery) -> Markup {
    let l = staff.lang;
    let msg = match q.done.as_deref() {
        Some("saved") => l.t("Changes saved.", "Cambios guardados."),
        Some("approved") => l.t(
            "The visitor is on the approved list.",
            "El visitante está en la lista de aprobados.",
        ),
        Some("removed") => l.t(
            "The visitor was taken off the approved list.",
            "El visitante fue quitado de la lista de aprobados.",
        ),
        Some("booked") => l.t(
            "Visit booked. The visitor gets the PIN by e-mail.",
            "Visita reservada. El visitante recibe el PIN por correo electrónico.",
        ),
        _ => return html! {},
    };
    html! {
        (page::notice(Some(msg)))
        @if let (Some("booked"), Some(v)) = (q.done.as_deref(), q.visit) {
            p { a #booked-visit href={ "/console/visits/" (v) } { (l.t("Open the visit", "Abrir la visita")) } }
        }
    }
}

fn record(staff: &Staff, o: &PersonOverview) -> Markup {
    let l = staff.lang;
    let p = &o.person;
    let no_child = p.restrictions.contains(&Restriction::NoChildContact);
    let unit = o
        .units
        .iter()
        .find(|(u, _)| *u == p.housing_unit_id)
        .map(|(_, n)| n.as_str())
        .unwrap_or("");
    html! {
        h2 { (l.t("Record", "Expediente")) }
        dl.card {
            dt { (l.t("ID number", "Número")) } dd #number { (p.number) }
            dt { (l.t("Housing unit", "Unidad")) } dd #unit { (unit) }
            dt { (l.t("Restrictions", "Restricciones")) }
            dd #restrictions { @if no_child { (l.t("No contact with children", "Sin contacto con menores")) } @else { (l.t("None", "Ninguna")) } }
        }
        form.stack #edit-person method="post" action={ "/console/people/" (p.id) } {
            (staff.csrf_field())
            label for="housing-unit" { (l.t("Housing unit", "Unidad")) }
            select #housing-unit name="housing_unit_id" {
                @for (u, n) in &o.units {
                    option value=(u) selected[*u == p.housing_unit_id] { (n) }
                }
            }
            div.inline {
                input #no-child-contact type="checkbox" name="no_child_contact" value="1" checked[no_child];
                label for="no-child-contact" { (l.t("No contact with children (no visitor under 18)", "Sin contacto con menores (ningún visitante menor de 18)")) }
            }
            button type="submit" { (l.t("Save", "Guardar")) }
        }
    }
}

fn approved(staff: &Staff, o: &PersonOverview, vq: &str) -> Markup {
    let l = staff.lang;
    let pid = o.person.id;
    html! {
        h2 { (l.t("Approved visitors", "Visitantes aprobados")) }
        @if o.approved.is_empty() {
            p.muted { (l.t("Nobody is approved yet.", "Todavía no hay nadie aprobado.")) }
        } @else {
            table #approved {
                thead { tr {
                    th scope="col" { (l.t("Name", "Nombre")) }
                    th scope="col" { (l.t("Photo ID", "Identificación")) }
                    th scope="col" { (l.t("Action", "Acción")) }
                } }
                tbody { @for v in &o.approved { tr data-visitor=(v.id) {
                    td { a href={ "/console/visitors/" (v.id) } { (v.name) } }
                    td { (photo_id(l, v)) }
                    td { form method="post" action={ "/console/people/" (pid) "/approvals/" (v.id) "/remove" } {
                        (staff.csrf_field())
                        button.danger type="submit" { (l.t("Remove", "Quitar")) " " (v.name) }
                    } }
                } } }
            }
        }
        h3 { (l.t("Add a visitor", "Añadir un visitante")) }
        form.inline method="get" action={ "/console/people/" (pid) } role="search" {
            label for="vq" { (l.t("Visitor's name or e-mail", "Nombre o correo del visitante")) }
            input #vq name="vq" type="search" value=(vq);
            button type="submit" { (l.t("Find", "Buscar")) }
        }
        @if !vq.trim().is_empty() {
            @if o.candidates.is_empty() {
                p.muted #no-candidates { (l.t("No visitor matches.", "Ningún visitante coincide.")) }
            } @else {
                ul #candidates { @for v in &o.candidates { li {
                    form.inline method="post" action={ "/console/people/" (pid) "/approvals" } {
                        (staff.csrf_field())
                        input type="hidden" name="visitor_id" value=(v.id);
                        span { (v.name) " · " (v.email) }
                        button type="submit" { (l.t("Add", "Añadir")) " " (v.name) }
                    }
                } } }
            }
        }
        form.inline method="post" action={ "/console/people/" (pid) "/approvals" } {
            (staff.csrf_field())
            label for="visitor-id" { (l.t("Or the visitor's ID", "O el identificador del visitante")) }
            input #visitor-id name="visitor_id" type="text" required;
            button type="submit" { (l.t("Add", "Añadir")) }
        }
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    housing_unit_id: Uuid,
    #[serde(default)]
    no_child_contact: Option<String>,
}

/// `POST /console/people/{id}`: housing unit and restrictions.
pub async fn update(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    c: Checked<UpdateForm>,
) -> Response {
    let (staff, form) = (c.staff, c.form);
    let Ok(id) = raw.parse::<Uuid>() else {
        return not_found(&staff);
    };
    let req = PersonUpdate {
        name: None,
        housing_unit_id: Some(form.housing_unit_id),
        restrictions: Some(if form.no_child_contact.is_some() {
            vec![Restriction::NoChildContact]
        } else {
            vec![]
        }),
    };
    let f = staff.facility();
    let r = st
        .run_audited(
            staff.who(),
            "update_person",
            Target::Person(id),
            move |c, ctx| records::update_person(c, ctx, Some(f), id, &req),
        )
        .await;
    back(&staff, r.map(|_| ()), id, "saved")
}

/// To the person's page with a notice, or the error as a page.
fn back(staff: &Staff, r: crate::service::Result<()>, id: Uuid, done: &str) -> Response {
    match r {
        Ok(()) => Redirect::to(&format!("/console/people/{id}?done={done}")).into_response(),
        Err(e) => page::service_error(staff, e),
    }
}

#[derive(Deserialize)]
pub struct ApprovalForm {
    #[serde(default)]
    visitor_id: String,
}

/// `POST /console/people/{id}/approvals`: add a visitor to the list.
pub async fn add_approval(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    c: Checked<ApprovalForm>,
) -> Response {
    let (staff, form) = (c.staff, c.form);
    let Ok(id) = raw.parse::<Uuid>() else {
        return not_found(&staff);
    };
    let Ok(visitor) = form.visitor_id.trim().parse::<Uuid>() else {
        return bad_form(
            &staff,
            "That is not a visitor's ID. Search by name or e-mail instead.",
            "Eso no es un identificador de visitante. Busque por nombre o correo.",
        );
    };
    let f = staff.facility();
    let req = NewApproval {
        person_id: id,
        visitor_id: visitor,
    };
    let target = Target::Approval {
        person: id,
        visitor,
    };
    let r = st
        .run_audited(staff.who(), "create_approval", target, move |c, ctx| {
            console_queries::approve(c, ctx, Some(f), &req)
        })
        .await;
    back(&staff, r.map(|_| ()), id, "approved")
}

/// `POST /console/people/{id}/approvals/{visitor}/remove`.
pub async fn remove_approval(
    State(st): State<AppState>,
    Path((raw, raw_visitor)): Path<(String, String)>,
    c: Checked<ApprovalForm>,
) -> Response {
    let staff = c.staff;
    let (Ok(id), Ok(visitor)) = (raw.parse::<Uuid>(), raw_visitor.parse::<Uuid>()) else {
        return not_found(&staff);
    };
    let f = staff.facility();
    let target = Target::Approval {
        person: id,
        visitor,
    };
    let r = st
        .run_audited(staff.who(), "remove_approval", target, move |c, ctx| {
            records::remove_approval(c, ctx, Some(f), id, visitor)
        })
        .await;
    back(&staff, r, id, "removed")
}
