//! A row holding what this version cannot read is never read as a default: the engine
//! answers `StorageError::Corrupt` naming the table, the row and the column, the HTTP
//! layer answers 500 (our failure, not the caller's), and nothing is written. Both
//! backends.

mod support;

use qline_app::domain::*;
use qline_app::queue::engine::{Actor, Engine, EngineError};
use qline_app::queue::rules::StaffAction;
use qline_app::storage::{StorageError, Store};
use support::walk_in;

/// Writes a value no version of Qline writes, as a hand-edited or damaged database would.
async fn damage(store: &Store, sql: &str, id: i64) {
    match store {
        Store::Sqlite(db) => sqlx::query(sql).bind(id).execute(&db.pool).await.map(drop),
        Store::Postgres(pool) => sqlx::query(sql).bind(id).execute(pool).await.map(drop),
    }
    .expect("damage the row");
}

fn corrupt(error: EngineError) -> (&'static str, i64, String) {
    match error {
        EngineError::Storage(StorageError::Corrupt { table, id, detail }) => (table, id, detail),
        other => panic!("expected a corrupt row, got {other:?}"),
    }
}

async fn a_token_in_an_unknown_language_is_reported_not_defaulted(store: Store) {
    let c = support::clinic(&store, "corrupt-lang", ClinicSettings::default()).await;
    let engine = Engine::new(store.clone());
    let applied = engine
        .create_token(Actor::Staff(&c.desk), walk_in(c.general, "Asha"))
        .await
        .unwrap();
    let (token, public_id, _) = applied.created.unwrap();
    assert!(engine.tracker(&public_id).await.is_ok());

    damage(
        &store,
        "UPDATE tokens SET language = 'xx' WHERE id = $1",
        token.get(),
    )
    .await;
    let (table, id, detail) = corrupt(engine.tracker(&public_id).await.unwrap_err());
    assert_eq!((table, id), ("tokens", token.get()));
    assert!(
        detail.contains("language") && detail.contains("xx"),
        "{detail}"
    );

    // Over HTTP: our own failure, a 500 the patient's page retries, never a default.
    let base = support::spawn_app(store.clone()).await;
    let answer = support::http()
        .get(format!("{base}/api/t/{public_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 500);
}

async fn an_action_on_a_day_with_an_unreadable_history_writes_nothing(store: Store) {
    let c = support::clinic(&store, "corrupt-history", ClinicSettings::default()).await;
    let engine = Engine::new(store.clone());
    let mut day = None;
    for name in ["Asha", "Bilal"] {
        let applied = engine
            .create_token(Actor::Staff(&c.desk), walk_in(c.general, name))
            .await
            .unwrap();
        day = Some(applied.day_id);
    }
    let day = day.unwrap();
    // The history a day learns when it opens feeds every wait estimate; an unreadable one
    // used to be dropped in silence.
    let broken = "UPDATE queue_days SET history = '{\"days\": \"many\"' WHERE id = $1";
    damage(&store, broken, day.get()).await;
    let audit_before = store.day_audit(day).await.unwrap().len();

    let next = StaffAction::Next {
        expected_serving: None,
        room: None,
    };
    let (table, id, detail) = corrupt(engine.act(&c.desk, c.general, next).await.unwrap_err());
    assert_eq!((table, id), ("queue_days", day.get()));
    assert!(detail.contains("history"), "{detail}");
    assert_eq!(
        store.day_audit(day).await.unwrap().len(),
        audit_before,
        "a refused read writes no audit row"
    );
}

on_both_backends!(
    a_token_in_an_unknown_language_is_reported_not_defaulted,
    an_action_on_a_day_with_an_unreadable_history_writes_nothing,
);
