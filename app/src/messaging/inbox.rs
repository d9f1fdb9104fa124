//! The desk's side of the conversation: staff replies to a patient's WhatsApp message
//! (free-form, so only inside the 24-hour window, and audited), the owner's canned
//! replies, and the tracker's "alert me" switch (a browser's push subscription).

use super::{push, MessagingError, Messenger};
use crate::console::ConsoleError;
use crate::domain::*;
use crate::storage::{ConsoleAudit, NewMessage};
use crate::whatsapp::Reach;

use crate::outbox::OutboxKind;

/// Longest staff reply or canned reply, in characters.
pub const REPLY_MAX: usize = 1000;

/// Browsers one token alerts at most (a patient's phone and maybe a relative's); the
/// oldest goes when another subscribes.
pub const SUBSCRIPTIONS_PER_TOKEN: u32 = 3;

/// Canned replies a clinic keeps at most.
pub const CANNED_MAX: usize = 20;

fn invalid(field: &str, message: impl Into<String>) -> MessagingError {
    MessagingError::Refused(ConsoleError::Invalid(InvalidInput::new(field, message)))
}

fn checked_reply(body: &str) -> Result<&str, MessagingError> {
    let body = body.trim();
    let length = body.chars().count();
    if body.is_empty() {
        return Err(invalid("body", "Write a reply first."));
    }
    if length > REPLY_MAX {
        return Err(invalid(
            "body",
            format!("Keep the reply under {REPLY_MAX} characters (it has {length})."),
        ));
    }
    Ok(body)
}

impl Messenger {
    /// A receptionist or owner answers a patient on WhatsApp. Refused when the token is
    /// not at their clinic, the patient never wrote, sent STOP, or their window closed.
    pub async fn reply_from_desk(
        &self,
        staff: &StaffUser,
        ip: Option<&str>,
        token: TokenId,
        body: &str,
    ) -> Result<(), MessagingError> {
        let clinic_id = staff
            .clinic_id
            .filter(|_| staff.active)
            .ok_or(ConsoleError::Forbidden)?;
        let body = checked_reply(body)?;
        let contact = self.store().token_contact(token).await?;
        let Some(contact) = contact.filter(|c| c.clinic == clinic_id) else {
            return Err(ConsoleError::Forbidden.into());
        };
        let phone = contact.phone;
        let clinic = self
            .store()
            .clinic(clinic_id)
            .await?
            .ok_or(ConsoleError::Forbidden)?;
        if !clinic.status.accepts_work() {
            let refusal = crate::queue::QueueError::ClinicNotAccepting {
                status: clinic.status,
            };
            return Err(invalid("body", refusal.to_string()));
        }
        if !clinic.settings.whatsapp_enabled {
            return Err(invalid("body", "WhatsApp is switched off for this clinic."));
        }
        // The reply goes to whoever wrote about this token (a relative may have), else to
        // the number the patient gave.
        let writer = self.store().writer_of(token).await?;
        let Some(phone) = writer.or(phone) else {
            return Err(invalid(
                "body",
                "This patient has not written to the clinic on WhatsApp; you can reply once they do.",
            ));
        };
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let window = tx.window(clinic_id, &phone).await?;
        match (Reach::of(window.as_ref(), false, now), &window) {
            (Reach::FreeForm, _) => {}
            (Reach::OptedOut, _) => {
                return Err(invalid(
                    "body",
                    "The patient sent STOP: no more messages until they write again.",
                ))
            }
            (_, Some(w)) => {
                let closed = Timestamp(w.open_until()).local(&clinic.timezone);
                return Err(invalid(
                    "body",
                    format!(
                        "The patient's 24-hour WhatsApp window closed at {}. WhatsApp lets the clinic reply only within 24 hours of the patient's last message; it opens again when they write.",
                        closed.format("%H:%M on %d %b")
                    ),
                ));
            }
            (_, None) => {
                return Err(invalid(
                    "body",
                    "This patient has not written to the clinic on WhatsApp; you can reply once they do.",
                ))
            }
        }
        tx.enqueue_message(
            &NewMessage::conversation(
                clinic_id,
                Some(token),
                &phone,
                OutboxKind::StaffReply,
                Language::En,
                body,
            ),
            now,
        )
        .await?;
        let target = token.get().to_string();
        let detail = serde_json::json!({ "body": body }).to_string();
        tx.insert_console_audit(
            &ConsoleAudit {
                clinic: Some(clinic_id),
                actor: staff,
                ip,
                action: "REPLY_WHATSAPP",
                target: &target,
                detail: &detail,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The owner's canned replies, replaced as a whole (blank lines dropped), audited.
    pub async fn save_canned_replies(
        &self,
        clinic: &Clinic,
        replies: &[String],
        audit: ConsoleAudit<'_>,
    ) -> Result<Vec<String>, MessagingError> {
        let replies: Vec<String> = replies
            .iter()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect();
        if replies.len() > CANNED_MAX {
            return Err(invalid(
                "replies",
                format!("Keep at most {CANNED_MAX} canned replies."),
            ));
        }
        for reply in &replies {
            checked_reply(reply).map_err(|_| {
                invalid(
                    "replies",
                    format!("Keep each canned reply under {REPLY_MAX} characters."),
                )
            })?;
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.replace_canned_replies(clinic.id, &replies, now).await?;
        tx.insert_console_audit(&audit, now).await?;
        tx.commit().await?;
        Ok(replies)
    }

    /// The tracker's "alert me" switch: keeps the browser's push subscription for the
    /// token, while it is still waiting or being served.
    pub async fn subscribe_push(
        &self,
        public_id: &PublicId,
        subscription: &push::Subscription,
    ) -> Result<(), MessagingError> {
        let Some(web_push) = &self.push else {
            return Err(invalid("push", "This server does not send alerts."));
        };
        if !web_push.allows(&subscription.endpoint) {
            return Err(invalid(
                "endpoint",
                "This browser's push service is not one Qline sends alerts through. Keep this page open instead; it updates by itself.",
            ));
        }
        let (token, clinic, in_queue) = self
            .store()
            .token_for_alerts(public_id)
            .await?
            .ok_or_else(|| invalid("token", "We could not find that token."))?;
        if !in_queue {
            return Err(invalid(
                "token",
                "This token is no longer in the queue, so there is nothing to alert you about.",
            ));
        }
        self.store()
            .save_push_subscription(
                clinic,
                token,
                &subscription.endpoint,
                &subscription.p256dh,
                &subscription.auth,
                SUBSCRIPTIONS_PER_TOKEN,
                self.now(),
            )
            .await?;
        Ok(())
    }

    /// Switching alerts off on the tracker.
    pub async fn unsubscribe_push(
        &self,
        public_id: &PublicId,
        endpoint: &str,
    ) -> Result<bool, MessagingError> {
        let Some((token, _, _)) = self.store().token_for_alerts(public_id).await? else {
            return Ok(false);
        };
        Ok(self
            .store()
            .delete_push_subscription_of(token, endpoint)
            .await?)
    }
}
