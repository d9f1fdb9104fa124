//! The real `qline serve` process on SQLite and PostgreSQL: a client that never finishes
//! its headers is cut off, and on SIGTERM the server stops accepting, finishes the
//! request in flight and exits cleanly.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A `qline serve` child process and the lines it logs.
struct Server {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
    _dir: tempdir::Dir,
}

mod tempdir {
    /// A scratch folder removed when dropped.
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!(
                "qline-process-{}-{}",
                std::process::id(),
                rand::random::<u64>()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Server {
    fn start(database_url: Option<String>) -> Server {
        Server::start_with(database_url, &[], "info")
    }

    /// A server with more arguments, logging at the `QLINE_LOG` levels given.
    fn start_with(database_url: Option<String>, args: &[&str], log: &str) -> Server {
        let dir = tempdir::Dir::new();
        // The server only checks that the bundle is there; these tests load no page's script.
        let pkg = dir.0.join("site/pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        for file in [
            "qline.js",
            "qline.wasm",
            "qline.css",
            "patient.js",
            "patient.wasm",
        ] {
            std::fs::write(pkg.join(file), b"").unwrap();
        }
        let database_url = database_url
            .unwrap_or_else(|| format!("sqlite://{}", dir.0.join("qline.db").display()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_qline"))
            .args(["serve", "--addr", "127.0.0.1:0", "--header-timeout", "1"])
            .arg("--leptos-config")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../Leptos.toml"))
            .arg("--secret-key-file")
            .arg(dir.0.join("secret.key"))
            .arg("--vapid-key-file")
            .arg(dir.0.join("vapid.json"))
            .args(args)
            .env("QLINE_DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ROOT", dir.0.join("site"))
            .env("LEPTOS_HASH_FILES", "false")
            .env("QLINE_LOG", log)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start qline serve");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            addr: String::new(),
            lines,
            _dir: dir,
        };
        let serving = server.wait_for("Qline is serving");
        server.addr = match serde_json::from_str::<serde_json::Value>(&serving) {
            // JSON logs name the address in a field of the line.
            Ok(line) => line["addr"].as_str().unwrap().to_owned(),
            Err(_) => {
                let serving = server.wait_for("Qline is serving on http://");
                serving.rsplit("http://").next().unwrap().trim().to_owned()
            }
        };
        server
    }

    /// The first logged line containing `text` (the server's own progress, not a timer).
    fn wait_for(&self, text: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => continue,
                Err(e) => panic!("the server never logged {text:?}: {e}"),
            }
        }
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn slow_clients_are_cut_off_and_a_stop_finishes_what_is_in_flight(
    database_url: Option<String>,
) {
    let mut server = Server::start(database_url);
    let healthy = reqwest::get(format!("http://{}/healthz", server.addr))
        .await
        .unwrap();
    assert_eq!(healthy.status(), 200);

    // Headers that never finish: closed after the one-second header timeout, unanswered.
    let mut slow = TcpStream::connect(&server.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Never: ")
        .await
        .unwrap();
    let cut = support::closed_within(&mut slow, Duration::from_secs(20))
        .await
        .map(|seen| String::from_utf8_lossy(&seen).into_owned())
        .expect("a half-sent request is closed");
    assert!(!cut.contains("200 OK"), "{cut}");

    // A request in flight when the stop comes: its body is half sent. It asks for `100
    // Continue`, which the server sends once its handler reads the body: from then on the
    // request is in flight, not merely bytes the server has yet to read.
    let body = "slug=nowhere&queue_id=1&name=Asha&phone=9876543210&language=en";
    let (first, rest) = body.split_at(20);
    let mut in_flight = TcpStream::connect(&server.addr).await.unwrap();
    in_flight
        .write_all(
            format!(
                "POST /api/join HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
                server.addr,
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let go_on = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut seen = [0u8; 25];
    tokio::time::timeout(Duration::from_secs(20), in_flight.read_exact(&mut seen))
        .await
        .expect("the server reads the body within the deadline")
        .unwrap();
    assert_eq!(&seen, go_on, "{}", String::from_utf8_lossy(&seen));
    in_flight.write_all(first.as_bytes()).await.unwrap();
    server.terminate();
    server.wait_for("stopping: finishing the requests in flight");
    // No new connections once stopping…
    assert!(
        TcpStream::connect(&server.addr).await.is_err(),
        "the listener is closed"
    );
    // …but the request in flight gets its answer.
    in_flight.write_all(rest.as_bytes()).await.unwrap();
    let answer = support::closed_within(&mut in_flight, Duration::from_secs(20))
        .await
        .map(|seen| String::from_utf8_lossy(&seen).into_owned())
        .expect("answered and closed");
    assert!(
        answer.starts_with("HTTP/1.1 404"),
        "the join to an unknown clinic is answered: {answer}"
    );
    let status = server.child.wait().unwrap();
    assert!(status.success(), "a clean exit: {status}");
}

#[tokio::test]
async fn sqlite_slow_clients_are_cut_off_and_a_stop_finishes_what_is_in_flight() {
    slow_clients_are_cut_off_and_a_stop_finishes_what_is_in_flight(None).await;
}

#[tokio::test]
async fn postgres_slow_clients_are_cut_off_and_a_stop_finishes_what_is_in_flight() {
    let db = support::TestDb::postgres().await;
    let url = db.url();
    slow_clients_are_cut_off_and_a_stop_finishes_what_is_in_flight(Some(url)).await;
    db.cleanup().await;
}

/// `qline backup` run by hand, with the database URL in its environment.
fn backup(database_url: &str, to: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_qline"))
        .arg("backup")
        .arg("--to")
        .arg(to)
        .env("QLINE_DATABASE_URL", database_url)
        .env("QLINE_LOG", "warn")
        .output()
        .expect("run qline backup")
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_to_the_same_clinic_and_tokens() {
    use qline_app::domain::ClinicSettings;
    use qline_app::queue::engine::{Actor, Engine};
    use qline_app::queue::rules::StaffAction;
    use std::os::unix::fs::PermissionsExt;

    let dir = tempdir::Dir::new();
    let url = format!("sqlite://{}", dir.0.join("qline.db").display());
    let store = qline_app::storage::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let c = support::clinic(&store, "backup", ClinicSettings::default()).await;
    let engine = Engine::new(store.clone());
    let mut tokens = Vec::new();
    for name in ["Asha", "Ravi", "Meena"] {
        let applied = engine
            .create_token(Actor::Staff(&c.desk), support::walk_in(c.general, name))
            .await
            .unwrap();
        tokens.push(applied.created.unwrap().1);
    }
    engine
        .act(
            &c.desk,
            c.general,
            StaffAction::Next {
                expected_serving: None,
                room: None,
            },
        )
        .await
        .unwrap();
    store.close().await;

    // Copied while a server runs on the database, into a folder that does not exist yet.
    let server = Server::start(Some(url.clone()));
    let copy = dir.0.join("backups").join("qline-copy.db");
    let done = backup(&url, &copy);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains("Backed up"));
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(format!("{mode:o}"), "600", "the copy holds patients' names");

    // A second copy to the same file is refused and leaves the first whole.
    let first = std::fs::read(&copy).unwrap();
    let again = backup(&url, &copy);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&copy).unwrap(), first);
    drop(server);

    // Restored: a server on the copy shows the clinic and every token where it was.
    let restored = Server::start(Some(format!("sqlite://{}", copy.display())));
    let http = support::http();
    let page = http
        .get(format!("http://{}/c/backup", restored.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("backup clinic"));
    let mut shown = Vec::new();
    for public_id in &tokens {
        let view: serde_json::Value = http
            .get(format!("http://{}/api/t/{public_id}", restored.addr))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        shown.push(format!("{} {}", view["token"], view["phase"]));
    }
    assert_eq!(
        shown,
        [
            r#""A-1" "YourTurn""#,
            r#""A-2" "Waiting""#,
            r#""A-3" "Waiting""#
        ]
    );
}

#[tokio::test]
async fn a_backup_needs_a_sqlite_database_that_exists() {
    let dir = tempdir::Dir::new();
    let to = dir.0.join("copy.db");

    let missing = format!("sqlite://{}", dir.0.join("none.db").display());
    let refused = backup(&missing, &to);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing to back up"));
    assert!(!dir.0.join("none.db").exists(), "no empty database made");

    let refused = backup(&support::postgres_admin_url(), &to);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pg_dump"));
    assert!(!to.exists());
}

/// A SQLite database in `dir` with a clinic `slug` and one patient waiting: its URL, the
/// clinic and the patient's public id.
async fn clinic_with_a_patient(
    dir: &tempdir::Dir,
    slug: &str,
) -> (String, support::Clinic, String) {
    use qline_app::domain::ClinicSettings;
    use qline_app::queue::engine::{Actor, Engine};

    let url = format!("sqlite://{}", dir.0.join("qline.db").display());
    let store = qline_app::storage::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let c = support::clinic(&store, slug, ClinicSettings::default()).await;
    let applied = Engine::new(store.clone())
        .create_token(Actor::Staff(&c.desk), support::walk_in(c.general, "Asha"))
        .await
        .unwrap();
    store.close().await;
    (url, c, applied.created.unwrap().1.to_string())
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_the_request_and_its_clinic() {
    let dir = tempdir::Dir::new();
    let (url, c, public_id) = clinic_with_a_patient(&dir, "logs").await;

    let server = Server::start_with(
        Some(url),
        &["--log-format", "json"],
        "info,qline_server=debug",
    );
    let polled = support::http()
        .get(format!("http://{}/api/t/{public_id}", server.addr))
        .header("x-request-id", "poll-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(polled.status(), 200);
    assert_eq!(polled.headers()["x-request-id"], "poll-7f3a");
    let missing = support::http()
        .get(format!("http://{}/api/t/no-such-token", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let minted = missing.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        minted.len(),
        16,
        "an id of our own when the caller sends none"
    );

    // Every line up to the second request's answer is a JSON object.
    let mut lines = Vec::new();
    loop {
        let line = server
            .lines
            .recv_timeout(Duration::from_secs(60))
            .expect("a log line");
        let value: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        let done = value["span"]["id"] == minted.as_str();
        lines.push(value);
        if done {
            break;
        }
    }
    let poll = lines
        .iter()
        .find(|l| l["span"]["id"] == "poll-7f3a" && l["message"] == "answered")
        .expect("the poll's answer is logged");
    assert_eq!(poll["status"], 200);
    assert_eq!(poll["level"], "DEBUG");
    assert_eq!(poll["span"]["clinic_id"], c.id.get());
    assert_eq!(poll["span"]["path"], "/api/t/{public_id}");
    assert!(
        lines.iter().all(|l| !l.to_string().contains(&public_id)),
        "a tracker link is never logged whole"
    );
}

/// The value of the sample of `name` whose labels include `labels`, in Prometheus text.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn metrics_are_served_apart_from_the_app_and_move_with_the_day() {
    let dir = tempdir::Dir::new();
    let (url, c, public_id) = clinic_with_a_patient(&dir, "metrics").await;

    let server = Server::start_with(Some(url), &["--metrics-addr", "127.0.0.1:0"], "info");
    let line = server.wait_for("Metrics are served on http://");
    server.wait_for("retention: purged personal data");
    let metrics_url = line.rsplit(' ').next().unwrap().to_owned();
    let http = support::http();
    let scrape = || async {
        let answer = http.get(&metrics_url).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        answer.text().await.unwrap()
    };
    let app = format!("http://{}", server.addr);
    let on_app_port = http.get(format!("{app}/metrics")).send().await.unwrap();
    assert_eq!(on_app_port.status(), 404, "never on the app's port");

    // A patient's tracker: a fresh answer, then the same one unchanged.
    let first = http
        .get(format!("{app}/api/t/{public_id}"))
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = http
        .get(format!("{app}/api/t/{public_id}"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // A patient joins from the QR page; another types a number that is no number.
    let join = |phone: &'static str| {
        http.post(format!("{app}/api/join"))
            .header("referer", format!("{app}/c/metrics"))
            .form(&[
                ("slug", "metrics".to_owned()),
                ("queue_id", c.general.to_string()),
                ("name", "Bina".to_owned()),
                ("phone", phone.to_owned()),
                ("language", "en".to_owned()),
            ])
            .send()
    };
    let joined = join("98765 43210").await.unwrap().status();
    assert!(joined.is_success() || joined.is_redirection(), "{joined}");
    assert_eq!(join("12").await.unwrap().status(), 400);

    let text = scrape().await;
    let polls = |answer| sample(&text, "qline_tracker_polls_total", &[("answer", answer)]);
    assert_eq!(
        (polls("200"), polls("304")),
        (Some(1.0), Some(1.0)),
        "{text}"
    );
    let actions = |outcome| {
        sample(
            &text,
            "qline_queue_actions_total",
            &[("action", "ADD_TOKEN"), ("outcome", outcome)],
        )
    };
    assert_eq!(
        (actions("applied"), actions("refused")),
        (Some(1.0), Some(1.0))
    );
    assert_eq!(
        sample(&text, "qline_tokens_created_total", &[("source", "QR")]),
        Some(1.0)
    );
    let requests = sample(
        &text,
        "qline_http_requests_total",
        &[("route", "/api/t/{public_id}"), ("status", "304")],
    );
    assert_eq!(requests, Some(1.0));
    assert!(
        sample(
            &text,
            "qline_http_request_duration_seconds_count",
            &[("route", "/api/t/{public_id}")]
        ) == Some(2.0)
    );
    assert_eq!(sample(&text, "qline_database_up", &[]), Some(1.0));
    assert_eq!(
        sample(&text, "qline_retention_runs_total", &[("outcome", "ok")]),
        Some(1.0),
        "the purge ran once as the server started"
    );
    assert!(sample(&text, "qline_outbox_unsettled", &[]).is_some());
    assert!(sample(&text, "qline_db_begin_wait_seconds_count", &[]).unwrap() >= 1.0);
}

fn purge(database_url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qline"))
        .arg("purge")
        .args(args)
        .env("QLINE_DATABASE_URL", database_url)
        .env("QLINE_LOG", "warn")
        .output()
        .expect("run qline purge");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn qline_purge_prints_what_it_removes_and_a_dry_run_removes_nothing() {
    use qline_app::domain::{ClinicSettings, Clock, Timestamp};
    use qline_app::queue::engine::{Actor, Engine};

    let dir = tempdir::Dir::new();
    let url = format!("sqlite://{}", dir.0.join("qline.db").display());
    let store = qline_app::storage::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let c = support::clinic(&store, "purged", ClinicSettings::default()).await;
    let ten_days_ago = Timestamp(Timestamp::now().millis() - 10 * 86_400_000);
    let mut old = support::walk_in(c.general, "Asha Rao");
    old.phone = Some("+919812345678".into());
    Engine::new(store.clone())
        .with_clock(Clock::manual(ten_days_ago))
        .create_token(Actor::Staff(&c.desk), old)
        .await
        .unwrap();
    Engine::new(store.clone())
        .create_token(
            Actor::Staff(&c.desk),
            support::walk_in(c.general, "Ravi Kumar"),
        )
        .await
        .unwrap();
    store.close().await;
    let tokens_line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("tokens anonymised:"))
            .map(|l| l.split_whitespace().last().unwrap().to_owned())
    };

    let (ok, text) = purge(&url, &["--retention-days", "0"]);
    assert!(!ok && text.contains("1 to 3650"), "{text}");

    let (ok, text) = purge(&url, &["--dry-run", "--retention-days", "5"]);
    assert!(ok, "{text}");
    assert!(text.contains("Dry run: nothing was changed"), "{text}");
    assert_eq!(tokens_line(&text).as_deref(), Some("1"), "{text}");
    let (ok, text) = purge(&url, &["--retention-days", "5"]);
    assert!(ok, "{text}");
    assert_eq!(
        tokens_line(&text).as_deref(),
        Some("1"),
        "the dry run changed nothing: {text}"
    );
    let (_, text) = purge(&url, &["--retention-days", "5"]);
    assert_eq!(tokens_line(&text).as_deref(), Some("0"), "{text}");

    let store = qline_app::storage::Store::connect(&url).await.unwrap();
    let names: Vec<String> = match &store {
        qline_app::storage::Store::Sqlite(db) => {
            sqlx::query_scalar("SELECT patient_name FROM tokens ORDER BY id")
                .fetch_all(&db.pool)
                .await
                .unwrap()
        }
        qline_app::storage::Store::Postgres(_) => unreachable!(),
    };
    assert_eq!(
        names,
        ["", "Ravi Kumar"],
        "only the old token lost its name"
    );
    store.close().await;
}
