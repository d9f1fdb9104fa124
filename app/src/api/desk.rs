//! The receptionist's desk: its view, its actions (NEXT, SKIP, UNDO and the rest), walk-ins
//! and replies to patients' WhatsApp messages.

use super::AppError;
#[cfg(feature = "ssr")]
use super::{back_to_form, client_network, current_staff, stay_on_page};
#[cfg(feature = "ssr")]
use crate::domain::Language;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

/// What the desk can ask of a queue. `expected_serving` is the token the desk believes
/// is being served: if another desk moved the queue meanwhile, the action is refused
/// with `QueueMoved` instead of skipping a patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeskCommand {
    Next {
        expected_serving: Option<i64>,
    },
    Served {
        expected_serving: Option<i64>,
    },
    Skip {
        token: i64,
    },
    Recall {
        token: i64,
    },
    Priority {
        token: i64,
    },
    Call {
        token: i64,
        expected_serving: Option<i64>,
    },
    Cancel {
        token: i64,
    },
    Undo,
    PauseIntake {
        paused: bool,
    },
    CloseDay,
    /// Moves a waiting or serving token to another queue of the clinic, where it keeps
    /// its patient's arrival time unless `priority`; `note` is for that queue's desk.
    Transfer {
        token: i64,
        to_queue: i64,
        #[serde(default)]
        priority: bool,
        #[serde(default)]
        note: String,
    },
}

/// The desk's view of one of the signed-in staff member's queues (the first when none is named).
#[server(prefix = "/api", endpoint = "desk")]
pub async fn load_desk(queue_id: Option<i64>) -> Result<crate::desk::DeskView, AppError> {
    use crate::domain::QueueId;
    let staff = current_staff().await?;
    let engine = expect_context::<crate::queue::engine::Engine>();
    Ok(engine.desk(&staff, queue_id.map(QueueId)).await?)
}

/// Runs one desk action and answers the desk's view after it. `room` is the room the
/// desk works in (chosen once per shift), which NEXT and CALL send their patient to.
#[server(prefix = "/api", endpoint = "desk/act", input = leptos::server_fn::codec::Json)]
pub async fn desk_act(
    queue_id: i64,
    room: Option<String>,
    command: DeskCommand,
) -> Result<crate::desk::DeskView, AppError> {
    use crate::domain::{QueueId, TokenId};
    use crate::queue::rules::StaffAction;
    let staff = current_staff().await?;
    let engine = expect_context::<crate::queue::engine::Engine>();
    let queue = QueueId(queue_id);
    let serving = |id: Option<i64>| id.map(TokenId);
    let action = match command {
        DeskCommand::Undo => None,
        DeskCommand::Transfer {
            token,
            to_queue,
            priority,
            note,
        } => {
            let order = crate::queue::engine::TransferOrder {
                token: TokenId(token),
                to_queue: QueueId(to_queue),
                priority,
                note,
            };
            engine.transfer(&staff, queue, order).await?;
            return Ok(engine.desk(&staff, Some(queue)).await?);
        }
        DeskCommand::Next { expected_serving } => Some(StaffAction::Next {
            expected_serving: serving(expected_serving),
            room,
        }),
        DeskCommand::Served { expected_serving } => Some(StaffAction::Served {
            expected_serving: serving(expected_serving),
        }),
        DeskCommand::Skip { token } => Some(StaffAction::Skip {
            token: TokenId(token),
        }),
        DeskCommand::Recall { token } => Some(StaffAction::Recall {
            token: TokenId(token),
        }),
        DeskCommand::Priority { token } => Some(StaffAction::Prioritize {
            token: TokenId(token),
        }),
        DeskCommand::Call {
            token,
            expected_serving,
        } => Some(StaffAction::Call {
            token: TokenId(token),
            expected_serving: serving(expected_serving),
            room,
        }),
        DeskCommand::Cancel { token } => Some(StaffAction::Cancel {
            token: TokenId(token),
        }),
        DeskCommand::PauseIntake { paused } => Some(StaffAction::SetIntakePaused { paused }),
        DeskCommand::CloseDay => Some(StaffAction::CloseDay),
    };
    match action {
        Some(action) => engine.act(&staff, queue, action).await?,
        None => engine.undo(&staff, queue).await?,
    };
    Ok(engine.desk(&staff, Some(queue)).await?)
}

/// The desk adds a walk-in (optionally an emergency, called before everyone else), whose
/// messages go in `language` (`en`, the default, or `hi`).
#[server(prefix = "/api", endpoint = "desk/walk-in")]
pub async fn desk_walk_in(
    queue_id: i64,
    name: String,
    phone: String,
    emergency: Option<String>,
    language: Option<String>,
) -> Result<crate::desk::DeskView, AppError> {
    let added = walk_in(
        queue_id,
        &name,
        &phone,
        emergency.is_some(),
        language.as_deref(),
    )
    .await;
    let typed = [
        ("name", name.as_str()),
        ("phone", phone.as_str()),
        ("emergency", emergency.as_deref().unwrap_or_default()),
        ("language", language.as_deref().unwrap_or_default()),
    ];
    back_to_form(DeskWalkIn::PATH, &typed, added).await
}

#[cfg(feature = "ssr")]
async fn walk_in(
    queue_id: i64,
    name: &str,
    phone: &str,
    emergency: bool,
    language: Option<&str>,
) -> Result<crate::desk::DeskView, AppError> {
    use crate::domain::{InvalidInput, QueueId};
    let language = match language.map(str::trim).filter(|l| !l.is_empty()) {
        None => Language::En,
        Some(l) => Language::from_stored(l).ok_or_else(|| {
            let refusal = InvalidInput::new("language", "Please choose English or Hindi.");
            AppError::Refused(refusal.into())
        })?,
    };
    use crate::queue::engine::{Actor, JoinRequest};
    let staff = current_staff().await?;
    let engine = expect_context::<crate::queue::engine::Engine>();
    let request = JoinRequest {
        queue_id: QueueId(queue_id),
        name: name.to_owned(),
        phone: Some(phone.to_owned()).filter(|p| !p.trim().is_empty()),
        language,
        emergency,
    };
    engine.create_token(Actor::Staff(&staff), request).await?;
    stay_on_page().await;
    Ok(engine.desk(&staff, Some(QueueId(queue_id))).await?)
}

/// A receptionist answers a patient's WhatsApp message (inside the 24-hour window
/// only); answers the desk's view with the reply in it.
#[server(prefix = "/api", endpoint = "desk/reply")]
pub async fn desk_reply(
    queue_id: i64,
    token: i64,
    body: String,
) -> Result<crate::desk::DeskView, AppError> {
    use crate::domain::{QueueId, TokenId};
    let staff = current_staff().await?;
    let ip = client_network().await?.map(|n| n.to_string());
    let messenger = expect_context::<crate::messaging::Messenger>();
    messenger
        .reply_from_desk(&staff, ip.as_deref(), TokenId(token), &body)
        .await?;
    Ok(messenger
        .engine()
        .desk(&staff, Some(QueueId(queue_id)))
        .await?)
}
