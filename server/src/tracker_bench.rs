//! `qline bench-trackers`: many patients' trackers polling one real `qline serve` process
//! on the tracker page's own schedule, while each queue moves on every few minutes.
//!
//! It makes a scratch database (SQLite, or one on a loopback PostgreSQL server), writes
//! the clinics and their waiting patients, starts one instance and lets every tracker
//! poll `/api/t/{id}` with the ETag it last got, as the page does. Halfway through, a
//! flood of polls for one token starts, to show it does not slow the others. It prints
//! polls a second, latency, the share answered `304 Not Modified`, and the server's CPU
//! and memory.

use crate::bench::{insert_staff, ScratchClinic};
use crate::soak::drive::{poll, Fleet, Outcome, Tracker};
use crate::soak::fleet::{free_port, Instance, Recipe};
use crate::soak::{Backend, Scratch, ScratchServer};
use clap::Args;
use qline_app::domain::*;
use qline_app::messaging::secrets::to_hex;
use qline_app::queue::engine::{Actor, Engine, JoinRequest};
use qline_app::queue::rules::StaffAction;
use qline_app::storage::Store;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Args)]
pub struct BenchTrackersArgs {
    /// The storage the instance runs on
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,
    #[command(flatten)]
    pub server: ScratchServer,
    /// Trackers polling at once (each a waiting patient)
    #[arg(long, default_value_t = 10_000)]
    pub trackers: usize,
    /// Clinics they are spread over, one queue each
    #[arg(long, default_value_t = 100)]
    pub clinics: usize,
    /// Seconds of polling (the flood takes the second half; 0: only the poll ratio)
    #[arg(long, default_value_t = 120)]
    pub seconds: u64,
    /// Seconds between two NEXTs on each queue (staggered across queues)
    #[arg(long, default_value_t = 180)]
    pub next_every: u64,
    /// Requests the flood keeps in flight for one token, with no pause (0: no flood)
    #[arg(long, default_value_t = 16)]
    pub flood: usize,
    /// Seconds of each phase of the poll ratio, measured before the trackers start:
    /// `/healthz`, then 304 polls, then 200 polls, as fast as they are answered (0: skip)
    #[arg(long, default_value_t = 10)]
    pub ratio_seconds: u64,
    /// Connections the poll ratio keeps busy
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
}

/// Tokens the poll ratio polls in turn.
const RATIO_TOKENS: usize = 1_000;

/// What the trackers saw, per poll: when it was sent (from the start), how long it took
/// and its status (0: no answer).
type Polls = Vec<(Duration, Duration, u16)>;

pub async fn run(args: BenchTrackersArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=1_000).contains(&args.clinics),
        "--clinics must be 1–1000"
    );
    anyhow::ensure!(
        args.trackers >= args.clinics && args.trackers <= 100_000,
        "--trackers must be at least --clinics and at most 100000"
    );
    anyhow::ensure!(
        args.seconds == 0 || args.seconds >= 20,
        "--seconds must be 0 (only the poll ratio) or at least 20"
    );
    anyhow::ensure!(
        (1..=1_000).contains(&args.connections),
        "--connections must be 1–1000"
    );
    let dir = std::env::temp_dir().join(format!(
        "qline-bench-trackers-{}-{}",
        std::process::id(),
        Timestamp::now().millis()
    ));
    std::fs::create_dir_all(&dir)?;
    let scratch = Scratch::create(args.backend, &args.server.postgres_url, &dir).await?;
    let outcome = bench(&args, &scratch, &dir).await;
    scratch.drop_database().await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn bench(
    args: &BenchTrackersArgs,
    scratch: &Scratch,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let store = Store::connect(&scratch.url).await?;
    crate::soak::ensure_empty(&store).await?;
    store.migrate().await?;
    let engine = Engine::new(store.clone());
    let made = Instant::now();
    let (desks, tokens) = patients(&store, &engine, args).await?;
    println!(
        "qline bench-trackers · {} · {} trackers over {} clinics · {} s (a flood of {} for one token in the second half) · written in {:.1} s",
        store.backend(),
        tokens.len(),
        args.clinics,
        args.seconds,
        args.flood,
        made.elapsed().as_secs_f64()
    );
    // Straight to the database: the soak's outage gate would add a hop to every query.
    let recipe = Recipe {
        database_url: scratch.url.clone(),
        secret_key: to_hex(&rand::random::<[u8; 32]>()),
        ultramsg: "http://127.0.0.1:9".into(),
        dir: dir.to_owned(),
    };
    let mut instance = Instance::new(0, free_port()?);
    instance.start(&recipe).await?;
    if args.ratio_seconds > 0 {
        let sample = &tokens[..tokens.len().min(RATIO_TOKENS)];
        let measured = crate::poll_ratio::measure(
            &instance.base(),
            sample,
            args.connections,
            args.ratio_seconds,
        )
        .await;
        if measured.is_err() || args.seconds == 0 {
            instance.stop().await;
            return measured;
        }
    }
    let pid = instance
        .pid()
        .ok_or_else(|| anyhow::anyhow!("the instance has no process id"))?;
    let fleet = Arc::new(Fleet::new(vec![instance.base()]));
    let start = Instant::now();
    let end = start + Duration::from_secs(args.seconds);
    let half = start + Duration::from_secs(args.seconds / 2);
    let polls = Arc::new(Mutex::new(Polls::default()));

    let cpu_before = cpu_ticks(pid)?;
    let mut running = tokio::task::JoinSet::new();
    // Pages open over the first 10 s, as patients arrive at the trackers' links.
    for (i, public_id) in tokens.iter().enumerate() {
        let opens = start + Duration::from_millis((i as u64 * 10_000) / tokens.len() as u64);
        let ip = Ipv4Addr::new(127, 2, (i % 64) as u8, 1);
        running.spawn(follow(
            fleet.clone(),
            ip,
            public_id.clone(),
            opens,
            end,
            start,
            polls.clone(),
        ));
    }
    for (queue, staff) in desks.iter().enumerate() {
        let first = Duration::from_secs(args.next_every).mul_f64(queue as f64 / desks.len() as f64);
        running.spawn(call_next(
            engine.clone(),
            staff.clone(),
            start + first,
            Duration::from_secs(args.next_every),
            end,
        ));
    }
    let flooded = Arc::new(Mutex::new(Vec::<(Duration, u16)>::new()));
    for _ in 0..args.flood {
        running.spawn(flood(
            fleet.clone(),
            tokens[0].clone(),
            half,
            end,
            flooded.clone(),
        ));
    }
    let mut rss_peak_kb = 0;
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss_peak_kb = rss_peak_kb.max(rss_kb(pid).unwrap_or(0));
    }
    let cpu = cpu_ticks(pid)? - cpu_before;
    let took = start.elapsed();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !running.is_empty() {
        if tokio::time::timeout_at(deadline, running.join_next())
            .await
            .is_err()
        {
            running.abort_all();
            break;
        }
    }
    instance.stop().await;

    let polls = std::mem::take(&mut *polls.lock().expect("polls"));
    report(&polls, half - start, took, cpu, rss_peak_kb);
    let flooded = std::mem::take(&mut *flooded.lock().expect("flood"));
    let second_half = (end - half).as_secs_f64();
    if !flooded.is_empty() {
        let mut took: Vec<Duration> = flooded.iter().map(|f| f.0).collect();
        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
        for (_, status) in &flooded {
            *statuses.entry(*status).or_default() += 1;
        }
        println!(
            "flood: {} polls for one token in {:.0} s ({:.0}/s), p50 {} p99 {}, answered {statuses:?} (0: no answer)",
            flooded.len(),
            second_half,
            flooded.len() as f64 / second_half,
            ms(percentile(&mut took, 0.50)),
            ms(percentile(&mut took, 0.99)),
        );
    }
    Ok(())
}

/// Writes the clinics, a receptionist each and the waiting patients (through the engine,
/// so every token is made as a real join makes it). Answers the desks and the tokens.
async fn patients(
    store: &Store,
    engine: &Engine,
    args: &BenchTrackersArgs,
) -> anyhow::Result<(Vec<(StaffUser, QueueId)>, Vec<String>)> {
    let hash = qline_app::tenant::hash_password("bench-password-1")?;
    let kolkata = TimeZone::from_zone(chrono_tz::Asia::Kolkata);
    let now = Timestamp::now();
    let mut desks = Vec::with_capacity(args.clinics);
    let mut tokens = Vec::with_capacity(args.trackers);
    for c in 0..args.clinics {
        let slug = format!("trackers-{c}");
        let mut tx = store.begin().await?;
        let (id, queues) = ScratchClinic {
            slug: &slug,
            name: &format!("Tracker Clinic {c}"),
            timezone: &kolkata,
            queues: &["General"],
            whatsapp: false,
        }
        .insert(&mut tx, now)
        .await?;
        let staff = insert_staff(
            &mut tx,
            id,
            &format!("desk@{slug}.test"),
            Role::Receptionist,
            &hash,
            now,
        )
        .await?;
        tx.commit().await?;
        let queue = queues[0];
        let here = args.trackers / args.clinics + usize::from(c < args.trackers % args.clinics);
        for p in 0..here {
            let request = JoinRequest {
                queue_id: queue,
                name: format!("Patient {p}"),
                phone: None,
                language: Language::En,
                emergency: false,
            };
            let applied = engine.create_token(Actor::Staff(&staff), request).await?;
            let (_, public_id, _) = applied
                .created
                .ok_or_else(|| anyhow::anyhow!("a join made no token"))?;
            tokens.push(public_id.as_str().to_owned());
        }
        desks.push((staff, queue));
    }
    Ok((desks, tokens))
}

/// One patient's tracker page: polls on the page's schedule until `end`.
async fn follow(
    fleet: Arc<Fleet>,
    ip: Ipv4Addr,
    public_id: String,
    opens: Instant,
    end: Instant,
    start: Instant,
    polls: Arc<Mutex<Polls>>,
) {
    tokio::time::sleep_until(opens).await;
    let http = fleet.client(ip);
    let url = format!("/api/t/{public_id}");
    let mut tracker = Tracker::default();
    let mut mine = Vec::new();
    while Instant::now() < end {
        let etag = tracker.etag.clone();
        let sent = Instant::now();
        let answer = fleet
            .send("tracker poll", None, |base| {
                poll(&http, base, &url, etag.as_deref())
            })
            .await;
        let status = match answer.outcome {
            Outcome::Unreached | Outcome::Unknown => 0,
            _ => answer.status.map_or(0, |s| s.as_u16()),
        };
        mine.push((sent - start, sent.elapsed(), status));
        let wait = tracker.next_wait(&answer);
        tokio::time::sleep(wait.min(end.saturating_duration_since(Instant::now()))).await;
    }
    polls.lock().expect("polls").extend(mine);
}

/// The desk: NEXT every `every`, from `first` on.
async fn call_next(
    engine: Engine,
    (staff, queue): (StaffUser, QueueId),
    first: Instant,
    every: Duration,
    end: Instant,
) {
    let mut at = first;
    let mut serving = None;
    while at < end {
        tokio::time::sleep_until(at).await;
        let next = StaffAction::Next {
            expected_serving: serving,
            room: None,
        };
        if let Ok(applied) = engine.act(&staff, queue, next).await {
            serving = applied.day.serving().map(|t| t.id);
        }
        at += every;
    }
}

/// Someone polling one token as fast as the server answers.
async fn flood(
    fleet: Arc<Fleet>,
    public_id: String,
    from: Instant,
    end: Instant,
    took: Arc<Mutex<Vec<(Duration, u16)>>>,
) {
    tokio::time::sleep_until(from).await;
    let http = fleet.client(Ipv4Addr::new(127, 3, 0, 1));
    let url = format!("/api/t/{public_id}");
    let mut mine = Vec::new();
    while Instant::now() < end {
        let sent = Instant::now();
        let answer = fleet
            .send("flood", None, |base| http.get(format!("{base}{url}")))
            .await;
        mine.push((sent.elapsed(), answer.status.map_or(0, |s| s.as_u16())));
    }
    took.lock().expect("flood").extend(mine);
}

fn report(
    polls: &[(Duration, Duration, u16)],
    half: Duration,
    took: Duration,
    cpu_ticks: u64,
    rss_peak_kb: u64,
) {
    let count = |f: &dyn Fn(u16) -> bool| polls.iter().filter(|p| f(p.2)).count();
    let unchanged = count(&|s| s == 304);
    let changed = count(&|s| s == 200);
    let failed = polls.len() - unchanged - changed;
    let secs = took.as_secs_f64();
    let latencies = |f: &dyn Fn(&(Duration, Duration, u16)) -> bool| {
        polls
            .iter()
            .filter(|p| f(p))
            .map(|p| p.1)
            .collect::<Vec<_>>()
    };
    let mut all = latencies(&|_| true);
    let mut quiet = latencies(&|p| p.0 < half);
    let mut flooded = latencies(&|p| p.0 >= half);
    println!(
        "polls: {} in {:.0} s = {:.0}/s · 304 {:.1} % · 200 {} · failed {}",
        polls.len(),
        secs,
        polls.len() as f64 / secs,
        100.0 * unchanged as f64 / polls.len().max(1) as f64,
        changed,
        failed
    );
    println!(
        "latency: p50 {} p99 {} max {} · first half p99 {} · second half (with the flood) p99 {}",
        ms(percentile(&mut all, 0.50)),
        ms(percentile(&mut all, 0.99)),
        ms(percentile(&mut all, 1.0)),
        ms(percentile(&mut quiet, 0.99)),
        ms(percentile(&mut flooded, 0.99)),
    );
    let ticks_per_second = 100.0; // USER_HZ on Linux
    println!(
        "server: CPU {:.0} % of one core · RSS peak {} MB",
        100.0 * cpu_ticks as f64 / ticks_per_second / secs,
        rss_peak_kb / 1024
    );
}

fn percentile(values: &mut [Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values.sort_unstable();
    let i = ((values.len() - 1) as f64 * q).round() as usize;
    values[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The process's user and system CPU time so far, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; the fields after its ')' are plain.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("unreadable /proc/{pid}/stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let field = |i: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("short /proc/{pid}/stat"))?
            .parse()?)
    };
    Ok(field(11)? + field(12)?)
}

/// The process's resident memory now, in KB.
fn rss_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
