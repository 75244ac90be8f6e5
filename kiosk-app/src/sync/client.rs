//! The terminal API over HTTP, with every failure sorted into what the
//! terminal can do about it: wait (unreachable), report (server said no),
//! or distrust (the answer is garbage).

use std::time::Duration;

use protocol::ErrorBody;
use protocol::recording::{SegmentMeta, SegmentStatus};
use protocol::terminal::{
    EnrolRequest, EnrolResponse, EventBatch, EventBatchResult, Heartbeat, HeartbeatAck, Schedule,
    SignInPhoto, SignInPhotoResult, TerminalEvent,
};
use reqwest::{StatusCode, header};
use serde::de::DeserializeOwned;

/// Why a call to the server did not give a usable answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    #[error("server unreachable: {0}")]
    Unreachable(String),
    #[error("server answered {status}: {message}")]
    Server {
        status: u16,
        /// `ErrorBody.error`: the code a client acts on (see
        /// `protocol::error::codes`); empty when the body was not ours.
        code: String,
        message: String,
    },
    #[error("server answer unusable: {0}")]
    Malformed(String),
}

/// A refusal from the server, from its status and JSON error body (the
/// HTTP API and the signalling socket's upgrade answer both use this).
pub fn server_error(status: u16, body: &[u8]) -> SyncError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => SyncError::Server {
            status,
            code: e.error,
            message: e.message,
        },
        Err(_) => SyncError::Server {
            status,
            code: String::new(),
            message: if body.is_empty() {
                format!("HTTP {status}")
            } else {
                String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
            },
        },
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    credential: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(base: &str, credential: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(15))
            .no_proxy()
            .build()
            .expect("a TLS backend is compiled in");
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            credential,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/terminal/{path}", self.base)
    }

    /// The signalling socket of a visit (`ws://` or `wss://`, as the
    /// server's own address is `http://` or `https://`).
    pub fn signal_url(&self, visit: uuid::Uuid) -> String {
        let base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.clone()
        };
        format!("{base}/api/v1/signal/{visit}")
    }

    /// The `Authorization` header's value, for a request not made by
    /// reqwest (the signalling socket).
    pub fn authorization(&self) -> Option<String> {
        self.credential.as_ref().map(|c| format!("Bearer {c}"))
    }

    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.credential {
            Some(c) => req.bearer_auth(c),
            None => req,
        }
    }

    async fn answer<T: DeserializeOwned>(
        res: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, SyncError> {
        let res = res.map_err(|e| SyncError::Unreachable(e.to_string()))?;
        let status = res.status();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        if !status.is_success() {
            return Err(server_error(status.as_u16(), &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| SyncError::Malformed(e.to_string()))
    }

    pub async fn enrol(
        &self,
        code: &str,
        software_version: &str,
    ) -> Result<EnrolResponse, SyncError> {
        let req = EnrolRequest {
            code: code.to_string(),
            software_version: software_version.to_string(),
        };
        Self::answer(self.http.post(self.url("enrol")).json(&req).send().await).await
    }

    /// The schedule, or `None` when it has not changed since `etag`.
    pub async fn schedule(&self, etag: Option<&str>) -> Result<Option<Schedule>, SyncError> {
        let mut req = self.auth(self.http.get(self.url("schedule")));
        if let Some(e) = etag {
            req = req.header(header::IF_NONE_MATCH, e);
        }
        let res = req.send().await;
        if let Ok(r) = &res
            && r.status() == StatusCode::NOT_MODIFIED
        {
            return Ok(None);
        }
        Self::answer(res).await.map(Some)
    }

    pub async fn post_events(
        &self,
        events: Vec<TerminalEvent>,
    ) -> Result<EventBatchResult, SyncError> {
        let batch = EventBatch { events };
        Self::answer(
            self.auth(self.http.post(self.url("events")))
                .json(&batch)
                .send()
                .await,
        )
        .await
    }

    pub async fn post_photo(&self, photo: &SignInPhoto) -> Result<SignInPhotoResult, SyncError> {
        Self::answer(
            self.auth(self.http.post(self.url("photos")))
                .json(photo)
                .send()
                .await,
        )
        .await
    }

    /// Declare a recording segment (idempotent on its id): how much of it
    /// the server holds.
    pub async fn declare_segment(&self, meta: &SegmentMeta) -> Result<SegmentStatus, SyncError> {
        Self::answer(
            self.auth(self.http.post(self.url("recordings")))
                .json(meta)
                .send()
                .await,
        )
        .await
    }

    /// Send `bytes` of segment `id` from `offset` (at most
    /// `MAX_CHUNK_BYTES`).
    pub async fn put_segment_chunk(
        &self,
        id: uuid::Uuid,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<SegmentStatus, SyncError> {
        Self::answer(
            self.auth(
                self.http
                    .put(self.url(&format!("recordings/{id}?offset={offset}"))),
            )
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()
            .await,
        )
        .await
    }

    /// Where the server is with segment `id`.
    pub async fn segment_status(&self, id: uuid::Uuid) -> Result<SegmentStatus, SyncError> {
        Self::answer(
            self.auth(self.http.get(self.url(&format!("recordings/{id}"))))
                .send()
                .await,
        )
        .await
    }

    pub async fn heartbeat(&self, hb: &Heartbeat) -> Result<HeartbeatAck, SyncError> {
        Self::answer(
            self.auth(self.http.post(self.url("heartbeat")))
                .json(hb)
                .send()
                .await,
        )
        .await
    }
}
