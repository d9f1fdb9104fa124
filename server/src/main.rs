//! `qline`: see `qline --help`.

use clap::Parser;
use qline_server::cli::Cli;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    let filter =
        EnvFilter::try_from_env("QLINE_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    if let Err(e) = Cli::parse().run().await {
        eprintln!("qline: {e:#}");
        std::process::exit(1);
    }
}
