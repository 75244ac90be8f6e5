//! Terminals (administrators): the facility's fleet (online or not, the
//! software version, the devices, the outbox and recording backlogs, free
//! space), adding a terminal
//! and showing its one-time enrolment code, a new code, and revoking.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use protocol::TerminalRole;
use protocol::admin::{EnrolmentCode, NewTerminal, Terminal};
use protocol::terminal::DeviceState;
use serde::Deserialize;
use uuid::Uuid;

use super::approvals::{Done, Nothing, back};
use super::page::{self, Lang, Section};
use super::session::{Checked, Staff};
use crate::domain::recording::backlog_flags;
use crate::service::audit::Target;
use crate::service::{Page, console_admin, facilities, terminals};
use crate::state::AppState;

/// This page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/terminals", get(show).post(add))
        .route("/console/terminals/{id}/code", post(new_code))
        .route("/console/terminals/{id}/revoke", post(revoke))
}

fn role_words(l: Lang, r: TerminalRole) -> &'static str {
    match r {
        TerminalRole::Lobby => l.t("Lobby", "Vestíbulo"),
        TerminalRole::Unit => l.t("Housing unit", "Unidad"),
    }
}

fn device_words(l: Lang, s: DeviceState) -> &'static str {
    match s {
        DeviceState::Ok => l.t("working", "funciona"),
        DeviceState::Degraded => l.t("degraded", "degradado"),
        DeviceState::Missing => l.t("missing", "no encontrado"),
        DeviceState::Failed => l.t("failing", "falla"),
    }
}

/// `GET /console/terminals`.
async fn show(State(st): State<AppState>, staff: Staff, Query(q): Query<Done>) -> Response {
    if let Err(r) = staff.require_admin(&st, "view_terminals").await {
        return r;
    }
    let l = staff.lang;
    let facility = staff.facility();
    let loaded = st
        .run(staff.actor(), move |c, ctx| {
            let page = Page::new(Some(Page::MAX_LIMIT), None);
            Ok((
                terminals::list(c, ctx, Some(facility), facility, page)?,
                facilities::housing_units(c, facility)?,
            ))
        })
        .await;
    let (fleet, units) = match loaded {
        Ok(v) => v,
        Err(e) => return page::service_error(&staff, e),
    };
    let notice = match q.done.as_deref() {
        Some("revoked") => Some(l.t(
            "Terminal revoked: it is refused until it enrols again.",
            "Terminal revocada: se rechaza hasta que se vuelva a registrar.",
        )),
        _ => None,
    };
    let body = html! {
        (page::notice(notice))
        h2 { (l.t("Fleet", "Terminales de la instalación")) }
        (fleet_table(&staff, &fleet, &units, st.now()))
        h2 { (l.t("Add a terminal", "Añadir una terminal")) }
        (add_form(&staff, &units))
    };
    page::respond(
        StatusCode::OK,
        page::shell(
            &staff,
            Section::Terminals,
            l.t("Terminals", "Terminales"),
            body,
        ),
    )
}

fn unit_name(units: &[(Uuid, String)], id: Option<Uuid>) -> String {
    id.and_then(|id| units.iter().find(|(u, _)| *u == id))
        .map(|(_, n)| n.clone())
        .unwrap_or_default()
}

fn fleet_table(
    staff: &Staff,
    fleet: &[Terminal],
    units: &[(Uuid, String)],
    now: DateTime<Utc>,
) -> Markup {
    let l = staff.lang;
    html! {
        @if fleet.is_empty() {
            p.muted { (l.t("No terminals yet.", "Aún no hay terminales.")) }
        } @else {
            table #fleet {
                thead { tr {
                    th scope="col" { (l.t("Location", "Ubicación")) }
                    th scope="col" { (l.t("Role", "Función")) }
                    th scope="col" { (l.t("Housing unit", "Unidad")) }
                    th scope="col" { (l.t("Status", "Estado")) }
                    th scope="col" { (l.t("Software", "Software")) }
                    th scope="col" { (l.t("Devices", "Dispositivos")) }
                    th scope="col" { (l.t("Outbox", "Pendientes")) }
                    th scope="col" { (l.t("Recordings", "Grabaciones")) }
                    th scope="col" { (l.t("Actions", "Acciones")) }
                } }
                tbody {
                    @for t in fleet { (fleet_row(staff, t, units, now)) }
                }
            }
        }
    }
}

fn fleet_row(staff: &Staff, t: &Terminal, units: &[(Uuid, String)], now: DateTime<Utc>) -> Markup {
    let l = staff.lang;
    let seen = t.last_seen_at.map(|s| {
        s.with_timezone(&staff.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    });
    html! {
        tr data-terminal=(t.id) {
            th scope="row" { (t.location) }
            td { (role_words(l, t.role)) }
            td { (unit_name(units, t.housing_unit_id)) }
            td {
                @if t.revoked_at.is_some() {
                    span.status.revoked { (l.t("Revoked", "Revocada")) }
                } @else if t.online {
                    span.status.online { (l.t("Online", "En línea")) }
                } @else {
                    span.status.offline { (l.t("Offline", "Sin conexión")) }
                }
                @if let Some(s) = &seen {
                    br; span.muted { (l.t("last seen ", "visto por última vez ")) (s) }
                } @else if t.enrolled_at.is_none() {
                    br; span.muted { (l.t("not enrolled yet", "aún sin registrar")) }
                }
            }
            td { (t.software_version.clone().unwrap_or_default()) }
            td { @for d in &t.devices { (d.device) ": " (device_words(l, d.state)) br; } }
            td { @if let Some(n) = t.outbox_pending { (n) } }
            td.recordings { (backlog(l, t, now)) }
            td {
                form.inline method="post" action={ "/console/terminals/" (t.id) "/code" } {
                    (staff.csrf_field())
                    button.plain type="submit" { (l.t("New enrolment code for ", "Nuevo código de registro para ")) (t.location) }
                }
                @if t.revoked_at.is_none() {
                    form.inline method="post" action={ "/console/terminals/" (t.id) "/revoke" } {
                        (staff.csrf_field())
                        button.danger type="submit" { (l.t("Revoke ", "Revocar ")) (t.location) }
                    }
                }
            }
        }
    }
}

/// Megabytes, for people.
fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1_000_000.0)
}

/// The recording backlog a terminal last reported and its free space,
/// flagged when segments have waited long or the disk is filling.
fn backlog(l: Lang, t: &Terminal, now: DateTime<Utc>) -> Markup {
    let pending = t.recordings_pending.unwrap_or(0);
    let flags = backlog_flags(pending, t.recordings_pending_since, t.data_free_bytes, now);
    html! {
        @if pending > 0 {
            span class=[flags.stale.then_some("error")] {
                (pending) " " (l.t("recordings", "grabaciones")) " ("
                (megabytes(t.recordings_pending_bytes.unwrap_or(0))) ") "
                (l.t("waiting to upload", "esperando para subir"))
            }
            @if flags.stale { br; strong.error { (l.t("waiting for over an hour", "esperando desde hace más de una hora")) } }
        } @else if t.recordings_pending.is_some() {
            span.muted { (l.t("none waiting", "ninguna en espera")) }
        }
        @if let Some(free) = t.data_free_bytes {
            br;
            span class=[flags.low_disk.then_some("error")] {
                (l.t("free space", "espacio libre")) ": " (megabytes(free))
                @if flags.low_disk { " · " (l.t("low disk space", "poco espacio en disco")) }
            }
        }
    }
}

fn add_form(staff: &Staff, units: &[(Uuid, String)]) -> Markup {
    let l = staff.lang;
    html! {
        form.stack #add-terminal method="post" action="/console/terminals" {
            (staff.csrf_field())
            label for="t-role" { (l.t("Role", "Función")) }
            select #t-role name="role" {
                option value="lobby" { (role_words(l, TerminalRole::Lobby)) }
                option value="unit" { (role_words(l, TerminalRole::Unit)) }
            }
            label for="t-location" { (l.t("Location (e.g. Lobby monitor 2)", "Ubicación (p. ej. Monitor del vestíbulo 2)")) }
            input #t-location name="location" type="text" required maxlength="100";
            label for="t-unit" { (l.t("Housing unit (unit terminals only)", "Unidad (solo terminales de unidad)")) }
            select #t-unit name="housing_unit" {
                option value="" { (l.t("None", "Ninguna")) }
                @for (id, name) in units { option value=(id) { (name) } }
            }
            button type="submit" { (l.t("Add the terminal", "Añadir la terminal")) }
        }
    }
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    housing_unit: String,
}

/// `POST /console/terminals`: the new terminal's code, shown once.
async fn add(State(st): State<AppState>, c: Checked<AddForm>) -> Response {
    let (staff, f) = (c.staff, c.form);
    if let Err(r) = staff.require_admin(&st, "create_terminal").await {
        return r;
    }
    let role = if f.role == "unit" {
        TerminalRole::Unit
    } else {
        TerminalRole::Lobby
    };
    let unit = match role {
        TerminalRole::Unit => f.housing_unit.parse::<Uuid>().ok(),
        TerminalRole::Lobby => None,
    };
    let req = NewTerminal {
        role,
        location: f.location,
        housing_unit_id: unit,
    };
    let facility = staff.facility();
    let r = st
        .run_audited_create(staff.who(), "create_terminal", move |c, ctx| {
            let code = terminals::create(c, ctx, facility, &req)?;
            let target = Target::Terminal(code.terminal.id);
            Ok((code, target))
        })
        .await;
    match r {
        Ok(code) => code_page(&staff, &code),
        Err(e) => page::service_error(&staff, e),
    }
}

/// `POST /console/terminals/{id}/code`.
async fn new_code(
    State(st): State<AppState>,
    Path(id): Path<Uuid>,
    c: Checked<Nothing>,
) -> Response {
    let staff = c.staff;
    if let Err(r) = staff.require_admin(&st, "new_enrolment_code").await {
        return r;
    }
    let scope = Some(staff.facility());
    let r = st
        .run_audited(
            staff.who(),
            "new_enrolment_code",
            Target::Terminal(id),
            move |c, ctx| console_admin::new_enrolment_code(c, ctx, scope, id),
        )
        .await;
    match r {
        Ok(code) => code_page(&staff, &code),
        Err(e) => page::service_error(&staff, e),
    }
}

/// `POST /console/terminals/{id}/revoke`.
async fn revoke(State(st): State<AppState>, Path(id): Path<Uuid>, c: Checked<Nothing>) -> Response {
    let staff = c.staff;
    if let Err(r) = staff.require_admin(&st, "revoke_terminal").await {
        return r;
    }
    let scope = Some(staff.facility());
    let r = st
        .run_audited(
            staff.who(),
            "revoke_terminal",
            Target::Terminal(id),
            move |c, ctx| terminals::revoke(c, ctx, scope, id),
        )
        .await;
    match r {
        Ok(_) => back("/console/terminals", "revoked"),
        Err(e) => page::service_error(&staff, e),
    }
}

/// The one-time code, big enough to read across a room, with its expiry.
fn code_page(staff: &Staff, code: &EnrolmentCode) -> Response {
    let l = staff.lang;
    let expires = code
        .expires_at
        .with_timezone(&staff.tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let body = html! {
        p.notice role="status" {
            (l.t("Type this code on the terminal ", "Escriba este código en la terminal "))
            strong { (code.terminal.location) }
            (l.t(". It works once and is shown only now.", ". Funciona una sola vez y solo se muestra ahora."))
        }
        p { code.secret #enrolment-code { (code.code) } }
        p { (l.t("It expires at ", "Caduca el ")) span #enrolment-expires { (expires) } }
        p { a href="/console/terminals" { (l.t("Back to the terminals", "Volver a las terminales")) } }
    };
    page::respond(
        StatusCode::OK,
        page::shell(
            staff,
            Section::Terminals,
            l.t("Enrolment code", "Código de registro"),
            body,
        ),
    )
}
