//! Traces of clinic days for the wait-estimate benchmark (`qline bench-eta`): the CSV
//! format, its reader, and `qline gen-trace`, which makes synthetic traces.
//!
//! A trace is one visit per line: `queue,arrival,service_start,service_end,outcome`.
//! Times are ISO-8601 (`2026-03-02T09:05:00+05:30`, or without an offset in the clinic's
//! timezone) or Unix seconds. `outcome` is `served` (start and end: the visit),
//! `no_show` (start: when the patient was called; end, optional: when the desk gave up)
//! or `cancelled` (end: when the patient left the queue).

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime};
use clap::Args;
use qline_app::domain::{LocalDate, TimeZone, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt::Write as _;

use crate::scenario::{self, simulate_day, Scenario, Session};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Served,
    NoShow,
    Cancelled,
}

impl Outcome {
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "served" => Some(Outcome::Served),
            "no_show" | "noshow" => Some(Outcome::NoShow),
            "cancelled" | "canceled" => Some(Outcome::Cancelled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Served => "served",
            Outcome::NoShow => "no_show",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// One patient's visit in a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub queue: String,
    pub arrival: Timestamp,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub outcome: Outcome,
}

/// Reads a trace; `timezone` places times written without an offset. Every problem
/// names its line. A trace of a header alone reads as no visits (what can be scored from
/// it is for the reader to say).
pub fn parse(text: &str, timezone: &str) -> Result<Vec<Visit>, String> {
    let timezone = &TimeZone::parse(timezone).map_err(|_| {
        format!("unknown timezone {timezone:?} (use an IANA name such as Asia/Kolkata)")
    })?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let expected = [
        "queue",
        "arrival",
        "service_start",
        "service_end",
        "outcome",
    ];
    match lines.next() {
        Some((_, header)) if header.split(',').map(str::trim).eq(expected) => {}
        _ => return Err(format!("line 1: the header must be {}", expected.join(","))),
    }
    let mut visits = Vec::new();
    for (i, line) in lines {
        let at = |what: &str| format!("line {}: {what}", i + 1);
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let [queue, arrival, start, end, outcome] = cells[..] else {
            return Err(at(&format!("expected 5 columns, found {}", cells.len())));
        };
        let time = |cell: &str, name: &str| -> Result<Option<Timestamp>, String> {
            if cell.is_empty() {
                return Ok(None);
            }
            parse_time(cell, timezone).map(Some).ok_or_else(|| {
                at(&format!(
                    "{name} {cell:?} is neither ISO-8601 nor Unix seconds"
                ))
            })
        };
        let outcome = Outcome::parse(outcome).ok_or_else(|| {
            at(&format!(
                "outcome {outcome:?} is not served, no_show or cancelled"
            ))
        })?;
        let visit = Visit {
            queue: if queue.is_empty() {
                "General".into()
            } else {
                queue.into()
            },
            arrival: time(arrival, "arrival")?.ok_or_else(|| at("arrival is empty"))?,
            start: time(start, "service_start")?,
            end: time(end, "service_end")?,
            outcome,
        };
        let order = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
            (Some(a), Some(b)) => a <= b,
            _ => true,
        };
        match (visit.outcome, visit.start, visit.end) {
            (Outcome::Served, None, _) | (Outcome::Served, _, None) => {
                return Err(at("a served visit needs service_start and service_end"))
            }
            (Outcome::NoShow, None, _) => {
                return Err(at(
                    "a no_show needs service_start (when the patient was called)",
                ))
            }
            (Outcome::Cancelled, _, None) => {
                return Err(at(
                    "a cancelled visit needs service_end (when the patient left)",
                ))
            }
            _ => {}
        }
        if !order(Some(visit.arrival), visit.start.or(visit.end)) || !order(visit.start, visit.end)
        {
            return Err(at(
                "times must not go backwards (arrival ≤ service_start ≤ service_end)",
            ));
        }
        visits.push(visit);
    }
    Ok(visits)
}

fn parse_time(cell: &str, timezone: &TimeZone) -> Option<Timestamp> {
    if let Ok(secs) = cell.parse::<f64>() {
        return Some(Timestamp((secs * 1000.0).round() as i64));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(cell) {
        return Some(Timestamp(t.timestamp_millis()));
    }
    [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(cell, f).ok())
    .and_then(|naive| Timestamp::at_local(timezone, naive))
}

/// `minute` minutes (to the second) into `date` at `timezone`.
fn minute_of(timezone: &TimeZone, date: NaiveDate, minute: f64) -> Option<Timestamp> {
    let local = date.and_time(chrono::NaiveTime::MIN)
        + chrono::Duration::seconds((minute * 60.0).round() as i64);
    Timestamp::at_local(timezone, local)
}

#[derive(Debug, Args)]
pub struct GenTraceArgs {
    /// What kind of clinic: `gp` (one doctor, a morning rush, lunch 13:00–14:00, a late
    /// start about one day in five), `two-queues` (a busy general queue and a slower
    /// dental one, with an evening session) or `family` (a clinic drawn at random from
    /// --seed: queues, arrivals, visit lengths, breaks, lateness, slow days; see docs/ETA.md).
    #[arg(long, default_value = "gp")]
    pub scenario: String,
    /// Clinic days to make (Sundays are skipped); by default 24, or the family clinic's own.
    #[arg(long)]
    pub days: Option<u32>,
    /// The first day (YYYY-MM-DD).
    #[arg(long, default_value = "2026-03-02")]
    pub start: String,
    /// Seed of the random numbers: the same seed makes the same trace (and, with
    /// `family`, the same clinic).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The clinic's timezone; times are written with its offset.
    #[arg(long, default_value = "Asia/Kolkata")]
    pub timezone: String,
}

/// `qline gen-trace`: writes a synthetic trace to stdout.
pub fn generate(args: &GenTraceArgs) -> Result<String, String> {
    let (sessions, days) = match args.scenario.as_str() {
        "gp" => (scenario::gp(), 24),
        "two-queues" => (scenario::two_queues(), 24),
        "family" => {
            let drawn = Scenario::family(args.seed);
            (drawn.sessions, drawn.days)
        }
        other => {
            return Err(format!(
                "unknown scenario {other:?}: use gp, two-queues or family"
            ))
        }
    };
    let timezone = TimeZone::parse(&args.timezone)
        .map_err(|_| format!("unknown timezone {:?}", args.timezone))?;
    let first = NaiveDate::parse_from_str(&args.start, "%Y-%m-%d")
        .map_err(|_| format!("--start {:?} is not a date (YYYY-MM-DD)", args.start))?;
    Ok(write(
        &sessions,
        args.days.unwrap_or(days),
        first,
        &timezone,
        args.seed,
    ))
}

/// A trace of `days` clinic days of `sessions` from `first` (Sundays off).
pub fn write(
    sessions: &[Session],
    days: u32,
    first: NaiveDate,
    timezone: &TimeZone,
    seed: u64,
) -> String {
    let tz = timezone.zone();
    let mut csv = String::from("queue,arrival,service_start,service_end,outcome\n");
    // Clinic days, Sundays off.
    let dates: Vec<NaiveDate> = (0..)
        .map(|d| first + Days::new(d))
        .filter(|d| d.weekday() != chrono::Weekday::Sun)
        .take(days as usize)
        .collect();
    for (day, session, lines, _) in scenario::simulate_days(sessions, days, seed) {
        let date = dates[day as usize];
        for line in lines {
            let time = |minute: f64| {
                minute_of(timezone, date, minute)
                    .map(|t| t.to_utc().with_timezone(&tz).to_rfc3339())
                    .unwrap_or_default()
            };
            let _ = writeln!(
                csv,
                "{},{},{},{},{}",
                session.queue,
                time(line.arrival),
                line.start.map(time).unwrap_or_default(),
                line.end.map(time).unwrap_or_default(),
                line.outcome.as_str()
            );
        }
    }
    csv
}

/// Gives the demo clinic `days` days of past visits before today (Sundays off): its
/// General queue runs like the `gp` scenario, its Dental queue like the dental one.
pub async fn seed_demo_history(store: &qline_app::storage::Store, days: u32) -> anyhow::Result<()> {
    use qline_app::domain::{Slug, TokenStatus};
    use qline_app::storage::PastVisit;
    let Some(clinic) = store
        .clinic_by_slug(&Slug::parse(qline_app::tenant::DEMO_SLUG)?)
        .await?
    else {
        return Ok(());
    };
    let queues = store.queues_of(clinic.id).await?;
    let today = Timestamp::now().local(&clinic.timezone).date();
    let mut rng = StdRng::seed_from_u64(u64::from(days));
    let general = scenario::gp().remove(0);
    let dental = scenario::two_queues().remove(1);
    for back in (1..=u64::from(days)).rev() {
        let date = today - Days::new(back);
        if date.format("%a").to_string() == "Sun" {
            continue;
        }
        let at = |minute: f64| minute_of(&clinic.timezone, date, minute).unwrap_or(Timestamp(0));
        for queue in &queues {
            let session = if queue.name == "Dental" {
                &dental
            } else {
                &general
            };
            let visits: Vec<PastVisit> = simulate_day(session, &mut rng)
                .0
                .into_iter()
                .map(|line| {
                    let status = match line.outcome {
                        Outcome::Served => TokenStatus::Served,
                        Outcome::NoShow => TokenStatus::Skipped,
                        Outcome::Cancelled => TokenStatus::Cancelled,
                    };
                    let rated = status == TokenStatus::Served && rng.random::<f64>() < 0.3;
                    PastVisit {
                        created: at(line.arrival),
                        called: line.start.map(at),
                        served: (status == TokenStatus::Served)
                            .then(|| line.end.map(at))
                            .flatten(),
                        cancelled: (status == TokenStatus::Cancelled)
                            .then(|| line.end.map(at))
                            .flatten(),
                        status,
                        phone: Some(format!("+9198{:08}", rng.random_range(0..100_000_000u32))),
                        rating: rated.then(|| rng.random_range(3..=5u8)),
                    }
                })
                .collect();
            store
                .insert_past_day(clinic.id, queue.id, LocalDate::new(date), &visits)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_iso_times_with_and_without_offset_and_unix_seconds() {
        let text = "queue,arrival,service_start,service_end,outcome\n\
                    General,2026-03-02T09:00:00+05:30,2026-03-02T09:10:00+05:30,2026-03-02T09:16:00+05:30,served\n\
                    General,2026-03-02 09:05,2026-03-02 09:16,,no_show\n\
                    Dental,1772423400,,1772424000,cancelled\n";
        let visits = parse(text, "Asia/Kolkata").unwrap();
        assert_eq!(visits.len(), 3);
        assert_eq!(visits[0].arrival, Timestamp(1_772_422_200_000));
        assert_eq!(visits[1].arrival, Timestamp(1_772_422_500_000));
        assert_eq!(visits[1].outcome, Outcome::NoShow);
        assert_eq!(visits[2].queue, "Dental");
        assert_eq!(visits[2].end, Some(Timestamp(1_772_424_000_000)));
    }

    #[test]
    fn problems_name_their_line() {
        let head = "queue,arrival,service_start,service_end,outcome\n";
        let bad = |body: &str| parse(&format!("{head}{body}"), "Asia/Kolkata").unwrap_err();
        assert!(bad("General,yesterday,,,served\n").starts_with("line 2: arrival"));
        assert!(bad("General,100,200,,served\n").contains("needs service_start and service_end"));
        assert!(bad("General,100,50,60,served\n").contains("backwards"));
        assert!(bad("General,100,200,300,left\n").contains("not served, no_show or cancelled"));
        assert!(parse("a,b\n", "UTC").unwrap_err().contains("header"));
    }

    #[test]
    fn the_generator_is_repeatable_and_readable() {
        let args = GenTraceArgs {
            scenario: "two-queues".into(),
            days: Some(3),
            start: "2026-03-07".into(),
            seed: 9,
            timezone: "Asia/Kolkata".into(),
        };
        let trace = generate(&args).unwrap();
        assert_eq!(trace, generate(&args).unwrap());
        let visits = parse(&trace, "Asia/Kolkata").unwrap();
        // Saturday, (Sunday skipped), Monday, Tuesday: three clinic days, both queues.
        let days: std::collections::BTreeSet<i64> = visits
            .iter()
            .map(|v| v.arrival.millis() / 86_400_000)
            .collect();
        assert_eq!(days.len(), 3);
        assert!(visits.iter().any(|v| v.queue == "Dental"));
        assert!(visits.iter().any(|v| v.outcome == Outcome::NoShow));
    }
}
