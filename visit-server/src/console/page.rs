//! What every console page shares: the language, the page shell (skip
//! link, navigation, the signed-in member, sign-out), and the response
//! headers (a strict CSP: scripts and styles only from this server, no
//! inline code, no framing).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::session::Staff;
use crate::service::staff::Role;

/// The console's two languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    /// The `lang` cookie, else the browser's first choice, else English.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let cookie = super::session::cookie(headers, "lang");
        if let Some(c) = cookie {
            return if c == "es" { Lang::Es } else { Lang::En };
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.trim_start().to_ascii_lowercase().starts_with("es") {
            Lang::Es
        } else {
            Lang::En
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The words in this language: every text on a page is given in both.
    pub fn t(self, en: &'static str, es: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Es => es,
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Es,
            Lang::Es => Lang::En,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }
}

/// A console section, for the navigation's current mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Today,
    Approvals,
    People,
    Visitors,
    Terminals,
    Settings,
    Staff,
    Audit,
    Account,
    None,
}

/// The sections a member's role shows, with their address and words.
fn nav(lang: Lang, role: Role) -> Vec<(Section, &'static str, &'static str)> {
    let mut items = vec![
        (Section::Today, "/console/", lang.t("Today", "Hoy")),
        (
            Section::Approvals,
            "/console/approvals",
            lang.t("Approvals", "Aprobaciones"),
        ),
        (
            Section::People,
            "/console/people",
            lang.t("People", "Personas"),
        ),
        (
            Section::Visitors,
            "/console/visitors",
            lang.t("Visitors", "Visitantes"),
        ),
    ];
    if role == Role::Administrator {
        items.extend([
            (
                Section::Terminals,
                "/console/terminals",
                lang.t("Terminals", "Terminales"),
            ),
            (
                Section::Settings,
                "/console/settings",
                lang.t("Settings", "Configuración"),
            ),
            (
                Section::Staff,
                "/console/staff",
                lang.t("Staff", "Personal"),
            ),
            (
                Section::Audit,
                "/console/audit",
                lang.t("Audit log", "Registro de auditoría"),
            ),
        ]);
    }
    items
}

/// A whole page for a signed-in member.
pub fn shell(staff: &Staff, section: Section, title: &str, body: Markup) -> Markup {
    let lang = staff.lang;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(title))
            body {
                a.skip href="#main" { (lang.t("Skip to content", "Ir al contenido")) }
                header.top {
                    span.brand { (staff.facility_name) }
                    nav aria-label=(lang.t("Sections", "Secciones")) {
                        ul {
                            @for (s, href, label) in nav(lang, staff.member.role) {
                                li {
                                    @if s == section {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                    }
                    div.who {
                        a href="/console/account" { (staff.member.name) }
                        " · "
                        (lang_switch(lang, &staff.path))
                        form method="post" action="/console/sign-out" {
                            (staff.csrf_field())
                            button type="submit" { (lang.t("Sign out", "Cerrar sesión")) }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page without the navigation (sign-in, errors before sign-in).
pub fn bare(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(title))
            body.bare {
                main #main {
                    h1 { (title) }
                    (body)
                    p { (lang_switch(lang, "/console/sign-in")) }
                }
            }
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Visit console" }
            link rel="stylesheet" href="/console/static/console.css";
            script src="/console/static/console.js" defer {}
        }
    }
}

/// A link that switches the language (a cookie) and comes back.
fn lang_switch(lang: Lang, back: &str) -> Markup {
    let other = lang.other();
    html! {
        a href={ "/console/lang?to=" (other.code()) "&back=" (super::session::encode(back)) } lang=(other.code()) hreflang=(other.code()) {
            (other.name())
        }
    }
}

/// The console's headers on an HTML answer.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, markup.into_string()).into_response();
    secure_headers(r.headers_mut(), "text/html; charset=utf-8");
    r
}

/// Strict CSP and friends for anything the console serves.
pub fn secure_headers(h: &mut HeaderMap, content_type: &'static str) {
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// A refusal or failure as a page: what happened and what to do.
pub fn problem(staff: Option<&Staff>, lang: Lang, status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::FORBIDDEN => lang.t("Not allowed", "No permitido"),
        StatusCode::NOT_FOUND => lang.t("Not found", "No encontrado"),
        StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            lang.t("That did not work", "Eso no funcionó")
        }
        _ => lang.t("Something went wrong", "Algo salió mal"),
    };
    let body = html! {
        p.error role="alert" { (message) }
        p { a href="/console/" { (lang.t("Back to today's visits", "Volver a las visitas de hoy")) } }
    };
    let markup = match staff {
        Some(s) => shell(s, Section::None, title, body),
        None => bare(lang, title, body),
    };
    respond(status, markup)
}

/// A date and time in the facility's zone, as staff read it.
pub fn local_time(tz: chrono_tz::Tz, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&tz).format("%H:%M").to_string()
}

/// A service error as a page: the status the API would answer (404 for
/// anything of another facility, 422 for a rule, 409 for a clash) and the
/// error's own words, which say what to do.
pub fn service_error(staff: &Staff, e: crate::service::Error) -> Response {
    use crate::service::Error;
    // A rule's refusal and "not found" have Spanish words; other messages
    // (a malformed value, a clash) are still the service's English.
    let spanish = match (&e, staff.lang) {
        (Error::Refused(r), Lang::Es) => Some(r.spanish()),
        (Error::NotFound { .. }, Lang::Es) => {
            Some("No existe lo que buscaba (o no es de este centro).".to_string())
        }
        _ => None,
    };
    let api = crate::api::error::ApiError::from(e);
    problem(
        Some(staff),
        staff.lang,
        api.status,
        spanish.as_deref().unwrap_or(&api.message),
    )
}

/// A one-line notice after a change (`?done=...` on the page it returns to).
pub fn notice(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            p.notice role="status" #notice { (m) }
        }
    }
}
