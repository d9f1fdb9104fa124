//! SMS through a Twilio-compatible API (Twilio itself, or any provider that speaks its
//! Messages resource): the last resort for "your turn", for patients no push or WhatsApp
//! reaches. One account per clinic, its auth token sealed at rest.

use super::provider::SendError;
use super::{secrets, MessagingError, Messenger};
use crate::console::{ConsoleError, SmsInput, SmsView};
use crate::domain::*;
use crate::storage::{ConsoleAudit, StoredSms};
use serde::{Deserialize, Serialize};

/// `https://api.twilio.com`; tests point it at a stand-in on loopback.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// A clinic's SMS account, the token opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsAccount {
    pub account_sid: String,
    pub auth_token: String,
    /// The sender: an E.164 number or an alphanumeric sender id.
    pub from: String,
}

/// The sealed part of an SMS account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsSecrets {
    #[serde(default)]
    pub auth_token: String,
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

/// Twilio's error body: `{"code": 21211, "message": "…"}`.
#[derive(Deserialize)]
struct Refusal {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: String,
}

fn messages_url(base: &str, sid: &str) -> String {
    format!(
        "{}/2010-04-01/Accounts/{sid}/Messages.json",
        base.trim_end_matches('/')
    )
}

fn refusal(status: reqwest::StatusCode, text: &str) -> String {
    match serde_json::from_str::<Refusal>(text) {
        Ok(Refusal {
            code: Some(code),
            message,
        }) => format!("the SMS provider refused ({status}, code {code}): {message}"),
        _ => format!(
            "the SMS provider answered {status}: {}",
            text.chars().take(200).collect::<String>()
        ),
    }
}

/// Sends one SMS; the answer is the provider's message id.
pub async fn send(
    http: &reqwest::Client,
    base: &str,
    account: &SmsAccount,
    to: &str,
    body: &str,
) -> Result<String, SendError> {
    let response = http
        .post(messages_url(base, &account.account_sid))
        .basic_auth(&account.account_sid, Some(&account.auth_token))
        .form(&[("To", to), ("From", account.from.as_str()), ("Body", body)])
        .send()
        .await
        .map_err(|e| {
            SendError::Retryable(if e.is_timeout() {
                "the SMS provider did not answer in time".to_owned()
            } else {
                format!("could not reach the SMS provider: {e}")
            })
        })?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        return serde_json::from_str::<Created>(&text)
            .map(|c| c.sid)
            .map_err(|_| {
                SendError::Final(format!(
                    "the SMS provider answered {status} without a message id"
                ))
            });
    }
    let reason = refusal(status, &text);
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Err(SendError::Retryable(reason))
    } else {
        Err(SendError::Final(reason))
    }
}

/// Asks the provider about the account: `Ok(its name and status)` or what went wrong.
pub async fn test_connection(
    http: &reqwest::Client,
    base: &str,
    account: &SmsAccount,
) -> Result<String, String> {
    let url = format!(
        "{}/2010-04-01/Accounts/{}.json",
        base.trim_end_matches('/'),
        account.account_sid
    );
    let response = http
        .get(url)
        .basic_auth(&account.account_sid, Some(&account.auth_token))
        .send()
        .await
        .map_err(|e| format!("Could not reach the SMS provider: {e}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(match status.as_u16() {
            401 | 403 => "The SMS provider refused the account SID and auth token.".to_owned(),
            404 => "The SMS provider does not know this account SID.".to_owned(),
            _ => refusal(status, &text),
        });
    }
    let about: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let name = about["friendly_name"].as_str().unwrap_or("the account");
    let state = about["status"].as_str().unwrap_or("unknown");
    Ok(format!("{name} ({state})."))
}

impl Messenger {
    /// The clinic's SMS account with its token opened, if it has one.
    pub async fn sms_account(
        &self,
        clinic: ClinicId,
    ) -> Result<Option<SmsAccount>, MessagingError> {
        let Some(stored) = self.store().sms_account(clinic).await? else {
            return Ok(None);
        };
        let sealed: SmsSecrets = serde_json::from_str(&self.secrets.open(&stored.sealed_secrets)?)
            .map_err(|_| secrets::SecretError::Undecryptable)?;
        Ok(Some(SmsAccount {
            account_sid: stored.account_sid,
            auth_token: sealed.auth_token,
            from: stored.from_number,
        }))
    }

    /// The clinic's SMS account as its settings show it.
    pub async fn sms_view(&self, clinic: ClinicId) -> Result<SmsView, MessagingError> {
        Ok(match self.sms_account(clinic).await? {
            Some(a) => SmsView {
                configured: true,
                account_sid: a.account_sid,
                from_number: a.from,
                auth_token: secrets::masked(&a.auth_token),
            },
            None => SmsView::default(),
        })
    }

    /// Validates and stores (or removes) the clinic's SMS account, with an audit row.
    pub async fn configure_sms(
        &self,
        clinic: &Clinic,
        input: &SmsInput,
        audit: ConsoleAudit<'_>,
    ) -> Result<(), MessagingError> {
        let invalid =
            |field: &str, message: &str| ConsoleError::Invalid(InvalidInput::new(field, message));
        let now = self.now();
        if input.remove {
            let mut tx = self.store().begin().await?;
            tx.delete_sms_account(clinic.id).await?;
            tx.insert_console_audit(&audit, now).await?;
            tx.commit().await?;
            return Ok(());
        }
        let sid = input.account_sid.trim();
        if sid.len() < 8 || !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid(
                "account_sid",
                "The account SID is the provider's account id, letters and digits such as AC0123456789abcdef.",
            )
            .into());
        }
        let from = input.from_number.trim();
        let from = if from.starts_with('+') || from.bytes().all(|b| b.is_ascii_digit()) {
            Phone::parse(from, &clinic.settings.default_country)
                .map_err(|e| invalid("from_number", &format!("The sender number: {}", e.message)))?
                .as_str()
                .to_owned()
        } else if (1..=11).contains(&from.len()) && from.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            // An alphanumeric sender id, as many countries allow.
            from.to_owned()
        } else {
            return Err(invalid(
                "from_number",
                "The sender is a phone number such as +14155550100, or a sender id of up to 11 letters and digits.",
            )
            .into());
        };
        let previous = self.sms_account(clinic.id).await?;
        let token = match (input.auth_token.trim(), &previous) {
            ("", Some(p)) => p.auth_token.clone(),
            ("", None) => {
                return Err(invalid("auth_token", "Give the account's auth token.").into());
            }
            (new, _) => new.to_owned(),
        };
        let sealed = SmsSecrets { auth_token: token };
        let mut tx = self.store().begin().await?;
        tx.save_sms_account(
            &StoredSms {
                business_id: clinic.id.get(),
                account_sid: sid.to_owned(),
                from_number: from,
                sealed_secrets: self
                    .secrets
                    .seal(&serde_json::to_string(&sealed).expect("secrets serialize")),
            },
            now,
        )
        .await?;
        tx.insert_console_audit(&audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Asks the SMS provider whether the clinic's account works.
    pub async fn test_sms(
        &self,
        clinic: ClinicId,
    ) -> Result<Result<String, String>, MessagingError> {
        Ok(match self.sms_account(clinic).await? {
            Some(account) => test_connection(&self.http, &self.endpoints.sms, &account).await,
            None => Err("No SMS provider is configured yet.".to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_as_the_providers_own_words() {
        let text = r#"{"code": 21211, "message": "The 'To' number 123 is not a valid phone number.", "status": 400}"#;
        assert_eq!(
            refusal(reqwest::StatusCode::BAD_REQUEST, text),
            "the SMS provider refused (400 Bad Request, code 21211): The 'To' number 123 is not a valid phone number."
        );
        assert_eq!(
            messages_url("http://127.0.0.1:9/", "AC1"),
            "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json"
        );
    }
}
