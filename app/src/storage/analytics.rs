//! What analytics reads: a clinic's tokens over a span of time (by the
//! `(business_id, created_at)` index), the WhatsApp messages its patients sent, and
//! ratings with feedback.

use super::{value_rows, with_pool, with_tx, RowAt, StorageError, Store};
use crate::analytics::{Outcome, TokenFacts};
use crate::domain::*;

impl Store {
    /// The clinic's tokens that joined in `[from, to)`, dated and timed in its timezone.
    /// A token counts as followed on WhatsApp when its phone wrote to the clinic that day.
    pub async fn analytics_tokens(
        &self,
        clinic: &Clinic,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<TokenFacts>, StorageError> {
        type Row = (
            i64,
            i64,
            Option<i64>,
            Option<i64>,
            String,
            Option<String>,
            Option<i64>,
            Option<bool>,
            Option<bool>,
            Option<i64>,
            Option<i64>,
        );
        let (rows, inbound): (Vec<Row>, Vec<(String, i64)>) = with_pool!(self, pool => {
            let rows = sqlx::query_as(
                "SELECT id, created_at, called_at, served_at, status, patient_phone, rating, \
                 had_phone, wrote_on_whatsapp, eta_low, eta_high FROM tokens \
                 WHERE business_id = $1 AND created_at >= $2 AND created_at < $3",
            )
            .bind(clinic.id.get())
            .bind(from.millis())
            .bind(to.millis())
            .fetch_all(pool)
            .await?;
            let inbound = sqlx::query_as(
                "SELECT phone, received_at FROM whatsapp_inbound \
                 WHERE business_id = $1 AND received_at >= $2 AND received_at < $3",
            )
            .bind(clinic.id.get())
            .bind(from.millis())
            .bind(to.millis())
            .fetch_all(pool)
            .await?;
            (rows, inbound)
        });
        let tz = &clinic.timezone;
        let mut wrote_on: std::collections::HashMap<String, Vec<chrono::NaiveDate>> =
            Default::default();
        for (phone, at) in inbound {
            wrote_on
                .entry(phone)
                .or_default()
                .push(Timestamp(at).local(tz).date());
        }
        let minutes = |from: i64, to: i64| ((to - from).max(0) as f32) / 60_000.0;
        rows.into_iter()
            .map(
                |(
                    id,
                    created,
                    called,
                    served,
                    status,
                    phone,
                    rating,
                    had_phone,
                    wrote,
                    low,
                    high,
                )| {
                    let local = Timestamp(created).local(tz);
                    let date = local.date();
                    let status = RowAt::new("tokens", id).decode(
                        "status",
                        &status,
                        TokenStatus::from_stored,
                    )?;
                    let outcome = Outcome::of(status);
                    // A token whose data was removed keeps what analytics took from its phone.
                    let on_whatsapp = wrote.unwrap_or_else(|| {
                        phone
                            .as_deref()
                            .and_then(|p| wrote_on.get(p))
                            .is_some_and(|days| days.contains(&date))
                    });
                    Ok(TokenFacts {
                        hour: chrono::Timelike::hour(&local) as u8,
                        date,
                        outcome,
                        wait_minutes: called.map(|c| minutes(created, c)),
                        service_minutes: match (called, served, outcome) {
                            (Some(c), Some(s), Outcome::Served) => Some(minutes(c, s)),
                            _ => None,
                        },
                        has_phone: had_phone.unwrap_or(phone.is_some()),
                        on_whatsapp,
                        rating: rating
                            .and_then(|r| u8::try_from(r).ok())
                            .filter(|r| (1..=5).contains(r)),
                        shown: low.zip(high).map(|(l, h)| {
                            (
                                l.clamp(0, i64::from(u32::MAX)) as u32,
                                h.clamp(0, i64::from(u32::MAX)) as u32,
                            )
                        }),
                    })
                },
            )
            .collect()
    }

    /// The latest `limit` written feedback on visits in `[from, to)`, newest first, as
    /// `(local date, rating, text)` (read through the partial index on feedback).
    pub async fn feedback(
        &self,
        clinic: &Clinic,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> Result<Vec<(String, u8, String)>, StorageError> {
        let written: Vec<(i64, Option<i64>, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT created_at, rating, feedback FROM tokens WHERE business_id = $1 AND created_at >= $2 \
                 AND created_at < $3 AND feedback IS NOT NULL AND feedback <> '' \
                 ORDER BY created_at DESC LIMIT $4",
            )
            .bind(clinic.id.get())
            .bind(from.millis())
            .bind(to.millis())
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(written
            .into_iter()
            .map(|(at, stars, text)| {
                let date = Timestamp(at).local(&clinic.timezone).date().to_string();
                (date, stars.unwrap_or(0).clamp(0, 5) as u8, text)
            })
            .collect())
    }
}

/// A visit of an earlier day, written in bulk (a year of history for the analytics
/// benchmark). Times are UTC milliseconds.
#[derive(Debug, Clone)]
pub struct PastVisit {
    pub created: Timestamp,
    pub called: Option<Timestamp>,
    pub served: Option<Timestamp>,
    pub cancelled: Option<Timestamp>,
    pub status: TokenStatus,
    pub phone: Option<String>,
    pub rating: Option<u8>,
}

impl Store {
    /// Writes a closed day of `clinic`'s `queue` with its visits in one transaction.
    pub async fn insert_past_day(
        &self,
        clinic: ClinicId,
        queue: QueueId,
        date: LocalDate,
        visits: &[PastVisit],
    ) -> Result<(), StorageError> {
        const COLUMNS: usize = 15;
        let opened = visits.first().map_or(0, |v| v.created.millis());
        let closed = visits
            .iter()
            .filter_map(|v| v.served.or(v.cancelled).or(v.called))
            .max()
            .map_or(opened, Timestamp::millis);
        let sql = format!(
            "INSERT INTO tokens (public_id, queue_day_id, queue_id, business_id, number, status, \
             patient_name, patient_phone, source, language, created_at, called_at, served_at, \
             cancelled_at, rating) VALUES {}",
            value_rows(visits.len(), COLUMNS)
        );
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => {
            let day: i64 = sqlx::query_scalar(
                "INSERT INTO queue_days (queue_id, business_id, service_date, status, next_number, opened_at, closed_at) \
                 VALUES ($1, $2, $3, 'CLOSED', $4, $5, $6) RETURNING id",
            )
            .bind(queue.get())
            .bind(clinic.get())
            .bind(date.to_string())
            .bind(visits.len() as i64 + 1)
            .bind(opened)
            .bind(closed)
            .fetch_one(&mut *c)
            .await?;
            if !visits.is_empty() {
                let mut insert = sqlx::query(&sql);
                for (i, v) in visits.iter().enumerate() {
                    insert = insert
                        .bind(PublicId::random().as_str().to_owned())
                        .bind(day)
                        .bind(queue.get())
                        .bind(clinic.get())
                        .bind(i as i64 + 1)
                        .bind(v.status.as_str())
                        .bind(format!("Patient {}", i + 1))
                        .bind(v.phone.clone())
                        .bind("QR")
                        .bind("en")
                        .bind(v.created.millis())
                        .bind(v.called.map(Timestamp::millis))
                        .bind(v.served.map(Timestamp::millis))
                        .bind(v.cancelled.map(Timestamp::millis))
                        .bind(v.rating.map(i64::from));
                }
                insert.execute(c).await?;
            }
        });
        tx.commit().await
    }
}
