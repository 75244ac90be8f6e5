//! Signing in and out, and the language switch.
//!
//! The sign-in form has no session yet, so it carries its own CSRF token:
//! a random value in a `SameSite=Strict` cookie and in the form, which
//! must match (another site can make a browser post the form, but cannot
//! read or set the cookie).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::page::{self, Lang};
use super::session::{Checked, Staff, cookie, session_cookie};
use crate::keys::random_token;
use crate::service::audit::{self, Target};
use crate::service::sessions;
use crate::service::staff::{self, Refused};
use crate::state::AppState;

const SIGNIN_COOKIE: &str = "vs_signin";

#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: String,
    #[serde(default)]
    ended: Option<String>,
}

/// Only a console address is a place to go back to.
fn safe_next(next: &str) -> &str {
    if next.starts_with("/console/")
        && !next.contains("//")
        && !next.contains('\\')
        && next.bytes().all(|b| (0x20..0x7f).contains(&b))
    {
        next
    } else {
        "/console/"
    }
}

fn form(lang: Lang, token: &str, next: &str, username: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            p.error role="alert" #signin-error { (m) }
        }
        form.stack method="post" action="/console/sign-in" {
            input type="hidden" name="_signin" value=(token);
            input type="hidden" name="next" value=(next);
            label for="username" { (lang.t("User name", "Nombre de usuario")) }
            input #username name="username" type="text" autocomplete="username" required value=(username) autofocus;
            label for="password" { (lang.t("Password", "Contraseña")) }
            input #password name="password" type="password" autocomplete="current-password" required;
            label for="code" { (lang.t("Authenticator code (if your account uses one)", "Código del autenticador (si su cuenta lo usa)")) }
            input #code name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6";
            button type="submit" { (lang.t("Sign in", "Iniciar sesión")) }
        }
    }
}

fn signin_page(
    lang: Lang,
    status: StatusCode,
    next: &str,
    username: &str,
    message: Option<&str>,
) -> Response {
    let token = random_token();
    let title = lang.t(
        "Sign in to the visit console",
        "Iniciar sesión en la consola de visitas",
    );
    let mut r = page::respond(
        status,
        page::bare(lang, title, form(lang, &token, next, username, message)),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SIGNIN_COOKIE}={token}; Path=/console/sign-in; Secure; HttpOnly; SameSite=Strict"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `GET /console/sign-in`.
pub async fn show(headers: HeaderMap, Query(q): Query<Next>) -> Response {
    let lang = Lang::from_headers(&headers);
    let message = q
        .ended
        .map(|_| lang.t("You are signed out.", "Ha cerrado la sesión."));
    signin_page(lang, StatusCode::OK, safe_next(&q.next), "", message)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default, rename = "_signin")]
    signin: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

/// `POST /console/sign-in`.
pub async fn submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    origin: Origin,
    axum::Form(f): axum::Form<SignInForm>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let next = safe_next(&f.next).to_string();
    let expected = cookie(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(f.signin.as_bytes())) {
        return signin_page(
            lang,
            StatusCode::FORBIDDEN,
            &next,
            &f.username,
            Some(lang.t(
                "This sign-in form was out of date. Type your details again.",
                "Este formulario de inicio de sesión estaba caducado. Escriba sus datos de nuevo.",
            )),
        );
    }
    let username = f.username.trim().to_lowercase();
    let origin = origin.0;
    let (user, pass, code) = (username.clone(), f.password, f.code);
    let result = st
        .run("console", move |c, ctx| {
            check(c, ctx, &user, &pass, &code, &origin)
        })
        .await;
    match result {
        Ok(Ok((member, token))) => {
            tracing::info!(staff = %member.username, "console sign-in");
            let mut r = Redirect::to(&next).into_response();
            r.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&token));
            r
        }
        Ok(Err(refused)) => {
            let message = refusal_words(lang, refused);
            signin_page(
                lang,
                StatusCode::UNAUTHORIZED,
                &next,
                &username,
                Some(&message),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "console sign-in failed");
            page::problem(
                None,
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t(
                    "The server could not sign you in just now. Try again in a moment.",
                    "El servidor no pudo iniciar su sesión ahora. Inténtelo de nuevo en un momento.",
                ),
            )
        }
    }
}

/// Check the credentials, open a session if they are right, and append
/// the sign-in's audit line either way.
fn check(
    c: &mut rusqlite::Connection,
    ctx: &crate::service::Ctx<'_>,
    user: &str,
    pass: &str,
    code: &str,
    origin: &str,
) -> crate::service::Result<Result<(staff::Member, String), Refused>> {
    let outcome = staff::sign_in(c, ctx, user, pass, code)?;
    let (facility, target, text, token) = match &outcome {
        Ok(m) => (
            Some(m.facility_id),
            Target::Staff(m.id),
            "done".to_string(),
            sessions::start(c, ctx, m.id, origin)?,
        ),
        Err(r) => {
            let known = staff::find(c, user)?;
            (
                known.map(|(_, f)| f),
                known.map_or(Target::None, |(id, _)| Target::Staff(id)),
                format!("refused: {r:?}"),
                String::new(),
            )
        }
    };
    let who = audit::Who {
        actor: format!("staff:{user}"),
        facility,
        origin: origin.to_string(),
    };
    audit::record(
        c,
        ctx.now,
        &audit::Line {
            who: &who,
            action: "sign_in",
            target: &target,
            outcome: text,
            before: None,
            after: None,
        },
    )?;
    Ok(outcome.map(|m| (m, token)))
}

/// What a refused sign-in is told.
fn refusal_words(lang: Lang, refused: Refused) -> String {
    match refused {
        Refused::WrongPassword => lang
            .t(
                "The user name or password is wrong.",
                "El nombre de usuario o la contraseña no son correctos.",
            )
            .to_string(),
        Refused::NeedsCode => lang
            .t(
                "Type the 6-digit code your authenticator app shows now.",
                "Escriba el código de 6 dígitos que muestra ahora su aplicación de autenticación.",
            )
            .to_string(),
        Refused::Locked(until) => format!(
            "{} {}",
            lang.t(
                "Too many wrong tries: this account is locked until (UTC)",
                "Demasiados intentos fallidos: esta cuenta está bloqueada hasta (UTC)"
            ),
            until.format("%H:%M")
        ),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /console/sign-out`: this session ends.
pub async fn sign_out(State(st): State<AppState>, c: Checked<Empty>) -> Response {
    end(st, c.staff, false).await
}

/// `POST /console/sign-out-everywhere`: every session of the account ends.
pub async fn sign_out_everywhere(State(st): State<AppState>, c: Checked<Empty>) -> Response {
    end(st, c.staff, true).await
}

async fn end(st: AppState, staff: Staff, everywhere: bool) -> Response {
    let token = staff.token.clone();
    let id = staff.member.id;
    let action = if everywhere {
        "sign_out_everywhere"
    } else {
        "sign_out"
    };
    let r = st
        .run_audited(staff.who(), action, Target::Staff(id), move |c, ctx| {
            if everywhere {
                sessions::end_all(c, id).map(|_| ())
            } else {
                sessions::end(c, ctx, &token)
            }
        })
        .await;
    if let Err(e) = r {
        tracing::error!(error = %e, "sign-out failed");
    }
    let mut r = Redirect::to("/console/sign-in?ended=1").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, session_cookie(""));
    r
}

#[derive(Deserialize)]
pub struct LangQuery {
    #[serde(default)]
    to: String,
    #[serde(default)]
    back: String,
}

/// `GET /console/lang?to=es&back=...`: remember the language.
pub async fn switch_lang(Query(q): Query<LangQuery>) -> Response {
    let lang = if q.to == "es" { "es" } else { "en" };
    let back = if q.back == "/console/sign-in" {
        "/console/sign-in"
    } else {
        safe_next(&q.back)
    };
    let mut r = Redirect::to(back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lang={lang}; Path=/console; Secure; SameSite=Strict; Max-Age=31536000"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The client's address, for the audit log.
pub struct Origin(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Origin(crate::api::auth::origin(parts)))
    }
}
