//! The queue engine's behaviour, told as a clinic's day, on SQLite and on PostgreSQL.

mod support;

use qline_app::domain::*;
use qline_app::messages::MessageKind;
use qline_app::outbox::OutboxKind;
use qline_app::queue::engine::{Actor, Engine, EngineError, JoinRequest, TransferOrder};
use qline_app::queue::rules::{DayState, DayToken, StaffAction, TokenState, MAX_NOTE_CHARS};
use qline_app::queue::QueueError;
use qline_app::storage::{Applied, Store};
use support::walk_in;

on_both_backends!(
    two_desks_press_next_at_once,
    a_double_click_never_advances_twice,
    undo_restores_the_exact_prior_state_after_every_kind_of_action,
    undo_walks_back_one_action_at_a_time_and_each_only_once,
    priority_and_recall_are_called_right_after_the_current_patient,
    every_limit_refuses_with_its_own_error,
    close_day_is_refused_while_a_patient_is_being_served,
    a_suspended_clinic_refuses_everything,
    staff_never_reach_another_clinic,
    patients_cancel_their_own_waiting_token,
    a_tracker_sees_what_another_instance_changed_at_its_next_poll,
    a_poll_answers_from_memory_until_the_day_changes_here_or_its_check_runs_out,
    the_desk_acts_on_todays_day_after_the_clinic_changes_timezone,
    a_number_is_read_in_the_country_the_clinic_has_when_the_patient_joins,
    an_archived_queue_refuses_the_desk_it_was_open_for,
    a_transaction_dropped_midway_keeps_nothing_and_the_next_goes_on,
    each_desk_calls_to_its_room_and_undo_takes_the_call_back,
    a_transfer_keeps_the_patients_place_and_undo_brings_them_back,
    the_kiosk_issues_tokens_only_with_its_code_and_stops_a_guesser,
    opening_hours_refuse_patients_outside_them_and_close_the_day_at_closing_time,
);

fn engine(store: &Store) -> Engine {
    Engine::new(store.clone())
}

fn settings() -> ClinicSettings {
    ClinicSettings {
        max_tokens_per_phone_per_day: 5,
        ..Default::default()
    }
}

fn qr_join(queue: QueueId, name: &str, phone: &str) -> JoinRequest {
    JoinRequest {
        queue_id: queue,
        name: name.into(),
        phone: Some(phone.into()),
        language: Language::Hi,
        emergency: false,
    }
}

fn patient(ip: &str) -> Actor<'static> {
    Actor::Patient {
        ip: Some(ip.into()),
    }
}

fn refusal<T: std::fmt::Debug>(r: Result<T, EngineError>) -> QueueError {
    match r {
        Err(EngineError::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn add(engine: &Engine, staff: &StaffUser, queue: QueueId, names: &[&str]) -> Vec<TokenId> {
    let made = add_with_links(engine, staff, queue, names).await;
    made.into_iter().map(|(id, _)| id).collect()
}

/// Walk-ins for `names`, in order: each token's id and its tracker's public id.
async fn add_with_links(
    engine: &Engine,
    staff: &StaffUser,
    queue: QueueId,
    names: &[&str],
) -> Vec<(TokenId, PublicId)> {
    let mut made = Vec::new();
    for name in names {
        let applied = engine
            .create_token(Actor::Staff(staff), walk_in(queue, name))
            .await
            .expect("walk-in");
        let (id, public_id, _) = applied.created.expect("a token");
        made.push((id, public_id));
    }
    made
}

fn serving(a: &Applied) -> Option<TokenId> {
    a.day.serving().map(|t| t.id)
}

/// Everything about a queue day the engine may change, read back from the database.
async fn state(store: &Store, day: QueueDayId) -> (DayState, Vec<DayToken>) {
    let read = store.day(day, "A").await.unwrap().unwrap();
    (read.state, read.tokens)
}

async fn two_desks_press_next_at_once(store: Store) {
    let c = support::clinic(&store, "twodesks", settings()).await;
    let engine = engine(&store);
    add(&engine, &c.desk, c.general, &["Asha", "Bilal", "Chitra"]).await;

    let (one, two) = tokio::join!(
        engine.act(
            &c.desk,
            c.general,
            StaffAction::Next {
                expected_serving: None,
                room: None
            }
        ),
        engine.act(
            &c.desk2,
            c.general,
            StaffAction::Next {
                expected_serving: None,
                room: None
            }
        ),
    );
    let (won, lost) = match (one, two) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        (a, b) => panic!("exactly one desk should advance: {a:?} / {b:?}"),
    };
    let called = won.day.serving().expect("someone is called");
    assert_eq!(called.number, TokenNumber(1));
    let moved = refusal::<()>(Err(lost));
    assert_eq!(
        moved,
        QueueError::QueueMoved {
            now_serving: Some("A-1".into())
        }
    );
    assert!(moved.to_string().contains("already moved"));

    let tokens = store.day_tokens(won.day_id).await.unwrap();
    let statuses: Vec<_> = tokens.iter().map(|t| t.state.status).collect();
    assert_eq!(
        statuses,
        [
            TokenStatus::Serving,
            TokenStatus::Waiting,
            TokenStatus::Waiting
        ]
    );
    let nexts = store
        .day_audit(won.day_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "NEXT")
        .count();
    assert_eq!(nexts, 1, "the refused NEXT left no audit row");
}

async fn a_double_click_never_advances_twice(store: Store) {
    let c = support::clinic(&store, "doubleclick", settings()).await;
    let engine = engine(&store);
    add(&engine, &c.desk, c.general, &["Asha", "Bilal"]).await;
    let first = engine
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
    // The second click carries the same belief as the first: nobody serving.
    let second = engine
        .act(
            &c.desk,
            c.general,
            StaffAction::Next {
                expected_serving: None,
                room: None,
            },
        )
        .await;
    assert_eq!(
        refusal(second),
        QueueError::QueueMoved {
            now_serving: Some("A-1".into())
        }
    );
    let (_, tokens) = state(&store, first.day_id).await;
    assert_eq!(
        tokens[1].state.status,
        TokenStatus::Waiting,
        "Bilal was not called"
    );
}

async fn undo_restores_the_exact_prior_state_after_every_kind_of_action(store: Store) {
    let c = support::clinic(&store, "undo", settings()).await;
    let engine = engine(&store);
    let ids = add(
        &engine,
        &c.desk,
        c.general,
        &["Asha", "Bilal", "Chitra", "Dev"],
    )
    .await;
    let first = engine
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
    engine
        .act(&c.desk, c.general, StaffAction::Skip { token: ids[3] })
        .await
        .unwrap();
    let day = first.day_id;
    let serving = Some(ids[0]);

    let actions = [
        StaffAction::Next {
            expected_serving: serving,
            room: None,
        },
        StaffAction::Served {
            expected_serving: serving,
        },
        StaffAction::Skip { token: ids[0] },
        StaffAction::Skip { token: ids[2] },
        StaffAction::Recall { token: ids[3] },
        StaffAction::Prioritize { token: ids[2] },
        StaffAction::Call {
            token: ids[2],
            expected_serving: serving,
            room: None,
        },
        StaffAction::Cancel { token: ids[1] },
        StaffAction::SetIntakePaused { paused: true },
    ];
    for action in actions {
        let before = state(&store, day).await;
        engine
            .act(&c.desk, c.general, action.clone())
            .await
            .unwrap_or_else(|e| panic!("{action:?}: {e}"));
        assert_ne!(
            state(&store, day).await,
            before,
            "{action:?} changed nothing"
        );
        engine
            .undo(&c.desk, c.general)
            .await
            .unwrap_or_else(|e| panic!("undo {action:?}: {e}"));
        assert_eq!(
            state(&store, day).await,
            before,
            "undo of {action:?} restores statuses and timestamps"
        );
    }

    // CLOSE DAY needs nobody serving; undo reopens the day and its waiting patients.
    engine
        .act(
            &c.desk,
            c.general,
            StaffAction::Served {
                expected_serving: serving,
            },
        )
        .await
        .unwrap();
    let before = state(&store, day).await;
    engine
        .act(&c.desk, c.general, StaffAction::CloseDay)
        .await
        .unwrap();
    assert_eq!(state(&store, day).await.0.status, DayStatus::Closed);
    engine.undo(&c.desk, c.general).await.unwrap();
    assert_eq!(state(&store, day).await, before);

    // A walk-in's number is never reused, so undoing it cancels it.
    let added = engine
        .create_token(Actor::Staff(&c.desk), walk_in(c.general, "Esha"))
        .await
        .unwrap();
    let undone = engine.undo(&c.desk, c.general).await.unwrap();
    let esha = undone.day.token(added.created.unwrap().0).unwrap();
    assert_eq!(esha.state.status, TokenStatus::Cancelled);
    assert_eq!(esha.state.cancel_reason, Some(CancelReason::Staff));

    let audit = store.day_audit(day).await.unwrap();
    let undos = audit.iter().filter(|a| a.action == "UNDO").count();
    assert_eq!(undos, 11, "every undo is audited");
    assert!(audit
        .iter()
        .filter(|a| a.action == "UNDO")
        .all(|a| a.undoes_id.is_some() && a.actor_user_id == Some(c.desk.id.get())));
}

async fn undo_walks_back_one_action_at_a_time_and_each_only_once(store: Store) {
    let c = support::clinic(&store, "undochain", settings()).await;
    let engine = engine(&store);
    let ids = add(&engine, &c.desk, c.general, &["Asha", "Bilal"]).await;
    let day = engine
        .act(
            &c.desk,
            c.general,
            StaffAction::Next {
                expected_serving: None,
                room: None,
            },
        )
        .await
        .unwrap()
        .day_id;
    let after_first_next = state(&store, day).await;
    engine
        .act(
            &c.desk,
            c.general,
            StaffAction::Next {
                expected_serving: Some(ids[0]),
                room: None,
            },
        )
        .await
        .unwrap();

    engine.undo(&c.desk, c.general).await.unwrap();
    assert_eq!(state(&store, day).await, after_first_next);
    engine.undo(&c.desk, c.general).await.unwrap();
    engine.undo(&c.desk, c.general).await.unwrap(); // Bilal's walk-in
    engine.undo(&c.desk, c.general).await.unwrap(); // Asha's walk-in
    assert_eq!(
        refusal(engine.undo(&c.desk, c.general).await),
        QueueError::NothingToUndo
    );

    // A patient's own change blocks undoing the staff action it overtook.
    let ids = add(&engine, &c.desk, c.general, &["Chitra"]).await;
    engine
        .act(
            &c.desk,
            c.general,
            StaffAction::Prioritize { token: ids[0] },
        )
        .await
        .unwrap();
    let public = public_id_of(&store, ids[0]).await;
    engine.cancel_by_patient(&public, None).await.unwrap();
    assert_eq!(
        refusal(engine.undo(&c.desk, c.general).await),
        QueueError::UndoConflict {
            token: "A-3".into()
        }
    );
}

async fn public_id_of(store: &Store, token: TokenId) -> PublicId {
    let sql = "SELECT public_id FROM tokens WHERE id = $1";
    let id: String = match store {
        Store::Sqlite(db) => sqlx::query_scalar(sql)
            .bind(token.get())
            .fetch_one(&db.pool)
            .await
            .unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql)
            .bind(token.get())
            .fetch_one(p)
            .await
            .unwrap(),
    };
    PublicId::parse(&id).unwrap()
}

async fn priority_and_recall_are_called_right_after_the_current_patient(store: Store) {
    let c = support::clinic(&store, "priority", settings()).await;
    let engine = engine(&store);
    let ids = add(
        &engine,
        &c.desk,
        c.general,
        &["Asha", "Bilal", "Chitra", "Dev"],
    )
    .await;
    let mut a = engine
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
    assert_eq!(serving(&a), Some(ids[0]));
    // Asha does not answer: skipped. Bilal is called.
    engine
        .act(&c.desk, c.general, StaffAction::Skip { token: ids[0] })
        .await
        .unwrap();
    a = engine
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
    assert_eq!(serving(&a), Some(ids[1]));
    // An emergency walks in, and Asha comes back: both go before Chitra and Dev.
    let emergency = JoinRequest {
        emergency: true,
        ..walk_in(c.general, "Emergency")
    };
    let e = engine
        .create_token(Actor::Staff(&c.desk), emergency)
        .await
        .unwrap()
        .created
        .unwrap()
        .0;
    let recalled = engine
        .act(&c.desk, c.general, StaffAction::Recall { token: ids[0] })
        .await
        .unwrap();
    let order: Vec<TokenId> = recalled
        .day
        .waiting_in_order()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(
        order,
        vec![ids[0], e, ids[2], ids[3]],
        "recalled A-1 (lower number) and the emergency first"
    );
    assert_eq!(recalled.day.ahead_of(ids[3]), Some(3));

    let mut called = Vec::new();
    let mut current = serving(&a);
    while let Ok(next) = engine
        .act(
            &c.desk,
            c.general,
            StaffAction::Next {
                expected_serving: current,
                room: None,
            },
        )
        .await
    {
        current = serving(&next);
        called.extend(current);
    }
    assert_eq!(called, vec![ids[0], e, ids[2], ids[3]]);
    // Calling out of order picks exactly the chosen patient.
    let more = add(&engine, &c.desk, c.general, &["Farah", "Gita"]).await;
    let chosen = engine
        .act(
            &c.desk,
            c.general,
            StaffAction::Call {
                token: more[1],
                expected_serving: None,
                room: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(serving(&chosen), Some(more[1]));
}

async fn every_limit_refuses_with_its_own_error(store: Store) {
    let limits = ClinicSettings {
        daily_token_limit: 4,
        max_tokens_per_phone_per_day: 1,
        joins_per_ip_per_hour: 2,
        ..Default::default()
    };
    let c = support::clinic(&store, "limits", limits).await;
    let engine = engine(&store);

    engine
        .create_token(
            patient("10.0.0.1"),
            qr_join(c.general, "Asha", "98123 45671"),
        )
        .await
        .unwrap();
    // Same phone again, even in the other queue.
    let again = engine
        .create_token(
            patient("10.0.0.2"),
            qr_join(c.dental, "Asha", "+91 98123 45671"),
        )
        .await;
    let e = refusal(again);
    assert_eq!(e, QueueError::PhoneLimitReached { limit: 1 });
    assert!(e.to_string().contains("already has 1 token"));
    // A second phone from the same network is fine; a third token from it is not.
    engine
        .create_token(
            patient("10.0.0.1"),
            qr_join(c.general, "Bilal", "98123 45672"),
        )
        .await
        .unwrap();
    let e = refusal(
        engine
            .create_token(
                patient("10.0.0.1"),
                qr_join(c.general, "Chitra", "98123 45673"),
            )
            .await,
    );
    assert_eq!(e, QueueError::TooManyFromNetwork { limit: 2 });
    // The desk is not rate-limited by network, but the clinic's daily limit holds for everyone.
    add(&engine, &c.desk, c.dental, &["Dev", "Esha"]).await;
    let e = refusal(
        engine
            .create_token(Actor::Staff(&c.desk), walk_in(c.general, "Farah"))
            .await,
    );
    assert_eq!(e, QueueError::DailyLimitReached { limit: 4 });

    // Bad input is refused with the field to fix.
    let other = support::clinic(&store, "inputs", settings()).await;
    let e = refusal(
        engine
            .create_token(
                patient("10.0.0.9"),
                qr_join(other.general, "  ", "98123 45679"),
            )
            .await,
    );
    assert!(
        matches!(&e, QueueError::Invalid(i) if i.field == "name"),
        "{e:?}"
    );
    let e = refusal(
        engine
            .create_token(patient("10.0.0.9"), qr_join(other.general, "Gita", "12"))
            .await,
    );
    assert!(
        matches!(&e, QueueError::Invalid(i) if i.field == "phone"),
        "{e:?}"
    );

    // Intake paused by the desk: QR joins refused, the desk still adds walk-ins.
    engine
        .act(
            &other.desk,
            other.general,
            StaffAction::SetIntakePaused { paused: true },
        )
        .await
        .unwrap();
    let e = refusal(
        engine
            .create_token(
                patient("10.0.0.9"),
                qr_join(other.general, "Gita", "98123 45679"),
            )
            .await,
    );
    assert_eq!(e, QueueError::IntakePaused);
    add(&engine, &other.desk, other.general, &["Hari"]).await;

    // Unknown queue.
    let e = refusal(
        engine
            .create_token(
                patient("10.0.0.9"),
                qr_join(QueueId(999_999), "Gita", "98123 45679"),
            )
            .await,
    );
    assert_eq!(e, QueueError::UnknownQueue);
}

async fn close_day_is_refused_while_a_patient_is_being_served(store: Store) {
    let c = support::clinic(&store, "closing", settings()).await;
    let engine = engine(&store);
    let ids = add(&engine, &c.desk, c.general, &["Asha", "Bilal"]).await;
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
    let e = refusal(engine.act(&c.desk, c.general, StaffAction::CloseDay).await);
    assert_eq!(
        e,
        QueueError::PatientServing {
            token: "A-1".into()
        }
    );
    engine
        .act(
            &c.desk,
            c.general,
            StaffAction::Served {
                expected_serving: Some(ids[0]),
            },
        )
        .await
        .unwrap();
    let closed = engine
        .act(&c.desk, c.general, StaffAction::CloseDay)
        .await
        .unwrap();
    let bilal = closed.day.token(ids[1]).unwrap();
    assert_eq!(
        (bilal.state.status, bilal.state.cancel_reason),
        (TokenStatus::Cancelled, Some(CancelReason::DayClosed))
    );
    let e = refusal(
        engine
            .create_token(
                patient("10.1.1.1"),
                qr_join(c.general, "Chitra", "98123 45673"),
            )
            .await,
    );
    assert_eq!(e, QueueError::DayClosed);
    let e = refusal(
        engine
            .act(
                &c.desk,
                c.general,
                StaffAction::Next {
                    expected_serving: None,
                    room: None,
                },
            )
            .await,
    );
    assert_eq!(e, QueueError::DayClosed);
}

async fn a_suspended_clinic_refuses_everything(store: Store) {
    let c = support::clinic(&store, "suspended", settings()).await;
    let engine = engine(&store);
    let ids = add(&engine, &c.desk, c.general, &["Asha", "Bilal", "Chitra"]).await;
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
    engine
        .act(&c.desk, c.general, StaffAction::Skip { token: ids[2] })
        .await
        .unwrap();
    let public = public_id_of(&store, ids[1]).await;

    let mut tx = store.begin().await.unwrap();
    assert!(tx
        .set_clinic_status(c.id, ClinicStatus::Suspended, "unpaid invoice")
        .await
        .unwrap());
    tx.commit().await.unwrap();

    let suspended = QueueError::ClinicNotAccepting {
        status: ClinicStatus::Suspended,
    };
    let attempts = vec![
        engine
            .create_token(
                patient("10.2.2.2"),
                qr_join(c.general, "Dev", "98123 45674"),
            )
            .await
            .map(drop),
        engine
            .create_token(Actor::Staff(&c.desk), walk_in(c.general, "Esha"))
            .await
            .map(drop),
        engine
            .act(
                &c.desk,
                c.general,
                StaffAction::Next {
                    expected_serving: Some(ids[0]),
                    room: None,
                },
            )
            .await
            .map(drop),
        engine
            .act(
                &c.desk,
                c.general,
                StaffAction::Served {
                    expected_serving: Some(ids[0]),
                },
            )
            .await
            .map(drop),
        engine
            .act(&c.desk, c.general, StaffAction::Skip { token: ids[1] })
            .await
            .map(drop),
        engine
            .act(&c.desk, c.general, StaffAction::Recall { token: ids[2] })
            .await
            .map(drop),
        engine
            .act(
                &c.desk,
                c.general,
                StaffAction::Prioritize { token: ids[1] },
            )
            .await
            .map(drop),
        engine
            .act(
                &c.desk,
                c.general,
                StaffAction::Call {
                    token: ids[1],
                    expected_serving: Some(ids[0]),
                    room: None,
                },
            )
            .await
            .map(drop),
        engine
            .act(&c.desk, c.general, StaffAction::Cancel { token: ids[1] })
            .await
            .map(drop),
        engine
            .act(
                &c.desk,
                c.general,
                StaffAction::SetIntakePaused { paused: true },
            )
            .await
            .map(drop),
        engine
            .act(&c.desk, c.general, StaffAction::CloseDay)
            .await
            .map(drop),
        engine.undo(&c.desk, c.general).await.map(drop),
        engine.cancel_by_patient(&public, None).await.map(drop),
    ];
    for (i, attempt) in attempts.into_iter().enumerate() {
        assert_eq!(refusal(attempt), suspended, "attempt {i}");
    }
    assert!(suspended.to_string().contains("suspended"));
}

async fn staff_never_reach_another_clinic(store: Store) {
    let a = support::clinic(&store, "clinic-a", settings()).await;
    let b = support::clinic(&store, "clinic-b", settings()).await;
    let engine = engine(&store);
    let b_tokens = add(&engine, &b.desk, b.general, &["Asha"]).await;

    let intruder = &a.desk;
    assert_eq!(
        refusal(
            engine
                .create_token(Actor::Staff(intruder), walk_in(b.general, "X"))
                .await
        ),
        QueueError::Forbidden
    );
    assert_eq!(
        refusal(
            engine
                .act(
                    intruder,
                    b.general,
                    StaffAction::Next {
                        expected_serving: None,
                        room: None
                    }
                )
                .await
        ),
        QueueError::Forbidden
    );
    assert_eq!(
        refusal(engine.undo(intruder, b.general).await),
        QueueError::Forbidden
    );
    // Naming clinic B's token through clinic A's own queue is refused too.
    let e = refusal(
        engine
            .act(
                intruder,
                a.general,
                StaffAction::Cancel { token: b_tokens[0] },
            )
            .await,
    );
    assert_eq!(e, QueueError::Forbidden);
    assert_eq!(
        refusal(engine.today(intruder, b.general).await),
        QueueError::Forbidden,
        "not even a look"
    );
    let (_, day) = engine
        .today(&b.desk, b.general)
        .await
        .unwrap()
        .expect("clinic B's day");
    assert_eq!(
        day.tokens[0].state,
        TokenState::new_waiting(false),
        "clinic B's patient untouched"
    );
}

async fn patients_cancel_their_own_waiting_token(store: Store) {
    let c = support::clinic(&store, "cancels", settings()).await;
    let engine = engine(&store);
    let joined = engine
        .create_token(
            patient("10.3.3.3"),
            qr_join(c.general, "Asha", "98123 45671"),
        )
        .await
        .unwrap();
    let (id, public, number) = joined.created.clone().unwrap();
    assert_eq!(number, TokenNumber(1));
    let cancelled = engine
        .cancel_by_patient(&public, Some("10.3.3.3".into()))
        .await
        .unwrap();
    let t = cancelled.day.token(id).unwrap();
    assert_eq!(
        (t.state.status, t.state.cancel_reason),
        (TokenStatus::Cancelled, Some(CancelReason::Patient))
    );
    let e = refusal(engine.cancel_by_patient(&public, None).await);
    assert!(
        matches!(
            e,
            QueueError::NotAllowed {
                status: TokenStatus::Cancelled,
                ..
            }
        ),
        "{e:?}"
    );
    let unknown = PublicId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
    assert_eq!(
        refusal(engine.cancel_by_patient(&unknown, None).await),
        QueueError::UnknownToken
    );
    let audit = store.day_audit(joined.day_id).await.unwrap();
    let actions: Vec<_> = audit
        .iter()
        .map(|a| (a.action.as_str(), a.actor_kind.as_str(), a.ip.as_deref()))
        .collect();
    assert_eq!(
        actions,
        [
            ("ADD_TOKEN", "PATIENT", Some("10.3.3.3")),
            ("PATIENT_CANCEL", "PATIENT", Some("10.3.3.3"))
        ]
    );
}

/// A tracker's poll is answered from the day its instance read before only while the day
/// is unchanged: a NEXT or a rating made through another instance shows on the next poll.
async fn a_tracker_sees_what_another_instance_changed_at_its_next_poll(store: Store) {
    use qline_app::tracker::Phase;
    let c = support::clinic(&store, "versions", settings()).await;
    let here = engine(&store);
    let there = Engine::new(support::second_instance(&store).await);
    let made = add_with_links(&here, &c.desk, c.general, &["Asha", "Bala"]).await;
    let (asha_id, asha) = made[0].clone();
    let (_, bala) = made[1].clone();
    for _ in 0..2 {
        let seen = here.tracker(&bala).await.unwrap();
        assert_eq!((seen.ahead, seen.now_serving), (1, None));
    }

    there
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
    let seen = here.tracker(&bala).await.unwrap();
    assert_eq!((seen.ahead, seen.now_serving.as_deref()), (0, Some("A-1")));
    assert_eq!(here.tracker(&asha).await.unwrap().phase, Phase::YourTurn);

    there
        .act(
            &c.desk,
            c.general,
            StaffAction::Next {
                expected_serving: Some(asha_id),
                room: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(here.tracker(&asha).await.unwrap().phase, Phase::Served);
    assert!(!here.tracker(&asha).await.unwrap().rated);
    there.rate_visit(&asha, 5, "").await.unwrap();
    assert!(here.tracker(&asha).await.unwrap().rated);
    assert_eq!(here.tracker(&bala).await.unwrap().phase, Phase::YourTurn);
}

/// A tracker poll is answered from what this instance keeps while the day's version was
/// checked within `VERSION_FRESH_MS`: another instance's change shows once that check runs
/// out (under one poll interval), this instance's own change and a rating at once.
async fn a_poll_answers_from_memory_until_the_day_changes_here_or_its_check_runs_out(store: Store) {
    use qline_app::queue::engine::VERSION_FRESH_MS;
    use qline_app::tracker::{Phase, TrackerView};
    let c = support::clinic(&store, "polls", settings()).await;
    let start = Timestamp::now();
    let clock = Clock::manual(start);
    let here = engine(&store).with_clock(clock.clone());
    let there = Engine::new(support::second_instance(&store).await);
    let made = add_with_links(&here, &c.desk, c.general, &["Asha", "Bala"]).await;
    let (asha_id, asha) = made[0].clone();
    let (_, bala) = made[1].clone();
    let poll = |id: PublicId| {
        let here = here.clone();
        async move {
            let answer = here.tracker_poll(&id).await.unwrap();
            let view: TrackerView = serde_json::from_slice(&answer.body).unwrap();
            (answer, view)
        }
    };

    let (first, view) = poll(bala.clone()).await;
    assert_eq!((view.ahead, view.now_serving), (1, None));
    let (again, _) = poll(bala.clone()).await;
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "nothing changed: the same answer"
    );

    there
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
    clock.set(Timestamp(start.millis() + VERSION_FRESH_MS));
    let (moved, view) = poll(bala.clone()).await;
    assert_ne!(moved.etag, first.etag);
    assert_eq!((view.ahead, view.now_serving.as_deref()), (0, Some("A-1")));

    here.act(
        &c.desk,
        c.general,
        StaffAction::Next {
            expected_serving: Some(asha_id),
            room: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(poll(bala.clone()).await.1.phase, Phase::YourTurn);
    let (served, view) = poll(asha.clone()).await;
    assert_eq!((view.phase, view.rated), (Phase::Served, false));

    here.rate_visit(&asha, 4, "").await.unwrap();
    let (rated, view) = poll(asha.clone()).await;
    assert!(view.rated);
    assert_ne!(rated.etag, served.etag);
}

/// 02:00 on 4 December in Kolkata is still 3 December in Honolulu.
fn kolkata_small_hours() -> Timestamp {
    let tz = TimeZone::parse("Asia/Kolkata").unwrap();
    let local = chrono::NaiveDate::from_ymd_opt(2026, 12, 4)
        .unwrap()
        .and_hms_opt(2, 0, 0)
        .unwrap();
    Timestamp::at_local(&tz, local).unwrap()
}

async fn the_desk_acts_on_todays_day_after_the_clinic_changes_timezone(store: Store) {
    let c = support::clinic(&store, "moves", settings()).await;
    let engine = Engine::new(store.clone()).with_clock(Clock::manual(kolkata_small_hours()));
    add(&engine, &c.desk, c.general, &["Asha"]).await;
    let next = StaffAction::Next {
        expected_serving: None,
        room: None,
    };
    // The desk's NEXT in Kolkata: the engine now knows where the queue is.
    let kolkata = engine.act(&c.desk, c.general, next.clone()).await.unwrap();

    let mut clinic = store.clinic(c.id).await.unwrap().unwrap();
    clinic.timezone = TimeZone::parse("Pacific/Honolulu").unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.update_clinic(&clinic).await.unwrap();
    tx.commit().await.unwrap();

    // In Honolulu it is the day before: a day of its own, with nobody waiting.
    assert_eq!(
        refusal(engine.act(&c.desk, c.general, next.clone()).await),
        QueueError::NobodyWaiting
    );
    add(&engine, &c.desk, c.general, &["Ravi"]).await;
    let honolulu = engine.act(&c.desk, c.general, next).await.unwrap();
    assert_ne!(honolulu.day_id, kolkata.day_id);
    let called = honolulu
        .changes
        .tokens
        .iter()
        .find(|t| t.after.status == TokenStatus::Serving);
    assert_eq!(
        called.map(|t| t.number),
        Some(TokenNumber(1)),
        "Ravi, first of his day"
    );
}

/// A number typed without its country code is read in the clinic's country as it is
/// when the patient joins, not as the engine first found it.
async fn a_number_is_read_in_the_country_the_clinic_has_when_the_patient_joins(store: Store) {
    let c = support::clinic(&store, "emigrates", settings()).await;
    let engine = engine(&store);
    // A join in India: the engine now knows where the queue is.
    let asha = engine
        .create_token(
            patient("10.0.0.1"),
            qr_join(c.general, "Asha", "98123 45678"),
        )
        .await
        .unwrap();
    let mut clinic = store.clinic(c.id).await.unwrap().unwrap();
    clinic.settings.default_country = CountryCode::parse("AE").unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.update_clinic(&clinic).await.unwrap();
    tx.commit().await.unwrap();

    // A Dubai mobile, as a patient there types it.
    let omar = engine
        .create_token(
            patient("10.0.0.2"),
            qr_join(c.general, "Omar", "050 123 4567"),
        )
        .await
        .expect("read as a UAE number");
    let phone = |applied: &Applied| {
        let (id, ..) = applied.created.clone().unwrap();
        let store = store.clone();
        async move { store.token_contact(id).await.unwrap().unwrap().phone }
    };
    assert_eq!(phone(&asha).await.as_deref(), Some("+919812345678"));
    assert_eq!(phone(&omar).await.as_deref(), Some("+971501234567"));
}

async fn an_archived_queue_refuses_the_desk_it_was_open_for(store: Store) {
    let c = support::clinic(&store, "archives", settings()).await;
    let engine = engine(&store);
    add(&engine, &c.desk, c.dental, &["Asha"]).await;
    let next = StaffAction::Next {
        expected_serving: None,
        room: None,
    };
    engine.act(&c.desk, c.dental, next.clone()).await.unwrap();
    let mut dental = store
        .all_queues_of(c.id)
        .await
        .unwrap()
        .into_iter()
        .find(|q| q.id == c.dental)
        .unwrap();
    dental.archived = true;
    let mut tx = store.begin().await.unwrap();
    tx.update_queue(&dental).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        refusal(engine.act(&c.desk, c.dental, next).await),
        QueueError::UnknownQueue
    );
    assert_eq!(
        refusal(engine.undo(&c.desk, c.dental).await),
        QueueError::UnknownQueue
    );
    for actor in [Actor::Staff(&c.desk), patient("10.0.0.9")] {
        assert_eq!(
            refusal(
                engine
                    .create_token(actor, qr_join(c.dental, "Ravi", "98123 45679"))
                    .await
            ),
            QueueError::UnknownQueue
        );
    }
}

/// A request cut off mid-transaction (an error, a client gone) drops its transaction: what
/// it wrote is rolled back, and the next writer, on this connection or another, goes on.
async fn a_transaction_dropped_midway_keeps_nothing_and_the_next_goes_on(store: Store) {
    let c = support::clinic(&store, "dropped", settings()).await;
    let engine = engine(&store);
    let named = store.clinic(c.id).await.unwrap().unwrap().name;
    for round in 0..3 {
        let mut clinic = store.clinic(c.id).await.unwrap().unwrap();
        clinic.name = format!("Renamed {round}");
        let mut tx = store.begin().await.unwrap();
        tx.update_clinic(&clinic).await.unwrap();
        drop(tx);
        // The next writer waits its turn and starts clean.
        add(&engine, &c.desk, c.general, &["Asha"]).await;
        assert_eq!(
            store.clinic(c.id).await.unwrap().unwrap().name,
            named,
            "round {round}: the dropped rename is not kept"
        );
    }
    let mut clinic = store.clinic(c.id).await.unwrap().unwrap();
    clinic.name = "Renamed for good".into();
    let mut tx = store.begin().await.unwrap();
    tx.update_clinic(&clinic).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.clinic(c.id).await.unwrap().unwrap().name,
        "Renamed for good"
    );
    let waiting = engine
        .desk(&c.desk, Some(c.general))
        .await
        .unwrap()
        .waiting
        .len();
    assert_eq!(waiting, 3, "the three walk-ins added between the rounds");
}

/// The calls the clinic's board lists, newest first: "A-1 → Room 2".
async fn calls_on_board(engine: &Engine, slug: &str) -> Vec<String> {
    let board = engine.board(slug).await.unwrap();
    board
        .calls
        .iter()
        .map(|c| format!("{} → {}", c.token, c.place()))
        .collect()
}

/// Where a patient's tracker tells them to go.
async fn room_shown(engine: &Engine, link: &PublicId) -> Option<String> {
    engine.tracker(link).await.unwrap().room
}

/// The queue `id` of the clinic, seen in `rooms` from now on.
async fn give_rooms(store: &Store, clinic: ClinicId, id: QueueId, rooms: &[&str]) {
    let mut queue = store
        .queues_of(clinic)
        .await
        .unwrap()
        .into_iter()
        .find(|q| q.id == id)
        .unwrap();
    queue.rooms = rooms.iter().map(|r| r.to_string()).collect();
    let mut tx = store.begin().await.unwrap();
    tx.update_queue(&queue).await.unwrap();
    tx.commit().await.unwrap();
}

async fn each_desk_calls_to_its_room_and_undo_takes_the_call_back(store: Store) {
    use qline_app::tracker::Phase;
    let c = support::clinic(&store, "rooms", settings()).await;
    give_rooms(&store, c.id, c.general, &["Room 1", "Room 2"]).await;
    let engine = engine(&store);
    let made = add_with_links(&engine, &c.desk, c.general, &["Asha", "Bilal"]).await;
    let ((asha, asha_link), (bilal, bilal_link)) = (made[0].clone(), made[1].clone());
    let next = |expected_serving, room: Option<&str>| StaffAction::Next {
        expected_serving,
        room: room.map(str::to_owned),
    };
    let rooms = vec!["Room 1".to_owned(), "Room 2".to_owned()];

    // A queue seen in two rooms needs the desk to say which; a room it does not have is
    // refused by name. Neither changes anything.
    assert_eq!(
        refusal(engine.act(&c.desk, c.general, next(None, None)).await),
        QueueError::ChooseRoom {
            rooms: rooms.clone()
        }
    );
    assert_eq!(
        refusal(
            engine
                .act(&c.desk, c.general, next(None, Some("Room 9")))
                .await
        ),
        QueueError::UnknownRoom {
            room: "Room 9".into(),
            rooms: rooms.clone()
        }
    );
    let called = engine
        .act(&c.desk, c.general, next(None, Some("Room 2")))
        .await
        .unwrap();
    assert_eq!(serving(&called), Some(asha));
    assert_eq!(
        room_shown(&engine, &asha_link).await.as_deref(),
        Some("Room 2")
    );
    let board = engine.board("rooms").await.unwrap();
    assert_eq!(board.queues[0].serving_room.as_deref(), Some("Room 2"));
    assert_eq!(calls_on_board(&engine, "rooms").await, ["A-1 → Room 2"]);

    // The other desk, in Room 1, calls Bilal: the board lists both calls, newest first.
    engine
        .act(&c.desk2, c.general, next(Some(asha), Some("Room 1")))
        .await
        .unwrap();
    assert_eq!(
        room_shown(&engine, &bilal_link).await.as_deref(),
        Some("Room 1")
    );
    assert_eq!(room_shown(&engine, &asha_link).await, None);
    assert_eq!(
        calls_on_board(&engine, "rooms").await,
        ["A-2 → Room 1", "A-1 → Room 2"]
    );

    // UNDO takes Bilal's call back and puts Asha back in Room 2, in the database too.
    engine.undo(&c.desk, c.general).await.unwrap();
    assert_eq!(
        room_shown(&engine, &asha_link).await.as_deref(),
        Some("Room 2")
    );
    assert_eq!(room_shown(&engine, &bilal_link).await, None);
    let (_, tokens) = state(&store, called.day_id).await;
    let room_of = |id| {
        tokens
            .iter()
            .find(|t| t.id == id)
            .unwrap()
            .state
            .room
            .clone()
    };
    assert_eq!(room_of(asha).as_deref(), Some("Room 2"));
    assert_eq!(room_of(bilal), None, "waiting again, as before its call");
    assert_eq!(calls_on_board(&engine, "rooms").await, ["A-1 → Room 2"]);

    // A queue with one room needs no choice; a queue with none names no room.
    give_rooms(&store, c.id, c.general, &["Room 1"]).await;
    engine
        .act(&c.desk, c.general, next(Some(asha), None))
        .await
        .unwrap();
    assert_eq!(
        room_shown(&engine, &bilal_link).await.as_deref(),
        Some("Room 1")
    );
    let dental = add_with_links(&engine, &c.desk, c.dental, &["Chitra"]).await;
    engine
        .act(&c.desk, c.dental, next(None, Some("Room 1")))
        .await
        .unwrap();
    let chitra = engine.tracker(&dental[0].1).await.unwrap();
    assert_eq!((chitra.phase, chitra.room), (Phase::YourTurn, None));
}

/// A weekday at 10:00 in Kolkata, for stories that need patients to arrive in a known
/// order.
fn kolkata_morning() -> Timestamp {
    Timestamp(1_796_617_800_000)
}

fn minutes_later(at: Timestamp, minutes: i64) -> Timestamp {
    Timestamp(at.millis() + minutes * 60_000)
}

fn transfer(token: TokenId, to_queue: QueueId, priority: bool, note: &str) -> TransferOrder {
    TransferOrder {
        token,
        to_queue,
        priority,
        note: note.into(),
    }
}

/// The labels of a queue's waiting list, in calling order.
async fn waiting_labels(engine: &Engine, staff: &StaffUser, queue: QueueId) -> Vec<String> {
    let desk = engine.desk(staff, Some(queue)).await.unwrap();
    desk.waiting.into_iter().map(|t| t.label).collect()
}

async fn a_transfer_keeps_the_patients_place_and_undo_brings_them_back(store: Store) {
    let c = support::clinic(&store, "moves", settings()).await;
    let other = support::clinic(&store, "elsewhere", settings()).await;
    let clock = Clock::manual(kolkata_morning());
    let engine = engine(&store).with_clock(clock.clone());
    let arrive = |queue, name, minute| {
        clock.set(minutes_later(kolkata_morning(), minute));
        let (engine, desk) = (engine.clone(), c.desk.clone());
        async move {
            add_with_links(&engine, &desk, queue, &[name])
                .await
                .remove(0)
        }
    };
    // Asha, Bilal and Chitra arrive for General at 10:00, 10:01, 10:02; Dina and Esha
    // for Dental at 10:03 and 10:04.
    let (asha, _) = arrive(c.general, "Asha", 0).await;
    let (bilal, bilal_link) = arrive(c.general, "Bilal", 1).await;
    let (chitra, _) = arrive(c.general, "Chitra", 2).await;
    arrive(c.dental, "Dina", 3).await;
    arrive(c.dental, "Esha", 4).await;
    clock.set(minutes_later(kolkata_morning(), 10));
    let next = |expected_serving| StaffAction::Next {
        expected_serving,
        room: None,
    };
    engine.act(&c.desk, c.general, next(None)).await.unwrap();

    // What is refused changes nothing.
    let same = engine
        .transfer(&c.desk, c.general, transfer(bilal, c.general, false, ""))
        .await;
    assert_eq!(
        refusal(same),
        QueueError::SameQueue {
            token: "A-2".into(),
            queue: "General".into()
        }
    );
    let elsewhere = engine
        .transfer(
            &c.desk,
            c.general,
            transfer(bilal, other.general, false, ""),
        )
        .await;
    assert_eq!(refusal(elsewhere), QueueError::TransferElsewhere);
    let long_note = "x".repeat(MAX_NOTE_CHARS + 1);
    let long = engine
        .transfer(
            &c.desk,
            c.general,
            transfer(bilal, c.dental, false, &long_note),
        )
        .await;
    assert!(matches!(refusal(long), QueueError::Invalid(e) if e.field == "note"));
    let theirs = engine
        .transfer(
            &other.desk,
            other.general,
            transfer(bilal, other.dental, false, ""),
        )
        .await;
    assert_eq!(refusal(theirs), QueueError::UnknownToken);

    // Bilal goes to Dental as D-3 but keeps his place by arrival: he came at 10:01,
    // before Dina and Esha, so he is called first there. His link follows him.
    let moved = engine
        .transfer(
            &c.desk,
            c.general,
            transfer(bilal, c.dental, false, " For an X-ray "),
        )
        .await
        .unwrap();
    assert_eq!(
        waiting_labels(&engine, &c.desk, c.dental).await,
        ["D-3", "D-1", "D-2"]
    );
    assert_eq!(waiting_labels(&engine, &c.desk, c.general).await, ["A-3"]);
    let seen = engine.tracker(&bilal_link).await.unwrap();
    assert_eq!(
        (seen.token.as_str(), seen.queue_name.as_str(), seen.ahead),
        ("D-3", "Dental", 0)
    );
    assert_eq!(seen.moved_from.as_deref(), Some("General A-2"));
    let dental_desk = engine.desk(&c.desk2, Some(c.dental)).await.unwrap();
    let first = &dental_desk.waiting[0];
    assert_eq!(
        (first.moved_from.as_deref(), first.note.as_deref()),
        (Some("General A-2"), Some("For an X-ray"))
    );
    // He is told where he is now, on the channel he has (none here: recorded as such).
    let told: Vec<_> = store
        .outbox_of(c.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.token_id == Some(bilal.get()))
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].kind, OutboxKind::Notice(MessageKind::Moved));
    assert!(
        told[0].body.contains("moved to Dental") && told[0].body.contains("D-3"),
        "{}",
        told[0].body
    );
    // Each day's audit says what happened, under the token's label there.
    let general_audit = store.day_audit(moved.day_id).await.unwrap();
    let last = general_audit.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.target.as_str()),
        ("TRANSFER", "A-2")
    );
    assert!(last.undoable);
    let dental_day = engine.today(&c.desk, c.dental).await.unwrap().unwrap().0;
    let dental_audit = store.day_audit(dental_day).await.unwrap();
    let last = dental_audit.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.target.as_str()),
        ("TRANSFER_IN", "D-3")
    );

    // UNDO on General brings him back as A-2, exactly as he was; D-3 is never reused.
    engine.undo(&c.desk, c.general).await.unwrap();
    assert_eq!(
        waiting_labels(&engine, &c.desk, c.general).await,
        ["A-2", "A-3"]
    );
    assert_eq!(
        waiting_labels(&engine, &c.desk, c.dental).await,
        ["D-1", "D-2"]
    );
    let (_, tokens) = state(&store, moved.day_id).await;
    let back = tokens.iter().find(|t| t.id == bilal).unwrap();
    assert_eq!(back.state, TokenState::new_waiting(false));
    assert_eq!(back.origin, Default::default());
    let seen = engine.tracker(&bilal_link).await.unwrap();
    assert_eq!((seen.token.as_str(), seen.moved_from), ("A-2", None));
    let audit = store.day_audit(moved.day_id).await.unwrap();
    assert_eq!(
        audit.last().unwrap().undoes_id,
        Some(general_audit.last().unwrap().id)
    );
    let (_, _) = arrive(c.dental, "Farid", 11).await;
    assert_eq!(
        waiting_labels(&engine, &c.desk, c.dental).await,
        ["D-1", "D-2", "D-4"]
    );

    // The patient being seen moves too, called first there with priority; UNDO puts them
    // back in the chair, called when they were.
    let called_at = tokens
        .iter()
        .find(|t| t.id == asha)
        .unwrap()
        .state
        .called_at;
    engine
        .transfer(&c.desk, c.general, transfer(asha, c.dental, true, ""))
        .await
        .unwrap();
    assert_eq!(
        waiting_labels(&engine, &c.desk, c.dental).await,
        ["D-5", "D-1", "D-2", "D-4"]
    );
    assert_eq!(
        engine.desk(&c.desk, Some(c.general)).await.unwrap().serving,
        None
    );
    engine.undo(&c.desk, c.general).await.unwrap();
    let general = engine.desk(&c.desk, Some(c.general)).await.unwrap();
    assert_eq!(general.serving.map(|t| t.label).as_deref(), Some("A-1"));
    let (_, tokens) = state(&store, moved.day_id).await;
    let asha_now = tokens.iter().find(|t| t.id == asha).unwrap();
    assert_eq!(asha_now.state.called_at, called_at);

    // Once Dental has called a moved patient, the move cannot be undone.
    engine
        .transfer(&c.desk, c.general, transfer(chitra, c.dental, true, ""))
        .await
        .unwrap();
    engine.act(&c.desk2, c.dental, next(None)).await.unwrap();
    assert_eq!(
        refusal(engine.undo(&c.desk, c.general).await),
        QueueError::UndoConflict {
            token: "D-6".into()
        }
    );
    let dental = engine.desk(&c.desk, Some(c.dental)).await.unwrap();
    assert_eq!(
        dental.serving.as_ref().map(|t| t.label.as_str()),
        Some("D-6")
    );

    // A queue closed for the day takes nobody.
    let served = dental.serving.as_ref().map(|t| TokenId(t.id));
    engine
        .act(
            &c.desk2,
            c.dental,
            StaffAction::Served {
                expected_serving: served,
            },
        )
        .await
        .unwrap();
    engine
        .act(&c.desk2, c.dental, StaffAction::CloseDay)
        .await
        .unwrap();
    let closed = engine
        .transfer(&c.desk, c.general, transfer(bilal, c.dental, false, ""))
        .await;
    assert_eq!(
        refusal(closed),
        QueueError::TransferToClosed {
            queue: "Dental".into()
        }
    );
    assert_eq!(waiting_labels(&engine, &c.desk, c.general).await, ["A-2"]);
}

fn kiosk_walk_in(queue: QueueId, name: &str) -> JoinRequest {
    JoinRequest {
        emergency: true,
        ..walk_in(queue, name)
    }
}

async fn the_kiosk_issues_tokens_only_with_its_code_and_stops_a_guesser(store: Store) {
    let c = support::clinic(&store, "kiosk", settings()).await;
    let engine = engine(&store);
    let tablet = Some("10.0.0.5".to_owned());
    let join = |code: &'static str, ip: Option<String>| {
        let engine = engine.clone();
        async move {
            engine
                .kiosk_join("kiosk", code, ip, kiosk_walk_in(c.general, "Asha"))
                .await
        }
    };

    // A clinic without a kiosk code has no kiosk.
    assert_eq!(
        refusal(join("", tablet.clone()).await),
        QueueError::KioskLocked
    );
    let mut tx = store.begin().await.unwrap();
    let code = KioskCode::parse("482913").unwrap();
    tx.set_kiosk_code(c.id, Some(&code)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        refusal(join("482914", tablet.clone()).await),
        QueueError::KioskLocked
    );

    // With its code the kiosk issues a walk-in's token: no phone needed, never an
    // emergency, recorded as the patient's own and not the desk's to undo.
    let made = join("482913", tablet.clone()).await.unwrap();
    let (token, _, number) = made.created.unwrap();
    assert_eq!(number, TokenNumber(1));
    let day = made.day.token(token).unwrap();
    assert!(!day.state.is_priority, "a kiosk makes no emergencies");
    let audit = store.day_audit(made.day_id).await.unwrap();
    let row = audit.last().unwrap();
    assert_eq!(
        (
            row.action.as_str(),
            row.actor_kind.as_str(),
            row.ip.as_deref()
        ),
        ("ADD_TOKEN", "PATIENT", Some("10.0.0.5"))
    );
    assert!(!row.undoable);
    assert_eq!(
        refusal(engine.undo(&c.desk, c.general).await),
        QueueError::NothingToUndo
    );
    let desk = engine.desk(&c.desk, Some(c.general)).await.unwrap();
    assert_eq!(desk.waiting[0].source, Source::Desk);

    // A queue of another clinic is not this kiosk's.
    let other = support::clinic(&store, "kiosk-other", settings()).await;
    let elsewhere = engine
        .kiosk_join(
            "kiosk",
            "482913",
            tablet.clone(),
            walk_in(other.general, "X"),
        )
        .await;
    assert_eq!(refusal(elsewhere), QueueError::UnknownQueue);

    // A guesser gets ten wrong tries, then waits, even with the right code; another
    // network is not held up by it.
    let guesser = Some("203.0.113.7".to_owned());
    for _ in 0..10 {
        assert_eq!(
            refusal(join("000000", guesser.clone()).await),
            QueueError::KioskLocked
        );
    }
    assert!(matches!(
        refusal(join("482913", guesser.clone()).await),
        QueueError::KioskTries { wait_secs } if wait_secs > 0
    ));
    assert!(join("482913", tablet).await.is_ok());
    let desk = engine.desk(&c.desk, Some(c.general)).await.unwrap();
    assert_eq!(desk.waiting.len(), 2, "only the right code's two tokens");
}

/// `date` at `hour`:`minute` in Kolkata.
fn in_kolkata(date: &str, hour: u32, minute: u32) -> Timestamp {
    let local = LocalDate::parse(date)
        .unwrap()
        .date()
        .and_hms_opt(hour, minute, 0)
        .unwrap();
    Timestamp::at_local(&"Asia/Kolkata".parse().unwrap(), local).unwrap()
}

async fn opening_hours_refuse_patients_outside_them_and_close_the_day_at_closing_time(
    store: Store,
) {
    let c = support::clinic(&store, "hours", settings()).await;
    let clock = Clock::manual(in_kolkata("2026-12-07", 8, 30));
    let engine = engine(&store).with_clock(clock.clone());
    let mut queue = store
        .queues_of(c.id)
        .await
        .unwrap()
        .into_iter()
        .find(|q| q.id == c.general)
        .unwrap();
    // Weekdays with a lunch break, Saturday mornings, closed on Christmas.
    let mut week: [String; 7] = Default::default();
    for day in &mut week[..5] {
        *day = "09:00-13:00, 14:00-18:00".into();
    }
    week[5] = "09:00-13:00".into();
    queue.hours = Hours::parse(&week, "2026-12-25").unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.update_queue(&queue).await.unwrap();
    tx.commit().await.unwrap();
    let join = |name: &'static str, phone: &'static str| {
        let engine = engine.clone();
        async move {
            engine
                .create_token(patient("10.9.0.1"), qr_join(c.general, name, phone))
                .await
        }
    };
    let closed_until = |r: Result<Applied, EngineError>| match refusal(r) {
        QueueError::OutsideHours { queue, next } => {
            assert_eq!(queue, "General");
            next.expect("it opens again")
        }
        other => panic!("expected OutsideHours, got {other:?}"),
    };

    // Monday 08:30, before opening: the join page refuses and says when it opens; the
    // desk still registers an early walk-in.
    let refused = join("Bala", "98123 45601").await;
    assert_eq!(
        refusal(join("Bala", "98123 45601").await).to_string(),
        "General is closed now. It opens again today at 9:00 am."
    );
    let next = closed_until(refused);
    assert_eq!((next.days_away, next.minute), (0, 9 * 60));
    let asha = add(&engine, &c.desk, c.general, &["Asha"]).await[0];

    // 09:30: open. The patient joins; the desk calls Asha.
    clock.set(in_kolkata("2026-12-07", 9, 30));
    let bala = join("Bala", "98123 45601").await.unwrap();
    let called = engine
        .act(&c.desk, c.general, next_call(None))
        .await
        .unwrap();
    assert_eq!(serving(&called), Some(asha));

    // 12:50, two ahead of a new patient: lunch from 13:00 to 14:00 is in the wait.
    clock.set(in_kolkata("2026-12-07", 12, 50));
    let chitra = join("Chitra", "98123 45602").await.unwrap();
    let (_, chitra_link, _) = chitra.created.unwrap();
    let view = engine.tracker(&chitra_link).await.unwrap();
    let (_, high) = view.eta.expect("a wait");
    assert!(
        high >= 70,
        "the lunch break is waited through: {:?}",
        view.eta
    );

    // 13:30, on the break: refused until 14:00.
    clock.set(in_kolkata("2026-12-07", 13, 30));
    let next = closed_until(join("Dev", "98123 45603").await);
    assert_eq!(next.words(), "today at 2:00 pm");

    // Closing time with a patient being seen: the day waits for them, as CLOSE DAY does.
    clock.set(in_kolkata("2026-12-07", 17, 59));
    assert_eq!(engine.close_by_hours().await.unwrap().closed, 0);
    clock.set(in_kolkata("2026-12-07", 18, 0));
    let sweep = engine.close_by_hours().await.unwrap();
    assert_eq!((sweep.closed, sweep.serving), (0, 1));
    let served = StaffAction::Served {
        expected_serving: Some(asha),
    };
    engine.act(&c.desk, c.general, served).await.unwrap();
    clock.set(in_kolkata("2026-12-07", 18, 1));
    assert_eq!(engine.close_by_hours().await.unwrap().closed, 1);
    let (day, tokens) = state(&store, called.day_id).await;
    assert_eq!(day.status, DayStatus::Closed);
    let (bala_id, _, _) = bala.created.unwrap();
    for t in tokens.iter().filter(|t| t.id != asha) {
        assert_eq!(t.state.status, TokenStatus::Cancelled, "{:?}", t.id);
        assert_eq!(t.state.cancel_reason, Some(CancelReason::DayClosed));
    }
    assert!(tokens.iter().any(|t| t.id == bala_id));
    let audit = store.day_audit(called.day_id).await.unwrap();
    let row = audit.last().unwrap();
    assert_eq!(
        (row.action.as_str(), row.actor_kind.as_str(), row.undoable),
        ("CLOSE_DAY", "SYSTEM", true)
    );
    assert_eq!(
        engine.close_by_hours().await.unwrap(),
        Default::default(),
        "a closed day is not closed twice"
    );

    // The desk keeps going with UNDO: the day is open again and stays with the desk.
    engine.undo(&c.desk, c.general).await.unwrap();
    let (day, tokens) = state(&store, called.day_id).await;
    assert_eq!(day.status, DayStatus::Open);
    assert_eq!(
        tokens
            .iter()
            .filter(|t| t.state.status == TokenStatus::Waiting)
            .count(),
        2
    );
    clock.set(in_kolkata("2026-12-07", 18, 30));
    assert_eq!(engine.close_by_hours().await.unwrap().closed, 0);

    // Christmas is closed: it opens on Saturday morning, which is tomorrow.
    clock.set(in_kolkata("2026-12-25", 10, 0));
    let next = closed_until(join("Esha", "98123 45604").await);
    assert_eq!(next.date, LocalDate::parse("2026-12-26").unwrap());
    assert_eq!(next.words(), "tomorrow at 9:00 am");
    // Saturday afternoon: Sunday is closed, so Monday.
    clock.set(in_kolkata("2026-12-26", 14, 0));
    let next = closed_until(join("Esha", "98123 45604").await);
    assert_eq!(next.words(), "on Monday 28 December at 9:00 am");

    // A queue without hours is open at any hour.
    clock.set(in_kolkata("2026-12-27", 23, 30));
    let dental = engine
        .create_token(
            patient("10.9.0.1"),
            qr_join(c.dental, "Farah", "98123 45605"),
        )
        .await;
    assert!(dental.is_ok(), "{dental:?}");
}

fn next_call(expected_serving: Option<TokenId>) -> StaffAction {
    StaffAction::Next {
        expected_serving,
        room: None,
    }
}
