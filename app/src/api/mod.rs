//! Server functions: the stable HTTP endpoints the pages call, each documented in
//! docs/API.md. Each is thin: read the caller, call one engine method, map the error.
//! The console's (tenant console, clinic settings, account) are in `console`.

mod console;
mod desk;
mod returned;
pub use console::*;
pub use desk::*;
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
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    #[error("Could not reach the clinic's queue ({0}). Check your connection and try again.")]
    Network(String),
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
                Q::Forbidden => S::FORBIDDEN,
                Q::Invalid(_) => S::BAD_REQUEST,
                Q::DailyLimitReached { .. }
                | Q::PhoneLimitReached { .. }
                | Q::TooManyFromNetwork { .. } => S::TOO_MANY_REQUESTS,
                Q::ClinicNotAccepting { .. }
                | Q::DayClosed
                | Q::IntakePaused
                | Q::NotAllowed { .. }
                | Q::AlreadyPriority { .. }
                | Q::QueueMoved { .. }
                | Q::NobodyWaiting
                | Q::NothingServing
                | Q::PatientServing { .. }
                | Q::NothingToUndo
                | Q::UndoConflict { .. } => S::CONFLICT,
            },
            AppError::SignIn(refusal) => match refusal {
                SignInError::WrongCredentials | SignInError::SignedOut => S::UNAUTHORIZED,
                SignInError::TooManyAttempts { .. } => S::TOO_MANY_REQUESTS,
                SignInError::WrongRole | SignInError::PasswordChangeRequired => S::FORBIDDEN,
            },
            AppError::Console(refusal) => match refusal {
                C::WrongRole | C::Forbidden | C::OperatorOnly(_) | C::OwnAccount => S::FORBIDDEN,
                C::UnknownClinic(_) | C::UnknownStaff | C::UnknownQueue => S::NOT_FOUND,
                C::Invalid(_) | C::ConfirmationMismatch(_) | C::ReasonRequired => S::BAD_REQUEST,
                C::WrongPassword => S::UNAUTHORIZED,
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
            AppError::Network(_) => S::BAD_REQUEST,
            AppError::Internal => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// For a limit that lifts by itself, the seconds until the caller may try again
    /// (`Retry-After`). The daily limits end at the clinic's midnight and carry none.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::SignIn(SignInError::TooManyAttempts { minutes }) => {
                Some(u64::from(*minutes) * 60)
            }
            AppError::Refused(QueueError::TooManyFromNetwork { .. }) => {
                Some(crate::queue::engine::IP_WINDOW_MINUTES as u64 * 60)
            }
            _ => None,
        }
    }
}

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
            EngineError::Storage(cause) => {
                tracing::error!(%cause, "storage failure");
                AppError::Internal
            }
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
}

#[server(prefix = "/api", endpoint = "join-page")]
pub async fn load_join_page(slug: String) -> Result<JoinInfo, AppError> {
    let engine = expect_context::<crate::queue::engine::Engine>();
    let (clinic, queues) = engine.join_info(&slug).await?;
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
    let (_, queues) = engine.join_info(slug).await?;
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
                ip: client_ip().await,
            },
            request,
        )
        .await?;
    let (_, public_id, _) = applied.created.ok_or(AppError::Internal)?;
    leptos_axum::redirect(&format!("/t/{public_id}"));
    Ok(public_id.to_string())
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
    engine.cancel_by_patient(&id, client_ip().await).await?;
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
    Ok(engine.rate_visit(&id, rating, &feedback).await?)
}

/// Where the request came from: the connecting address, or, when the server runs behind
/// a proxy it trusts (`qline serve --behind-proxy`), the last address the proxy saw.
#[cfg(feature = "ssr")]
pub async fn client_ip() -> Option<String> {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let behind_proxy = use_context::<BehindProxy>().is_some_and(|b| b.0);
    if behind_proxy {
        let headers = leptos_axum::extract::<http::HeaderMap>().await.ok()?;
        let forwarded = headers.get("x-forwarded-for")?.to_str().ok()?;
        return forwarded
            .rsplit(',')
            .next()
            .map(|ip| ip.trim().to_owned())
            .filter(|ip| !ip.is_empty());
    }
    let ConnectInfo(addr) = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()?;
    Some(addr.ip().to_string())
}

/// Whether to read the client's address from `X-Forwarded-For` (set by the server).
#[derive(Debug, Clone, Copy)]
pub struct BehindProxy(pub bool);

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
        tracing::error!(%cause, "storage failure");
        AppError::Internal
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
    use crate::tenant::signin::{SESSION_COOKIE, SESSION_HOURS};
    let tenants = expect_context::<crate::tenant::Tenants>();
    let ip = client_ip().await;
    let (user, token) = tenants.sign_in(email, password, ip.as_deref()).await?;
    let secure = if request_is_https().await {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        token.0,
        SESSION_HOURS * 3600
    );
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
    use crate::tenant::signin::SESSION_COOKIE;
    let tenants = expect_context::<crate::tenant::Tenants>();
    if let Some(token) = session_cookie().await {
        tenants.sign_out(&token).await?;
    }
    set_cookie(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    ));
    leptos_axum::redirect("/login");
    Ok(())
}

#[cfg(feature = "ssr")]
fn set_cookie(cookie: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(cookie),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

#[cfg(feature = "ssr")]
async fn session_cookie() -> Option<String> {
    let headers = leptos_axum::extract::<http::HeaderMap>().await.ok()?;
    cookie(&headers, crate::tenant::signin::SESSION_COOKIE)
}

/// The value of the request's cookie `name`, if set and not empty.
#[cfg(feature = "ssr")]
fn cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether the browser reached us over TLS (told by a trusted proxy).
#[cfg(feature = "ssr")]
async fn request_is_https() -> bool {
    let behind_proxy = use_context::<BehindProxy>().is_some_and(|b| b.0);
    let Ok(headers) = leptos_axum::extract::<http::HeaderMap>().await else {
        return false;
    };
    behind_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            == Some("https")
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

/// The address patients reach this server at (`qline serve --public-url`), for QR codes
/// and links. Without one configured: the request's own host.
#[derive(Debug, Clone, Default)]
pub struct PublicUrl(pub Option<String>);

#[cfg(feature = "ssr")]
pub async fn public_url() -> String {
    if let Some(url) = use_context::<PublicUrl>().and_then(|p| p.0) {
        return url.trim_end_matches('/').to_owned();
    }
    let headers = leptos_axum::extract::<http::HeaderMap>()
        .await
        .unwrap_or_default();
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:3000");
    let scheme = if request_is_https().await {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// The display board's first render (it then polls `GET /api/display/{slug}`).
#[server(prefix = "/api", endpoint = "board")]
pub async fn load_board(slug: String) -> Result<crate::board::BoardView, AppError> {
    let engine = expect_context::<crate::queue::engine::Engine>();
    Ok(engine.board(&slug).await?)
}
