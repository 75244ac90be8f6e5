//! Every failure becomes a 4xx (or, for a fault of ours, 5xx) with a JSON
//! [`ErrorBody`]: never an HTML page, never a dropped connection.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::ErrorBody;
use protocol::error::codes;
use serde::de::DeserializeOwned;

use crate::service::Error;

/// An HTTP error with a stable code and a plain-words message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; the error is logged, please retry",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            axum::Json(ErrorBody {
                error: self.code,
                message: self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        }
        res
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match &e {
            Error::Refused(r) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, r.code(), r.to_string())
            }
            Error::NotFound { .. } => Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            Error::Invalid(m) => Self::new(StatusCode::BAD_REQUEST, "invalid_request", m.clone()),
            Error::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m.clone()),
            Error::Unauthorized(m) => {
                Self::new(StatusCode::UNAUTHORIZED, "unauthorized", m.clone())
            }
            Error::EnrolmentCodeExpired => Self::new(
                StatusCode::UNAUTHORIZED,
                protocol::error::codes::ENROLMENT_CODE_EXPIRED,
                e.to_string(),
            ),
            Error::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m.clone()),
            Error::SegmentConflict(m) => {
                Self::new(StatusCode::CONFLICT, codes::SEGMENT_CONFLICT, m.clone())
            }
            Error::SegmentOffset { .. } => {
                Self::new(StatusCode::CONFLICT, codes::SEGMENT_OFFSET, e.to_string())
            }
            Error::SegmentHashMismatch => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::SEGMENT_HASH_MISMATCH,
                e.to_string(),
            ),
            Error::RecordingRefused(m) => {
                Self::new(StatusCode::FORBIDDEN, codes::RECORDING_REFUSED, m.clone())
            }
            Error::StorageFull(m) => {
                tracing::error!(error = %m, "recordings storage full");
                Self::new(StatusCode::INSUFFICIENT_STORAGE, "storage_full", m.clone())
            }
            Error::Db(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                tracing::warn!(error = %e, "database busy");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "the server is busy; retry in a moment",
                )
            }
            Error::Internal => Self::internal(),
            Error::Db(_) => {
                tracing::error!(error = %e, "database error");
                Self::internal()
            }
        }
    }
}

/// `Json<T>` whose rejections (bad syntax, wrong types, missing content
/// type, oversize body) are JSON errors that say what is wrong.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    let status = rej.status();
    let code = match &rej {
        JsonRejection::JsonDataError(_) => "invalid_fields",
        JsonRejection::JsonSyntaxError(_) => "invalid_json",
        JsonRejection::MissingJsonContentType(_) => "not_json",
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        _ => "bad_body",
    };
    let message = match code {
        "not_json" => "send the body as JSON with `Content-Type: application/json`".to_string(),
        "body_too_large" => "the request body is larger than the server accepts".to_string(),
        _ => rej.body_text(),
    };
    ApiError::new(status, code, message)
}

/// `Path<T>` with JSON errors (e.g. an id that is not a UUID).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|rej: PathRejection| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", rej.body_text())
            })
    }
}

/// `Query<T>` with JSON errors.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|rej: QueryRejection| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", rej.body_text())
            })
    }
}
