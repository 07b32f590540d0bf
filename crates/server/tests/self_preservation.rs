//! Self-preservation with 20 clients renewing over HTTP, half of which go silent at once (a
//! simulated network loss) and come back later. Runs under paused time, so the renew meter's
//! real minute costs nothing.
//!
//! The rules we implement (`Registry::evict`, `Registry::lease_expiration_enabled`):
//! - The renew meter closes a 60 s bucket every minute; at each close the expected renewals are
//!   recomputed from the registered leases' own `renewalIntervalInSecs`, and the threshold is
//!   `floor(expected × renewal-percent-threshold)`.
//! - Eviction runs only when the last complete bucket's renewals exceed the threshold (never
//!   in a node's first minute), and then removes at most `size − floor(size × threshold)`
//!   expired leases per run (15 % at 0.85), picked at random.
//!
//! So self-preservation protects the leases that outlive the meter's reaction, which takes up
//! to about 80 s after a drop of half the renewals (the drop must fill enough of a closed
//! minute); shorter leases are evicted at the capped rate until the meter sees the drop, and
//! their clients re-register on the 404 of their next renewal.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eureka_registry::registry::EventKind;
use eureka_server::{Clock, ServerConfig};
use eureka_testkit::fixtures::{java_json_lease, now_ms};
use eureka_testkit::TestServer;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, StatusCode};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::sleep;

const CLIENTS: usize = 20;
const SILENT: usize = 10;

fn config() -> ServerConfig {
    ServerConfig {
        enable_self_preservation: true,
        renewal_percent_threshold: 0.85,
        eviction_interval: Duration::from_secs(1),
        ..Default::default()
    }
}

/// 20 instances renewing every second; the first [`SILENT`] stop while `silent` is true.
struct Fleet {
    silent: watch::Sender<bool>,
    reregistrations: Arc<AtomicU64>,
    tasks: JoinSet<()>,
}

impl Fleet {
    /// Registers every instance (lease: 1 s renewals, `duration` s) and starts its renewals. A
    /// renewal answered 404 registers again, as a Eureka client does.
    async fn start(s: &TestServer, duration: u32) -> Fleet {
        let (silent, watch) = watch::channel(false);
        let reregistrations = Arc::new(AtomicU64::new(0));
        let mut tasks = JoinSet::new();
        for k in 0..CLIENTS {
            let id = id(k);
            let base = s.service_url();
            let body = java_json_lease("FLEET", &id, 8080, (1, duration), now_ms());
            let http = Client::new();
            let register = async move |http: &Client| {
                let r = http
                    .post(format!("{base}apps/FLEET"))
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("register");
                assert_eq!(r.status(), StatusCode::NO_CONTENT, "register");
            };
            register(&http).await;
            let renew = s.url(&format!("apps/FLEET/{id}?status=UP"));
            let (watch, again) = (watch.clone(), reregistrations.clone());
            tasks.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    if k < SILENT && *watch.borrow() {
                        continue;
                    }
                    let r = http.put(&renew).send().await.expect("renew");
                    if r.status() == StatusCode::NOT_FOUND {
                        register(&http).await;
                        again.fetch_add(1, Ordering::Relaxed);
                    } else {
                        assert_eq!(r.status(), StatusCode::OK, "renew {renew}");
                    }
                }
            });
        }
        Fleet { silent, reregistrations, tasks }
    }

    fn go_silent(&self, silent: bool) {
        self.silent.send_replace(silent);
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

fn id(k: usize) -> String {
    format!("fleet-{k:02}")
}

/// id → status of every registered instance.
fn registry(s: &TestServer) -> BTreeMap<String, String> {
    s.state
        .registry
        .snapshot()
        .apps
        .instances()
        .map(|i| (i.id().to_string(), i.status.as_str().to_string()))
        .collect()
}

fn all_up() -> BTreeMap<String, String> {
    (0..CLIENTS).map(|k| (id(k), "UP".to_string())).collect()
}

async fn status_says_self_preservation(s: &TestServer) -> bool {
    let doc: serde_json::Value = Client::new()
        .get(s.url("status"))
        .header("Accept", "application/json")
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("status json");
    doc["registry"]["selfPreservationActive"].as_bool().expect("selfPreservationActive")
}

/// Waits until `at` seconds after the server started (paused time: instant).
async fn until(start: tokio::time::Instant, at: u64) {
    sleep((start + Duration::from_secs(at)).saturating_duration_since(tokio::time::Instant::now()))
        .await;
}

#[tokio::test(start_paused = true)]
async fn half_the_clients_going_silent_engages_self_preservation_and_nothing_is_evicted() {
    let start = tokio::time::Instant::now();
    let s = TestServer::start_with(config(), Clock::tokio()).await;
    // 90 s leases (Eureka's default): they outlive the meter's reaction to the drop.
    let fleet = Fleet::start(&s, 90).await;
    until(start, 65).await;
    let stats = s.state.registry.stats();
    assert!(
        stats.lease_expiration_enabled,
        "one full minute of renewals enables eviction: {stats:?}"
    );
    assert_eq!(stats.expected_renews_per_min, 1200.0);
    assert_eq!(stats.renew_threshold, 1020);

    fleet.go_silent(true);
    // The minute closing at 120 s holds 5 s of the silent half: ≈ 650 renewals < 1020.
    until(start, 121).await;
    let stats = s.state.registry.stats();
    assert!(!stats.lease_expiration_enabled, "the meter saw the drop: {stats:?}");
    assert!(status_says_self_preservation(&s).await);
    // Well past the silent leases' expiry (≈ 155 s): kept, not evicted.
    until(start, 200).await;
    assert_eq!(registry(&s), all_up(), "self-preservation evicted a lease");
    let now = s.state.clock.now_ms();
    let expired = s.state.registry.lease_timings().iter().filter(|t| t.expires_at < now).count();
    assert_eq!(expired, SILENT, "the silent half's leases have expired and are kept");
    let m = s.scrape().await;
    assert_eq!(m.get("eureka_self_preservation_active", &[]), Some(1.0));
    assert_eq!(m.get("eureka_evictions_total", &[]), Some(0.0));

    // The network comes back: the same leases renew (nothing to re-register).
    fleet.go_silent(false);
    // The minute closing at 300 s is whole again.
    until(start, 305).await;
    assert!(s.state.registry.stats().lease_expiration_enabled);
    assert!(!status_says_self_preservation(&s).await);
    assert_eq!(registry(&s), all_up());
    assert_eq!(fleet.reregistrations.load(Ordering::Relaxed), 0);
    let m = s.scrape().await;
    assert_eq!(m.get("eureka_self_preservation_active", &[]), Some(0.0));
    assert_eq!(m.get("eureka_evictions_total", &[]), Some(0.0));
    drop(fleet);
    s.stop().await;
}

#[tokio::test(start_paused = true)]
async fn leases_shorter_than_the_meter_minute_are_evicted_at_the_capped_rate_then_come_back() {
    let start = tokio::time::Instant::now();
    let s = TestServer::start_with(config(), Clock::tokio()).await;
    // 3 s leases expire long before the minute that would show the drop closes.
    let fleet = Fleet::start(&s, 3).await;
    until(start, 65).await;
    assert!(s.state.registry.stats().lease_expiration_enabled);

    fleet.go_silent(true);
    until(start, 80).await;
    let evicted: Vec<_> = s
        .state
        .registry
        .recent_cancelled()
        .into_iter()
        .filter(|e| e.kind == EventKind::Evicted)
        .collect();
    let silent: Vec<String> = (0..SILENT).map(id).collect();
    assert_eq!(evicted.len(), SILENT, "every silent lease is evicted: {evicted:?}");
    assert!(evicted.iter().all(|e| silent.contains(&e.id)), "a renewing lease was evicted");
    // Per run (events share the run's timestamp), at most size − floor(size × 0.85).
    let mut runs: BTreeMap<u64, usize> = BTreeMap::new();
    for e in &evicted {
        *runs.entry(e.at).or_default() += 1;
    }
    let mut size = CLIENTS;
    for (at, count) in &runs {
        let cap = size - (size as f64 * 0.85).floor() as usize;
        assert!(*count <= cap, "run at {at} evicted {count} of {size}, over the cap {cap}");
        size -= count;
    }
    assert!(runs.len() >= 4, "10 of 20 need at least 4 capped runs: {runs:?}");
    // At 120 s the expectation follows the 10 remaining leases (600/min, threshold 510) and
    // they renew ≈ 650: no self-preservation, eviction stays on.
    until(start, 121).await;
    assert!(s.state.registry.stats().lease_expiration_enabled);

    // The network comes back: each evicted client's next renewal gets 404 and re-registers.
    fleet.go_silent(false);
    until(start, 124).await;
    assert_eq!(registry(&s), all_up(), "the registry is whole again");
    assert_eq!(fleet.reregistrations.load(Ordering::Relaxed), SILENT as u64);
    let m = s.scrape().await;
    assert_eq!(m.get("eureka_evictions_total", &[]), Some(SILENT as f64));
    drop(fleet);
    s.stop().await;
}
