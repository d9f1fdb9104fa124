//! The best any estimate could do on a clinic of the family: a forecaster who knows
//! everything the simulation drew for the day (how late the doctor starts, the day's pace
//! and when it turns slow, who will not come and when each patient would give up, when
//! the visit in the room ends) and does not know only how long the visits still to come,
//! and the pauses between them, will last. It gives each patient the median of many runs
//! of the rest of the day under the simulation's own rules. No estimate has a smaller
//! mean error than that median, for the median is the best middle for an absolute error
//! and every real estimate knows less. Its error, as a share of the fixed rule's, is how
//! far below the fixed rule a clinic lets anyone go.

use super::{leaves_unseen, next_call, visit_ends, DayDraw, Line, Session};
use crate::trace::Outcome;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Runs of the rest of the day behind each forecast.
const RUNS: usize = 101;
/// The fixed rule's middle for each patient ahead (6–15 minutes), the one in the room
/// counted.
const FIXED_MIDDLE: f64 = 10.5;
/// Where a patient looks again, as shares of their real wait (as `bench-eta` scores).
const LATER: [f64; 2] = [1.0 / 3.0, 2.0 / 3.0];

/// One forecast of the rest of a patient's wait, in minutes, against the real one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Foresight {
    pub on_joining: bool,
    pub actual: f64,
    /// The best-informed forecaster's middle.
    pub best: f64,
    /// The fixed rule's middle.
    pub fixed: f64,
}

/// The forecasts for every patient of one queue's day who was seen: on joining, and
/// looking again a third and two thirds of the way through their wait.
pub fn foresee(s: &Session, day: &DayDraw, lines: &[Line], seed: u64) -> Vec<Foresight> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let (Outcome::Served, Some(call)) = (line.outcome, line.start) else {
            continue;
        };
        let wait = call - line.arrival;
        let looks = std::iter::once((true, line.arrival)).chain(
            LATER
                .iter()
                .map(|share| (false, line.arrival + wait * share))
                .filter(|&(_, at)| at > line.arrival && at < call),
        );
        for (on_joining, at) in looks {
            let mut runs: Vec<f64> = (0..RUNS)
                .map(|_| rest_of_wait(s, day, &lines[..=i], at, &mut rng))
                .collect();
            runs.sort_by(f64::total_cmp);
            out.push(Foresight {
                on_joining,
                actual: call - at,
                best: runs[RUNS / 2],
                fixed: FIXED_MIDDLE * ahead(&lines[..i], at) as f64,
            });
        }
    }
    out
}

/// Of the patients in `before`, those still waiting at `at` and the one in the room.
fn ahead(before: &[Line], at: f64) -> usize {
    before
        .iter()
        .filter(|l| match (l.start, l.end) {
            (Some(call), Some(end)) => call > at || end > at,
            (Some(call), None) => call > at,
            (None, Some(leaves)) => leaves > at,
            (None, None) => false,
        })
        .count()
}

/// One run of the rest of the day from `at` to the call of the last of `lines`, by the
/// simulation's rules, with the day's draws and everyone's comings and goings as they
/// were: minutes from `at` to that call.
fn rest_of_wait(s: &Session, day: &DayDraw, lines: &[Line], at: f64, rng: &mut StdRng) -> f64 {
    let (patient, before) = lines.split_last().expect("the patient forecast for");
    let called = |l: &Line| l.start.is_some_and(|call| call <= at);
    // The desk is free when the last visit called by `at` ends (known to this forecaster
    // even while it lasts), or when the doctor starts.
    let mut free_at = before
        .iter()
        .filter(|l| called(l))
        .filter_map(|l| l.end)
        .fold(f64::from(s.start) + day.late, f64::max);
    for line in before {
        let gone = line.start.is_none() && line.end.is_some_and(|leaves| leaves <= at);
        if called(line) || gone {
            continue;
        }
        // Not called by `at`: whatever the run says, the call comes after it.
        let call = next_call(s, free_at, line.arrival, rng).max(at);
        if leaves_unseen(line.arrival, line.gives_up, call).is_some() {
            continue;
        }
        let no_show = match line.outcome {
            Outcome::NoShow => true,
            Outcome::Served => false,
            Outcome::Cancelled => rng.random::<f64>() < s.no_show_share,
        };
        free_at = visit_ends(s, day, call, no_show, rng);
    }
    next_call(s, free_at, patient.arrival, rng).max(at) - at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{gp, simulate_days};

    fn forecasts(s: &Session, days: u32) -> Vec<Foresight> {
        simulate_days(std::slice::from_ref(s), days, 11)
            .enumerate()
            .flat_map(|(n, (_, s, lines, drawn))| foresee(s, &drawn, &lines, n as u64))
            .collect()
    }

    #[test]
    fn with_nothing_left_to_chance_the_forecaster_knows_every_wait() {
        // Visits of one length, no pauses, breaks, long visits or no-shows: what is left
        // (late starts, the day's pace, slow spells, patients giving up) it knows.
        let mut s = gp().remove(0);
        (s.spread, s.pause_minutes, s.long_share, s.no_show_share) = (0.0, 0.0, 0.0, 0.0);
        (s.cancel_share, s.late_share, s.day_spread, s.slow_share) = (0.2, 0.5, 0.15, 0.5);
        s.breaks.clear();
        let seen = forecasts(&s, 12);
        assert!(seen.len() > 500 && seen.iter().any(|f| !f.on_joining));
        for f in &seen {
            assert!((f.best - f.actual).abs() < 1e-6, "{f:?}");
        }
    }

    #[test]
    fn its_middle_is_the_median_of_what_happens() {
        let seen = forecasts(&gp().remove(0), 24);
        let under = seen.iter().filter(|f| f.actual <= f.best).count() as f64;
        let share = under / seen.len() as f64;
        assert!(
            (0.45..=0.55).contains(&share),
            "called by the middle: {share:.3}"
        );
        let mae = |pick: fn(&Foresight) -> f64| {
            seen.iter().map(|f| (pick(f) - f.actual).abs()).sum::<f64>() / seen.len() as f64
        };
        assert!(mae(|f| f.best) < mae(|f| f.fixed));
    }
}
