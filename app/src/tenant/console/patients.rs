//! One patient's data at a clinic, found by phone: exported for an access request, or
//! erased on request (by the owner or the operator, with a confirmation, audited). The
//! erasure takes the same path as retention's purge (`Tenants::anonymise`), so analytics
//! read the same numbers after it.

use super::{Caller, Result};
use crate::console::*;
use crate::domain::*;
use crate::tenant::Tenants;

impl Tenants {
    /// The phone as the clinic stores it (E.164), read with the clinic's country.
    fn patient_phone(clinic: &Clinic, input: &str) -> Result<Phone> {
        Phone::parse(input, &clinic.settings.default_country)
            .map_err(|e| InvalidInput::new("phone", e.message).into())
    }

    /// Everything the clinic holds on one phone, and the same as a JSON document to hand
    /// to the patient. The look-up is audited (who looked, not whom).
    pub async fn find_patient(
        &self,
        caller: &Caller<'_>,
        slug: Option<&str>,
        phone: &str,
    ) -> Result<PatientData> {
        let clinic = self.clinic_in_reach(caller, slug).await?;
        let phone = Self::patient_phone(&clinic, phone)?;
        let record = self
            .store()
            .patient_record(clinic.id, phone.as_str())
            .await?;
        if record.is_empty() {
            return Err(ConsoleError::UnknownPatient(phone.as_str().to_owned()).into());
        }
        let export = serde_json::json!({
            "clinic": clinic.name,
            "phone": phone.as_str(),
            "exported_at": self.now().to_utc().to_rfc3339(),
            "record": record,
        });
        let target = format!("{} visits", record.visits.len());
        let mut tx = self.store().begin().await?;
        tx.insert_console_audit(
            &caller.audit(Some(clinic.id), "EXPORT_PATIENT_DATA", &target, "{}"),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(PatientData {
            phone: phone.as_str().to_owned(),
            export_json: serde_json::to_string_pretty(&export)
                .map_err(crate::storage::StorageError::from)?,
            record,
        })
    }

    /// Erases one patient's data at the clinic: their tokens are anonymised (kept for
    /// analytics, by number only), their messages emptied, their WhatsApp conversation,
    /// push subscriptions and pending erasure request deleted. Other clinics are not
    /// touched. Needs `confirmed`; an unknown phone changes nothing.
    pub async fn erase_patient(
        &self,
        caller: &Caller<'_>,
        slug: Option<&str>,
        phone: &str,
        confirmed: bool,
    ) -> Result<Erased> {
        let clinic = self.clinic_in_reach(caller, slug).await?;
        let phone = Self::patient_phone(&clinic, phone)?;
        if !confirmed {
            return Err(ConsoleError::ErasureNotConfirmed.into());
        }
        let mut tx = self.store().begin().await?;
        tx.wait_for_purge(clinic.id).await?;
        let held = tx.tokens_held_by_phone(clinic.id, phone.as_str()).await?;
        let mut removed = self.anonymise(&mut tx, &clinic, &held).await?;
        let messages = tx
            .messages_held_for_phone(clinic.id, phone.as_str())
            .await?;
        removed.messages += tx.anonymise_messages(&messages).await?;
        let (conversation, requested) =
            tx.delete_conversation_of(clinic.id, phone.as_str()).await?;
        removed.add(conversation);
        if removed.is_empty() && !requested {
            tx.rollback().await?;
            return Err(ConsoleError::UnknownPatient(phone.as_str().to_owned()).into());
        }
        let target = format!("{} visits", removed.tokens);
        let detail = serde_json::to_string(&removed).map_err(crate::storage::StorageError::from)?;
        tx.insert_console_audit(
            &caller.audit(Some(clinic.id), "ERASE_PATIENT_DATA", &target, &detail),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Erased {
            phone: phone.as_str().to_owned(),
            removed,
        })
    }
}
