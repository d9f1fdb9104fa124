//! A queue day closing itself at its queue's closing time (docs/OPERATIONS.md, "Opening
//! hours"), by the rules of the desk's CLOSE DAY: not while a patient is being seen (it
//! closes once they are finished), and whoever still waits is cancelled and told. It is
//! audited as the system's CLOSE DAY, which the desk can UNDO to keep seeing patients; a
//! day closed once, by hand or by the hours, is not closed again by the hours.

use super::{Actor, Engine, EngineError};
use crate::domain::Timestamp;
use crate::queue::rules::{self, StaffAction};
use crate::queue::QueueError;
use crate::storage::{DayKey, OpenDay, Plan, StorageError, Want};

/// How often the sweep looks for days past their closing time.
pub const CLOSING_SWEEP_SECS: u64 = 60;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClosedByHours {
    /// Days closed.
    pub closed: u32,
    /// Days past closing time that wait for the patient being seen.
    pub serving: u32,
}

impl Engine {
    /// Closes every open day whose queue's hours closed it by now.
    pub async fn close_by_hours(&self) -> Result<ClosedByHours, StorageError> {
        let now = self.now();
        let mut done = ClosedByHours::default();
        for day in self.store.open_days_with_hours().await? {
            if !closing_time_passed(&day, now) {
                continue;
            }
            match self.close_day_by_hours(&day, now).await {
                Ok(_) => done.closed += 1,
                Err(EngineError::Refused(QueueError::PatientServing { .. })) => done.serving += 1,
                // Closed meanwhile (another instance, the desk), or a clinic not working.
                Err(EngineError::Refused(_)) => {}
                Err(EngineError::Storage(e)) => return Err(e),
            }
        }
        Ok(done)
    }

    async fn close_day_by_hours(
        &self,
        day: &OpenDay,
        now: Timestamp,
    ) -> Result<crate::storage::Applied, EngineError> {
        let closed = self
            .mutate_day(DayKey::Day(day.id), Want::default(), now, |snap| {
                if !snap.clinic.status.accepts_work() {
                    return Err(QueueError::ClinicNotAccepting {
                        status: snap.clinic.status,
                    });
                }
                Ok(Plan {
                    changes: rules::plan_staff(&snap.day, &StaffAction::CloseDay, now)?,
                    new_token: None,
                    // The desk may UNDO it, as its own CLOSE DAY.
                    audit: Actor::Hours.audit("CLOSE_DAY", None, true),
                })
            })
            .await;
        if closed.is_ok() {
            tracing::info!(queue_id = day.queue_id.get(), date = %day.date, "closed the day at its closing time");
        }
        closed
    }

    /// Runs the sweep every `CLOSING_SWEEP_SECS` until `stop` turns true.
    pub async fn run_closing(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                break;
            }
            if let Err(e) = self.close_by_hours().await {
                tracing::warn!(error = %e, "closing days at their closing time failed; the next sweep tries again");
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(CLOSING_SWEEP_SECS)) => {}
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
    }
}

/// Whether `day`'s closing time (on its own date, on its clinic's clock) is past at `now`.
fn closing_time_passed(day: &OpenDay, now: Timestamp) -> bool {
    let Some(minute) = day.hours.closing_on(day.date) else {
        return false;
    };
    let closing = day.date.date().and_time(chrono::NaiveTime::MIN)
        + chrono::Duration::minutes(i64::from(minute));
    // A closing time skipped when the clocks go forward falls an hour later.
    let at = Timestamp::at_local(&day.timezone, closing)
        .or_else(|| Timestamp::at_local(&day.timezone, closing + chrono::Duration::hours(1)));
    at.is_some_and(|at| now >= at)
}
