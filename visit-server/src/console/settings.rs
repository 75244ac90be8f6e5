//! Settings (administrators): the facility's name, visitors per visit, the
//! on-site and remote rules (hours per weekday, block length, advance
//! booking, cancellation credit, joining early, price), the ICE servers,
//! the languages, whether administrators need an authenticator, and how
//! long visit recordings are kept.
//! Changes apply to bookings made afterwards.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use protocol::admin::{FacilityUpdate, KindRules, TimeRange, WeeklyHours};
use protocol::signal::IceServer;

use super::approvals::{Done, back};
use super::page::{self, Lang, Section};
use super::session::{Checked, Staff};
use crate::service::audit::Target;
use crate::service::facilities;
use crate::state::AppState;

/// This page's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/console/settings", get(show).post(save))
}

const DAYS: [(&str, &str, &str); 7] = [
    ("mon", "Monday", "Lunes"),
    ("tue", "Tuesday", "Martes"),
    ("wed", "Wednesday", "Miércoles"),
    ("thu", "Thursday", "Jueves"),
    ("fri", "Friday", "Viernes"),
    ("sat", "Saturday", "Sábado"),
    ("sun", "Sunday", "Domingo"),
];

/// The number fields of a kind's rules: (field, English, Spanish).
const NUMBERS: [(&str, &str, &str); 6] = [
    (
        "block",
        "Visit length (minutes)",
        "Duración de la visita (minutos)",
    ),
    (
        "advance",
        "Book at least this long before (minutes)",
        "Reservar con al menos esta antelación (minutos)",
    ),
    (
        "cancel",
        "Cancellation with credit up to (minutes before)",
        "Cancelación con crédito hasta (minutos antes)",
    ),
    (
        "visitor_early",
        "Visitor may join early (minutes)",
        "El visitante puede entrar antes (minutos)",
    ),
    (
        "person_early",
        "Person may join early (minutes)",
        "La persona puede entrar antes (minutos)",
    ),
    (
        "price",
        "Price of one visit (cents)",
        "Precio de una visita (centavos)",
    ),
];

fn day(h: &WeeklyHours, d: &str) -> Vec<TimeRange> {
    match d {
        "mon" => h.mon.clone(),
        "tue" => h.tue.clone(),
        "wed" => h.wed.clone(),
        "thu" => h.thu.clone(),
        "fri" => h.fri.clone(),
        "sat" => h.sat.clone(),
        _ => h.sun.clone(),
    }
}

fn number(r: &KindRules, f: &str) -> u32 {
    match f {
        "block" => r.block_minutes,
        "advance" => r.min_advance_minutes,
        "cancel" => r.cancel_credit_minutes,
        "visitor_early" => r.visitor_early_minutes,
        "person_early" => r.person_early_minutes,
        _ => r.price_cents,
    }
}

/// Hours as typed: `08:00-11:00, 13:00-16:00`.
fn ranges_text(ranges: &[TimeRange]) -> String {
    ranges
        .iter()
        .map(|r| format!("{}-{}", r.start, r.end))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ICE servers as typed: one URL per line, or JSON when any has a
/// user name or credential (or more than one URL).
fn ice_text(ice: &[IceServer]) -> String {
    let plain = ice
        .iter()
        .all(|s| s.username.is_none() && s.credential.is_none() && s.urls.len() == 1);
    if plain {
        ice.iter()
            .map(|s| s.urls[0].clone())
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        serde_json::to_string_pretty(ice).unwrap_or_default()
    }
}

/// `GET /console/settings`.
async fn show(State(st): State<AppState>, staff: Staff, Query(q): Query<Done>) -> Response {
    if let Err(r) = staff.require_admin(&st, "view_settings").await {
        return r;
    }
    let l = staff.lang;
    let id = staff.facility();
    let f = match st
        .run(staff.actor(), move |c, _| facilities::get(c, id))
        .await
    {
        Ok(f) => f.to_wire(),
        Err(e) => return page::service_error(&staff, e),
    };
    let notice = q.done.as_deref().map(|_| {
        l.t(
            "Settings saved. They apply to bookings made from now on.",
            "Configuración guardada. Se aplica a las reservas que se hagan a partir de ahora.",
        )
    });
    let body = html! {
        (page::notice(notice))
        p { (l.t("Changes apply to new bookings; visits already booked keep their times.",
                 "Los cambios se aplican a las reservas nuevas; las visitas ya reservadas conservan su horario.")) }
        form.stack #settings method="post" action="/console/settings" {
            (staff.csrf_field())
            h2 { (l.t("Facility", "Centro")) }
            label for="s-name" { (l.t("Name", "Nombre")) }
            input #s-name name="name" type="text" required maxlength="100" value=(f.name);
            label for="s-max" { (l.t("Visitors per visit (1 to 10)", "Visitantes por visita (1 a 10)")) }
            input #s-max name="max_visitors" type="number" min="1" max="10" required value=(f.max_visitors_per_visit);
            (kind_fields(l, "onsite", l.t("On-site visits", "Visitas presenciales"), &f.onsite))
            (kind_fields(l, "remote", l.t("Remote visits", "Visitas remotas"), &f.remote))
            h2 { (l.t("Calls", "Llamadas")) }
            label for="s-ice" { (l.t("STUN/TURN servers: one URL per line, or JSON (a list of {\"urls\", \"username\", \"credential\"})",
                                     "Servidores STUN/TURN: una URL por línea, o JSON (una lista de {\"urls\", \"username\", \"credential\"})")) }
            textarea #s-ice name="ice" rows="4" { (ice_text(&f.ice_servers)) }
            h2 { (l.t("Recordings", "Grabaciones")) }
            label for="s-retention" { (l.t("Keep visit recordings for (days after the visit, 1 to 3650)",
                                           "Conservar las grabaciones de las visitas (días después de la visita, 1 a 3650)")) }
            input #s-retention name="retention_days" type="number" min="1" max="3650" required value=(f.recording_retention_days);
            h2 { (l.t("Languages and sign-in", "Idiomas e inicio de sesión")) }
            fieldset {
                legend { (l.t("Languages offered", "Idiomas ofrecidos")) }
                input #s-lang-en type="checkbox" name="lang_en" value="on" checked[f.languages.iter().any(|x| x == "en")];
                label for="s-lang-en" { "English" }
                " "
                input #s-lang-es type="checkbox" name="lang_es" value="on" checked[f.languages.iter().any(|x| x == "es")];
                label for="s-lang-es" { "Español" }
            }
            div {
                input #s-totp type="checkbox" name="require_totp" value="on" checked[f.require_totp_for_admins];
                " "
                label for="s-totp" { (l.t("Require an authenticator for administrators", "Exigir un autenticador a los administradores")) }
            }
            button type="submit" { (l.t("Save the settings", "Guardar la configuración")) }
        }
    };
    page::respond(
        StatusCode::OK,
        page::shell(
            &staff,
            Section::Settings,
            l.t("Settings", "Configuración"),
            body,
        ),
    )
}

fn kind_fields(l: Lang, kind: &str, title: &str, r: &KindRules) -> Markup {
    html! {
        h2 { (title) }
        @for (f, en, es) in NUMBERS {
            label for={ "s-" (kind) "-" (f) } { (l.t(en, es)) }
            input id={ "s-" (kind) "-" (f) } name={ (kind) "_" (f) } type="number" min="0" required value=(number(r, f));
        }
        fieldset {
            legend { (l.t("Hours (e.g. 08:00-11:00, 13:00-16:00; empty for no visits)", "Horario (p. ej. 08:00-11:00, 13:00-16:00; vacío si no hay visitas)")) }
            @for (d, en, es) in DAYS {
                div {
                    label for={ "s-" (kind) "-" (d) } { (l.t(en, es)) }
                    " "
                    input id={ "s-" (kind) "-" (d) } name={ (kind) "_" (d) } type="text" value=(ranges_text(&day(&r.hours, d)));
                }
            }
        }
    }
}

type Form = HashMap<String, String>;

fn field<'a>(f: &'a Form, name: &str) -> &'a str {
    f.get(name).map(|s| s.trim()).unwrap_or("")
}

fn parse_number(f: &Form, name: &str, what: &str) -> Result<u32, String> {
    field(f, name)
        .parse()
        .map_err(|_| format!("{what}: a whole number, 0 or more"))
}

fn parse_ranges(text: &str, what: &str) -> Result<Vec<TimeRange>, String> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (a, b) = p
                .split_once(['-', '–'])
                .ok_or_else(|| format!("{what}: write hours as 08:00-11:00"))?;
            Ok(TimeRange {
                start: a.trim().to_string(),
                end: b.trim().to_string(),
            })
        })
        .collect()
}

fn parse_kind(f: &Form, kind: &str, l: Lang) -> Result<KindRules, String> {
    let name = |x: &str| format!("{kind}_{x}");
    let label = |x: &str| {
        let words = NUMBERS
            .iter()
            .find(|(n, _, _)| *n == x)
            .map(|(_, en, es)| l.t(en, es))
            .unwrap_or("");
        format!("{kind}: {words}")
    };
    let hours = |d: &str| parse_ranges(field(f, &name(d)), &format!("{kind} {d}"));
    Ok(KindRules {
        block_minutes: parse_number(f, &name("block"), &label("block"))?,
        min_advance_minutes: parse_number(f, &name("advance"), &label("advance"))?,
        cancel_credit_minutes: parse_number(f, &name("cancel"), &label("cancel"))?,
        visitor_early_minutes: parse_number(f, &name("visitor_early"), &label("visitor_early"))?,
        person_early_minutes: parse_number(f, &name("person_early"), &label("person_early"))?,
        price_cents: parse_number(f, &name("price"), &label("price"))?,
        hours: WeeklyHours {
            mon: hours("mon")?,
            tue: hours("tue")?,
            wed: hours("wed")?,
            thu: hours("thu")?,
            fri: hours("fri")?,
            sat: hours("sat")?,
            sun: hours("sun")?,
        },
    })
}

fn parse_ice(text: &str) -> Result<Vec<IceServer>, String> {
    let text = text.trim();
    if text.starts_with('[') {
        return serde_json::from_str(text)
            .map_err(|e| format!("STUN/TURN servers: not valid JSON ({e})"));
    }
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| IceServer {
            urls: vec![u.to_string()],
            username: None,
            credential: None,
        })
        .collect())
}

fn parse(f: &Form, l: Lang) -> Result<FacilityUpdate, String> {
    let max: u8 = field(f, "max_visitors").parse().map_err(|_| {
        l.t(
            "Visitors per visit: a number from 1 to 10",
            "Visitantes por visita: un número de 1 a 10",
        )
        .to_string()
    })?;
    // Absent (a form from before this field): unchanged.
    let retention = match field(f, "retention_days") {
        "" => None,
        days => Some(days.parse::<u32>().map_err(|_| {
            l.t(
                "Keep visit recordings: a number of days from 1 to 3650",
                "Conservar las grabaciones: un número de días de 1 a 3650",
            )
            .to_string()
        })?),
    };
    let languages: Vec<String> = [("lang_en", "en"), ("lang_es", "es")]
        .iter()
        .filter(|(k, _)| f.contains_key(*k))
        .map(|(_, v)| v.to_string())
        .collect();
    Ok(FacilityUpdate {
        name: Some(field(f, "name").to_string()),
        max_visitors_per_visit: Some(max),
        onsite: Some(parse_kind(f, "onsite", l)?),
        remote: Some(parse_kind(f, "remote", l)?),
        ice_servers: Some(parse_ice(field(f, "ice"))?),
        languages: Some(languages),
        require_totp_for_admins: Some(f.contains_key("require_totp")),
        recording_retention_days: retention,
    })
}

/// `POST /console/settings`.
async fn save(State(st): State<AppState>, c: Checked<Form>) -> Response {
    let (staff, f) = (c.staff, c.form);
    if let Err(r) = staff.require_admin(&st, "update_facility").await {
        return r;
    }
    let l = staff.lang;
    let update = match parse(&f, l) {
        Ok(u) => u,
        Err(msg) => {
            let text = format!("{} {msg}", l.t("Nothing was saved:", "No se guardó nada:"));
            return page::problem(Some(&staff), l, StatusCode::UNPROCESSABLE_ENTITY, &text);
        }
    };
    let id = staff.facility();
    let r = st
        .run_audited(
            staff.who(),
            "update_facility",
            Target::Facility(id),
            move |c, ctx| facilities::update(c, ctx, Some(id), id, &update),
        )
        .await;
    match r {
        Ok(_) => back("/console/settings", "saved"),
        Err(e) => page::service_error(&staff, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_and_ice_servers_read_as_typed() {
        let r = parse_ranges("08:00-11:00, 13:00 – 16:00;", "mon").unwrap();
        assert_eq!(ranges_text(&r), "08:00-11:00, 13:00-16:00");
        assert!(
            parse_ranges("8 to 11", "mon")
                .unwrap_err()
                .contains("08:00-11:00")
        );
        assert!(parse_ranges("  ", "mon").unwrap().is_empty());
        let ice = parse_ice("stun:a.example\n\nturn:b.example\n").unwrap();
        assert_eq!(ice.len(), 2);
        assert_eq!(ice_text(&ice), "stun:a.example\nturn:b.example");
        let json = r#"[{"urls": ["turn:t.example"], "username": "u", "credential": "c"}]"#;
        let ice = parse_ice(json).unwrap();
        assert_eq!(parse_ice(&ice_text(&ice)).unwrap(), ice);
        assert!(parse_ice("[nope").unwrap_err().contains("not valid JSON"));
    }
}
