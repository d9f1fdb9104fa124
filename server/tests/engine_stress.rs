//! Many desks and patients hammering queue days at once, on SQLite and PostgreSQL.
//! Afterwards the database must tell one consistent story: at most one SERVING per day,
//! numbers contiguous from 1, nobody served twice, and one audit row per action that
//! succeeded, which replayed in order reproduces exactly what is stored. The actions must
//! also have happened: every join is accepted, at least half of all actions apply, each
//! kind of desk action applies (on the busy single day, RECALL too, ten times or more), and
//! the stored tokens and audit rows of each action match the tally of accepted actions, so
//! a build that refuses everything (and so trivially keeps the invariants) fails.

mod support;

use qline_app::domain::*;
use qline_app::queue::engine::{Actor, Engine, EngineError, JoinRequest};
use qline_app::queue::rules::{Changes, StaffAction, TokenState};
use qline_app::queue::QueueError;
use qline_app::storage::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::Arc;

on_both_backends!(
    sixteen_desks_on_one_queue_day,
    sixteen_desks_across_fifty_queue_days,
    one_phone_joining_both_queues_at_once_gets_one_token,
    the_clinics_daily_limit_holds_when_both_queues_fill_at_once,
);

const TASKS: usize = 16;

async fn sixteen_desks_on_one_queue_day(store: Store) {
    let clinic = support::clinic(&store, "stress-one", roomy()).await;
    let tally = run(&store, vec![(clinic.desk.clone(), clinic.general)], 40).await;
    // On one busy day every kind of action, RECALL included, applies many times.
    for kind in KINDS {
        assert!(
            tally.applied(kind) >= 10,
            "{kind:?} applied only {} times: {tally:?}",
            tally.applied(kind)
        );
    }
}

async fn sixteen_desks_across_fifty_queue_days(store: Store) {
    let mut desks = Vec::new();
    for i in 0..25 {
        let c = support::clinic(&store, &format!("stress-{i}"), roomy()).await;
        desks.push((c.desk.clone(), c.general));
        desks.push((c.desk2.clone(), c.dental));
    }
    run(&store, desks, 25).await;
}

fn roomy() -> ClinicSettings {
    ClinicSettings {
        daily_token_limit: 100_000,
        ..Default::default()
    }
}

/// What a random action was, for the tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Create,
    Next,
    Skip,
    Recall,
    Undo,
}

const KINDS: [Kind; 5] = [
    Kind::Create,
    Kind::Next,
    Kind::Skip,
    Kind::Recall,
    Kind::Undo,
];

impl Kind {
    /// The audit actions an applied action of this kind writes.
    fn audit_actions(self) -> &'static [&'static str] {
        match self {
            Kind::Create => &["ADD_TOKEN", "ADD_EMERGENCY"],
            Kind::Next => &["NEXT"],
            Kind::Skip => &["SKIP"],
            Kind::Recall => &["RECALL"],
            Kind::Undo => &["UNDO"],
        }
    }
}

/// How many actions of each kind (indexed as `KINDS`) were tried and how many applied.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    tried: [usize; KINDS.len()],
    applied: [usize; KINDS.len()],
}

impl Tally {
    fn index(kind: Kind) -> usize {
        KINDS.iter().position(|k| *k == kind).unwrap()
    }
    fn tried(&self, kind: Kind) -> usize {
        self.tried[Self::index(kind)]
    }
    fn applied(&self, kind: Kind) -> usize {
        self.applied[Self::index(kind)]
    }
    fn add(&mut self, other: &Tally) {
        for i in 0..KINDS.len() {
            self.tried[i] += other.tried[i];
            self.applied[i] += other.applied[i];
        }
    }
}

/// What the stored days hold, summed over days.
#[derive(Debug, Default)]
struct Stored {
    audit_rows: i64,
    tokens: usize,
    /// Audit rows per action name.
    actions: HashMap<String, usize>,
}

/// Each task does `ops` random actions on random queues, acting on what it last saw
/// (often stale: that is the point), and counts what succeeded.
async fn run(store: &Store, desks: Vec<(StaffUser, QueueId)>, ops: usize) -> Tally {
    let engine = Engine::new(store.clone());
    let desks = Arc::new(desks);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (engine, desks) = (engine.clone(), desks.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(task as u64);
            let mut tally = Tally::default();
            for op in 0..ops {
                let (staff, queue) = &desks[rng.random_range(0..desks.len())];
                let (kind, outcome) =
                    random_action(&engine, staff, *queue, &mut rng, task * 1000 + op).await;
                tally.tried[Tally::index(kind)] += 1;
                match outcome {
                    Ok(()) => {
                        tally.applied[Tally::index(kind)] += 1;
                    }
                    Err(EngineError::Refused(_)) => {}
                    Err(EngineError::Storage(e)) => panic!("storage failed under load: {e}"),
                }
            }
            tally
        }));
    }
    let mut tally = Tally::default();
    for t in tasks {
        tally.add(&t.await.expect("task"));
    }
    let succeeded: usize = tally.applied.iter().sum();
    let total = TASKS * ops;

    let mut stored = Stored::default();
    let mut days = Vec::new();
    for (staff, queue) in desks.iter() {
        days.extend(engine.today(staff, *queue).await.unwrap().map(|(id, _)| id));
    }
    days.sort();
    days.dedup();
    for day in days {
        check_day(store, day, &mut stored).await;
    }
    assert_eq!(
        stored.audit_rows, succeeded as i64,
        "one audit row per successful action"
    );

    println!(
        "{} ({} desks, {total} actions): {succeeded} applied; {}",
        store.backend(),
        desks.len(),
        KINDS
            .iter()
            .map(|k| format!("{k:?} {}/{}", tally.applied(*k), tally.tried(*k)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The load did happen: nothing here is refused wholesale.
    assert_eq!(tally.tried.iter().sum::<usize>(), total, "{tally:?}");
    assert!(
        succeeded * 2 >= total,
        "only {succeeded} of {total} actions applied: {tally:?}"
    );
    // Joins are never refused here (the clinics' limit is far away).
    assert!(tally.tried(Kind::Create) > 0, "{tally:?}");
    assert_eq!(
        tally.applied(Kind::Create),
        tally.tried(Kind::Create),
        "every join is accepted: {tally:?}"
    );
    // Every kind of desk action was applied (RECALL needs a skipped patient on the queue
    // the desk picks, too rare across fifty days to count on). NEXT is refused when
    // nobody waits or the desk's view is stale, but not almost always.
    for kind in [Kind::Next, Kind::Skip, Kind::Undo] {
        assert!(
            tally.applied(kind) > 0,
            "{kind:?} never applied ({} tried): {tally:?}",
            tally.tried(kind)
        );
    }
    assert!(
        tally.applied(Kind::Next) * 10 >= tally.tried(Kind::Next),
        "NEXT applied too rarely: {tally:?}"
    );

    // What is stored is exactly what was accepted: one token per join, one audit row of
    // the right kind per applied action.
    assert_eq!(
        stored.tokens,
        tally.applied(Kind::Create),
        "one stored token per accepted join"
    );
    for kind in KINDS {
        let rows: usize = kind
            .audit_actions()
            .iter()
            .map(|a| stored.actions.get(*a).copied().unwrap_or(0))
            .sum();
        assert_eq!(
            rows,
            tally.applied(kind),
            "{kind:?}: audit rows {:?} vs applied",
            stored.actions
        );
    }
    assert_eq!(
        stored.actions.values().sum::<usize>() as i64,
        stored.audit_rows,
        "no audit row of an action nobody took: {:?}",
        stored.actions
    );
    tally
}

async fn random_action(
    engine: &Engine,
    staff: &StaffUser,
    queue: QueueId,
    rng: &mut StdRng,
    n: usize,
) -> (Kind, Result<(), EngineError>) {
    let roll = rng.random_range(0..100);
    if roll < 30 {
        let req = JoinRequest {
            queue_id: queue,
            name: format!("Patient {n}"),
            phone: None,
            language: Language::En,
            emergency: roll < 3,
        };
        let created = engine.create_token(Actor::Staff(staff), req).await;
        return (Kind::Create, created.map(drop));
    }
    // Look at the day as a desk would, then act on that (possibly stale) view.
    let today = match engine.today(staff, queue).await {
        Ok(today) => today,
        Err(e) => return (Kind::Next, Err(e)),
    };
    let Some((_, day)) = today else {
        let next = StaffAction::Next {
            expected_serving: None,
            room: None,
        };
        return (Kind::Next, engine.act(staff, queue, next).await.map(drop));
    };
    let serving = day.serving().map(|t| t.id);
    let pick = |rng: &mut StdRng, status: TokenStatus| {
        let candidates: Vec<TokenId> = day
            .tokens
            .iter()
            .filter(|t| t.state.status == status)
            .map(|t| t.id)
            .collect();
        (!candidates.is_empty()).then(|| candidates[rng.random_range(0..candidates.len())])
    };
    let action = match roll {
        30..=59 => StaffAction::Next {
            expected_serving: serving,
            room: None,
        },
        60..=71 => match pick(rng, TokenStatus::Waiting).or(serving) {
            Some(token) => StaffAction::Skip { token },
            None => StaffAction::Next {
                expected_serving: serving,
                room: None,
            },
        },
        72..=83 => match pick(rng, TokenStatus::Skipped) {
            Some(token) => StaffAction::Recall { token },
            None => StaffAction::Next {
                expected_serving: serving,
                room: None,
            },
        },
        _ => return (Kind::Undo, engine.undo(staff, queue).await.map(drop)),
    };
    let kind = match action {
        StaffAction::Next { .. } => Kind::Next,
        StaffAction::Skip { .. } => Kind::Skip,
        StaffAction::Recall { .. } => Kind::Recall,
        other => unreachable!("not a stress action: {other:?}"),
    };
    (kind, engine.act(staff, queue, action).await.map(drop))
}

/// Checks one day's invariants and adds its tokens and audit rows to `stored`.
async fn check_day(store: &Store, day: QueueDayId, stored: &mut Stored) {
    let tokens = store.day_tokens(day).await.unwrap();
    let audit = store.day_audit(day).await.unwrap();

    let serving = tokens
        .iter()
        .filter(|t| t.state.status == TokenStatus::Serving)
        .count();
    assert!(serving <= 1, "day {day}: {serving} tokens SERVING");
    let numbers: Vec<u32> = tokens.iter().map(|t| t.number.0).collect();
    assert_eq!(
        numbers,
        (1..=tokens.len() as u32).collect::<Vec<_>>(),
        "day {day}: numbers contiguous from 1"
    );

    // Replay the audit log: every change must start from the state the previous one left.
    let mut replayed: HashMap<TokenId, TokenState> = HashMap::new();
    let mut served_net: HashMap<TokenId, i32> = HashMap::new();
    for row in &audit {
        let changes: Changes = serde_json::from_str(&row.detail).expect("audit detail");
        for ch in &changes.tokens {
            assert_eq!(
                replayed.get(&ch.token),
                ch.before.as_ref(),
                "day {day}, audit {}: a lost update",
                row.id
            );
            replayed.insert(ch.token, ch.after.clone());
            let was_served = ch.before.as_ref().map(|b| b.status) == Some(TokenStatus::Served);
            let now_served = ch.after.status == TokenStatus::Served;
            *served_net.entry(ch.token).or_default() +=
                i32::from(now_served) - i32::from(was_served);
        }
    }
    for t in &tokens {
        assert_eq!(
            replayed.get(&t.id),
            Some(&t.state),
            "day {day}: token {} matches its audit history",
            t.number
        );
    }
    assert!(
        served_net.values().all(|n| (0..=1).contains(n)),
        "day {day}: nobody served twice"
    );
    stored.audit_rows += audit.len() as i64;
    stored.tokens += tokens.len();
    for row in &audit {
        *stored.actions.entry(row.action.clone()).or_default() += 1;
    }
}

/// How many clinics each limit story is told on: a race a round may miss, five rarely do.
const ROUNDS: usize = 5;

/// A patient scans the poster twice over, on both queues at once: twenty joins of one
/// phone arrive together, half for each queue. The phone's limit is per clinic and day,
/// so exactly one is accepted and every other is told the phone already has its token.
async fn one_phone_joining_both_queues_at_once_gets_one_token(store: Store) {
    let settings = ClinicSettings {
        max_tokens_per_phone_per_day: 1,
        ..Default::default()
    };
    for round in 0..ROUNDS {
        let c = support::clinic(&store, &format!("one-phone-{round}"), settings.clone()).await;
        let outcomes = joins_at_once(&store, &c, 20, |_| "98123 45678".to_owned()).await;
        let refusals = refusals(&outcomes, 1);
        assert!(
            refusals
                .iter()
                .all(|e| *e == QueueError::PhoneLimitReached { limit: 1 }),
            "{refusals:?}"
        );
        assert_eq!(tokens_today(&store, &c).await, 1);
    }
}

/// Twenty patients join the clinic's two queues at the same moment with five places left
/// in the clinic's day: five are accepted, fifteen told the clinic is full.
async fn the_clinics_daily_limit_holds_when_both_queues_fill_at_once(store: Store) {
    let settings = ClinicSettings {
        daily_token_limit: 5,
        ..Default::default()
    };
    for round in 0..ROUNDS {
        let c = support::clinic(&store, &format!("full-day-{round}"), settings.clone()).await;
        let outcomes = joins_at_once(&store, &c, 20, |i| format!("98123 456{i:02}")).await;
        let refusals = refusals(&outcomes, 5);
        assert!(
            refusals
                .iter()
                .all(|e| *e == QueueError::DailyLimitReached { limit: 5 }),
            "{refusals:?}"
        );
        assert_eq!(tokens_today(&store, &c).await, 5);
    }
}

/// `n` patients (each from a network of their own) join at once, alternating between the
/// clinic's two queues; what each was answered.
async fn joins_at_once(
    store: &Store,
    c: &support::Clinic,
    n: usize,
    phone: impl Fn(usize) -> String,
) -> Vec<Result<(), EngineError>> {
    let engine = Engine::new(store.clone());
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let (engine, start) = (engine.clone(), start.clone());
        let req = JoinRequest {
            queue_id: if i % 2 == 0 { c.general } else { c.dental },
            name: format!("Patient {i}"),
            phone: Some(phone(i)),
            language: Language::En,
            emergency: false,
        };
        let actor = Actor::Patient {
            ip: Some(format!("10.0.0.{i}")),
        };
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            engine.create_token(actor, req).await.map(drop)
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("join task"));
    }
    outcomes
}

/// The refusals among `outcomes`, having checked that exactly `accepted` joins were.
fn refusals(outcomes: &[Result<(), EngineError>], accepted: usize) -> Vec<QueueError> {
    let mut refused = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(()) => {}
            Err(EngineError::Refused(e)) => refused.push(e.clone()),
            Err(EngineError::Storage(e)) => panic!("storage failed under load: {e}"),
        }
    }
    assert_eq!(
        outcomes.len() - refused.len(),
        accepted,
        "accepted joins; refused: {refused:?}"
    );
    refused
}

/// The tokens stored today across the clinic's two queues.
async fn tokens_today(store: &Store, c: &support::Clinic) -> usize {
    let engine = Engine::new(store.clone());
    let mut tokens = 0;
    for queue in [c.general, c.dental] {
        if let Some((day, _)) = engine.today(&c.desk, queue).await.unwrap() {
            tokens += store.day_tokens(day).await.unwrap().len();
        }
    }
    tokens
}
