//! Messaging under abuse, over HTTP against the real app and a stand-in provider, on both
//! backends: a suspended clinic answers nobody and sends nothing, yet loses nothing; one
//! clinic's webhook cannot touch another clinic's delivery reports; one phone cannot
//! drain a clinic's daily allowance; and Meta's unauthenticated handshake opens no
//! sealed secret.

mod support;

use qline_app::console::WhatsAppInput;
use qline_app::domain::*;
use qline_app::messaging::inbound::opt_in_text;
use qline_app::queue::engine::{Actor, JoinRequest};
use qline_app::storage::{ConsoleAudit, OutboxRow, Store};
use qline_app::whatsapp::{REPLIES_PER_DAY, REPLIES_PER_MINUTE};
use serde_json::{json, Value};
use support::meta::{meta_payload, post_meta, signed};
use support::standin::*;

on_both_backends!(
    a_suspended_clinic_answers_nobody_and_holds_its_queued_messages,
    a_delivery_report_from_another_clinics_webhook_changes_nothing,
    one_phone_spamming_status_gets_a_few_answers_and_the_clinics_allowance_is_kept,
    metas_handshake_answers_from_a_fingerprint_without_opening_any_secret,
    an_account_saved_before_fingerprints_gets_one_when_the_server_starts,
);

const CLINIC_NUMBER: &str = "+919800000000";
const ASHA: &str = "+919876500001";
const RAVI: &str = "+919876500002";

/// One app, its stand-in provider, and the clock it reads.
struct App {
    base: String,
    messenger: qline_app::messaging::Messenger,
    standin: StandIn,
    store: Store,
    clock: Clock,
}

async fn app(store: Store) -> App {
    let standin = StandIn::start(Faults::None).await;
    let clock = Clock::manual(Timestamp::now());
    let (base, messenger) =
        support::spawn_app_on(store.clone(), standin.endpoints(), clock.clone()).await;
    App {
        base,
        messenger,
        standin,
        store,
        clock,
    }
}

/// How a clinic connects to WhatsApp in these stories.
enum Provider<'a> {
    UltraMsg,
    Meta {
        phone_number_id: &'a str,
        app_secret: &'a str,
        verify_token: &'a str,
    },
}

/// A clinic with WhatsApp on, connected as its owner connects it.
async fn clinic(app: &App, slug: &str, provider: Provider<'_>) -> support::Clinic {
    let settings = ClinicSettings {
        whatsapp_enabled: true,
        ..ClinicSettings::default()
    };
    let clinic = support::clinic(&app.store, slug, settings).await;
    let input = match provider {
        Provider::UltraMsg => WhatsAppInput {
            provider: "ULTRAMSG".into(),
            phone_number: CLINIC_NUMBER.into(),
            ultramsg_instance: ULTRAMSG_INSTANCE.into(),
            ultramsg_token: ULTRAMSG_TOKEN.into(),
            ..WhatsAppInput::default()
        },
        Provider::Meta {
            phone_number_id,
            app_secret,
            verify_token,
        } => WhatsAppInput {
            provider: "META".into(),
            phone_number: CLINIC_NUMBER.into(),
            meta_phone_number_id: phone_number_id.into(),
            meta_access_token: META_ACCESS_TOKEN.into(),
            meta_app_secret: app_secret.into(),
            meta_verify_token: verify_token.into(),
            ..WhatsAppInput::default()
        },
    };
    let audit = ConsoleAudit {
        clinic: Some(clinic.id),
        actor: &clinic.owner,
        ip: None,
        action: "CONFIGURE_WHATSAPP",
        target: slug,
        detail: "{}",
    };
    let found = app.store.clinic(clinic.id).await.unwrap().unwrap();
    app.messenger
        .configure(&found, &input, audit)
        .await
        .unwrap();
    clinic
}

/// The operator suspends, disables or reactivates a clinic.
async fn set_status(app: &App, clinic: ClinicId, status: ClinicStatus) {
    let mut tx = app.store.begin().await.unwrap();
    tx.set_clinic_status(clinic, status, "a test says so")
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn set_daily_limit(app: &App, clinic: ClinicId, limit: u32) {
    let mut found = app.store.clinic(clinic).await.unwrap().unwrap();
    found.settings.daily_message_limit = limit;
    let mut tx = app.store.begin().await.unwrap();
    tx.update_clinic(&found).await.unwrap();
    tx.commit().await.unwrap();
}

/// The desk gives a patient a token in the General queue.
async fn take_token(app: &App, c: &support::Clinic, name: &str, phone: &str) -> (PublicId, String) {
    let applied = app
        .messenger
        .engine()
        .create_token(
            Actor::Staff(&c.desk),
            JoinRequest {
                queue_id: c.general,
                name: name.into(),
                phone: Some(phone.into()),
                language: Language::En,
                emergency: false,
            },
        )
        .await
        .unwrap();
    let (_, public_id, number) = applied.created.unwrap();
    (public_id, number.label("A"))
}

async fn outbox(app: &App, clinic: ClinicId) -> Vec<OutboxRow> {
    app.store.outbox_of(clinic).await.unwrap()
}

/// Runs the worker until none of the clinic's messages is waiting.
async fn drain(app: &App, clinic: ClinicId) {
    for _ in 0..200 {
        app.messenger.work_once().await.unwrap();
        let rows = outbox(app, clinic).await;
        if rows
            .iter()
            .all(|r| r.status != "PENDING" && r.status != "SENDING")
        {
            return;
        }
    }
    panic!("the outbox did not drain: {:#?}", outbox(app, clinic).await);
}

/// Texts the stand-in delivered to a phone.
fn texts_to(app: &App, phone: &str) -> Vec<String> {
    app.standin
        .texts()
        .into_iter()
        .filter(|(to, _)| to == phone)
        .map(|(_, body)| body)
        .collect()
}

/// The clinic's UltraMsg webhook, as its settings page shows it.
async fn ultramsg_url(app: &App, clinic: ClinicId) -> String {
    let found = app.store.clinic(clinic).await.unwrap().unwrap();
    app.messenger.view(&found).await.unwrap().webhook_url
}

/// UltraMsg delivers one event to a webhook; answers the webhook's report.
async fn ultramsg_event(url: &str, event: Value) -> Value {
    let answer = reqwest::Client::new()
        .post(url)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{event}");
    answer.json().await.unwrap()
}

/// A patient writes to the clinic, now by the app's clock, in UltraMsg's shape.
async fn says(app: &App, url: &str, id: &str, from: &str, body: &str) -> Value {
    let event = json!({
        "event_type": "message_received", "instanceId": "1150", "id": "", "referenceId": "",
        "data": {
            "id": id, "from": format!("{}@c.us", from.trim_start_matches('+')),
            "to": "919800000000@c.us", "type": "chat", "body": body,
            "fromMe": false, "self": false, "isGroup": false,
            "time": app.clock.now().millis() / 1000
        }
    });
    ultramsg_event(url, event).await
}

/// Meta delivers one signed change to its webhook; answers the status and the report.
async fn meta_event(app: &App, value: Value, app_secret: &str) -> (u16, Value) {
    let (raw, signature) = signed(&meta_payload(value), app_secret);
    post_meta(&app.base, raw, &signature).await
}

fn meta_metadata(phone_number_id: &str) -> Value {
    json!({ "display_phone_number": "919800000000", "phone_number_id": phone_number_id })
}

/// Runs a statement on whichever database the story runs on.
async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(db) => sqlx::query(sql).execute(&db.pool).await.map(|_| ()),
        Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
}

fn subscribe(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("hub.mode", "subscribe".to_owned()),
        ("hub.verify_token", token.to_owned()),
        ("hub.challenge", "1158201444".to_owned()),
    ]
}

/// Meta's handshake: `GET` with the query it sends; answers the status and the body.
async fn handshake(app: &App, query: &[(&str, String)]) -> (u16, String) {
    let answer = reqwest::Client::new()
        .get(format!("{}/webhooks/whatsapp/meta", app.base))
        .query(query)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

async fn a_suspended_clinic_answers_nobody_and_holds_its_queued_messages(store: Store) {
    let app = app(store).await;
    let c = clinic(&app, "held", Provider::UltraMsg).await;
    let url = ultramsg_url(&app, c.id).await;
    // Asha writes, then takes a token at the desk: "your token" is queued, not yet sent.
    says(&app, &url, "a1", ASHA, "hello").await;
    let (public_id, label) = take_token(&app, &c, "Asha", ASHA).await;
    let queued = outbox(&app, c.id).await;
    assert_eq!(queued.len(), 1, "{queued:#?}");
    assert_eq!(queued[0].kind, "TOKEN_CREATED");

    set_status(&app, c.id, ClinicStatus::Suspended).await;
    // Patients keep writing: keywords, the tracker's opt-in, the join bot.
    let traffic = [
        ("a2", ASHA, "STATUS".to_owned()),
        ("a3", ASHA, "CANCEL".to_owned()),
        ("a4", ASHA, opt_in_text(&label, &public_id)),
        ("r1", RAVI, "JOIN held".to_owned()),
        ("r2", RAVI, "STATUS".to_owned()),
    ];
    for (id, from, body) in &traffic {
        let report = says(&app, &url, id, from, body).await;
        assert_eq!(report["messages"], 1, "recorded: {body}");
    }
    // The worker keeps running; nothing goes out.
    for _ in 0..3 {
        app.messenger.work_once().await.unwrap();
    }
    let rows = outbox(&app, c.id).await;
    assert_eq!(rows.len(), 1, "no answer to anyone: {rows:#?}");
    assert!(
        rows[0].status == "PENDING" && rows[0].attempts == 0,
        "held: not sent, not tried, not given up: {rows:#?}"
    );
    assert_eq!(app.standin.requests(), 0, "nothing reached the provider");
    // The desk finds what patients wrote meanwhile.
    let inbox = app.store.inbox_since(c.id, Timestamp(0)).await.unwrap();
    assert!(
        inbox
            .iter()
            .any(|m| m.body == "JOIN held" && m.phone == RAVI),
        "{inbox:#?}"
    );

    // Reactivated: what was held goes out; what was never answered stays unanswered.
    set_status(&app, c.id, ClinicStatus::Active).await;
    drain(&app, c.id).await;
    let rows = outbox(&app, c.id).await;
    assert!(
        rows.len() == 1 && rows[0].status == "SENT",
        "held, nothing lost: {rows:#?}"
    );
    assert_eq!(texts_to(&app, ASHA).len(), 1);
    assert!(texts_to(&app, ASHA)[0].contains(&label));

    // A disabled clinic is as silent.
    set_status(&app, c.id, ClinicStatus::Disabled).await;
    says(&app, &url, "a5", ASHA, "STATUS").await;
    says(&app, &url, "r3", RAVI, "JOIN held").await;
    drain(&app, c.id).await;
    assert_eq!(outbox(&app, c.id).await.len(), 1);
    assert_eq!(app.standin.delivered(), 1);
}

async fn a_delivery_report_from_another_clinics_webhook_changes_nothing(store: Store) {
    let app = app(store).await;
    let a = clinic(
        &app,
        "report-a",
        Provider::Meta {
            phone_number_id: META_PHONE_NUMBER_ID,
            app_secret: "app-secret-a",
            verify_token: "verify-a",
        },
    )
    .await;
    let b_number_id = "106540352240002";
    clinic(
        &app,
        "report-b",
        Provider::Meta {
            phone_number_id: b_number_id,
            app_secret: "app-secret-b",
            verify_token: "verify-b",
        },
    )
    .await;
    let c = clinic(&app, "report-c", Provider::UltraMsg).await;
    // Clinic A's patient writes and takes a token; A's message goes out and Meta names it.
    let hello = json!({
        "messaging_product": "whatsapp", "metadata": meta_metadata(META_PHONE_NUMBER_ID),
        "messages": [{ "from": "919876500001", "id": "wamid.in-a1", "type": "text", "text": { "body": "hello" },
                       "timestamp": (app.clock.now().millis() / 1000).to_string() }]
    });
    assert_eq!(meta_event(&app, hello, "app-secret-a").await.0, 200);
    take_token(&app, &a, "Asha", ASHA).await;
    drain(&app, a.id).await;
    let before = outbox(&app, a.id).await;
    assert!(
        before.len() == 1 && before[0].status == "SENT",
        "{before:#?}"
    );
    let wamid = before[0].provider_message_id.clone().expect("Meta's id");

    // Clinic B's own, properly signed webhook reports A's message failed…
    let foreign = json!({
        "messaging_product": "whatsapp", "metadata": meta_metadata(b_number_id),
        "statuses": [{ "id": wamid, "status": "failed", "timestamp": "1763700200", "recipient_id": "919876500001",
                       "errors": [{ "code": 131026, "title": "Message undeliverable" }] }]
    });
    let (status, b_report) = meta_event(&app, foreign, "app-secret-b").await;
    assert_eq!(status, 200);
    // …and clinic C's UltraMsg webhook reports it read.
    let ack = json!({
        "event_type": "message_ack", "instanceId": "1150", "id": wamid, "referenceId": "",
        "data": { "id": wamid, "ack": "read" }
    });
    let c_report = ultramsg_event(&ultramsg_url(&app, c.id).await, ack).await;
    assert_eq!(
        outbox(&app, a.id).await,
        before,
        "another clinic's report changed A's message"
    );
    for report in [b_report, c_report] {
        assert_eq!(
            (report["statuses"].clone(), report["ignored"].clone()),
            (json!(0), json!(1)),
            "not that clinic's message: {report}"
        );
    }

    // A's own report lands.
    let own = json!({
        "messaging_product": "whatsapp", "metadata": meta_metadata(META_PHONE_NUMBER_ID),
        "statuses": [{ "id": wamid, "status": "delivered", "timestamp": "1763700300", "recipient_id": "919876500001" }]
    });
    let (status, report) = meta_event(&app, own, "app-secret-a").await;
    assert_eq!((status, report["statuses"].clone()), (200, json!(1)));
    assert_eq!(
        outbox(&app, a.id).await[0].delivery.as_deref(),
        Some("delivered")
    );
}

async fn one_phone_spamming_status_gets_a_few_answers_and_the_clinics_allowance_is_kept(
    store: Store,
) {
    let app = app(store).await;
    let c = clinic(&app, "spam", Provider::UltraMsg).await;
    set_daily_limit(&app, c.id, 12).await;
    let url = ultramsg_url(&app, c.id).await;
    // Asha and Ravi each write and take a token; each gets "your token".
    for (i, who) in [ASHA, RAVI].into_iter().enumerate() {
        says(&app, &url, &format!("hello-{i}"), who, "hello").await;
        take_token(&app, &c, "Patient", who).await;
    }
    drain(&app, c.id).await;

    // Asha sends STATUS twenty times in a row.
    let spam = 20;
    for i in 0..spam {
        let report = says(&app, &url, &format!("spam-0-{i}"), ASHA, "STATUS").await;
        assert_eq!(report["messages"], 1, "every message is recorded");
    }
    drain(&app, c.id).await;
    let answers = texts_to(&app, ASHA).len() - 1;
    assert_eq!(answers, REPLIES_PER_MINUTE as usize);
    // The rest are in the desk's inbox, unanswered.
    let inbox = app.store.inbox_since(c.id, Timestamp(0)).await.unwrap();
    let unanswered = inbox
        .iter()
        .filter(|m| m.phone == ASHA && m.body == "STATUS")
        .count();
    assert_eq!(unanswered, spam - answers);
    // Ravi asks once and is answered: the clinic's allowance is still there.
    says(&app, &url, "ravi-status", RAVI, "STATUS").await;
    drain(&app, c.id).await;
    assert_eq!(
        texts_to(&app, RAVI).len(),
        2,
        "{:#?}",
        outbox(&app, c.id).await
    );
    let today = app.clock.now().local_date(&"Asia/Kolkata".parse().unwrap());
    let used = app.store.message_quota_used(c.id, today).await.unwrap();
    assert_eq!(used as usize, 2 + answers + 1, "Asha used only her answers");

    // Asha keeps it up for a while: a few answers each minute, and no more than the
    // day's share in all.
    set_daily_limit(&app, c.id, 1000).await;
    for minute in 1..=8 {
        app.clock.set(Timestamp(app.clock.now().millis() + 61_000));
        for i in 0..10 {
            says(&app, &url, &format!("spam-{minute}-{i}"), ASHA, "STATUS").await;
        }
    }
    drain(&app, c.id).await;
    assert_eq!(texts_to(&app, ASHA).len() - 1, REPLIES_PER_DAY as usize);
}

async fn metas_handshake_answers_from_a_fingerprint_without_opening_any_secret(store: Store) {
    let app = app(store).await;
    for (slug, phone_number_id, verify_token) in [
        ("hands-a", META_PHONE_NUMBER_ID, "verify-a"),
        ("hands-b", "106540352240002", "verify-b"),
    ] {
        let app_secret = format!("{slug}-secret");
        let provider = Provider::Meta {
            phone_number_id,
            app_secret: &app_secret,
            verify_token,
        };
        clinic(&app, slug, provider).await;
    }
    clinic(&app, "hands-c", Provider::UltraMsg).await;
    let challenge = (200, "1158201444".to_owned());
    assert_eq!(handshake(&app, &subscribe("verify-a")).await, challenge);
    assert_eq!(handshake(&app, &subscribe("verify-b")).await, challenge);
    for refused in [
        subscribe("verify-c"),
        subscribe(""),
        subscribe("VERIFY-A"),
        vec![
            ("hub.mode", "unsubscribe".to_owned()),
            ("hub.verify_token", "verify-a".to_owned()),
        ],
        vec![],
    ] {
        let (status, body) = handshake(&app, &refused).await;
        assert_eq!(status, 403, "{refused:?}");
        assert!(body.contains("verify token does not match"), "{body}");
    }

    // The handshake is unauthenticated: it must not open every clinic's sealed secrets
    // to find a match. With every seal unreadable it still knows the right tokens.
    exec(
        &app.store,
        "UPDATE whatsapp_accounts SET sealed_secrets = 'v1:00'",
    )
    .await;
    assert_eq!(handshake(&app, &subscribe("verify-b")).await, challenge);
    assert_eq!(handshake(&app, &subscribe("verify-c")).await.0, 403);
}

async fn an_account_saved_before_fingerprints_gets_one_when_the_server_starts(store: Store) {
    let app = app(store).await;
    let meta = Provider::Meta {
        phone_number_id: META_PHONE_NUMBER_ID,
        app_secret: "old-secret",
        verify_token: "verify-old",
    };
    clinic(&app, "before", meta).await;
    // As saved by an earlier version: no fingerprint.
    exec(
        &app.store,
        "UPDATE whatsapp_accounts SET meta_verify_fingerprint = NULL",
    )
    .await;
    assert_eq!(handshake(&app, &subscribe("verify-old")).await.0, 403);
    assert_eq!(
        app.messenger.fingerprint_verify_tokens().await.unwrap(),
        1,
        "the server fills it in as it starts"
    );
    assert_eq!(handshake(&app, &subscribe("verify-old")).await.0, 200);
    assert_eq!(app.messenger.fingerprint_verify_tokens().await.unwrap(), 0);
}
