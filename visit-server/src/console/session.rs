//! Who is signed in to the console: the session cookie, the CSRF token of
//! every form, and the role checks. A request without a live session is
//! sent to the sign-in page (a form post gets the same, never a 5xx); a
//! form without the right CSRF token, or an officer asking for an
//! administrator's page, is refused with a page that says so and a line in
//! the audit log.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::page::{self, Lang};
use crate::service::audit::{self, Target};
use crate::service::staff::{Member, Role};
use crate::service::{facilities, sessions};
use crate::state::AppState;

/// Sent by `console.js` when it refreshes the live board: such requests
/// do not keep a session alive.
pub const LIVE_HEADER: &str = "x-console-live";

/// The session cookie's name.
pub const COOKIE: &str = "vs_session";

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The `Set-Cookie` value that opens (or, with an empty token, ends) a
/// session: only over HTTPS, never readable by scripts, never sent with a
/// request another site starts.
pub fn session_cookie(token: &str) -> HeaderValue {
    let age = if token.is_empty() { "; Max-Age=0" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/console; Secure; HttpOnly; SameSite=Strict{age}"
    ))
    .expect("a token is base64url")
}

/// A signed-in staff member and what their pages need.
#[derive(Debug, Clone)]
pub struct Staff {
    pub member: Member,
    pub facility_name: String,
    pub tz: chrono_tz::Tz,
    pub lang: Lang,
    /// The token every form of this session carries.
    pub csrf: String,
    /// The session's cookie token (for sign-out).
    pub token: String,
    pub origin: String,
    /// The page asked for (path and query), to come back to after a
    /// language switch.
    pub path: String,
}

impl Staff {
    /// How they appear in visit histories and the audit log.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.member.username)
    }

    pub fn who(&self) -> audit::Who {
        audit::Who {
            actor: self.actor(),
            facility: Some(self.member.facility_id),
            origin: self.origin.clone(),
        }
    }

    pub fn facility(&self) -> Uuid {
        self.member.facility_id
    }

    /// The hidden field every form carries.
    pub fn csrf_field(&self) -> maud::Markup {
        maud::html! { input type="hidden" name="_csrf" value=(self.csrf); }
    }

    /// Refuse (with an audit line) unless an administrator.
    pub async fn require_admin(&self, st: &AppState, action: &'static str) -> Result<(), Response> {
        if self.member.role == Role::Administrator {
            return Ok(());
        }
        Err(self
            .refuse(
                st,
                action,
                Target::None,
                StatusCode::FORBIDDEN,
                self.lang.t(
                    "Only an administrator can do this. Ask an administrator of your facility.",
                    "Solo un administrador puede hacer esto. Pídaselo a un administrador de su centro.",
                ),
            )
            .await)
    }

    /// Refuse with a page and an audit line saying why.
    pub async fn refuse(
        &self,
        st: &AppState,
        action: &'static str,
        target: Target,
        status: StatusCode,
        message: &str,
    ) -> Response {
        let who = self.who();
        let outcome = format!("refused: {}", status.as_u16());
        let line_target = target.clone();
        let _ = st
            .run(who.actor.clone(), move |c, ctx| {
                audit::record(
                    c,
                    ctx.now,
                    &audit::Line {
                        who: &who,
                        action,
                        target: &line_target,
                        outcome,
                        before: None,
                        after: None,
                    },
                )
            })
            .await;
        tracing::warn!(actor = %self.actor(), action, target = %target, status = status.as_u16(), "console request refused");
        page::problem(Some(self), self.lang, status, message)
    }
}

/// Where a request without a session is sent: the sign-in page, then back.
fn to_sign_in(parts: &Parts) -> Response {
    let back = if parts.method == axum::http::Method::GET && !parts.uri.path().ends_with("/events")
    {
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/console/")
            .to_string()
    } else {
        "/console/".to_string()
    };
    let mut r = Redirect::to(&format!("/console/sign-in?next={}", encode(&back))).into_response();
    page::secure_headers(r.headers_mut(), "text/html; charset=utf-8");
    r
}

/// Percent-encode a path for a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let lang = Lang::from_headers(&parts.headers);
        let Some(token) = cookie(&parts.headers, COOKIE).filter(|t| !t.is_empty() && t.len() <= 64)
        else {
            return Err(to_sign_in(parts));
        };
        let origin = crate::api::auth::origin(parts);
        let t = token.clone();
        // The live board's own refresh says so; it does not count as use.
        let touch = !parts.headers.contains_key(LIVE_HEADER);
        let found = st
            .run("console", move |c, ctx| {
                let Some(member) = sessions::resume(c, ctx, &t, touch)? else {
                    return Ok(None);
                };
                let f = facilities::get(c, member.facility_id)?;
                let csrf = ctx.keys.secret_hash("csrf", &t);
                Ok(Some((member, f.name, f.tz, csrf)))
            })
            .await;
        let (member, facility_name, tz, csrf) = match found {
            Ok(Some(v)) => v,
            Ok(None) => return Err(to_sign_in(parts)),
            Err(e) => {
                tracing::error!(error = %e, "console session lookup failed");
                return Err(page::problem(
                    None,
                    lang,
                    StatusCode::SERVICE_UNAVAILABLE,
                    lang.t(
                        "The server could not check your session. Try again in a moment.",
                        "El servidor no pudo comprobar su sesión. Inténtelo de nuevo en un momento.",
                    ),
                ));
            }
        };
        let path = parts.uri.path();
        if member.must_set_up_totp
            && !path.starts_with("/console/account")
            && path != "/console/sign-out"
        {
            return Err(Redirect::to("/console/account").into_response());
        }
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/console/".into());
        Ok(Staff {
            path,
            member,
            facility_name,
            tz,
            lang,
            csrf,
            token,
            origin,
        })
    }
}

/// A form post from a signed-in member, its CSRF token checked.
pub struct Checked<T> {
    pub staff: Staff,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct CsrfOnly {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Checked<T> {
    type Rejection = Response;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let staff = Staff::from_request_parts(&mut parts, st).await?;
        let bytes = axum::body::to_bytes(body, crate::api::MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                page::problem(
                    Some(&staff),
                    staff.lang,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    staff.lang.t(
                        "The form is too large.",
                        "El formulario es demasiado grande.",
                    ),
                )
            })?;
        let token = serde_urlencoded::from_bytes::<CsrfOnly>(&bytes)
            .map(|c| c.csrf)
            .unwrap_or_default();
        if !bool::from(token.as_bytes().ct_eq(staff.csrf.as_bytes())) {
            let msg = staff.lang.t(
                "This form came from an old page or another site, so nothing was changed. Reload the page and try again.",
                "Este formulario venía de una página antigua o de otro sitio, así que no se cambió nada. Recargue la página e inténtelo de nuevo.",
            );
            return Err(staff
                .refuse(st, "csrf_check", Target::None, StatusCode::FORBIDDEN, msg)
                .await);
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            page::problem(
                Some(&staff),
                staff.lang,
                StatusCode::BAD_REQUEST,
                &format!(
                    "{} ({e})",
                    staff.lang.t(
                        "Some fields of the form are missing or wrong.",
                        "Faltan campos del formulario o son incorrectos."
                    )
                ),
            )
        })?;
        Ok(Checked { staff, form })
    }
}
