//! Bearer authentication for terminals and administrators.
//!
//! Terminals present the credential they got at enrolment; administrators a
//! token made with `visit-server admin-token`. Both are looked up by keyed
//! hash. The failure message never says which part was wrong.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use super::error::ApiError;
use crate::service::terminals::TerminalIdentity;
use crate::service::{admin_tokens, audit, terminals};
use crate::state::AppState;

fn bearer(parts: &Parts) -> Result<String, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this endpoint needs `Authorization: Bearer <credential>`",
            )
        })?;
    let token = value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the Authorization header must be `Bearer <credential>`",
            )
        })?;
    Ok(token.to_string())
}

/// Who presented a bearer token that matched nothing: each is told what
/// can have happened to theirs and what to do.
#[derive(Clone, Copy)]
enum Holder {
    Terminal,
    Admin,
}

fn rejected(holder: Holder) -> ApiError {
    let message = match holder {
        Holder::Terminal => {
            "this terminal's credential is not valid: it was revoked, or the terminal \
             was enrolled again; enrol it with a new code"
        }
        Holder::Admin => {
            "this admin token is unknown or was revoked; make a new one with \
             `visit-server admin-token`"
        }
    };
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// An enrolled terminal.
pub struct TerminalAuth(pub TerminalIdentity);

impl FromRequestParts<AppState> for TerminalAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let who = state
            .run("auth", move |conn, ctx| {
                terminals::authenticate(conn, ctx, &token)
            })
            .await?;
        who.map(TerminalAuth).ok_or_else(|| {
            tracing::warn!("terminal call with an unknown credential");
            rejected(Holder::Terminal)
        })
    }
}

/// An administrator; carries the token's name for the record.
pub struct AdminAuth {
    pub name: String,
    /// The client's address, for the audit log.
    pub origin: String,
}

impl AdminAuth {
    /// How the administrator appears in visit history.
    pub fn actor(&self) -> String {
        format!("admin:{}", self.name)
    }

    /// Who acts, for the audit log: an admin token is not tied to one
    /// facility.
    pub fn who(&self) -> audit::Who {
        audit::Who {
            actor: self.actor(),
            facility: None,
            origin: self.origin.clone(),
        }
    }
}

/// The client's address (the TCP peer), for the audit log; "unknown" when
/// the router runs without connection info (in-process tests).
pub fn origin(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let who = state
            .run("auth", move |conn, ctx| {
                admin_tokens::authenticate(conn, ctx, &token)
            })
            .await?;
        let origin = origin(parts);
        who.map(|name| AdminAuth { name, origin }).ok_or_else(|| {
            tracing::warn!("admin call with an unknown token");
            rejected(Holder::Admin)
        })
    }
}
