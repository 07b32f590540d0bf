//! A node's life on Kubernetes, with real `eureka-server` processes: readiness does not wait for
//! every peer (an ordered StatefulSet start, a peer that is down), and SIGTERM delivers what is
//! queued for peers before the process exits, well within a pod's grace period.

use std::path::PathBuf;
use std::time::Duration;

use eureka_testkit::fixtures::{java_json_lease, now_ms};
use eureka_testkit::node::NodeProcess;
use eureka_testkit::real::free_port;
use eureka_testkit::{fetch_apps, find_instance};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use tokio::time::{sleep, Instant};

const APP: &str = "LIFECYCLE";
/// Generous: the CI machine is loaded. A ready node is asserted to be far quicker below.
const NODE_READY: Duration = Duration::from_secs(30);
/// The chart's terminationGracePeriodSeconds.
const GRACE: Duration = Duration::from_secs(30);

fn http() -> Client {
    Client::builder().timeout(Duration::from_secs(3)).build().unwrap()
}

fn node(name: &str, port: u16, peers: &[u16], settings: &[&str]) -> NodeProcess {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lifecycle");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join(format!("{name}.log"));
    let _ = std::fs::remove_file(&log);
    let peers = peers.iter().map(|p| ([127, 0, 0, 1], *p).into()).collect();
    NodeProcess::new(env!("CARGO_BIN_EXE_eureka-server"), port, peers, log, settings)
}

async fn register(base: &str, id: &str) {
    let r = http()
        .post(format!("{base}apps/{APP}"))
        .header(CONTENT_TYPE, "application/json")
        .body(java_json_lease(APP, id, 8080, (30, 90), now_ms()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

async fn status(base: &str) -> Value {
    let r = http().get(format!("{base}status")).header(ACCEPT, "application/json").send().await;
    r.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn readiness_needs_one_answering_peer_not_all() {
    // A StatefulSet's first pod: its peers (the pods after it) do not exist yet.
    let (p0, p1, p2) = (free_port(), free_port(), free_port());
    let fast = ["eureka.server.peer-node-connect-timeout-ms=300"];
    let mut first = node("first", p0, &[p1, p2], &fast);
    let started = Instant::now();
    first.start(NODE_READY).await;
    let alone = started.elapsed();
    assert_eq!(status(&first.base()).await["replication"]["startupSyncFinished"], true);
    register(&first.base(), "i-1").await;

    // The second pod: one peer serves, the other (the third pod) is still down, and is listed
    // first. The node copies from the one that answers and turns ready.
    let mut second = node("second", p1, &[p2, p0], &fast);
    let started = Instant::now();
    second.start(NODE_READY).await;
    let with_one = started.elapsed();
    let st = status(&second.base()).await;
    assert_eq!(st["replication"]["instancesCopiedAtStartup"], 1, "{st}");
    assert!(find_instance(&fetch_apps(&second.base()).await, "i-1").is_some());
    // The peer that is down is reported as such, by its URL.
    let down = format!("http://127.0.0.1:{p2}/eureka/");
    assert_eq!(st["applicationStats"]["unavailable-replicas"], down.as_str(), "{st}");
    println!("ready with no peer up: {alone:?}; with 1 of 2 peers up: {with_one:?}");
    // Neither waited for the missing peer beyond one failed call each (no retry rounds).
    assert!(alone < Duration::from_secs(10) && with_one < Duration::from_secs(10));
    first.kill().await;
    second.kill().await;
}

#[tokio::test]
async fn sigterm_flushes_the_replication_queues_before_exit() {
    let (pa, pb) = (free_port(), free_port());
    let mut b = node("flush-b", pb, &[], &[]);
    b.start(NODE_READY).await;
    // Changes would wait a minute for company: only the shutdown flush can deliver them.
    let delays = [
        "eureka.server.peer-replication-batch-delay-ms=60000",
        "eureka.server.peer-heartbeat-batch-delay-ms=60000",
    ];
    let mut a = node("flush-a", pa, &[pb], &delays);
    a.start(NODE_READY).await;
    sleep(Duration::from_millis(300)).await;
    for i in 0..5 {
        register(&a.base(), &format!("last-{i}")).await;
    }
    sleep(Duration::from_millis(300)).await;
    let before = fetch_apps(&b.base()).await;
    assert!(find_instance(&before, "last-0").is_none(), "delivered before the delay");

    let signalled = Instant::now();
    a.terminate(GRACE).await;
    let exited = signalled.elapsed();
    let after = fetch_apps(&b.base()).await;
    for i in 0..5 {
        assert!(find_instance(&after, &format!("last-{i}")).is_some(), "last-{i} lost at SIGTERM");
    }
    println!("SIGTERM to exit, queue flushed: {exited:?}");
    // Idle: nothing to drain, so the flush is all it waits for; far inside the grace period.
    assert!(exited < GRACE / 3, "took {exited:?} to stop");
    b.kill().await;
}
