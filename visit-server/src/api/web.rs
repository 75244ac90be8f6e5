//! The remote visitor's page: `GET /join/{visit_id}?token=...`, the link in
//! their confirmation. Plain HTML, CSS and JavaScript (`web/`), inlined in
//! one response so nothing is served without a valid join token. The page
//! checks the camera and microphone, waits for the visit (Scheduled ->
//! Pending -> Ready), joins over the signalling WebSocket and holds the
//! visit with `RTCPeerConnection`.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use uuid::Uuid;

use super::error::{ApiPath, ApiQuery};
use crate::service::{browser_tokens, confidential, join_tokens};
use crate::state::AppState;

const PAGE: &str = include_str!("../../web/join.html");
const CSS: &str = include_str!("../../web/join.css");
const JS: &str = include_str!("../../web/join.js");

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JoinQuery {
    /// The visitor's join token, from the confirmation's link.
    #[serde(default)]
    token: String,
}

fn html(status: StatusCode, body: String, nonce: &str) -> Response {
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
         connect-src 'self'; media-src 'self' blob: mediastream:; img-src 'self' data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The token is in the address: never send it anywhere else.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// What everyone in the visit is told about recording, in English and
/// Spanish (the confirmation mail says the same).
fn recording_notice(confidential: bool) -> &'static str {
    if confidential {
        "<p id=\"recording-notice\" class=\"notice-recording\">This visit is confidential: it is not recorded or monitored. \
         <span lang=\"es\">Esta visita es confidencial: no se graba ni se supervisa.</span></p>"
    } else {
        "<p id=\"recording-notice\" class=\"notice-recording\">This visit is recorded and may be monitored. \
         <span lang=\"es\">Esta visita se graba y puede ser supervisada.</span></p>"
    }
}

/// The remote visitor's page (HTML). Needs the visitor's join token; with a
/// housing-unit terminal's browser token it is the person's side instead.
#[utoipa::path(get, path = "/join/{visit_id}", tag = "visitor",
    security(("join_token" = [])),
    params(("visit_id" = Uuid, Path), JoinQuery),
    responses(
        (status = 200, description = "The visit page", content_type = "text/html"),
        (status = 401, description = "Unknown or expired join link", content_type = "text/html")))]
pub async fn join_page(
    State(st): State<AppState>,
    ApiPath(visit_id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<JoinQuery>,
) -> Response {
    let nonce = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 18]>());
    let token = q.token;
    // A unit terminal's browser token opens the page as the person's side.
    let person = browser_tokens::is_browser_token(&token);
    // Whether the visit is confidential, once the token is good.
    let confidential = if token.is_empty() {
        None
    } else {
        st.run("visitor".to_string(), move |c, ctx| {
            if person {
                browser_tokens::authenticate(c, ctx, visit_id, &token).map(|_| ())?;
            } else {
                join_tokens::authenticate(c, ctx, visit_id, &token).map(|_| ())?;
            }
            confidential::is_confidential(c, visit_id)
        })
        .await
        .ok()
    };
    let Some(confidential) = confidential else {
        return html(
            StatusCode::UNAUTHORIZED,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Video visit</title></head>\
             <body><h1>This join link does not work</h1><p>It is not valid for this visit, or the visit is over. \
             Use the link from your own confirmation email.</p></body></html>"
                .to_string(),
            &nonce,
        );
    };
    if person {
        tracing::info!(visit_id = %visit_id, "a unit terminal's browser opened the visit page (person's side)");
    } else {
        tracing::info!(visit_id = %visit_id, "a remote visitor opened the visit page");
    }
    let page = PAGE
        .replace("{{SIDE}}", if person { "person" } else { "visitor" })
        .replace("{{RECORDING}}", recording_notice(confidential))
        .replace("{{CSS}}", CSS)
        .replace("{{JS}}", JS)
        .replace("{{NONCE}}", &nonce);
    html(StatusCode::OK, page, &nonce)
}
