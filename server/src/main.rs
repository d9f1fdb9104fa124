//! `qline`: see `qline --help`.

use clap::Parser;
use qline_server::cli::Cli;

fn main() {
    return_large_blocks();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime");
    runtime.block_on(async {
        let cli = Cli::parse();
        qline_server::logs::init(cli.log_format);
        if let Err(e) = cli.run().await {
            eprintln!("qline: {e:#}");
            std::process::exit(1);
        }
    });
}

/// A password check takes 19 MiB (argon2). Once such a block is freed, glibc raises its
/// mapping threshold and keeps later ones in each thread's arena, so a burst of sign-ins
/// left hundreds of megabytes resident for good (398 MB peak after 40; 66 MB with this).
/// Blocks of 4 MiB and more are mapped and given back to the system directly instead.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks() {
    // SAFETY: mallopt only tunes the allocator; it runs before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks() {}
