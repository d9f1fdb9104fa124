//! The queue: its rules (pure, shared with the browser) and, on the server, the engine
//! that runs each rule inside one locked transaction on the queue day.

mod error;
pub mod notices;
pub mod rules;

#[cfg(feature = "ssr")]
pub mod engine;

pub use error::QueueError;
