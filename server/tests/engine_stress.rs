//! Many desks and patients hammering queue days at once, on SQLite and PostgreSQL.
//! Afterwards the database must tell one consistent story: at most one SERVING per day,
//! numbers contiguous from 1, nobody served twice, and one audit row per action that
//! succeeded, which replayed in order reproduces exactly what is stored.

mod support;

use qline_app::domain::*;
use qline_app::queue::engine::{Actor, Engine, EngineError, JoinRequest};
use qline_app::queue::rules::{Changes, StaffAction, TokenState};
use qline_app::storage::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

on_both_backends!(
    sixteen_desks_on_one_queue_day,
    sixteen_desks_across_fifty_queue_days
);

const TASKS: usize = 16;

async fn sixteen_desks_on_one_queue_day(store: Store) {
    let clinic = support::clinic(&store, "stress-one", roomy()).await;
    run(&store, vec![(clinic.desk.clone(), clinic.general)], 40).await;
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

/// Each task does `ops` random actions on random queues, acting on what it last saw
/// (often stale: that is the point), and counts what succeeded.
async fn run(store: &Store, desks: Vec<(StaffUser, QueueId)>, ops: usize) {
    let engine = Engine::new(store.clone());
    let desks = Arc::new(desks);
    let succeeded = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (engine, desks, succeeded) = (engine.clone(), desks.clone(), succeeded.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(task as u64);
            for op in 0..ops {
                let (staff, queue) = &desks[rng.random_range(0..desks.len())];
                let outcome =
                    random_action(&engine, staff, *queue, &mut rng, task * 1000 + op).await;
                match outcome {
                    Ok(()) => {
                        succeeded.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(EngineError::Refused(_)) => {}
                    Err(EngineError::Storage(e)) => panic!("storage failed under load: {e}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }

    let mut audit_rows = 0;
    let mut days = Vec::new();
    for (staff, queue) in desks.iter() {
        days.extend(engine.today(staff, *queue).await.unwrap().map(|(id, _)| id));
    }
    days.sort();
    days.dedup();
    for day in days {
        audit_rows += check_day(store, day).await;
    }
    assert_eq!(
        audit_rows,
        succeeded.load(Ordering::Relaxed) as i64,
        "one audit row per successful action"
    );
}

async fn random_action(
    engine: &Engine,
    staff: &StaffUser,
    queue: QueueId,
    rng: &mut StdRng,
    n: usize,
) -> Result<(), EngineError> {
    let roll = rng.random_range(0..100);
    if roll < 30 {
        let req = JoinRequest {
            queue_id: queue,
            name: format!("Patient {n}"),
            phone: None,
            language: Language::En,
            emergency: roll < 3,
        };
        return engine
            .create_token(Actor::Staff(staff), req)
            .await
            .map(drop);
    }
    // Look at the day as a desk would, then act on that (possibly stale) view.
    let Some((_, day)) = engine.today(staff, queue).await? else {
        return engine
            .act(
                staff,
                queue,
                StaffAction::Next {
                    expected_serving: None,
                },
            )
            .await
            .map(drop);
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
        },
        60..=71 => match pick(rng, TokenStatus::Waiting).or(serving) {
            Some(token) => StaffAction::Skip { token },
            None => StaffAction::Next {
                expected_serving: serving,
            },
        },
        72..=83 => match pick(rng, TokenStatus::Skipped) {
            Some(token) => StaffAction::Recall { token },
            None => StaffAction::Next {
                expected_serving: serving,
            },
        },
        _ => return engine.undo(staff, queue).await.map(drop),
    };
    engine.act(staff, queue, action).await.map(drop)
}

/// Checks one day's invariants and returns how many audit rows it has.
async fn check_day(store: &Store, day: QueueDayId) -> i64 {
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
                replayed.get(&ch.token).copied(),
                ch.before,
                "day {day}, audit {}: a lost update",
                row.id
            );
            replayed.insert(ch.token, ch.after);
            let was_served = ch.before.map(|b| b.status) == Some(TokenStatus::Served);
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
    audit.len() as i64
}
