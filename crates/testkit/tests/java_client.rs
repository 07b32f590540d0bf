//! The Rust discovery client against a Spring Cloud Netflix Eureka server, the Java registry
//! users run today: registration, renewals, re-registration after a lost lease, discovery by
//! deltas that reconcile with Java's `apps__hashcode` (with `use_watch` on: the client probes
//! `GET watch`, gets Spring's 404 and polls), status pushes, overrides and shutdown.
//! (`eurekactl` against the same server: `crates/cli/tests/cli.rs`.)
//!
//! Needs `scripts/prepare-real-clients` (run by `scripts/test` and CI).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eureka_client::stream::WatchStream;
use eureka_client::{
    DiscoveryClient, EurekaApi, EurekaHttp, Failover, InstanceInfo, InstanceStatus, Renewal,
    Timeouts, TransportError,
};
use eureka_model::Applications;
use eureka_testkit::eventually_within;
use eureka_testkit::fixtures::{fast_client as builder, loopback_instance as instance};
use eureka_testkit::real::{free_port, Ready, SpringServer};

const T: Timeouts = Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(5) };
/// Java applies writes at once (read-only cache off) but a loaded CI box is slow.
const CONVERGE: Duration = Duration::from_secs(15);

/// A transport that counts the registry fetches, to prove that deltas reconcile with the
/// Java server's hash (a mismatch would show as extra full fetches), and the change-stream
/// probes and what they found, to prove the fallback to polling.
struct Counting {
    inner: Failover,
    full: AtomicUsize,
    deltas: AtomicUsize,
    watch_probes: AtomicUsize,
    streams_opened: AtomicUsize,
}

impl EurekaApi for Counting {
    async fn register(&self, info: &InstanceInfo) -> Result<(), TransportError> {
        self.inner.register(info).await
    }
    async fn heartbeat(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        dirty: u64,
    ) -> Result<Renewal, TransportError> {
        self.inner.heartbeat(app, id, status, dirty).await
    }
    async fn cancel(&self, app: &str, id: &str) -> Result<(), TransportError> {
        self.inner.cancel(app, id).await
    }
    async fn set_status_override(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        dirty: u64,
    ) -> Result<(), TransportError> {
        self.inner.set_status_override(app, id, status, dirty).await
    }
    async fn delete_status_override(
        &self,
        app: &str,
        id: &str,
        status: Option<InstanceStatus>,
        dirty: u64,
    ) -> Result<(), TransportError> {
        self.inner.delete_status_override(app, id, status, dirty).await
    }
    async fn applications(&self) -> Result<Applications, TransportError> {
        self.full.fetch_add(1, Ordering::Relaxed);
        self.inner.applications().await
    }
    async fn delta(&self) -> Result<Applications, TransportError> {
        self.deltas.fetch_add(1, Ordering::Relaxed);
        self.inner.delta().await
    }
    async fn watch(&self, last: Option<u64>) -> Result<Option<WatchStream>, TransportError> {
        self.watch_probes.fetch_add(1, Ordering::Relaxed);
        let opened = self.inner.watch(last).await;
        if matches!(opened, Ok(Some(_))) {
            self.streams_opened.fetch_add(1, Ordering::Relaxed);
        }
        opened
    }
}

async fn on_java(url: &str, id: &str) -> Option<InstanceInfo> {
    eureka_testkit::instance_now(url, id).await
}

#[tokio::test]
async fn discovery_client_against_the_java_server() {
    let ready = Ready::load();
    let port = free_port();
    let own = format!("http://127.0.0.1:{port}/eureka/");
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("spring-client.log");
    let java = SpringServer::start(&ready, port, &[own], log).await;
    let url = java.service_url();
    let url = url.as_str();

    // Registration and renewals.
    let orders = builder(url).fetch_registry(false).register(instance("rust-orders", 8080));
    let orders = orders.start().await.unwrap();
    assert!(orders.is_registered(), "Java answered the registration with 204");
    let orders_id = "127.0.0.1:rust-orders:8080";
    let stored = on_java(url, orders_id).await.expect("registered on Java");
    assert_eq!((stored.app.as_str(), stored.status), ("RUST-ORDERS", InstanceStatus::Up));
    // Java's registry documents are cached until the next write; the single-instance read
    // shows the live lease.
    let java_api = EurekaHttp::new(url, T).unwrap();
    let lease = async || java_api.instance("RUST-ORDERS", orders_id).await.unwrap().lease_info;
    let renewed_at = lease().await.last_renewal_timestamp;
    eventually_within(CONVERGE, "Java records a renewal", async || {
        lease().await.last_renewal_timestamp > renewed_at
    })
    .await;

    // Discovery: a watcher whose fetches are counted.
    let counting = Counting {
        inner: Failover::from_urls(url, T).unwrap(),
        full: AtomicUsize::new(0),
        deltas: AtomicUsize::new(0),
        watch_probes: AtomicUsize::new(0),
        streams_opened: AtomicUsize::new(0),
    };
    // The Java server has no change stream: `GET watch` is a 404 there.
    let probe = reqwest::get(format!("{url}watch")).await.unwrap();
    assert_eq!(probe.status(), 404, "Spring answers the watch probe with 404");
    // `use_watch` is on (the default): the client asks for the stream, is told there is
    // none, and refreshes by deltas.
    let watcher = builder(url).configure(|c| assert!(c.use_watch, "the default"));
    let watcher: DiscoveryClient<Counting> = watcher.start_with(counting).await;
    let counting = watcher.api();
    assert_eq!(watcher.instances("rust-orders").len(), 1, "first (full) fetch");
    let full_before = counting.full.load(Ordering::Relaxed);

    let billing = builder(url).fetch_registry(false).register(instance("rust-billing", 9090));
    let billing = billing.start().await.unwrap();
    let billing_id = "127.0.0.1:rust-billing:9090";
    eventually_within(CONVERGE, "the watcher sees the new instance", async || {
        watcher.instances("RUST-BILLING").len() == 1
    })
    .await;
    billing.set_status(InstanceStatus::Down);
    eventually_within(CONVERGE, "the watcher sees DOWN", async || {
        let snapshot = watcher.snapshot();
        let all = snapshot.all_instances("rust-billing");
        all.len() == 1 && all[0].status == InstanceStatus::Down
    })
    .await;
    assert!(watcher.instances("rust-billing").is_empty(), "DOWN instances are not offered");
    assert!(counting.deltas.load(Ordering::Relaxed) >= 2, "refreshed by deltas");
    assert_eq!(counting.watch_probes.load(Ordering::Relaxed), 1, "asked for the stream once");
    assert_eq!(counting.streams_opened.load(Ordering::Relaxed), 0, "and fell back to polling");
    assert_eq!(
        counting.full.load(Ordering::Relaxed),
        full_before,
        "every Java delta reconciled with the client's hash: no full fetch"
    );

    // An override from the client, as Spring's service-registry endpoint sets it.
    billing.set_status(InstanceStatus::Up);
    billing.take_out_of_service().await.unwrap();
    eventually_within(CONVERGE, "Java holds the override", async || {
        on_java(url, billing_id).await.map(|i| i.status) == Some(InstanceStatus::OutOfService)
    })
    .await;
    billing.return_to_service().await.unwrap();
    eventually_within(CONVERGE, "the override is gone", async || {
        on_java(url, billing_id).await.map(|i| i.status) == Some(InstanceStatus::Up)
    })
    .await;

    // The lease is lost behind the client's back: its next heartbeat gets 404, it registers
    // again.
    java_api.cancel("RUST-ORDERS", orders_id).await.unwrap();
    eventually_within(CONVERGE, "re-registration after a 404 heartbeat", async || {
        on_java(url, orders_id).await.is_some()
    })
    .await;

    billing.shutdown().await;
    assert!(on_java(url, billing_id).await.is_none(), "shutdown cancelled the lease");
    orders.shutdown().await;
    assert!(on_java(url, orders_id).await.is_none(), "shutdown cancelled the lease");
    watcher.shutdown().await;
    java.stop().await;
}
