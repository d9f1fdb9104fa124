//! Retention and erasure on both backends: a purge removes every kind of personal data
//! older than the clinic's days and nothing newer, analytics read the same before and
//! after, erasure by phone removes one person in one clinic and nowhere else, and two
//! instances purging at once neither fail nor count a row twice.

mod support;

use qline_app::console::ConsoleError;
use qline_app::domain::*;
use qline_app::messaging::inbound::{Handled, Inbound};
use qline_app::messaging::provider::Endpoints;
use qline_app::messaging::secrets::SecretBox;
use qline_app::messaging::Messenger;
use qline_app::outbox::OutboxKind;
use qline_app::queue::engine::{Actor, Engine, JoinRequest};
use qline_app::queue::rules::StaffAction;
use qline_app::storage::{NewMessage, Store};
use qline_app::tenant::console::{Caller, ConsoleFailure};
use qline_app::tenant::Tenants;

on_both_backends!(
    a_purge_removes_personal_data_past_its_days_and_nothing_newer,
    analytics_read_the_same_after_a_purge,
    erasure_by_phone_removes_one_patient_in_one_clinic_only,
    a_patient_asks_on_whatsapp_and_the_owner_confirms,
    two_instances_purging_at_once_share_the_work,
    the_audit_log_allows_removing_addresses_and_nothing_else
);

const DAY_MS: i64 = 86_400_000;
const ADDRESS: &str = "203.0.113.7";

async fn scalar(store: &Store, sql: &str) -> i64 {
    match store {
        Store::Sqlite(db) => sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

async fn execute(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    match store {
        Store::Sqlite(db) => sqlx::query(sql)
            .execute(&db.pool)
            .await
            .map(|r| r.rows_affected()),
        Store::Postgres(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
}

fn phone(clinic: u32, i: u32) -> String {
    format!("+9198{clinic:03}{i:05}")
}

/// A clinic day `days_ago` days before `now`: `n` patients join by QR with a phone (from
/// one network address), half of them write on WhatsApp, each has a push subscription
/// and a sent message, all are served and rate the visit with a written comment; the
/// bot answers one phone outside any token. Returns the day's tokens.
async fn clinic_day(
    store: &Store,
    clinic: &support::Clinic,
    which: u32,
    now: Timestamp,
    days_ago: i64,
    n: u32,
) -> Vec<TokenId> {
    let at = Timestamp(now.millis() - days_ago * DAY_MS);
    let engine = Engine::new(store.clone()).with_clock(Clock::manual(at));
    let mut tokens = Vec::new();
    for i in 0..n {
        let phone = phone(which, i);
        let applied = engine
            .create_token(
                Actor::Patient {
                    ip: Some(ADDRESS.into()),
                },
                JoinRequest {
                    queue_id: clinic.general,
                    name: format!("Asha {which}-{i}"),
                    phone: Some(phone.clone()),
                    language: Language::En,
                    emergency: false,
                },
            )
            .await
            .unwrap();
        let (token, public_id, _) = applied.created.unwrap();
        tokens.push((token, public_id, phone));
    }
    let mut tx = store.begin().await.unwrap();
    for (i, (token, _, phone)) in tokens.iter().enumerate() {
        if i % 2 == 0 {
            let id = format!("in-{which}-{days_ago}-{i}");
            tx.record_inbound(clinic.id, &id, phone, "I am running late, Asha", at)
                .await
                .unwrap();
            tx.touch_window(clinic.id, phone, at).await.unwrap();
        }
        let text = format!("Hello {phone}, your token");
        tx.enqueue_message(
            &NewMessage::conversation(
                clinic.id,
                Some(*token),
                phone,
                OutboxKind::BotReply,
                Language::En,
                &text,
            ),
            at,
        )
        .await
        .unwrap();
    }
    let stranger = phone(which, 900 + days_ago as u32);
    tx.enqueue_message(
        &NewMessage::conversation(
            clinic.id,
            None,
            &stranger,
            OutboxKind::BotReply,
            Language::En,
            "Send JOIN to take a token",
        ),
        at,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    execute(
        store,
        "UPDATE outbox SET status = 'SENT' WHERE status = 'PENDING'",
    )
    .await
    .unwrap();
    for (token, _, _) in &tokens {
        store
            .save_push_subscription(
                clinic.id,
                *token,
                &format!("https://push.example/{}", token.get()),
                "key",
                "auth",
                3,
                at,
            )
            .await
            .unwrap();
    }
    // NEXT for each patient, then the last one seen off.
    let mut serving = None;
    for i in 0..=n {
        let action = if i < n {
            StaffAction::Next {
                expected_serving: serving,
                room: None,
            }
        } else {
            StaffAction::Served {
                expected_serving: serving,
            }
        };
        let applied = engine
            .act(&clinic.desk, clinic.general, action)
            .await
            .unwrap();
        serving = applied
            .day
            .tokens
            .iter()
            .find(|t| t.state.status == TokenStatus::Serving)
            .map(|t| t.id);
    }
    for (i, (_, public_id, _)) in tokens.iter().enumerate() {
        let stars = 1 + (i % 5) as u8;
        engine
            .rate_visit(public_id, stars, "Kind staff, thank you")
            .await
            .unwrap();
    }
    tokens.into_iter().map(|(t, _, _)| t).collect()
}

fn id_list(tokens: &[TokenId]) -> String {
    tokens
        .iter()
        .map(|t| t.get().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// How much personal data the given tokens (and their messages) still hold.
async fn held(store: &Store, tokens: &[TokenId]) -> [i64; 6] {
    let ids = id_list(tokens);
    let same_phone = format!(
        "business_id IN (SELECT business_id FROM tokens WHERE id IN ({ids})) \
         AND phone IN (SELECT patient_phone FROM tokens WHERE id IN ({ids}))"
    );
    [
        scalar(store, &format!("SELECT COUNT(*) FROM tokens WHERE id IN ({ids}) AND (patient_name <> '' OR patient_phone IS NOT NULL OR join_ip IS NOT NULL OR feedback IS NOT NULL)")).await,
        scalar(store, &format!("SELECT COUNT(*) FROM outbox WHERE token_id IN ({ids}) AND (phone <> '' OR body <> '')")).await,
        scalar(store, &format!("SELECT COUNT(*) FROM push_subscriptions WHERE token_id IN ({ids})")).await,
        scalar(store, &format!("SELECT COUNT(*) FROM audit_log WHERE token_id IN ({ids}) AND ip IS NOT NULL")).await,
        scalar(store, &format!("SELECT COUNT(*) FROM whatsapp_inbound WHERE {same_phone}")).await,
        scalar(store, &format!("SELECT COUNT(*) FROM whatsapp_windows WHERE {same_phone}")).await,
    ]
}

fn tenants(store: &Store, now: Timestamp) -> Tenants {
    Tenants::new(store.clone()).with_clock(Clock::manual(now))
}

fn caller(staff: &StaffUser) -> Caller<'_> {
    Caller { staff, ip: None }
}

async fn a_purge_removes_personal_data_past_its_days_and_nothing_newer(store: Store) {
    let clinic = support::clinic(&store, "keeps", ClinicSettings::default()).await;
    let now = Timestamp::now();
    let old = clinic_day(&store, &clinic, 1, now, 120, 6).await;
    let recent = clinic_day(&store, &clinic, 2, now, 10, 6).await;
    let old_held = held(&store, &old).await;
    let recent_held = held(&store, &recent).await;
    // Each token has its bot message and the queue's own notices.
    assert!(old_held[1] > 6, "{old_held:?}");
    assert_eq!(old_held, [6, old_held[1], 6, 6, 3, 3]);
    let platform = RetentionDays::default();
    // A session that expired yesterday and one good for a week; sign-in strikes two days
    // old and an hour old.
    let day_ago = Timestamp(now.millis() - DAY_MS);
    let week_ago = Timestamp(now.millis() - 7 * DAY_MS);
    let in_a_week = Timestamp(now.millis() + 7 * DAY_MS);
    let owner = clinic.owner.id;
    store
        .insert_session("expired", owner, week_ago, day_ago, Some(ADDRESS))
        .await
        .unwrap();
    store
        .insert_session("live", owner, now, in_a_week, Some(ADDRESS))
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    let two_days_ago = Timestamp(now.millis() - 2 * DAY_MS);
    for (source, last) in [
        ("network:old", two_days_ago),
        ("network:new", now.minus_minutes(60)),
    ] {
        let strikes = Strikes { count: 3, last };
        assert!(tx.swap_strikes(source, None, strikes).await.unwrap());
    }
    tx.commit().await.unwrap();

    let dry = tenants(&store, now).purge(platform, true).await.unwrap();
    assert_eq!((dry.expired_sessions, dry.stale_strikes), (1, 1));
    assert_eq!(
        held(&store, &old).await,
        old_held,
        "a dry run changes nothing"
    );
    let report = tenants(&store, now).purge(platform, false).await.unwrap();
    assert_eq!(
        dry.removed, report.removed,
        "the dry run counted what the purge removed"
    );
    assert_eq!(report.removed.tokens, 6);
    // The tokens' messages and the bot's answer to a stranger.
    assert_eq!(report.removed.messages as i64, old_held[1] + 1);
    assert_eq!(report.removed.inbound, 3);
    assert_eq!(report.removed.windows, 3);
    assert_eq!(report.removed.push_subscriptions, 6);
    assert_eq!((report.expired_sessions, report.stale_strikes), (1, 1));
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(*) FROM staff_sessions WHERE token_hash = 'live'"
        )
        .await
            + scalar(
                &store,
                "SELECT COUNT(*) FROM sign_in_strikes WHERE source = 'network:new'"
            )
            .await,
        2,
        "the live session and the recent strikes stay"
    );
    assert_eq!(held(&store, &old).await, [0, 0, 0, 0, 0, 0]);
    assert_eq!(
        held(&store, &recent).await,
        recent_held,
        "nothing newer goes"
    );
    assert_eq!(
        scalar(&store, "SELECT COUNT(*) FROM outbox WHERE body <> ''").await,
        recent_held[1] + 1,
        "the recent day's messages stay"
    );
    // The token numbers stay, and the audit log keeps who did what.
    let ids = id_list(&old);
    assert_eq!(
        scalar(&store, &format!("SELECT COUNT(*) FROM tokens WHERE id IN ({ids}) AND status = 'SERVED' AND purged_at IS NOT NULL")).await,
        6
    );
    assert!(scalar(&store, &format!("SELECT COUNT(*) FROM audit_log WHERE token_id IN ({ids}) AND actor_kind = 'PATIENT'")).await >= 6);

    let again = tenants(&store, now).purge(platform, false).await.unwrap();
    assert!(
        again.removed.is_empty(),
        "a second run finds nothing: {again:?}"
    );

    // A clinic that keeps 5 days loses the recent day too; the platform's 90 do not apply.
    let mut shorter = store.clinic(clinic.id).await.unwrap().unwrap();
    shorter.settings.retention_days = Some(5);
    let mut tx = store.begin().await.unwrap();
    tx.update_clinic(&shorter).await.unwrap();
    tx.commit().await.unwrap();
    let report = tenants(&store, now).purge(platform, false).await.unwrap();
    assert_eq!(report.removed.tokens, 6);
    assert_eq!(held(&store, &recent).await, [0, 0, 0, 0, 0, 0]);
}

async fn analytics_read_the_same_after_a_purge(store: Store) {
    let clinic = support::clinic(&store, "figures", ClinicSettings::default()).await;
    let now = Timestamp::now();
    for (which, days_ago) in [(1, 200), (2, 120), (3, 95), (4, 30), (5, 2)] {
        clinic_day(&store, &clinic, which, now, days_ago, 5).await;
    }
    let read = || async {
        let mut a = tenants(&store, now)
            .analytics(&caller(&clinic.owner), None, 365)
            .await
            .unwrap();
        a.query_ms = 0;
        a
    };
    let before = read().await;
    assert_eq!(before.total.tokens, 25);
    assert_eq!(before.total.with_phone, 25);
    assert_eq!(before.total.whatsapp, 15, "three of each day's five wrote");
    let report = tenants(&store, now)
        .purge(RetentionDays::default(), false)
        .await
        .unwrap();
    assert_eq!(report.removed.tokens, 15);
    let after = read().await;
    assert_eq!(after.total, before.total);
    assert_eq!(after.by_day, before.by_day);
    assert_eq!(after.by_hour, before.by_hour);
    assert_eq!(after.ratings, before.ratings);
    // Written comments are personal data: only the kept days' remain.
    assert_eq!(after.feedback.len(), 10);
}

async fn erasure_by_phone_removes_one_patient_in_one_clinic_only(store: Store) {
    let here = support::clinic(&store, "here", ClinicSettings::default()).await;
    let there = support::clinic(&store, "there", ClinicSettings::default()).await;
    let now = Timestamp::now();
    // The same numbers visit both clinics (`which` 1 makes the same phones).
    let here_tokens = clinic_day(&store, &here, 1, now, 3, 4).await;
    let there_tokens = clinic_day(&store, &there, 1, now, 3, 4).await;
    let tenants = tenants(&store, now);
    let asha = phone(1, 0);

    // An unknown number says so and changes nothing.
    let before = held(&store, &here_tokens).await;
    let others_before = held(&store, &here_tokens[1..]).await;
    let there_before = held(&store, &there_tokens).await;
    match tenants
        .erase_patient(&caller(&here.owner), None, "+919000000001", true)
        .await
    {
        Err(ConsoleFailure::Refused(ConsoleError::UnknownPatient(p))) => {
            assert_eq!(p, "+919000000001")
        }
        other => panic!("expected an unknown patient, got {other:?}"),
    }
    // Without the confirmation nothing happens either.
    assert!(matches!(
        tenants
            .erase_patient(&caller(&here.owner), None, &asha, false)
            .await,
        Err(ConsoleFailure::Refused(ConsoleError::ErasureNotConfirmed))
    ));
    // A receptionist may not erase.
    assert!(matches!(
        tenants
            .erase_patient(&caller(&here.desk), None, &asha, true)
            .await,
        Err(ConsoleFailure::Refused(ConsoleError::WrongRole))
    ));
    assert_eq!(held(&store, &here_tokens).await, before);

    // The export holds everything about Asha here, and nothing from the other clinic.
    let found = tenants
        .find_patient(&caller(&here.owner), None, &asha)
        .await
        .unwrap();
    assert_eq!(found.record.visits.len(), 1);
    assert_eq!(found.record.visits[0].name, "Asha 1-0");
    let sent_here = scalar(
        &store,
        &format!(
            "SELECT COUNT(*) FROM outbox WHERE phone = '{asha}' AND business_id = {}",
            here.id.get()
        ),
    )
    .await;
    assert!(sent_here >= 1);
    assert_eq!(
        found.record.messages.len() as i64,
        sent_here + 1,
        "sent, and one received"
    );
    assert!(found
        .record
        .messages
        .iter()
        .any(|m| m.text == "I am running late, Asha"));
    let json: serde_json::Value = serde_json::from_str(&found.export_json).unwrap();
    assert_eq!(json["phone"], asha.as_str());

    // Typed as a local number, with spaces: the clinic's country reads it.
    let local = format!("{} {}", &asha[3..8], &asha[8..]);
    let erased = tenants
        .erase_patient(&caller(&here.owner), None, &local, true)
        .await
        .unwrap();
    assert_eq!(erased.phone, asha);
    let removed = erased.removed;
    assert_eq!(removed.tokens, 1);
    assert_eq!(removed.messages as i64, sent_here);
    assert_eq!(removed.inbound, 1);
    assert_eq!(removed.windows, 1);
    assert_eq!(removed.push_subscriptions, 1);
    assert_eq!(held(&store, &here_tokens[..1]).await, [0, 0, 0, 0, 0, 0]);
    assert_eq!(
        held(&store, &here_tokens[1..]).await,
        others_before,
        "other patients stay"
    );
    assert_eq!(
        held(&store, &there_tokens).await,
        there_before,
        "the other clinic keeps hers"
    );
    assert_eq!(
        scalar(
            &store,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE phone = '{asha}' AND business_id = {}",
                here.id.get()
            )
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&store, &format!("SELECT COUNT(*) FROM audit_log WHERE action = 'ERASE_PATIENT_DATA' AND business_id = {}", here.id.get())).await,
        1
    );
    // Erased is erased: a second time finds nobody.
    assert!(matches!(
        tenants
            .erase_patient(&caller(&here.owner), None, &asha, true)
            .await,
        Err(ConsoleFailure::Refused(ConsoleError::UnknownPatient(_)))
    ));
}

async fn a_patient_asks_on_whatsapp_and_the_owner_confirms(store: Store) {
    let settings = ClinicSettings {
        whatsapp_enabled: true,
        ..ClinicSettings::default()
    };
    let clinic = support::clinic(&store, "asks", settings).await;
    let now = Timestamp::now();
    let tokens = clinic_day(&store, &clinic, 7, now, 1, 2).await;
    let engine = Engine::new(store.clone());
    let secrets = SecretBox::from_hex_key(support::TEST_SECRET_KEY).unwrap();
    let messenger = Messenger::new(engine, secrets, Endpoints::default());
    let asha = phone(7, 0);
    let ask = |id: &'static str, body: &'static str| Inbound {
        clinic: clinic.id,
        provider_message_id: id,
        phone: &asha,
        body,
        sent_at: None,
    };
    assert_eq!(
        messenger
            .handle_inbound(&ask("del-1", " delete "))
            .await
            .unwrap(),
        Handled::ErasureRequested(true)
    );
    assert_eq!(
        messenger
            .handle_inbound(&ask("del-2", "STOP DATA"))
            .await
            .unwrap(),
        Handled::ErasureRequested(false),
        "asked twice, recorded once"
    );
    let tenants = tenants(&store, Timestamp::now());
    let console = tenants
        .clinic_console(&caller(&clinic.owner), None, "http://clinic.test")
        .await
        .unwrap();
    assert_eq!(console.erasure_requests.len(), 1);
    assert_eq!(console.erasure_requests[0].phone, asha);
    // Nothing is erased until the clinic confirms.
    assert_eq!(held(&store, &tokens[..1]).await[0], 1);
    tenants
        .erase_patient(&caller(&clinic.owner), None, &asha, true)
        .await
        .unwrap();
    assert_eq!(held(&store, &tokens[..1]).await, [0, 0, 0, 0, 0, 0]);
    let console = tenants
        .clinic_console(&caller(&clinic.owner), None, "http://clinic.test")
        .await
        .unwrap();
    assert!(console.erasure_requests.is_empty(), "the request is done");
}

async fn two_instances_purging_at_once_share_the_work(store: Store) {
    let now = Timestamp::now();
    let mut old = Vec::new();
    for which in 1..=4 {
        let clinic =
            support::clinic(&store, &format!("shared{which}"), ClinicSettings::default()).await;
        for days_ago in [150, 120] {
            old.extend(clinic_day(&store, &clinic, which, now, days_ago, 5).await);
        }
    }
    let messages = scalar(&store, "SELECT COUNT(*) FROM outbox WHERE body <> ''").await;
    let other = support::second_instance(&store).await;
    let platform = RetentionDays::default();
    let (one, two) = (tenants(&store, now), tenants(&other, now));
    let (a, b) = tokio::join!(one.purge(platform, false), two.purge(platform, false));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut both = a.removed;
    both.add(b.removed);
    assert_eq!(both.tokens, 40, "{a:?} {b:?}");
    assert_eq!(both.messages as i64, messages);
    assert_eq!(both.inbound, 24);
    assert_eq!(
        both.windows, 12,
        "one per phone: each clinic's three wrote on both days"
    );
    assert_eq!(both.push_subscriptions, 40);
    assert_eq!(held(&store, &old).await, [0, 0, 0, 0, 0, 0]);
    let again = tenants(&other, now).purge(platform, false).await.unwrap();
    assert!(again.removed.is_empty(), "{again:?}");
}

async fn the_audit_log_allows_removing_addresses_and_nothing_else(store: Store) {
    let clinic = support::clinic(&store, "ledger", ClinicSettings::default()).await;
    clinic_day(&store, &clinic, 1, Timestamp::now(), 1, 1).await;
    for refused in [
        "UPDATE audit_log SET ip = '198.51.100.1' WHERE ip IS NOT NULL",
        "UPDATE audit_log SET action = 'NOTHING'",
        "UPDATE audit_log SET detail = '{\"x\":1}' WHERE detail <> '{}'",
        "DELETE FROM audit_log",
    ] {
        let e = execute(&store, refused).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{refused}: {e}");
    }
    assert!(
        execute(
            &store,
            "UPDATE audit_log SET ip = NULL WHERE ip IS NOT NULL"
        )
        .await
        .unwrap()
            > 0
    );
}
