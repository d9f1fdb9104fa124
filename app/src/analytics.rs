//! Analytics for the clinic owner and the platform operator (SPEC §6): tokens, patients
//! seen, no-shows, waits and visit lengths by day and by hour of day, ratings and
//! feedback, and how many patients follow on WhatsApp. Computed on the server from the
//! clinic's tokens (read by the `(business_id, created_at)` index) and shown as SVG
//! charts; the same figures download as CSV.

use serde::{Deserialize, Serialize};

/// How far back the page can look, in days.
pub const RANGES: [u32; 4] = [7, 30, 90, 365];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub tokens: u32,
    pub served: u32,
    /// Called and never came (skipped).
    pub no_shows: u32,
    pub cancelled: u32,
    /// Minutes from joining to being called: average and 90th percentile.
    pub wait_avg: Option<f32>,
    pub wait_p90: Option<f32>,
    /// Minutes from being called to being seen off.
    pub service_avg: Option<f32>,
    pub service_p90: Option<f32>,
    /// Tokens with a phone number, and of those, patients who wrote to the clinic on
    /// WhatsApp that day.
    pub with_phone: u32,
    pub whatsapp: u32,
    /// Wait estimates: patients called who had been shown a range on joining, how many of
    /// them were called within it, and the median distance (minutes) between the real
    /// wait and the range's middle.
    #[serde(default)]
    pub estimated: u32,
    #[serde(default)]
    pub within_range: u32,
    #[serde(default)]
    pub estimate_error_median: Option<f32>,
}

impl Figures {
    /// Share of called patients who never came.
    pub fn no_show_rate(&self) -> Option<f32> {
        let called = self.served + self.no_shows;
        (called > 0).then(|| self.no_shows as f32 / called as f32)
    }

    pub fn opt_in_rate(&self) -> Option<f32> {
        (self.with_phone > 0).then(|| self.whatsapp as f32 / self.with_phone as f32)
    }

    /// Share of patients called within the wait range they were shown on joining.
    pub fn within_range_rate(&self) -> Option<f32> {
        (self.estimated > 0).then(|| self.within_range as f32 / self.estimated as f32)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analytics {
    pub clinic_name: String,
    pub slug: String,
    /// The first and last local dates covered.
    pub from: String,
    pub to: String,
    pub days_back: u32,
    pub total: Figures,
    /// One entry per date in the range, oldest first.
    pub by_day: Vec<(String, Figures)>,
    /// Hours 0–23 of the local day.
    pub by_hour: Vec<Figures>,
    /// How many visits were rated 1, 2, 3, 4 and 5.
    pub ratings: [u32; 5],
    /// The latest written feedback: (date, rating, text).
    pub feedback: Vec<(String, u8, String)>,
    /// How long the server took to read and compute this, in milliseconds.
    pub query_ms: u32,
}

impl Analytics {
    pub fn rating_avg(&self) -> Option<f32> {
        let n: u32 = self.ratings.iter().sum();
        (n > 0).then(|| {
            self.ratings
                .iter()
                .enumerate()
                .map(|(i, c)| (i as u32 + 1) * c)
                .sum::<u32>() as f32
                / n as f32
        })
    }

    /// The figures by day as CSV, one row per date.
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "date,tokens,served,no_shows,cancelled,no_show_rate,wait_avg_min,wait_p90_min,\
             service_avg_min,service_p90_min,whatsapp_opt_in_rate\n",
        );
        let num = |v: Option<f32>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
        let rate = |v: Option<f32>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
        for (date, f) in &self.by_day {
            out.push_str(&format!(
                "{date},{},{},{},{},{},{},{},{},{},{}\n",
                f.tokens,
                f.served,
                f.no_shows,
                f.cancelled,
                rate(f.no_show_rate()),
                num(f.wait_avg),
                num(f.wait_p90),
                num(f.service_avg),
                num(f.service_p90),
                rate(f.opt_in_rate()),
            ));
        }
        out
    }
}

/// One token as analytics reads it: its local date and hour of joining, and minutes.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenFacts {
    pub date: chrono::NaiveDate,
    pub hour: u8,
    pub outcome: Outcome,
    pub wait_minutes: Option<f32>,
    pub service_minutes: Option<f32>,
    pub has_phone: bool,
    pub on_whatsapp: bool,
    /// 1–5 stars, if the patient rated the visit.
    pub rating: Option<u8>,
    /// The wait range shown on joining, in minutes, if one was kept.
    pub shown: Option<(u32, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Waiting,
    Served,
    NoShow,
    Cancelled,
}

impl Outcome {
    /// How a token's visit ended, from its status (still waiting, or being seen, counts as
    /// waiting).
    pub fn of(status: crate::domain::TokenStatus) -> Self {
        use crate::domain::TokenStatus;
        match status {
            TokenStatus::Served => Outcome::Served,
            TokenStatus::Skipped => Outcome::NoShow,
            TokenStatus::Cancelled => Outcome::Cancelled,
            TokenStatus::Waiting | TokenStatus::Serving => Outcome::Waiting,
        }
    }
}

/// Adds up tokens into figures.
#[derive(Default)]
struct Tally {
    f: Figures,
    waits: Vec<f32>,
    services: Vec<f32>,
    estimate_errors: Vec<f32>,
}

impl Tally {
    fn add(&mut self, t: &TokenFacts) {
        self.f.tokens += 1;
        match t.outcome {
            Outcome::Served => self.f.served += 1,
            Outcome::NoShow => self.f.no_shows += 1,
            Outcome::Cancelled => self.f.cancelled += 1,
            Outcome::Waiting => {}
        }
        self.waits.extend(t.wait_minutes);
        self.services.extend(t.service_minutes);
        if let (Some(wait), Some((low, high))) = (t.wait_minutes, t.shown) {
            let (low, high) = (low as f32, high as f32);
            self.f.estimated += 1;
            self.f.within_range += u32::from(low <= wait && wait <= high);
            self.estimate_errors.push((wait - (low + high) / 2.0).abs());
        }
        self.f.with_phone += u32::from(t.has_phone);
        self.f.whatsapp += u32::from(t.has_phone && t.on_whatsapp);
    }

    fn finish(mut self) -> Figures {
        (self.f.wait_avg, self.f.wait_p90) = avg_p90(&mut self.waits);
        (self.f.service_avg, self.f.service_p90) = avg_p90(&mut self.services);
        self.f.estimate_error_median = median(&mut self.estimate_errors);
        self.f
    }
}

fn avg_p90(values: &mut [f32]) -> (Option<f32>, Option<f32>) {
    if values.is_empty() {
        return (None, None);
    }
    values.sort_by(f32::total_cmp);
    let avg = values.iter().sum::<f32>() / values.len() as f32;
    let rank = ((values.len() as f32 * 0.9).ceil() as usize).clamp(1, values.len()) - 1;
    (Some(avg), Some(values[rank]))
}

fn median(values: &mut [f32]) -> Option<f32> {
    values.sort_by(f32::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// How many visits were rated 1, 2, 3, 4 and 5 stars.
pub fn ratings(tokens: &[TokenFacts]) -> [u32; 5] {
    let mut counts = [0; 5];
    for stars in tokens.iter().filter_map(|t| t.rating) {
        counts[usize::from(stars.clamp(1, 5) - 1)] += 1;
    }
    counts
}

/// The figures of `days` days from `first` on, from the tokens.
pub fn tally(
    first: chrono::NaiveDate,
    days: usize,
    tokens: &[TokenFacts],
) -> (Figures, Vec<(String, Figures)>, Vec<Figures>) {
    let mut total = Tally::default();
    let mut by_day: Vec<Tally> = (0..days).map(|_| Tally::default()).collect();
    let mut hours: Vec<Tally> = (0..24).map(|_| Tally::default()).collect();
    for t in tokens {
        let Some(day) = usize::try_from((t.date - first).num_days())
            .ok()
            .and_then(|d| by_day.get_mut(d))
        else {
            continue;
        };
        day.add(t);
        total.add(t);
        hours[usize::from(t.hour.min(23))].add(t);
    }
    (
        total.finish(),
        first
            .iter_days()
            .map(|d| d.to_string())
            .zip(by_day.into_iter().map(Tally::finish))
            .collect(),
        hours.into_iter().map(Tally::finish).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(date: &str, hour: u8, outcome: Outcome, wait: Option<f32>) -> TokenFacts {
        TokenFacts {
            date: date.parse().unwrap(),
            hour,
            outcome,
            wait_minutes: wait,
            service_minutes: (outcome == Outcome::Served).then_some(6.0),
            has_phone: true,
            on_whatsapp: hour == 9,
            rating: (outcome == Outcome::Served).then_some(5),
            shown: None,
        }
    }

    #[test]
    fn figures_add_up_by_day_and_hour() {
        let first = "2026-03-01".parse().unwrap();
        let mut tokens: Vec<TokenFacts> = (1..=10)
            .map(|w| token("2026-03-02", 9, Outcome::Served, Some(w as f32)))
            .collect();
        tokens.push(token("2026-03-02", 10, Outcome::NoShow, Some(30.0)));
        tokens.push(token("2026-03-02", 10, Outcome::Cancelled, None));
        tokens.push(token("2026-02-01", 10, Outcome::Served, Some(99.0))); // outside
        let (total, days, hours) = tally(first, 2, &tokens);
        assert_eq!(
            (total.tokens, total.served, total.no_shows, total.cancelled),
            (12, 10, 1, 1)
        );
        assert_eq!(days[0].1.tokens, 0);
        assert_eq!(days[1].1.tokens, 12);
        assert_eq!(hours[9].tokens, 10);
        assert_eq!(hours[9].wait_avg, Some(5.5));
        assert_eq!(hours[9].wait_p90, Some(9.0));
        assert_eq!(total.no_show_rate(), Some(1.0 / 11.0));
        assert_eq!(total.opt_in_rate(), Some(10.0 / 12.0));
        assert_eq!(total.service_avg, Some(6.0));
        assert_eq!(ratings(&tokens), [0, 0, 0, 0, 11]);
    }

    #[test]
    fn the_csv_has_a_row_per_day() {
        let tokens = vec![token("2026-03-02", 9, Outcome::Served, Some(4.0))];
        let (total, by_day, by_hour) = tally("2026-03-01".parse().unwrap(), 2, &tokens);
        let a = Analytics {
            total,
            by_day,
            by_hour,
            ..Default::default()
        };
        let csv = a.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("date,tokens,served"));
        assert_eq!(lines[1], "2026-03-01,0,0,0,0,,,,,,");
        assert_eq!(lines[2], "2026-03-02,1,1,0,0,0.000,4.0,4.0,6.0,6.0,1.000");
    }
}
