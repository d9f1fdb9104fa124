//! WhatsApp against a stand-in provider server on loopback, on both backends: the outbox
//! under faults (every message ends SENT or FAILED within 3 attempts, none delivered
//! twice), two workers at once, the Meta and UltraMsg webhooks with payloads in the
//! providers' shapes, STOP, and provider secrets sealed in the database.

mod support;

use qline_app::console::WhatsAppInput;
use qline_app::domain::*;
use qline_app::messaging::inbound::{opt_in_text, Handled, Inbound};
use qline_app::messaging::Messenger;
use qline_app::queue::engine::{Actor, EngineError, JoinRequest, LINKS_PER_PHONE_PER_DAY};
use qline_app::queue::rules::StaffAction;
use qline_app::queue::QueueError;
use qline_app::storage::{Applied, ConsoleAudit, OutboxRow, Store};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::meta::{meta_payload, post_meta, signed};
use support::standin::*;

on_both_backends!(
    every_message_ends_sent_or_failed_under_faults_and_none_twice,
    two_workers_never_send_the_same_message,
    meta_webhooks_are_signed_deduplicated_and_open_windows,
    ultramsg_webhooks_check_their_secret_and_ignore_groups_and_own_messages,
    stop_silences_a_phone_until_it_writes_again,
    provider_secrets_are_sealed_at_rest,
    the_join_bot_asks_queue_and_name_and_its_state_survives_a_restart,
    over_a_simulated_day_free_form_messages_go_only_to_open_windows,
    a_worker_killed_mid_send_loses_nothing,
    a_stopping_worker_leaves_what_it_has_not_tried_to_others,
    the_daily_message_limit_holds,
    template_mode_reaches_phones_outside_the_window_with_approved_templates,
    a_strangers_typed_name_never_reaches_the_phone_it_named,
    the_bot_answers_in_the_patients_language_and_its_token_keeps_it,
    a_number_asks_for_its_link_and_only_that_number_gets_it
);

const META_APP_SECRET: &str = "meta-app-secret-7c1d";
const META_VERIFY_TOKEN: &str = "verify-me-please";
const CLINIC_NUMBER: &str = "+919800000000";

struct Setup {
    clinic: support::Clinic,
    messenger: Messenger,
    base: String,
    standin: StandIn,
    store: Store,
}

async fn setup(store: Store, slug: &str, provider: &str, faults: Faults) -> Setup {
    let settings = ClinicSettings {
        whatsapp_enabled: true,
        ..ClinicSettings::default()
    };
    let clinic = support::clinic(&store, slug, settings).await;
    let standin = StandIn::start(faults).await;
    let (base, mut messenger) = support::spawn_app_with(store.clone(), standin.endpoints()).await;
    messenger = messenger
        .with_http(
            reqwest::Client::builder()
                .timeout(Duration::from_millis(500))
                .build()
                .unwrap(),
        )
        .with_retry_base(Duration::from_millis(20));
    let input = WhatsAppInput {
        provider: provider.into(),
        phone_number: CLINIC_NUMBER.into(),
        ultramsg_instance: ULTRAMSG_INSTANCE.into(),
        ultramsg_token: ULTRAMSG_TOKEN.into(),
        meta_phone_number_id: META_PHONE_NUMBER_ID.into(),
        meta_access_token: META_ACCESS_TOKEN.into(),
        meta_app_secret: META_APP_SECRET.into(),
        meta_verify_token: META_VERIFY_TOKEN.into(),
    };
    let owner = clinic.owner.clone();
    let audit = ConsoleAudit {
        clinic: Some(clinic.id),
        actor: &owner,
        ip: Some("127.0.0.1"),
        action: "CONFIGURE_WHATSAPP",
        target: slug,
        detail: "{}",
    };
    let found = store.clinic(clinic.id).await.unwrap().unwrap();
    messenger.configure(&found, &input, audit).await.unwrap();
    Setup {
        clinic,
        messenger,
        base,
        standin,
        store,
    }
}

fn phone(i: u32) -> String {
    format!("+9198765{i:05}")
}

/// A patient writes to the clinic (opening a window), then takes a token at the desk.
async fn patient_with_window(s: &Setup, i: u32) -> (TokenId, PublicId) {
    let handled = s
        .messenger
        .handle_inbound(&Inbound {
            clinic: s.clinic.id,
            provider_message_id: &format!("inbound-{i}"),
            phone: &phone(i),
            body: "hello",
            sent_at: None,
        })
        .await
        .unwrap();
    // Not a command, and no token yet: for the desk, about no token.
    assert_eq!(handled, Handled::ForStaff(None));
    let applied = take_token(
        &s,
        Actor::Staff(&s.clinic.desk),
        &format!("Patient {i}"),
        &phone(i),
    )
    .await;
    let (id, public_id, _) = applied.created.unwrap();
    (id, public_id)
}

/// A token in the General queue for `phone`, taken by `actor`.
async fn take_token(s: &Setup, actor: Actor<'_>, name: &str, phone: &str) -> Applied {
    s.messenger
        .engine()
        .create_token(
            actor,
            JoinRequest {
                queue_id: s.clinic.general,
                name: name.to_owned(),
                phone: Some(phone.to_owned()),
                language: Language::En,
                emergency: false,
            },
        )
        .await
        .unwrap()
}

async fn outbox(s: &Setup) -> Vec<OutboxRow> {
    s.store.outbox_of(s.clinic.id).await.unwrap()
}

/// Runs workers until no message is waiting, or fails after 60 s.
async fn drain(workers: &[&Messenger], store: &Store, clinic: ClinicId) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rounds = workers.iter().map(|w| w.work_once());
        for handled in futures::future::join_all(rounds).await {
            handled.unwrap();
        }
        let rows = store.outbox_of(clinic).await.unwrap();
        if rows
            .iter()
            .all(|r| r.status != "PENDING" && r.status != "SENDING")
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox did not drain: {rows:#?}"
        );
        // Retries wait for their backoff (20 ms, then 80 ms).
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The desk presses NEXT, as the desk does: naming the patient it shows as served.
async fn next(s: &Setup) {
    let desk = s
        .messenger
        .engine()
        .desk(&s.clinic.desk, Some(s.clinic.general))
        .await
        .unwrap();
    let expected_serving = desk.serving.map(|t| TokenId(t.id));
    s.messenger
        .engine()
        .act(
            &s.clinic.desk,
            s.clinic.general,
            StaffAction::Next {
                expected_serving,
                room: None,
            },
        )
        .await
        .unwrap();
}

/// Presses NEXT `times` while a worker sends what the presses queue; answers how long
/// each press took.
async fn presses_while_sending(s: &Setup, times: usize) -> Vec<Duration> {
    let worker = {
        let m = s.messenger.clone();
        let store = s.store.clone();
        let clinic = s.clinic.id;
        tokio::spawn(async move { drain(&[&m], &store, clinic).await })
    };
    let mut took = Vec::with_capacity(times);
    for _ in 0..times {
        let started = Instant::now();
        next(s).await;
        took.push(started.elapsed());
    }
    worker.await.unwrap();
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    took
}

/// `(p50, p99)` of a sample.
fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: usize| samples[(samples.len() * q / 100).min(samples.len() - 1)];
    (at(50), at(99))
}

async fn every_message_ends_sent_or_failed_under_faults_and_none_twice(store: Store) {
    let s = setup(store, "wa-faults", "ULTRAMSG", Faults::HalfFail).await;
    for i in 0..50 {
        patient_with_window(&s, i).await;
    }
    // Desk actions while the worker fights the faults: they never wait on the provider.
    let with_faults = presses_while_sending(&s, 25).await;

    let rows = outbox(&s).await;
    let kinds = |k: &str| rows.iter().filter(|r| r.kind == k).count();
    assert_eq!(kinds("TOKEN_CREATED"), 50, "{rows:#?}");
    assert!(
        kinds("YOUR_TURN") >= 1 && kinds("FEEDBACK") >= 1 && kinds("NEXT_SOON") >= 1,
        "{rows:#?}"
    );
    for row in &rows {
        assert!(row.status == "SENT" || row.status == "FAILED", "{row:?}");
        assert!((1..=3).contains(&row.attempts), "{row:?}");
        if row.status == "FAILED" {
            assert!(!row.last_error.is_empty(), "a failure says why: {row:?}");
        }
    }
    assert!(
        s.standin.duplicates().is_empty(),
        "delivered twice: {:?}",
        s.standin.duplicates()
    );
    let sent = rows.iter().filter(|r| r.status == "SENT").count();
    assert_eq!(
        sent,
        s.standin.delivered(),
        "every SENT row reached the provider once"
    );
    assert!(
        s.standin.requests() as usize > sent,
        "the faults did happen"
    );
    let created = rows.iter().find(|r| r.kind == "TOKEN_CREATED").unwrap();
    assert!(
        created.body.contains(&format!("{}/t/", s.base)),
        "{}",
        created.body
    );

    // The same desk actions with a healthy provider, for the latency comparison.
    s.standin.set_faults(Faults::None);
    let without_faults = presses_while_sending(&s, 20).await;
    let (faulty, healthy) = (percentiles(with_faults), percentiles(without_faults));
    println!(
        "desk NEXT ({}) while the outbox works: with provider faults p50 {:?} p99 {:?}; \
         healthy provider p50 {:?} p99 {:?}; {sent} messages sent with {} provider requests, {} duplicates",
        s.store.backend(),
        faulty.0,
        faulty.1,
        healthy.0,
        healthy.1,
        s.standin.requests(),
        s.standin.duplicates().len()
    );
}

async fn two_workers_never_send_the_same_message(store: Store) {
    let s = setup(store, "wa-two", "META", Faults::None).await;
    for i in 0..30 {
        patient_with_window(&s, i).await;
    }
    // The second worker belongs to another app instance, with its own connections.
    let second = Messenger::new(
        qline_app::queue::engine::Engine::new(support::second_instance(&s.store).await)
            .with_public_url(&s.base),
        qline_app::messaging::secrets::SecretBox::from_hex_key(support::TEST_SECRET_KEY).unwrap(),
        s.standin.endpoints(),
    )
    .with_batch(3);
    drain(&[&s.messenger, &second], &s.store, s.clinic.id).await;
    let rows = outbox(&s).await;
    assert_eq!(rows.len(), 30);
    assert!(
        rows.iter().all(|r| r.status == "SENT" && r.attempts == 1),
        "{rows:#?}"
    );
    assert!(s.standin.duplicates().is_empty());
    assert_eq!(s.standin.delivered(), 30);
}

fn meta_text(id: &str, from_digits: &str, text: &str) -> Value {
    meta_payload(json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "919800000000", "phone_number_id": META_PHONE_NUMBER_ID },
        "contacts": [{ "profile": { "name": "Asha" }, "wa_id": from_digits }],
        // Written a minute ago: WhatsApp's 24 hours run from the message's own time.
        "messages": [{ "from": from_digits, "id": id, "timestamp": (Timestamp::now().millis() / 1000 - 60).to_string(), "type": "text", "text": { "body": text } }]
    }))
}

async fn meta_webhooks_are_signed_deduplicated_and_open_windows(store: Store) {
    let s = setup(store, "wa-meta", "META", Faults::None).await;
    let http = reqwest::Client::new();
    let verify = |token: &str| {
        http.get(format!("{}/webhooks/whatsapp/meta", s.base))
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.verify_token", token),
                ("hub.challenge", "1158201444"),
            ])
            .send()
    };
    assert_eq!(verify("wrong").await.unwrap().status(), 403);
    let ok = verify(META_VERIFY_TOKEN).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");

    // A patient who joined by QR (no window: no message) taps "Get updates on WhatsApp".
    let applied = take_token(&s, Actor::Patient { ip: None }, "Asha", "98123 45678").await;
    let (token, public_id, _) = applied.created.unwrap();
    assert!(
        outbox(&s).await.is_empty(),
        "no window yet, so nothing is sent"
    );
    let text = opt_in_text("A-1", &public_id);
    let (raw, signature) = signed(
        &meta_text("wamid.in1", "919812345678", &text),
        META_APP_SECRET,
    );

    let (status, _) = post_meta(&s.base, raw.clone(), "sha256=00ff").await;
    assert_eq!(status, 401, "a bad signature is refused");
    let (status, _) = post_meta(
        &s.base,
        raw.clone(),
        &signed(
            &meta_text("wamid.in1", "919812345678", &text),
            "not-the-secret",
        )
        .1,
    )
    .await;
    assert_eq!(status, 401, "a signature under another secret is refused");
    assert!(
        outbox(&s).await.is_empty(),
        "nothing from a refused delivery"
    );

    let (status, report) = post_meta(&s.base, raw.clone(), &signature).await;
    assert_eq!(status, 200);
    assert_eq!(report["messages"], 1);
    let (status, report) = post_meta(&s.base, raw, &signature).await;
    assert_eq!(
        (status, report["duplicates"].clone()),
        (200, json!(1)),
        "redelivery is processed once"
    );

    let window = s
        .store
        .window_of(s.clinic.id, "+919812345678")
        .await
        .unwrap()
        .expect("a window");
    assert_eq!(window.token_id, Some(token.get()));
    assert!(window.is_open(Timestamp::now()));
    let rows = outbox(&s).await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].kind, "WELCOME");
    assert!(
        rows[0].body.contains("A-1") && rows[0].body.contains(&public_id.to_string()),
        "{}",
        rows[0].body
    );

    // The clinic's own number and non-text messages are ignored.
    let (raw, signature) = signed(
        &meta_text("wamid.own", "919800000000", "echo"),
        META_APP_SECRET,
    );
    let (_, report) = post_meta(&s.base, raw, &signature).await;
    assert_eq!(
        (report["messages"].clone(), report["ignored"].clone()),
        (json!(0), json!(1))
    );

    // Delivery reports, in Meta's shape, land on the sent message.
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    let sent = outbox(&s).await.remove(0);
    let wamid = sent.provider_message_id.clone().expect("a provider id");
    for state in ["sent", "delivered", "read"] {
        let status = meta_payload(json!({
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "919800000000", "phone_number_id": META_PHONE_NUMBER_ID },
            "statuses": [{ "id": wamid, "status": state, "timestamp": "1763700100", "recipient_id": "919812345678" }]
        }));
        let (raw, signature) = signed(&status, META_APP_SECRET);
        let (code, report) = post_meta(&s.base, raw, &signature).await;
        assert_eq!((code, report["statuses"].clone()), (200, json!(1)));
        assert_eq!(outbox(&s).await[0].delivery.as_deref(), Some(state));
    }
    let failed = meta_payload(json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "919800000000", "phone_number_id": META_PHONE_NUMBER_ID },
        "statuses": [{ "id": wamid, "status": "failed", "timestamp": "1763700200", "recipient_id": "919812345678",
                       "errors": [{ "code": 131026, "title": "Message undeliverable" }] }]
    }));
    let (raw, signature) = signed(&failed, META_APP_SECRET);
    post_meta(&s.base, raw, &signature).await;
    let row = outbox(&s).await.remove(0);
    assert_eq!(row.delivery.as_deref(), Some("failed"));
    assert!(row.last_error.contains("131026"), "{}", row.last_error);
}

async fn ultramsg_webhooks_check_their_secret_and_ignore_groups_and_own_messages(store: Store) {
    let s = setup(store, "wa-ultra", "ULTRAMSG", Faults::None).await;
    let view = s
        .messenger
        .view(&s.store.clinic(s.clinic.id).await.unwrap().unwrap())
        .await
        .unwrap();
    let url = view.webhook_url.clone();
    assert!(
        url.contains("/webhooks/whatsapp/ultramsg/wa-ultra?secret="),
        "{url}"
    );
    let event = |id: &str, from: &str, body: &str, from_me: bool, group: bool| {
        json!({
            "event_type": "message_received",
            "instanceId": "1150",
            "id": "",
            "referenceId": "",
            "data": {
                "id": id, "from": from, "to": "919800000000@c.us", "author": "", "pushname": "Ravi",
                "ack": "", "type": "chat", "body": body, "media": "", "fromMe": from_me, "self": false,
                "isGroup": group, "isForwarded": false, "time": Timestamp::now().millis() / 1000 - 60
            }
        })
    };
    let http = reqwest::Client::new();
    let post = |target: String, body: Value| http.post(target).json(&body).send();

    let wrong = url.split("?secret=").next().unwrap().to_owned() + "?secret=guess";
    assert_eq!(
        post(wrong, event("m1", "919811111111@c.us", "hi", false, false))
            .await
            .unwrap()
            .status(),
        401
    );
    // A group, the clinic's own message, a status broadcast: all ignored.
    let ignored = [
        event("m2", "120363041234567890@g.us", "hi all", false, true),
        event("m3", "919811111111@c.us", "sent by us", true, false),
        event("m4", "status@broadcast", "story", false, false),
    ];
    for body in ignored {
        let answer = post(url.clone(), body.clone()).await.unwrap();
        assert_eq!(
            answer.json::<Value>().await.unwrap()["ignored"],
            1,
            "{body}"
        );
    }
    assert!(s
        .store
        .window_of(s.clinic.id, "+919811111111")
        .await
        .unwrap()
        .is_none());

    let real = post(
        url.clone(),
        event("m5", "919811111111@c.us", "STATUS", false, false),
    )
    .await
    .unwrap();
    assert_eq!(real.json::<Value>().await.unwrap()["messages"], 1);
    assert!(s
        .store
        .window_of(s.clinic.id, "+919811111111")
        .await
        .unwrap()
        .unwrap()
        .is_open(Timestamp::now()));
    let again = post(
        url,
        event("m5", "919811111111@c.us", "STATUS", false, false),
    )
    .await
    .unwrap();
    assert_eq!(again.json::<Value>().await.unwrap()["duplicates"], 1);
    // No token for that phone: one reply saying so.
    let rows = outbox(&s).await;
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].body.contains("could not find a token"),
        "{}",
        rows[0].body
    );
}

async fn stop_silences_a_phone_until_it_writes_again(store: Store) {
    let s = setup(store, "wa-stop", "ULTRAMSG", Faults::None).await;
    let (_, _) = patient_with_window(&s, 1).await;
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    let stop = Inbound {
        clinic: s.clinic.id,
        provider_message_id: "stop-1",
        phone: &phone(1),
        body: "stop",
        sent_at: None,
    };
    assert_eq!(
        s.messenger.handle_inbound(&stop).await.unwrap(),
        Handled::OptedOut
    );
    let before = s.standin.delivered();
    // Called while opted out: nothing is queued for them.
    next(&s).await;
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    assert_eq!(s.standin.delivered(), before, "nothing after STOP");
    // "Your turn" is recorded as not reached, and nothing was tried.
    assert!(outbox(&s)
        .await
        .iter()
        .filter(|r| r.kind == "YOUR_TURN")
        .all(|r| r.status == "SKIPPED"));

    // Writing again opts back in.
    let back = Inbound {
        clinic: s.clinic.id,
        provider_message_id: "back-1",
        phone: &phone(1),
        body: "STATUS",
        sent_at: None,
    };
    assert_eq!(
        s.messenger.handle_inbound(&back).await.unwrap(),
        Handled::Status
    );
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    assert_eq!(s.standin.delivered(), before + 1);
}

async fn provider_secrets_are_sealed_at_rest(store: Store) {
    let s = setup(store, "wa-sealed", "META", Faults::None).await;
    let raw: Vec<String> = match &s.store {
        Store::Sqlite(db) => sqlx::query_scalar("SELECT sealed_secrets FROM whatsapp_accounts")
            .fetch_all(&db.pool)
            .await
            .unwrap(),
        Store::Postgres(pool) => sqlx::query_scalar("SELECT sealed_secrets FROM whatsapp_accounts")
            .fetch_all(pool)
            .await
            .unwrap(),
    };
    assert_eq!(raw.len(), 1);
    for secret in [META_ACCESS_TOKEN, META_APP_SECRET, META_VERIFY_TOKEN] {
        assert!(!raw[0].contains(secret), "{secret} is stored in clear");
    }
    // The settings page shows them masked.
    let view = s
        .messenger
        .view(&s.store.clinic(s.clinic.id).await.unwrap().unwrap())
        .await
        .unwrap();
    assert!(
        view.secrets
            .iter()
            .all(|(_, masked)| masked.starts_with("••••••")),
        "{:?}",
        view.secrets
    );
    // And "test connection" reports the provider's answer.
    let answer = s.messenger.test_connection(s.clinic.id).await.unwrap();
    assert_eq!(
        answer,
        Ok("Meta number +91 98000 00000 (Demo Clinic) is reachable".to_owned())
    );
}

/// The database file itself (SQLite) holds no provider token in clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_file_holds_no_provider_token_in_clear() {
    let db = support::TestDb::sqlite().await;
    let s = setup(db.store.clone(), "wa-file", "ULTRAMSG", Faults::None).await;
    drop(s);
    let file = db.sqlite_path().unwrap().to_owned();
    db.store.close().await;
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend(std::fs::read(format!("{}-wal", file.display())).unwrap_or_default());
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(
        haystack.contains("ULTRAMSG"),
        "the account row is in this file"
    );
    assert!(
        !haystack.contains(ULTRAMSG_TOKEN),
        "the UltraMsg token is stored in clear"
    );
    db.cleanup().await;
}

async fn say(m: &Messenger, clinic: ClinicId, id: &str, phone: &str, body: &str) -> Handled {
    m.handle_inbound(&Inbound {
        clinic,
        provider_message_id: id,
        phone,
        body,
        sent_at: None,
    })
    .await
    .unwrap()
}

async fn the_join_bot_asks_queue_and_name_and_its_state_survives_a_restart(store: Store) {
    let s = setup(store, "wa-bot", "ULTRAMSG", Faults::None).await;
    let me = "+919822200001";
    assert_eq!(
        say(&s.messenger, s.clinic.id, "b1", me, "JOIN wa-bot").await,
        Handled::Asked
    );
    assert_eq!(
        say(&s.messenger, s.clinic.id, "b2", me, "7").await,
        Handled::Asked,
        "a number out of range asks again"
    );
    assert_eq!(
        say(&s.messenger, s.clinic.id, "b3", me, "2").await,
        Handled::Asked
    );
    let replies: Vec<String> = outbox(&s).await.into_iter().map(|r| r.body).collect();
    assert!(
        replies[0].contains("1. General") && replies[0].contains("2. Dental"),
        "{replies:?}"
    );
    assert!(replies[1].contains("from 1 to 2"), "{replies:?}");
    assert!(replies[2].contains("What name"), "{replies:?}");

    // Another instance (or this one restarted) carries on where the conversation stopped.
    let restarted = Messenger::new(
        qline_app::queue::engine::Engine::new(s.store.clone()).with_public_url(&s.base),
        qline_app::messaging::secrets::SecretBox::from_hex_key(support::TEST_SECRET_KEY).unwrap(),
        s.standin.endpoints(),
    );
    let Handled::Joined(token) = say(&restarted, s.clinic.id, "b4", me, "Ravi Kumar").await else {
        panic!("the bot should have made a token");
    };
    let created = outbox(&s)
        .await
        .into_iter()
        .find(|r| r.kind == "TOKEN_CREATED")
        .expect("the token's message");
    assert_eq!(created.token_id, Some(token.get()));
    assert!(
        created.body.contains("D-1") && created.body.contains("/t/"),
        "{}",
        created.body
    );
    let desk = s
        .messenger
        .engine()
        .desk(&s.clinic.desk, Some(s.clinic.dental))
        .await
        .unwrap();
    let row = desk
        .waiting
        .iter()
        .find(|t| t.id == token.get())
        .expect("on the Dental desk");
    assert_eq!(
        (row.name.as_str(), row.source),
        ("Ravi Kumar", Source::Whatsapp)
    );
    assert!(
        row.whatsapp_until.is_some(),
        "the desk shows the open window"
    );

    assert_eq!(
        say(&restarted, s.clinic.id, "b5", me, "status").await,
        Handled::Status
    );
    assert_eq!(
        say(&restarted, s.clinic.id, "b6", me, "CANCEL").await,
        Handled::AskedToConfirmCancel
    );
    assert_eq!(
        say(&restarted, s.clinic.id, "b7", me, "yes").await,
        Handled::Cancelled
    );
    let desk = s
        .messenger
        .engine()
        .desk(&s.clinic.desk, Some(s.clinic.dental))
        .await
        .unwrap();
    assert!(desk.waiting.is_empty());
    assert_eq!(desk.cancelled_today, 1);
}

/// Moves a phone's last message back in time, as if it wrote long ago.
async fn age_window(store: &Store, phone: &str, hours: i64) {
    let at = Timestamp::now().millis() - hours * 3_600_000;
    let sql = "UPDATE whatsapp_windows SET last_inbound_at = $1 WHERE phone = $2";
    match store {
        Store::Sqlite(db) => sqlx::query(sql)
            .bind(at)
            .bind(phone)
            .execute(&db.pool)
            .await
            .map(|_| ()),
        Store::Postgres(pool) => sqlx::query(sql)
            .bind(at)
            .bind(phone)
            .execute(pool)
            .await
            .map(|_| ()),
    }
    .unwrap();
}

async fn over_a_simulated_day_free_form_messages_go_only_to_open_windows(store: Store) {
    let s = setup(store, "wa-day", "ULTRAMSG", Faults::None).await;
    let mut checked = 0;
    // `(phone, deliveries so far)` at each STOP.
    let mut stopped: Vec<(String, usize)> = Vec::new();
    // Sends each event's messages, checking every delivery against the windows as they
    // stood when the messages went out.
    let settle = |s: &Setup| {
        let store = s.store.clone();
        let m = s.messenger.clone();
        let clinic = s.clinic.id;
        let standin = s.standin.clone();
        async move {
            let before = standin.texts().len();
            let mut open = Vec::new();
            for i in 0..40 {
                if let Some(w) = store.window_of(clinic, &phone(i)).await.unwrap() {
                    if w.is_open(Timestamp::now()) {
                        open.push(phone(i));
                    }
                }
            }
            drain(&[&m], &store, clinic).await;
            let texts = standin.texts();
            let new = texts[before..].to_vec();
            for (to, body) in &new {
                assert!(
                    open.contains(to),
                    "sent to {to} without an open window: {body}"
                );
            }
            new.len()
        }
    };
    for i in 0..30 {
        let p = phone(i);
        match i % 3 {
            // Opts in from the tracker.
            0 => {
                let applied =
                    take_token(&s, Actor::Patient { ip: None }, &format!("Patient {i}"), &p).await;
                let (_, public_id, number) = applied.created.unwrap();
                let text = opt_in_text(&number.label("A"), &public_id);
                say(&s.messenger, s.clinic.id, &format!("opt-{i}"), &p, &text).await;
            }
            // Writes first, then takes a token at the desk.
            1 => {
                patient_with_window(&s, i).await;
            }
            // Never writes.
            _ => {
                take_token(
                    &s,
                    Actor::Staff(&s.clinic.desk),
                    &format!("Patient {i}"),
                    &p,
                )
                .await;
            }
        }
        checked += settle(&s).await;
        if i % 7 == 3 {
            say(&s.messenger, s.clinic.id, &format!("stop-{i}"), &p, "STOP").await;
            stopped.push((p.clone(), s.standin.texts().len()));
        }
        if i % 5 == 4 {
            // A window that has run out: messages queued earlier must not go out.
            age_window(&s.store, &phone(i - 3), 25).await;
        }
        if i % 2 == 1 {
            next(&s).await;
            if i % 4 == 3 {
                // The window of someone with a message waiting closes before it is sent.
                let rows = outbox(&s).await;
                if let Some(due) = rows.iter().find(|r| r.status == "PENDING") {
                    age_window(&s.store, &due.phone, 25).await;
                }
            }
            checked += settle(&s).await;
        }
    }
    // The rest of the day: everyone left is called.
    while !s
        .messenger
        .engine()
        .desk(&s.clinic.desk, Some(s.clinic.general))
        .await
        .unwrap()
        .waiting
        .is_empty()
    {
        next(&s).await;
        checked += settle(&s).await;
    }
    assert!(checked > 20, "the day sent messages ({checked})");
    let texts = s.standin.texts();
    assert!(!stopped.is_empty());
    for (p, at_stop) in &stopped {
        assert!(
            !texts[*at_stop..].iter().any(|(to, _)| to == p),
            "{p} got a message after STOP"
        );
    }
    let rows = outbox(&s).await;
    assert!(
        rows.iter().any(|r| r.status == "SKIPPED"),
        "some queued messages met a closed window"
    );
    for (i, row) in rows.iter().enumerate() {
        assert!(
            matches!(row.status.as_str(), "SENT" | "SKIPPED"),
            "row {i}: {row:?}"
        );
    }
    for i in 0..30 {
        if i % 3 == 2 {
            assert!(
                !texts.iter().any(|(to, _)| *to == phone(i)),
                "{} never wrote, yet got a message",
                phone(i)
            );
        }
    }
}

async fn a_worker_killed_mid_send_loses_nothing(store: Store) {
    let mut s = setup(store, "wa-crash", "ULTRAMSG", Faults::None).await;
    s.messenger = s.messenger.clone().with_lease(Duration::from_millis(300));
    for i in 0..6 {
        patient_with_window(&s, i).await;
    }
    s.standin.set_faults(Faults::Stall);
    let doomed = s.messenger.clone();
    let worker = tokio::spawn(async move { doomed.work_once().await });
    // The worker has claimed everything and is waiting on the provider: now it dies.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !outbox(&s).await.iter().all(|r| r.status == "SENDING") {
        assert!(
            Instant::now() < deadline,
            "the worker never claimed the messages"
        );
        tokio::task::yield_now().await;
    }
    worker.abort();
    assert!(worker.await.unwrap_err().is_cancelled());

    // A new instance takes the rows over once the dead worker's lease has run out.
    s.standin.set_faults(Faults::None);
    let restarted = Messenger::new(
        qline_app::queue::engine::Engine::new(s.store.clone()).with_public_url(&s.base),
        qline_app::messaging::secrets::SecretBox::from_hex_key(support::TEST_SECRET_KEY).unwrap(),
        s.standin.endpoints(),
    )
    .with_lease(Duration::from_millis(300));
    drain(&[&restarted], &s.store, s.clinic.id).await;
    let rows = outbox(&s).await;
    assert_eq!(rows.len(), 6);
    assert!(
        rows.iter().all(|r| r.status == "SENT" && r.attempts == 2),
        "{rows:#?}"
    );
    println!(
        "after a crash mid-send: {} of {} messages reached the provider twice (at least once)",
        s.standin.duplicates().len(),
        rows.len()
    );
}

async fn a_stopping_worker_leaves_what_it_has_not_tried_to_others(store: Store) {
    let s = setup(store, "wa-stop", "ULTRAMSG", Faults::None).await;
    for i in 0..12 {
        patient_with_window(&s, i).await;
    }
    s.standin.set_faults(Faults::Stall);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(s.messenger.clone().run(stopped));
    // The worker has claimed what its send slots hold and waits on those sends: the
    // server is told to stop.
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.standin.requests() == 0 {
        assert!(Instant::now() < deadline, "the worker never sent");
        tokio::task::yield_now().await;
    }
    stop.send(true).unwrap();
    worker.await.unwrap();
    let rows = outbox(&s).await;
    let tried = s.standin.requests();
    let given_back: Vec<_> = rows
        .iter()
        .filter(|r| r.status == "PENDING" && r.attempts == 0)
        .collect();
    assert!(
        tried < 12,
        "the stop came between messages: {tried} were tried"
    );
    assert_eq!(
        given_back.len(),
        12 - tried as usize,
        "what was not tried stays untouched for the next worker: {rows:#?}"
    );
    assert!(
        rows.iter().all(|r| r.status != "SENDING"),
        "no claim is left to wait out its lease: {rows:#?}"
    );
    // The next worker (another instance, or this one restarted) sends them at once.
    s.standin.set_faults(Faults::None);
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    let rows = outbox(&s).await;
    assert!(rows.iter().all(|r| r.status == "SENT"), "{rows:#?}");
    for r in given_back {
        assert_eq!(
            s.standin.delivered_to(&r.id.to_string()),
            1,
            "a message left untried is sent once"
        );
    }
}

async fn a_strangers_typed_name_never_reaches_the_phone_it_named(store: Store) {
    let s = setup(store, "wa-names", "META", Faults::None).await;
    set_settings(&s, |settings| settings.whatsapp_template_mode = true).await;
    let join = |name: &'static str, phone: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/api/join", s.base))
            .form(&[
                ("slug", "wa-names".to_owned()),
                ("queue_id", s.clinic.general.to_string()),
                ("name", name.to_owned()),
                ("phone", phone.to_owned()),
                ("language", "en".to_owned()),
            ])
            .send()
    };
    // A stranger takes a token on the join page for someone else's number, "named" with
    // an advert: the template goes out, greeting by token number.
    let stranger = join("Win a prize at evil.example", "98123 66666")
        .await
        .unwrap();
    assert_eq!(stranger.status(), 200);
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    let sent = s.standin.meta_bodies();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["type"], "template");
    assert!(!sent[0].to_string().contains("evil"), "{}", sent[0]);
    assert_eq!(
        sent[0]["template"]["components"][0]["parameters"][0]["text"],
        "A-1"
    );
    // A name reception typed is the clinic's own word: the template carries it.
    take_token(&s, Actor::Staff(&s.clinic.desk), "Meera", "98123 55555").await;
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    let sent = s.standin.meta_bodies();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_eq!(
        sent[1]["template"]["components"][0]["parameters"][0]["text"],
        "Meera"
    );
}

/// Changes one of the clinic's settings directly.
async fn set_settings(s: &Setup, change: impl FnOnce(&mut ClinicSettings)) {
    let mut clinic = s.store.clinic(s.clinic.id).await.unwrap().unwrap();
    change(&mut clinic.settings);
    let mut tx = s.store.begin().await.unwrap();
    tx.update_clinic(&clinic).await.unwrap();
    tx.commit().await.unwrap();
}

async fn the_daily_message_limit_holds(store: Store) {
    let s = setup(store, "wa-limit", "ULTRAMSG", Faults::None).await;
    set_settings(&s, |settings| settings.daily_message_limit = 3).await;
    for i in 0..5 {
        patient_with_window(&s, i).await;
    }
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    let rows = outbox(&s).await;
    let sent = rows.iter().filter(|r| r.status == "SENT").count();
    let limited: Vec<_> = rows.iter().filter(|r| r.status == "FAILED").collect();
    assert_eq!((sent, limited.len()), (3, 2), "{rows:#?}");
    assert!(
        limited
            .iter()
            .all(|r| r.last_error.contains("daily message limit (3)")),
        "{limited:#?}"
    );
    assert_eq!(s.standin.delivered(), 3);
    // The clinic page shows the count against the limit.
    let view = s
        .messenger
        .view(&s.store.clinic(s.clinic.id).await.unwrap().unwrap())
        .await
        .unwrap();
    assert_eq!((view.messages_today, view.daily_limit), (3, 3));
}

async fn template_mode_reaches_phones_outside_the_window_with_approved_templates(store: Store) {
    let s = setup(store, "wa-templates", "META", Faults::None).await;
    set_settings(&s, |settings| settings.whatsapp_template_mode = true).await;
    // A patient who never wrote to the clinic.
    take_token(&s, Actor::Staff(&s.clinic.desk), "Meera", "98123 77777").await;
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    let rows = outbox(&s).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "SENT", "{rows:#?}");
    assert_eq!(
        s.standin.texts(),
        vec![(
            "919812377777".to_owned(),
            "template qline_token_created".to_owned()
        )],
        "outside the window only the approved template goes out"
    );
    // Without template mode the same patient would get nothing.
    set_settings(&s, |settings| settings.whatsapp_template_mode = false).await;
    next(&s).await;
    drain(&[&s.messenger], &s.store, s.clinic.id).await;
    assert_eq!(
        s.standin.texts().len(),
        1,
        "no free-form message outside the window"
    );
}

/// The bodies of what was queued for `phone`, oldest first.
async fn said_to(s: &Setup, phone: &str) -> Vec<String> {
    let mut rows = outbox(s).await;
    rows.sort_by_key(|r| r.id);
    rows.into_iter()
        .filter(|r| r.phone == phone)
        .map(|r| r.body)
        .collect()
}

async fn the_bot_answers_in_the_patients_language_and_its_token_keeps_it(store: Store) {
    let s = setup(store, "wa-hindi", "ULTRAMSG", Faults::None).await;
    let m = &s.messenger;
    let me = "+919822200002";
    // The conversation begins in Devanagari: the bot answers in Hindi from then on, even
    // to a queue number or a name typed in Latin letters.
    assert_eq!(
        say(m, s.clinic.id, "h1", me, "नमस्ते, मुझे टोकन चाहिए").await,
        Handled::ForStaff(None)
    );
    assert_eq!(
        say(m, s.clinic.id, "h2", me, "JOIN wa-hindi").await,
        Handled::Asked
    );
    assert_eq!(say(m, s.clinic.id, "h3", me, "9").await, Handled::Asked);
    assert_eq!(say(m, s.clinic.id, "h4", me, "1").await, Handled::Asked);
    let Handled::Joined(token) = say(m, s.clinic.id, "h5", me, "Ravi").await else {
        panic!("the bot should have made a token");
    };
    let said = said_to(&s, me).await;
    assert!(
        said[0].contains("कौन-सी कतार") && said[0].contains("1. General"),
        "{said:?}"
    );
    assert!(said[1].contains("1 से 2"), "{said:?}");
    assert!(said[2].contains("नाम पुकारें"), "{said:?}");
    assert!(
        said[3].contains("आपका टोकन A-1"),
        "the token's message: {said:?}"
    );
    // The token keeps the language: its tracker and every later message are in Hindi.
    let contact = s.store.token_contact(token).await.unwrap().unwrap();
    assert_eq!(contact.language, Language::Hi);
    let tracker = m.engine().tracker(&contact.public_id).await.unwrap();
    assert_eq!(tracker.language, Language::Hi);

    // "ENGLISH" turns the conversation and the token to English.
    assert_eq!(
        say(m, s.clinic.id, "h6", me, "English").await,
        Handled::Noted
    );
    assert_eq!(
        say(m, s.clinic.id, "h7", me, "status").await,
        Handled::Status
    );
    let said = said_to(&s, me).await;
    assert!(
        said[4].starts_with("OK, we will answer in English"),
        "{said:?}"
    );
    assert!(said[5].contains("your token is A-1"), "{said:?}");
    let contact = s.store.token_contact(token).await.unwrap().unwrap();
    assert_eq!(contact.language, Language::En);

    // Another patient writes in English and asks for Hindi by name ("हिंदी").
    let other = "+919822200003";
    assert_eq!(
        say(m, s.clinic.id, "h8", other, "हिंदी").await,
        Handled::Noted
    );
    assert_eq!(
        say(m, s.clinic.id, "h9", other, "status").await,
        Handled::Noted
    );
    let said = said_to(&s, other).await;
    assert!(said[0].starts_with("ठीक है, अब हम हिंदी में"), "{said:?}");
    assert!(said[1].contains("कोई टोकन नहीं मिला"), "{said:?}");
}

async fn a_number_asks_for_its_link_and_only_that_number_gets_it(store: Store) {
    let s = setup(store, "wa-find", "ULTRAMSG", Faults::None).await;
    let engine = s.messenger.engine();
    let (token, public_id) = patient_with_window(&s, 41).await;
    let before = outbox(&s).await.len();
    let ask = |number: String, ip: &'static str| {
        let engine = engine.clone();
        async move { engine.find_token("wa-find", &number, Some(ip)).await }
    };

    // A number with a live token today gets its link on WhatsApp: the same tracker link.
    assert!(ask(phone(41), "10.1.0.1")
        .await
        .unwrap()
        .send()
        .await
        .unwrap());
    let rows = outbox(&s).await;
    let link = rows.last().unwrap();
    assert_eq!(rows.len(), before + 1);
    assert_eq!(link.kind, "LINK");
    assert_eq!(
        (link.phone.as_str(), link.token_id),
        (phone(41).as_str(), Some(token.get()))
    );
    assert!(
        link.body.contains(&format!("/t/{public_id}")),
        "{}",
        link.body
    );

    // A number without a token is accepted the same way, and nothing is sent.
    let unknown = ask(phone(42), "10.1.0.1").await.unwrap();
    assert!(!unknown.send().await.unwrap());
    assert_eq!(outbox(&s).await.len(), before + 1);
    // A number that is not one is refused for what it is, saying nothing about tokens.
    assert!(matches!(
        ask("12".into(), "10.1.0.1").await,
        Err(EngineError::Refused(QueueError::Invalid(e))) if e.field == "phone"
    ));

    // Three links a day to one number at most.
    for _ in 0..3 {
        ask(phone(41), "10.1.0.2")
            .await
            .unwrap()
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        outbox(&s).await.len(),
        before + LINKS_PER_PHONE_PER_DAY as usize
    );

    // Requests at once, from four networks, keep to the limit too.
    patient_with_window(&s, 44).await;
    let before = outbox(&s).await.len();
    let asks = ["10.1.0.4", "10.1.0.5", "10.1.0.6", "10.1.0.7"].map(|ip| {
        let ask = ask(phone(44), ip);
        tokio::spawn(async move { ask.await.unwrap().send().await.unwrap() })
    });
    let mut sent = 0;
    for handle in futures::future::join_all(asks).await {
        sent += usize::from(handle.unwrap());
    }
    assert_eq!(sent, LINKS_PER_PHONE_PER_DAY as usize);
    let links: Vec<_> = outbox(&s).await.split_off(before);
    assert_eq!(links.len(), LINKS_PER_PHONE_PER_DAY as usize);
    assert!(links
        .iter()
        .all(|l| l.kind == "LINK" && l.phone == phone(44)));

    // A network that keeps asking waits, whatever the number.
    for _ in 0..5 {
        ask(phone(43), "10.1.0.3").await.unwrap();
    }
    assert!(matches!(
        ask(phone(41), "10.1.0.3").await,
        Err(EngineError::Refused(QueueError::TooManyLookups { wait_secs })) if wait_secs > 0
    ));
}
