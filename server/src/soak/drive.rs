//! The clinic morning, driven over HTTP through every instance at once: patients join in
//! bursts and follow their trackers on the tracker page's own schedule, some write on
//! WhatsApp or cancel, two desks per queue press NEXT, SKIP, RECALL and UNDO with the
//! expected-serving check, and strangers try to get past the per-network and per-phone
//! limits. Every request is counted by what it was, which instance answered and how.

use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// A client gives up on an answer after this long (a hang, not a refusal).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a client keeps an idle connection: shorter than the server's keep-alive (its
/// header timeout, 10 s), so a connection the server is closing is never reused.
pub const CLIENT_IDLE: Duration = Duration::from_secs(4);

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// 2xx or 304.
    Done,
    /// 4xx: the server refused it and said why.
    Refused,
    /// 503: the server said it cannot answer now.
    Unavailable,
    /// Another 5xx.
    Failed,
    /// Sent, but no answer came (the instance died, or the client gave up).
    Unknown,
    /// No instance took the connection.
    Unreached,
}

/// What an answered request said.
pub struct Answer {
    pub outcome: Outcome,
    pub status: Option<StatusCode>,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

/// One request as the client saw it, for the outage's timeline.
#[derive(Clone, Copy)]
pub struct Seen {
    pub what: &'static str,
    pub sent: Instant,
    pub took: Duration,
    pub outcome: Outcome,
}

/// The instances' addresses, tried in turn; a refused connection goes to the next one,
/// as a load balancer routes around a dead backend.
pub struct Fleet {
    pub bases: Vec<String>,
    turn: AtomicUsize,
    /// Requests each instance holds without having answered yet.
    held_by: Vec<AtomicUsize>,
    clients: Mutex<std::collections::HashMap<Ipv4Addr, Client>>,
    pub answered_by: Vec<AtomicUsize>,
    pub seen: Mutex<Vec<Seen>>,
}

impl Fleet {
    pub fn new(bases: Vec<String>) -> Self {
        let answered_by = bases.iter().map(|_| AtomicUsize::new(0)).collect();
        let held_by = bases.iter().map(|_| AtomicUsize::new(0)).collect();
        Self {
            bases,
            turn: AtomicUsize::new(0),
            held_by,
            clients: Default::default(),
            answered_by,
            seen: Mutex::new(Vec::new()),
        }
    }

    /// The client for connections from `ip`, one per address.
    pub fn client(&self, ip: Ipv4Addr) -> Client {
        self.clients
            .lock()
            .expect("clients")
            .entry(ip)
            .or_insert_with(|| client_from(ip))
            .clone()
    }

    /// Requests instance `i` holds without having answered yet.
    pub fn held_by(&self, i: usize) -> usize {
        self.held_by[i].load(Ordering::Relaxed)
    }

    /// Sends through the next instance in turn (or `to`, when given), moving on while
    /// connections are refused.
    pub async fn send(
        &self,
        what: &'static str,
        to: Option<usize>,
        build: impl Fn(&str) -> RequestBuilder,
    ) -> Answer {
        let n = self.bases.len();
        let first = to.unwrap_or_else(|| self.turn.fetch_add(1, Ordering::Relaxed));
        let sent = Instant::now();
        let mut answer = Answer {
            outcome: Outcome::Unreached,
            status: None,
            body: Value::Null,
            headers: Default::default(),
        };
        for step in 0..n {
            let i = (first + step) % n;
            self.held_by[i].fetch_add(1, Ordering::Relaxed);
            let sent = build(&self.bases[i]).send().await;
            self.held_by[i].fetch_sub(1, Ordering::Relaxed);
            match sent {
                Ok(response) => {
                    self.answered_by[i].fetch_add(1, Ordering::Relaxed);
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = match response.bytes().await {
                        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                        Err(_) => {
                            answer.outcome = Outcome::Unknown;
                            break;
                        }
                    };
                    answer = Answer {
                        outcome: match status.as_u16() {
                            200..=399 => Outcome::Done,
                            503 => Outcome::Unavailable,
                            400..=499 => Outcome::Refused,
                            _ => Outcome::Failed,
                        },
                        status: Some(status),
                        body,
                        headers,
                    };
                    break;
                }
                Err(e) if e.is_connect() => continue,
                Err(_) => {
                    answer.outcome = Outcome::Unknown;
                    break;
                }
            }
        }
        self.seen.lock().expect("seen").push(Seen {
            what,
            sent,
            took: sent.elapsed(),
            outcome: answer.outcome,
        });
        answer
    }
}

/// An HTTP client whose connections come from `ip` (a patient's phone, a desk's PC).
pub fn client_from(ip: Ipv4Addr) -> Client {
    Client::builder()
        .local_address(IpAddr::V4(ip))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(CLIENT_TIMEOUT)
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(CLIENT_IDLE)
        .build()
        .expect("an HTTP client")
}

/// A clinic as the morning sees it.
#[derive(Clone)]
pub struct SoakClinic {
    pub index: usize,
    pub slug: String,
    pub queues: Vec<i64>,
    pub desk_email: String,
    pub webhook_secret: String,
}

/// The tokens patients were given (200 answers) and the writes whose fate the client
/// could not see.
#[derive(Default)]
pub struct Ledger {
    pub tokens: Vec<String>,
    /// Per audit action: (answered 200, sent without a sure answer: none came, or a
    /// `503` sent after the action committed, when what the answer reads next failed
    /// as the database went away).
    pub writes: BTreeMap<&'static str, (usize, usize)>,
    pub inbound_sent: usize,
    pub inbound_unknown: usize,
}

impl Ledger {
    pub fn write(&mut self, audit_action: &'static str, outcome: Outcome) {
        let entry = self.writes.entry(audit_action).or_default();
        match outcome {
            Outcome::Done => entry.0 += 1,
            Outcome::Unknown | Outcome::Unavailable => entry.1 += 1,
            _ => {}
        }
    }
}

pub struct Morning {
    pub fleet: Arc<Fleet>,
    pub clinics: Vec<SoakClinic>,
    pub password: String,
    pub patients_per_queue: usize,
    pub start: Instant,
    /// When the desks and trackers stop.
    pub end: Instant,
    pub ledger: Arc<Mutex<Ledger>>,
}

/// A small deterministic generator, so a run can be repeated with its seed.
#[derive(Clone)]
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// In `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

impl Morning {
    /// Signs every desk in (two sessions per clinic, on different instances) and runs
    /// the morning until `end`. Answers when every patient and desk has stopped.
    pub async fn run(self: Arc<Self>, seed: u64) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        let n = self.fleet.bases.len();
        for clinic in &self.clinics {
            let desk_pc = Ipv4Addr::new(127, 4, clinic.index as u8, 1);
            let http = self.fleet.client(desk_pc);
            let mut sessions = Vec::new();
            for s in 0..2 {
                sessions.push(self.sign_in(&http, clinic, (clinic.index + s) % n).await?);
            }
            for (q, &queue) in clinic.queues.iter().enumerate() {
                for (d, cookie) in sessions.iter().enumerate() {
                    let morning = self.clone();
                    let (http, cookie) = (http.clone(), cookie.clone());
                    let dice = Dice::new(seed ^ (clinic.index * 64 + q * 8 + d) as u64);
                    tasks.spawn(async move { morning.desk(http, cookie, queue, dice).await });
                }
                let arrivals = arrivals(
                    &mut Dice::new(seed ^ (7_000 + clinic.index * 8 + q) as u64),
                    self.patients_per_queue,
                    self.join_window(),
                );
                for (p, at) in arrivals.into_iter().enumerate() {
                    let morning = self.clone();
                    let clinic = clinic.clone();
                    let dice = Dice::new(
                        seed ^ (1 << 40) ^ (clinic.index * 10_000 + q * 1_000 + p) as u64,
                    );
                    tasks.spawn(async move { morning.patient(clinic, queue, at, p, dice).await });
                }
            }
        }
        while let Some(done) = tasks.join_next().await {
            done?;
        }
        Ok(())
    }

    /// Patients arrive during the first 60 % of the morning.
    fn join_window(&self) -> Duration {
        (self.end - self.start).mul_f64(0.6)
    }

    async fn sign_in(
        &self,
        http: &Client,
        clinic: &SoakClinic,
        on: usize,
    ) -> anyhow::Result<String> {
        let form = [
            ("email", clinic.desk_email.as_str()),
            ("password", &self.password),
        ];
        let answer = self
            .fleet
            .send("sign in", Some(on), |base| {
                http.post(format!("{base}/api/login")).form(&form)
            })
            .await;
        answer
            .headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("qline_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} could not sign in: {:?} {}",
                    clinic.desk_email,
                    answer.status,
                    answer.body
                )
            })
    }

    /// A receptionist at one queue: looks at the desk, acts, thinks, again.
    async fn desk(self: Arc<Self>, http: Client, cookie: String, queue: i64, mut dice: Dice) {
        // Two desks per queue together call about as fast as patients come.
        let per_patient = self.join_window().as_secs_f64() / self.patients_per_queue.max(1) as f64;
        let think = (per_patient * 1.4).clamp(0.3, 4.0);
        while Instant::now() < self.end {
            tokio::time::sleep(Duration::from_secs_f64(think * (0.5 + dice.unit()))).await;
            let form = [("queue_id", queue.to_string())];
            let view = self
                .fleet
                .send("desk view", None, |base| {
                    http.post(format!("{base}/api/desk"))
                        .header("cookie", &cookie)
                        .form(&form)
                })
                .await;
            if view.outcome != Outcome::Done {
                continue;
            }
            let serving = view.body["serving"]["id"].as_i64();
            let waiting = view.body["waiting"].as_array().map_or(0, Vec::len);
            let skipped = view.body["skipped"][0]["id"].as_i64();
            let roll = dice.unit();
            let (what, audit, command) = match (roll, serving, skipped) {
                (r, _, Some(token)) if r < 0.05 => {
                    ("RECALL", "RECALL", json!({ "Recall": { "token": token } }))
                }
                (r, Some(token), _) if r < 0.13 => {
                    ("SKIP", "SKIP", json!({ "Skip": { "token": token } }))
                }
                (r, _, _) if r < 0.18 => ("UNDO", "UNDO", json!("Undo")),
                _ if waiting > 0 || serving.is_some() => (
                    "NEXT",
                    "NEXT",
                    json!({ "Next": { "expected_serving": serving } }),
                ),
                _ => continue,
            };
            let body = json!({ "queue_id": queue, "command": command });
            let acted = self
                .fleet
                .send(what, None, |base| {
                    http.post(format!("{base}/api/desk/act"))
                        .header("cookie", &cookie)
                        .json(&body)
                })
                .await;
            self.ledger
                .lock()
                .expect("ledger")
                .write(audit, acted.outcome);
        }
    }

    /// A patient: joins at `at`, then follows the tracker until the visit ends or the
    /// morning does; some write on WhatsApp, a few cancel.
    async fn patient(
        self: Arc<Self>,
        clinic: SoakClinic,
        queue: i64,
        at: Duration,
        p: usize,
        mut dice: Dice,
    ) {
        tokio::time::sleep_until(self.start + at).await;
        // Phones share networks: a handful of patients per address.
        let ip = Ipv4Addr::new(127, 1, clinic.index as u8, 1 + (p % 16) as u8);
        let http = self.fleet.client(ip);
        let phone = format!("98{:02}{:02}{:04}", clinic.index % 100, queue % 100, p);
        let form = [
            ("slug", clinic.slug.clone()),
            ("queue_id", queue.to_string()),
            ("name", format!("Patient {p}")),
            ("phone", phone.clone()),
            ("language", if p % 3 == 0 { "hi" } else { "en" }.to_owned()),
        ];
        let joined = self
            .fleet
            .send("join", None, |base| {
                http.post(format!("{base}/api/join")).form(&form)
            })
            .await;
        if !record_join(&self.ledger, &joined) {
            return;
        }
        let public_id = joined.body.as_str().unwrap_or_default().to_owned();
        let writes = dice.unit() < 0.3;
        let cancels = dice.unit() < 0.08;
        let mut tracker = Tracker::default();
        let mut polls = 0;
        while Instant::now() < self.end {
            let url = format!("/api/t/{public_id}");
            let etag = tracker.etag.clone();
            let answer = self
                .fleet
                .send("tracker poll", None, |base| {
                    poll(&http, base, &url, etag.as_deref())
                })
                .await;
            polls += 1;
            let wait = tracker.next_wait(&answer);
            let phase = tracker.phase.clone();
            if matches!(
                phase.as_str(),
                "Served" | "Missed" | "Cancelled" | "DayClosed"
            ) {
                return;
            }
            if writes && polls == 1 && tracker.label.is_some() {
                self.write_on_whatsapp(
                    &clinic,
                    &phone,
                    &public_id,
                    tracker.label.as_deref().unwrap_or_default(),
                    &mut dice,
                )
                .await;
            }
            if cancels && polls == 3 && phase == "Waiting" {
                let form = [("public_id", public_id.clone())];
                let cancelled = self
                    .fleet
                    .send("cancel", None, |base| {
                        http.post(format!("{base}/api/cancel")).form(&form)
                    })
                    .await;
                self.ledger
                    .lock()
                    .expect("ledger")
                    .write("PATIENT_CANCEL", cancelled.outcome);
                if cancelled.outcome == Outcome::Done {
                    return;
                }
            }
            tokio::time::sleep(wait.min(self.end.saturating_duration_since(Instant::now()))).await;
        }
    }

    /// The patient sends the tracker's opt-in text on WhatsApp; the provider delivers it
    /// to one of the instances' webhooks.
    async fn write_on_whatsapp(
        &self,
        clinic: &SoakClinic,
        phone: &str,
        public_id: &str,
        label: &str,
        dice: &mut Dice,
    ) {
        let Some(id) = qline_app::domain::PublicId::parse(public_id) else {
            return;
        };
        let text = qline_app::whatsapp::opt_in_text(label, &id);
        let payload = json!({
            "event_type": "message_received",
            "data": {
                "id": format!("soak-{public_id}-{}", dice.next() % 1_000_000),
                "from": format!("91{phone}@c.us"),
                "to": "919000000000@c.us",
                "body": text,
                "type": "chat",
                "fromMe": false,
                "time": chrono::Utc::now().timestamp(),
            }
        });
        let http = self.fleet.client(Ipv4Addr::new(127, 5, 0, 1));
        let url = format!(
            "/webhooks/whatsapp/ultramsg/{}?secret={}",
            clinic.slug, clinic.webhook_secret
        );
        let answer = self
            .fleet
            .send("whatsapp webhook", None, |base| {
                http.post(format!("{base}{url}")).json(&payload)
            })
            .await;
        let mut ledger = self.ledger.lock().expect("ledger");
        match answer.outcome {
            Outcome::Done => ledger.inbound_sent += 1,
            Outcome::Unknown => ledger.inbound_unknown += 1,
            _ => {}
        }
    }
}

/// A tracker page's poll: a GET that sends back the ETag it last got.
pub(crate) fn poll(http: &Client, base: &str, url: &str, etag: Option<&str>) -> RequestBuilder {
    let request = http.get(format!("{base}{url}"));
    match etag {
        Some(tag) => request.header("if-none-match", tag),
        None => request,
    }
}

/// The tracker page's polling schedule (docs/API.md): 2 s after a change; 3 s while the
/// patient is next or called; otherwise 5 s, doubling while nothing changes, up to 30 s;
/// after a failure 2, 4, 8… up to 30 s.
#[derive(Default)]
pub(crate) struct Tracker {
    pub(crate) etag: Option<String>,
    phase: String,
    label: Option<String>,
    quiet: Duration,
    failing: Duration,
}

impl Tracker {
    pub(crate) fn next_wait(&mut self, answer: &Answer) -> Duration {
        let cap = Duration::from_secs(30);
        match (answer.outcome, answer.status.map(|s| s.as_u16())) {
            (Outcome::Done, Some(304)) => {
                self.failing = Duration::ZERO;
                self.quiet = (self.quiet * 2).clamp(Duration::from_secs(5), cap);
                if self.phase == "YourTurn" {
                    return Duration::from_secs(3);
                }
                self.quiet
            }
            (Outcome::Done, _) => {
                self.failing = Duration::ZERO;
                self.quiet = Duration::ZERO;
                self.etag = answer
                    .headers
                    .get(reqwest::header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                self.phase = answer.body["phase"].as_str().unwrap_or_default().to_owned();
                self.label = answer.body["token"].as_str().map(str::to_owned);
                Duration::from_secs(2)
            }
            _ => {
                self.failing = (self.failing * 2).clamp(Duration::from_secs(2), cap);
                self.failing
            }
        }
    }
}

/// When patients arrive: in bursts of 2–6 a second or two apart (a family, a bus), the
/// bursts spread over `window`.
fn arrivals(dice: &mut Dice, patients: usize, window: Duration) -> Vec<Duration> {
    let mut at = Vec::with_capacity(patients);
    while at.len() < patients {
        let burst = window.mul_f64(dice.unit());
        for _ in 0..(2 + dice.below(5)).min((patients - at.len()) as u64) {
            at.push((burst + Duration::from_millis(dice.below(2_000))).min(window));
        }
    }
    at.sort();
    at
}

/// A stranger tries to get past the clinic's limits through every instance at once:
/// `tries` joins from one network, then one phone from `tries` networks. Answers how many
/// of each were let in.
pub async fn try_the_limits(
    fleet: &Fleet,
    ledger: &Mutex<Ledger>,
    clinic: &SoakClinic,
    tries: usize,
) -> (usize, usize) {
    let queue = |q: usize| clinic.queues[q].to_string();
    let from_one_network = (0..tries)
        .map(|k| {
            let form = join_form(
                &clinic.slug,
                queue(0),
                format!("Flood {k}"),
                format!("97{k:08}"),
            );
            (Ipv4Addr::new(127, 3, 0, 1), form)
        })
        .collect();
    let for_one_phone = (0..tries)
        .map(|k| {
            let form = join_form(
                &clinic.slug,
                queue(1),
                format!("Same phone {k}"),
                "9699999999".into(),
            );
            (Ipv4Addr::new(127, 3, 1, 1 + k as u8), form)
        })
        .collect();
    (
        let_in(fleet, ledger, from_one_network).await,
        let_in(fleet, ledger, for_one_phone).await,
    )
}

/// The join form a patient sends.
pub fn join_form(
    slug: &str,
    queue_id: String,
    name: String,
    phone: String,
) -> [(&'static str, String); 5] {
    [
        ("slug", slug.to_owned()),
        ("queue_id", queue_id),
        ("name", name),
        ("phone", phone),
        ("language", "en".to_owned()),
    ]
}

/// Sends every join at once, each from its own address, and answers how many were given
/// a token.
async fn let_in(
    fleet: &Fleet,
    ledger: &Mutex<Ledger>,
    joins: Vec<(Ipv4Addr, [(&'static str, String); 5])>,
) -> usize {
    let sends = joins.into_iter().map(|(ip, form)| {
        let http = fleet.client(ip);
        async move {
            let joined = fleet
                .send("join (limit)", None, |base| {
                    http.post(format!("{base}/api/join")).form(&form)
                })
                .await;
            record_join(ledger, &joined)
        }
    });
    futures::future::join_all(sends)
        .await
        .into_iter()
        .filter(|&given| given)
        .count()
}

/// Notes a join's outcome (and the token given, if any); answers whether one was given.
pub fn record_join(ledger: &Mutex<Ledger>, joined: &Answer) -> bool {
    let mut ledger = ledger.lock().expect("ledger");
    ledger.write("ADD_TOKEN", joined.outcome);
    match joined
        .body
        .as_str()
        .filter(|_| joined.outcome == Outcome::Done)
    {
        Some(public_id) => {
            ledger.tokens.push(public_id.to_owned());
            true
        }
        None => false,
    }
}
