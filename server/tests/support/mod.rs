//! What every test needs: a fresh database on either backend, a clinic with staff, and
//! (for HTTP tests) the real app listening on a free port.
//!
//! PostgreSQL tests use `QLINE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) to create a database of their own.
//! They fail, never skip, when no server answers: `make test` starts one if needed.
#![allow(dead_code)]

pub mod meta;
pub mod standin;

use leptos::prelude::LeptosOptions;
use qline_app::domain::*;
use qline_app::messaging::provider::Endpoints;
use qline_app::messaging::push::Vapid;
use qline_app::messaging::secrets::SecretBox;
use qline_app::messaging::{Messenger, WebPush};
use qline_app::queue::engine::{Engine, JoinRequest};
use qline_app::storage::{NewClinic, NewQueue, NewStaff, Store};
use qline_server::{router, AppState};
use rand::Rng;

pub struct TestDb {
    pub store: Store,
    drop_pg: Option<(String, String)>,
    sqlite_file: Option<std::path::PathBuf>,
}

fn random_suffix() -> String {
    let mut rng = rand::rng();
    (0..10)
        .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
        .collect()
}

pub fn postgres_admin_url() -> String {
    std::env::var("QLINE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let db = Self::sqlite_unmigrated().await;
        db.store.migrate().await.expect("migrate sqlite");
        db
    }

    pub async fn sqlite_unmigrated() -> Self {
        let file = std::env::temp_dir().join(format!("qline-test-{}.db", random_suffix()));
        let store = Store::connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("open sqlite");
        Self {
            store,
            drop_pg: None,
            sqlite_file: Some(file),
        }
    }

    pub async fn postgres() -> Self {
        let db = Self::postgres_unmigrated().await;
        db.store.migrate().await.expect("migrate postgres");
        db
    }

    pub async fn postgres_unmigrated() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("qline_test_{}", random_suffix());
        let admin = Store::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {admin_url} ({e}). The PostgreSQL half of the suite \
                 never skips: run `make test`, which starts a throwaway server when none runs, or set \
                 QLINE_TEST_POSTGRES_URL."
            )
        });
        let Store::Postgres(pool) = &admin else {
            unreachable!("a postgres URL opens a postgres store")
        };
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(pool)
            .await
            .expect("create test database");
        admin.close().await;
        let url = database_url_with_name(&admin_url, &name);
        let store = Store::connect(&url).await.expect("open test database");
        Self {
            store,
            drop_pg: Some((admin_url, name)),
            sqlite_file: None,
        }
    }

    /// The URL another process opens this database with.
    pub fn url(&self) -> String {
        match (&self.drop_pg, &self.sqlite_file) {
            (Some((admin, name)), _) => database_url_with_name(admin, name),
            (None, Some(file)) => format!("sqlite://{}", file.display()),
            (None, None) => unreachable!("a test database is one or the other"),
        }
    }

    /// The SQLite file, for tests that read it raw.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        self.sqlite_file.as_deref()
    }

    /// Closes the store and removes the database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.drop_pg {
            if let Ok(Store::Postgres(pool)) = Store::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        }
        if let Some(file) = self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

fn database_url_with_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// The same database as another app instance would open it: on PostgreSQL a pool of its
/// own; SQLite is served by one instance only, so the same store.
pub async fn second_instance(store: &Store) -> Store {
    match store {
        Store::Postgres(pool) => Store::Postgres(
            sqlx::postgres::PgPool::connect_with(pool.connect_options().as_ref().clone())
                .await
                .expect("a second pool"),
        ),
        Store::Sqlite(_) => store.clone(),
    }
}

/// An HTTP client that answers redirects instead of following them, as the tests read
/// where the app sends the browser.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts the real app on a free loopback port and returns its base URL.
pub async fn spawn_app(store: Store) -> String {
    spawn_app_with(store, Endpoints::default()).await.0
}

/// The sealing key of every test server.
pub const TEST_SECRET_KEY: &str =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// Starts the app with its providers at `endpoints`; also returns its messenger, whose
/// outbox the test drives (`work_once`) instead of a background worker.
pub async fn spawn_app_with(store: Store, endpoints: Endpoints) -> (String, Messenger) {
    spawn_app_serving(store, endpoints, Serving::default()).await
}

/// As `spawn_app_with`, the app reading the time from `clock` (a test moves it by hand).
pub async fn spawn_app_on(store: Store, endpoints: Endpoints, clock: Clock) -> (String, Messenger) {
    let serving = Serving {
        clock,
        ..Serving::default()
    };
    spawn_app_serving(store, endpoints, serving).await
}

/// How a test server faces the network, beyond its store and providers.
pub struct Serving {
    pub trusted_proxies: Vec<qline_app::domain::net::Cidr>,
    pub public_url: Option<String>,
    pub header_timeout: std::time::Duration,
    pub request_timeout: std::time::Duration,
    pub clock: Clock,
}

impl Default for Serving {
    fn default() -> Self {
        Serving {
            trusted_proxies: Vec::new(),
            public_url: None,
            header_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(30),
            clock: Clock::default(),
        }
    }
}

/// Starts the app as `serving` says, behind the same listener `qline serve` uses.
pub async fn spawn_app_serving(
    store: Store,
    endpoints: Endpoints,
    serving: Serving,
) -> (String, Messenger) {
    let leptos_options = LeptosOptions::builder()
        .output_name("qline")
        .site_root("target/site")
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let engine = Engine::new(store)
        .with_public_url(&format!("http://{addr}"))
        .with_clock(serving.clock);
    let secrets = SecretBox::from_hex_key(TEST_SECRET_KEY).expect("test key");
    // The tests' push services answer on loopback.
    let mut web_push = WebPush::new(Vapid::generate(), "mailto:tests@qline.invalid".into());
    web_push.services = vec!["127.0.0.1".into()];
    let messenger = Messenger::new(engine.clone(), secrets, endpoints).with_push(web_push);
    let trusted_proxies = std::sync::Arc::new(serving.trusted_proxies);
    let app = router(AppState {
        leptos_options,
        engine,
        messenger: messenger.clone(),
        trusted_proxies: trusted_proxies.clone(),
        public_url: serving.public_url,
        request_timeout: serving.request_timeout,
        retention: Default::default(),
    });
    let limits = qline_server::listen::Limits {
        header_timeout: serving.header_timeout,
        connections_per_network: qline_server::listen::CONNECTIONS_PER_NETWORK,
        shutdown_grace: qline_server::listen::SHUTDOWN_GRACE,
        trusted_proxies,
    };
    tokio::spawn(qline_server::listen::serve(
        listener,
        app,
        limits,
        std::future::pending(),
    ));
    (format!("http://{addr}"), messenger)
}

/// A clinic with two queues, an owner and two receptionists.
pub struct Clinic {
    pub id: ClinicId,
    pub general: QueueId,
    pub dental: QueueId,
    pub owner: StaffUser,
    pub desk: StaffUser,
    pub desk2: StaffUser,
}

/// A walk-in the desk adds: a name, no phone.
pub fn walk_in(queue: QueueId, name: &str) -> JoinRequest {
    JoinRequest {
        queue_id: queue,
        name: name.into(),
        phone: None,
        language: Language::En,
        emergency: false,
    }
}

pub async fn clinic(store: &Store, slug: &str, settings: ClinicSettings) -> Clinic {
    let now = Timestamp::now();
    let mut tx = store.begin().await.expect("begin");
    let new = NewClinic {
        slug: Slug::parse(slug).expect("test slug"),
        name: format!("{slug} clinic"),
        address: String::new(),
        contact_phone: String::new(),
        timezone: "Asia/Kolkata".parse().unwrap(),
        status: ClinicStatus::Active,
        settings,
    };
    let id = tx.insert_clinic(&new, now).await.expect("insert clinic");
    let general = tx
        .insert_queue(
            id,
            &NewQueue {
                name: "General".into(),
                prefix: "A".into(),
                default_service_minutes: None,
                position: 0,
                rooms: Vec::new(),
                hours: Default::default(),
            },
            now,
        )
        .await
        .expect("insert queue");
    let dental = tx
        .insert_queue(
            id,
            &NewQueue {
                name: "Dental".into(),
                prefix: "D".into(),
                default_service_minutes: None,
                position: 1,
                rooms: Vec::new(),
                hours: Default::default(),
            },
            now,
        )
        .await
        .expect("insert queue");
    let mut staff = Vec::new();
    for (who, role) in [
        ("owner", Role::Owner),
        ("desk", Role::Receptionist),
        ("desk2", Role::Receptionist),
    ] {
        let email = format!("{who}@{slug}.test");
        let new = NewStaff {
            clinic: Some(id),
            email: email.clone(),
            password_hash: "not-a-login".into(),
            role,
        };
        let uid = tx.insert_staff(&new, now).await.expect("insert staff");
        staff.push(StaffUser {
            id: uid,
            clinic_id: Some(id),
            email,
            role,
            active: true,
            must_change_password: false,
        });
    }
    tx.commit().await.expect("commit");
    let mut staff = staff.into_iter();
    Clinic {
        id,
        general,
        dental,
        owner: staff.next().unwrap(),
        desk: staff.next().unwrap(),
        desk2: staff.next().unwrap(),
    }
}

/// Generates one `#[tokio::test]` per story and backend: `sqlite::story`, `postgres::story`.
#[macro_export]
macro_rules! on_both_backends {
    ($($story:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $story() {
                    let db = $crate::support::TestDb::sqlite().await;
                    super::$story(db.store.clone()).await;
                    db.cleanup().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $story() {
                    let db = $crate::support::TestDb::postgres().await;
                    super::$story(db.store.clone()).await;
                    db.cleanup().await;
                }
            )+
        }
    };
}

/// Everything the server sends on `stream` until it closes the connection; `None` if it
/// is still open after `limit`.
pub async fn closed_within(
    stream: &mut tokio::net::TcpStream,
    limit: std::time::Duration,
) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return seen,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()
}

/// The desk's view of a queue, as the signed-in `cookie` asks for it.
pub async fn desk_view(
    base: &str,
    cookie: &str,
    queue: impl std::fmt::Display,
) -> reqwest::Response {
    http()
        .post(format!("{base}/api/desk"))
        .header(reqwest::header::COOKIE, cookie)
        .form(&[("queue_id", queue.to_string())])
        .send()
        .await
        .unwrap()
}
