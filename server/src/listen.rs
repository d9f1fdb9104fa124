//! The listening socket: HTTP/1.1 connections with limits on how long and how many a
//! client may hold, and a stop that lets requests in flight finish.
//!
//! - A client must send a request's headers within `header_timeout`, and an idle
//!   keep-alive connection is closed after the same time: a client that opens connections
//!   and never finishes a request holds each for seconds, not forever.
//! - One network holds at most `connections_per_network` connections at once (a trusted
//!   proxy's own connections are not capped: it speaks for many clients).
//! - On stop, the listener closes first, requests in flight get `shutdown_grace` to
//!   finish, and what is still open after that is dropped.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use qline_app::domain::net::{Cidr, Network};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Connections one network may hold at once: room for a clinic's patients behind one
/// carrier-grade NAT address, not for one client's thousand half-open requests.
pub const CONNECTIONS_PER_NETWORK: usize = 256;
/// How long requests in flight get to finish when the server stops.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long and how many connections a client may hold.
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub connections_per_network: usize,
    pub shutdown_grace: Duration,
    /// Proxies whose connections are not capped.
    pub trusted_proxies: Arc<Vec<Cidr>>,
}

/// Serves `app` on `listener` until `stop` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let open = OpenConnections::default();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: let some connections close.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let capped = !limits.trusted_proxies.iter().any(|c| c.contains(peer.ip()));
        let slot = if capped {
            match open.take(Network::of(peer.ip()), limits.connections_per_network) {
                Some(slot) => Some(slot),
                None => {
                    tracing::warn!(%peer, "too many connections from one network; closed");
                    continue;
                }
            }
        } else {
            None
        };
        let service = app
            .clone()
            .map_request(move |mut request: axum::extract::Request<_>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request.map(axum::body::Body::new)
            });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("stopping: finishing the requests in flight");
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = limits.shutdown_grace.as_secs(),
            "requests still open after the grace period were dropped"
        );
    }
}

/// How many connections each network holds right now.
#[derive(Clone, Default)]
struct OpenConnections(Arc<Mutex<HashMap<Network, usize>>>);

impl OpenConnections {
    /// A place for one more connection from `network`, or `None` when it holds `cap`.
    fn take(&self, network: Network, cap: usize) -> Option<Slot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(network.clone()).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            open: self.clone(),
            network,
        })
    }
}

/// One connection's place, given back when it closes.
struct Slot {
    open: OpenConnections,
    network: Network,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.network) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.network);
            }
        }
    }
}
