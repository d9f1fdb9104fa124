//! The analytics page's figures for one clinic: the owner's own, or any for the operator.

use super::console::{Caller, ConsoleFailure};
use super::Tenants;
use crate::analytics::{ratings, tally, Analytics, RANGES};
use crate::domain::*;

/// Written feedback shown on the page, newest first.
const FEEDBACK_SHOWN: i64 = 20;

impl Tenants {
    /// The last `days_back` days (today included) of the clinic the caller means.
    pub async fn analytics(
        &self,
        caller: &Caller<'_>,
        slug: Option<&str>,
        days_back: u32,
    ) -> Result<Analytics, ConsoleFailure> {
        let started = std::time::Instant::now();
        let now = self.now();
        let store = self.store();
        let clinic = self.clinic_in_reach(caller, slug).await?;
        if !RANGES.contains(&days_back) {
            let allowed: Vec<String> = RANGES.iter().map(u32::to_string).collect();
            return Err(InvalidInput::new(
                "days",
                format!("Choose one of {} days.", allowed.join(", ")),
            )
            .into());
        }
        let today = now.local(&clinic.timezone).date();
        let first = today - chrono::Days::new(u64::from(days_back - 1));
        let from = Timestamp::at_local(&clinic.timezone, first.and_time(chrono::NaiveTime::MIN))
            .unwrap_or(Timestamp(now.millis() - i64::from(days_back) * 86_400_000));
        let to = Timestamp(now.millis() + 1);
        let tokens = store.analytics_tokens(&clinic, from, to).await?;
        let (total, by_day, by_hour) = tally(first, days_back as usize, &tokens);
        let feedback = store.feedback(&clinic, from, to, FEEDBACK_SHOWN).await?;
        Ok(Analytics {
            clinic_name: clinic.name.clone(),
            slug: clinic.slug.to_string(),
            from: first.to_string(),
            to: today.to_string(),
            days_back,
            total,
            by_day,
            by_hour,
            ratings: ratings(&tokens),
            feedback,
            query_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        })
    }
}
