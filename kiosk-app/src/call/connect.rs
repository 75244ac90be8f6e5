//! The signalling client: opens a visit's WebSocket with the terminal's
//! credential. Authentication and the reading of a refusal are
//! `sync::client`'s, so the socket and the HTTP API say the same thing
//! about the same answer.

use std::time::Duration;

use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use uuid::Uuid;

use crate::sync::client::{Client, SyncError, server_error};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a connection attempt failed: for good (refused) or for now.
pub enum ConnectError {
    Refused(String),
    Retry(String),
}

impl From<SyncError> for ConnectError {
    fn from(e: SyncError) -> Self {
        match e {
            // A 4xx is the server's answer about this terminal and visit:
            // asking again will not change it.
            SyncError::Server {
                status, message, ..
            } if (400..500).contains(&status) => ConnectError::Refused(message),
            SyncError::Server { message, .. } => ConnectError::Retry(message),
            SyncError::Unreachable(m) | SyncError::Malformed(m) => ConnectError::Retry(m),
        }
    }
}

/// Open the signalling socket of `visit`.
pub async fn connect(api: &Client, visit: Uuid) -> Result<Socket, ConnectError> {
    let mut req = api
        .signal_url(visit)
        .into_client_request()
        .map_err(|e| ConnectError::Refused(format!("bad server URL: {e}")))?;
    if let Some(auth) = api.authorization() {
        req.headers_mut().insert(
            "authorization",
            auth.parse()
                .map_err(|_| ConnectError::Refused("unusable credential".into()))?,
        );
    }
    match tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(req),
    )
    .await
    {
        Err(_) => Err(ConnectError::Retry("timed out".into())),
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(tungstenite::Error::Http(resp))) => {
            let status = resp.status().as_u16();
            let body = resp.body().as_deref().unwrap_or_default();
            Err(server_error(status, body).into())
        }
        Ok(Err(e)) => Err(ConnectError::Retry(e.to_string())),
    }
}
