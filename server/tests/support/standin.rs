//! A stand-in for the providers: a real HTTP server on loopback that speaks UltraMsg's,
//! Meta's and a Twilio-compatible SMS API's request and response formats, error shapes
//! included, and a web push service's; counts what it received and delivered, and can be
//! told to fail.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qline_app::messaging::provider::Endpoints;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const ULTRAMSG_INSTANCE: &str = "instance1150";
pub const ULTRAMSG_TOKEN: &str = "ultramsg-token-9f3a";
pub const META_PHONE_NUMBER_ID: &str = "106540352242922";
pub const META_ACCESS_TOKEN: &str = "EAAG-meta-access-token";
pub const SMS_ACCOUNT_SID: &str = "AC5e1f00d0000000000000000000000001";
pub const SMS_AUTH_TOKEN: &str = "sms-auth-token-41b2";

/// How the stand-in push service answers for one subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushAnswer {
    Accept,
    /// 410: the browser unsubscribed; the subscription must be deleted.
    Gone,
    /// 400: a request the push service will never take.
    Refuse,
    /// 503: try again later.
    Busy,
}

/// One push the stand-in push service took.
#[derive(Debug, Clone)]
pub struct Push {
    pub subscription: String,
    pub authorization: String,
    pub encoding: String,
    pub ttl: String,
    pub body: Vec<u8>,
}

/// How the stand-in misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Faults {
    None,
    /// Every second send fails, in turn: a 500, a timeout (the answer comes after the
    /// client gave up, and is a 500), a 200 whose body is not JSON.
    HalfFail,
    /// Every send answers (successfully) only after the stall.
    Stall,
}

#[derive(Debug, Default)]
struct Record {
    requests: u32,
    /// Deliveries per outbox reference (what a patient's phone would show).
    delivered: HashMap<String, u32>,
    /// `(to, body)` of every delivered text, in order.
    texts: Vec<(String, String)>,
    next_id: u64,
    /// Pushes taken, in order.
    pushes: Vec<Push>,
    push_requests: u32,
    /// `(to, body)` of every SMS taken.
    sms: Vec<(String, String)>,
    sms_requests: u32,
    /// The body of every send Meta's stand-in answered.
    meta_bodies: Vec<serde_json::Value>,
}

#[derive(Clone)]
pub struct StandIn {
    pub base: String,
    record: Arc<Mutex<Record>>,
    faults: Arc<Mutex<Faults>>,
    push_answers: Arc<Mutex<HashMap<String, PushAnswer>>>,
    /// How long a "timeout" fault stalls.
    pub stall: Duration,
}

impl StandIn {
    pub async fn start(faults: Faults) -> Self {
        let standin = StandIn {
            base: String::new(),
            record: Default::default(),
            faults: Arc::new(Mutex::new(faults)),
            push_answers: Default::default(),
            stall: Duration::from_millis(1500),
        };
        let app = Router::new()
            .route("/ultramsg/{instance}/messages/chat", post(ultramsg_chat))
            .route("/ultramsg/{instance}/instance/status", get(ultramsg_status))
            .route("/meta/{phone_number_id}/messages", post(meta_messages))
            .route("/meta/{phone_number_id}", get(meta_number))
            .route("/push/{subscription}", post(push_service))
            .route(
                "/sms/2010-04-01/Accounts/{sid}/Messages.json",
                post(sms_messages),
            )
            .route("/sms/2010-04-01/Accounts/{sid}", get(sms_account))
            .with_state(standin.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        StandIn {
            base: format!("http://{addr}"),
            ..standin
        }
    }

    pub fn endpoints(&self) -> Endpoints {
        Endpoints {
            ultramsg: format!("{}/ultramsg", self.base),
            meta: format!("{}/meta", self.base),
            sms: format!("{}/sms", self.base),
        }
    }

    /// A push subscription's endpoint on this push service.
    pub fn push_endpoint(&self, subscription: &str) -> String {
        format!("{}/push/{subscription}", self.base)
    }

    pub fn answer_pushes(&self, subscription: &str, answer: PushAnswer) {
        self.push_answers
            .lock()
            .unwrap()
            .insert(subscription.to_owned(), answer);
    }

    pub fn pushes(&self) -> Vec<Push> {
        self.record.lock().unwrap().pushes.clone()
    }

    pub fn push_requests(&self) -> u32 {
        self.record.lock().unwrap().push_requests
    }

    pub fn sms(&self) -> Vec<(String, String)> {
        self.record.lock().unwrap().sms.clone()
    }

    pub fn sms_requests(&self) -> u32 {
        self.record.lock().unwrap().sms_requests
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap() = faults;
    }

    pub fn requests(&self) -> u32 {
        self.record.lock().unwrap().requests
    }

    /// Outbox references delivered more than once.
    pub fn duplicates(&self) -> Vec<String> {
        let record = self.record.lock().unwrap();
        record
            .delivered
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(r, _)| r.clone())
            .collect()
    }

    /// How many times the message with outbox reference `reference` was delivered.
    pub fn delivered_to(&self, reference: &str) -> u32 {
        let record = self.record.lock().unwrap();
        record.delivered.get(reference).copied().unwrap_or(0)
    }

    pub fn delivered(&self) -> usize {
        self.record.lock().unwrap().delivered.len()
    }

    /// Every message Meta was asked to send, as sent.
    pub fn meta_bodies(&self) -> Vec<serde_json::Value> {
        self.record.lock().unwrap().meta_bodies.clone()
    }

    pub fn texts(&self) -> Vec<(String, String)> {
        self.record.lock().unwrap().texts.clone()
    }

    /// Decides this request's fate: `None` to succeed, or the failure to answer with.
    async fn fault(&self) -> Option<Response> {
        let n = {
            let mut record = self.record.lock().unwrap();
            record.requests += 1;
            record.requests
        };
        let faults = *self.faults.lock().unwrap();
        if faults == Faults::Stall {
            tokio::time::sleep(self.stall).await;
            return None;
        }
        if faults == Faults::None || n % 2 == 1 {
            return None;
        }
        Some(match (n / 2) % 3 {
            0 => (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response(),
            1 => {
                tokio::time::sleep(self.stall).await;
                (StatusCode::INTERNAL_SERVER_ERROR, "too late").into_response()
            }
            _ => (StatusCode::OK, "<html>502 Bad Gateway</html>").into_response(),
        })
    }

    fn deliver(&self, reference: &str, to: &str, body: &str) -> u64 {
        let mut record = self.record.lock().unwrap();
        *record.delivered.entry(reference.to_owned()).or_default() += 1;
        record.texts.push((to.to_owned(), body.to_owned()));
        record.next_id += 1;
        record.next_id
    }
}

async fn ultramsg_chat(
    State(s): State<StandIn>,
    Path(instance): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Some(failure) = s.fault().await {
        return failure;
    }
    if instance != ULTRAMSG_INSTANCE {
        return Json(json!({ "error": "instance not found or pending please try again later" }))
            .into_response();
    }
    if form.get("token").map(String::as_str) != Some(ULTRAMSG_TOKEN) {
        return Json(json!({ "error": "Wrong token. Please provide token as a GET parameter." }))
            .into_response();
    }
    let to = form.get("to").cloned().unwrap_or_default();
    if !to.starts_with('+') || to.len() < 9 {
        return Json(json!({ "error": { "to": "Invalid number" } })).into_response();
    }
    let reference = form.get("referenceId").cloned().unwrap_or_default();
    let id = s.deliver(
        &reference,
        &to,
        form.get("body").map(String::as_str).unwrap_or(""),
    );
    Json(json!({ "sent": "true", "message": "ok", "id": id })).into_response()
}

async fn ultramsg_status(
    State(_): State<StandIn>,
    Path(instance): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if instance != ULTRAMSG_INSTANCE || q.get("token").map(String::as_str) != Some(ULTRAMSG_TOKEN) {
        return Json(json!({ "error": "Wrong token. Please provide token as a GET parameter." }))
            .into_response();
    }
    Json(json!({ "status": { "accountStatus": { "status": "authenticated", "substatus": "connected" } } })).into_response()
}

fn meta_error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf" } })),
    )
        .into_response()
}

fn meta_authorised(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {META_ACCESS_TOKEN}"))
}

async fn meta_messages(
    State(s): State<StandIn>,
    Path(phone_number_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(failure) = s.fault().await {
        return failure;
    }
    if !meta_authorised(&headers) {
        return meta_error(
            StatusCode::UNAUTHORIZED,
            190,
            "Error validating access token: Session has expired",
        );
    }
    if phone_number_id != META_PHONE_NUMBER_ID {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "Unsupported post request. Object does not exist",
        );
    }
    s.record.lock().unwrap().meta_bodies.push(body.clone());
    let to = body["to"].as_str().unwrap_or_default().to_owned();
    let reference = body["biz_opaque_callback_data"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let text = match body["type"].as_str() {
        Some("text") => body["text"]["body"].as_str().unwrap_or_default().to_owned(),
        Some("template") => format!(
            "template {}",
            body["template"]["name"].as_str().unwrap_or_default()
        ),
        _ => return meta_error(StatusCode::BAD_REQUEST, 131051, "Unsupported message type"),
    };
    let id = s.deliver(&reference, &to, &text);
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": format!("wamid.standin{id}") }],
    }))
    .into_response()
}

async fn meta_number(
    State(_): State<StandIn>,
    Path(phone_number_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !meta_authorised(&headers) {
        return meta_error(
            StatusCode::UNAUTHORIZED,
            190,
            "Error validating access token: Session has expired",
        );
    }
    if phone_number_id != META_PHONE_NUMBER_ID {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "Unsupported get request. Object does not exist",
        );
    }
    Json(json!({ "display_phone_number": "+91 98000 00000", "verified_name": "Demo Clinic", "id": phone_number_id })).into_response()
}

/// A web push service: takes an encrypted, VAPID-signed push (RFC 8030/8291/8292).
async fn push_service(
    State(s): State<StandIn>,
    Path(subscription): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    s.record.lock().unwrap().push_requests += 1;
    let answer = s
        .push_answers
        .lock()
        .unwrap()
        .get(&subscription)
        .copied()
        .unwrap_or(PushAnswer::Accept);
    match answer {
        PushAnswer::Gone => {
            return (
                StatusCode::GONE,
                "push subscription has unsubscribed or expired",
            )
                .into_response()
        }
        PushAnswer::Refuse => return (StatusCode::BAD_REQUEST, "malformed push").into_response(),
        PushAnswer::Busy => return (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response(),
        PushAnswer::Accept => {}
    }
    if !header("authorization").starts_with("vapid t=") || header("content-encoding") != "aes128gcm"
    {
        return (
            StatusCode::UNAUTHORIZED,
            "VAPID authorization and aes128gcm required",
        )
            .into_response();
    }
    s.record.lock().unwrap().pushes.push(Push {
        subscription,
        authorization: header("authorization"),
        encoding: header("content-encoding"),
        ttl: header("ttl"),
        body: body.to_vec(),
    });
    StatusCode::CREATED.into_response()
}

fn sms_authorised(headers: &HeaderMap, sid: &str) -> bool {
    use base64::Engine as _;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{SMS_ACCOUNT_SID}:{SMS_AUTH_TOKEN}"))
    );
    sid == SMS_ACCOUNT_SID
        && headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

/// Twilio's Messages resource: `POST …/Accounts/{sid}/Messages.json`, form fields To, From, Body.
async fn sms_messages(
    State(s): State<StandIn>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    s.record.lock().unwrap().sms_requests += 1;
    if let Some(failure) = s.fault().await {
        return failure;
    }
    if !sms_authorised(&headers, &sid) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "code": 20003, "message": "Authenticate", "status": 401 })),
        )
            .into_response();
    }
    let to = form.get("To").cloned().unwrap_or_default();
    if !to.starts_with('+') {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "code": 21211, "message": format!("The 'To' number {to} is not a valid phone number."), "status": 400 })),
        )
            .into_response();
    }
    let body = form.get("Body").cloned().unwrap_or_default();
    let mut record = s.record.lock().unwrap();
    record.sms.push((to.clone(), body));
    record.next_id += 1;
    (
        StatusCode::CREATED,
        Json(json!({ "sid": format!("SM{:032}", record.next_id), "status": "queued", "to": to })),
    )
        .into_response()
}

/// Twilio's Account resource: `GET …/Accounts/{sid}.json`.
async fn sms_account(
    State(_): State<StandIn>,
    Path(sid): Path<String>,
    headers: HeaderMap,
) -> Response {
    let sid = sid.trim_end_matches(".json");
    if !sms_authorised(&headers, sid) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "code": 20003, "message": "Authenticate", "status": 401 })),
        )
            .into_response();
    }
    Json(json!({ "sid": sid, "friendly_name": "Demo Clinic SMS", "status": "active" }))
        .into_response()
}
