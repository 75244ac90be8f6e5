//! Booking a visit on a visitor's behalf: the free slots of a day (the
//! same list as the booking API's), each a button that books it for the
//! chosen approved visitors through the same service, audited as
//! `book_visit`. The visitor gets the PIN by e-mail; the page never shows it.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use protocol::VisitKind;
use protocol::admin::{FreeSlot, NewVisit};
use uuid::Uuid;

use super::{bad_form, not_found};
use crate::console::page::{self, Section};
use crate::console::session::{Checked, Staff};
use crate::console::words;
use crate::service::audit::Target;
use crate::service::console_queries::{self, PersonOverview};
use crate::service::slots;
use crate::state::AppState;

/// The booking page's choices: day, kind, visitors (repeated `visitor`).
struct BookQuery {
    date: Option<NaiveDate>,
    kind: VisitKind,
    visitors: Vec<Uuid>,
    start: Option<DateTime<Utc>>,
}

impl BookQuery {
    fn parse(pairs: &[(String, String)]) -> BookQuery {
        let mut q = BookQuery {
            date: None,
            kind: VisitKind::Onsite,
            visitors: vec![],
            start: None,
        };
        for (k, v) in pairs {
            match k.as_str() {
                "date" => q.date = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok(),
                "kind" if v == "remote" => q.kind = VisitKind::Remote,
                "visitor" => q.visitors.extend(v.parse::<Uuid>().ok()),
                "start" => q.start = v.parse().ok(),
                _ => {}
            }
        }
        q
    }

    fn kind_code(&self) -> &'static str {
        match self.kind {
            VisitKind::Remote => "remote",
            VisitKind::Onsite => "onsite",
        }
    }
}

/// `GET /console/people/{id}/book?date=&kind=&visitor=`: the free slots
/// of a day, each with a button that books it for the chosen visitors.
pub async fn page(
    State(st): State<AppState>,
    staff: Staff,
    Path(raw): Path<String>,
    RawQuery(raw_q): RawQuery,
) -> Response {
    let Ok(id) = raw.parse::<Uuid>() else {
        return not_found(&staff);
    };
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw_q.as_deref().unwrap_or("")).unwrap_or_default();
    let mut q = BookQuery::parse(&pairs);
    let date = q
        .date
        .unwrap_or_else(|| st.now().with_timezone(&staff.tz).date_naive());
    let (f, kind) = (staff.facility(), q.kind);
    let loaded = st
        .run(staff.actor(), move |c, ctx| {
            let o = console_queries::person_overview(c, ctx, Some(f), id, "")?;
            let free = slots::free_slots(c, ctx, Some(f), f, date, kind, Some(id))?;
            Ok((o, free))
        })
        .await;
    let (o, free) = match loaded {
        Ok(v) => v,
        Err(e) => return page::service_error(&staff, e),
    };
    q.visitors.retain(|v| o.approved.iter().any(|a| a.id == *v));
    if q.visitors.is_empty() && pairs.iter().all(|(k, _)| k != "date") {
        q.visitors.extend(o.approved.first().map(|v| v.id));
    }
    let body = book_body(&staff, &o, &q, date, &free);
    let l = staff.lang;
    let title = format!(
        "{} · {}",
        l.t("Book a visit", "Reservar una visita"),
        o.person.name
    );
    page::respond(
        StatusCode::OK,
        page::shell(&staff, Section::People, &title, body),
    )
}

fn book_body(
    staff: &Staff,
    o: &PersonOverview,
    q: &BookQuery,
    date: NaiveDate,
    free: &[FreeSlot],
) -> Markup {
    let l = staff.lang;
    let pid = o.person.id;
    html! {
        p { a href={ "/console/people/" (pid) } { (l.t("Back to", "Volver a")) " " (o.person.name) } }
        form.stack #slot-choice method="get" action={ "/console/people/" (pid) "/book" } {
            label for="date" { (l.t("Day", "Día")) }
            input #date name="date" type="date" value=(date.to_string()) required;
            label for="kind" { (l.t("Kind", "Tipo")) }
            select #kind name="kind" {
                @for k in ["onsite", "remote"] {
                    option value=(k) selected[q.kind_code() == k] { (words::kind(l, k)) }
                }
            }
            fieldset {
                legend { (l.t("Visitors", "Visitantes")) }
                @if o.approved.is_empty() {
                    p.muted { (l.t("Nobody is approved yet: add a visitor first.", "Todavía no hay nadie aprobado: añada primero un visitante.")) }
                }
                @for v in &o.approved {
                    div.inline {
                        input type="checkbox" id={ "v-" (v.id) } name="visitor" value=(v.id) checked[q.visitors.contains(&v.id)];
                        label for={ "v-" (v.id) } { (v.name) }
                    }
                }
            }
            button type="submit" { (l.t("Show free times", "Mostrar horas libres")) }
        }
        h2 { (l.t("Free times on", "Horas libres el")) " " (date) }
        @if q.visitors.is_empty() {
            p #choose-visitor { (l.t("Choose at least one visitor.", "Elija al menos un visitante.")) }
        } @else if free.is_empty() {
            p #no-slots { (l.t("No free time that day.", "No hay horas libres ese día.")) }
        } @else {
            ul.cards #slots { @for s in free { li {
                form method="post" action={ "/console/people/" (pid) "/book" } {
                    (staff.csrf_field())
                    input type="hidden" name="start" value=(s.start.to_rfc3339());
                    input type="hidden" name="kind" value=(q.kind_code());
                    @for v in &q.visitors { input type="hidden" name="visitor" value=(v); }
                    button type="submit" data-start=(s.start.to_rfc3339()) {
                        (l.t("Book", "Reservar")) " " (page::local_time(staff.tz, s.start)) "–" (page::local_time(staff.tz, s.end))
                    }
                }
            } } }
        }
    }
}

/// `POST /console/people/{id}/book`: the same booking as the admin API's.
pub async fn submit(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    c: Checked<Vec<(String, String)>>,
) -> Response {
    let staff = c.staff;
    let Ok(id) = raw.parse::<Uuid>() else {
        return not_found(&staff);
    };
    let q = BookQuery::parse(&c.form);
    let Some(start) = q.start else {
        return bad_form(
            &staff,
            "Choose a time from the list.",
            "Elija una hora de la lista.",
        );
    };
    let req = NewVisit {
        person_id: id,
        visitor_ids: q.visitors,
        kind: q.kind,
        start,
        purpose: Default::default(),
    };
    let f = staff.facility();
    let r = st
        .run_audited_create(staff.who(), "book_visit", move |c, ctx| {
            let b = console_queries::book(c, ctx, Some(f), &req)?;
            let target = Target::Visit(b.visit.id);
            Ok((b, target))
        })
        .await;
    match r {
        Ok(b) => Redirect::to(&format!(
            "/console/people/{id}?done=booked&visit={}",
            b.visit.id
        ))
        .into_response(),
        Err(e) => page::service_error(&staff, e),
    }
}
