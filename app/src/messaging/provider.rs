//! WhatsApp providers behind one interface: UltraMsg, the Meta WhatsApp Cloud API, and a
//! log-only provider that records without sending. Each send ends in a provider message
//! id, a retryable failure (worth another attempt) or a final one (never retried).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

pub use crate::console::ProviderKind;

/// Where the providers' APIs live; tests point these at a stand-in server.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// `https://api.ultramsg.com`
    pub ultramsg: String,
    /// `https://graph.facebook.com/v21.0`
    pub meta: String,
    /// A Twilio-compatible SMS API: `https://api.twilio.com`
    pub sms: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            ultramsg: "https://api.ultramsg.com".into(),
            meta: "https://graph.facebook.com/v21.0".into(),
            sms: super::sms::DEFAULT_BASE_URL.into(),
        }
    }
}

/// A provider's secrets, stored sealed as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secrets {
    #[serde(default)]
    pub ultramsg_token: String,
    #[serde(default)]
    pub meta_access_token: String,
    #[serde(default)]
    pub meta_app_secret: String,
    #[serde(default)]
    pub meta_verify_token: String,
    /// Carried in the clinic's UltraMsg webhook URL (`?secret=…`).
    #[serde(default)]
    pub webhook_secret: String,
}

/// A clinic's WhatsApp account, secrets opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub kind: ProviderKind,
    /// The clinic's number, E.164.
    pub phone_number: String,
    pub ultramsg_instance: String,
    pub meta_phone_number_id: String,
    pub secrets: Secrets,
}

/// One message to send.
#[derive(Debug, Clone)]
pub enum Outgoing<'a> {
    Text {
        to: &'a str,
        body: &'a str,
        /// Our outbox id, passed where the provider keeps a reference.
        reference: &'a str,
    },
    /// An approved template (Meta only), for phones without an open window.
    Template {
        to: &'a str,
        name: &'a str,
        language: &'a str,
        params: &'a [String],
        reference: &'a str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Retryable(String),
    #[error("{0}")]
    Final(String),
}

/// The HTTP client every provider call uses: short timeouts, so a slow provider delays a
/// message, never a queue action (those never wait on a provider).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        // Providers and push services answer API calls directly; a redirect could only
        // lead a request somewhere it was never meant to go.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client with default TLS settings")
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

fn network(e: reqwest::Error) -> SendError {
    SendError::Retryable(if e.is_timeout() {
        "the provider did not answer in time".to_owned()
    } else {
        format!("could not reach the provider: {e}")
    })
}

/// Sends one message. The answer is the provider's message id.
pub async fn send(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    account: &Account,
    message: &Outgoing<'_>,
) -> Result<String, SendError> {
    match account.kind {
        ProviderKind::Log => {
            let (to, reference) = match message {
                Outgoing::Text { to, reference, .. } | Outgoing::Template { to, reference, .. } => {
                    (*to, *reference)
                }
            };
            tracing::info!(
                to = %crate::domain::Phone::from_stored(to.to_owned()).masked(),
                reference,
                "WhatsApp message recorded (log-only provider)"
            );
            Ok(format!("log-{reference}"))
        }
        ProviderKind::UltraMsg => ultramsg_send(http, endpoints, account, message).await,
        ProviderKind::Meta => meta_send(http, endpoints, account, message).await,
    }
}

async fn ultramsg_send(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    account: &Account,
    message: &Outgoing<'_>,
) -> Result<String, SendError> {
    let Outgoing::Text {
        to,
        body,
        reference,
    } = message
    else {
        return Err(SendError::Final(
            "UltraMsg cannot send approved templates; only free-form messages in an open window"
                .into(),
        ));
    };
    let url = format!(
        "{}/{}/messages/chat",
        endpoints.ultramsg.trim_end_matches('/'),
        account.ultramsg_instance
    );
    let response = http
        .post(url)
        .form(&[
            ("token", account.secrets.ultramsg_token.as_str()),
            ("to", &format!("+{}", digits(to))),
            ("body", body),
            ("referenceId", reference),
        ])
        .send()
        .await
        .map_err(network)?;
    let status = response.status();
    let text = response.text().await.map_err(network)?;
    let parsed: Option<Value> = serde_json::from_str(&text).ok();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(SendError::Retryable(format!("UltraMsg answered {status}")));
    }
    let Some(answer) = parsed else {
        return Err(SendError::Retryable(format!(
            "UltraMsg answered {status} with a body that is not JSON"
        )));
    };
    if let Some(error) = answer.get("error") {
        let error = match error {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Err(ultramsg_error(&error));
    }
    let sent = matches!(answer.get("sent"), Some(Value::String(s)) if s == "true")
        || answer.get("sent") == Some(&Value::Bool(true));
    match (sent, answer.get("id")) {
        (true, Some(id)) => Ok(match id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        _ if status.is_client_error() => Err(SendError::Final(format!("UltraMsg refused: {text}"))),
        _ => Err(SendError::Retryable(format!(
            "UltraMsg gave no message id: {text}"
        ))),
    }
}

/// UltraMsg reports errors as text. Busy or disconnected instances recover; bad tokens,
/// unknown instances and bad numbers do not.
fn ultramsg_error(error: &str) -> SendError {
    let lower = error.to_lowercase();
    let transient = [
        "try again",
        "busy",
        "timeout",
        "queue",
        "not connected",
        "loading",
    ];
    if transient.iter().any(|t| lower.contains(t)) {
        SendError::Retryable(format!("UltraMsg: {error}"))
    } else {
        SendError::Final(format!("UltraMsg: {error}"))
    }
}

async fn meta_send(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    account: &Account,
    message: &Outgoing<'_>,
) -> Result<String, SendError> {
    let payload = match message {
        Outgoing::Text {
            to,
            body,
            reference,
        } => json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": digits(to),
            "type": "text",
            "text": { "preview_url": true, "body": body },
            "biz_opaque_callback_data": reference,
        }),
        Outgoing::Template {
            to,
            name,
            language,
            params,
            reference,
        } => json!({
            "messaging_product": "whatsapp",
            "to": digits(to),
            "type": "template",
            "template": {
                "name": name,
                "language": { "code": language },
                "components": [{
                    "type": "body",
                    "parameters": params.iter().map(|p| json!({ "type": "text", "text": p })).collect::<Vec<_>>(),
                }],
            },
            "biz_opaque_callback_data": reference,
        }),
    };
    let url = format!(
        "{}/{}/messages",
        endpoints.meta.trim_end_matches('/'),
        account.meta_phone_number_id
    );
    let response = http
        .post(url)
        .bearer_auth(&account.secrets.meta_access_token)
        .json(&payload)
        .send()
        .await
        .map_err(network)?;
    let status = response.status();
    let text = response.text().await.map_err(network)?;
    let Ok(answer) = serde_json::from_str::<Value>(&text) else {
        return Err(SendError::Retryable(format!(
            "Meta answered {status} with a body that is not JSON"
        )));
    };
    if let Some(error) = answer.get("error") {
        let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(meta_error(code, message, status.as_u16()));
    }
    if status.is_server_error() {
        return Err(SendError::Retryable(format!("Meta answered {status}")));
    }
    answer["messages"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| SendError::Retryable(format!("Meta gave no message id: {text}")))
}

/// Meta's error codes that clear up on their own (throttling, temporary outages); every
/// other code (expired token, bad number, outside the 24-hour window, unknown template…)
/// fails at once.
pub fn meta_error(code: i64, message: &str, http_status: u16) -> SendError {
    const RETRYABLE: &[i64] = &[
        1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131048, 131056, 133004,
    ];
    let text = format!("Meta error {code}: {message}");
    if RETRYABLE.contains(&code) || (code == 0 && (http_status >= 500 || http_status == 429)) {
        SendError::Retryable(text)
    } else {
        SendError::Final(text)
    }
}

/// Sends a request and reads the provider's JSON answer, or says in words why not.
async fn json_answer(
    request: reqwest::RequestBuilder,
    provider: &str,
) -> Result<(reqwest::StatusCode, Value), String> {
    let response = request.send().await.map_err(|e| network(e).to_string())?;
    let status = response.status();
    let answer = response
        .json()
        .await
        .map_err(|_| format!("{provider} answered {status} with a body that is not JSON"))?;
    Ok((status, answer))
}

/// Asks the provider whether the account works, and says what it answered.
pub async fn test_connection(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    account: &Account,
) -> Result<String, String> {
    match account.kind {
        ProviderKind::Log => {
            Ok("Log-only provider: messages are recorded here, never sent.".into())
        }
        ProviderKind::UltraMsg => {
            let url = format!(
                "{}/{}/instance/status",
                endpoints.ultramsg.trim_end_matches('/'),
                account.ultramsg_instance
            );
            let request = http
                .get(url)
                .query(&[("token", account.secrets.ultramsg_token.as_str())]);
            let (status, answer) = json_answer(request, "UltraMsg").await?;
            if let Some(error) = answer.get("error") {
                return Err(format!(
                    "UltraMsg: {}",
                    error.as_str().unwrap_or(&error.to_string())
                ));
            }
            let account_status = &answer["status"]["accountStatus"];
            match account_status["status"].as_str() {
                Some("authenticated") => Ok(format!(
                    "UltraMsg instance {} is authenticated ({})",
                    account.ultramsg_instance,
                    account_status["substatus"].as_str().unwrap_or("connected")
                )),
                Some(other) => Err(format!(
                    "UltraMsg instance {} is {other}: scan the QR code in UltraMsg to connect it",
                    account.ultramsg_instance
                )),
                None => Err(format!("UltraMsg answered {status} without a status")),
            }
        }
        ProviderKind::Meta => {
            let url = format!(
                "{}/{}",
                endpoints.meta.trim_end_matches('/'),
                account.meta_phone_number_id
            );
            let request = http
                .get(url)
                .bearer_auth(&account.secrets.meta_access_token)
                .query(&[("fields", "display_phone_number,verified_name")]);
            let (_, answer) = json_answer(request, "Meta").await?;
            if let Some(error) = answer.get("error") {
                return Err(format!(
                    "Meta error {}: {}",
                    error["code"].as_i64().unwrap_or(0),
                    error["message"].as_str().unwrap_or("no message")
                ));
            }
            Ok(format!(
                "Meta number {} ({}) is reachable",
                answer["display_phone_number"].as_str().unwrap_or("?"),
                answer["verified_name"].as_str().unwrap_or("unnamed")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_throttling_is_retried_and_a_bad_token_is_not() {
        assert!(matches!(
            meta_error(130429, "rate", 400),
            SendError::Retryable(_)
        ));
        assert!(matches!(
            meta_error(131000, "oops", 500),
            SendError::Retryable(_)
        ));
        assert!(matches!(
            meta_error(190, "token expired", 401),
            SendError::Final(_)
        ));
        assert!(matches!(
            meta_error(131047, "re-engagement", 400),
            SendError::Final(_)
        ));
    }

    #[test]
    fn ultramsg_errors_are_final_unless_transient() {
        assert!(matches!(
            ultramsg_error("Wrong token. Please provide token"),
            SendError::Final(_)
        ));
        assert!(matches!(
            ultramsg_error("instance is busy, try again"),
            SendError::Retryable(_)
        ));
    }
}
