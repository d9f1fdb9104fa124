//! The command line of the `qline` binary. Every option can also be set from the
//! environment (`QLINE_*`), so the same binary runs from a terminal, systemd or a container.

use crate::http::{router, AppState};
use clap::{Args, Parser, Subcommand};
use qline_app::domain::RetentionDays;
use qline_app::messaging::provider::Endpoints;
use qline_app::messaging::push::Vapid;
use qline_app::messaging::secrets::SecretBox;
use qline_app::messaging::{Messenger, WebPush};
use qline_app::queue::engine::Engine;
use qline_app::storage::Store;
use qline_app::tenant::{self, DemoLogins, TenantError, Tenants};
use std::path::PathBuf;
use std::time::Duration;

const DEFAULT_DATABASE_URL: &str = "sqlite://data/qline.db";

#[derive(Debug, Parser)]
#[command(
    name = "qline",
    version,
    about = "Qline: walk-in queues for clinics. Patients join by QR code and follow a live tracker; \
             the desk runs the day with NEXT, SKIP and UNDO.",
    long_about = None,
    after_help = "Without a command, `qline` runs `serve`.\n\
                  The database is chosen by --database-url, else QLINE_DATABASE_URL, else DATABASE_URL, \
                  else sqlite://data/qline.db (created with its folder on first start)."
)]
pub struct Cli {
    /// Database to use: sqlite://path/to/file.db (embedded, the default) or
    /// postgres://user:password@host:5432/dbname (several app instances can share one).
    #[arg(long, global = true, env = "QLINE_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// How logs are written to standard output: text, or one JSON object per line (with
    /// each request's id and clinic). Levels come from QLINE_LOG (default info,sqlx=warn)
    #[arg(
        long,
        global = true,
        env = "QLINE_LOG_FORMAT",
        value_enum,
        default_value_t = crate::logs::LogFormat::Text
    )]
    pub log_format: crate::logs::LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (the default). Applies pending migrations first.
    Serve(ServeArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Create a platform admin (super admin) who runs every clinic from /admin.
    CreateAdmin(CreateAdminArgs),
    /// Copy the SQLite database into a new file while Qline keeps serving (a consistent
    /// snapshot, by SQLite's VACUUM INTO). To restore: stop Qline, put the copy in place
    /// of the database file, remove its -wal and -shm files, start again. For PostgreSQL
    /// use pg_dump (docs/OPERATIONS.md).
    Backup(BackupArgs),
    /// Remove patients' personal data past its retention now (what `qline serve` does in
    /// the background every hour) and print what was removed: names, phones, addresses and
    /// feedback of old tokens (kept anonymised for analytics), message texts, WhatsApp
    /// conversations, push subscriptions, patients' addresses in the audit log, expired
    /// staff sessions and old sign-in strikes. Safe while instances serve.
    Purge(PurgeArgs),
    /// Create the demo clinic "Demo Clinic" (/c/demo) with queues General (A) and Dental (D)
    /// and three logins: admin@demo.test, owner@demo.test and desk@demo.test.
    SeedDemo(SeedDemoArgs),
    /// Measure mutations per second and each action's latency across many clinics, flat
    /// out or at a set load (writes to the database given: use a scratch one).
    Bench(crate::bench::BenchArgs),
    /// Replay a trace of clinic days (--trace), or the synthetic clinics of the family
    /// (--family), through the engine on scratch SQLite databases of its own
    /// (--database-url is not used) and compare the waits patients were shown, on joining
    /// and while waiting, with the waits they had (Qline's estimate against the fixed 6–15
    /// minutes per patient). Ends with a line `eta: qline_mae=… fixed_mae=… coverage=…`.
    BenchEta(crate::eta_bench::BenchEtaArgs),
    /// Write a synthetic trace for bench-eta to stdout: arrival bursts, a doctor who comes
    /// late, breaks, no-shows, cancellations and skewed visit lengths; `--scenario family`
    /// draws the clinic itself from --seed.
    GenTrace(crate::trace::GenTraceArgs),
    /// Time the analytics page over a year of history: writes a clinic with 300 tokens a
    /// day into a scratch SQLite database (or the --database-url given: use a scratch
    /// one) and prints the query time for each range.
    BenchAnalytics(crate::analytics_bench::BenchAnalyticsArgs),
    /// Soak and fault test on this machine: a clinic morning through several real
    /// `qline serve` processes sharing a scratch PostgreSQL database it creates (or one
    /// on SQLite), with instances killed (-9) and restarted, the database cut off for
    /// 10 s and a WhatsApp provider that fails; then checks that nothing was lost and
    /// prints each invariant with its count (exit 1 if one broke). Loopback only; it
    /// refuses --database-url (it never runs against a database it did not create).
    Soak(crate::soak::SoakArgs),
    /// Load benchmark for patients' trackers: N trackers (default 10,000) polling one real
    /// `qline serve` process on the tracker page's schedule, each queue moving on every
    /// few minutes, and in the second half a flood of polls for one token; prints polls
    /// a second, p50/p99 latency, the share of 304s and the server's CPU and memory. On a
    /// scratch database of its own (SQLite, or on a loopback PostgreSQL server); it
    /// refuses --database-url.
    BenchTrackers(crate::tracker_bench::BenchTrackersArgs),
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Count what would be removed, and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Days patients' data is kept where a clinic chose no fewer (as for `qline serve`)
    #[arg(long, env = "QLINE_RETENTION_DAYS", default_value_t = RetentionDays::default(), value_name = "DAYS")]
    pub retention_days: RetentionDays,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write the copy to; it must not exist yet.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:3000 behind a proxy [default: site-addr of Leptos.toml, 127.0.0.1:3000]
    #[arg(long, env = "QLINE_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<std::net::SocketAddr>,

    /// Leptos runtime options (site root with the built assets, output name). LEPTOS_*
    /// environment variables override values in the file.
    #[arg(
        long,
        env = "QLINE_LEPTOS_CONFIG",
        value_name = "FILE",
        default_value = "Leptos.toml"
    )]
    pub leptos_config: PathBuf,

    /// Create the demo clinic if it does not exist yet, and print its logins (also saved
    /// to demo-logins.txt beside a SQLite database).
    #[arg(long, env = "QLINE_SEED_DEMO")]
    pub seed_demo: bool,

    /// Qline runs behind a reverse proxy on this machine: read the client's address from
    /// `X-Forwarded-For` (and https from `X-Forwarded-Proto`) on connections from
    /// loopback. For a proxy elsewhere, name it with --trusted-proxy instead
    #[arg(long, env = "QLINE_BEHIND_PROXY")]
    pub behind_proxy: bool,

    /// A proxy (address or range, e.g. 10.0.0.0/8) whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed; repeat for several. Requests from anywhere else
    /// are taken at their connecting address, whatever headers they carry
    #[arg(
        long = "trusted-proxy",
        env = "QLINE_TRUSTED_PROXIES",
        value_name = "CIDR",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<qline_app::domain::net::Cidr>,

    /// Seconds a client has to send a request's headers; an idle keep-alive connection
    /// is closed after the same time
    #[arg(
        long,
        env = "QLINE_HEADER_TIMEOUT",
        value_name = "SECS",
        default_value_t = 10
    )]
    pub header_timeout: u64,

    /// Seconds a request may take from its headers to our answer (408 after)
    #[arg(
        long,
        env = "QLINE_REQUEST_TIMEOUT",
        value_name = "SECS",
        default_value_t = 30
    )]
    pub request_timeout: u64,

    /// Days patients' personal data is kept (names, phones, addresses, feedback,
    /// messages); a clinic may choose fewer in its settings. Removed in the background
    /// (docs/OPERATIONS.md, "Retention and erasure"). 1 to 3650
    #[arg(long, env = "QLINE_RETENTION_DAYS", default_value_t = RetentionDays::default(), value_name = "DAYS")]
    pub retention_days: RetentionDays,

    /// Minutes between background purges of data past its retention
    #[arg(long, env = "QLINE_PURGE_EVERY_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=10_080), value_name = "MINUTES")]
    pub purge_every_minutes: u64,

    /// Serve Prometheus metrics at http://HOST:PORT/metrics, a listener apart from the
    /// app's (never on its port; keep it off the internet) [default: off]
    #[arg(long, env = "QLINE_METRICS_ADDR", value_name = "HOST:PORT")]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// The address patients reach Qline at, such as https://queue.example.com: used in
    /// the QR poster and in links sent to patients, and the origin staff pages' writes
    /// must come from. An https address also makes the session cookie `Secure` (named
    /// `__Host-qline_session`) and turns on HSTS [default: the address in each request]
    #[arg(long, env = "QLINE_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// The key that seals WhatsApp provider secrets in the database: 64 hex digits. Every
    /// instance sharing a database needs the same key [default: read from --secret-key-file]
    #[arg(
        long,
        env = "QLINE_SECRET_KEY",
        hide_env_values = true,
        value_name = "HEX"
    )]
    pub secret_key: Option<String>,

    /// Where the sealing key is kept when --secret-key is not given; created with a random
    /// key on first run. Back it up with the database: without it, stored provider
    /// secrets cannot be read
    #[arg(
        long,
        env = "QLINE_SECRET_KEY_FILE",
        value_name = "FILE",
        default_value = "data/secret.key"
    )]
    pub secret_key_file: PathBuf,

    /// UltraMsg's API address
    #[arg(
        long,
        env = "QLINE_ULTRAMSG_BASE_URL",
        value_name = "URL",
        default_value = "https://api.ultramsg.com"
    )]
    pub ultramsg_base_url: String,

    /// The Meta WhatsApp Cloud API's address, with its version
    #[arg(
        long,
        env = "QLINE_META_BASE_URL",
        value_name = "URL",
        default_value = "https://graph.facebook.com/v21.0"
    )]
    pub meta_base_url: String,

    /// A Twilio-compatible SMS API's address (the clinics' SMS accounts are sent through it)
    #[arg(
        long,
        env = "QLINE_SMS_BASE_URL",
        value_name = "URL",
        default_value = "https://api.twilio.com"
    )]
    pub sms_base_url: String,

    /// Web push's VAPID public key, base64url (as web-push tools print it); give it with
    /// --vapid-private-key [default: read from --vapid-key-file]
    #[arg(
        long,
        env = "QLINE_VAPID_PUBLIC_KEY",
        value_name = "BASE64URL",
        requires = "vapid_private_key"
    )]
    pub vapid_public_key: Option<String>,

    /// Web push's VAPID private key, base64url
    #[arg(
        long,
        env = "QLINE_VAPID_PRIVATE_KEY",
        hide_env_values = true,
        value_name = "BASE64URL",
        requires = "vapid_public_key"
    )]
    pub vapid_private_key: Option<String>,

    /// Where the VAPID key pair is kept when none is given; created on first run. Every
    /// instance must use the same pair, and changing it ends every browser's alerts
    #[arg(
        long,
        env = "QLINE_VAPID_KEY_FILE",
        value_name = "FILE",
        default_value = "data/vapid.json"
    )]
    pub vapid_key_file: PathBuf,

    /// The contact push services see for this server: mailto:you@example.com or an https
    /// URL [default: --public-url when it is https, else mailto:operator@qline.invalid]
    #[arg(long, env = "QLINE_VAPID_SUBJECT", value_name = "MAILTO_OR_URL")]
    pub vapid_subject: Option<String>,

    /// The push services browsers' subscriptions may point at, by host (a subdomain
    /// matches too); repeat the option or separate with commas [default: the services of
    /// Chrome, Edge, Firefox and Safari: fcm.googleapis.com, push.services.mozilla.com,
    /// notify.windows.com, push.apple.com]
    #[arg(
        long = "push-service",
        env = "QLINE_PUSH_SERVICES",
        value_name = "HOST",
        value_delimiter = ','
    )]
    pub push_services: Vec<String>,

    /// With --seed-demo: days of past visits the new demo clinic starts with (Sundays
    /// off), so its analytics and wait estimates have history to show and learn from
    #[arg(
        long,
        env = "QLINE_DEMO_HISTORY_DAYS",
        default_value_t = 28,
        value_name = "DAYS"
    )]
    pub demo_history_days: u32,

    /// With --seed-demo: one password for the three demo logins instead of random ones.
    #[arg(long, env = "QLINE_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,
}

#[derive(Debug, Args)]
pub struct CreateAdminArgs {
    /// The admin's email address (their login).
    #[arg(long, env = "QLINE_ADMIN_EMAIL")]
    pub email: String,
    /// The admin's password, at least 8 characters. Prefer the environment variable to
    /// keep it out of the shell history.
    #[arg(long, env = "QLINE_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: String,
}

#[derive(Debug, Args)]
pub struct SeedDemoArgs {
    /// One password for all three demo logins; without it each gets a random one, printed once.
    #[arg(long, env = "QLINE_DEMO_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Days of past visits the demo clinic starts with (Sundays off), for analytics and
    /// the wait estimates to show and learn from.
    #[arg(
        long,
        env = "QLINE_DEMO_HISTORY_DAYS",
        default_value_t = 28,
        value_name = "DAYS"
    )]
    pub history_days: u32,
}

impl Cli {
    /// The database URL: the flag or QLINE_DATABASE_URL, else DATABASE_URL, else the default.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
    }

    pub async fn run(self) -> anyhow::Result<()> {
        let url = self.database_url();
        match self
            .command
            .unwrap_or_else(|| Command::Serve(ServeArgs::default_from_env()))
        {
            Command::Serve(args) => serve(&url, args).await,
            Command::Migrate => {
                let store = open(&url).await?;
                println!("Database {} is up to date.", redact(&url));
                store.close().await;
                Ok(())
            }
            Command::CreateAdmin(args) => {
                let store = open(&url).await?;
                let id = Tenants::new(store.clone())
                    .create_admin(&args.email, &args.password)
                    .await?;
                println!(
                    "Created platform admin {} (id {id}).",
                    args.email.trim().to_lowercase()
                );
                store.close().await;
                Ok(())
            }
            Command::Backup(args) => {
                if let Some(file) = sqlite_file(&url).filter(|f| !f.exists()) {
                    anyhow::bail!(
                        "there is no database at {}: nothing to back up",
                        file.display()
                    );
                }
                let store = Store::connect(&url).await?;
                let bytes = store.backup_to(&args.to).await;
                store.close().await;
                println!(
                    "Backed up {} to {} ({} bytes).",
                    redact(&url),
                    args.to.display(),
                    bytes?
                );
                Ok(())
            }
            Command::Purge(args) => {
                let store = open(&url).await?;
                let report = Tenants::new(store.clone())
                    .purge(args.retention_days, args.dry_run)
                    .await;
                store.close().await;
                let report = report?;
                if args.dry_run {
                    println!("Dry run: nothing was changed. A purge would remove:");
                } else {
                    println!("Purged personal data past its retention:");
                }
                println!("{report}");
                Ok(())
            }
            Command::SeedDemo(args) => {
                let store = open(&url).await?;
                let logins = Tenants::new(store.clone())
                    .seed_demo(args.password.as_deref())
                    .await?;
                crate::trace::seed_demo_history(&store, args.history_days).await?;
                print_logins(&logins);
                store.close().await;
                Ok(())
            }
            Command::Bench(args) => crate::bench::run(&url, args).await,
            Command::BenchEta(args) => crate::eta_bench::run(args).await,
            Command::BenchAnalytics(args) => {
                crate::analytics_bench::run(self.database_url.clone(), args).await
            }
            Command::Soak(args) => {
                scratch_only("qline soak", self.database_url.as_deref())?;
                crate::soak::run(args).await
            }
            Command::BenchTrackers(args) => {
                scratch_only("qline bench-trackers", self.database_url.as_deref())?;
                crate::tracker_bench::run(args).await
            }
            Command::GenTrace(args) => {
                print!(
                    "{}",
                    crate::trace::generate(&args).map_err(anyhow::Error::msg)?
                );
                Ok(())
            }
        }
    }
}

impl ServeArgs {
    /// `qline` with no command: the serve options from the environment alone.
    fn default_from_env() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::parse_from(["qline"]).serve
    }
}

/// Connects and applies pending migrations.
async fn open(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", redact(url)))?;
    store.migrate().await?;
    Ok(store)
}

impl ServeArgs {
    /// The proxies to believe: those named, or loopback with a bare --behind-proxy.
    fn trusted_proxies(&self) -> Vec<qline_app::domain::net::Cidr> {
        if self.trusted_proxies.is_empty() && self.behind_proxy {
            qline_app::domain::net::Cidr::loopback()
        } else {
            self.trusted_proxies.clone()
        }
    }
}

async fn serve(url: &str, args: ServeArgs) -> anyhow::Result<()> {
    let config_path = args.leptos_config.to_string_lossy().into_owned();
    let conf = leptos::prelude::get_configuration(Some(config_path.as_str()))
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.leptos_config.display()))?;
    let mut leptos_options = conf.leptos_options;
    if let Some(addr) = args.addr {
        leptos_options.site_addr = addr;
    }
    let addr = leptos_options.site_addr;
    crate::http::check_bundle(&leptos_options)?;
    if let Some(public) = &args.public_url {
        if !(public.starts_with("https://") || public.starts_with("http://")) {
            anyhow::bail!("--public-url must start with https:// or http:// (got {public:?})");
        }
    }
    let secrets = match &args.secret_key {
        Some(hex) => SecretBox::from_hex_key(hex)?,
        None => SecretBox::load_or_create(&args.secret_key_file)?,
    };
    let vapid = match (&args.vapid_public_key, &args.vapid_private_key) {
        (Some(public), Some(private)) => Vapid::from_base64url(public, private)?,
        _ => Vapid::load_or_create(&args.vapid_key_file)?,
    };
    let store = open(url).await?;
    if args.seed_demo {
        seed_demo_if_missing(
            &store,
            url,
            args.demo_password.as_deref(),
            args.demo_history_days,
        )
        .await?;
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    // With port 0 the system picks a free port: report the one actually bound.
    let addr = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let engine = Engine::new(store.clone()).with_public_url(&public_url);
    let endpoints = Endpoints {
        ultramsg: args.ultramsg_base_url.clone(),
        meta: args.meta_base_url.clone(),
        sms: args.sms_base_url.clone(),
    };
    let subject = args
        .vapid_subject
        .clone()
        .unwrap_or_else(|| match &args.public_url {
            Some(url) if url.starts_with("https://") => url.clone(),
            _ => {
                tracing::warn!(
                    "no --vapid-subject and no https --public-url: web push goes out with a \
                     placeholder contact, which Apple's push service may refuse"
                );
                "mailto:operator@qline.invalid".to_owned()
            }
        });
    let mut web_push = WebPush::new(vapid, subject);
    if !args.push_services.is_empty() {
        web_push.services = args.push_services.clone();
    }
    let messenger = Messenger::new(engine.clone(), secrets, endpoints).with_push(web_push);
    let fingerprinted = messenger.fingerprint_verify_tokens().await?;
    if fingerprinted > 0 {
        tracing::info!(
            accounts = fingerprinted,
            "fingerprinted the verify tokens of Meta accounts saved by an earlier version"
        );
    }
    if args.seed_demo {
        let demo = qline_app::domain::Slug::parse(tenant::DEMO_SLUG)?;
        if let Some(clinic) = store.clinic_by_slug(&demo).await? {
            messenger.connect_log_provider(&clinic).await?;
        }
    }
    // Its own listener, bound before serving starts, so a taken port stops the start.
    let metrics = match args.metrics_addr {
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen for metrics on {at}: {e}"))?;
            let routes = crate::metrics::router(
                crate::metrics::recorder()?,
                store.clone(),
                engine.clock().clone(),
            );
            Some((listener, routes))
        }
        None => None,
    };
    let (stop_worker, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(messenger.clone().run(stopped.clone()));
    // Each queue day with opening hours closes itself at its closing time.
    let closer = tokio::spawn(engine.clone().run_closing(stopped.clone()));
    let tenants = Tenants::new(store.clone())
        .with_clock(engine.clock().clone())
        .with_retention(args.retention_days);
    let trusted_proxies = std::sync::Arc::new(args.trusted_proxies());
    let app = router(AppState {
        leptos_options,
        engine,
        messenger,
        trusted_proxies: trusted_proxies.clone(),
        public_url: args.public_url.clone(),
        request_timeout: Duration::from_secs(args.request_timeout),
        retention: args.retention_days,
    });
    tracing::info!(%addr, database = store.backend(), "Qline is serving");
    if !crate::logs::json() {
        println!("Qline is serving on http://{addr}");
    }
    if let Some((listener, metrics)) = metrics {
        let at = listener.local_addr()?;
        tracing::info!(%at, "Metrics are served");
        if !crate::logs::json() {
            println!("Metrics are served on http://{at}/metrics");
        }
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    // The first purge starts once the server says it is serving, not before.
    let purger = tokio::spawn(tenants.run_retention(
        args.retention_days,
        Duration::from_secs(args.purge_every_minutes * 60),
        stopped,
    ));
    let limits = crate::listen::Limits {
        header_timeout: Duration::from_secs(args.header_timeout),
        connections_per_network: crate::listen::CONNECTIONS_PER_NETWORK,
        shutdown_grace: crate::listen::SHUTDOWN_GRACE,
        trusted_proxies,
    };
    crate::listen::serve(listener, app, limits, shutdown_signal()).await;
    // The worker claims nothing more and finishes the sends under way.
    let _ = stop_worker.send(true);
    let _ = worker.await;
    let _ = closer.await;
    let _ = purger.await;
    store.close().await;
    Ok(())
}

async fn seed_demo_if_missing(
    store: &Store,
    url: &str,
    password: Option<&str>,
    history_days: u32,
) -> anyhow::Result<()> {
    let saved = sqlite_file(url).and_then(|file| file.parent().map(|p| p.join("demo-logins.txt")));
    match Tenants::new(store.clone()).seed_demo(password).await {
        Ok(logins) => {
            crate::trace::seed_demo_history(store, history_days).await?;
            print_logins(&logins);
            if let Some(file) = saved {
                write_private(&file, &logins_text(&logins))?;
                println!("(Also saved to {}.)", file.display());
            }
            Ok(())
        }
        Err(TenantError::SlugTaken(_)) => {
            match saved.filter(|f| f.exists()) {
                Some(file) => println!(
                    "The demo clinic is set up; its logins are in {}.",
                    file.display()
                ),
                None => println!(
                    "The demo clinic is set up; its logins were printed when it was created."
                ),
            }
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn logins_text(l: &DemoLogins) -> String {
    let row = |role: &str, (email, password): &(String, String)| {
        format!("  {role:<16} {email:<18} {password}\n")
    };
    format!(
        "Demo Clinic is ready: patients join at /c/demo. Staff logins (shown once):\n{}{}{}",
        row("platform admin", &l.admin),
        row("clinic owner", &l.owner),
        row("receptionist", &l.desk)
    )
}

fn print_logins(l: &DemoLogins) {
    println!("{}", logins_text(l));
}

fn write_private(file: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(file)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// Hides the password in a database URL before it is printed or logged.
/// The file of a `sqlite://` URL.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    url.strip_prefix("sqlite://")
        .map(|path| PathBuf::from(path.split('?').next().unwrap_or(path)))
}

pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Refuses a database for a command that writes only to a scratch one it makes itself.
fn scratch_only(command: &str, database_url: Option<&str>) -> anyhow::Result<()> {
    match database_url {
        Some(url) => anyhow::bail!(
            "{command} makes its own scratch database and drops it afterwards; it never \
             runs against a database it did not create, so it does not take \
             --database-url or QLINE_DATABASE_URL (given: {}). Leave it out; \
             --postgres-url names the PostgreSQL server to make the scratch one on.",
            redact(url)
        ),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("postgres://qline:s3cret@db:5432/qline"),
            "postgres://qline:***@db:5432/qline"
        );
        assert_eq!(redact("sqlite://data/qline.db"), "sqlite://data/qline.db");
    }

    #[test]
    fn the_flag_beats_the_environment_default() {
        let cli = Cli::parse_from(["qline", "--database-url", "sqlite://x.db", "migrate"]);
        assert_eq!(cli.database_url(), "sqlite://x.db");
    }
}
