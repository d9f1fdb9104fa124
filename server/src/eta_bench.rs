//! `qline bench-eta --trace FILE.csv`: replays recorded (or generated) clinic days
//! through the real queue engine on a scratch database, with the engine's clock set to
//! each moment of the trace, and compares the wait each patient was shown on joining
//! with the wait they really had: Qline's estimator against the fixed rule of 6–15
//! minutes per patient ahead. A measurement: it prints its numbers and asserts nothing.

use crate::bench::{insert_staff, ScratchClinic};
use crate::trace::{self, Outcome, Visit};
use clap::Args;
use qline_app::domain::*;
use qline_app::queue::engine::{Actor, Engine, EngineError, JoinRequest};
use qline_app::queue::rules::StaffAction;
use qline_app::storage::{Applied, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct BenchEtaArgs {
    /// The trace: CSV with the columns queue,arrival,service_start,service_end,outcome
    /// (see docs/ETA.md; `qline gen-trace` makes synthetic ones).
    #[arg(long, value_name = "FILE")]
    pub trace: PathBuf,
    /// The clinic's timezone: it places times written without an offset and gives the
    /// local hours the estimator learns by.
    #[arg(long, default_value = "Asia/Kolkata")]
    pub timezone: String,
}

/// The fixed rule clinics use without Qline: 6 to 15 minutes for each patient ahead.
const FIXED: (u32, u32) = (6, 15);

/// What happens at one moment of the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    End(usize),
    Call(usize),
    Arrive(usize),
}

/// Every visit's steps in the order a desk lives them. At the same moment, visits that
/// began earlier end first, then patients are called, each called patient's own end
/// right after their call when it is at the same moment (a no-show given up at once),
/// and arrivals come last.
fn schedule(visits: &[Visit]) -> Vec<(Timestamp, Step)> {
    let mut steps: Vec<((Timestamp, u8, usize, u8), Step)> = Vec::new();
    for (i, v) in visits.iter().enumerate() {
        steps.push(((v.arrival, 2, i, 0), Step::Arrive(i)));
        if let Some(start) = v.start {
            steps.push(((start, 1, i, 0), Step::Call(i)));
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

/// One estimate shown on joining, and the wait that followed.
struct Shown {
    qline: (u32, u32),
    fixed: (u32, u32),
    actual_minutes: f64,
}

#[derive(Default)]
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

    fn mae(&self) -> f64 {
        self.abs_error / self.n.max(1) as f64
    }

    fn share(&self, count: usize) -> f64 {
        count as f64 / self.n.max(1) as f64
    }

    fn width(&self) -> f64 {
        self.width / self.n.max(1) as f64
    }
}

pub async fn run(args: BenchEtaArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.trace)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.trace.display()))?;
    let visits = trace::parse(&text, &args.timezone)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.trace.display()))?;
    enough_data(&visits).map_err(|e| anyhow::anyhow!("{}: {e}", args.trace.display()))?;
    let scratch = std::env::temp_dir().join(format!("qline-bench-eta-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let url = format!("sqlite://{}/replay.db", scratch.display());
    let timezone = TimeZone::parse(&args.timezone)?;
    let result = replay(&url, &visits, &timezone).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let (shown, notes, elapsed) = result?;

    let (mut qline, mut fixed) = (Score::default(), Score::default());
    for s in &shown {
        qline.add(s.qline, s.actual_minutes);
        fixed.add(s.fixed, s.actual_minutes);
    }
    let days: std::collections::BTreeSet<String> = visits
        .iter()
        .map(|v| v.arrival.local(&timezone).date().to_string())
        .collect();
    println!(
        "qline bench-eta · {} · {} visits over {} days · {} patients seen · replayed in {:.1} s",
        args.trace.display(),
        visits.len(),
        days.len(),
        shown.len(),
        elapsed
    );
    println!(
        "{:<22} {:>9} {:>9} {:>11} {:>15} {:>12}",
        "estimate", "MAE min", "coverage", "width min", "under-promise", "late"
    );
    for (name, s) in [("qline", &qline), ("fixed 6-15 min/patient", &fixed)] {
        println!(
            "{name:<22} {:>9.1} {:>9.2} {:>11.1} {:>15.2} {:>12.2}",
            s.mae(),
            s.share(s.inside),
            s.width(),
            s.share(s.under),
            s.share(s.late)
        );
    }
    println!(
        "(MAE: the range's midpoint against the real wait; coverage: real waits inside the range; \
         under-promise: called no later than the midpoint; late: called after the range)"
    );
    for (note, count) in notes {
        println!("replay note: {count} × {note}");
    }
    println!(
        "eta: qline_mae={:.2} fixed_mae={:.2} coverage={:.3} width={:.1}",
        qline.mae(),
        fixed.mae(),
        qline.share(qline.inside),
        qline.width()
    );
    Ok(())
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
    let mut shown_at_join: Vec<Option<((u32, u32), (u32, u32))>> = vec![None; visits.len()];
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
                let view = engine.tracker(&public_id).await?;
                let ahead = view.ahead + u32::from(view.now_serving.is_some());
                shown_at_join[i] = Some((
                    view.eta.unwrap_or((0, 0)),
                    (FIXED.0 * ahead, FIXED.1 * ahead),
                ));
                tokens[i] = Some((id, public_id));
            }
            Step::Call(i) => {
                let Some((token, _)) = tokens[i] else {
                    continue;
                };
                let queue = queues[visits[i].queue.as_str()];
                let action = StaffAction::Call {
                    token,
                    expected_serving: serving.get(&queue).copied(),
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

    let shown = visits
        .iter()
        .zip(shown_at_join)
        .filter(|(v, _)| v.outcome == Outcome::Served)
        .filter_map(|(v, shown)| {
            let (qline, fixed) = shown?;
            let start = v.start?;
            Some(Shown {
                qline,
                fixed,
                actual_minutes: (start.millis() - v.arrival.millis()) as f64 / 60_000.0,
            })
        })
        .collect();
    Ok((shown, notes, elapsed))
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
