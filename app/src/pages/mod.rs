//! The screens. Each page is a module named after what a person calls it.

mod account;
mod admin;
mod alerts;
mod analytics;
mod clinic;
mod desk;
#[cfg(feature = "hydrate")]
mod device;
mod display;
mod find;
mod form;
mod frame;
mod home;
mod join;
mod kiosk;
mod login;
mod not_found;
#[cfg(feature = "hydrate")]
mod polling;
mod poster;
#[cfg(feature = "hydrate")]
mod send;
#[cfg(feature = "hydrate")]
mod sound;
mod ticket;
mod tracker;

pub use account::AccountPage;
pub use admin::{AdminPage, AuditPage};
pub use analytics::{AdminAnalyticsPage, AnalyticsPage};
pub use clinic::{AdminClinicPage, ClinicPage};
pub use desk::DeskPage;
pub use display::DisplayPage;
pub use find::FindTokenPage;
pub use frame::{page_title, Frame};
pub use home::Home;
pub use join::JoinPageView;
pub use kiosk::KioskPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use poster::PosterPage;
pub use ticket::TicketPage;
pub use tracker::TrackerPage;

/// Marks the page hydrated (`data-hydrated` on `<body>`), for people's scripts and the
/// end-to-end tests.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "");
    }
}
