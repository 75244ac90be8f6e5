//! Today: the facility's day board. The table is one fragment
//! (`/console/today/board`) that the page shows and the script fetches
//! again whenever the server-sent events stream (`/console/today/events`)
//! says the day changed: a check-in, a join, media flowing or stopping, a
//! status. The stream looks at the day's version every 250 ms, so the
//! board follows within a second.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::page::{self, Lang, Section, local_time};
use super::session::Staff;
use super::words;
use crate::service::board::{self, Quality, Row};
use crate::service::{facilities, sessions};
use crate::state::AppState;

/// The board's filters (all optional), as query parameters.
#[derive(Deserialize, Default, Clone)]
pub struct Filter {
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    unit: Option<String>,
}

impl Filter {
    /// The chosen day, else today at the facility (by the server's clock).
    fn date(&self, staff: &Staff, now: chrono::DateTime<Utc>) -> NaiveDate {
        self.date
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .unwrap_or_else(|| now.with_timezone(&staff.tz).date_naive())
    }

    fn keeps(&self, row: &Row) -> bool {
        let want =
            |f: &Option<String>, v: &str| f.as_deref().is_none_or(|f| f.is_empty() || f == v);
        want(&self.status, words::status_code(row.status))
            && want(&self.kind, &row.kind)
            && want(&self.unit, &row.housing_unit_id.to_string())
    }

    fn query(&self, date: NaiveDate) -> String {
        let mut q = format!("date={date}");
        for (k, v) in [
            ("status", &self.status),
            ("kind", &self.kind),
            ("unit", &self.unit),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                q.push_str(&format!("&{k}={}", super::session::encode(v)));
            }
        }
        q
    }
}

/// `GET /console/`: the day board with its filters.
pub async fn page(State(st): State<AppState>, staff: Staff, Query(f): Query<Filter>) -> Response {
    let l = staff.lang;
    let date = f.date(&staff, st.now());
    let facility = staff.facility();
    let now = st.now();
    let loaded = st
        .run(staff.actor(), move |c, _| {
            Ok((
                board::day(c, facility, date)?,
                facilities::housing_units(c, facility)?,
            ))
        })
        .await;
    let (rows, units) = match loaded {
        Ok(v) => v,
        Err(e) => {
            return page::problem(
                Some(&staff),
                l,
                StatusCode::SERVICE_UNAVAILABLE,
                &e.to_string(),
            );
        }
    };
    let query = f.query(date);
    let body = html! {
        form.inline method="get" action="/console/" aria-label=(l.t("Filter the visits", "Filtrar las visitas")) {
            label { (l.t("Day", "Día")) input type="date" name="date" value=(date.to_string()); }
            label { (l.t("Status", "Estado"))
                select name="status" {
                    option value="" { (l.t("All", "Todos")) }
                    @for s in words::STATUSES {
                        option value=(words::status_code(s)) selected[f.status.as_deref() == Some(words::status_code(s))] { (words::status(l, s)) }
                    }
                }
            }
            label { (l.t("Kind", "Tipo"))
                select name="kind" {
                    option value="" { (l.t("All", "Todos")) }
                    @for k in ["onsite", "remote"] {
                        option value=(k) selected[f.kind.as_deref() == Some(k)] { (words::kind(l, k)) }
                    }
                }
            }
            label { (l.t("Housing unit", "Unidad"))
                select name="unit" {
                    option value="" { (l.t("All", "Todas")) }
                    @for (id, name) in &units {
                        option value=(id) selected[f.unit.as_deref() == Some(id.to_string().as_str())] { (name) }
                    }
                }
            }
            button type="submit" { (l.t("Show", "Mostrar")) }
        }
        p.live #live-status role="status" aria-live="polite"
            data-updated=(l.t("Updated at", "Actualizado a las"))
            data-lost=(l.t("Live updates lost: reload the page.", "Se perdieron las actualizaciones: recargue la página."))
            data-connected=(l.t("Live: changes appear as they happen.", "En directo: los cambios aparecen al momento.")) {
            (l.t("Reload the page to see changes.", "Recargue la página para ver los cambios."))
        }
        div #board data-live={ "/console/today/events?" (query) } data-fragment={ "/console/today/board?" (query) } {
            (table(l, &staff, &rows, &f, now))
        }
    };
    let title = format!("{} · {}", l.t("Today's visits", "Visitas del día"), date);
    page::respond(
        StatusCode::OK,
        page::shell(&staff, Section::Today, &title, body),
    )
}

/// `GET /console/today/board`: the table alone, for the live update.
pub async fn board(State(st): State<AppState>, staff: Staff, Query(f): Query<Filter>) -> Response {
    let date = f.date(&staff, st.now());
    let facility = staff.facility();
    let now = st.now();
    match st
        .run(staff.actor(), move |c, _| board::day(c, facility, date))
        .await
    {
        Ok(rows) => {
            let mut r = (
                StatusCode::OK,
                table(staff.lang, &staff, &rows, &f, now).into_string(),
            )
                .into_response();
            page::secure_headers(r.headers_mut(), "text/html; charset=utf-8");
            r
        }
        Err(e) => page::problem(
            Some(&staff),
            staff.lang,
            StatusCode::SERVICE_UNAVAILABLE,
            &e.to_string(),
        ),
    }
}

fn table(l: Lang, staff: &Staff, rows: &[Row], f: &Filter, now: chrono::DateTime<Utc>) -> Markup {
    let shown: Vec<&Row> = rows.iter().filter(|r| f.keeps(r)).collect();
    html! {
        @if shown.is_empty() {
            p #board-empty { (l.t("No visits match.", "Ninguna visita coincide.")) }
        } @else {
            table #visits {
                caption.muted { (shown.len()) " " (l.t("visits", "visitas")) }
                thead { tr {
                    th scope="col" { (l.t("Time", "Hora")) }
                    th scope="col" { (l.t("Kind", "Tipo")) }
                    th scope="col" { (l.t("Person", "Persona")) }
                    th scope="col" { (l.t("Visitors", "Visitantes")) }
                    th scope="col" { (l.t("Terminal", "Terminal")) }
                    th scope="col" { (l.t("Status", "Estado")) }
                    th scope="col" { (l.t("Checked in", "Registro")) }
                    th scope="col" { (l.t("Connected", "Conectada")) }
                    th scope="col" { (l.t("Call", "Llamada")) }
                } }
                tbody {
                    @for r in shown {
                        tr data-visit=(r.id) data-status=(words::status_code(r.status)) {
                            td { a href={ "/console/visits/" (r.id) } { (local_time(staff.tz, r.start)) "–" (local_time(staff.tz, r.end)) } }
                            td { (words::kind(l, &r.kind)) }
                            td { (r.person) " " span.muted { "#" (r.person_number) " · " (r.housing_unit) } }
                            td { (r.visitors.join(", ")) }
                            td { (r.terminals.join(", ")) }
                            td { span class={ "status " (words::status_code(r.status)) } { (words::status(l, r.status)) } }
                            td.checkin { @if let Some(t) = r.checked_in_at { (local_time(staff.tz, t)) } }
                            td { @if let Some(t) = r.connected_since.filter(|_| r.status == protocol::visit::VisitStatus::InProgress) {
                                ((now - t).num_minutes().max(0)) " min" } }
                            td { (quality(l, &r.quality)) }
                        }
                    }
                }
            }
        }
    }
}

fn quality(l: Lang, q: &Quality) -> String {
    match q {
        Quality::Unknown => String::new(),
        Quality::Good => l.t("Media flowing", "Audio y vídeo fluyen").to_string(),
        Quality::Interrupted => l.t("Interrupted", "Interrumpida").to_string(),
        Quality::Problem(cause) => format!("{}: {cause}", l.t("Problem", "Problema")),
        Quality::Report { loss, rtt_ms } => format!(
            "{} {:.1} %{}",
            l.t("loss", "pérdida"),
            loss * 100.0,
            rtt_ms.map(|r| format!(", {r} ms")).unwrap_or_default()
        ),
    }
}

/// `GET /console/today/events`: `change` whenever the day's visits change.
/// Ends when the session does (the script then reloads into sign-in).
pub async fn events(State(st): State<AppState>, staff: Staff, Query(f): Query<Filter>) -> Response {
    let date = f.date(&staff, st.now());
    let facility = staff.facility();
    let token = staff.token.clone();
    let stream = futures_util::stream::unfold(
        (st, None::<(i64, i64)>, 0u32),
        move |(st, last, mut ticks)| {
            let token = token.clone();
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    if st.is_closing() {
                        return None;
                    }
                    ticks = ticks.wrapping_add(1);
                    let check_session = ticks % 120 == 0;
                    let t = token.clone();
                    let v = st
                        .run("console", move |c, ctx| {
                            if check_session && !sessions::is_live(c, ctx, &t)? {
                                return Ok(None);
                            }
                            board::version(c, facility, date).map(Some)
                        })
                        .await;
                    match v {
                        Ok(Some(v)) if Some(v) != last => {
                            let ev: Result<Event, Infallible> =
                                Ok(Event::default().event("change").data("day"));
                            return Some((ev, (st, Some(v), ticks)));
                        }
                        Ok(Some(_)) => continue,
                        _ => return None,
                    }
                }
            }
        },
    );
    let mut r = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}
