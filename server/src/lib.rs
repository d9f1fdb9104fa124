//! The `qline` server: configuration, the HTTP router (pages, health checks) and the
//! commands of the binary. Everything the product does lives in `qline_app`; this crate
//! wires it to the network and the command line.

pub mod analytics_bench;
pub mod bench;
pub mod cli;
pub mod eta_bench;
pub mod http;
pub mod trace;
pub mod webhooks;

pub use http::{router, AppState};
