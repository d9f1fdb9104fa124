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
