//! A 3-node cluster of `eureka-server` processes on loopback. Every directed link between two
//! nodes goes through its own fault proxy, so a test can partition one node in both
//! directions while the other two keep talking.

use std::collections::BTreeSet;
use std::time::Duration;

use eureka_model::Applications;
use eureka_testkit::fixtures::{java_json_lease, now_ms};
use eureka_testkit::node::Mesh;
use eureka_testkit::proxy::Fault;
use eureka_testkit::{fetch_apps, find_instance};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, StatusCode};
use tokio::time::{sleep, Instant};

const JSON: &str = "application/json";
/// Longest wait for a change to show up everywhere; replication takes milliseconds.
const CONVERGE: Duration = Duration::from_secs(5);

/// How long a node may take to be ready.
const NODE_READY: Duration = Duration::from_secs(10);

/// Settings that make a cluster react in test time.
const NODE_SETTINGS: &[&str] = &[
    "eureka.server.enable-self-preservation=false",
    "eureka.server.eviction-interval-timer-in-ms=300",
    "eureka.server.peer-node-connect-timeout-ms=300",
    "eureka.server.peer-node-read-timeout-ms=1000",
    "eureka.server.peer-heartbeat-batch-delay-ms=100",
];

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

fn http() -> Client {
    Client::builder().timeout(Duration::from_secs(5)).build().unwrap()
}

impl Cluster {
    async fn start(name: &str) -> Cluster {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cluster");
        let binary = env!("CARGO_BIN_EXE_eureka-server");
        Cluster(Mesh::start(binary, 3, &dir, name, NODE_SETTINGS, NODE_READY).await)
    }

    async fn apps(&self, i: usize) -> Applications {
        fetch_apps(&self.nodes[i].base()).await
    }

    /// Polls every node until `check` holds on all of them, or fails after [`CONVERGE`].
    async fn converge(&self, what: &str, check: impl Fn(&Applications) -> bool) {
        let deadline = Instant::now() + CONVERGE;
        loop {
            let mut all = true;
            for i in 0..self.nodes.len() {
                all &= check(&self.apps(i).await);
            }
            if all {
                return;
            }
            assert!(Instant::now() < deadline, "cluster did not converge: {what}");
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until every node holds the same instances with the same statuses and hash.
    async fn converge_equal(&self) -> Applications {
        let deadline = Instant::now() + CONVERGE;
        loop {
            let mut views = Vec::new();
            for i in 0..self.nodes.len() {
                views.push(self.apps(i).await);
            }
            let summaries: Vec<_> = views.iter().map(summary).collect();
            if summaries.windows(2).all(|w| w[0] == w[1]) {
                return views.swap_remove(0);
            }
            assert!(Instant::now() < deadline, "nodes disagree: {summaries:#?}");
            sleep(Duration::from_millis(20)).await;
        }
    }

    async fn send(&self, i: usize, method: reqwest::Method, path: &str) -> StatusCode {
        let url = format!("{}{path}", self.nodes[i].base());
        http().request(method, url).send().await.unwrap().status()
    }

    async fn register(&self, i: usize, app: &str, id: &str, lease_secs: (u32, u32)) {
        let body = java_json_lease(app, id, 8080, lease_secs, now_ms());
        let status = http()
            .post(format!("{}apps/{app}", self.nodes[i].base()))
            .header(CONTENT_TYPE, JSON)
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 204, "register {app}/{id} on node {i}");
    }

    async fn stop(self) {
        self.0.stop().await;
    }
}

/// (hash, sorted (app, id, status)) — what must be equal on converged nodes.
fn summary(apps: &Applications) -> (String, BTreeSet<(String, String, String)>) {
    let set = apps
        .applications
        .iter()
        .flat_map(|a| a.instances.iter())
        .map(|i| (i.app.clone(), i.id().to_string(), i.status.as_str().to_string()))
        .collect();
    (apps.apps_hashcode.clone(), set)
}

const LONG_LEASE: (u32, u32) = (30, 90);

#[tokio::test]
async fn every_kind_of_write_on_any_node_reaches_the_other_two() {
    use reqwest::Method;
    let c = Cluster::start("writes").await;

    c.register(0, "ORDERS", "o-1", LONG_LEASE).await;
    c.converge("register on node 0", |a| find_instance(a, "o-1").is_some()).await;

    assert_eq!(c.send(1, Method::PUT, "apps/ORDERS/o-1/status?value=OUT_OF_SERVICE").await, 200);
    c.converge("status override on node 1", |a| {
        find_instance(a, "o-1").is_some_and(|i| i.status.as_str() == "OUT_OF_SERVICE")
    })
    .await;

    assert_eq!(c.send(2, Method::PUT, "apps/ORDERS/o-1/metadata?build=42").await, 200);
    c.converge("metadata on node 2", |a| {
        find_instance(a, "o-1")
            .is_some_and(|i| i.metadata.get("build").map(String::as_str) == Some("42"))
    })
    .await;

    assert_eq!(c.send(0, Method::DELETE, "apps/ORDERS/o-1/status?value=UP").await, 200);
    c.converge("override removed on node 0", |a| {
        find_instance(a, "o-1").is_some_and(|i| i.status.as_str() == "UP")
    })
    .await;

    c.register(1, "BILLING", "b-1", LONG_LEASE).await;
    assert_eq!(c.send(2, Method::DELETE, "apps/ORDERS/o-1").await, 200);
    c.converge("cancel on node 2", |a| {
        find_instance(a, "o-1").is_none() && find_instance(a, "b-1").is_some()
    })
    .await;
    let apps = c.converge_equal().await;
    assert_eq!(apps.apps_hashcode, "UP_1_");
    c.stop().await;
}

#[tokio::test]
async fn a_node_restarted_empty_syncs_everything_back() {
    let mut c = Cluster::start("restart").await;
    for (i, id) in ["r-1", "r-2", "r-3", "r-4"].iter().enumerate() {
        c.register(i % 3, "RESTART", id, LONG_LEASE).await;
    }
    c.converge("4 instances everywhere", |a| a.apps_hashcode == "UP_4_").await;

    c.nodes[2].kill().await;
    c.nodes[2].start(NODE_READY).await;
    // Ready means synced: the first read already holds everything.
    assert_eq!(summary(&c.apps(2).await), summary(&c.apps(0).await));
    assert_eq!(c.apps(2).await.apps_hashcode, "UP_4_");
    c.stop().await;
}

#[tokio::test]
async fn a_partitioned_node_converges_after_healing() {
    let c = Cluster::start("partition").await;
    c.register(0, "PART", "before", LONG_LEASE).await;
    c.converge_equal().await;

    c.isolate(2, Fault::Drop);
    c.register(0, "PART", "during-a", LONG_LEASE).await;
    c.register(1, "PART", "during-b", LONG_LEASE).await;
    c.register(2, "PART", "during-c", LONG_LEASE).await;
    assert_eq!(c.send(1, reqwest::Method::DELETE, "apps/PART/before").await, 200);
    sleep(Duration::from_millis(500)).await;
    let isolated = c.apps(2).await;
    assert!(find_instance(&isolated, "during-a").is_none(), "the partition let a write through");
    assert!(find_instance(&isolated, "before").is_some());

    c.isolate(2, Fault::Pass);
    let healed = c.converge_equal().await;
    let ids: BTreeSet<_> = summary(&healed).1.into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(ids, BTreeSet::from(["during-a".into(), "during-b".into(), "during-c".into()]));
    c.stop().await;
}

#[tokio::test]
async fn renewing_on_one_node_keeps_the_lease_on_all() {
    let c = Cluster::start("renew").await;
    // 1 s heartbeats, 2 s lease: without replicated heartbeats nodes 1 and 2 evict in ~2 s.
    c.register(0, "RENEW", "kept", (1, 2)).await;
    c.register(0, "RENEW", "dropped", (1, 2)).await;
    c.converge("registered everywhere", |a| a.apps_hashcode == "UP_2_").await;
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        assert_eq!(c.send(0, reqwest::Method::PUT, "apps/RENEW/kept").await, 200);
        sleep(Duration::from_millis(500)).await;
    }
    for i in 0..3 {
        let apps = c.apps(i).await;
        assert!(find_instance(&apps, "kept").is_some(), "node {i} lost a renewed lease");
        assert!(find_instance(&apps, "dropped").is_none(), "node {i} kept an expired lease");
    }
    c.stop().await;
}
