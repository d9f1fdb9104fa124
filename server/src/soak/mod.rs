//! `qline soak`: a clinic morning through real `qline serve` processes, with real faults,
//! and afterwards the proof that nothing was lost.
//!
//! On PostgreSQL it starts three instances on one scratch database (behind a gate that
//! can cut the database off), a stand-in WhatsApp provider that fails 20 % of sends and
//! answers 10 % too late, and drives the morning through all three at once (`drive`).
//! Meanwhile it `kill -9`s an instance during sends and desk actions and restarts it,
//! tries the per-network and per-phone limits through every instance, cuts the database
//! for 10 s and lets it back, and another instance dies later. On SQLite one instance is
//! killed during a join burst and again during sends. Then it waits (with a deadline) for
//! the outbox to settle and checks every invariant against the database (`verify`),
//! printing each with its count. It exits non-zero when one broke.
//!
//! It only ever makes its own scratch database and talks to loopback addresses.

pub(crate) mod drive;
pub(crate) mod fleet;
mod standin;
mod verify;

use crate::bench::{insert_staff, ScratchClinic};
use clap::{Args, ValueEnum};
use drive::{Fleet, Ledger, Morning, Outcome, SoakClinic};
use fleet::{Gate, Instance, Recipe};
use qline_app::domain::*;
use qline_app::messaging::provider::Endpoints;
use qline_app::messaging::secrets::{to_hex, SecretBox};
use qline_app::messaging::Messenger;
use qline_app::queue::engine::Engine;
use qline_app::storage::{ConsoleAudit, Store};
use qline_app::tenant::hash_password;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use verify::Check;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// A scratch PostgreSQL database on --postgres-url (the soak runs several instances
    /// on it and cuts it off for 10 s).
    Postgres,
    /// One instance on its embedded SQLite file.
    Sqlite,
}

/// Where a harness makes its scratch PostgreSQL database.
#[derive(Debug, Args)]
pub struct ScratchServer {
    /// A PostgreSQL server on loopback on which the scratch database is created (and
    /// dropped afterwards); the user must be allowed to create databases
    #[arg(
        long,
        env = "QLINE_SOAK_POSTGRES_URL",
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres_url: String,
}

#[derive(Debug, Args)]
pub struct SoakArgs {
    /// The storage to soak: postgres (several instances, a database outage) or sqlite
    /// (one instance)
    #[arg(long, value_enum, default_value_t = Backend::Postgres)]
    pub backend: Backend,
    #[command(flatten)]
    pub server: ScratchServer,
    /// Length of the morning in seconds; the faults fall at fixed points of it
    #[arg(long, default_value_t = 120)]
    pub seconds: u64,
    /// Instances sharing the PostgreSQL database (SQLite always runs one)
    #[arg(long, default_value_t = 3)]
    pub instances: usize,
    /// Clinics, each with two queues and two desks per queue
    #[arg(long, default_value_t = 20)]
    pub clinics: usize,
    /// Patients per queue; each follows a tracker (20 clinics × 2 queues × 50 = 2,000)
    #[arg(long, default_value_t = 50)]
    pub patients: usize,
    /// Seed of the morning's randomness (arrivals, desk choices)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Keep the scratch database and the instances' logs afterwards
    #[arg(long)]
    pub keep: bool,
}

/// The staff password of every clinic in the run.
const PASSWORD: &str = "soak-password-1";
/// How long the database stays away.
const OUTAGE: Duration = Duration::from_secs(10);
/// How long the outbox may take to settle after the morning: a killed instance's claims
/// wait out the 60 s lease, then up to three tries with their backoff and timeouts.
const SETTLE_DEADLINE: Duration = Duration::from_secs(180);

pub async fn run(args: SoakArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.clinics >= 1 && args.clinics <= 200,
        "--clinics must be 1–200"
    );
    anyhow::ensure!(
        args.patients >= 1 && args.patients <= 999,
        "--patients must be 1–999"
    );
    anyhow::ensure!(args.seconds >= 30, "--seconds must be at least 30");
    let dir = std::env::temp_dir().join(format!(
        "qline-soak-{}-{}",
        std::process::id(),
        Timestamp::now().millis()
    ));
    std::fs::create_dir_all(&dir)?;
    let scratch = Scratch::create(args.backend, &args.server.postgres_url, &dir).await?;
    let outcome = soak(&args, &scratch, &dir).await;
    let keep = args.keep || !matches!(outcome, Ok(true));
    if keep {
        println!(
            "Kept for a look: {} and the logs in {}",
            scratch.describe(),
            dir.display()
        );
    } else {
        scratch.drop_database().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
    match outcome? {
        true => Ok(()),
        false => anyhow::bail!("an invariant broke (above)"),
    }
}

/// The database this run made for itself.
pub(crate) struct Scratch {
    /// What the harness reads with.
    pub(crate) url: String,
    /// What the instances connect to (through the gate on PostgreSQL).
    pub(crate) served_url: String,
    gate: Option<Gate>,
    /// PostgreSQL: the server URL it was created on, and its name.
    postgres: Option<(String, String)>,
}

impl Scratch {
    pub(crate) async fn create(
        backend: Backend,
        postgres_url: &str,
        dir: &std::path::Path,
    ) -> anyhow::Result<Scratch> {
        let scratch = match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.join("qline.db").display());
                Scratch {
                    served_url: url.clone(),
                    url,
                    gate: None,
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let options = loopback_server(postgres_url)?;
                let host = options.get_host().to_owned();
                let name = format!(
                    "qline_soak_{}_{}",
                    std::process::id(),
                    Timestamp::now().millis()
                );
                let admin = sqlx::PgPool::connect_with(options.clone())
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "cannot reach PostgreSQL at {}: {e}",
                            crate::cli::redact(postgres_url)
                        )
                    })?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin)
                    .await?;
                admin.close().await;
                let gate = Gate::start(format!("{host}:{}", options.get_port())).await?;
                let url = url_at(postgres_url, None, &name);
                Scratch {
                    served_url: url_at(postgres_url, Some(&gate.addr.to_string()), &name),
                    url,
                    gate: Some(gate),
                    postgres: Some((postgres_url.to_owned(), name)),
                }
            }
        };
        Ok(scratch)
    }

    fn describe(&self) -> String {
        match &self.postgres {
            Some((_, name)) => format!("the PostgreSQL database {name}"),
            None => self.url.clone(),
        }
    }

    pub(crate) async fn drop_database(&self) {
        if let Some((server, name)) = &self.postgres {
            if let Ok(admin) = sqlx::PgPool::connect(server).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await;
                admin.close().await;
            }
        }
    }
}

/// The PostgreSQL server to make the scratch database on, refused unless it is on this
/// machine's loopback.
fn loopback_server(url: &str) -> anyhow::Result<sqlx::postgres::PgConnectOptions> {
    let options = sqlx::postgres::PgConnectOptions::from_str(url)
        .map_err(|e| anyhow::anyhow!("--postgres-url: {e}"))?;
    let host = options.get_host();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    anyhow::ensure!(
        loopback,
        "qline soak only runs against a PostgreSQL server on this machine's loopback \
         (127.0.0.0/8, ::1 or localhost), not {host:?}"
    );
    Ok(options)
}

/// `url` with its database replaced by `database` and, when given, its host and port by
/// `at` (credentials and parameters kept).
fn url_at(url: &str, at: Option<&str>, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let query = path
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    let authority = match (at, authority.rsplit_once('@')) {
        (Some(at), Some((credentials, _))) => format!("{credentials}@{at}"),
        (Some(at), None) => at.to_owned(),
        (None, _) => authority.to_owned(),
    };
    format!("{scheme}://{authority}/{database}{query}")
}

/// Refuses a database that already holds tables: the harness writes only to its own.
pub(crate) async fn ensure_empty(store: &Store) -> anyhow::Result<()> {
    let tables: i64 = match store {
        Store::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
            )
            .fetch_one(pool)
            .await?
        }
        Store::Sqlite(db) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
                .fetch_one(&db.pool)
                .await?
        }
    };
    anyhow::ensure!(
        tables == 0,
        "the scratch database is not empty ({tables} tables); refusing to write to it"
    );
    Ok(())
}

/// Writes the clinics (two queues each, a receptionist, WhatsApp through the stand-in).
async fn setup(
    store: &Store,
    key: &str,
    ultramsg: &str,
    clinics: usize,
) -> anyhow::Result<Vec<SoakClinic>> {
    let hash = hash_password(PASSWORD)?;
    let now = Timestamp::now();
    let kolkata = TimeZone::from_zone(chrono_tz::Asia::Kolkata);
    let endpoints = Endpoints {
        ultramsg: ultramsg.to_owned(),
        meta: ultramsg.to_owned(),
        sms: ultramsg.to_owned(),
    };
    let messenger = Messenger::new(
        Engine::new(store.clone()),
        SecretBox::from_hex_key(key)?,
        endpoints,
    );
    let mut made = Vec::with_capacity(clinics);
    for index in 0..clinics {
        let slug = format!("soak-{index}");
        let mut tx = store.begin().await?;
        let scratch = ScratchClinic {
            slug: &slug,
            name: &format!("Soak Clinic {index}"),
            timezone: &kolkata,
            queues: &["General", "Dental"],
            whatsapp: true,
        };
        let (id, queues) = scratch.insert(&mut tx, now).await?;
        let desk_email = format!("desk@{slug}.test");
        insert_staff(&mut tx, id, &desk_email, Role::Receptionist, &hash, now).await?;
        let owner = insert_staff(
            &mut tx,
            id,
            &format!("owner@{slug}.test"),
            Role::Owner,
            &hash,
            now,
        )
        .await?;
        tx.commit().await?;
        let clinic = store
            .clinic(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("clinic {slug} vanished"))?;
        let input = qline_app::console::WhatsAppInput {
            provider: "ULTRAMSG".into(),
            phone_number: "9000000000".into(),
            ultramsg_instance: format!("instance{index}"),
            ultramsg_token: "soak-token".into(),
            ..Default::default()
        };
        let audit = ConsoleAudit {
            clinic: Some(id),
            actor: &owner,
            ip: None,
            action: "CONFIGURE_WHATSAPP",
            target: "ULTRAMSG",
            detail: "{}",
        };
        messenger.configure(&clinic, &input, audit).await?;
        let account = messenger
            .account(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no account for {slug}"))?;
        made.push(SoakClinic {
            index,
            slug,
            queues: queues.iter().map(|q| q.get()).collect(),
            desk_email,
            webhook_secret: account.secrets.webhook_secret,
        });
    }
    Ok(made)
}

/// What the faults did, for the report and the checks.
#[derive(Default)]
struct Faults {
    lines: Vec<String>,
    /// When an instance was killed or the database cut off.
    disruptions: Vec<Instant>,
    checks: Vec<Check>,
}

/// Runs the morning and the checks; answers whether every invariant held.
async fn soak(args: &SoakArgs, scratch: &Scratch, dir: &std::path::Path) -> anyhow::Result<bool> {
    let store = Store::connect(&scratch.url).await?;
    ensure_empty(&store).await?;
    store.migrate().await?;
    let standin = standin::StandIn::default();
    let ultramsg = standin.clone().start().await?;
    let key = to_hex(&rand::random::<[u8; 32]>());
    let mut clinics = setup(&store, &key, &ultramsg, args.clinics + 1).await?;
    let limits_clinic = clinics.pop().expect("the limits' clinic");
    let recipe = Recipe {
        database_url: scratch.served_url.clone(),
        secret_key: key,
        ultramsg,
        dir: dir.to_owned(),
    };
    let count = if args.backend == Backend::Sqlite {
        1
    } else {
        args.instances.clamp(1, 16)
    };
    let mut instances = Vec::with_capacity(count);
    for index in 0..count {
        let mut instance = Instance::new(index, fleet::free_port()?);
        instance.start(&recipe).await?;
        instances.push(instance);
    }
    let fleet = Arc::new(Fleet::new(instances.iter().map(Instance::base).collect()));
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let start = Instant::now();
    let end = start + Duration::from_secs(args.seconds);
    println!(
        "qline soak · {} · {count} instance(s) · {} clinics × 2 queues × {} patients · {} s",
        store.backend(),
        clinics.len(),
        args.patients,
        args.seconds
    );
    let morning = Arc::new(Morning {
        fleet: fleet.clone(),
        clinics,
        password: PASSWORD.to_owned(),
        patients_per_queue: args.patients,
        start,
        end,
        ledger: ledger.clone(),
    });
    let driving = tokio::spawn(morning.run(args.seed));
    let at = |f: f64| start + Duration::from_secs(args.seconds).mul_f64(f);
    let mut faults = Faults::default();

    tokio::time::sleep_until(at(0.15)).await;
    let tries = 40;
    let (network, phone) = drive::try_the_limits(&fleet, &ledger, &limits_clinic, tries).await;
    let mut held = Check::new("per-network and per-phone join limits held across instances");
    held.case(network <= 30, || {
        format!("{network} of {tries} joins from one network were let in (limit 30 an hour)")
    });
    held.case(phone <= 1, || {
        format!("{phone} of {tries} joins for one phone were let in (limit 1 a day)")
    });
    faults.lines.push(format!(
        "limits: {tries} joins from one network through all instances at once: {network} let in (limit 30); \
         {tries} for one phone from {tries} networks: {phone} let in (limit 1)"
    ));
    faults.checks.push(held);

    match args.backend {
        Backend::Postgres => {
            tokio::time::sleep_until(at(0.30)).await;
            let victim = 1 % count;
            kill_during_sends(
                &mut instances[victim],
                &recipe,
                &standin,
                &fleet,
                start,
                &mut faults,
            )
            .await?;
            tokio::time::sleep_until(at(0.50)).await;
            let gate = scratch
                .gate
                .as_ref()
                .expect("a gate in front of PostgreSQL");
            database_outage(gate, &fleet, start, &mut faults).await;
            tokio::time::sleep_until(at(0.75)).await;
            let victim = 2 % count;
            kill_during_sends(
                &mut instances[victim],
                &recipe,
                &standin,
                &fleet,
                start,
                &mut faults,
            )
            .await?;
        }
        Backend::Sqlite => {
            tokio::time::sleep_until(at(0.30)).await;
            kill_during_join_burst(
                &mut instances[0],
                &recipe,
                &fleet,
                &ledger,
                &limits_clinic,
                start,
                &mut faults,
            )
            .await?;
            tokio::time::sleep_until(at(0.60)).await;
            kill_during_sends(
                &mut instances[0],
                &recipe,
                &standin,
                &fleet,
                start,
                &mut faults,
            )
            .await?;
        }
    }
    driving.await??;
    let morning_took = start.elapsed();
    let settled = settle(&store, SETTLE_DEADLINE).await?;
    for instance in &mut instances {
        instance.stop().await;
    }

    let ledger = std::mem::take(&mut *ledger.lock().expect("ledger"));
    let record = std::mem::take(&mut *standin.record.lock().expect("record"));
    let mut checks = verify::tokens_and_days(&store, &ledger).await?;
    checks.extend(verify::audit(&store, &ledger).await?);
    let (message_checks, messages) = verify::messages(&store, &record, &faults.disruptions).await?;
    checks.extend(message_checks);
    let mut settle_check = Check::new(format!(
        "the outbox settled within {} s of the morning's end",
        SETTLE_DEADLINE.as_secs()
    ));
    settle_check.case(settled.is_some(), || {
        "messages were still pending or being sent".to_owned()
    });
    checks.push(settle_check);
    checks.append(&mut faults.checks);
    store.close().await;

    report(&fleet, &instances, &ledger, morning_took, &faults.lines);
    println!(
        "messages: {} in the outbox ({}); the provider took {} ids ({} refused with 500, {} answered too late); \
         {} SENT on WhatsApp; {} duplicates at the provider, {} explained; settled {}",
        messages.by_status.values().sum::<usize>(),
        messages.by_status.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(", "),
        record.taken.len(),
        record.refused_500,
        record.slow,
        messages.sent_whatsapp,
        messages.duplicated,
        messages.duplicates_explained,
        settled.map_or("never (deadline passed)".to_owned(), |d| format!("{:.1} s after the morning", d.as_secs_f64())),
    );
    println!("invariants:");
    let mut all = true;
    for check in &checks {
        let ok = check.broken == 0;
        all &= ok;
        println!(
            "  {} {} ({} checked{})",
            if ok { "ok  " } else { "FAIL" },
            check.name,
            check.covered,
            if ok {
                String::new()
            } else {
                format!(", {} broken", check.broken)
            }
        );
        for example in &check.examples {
            println!("         {example}");
        }
    }
    println!(
        "soak: {}",
        if all {
            "every invariant held"
        } else {
            "AN INVARIANT BROKE"
        }
    );
    Ok(all)
}

/// Waits (up to `deadline`) until no message is pending or being sent; answers how long.
async fn settle(store: &Store, deadline: Duration) -> anyhow::Result<Option<Duration>> {
    let began = Instant::now();
    let sql = "SELECT COUNT(*) FROM outbox WHERE status IN ('PENDING', 'SENDING')";
    while began.elapsed() < deadline {
        let open: i64 = match store {
            Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
            Store::Sqlite(db) => sqlx::query_scalar(sql).fetch_one(&db.pool).await?,
        };
        if open == 0 {
            return Ok(Some(began.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(None)
}

fn secs(since: Instant, at: Instant) -> f64 {
    at.saturating_duration_since(since).as_secs_f64()
}

/// `kill -9` while the provider holds sends of this run and the instance holds requests
/// (waiting at most 20 s for both), then starts the instance again on its port.
async fn kill_during_sends(
    instance: &mut Instance,
    recipe: &Recipe,
    standin: &standin::StandIn,
    fleet: &Fleet,
    start: Instant,
    faults: &mut Faults,
) -> anyhow::Result<()> {
    let waited = Instant::now();
    let busy = || standin.in_flight() > 0 && fleet.held_by(instance.index) > 0;
    while !busy() && waited.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let (sends, requests) = (standin.in_flight(), fleet.held_by(instance.index));
    let killed = Instant::now();
    instance.kill().await?;
    faults.disruptions.push(killed);
    instance.start(recipe).await?;
    faults.lines.push(format!(
        "kill -9 instance {} at +{:.1} s with {sends} sends at the provider and {requests} requests of its own in flight; serving again after {:.1} s",
        instance.index,
        secs(start, killed),
        killed.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// `kill -9` in the middle of a burst of 60 joins, then a restart.
async fn kill_during_join_burst(
    instance: &mut Instance,
    recipe: &Recipe,
    fleet: &Arc<Fleet>,
    ledger: &Arc<Mutex<Ledger>>,
    clinic: &SoakClinic,
    start: Instant,
    faults: &mut Faults,
) -> anyhow::Result<()> {
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut burst = tokio::task::JoinSet::new();
    for k in 0..60usize {
        let (fleet, ledger, answered) = (fleet.clone(), ledger.clone(), answered.clone());
        let form = drive::join_form(
            &clinic.slug,
            clinic.queues[k % 2].to_string(),
            format!("Burst {k}"),
            format!("95{k:08}"),
        );
        burst.spawn(async move {
            let http = drive::client_from(std::net::Ipv4Addr::new(127, 6, 0, 1 + k as u8));
            let joined = fleet
                .send("join (burst)", None, |base| {
                    http.post(format!("{base}/api/join")).form(&form)
                })
                .await;
            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drive::record_join(&ledger, &joined);
            joined.outcome
        });
    }
    let waited = Instant::now();
    while answered.load(std::sync::atomic::Ordering::SeqCst) < 10
        && waited.elapsed() < Duration::from_secs(20)
    {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let killed = Instant::now();
    let before = answered.load(std::sync::atomic::Ordering::SeqCst);
    instance.kill().await?;
    faults.disruptions.push(killed);
    let mut outcomes: BTreeMap<Outcome, usize> = BTreeMap::new();
    while let Some(outcome) = burst.join_next().await {
        *outcomes.entry(outcome?).or_default() += 1;
    }
    instance.start(recipe).await?;
    faults.lines.push(format!(
        "kill -9 instance {} at +{:.1} s during a burst of 60 joins ({before} answered before it): {:?}; serving again after {:.1} s",
        instance.index,
        secs(start, killed),
        outcomes,
        killed.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// The database goes away for `OUTAGE` and comes back, while every instance's `/readyz`
/// is asked four times a second.
async fn database_outage(gate: &Gate, fleet: &Arc<Fleet>, start: Instant, faults: &mut Faults) {
    let probes: Arc<Mutex<Vec<(Instant, usize, Option<u16>)>>> = Default::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = {
        let (probes, stop, bases) = (probes.clone(), stop.clone(), fleet.bases.clone());
        tokio::spawn(async move {
            let http = drive::client_from(std::net::Ipv4Addr::new(127, 7, 0, 1));
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                for (i, base) in bases.iter().enumerate() {
                    let (http, probes, url) =
                        (http.clone(), probes.clone(), format!("{base}/readyz"));
                    tokio::spawn(async move {
                        let sent = Instant::now();
                        let status = http.get(url).send().await.ok().map(|r| r.status().as_u16());
                        probes.lock().expect("probes").push((sent, i, status));
                    });
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let cut = Instant::now();
    gate.shut();
    faults.disruptions.push(cut);
    tokio::time::sleep_until(cut + OUTAGE).await;
    gate.reopen();
    let back = Instant::now();
    // Every instance ready again (or 60 s passed).
    let ready_again = |probes: &[(Instant, usize, Option<u16>)], i: usize| {
        probes
            .iter()
            .filter(|p| p.1 == i && p.0 >= back && p.2 == Some(200))
            .map(|p| p.0)
            .min()
    };
    while back.elapsed() < Duration::from_secs(60) {
        let all = {
            let probes = probes.lock().expect("probes");
            (0..fleet.bases.len()).all(|i| ready_again(&probes, i).is_some())
        };
        if all {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = prober.await;
    // Let the last probes' answers land (each has the client's timeout).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let probes = probes.lock().expect("probes").clone();

    let mut unready = Check::new("/readyz answered 503 while the database was away (each probe)");
    let mut ready =
        Check::new("/readyz answered 200 again after the outage, no restart (each instance)");
    let mut window: Option<(Instant, Instant)> = None;
    for (sent, _, status) in &probes {
        if *status == Some(503) {
            window = Some(window.map_or((*sent, *sent), |(a, b)| (a.min(*sent), b.max(*sent))));
        }
        if *sent >= cut + Duration::from_millis(500) && *sent < back {
            unready.case(*status == Some(503), || {
                format!(
                    "a probe at +{:.1} s into the outage got {status:?}",
                    secs(cut, *sent)
                )
            });
        }
    }
    let mut again = Vec::new();
    for i in 0..fleet.bases.len() {
        let at = ready_again(&probes, i);
        ready.case(at.is_some(), || {
            format!("instance {i} was not ready within 60 s of the database's return")
        });
        again.push(at.map_or("never".to_owned(), |t| format!("{:.1} s", secs(back, t))));
    }
    let during: Vec<drive::Seen> = fleet
        .seen
        .lock()
        .expect("seen")
        .iter()
        .filter(|s| s.sent >= cut && s.sent < back)
        .copied()
        .collect();
    let mut clear = Check::new(
        "requests during the outage were answered (503 or served), none hung or failed with 500",
    );
    let mut by: BTreeMap<Outcome, usize> = BTreeMap::new();
    let mut slowest = Duration::ZERO;
    for s in &during {
        *by.entry(s.outcome).or_default() += 1;
        slowest = slowest.max(s.took);
        clear.case(
            matches!(
                s.outcome,
                Outcome::Done | Outcome::Refused | Outcome::Unavailable
            ),
            || {
                format!(
                    "{} sent +{:.1} s into the outage: {:?} after {:.1} s",
                    s.what,
                    secs(cut, s.sent),
                    s.outcome,
                    s.took.as_secs_f64()
                )
            },
        );
    }
    let (w0, w1) = window.map_or((0.0, 0.0), |(a, b)| (secs(cut, a), secs(cut, b)));
    faults.lines.push(format!(
        "database away at +{:.1} s for {} s: /readyz 503 from +{w0:.1} s to +{w1:.1} s after the cut ({:.1} s window); \
         200 again after the return: {}; {} requests sent during it: {:?}, slowest answer {:.1} s",
        secs(start, cut),
        OUTAGE.as_secs(),
        w1 - w0,
        again.join(", "),
        during.len(),
        by,
        slowest.as_secs_f64()
    ));
    faults.checks.extend([unready, ready, clear]);
}

/// Requests per instance, rates, and latency and outcome per kind of request.
fn report(
    fleet: &Fleet,
    instances: &[Instance],
    ledger: &Ledger,
    took: Duration,
    faults: &[String],
) {
    let seen = fleet.seen.lock().expect("seen");
    let answered: Vec<String> = instances
        .iter()
        .map(|i| {
            format!(
                "#{} {} ({} start{})",
                i.index,
                fleet.answered_by[i.index].load(std::sync::atomic::Ordering::Relaxed),
                i.starts,
                if i.starts == 1 { "" } else { "s" }
            )
        })
        .collect();
    println!("requests answered per instance: {}", answered.join(" · "));
    let writes: usize = ledger.writes.values().map(|(done, _)| done).sum();
    println!(
        "{} requests in {:.1} s = {:.0} requests/s; {writes} writes answered 200 = {:.1} writes/s; {} tokens given; {} WhatsApp messages delivered to the webhooks",
        seen.len(),
        took.as_secs_f64(),
        seen.len() as f64 / took.as_secs_f64(),
        writes as f64 / took.as_secs_f64(),
        ledger.tokens.len(),
        ledger.inbound_sent
    );
    let mut by: BTreeMap<&str, Vec<&drive::Seen>> = BTreeMap::new();
    for s in seen.iter() {
        by.entry(s.what).or_default().push(s);
    }
    println!(
        "{:<18} {:>7} {:>8} {:>8} {:>8}  outcomes",
        "request", "count", "p50 ms", "p99 ms", "max ms"
    );
    for (what, all) in by {
        let mut took: Vec<Duration> = all.iter().map(|s| s.took).collect();
        took.sort();
        let mut outcomes: BTreeMap<Outcome, usize> = BTreeMap::new();
        for s in &all {
            *outcomes.entry(s.outcome).or_default() += 1;
        }
        let pick =
            |p: f64| took[((took.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0;
        println!(
            "{what:<18} {:>7} {:>8.1} {:>8.1} {:>8.1}  {}",
            took.len(),
            pick(0.5),
            pick(0.99),
            pick(1.0),
            outcomes
                .iter()
                .map(|(o, n)| format!("{o:?} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("faults:");
    for line in faults {
        println!("  {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scratch_database_is_named_on_the_same_server() {
        assert_eq!(
            url_at(
                "postgres://postgres@127.0.0.1:5432/postgres",
                None,
                "qline_soak_1"
            ),
            "postgres://postgres@127.0.0.1:5432/qline_soak_1"
        );
        assert_eq!(
            url_at(
                "postgresql://u:pw@localhost/db?sslmode=disable",
                Some("127.0.0.1:4000"),
                "s"
            ),
            "postgresql://u:pw@127.0.0.1:4000/s?sslmode=disable"
        );
        assert_eq!(
            url_at("postgres://127.0.0.1", Some("127.0.0.1:9"), "s"),
            "postgres://127.0.0.1:9/s"
        );
    }

    #[test]
    fn only_a_server_on_loopback_is_soaked() {
        for ok in [
            "postgres://postgres@127.0.0.1:5432/postgres",
            "postgres://localhost/x",
            "postgres://[::1]:5432/x",
            "postgres://127.0.0.9/x",
        ] {
            assert!(loopback_server(ok).is_ok(), "{ok}");
        }
        for refused in [
            "postgres://db.internal/qline",
            "postgres://10.0.0.5:5432/qline",
            "postgres://u@8.8.8.8/x",
        ] {
            let why = loopback_server(refused).unwrap_err().to_string();
            assert!(why.contains("loopback"), "{refused}: {why}");
        }
    }
}
