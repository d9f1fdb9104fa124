//! Every patient reached, against stand-in push, WhatsApp and SMS services on loopback, on
//! both backends: the fallback chain stops at the first channel that delivers and falls
//! through on failure, SMS carries only "your turn", subscriptions the push service
//! reports gone are deleted, and the desk's inbox shows patients' messages and replies
//! only while WhatsApp's window is open.

mod support;

use qline_app::console::{SmsInput, WhatsAppInput};
use qline_app::domain::*;
use qline_app::messaging::inbound::{Handled, Inbound};
use qline_app::messaging::push::Subscription;
use qline_app::messaging::Messenger;
use qline_app::queue::engine::{Actor, JoinRequest};
use qline_app::queue::rules::StaffAction;
use qline_app::storage::{ConsoleAudit, OutboxRow, Store};
use qline_app::tenant::Tenants;
use serde_json::{json, Value};
use std::time::Duration;
use support::standin::*;

on_both_backends!(
    the_chain_stops_at_the_first_channel_that_delivers,
    a_failing_channel_falls_through_to_the_next,
    sms_carries_only_your_turn,
    gone_subscriptions_are_deleted,
    the_tracker_subscribes_over_http_and_bad_subscriptions_are_refused,
    the_desk_sees_patients_messages_and_replies_only_inside_the_window,
    a_simulated_day_reaches_each_patient_by_the_channel_they_allowed
);

const CLINIC_NUMBER: &str = "+919800000000";

struct Setup {
    clinic: support::Clinic,
    messenger: Messenger,
    base: String,
    standin: StandIn,
    store: Store,
}

/// A clinic on UltraMsg with an SMS account, both pointed at the stand-in.
async fn setup(store: Store, slug: &str) -> Setup {
    let settings = ClinicSettings {
        whatsapp_enabled: true,
        notify_when_ahead: 1,
        ..ClinicSettings::default()
    };
    let clinic = support::clinic(&store, slug, settings).await;
    let standin = StandIn::start(Faults::None).await;
    let (base, mut messenger) = support::spawn_app_with(store.clone(), standin.endpoints()).await;
    messenger = messenger.with_retry_base(Duration::from_millis(10));
    let found = store.clinic(clinic.id).await.unwrap().unwrap();
    let owner = clinic.owner.clone();
    let audit = |action: &'static str| ConsoleAudit {
        clinic: Some(clinic.id),
        actor: &owner,
        ip: None,
        action,
        target: slug,
        detail: "{}",
    };
    let whatsapp = WhatsAppInput {
        provider: "ULTRAMSG".into(),
        phone_number: CLINIC_NUMBER.into(),
        ultramsg_instance: ULTRAMSG_INSTANCE.into(),
        ultramsg_token: ULTRAMSG_TOKEN.into(),
        ..WhatsAppInput::default()
    };
    messenger
        .configure(&found, &whatsapp, audit("CONFIGURE_WHATSAPP"))
        .await
        .unwrap();
    let sms = SmsInput {
        account_sid: SMS_ACCOUNT_SID.into(),
        auth_token: SMS_AUTH_TOKEN.into(),
        from_number: "+14155550100".into(),
        remove: false,
    };
    messenger
        .configure_sms(&found, &sms, audit("CONFIGURE_SMS"))
        .await
        .unwrap();
    Setup {
        clinic,
        messenger,
        base,
        standin,
        store,
    }
}

fn phone(i: u32) -> String {
    format!("+9198766{i:05}")
}

/// A patient takes a token at the desk, with a phone.
async fn patient(s: &Setup, i: u32) -> (TokenId, PublicId) {
    let applied = s
        .messenger
        .engine()
        .create_token(
            Actor::Staff(&s.clinic.desk),
            JoinRequest {
                queue_id: s.clinic.general,
                name: format!("Patient {i}"),
                phone: Some(phone(i)),
                language: Language::En,
                emergency: false,
            },
        )
        .await
        .unwrap();
    let (id, public_id, _) = applied.created.unwrap();
    (id, public_id)
}

/// The patient's browser subscribes on this stand-in push service (keys of a real P-256
/// point, as a browser would send).
async fn subscribe(s: &Setup, public_id: &PublicId, name: &str) {
    let keys = qline_app::messaging::push::Vapid::generate();
    let subscription = Subscription::parse(
        &s.standin.push_endpoint(name),
        &keys.public_key(),
        "AAECAwQFBgcICQoLDA0ODw",
    )
    .unwrap();
    s.messenger
        .subscribe_push(public_id, &subscription)
        .await
        .unwrap();
}

/// The patient writes to the clinic on WhatsApp, `hours_ago`.
async fn writes(s: &Setup, i: u32, body: &str, hours_ago: i64) -> Handled {
    let sent_at = Timestamp(Timestamp::now().millis() - hours_ago * 3_600_000);
    s.messenger
        .handle_inbound(&Inbound {
            clinic: s.clinic.id,
            provider_message_id: &format!("in-{i}-{}", rand::random::<u32>()),
            phone: &phone(i),
            body,
            sent_at: Some(sent_at),
        })
        .await
        .unwrap()
}

async fn next(s: &Setup) {
    let desk = s
        .messenger
        .engine()
        .desk(&s.clinic.desk, None)
        .await
        .unwrap();
    s.messenger
        .engine()
        .act(
            &s.clinic.desk,
            s.clinic.general,
            StaffAction::Next {
                expected_serving: desk.serving.map(|t| TokenId(t.id)),
                room: None,
            },
        )
        .await
        .unwrap();
}

/// Runs the worker until nothing is due.
async fn drain(s: &Setup) {
    for _ in 0..100 {
        if s.messenger.work_once().await.unwrap() == 0 {
            let pending = s
                .store
                .outbox_of(s.clinic.id)
                .await
                .unwrap()
                .iter()
                .any(|m| m.status == "PENDING" || m.status == "SENDING");
            if !pending {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    panic!("the outbox never settled");
}

async fn notices_of(s: &Setup, token: TokenId, kind: &str) -> Vec<OutboxRow> {
    s.store
        .outbox_of(s.clinic.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.token_id == Some(token.get()) && m.kind == kind)
        .collect()
}

/// `(channel, outcome)` of every attempt at one message, in order.
async fn attempts(s: &Setup, message: i64) -> Vec<(String, String)> {
    let rows: Vec<(String, String)> = match &s.store {
        Store::Sqlite(db) => sqlx::query_as(
            "SELECT channel, outcome FROM delivery_attempts WHERE outbox_id = $1 ORDER BY id",
        )
        .bind(message)
        .fetch_all(&db.pool)
        .await
        .unwrap(),
        Store::Postgres(pool) => sqlx::query_as(
            "SELECT channel, outcome FROM delivery_attempts WHERE outbox_id = $1 ORDER BY id",
        )
        .bind(message)
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    rows
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn the_chain_stops_at_the_first_channel_that_delivers(store: Store) {
    let s = setup(store, "chain-first").await;
    // Every channel could reach this patient: push, an open window, a phone for SMS.
    writes(&s, 1, "hello", 0).await;
    let (token, public_id) = patient(&s, 1).await;
    subscribe(&s, &public_id, "asha").await;
    next(&s).await;
    drain(&s).await;

    let turn = notices_of(&s, token, "YOUR_TURN").await;
    assert_eq!(turn.len(), 1);
    assert_eq!(
        (turn[0].status.as_str(), turn[0].channel.as_str()),
        ("SENT", "PUSH")
    );
    assert_eq!(attempts(&s, turn[0].id).await, pairs(&[("PUSH", "SENT")]));
    let pushes = s.standin.pushes();
    assert_eq!(pushes.len(), 1, "one push for one alert");
    assert!(pushes[0].authorization.starts_with("vapid t="));
    assert_eq!(pushes[0].encoding, "aes128gcm");
    assert!(!pushes[0].ttl.is_empty());
    // aes128gcm: salt (16), record size (4), key id length (1) = 65, the key, then at
    // least a tag.
    assert_eq!(pushes[0].body[20], 65);
    assert!(pushes[0].body.len() > 21 + 65 + 16);
    // Nothing went by WhatsApp or SMS for that alert.
    assert!(s
        .standin
        .texts()
        .iter()
        .all(|(_, body)| !body.contains("your turn")));
    assert_eq!(s.standin.sms_requests(), 0);
}

async fn a_failing_channel_falls_through_to_the_next(store: Store) {
    let s = setup(store, "chain-fall").await;
    // Push refused for good, no WhatsApp window: "your turn" ends as an SMS.
    let (token, public_id) = patient(&s, 2).await;
    subscribe(&s, &public_id, "broken").await;
    s.standin.answer_pushes("broken", PushAnswer::Refuse);
    next(&s).await;
    drain(&s).await;
    let turn = notices_of(&s, token, "YOUR_TURN").await;
    assert_eq!(turn.len(), 1, "one \"your turn\" alert: {turn:?}");
    assert_eq!(
        (turn[0].status.as_str(), turn[0].channel.as_str()),
        ("SENT", "SMS")
    );
    assert_eq!(
        attempts(&s, turn[0].id).await,
        pairs(&[("PUSH", "FAILED"), ("WHATSAPP", "SKIPPED"), ("SMS", "SENT")])
    );
    let sms = s.standin.sms();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].0, phone(2));
    assert!(sms[0].1.contains("your turn"), "{}", sms[0].1);
    // The desk sees every try, next to the patient.
    let desk = s
        .messenger
        .engine()
        .desk(&s.clinic.desk, None)
        .await
        .unwrap();
    let serving = desk.serving.unwrap();
    assert_eq!(serving.id, token.get());
    let words: Vec<String> = serving.notices.iter().map(|n| n.words()).collect();
    assert!(
        words.contains(&"turn: SMS (push failed, WhatsApp skipped)".to_owned()),
        "{words:?}"
    );

    // A push service that is down is retried, then WhatsApp (window open) delivers.
    writes(&s, 3, "hi", 0).await;
    let (token, public_id) = patient(&s, 3).await;
    subscribe(&s, &public_id, "busy").await;
    s.standin.answer_pushes("busy", PushAnswer::Busy);
    next(&s).await;
    drain(&s).await;
    let turn = notices_of(&s, token, "YOUR_TURN").await;
    assert_eq!(turn.len(), 1, "one \"your turn\" alert: {turn:?}");
    assert_eq!(
        (turn[0].status.as_str(), turn[0].channel.as_str()),
        ("SENT", "WHATSAPP")
    );
    assert_eq!(
        attempts(&s, turn[0].id).await,
        pairs(&[
            ("PUSH", "FAILED"),
            ("PUSH", "FAILED"),
            ("PUSH", "FAILED"),
            ("WHATSAPP", "SENT")
        ])
    );
    assert_eq!(s.standin.sms().len(), 1, "no SMS once WhatsApp delivered");
}

async fn sms_carries_only_your_turn(store: Store) {
    let s = setup(store, "chain-sms").await;
    // Three patients with phones but no push and no window; notify when 1 ahead.
    let (first, _) = patient(&s, 4).await;
    patient(&s, 5).await;
    let (third, _) = patient(&s, 12).await;
    next(&s).await; // first: your turn; third: near (1 ahead)
    drain(&s).await;
    let near = notices_of(&s, third, "NEXT_SOON").await;
    assert_eq!(
        near.len(),
        1,
        "the alert is recorded even when nothing reaches"
    );
    assert_eq!(near[0].status, "SKIPPED");
    assert!(attempts(&s, near[0].id).await.is_empty());
    // The first patient is skipped (missed): not critical either.
    s.messenger
        .engine()
        .act(
            &s.clinic.desk,
            s.clinic.general,
            StaffAction::Skip { token: first },
        )
        .await
        .unwrap();
    drain(&s).await;
    let missed = notices_of(&s, first, "MISSED").await;
    assert_eq!(missed.len(), 1, "one \"missed\" alert: {missed:?}");
    assert_eq!(missed[0].status, "SKIPPED");
    // Only "your turn" went by SMS: the first patient's.
    let sms = s.standin.sms();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0].0, phone(4));
    let turn = notices_of(&s, first, "YOUR_TURN").await;
    assert_eq!(turn.len(), 1, "one \"your turn\" alert: {turn:?}");
    assert_eq!(
        (turn[0].status.as_str(), turn[0].channel.as_str()),
        ("SENT", "SMS")
    );

    // The consoles count it: one SMS segment, delivery shares over the notifications.
    let stats = Tenants::new(s.store.clone())
        .delivery_since(Some(s.clinic.id), Timestamp::now().minus_minutes(60))
        .await
        .unwrap()
        .remove(&s.clinic.id.get())
        .unwrap();
    let sms_line = stats
        .channels
        .iter()
        .find(|c| c.channel == qline_app::messages::Channel::Sms)
        .unwrap();
    assert_eq!(
        (sms_line.attempts, sms_line.delivered, sms_line.cost_units),
        (1, 1, 1)
    );
    assert!(stats.not_reached >= 2, "{stats:?}");
}

async fn gone_subscriptions_are_deleted(store: Store) {
    let s = setup(store, "chain-gone").await;
    let (token, public_id) = patient(&s, 6).await;
    subscribe(&s, &public_id, "gone").await;
    subscribe(&s, &public_id, "alive").await;
    s.standin.answer_pushes("gone", PushAnswer::Gone);
    assert_eq!(s.store.push_subscriptions(token).await.unwrap().len(), 2);
    next(&s).await;
    drain(&s).await;
    let left = s.store.push_subscriptions(token).await.unwrap();
    assert_eq!(left.len(), 1, "the gone subscription is deleted");
    assert!(left[0].endpoint.ends_with("/push/alive"));
    let turn = notices_of(&s, token, "YOUR_TURN").await;
    assert_eq!(turn.len(), 1, "one \"your turn\" alert: {turn:?}");
    assert_eq!(
        (turn[0].status.as_str(), turn[0].channel.as_str()),
        ("SENT", "PUSH")
    );
    // Only one subscription left, and it is gone too: the alert falls through.
    s.standin.answer_pushes("alive", PushAnswer::Gone);
    s.messenger
        .engine()
        .act(
            &s.clinic.desk,
            s.clinic.general,
            StaffAction::Skip { token },
        )
        .await
        .unwrap();
    drain(&s).await;
    assert!(s.store.push_subscriptions(token).await.unwrap().is_empty());
    let missed = notices_of(&s, token, "MISSED").await;
    assert_eq!(missed.len(), 1, "one \"missed\" alert: {missed:?}");
    assert_eq!(missed[0].status, "FAILED", "{missed:?}");
    assert_eq!(
        attempts(&s, missed[0].id).await,
        pairs(&[("PUSH", "FAILED"), ("WHATSAPP", "SKIPPED")])
    );
}

async fn the_tracker_subscribes_over_http_and_bad_subscriptions_are_refused(store: Store) {
    let s = setup(store, "chain-http").await;
    let (token, public_id) = patient(&s, 7).await;
    let http = reqwest::Client::new();
    let key: Value = http
        .get(format!("{}/api/push/key", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        key["key"].as_str().unwrap().len(),
        87,
        "a base64url P-256 point"
    );

    let alerts = format!("{}/api/t/{public_id}/alerts", s.base);
    let browser = qline_app::messaging::push::Vapid::generate();
    let good = json!({
        "endpoint": s.standin.push_endpoint("tab"),
        "keys": { "p256dh": browser.public_key(), "auth": "AAECAwQFBgcICQoLDA0ODw" },
    });
    let answer = http.post(&alerts).json(&good).send().await.unwrap();
    assert_eq!(answer.status(), 201);
    // The same browser again: still one subscription.
    http.post(&alerts).json(&good).send().await.unwrap();
    assert_eq!(s.store.push_subscriptions(token).await.unwrap().len(), 1);

    for (bad, status) in [
        (
            json!({ "endpoint": "not a url", "keys": good["keys"] }),
            422,
        ),
        (
            json!({ "endpoint": "http://push.example.com/x", "keys": good["keys"] }),
            422,
        ),
        // Not a push service Qline sends to: the server must not be made to call it.
        (
            json!({ "endpoint": "https://internal.example/admin", "keys": good["keys"] }),
            422,
        ),
        (
            json!({ "endpoint": s.standin.push_endpoint("x"), "keys": { "p256dh": "short", "auth": "x" } }),
            422,
        ),
        (json!("nonsense"), 400),
    ] {
        let answer = http.post(&alerts).json(&bad).send().await.unwrap();
        assert_eq!(answer.status(), status, "{bad}");
        let said: Value = answer.json().await.unwrap();
        assert!(!said["error"].as_str().unwrap().is_empty());
    }
    // A token that is no longer waiting gets no alerts.
    s.messenger
        .engine()
        .cancel_by_patient(&public_id, None)
        .await
        .unwrap();
    let answer = http.post(&alerts).json(&good).send().await.unwrap();
    assert_eq!(answer.status(), 422);

    // Switching off removes it.
    let (token, public_id) = patient(&s, 8).await;
    let alerts = format!("{}/api/t/{public_id}/alerts", s.base);
    http.post(&alerts).json(&good).send().await.unwrap();
    assert_eq!(s.store.push_subscriptions(token).await.unwrap().len(), 1);
    let off = http
        .delete(&alerts)
        .json(&json!({ "endpoint": good["endpoint"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 204);
    assert!(s.store.push_subscriptions(token).await.unwrap().is_empty());
}

async fn the_desk_sees_patients_messages_and_replies_only_inside_the_window(store: Store) {
    let s = setup(store, "inbox").await;
    let (token, _) = patient(&s, 9).await;
    // A message that is not a command goes to the desk, next to the token.
    assert_eq!(
        writes(&s, 9, "I'm running 10 minutes late", 0).await,
        Handled::ForStaff(Some(token))
    );
    // Commands do not.
    assert_eq!(writes(&s, 9, "STATUS", 0).await, Handled::Status);
    let desk = s
        .messenger
        .engine()
        .desk(&s.clinic.desk, None)
        .await
        .unwrap();
    let row = desk.waiting.iter().find(|t| t.id == token.get()).unwrap();
    assert_eq!(row.chat.len(), 1);
    assert_eq!(row.chat[0].body, "I'm running 10 minutes late");
    assert!(row.can_reply(desk.now));

    s.messenger
        .reply_from_desk(
            &s.clinic.desk,
            Some("127.0.0.1"),
            token,
            "No problem, we will keep your place.",
        )
        .await
        .unwrap();
    drain(&s).await;
    assert!(s
        .standin
        .texts()
        .contains(&(phone(9), "No problem, we will keep your place.".into())));
    let desk = s
        .messenger
        .engine()
        .desk(&s.clinic.desk, None)
        .await
        .unwrap();
    let row = desk.waiting.iter().find(|t| t.id == token.get()).unwrap();
    assert_eq!(row.chat.len(), 2);
    assert!(!row.chat[1].from_patient);
    let filter = qline_app::console::AuditFilter {
        action: "REPLY_WHATSAPP".into(),
        ..Default::default()
    };
    let audit = s.store.console_audit(&filter, 50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "REPLY_WHATSAPP" && a.target == token.get().to_string()),
        "every reply is audited"
    );

    // Another clinic's receptionist cannot reply to this patient.
    let other = support::clinic(&s.store, "inbox-other", ClinicSettings::default()).await;
    let refused = s
        .messenger
        .reply_from_desk(&other.desk, None, token, "hello")
        .await
        .unwrap_err();
    assert_eq!(refused.to_string(), "You can only manage your own clinic.");

    // A walk-in without a phone whose daughter follows the token on WhatsApp: the
    // desk's reply goes to the daughter, who wrote.
    let applied = s
        .messenger
        .engine()
        .create_token(
            Actor::Staff(&s.clinic.desk),
            support::walk_in(s.clinic.general, "Walk-in Without Phone"),
        )
        .await
        .unwrap();
    let (walk_in, walk_in_ref, _) = applied.created.unwrap();
    let link_text = qline_app::messaging::inbound::opt_in_text("A-9", &walk_in_ref);
    assert_eq!(
        writes(&s, 14, &link_text, 0).await,
        Handled::Welcomed(walk_in)
    );
    assert_eq!(
        writes(&s, 14, "My mother is on her way", 0).await,
        Handled::ForStaff(Some(walk_in))
    );
    s.messenger
        .reply_from_desk(&s.clinic.desk, None, walk_in, "Thank you, we will wait.")
        .await
        .unwrap();
    drain(&s).await;
    assert!(s
        .standin
        .texts()
        .contains(&(phone(14), "Thank you, we will wait.".into())));

    // A patient whose last message was 25 hours ago: the window is closed.
    let (late, _) = patient(&s, 10).await;
    writes(&s, 10, "are you open?", 25).await;
    let refused = s
        .messenger
        .reply_from_desk(&s.clinic.desk, None, late, "Yes")
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("window closed"), "{refused}");
    // A patient who never wrote.
    let (silent, _) = patient(&s, 11).await;
    let refused = s
        .messenger
        .reply_from_desk(&s.clinic.desk, None, silent, "Yes")
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("has not written"), "{refused}");
    let sent_replies = s
        .store
        .outbox_of(s.clinic.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "STAFF_REPLY")
        .count();
    assert_eq!(sent_replies, 2, "refused replies queue nothing");
}

/// The figures of issue 6: a day of 60 patients where a third allow push on the tracker,
/// a third opt into WhatsApp and a third do neither (the clinic has SMS). Each alert must
/// go by the patient's own channel; "your turn" reaches the last third by SMS, their
/// other alerts reach nobody. Prints the shares (`--nocapture`).
async fn a_simulated_day_reaches_each_patient_by_the_channel_they_allowed(store: Store) {
    let s = setup(store, "sim-day").await;
    let mut group_of = std::collections::HashMap::new();
    let mut index_of = std::collections::HashMap::new();
    for i in 0..60u32 {
        let group = i % 3;
        if group == 1 {
            writes(&s, 100 + i, "hello", 0).await;
        }
        let (token, public_id) = patient(&s, 100 + i).await;
        if group == 0 {
            subscribe(&s, &public_id, &format!("sim-{i}")).await;
        }
        group_of.insert(token.get(), group);
        index_of.insert(token.get(), i);
    }
    // The desk calls everyone; every seventh patient does not come (SKIP: missed).
    for round in 0..60u32 {
        next(&s).await;
        if round % 7 == 3 {
            let desk = s
                .messenger
                .engine()
                .desk(&s.clinic.desk, None)
                .await
                .unwrap();
            let serving = TokenId(desk.serving.unwrap().id);
            s.messenger
                .engine()
                .act(
                    &s.clinic.desk,
                    s.clinic.general,
                    StaffAction::Skip { token: serving },
                )
                .await
                .unwrap();
        }
        drain(&s).await;
    }
    let alerts: Vec<OutboxRow> = s
        .store
        .outbox_of(s.clinic.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| matches!(m.kind.as_str(), "NEXT_SOON" | "YOUR_TURN" | "MISSED"))
        .collect();
    for m in &alerts {
        let group = group_of[&m.token_id.unwrap()];
        let expected = match (group, m.kind.as_str()) {
            (0, _) => ("SENT", "PUSH"),
            (1, _) => ("SENT", "WHATSAPP"),
            (_, "YOUR_TURN") => ("SENT", "SMS"),
            _ => ("SKIPPED", m.channel.as_str()),
        };
        assert_eq!((m.status.as_str(), m.channel.as_str()), expected, "{m:?}");
    }
    // The alerts the day must have made, patient by patient (the loop above checks only
    // those that exist). Everyone is called once: "your turn" for all 60. Each call
    // brings one more waiting patient within one of the front: "near" for all but the
    // first two, who were that close from the start. Every seventh call is not answered
    // (patients 3, 10, ..., 59, counting from 0): nine "missed".
    let tokens_with = |kind: &str| {
        let mut found: Vec<u32> = alerts
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| index_of[&m.token_id.unwrap()])
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        tokens_with("YOUR_TURN"),
        (0..60).collect::<Vec<_>>(),
        "one \"your turn\" per patient"
    );
    assert_eq!(
        tokens_with("NEXT_SOON"),
        (2..60).collect::<Vec<_>>(),
        "one \"near\" per patient after the first two"
    );
    assert_eq!(
        tokens_with("MISSED"),
        (0..60).filter(|i| i % 7 == 3).collect::<Vec<_>>(),
        "one \"missed\" per patient who did not come"
    );
    assert_eq!(alerts.len(), 60 + 58 + 9);
    // And they went out: every push and WhatsApp alert, "your turn" by SMS for the third
    // group, nothing else.
    let in_group = |group: u32| {
        alerts
            .iter()
            .filter(|m| group_of[&m.token_id.unwrap()] == group)
            .count()
    };
    let sent_by = |channel: &str| {
        alerts
            .iter()
            .filter(|m| m.status == "SENT" && m.channel == channel)
            .count()
    };
    assert!(in_group(0) > 0 && in_group(1) > 0 && in_group(2) > 0);
    assert_eq!(sent_by("PUSH"), in_group(0));
    assert_eq!(sent_by("WHATSAPP"), in_group(1));
    assert_eq!(sent_by("SMS"), 20);
    assert_eq!(s.standin.pushes().len(), in_group(0), "one push per alert");
    assert_eq!(s.standin.sms().len(), 20, "one SMS per \"your turn\"");
    assert_eq!(
        alerts.iter().filter(|m| m.status == "SKIPPED").count(),
        in_group(2) - 20
    );
    let stats = Tenants::new(s.store.clone())
        .delivery_since(Some(s.clinic.id), Timestamp::now().minus_minutes(60))
        .await
        .unwrap()
        .remove(&s.clinic.id.get())
        .unwrap();
    let backend = s.store.backend();
    println!(
        "simulated day ({backend}): 60 patients (20 push, 20 WhatsApp, 20 neither; SMS configured), {} notifications",
        stats.notifications
    );
    for line in &stats.channels {
        println!(
            "  {:<8} delivered {:>5.1}% of notifications · {} tries, {}% succeeded · cost units {}",
            line.channel.label(),
            100.0
                * f64::from(
                    stats
                        .reached
                        .iter()
                        .find(|(c, _)| *c == line.channel)
                        .unwrap()
                        .1
                )
                / f64::from(stats.notifications),
            line.attempts,
            line.rate(),
            line.cost_units
        );
    }
    println!(
        "  not reached {:.1}% ({} alerts: \"near\" and \"missed\" to patients who allowed nothing)",
        100.0 * f64::from(stats.not_reached) / f64::from(stats.notifications),
        stats.not_reached
    );
    assert_eq!(stats.pending, 0);
    assert_eq!(stats.notifications as usize, stats_total(&stats));
    // The console counts the same alerts: all of them, and unreached exactly the third
    // group's "near" and "missed".
    assert_eq!(stats.notifications as usize, alerts.len());
    assert_eq!(stats.not_reached as usize, in_group(2) - 20);
}

fn stats_total(stats: &qline_app::console::DeliveryStats) -> usize {
    (stats.reached.iter().map(|(_, n)| n).sum::<u32>() + stats.not_reached) as usize
}
