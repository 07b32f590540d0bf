//! Health checks in a cluster of three server processes: every instance is checked by exactly
//! one node (the checked servers count who asks), a killed checking node's instances are taken
//! over within two intervals, and every node converges on the same statuses and hash.

use std::collections::BTreeSet;
use std::time::Duration;

use eureka_model::Applications;
use eureka_testkit::checked::CheckedInstance;
use eureka_testkit::fixtures::java_json;
use eureka_testkit::node::Mesh;
use eureka_testkit::{eventually_within, find_instance};
use reqwest::Client;
use tokio::time::{sleep, Instant};

const INTERVAL: Duration = Duration::from_millis(300);
const NODE_SETTINGS: &[&str] = &[
    "eureka.server.health-checks.enabled=true",
    "eureka.server.health-checks.interval=300ms",
    "eureka.server.health-checks.timeout=200ms",
    "eureka.server.health-checks.failures-before-down=2",
    "eureka.server.health-checks.successes-before-up=2",
    "eureka.server.peer-node-connect-timeout-ms=200",
    "eureka.server.peer-node-read-timeout-ms=1000",
];
const INSTANCES: usize = 9;
/// A loaded CI machine; convergence itself takes a few intervals.
const WITHIN: Duration = Duration::from_secs(10);

fn http() -> Client {
    Client::builder().timeout(Duration::from_secs(3)).build().unwrap()
}

async fn apps(base: &str) -> Option<Applications> {
    let r = http().get(format!("{base}apps")).header("Accept", "application/json").send().await;
    let body = r.ok()?.bytes().await.ok()?;
    eureka_model::json::decode_applications(&body).ok()
}

/// (hash, status of `id`) on every base that answers.
async fn views(bases: &[String], id: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for base in bases {
        if let Some(a) = apps(base).await {
            let status = find_instance(&a, id).map(|i| i.status.as_str().to_string());
            out.push((a.apps_hashcode.clone(), status));
        }
    }
    out
}

/// Waits until every node in `bases` serves `id` as `want`, with equal hashes.
async fn converge(bases: &[String], id: &str, want: &str) {
    eventually_within(WITHIN, &format!("{id} {want} with equal hashes on {bases:?}"), async || {
        let v = views(bases, id).await;
        v.len() == bases.len() && v.iter().all(|(h, s)| s.as_deref() == Some(want) && *h == v[0].0)
    })
    .await;
}

/// The node (index) whose name ends in its port, e.g. `http://host:PORT/eureka/`.
fn node_of(mesh: &Mesh, name: &str) -> usize {
    mesh.nodes
        .iter()
        .position(|n| name.contains(&format!(":{}/", n.port)))
        .unwrap_or_else(|| panic!("no node named {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_instance_is_checked_by_one_node_a_dead_checker_is_replaced_and_nodes_converge() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("health");
    let binary = env!("CARGO_BIN_EXE_eureka-server");
    let mut mesh =
        Mesh::start(binary, 3, &dir, "health", NODE_SETTINGS, Duration::from_secs(20)).await;
    let bases = mesh.bases();
    let mut instances = Vec::new();
    for i in 0..INSTANCES {
        let c = CheckedInstance::start().await;
        let r = http()
            .post(format!("{}apps/APP", bases[i % 3]))
            .header("Content-Type", "application/json")
            .body(java_json("APP", &format!("i{i}"), c.port))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        instances.push(c);
    }
    // Every node knows the others and checks its share; then count who asks, for 6 intervals.
    eventually_within(WITHIN, "every instance checked", async || {
        instances.iter().all(|c| c.requests() >= 2)
    })
    .await;
    sleep(INTERVAL * 2).await;
    for c in &instances {
        c.reset();
    }
    sleep(INTERVAL * 6).await;
    let mut owners = BTreeSet::new();
    for (i, c) in instances.iter().enumerate() {
        let checkers = c.checkers();
        assert_eq!(checkers.len(), 1, "i{i} was checked by {checkers:?}");
        assert!((3..=9).contains(&c.requests()), "i{i}: {} checks in 6 intervals", c.requests());
        owners.extend(checkers);
    }
    assert!(owners.len() >= 2, "the checks are shared out: {owners:?}");

    // A dead instance is DOWN on every node, with one hash.
    instances[0].kill();
    converge(&bases, "i0", "DOWN").await;

    // Kill the node that checks i1: another takes its instances over within two intervals.
    let owner_name = instances[1].checkers().into_iter().next().unwrap();
    let dead = node_of(&mesh, &owner_name);
    let orphans: Vec<usize> = (0..INSTANCES)
        .filter(|i| instances[*i].checkers().contains(&owner_name) && *i != 0)
        .collect();
    mesh.nodes[dead].kill().await;
    let killed_at = Instant::now();
    for i in &orphans {
        instances[*i].reset();
    }
    let mut taken_over = Vec::new();
    let deadline = killed_at + WITHIN;
    for i in &orphans {
        while instances[*i].checkers().iter().all(|c| *c == owner_name) {
            assert!(Instant::now() < deadline, "i{i} not taken over");
            sleep(Duration::from_millis(10)).await;
        }
        taken_over.push(killed_at.elapsed());
    }
    let slowest = taken_over.iter().max().copied().unwrap_or_default();
    println!(
        "taken over {} instances; slowest after {slowest:?} (interval {INTERVAL:?})",
        orphans.len()
    );
    // Two intervals, plus room for a machine busy with other builds.
    assert!(slowest <= INTERVAL * 2 + Duration::from_millis(700), "took {slowest:?}");

    let alive: Vec<String> = (0..3).filter(|i| *i != dead).map(|i| mesh.nodes[i].base()).collect();
    // A dead instance whose checker died recovers: the new checker lifts the mark everywhere.
    instances[0].revive().await;
    converge(&alive, "i0", "UP").await;
    // And one checked by a survivor fails and is marked on both.
    instances[2].kill();
    converge(&alive, "i2", "DOWN").await;
    instances[2].revive().await;
    converge(&alive, "i2", "UP").await;
    mesh.stop().await;
}
