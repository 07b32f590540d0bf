//! Test support for the Eureka server.
//!
//! - [`TestServer`]: the real server on a real loopback socket (`127.0.0.1:0`), in-process,
//!   with a handle on its state so tests can assert on the registry directly.
//! - [`measure`]: argument and percentile helpers for the measurement examples.
//! - [`fixtures`]: registration bodies in the shapes real clients send.
//! - [`checked`]: an instance for health-check tests (200, 503, hung, killed; counts checks).
//! - [`proxy`]: a fault-injection TCP proxy (delay, drop, cut) to partition peers.
//! - [`node`]: a server as a child process, to kill, restart and partition in cluster tests.
//! - [`prom`]: reading a `/metrics` scrape to assert on its values.
//! - [`real`]: the prepared real clients and the Spring Eureka server, as processes.
//! - [`tls`]: a throwaway certificate authority and certificates made at test time.
//! - [`dns`]: a DNS server whose records a test changes, for peers found in DNS.
//!
//! The real-client compatibility suite lives in `tests/real_clients.rs` (feature
//! `real-clients`), driving the Java, Python and Node clients against a `TestServer`.

#![warn(missing_docs)]

pub mod checked;
pub mod dns;
pub mod fixtures;
pub mod measure;
pub mod node;
pub mod prom;
pub mod proxy;
pub mod real;
pub mod tls;

use std::net::SocketAddr;

use eureka_model::{json, Applications, InstanceInfo};
use eureka_server::dns::DnsSockets;
use eureka_server::{Clock, ServerConfig, ServerState, SharedState};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running server bound to an ephemeral loopback port; stopped on [`TestServer::stop`] or drop.
pub struct TestServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// The server's state (registry, config, clock).
    pub state: SharedState,
    shutdown: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Starts a server with default configuration and the wall clock.
    pub async fn start() -> Self {
        Self::start_with(ServerConfig::default(), Clock::System).await
    }

    /// Starts a server with the given configuration and clock.
    pub async fn start_with(config: ServerConfig, clock: Clock) -> Self {
        Self::start_on(Self::listener().await, config, clock).await
    }

    /// A loopback listener on an ephemeral port, for tests that must know a server's address
    /// before configuring it (e.g. peers naming each other).
    pub async fn listener() -> TcpListener {
        TcpListener::bind("127.0.0.1:0").await.expect("bind loopback")
    }

    /// Starts a server on a listener from [`TestServer::listener`]. With `eureka.dns.enabled`,
    /// DNS is served on a free loopback port too ([`TestServer::dns_addr`]).
    pub async fn start_on(listener: TcpListener, mut config: ServerConfig, clock: Clock) -> Self {
        let addr = listener.local_addr().expect("local addr");
        config.port = addr.port();
        let dns = match config.dns.enabled {
            true => {
                let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
                let sockets = DnsSockets::bind(loopback).await.expect("bind DNS on loopback");
                let bound = sockets.local_addr().expect("DNS local addr");
                config.dns.address = Some(bound.ip());
                config.dns.port = bound.port();
                Some(sockets)
            }
            false => None,
        };
        let state = ServerState::new(config, clock).expect("TLS files of the test configuration");
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task =
            tokio::spawn(eureka_server::run_with_dns(listener, dns, state.clone(), async move {
                stop.cancelled().await
            }));
        TestServer { addr, state, shutdown, task: Some(task) }
    }

    /// The service URL clients are given: `http://127.0.0.1:PORT/eureka/`, or `https://`
    /// when the server was configured with TLS.
    pub fn service_url(&self) -> String {
        format!("{}://{}/eureka/", self.scheme(), self.addr)
    }

    /// Where DNS is answered (UDP and TCP), when the configuration enabled it.
    pub fn dns_addr(&self) -> Option<SocketAddr> {
        let dns = &self.state.config.dns;
        dns.enabled.then(|| dns.listen_addr(self.state.config.address))
    }

    /// `https` when the server speaks TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.state.config.ssl.is_enabled() {
            "https"
        } else {
            "http"
        }
    }

    /// A URL under the service URL, e.g. `url("apps/ORDERS")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.service_url(), path.trim_start_matches('/'))
    }

    /// `GET /metrics`, parsed; panics on any failure, as a test wants.
    pub async fn scrape(&self) -> prom::Scrape {
        scrape(&format!("http://{}/metrics", self.addr)).await
    }

    /// Registers a Jersey-style JSON instance (`fixtures::java_json`, port 8080) through the
    /// API and asserts the 204; returns the answer for its headers.
    pub async fn register_json(&self, app: &str, id: &str) -> reqwest::Response {
        let r = reqwest::Client::new()
            .post(self.url(&format!("apps/{app}")))
            .header("Content-Type", "application/json")
            .body(fixtures::java_json(app, id, 8080))
            .send()
            .await
            .unwrap_or_else(|e| panic!("register {app}/{id}: {e}"));
        assert_eq!(r.status(), 204, "register {app}/{id}");
        r
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// `GET {service_url}apps` as JSON from any Eureka server (ours or Java), decoded; panics
/// with the URL on any failure, as a test wants.
pub async fn fetch_apps(service_url: &str) -> Applications {
    let url = format!("{service_url}apps");
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("http client");
    let resp = http.get(&url).header("Accept", "application/json").send().await;
    let resp = resp.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(resp.status(), 200, "GET {url}");
    let body = resp.bytes().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    json::decode_applications(&body).unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// The instance `id` as the server at `service_url` (ours or Java) holds it now, `None` on a
/// 404; panics with the URL on any other failure. It reads `GET instances/{id}`, which Java
/// answers from its registry: Java serves `GET apps` from a response cache that a read racing
/// an invalidation can leave stale until the next write, so waits on `GET apps` flake there.
pub async fn instance_now(service_url: &str, id: &str) -> Option<InstanceInfo> {
    let timeouts = eureka_client::Timeouts {
        connect: std::time::Duration::from_secs(2),
        request: std::time::Duration::from_secs(5),
    };
    let http = eureka_client::EurekaHttp::new(service_url, timeouts)
        .unwrap_or_else(|e| panic!("{service_url}: {e}"));
    match http.instance_by_id(id).await {
        Ok(info) => Some(info),
        Err(eureka_client::TransportError::Status { status: 404, .. }) => None,
        Err(e) => panic!("GET {service_url}instances/{id}: {e}"),
    }
}

/// The instance with this id in any application of `apps`.
pub fn find_instance<'a>(apps: &'a Applications, id: &str) -> Option<&'a InstanceInfo> {
    apps.applications.iter().flat_map(|a| a.instances.iter()).find(|i| i.id() == id).map(|i| &**i)
}

/// `GET url` of a Prometheus scrape endpoint (any server, e.g. a cluster node's
/// `http://127.0.0.1:PORT/metrics`), parsed; panics with the URL on any failure.
pub async fn scrape(url: &str) -> prom::Scrape {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("http client");
    let resp = http.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(resp.status(), 200, "GET {url}");
    let text = resp.text().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    prom::Scrape::parse(&text).unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// How long [`eventually`] waits.
pub const EVENTUALLY: std::time::Duration = std::time::Duration::from_secs(5);

/// Polls `check` every 20 ms until it holds; panics naming `what` after [`EVENTUALLY`].
pub async fn eventually(what: &str, check: impl AsyncFnMut() -> bool) {
    eventually_within(EVENTUALLY, what, check).await
}

/// [`eventually`] with its own limit, for slower peers such as the Java server.
pub async fn eventually_within(
    limit: std::time::Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> bool,
) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
