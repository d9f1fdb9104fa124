//! The `qline` server: configuration, the HTTP router (pages, health checks) and the
//! commands of the binary. Everything the product does lives in `qline_app`; this crate
//! wires it to the network and the command line.

pub mod analytics_bench;
pub mod bench;
pub mod cli;
pub mod eta_bench;
pub mod guard;
pub mod http;
pub mod listen;
pub mod logs;
pub mod metrics;
pub mod poll_ratio;
pub mod scenario;
pub mod soak;
pub mod trace;
pub mod tracker_bench;
pub mod webhooks;

pub use http::{router, AppState};
