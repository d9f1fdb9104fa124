//! The screens. Each page is a module named after what a person calls it.

mod account;
mod admin;
mod alerts;
mod analytics;
mod clinic;
mod desk;
mod display;
mod form;
mod frame;
mod home;
mod join;
mod login;
mod not_found;
#[cfg(feature = "hydrate")]
mod polling;
mod poster;
mod tracker;

pub use account::AccountPage;
pub use admin::{AdminPage, AuditPage};
pub use analytics::{AdminAnalyticsPage, AnalyticsPage};
pub use clinic::{AdminClinicPage, ClinicPage};
pub use desk::DeskPage;
pub use display::DisplayPage;
pub use frame::Frame;
pub use home::Home;
pub use join::JoinPageView;
pub use login::LoginPage;
pub use not_found::{Elsewhere, NotFound};
pub use poster::PosterPage;
pub use tracker::TrackerPage;

/// Set once the page has hydrated: from then on a route change is the patient's own click.
#[cfg(feature = "hydrate")]
static HYDRATED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this page has finished hydrating.
#[cfg(feature = "hydrate")]
pub(crate) fn hydrated() -> bool {
    HYDRATED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Marks the page hydrated: for `Elsewhere`, and (`data-hydrated` on `<body>`) for
/// people's scripts and the end-to-end tests.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    HYDRATED.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "");
    }
}
