//! Staff (administrators): the facility's console accounts, adding one,
//! disabling and enabling, and resetting a password. Every change is
//! audited against the account.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::approvals::{Done, Nothing, back};
use super::page::{self, Lang, Section};
use super::session::{Checked, Staff};
use crate::service::audit::Target;
use crate::service::console_admin;
use crate::service::staff::{self, Member, Role};
use crate::state::AppState;

/// This page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/staff", get(show).post(add))
        .route("/console/staff/{id}/disable", post(disable))
        .route("/console/staff/{id}/enable", post(enable))
        .route("/console/staff/{id}/password", post(reset_password))
}

fn role_words(l: Lang, r: Role) -> &'static str {
    match r {
        Role::Administrator => l.t("Administrator", "Administrador"),
        Role::Officer => l.t("Officer", "Oficial"),
    }
}

fn done_words(l: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "added" => l.t("Account added.", "Cuenta añadida."),
        "disabled" => l.t(
            "Account disabled; its sessions ended.",
            "Cuenta desactivada; sus sesiones terminaron.",
        ),
        "enabled" => l.t("Account enabled.", "Cuenta activada."),
        "password" => l.t(
            "Password reset; the member's sessions ended.",
            "Contraseña restablecida; las sesiones del miembro terminaron.",
        ),
        _ => return None,
    })
}

/// `GET /console/staff`.
async fn show(State(st): State<AppState>, staff: Staff, Query(q): Query<Done>) -> Response {
    if let Err(r) = staff.require_admin(&st, "view_staff").await {
        return r;
    }
    let l = staff.lang;
    let facility = staff.facility();
    let members = match st
        .run(staff.actor(), move |c, _| staff::list(c, facility))
        .await
    {
        Ok(m) => m,
        Err(e) => return page::service_error(&staff, e),
    };
    let now = st.now();
    let body = html! {
        (page::notice(done_words(l, q.done.as_deref())))
        h2 { (l.t("Accounts", "Cuentas")) }
        table #staff {
            thead { tr {
                th scope="col" { (l.t("Name", "Nombre")) }
                th scope="col" { (l.t("User name", "Usuario")) }
                th scope="col" { (l.t("Role", "Función")) }
                th scope="col" { (l.t("Authenticator", "Autenticador")) }
                th scope="col" { (l.t("Locked until", "Bloqueada hasta")) }
                th scope="col" { (l.t("Disabled", "Desactivada")) }
                th scope="col" { (l.t("Actions", "Acciones")) }
            } }
            tbody { @for m in &members { (row(&staff, m, now)) } }
        }
        h2 { (l.t("Add an account", "Añadir una cuenta")) }
        (add_form(&staff))
    };
    page::respond(
        StatusCode::OK,
        page::shell(&staff, Section::Staff, l.t("Staff", "Personal"), body),
    )
}

fn row(staff: &Staff, m: &Member, now: chrono::DateTime<chrono::Utc>) -> Markup {
    let l = staff.lang;
    let locked = m.locked_until.filter(|u| *u > now).map(|u| {
        u.with_timezone(&staff.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    });
    let field = format!("pw-{}", m.id);
    html! {
        tr data-staff=(m.username) {
            th scope="row" { (m.name) }
            td { (m.username) }
            td { (role_words(l, m.role)) }
            td { @if m.has_totp { (l.t("On", "Activado")) } @else { (l.t("Off", "Desactivado")) } }
            td { (locked.unwrap_or_default()) }
            td { @if m.disabled { (l.t("Yes", "Sí")) } @else { (l.t("No", "No")) } }
            td {
                @if m.id != staff.member.id {
                    @if m.disabled {
                        form.inline method="post" action={ "/console/staff/" (m.id) "/enable" } {
                            (staff.csrf_field())
                            button.plain type="submit" { (l.t("Enable ", "Activar a ")) (m.username) }
                        }
                    } @else {
                        form.inline method="post" action={ "/console/staff/" (m.id) "/disable" } {
                            (staff.csrf_field())
                            button.danger type="submit" { (l.t("Disable ", "Desactivar a ")) (m.username) }
                        }
                    }
                }
                form.inline method="post" action={ "/console/staff/" (m.id) "/password" } {
                    (staff.csrf_field())
                    label for=(field) { (l.t("New password for ", "Contraseña nueva para ")) (m.username) }
                    input id=(field) name="password" type="password" autocomplete="new-password" minlength="12" required;
                    button.plain type="submit" { (l.t("Reset password", "Restablecer la contraseña")) }
                }
            }
        }
    }
}

fn add_form(staff: &Staff) -> Markup {
    let l = staff.lang;
    html! {
        form.stack #add-staff method="post" action="/console/staff" {
            (staff.csrf_field())
            label for="n-username" { (l.t("User name (letters, digits, . - _)", "Usuario (letras, dígitos, . - _)")) }
            input #n-username name="username" type="text" autocomplete="off" required maxlength="64";
            label for="n-name" { (l.t("Name", "Nombre")) }
            input #n-name name="name" type="text" required maxlength="100";
            label for="n-role" { (l.t("Role", "Función")) }
            select #n-role name="role" {
                option value="officer" { (role_words(l, Role::Officer)) }
                option value="administrator" { (role_words(l, Role::Administrator)) }
            }
            label for="n-password" { (l.t("Initial password (at least 12 characters)", "Contraseña inicial (al menos 12 caracteres)")) }
            input #n-password name="password" type="password" autocomplete="new-password" minlength="12" required;
            button type="submit" { (l.t("Add the account", "Añadir la cuenta")) }
        }
    }
}

#[derive(Deserialize)]
pub struct NewMember {
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// `POST /console/staff`.
async fn add(State(st): State<AppState>, c: Checked<NewMember>) -> Response {
    let (staff, f) = (c.staff, c.form);
    if let Err(r) = staff.require_admin(&st, "create_staff").await {
        return r;
    }
    let facility = staff.facility();
    let r = st
        .run_audited_create(staff.who(), "create_staff", move |c, ctx| {
            let role = Role::parse(&f.role)?;
            let m = staff::create(c, ctx, facility, &f.username, &f.name, role, &f.password)?;
            let target = Target::Staff(m.id);
            Ok((m, target))
        })
        .await;
    match r {
        Ok(_) => back("/console/staff", "added"),
        Err(e) => page::service_error(&staff, e),
    }
}

async fn set_disabled(st: AppState, staff: Staff, id: Uuid, disabled: bool) -> Response {
    let action = if disabled {
        "disable_staff"
    } else {
        "enable_staff"
    };
    if let Err(r) = staff.require_admin(&st, action).await {
        return r;
    }
    if id == staff.member.id {
        let msg = staff.lang.t(
            "You cannot disable your own account.",
            "No puede desactivar su propia cuenta.",
        );
        return page::problem(Some(&staff), staff.lang, StatusCode::CONFLICT, msg);
    }
    let scope = Some(staff.facility());
    let r = st
        .run_audited(staff.who(), action, Target::Staff(id), move |c, ctx| {
            console_admin::set_staff_disabled(c, ctx, scope, id, disabled)
        })
        .await;
    match r {
        Ok(()) if disabled => back("/console/staff", "disabled"),
        Ok(()) => back("/console/staff", "enabled"),
        Err(e) => page::service_error(&staff, e),
    }
}

/// `POST /console/staff/{id}/disable`.
async fn disable(
    State(st): State<AppState>,
    Path(id): Path<Uuid>,
    c: Checked<Nothing>,
) -> Response {
    set_disabled(st, c.staff, id, true).await
}

/// `POST /console/staff/{id}/enable`.
async fn enable(State(st): State<AppState>, Path(id): Path<Uuid>, c: Checked<Nothing>) -> Response {
    set_disabled(st, c.staff, id, false).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// `POST /console/staff/{id}/password`.
async fn reset_password(
    State(st): State<AppState>,
    Path(id): Path<Uuid>,
    c: Checked<PasswordForm>,
) -> Response {
    let (staff, f) = (c.staff, c.form);
    if let Err(r) = staff.require_admin(&st, "reset_staff_password").await {
        return r;
    }
    let scope = Some(staff.facility());
    let r = st
        .run_audited(
            staff.who(),
            "reset_staff_password",
            Target::Staff(id),
            move |c, _| console_admin::set_staff_password(c, scope, id, &f.password),
        )
        .await;
    match r {
        Ok(()) => back("/console/staff", "password"),
        Err(e) => page::service_error(&staff, e),
    }
}
