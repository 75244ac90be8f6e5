//! The staff console at `/console/`: pages rendered on the server (maud:
//! HTML written as Rust, type-checked and escaped by the compiler), plain
//! forms that work without JavaScript, and one small script that keeps the
//! day board live over server-sent events. Everything it needs is served
//! from here under a strict CSP; see ARCHITECTURE.md for why.
//!
//! Every page needs a session ([`session::Staff`]); every change is a form
//! post with the session's CSRF token ([`session::Checked`]) and goes
//! through `AppState::run_audited`, so the audit log has it.

pub mod account;
pub mod approvals;
pub mod audit_log;
pub mod page;
pub mod people;
pub mod recording;
pub mod session;
pub mod settings;
pub mod signin;
pub mod staff_admin;
pub mod terminals;
pub mod today;
pub mod visit;
pub mod visitors;
pub mod words;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::state::AppState;

const CSS: &str = include_str!("../../web/console.css");
const JS: &str = include_str!("../../web/console.js");

/// The console's routes (merged into the server's router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console",
            get(|| async { axum::response::Redirect::permanent("/console/") }),
        )
        .route("/console/", get(today::page))
        .route("/console/today/board", get(today::board))
        .route("/console/today/events", get(today::events))
        .route("/console/sign-in", get(signin::show).post(signin::submit))
        .route("/console/sign-out", post(signin::sign_out))
        .route(
            "/console/sign-out-everywhere",
            post(signin::sign_out_everywhere),
        )
        .route("/console/lang", get(signin::switch_lang))
        .route("/console/account", get(account::page))
        .route("/console/account/totp", post(account::confirm_totp))
        .route("/console/account/password", post(account::change_password))
        // Each page module registers its own routes.
        .merge(visit::routes())
        .merge(recording::routes())
        .merge(people::routes())
        .merge(visitors::routes())
        .merge(approvals::routes())
        .merge(terminals::routes())
        .merge(settings::routes())
        .merge(staff_admin::routes())
        .merge(audit_log::routes())
        .route(
            "/console/static/console.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/console/static/console.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = axum::response::IntoResponse::into_response((StatusCode::OK, body));
    page::secure_headers(r.headers_mut(), content_type);
    r
}
