//! The providers' webhooks: authenticate, read the provider's payload shape, and hand
//! each inbound text and delivery report to the messenger. Group, broadcast and the
//! clinic's own messages are ignored.
//!
//! - Meta: `GET /webhooks/whatsapp/meta` is the verification handshake (the verify token
//!   of any clinic on Meta, found by its keyed fingerprint); `POST` carries
//!   `X-Hub-Signature-256`, an HMAC-SHA256 of the raw body under the app secret of the
//!   clinic that owns the `phone_number_id`.
//! - UltraMsg: `POST /webhooks/whatsapp/ultramsg/{slug}?secret=…`, the secret compared in
//!   constant time.
//!
//! A delivery report changes only a message of the clinic whose webhook carried it.

use super::inbound::{Handled, Inbound};
use super::{MessagingError, Messenger};
use crate::console::ProviderKind;
use crate::domain::*;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a webhook call was turned away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the signature or secret does not match")]
    Unauthorized,
    #[error("the verify token does not match")]
    Forbidden,
    #[error("no clinic receives WhatsApp here")]
    UnknownClinic,
    #[error("the body is not a webhook payload: {0}")]
    BadPayload(String),
    /// Our side could not record the delivery just now (the database is away): the
    /// provider sends it again later, so nothing is lost.
    #[error("the delivery could not be recorded just now ({0}); send it again")]
    NotNow(String),
}

/// A failure on our side while handling a delivery: the provider must retry it.
fn not_now(cause: impl std::fmt::Display) -> Rejection {
    Rejection::NotNow(cause.to_string())
}

/// What one webhook call carried, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub messages: u32,
    pub duplicates: u32,
    pub statuses: u32,
    pub ignored: u32,
}

impl Report {
    /// A delivery report lands only on the clinic's own message; any other is ignored.
    fn count_status(&mut self, landed: bool) {
        if landed {
            self.statuses += 1;
        } else {
            self.ignored += 1;
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` against the raw body.
pub fn meta_signature_ok(app_secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = super::secrets::from_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// An E.164 phone from a provider's digits (`919812345678`, `919812345678@c.us`).
fn e164(raw: &str) -> Option<String> {
    let digits: String = raw
        .split('@')
        .next()?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    (8..=15)
        .contains(&digits.len())
        .then(|| format!("+{digits}"))
}

impl Messenger {
    /// The Meta handshake: answers the challenge when the token is one of our clinics'.
    /// Anyone may call it, so it looks up the token's fingerprint and opens no secret.
    pub async fn meta_verify(
        &self,
        mode: &str,
        token: &str,
        challenge: &str,
    ) -> Result<String, Rejection> {
        if mode != "subscribe" || token.is_empty() {
            return Err(Rejection::Forbidden);
        }
        let fingerprint = self.secrets.fingerprint(token);
        match self
            .store()
            .meta_verify_fingerprint_known(&fingerprint)
            .await
        {
            Ok(true) => Ok(challenge.to_owned()),
            Ok(false) => Err(Rejection::Forbidden),
            Err(e) => {
                tracing::error!(error = %e, "cannot look up Meta verify tokens");
                Err(not_now(e))
            }
        }
    }

    /// A Meta webhook delivery: every change is checked against its clinic's app secret
    /// before anything in it is acted on.
    pub async fn meta_webhook(&self, body: &[u8], signature: &str) -> Result<Report, Rejection> {
        let payload: Value =
            serde_json::from_slice(body).map_err(|e| Rejection::BadPayload(e.to_string()))?;
        let changes: Vec<&Value> = payload["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|entry| entry["changes"].as_array().into_iter().flatten())
            .map(|change| &change["value"])
            .collect();
        // Authenticate first: one bad signature turns the whole delivery away.
        let mut clinics = Vec::with_capacity(changes.len());
        for value in &changes {
            let phone_number_id = value["metadata"]["phone_number_id"]
                .as_str()
                .unwrap_or_default();
            let stored = self
                .store()
                .whatsapp_account_by_meta_id(phone_number_id)
                .await
                .map_err(not_now)?
                .ok_or(Rejection::Unauthorized)?;
            let account = self.open(&stored).map_err(|_| Rejection::Unauthorized)?;
            if !meta_signature_ok(&account.secrets.meta_app_secret, body, signature) {
                return Err(Rejection::Unauthorized);
            }
            clinics.push((stored.clinic, account.phone_number));
        }
        let mut report = Report::default();
        for (value, (clinic, own_number)) in changes.iter().zip(clinics) {
            for message in value["messages"].as_array().into_iter().flatten() {
                let from = message["from"].as_str().and_then(e164);
                let text = message["text"]["body"].as_str();
                let id = message["id"].as_str().unwrap_or_default();
                match (from, text) {
                    (Some(from), Some(text)) if from != own_number && !id.is_empty() => {
                        // Meta: the message's own time, seconds as a string.
                        let sent_at = message["timestamp"]
                            .as_str()
                            .and_then(|t| t.parse::<i64>().ok())
                            .map(|secs| Timestamp(secs * 1000));
                        self.count(&mut report, clinic, id, &from, text, sent_at)
                            .await?;
                    }
                    _ => report.ignored += 1,
                }
            }
            for status in value["statuses"].as_array().into_iter().flatten() {
                let id = status["id"].as_str().unwrap_or_default();
                let state = status["status"].as_str().unwrap_or_default();
                let error = status["errors"][0]
                    .as_object()
                    .map(|e| {
                        format!(
                            "Meta error {}: {}",
                            e.get("code").and_then(Value::as_i64).unwrap_or(0),
                            e.get("title").and_then(Value::as_str).unwrap_or("")
                        )
                    })
                    .unwrap_or_default();
                let known = matches!(state, "sent" | "delivered" | "read" | "failed")
                    && !id.is_empty()
                    && self
                        .handle_status(clinic, id, state, &error)
                        .await
                        .map_err(not_now)?;
                report.count_status(known);
            }
        }
        Ok(report)
    }

    /// An UltraMsg webhook delivery for one clinic.
    pub async fn ultramsg_webhook(
        &self,
        slug: &str,
        secret: &str,
        body: &[u8],
    ) -> Result<Report, Rejection> {
        let slug = Slug::parse(slug).map_err(|_| Rejection::UnknownClinic)?;
        let clinic = self
            .store()
            .clinic_by_slug(&slug)
            .await
            .map_err(not_now)?
            .ok_or(Rejection::UnknownClinic)?;
        let account = self
            .account(clinic.id)
            .await
            .map_err(|e| match e {
                MessagingError::Storage(cause) => not_now(cause),
                _ => Rejection::Unauthorized,
            })?
            .filter(|a| a.kind == ProviderKind::UltraMsg)
            .ok_or(Rejection::UnknownClinic)?;
        if !same(&account.secrets.webhook_secret, secret) {
            return Err(Rejection::Unauthorized);
        }
        let payload: Value =
            serde_json::from_slice(body).map_err(|e| Rejection::BadPayload(e.to_string()))?;
        let data = &payload["data"];
        let mut report = Report::default();
        match payload["event_type"].as_str().unwrap_or_default() {
            "message_received" => {
                let from = data["from"].as_str().unwrap_or_default();
                let personal = from.ends_with("@c.us");
                let own = data["fromMe"].as_bool().unwrap_or(false)
                    || data["self"].as_bool().unwrap_or(false);
                let group = data["isGroup"].as_bool().unwrap_or(false);
                let text = data["body"]
                    .as_str()
                    .filter(|_| data["type"].as_str() == Some("chat"));
                let id = data["id"].as_str().unwrap_or_default();
                match (personal && !own && !group, e164(from), text) {
                    (true, Some(phone), Some(text))
                        if !id.is_empty() && phone != account.phone_number =>
                    {
                        // UltraMsg: the message's own time, seconds.
                        let sent_at = data["time"].as_i64().map(|secs| Timestamp(secs * 1000));
                        self.count(&mut report, clinic.id, id, &phone, text, sent_at)
                            .await?;
                    }
                    _ => report.ignored += 1,
                }
            }
            "message_ack" => {
                let state = match data["ack"].as_str().unwrap_or_default() {
                    "server" => Some("sent"),
                    "device" => Some("delivered"),
                    "read" | "played" => Some("read"),
                    _ => None,
                };
                // Our sends carry the outbox id as referenceId; UltraMsg's own id is in `id`.
                let id = payload["id"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| payload["id"].as_i64().map(|n| n.to_string()));
                let known = match (state, id) {
                    (Some(state), Some(id)) => self
                        .handle_status(clinic.id, &id, state, "")
                        .await
                        .map_err(not_now)?,
                    _ => false,
                };
                report.count_status(known);
            }
            _ => report.ignored += 1,
        }
        Ok(report)
    }

    async fn count(
        &self,
        report: &mut Report,
        clinic: ClinicId,
        id: &str,
        phone: &str,
        text: &str,
        sent_at: Option<Timestamp>,
    ) -> Result<(), Rejection> {
        let inbound = Inbound {
            clinic,
            provider_message_id: id,
            phone,
            body: text,
            sent_at,
        };
        let handled = self
            .handle_inbound(&inbound)
            .await
            .map_err(|e: MessagingError| not_now(e))?;
        tracing::info!(
            clinic = clinic.get(),
            from = %Phone::from_stored(phone.to_owned()).masked(),
            outcome = ?handled,
            "WhatsApp message received"
        );
        if handled == Handled::Duplicate {
            report.duplicates += 1;
        } else {
            report.messages += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_signatures_are_checked_on_the_raw_body() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"app-secret").unwrap();
        mac.update(body);
        let good = format!(
            "sha256={}",
            super::super::secrets::to_hex(&mac.finalize().into_bytes())
        );
        assert!(meta_signature_ok("app-secret", body, &good));
        assert!(!meta_signature_ok("other-secret", body, &good));
        assert!(!meta_signature_ok("app-secret", b"{}", &good));
        assert!(!meta_signature_ok("app-secret", body, "sha256=zz"));
        assert!(!meta_signature_ok("app-secret", body, ""));
    }

    #[test]
    fn provider_numbers_become_e164() {
        assert_eq!(e164("919812345678@c.us").as_deref(), Some("+919812345678"));
        assert_eq!(e164("919812345678").as_deref(), Some("+919812345678"));
        assert_eq!(e164("12345"), None);
    }
}
