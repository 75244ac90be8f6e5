//! Handlers of the administrator API, one file per subject. Each is a thin
//! wrapper over one service call, run as `admin:<token name>` so the
//! history says who acted; every change also writes an audit line
//! (`AppState::run_audited`). An admin token sees every facility: the
//! service calls get no scope (`None`).

pub mod approvals;
pub mod facilities;
pub mod people;
pub mod sanctions;
pub mod terminals;
pub mod visitors;
pub mod visits;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::ErrorBody;
use protocol::admin::OutboxMessage;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::AdminAuth;
use super::error::{ApiError, ApiQuery};
use crate::service::{Page, outbox};
use crate::state::AppState;

pub(crate) type Created<T> = Result<(StatusCode, Json<T>), ApiError>;
pub(crate) type Found<T> = Result<Json<T>, ApiError>;

/// Which rows of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
    /// Skip this many first.
    pub offset: Option<u32>,
}

impl PageQuery {
    pub fn page(&self) -> Page {
        Page::new(self.limit, self.offset)
    }
}

/// A search and which rows of its answer.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Text the name (or number, or e-mail) contains, in any case; empty or
    /// absent for every row.
    pub q: Option<String>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
    /// Skip this many first.
    pub offset: Option<u32>,
}

impl SearchQuery {
    pub fn page(&self) -> Page {
        Page::new(self.limit, self.offset)
    }

    pub fn text(&self) -> String {
        self.q.clone().unwrap_or_default()
    }
}

/// How many outbox messages to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// Messages to visitors, newest first. PINs are never shown.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "admin", security(("admin" = [])),
    params(OutboxQuery),
    responses((status = 200, body = [OutboxMessage]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_outbox(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Found<Vec<OutboxMessage>> {
    let limit = q.limit.unwrap_or(100).min(1000);
    Ok(Json(
        st.run(admin.actor(), move |c, _| outbox::list(c, limit))
            .await?,
    ))
}
