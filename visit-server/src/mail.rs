//! Delivery of outbox messages by SMTP, where configured.
//!
//! Messages are committed to the outbox with the change they announce; this
//! task hands them to the facility's mail relay and marks them sent, retrying
//! with a growing pause when the relay is away. Nothing is lost on restart.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::SmtpConfig;
use crate::service::outbox::{self, Outgoing};
use crate::state::AppState;

async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    m: &Outgoing,
) -> Result<(), String> {
    let to: Mailbox =
        m.to.parse()
            .map_err(|e| format!("bad recipient address: {e}"))?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&m.subject)
        .body(m.body.clone())
        .map_err(|e| format!("cannot build message: {e}"))?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("mail server: {e}"))
}

/// Deliver due messages every few seconds, forever.
pub async fn run(state: AppState, smtp: SmtpConfig, public_url: String) {
    let from: Mailbox = match smtp.from.parse() {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(from = %smtp.from, error = %e, "smtp.from is not a mail address; confirmations will not be mailed");
            return;
        }
    };
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    loop {
        let base = public_url.clone();
        let due = state
            .run("mail", move |c, ctx| outbox::due(c, ctx, 20, &base))
            .await
            .unwrap_or_default();
        for m in &due {
            let result = send(&transport, &from, m).await;
            let id = m.id;
            let outcome = match &result {
                Ok(()) => {
                    tracing::info!(message_id = %id, "confirmation mailed");
                    state
                        .run("mail", move |c, ctx| outbox::mark_sent(c, ctx, id))
                        .await
                }
                Err(e) => {
                    tracing::warn!(message_id = %id, error = %e, "mail delivery failed; will retry");
                    let e = e.clone();
                    state
                        .run("mail", move |c, ctx| outbox::mark_failed(c, ctx, id, &e))
                        .await
                }
            };
            if let Err(e) = outcome {
                tracing::error!(message_id = %id, error = %e, "cannot update the outbox");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
