//! Fault tests with real processes: a 3-node cluster of `eureka-server` binaries whose peer
//! links each go through a fault proxy, and clients that keep renewing throughout (1 s
//! renewals, 3 s leases, failing over to the next node as Eureka clients do). A node is
//! killed with SIGKILL and restarted, partitioned, or reached over a slow link; writes happen
//! on both sides meanwhile. After the fault every node must hold exactly the expected
//! instances with the expected statuses and the same `apps__hashcode` within [`CONVERGE`];
//! convergence times are printed (`cargo test --test faults -- --nocapture`).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eureka_model::Applications;
use eureka_testkit::fixtures::{java_json_lease, now_ms};
use eureka_testkit::node::Mesh;
use eureka_testkit::proxy::Fault;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, StatusCode};
use tokio::task::JoinSet;
use tokio::time::{sleep, Instant};
use tokio_util::sync::CancellationToken;

/// How soon after a fault ends (restarted node ready, partition healed) every node must agree.
const CONVERGE: Duration = Duration::from_secs(5);
/// How long the storm over a slow link may take to reach the slow peer.
const STORM_DRAIN: Duration = Duration::from_secs(30);
/// A client's lease: renew every second, expire 3 s after the last renewal.
const LEASE: (u32, u32) = (1, 3);
/// How long a client waits for one answer before failing over.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a node may take to be ready.
const NODE_READY: Duration = Duration::from_secs(20);

/// Settings that make the cluster react in test time. Self-preservation is off so that a
/// node missing heartbeats really evicts: an instance lost for good would show.
const NODE_SETTINGS: &[&str] = &[
    "eureka.server.enable-self-preservation=false",
    "eureka.server.eviction-interval-timer-in-ms=500",
    "eureka.server.peer-node-connect-timeout-ms=300",
    // Above the slow link's round trip (two 500 ms chunks), so scenario (c) is slow, not down.
    "eureka.server.peer-node-read-timeout-ms=3000",
    "eureka.server.peer-heartbeat-batch-delay-ms=100",
];

fn http() -> Client {
    Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .connect_timeout(Duration::from_secs(1))
        .build()
        .expect("http client")
}

/// Three nodes; link (from, to) is the proxy `from` uses to reach `to`.
/// The test's cluster: a [`Mesh`] with the checks this file needs.
struct Cluster(Mesh);

impl std::ops::Deref for Cluster {
    type Target = Mesh;
    fn deref(&self) -> &Mesh {
        &self.0
    }
}

impl std::ops::DerefMut for Cluster {
    fn deref_mut(&mut self) -> &mut Mesh {
        &mut self.0
    }
}

impl Cluster {
    async fn start(name: &str) -> Cluster {
        Cluster::start_with(name, &[]).await
    }

    /// A cluster with `extra` settings after [`NODE_SETTINGS`].
    async fn start_with(name: &str, extra: &[&str]) -> Cluster {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("faults");
        let binary = env!("CARGO_BIN_EXE_eureka-server");
        let settings: Vec<&str> = NODE_SETTINGS.iter().chain(extra).copied().collect();
        Cluster(Mesh::start(binary, 3, &dir, name, &settings, NODE_READY).await)
    }

    /// Node `i`'s registry, or `None` while it does not answer.
    async fn apps(&self, i: usize) -> Option<Applications> {
        let r = http()
            .get(format!("{}apps", self.nodes[i].base()))
            .header("Accept", "application/json")
            .send()
            .await
            .ok()?;
        if r.status() != StatusCode::OK {
            return None;
        }
        eureka_model::json::decode_applications(&r.bytes().await.ok()?).ok()
    }

    /// Polls every node until each holds exactly `expected` (id → status) with equal hashes;
    /// returns how long that took, or fails after [`CONVERGE`] showing the differences.
    async fn converge(&self, what: &str, expected: &BTreeMap<String, String>) -> Duration {
        self.converge_within(what, expected, CONVERGE).await
    }

    /// [`Cluster::converge`] with its own limit, for runs whose replication is slow on purpose.
    async fn converge_within(
        &self,
        what: &str,
        expected: &BTreeMap<String, String>,
        limit: Duration,
    ) -> Duration {
        let started = Instant::now();
        loop {
            let mut views = Vec::new();
            for i in 0..self.nodes.len() {
                views.push(self.apps(i).await.map(|a| (a.apps_hashcode.clone(), statuses(&a))));
            }
            let agreed = views.iter().all(|v| v.as_ref().is_some_and(|(_, s)| s == expected))
                && views.windows(2).all(|w| w[0] == w[1]);
            if agreed {
                return started.elapsed();
            }
            if started.elapsed() > limit {
                let diffs: Vec<String> = views
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        None => format!("node {i}: no answer"),
                        Some((hash, s)) => format!("node {i}: {hash} {}", diff(expected, s)),
                    })
                    .collect();
                panic!("{what}: no convergence within {limit:?}:\n{}", diffs.join("\n"));
            }
            sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(self) {
        self.0.stop().await;
    }
}

/// id → status of every instance in `apps`.
fn statuses(apps: &Applications) -> BTreeMap<String, String> {
    apps.instances().map(|i| (i.id().to_string(), i.status.as_str().to_string())).collect()
}

/// What `got` lacks, has in excess or holds in another status than `expected`.
fn diff(expected: &BTreeMap<String, String>, got: &BTreeMap<String, String>) -> String {
    let missing: Vec<&String> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<&String> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
    let wrong: Vec<String> = expected
        .iter()
        .filter_map(|(k, s)| got.get(k).filter(|g| *g != s).map(|g| format!("{k}={g} (want {s})")))
        .collect();
    format!("missing {missing:?}, extra {extra:?}, wrong status {wrong:?}")
}

/// What every simulated client counts, for the printed summary.
#[derive(Default)]
struct ClientStats {
    renewals: AtomicU64,
    failovers: AtomicU64,
    reregistrations: AtomicU64,
}

/// Clients renewing in the background, each with its own instance; stopped (and optionally
/// cancelled) one by one, all aborted on drop.
struct Clients {
    bases: Vec<String>,
    tasks: JoinSet<()>,
    stops: HashMap<String, (CancellationToken, Arc<AtomicUsize>)>,
    stats: Arc<ClientStats>,
}

impl Clients {
    fn new(bases: Vec<String>) -> Clients {
        Clients { bases, tasks: JoinSet::new(), stops: HashMap::new(), stats: Arc::default() }
    }

    /// Registers `id` in `app` on node `home` (failing over to the next nodes until one
    /// accepts), then renews it every second until stopped. A renewal answered 404 registers
    /// again; a connection error or timeout moves the client to the next node, as a client
    /// configured with every node's URL does. Returns once the first registration was accepted.
    async fn add(&mut self, app: &str, id: &str, home: usize) {
        let stop = CancellationToken::new();
        let current = Arc::new(AtomicUsize::new(home));
        let (tx, registered) = tokio::sync::oneshot::channel();
        let bases = self.bases.clone();
        let (app, id) = (app.to_string(), id.to_string());
        let stats = self.stats.clone();
        self.stops.insert(id.clone(), (stop.clone(), current.clone()));
        self.tasks.spawn(async move {
            let http = http();
            let dirty = now_ms();
            let n = bases.len();
            let register = async |at: usize| -> bool {
                let body = java_json_lease(&app, &id, 8080, LEASE, dirty);
                let sent = http
                    .post(format!("{}apps/{app}", bases[at]))
                    .header(CONTENT_TYPE, "application/json")
                    .body(body)
                    .send()
                    .await;
                sent.is_ok_and(|r| r.status() == StatusCode::NO_CONTENT)
            };
            loop {
                let at = current.load(Ordering::Relaxed);
                if register(at).await {
                    break;
                }
                current.store((at + 1) % n, Ordering::Relaxed);
                sleep(Duration::from_millis(100)).await;
            }
            let _ = tx.send(());
            let mut tick = tokio::time::interval(Duration::from_secs(u64::from(LEASE.0)));
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => {}
                }
                // One try on the current node, then one on the next if it failed.
                for _ in 0..2 {
                    let at = current.load(Ordering::Relaxed);
                    let url = format!(
                        "{}apps/{app}/{id}?status=UP&lastDirtyTimestamp={dirty}",
                        bases[at]
                    );
                    match http.put(url).send().await.map(|r| r.status()) {
                        Ok(StatusCode::OK) => {
                            stats.renewals.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        Ok(StatusCode::NOT_FOUND) => {
                            if register(at).await {
                                stats.reregistrations.fetch_add(1, Ordering::Relaxed);
                            }
                            break;
                        }
                        _ => {
                            stats.failovers.fetch_add(1, Ordering::Relaxed);
                            current.store((at + 1) % n, Ordering::Relaxed);
                        }
                    }
                }
            }
        });
        registered.await.expect("client registered");
    }

    /// Stops `id`'s renewals and cancels its lease on the node it last used.
    async fn cancel(&mut self, app: &str, id: &str) {
        let (stop, current) = self.stops.remove(id).expect("known client");
        stop.cancel();
        let base = &self.bases[current.load(Ordering::Relaxed)];
        let r = http().delete(format!("{base}apps/{app}/{id}")).send().await.expect("cancel");
        assert_eq!(r.status(), StatusCode::OK, "cancel {id}");
    }

    fn summary(&self) -> String {
        format!(
            "{} renewals, {} failovers, {} re-registrations",
            self.stats.renewals.load(Ordering::Relaxed),
            self.stats.failovers.load(Ordering::Relaxed),
            self.stats.reregistrations.load(Ordering::Relaxed)
        )
    }

    async fn stop(mut self) {
        for (stop, _) in self.stops.values() {
            stop.cancel();
        }
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Sets an OUT_OF_SERVICE override through the node at `base`.
async fn take_out_of_service(base: &str, app: &str, id: &str) {
    let url = format!("{base}apps/{app}/{id}/status?value=OUT_OF_SERVICE");
    let r = http().put(url).send().await.expect("status override");
    assert_eq!(r.status(), StatusCode::OK, "override {id}");
}

/// Starts 3 clients per node in app `app`, returns the expected registry (all UP).
async fn three_per_node(clients: &mut Clients, app: &str) -> BTreeMap<String, String> {
    let mut expected = BTreeMap::new();
    for home in 0..3 {
        for k in 0..3 {
            let id = format!("{}-n{home}-{k}", app.to_lowercase());
            clients.add(app, &id, home).await;
            expected.insert(id, "UP".to_string());
        }
    }
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_and_restarted_converges_and_loses_no_renewing_instance() {
    let mut c = Cluster::start("sigkill").await;
    let mut clients = Clients::new(c.bases());
    let mut expected = three_per_node(&mut clients, "KILL").await;
    let first = c.converge("initial registrations", &expected).await;

    c.nodes[2].kill().await;
    // Writes on the surviving nodes while node 2 is down; its own clients fail over.
    clients.add("KILL", "kill-during-0", 0).await;
    clients.add("KILL", "kill-during-1", 1).await;
    expected.insert("kill-during-0".into(), "UP".into());
    expected.insert("kill-during-1".into(), "UP".into());
    clients.cancel("KILL", "kill-n1-0").await;
    expected.remove("kill-n1-0");
    take_out_of_service(&c.nodes[0].base(), "KILL", "kill-n0-1").await;
    expected.insert("kill-n0-1".into(), "OUT_OF_SERVICE".into());
    // Longer than a lease, so the down node's clients live only through their fail-over.
    sleep(Duration::from_secs(4)).await;

    let restarting = Instant::now();
    c.nodes[2].start(NODE_READY).await;
    let startup = restarting.elapsed();
    let converged = c.converge("after restart", &expected).await;
    println!(
        "sigkill: initial convergence {first:?}; restarted node ready in {startup:?}, \
         all nodes equal {converged:?} after; clients: {}",
        clients.summary()
    );
    assert!(converged <= CONVERGE);
    // Still whole a couple of lease periods later: nothing was evicted behind our back.
    sleep(Duration::from_secs(3)).await;
    c.converge("3 s after restart", &expected).await;
    clients.stop().await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_node_converges_within_seconds_of_healing() {
    // Black hole: the peers' calls time out.
    partition_and_heal("partition", Fault::Drop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_peer_links_reset_converges_within_seconds_of_healing() {
    // Every connection reset: the peers' calls fail at once, as with a crashed peer.
    partition_and_heal("reset", Fault::Cut).await;
}

/// Cuts node 2 off from its peers with `fault` for 6 s (two lease durations) while writes
/// happen on both sides, then heals and measures the convergence.
async fn partition_and_heal(name: &str, fault: Fault) {
    let c = Cluster::start(name).await;
    let mut clients = Clients::new(c.bases());
    let mut expected = three_per_node(&mut clients, "PART").await;
    c.converge("initial registrations", &expected).await;

    c.isolate(2, fault);
    let cut = Instant::now();
    // Writes on both sides. Clients keep renewing on their own node, so each side evicts the
    // other side's instances once their leases (3 s) run out: the heal must bring them back.
    clients.add("PART", "part-during-0", 0).await;
    clients.add("PART", "part-during-2", 2).await;
    expected.insert("part-during-0".into(), "UP".into());
    expected.insert("part-during-2".into(), "UP".into());
    clients.cancel("PART", "part-n1-0").await;
    expected.remove("part-n1-0");
    take_out_of_service(&c.nodes[2].base(), "PART", "part-n2-1").await;
    expected.insert("part-n2-1".into(), "OUT_OF_SERVICE".into());
    sleep(Duration::from_secs(6).saturating_sub(cut.elapsed())).await;
    let isolated = statuses(&c.apps(2).await.expect("node 2 answers its clients"));
    assert!(!isolated.contains_key("part-during-0"), "the partition let a write through");
    assert!(!isolated.contains_key("part-n0-0"), "node 2 kept a lease nobody renewed on its side");

    c.isolate(2, Fault::Pass);
    let healed = Instant::now();
    let converged = c.converge("after healing", &expected).await;
    println!(
        "{name} ({fault:?}): held {:?}, all nodes equal {converged:?} after healing; clients: {}",
        healed - cut,
        clients.summary()
    );
    assert!(converged <= CONVERGE);
    sleep(Duration::from_secs(3)).await;
    c.converge("3 s after healing", &expected).await;
    clients.stop().await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_peer_link_neither_slows_client_writes_nor_stops_convergence() {
    const DELAY: Duration = Duration::from_millis(500);
    let c = Cluster::start("slow").await;
    let mut clients = Clients::new(c.bases());
    let mut expected = three_per_node(&mut clients, "SLOW").await;
    c.converge("initial registrations", &expected).await;

    // Everything node 0 and node 1 send to node 2 waits 500 ms per chunk, each way.
    c.links[&(0, 2)].set(Fault::Delay(DELAY));
    c.links[&(1, 2)].set(Fault::Delay(DELAY));
    let mut latencies = Vec::new();
    for k in 0..10 {
        let id = format!("slow-write-{k}");
        let body = java_json_lease("SLOW", &id, 8080, (30, 90), now_ms());
        let sent = Instant::now();
        let r = http()
            .post(format!("{}apps/SLOW", c.nodes[0].base()))
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("register");
        latencies.push(sent.elapsed());
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        expected.insert(id, "UP".into());
    }
    let converged = c.converge("over the slow link", &expected).await;
    latencies.sort();
    let (median, max) = (latencies[latencies.len() / 2], latencies[latencies.len() - 1]);
    println!(
        "slow link ({DELAY:?} per chunk): client writes median {median:?}, max {max:?}; \
         all nodes equal ({} instances) {converged:?} after the last write; clients: {}",
        expected.len(),
        clients.summary()
    );
    // A write that waited for the slow peer would take its round trip, twice the delay; the
    // bounds leave room for a loaded machine's hiccups (2–5 ms is usual, 50 ms under load).
    assert!(median < DELAY / 5, "client writes took {median:?} (median): they wait for the peer");
    assert!(max < DELAY * 2, "a client write took {max:?}: it waited for the slow peer");
    assert!(converged <= CONVERGE);
    // Heartbeats keep crossing the slow link: nothing expires on node 2.
    sleep(Duration::from_secs(4)).await;
    c.converge("4 s on the slow link", &expected).await;
    clients.stop().await;
    c.stop().await;
}

/// Regression (issue 18): an overloaded soak lost registrations because each peer's queue
/// dropped its oldest task past 10,000 and every task older than 30 s, leaving the repair to
/// the next heartbeat. Here the pool bound is 20 and the age limit 200 ms, 600 registrations
/// arrive at once on node 0 while its link to node 2 is slow, and nothing renews them (so no
/// heartbeat can repair a loss within the test): every node must still end with all 600.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_storm_over_a_slow_link_loses_no_write_whatever_the_pool_bound() {
    const STORM: usize = 600;
    let c = Cluster::start_with(
        "storm",
        &[
            "eureka.server.max-elements-in-peer-replication-pool=20",
            "eureka.server.max-time-for-replication=200",
            "eureka.server.peer-replication-batch-size=50",
        ],
    )
    .await;
    c.links[&(0, 2)].set(Fault::Delay(Duration::from_millis(100)));
    let base = c.nodes[0].base();
    let mut writers = JoinSet::new();
    for w in 0..4 {
        let base = base.clone();
        writers.spawn(async move {
            let http = http();
            for k in (w..STORM).step_by(4) {
                let id = format!("storm-{k}");
                let body = java_json_lease("STORM", &id, 8080, (30, 90), now_ms());
                let r = http
                    .post(format!("{base}apps/STORM"))
                    .header(CONTENT_TYPE, "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("register");
                assert_eq!(r.status(), StatusCode::NO_CONTENT, "register {id}");
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    let expected: BTreeMap<String, String> =
        (0..STORM).map(|k| (format!("storm-{k}"), "UP".to_string())).collect();
    // 12 batches at 100 ms each at best; a loaded CI machine makes the drain slower, which
    // is allowed: only a lost write fails the test.
    let converged =
        c.converge_within("after the storm over a slow link", &expected, STORM_DRAIN).await;
    println!("{STORM} registrations on every node {converged:?} after the last write");
    c.stop().await;
}
