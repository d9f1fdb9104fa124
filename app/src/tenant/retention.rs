//! Retention (SPEC §9; docs/OPERATIONS.md, "Retention and erasure"): patients' personal
//! data goes once the days a clinic keeps it are over. Every instance runs the purge in
//! the background, and `qline purge` runs it on demand. Instances share the clinics (on
//! PostgreSQL one instance at a time purges a clinic, the others pass it by); each clinic
//! goes in short transactions of at most `BATCH` rows, and a row is changed only if it
//! still holds the data, so nothing is counted twice and a run cut off half-way is
//! finished by the next.

use super::Tenants;
use crate::console::Removed;
use crate::domain::retention::wrote_that_day;
use crate::domain::*;
use crate::storage::{HeldToken, StorageError, Tx};
use std::collections::HashMap;
use std::time::Duration;

/// Rows changed per transaction: short enough that desks never wait long behind a purge.
pub const BATCH: u32 = 500;

/// How long sign-in strikes are kept after the last one (they stop counting after a day).
const STRIKES_KEPT_MINUTES: i64 = 24 * 60;

/// What one purge removed, or on a dry run would remove.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    pub clinics: usize,
    /// Clinics another instance was purging at the time.
    pub clinics_passed: usize,
    pub removed: Removed,
    pub expired_sessions: u64,
    pub stale_strikes: u64,
}

impl std::fmt::Display for PurgeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.removed;
        writeln!(f, "clinics checked:                 {}", self.clinics)?;
        if self.clinics_passed > 0 {
            writeln!(
                f,
                "clinics another instance purged: {}",
                self.clinics_passed
            )?;
        }
        writeln!(f, "tokens anonymised:               {}", r.tokens)?;
        writeln!(f, "messages emptied:                {}", r.messages)?;
        writeln!(f, "WhatsApp messages deleted:       {}", r.inbound)?;
        writeln!(f, "WhatsApp conversations deleted:  {}", r.windows)?;
        writeln!(
            f,
            "push subscriptions deleted:      {}",
            r.push_subscriptions
        )?;
        writeln!(f, "audit rows redacted:             {}", r.audit_rows)?;
        writeln!(
            f,
            "expired staff sessions deleted:  {}",
            self.expired_sessions
        )?;
        write!(f, "old sign-in strikes deleted:     {}", self.stale_strikes)
    }
}

impl Tenants {
    /// Purges every clinic's personal data older than its retention (the platform's
    /// `platform` days, or the clinic's own where shorter), expired staff sessions and
    /// stale sign-in strikes. With `dry_run`, counts what would go and changes nothing.
    pub async fn purge(
        &self,
        platform: RetentionDays,
        dry_run: bool,
    ) -> Result<PurgeReport, StorageError> {
        let store = self.store();
        let now = self.now();
        let clinics = store.clinics("").await?;
        let mut report = PurgeReport {
            clinics: clinics.len(),
            ..PurgeReport::default()
        };
        let strikes_before = now.minus_minutes(STRIKES_KEPT_MINUTES);
        let mut locks = store.purge_locks().await?;
        for clinic in &clinics {
            let before = platform
                .for_clinic(clinic.settings.retention_days)
                .purge_before(now, &clinic.timezone);
            if dry_run {
                report
                    .removed
                    .add(store.held_before(clinic.id, before).await?);
            } else if locks.try_take(clinic.id).await? {
                let removed = self.purge_clinic(clinic, before).await;
                locks.release(clinic.id).await?;
                report.removed.add(removed?);
            } else {
                report.clinics_passed += 1;
            }
        }
        drop(locks);
        if dry_run {
            report.expired_sessions = store.expired_sessions(now).await?;
            report.stale_strikes = store.strikes_before(strikes_before).await?;
        } else {
            let mut tx = store.begin().await?;
            report.expired_sessions = tx.delete_expired_sessions(now).await?;
            report.stale_strikes = tx.forget_strikes_before(strikes_before).await?;
            tx.commit().await?;
        }
        Ok(report)
    }

    /// Removes a clinic's personal data from before `before`, a batch per transaction.
    async fn purge_clinic(
        &self,
        clinic: &Clinic,
        before: Timestamp,
    ) -> Result<Removed, StorageError> {
        let store = self.store();
        let mut removed = Removed::default();
        // Tokens first: what analytics keeps of a token's phone is read from the WhatsApp
        // messages of its day, which go after.
        loop {
            let mut tx = store.begin().await?;
            let held = tx.tokens_held_before(clinic.id, before, BATCH).await?;
            removed.add(self.anonymise(&mut tx, clinic, &held).await?);
            tx.commit().await?;
            if held.len() < BATCH as usize {
                break;
            }
        }
        loop {
            let mut tx = store.begin().await?;
            let held = tx.messages_held_before(clinic.id, before, BATCH).await?;
            removed.messages += tx.anonymise_messages(&held).await?;
            tx.commit().await?;
            if held.len() < BATCH as usize {
                break;
            }
        }
        loop {
            let mut tx = store.begin().await?;
            let deleted = tx.delete_inbound_before(clinic.id, before, BATCH).await?;
            tx.commit().await?;
            removed.inbound += deleted;
            if deleted < u64::from(BATCH) {
                break;
            }
        }
        let mut tx = store.begin().await?;
        removed.windows += tx.delete_windows_before(clinic.id, before).await?;
        removed.audit_rows += tx.redact_audit_before(clinic.id, before).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Anonymises `held` tokens of `clinic`, keeping for analytics whether each patient
    /// wrote on WhatsApp the day they joined.
    pub(super) async fn anonymise(
        &self,
        tx: &mut Tx,
        clinic: &Clinic,
        held: &[HeldToken],
    ) -> Result<Removed, StorageError> {
        let (Some(first), Some(last)) = (
            held.iter().map(|t| t.joined).min(),
            held.iter().map(|t| t.joined).max(),
        ) else {
            return Ok(Removed::default());
        };
        let mut phones: Vec<&str> = held.iter().filter_map(|t| t.phone.as_deref()).collect();
        phones.sort_unstable();
        phones.dedup();
        // A local day is at most 25 hours long: this takes in every message written on
        // the days the tokens joined.
        let day = 25 * 60;
        let mut wrote: HashMap<String, Vec<Timestamp>> = HashMap::new();
        for (phone, at) in tx
            .wrote_between(
                clinic.id,
                &phones,
                first.minus_minutes(day),
                Timestamp(last.millis() + day * 60_000),
            )
            .await?
        {
            wrote.entry(phone).or_default().push(at);
        }
        let ids: Vec<TokenId> = held.iter().map(|t| t.id).collect();
        let wrote: Vec<TokenId> = held
            .iter()
            .filter(|t| {
                t.phone
                    .as_deref()
                    .and_then(|p| wrote.get(p))
                    .is_some_and(|times| wrote_that_day(t.joined, times, &clinic.timezone))
            })
            .map(|t| t.id)
            .collect();
        tx.anonymise_tokens(&ids, &wrote, self.now()).await
    }

    /// Purges now, then every `every`, until `stop` turns true (or its sender goes).
    pub async fn run_retention(
        self,
        platform: RetentionDays,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        while !*stop.borrow() {
            match self.purge(platform, false).await {
                Ok(report) => {
                    metrics::counter!("qline_retention_runs_total", "outcome" => "ok").increment(1);
                    let r = report.removed;
                    for (kind, n) in [
                        ("tokens", r.tokens),
                        ("messages", r.messages),
                        ("whatsapp_messages", r.inbound),
                        ("whatsapp_conversations", r.windows),
                        ("push_subscriptions", r.push_subscriptions),
                        ("audit_rows", r.audit_rows),
                        ("staff_sessions", report.expired_sessions),
                        ("sign_in_strikes", report.stale_strikes),
                    ] {
                        metrics::counter!("qline_retention_removed_total", "kind" => kind)
                            .increment(n);
                    }
                    tracing::info!(
                        tokens = r.tokens,
                        messages = r.messages,
                        whatsapp_messages = r.inbound,
                        conversations = r.windows,
                        push_subscriptions = r.push_subscriptions,
                        audit_rows = r.audit_rows,
                        staff_sessions = report.expired_sessions,
                        clinics_passed = report.clinics_passed,
                        "retention: purged personal data past its days"
                    );
                }
                Err(e) => {
                    metrics::counter!("qline_retention_runs_total", "outcome" => "failed")
                        .increment(1);
                    tracing::warn!(error = %e, "retention: the purge stopped; the next run goes on");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
    }
}
