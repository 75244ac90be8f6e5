//! A visit's recording in the console: the section on the visit's page
//! (`section`), the page that plays every party in step (`page` here, with
//! `web/recording.js`), the segments it plays and the administrator's
//! download (`media`).
//!
//! The player is one shared clock (wall-clock time since the recording's
//! first segment) and one `<video>` per party; the script gives each video
//! the segment that covers the shared time and its position in it, so the
//! parties stay in step across segments and seeks. The segments and their
//! times go to the script in a data attribute: no inline script, so the
//! console's CSP (`script-src 'self'`) holds.

mod media;
mod range;
pub mod section;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use protocol::recording::PartyRole;
use serde_json::json;
use uuid::Uuid;

use super::page::{self, Lang, Section};
use super::session::Staff;
use super::visit::scoped;
use crate::service::audit::{self, Target};
use crate::service::recordings::{self, Summary};
use crate::service::{self, in_scope, people, visits};
use crate::state::AppState;

const JS: &str = include_str!("../../../web/recording.js");

/// The recording's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/visits/{visit_id}/recording", get(show))
        .route(
            "/console/visits/{visit_id}/recording.tar",
            get(media::download),
        )
        .route(
            "/console/visits/{visit_id}/confidential",
            post(section::set),
        )
        .route(
            "/console/recordings/{visit_id}/segments/{segment_id}",
            get(media::segment),
        )
        .route(
            "/console/static/recording.js",
            get(|| async { super::asset(JS, "text/javascript; charset=utf-8") }),
        )
}

/// Who a party is, in words staff know.
pub struct Names<'a> {
    pub visit: Uuid,
    pub person: &'a str,
    pub visitors: &'a [(Uuid, String)],
}

impl Names<'_> {
    /// The person, a visitor by name, the lobby seat of an on-site visit.
    pub fn party(&self, l: Lang, role: PartyRole, party: Uuid) -> String {
        if role == PartyRole::Person {
            return self.person.to_string();
        }
        if let Some((_, name)) = self.visitors.iter().find(|(id, _)| *id == party) {
            return name.clone();
        }
        if party == self.visit {
            return l.t("Lobby", "Vestíbulo").to_string();
        }
        l.t("Visitor", "Visitante").to_string()
    }
}

fn not_found(staff: &Staff) -> Response {
    page::problem(
        Some(staff),
        staff.lang,
        StatusCode::NOT_FOUND,
        staff
            .lang
            .t("There is no such recording.", "No existe esa grabación."),
    )
}

/// What the player page needs.
struct Loaded {
    summary: Summary,
    person: String,
    visitors: Vec<(Uuid, String)>,
    start: chrono::DateTime<chrono::Utc>,
}

fn load(
    c: &rusqlite::Connection,
    st: &AppState,
    staff: &Staff,
    visit: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> service::Result<Loaded> {
    let row = visits::get_row(c, visit)?;
    in_scope(Some(staff.facility()), row.facility_id, "visit", visit)?;
    let summary = recordings::summary(c, &st.recordings(), visit, false, now)?;
    let mut visitors = Vec::new();
    for v in visits::visitor_ids(c, visit)? {
        visitors.push((v, people::get_visitor(c, v)?.name));
    }
    Ok(Loaded {
        start: summary.start().unwrap_or(row.start),
        summary,
        person: people::get_person(c, row.person_id)?.name,
        visitors,
    })
}

/// `GET /console/visits/{id}/recording`: any staff member of the facility;
/// opening it is an audit line (`recording_viewed`), the segments it then
/// plays are not.
async fn show(State(st): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let Ok(visit) = Uuid::parse_str(&id) else {
        return not_found(&staff);
    };
    let (state, member, who) = (st.clone(), staff.clone(), staff.who());
    let loaded = st
        .run(staff.actor(), move |c, ctx| {
            let loaded = load(c, &state, &member, visit, ctx.now)?;
            audit::record(
                c,
                ctx.now,
                &audit::Line {
                    who: &who,
                    action: "recording_viewed",
                    target: &Target::Visit(visit),
                    outcome: "done".into(),
                    before: None,
                    after: None,
                },
            )?;
            Ok(loaded)
        })
        .await;
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => return page::service_error(&staff, e),
    };
    tracing::info!(visit_id = %visit, actor = %staff.actor(), "recording viewed");
    let l = staff.lang;
    let names = Names {
        visit,
        person: &loaded.person,
        visitors: &loaded.visitors,
    };
    let body = html! {
        p { a href={ "/console/visits/" (visit) } { (l.t("Back to the visit", "Volver a la visita")) } }
        @if loaded.summary.parties.is_empty() {
            p #recording-state { (l.t("There is nothing recorded to watch.", "No hay nada grabado que ver.")) }
        } @else {
            (player(l, staff.tz, &names, &loaded))
        }
    };
    let title = format!("{} · {}", l.t("Recording", "Grabación"), loaded.person);
    page::respond(
        StatusCode::OK,
        page::shell(&staff, Section::Today, &title, body),
    )
}

/// How long the player takes a crash-recovered last segment to run (its
/// length is unknown; a terminal closes a segment within about 8 s).
const RECOVERED_MS: i64 = 10_000;

/// One video per party, the shared controls, and the segments as data.
fn player(l: Lang, tz: chrono_tz::Tz, names: &Names<'_>, loaded: &Loaded) -> Markup {
    let parties = &loaded.summary.parties;
    let offset = |t: chrono::DateTime<chrono::Utc>| (t - loaded.start).num_milliseconds().max(0);
    // A segment recovered after a crash has no known length: it lasts until
    // the party's next one, or (the last) the longest a segment runs.
    let spans = |segs: &[recordings::PlaySegment]| -> Vec<(i64, i64)> {
        segs.iter()
            .enumerate()
            .map(|(i, s)| {
                let start = offset(s.started_at);
                let dur = match (s.duration_ms, segs.get(i + 1)) {
                    (0, Some(next)) => (offset(next.started_at) - start).max(0),
                    (0, None) => RECOVERED_MS,
                    (d, _) => d as i64,
                };
                (start, dur)
            })
            .collect()
    };
    let timed: Vec<Vec<(i64, i64)>> = parties.iter().map(|p| spans(&p.segments)).collect();
    let total = timed
        .iter()
        .flatten()
        .map(|(s, d)| s + d)
        .max()
        .unwrap_or(0);
    let data = json!({
        "total": total,
        "parties": parties.iter().zip(&timed).map(|(p, t)| json!({
            "segments": p.segments.iter().zip(t).map(|(s, (start, dur))| json!({
                "url": format!("/console/recordings/{}/segments/{}", names.visit, s.id),
                "start": start,
                "dur": dur,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    html! {
        div #player data-segments=(data.to_string()) {
            div.videos {
                @for (i, p) in parties.iter().enumerate() {
                    @let name = names.party(l, p.role, p.party);
                    figure {
                        video id={ "party-" (i) } preload="auto" playsinline aria-label=(name) {}
                        figcaption { (name) }
                    }
                }
            }
            div.controls {
                button #play type="button" data-play=(l.t("Play", "Reproducir")) data-pause=(l.t("Pause", "Pausa")) { (l.t("Play", "Reproducir")) }
                label for="seek" { (l.t("Position", "Posición")) }
                input #seek type="range" min="0" max=(total) step="100" value="0";
                output #time for="seek" { "0:00 / " (section::length(total as u64)) }
            }
            // This page's own script, after the data it reads.
            script src="/console/static/recording.js" defer {}
            p.muted { (l.t("Recorded from", "Grabada desde")) " " (loaded.start.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_party_is_named_as_staff_know_them() {
        let (visit, maria) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let visitors = [(maria, "Maria Smith".to_string())];
        let names = Names {
            visit,
            person: "James Smith",
            visitors: &visitors,
        };
        let person = names.party(Lang::En, PartyRole::Person, Uuid::from_u128(9));
        assert_eq!(person, "James Smith");
        assert_eq!(
            names.party(Lang::En, PartyRole::Visitor, maria),
            "Maria Smith"
        );
        assert_eq!(
            names.party(Lang::Es, PartyRole::Visitor, visit),
            "Vestíbulo"
        );
        assert_eq!(
            names.party(Lang::En, PartyRole::Visitor, Uuid::from_u128(7)),
            "Visitor"
        );
    }
}
