//! What the consoles count and the operator watches: how alerts reached patients, each
//! clinic's daily usage, the platform's health, and the audit log.

use super::{Caller, Result};
use crate::console::*;
use crate::domain::*;
use crate::queue::engine::Engine;
use crate::tenant::Tenants;

impl Tenants {
    /// How alerts reached patients since an instant, per clinic (one, or all).
    pub async fn delivery_since(
        &self,
        clinic: Option<ClinicId>,
        since: Timestamp,
    ) -> Result<std::collections::HashMap<i64, DeliveryStats>> {
        let store = self.store();
        let attempts = store.attempt_counts_since(clinic, since).await?;
        let outcomes = store.outcome_counts_since(clinic, since).await?;
        let mut ids: Vec<i64> = attempts
            .iter()
            .map(|a| a.clinic.get())
            .chain(outcomes.iter().map(|o| o.clinic.get()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids
            .into_iter()
            .map(|id| (id, stats_of(&attempts, &outcomes, Some(id))))
            .collect())
    }

    /// The clinic's tokens taken and served on each of its last 30 local days.
    pub(super) async fn last_30_days(&self, clinic: &Clinic) -> Result<Vec<UsageDay>> {
        let store = self.store();
        let now = self.now();
        let today = Engine::local_date(clinic, now);
        let mut usage: Vec<UsageDay> = (0..30)
            .rev()
            .map(|ago| UsageDay {
                date: today.days_before(ago).to_string(),
                tokens: 0,
                served: 0,
            })
            .collect();
        for day_usage in store
            .day_usage(Some(clinic.id), today.days_before(29))
            .await?
        {
            let date = day_usage.date.to_string();
            if let Some(day) = usage.iter_mut().find(|d| d.date == date) {
                day.tokens += day_usage.tokens;
                day.served += day_usage.served;
            }
        }
        Ok(usage)
    }

    /// The console's audit log, newest first, across every clinic (the operator's only).
    pub async fn audit_log(
        &self,
        caller: &Caller<'_>,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditLine>> {
        let store = self.store();
        caller.require_operator()?;
        Ok(store.console_audit(filter, 200).await?)
    }

    /// The platform's health: the database's answer and latency, and today's volume.
    pub async fn health(&self, caller: &Caller<'_>) -> Result<Health> {
        let store = self.store();
        caller.require_operator()?;
        let started = std::time::Instant::now();
        let database_problem = store.readiness().await.err();
        let database_ms = started.elapsed().as_millis() as u32;
        let clinics = self.list_clinics(caller, "").await?;
        Ok(Health {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            backend: store.backend().to_owned(),
            database_problem,
            database_ms,
            worker_lag_seconds: store
                .oldest_due_message()
                .await?
                .map(|due| ((self.now().millis() - due.millis()).max(0) / 1000) as u32),
            clinics: clinics.len() as u32,
            tokens_today: clinics.iter().map(|c| c.tokens_today).sum(),
            delivery: self.platform_delivery().await?,
        })
    }

    /// Every clinic's alerts over the last 30 days, added up.
    async fn platform_delivery(&self) -> Result<DeliveryStats> {
        let store = self.store();
        let since = self.now().minus_minutes(30 * 24 * 60);
        let attempts = store.attempt_counts_since(None, since).await?;
        let outcomes = store.outcome_counts_since(None, since).await?;
        Ok(stats_of(&attempts, &outcomes, None))
    }
}

/// Adds up one clinic's counts, or every clinic's.
fn stats_of(
    attempts: &[crate::outbox::AttemptCount],
    outcomes: &[crate::outbox::OutcomeCount],
    clinic: Option<i64>,
) -> DeliveryStats {
    let mine = move |id: i64| clinic.is_none_or(|c| c == id);
    DeliveryStats::from_counts(
        attempts.iter().filter(|a| mine(a.clinic.get())),
        outcomes.iter().filter(|o| mine(o.clinic.get())),
    )
}
