//! The HTTP API. Routes are registered only through `utoipa_axum::routes!`,
//! which records each one in the OpenAPI document as it adds it to the
//! router, so `/openapi.json` cannot drift from what is served.

pub mod admin;
pub mod auth;
pub mod error;
pub mod photos;
pub mod recordings;
pub mod signal;
pub mod terminal;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use error::ApiError;

/// Largest request body accepted (a full event batch fits easily).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "visit-server",
        description = "Video visitation: scheduling rules, PINs, the terminal API and staff oversight.",
        license(name = "GPL-3.0-or-later")
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "terminal", description = "Called by lobby and housing-unit terminals"),
        (name = "admin", description = "Called by facility administrators and staff"),
        (name = "visitor", description = "Opened by remote visitors from their join link"),
        (name = "meta", description = "About the API itself")
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for name in ["terminal", "admin"] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
        // A remote visitor's browser cannot set headers on a WebSocket.
        components.add_security_scheme(
            "join_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "A remote visitor's join token, from the confirmation's join link",
            ))),
        );
    }
}

fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .routes(routes!(terminal::enrol))
        .routes(routes!(terminal::schedule))
        .routes(routes!(terminal::events))
        .routes(routes!(terminal::heartbeat))
        .routes(routes!(terminal::browser_token))
        .routes(routes!(photos::post_photo))
        .routes(routes!(photos::get_photo))
        .routes(routes!(recordings::declare))
        .routes(routes!(recordings::put_bytes, recordings::get_status))
        .routes(routes!(signal::signal))
        .routes(routes!(web::join_page))
        .routes(routes!(admin::facilities::create_facility))
        .routes(routes!(admin::facilities::list_facilities))
        .routes(routes!(admin::facilities::get_facility))
        .routes(routes!(admin::facilities::update_facility))
        .routes(routes!(admin::facilities::create_housing_unit))
        .routes(routes!(admin::facilities::list_visits))
        .routes(routes!(admin::facilities::free_slots))
        .routes(routes!(admin::terminals::create_terminal))
        .routes(routes!(admin::terminals::list_terminals))
        .routes(routes!(admin::terminals::get_terminal))
        .routes(routes!(admin::terminals::new_enrolment_code))
        .routes(routes!(admin::terminals::revoke_terminal))
        .routes(routes!(admin::terminals::list_admin_tokens))
        .routes(routes!(admin::terminals::revoke_admin_token))
        .routes(routes!(admin::people::create_person))
        .routes(routes!(admin::people::list_persons))
        .routes(routes!(admin::people::get_person))
        .routes(routes!(admin::people::update_person))
        .routes(routes!(admin::people::person_visits))
        .routes(routes!(admin::people::approved_visitors))
        .routes(routes!(admin::people::remove_approval))
        .routes(routes!(admin::visitors::create_visitor))
        .routes(routes!(admin::visitors::list_visitors))
        .routes(routes!(admin::visitors::get_visitor))
        .routes(routes!(admin::visitors::update_visitor))
        .routes(routes!(admin::visitors::set_photo_id))
        .routes(routes!(admin::visitors::deny_photo_id))
        .routes(routes!(admin::visitors::photo_id_queue))
        .routes(routes!(admin::visitors::visitor_visits))
        .routes(routes!(admin::visitors::approved_persons))
        .routes(routes!(admin::sanctions::list_sanctions))
        .routes(routes!(admin::sanctions::create_sanction))
        .routes(routes!(admin::sanctions::lift_sanction))
        .routes(routes!(admin::approvals::create_approval))
        .routes(routes!(admin::approvals::create_approval_request))
        .routes(routes!(admin::approvals::pending_approval_requests))
        .routes(routes!(admin::approvals::approve_request))
        .routes(routes!(admin::approvals::deny_request))
        .routes(routes!(admin::visits::book_visit))
        .routes(routes!(admin::visits::get_visit))
        .routes(routes!(admin::visits::cancel_visit))
        .routes(routes!(admin::visits::terminate_visit))
        .routes(routes!(admin::visits::reschedule_visit))
        .routes(routes!(admin::list_outbox))
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// The full router, with JSON errors for unknown routes, wrong methods,
/// oversize bodies and panics.
pub fn router(state: AppState) -> Router {
    let (router, doc) = api_routes().split_for_parts();
    let doc = Arc::new(
        doc.to_pretty_json()
            .expect("the OpenAPI document serialises"),
    );
    router
        .merge(crate::console::router())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_route",
                "no such API route; see /openapi.json",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method; see /openapi.json",
            )
        })
        .layer(Extension(doc))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            ApiError::internal().into_response()
        }))
        // Outermost, so the span covers every layer and sees the final status.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _: &Span| {
                    tracing::info!(
                        status = res.status().as_u16(),
                        latency_ms = latency.as_secs_f64() * 1000.0,
                        "answered"
                    );
                }),
        )
        .with_state(state)
}

/// One span per HTTP request: its method and path. Never the query string,
/// which may carry a join or browser token.
fn request_span<B>(req: &Request<B>) -> Span {
    tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
}

/// The OpenAPI 3 document of this API (public: it describes, it holds no data).
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
async fn openapi_json(Extension(doc): Extension<Arc<String>>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.as_str().to_owned(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Mutex;

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_request_span_names_the_path_but_never_the_token_in_the_query() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let req = Request::get("/join/4e1c?token=s3cr3t-join-token")
                .body(())
                .unwrap();
            request_span(&req).in_scope(|| tracing::info!("answered"));
        });
        let logged = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("path=/join/4e1c"), "{logged}");
        assert!(logged.contains("method=GET"), "{logged}");
        assert!(!logged.contains("s3cr3t"), "{logged}");
    }
}
