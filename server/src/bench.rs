//! `qline bench`: a load benchmark of the queue engine. It sets up many clinics, has
//! `--concurrency` desks work them at once (walk-ins, then NEXT through the day with
//! skips, recalls and undos), and prints mutations per second and latency percentiles.
//! By default each desk acts again the moment its last action is answered (the most the
//! engine can do); with `--rate` the desks together offer that many actions a second,
//! and each action is timed from when it was due, so one waiting behind another counts.
//! A measurement, not a test: it asserts nothing and prints its numbers.

use clap::Args;
use qline_app::domain::*;
use qline_app::queue::engine::{Actor, Engine, EngineError, JoinRequest};
use qline_app::queue::rules::StaffAction;
use qline_app::queue::QueueError;
use qline_app::storage::{NewClinic, NewQueue, NewStaff, Store, Tx};
use qline_app::tenant::hash_password;
use std::collections::BTreeMap;
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
    /// Actions a second the desks offer together, each timed from when it was due
    /// (default: as many as the engine answers, each desk acting again at once).
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
}

type Samples = Arc<Mutex<BTreeMap<&'static str, Vec<Duration>>>>;

pub async fn run(url: &str, args: BenchArgs) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let concurrency = args.concurrency.max(1);
    // One clinic a desk to warm up on first (connections opened, statements prepared,
    // queues placed), untimed, so that the figures are of a server that has been running.
    let mut desks = setup(&store, concurrency + args.clinics).await?;
    let measured = desks.split_off(concurrency);
    let engine = Engine::new(store.clone());
    work(&engine, desks, concurrency, args.patients, None).await?;
    let (samples, elapsed) = work(&engine, measured, concurrency, args.patients, args.rate).await?;

    let samples = samples.lock().expect("samples lock");
    let total: usize = samples.values().map(Vec::len).sum();
    let offered = match args.rate {
        Some(rate) => format!(" · {rate:.0} actions/s offered"),
        None => String::new(),
    };
    println!(
        "qline bench · backend {} · {} clinics × {} walk-ins · {} concurrent desks{offered} (after one clinic each to warm up)",
        store.backend(),
        args.clinics,
        args.patients,
        concurrency
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

/// `concurrency` desks working `desks`' clinics (each desk every `concurrency`-th one), flat
/// out or offering `rate` actions a second between them: each action's latency by name,
/// and how long they all took.
async fn work(
    engine: &Engine,
    desks: Vec<(StaffUser, QueueId)>,
    concurrency: usize,
    patients: usize,
    rate: Option<f64>,
) -> anyhow::Result<(Samples, Duration)> {
    let samples: Samples = Default::default();
    let started = Instant::now();
    let desks = Arc::new(desks);
    let mut tasks = Vec::new();
    for desk in 0..concurrency {
        // Each desk offers its share of the rate, so that all finish together and the
        // load holds to the end.
        let mine: Vec<usize> = (desk..desks.len()).step_by(concurrency).collect();
        let share = rate.map(|r| r * mine.len() as f64 / desks.len().max(1) as f64);
        let mut schedule = Schedule::new(share, desk, concurrency, started);
        let (engine, desks, samples) = (engine.clone(), desks.clone(), samples.clone());
        tasks.push(tokio::spawn(async move {
            for i in mine {
                let (staff, queue) = &desks[i];
                work_one_clinic(&engine, staff, *queue, patients, &samples, &mut schedule).await?;
            }
            Ok::<_, EngineError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok((samples, started.elapsed()))
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

/// When a desk's next action is due: at once (the default), or every `1 / rate` seconds
/// from the start (`rate`: this desk's actions a second), the desks' first turns spread
/// evenly over that interval.
struct Schedule {
    every: Option<Duration>,
    due: Instant,
}

impl Schedule {
    fn new(rate: Option<f64>, desk: usize, desks: usize, start: Instant) -> Self {
        let every = rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        let offset = every.map_or(Duration::ZERO, |e| e * desk as u32 / desks as u32);
        Self {
            every,
            due: start + offset,
        }
    }

    /// Waits until the next action is due and returns when it was due, which is what
    /// its latency is measured from (an action due while the last was still running
    /// starts late, and that lateness is part of what the patient waits).
    async fn next(&mut self) -> Instant {
        let Some(every) = self.every else {
            return Instant::now();
        };
        let due = self.due;
        self.due += every;
        tokio::time::sleep_until(due.into()).await;
        due
    }
}

/// One desk's day: the walk-ins arrive, then the desk calls them all, skipping every
/// fifth (and recalling them), undoing every seventh call.
async fn work_one_clinic(
    engine: &Engine,
    staff: &StaffUser,
    queue: QueueId,
    patients: usize,
    samples: &Samples,
    schedule: &mut Schedule,
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
        let t = schedule.next().await;
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
        let t = schedule.next().await;
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
            let t = schedule.next().await;
            engine
                .act(staff, queue, StaffAction::Skip { token: current })
                .await?;
            timed("SKIP", t);
            let t = schedule.next().await;
            engine
                .act(staff, queue, StaffAction::Recall { token: current })
                .await?;
            timed("RECALL", t);
            serving = None;
        } else if calls % 7 == 0 {
            let t = schedule.next().await;
            let undone = engine.undo(staff, queue).await?;
            timed("UNDO", t);
            serving = undone.day.serving().map(|s| s.id);
        }
    }
}
