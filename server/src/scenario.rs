//! Synthetic clinics for the wait-estimate benchmark: how a queue's day goes (when
//! patients come, when and how fast the doctor sees them) and a simulation of it.
//!
//! Two fixed clinics (`gp`, `two-queues`) and a **family** of clinics drawn at random from
//! a seed: arrival rates and their shape through the day, visit lengths and their tail,
//! the doctor's start and lateness, breaks, no-shows, cancellations, one to three queues,
//! days when the doctor runs slow, and brand-new clinics with a day or two of history.
//! Seeds are split once and for all: the estimator is tuned on `TUNING_SEEDS` and
//! reported on `HELD_OUT_SEEDS`, which nobody looks at while tuning.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::ops::RangeInclusive;

use crate::trace::Outcome;

pub mod oracle;

/// Seeds to tune the estimator on.
pub const TUNING_SEEDS: RangeInclusive<u64> = 1..=200;
/// Seeds to report on (`make bench-eta`): never used while tuning.
pub const HELD_OUT_SEEDS: RangeInclusive<u64> = 1001..=1030;

/// How one queue's day goes.
#[derive(Debug, Clone)]
pub struct Session {
    pub queue: String,
    /// (from minute of day, until minute, patients per hour) for arrivals.
    pub arrivals: Vec<(u32, u32, f64)>,
    /// The doctor's usual start, minute of day.
    pub start: u32,
    /// Breaks, minutes of day (the visit in progress is finished first).
    pub breaks: Vec<(u32, u32)>,
    /// Median visit in minutes and the spread of its logarithm (skew).
    pub median_minutes: f64,
    pub spread: f64,
    /// Share of very long visits, and how long they last (minutes, least and most).
    pub long_share: f64,
    pub long_minutes: (f64, f64),
    pub no_show_share: f64,
    pub cancel_share: f64,
    /// Share of days the doctor comes late, and by how many minutes at most.
    pub late_share: f64,
    pub late_minutes: u32,
    /// The desk's pause before calling the next patient: up to this many minutes.
    pub pause_minutes: f64,
    /// How much one day's pace differs from another's (the spread of the logarithm of a
    /// day's visit-length multiplier), and the share of days on which, from some point of
    /// the morning, the doctor runs slow (visits 1.3–1.8 times as long).
    pub day_spread: f64,
    pub slow_share: f64,
}

/// A clinic: its queues, and how many days of it a trace holds.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub sessions: Vec<Session>,
    pub days: u32,
    /// A brand-new clinic: its trace is too short for much history.
    pub cold_start: bool,
    /// One line for tables: queues, visit length, load.
    pub summary: String,
}

/// One simulated visit, times in minutes since midnight.
pub struct Line {
    pub arrival: f64,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub outcome: Outcome,
    /// When the patient would have given up waiting, had they not been called by then.
    pub gives_up: Option<f64>,
}

/// What a day drew that nobody at the desk knows in advance.
#[derive(Debug, Clone, Copy)]
pub struct DayDraw {
    /// Minutes after the usual start the doctor begins.
    pub late: f64,
    /// The day's visit-length multiplier.
    pub pace: f64,
    /// From when (minute of day) the doctor runs slow, and how much slower.
    pub slow_from: f64,
    pub slow_factor: f64,
}

impl DayDraw {
    /// The visit-length multiplier of a visit that starts at minute `call`.
    fn pace_at(&self, call: f64) -> f64 {
        if call >= self.slow_from {
            self.pace * self.slow_factor
        } else {
            self.pace
        }
    }
}

/// One doctor, a morning rush, lunch 13:00–14:00, a late start about one day in five.
pub fn gp() -> Vec<Session> {
    vec![Session {
        queue: "General".into(),
        arrivals: vec![
            (8 * 60 + 45, 10 * 60, 18.0),
            (10 * 60, 12 * 60 + 45, 10.0),
            (12 * 60 + 45, 14 * 60, 4.0),
            (14 * 60, 16 * 60 + 30, 9.0),
        ],
        start: 9 * 60 + 10,
        breaks: vec![(13 * 60, 14 * 60)],
        median_minutes: 4.5,
        spread: 0.5,
        long_share: 0.015,
        long_minutes: (20.0, 45.0),
        no_show_share: 0.07,
        cancel_share: 0.03,
        late_share: 0.2,
        late_minutes: 40,
        pause_minutes: 1.0,
        day_spread: 0.0,
        slow_share: 0.0,
    }]
}

/// A busy general queue and a slower dental one, each with an evening session.
pub fn two_queues() -> Vec<Session> {
    vec![
        Session {
            queue: "General".into(),
            arrivals: vec![
                (9 * 60, 10 * 60 + 30, 16.0),
                (10 * 60 + 30, 13 * 60, 10.0),
                (17 * 60, 19 * 60, 12.0),
                (19 * 60, 20 * 60 + 30, 6.0),
            ],
            start: 9 * 60 + 15,
            breaks: vec![(13 * 60 + 30, 17 * 60)],
            long_share: 0.01,
            no_show_share: 0.1,
            cancel_share: 0.04,
            late_share: 0.15,
            ..gp().remove(0)
        },
        Session {
            queue: "Dental".into(),
            arrivals: vec![(10 * 60, 13 * 60, 3.0), (17 * 60, 20 * 60, 3.5)],
            start: 10 * 60 + 15,
            breaks: vec![(13 * 60 + 30, 17 * 60)],
            median_minutes: 14.0,
            spread: 0.35,
            long_share: 0.03,
            no_show_share: 0.05,
            cancel_share: 0.02,
            late_share: 0.1,
            late_minutes: 30,
            ..gp().remove(0)
        },
    ]
}

const QUEUE_NAMES: [&str; 3] = ["General", "Dental", "Pharmacy"];
/// Minute of the day at which a queue day that is still going closes.
const DAY_CLOSES: f64 = 22.0 * 60.0 + 30.0;
/// The last minute of the day: a visit never runs past it.
const MIDNIGHT: f64 = 24.0 * 60.0 - 1.0;

impl Scenario {
    /// The clinic of the family drawn from `seed`: the same seed, the same clinic.
    pub fn family(seed: u64) -> Scenario {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_c11c);
        let queues = match rng.random::<f64>() {
            p if p < 0.55 => 1,
            p if p < 0.9 => 2,
            _ => 3,
        };
        let sessions: Vec<Session> = QUEUE_NAMES[..queues]
            .iter()
            .map(|name| draw_session(name, &mut rng))
            .collect();
        let cold_start = rng.random::<f64>() < 0.2;
        let days = if cold_start {
            rng.random_range(1..=3)
        } else {
            rng.random_range(6..=30)
        };
        let summary = sessions
            .iter()
            .map(|s| {
                let per_day: f64 = s
                    .arrivals
                    .iter()
                    .map(|&(from, until, rate)| f64::from(until - from) / 60.0 * rate)
                    .sum();
                format!(
                    "{} {:.0}/d {:.1}m σ{:.2}",
                    s.queue, per_day, s.median_minutes, s.spread
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        Scenario {
            sessions,
            days,
            cold_start,
            summary,
        }
    }
}

/// One queue of a family clinic. Its arrivals load the doctor at 60–115 % of what they
/// can see at the busiest time, less later in the session.
fn draw_session(name: &str, rng: &mut StdRng) -> Session {
    let median_minutes: f64 = rng.random_range(2.5f64.ln()..20f64.ln()).exp();
    let spread: f64 = rng.random_range(0.2..0.8);
    let pause_minutes = rng.random_range(0.3..2.0);
    let long_share = rng.random_range(0.0..0.05);
    let long_low = (median_minutes * 3.0).max(15.0);
    let long_minutes = (long_low, long_low + rng.random_range(10.0..30.0));
    let mean_visit = median_minutes * (spread * spread / 2.0).exp()
        + long_share * (long_minutes.0 + long_minutes.1) / 2.0
        + pause_minutes / 2.0;
    let capacity = 60.0 / mean_visit;
    let five = |m: f64| (m / 5.0).round() as u32 * 5;
    // A morning session; an evening one on some days of the week's clinics; a lunch
    // break inside a long morning otherwise.
    let morning_open = five(rng.random_range(8.0 * 60.0..10.5 * 60.0));
    let evening = rng.random::<f64>() < 0.4;
    let (mut windows, mut breaks) = (Vec::new(), Vec::new());
    if evening {
        let morning_close = morning_open + five(rng.random_range(150.0..300.0));
        let evening_open = five(rng.random_range(16.0 * 60.0..18.0 * 60.0)).max(morning_close + 60);
        let evening_close = evening_open + five(rng.random_range(120.0..210.0));
        windows.push((morning_open, morning_close));
        windows.push((evening_open, evening_close));
        breaks.push((morning_close, evening_open));
    } else {
        let close = morning_open + five(rng.random_range(300.0..540.0));
        windows.push((morning_open, close));
        if rng.random::<f64>() < 0.75 {
            let lunch = five(rng.random_range(12.0 * 60.0..14.5 * 60.0))
                .clamp(morning_open + 120, close.saturating_sub(90));
            breaks.push((lunch, lunch + five(rng.random_range(20.0..90.0))));
        }
    }
    let load = rng.random_range(0.6..1.15);
    let rush = rng.random_range(1.0..2.0);
    let lead = five(rng.random_range(5.0..30.0));
    let mut arrivals = Vec::new();
    for &(open, close) in &windows {
        // Patients come from a little before the doctor, most in the first hour, and
        // stop coming well before closing.
        let from = open.saturating_sub(lead);
        let stop = close.saturating_sub(five(rng.random_range(20.0..60.0)));
        let rush_end = (open + 60).min(stop);
        let middle_end = rush_end + (stop - rush_end) * 2 / 3;
        let rate = capacity * load;
        arrivals.push((from, rush_end, rate * rush));
        if middle_end > rush_end {
            arrivals.push((rush_end, middle_end, rate));
        }
        if stop > middle_end {
            arrivals.push((middle_end, stop, rate * 0.5));
        }
    }
    // Breaks take no arrivals away: patients who come during lunch wait through it.
    Session {
        queue: name.to_owned(),
        arrivals,
        start: morning_open + five(rng.random_range(0.0..20.0)),
        breaks,
        median_minutes,
        spread,
        long_share,
        long_minutes,
        no_show_share: rng.random_range(0.0..0.15),
        cancel_share: rng.random_range(0.0..0.08),
        late_share: rng.random_range(0.0..0.3),
        late_minutes: rng.random_range(15..=50),
        pause_minutes,
        day_spread: rng.random_range(0.0..0.2),
        slow_share: rng.random_range(0.0..0.15),
    }
}

/// `days` days of every queue of `sessions` from `seed`, day by day and queue by queue:
/// the day's number, the queue, its visits and what the day drew.
pub fn simulate_days(
    sessions: &[Session],
    days: u32,
    seed: u64,
) -> impl Iterator<Item = (u32, &Session, Vec<Line>, DayDraw)> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..days).flat_map(move |day| {
        sessions
            .iter()
            .map(|s| {
                let (lines, drawn) = simulate_day(s, &mut rng);
                (day, s, lines, drawn)
            })
            .collect::<Vec<_>>()
    })
}

/// Patients arrive (a Poisson process at the session's rates), wait in order, and the
/// doctor sees them one at a time between breaks.
pub fn simulate_day(s: &Session, rng: &mut StdRng) -> (Vec<Line>, DayDraw) {
    let mut patients: Vec<(f64, Option<f64>)> = Vec::new(); // arrival, gives up at
    for &(from, until, per_hour) in &s.arrivals {
        let mut t = f64::from(from);
        loop {
            t += -(1.0 - rng.random::<f64>()).ln() * 60.0 / per_hour;
            if t >= f64::from(until) {
                break;
            }
            let gives_up = (rng.random::<f64>() < s.cancel_share)
                .then(|| t + 5.0 + rng.random::<f64>() * 40.0);
            patients.push((t, gives_up));
        }
    }
    patients.sort_by(|a, b| a.0.total_cmp(&b.0));
    let late = if rng.random::<f64>() < s.late_share {
        f64::from(s.late_minutes) * (0.5 + rng.random::<f64>() / 2.0)
    } else {
        rng.random::<f64>() * 8.0
    };
    // This day's pace, and when (if today) the doctor starts running slow.
    let day_pace = if s.day_spread > 0.0 {
        (s.day_spread * normal(rng)).exp()
    } else {
        1.0
    };
    let (slow_from, slow_factor) = if s.slow_share > 0.0 && rng.random::<f64>() < s.slow_share {
        let from = f64::from(s.start) + rng.random::<f64>() * 150.0;
        (from, 1.3 + rng.random::<f64>() * 0.5)
    } else {
        (f64::INFINITY, 1.0)
    };
    let drawn = DayDraw {
        late,
        pace: day_pace,
        slow_from,
        slow_factor,
    };
    (see_patients(s, rng, patients, &drawn), drawn)
}

fn see_patients(
    s: &Session,
    rng: &mut StdRng,
    patients: Vec<(f64, Option<f64>)>,
    day: &DayDraw,
) -> Vec<Line> {
    let mut free_at = f64::from(s.start) + day.late;
    let mut lines = Vec::with_capacity(patients.len());
    for (arrival, gives_up) in patients {
        let call = next_call(s, free_at, arrival, rng);
        let line = |start, end, outcome| Line {
            arrival,
            start,
            end: Some(end),
            outcome,
            gives_up,
        };
        if let Some(leaves) = leaves_unseen(arrival, gives_up, call) {
            lines.push(line(None, leaves, Outcome::Cancelled));
            continue;
        }
        let no_show = rng.random::<f64>() < s.no_show_share;
        free_at = visit_ends(s, day, call, no_show, rng);
        let outcome = if no_show {
            Outcome::NoShow
        } else {
            Outcome::Served
        };
        lines.push(line(Some(call), free_at, outcome));
    }
    lines
}

/// When the desk calls the next patient: a little after the last visit (or their
/// arrival), or a little after the break it would fall in.
fn next_call(s: &Session, free_at: f64, arrival: f64, rng: &mut StdRng) -> f64 {
    let mut call = free_at.max(arrival) + rng.random::<f64>() * s.pause_minutes;
    for &(from, until) in &s.breaks {
        if call >= f64::from(from) && call < f64::from(until) {
            call = f64::from(until) + rng.random::<f64>() * 10.0;
        }
    }
    call
}

/// When a patient who would give up at `gives_up` (if ever) leaves unseen, were they to be
/// called at `call`. The day closes late in the evening, as a desk's CLOSE DAY does:
/// whoever is still waiting then leaves unseen (a queue day ends at midnight).
fn leaves_unseen(arrival: f64, gives_up: Option<f64>, call: f64) -> Option<f64> {
    let gives_up = match gives_up {
        Some(g) => Some(g.min(DAY_CLOSES)),
        None if call >= DAY_CLOSES => Some(DAY_CLOSES.max(arrival)),
        None => None,
    };
    gives_up.filter(|&g| g < call)
}

/// When the desk is free again after calling a patient at `call`: a no-show is given up
/// after a minute or two, a visit lasts what the day's pace draws.
fn visit_ends(s: &Session, day: &DayDraw, call: f64, no_show: bool, rng: &mut StdRng) -> f64 {
    if no_show {
        return call + 0.5 + rng.random::<f64>() * 1.5;
    }
    let visit = if rng.random::<f64>() < s.long_share {
        let (low, high) = s.long_minutes;
        low + rng.random::<f64>() * (high - low)
    } else {
        day.pace_at(call) * s.median_minutes * (s.spread * normal(rng)).exp()
    };
    (call + visit.max(0.5)).min(MIDNIGHT.max(call + 0.5))
}

/// A standard normal number (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let (u, v) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_draws_the_same_clinic_and_different_seeds_differ() {
        let a = Scenario::family(1001);
        assert_eq!(a.summary, Scenario::family(1001).summary);
        let summaries: std::collections::BTreeSet<String> =
            (1..=20).map(|s| Scenario::family(s).summary).collect();
        assert!(summaries.len() >= 19, "{summaries:?}");
        // The family holds one-queue and several-queue clinics, and brand-new ones.
        let drawn: Vec<Scenario> = (1..=50).map(Scenario::family).collect();
        assert!(drawn.iter().any(|s| s.sessions.len() == 1));
        assert!(drawn.iter().any(|s| s.sessions.len() > 1));
        assert!(drawn.iter().any(|s| s.cold_start && s.days <= 3));
    }

    #[test]
    fn the_tuning_and_held_out_seeds_do_not_overlap() {
        assert!(TUNING_SEEDS.end() < HELD_OUT_SEEDS.start());
    }

    #[test]
    fn an_overloaded_day_closes_before_midnight() {
        let mut busy = gp().remove(0);
        busy.arrivals = vec![(9 * 60, 22 * 60, 30.0)];
        busy.breaks.clear();
        let mut rng = StdRng::seed_from_u64(3);
        let (lines, _) = simulate_day(&busy, &mut rng);
        let last = |l: &Line| l.start.into_iter().chain(l.end).fold(l.arrival, f64::max);
        assert!(lines.iter().all(|l| last(l) < 24.0 * 60.0));
        assert!(lines
            .iter()
            .any(|l| l.outcome == Outcome::Cancelled && l.end == Some(DAY_CLOSES)));
    }

    #[test]
    fn a_slow_day_makes_visits_longer() {
        let mut slow = gp().remove(0);
        slow.slow_share = 1.0;
        slow.long_share = 0.0;
        let mut steady = slow.clone();
        steady.slow_share = 0.0;
        let visits = |s: &Session| -> f64 {
            let mut rng = StdRng::seed_from_u64(7);
            let lines: Vec<Line> = (0..30).flat_map(|_| simulate_day(s, &mut rng).0).collect();
            let served: Vec<f64> = lines
                .iter()
                .filter(|l| l.outcome == Outcome::Served && l.start.unwrap() > 12.0 * 60.0)
                .map(|l| l.end.unwrap() - l.start.unwrap())
                .collect();
            served.iter().sum::<f64>() / served.len() as f64
        };
        assert!(visits(&slow) > visits(&steady) * 1.2);
    }
}
