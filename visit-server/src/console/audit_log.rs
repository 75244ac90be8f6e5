//! The audit log (administrators): the facility's lines, newest first, a
//! page at a time, and the whole log as a CSV download.
//!
//! Lines made with an admin token carry no facility and are not shown here.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use super::page::{self, Section};
use super::session::Staff;
use crate::service::audit::{self, Entry};
use crate::state::AppState;

/// Lines on one page.
const PAGE: u32 = 50;

/// The most lines a CSV download carries.
const CSV_MAX: u32 = 1_000_000;

/// This page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/audit", get(show))
        .route("/console/audit.csv", get(download))
}

#[derive(Deserialize, Default)]
pub struct Before {
    #[serde(default)]
    before: Option<i64>,
}

/// `GET /console/audit`.
async fn show(State(st): State<AppState>, staff: Staff, Query(q): Query<Before>) -> Response {
    if let Err(r) = staff.require_admin(&st, "view_audit_log").await {
        return r;
    }
    let l = staff.lang;
    let facility = staff.facility();
    let before = q.before;
    let lines = match st
        .run(staff.actor(), move |c, _| {
            audit::list(c, facility, before, PAGE)
        })
        .await
    {
        Ok(v) => v,
        Err(e) => return page::service_error(&staff, e),
    };
    let older = (lines.len() == PAGE as usize)
        .then(|| lines.last().map(|e| e.seq))
        .flatten();
    let body = html! {
        p { a #audit-csv href="/console/audit.csv" download { (l.t("Download CSV (the whole log)", "Descargar CSV (todo el registro)")) } }
        @if lines.is_empty() {
            p.muted { (l.t("No lines.", "No hay líneas.")) }
        } @else {
            table #audit {
                thead { tr {
                    th scope="col" { (l.t("When", "Cuándo")) }
                    th scope="col" { (l.t("Who", "Quién")) }
                    th scope="col" { (l.t("From where", "Desde dónde")) }
                    th scope="col" { (l.t("What", "Qué")) }
                    th scope="col" { (l.t("Target", "Objeto")) }
                    th scope="col" { (l.t("Outcome", "Resultado")) }
                    th scope="col" { (l.t("Before and after", "Antes y después")) }
                } }
                tbody { @for e in &lines { (row(&staff, e)) } }
            }
        }
        nav aria-label=(l.t("Pages of the log", "Páginas del registro")) {
            @if before.is_some() {
                a href="/console/audit" { (l.t("Newest", "Más recientes")) }
                " "
            }
            @if let Some(seq) = older {
                a #audit-older href={ "/console/audit?before=" (seq) } { (l.t("Older", "Anteriores")) }
            }
        }
    };
    page::respond(
        StatusCode::OK,
        page::shell(
            &staff,
            Section::Audit,
            l.t("Audit log", "Registro de auditoría"),
            body,
        ),
    )
}

fn row(staff: &Staff, e: &Entry) -> Markup {
    let l = staff.lang;
    let when =
        e.at.with_timezone(&staff.tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
    html! {
        tr data-seq=(e.seq) {
            td { (when) }
            td { (e.actor) }
            td { (e.origin) }
            td { (e.action) }
            td { (e.target) }
            td { (e.outcome) }
            td {
                @if e.before.is_some() || e.after.is_some() {
                    details {
                        summary { (l.t("Show", "Mostrar")) }
                        @if let Some(b) = &e.before { p { strong { (l.t("Before", "Antes")) } } pre { (b) } }
                        @if let Some(a) = &e.after { p { strong { (l.t("After", "Después")) } } pre { (a) } }
                    }
                }
            }
        }
    }
}

/// `GET /console/audit.csv`: the facility's whole log, oldest first.
async fn download(State(st): State<AppState>, staff: Staff) -> Response {
    if let Err(r) = staff.require_admin(&st, "download_audit_log").await {
        return r;
    }
    let facility = staff.facility();
    let lines = match st
        .run(staff.actor(), move |c, _| {
            audit::list(c, facility, None, CSV_MAX)
        })
        .await
    {
        Ok(v) => v,
        Err(e) => return page::service_error(&staff, e),
    };
    let date = st.now().with_timezone(&staff.tz).date_naive();
    let mut r = (StatusCode::OK, audit::csv(&lines)).into_response();
    page::secure_headers(r.headers_mut(), "text/csv; charset=utf-8");
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"audit-{date}.csv\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
