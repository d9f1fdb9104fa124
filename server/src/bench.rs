//! `qline bench`: a load benchmark of the queue engine. It sets up many clinics, has
//! `--concurrency` desks work them at once (walk-ins, then NEXT through the day with
//! skips, recalls and undos), and prints mutations per second and latency percentiles.
//! A measurement, not a test: it asserts nothing and prints its numbers.

use clap::Args;
use qline_app::domain::*;
use qline_app::queue::engine::{Actor, Engine, EngineError, JoinRequest};
use qline_app::queue::rules::StaffAction;
use qline_app::queue::QueueError;
use qline_app::storage::{NewClinic, NewQueue, NewStaff, Store, Tx};
use qline_app::tenant::hash_password;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Clinics to spread the load over (one queue and one desk each).
    #[arg(long, default_value_t = 100)]
    pub clinics: usize,
    /// Walk-ins per clinic.
    #[arg(long, default_value_t = 30)]
    pub patients: usize,
    /// Desks working at the same time (concurrent tasks).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
}

type Samples = Arc<Mutex<BTreeMap<&'static str, Vec<Duration>>>>;

pub async fn run(url: &str, args: BenchArgs) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let desks = setup(&store, args.clinics).await?;
    let engine = Engine::new(store.clone());
    let samples: Samples = Default::default();

    let started = Instant::now();
    let next_clinic = Arc::new(AtomicUsize::new(0));
    let desks = Arc::new(desks);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (engine, desks, next_clinic, samples) = (
            engine.clone(),
            desks.clone(),
            next_clinic.clone(),
            samples.clone(),
        );
        let patients = args.patients;
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next_clinic.fetch_add(1, Ordering::Relaxed);
                let Some((staff, queue)) = desks.get(i) else {
                    return Ok::<_, EngineError>(());
                };
                work_one_clinic(&engine, staff, *queue, patients, &samples).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let elapsed = started.elapsed();

    let samples = samples.lock().expect("samples lock");
    let total: usize = samples.values().map(Vec::len).sum();
    println!(
        "qline bench · backend {} · {} clinics × {} walk-ins · {} concurrent desks",
        store.backend(),
        args.clinics,
        args.patients,
        args.concurrency
    );
    println!(
        "{total} mutations in {:.2} s = {:.0} mutations/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{:<10} {:>7} {:>9} {:>9} {:>9}",
        "action", "count", "p50 ms", "p99 ms", "max ms"
    );
    for (action, durations) in samples.iter() {
        let mut d = durations.clone();
        d.sort();
        println!(
            "{action:<10} {:>7} {:>9.2} {:>9.2} {:>9.2}",
            d.len(),
            ms(percentile(&d, 0.50)),
            ms(percentile(&d, 0.99)),
            ms(d.last().copied().unwrap_or_default())
        );
    }
    store.close().await;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Creates the bench clinics, each with one queue and one receptionist.
async fn setup(store: &Store, clinics: usize) -> anyhow::Result<Vec<(StaffUser, QueueId)>> {
    let run = tenant_run_id();
    let hash = hash_password("bench-password")?;
    let now = Timestamp::now();
    let mut desks = Vec::with_capacity(clinics);
    let kolkata = TimeZone::from_zone(chrono_tz::Asia::Kolkata);
    let mut tx = store.begin().await?;
    for i in 0..clinics {
        let clinic = ScratchClinic {
            slug: &format!("bench-{run}-{i}"),
            name: &format!("Bench Clinic {i}"),
            timezone: &kolkata,
            queues: &["General"],
            whatsapp: false,
        };
        let (id, queues) = clinic.insert(&mut tx, now).await?;
        let desk = &format!("desk-{i}@bench-{run}.test");
        let staff = insert_staff(&mut tx, id, desk, Role::Receptionist, &hash, now).await?;
        desks.push((staff, queues[0]));
    }
    tx.commit().await?;
    Ok(desks)
}

/// A clinic a benchmark works in: active, without a daily token limit worth the name,
/// each queue's prefix the first letter of its name, visits of the clinic's default
/// length.
pub(crate) struct ScratchClinic<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub timezone: &'a TimeZone,
    pub queues: &'a [&'a str],
    /// Sends its patients WhatsApp messages (once a provider is connected).
    pub whatsapp: bool,
}

impl ScratchClinic<'_> {
    /// Writes the clinic and its queues; returns its id and the queues' ids in order.
    pub async fn insert(
        &self,
        tx: &mut Tx,
        now: Timestamp,
    ) -> anyhow::Result<(ClinicId, Vec<QueueId>)> {
        let clinic = NewClinic {
            slug: Slug::parse(self.slug)?,
            name: self.name.into(),
            address: String::new(),
            contact_phone: String::new(),
            timezone: self.timezone.clone(),
            status: ClinicStatus::Active,
            settings: ClinicSettings {
                daily_token_limit: 100_000,
                whatsapp_enabled: self.whatsapp,
                ..Default::default()
            },
        };
        let id = tx.insert_clinic(&clinic, now).await?;
        let mut queues = Vec::with_capacity(self.queues.len());
        for (position, name) in self.queues.iter().enumerate() {
            let prefix = name.chars().next().unwrap_or('A').to_ascii_uppercase();
            let queue = NewQueue {
                name: (*name).to_owned(),
                prefix: prefix.to_string(),
                default_service_minutes: None,
                position: position as i64,
                rooms: Vec::new(),
                hours: Default::default(),
            };
            queues.push(tx.insert_queue(id, &queue, now).await?);
        }
        Ok((id, queues))
    }
}

/// Writes an active staff account at `clinic` and returns it.
pub(crate) async fn insert_staff(
    tx: &mut Tx,
    clinic: ClinicId,
    email: &str,
    role: Role,
    password_hash: &str,
    now: Timestamp,
) -> anyhow::Result<StaffUser> {
    let staff = NewStaff {
        clinic: Some(clinic),
        email: email.to_owned(),
        password_hash: password_hash.to_owned(),
        role,
    };
    let id = tx.insert_staff(&staff, now).await?;
    Ok(StaffUser {
        id,
        clinic_id: Some(clinic),
        email: email.to_owned(),
        role,
        active: true,
        must_change_password: false,
    })
}

fn tenant_run_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..6)
        .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
        .collect()
}

/// One desk's day: the walk-ins arrive, then the desk calls them all, skipping every
/// fifth (and recalling them), undoing every seventh call.
async fn work_one_clinic(
    engine: &Engine,
    staff: &StaffUser,
    queue: QueueId,
    patients: usize,
    samples: &Samples,
) -> Result<(), EngineError> {
    let timed = |name: &'static str, started: Instant| {
        samples
            .lock()
            .expect("samples lock")
            .entry(name)
            .or_default()
            .push(started.elapsed());
    };
    for p in 0..patients {
        let t = Instant::now();
        let req = JoinRequest {
            queue_id: queue,
            name: format!("Patient {p}"),
            phone: None,
            language: Language::En,
            emergency: false,
        };
        engine.create_token(Actor::Staff(staff), req).await?;
        timed("CREATE", t);
    }
    let mut serving: Option<TokenId> = None;
    let mut calls = 0usize;
    loop {
        let t = Instant::now();
        let applied = match engine
            .act(
                staff,
                queue,
                StaffAction::Next {
                    expected_serving: serving,
                    room: None,
                },
            )
            .await
        {
            Ok(a) => a,
            Err(EngineError::Refused(QueueError::NobodyWaiting)) => return Ok(()),
            Err(e) => return Err(e),
        };
        timed("NEXT", t);
        calls += 1;
        serving = applied.day.serving().map(|s| s.id);
        let Some(current) = serving else { continue };
        if calls % 5 == 0 {
            let t = Instant::now();
            engine
                .act(staff, queue, StaffAction::Skip { token: current })
                .await?;
            timed("SKIP", t);
            let t = Instant::now();
            engine
                .act(staff, queue, StaffAction::Recall { token: current })
                .await?;
            timed("RECALL", t);
            serving = None;
        } else if calls % 7 == 0 {
            let t = Instant::now();
            let undone = engine.undo(staff, queue).await?;
            timed("UNDO", t);
            serving = undone.day.serving().map(|s| s.id);
        }
    }
}
