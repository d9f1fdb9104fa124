//! Server functions: the stable HTTP endpoints the pages call, each documented in
//! docs/API.md. Each is thin: read the caller, call one engine method, map the error.
//! The console's (tenant console, clinic settings, account) are in `console`.

mod client;
mod console;
mod desk;
mod kiosk;
mod returned;
#[cfg(feature = "ssr")]
pub use client::*;
pub use client::{PublicUrl, TrustedProxies};
pub use console::*;
pub use desk::*;
pub use kiosk::*;
pub use returned::*;

use crate::console::ConsoleError;
use crate::domain::{Language, SignInError};
use crate::queue::QueueError;
use crate::tracker::TrackerView;
use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

/// What a page shows when a call fails: the queue's own refusal, word for word, or a
/// plain "try again" that hides our internals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Refused(QueueError),
    #[error("{0}")]
    SignIn(SignInError),
    #[error("{0}")]
    Console(ConsoleError),
    #[error("{}", INTERNAL_WORDS)]
    Internal,
    /// The database is away for a moment (restarting, unreachable): nothing was changed.
    #[error("The queue is not reachable just now and nothing was changed. Please try again in a few seconds.")]
    Unavailable,
    /// A request through a trusted proxy that did not say whom it came from.
    #[error("This request came through a proxy that did not say who sent it, so it cannot be accepted. Please try again in a moment.")]
    UnknownClient,
    #[error("Could not reach the clinic's queue ({0}). Check your connection and try again.")]
    Network(String),
}

/// What a page says when the failure is ours, whatever it was.
pub const INTERNAL_WORDS: &str = "Something went wrong on our side. Please try again in a moment.";

/// A refusal in the words a page shows, and the form field it is about (`name`,
/// `phone`…; none when it is about the whole form). The patient pages' bundle gets these
/// from the `Qline-Message` and `Qline-Field` headers of a refused call (docs/API.md), so
/// it need not know every refusal the server can make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalWords {
    pub message: String,
    pub field: Option<String>,
}

impl From<&AppError> for RefusalWords {
    fn from(error: &AppError) -> Self {
        Self {
            message: error.to_string(),
            field: error.field().map(str::to_owned),
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status a server function answers this error with: 4xx for refusals (the
    /// caller can act on the message), 5xx only for our own failures.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        use ConsoleError as C;
        use QueueError as Q;
        match self {
            AppError::Refused(refusal) => match refusal {
                Q::UnknownClinic | Q::UnknownQueue | Q::UnknownToken => S::NOT_FOUND,
                Q::Forbidden | Q::KioskLocked => S::FORBIDDEN,
                Q::Invalid(_)
                | Q::ChooseRoom { .. }
                | Q::UnknownRoom { .. }
                | Q::SameQueue { .. }
                | Q::TransferElsewhere => S::BAD_REQUEST,
                Q::DailyLimitReached { .. }
                | Q::PhoneLimitReached { .. }
                | Q::TooManyFromNetwork { .. }
                | Q::KioskTries { .. }
                | Q::TooManyLookups { .. } => S::TOO_MANY_REQUESTS,
                Q::ClinicNotAccepting { .. }
                | Q::DayClosed
                | Q::IntakePaused
                | Q::OutsideHours { .. }
                | Q::NotAllowed { .. }
                | Q::AlreadyPriority { .. }
                | Q::QueueMoved { .. }
                | Q::SettingsChanged
                | Q::NobodyWaiting
                | Q::NothingServing
                | Q::PatientServing { .. }
                | Q::NothingToUndo
                | Q::UndoConflict { .. }
                | Q::TransferToClosed { .. } => S::CONFLICT,
            },
            AppError::SignIn(refusal) => sign_in_status(refusal),
            AppError::Console(refusal) => match refusal {
                C::WrongRole | C::Forbidden | C::OperatorOnly(_) | C::OwnAccount => S::FORBIDDEN,
                C::UnknownClinic(_) | C::UnknownStaff | C::UnknownQueue | C::UnknownPatient(_) => {
                    S::NOT_FOUND
                }
                C::Invalid(_)
                | C::ConfirmationMismatch(_)
                | C::ReasonRequired
                | C::ErasureNotConfirmed => S::BAD_REQUEST,
                C::WrongPassword => S::UNAUTHORIZED,
                C::SignIn(refusal) => sign_in_status(refusal),
                C::SlugTaken(_)
                | C::EmailTaken(_)
                | C::PrefixTaken(_)
                | C::LastOwner
                | C::LastQueue
                | C::QueueHasPatients(_)
                | C::ClinicActive(_)
                | C::AlreadyInStatus(_) => S::CONFLICT,
            },
            // On the server this is a request the server function could not read.
            AppError::Network(_) | AppError::UnknownClient => S::BAD_REQUEST,
            AppError::Internal => S::INTERNAL_SERVER_ERROR,
            AppError::Unavailable => S::SERVICE_UNAVAILABLE,
        }
    }

    /// For a limit that lifts by itself, the seconds until the caller may try again
    /// (`Retry-After`). The daily limits end at the clinic's midnight and carry none.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::SignIn(refusal) | AppError::Console(ConsoleError::SignIn(refusal)) => {
                match refusal {
                    SignInError::TooManyAttempts { wait_secs } => Some(u64::from(*wait_secs)),
                    SignInError::Busy => Some(BUSY_RETRY_SECS),
                    _ => None,
                }
            }
            AppError::Refused(QueueError::TooManyFromNetwork { .. }) => {
                Some(crate::queue::engine::IP_WINDOW_MINUTES as u64 * 60)
            }
            AppError::Unavailable => Some(UNAVAILABLE_RETRY_SECS),
            _ => None,
        }
    }
}

#[cfg(feature = "ssr")]
fn sign_in_status(refusal: &SignInError) -> http::StatusCode {
    use http::StatusCode as S;
    match refusal {
        SignInError::WrongCredentials | SignInError::SignedOut => S::UNAUTHORIZED,
        SignInError::TooManyAttempts { .. } => S::TOO_MANY_REQUESTS,
        SignInError::WrongRole | SignInError::PasswordChangeRequired => S::FORBIDDEN,
        SignInError::InvalidEmail => S::BAD_REQUEST,
        // The server's limit on parallel password checks: a burst of sign-ins (perhaps
        // someone else's) is asked to come back shortly, never answered as our failure.
        SignInError::Busy => S::TOO_MANY_REQUESTS,
    }
}

/// How long a caller waits when the server is too busy checking passwords.
#[cfg(feature = "ssr")]
const BUSY_RETRY_SECS: u64 = 5;

/// How long a caller waits while the database is away.
#[cfg(feature = "ssr")]
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
        AppError::Network(e.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<crate::messaging::MessagingError> for AppError {
    fn from(e: crate::messaging::MessagingError) -> Self {
        use crate::messaging::MessagingError;
        match e {
            MessagingError::Refused(refusal) => AppError::Console(refusal),
            MessagingError::Storage(cause) => cause.into(),
            MessagingError::Secret(cause) => {
                tracing::error!(%cause, "provider secrets");
                AppError::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::tenant::console::ConsoleFailure> for AppError {
    fn from(e: crate::tenant::console::ConsoleFailure) -> Self {
        use crate::tenant::console::ConsoleFailure;
        match e {
            ConsoleFailure::Refused(refusal) => AppError::Console(refusal),
            ConsoleFailure::Storage(cause) => cause.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::queue::engine::EngineError> for AppError {
    fn from(e: crate::queue::engine::EngineError) -> Self {
        use crate::queue::engine::EngineError;
        match e {
            EngineError::Refused(refusal) => AppError::Refused(refusal),
            EngineError::Storage(cause) => cause.into(),
        }
    }
}

/// What the join page needs to know about a clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinInfo {
    pub slug: String,
    pub clinic_name: String,
    /// `(queue id, name)` in display order.
    pub queues: Vec<(i64, String)>,
    pub languages: Vec<Language>,
    pub phone_example: String,
    /// Set when the clinic is not taking tokens (suspended, disabled).
    pub notice: Option<String>,
    /// The queues that have opening hours, in display order. The join form (an island)
    /// never reads them: left out of what it reads, their code stays out of the
    /// patient's WebAssembly bundle.
    #[serde(default, skip_deserializing)]
    pub hours: Vec<QueueHours>,
}

/// A queue's opening hours as the join page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueHours {
    pub queue: String,
    pub hours: crate::domain::Hours,
    /// Whether it takes patients now, on the clinic's clock.
    pub opening: crate::domain::Opening,
    /// Its closed dates in the coming weeks, today's included.
    pub closed_soon: Vec<crate::domain::LocalDate>,
}

#[server(prefix = "/api", endpoint = "join-page")]
pub async fn load_join_page(slug: String) -> Result<JoinInfo, AppError> {
    let engine = expect_context::<crate::queue::engine::Engine>();
    let (clinic, queues) = engine.join_info(&slug).await?;
    let now = engine.now();
    let hours = queues
        .iter()
        .filter(|q| q.hours.is_set())
        .map(|q| QueueHours {
            queue: q.name.clone(),
            hours: q.hours.clone(),
            opening: q.opening_at(&clinic.timezone, now),
            closed_soon: q.hours.closed_within(now.local_date(&clinic.timezone), 31),
        })
        .collect();
    let notice = (!clinic.status.accepts_work()).then(|| {
        QueueError::ClinicNotAccepting {
            status: clinic.status,
        }
        .to_string()
    });
    Ok(JoinInfo {
        slug: clinic.slug.to_string(),
        clinic_name: clinic.name,
        queues: queues.into_iter().map(|q| (q.id.get(), q.name)).collect(),
        languages: clinic.settings.languages.clone(),
        phone_example: clinic.settings.default_country.example_number().to_owned(),
        notice,
        hours,
    })
}

/// A patient takes a token from the clinic's QR page. Redirects to the tracker; a
/// refused plain form post goes back to the join page (`back_to_form`).
#[server(prefix = "/api", endpoint = "join")]
pub async fn join_queue(
    slug: String,
    queue_id: i64,
    name: String,
    phone: String,
    language: String,
) -> Result<String, AppError> {
    let queue = queue_id.to_string();
    let typed = [
        ("queue_id", queue.as_str()),
        ("name", name.as_str()),
        ("phone", phone.as_str()),
        ("language", language.as_str()),
    ];
    let joined = join(&slug, queue_id, &name, &phone, &language).await;
    back_to_form(JoinQueue::PATH, &typed, joined).await
}

#[cfg(feature = "ssr")]
async fn join(
    slug: &str,
    queue_id: i64,
    name: &str,
    phone: &str,
    language: &str,
) -> Result<String, AppError> {
    use crate::domain::QueueId;
    use crate::queue::engine::{Actor, Engine, JoinRequest};
    let engine = expect_context::<Engine>();
    let (clinic, queues) = engine.join_info(slug).await?;
    if !queues.iter().any(|q| q.id.get() == queue_id) {
        return Err(AppError::Refused(QueueError::UnknownQueue));
    }
    let request = JoinRequest {
        queue_id: QueueId(queue_id),
        name: name.to_owned(),
        phone: Some(phone.to_owned()),
        language: Language::from_stored(language).unwrap_or(Language::En),
        emergency: false,
    };
    let applied = engine
        .create_token(
            Actor::Patient {
                ip: client_network().await?.map(|n| n.to_string()),
            },
            request,
        )
        .await
        .map_err(AppError::from)
        .inspect_err(|refusal| {
            // The daily limits lift at the clinic's midnight.
            if let AppError::Refused(
                QueueError::DailyLimitReached { .. } | QueueError::PhoneLimitReached { .. },
            ) = refusal
            {
                let left = 86_400 - engine.now().local_secs(&clinic.timezone);
                set_header(http::header::RETRY_AFTER, &left.max(1).to_string());
            }
        })?;
    let (_, public_id, _) = applied.created.ok_or(AppError::Internal)?;
    leptos_axum::redirect(&format!("/t/{public_id}"));
    Ok(public_id.to_string())
}

/// "Find my token": sends the link of the number's live token today to that number on
/// the clinic's channels, never to this page. The answer is the same whether the number
/// holds a token or not; a plain form post is redirected to `/c/{slug}/find?sent=1`.
#[server(prefix = "/api", endpoint = "find-token")]
pub async fn find_token(
    slug: String,
    phone: String,
    lang: Option<String>,
) -> Result<String, AppError> {
    let typed = [("phone", phone.as_str())];
    let asked = ask_for_link(&slug, &phone, lang.as_deref()).await;
    back_to_form(FindToken::PATH, &typed, asked).await
}

#[cfg(feature = "ssr")]
async fn ask_for_link(slug: &str, phone: &str, lang: Option<&str>) -> Result<String, AppError> {
    use crate::i18n::{tr, Text};
    let engine = expect_context::<crate::queue::engine::Engine>();
    let ip = client_network().await?.map(|n| n.to_string());
    let lookup = engine.find_token(slug, phone, ip.as_deref()).await?;
    // The search and the send run after the answer: its time says nothing of the number.
    tokio::spawn(async move {
        if let Err(e) = lookup.send().await {
            tracing::warn!(error = %e, "sending a token's link failed");
        }
    });
    let lang = lang.and_then(Language::from_stored).unwrap_or(Language::En);
    leptos_axum::redirect(&format!("/c/{slug}/find?sent=1&lang={}", lang.as_str()));
    Ok(tr(lang, Text::FindSent).to_owned())
}

#[server(prefix = "/api", endpoint = "tracker")]
pub async fn load_tracker(public_id: String) -> Result<TrackerView, AppError> {
    let engine = expect_context::<crate::queue::engine::Engine>();
    let id = crate::domain::PublicId::parse(&public_id)
        .ok_or(AppError::Refused(QueueError::UnknownToken))?;
    Ok(engine.tracker(&id).await?)
}

/// The patient cancels their own waiting token from the tracker.
#[server(prefix = "/api", endpoint = "cancel")]
pub async fn cancel_token(public_id: String) -> Result<TrackerView, AppError> {
    let engine = expect_context::<crate::queue::engine::Engine>();
    let id = crate::domain::PublicId::parse(&public_id)
        .ok_or(AppError::Refused(QueueError::UnknownToken))?;
    let network = client_network().await?.map(|n| n.to_string());
    engine.cancel_by_patient(&id, network).await?;
    Ok(engine.tracker(&id).await?)
}

/// A served patient rates the visit (1–5 stars) with optional feedback, once.
#[server(prefix = "/api", endpoint = "rate")]
pub async fn rate_visit(
    public_id: String,
    rating: u8,
    feedback: String,
) -> Result<TrackerView, AppError> {
    let engine = expect_context::<crate::queue::engine::Engine>();
    let id = crate::domain::PublicId::parse(&public_id)
        .ok_or(AppError::Refused(QueueError::UnknownToken))?;
    // The tracker sends no Referer: a plain form post is sent back to it by name.
    back_to(&format!("/t/{id}")).await;
    Ok(engine.rate_visit(&id, rating, &feedback).await?)
}

#[cfg(feature = "ssr")]
impl From<crate::tenant::signin::SignInFailure> for AppError {
    fn from(e: crate::tenant::signin::SignInFailure) -> Self {
        use crate::tenant::signin::SignInFailure;
        match e {
            SignInFailure::Refused(refusal) => AppError::SignIn(refusal),
            SignInFailure::Storage(cause) => cause.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::storage::StorageError> for AppError {
    fn from(cause: crate::storage::StorageError) -> Self {
        if cause.is_unavailable() {
            tracing::warn!(%cause, "database unavailable");
            AppError::Unavailable
        } else {
            tracing::error!(%cause, "storage failure");
            AppError::Internal
        }
    }
}

/// Staff sign in with email and password. Sets the session cookie and sends the user to
/// their screen.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    let signed_in = start_session(&email, &password).await;
    // The password is never sent back.
    back_to_form(Login::PATH, &[("email", email.as_str())], signed_in).await
}

#[cfg(feature = "ssr")]
async fn start_session(email: &str, password: &str) -> Result<(), AppError> {
    use crate::domain::Role;
    use crate::tenant::signin::SESSION_HOURS;
    let tenants = expect_context::<crate::tenant::Tenants>();
    let network = client_network().await?;
    let (user, token) = tenants.sign_in(email, password, network.as_ref()).await?;
    let cookie = session_cookie_header(&token.0, SESSION_HOURS * 3600).await;
    set_cookie(&cookie);
    leptos_axum::redirect(if user.must_change_password {
        "/account"
    } else if user.role == Role::SuperAdmin {
        "/admin"
    } else {
        "/desk"
    });
    Ok(())
}

/// Ends the staff session and clears its cookie.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let tenants = expect_context::<crate::tenant::Tenants>();
    if let Some(token) = session_cookie().await {
        tenants.sign_out(&token).await?;
    }
    set_cookie(&session_cookie_header("", 0).await);
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in staff user, or `SignedOut`; `PasswordChangeRequired` while they still
/// hold a password someone else chose.
#[cfg(feature = "ssr")]
pub async fn current_staff() -> Result<crate::domain::StaffUser, AppError> {
    let staff = signed_in_staff().await?;
    if staff.must_change_password {
        return Err(AppError::SignIn(SignInError::PasswordChangeRequired));
    }
    Ok(staff)
}

/// The signed-in staff user, even one who must still change their password.
#[cfg(feature = "ssr")]
pub async fn signed_in_staff() -> Result<crate::domain::StaffUser, AppError> {
    let tenants = expect_context::<crate::tenant::Tenants>();
    let token = session_cookie()
        .await
        .ok_or(AppError::SignIn(SignInError::SignedOut))?;
    tenants
        .session_user(&token)
        .await?
        .ok_or(AppError::SignIn(SignInError::SignedOut))
}

/// The display board's first render (it then polls `GET /api/display/{slug}`).
#[server(prefix = "/api", endpoint = "board")]
pub async fn load_board(slug: String) -> Result<crate::board::BoardView, AppError> {
    let engine = expect_context::<crate::queue::engine::Engine>();
    Ok(engine.board(&slug).await?)
}
