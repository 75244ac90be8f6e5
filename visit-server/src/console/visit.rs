//! One visit: its parties, its whole history as a timeline (check-in,
//! joins, media flowing, each interruption with its length, call reports,
//! device losses, the sign-in photo), and what staff can do to it: cancel,
//! reschedule (the booking's rules), terminate with a reason that both
//! sides' screens show at once.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use maud::{Markup, html};
use protocol::admin::{
    CancelVisit, CancelledBy, HistoryEntry, Reschedule, TerminateVisit, VisitRecord,
};
use protocol::visit::VisitStatus;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{self, Lang, Section};
use super::session::{Checked, Staff};
use super::words;
use crate::service::audit::Target;
use crate::service::{self, in_scope, people, photos, recordings, reschedule, visits};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/visits/{visit_id}", get(show))
        .route("/console/visits/{visit_id}/cancel", post(cancel))
        .route("/console/visits/{visit_id}/reschedule", post(move_visit))
        .route("/console/visits/{visit_id}/terminate", post(terminate))
        .route("/console/photos/{photo_id}", get(photo))
}

/// The visit with its parties' names, if it is this facility's.
struct Loaded {
    record: VisitRecord,
    person: String,
    visitors: Vec<(Uuid, String)>,
    recording: recordings::Summary,
}

fn load(
    c: &rusqlite::Connection,
    store: &recordings::Store,
    now: DateTime<Utc>,
    facility: Uuid,
    id: Uuid,
) -> service::Result<Loaded> {
    let row = visits::get_row(c, id)?;
    in_scope(Some(facility), row.facility_id, "visit", id)?;
    let record = visits::record_of(c, id)?;
    let person = people::get_person(c, row.person_id)?.name;
    let mut visitors = Vec::new();
    for v in &record.visit.visitor_ids {
        visitors.push((*v, people::get_visitor(c, *v)?.name));
    }
    // The page checks the recording each time it is shown: staff see at
    // once whether a file was altered or lost.
    let recording = recordings::summary(c, store, id, true, now)?;
    Ok(Loaded {
        record,
        person,
        visitors,
        recording,
    })
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /console/visits/{id}`.
pub async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return page::problem(
            Some(&staff),
            staff.lang,
            StatusCode::NOT_FOUND,
            staff
                .lang
                .t("There is no such visit.", "No existe esa visita."),
        );
    };
    let (facility, store) = (staff.facility(), st.recordings());
    let loaded = match st
        .run(staff.actor(), move |c, ctx| {
            load(c, &store, ctx.now, facility, id)
        })
        .await
    {
        Ok(l) => l,
        Err(e) => return page::service_error(&staff, e),
    };
    let l = staff.lang;
    let v = &loaded.record.visit;
    let notice = q.done.as_deref().map(|d| done_words(l, d));
    let body = html! {
        (page::notice(notice.filter(|n| !n.is_empty())))
        dl.card {
            dt { (l.t("When", "Cuándo")) }
            dd { (v.local_date) " " (page::local_time(staff.tz, v.start)) "–" (page::local_time(staff.tz, v.end)) }
            dt { (l.t("Kind", "Tipo")) }
            dd { (words::kind(l, kind_code(v))) }
            dt { (l.t("Status", "Estado")) }
            dd { span #visit-status class={ "status " (words::status_code(v.status)) } { (words::status(l, v.status)) } }
            dt { (l.t("Person", "Persona")) }
            dd { a href={ "/console/people/" (v.person_id) } { (loaded.person) } }
            dt { (l.t("Visitors", "Visitantes")) }
            dd { @for (i, (vid, name)) in loaded.visitors.iter().enumerate() {
                @if i > 0 { ", " } a href={ "/console/visitors/" (vid) } { (name) } } }
        }
        (super::recording::section::section(&staff, v, &super::recording::Names {
            visit: v.id,
            person: &loaded.person,
            visitors: &loaded.visitors,
        }, &loaded.recording))
        h2 { (l.t("History", "Historial")) }
        (timeline(l, &staff, &loaded.record.history))
        (actions(l, &staff, v.id, v.status))
    };
    let title = format!(
        "{} · {} {}",
        l.t("Visit", "Visita"),
        loaded.person,
        page::local_time(staff.tz, v.start)
    );
    page::respond(
        StatusCode::OK,
        page::shell(&staff, Section::Today, &title, body),
    )
}

/// The notice after a change (`?done=`).
fn done_words(l: Lang, done: &str) -> &'static str {
    match done {
        "cancelled" => l.t(
            "The visit is cancelled; the visitors are told.",
            "La visita está cancelada; se avisa a los visitantes.",
        ),
        "moved" => l.t(
            "The visit is moved; the visitors get a new PIN by e-mail.",
            "La visita se cambió; los visitantes reciben un PIN nuevo por correo.",
        ),
        "terminated" => l.t(
            "The visit is ended; both sides were told why.",
            "La visita terminó; se informó a ambas partes del motivo.",
        ),
        "confidential" => l.t(
            "The visit is confidential: it will not be recorded or monitored.",
            "La visita es confidencial: no se grabará ni se supervisará.",
        ),
        "recorded" => l.t(
            "The visit is no longer confidential: it will be recorded.",
            "La visita ya no es confidencial: se grabará.",
        ),
        _ => "",
    }
}

fn kind_code(v: &protocol::admin::Visit) -> &'static str {
    match v.kind {
        protocol::visit::VisitKind::Remote => "remote",
        protocol::visit::VisitKind::Onsite => "onsite",
    }
}

/// The history, oldest first, each line in plain words.
fn timeline(l: Lang, staff: &Staff, history: &[HistoryEntry]) -> Markup {
    let mut interrupted_at: Option<DateTime<Utc>> = None;
    html! {
        ol.timeline #timeline {
            @for h in history {
                @let gap = gap_closed(&mut interrupted_at, h);
                li data-event=(h.event) {
                    time datetime=(h.at.to_rfc3339()) { (h.at.with_timezone(&staff.tz).format("%H:%M:%S")) }
                    " · " strong { (event_words(l, &h.event)) }
                    @if let Some(to) = h.to_status { " → " (words::status(l, to)) }
                    " · " span.muted { (h.actor) }
                    @if let Some(secs) = gap { " · " (l.t("after an interruption of", "tras una interrupción de")) " " (secs) " s" }
                    (detail(l, h))
                }
            }
        }
    }
}

/// The length of the interruption a `media_flowing` line ends, in seconds.
fn gap_closed(interrupted_at: &mut Option<DateTime<Utc>>, h: &HistoryEntry) -> Option<i64> {
    match h.event.as_str() {
        "media_interrupted" => {
            interrupted_at.get_or_insert(h.at);
            None
        }
        "media_flowing" => interrupted_at.take().map(|t| (h.at - t).num_seconds()),
        _ => None,
    }
}

fn event_words(l: Lang, event: &str) -> String {
    let w = match event {
        "booked" => l.t("Booked", "Reservada"),
        "status" => l.t("Status changed", "Cambio de estado"),
        "check_in" => l.t("Visitor checked in", "El visitante se registró"),
        "sign_in" => l.t("Person signed in", "La persona inició sesión"),
        "sign_in_photo" => l.t("Sign-in photo", "Foto de inicio de sesión"),
        "joined_call" => l.t("Joined the call", "Se unió a la llamada"),
        "media_flowing" => l.t("Media flowing", "Audio y vídeo fluyen"),
        "media_interrupted" => l.t("Media interrupted", "Audio y vídeo interrumpidos"),
        "media_problem" => l.t("Media problem", "Problema de audio o vídeo"),
        "device_lost" => l.t("Device lost", "Dispositivo perdido"),
        "device_back" => l.t("Device back", "Dispositivo recuperado"),
        "call_report" => l.t("Call report", "Informe de la llamada"),
        "hung_up" => l.t("Hung up", "Colgó"),
        "terminated" => l.t("Terminated by staff", "Terminada por el personal"),
        "cancelled" => l.t("Cancelled", "Cancelada"),
        "rescheduled" => l.t("Rescheduled", "Cambiada de hora"),
        "end_reached" => l.t("End time reached", "Llegó la hora de fin"),
        "start_reached" => l.t("Start time reached", "Llegó la hora de inicio"),
        "no_show" => l.t("Nobody came", "Nadie se presentó"),
        "recording_started" => l.t("Recording started", "Empezó la grabación"),
        "recording_problem" => l.t("Recording problem", "Problema de grabación"),
        "recording_stored" => l.t("Recording stored", "Grabación guardada"),
        "recording_refused" => l.t(
            "Recording refused (confidential)",
            "Grabación rechazada (confidencial)",
        ),
        "recording_removed" => l.t(
            "Recording removed (retention)",
            "Grabación eliminada (plazo de conservación)",
        ),
        "marked_confidential" => l.t("Marked confidential", "Marcada como confidencial"),
        "unmarked_confidential" => l.t("No longer confidential", "Ya no es confidencial"),
        _ => "",
    };
    if w.is_empty() {
        event.to_string()
    } else {
        w.to_string()
    }
}

/// What a line's detail adds: reasons, devices, a report's figures, the photo.
fn detail(l: Lang, h: &HistoryEntry) -> Markup {
    let d = &h.detail;
    html! {
        @if let Some(r) = d["reason"].as_str() { " · " (l.t("reason", "motivo")) ": " q { (r) } }
        @if let Some(dev) = d["device"].as_str() { " · " (dev) }
        @if let Some(p) = d["problem"].as_str() { " · " (p) }
        @if d["report"].is_object() {
            @let r = &d["report"];
            " · " (l.t("connected", "conectada")) " " (r["connected_ms"].as_u64().unwrap_or(0) / 1000) " s, "
            (r["interruptions"].as_array().map(|a| a.len()).unwrap_or(0)) " " (l.t("interruptions", "interrupciones")) ", "
            (l.t("loss", "pérdida")) " " (format!("{:.1}", r["loss"].as_f64().unwrap_or(0.0) * 100.0)) " %"
            @if let Some(rtt) = r["median_rtt_ms"].as_u64() { ", RTT " (rtt) " ms" }
            @if let Some(codec) = r["video_codec"].as_str() { ", " (codec) }
        }
        @if let Some(photo) = d["photo_id"].as_str() {
            div { img src={ "/console/photos/" (photo) } alt=(l.t("Photo taken at sign-in", "Foto tomada al iniciar sesión")) width="160" height="120"; }
        }
    }
}

/// The forms for what the status allows.
fn actions(l: Lang, staff: &Staff, id: Uuid, status: VisitStatus) -> Markup {
    let open = matches!(
        status,
        VisitStatus::Scheduled | VisitStatus::Pending | VisitStatus::Ready
    );
    let running = matches!(
        status,
        VisitStatus::Pending | VisitStatus::Ready | VisitStatus::InProgress
    );
    html! {
        @if running {
            h2 { (l.t("End this visit for a rule violation", "Terminar esta visita por una infracción")) }
            form.inline method="post" action={ "/console/visits/" (id) "/terminate" } {
                (staff.csrf_field())
                label for="terminate-reason" { (l.t("Reason (both sides see it)", "Motivo (ambas partes lo ven)"))
                    input #terminate-reason name="reason" type="text" required maxlength="200"; }
                button.danger type="submit" { (l.t("Terminate the visit", "Terminar la visita")) }
            }
        }
        @if status == VisitStatus::Scheduled {
            h2 { (l.t("Move to another time", "Cambiar a otra hora")) }
            form.inline method="post" action={ "/console/visits/" (id) "/reschedule" } {
                (staff.csrf_field())
                label for="new-start" { (l.t("New start (facility time)", "Nuevo inicio (hora del centro)"))
                    input #new-start name="start" type="datetime-local" required; }
                button type="submit" { (l.t("Reschedule", "Cambiar la hora")) }
            }
        }
        @if open {
            h2 { (l.t("Cancel", "Cancelar")) }
            form.inline method="post" action={ "/console/visits/" (id) "/cancel" } {
                (staff.csrf_field())
                label for="cancel-reason" { (l.t("Reason (the visitors are told)", "Motivo (se avisa a los visitantes)"))
                    input #cancel-reason name="reason" type="text" required maxlength="200"; }
                button.danger type="submit" { (l.t("Cancel the visit", "Cancelar la visita")) }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    start: String,
}

fn bad_id(staff: &Staff) -> Response {
    page::problem(
        Some(staff),
        staff.lang,
        StatusCode::NOT_FOUND,
        staff
            .lang
            .t("There is no such visit.", "No existe esa visita."),
    )
}

/// Check the visit is this facility's before any change to it (or any
/// look at its recording).
pub(super) fn scoped(c: &rusqlite::Connection, facility: Uuid, id: Uuid) -> service::Result<()> {
    in_scope(
        Some(facility),
        visits::get_row(c, id)?.facility_id,
        "visit",
        id,
    )
}

/// `POST /console/visits/{id}/cancel`: by the facility (never charged).
pub async fn cancel(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Checked<ReasonForm>,
) -> Response {
    let (staff, f) = (c.staff, c.form);
    let Ok(id) = Uuid::parse_str(&id) else {
        return bad_id(&staff);
    };
    let facility = staff.facility();
    let req = CancelVisit {
        by: CancelledBy::Facility,
        reason: f.reason.trim().to_string(),
    };
    let r = st
        .run_audited(
            staff.who(),
            "cancel_visit",
            Target::Visit(id),
            move |c, ctx| {
                scoped(c, facility, id)?;
                visits::cancel(c, ctx, id, &req)
            },
        )
        .await;
    // Sockets waiting for this call learn it will not happen, as after a
    // cancellation through the API.
    if let Ok(visit) = &r {
        st.rooms().broadcast(
            id,
            &protocol::signal::ServerMessage::Status {
                status: visit.status,
            },
        );
    }
    done(&staff, id, r.map(|_| "cancelled"))
}

/// `POST /console/visits/{id}/reschedule`: `start` is facility time.
pub async fn move_visit(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Checked<StartForm>,
) -> Response {
    let (staff, f) = (c.staff, c.form);
    let Ok(id) = Uuid::parse_str(&id) else {
        return bad_id(&staff);
    };
    let Some(start) = NaiveDateTime::parse_from_str(&f.start, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| staff.tz.from_local_datetime(&t).single())
        .map(|t| t.with_timezone(&Utc))
    else {
        return page::problem(
            Some(&staff),
            staff.lang,
            StatusCode::BAD_REQUEST,
            staff.lang.t(
                "Give the new start as a date and time at the facility.",
                "Indique el nuevo inicio como fecha y hora del centro.",
            ),
        );
    };
    let facility = staff.facility();
    let r = st
        .run_audited(
            staff.who(),
            "reschedule_visit",
            Target::Visit(id),
            move |c, ctx| reschedule::reschedule(c, ctx, Some(facility), id, &Reschedule { start }),
        )
        .await;
    done(&staff, id, r.map(|_| "moved"))
}

/// `POST /console/visits/{id}/terminate`: both sides are told at once.
pub async fn terminate(
    State(st): State<AppState>,
    Path(id): Path<String>,
    c: Checked<ReasonForm>,
) -> Response {
    let (staff, f) = (c.staff, c.form);
    let Ok(id) = Uuid::parse_str(&id) else {
        return bad_id(&staff);
    };
    let facility = staff.facility();
    let reason = f.reason.trim().to_string();
    let req = TerminateVisit {
        reason: reason.clone(),
    };
    let r = st
        .run_audited(
            staff.who(),
            "terminate_visit",
            Target::Visit(id),
            move |c, ctx| {
                scoped(c, facility, id)?;
                visits::terminate(c, ctx, id, &req)
            },
        )
        .await;
    if r.is_ok() {
        st.rooms()
            .end(id, protocol::signal::EndReason::Terminated { reason });
    }
    done(&staff, id, r.map(|_| "terminated"))
}

fn done(staff: &Staff, id: Uuid, r: service::Result<&'static str>) -> Response {
    match r {
        Ok(what) => Redirect::to(&format!("/console/visits/{id}?done={what}")).into_response(),
        Err(e) => page::service_error(staff, e),
    }
}

/// `GET /console/photos/{id}`: a sign-in photo of this facility.
pub async fn photo(State(st): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return bad_id(&staff);
    };
    let facility = staff.facility();
    let r = st
        .run(staff.actor(), move |c, _| {
            let owner: String = c.query_row(
                "SELECT t.facility_id FROM sign_in_photos p JOIN terminals t ON t.id = p.terminal_id WHERE p.id = ?1",
                [id.to_string()],
                |r| r.get(0),
            ).map_err(|_| service::Error::not_found("photo", id))?;
            in_scope(Some(facility), Uuid::parse_str(&owner).map_err(|_| service::Error::Internal)?, "photo", id)?;
            photos::get(c, id)
        })
        .await;
    match r {
        Ok(jpeg) => {
            let mut resp = (StatusCode::OK, jpeg).into_response();
            page::secure_headers(resp.headers_mut(), "image/jpeg");
            resp
        }
        Err(e) => page::service_error(&staff, e),
    }
}
