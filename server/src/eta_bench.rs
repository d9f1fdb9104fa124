//! `qline bench-eta --trace FILE.csv`: replays recorded (or generated) clinic days
//! through the real queue engine on a scratch database, with the engine's clock set to
//! each moment of the trace, and compares the wait each patient was shown on joining
//! with the wait they really had: Qline's estimator against the fixed rule of 6–15
//! minutes per patient ahead. A measurement: it prints its numbers and asserts nothing.

use crate::bench::{insert_staff, ScratchClinic};
use crate::scenario::{self, Scenario};
use crate::trace::{self, Outcome, Visit};
use clap::Args;
use futures::StreamExt;
use qline_app::domain::*;
use qline_app::queue::engine::{Actor, Engine, EngineError, JoinRequest};
use qline_app::queue::rules::StaffAction;
use qline_app::storage::{Applied, Store};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct BenchEtaArgs {
    /// The trace: CSV with the columns queue,arrival,service_start,service_end,outcome
    /// (see docs/ETA.md; `qline gen-trace` makes synthetic ones).
    #[arg(long, value_name = "FILE", conflicts_with = "family")]
    pub trace: Option<PathBuf>,
    /// Instead of a trace, the family of synthetic clinics: one trace per seed of
    /// --seeds, a table of them, their aggregate and their worst five.
    #[arg(long)]
    pub family: bool,
    /// With --family: the seeds, FIRST-LAST. By default the held-out seeds (1001-1030),
    /// never used while tuning; the estimator is tuned on 1-200.
    #[arg(long, value_name = "FIRST-LAST", requires = "family")]
    pub seeds: Option<String>,
    /// With --trace: also write every estimate scored and the wait that followed to this
    /// CSV file (when, ahead, Qline's range, the fixed rule's, the real wait in minutes).
    #[arg(long, value_name = "FILE", requires = "trace")]
    pub dump: Option<PathBuf>,
    /// The clinic's timezone: it places times written without an offset and gives the
    /// local hours the estimator learns by.
    #[arg(long, default_value = "Asia/Kolkata")]
    pub timezone: String,
}

/// The fixed rule clinics use without Qline: 6 to 15 minutes for each patient ahead.
const FIXED: (u32, u32) = (6, 15);
/// The tracker's estimate is scored again at these shares of each patient's real wait.
const LATER: [f64; 2] = [1.0 / 3.0, 2.0 / 3.0];

/// What happens at one moment of the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    End(usize),
    Call(usize),
    Arrive(usize),
    /// The patient looks at their tracker again, a share of the way through their wait.
    Look(usize),
}

/// Every visit's steps in the order a desk lives them. At the same moment, visits that
/// began earlier end first, then patients are called, each called patient's own end
/// right after their call when it is at the same moment (a no-show given up at once),
/// arrivals next, and patients looking at their trackers last.
fn schedule(visits: &[Visit]) -> Vec<(Timestamp, Step)> {
    let mut steps: Vec<((Timestamp, u8, usize, u8), Step)> = Vec::new();
    for (i, v) in visits.iter().enumerate() {
        steps.push(((v.arrival, 2, i, 0), Step::Arrive(i)));
        if let Some(start) = v.start {
            steps.push(((start, 1, i, 0), Step::Call(i)));
            if v.outcome == Outcome::Served {
                let wait = start.millis() - v.arrival.millis();
                for (k, share) in LATER.iter().enumerate() {
                    let at = Timestamp(v.arrival.millis() + (wait as f64 * share) as i64);
                    if at > v.arrival && at < start {
                        steps.push(((at, 3, i, k as u8), Step::Look(i)));
                    }
                }
            }
        }
        let end = match (v.outcome, v.start, v.end) {
            (Outcome::NoShow, Some(start), None) => Some(Timestamp(start.millis() + 60_000)),
            (_, _, end) => end,
        };
        if let Some(end) = end {
            let key = match v.start {
                Some(start) if end <= start => (start, 1, i, 1),
                _ => (end, 0, i, 0),
            };
            steps.push((key, Step::End(i)));
        }
    }
    steps.sort_by_key(|(key, _)| *key);
    steps
        .into_iter()
        .map(|((at, ..), step)| (at, step))
        .collect()
}

/// A score needs waits to compare: at least two patients who were called.
fn enough_data(visits: &[Visit]) -> anyhow::Result<()> {
    let called = visits.iter().filter(|v| v.start.is_some()).count();
    anyhow::ensure!(
        called >= 2,
        "not enough data: {called} patient(s) in this trace were called; scoring the estimates needs at least 2"
    );
    Ok(())
}

/// One estimate a patient who was then seen had on their tracker, and the wait that
/// followed: on joining, or looking again while waiting.
struct Shown {
    on_joining: bool,
    /// When it was shown.
    at: Timestamp,
    ahead: u32,
    qline: (u32, u32),
    fixed: (u32, u32),
    actual_minutes: f64,
}

#[derive(Default, Clone, Copy)]
struct Score {
    n: usize,
    abs_error: f64,
    inside: usize,
    width: f64,
    under: usize,
    late: usize,
}

impl Score {
    fn add(&mut self, range: (u32, u32), actual: f64) {
        let (low, high) = (f64::from(range.0), f64::from(range.1));
        let mid = (low + high) / 2.0;
        self.n += 1;
        self.abs_error += (mid - actual).abs();
        self.inside += usize::from(low <= actual && actual <= high);
        self.width += high - low;
        self.under += usize::from(actual <= mid);
        self.late += usize::from(actual > high);
    }

    fn merge(&mut self, other: &Score) {
        self.n += other.n;
        self.abs_error += other.abs_error;
        self.inside += other.inside;
        self.width += other.width;
        self.under += other.under;
        self.late += other.late;
    }

    fn mae(&self) -> f64 {
        self.abs_error / self.n.max(1) as f64
    }

    fn share(&self, count: usize) -> f64 {
        count as f64 / self.n.max(1) as f64
    }

    fn coverage(&self) -> f64 {
        self.share(self.inside)
    }

    fn width(&self) -> f64 {
        self.width / self.n.max(1) as f64
    }
}

/// Qline's and the fixed rule's scores, on joining and on looking again.
#[derive(Default, Clone, Copy)]
struct Scores {
    joining: (Score, Score),
    later: (Score, Score),
}

impl Scores {
    fn of(shown: &[Shown]) -> Scores {
        let mut scores = Scores::default();
        for s in shown {
            let (qline, fixed) = if s.on_joining {
                &mut scores.joining
            } else {
                &mut scores.later
            };
            qline.add(s.qline, s.actual_minutes);
            fixed.add(s.fixed, s.actual_minutes);
        }
        scores
    }

    fn merge(&mut self, other: &Scores) {
        self.joining.0.merge(&other.joining.0);
        self.joining.1.merge(&other.joining.1);
        self.later.0.merge(&other.later.0);
        self.later.1.merge(&other.later.1);
    }

    /// Qline's mean error as a share of the fixed rule's: on joining, looking again.
    fn ratios(&self) -> (f64, f64) {
        let ratio = |(q, f): &(Score, Score)| q.mae() / f.mae().max(1e-9);
        (ratio(&self.joining), ratio(&self.later))
    }
}

pub async fn run(args: BenchEtaArgs) -> anyhow::Result<()> {
    let timezone = TimeZone::parse(&args.timezone)?;
    match (&args.trace, args.family) {
        (Some(path), false) => {
            one_trace(path, &args.timezone, &timezone, args.dump.as_deref()).await
        }
        (None, true) => family(args.seeds.as_deref(), &timezone).await,
        _ => anyhow::bail!("give a trace (--trace FILE.csv) or --family"),
    }
}

async fn one_trace(
    path: &Path,
    zone: &str,
    timezone: &TimeZone,
    dump: Option<&Path>,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let visits =
        trace::parse(&text, zone).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    enough_data(&visits).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let (shown, notes, elapsed) = replay_scratch(&visits, timezone).await?;
    let days: std::collections::BTreeSet<String> = visits
        .iter()
        .map(|v| v.arrival.local(timezone).date().to_string())
        .collect();
    if let Some(dump) = dump {
        let mut csv = String::from(
            "when,at,ahead,qline_low,qline_high,fixed_low,fixed_high,actual_minutes\n",
        );
        for s in &shown {
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{:.2}\n",
                if s.on_joining { "joining" } else { "again" },
                s.at.local(timezone).format("%Y-%m-%dT%H:%M"),
                s.ahead,
                s.qline.0,
                s.qline.1,
                s.fixed.0,
                s.fixed.1,
                s.actual_minutes
            ));
        }
        std::fs::write(dump, csv)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", dump.display()))?;
    }
    let scores = Scores::of(&shown);
    println!(
        "qline bench-eta · {} · {} visits over {} days · {} patients seen · replayed in {:.1} s",
        path.display(),
        visits.len(),
        days.len(),
        scores.joining.0.n,
        elapsed
    );
    println!(
        "{:<34} {:>9} {:>9} {:>11} {:>15} {:>12}",
        "estimate", "MAE min", "coverage", "width min", "under-promise", "late"
    );
    for (when, (qline, fixed)) in [("", &scores.joining), (", looking again", &scores.later)] {
        for (name, s) in [("qline", qline), ("fixed 6-15 min/patient", fixed)] {
            println!(
                "{:<34} {:>9.1} {:>9.2} {:>11.1} {:>15.2} {:>12.2}",
                format!("{name}{when}"),
                s.mae(),
                s.coverage(),
                s.width(),
                s.share(s.under),
                s.share(s.late)
            );
        }
    }
    println!(
        "(MAE: the range's midpoint against the real wait; coverage: real waits inside the range; \
         under-promise: called no later than the midpoint; late: called after the range; \
         looking again: the tracker a third and two thirds of the way through each wait)"
    );
    for (note, count) in notes {
        println!("replay note: {count} × {note}");
    }
    println!("{}", machine_line(&scores));
    Ok(())
}

/// `eta: qline_mae=… fixed_mae=… coverage=… width=… later_mae=… later_fixed_mae=… later_coverage=…`
fn machine_line(s: &Scores) -> String {
    let ((q, f), (lq, lf)) = (&s.joining, &s.later);
    format!(
        "eta: qline_mae={:.2} fixed_mae={:.2} coverage={:.3} width={:.1} later_mae={:.2} later_fixed_mae={:.2} later_coverage={:.3}",
        q.mae(),
        f.mae(),
        q.coverage(),
        q.width(),
        lq.mae(),
        lf.mae(),
        lq.coverage()
    )
}

/// One clinic of the family, replayed and scored.
struct Row {
    seed: u64,
    scenario: Scenario,
    visits: usize,
    scores: Scores,
    best: Best,
}

/// The best any estimate could do on a simulated clinic (`scenario::oracle`): the summed
/// errors of the best-informed forecaster's middle and of the fixed rule's, on the same
/// patients, on joining and looking again.
#[derive(Default, Clone, Copy)]
struct Best {
    joining: (f64, f64),
    later: (f64, f64),
}

impl Best {
    fn of(scenario: &Scenario, seed: u64) -> Best {
        let mut best = Best::default();
        let days = scenario::simulate_days(&scenario.sessions, scenario.days, seed);
        for (n, (_, session, lines, drawn)) in days.enumerate() {
            let runs_seed = seed.wrapping_mul(1_000_003).wrapping_add(n as u64);
            for f in scenario::oracle::foresee(session, &drawn, &lines, runs_seed) {
                let sums = if f.on_joining {
                    &mut best.joining
                } else {
                    &mut best.later
                };
                sums.0 += (f.best - f.actual).abs();
                sums.1 += (f.fixed - f.actual).abs();
            }
        }
        best
    }

    fn merge(&mut self, other: &Best) {
        self.joining.0 += other.joining.0;
        self.joining.1 += other.joining.1;
        self.later.0 += other.later.0;
        self.later.1 += other.later.1;
    }

    /// Its mean error as a share of the fixed rule's: on joining, looking again.
    fn ratios(&self) -> (f64, f64) {
        let ratio = |(best, fixed): (f64, f64)| best / fixed.max(1e-9);
        (ratio(self.joining), ratio(self.later))
    }
}

async fn family(seeds: Option<&str>, timezone: &TimeZone) -> anyhow::Result<()> {
    let seeds = match seeds {
        None => scenario::HELD_OUT_SEEDS,
        Some(text) => parse_seeds(text)?,
    };
    let started = Instant::now();
    let first = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date");
    println!(
        "qline bench-eta --family · seeds {}-{} · each a clinic drawn at random, replayed day by day",
        seeds.start(),
        seeds.end()
    );
    println!(
        "{:>5} {:<72} {:>4} {:>6} {:>6} | {:>6} {:>6} {:>5} {:>5} {:>5} {:>5} | {:>6} {:>5} {:>5}",
        "seed",
        "clinic",
        "days",
        "visits",
        "seen",
        "qline",
        "fixed",
        "ratio",
        "best",
        "cover",
        "width",
        "again",
        "best",
        "cover"
    );
    let replays = futures::stream::iter(seeds.clone().map(|seed| async move {
        let scenario = Scenario::family(seed);
        let text = trace::write(&scenario.sessions, scenario.days, first, timezone, seed);
        let visits = trace::parse(&text, timezone.name())
            .map_err(|e| anyhow::anyhow!("seed {seed}: {e}"))?;
        let (shown, _, _) = replay_scratch(&visits, timezone).await?;
        let drawn = scenario.clone();
        let best = tokio::task::spawn_blocking(move || Best::of(&drawn, seed)).await?;
        anyhow::Ok(Row {
            seed,
            scenario,
            visits: visits.len(),
            scores: Scores::of(&shown),
            best,
        })
    }))
    .buffered(2);
    let mut replays = std::pin::pin!(replays);
    let mut rows = Vec::new();
    while let Some(row) = replays.next().await {
        let row = row?;
        let s = &row.scores;
        let (ratio, later_ratio) = s.ratios();
        let (best, later_best) = row.best.ratios();
        println!(
            "{:>5} {:<72} {:>4} {:>6} {:>6} | {:>6.1} {:>6.1} {:>5.2} {:>5.2} {:>5.2} {:>5.1} | {:>6.2} {:>5.2} {:>5.2}",
            row.seed,
            format!(
                "{}{}",
                if row.scenario.cold_start { "NEW " } else { "" },
                row.scenario.summary
            ),
            row.scenario.days,
            row.visits,
            s.joining.0.n,
            s.joining.0.mae(),
            s.joining.1.mae(),
            ratio,
            best,
            s.joining.0.coverage(),
            s.joining.0.width(),
            later_ratio,
            later_best,
            s.later.0.coverage()
        );
        rows.push(row);
    }
    println!(
        "(qline, fixed: MAE in minutes on joining; ratio: Qline's MAE ÷ the fixed rule's; best: \
         the same ratio for the best any estimate could do, a forecaster who knows all the day \
         drew but the visits to come; cover: real waits inside Qline's range; width: its mean \
         width; again: looking again a third and two thirds of the way through each wait; NEW: \
         a brand-new clinic)"
    );
    let pooled = |rows: &[&Row]| {
        let mut all = Scores::default();
        for row in rows {
            all.merge(&row.scores);
        }
        all
    };
    let summary = |name: &str, rows: &[&Row]| {
        let s = pooled(rows);
        let mut best = Best::default();
        for row in rows {
            best.merge(&row.best);
        }
        let ((ratio, later_ratio), (best, later_best)) = (s.ratios(), best.ratios());
        println!(
            "{name:<36} {:>2} clinics · ratio {:.2} (best {:.2}) · coverage {:.2} · width {:.1} min · looking again: ratio {:.2} (best {:.2}) · coverage {:.2}",
            rows.len(),
            ratio,
            best,
            s.joining.0.coverage(),
            s.joining.0.width(),
            later_ratio,
            later_best,
            s.later.0.coverage()
        );
    };
    let all: Vec<&Row> = rows.iter().collect();
    let mut by_ratio = all.clone();
    by_ratio.sort_by(|a, b| b.scores.ratios().0.total_cmp(&a.scores.ratios().0));
    let mut by_coverage = all.clone();
    by_coverage.sort_by(|a, b| {
        a.scores
            .joining
            .0
            .coverage()
            .total_cmp(&b.scores.joining.0.coverage())
    });
    let mut by_later = all.clone();
    by_later.sort_by(|a, b| {
        a.scores
            .later
            .0
            .coverage()
            .total_cmp(&b.scores.later.0.coverage())
    });
    let cold: Vec<&Row> = all
        .iter()
        .copied()
        .filter(|r| r.scenario.cold_start)
        .collect();
    let settled: Vec<&Row> = all
        .iter()
        .copied()
        .filter(|r| !r.scenario.cold_start)
        .collect();
    summary("all (every patient pooled)", &all);
    summary("clinics with history", &settled);
    summary("brand-new clinics (1-3 days)", &cold);
    summary("worst 5 by ratio", &by_ratio[..by_ratio.len().min(5)]);
    summary(
        "worst 5 by coverage",
        &by_coverage[..by_coverage.len().min(5)],
    );
    summary(
        "worst 5 by coverage looking again",
        &by_later[..by_later.len().min(5)],
    );
    println!("replayed in {:.0} s", started.elapsed().as_secs_f64());
    println!("{}", machine_line(&pooled(&all)));
    Ok(())
}

/// `FIRST-LAST` (or one seed).
fn parse_seeds(text: &str) -> anyhow::Result<RangeInclusive<u64>> {
    let bad = || anyhow::anyhow!("--seeds {text:?}: write FIRST-LAST, e.g. 1001-1030");
    let (first, last) = text.split_once('-').unwrap_or((text, text));
    let (first, last): (u64, u64) = (
        first.trim().parse().map_err(|_| bad())?,
        last.trim().parse().map_err(|_| bad())?,
    );
    if first > last {
        return Err(bad());
    }
    Ok(first..=last)
}

/// Replays on a scratch SQLite database of its own, deleted afterwards.
async fn replay_scratch(
    visits: &[Visit],
    timezone: &TimeZone,
) -> anyhow::Result<(Vec<Shown>, BTreeMap<String, usize>, f64)> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let scratch = std::env::temp_dir().join(format!(
        "qline-bench-eta-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&scratch)?;
    let url = format!("sqlite://{}/replay.db", scratch.display());
    let result = replay(&url, visits, timezone).await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Runs the trace through the engine; returns what each seen patient was shown, what
/// the engine refused (by reason) and the seconds it took.
async fn replay(
    url: &str,
    visits: &[Visit],
    timezone: &TimeZone,
) -> anyhow::Result<(Vec<Shown>, BTreeMap<String, usize>, f64)> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let first = visits
        .iter()
        .map(|v| v.arrival)
        .min()
        .unwrap_or(Timestamp(0));
    let clock = Clock::manual(first);
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    let names: std::collections::BTreeSet<&str> = visits.iter().map(|v| v.queue.as_str()).collect();
    let (staff, queues) = setup(&store, timezone, &names, first).await?;

    let steps = schedule(visits);

    let started = Instant::now();
    let mut tokens: Vec<Option<(TokenId, PublicId)>> = vec![None; visits.len()];
    let mut shown = Vec::new();
    // Whom each queue's desk is seeing, as the engine last answered.
    let mut serving: BTreeMap<QueueId, TokenId> = BTreeMap::new();
    let mut notes: BTreeMap<String, usize> = BTreeMap::new();
    let mut note = |e: EngineError| {
        *notes.entry(e.to_string()).or_default() += 1;
    };
    for (at, step) in steps {
        clock.set(at);
        match step {
            Step::Arrive(i) => {
                let v = &visits[i];
                let request = JoinRequest {
                    queue_id: queues[v.queue.as_str()],
                    name: format!("Patient {}", i + 1),
                    phone: None,
                    language: Language::En,
                    emergency: false,
                };
                let applied = match engine.create_token(Actor::Staff(&staff), request).await {
                    Ok(applied) => applied,
                    Err(e) => {
                        note(e);
                        continue;
                    }
                };
                let Some((id, public_id, _)) = applied.created else {
                    continue;
                };
                shown.extend(look(&engine, &public_id, &visits[i], at, true).await?);
                tokens[i] = Some((id, public_id));
            }
            Step::Look(i) => {
                if let Some((_, public_id)) = &tokens[i] {
                    shown.extend(look(&engine, public_id, &visits[i], at, false).await?);
                }
            }
            Step::Call(i) => {
                let Some((token, _)) = tokens[i] else {
                    continue;
                };
                let queue = queues[visits[i].queue.as_str()];
                let action = StaffAction::Call {
                    token,
                    expected_serving: serving.get(&queue).copied(),
                    room: None,
                };
                match engine.act(&staff, queue, action).await {
                    Ok(applied) => now_serving(&mut serving, &applied),
                    Err(e) => note(e),
                }
            }
            Step::End(i) => {
                let Some((token, public_id)) = tokens[i].clone() else {
                    continue;
                };
                let queue = queues[visits[i].queue.as_str()];
                let done = match visits[i].outcome {
                    Outcome::Served => {
                        let action = StaffAction::Served {
                            expected_serving: Some(token),
                        };
                        engine.act(&staff, queue, action).await
                    }
                    Outcome::NoShow => engine.act(&staff, queue, StaffAction::Skip { token }).await,
                    Outcome::Cancelled => engine.cancel_by_patient(&public_id, None).await,
                };
                match done {
                    Ok(applied) => now_serving(&mut serving, &applied),
                    Err(e) => note(e),
                }
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    store.close().await;

    Ok((shown, notes, elapsed))
}

/// What the tracker of a patient who was then seen shows at `now`, against the rest of
/// their wait; the fixed rule counts the patient in the room as one ahead.
async fn look(
    engine: &Engine,
    public_id: &PublicId,
    visit: &Visit,
    now: Timestamp,
    on_joining: bool,
) -> anyhow::Result<Option<Shown>> {
    let Some(start) = visit.start.filter(|_| visit.outcome == Outcome::Served) else {
        return Ok(None);
    };
    let view = engine.tracker(public_id).await?;
    let Some(qline) = view.eta else {
        return Ok(None);
    };
    let ahead = view.ahead + u32::from(view.now_serving.is_some());
    Ok(Some(Shown {
        on_joining,
        at: now,
        ahead,
        qline,
        fixed: (FIXED.0 * ahead, FIXED.1 * ahead),
        actual_minutes: (start.millis() - now.millis()) as f64 / 60_000.0,
    }))
}

/// Notes whom the queue's desk sees after an action.
fn now_serving(serving: &mut BTreeMap<QueueId, TokenId>, applied: &Applied) {
    match applied.day.serving() {
        Some(t) => serving.insert(applied.queue.id, t.id),
        None => serving.remove(&applied.queue.id),
    };
}

/// The replay's clinic: one queue per queue named in the trace, default visit length
/// unset (the clinic's 6–15 minutes), and an owner who works the desk.
async fn setup(
    store: &Store,
    timezone: &TimeZone,
    queue_names: &std::collections::BTreeSet<&str>,
    now: Timestamp,
) -> anyhow::Result<(StaffUser, BTreeMap<String, QueueId>)> {
    let names: Vec<&str> = queue_names.iter().copied().collect();
    let mut tx = store.begin().await?;
    let clinic = ScratchClinic {
        slug: "replay",
        name: "Replay Clinic",
        timezone,
        queues: &names,
        whatsapp: false,
    };
    let (id, queues) = clinic.insert(&mut tx, now).await?;
    let staff = insert_staff(&mut tx, id, "owner@replay.test", Role::Owner, "", now).await?;
    tx.commit().await?;
    let queues = names.iter().map(|n| (*n).to_owned()).zip(queues).collect();
    Ok((staff, queues))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> Timestamp {
        Timestamp(1_800_000_000_000 + minute * 60_000)
    }

    fn visit(arrival: i64, start: Option<i64>, end: Option<i64>, outcome: Outcome) -> Visit {
        Visit {
            queue: "G".into(),
            arrival: at(arrival),
            start: start.map(at),
            end: end.map(at),
            outcome,
        }
    }

    #[test]
    fn a_no_show_given_up_at_once_is_called_before_it_is_skipped() {
        let visits = [
            visit(0, Some(10), Some(20), Outcome::Served),
            // Called at 20 and given up the same minute.
            visit(5, Some(20), Some(20), Outcome::NoShow),
            visit(6, Some(20), Some(30), Outcome::Served),
            visit(20, None, None, Outcome::Cancelled),
        ];
        let at_20: Vec<Step> = schedule(&visits)
            .into_iter()
            .filter(|(t, _)| *t == at(20))
            .map(|(_, step)| step)
            .collect();
        assert_eq!(
            at_20,
            [
                Step::End(0),
                Step::Call(1),
                Step::End(1),
                Step::Call(2),
                Step::Arrive(3)
            ]
        );
    }

    #[test]
    fn a_trace_with_fewer_than_two_called_patients_says_there_is_not_enough_data() {
        for visits in [vec![], vec![visit(0, Some(5), Some(9), Outcome::Served)]] {
            let e = enough_data(&visits).unwrap_err().to_string();
            assert!(e.starts_with("not enough data"), "{e}");
        }
        let two = [
            visit(0, Some(5), Some(9), Outcome::Served),
            visit(1, Some(9), Some(12), Outcome::Served),
        ];
        assert!(enough_data(&two).is_ok());
    }
}
