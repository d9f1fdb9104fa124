//! The processes under test: `qline serve` instances this harness starts and kills, and a
//! gate in front of PostgreSQL that can cut the database off (an outage) and let it back.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::task::AbortHandle;

/// How long an instance may take to start serving.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// A TCP gate on loopback in front of the database server. Open, it forwards; shut, it
/// drops every connection it carries and every new one, as a stopped server does.
#[derive(Clone)]
pub struct Gate {
    pub addr: SocketAddr,
    open: Arc<AtomicBool>,
    carried: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Gate {
    pub async fn start(upstream: String) -> anyhow::Result<Gate> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let gate = Gate {
            addr: listener.local_addr()?,
            open: Arc::new(AtomicBool::new(true)),
            carried: Default::default(),
        };
        let serving = gate.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !serving.open.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                let mut carried = serving.carried.lock().expect("gate");
                carried.retain(|t| !t.is_finished());
                carried.push(task.abort_handle());
                drop(carried);
                // Shut while this one was being let in: it goes with the rest.
                if !serving.open.load(Ordering::SeqCst) {
                    task.abort();
                }
            }
        });
        Ok(gate)
    }

    /// The database goes away: open connections break, new ones are refused.
    pub fn shut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for task in self.carried.lock().expect("gate").drain(..) {
            task.abort();
        }
    }

    pub fn reopen(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// How every instance is started: the same database, key and provider address.
#[derive(Clone)]
pub struct Recipe {
    pub database_url: String,
    pub secret_key: String,
    pub ultramsg: String,
    pub dir: PathBuf,
}

/// One `qline serve` process on a fixed loopback port (a restart takes the same one).
pub struct Instance {
    pub index: usize,
    pub addr: SocketAddr,
    child: Option<Child>,
    pub starts: u32,
}

impl Instance {
    pub fn new(index: usize, addr: SocketAddr) -> Self {
        Self {
            index,
            addr,
            child: None,
            starts: 0,
        }
    }

    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts the process and waits (with a deadline) until it says it is serving.
    pub async fn start(&mut self, recipe: &Recipe) -> anyhow::Result<()> {
        // `qline serve` reads Leptos.toml and the built site from its working folder.
        let config = std::env::var("QLINE_LEPTOS_CONFIG").unwrap_or_else(|_| "Leptos.toml".into());
        anyhow::ensure!(
            std::path::Path::new(&config).exists(),
            "{config} not found: run this from the repository root (the folder with Leptos.toml \
             and target/site), or set QLINE_LEPTOS_CONFIG"
        );
        let log_path = recipe.dir.join(format!("instance-{}.log", self.index));
        let open_log = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
        };
        let log = open_log()?;
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve", "--addr", &self.addr.to_string()])
            .env("QLINE_DATABASE_URL", &recipe.database_url)
            .env("QLINE_SECRET_KEY", &recipe.secret_key)
            .env("QLINE_VAPID_KEY_FILE", recipe.dir.join("vapid.json"))
            .env("QLINE_ULTRAMSG_BASE_URL", &recipe.ultramsg)
            .env("QLINE_PUSH_SERVICES", "127.0.0.1")
            .env("QLINE_LOG", "warn")
            .env_remove("QLINE_SEED_DEMO")
            .env_remove("QLINE_ADDR")
            .env_remove("QLINE_PUBLIC_URL")
            .env_remove("QLINE_BEHIND_PROXY")
            .env_remove("QLINE_TRUSTED_PROXIES")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let serving = tokio::time::timeout(START_DEADLINE, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("serving on") {
                    return true;
                }
            }
            false
        })
        .await;
        if serving != Ok(true) {
            let _ = child.start_kill();
            anyhow::bail!(
                "instance {} did not start serving on {} within {} s; see {}",
                self.index,
                self.addr,
                START_DEADLINE.as_secs(),
                recipe
                    .dir
                    .join(format!("instance-{}.log", self.index))
                    .display()
            );
        }
        // Its log (standard output) goes on into the file, so the pipe never fills.
        let mut log = open_log()?;
        tokio::spawn(async move {
            use std::io::Write;
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = writeln!(log, "{line}");
            }
        });
        self.child = Some(child);
        self.starts += 1;
        Ok(())
    }

    /// `kill -9`: no shutdown, no drain, claims and transactions left as they are.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.start_kill()?;
            child.wait().await?;
        }
        Ok(())
    }

    /// A clean stop at the end of the run (SIGTERM, then the drain).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                // SAFETY: signalling a child process this harness started and still owns.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            }
            if tokio::time::timeout(Duration::from_secs(20), child.wait())
                .await
                .is_err()
            {
                let _ = child.start_kill();
            }
        }
    }
}

/// A free loopback port for an instance.
pub fn free_port() -> anyhow::Result<SocketAddr> {
    let socket = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(socket.local_addr()?)
}
