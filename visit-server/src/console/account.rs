//! The signed-in member's own account: the second factor (TOTP) and the
//! password. An administrator of a facility that requires a second factor
//! is sent here until it is set up.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::page::{self, Section};
use super::session::{Checked, Staff};
use crate::service::audit::Target;
use crate::service::staff;
use crate::state::AppState;
use crate::totp;

/// `GET /console/account`.
pub async fn page(staff: Staff) -> Response {
    let l = staff.lang;
    let secret = staff::new_totp_secret();
    let url = totp::otpauth_url(
        "Visit console",
        &staff.member.username,
        &totp::from_base32(&secret).unwrap_or_default(),
    );
    let body = html! {
        p { (staff.member.name) " (" (staff.member.username) ") · "
            (match staff.member.role { staff::Role::Administrator => l.t("administrator", "administrador"), staff::Role::Officer => l.t("officer", "oficial") }) }
        h2 { (l.t("Second factor", "Segundo factor")) }
        @if staff.member.has_totp {
            p.notice { (l.t("Your account asks for an authenticator code at sign-in.", "Su cuenta pide un código del autenticador al iniciar sesión.")) }
        } @else {
            @if staff.member.must_set_up_totp {
                p.error role="alert" { (l.t("Your facility requires administrators to use an authenticator app. Set it up to go on.", "Su centro exige que los administradores usen una aplicación de autenticación. Configúrela para continuar.")) }
            }
            p { (l.t("Add this key to an authenticator app (type it, or use the address), then type the code it shows.", "Añada esta clave a una aplicación de autenticación (escríbala o use la dirección) y escriba el código que muestra.")) }
            p { code.secret #totp-secret { (secret) } }
            p.muted { code #totp-url { (url) } }
            form.inline method="post" action="/console/account/totp" {
                (staff.csrf_field())
                input type="hidden" name="secret" value=(secret);
                label for="totp-current" { (l.t("Your password", "Su contraseña"))
                    input #totp-current name="current" type="password" autocomplete="current-password" required; }
                label for="totp-code" { (l.t("Code", "Código"))
                    input #totp-code name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required; }
                button type="submit" { (l.t("Turn on", "Activar")) }
            }
        }
        h2 { (l.t("Password", "Contraseña")) }
        form.stack method="post" action="/console/account/password" {
            (staff.csrf_field())
            label for="current-password" { (l.t("Current password", "Contraseña actual")) }
            input #current-password name="current" type="password" autocomplete="current-password" required;
            label for="new-password" { (l.t("New password (at least 12 characters)", "Contraseña nueva (al menos 12 caracteres)")) }
            input #new-password name="password" type="password" autocomplete="new-password" minlength="12" required;
            button type="submit" { (l.t("Change password (signs you out everywhere)", "Cambiar la contraseña (cierra todas sus sesiones)")) }
        }
        h2 { (l.t("Sessions", "Sesiones")) }
        form method="post" action="/console/sign-out-everywhere" {
            (staff.csrf_field())
            button.plain type="submit" { (l.t("Sign out everywhere", "Cerrar sesión en todas partes")) }
        }
    };
    page::respond(
        StatusCode::OK,
        page::shell(
            &staff,
            Section::Account,
            l.t("Your account", "Su cuenta"),
            body,
        ),
    )
}

#[derive(Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
}

/// `POST /console/account/totp`.
pub async fn confirm_totp(State(st): State<AppState>, c: Checked<TotpForm>) -> Response {
    let (staff, f) = (c.staff, c.form);
    let id = staff.member.id;
    let r = st
        .run_audited(
            staff.who(),
            "totp_turned_on",
            Target::Staff(id),
            move |conn, ctx| {
                staff::check_current_password(conn, id, &f.current)?;
                staff::confirm_totp(conn, ctx, id, &f.secret, &f.code)
            },
        )
        .await;
    match r {
        Ok(()) => Redirect::to("/console/account").into_response(),
        Err(e) => page::service_error(&staff, e),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
}

/// `POST /console/account/password`.
pub async fn change_password(State(st): State<AppState>, c: Checked<PasswordForm>) -> Response {
    let (staff, f) = (c.staff, c.form);
    let id = staff.member.id;
    let r = st
        .run_audited(
            staff.who(),
            "password_changed",
            Target::Staff(id),
            move |conn, _| {
                staff::check_current_password(conn, id, &f.current)?;
                staff::set_password(conn, id, &f.password)
            },
        )
        .await;
    match r {
        Ok(()) => Redirect::to("/console/sign-in?ended=1").into_response(),
        Err(e) => page::service_error(&staff, e),
    }
}
