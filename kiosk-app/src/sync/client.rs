//! The terminal API over HTTP, with every failure sorted into what the
//! terminal can do about it: wait (unreachable), report (server said no),
//! or distrust (the answer is garbage).

use std::time::Duration;

use protocol::ErrorBody;
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
    Server { status: u16, message: String },
    #[error("server answer unusable: {0}")]
    Malformed(String),
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
            let message = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|e| e.message)
                .unwrap_or_else(|_| {
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
                });
            return Err(SyncError::Server {
                status: status.as_u16(),
                message,
            });
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
