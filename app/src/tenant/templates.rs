//! Each clinic's message templates: its own wording per message kind, channel (WhatsApp,
//! or the short text of SMS and push) and language, or Qline's default. Saved only when
//! every `{variable}` is one Qline knows.

use super::console::{Caller, ConsoleFailure};
use super::Tenants;
use crate::console::{ConsoleError, TemplateLine};
use crate::domain::*;
use crate::messages::{default_for, validate, MessageKind, TemplateChannel};

impl Tenants {
    /// Every template of the clinic, in each channel and language it offers: its own
    /// wording where it has one, else Qline's default.
    pub async fn templates(&self, clinic: &Clinic) -> Result<Vec<TemplateLine>, ConsoleFailure> {
        let own = self.store().templates_of(clinic.id).await?;
        let mut lines = Vec::new();
        for channel in [TemplateChannel::WhatsApp, TemplateChannel::Short] {
            for kind in channel.kinds() {
                for &language in &clinic.settings.languages {
                    let Some(default) = default_for(kind, channel, language) else {
                        continue;
                    };
                    let custom = own
                        .iter()
                        .find(|t| t.kind == kind && t.channel == channel && t.language == language)
                        .map(|t| t.body.clone());
                    lines.push(TemplateLine {
                        kind,
                        channel,
                        language,
                        custom: custom.is_some(),
                        body: custom.unwrap_or_else(|| default.to_owned()),
                    });
                }
            }
        }
        Ok(lines)
    }

    /// Saves a template after checking its variables; an empty body brings back the default.
    pub async fn save_template(
        &self,
        caller: &Caller<'_>,
        clinic: &Clinic,
        kind: &str,
        channel: &str,
        language: &str,
        body: &str,
    ) -> Result<(), ConsoleFailure> {
        let invalid =
            |field: &str, message: String| ConsoleError::Invalid(InvalidInput::new(field, message));
        let kind = MessageKind::from_stored(kind.trim())
            .ok_or_else(|| invalid("kind", format!("\"{kind}\" is not a kind of message.")))?;
        let channel = match channel.trim() {
            "" => TemplateChannel::WhatsApp,
            other => TemplateChannel::from_stored(other).ok_or_else(|| {
                invalid(
                    "channel",
                    format!("\"{other}\" is not a channel: WHATSAPP or SHORT."),
                )
            })?,
        };
        if default_for(kind, channel, Language::En).is_none() {
            return Err(invalid(
                "channel",
                format!("\"{}\" has no {} text.", kind.label(), channel.label()),
            )
            .into());
        }
        let language = Language::from_stored(language.trim())
            .or_else(|| Language::from_stored(&language.trim().to_uppercase()))
            .ok_or_else(|| {
                invalid(
                    "language",
                    format!("\"{language}\" is not a language Qline speaks."),
                )
            })?;
        let body = body.trim();
        if !body.is_empty() {
            validate(body).map_err(|e| invalid("body", e.to_string()))?;
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.save_template(clinic.id, kind, channel, language, body, now)
            .await?;
        let target = format!(
            "{} {} {}",
            kind.as_str(),
            channel.as_str(),
            language.as_str()
        );
        let detail = serde_json::json!({ "body": body }).to_string();
        let action = if body.is_empty() {
            "RESET_TEMPLATE"
        } else {
            "SAVE_TEMPLATE"
        };
        tx.insert_console_audit(
            &crate::storage::ConsoleAudit {
                clinic: Some(clinic.id),
                actor: caller.staff,
                ip: caller.ip,
                action,
                target: &target,
                detail: &detail,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
