//! Wait estimates as a range (SPEC §5): never a single promise, and rather too long than
//! too short. One implementation serves the tracker, the desk and the messages.
//!
//! - **A visit** (called → served) is learned from today's recent patients and from the
//!   queue's history on the same weekday around the same hour (`History`, worked out when
//!   the day opens), with the queue's default range as the prior while there is little
//!   of either. Visits over four times the median (a patient kept two hours, SERVED
//!   pressed after lunch) stay out of the mean; how often such long visits happen, and
//!   how long they last, is learned separately from the history and widens the upper end
//!   by as many as could well be among the patients ahead.
//! - **Between visits**: the desk's usual pause, and a minute for each patient called
//!   who never comes (at the share they do not).
//! - **The visit in progress** counts with the time it has already had.
//! - **On the clock**: the work ahead is laid over the coming hours, stretched by the
//!   share of each hour in which patients usually wait with nobody seen (a lunch break),
//!   and stopped by the breaks between the desk's sessions the history learned;
//!   before anyone is called, the wait starts when the doctor usually starts, and past
//!   that hour the upper end allows for a late start.
//!
//! The model's range is the likely wait less 1.4 and plus 1.6 standard deviations. What
//! the patient sees is **calibrated** by the queue's own recent errors (`calibrate`):
//! the estimate shown to each patient on joining is kept with the token, and once enough
//! of them have been called, the range is moved and sized so that it holds the real wait
//! for 90 % of such patients (a short wait's range, from zero, for 85 % at least, with the
//! likely wait in its middle); until then the model's range is widened. How well this
//! does is measured by `qline bench-eta` (docs/ETA.md). No range reaches past the end
//! of the desk's usual day, and a desk that worked minutes ago calls a patient who finds
//! nobody ahead at once.

use serde::{Deserialize, Serialize};

mod calibrate;
mod pace;
use calibrate::Calibration;
pub use calibrate::{Estimate, Residual};
pub use pace::{humane_minutes, humane_range, Inputs, Pace};
use pace::{is_long, median, trimmed};

/// Recent service times used; older ones describe another part of the day.
const RECENT: usize = 12;
/// How many patients the default range weighs as.
const DEFAULT_WEIGHT: f64 = 2.0;
/// How many patients the history weighs as at most: today's own pace soon takes over.
const HISTORY_WEIGHT: f64 = 10.0;
/// Before a queue's errors can calibrate its ranges, the model's range is widened this
/// much on either side of the likely wait.
const UNCALIBRATED_WIDEN: f64 = 1.6;
/// A patient called who never came costs the desk about this long.
const NO_SHOW_SECS: f64 = 60.0;
/// The range around the likely wait, in standard deviations: shorter below, longer above,
/// so that the estimate errs towards under-promising.
const BELOW: f64 = 1.4;
const ABOVE: f64 = 1.6;
/// Patients wait and nobody has been called yet, past the hour the doctor usually starts:
/// the upper end allows for a late start.
const LATE_MARGIN_SECS: f64 = 15.0 * 60.0;
/// A start this long past the usual one (or twice the usual late start's distance, if
/// longer) is no longer taken for a late doctor.
const LATE_LIMIT_SECS: f64 = 3600.0;
/// The desk's pause between visits before there is history, and the longest pause that
/// still counts as one (longer ones are breaks).
const DEFAULT_GAP_SECS: f64 = 30.0;
const MAX_GAP_SECS: u32 = 10 * 60;
/// A "visit" longer than this is a desk that forgot to press SERVED, not a visit.
const MAX_VISIT_SECS: f64 = 3.0 * 3600.0;
/// Earlier days of the same weekday that the history looks back on; with fewer than
/// `MIN_SAME_WEEKDAYS` of them it learns from the last `RECENT_DAYS` days instead.
const HISTORY_WEEKS: u64 = 8;
const MIN_SAME_WEEKDAYS: usize = 3;
const RECENT_DAYS: u64 = 14;
/// Patients first in line at an hour of earlier days needed before their waits stand for
/// that hour's.
const MIN_ALONE: usize = 8;
/// A stretch in which the desk worked on none of the earlier days is a break between its
/// sessions when it lasts this long and lies inside the working day of at least
/// `MIN_BREAK_DAYS` of them: shorter quiet stretches happen at a quiet clinic by chance.
const MIN_BREAK_MINUTES: usize = 90;
const MIN_BREAK_DAYS: u32 = 2;
/// A desk that called someone or ended a visit this recently is there.
const DESK_THERE_SECS: u32 = 15 * 60;
/// A range reaches no further than this past the latest the desk has worked.
const DAY_END_MARGIN_SECS: f64 = 30.0 * 60.0;

/// What a queue's earlier days on the same weekday say, hour by local hour (0–23).
/// Worked out once when the day opens and kept with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Earlier days it was learned from.
    pub days: u32,
    /// Empty, or 24 hours.
    pub hours: Vec<HourHistory>,
    /// When the first patient is usually called, in seconds since the local midnight,
    /// and how much later it comes on a late day (the 90th percentile's distance).
    pub first_call: Option<u32>,
    pub first_call_spread: u32,
    /// Visits far longer than usual (left out of the hourly figures), how many of all
    /// visits, and their mean length in seconds: rare, but every patient behind one
    /// waits for it.
    pub long_visits: u32,
    pub visits: u32,
    pub long_visit_mean: u32,
    /// How far the estimates shown on earlier days fell from the real waits, the most
    /// recent last (see `calibrate`).
    #[serde(default)]
    pub residuals: Vec<Residual>,
    /// Stretches of the day in which the desk never worked on the earlier days though it
    /// worked before and after them (between a morning and an evening session), in
    /// seconds since the local midnight: nobody is seen in them (`learn_breaks`).
    #[serde(default)]
    pub breaks: Vec<(u32, u32)>,
    /// The latest the desk worked (called someone, or saw them to the end of a visit) on
    /// any earlier day, in seconds since the local midnight.
    #[serde(default)]
    pub works_until: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourHistory {
    /// Patients seen whose visit began in this hour, over all the days.
    pub served: u32,
    /// Their service time in seconds (outliers left out): mean and standard deviation.
    pub service_mean: u32,
    pub service_sd: u32,
    /// Patients called in this hour who never came.
    pub no_shows: u32,
    /// The desk's pause between one visit and the next call while patients wait, in
    /// seconds (mean), and how many such pauses it rests on.
    pub gap_mean: u32,
    pub gaps: u32,
    /// Minutes, over all the days, in which someone was waiting after the day's first
    /// call (before it, the doctor has not started: see `History::first_call`).
    pub waiting_minutes: u32,
    /// Of those, minutes in which nobody was being seen (a break).
    pub idle_minutes: u32,
    /// Patients who joined in this hour with nobody waiting and nobody being seen, and
    /// were called: how many, and their wait in seconds (median, and the end that held
    /// `calibrate::COVERAGE` of them). At an hour the desk works that is a call at once;
    /// at the doctor's start or lunch it is the rest of it.
    #[serde(default)]
    pub alone: u32,
    #[serde(default)]
    pub alone_median: u32,
    #[serde(default)]
    pub alone_upper: u32,
}

/// One token of an earlier day, its times in seconds since the local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastToken {
    pub joined: u32,
    pub called: Option<u32>,
    /// Served (seen) at; `None` for a patient who was called but never came.
    pub served: Option<u32>,
    /// Left without being seen (cancelled), if so.
    pub left: Option<u32>,
    /// The estimate shown on joining, if one was kept.
    pub estimate: Option<Estimate>,
}

/// A token of an earlier day as stored: its day, the instants of its life, its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierToken {
    pub date: chrono::NaiveDate,
    pub created: super::Timestamp,
    pub called: Option<super::Timestamp>,
    pub served: Option<super::Timestamp>,
    pub cancelled: Option<super::Timestamp>,
    pub status: super::TokenStatus,
    pub estimate: Option<Estimate>,
}

impl History {
    /// The earlier dates the history of the day on `date` may learn from: the last
    /// `RECENT_DAYS` days and the same weekday in the last `HISTORY_WEEKS` weeks.
    pub fn dates_for(date: chrono::NaiveDate) -> Vec<chrono::NaiveDate> {
        let before = |days: u64| date - chrono::Days::new(days);
        let mut dates: Vec<_> = (1..=RECENT_DAYS).map(before).collect();
        dates.extend((RECENT_DAYS / 7 + 1..=HISTORY_WEEKS).map(|w| before(7 * w)));
        dates
    }

    /// The history of the day on `date` from the earlier days found among `dates_for`:
    /// the same weekday when there are enough of them; until then, the recent days.
    pub fn for_day(
        date: chrono::NaiveDate,
        earlier: std::collections::BTreeMap<chrono::NaiveDate, Vec<PastToken>>,
    ) -> History {
        use chrono::Datelike;
        let (same, recent): (Vec<_>, Vec<_>) = earlier
            .into_iter()
            .partition(|(d, _)| d.weekday() == date.weekday());
        // The residuals of the most recent patients called, whatever the weekday.
        let mut residuals: Vec<(chrono::NaiveDate, u32, Residual)> = same
            .iter()
            .chain(&recent)
            .flat_map(|(date, tokens)| {
                tokens.iter().filter_map(move |t| {
                    let wait = i64::from(t.called?) - i64::from(t.joined);
                    Some((*date, t.joined, t.estimate?.residual(wait)))
                })
            })
            .collect();
        residuals.sort_by_key(|&(date, joined, _)| (date, joined));
        let kept = residuals.len().saturating_sub(calibrate::KEPT);
        // First in line, patients are few at any one hour: their waits are learned from
        // every earlier day at hand, whatever the weekday.
        let every: Vec<&Vec<PastToken>> = same.iter().chain(&recent).map(|(_, t)| t).collect();
        let chosen: Vec<&Vec<PastToken>> = if same.len() >= MIN_SAME_WEEKDAYS {
            same.iter().map(|(_, t)| t).collect()
        } else {
            recent.iter().chain(&same).map(|(_, t)| t).collect()
        };
        let history = History::learn_from(&chosen, &every);
        History {
            residuals: residuals.drain(kept..).map(|(.., r)| r).collect(),
            ..history
        }
    }

    /// The history of the day on `date` from the tokens of earlier days as stored, their
    /// instants read on the clinic's clock (`timezone`). A token someone was called for
    /// but not seen (skipped, cancelled) counts as not served.
    #[cfg(feature = "ssr")]
    pub fn from_stored(
        date: chrono::NaiveDate,
        timezone: &super::TimeZone,
        earlier: &[EarlierToken],
    ) -> History {
        let mut days: std::collections::BTreeMap<chrono::NaiveDate, Vec<PastToken>> =
            Default::default();
        for t in earlier {
            let at = |instant: super::Timestamp| instant.local_secs(timezone);
            let served = t.served.filter(|_| t.status == super::TokenStatus::Served);
            days.entry(t.date).or_default().push(PastToken {
                joined: at(t.created),
                called: t.called.map(at),
                served: served.map(at),
                left: t.cancelled.map(at),
                estimate: t.estimate,
            });
        }
        History::for_day(date, days)
    }

    /// Learns from earlier days, each given as its tokens.
    pub fn learn(days: &[Vec<PastToken>]) -> History {
        let days: Vec<&Vec<PastToken>> = days.iter().collect();
        History::learn_from(&days, &days)
    }

    /// Learns the pace from `days`; the waits of patients first in line (a few such
    /// patients an hour) and the breaks between the desk's sessions (the latest the desk
    /// ever worked before one) from `every_day`, every earlier day at hand.
    fn learn_from(days: &[&Vec<PastToken>], every_day: &[&Vec<PastToken>]) -> History {
        let days: Vec<&Vec<PastToken>> = days.iter().copied().filter(|d| !d.is_empty()).collect();
        if days.is_empty() {
            return History::default();
        }
        let mut service: Vec<Vec<f64>> = vec![Vec::new(); 24];
        let mut gaps: Vec<Vec<f64>> = vec![Vec::new(); 24];
        let mut hours = vec![HourHistory::default(); 24];
        let mut first_calls = Vec::new();
        for day in &days {
            let mut called: Vec<&PastToken> = day.iter().filter(|t| t.called.is_some()).collect();
            called.sort_by_key(|t| t.called);
            let first_call = called.first().and_then(|t| t.called);
            first_calls.extend(first_call.map(f64::from));
            let mut waiting = [0u32; 1440];
            let mut serving = [false; 1440];
            for t in day.iter() {
                let stop = t.called.or(t.left).unwrap_or(t.joined);
                for m in minute_of(t.joined)..minute_of(stop) {
                    waiting[m] += 1;
                }
            }
            for (i, t) in called.iter().enumerate() {
                let call = t.called.unwrap_or_default();
                let end = match t.served {
                    Some(served) => {
                        service[hour_of(call)].push(f64::from(served.saturating_sub(call)));
                        served
                    }
                    None => {
                        hours[hour_of(call)].no_shows += 1;
                        call + NO_SHOW_SECS as u32
                    }
                };
                // The pause before the next call, when that patient was already waiting,
                // belongs to the work; a longer one is a break.
                let mut busy_until = end;
                if let Some(next) = called.get(i + 1) {
                    let next_call = next.called.unwrap_or_default();
                    let gap = next_call.saturating_sub(end.max(next.joined));
                    if next_call >= end && gap <= MAX_GAP_SECS {
                        gaps[hour_of(next_call)].push(f64::from(gap));
                        busy_until = next_call;
                    }
                }
                for slot in &mut serving[minute_of(call)..=minute_of(busy_until.max(call))] {
                    *slot = true;
                }
            }
            let from = first_call.map_or(1440, minute_of);
            for m in from..1440 {
                if waiting[m] > 0 {
                    hours[m / 60].waiting_minutes += 1;
                    if !serving[m] {
                        hours[m / 60].idle_minutes += 1;
                    }
                }
            }
        }
        let mut long = Vec::new();
        let mut visits = 0;
        for times in &service {
            visits += times.len() as u32;
            if let Some(median) = median(times) {
                long.extend(
                    times
                        .iter()
                        .filter(|&&s| is_long(s, median) && s <= MAX_VISIT_SECS),
                );
            }
        }
        learn_alone(&mut hours, every_day);
        for ((hour, times), pauses) in hours.iter_mut().zip(service).zip(gaps) {
            if let Some((mean, sd, n)) = trimmed(&times) {
                hour.served = n as u32;
                hour.service_mean = mean.round() as u32;
                hour.service_sd = sd.round() as u32;
            }
            if !pauses.is_empty() {
                hour.gaps = pauses.len() as u32;
                hour.gap_mean = (pauses.iter().sum::<f64>() / pauses.len() as f64).round() as u32;
            }
        }
        first_calls.sort_by(f64::total_cmp);
        History {
            days: days.len() as u32,
            hours,
            first_call: (!first_calls.is_empty()).then(|| quantile(&first_calls, 0.5) as u32),
            first_call_spread: if first_calls.is_empty() {
                0
            } else {
                (quantile(&first_calls, 0.9) - quantile(&first_calls, 0.5)) as u32
            },
            long_visits: long.len() as u32,
            visits,
            long_visit_mean: if long.is_empty() {
                0
            } else {
                (long.iter().sum::<f64>() / long.len() as f64) as u32
            },
            residuals: Vec::new(),
            breaks: learn_breaks(every_day),
            works_until: every_day
                .iter()
                .flat_map(|day| day.iter())
                .filter_map(|t| t.called.map(|call| t.served.unwrap_or(call).max(call)))
                .max(),
        }
    }

    /// Service time (mean, standard deviation) from the hours around `hour`, and how
    /// many patients it rests on.
    fn service_near(&self, hour: usize) -> Option<(f64, f64, f64)> {
        let near = self.near(hour, |h| h.served);
        let n: f64 = near.iter().map(|h| f64::from(h.served)).sum();
        if n < 3.0 {
            return None;
        }
        let mean = near
            .iter()
            .map(|h| f64::from(h.service_mean) * f64::from(h.served))
            .sum::<f64>()
            / n;
        // Pooled: each hour's own spread and its distance from the pooled mean.
        let var = near
            .iter()
            .map(|h| {
                f64::from(h.served)
                    * (f64::from(h.service_sd).powi(2) + (f64::from(h.service_mean) - mean).powi(2))
            })
            .sum::<f64>()
            / n;
        Some((mean, var.sqrt(), n))
    }

    /// The desk's usual pause between visits around `hour`.
    fn gap_near(&self, hour: usize) -> Option<f64> {
        let near = self.near(hour, |h| h.gaps);
        let n: f64 = near.iter().map(|h| f64::from(h.gaps)).sum();
        (n >= 3.0).then(|| {
            near.iter()
                .map(|h| f64::from(h.gap_mean) * f64::from(h.gaps))
                .sum::<f64>()
                / n
        })
    }

    /// The hours around `hour` that have `count` > 0.
    fn near(&self, hour: usize, count: fn(&HourHistory) -> u32) -> Vec<&HourHistory> {
        [hour.wrapping_sub(1), hour, hour + 1]
            .iter()
            .filter_map(|&h| self.hours.get(h))
            .filter(|h| count(h) > 0)
            .collect()
    }

    /// How long a patient joining at `hour` with nobody ahead and nobody in the room
    /// waited on earlier days, in seconds: (median, the end that held most of them).
    fn alone_at(&self, hour: usize) -> Option<(f64, f64)> {
        self.hours
            .get(hour)
            .filter(|h| h.alone as usize >= MIN_ALONE)
            .map(|h| (f64::from(h.alone_median), f64::from(h.alone_upper)))
    }

    /// Of the time patients waited in this hour, the share in which someone was seen.
    fn availability(&self, hour: usize) -> f64 {
        match self.hours.get(hour) {
            Some(h) if h.waiting_minutes >= 20 => {
                (1.0 - f64::from(h.idle_minutes) / f64::from(h.waiting_minutes)).max(0.02)
            }
            _ => 1.0,
        }
    }
}

/// The breaks between the desk's sessions (`History::breaks`): the stretches of at least
/// `MIN_BREAK_MINUTES` in which, on every earlier day, nobody joined, was called or was
/// being seen, inside the working day (first activity to last) of at least
/// `MIN_BREAK_DAYS` of them. Patients who wait through such a break are no sign of work:
/// the desk was away.
fn learn_breaks(days: &[&Vec<PastToken>]) -> Vec<(u32, u32)> {
    let mut worked = [false; 1440];
    let mut inside_day = [0u32; 1440];
    for day in days {
        let mut active = [false; 1440];
        for t in day.iter() {
            active[minute_of(t.joined)] = true;
            if let Some(call) = t.called {
                let end = t.served.unwrap_or(call + NO_SHOW_SECS as u32).max(call);
                active[minute_of(call)..=minute_of(end)].fill(true);
            }
        }
        if let (Some(first), Some(last)) = (
            active.iter().position(|&a| a),
            active.iter().rposition(|&a| a),
        ) {
            inside_day[first..=last].iter_mut().for_each(|d| *d += 1);
        }
        worked.iter_mut().zip(active).for_each(|(w, a)| *w |= a);
    }
    let quiet = |m: usize| !worked[m] && inside_day[m] >= MIN_BREAK_DAYS;
    let mut breaks = Vec::new();
    let mut m = 0;
    while m < 1440 {
        let end = (m..1440).find(|&e| !quiet(e)).unwrap_or(1440);
        if end - m >= MIN_BREAK_MINUTES {
            breaks.push((m as u32 * 60, end as u32 * 60));
        }
        m = end + 1;
    }
    breaks
}

/// Each hour's waits of the patients first in line (`HourHistory::alone`), from `days`.
fn learn_alone(hours: &mut [HourHistory], days: &[&Vec<PastToken>]) {
    let mut alone: Vec<Vec<f64>> = vec![Vec::new(); 24];
    for day in days {
        for (t, wait) in first_in_line(day) {
            alone[hour_of(t.joined)].push(f64::from(wait));
        }
    }
    for (hour, mut waits) in hours.iter_mut().zip(alone) {
        (hour.alone, hour.alone_median, hour.alone_upper) = (0, 0, 0);
        if waits.len() >= MIN_ALONE {
            waits.sort_by(f64::total_cmp);
            let covered = (calibrate::COVERAGE + 1.0 / waits.len() as f64).min(1.0);
            hour.alone = waits.len() as u32;
            hour.alone_median = quantile(&waits, 0.5).round() as u32;
            hour.alone_upper = quantile(&waits, covered).ceil() as u32;
        }
    }
}

/// The patients of one day who joined with nobody waiting before them and nobody being
/// seen, and were called: each with their wait in seconds.
fn first_in_line(day: &[PastToken]) -> impl Iterator<Item = (&PastToken, u32)> {
    day.iter().filter_map(move |t| {
        let wait = t.called?.checked_sub(t.joined)?;
        let j = t.joined;
        let before = |o: &PastToken| {
            if std::ptr::eq(o, t) {
                return false;
            }
            let waiting = o.joined < j && o.called.or(o.left).is_none_or(|out| out > j);
            let in_room = o.called.is_some_and(|call| {
                call <= j && o.served.unwrap_or(call + NO_SHOW_SECS as u32) > j
            });
            waiting || in_room
        };
        (!day.iter().any(before)).then_some((t, wait))
    })
}

fn hour_of(secs: u32) -> usize {
    (secs / 3600).min(23) as usize
}

fn minute_of(secs: u32) -> usize {
    (secs / 60).min(1439) as usize
}

/// The `q` quantile (0..=1) of sorted values, interpolated.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (below, above) = (at.floor() as usize, at.ceil() as usize);
    sorted[below] + (sorted[above] - sorted[below]) * (at - below as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: (u32, u32) = (6, 15);
    /// 10:00 local.
    const TEN: u32 = 10 * 3600;

    /// A queue at 10:00 whose doctor has started (someone was called).
    fn inputs<'a>(today: &'a [u32], history: &'a History) -> Inputs<'a> {
        Inputs {
            default_minutes: DEFAULT,
            today_secs: today,
            today_no_shows: 0,
            today_called: today.len() as u32 + 1,
            history,
            local_secs: TEN,
            serving_for_secs: None,
            today_residuals: &[],
            closed: &[],
            worked_until_secs: None,
        }
    }

    fn pace(today: &[u32]) -> Pace {
        Pace::new(&inputs(today, &History::default()))
    }

    fn contains(range: (u32, u32), minutes: u32) -> bool {
        range.0 <= minutes && minutes <= range.1
    }

    /// Earlier days with steady `visit`-second visits from 09:00, one after another, and
    /// the patients all there from the start.
    fn steady_days(days: usize, patients: u32, visit: u32, start: u32) -> Vec<Vec<PastToken>> {
        (0..days)
            .map(|_| {
                (0..patients)
                    .map(|i| PastToken {
                        joined: 9 * 3600,
                        called: Some(start + i * visit),
                        served: Some(start + (i + 1) * visit),
                        left: None,
                        estimate: None,
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn with_no_history_the_default_range_holds() {
        let range = pace(&[]).wait_minutes(3);
        // Three patients of 6–15 minutes: the range spans what the default allows (18–45),
        // widened as every range is until the queue's own errors can size it, and not
        // much more.
        assert!(range.0 <= 20 && range.1 >= 45, "{range:?}");
        assert!(range.0 >= 3 && range.1 <= 75, "{range:?}");
    }

    #[test]
    fn before_anyone_is_called_the_range_allows_for_a_late_start() {
        let none = History::default();
        let mut at = inputs(&[], &none);
        let started = Pace::new(&at).wait_minutes(2);
        at.today_called = 0;
        let not_yet = Pace::new(&at).wait_minutes(2);
        assert!(not_yet.0 >= started.0, "{not_yet:?} vs {started:?}");
        assert!(not_yet.1 >= started.1 + 15, "{not_yet:?} vs {started:?}");
        // The first in line waits for the doctor too: not "0–1 min".
        let first = Pace::new(&at).wait_minutes(0);
        assert!(first.1 >= 15, "{first:?}");
    }

    #[test]
    fn first_in_line_waits_as_patients_did_at_that_hour() {
        // Ten earlier days: from 10:00 the doctor is there and a patient who finds nobody
        // ahead is called within half a minute; one who comes at 13:10 waits out lunch.
        let day: Vec<PastToken> = (0..5)
            .map(|i| {
                let joined = 10 * 3600 + i * 720;
                PastToken {
                    joined,
                    called: Some(joined + 20),
                    served: Some(joined + 500),
                    left: None,
                    estimate: None,
                }
            })
            .chain((0..8).map(|i| PastToken {
                joined: 13 * 3600 + 600 + i,
                called: Some(14 * 3600 + i * 480),
                served: Some(14 * 3600 + i * 480 + 470),
                left: None,
                estimate: None,
            }))
            .collect();
        let mut history = History::learn(&vec![day; 10]);
        // Every earlier estimate for a first in line was far short: errors pooled over
        // the hours would stretch every such range.
        history.residuals = vec![Residual::from((0, 1_200)); 40];
        let at = |local_secs: u32| {
            Pace::new(&Inputs {
                local_secs,
                ..inputs(&[480; 6], &history)
            })
            .wait_minutes(0)
        };
        assert_eq!(history.hours[10].alone, 50);
        assert_eq!(
            history.hours[13].alone, 10,
            "only the first of 13:10 was alone"
        );
        let (low, high) = at(10 * 3600 + 1800);
        assert!(
            low == 0 && high <= 2,
            "the desk works at 10:30: {low}–{high}"
        );
        let (low, high) = at(13 * 3600 + 900);
        assert!(
            low == 0 && high >= 50,
            "lunch at 13:15 is waited out: {low}–{high}"
        );
        // Unless the desk ended a visit five minutes ago: then it is there, and calls
        // the first in line after its usual pause.
        let there = Pace::new(&Inputs {
            local_secs: 13 * 3600 + 900,
            worked_until_secs: Some(13 * 3600 + 600),
            ..inputs(&[480; 6], &history)
        })
        .wait_minutes(0);
        assert_eq!(there, (0, 1), "the desk is there");
    }

    #[test]
    fn a_queue_of_one_is_called_now() {
        assert_eq!(pace(&[]).wait_minutes(0), (0, 1));
        assert_eq!(pace(&[480; 12]).wait_minutes(0), (0, 1));
    }

    #[test]
    fn the_clinics_own_pace_takes_over_from_the_default() {
        // A quick doctor: four-minute visits all morning.
        // Five patients of four minutes and the desk's short pause: about 22 minutes.
        let quick = pace(&[240; 12]).wait_minutes(5);
        let midpoint = f64::from(quick.0 + quick.1) / 2.0;
        assert!((midpoint - 22.0).abs() <= 7.0 && quick.1 < 40, "{quick:?}");
        // One patient moves the estimate only a little away from the default.
        let one = pace(&[240]).wait_minutes(5);
        assert!(one.1 > quick.1, "{one:?} vs {quick:?}");
    }

    #[test]
    fn the_history_of_the_same_hour_replaces_the_default() {
        // Earlier Mondays: five-minute visits all morning.
        let history = History::learn(&steady_days(4, 30, 300, 9 * 3600));
        assert_eq!(history.days, 4);
        assert_eq!(
            (history.hours[10].service_mean, history.hours[10].service_sd),
            (300, 0)
        );
        let range = Pace::new(&inputs(&[], &history)).wait_minutes(6);
        assert!(contains(range, 30) && range.1 < 45, "{range:?}");
        // Without it, the default's 6–15 minutes a patient.
        let plain = pace(&[]).wait_minutes(6);
        assert!(plain.1 > 60, "{plain:?}");
    }

    #[test]
    fn one_outlier_does_not_wreck_it() {
        let mut times = vec![480; 10];
        let steady = pace(&times);
        times.push(2 * 3600); // a patient kept two hours
        assert_eq!(pace(&times).wait_minutes(4), steady.wait_minutes(4));
    }

    #[test]
    fn a_lunch_break_inside_a_visit_is_left_out() {
        // SERVED pressed after lunch: a 70-minute "visit" among 8-minute ones.
        let with = pace(&[480, 500, 470, 4200, 490, 510]).wait_minutes(3);
        let without = pace(&[480, 500, 470, 490, 510]).wait_minutes(3);
        assert_eq!(with, without);
    }

    #[test]
    fn a_usual_lunch_break_is_waited_through() {
        // Earlier days: patients wait from 12:30 while the doctor lunches 13:00–14:00.
        let days: Vec<Vec<PastToken>> = (0..4)
            .map(|_| {
                (0..10)
                    .map(|i| PastToken {
                        joined: 12 * 3600 + 1800,
                        called: Some(if i < 3 {
                            12 * 3600 + 1800 + i * 600
                        } else {
                            14 * 3600 + (i - 3) * 600
                        }),
                        served: Some(if i < 3 {
                            12 * 3600 + 2400 + i * 600
                        } else {
                            14 * 3600 + (i - 2) * 600
                        }),
                        left: None,
                        estimate: None,
                    })
                    .collect()
            })
            .collect();
        let history = History::learn(&days);
        assert!(
            history.hours[13].idle_minutes >= 4 * 55,
            "{:?}",
            history.hours[13]
        );
        let mut at = inputs(&[600; 6], &history);
        at.local_secs = 12 * 3600 + 50 * 60;
        // Two patients ahead at 12:50: ten minutes before lunch, then after it.
        let range = Pace::new(&at).wait_minutes(2);
        assert!(range.1 >= 70, "the break is in the estimate: {range:?}");
        let plain = Pace::new(&Inputs {
            history: &History::default(),
            ..at
        })
        .wait_minutes(2);
        assert!(plain.1 < 40, "{plain:?}");
    }

    /// Earlier days with a morning session from 09:00 and an evening one from 17:00,
    /// `visit`-second visits one after another and nobody about in between.
    fn two_sessions(days: usize, visit: u32) -> Vec<Vec<PastToken>> {
        let session = move |from: u32, patients: u32| {
            (0..patients).map(move |i| PastToken {
                joined: from - 600 + i * visit,
                called: Some(from + i * visit),
                served: Some(from + (i + 1) * visit),
                left: None,
                estimate: None,
            })
        };
        let day: Vec<PastToken> = session(9 * 3600, 3 * 3600 / visit)
            .chain(session(17 * 3600, 2 * 3600 / visit))
            .collect();
        vec![day; days]
    }

    #[test]
    fn the_break_between_two_sessions_is_learned_and_waited_through() {
        let history = History::learn(&two_sessions(3, 600));
        assert_eq!(history.breaks.len(), 1, "{:?}", history.breaks);
        let (from, to) = history.breaks[0];
        assert!(
            from <= 12 * 3600 + 120 && to >= 16 * 3600 + 45 * 60,
            "{from}–{to}"
        );
        // 11:30, eight ten-minute visits ahead: half an hour of them before the desk
        // leaves at noon, the rest from 16:50.
        let mut at = inputs(&[600; 12], &history);
        at.local_secs = 11 * 3600 + 30 * 60;
        let range = Pace::new(&at).wait_minutes(8);
        assert!(range.0 >= 4 * 60 && range.1 >= 6 * 60, "{range:?}");
        let unaware = History {
            breaks: Vec::new(),
            ..history.clone()
        };
        let plain = Pace::new(&Inputs {
            history: &unaware,
            ..at
        })
        .wait_minutes(8);
        assert!(plain.1 < 3 * 60, "{plain:?}");
        // Today the desk works on through it: it called someone at 12:40.
        at.local_secs = 12 * 3600 + 45 * 60;
        at.worked_until_secs = Some(12 * 3600 + 40 * 60);
        let working = Pace::new(&at).wait_minutes(3);
        assert!(working.1 < 90, "{working:?}");
    }

    #[test]
    fn no_range_reaches_past_the_end_of_the_desks_day() {
        // Earlier days end at 19:00; one patient in six waited hours longer than shown
        // (through a break nobody foresaw), which stretches every calibrated range.
        let mut history = History::learn(&two_sessions(3, 600));
        assert_eq!(history.works_until, Some(19 * 3600));
        history.residuals = (0..60)
            .map(|i| Residual::from((2, if i % 6 == 0 { 3_000 } else { 50 })))
            .collect();
        let mut at = inputs(&[600; 12], &history);
        at.local_secs = 18 * 3600;
        let range = Pace::new(&at).wait_minutes(2);
        assert!(range.1 <= 90, "past 19:30: {range:?}");
        // The work ahead itself may run later: four hours of it is not cut.
        let long = Pace::new(&at).wait_minutes(24);
        assert!(long.1 >= 240, "{long:?}");
        let endless = History {
            works_until: None,
            ..history.clone()
        };
        let uncut = Pace::new(&Inputs {
            history: &endless,
            ..at
        })
        .wait_minutes(2);
        assert!(uncut.1 > 90, "{uncut:?}");
    }

    #[test]
    fn a_quiet_stretch_is_not_taken_for_a_break_without_reason() {
        // One day seen: the quiet afternoon may be chance.
        assert_eq!(History::learn(&two_sessions(1, 600)).breaks, vec![]);
        // Patients an hour apart, each called at once: never more than 80 quiet minutes.
        let quiet_day: Vec<PastToken> = (0..10)
            .map(|i| {
                let joined = 9 * 3600 + i * 3600;
                PastToken {
                    joined,
                    called: Some(joined + 60),
                    served: Some(joined + 300),
                    left: None,
                    estimate: None,
                }
            })
            .collect();
        assert_eq!(History::learn(&vec![quiet_day; 5]).breaks, vec![]);
    }

    #[test]
    fn the_breaks_of_the_opening_hours_are_waited_through() {
        let history = History::default();
        let mut at = inputs(&[600; 6], &history);
        at.local_secs = 12 * 3600 + 50 * 60;
        let plain = Pace::new(&at).wait_minutes(2);
        // Lunch from 13:00 to 14:00 by the queue's hours: the second patient ahead is
        // seen after it.
        let lunch = [(0, 9 * 3600), (13 * 3600, 14 * 3600)];
        let with_lunch = Pace::new(&Inputs {
            closed: &lunch,
            ..at
        })
        .wait_minutes(2);
        assert!(
            with_lunch.1 >= plain.1 + 55,
            "{plain:?} then {with_lunch:?}"
        );
        // Before opening, even the first in line waits for the doors to open.
        at.local_secs = 8 * 3600 + 30 * 60;
        at.today_secs = &[];
        at.today_called = 0;
        let early = Pace::new(&Inputs {
            closed: &lunch,
            ..at
        })
        .wait_minutes(0);
        assert!(early.0 >= 29 && early.1 >= 30, "{early:?}");
    }

    #[test]
    fn a_doctor_who_usually_comes_late_is_expected_late() {
        // Patients come from 09:00; the doctor starts at 09:45 every day.
        let days: Vec<Vec<PastToken>> = steady_days(4, 12, 300, 9 * 3600 + 45 * 60);
        let history = History::learn(&days);
        let mut at = inputs(&[], &history);
        at.today_called = 0;
        at.local_secs = 9 * 3600 + 5 * 60;
        // First in line at 09:05 with nobody seen yet: about 40 minutes, not zero.
        let range = Pace::new(&at).wait_minutes(1);
        assert!(range.1 >= 40, "{range:?}");
    }

    #[test]
    fn a_queue_working_long_after_its_usual_start_is_not_taken_for_a_late_one() {
        // The doctor starts at 09:00 every day; tonight the desk works at 22:00 with
        // nobody called yet (an evening session the history never saw). Three five-minute
        // visits ahead are not a wait of hours.
        let days: Vec<Vec<PastToken>> = steady_days(4, 12, 300, 9 * 3600);
        let history = History::learn(&days);
        let mut at = inputs(&[], &history);
        at.today_called = 0;
        at.local_secs = 22 * 3600;
        let night = Pace::new(&at).wait_minutes(3);
        at.today_called = 1;
        let night_started = Pace::new(&at).wait_minutes(3);
        assert_eq!(night, night_started);
        assert!(night.1 <= 90, "{night:?}");
        // Half an hour past the usual start, the range still allows for a late doctor.
        at.local_secs = 9 * 3600 + 30 * 60;
        at.today_called = 0;
        let late = Pace::new(&at).wait_minutes(3);
        at.today_called = 1;
        let started = Pace::new(&at).wait_minutes(3);
        assert!(late.1 >= started.1 + 15, "{late:?} vs {started:?}");
    }

    #[test]
    fn patients_who_never_come_shorten_the_wait() {
        let none = History::default();
        let mut at = inputs(&[600; 12], &none);
        let all_come = Pace::new(&at).wait_minutes(10);
        at.today_no_shows = 6;
        at.today_called = 18;
        let some_do_not = Pace::new(&at).wait_minutes(10);
        assert!(
            some_do_not.1 < all_come.1,
            "{some_do_not:?} vs {all_come:?}"
        );
    }

    #[test]
    fn the_current_patients_time_counts() {
        let none = History::default();
        let mut at = inputs(&[480, 540, 600, 660, 720, 600], &none);
        at.serving_for_secs = Some(0);
        let just_called = Pace::new(&at).wait_minutes(0);
        at.serving_for_secs = Some(600);
        let ten_in = Pace::new(&at).wait_minutes(0);
        assert!(ten_in.1 < just_called.1, "{ten_in:?} vs {just_called:?}");
        // Overrunning (a hard case): still some time, never zero.
        at.serving_for_secs = Some(3600);
        let overrun = Pace::new(&at).wait_minutes(0);
        assert!(overrun.1 >= 1, "{overrun:?}");
    }

    #[test]
    fn a_visit_that_has_run_long_is_likelier_a_long_one() {
        // Visits of about ten minutes that vary a good deal, as visits do.
        let none = History::default();
        let visits = [240, 360, 420, 540, 600, 720, 900, 1320];
        let at = inputs(&visits, &none);
        let likely_left = |in_room: u32| {
            let at = Inputs {
                serving_for_secs: Some(in_room),
                ..at
            };
            Pace::new(&at).estimate(0).centre
        };
        // Early on, the time in the room is time off the wait; once a visit has run far
        // past the usual, more time in the room makes a long one likelier, and more of
        // it is likely left.
        assert!(likely_left(300) < likely_left(0));
        let (twice, thrice) = (likely_left(1200), likely_left(1800));
        assert!(
            thrice > twice,
            "{thrice} s left at 30 min in, {twice} s at 20 min"
        );
    }

    #[test]
    fn the_range_leans_towards_a_longer_wait() {
        let range = pace(&[400, 500, 600, 700, 800, 500, 600, 700]).wait_minutes(6);
        let likely = 6.0 * 600.0 / 60.0;
        assert!(
            f64::from(range.1) - likely > likely - f64::from(range.0),
            "{range:?}"
        );
    }

    #[test]
    fn long_waits_read_humanely() {
        assert_eq!(humane_minutes(45, "h", "min"), "45 min");
        assert_eq!(humane_minutes(100, "h", "min"), "1 h 40 min");
        assert_eq!(humane_minutes(822, "h", "min"), "13 h 42 min");
        assert_eq!(humane_minutes(120, "h", "min"), "2 h");
    }
}
