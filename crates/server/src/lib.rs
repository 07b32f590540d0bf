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
//! - [`remote`]: remote regions, each fetched by its own task and merged into reads.
//! - [`rate_limit`]: Java's registry-fetch rate limiter, off by default.
//! - [`security`]: users, roles and password checks (HTTP Basic), off unless configured.
//! - [`metrics`]: Prometheus counters, histograms and scrape-time gauges.
//! - [`watch`]: wake-ups for long polls and change streams, ended on shutdown.
//! - [`dns`]: the registry answered over DNS (UDP and TCP), off unless configured.
//! - [`drain`]: who has seen a version yet (watchers and identified pollers), for drain.
//! - [`clock`]: the time source (wall clock, or tokio's for paused-time tests).

#![warn(missing_docs)]

pub mod cache;
pub mod clock;
pub mod config;
pub mod dns;
pub mod drain;
pub mod health;
pub mod http;
pub mod listener;
pub mod metrics;
pub mod rate_limit;
pub mod remote;
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
/// `shutdown` completes, then drains and stops. With `eureka.dns.enabled`, DNS is served too,
/// on sockets bound here (an error if they cannot be).
pub async fn run(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let dns = &state.config.dns;
    let dns = match dns.enabled {
        true => Some(dns::DnsSockets::bind(dns.listen_addr(state.config.address)).await?),
        false => None,
    };
    run_with_dns(listener, dns, state, shutdown).await
}

/// [`run`] with DNS on sockets the caller bound (so it can name the address first, or pick
/// a free port), or none.
pub async fn run_with_dns(
    listener: TcpListener,
    dns: Option<dns::DnsSockets>,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = CancellationToken::new();
    let mut tasks = JoinSet::new();
    if let Some(sockets) = dns {
        dns::spawn(sockets, &state, &token, &mut tasks)?;
    }
    tasks::spawn_all(&state, &token, &mut tasks);
    replication::Replicator::spawn(&state, &token, &mut tasks);
    health::spawn(&state, &token, &mut tasks);
    remote::Remote::spawn(&state, &token, &mut tasks);

    let stop = token.clone();
    let closing = state.watch.closing().clone();
    let router = http::router(state.clone());
    listener::serve(listener, state.listener_setup(), router, async move {
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// The source of a module: its file, or every `.rs` file under its folder.
    fn source(module: &str) -> String {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let file = src.join(format!("{module}.rs"));
        if file.exists() {
            return std::fs::read_to_string(file).expect("read module");
        }
        let mut text = String::new();
        let mut folders: Vec<PathBuf> = vec![src.join(module)];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).expect("read module folder") {
                let path = entry.expect("folder entry").path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    text += &std::fs::read_to_string(&path).expect("read module file");
                }
            }
        }
        text
    }

    /// The state holds the listener's counts, the replicator and the metrics; none of them
    /// may name it (or the HTTP layer above it), and metrics sits above replication and the
    /// listener, never below (ARCHITECTURE.md, "Who depends on whom").
    #[test]
    fn dependencies_run_one_way() {
        let above_everything = ["crate::state", "SharedState", "ServerState", "crate::http"];
        let rules: [(&str, &[&str]); 3] = [
            ("listener", &["crate::metrics", "crate::replication"]),
            ("replication", &["crate::metrics", "crate::listener"]),
            ("metrics", &[]),
        ];
        for (module, also_forbidden) in rules {
            let text = source(module);
            assert!(!text.is_empty(), "no source found for {module}");
            for name in above_everything.iter().chain(also_forbidden) {
                assert!(
                    !text.contains(name),
                    "{module} names {name}: dependencies must run one way"
                );
            }
        }
    }
}
