//! A Netflix-Eureka-compatible registry server: the HTTP adapter over the registry domain.
//!
//! Life of the server: [`config`] is loaded and validated once, [`ServerState::new`] reads
//! the TLS files it names, [`run`] serves a bound listener, spawns the background [`tasks`]
//! and, when the shutdown future completes, stops accepting, drains in-flight requests and
//! stops every task.
//!
//! - [`config`]: the typed configuration (Spring-style YAML/properties, env, flags).
//! - [`state`]: the state shared by handlers and tasks.
//! - [`listener`]: the accept loop: connection limit, TLS handshake, HTTP/1.1 limits, drain.
//! - [`tls`]: certificates and keys for the listener and for calls to peers.
//! - [`http`]: the route table, handlers, negotiation and errors.
//! - [`cache`]: encoded responses, once per registry version.
//! - [`tasks`]: eviction, renew-rate and delta-retention jobs.
//! - [`replication`]: peers, batched replication of writes, start-up sync.
//! - [`health`]: server-side health checks of instances (HTTP/TCP), shared out over the cluster.
//! - [`security`]: users, roles and password checks (HTTP Basic), off unless configured.
//! - [`metrics`]: Prometheus counters, histograms and scrape-time gauges.
//! - [`watch`]: wake-ups for long polls and change streams, ended on shutdown.
//! - [`drain`]: who has seen a version yet (watchers and identified pollers), for drain.
//! - [`clock`]: the time source (wall clock, or tokio's for paused-time tests).

#![warn(missing_docs)]

pub mod cache;
pub mod clock;
pub mod config;
pub mod drain;
pub mod health;
pub mod http;
pub mod listener;
pub mod metrics;
pub mod replication;
pub mod security;
pub mod state;
pub mod tasks;
pub mod tls;
pub mod watch;

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use clock::Clock;
pub use config::ServerConfig;
pub use state::{ServerState, SharedState};

/// How long background tasks get to stop after the listener has drained.
pub const TASK_GRACE: Duration = Duration::from_secs(5);

/// Serves the registry on `listener` (over TLS when the state's configuration says so) until
/// `shutdown` completes, then drains and stops.
pub async fn run(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = CancellationToken::new();
    let mut tasks = JoinSet::new();
    tasks::spawn_all(&state, &token, &mut tasks);
    replication::Replicator::spawn(&state, &token, &mut tasks);
    health::spawn(&state, &token, &mut tasks);

    let stop = token.clone();
    let closing = state.watch.closing().clone();
    let router = http::router(state.clone());
    listener::serve(listener, state, router, async move {
        tokio::select! {
            _ = shutdown => {},
            _ = stop.cancelled() => {},
        }
        // Long polls and change streams never finish on their own: end them, or the
        // graceful drain would wait for them forever.
        closing.cancel();
    })
    .await;

    token.cancel();
    let drained =
        tokio::time::timeout(TASK_GRACE, async { while tasks.join_next().await.is_some() {} })
            .await;
    if drained.is_err() {
        tracing::warn!("background tasks did not stop within {TASK_GRACE:?}; aborting them");
        tasks.abort_all();
    }
    Ok(())
}
