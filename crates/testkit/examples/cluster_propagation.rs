//! Measures replication latency in a 3-node cluster: the time from a write's answer on one
//! node to its visibility (`GET apps/{APP}/{ID}`) on the two others, over real processes on
//! loopback.
//!
//! ```text
//! cargo build --release -p eureka-server
//! cargo run --release -p eureka-testkit --example cluster_propagation -- [--changes N] [--java K] [--concurrency C]
//! ```
//!
//! `--java K` replaces K of our nodes with Spring Cloud Eureka servers (needs
//! `scripts/prepare-real-clients`). Each instance yields three changes, each written on a
//! different node in turn: register, status override (OUT_OF_SERVICE), cancel. `C` instances
//! are in flight at once; the other nodes are polled every `--poll-us` microseconds (default
//! 1000; 0 polls back to back) until they show the change, so figures include up to one poll
//! interval (tokio's timer has millisecond resolution) plus one GET.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eureka_testkit::fixtures::java_json;
use eureka_testkit::measure::{arg, percentile};
use eureka_testkit::real::{free_port, Ready, SpringServer};
use reqwest::{Client, Method, StatusCode};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use tokio::time::{sleep, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Ours,
    Java,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Change {
    Register,
    Status,
    Cancel,
}

struct Node {
    kind: Kind,
    url: String,
}

fn server_bin() -> PathBuf {
    std::env::var_os("EUREKA_SERVER_BIN").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/eureka-server")
    })
}

async fn start_ours(port: u16, cluster: &[String]) -> Child {
    let bin = server_bin();
    assert!(bin.exists(), "{} missing: cargo build --release -p eureka-server", bin.display());
    let mut cmd = Command::new(bin);
    cmd.arg("--port").arg(port.to_string());
    for url in cluster {
        cmd.arg("--peer").arg(url);
    }
    cmd.env("RUST_LOG", "warn").kill_on_drop(true);
    let child = cmd.spawn().expect("spawn eureka-server");
    let http = Client::new();
    let ready = format!("http://127.0.0.1:{port}/health/ready");
    for _ in 0..200 {
        if http.get(&ready).send().await.is_ok_and(|r| r.status() == StatusCode::OK) {
            return child;
        }
        sleep(Duration::from_millis(50)).await;
    }
    panic!("our server on {port} did not become ready");
}

/// Whether `node` shows `change` of instance `id` yet.
async fn visible(http: &Client, node: &Node, id: &str, change: Change) -> bool {
    let r = match http
        .get(format!("{}apps/PROP/{id}", node.url))
        .header("Accept", "application/json")
        .send()
        .await
    {
        Ok(r) => r,
        Err(_) => return false,
    };
    match change {
        Change::Register => r.status() == StatusCode::OK,
        Change::Cancel => r.status() == StatusCode::NOT_FOUND,
        Change::Status => {
            r.status() == StatusCode::OK
                && r.text().await.is_ok_and(|t| t.contains(r#""status":"OUT_OF_SERVICE""#))
        }
    }
}

async fn write(http: &Client, node: &Node, id: &str, change: Change) {
    let (method, path) = match change {
        Change::Register => (Method::POST, "apps/PROP".to_string()),
        Change::Status => (Method::PUT, format!("apps/PROP/{id}/status?value=OUT_OF_SERVICE")),
        Change::Cancel => (Method::DELETE, format!("apps/PROP/{id}")),
    };
    let mut req = http.request(method, format!("{}{path}", node.url));
    if change == Change::Register {
        req = req.header("Content-Type", "application/json").body(java_json("PROP", id, 8080));
    }
    let status = req.send().await.expect("write").status();
    assert!(status.is_success(), "{change:?} {id} on {} answered {status}", node.url);
}

type Sample = (Kind, Change, Duration);

fn report(label: &str, samples: &[Sample], filter: impl Fn(&Sample) -> bool) {
    let mut d: Vec<Duration> = samples.iter().filter(|s| filter(s)).map(|s| s.2).collect();
    if d.is_empty() {
        return;
    }
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    println!(
        "{label:<34} n={:<5} p50={:>8.2} ms  p90={:>8.2} ms  p99={:>8.2} ms  max={:>8.2} ms",
        d.len(),
        ms(percentile(&d, 0.5)),
        ms(percentile(&d, 0.9)),
        ms(percentile(&d, 0.99)),
        ms(*d.last().unwrap())
    );
}

#[tokio::main]
async fn main() {
    let changes = arg("--changes", 1002);
    let java = arg("--java", 0).min(3);
    let concurrency = arg("--concurrency", 4).max(1);
    let poll = Duration::from_micros(arg("--poll-us", 1000) as u64);
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let urls: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}/eureka/")).collect();
    let kinds: Vec<Kind> =
        (0..3).map(|i| if i < 3 - java { Kind::Ours } else { Kind::Java }).collect();

    let mut children = Vec::new();
    for port in &ports[..3 - java] {
        children.push(start_ours(*port, &urls).await);
    }
    let mut springs = Vec::new();
    if java > 0 {
        let ready = Ready::load();
        for port in &ports[3 - java..] {
            let log = std::env::temp_dir().join(format!("spring-propagation-{port}.log"));
            springs.push(SpringServer::start(&ready, *port, &urls, log).await);
        }
    }
    let nodes: Arc<Vec<Node>> =
        Arc::new((0..3).map(|i| Node { kind: kinds[i], url: urls[i].clone() }).collect());
    println!(
        "nodes: {}",
        nodes.iter().map(|n| format!("{:?} {}", n.kind, n.url)).collect::<Vec<_>>().join(", ")
    );

    let instances = changes.div_ceil(3);
    let next = Arc::new(AtomicUsize::new(0));
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut lanes = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (nodes, next, samples) = (nodes.clone(), next.clone(), samples.clone());
        lanes.spawn(async move {
            let http = Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= instances {
                    break;
                }
                let id = format!("prop-{n}");
                for (step, change) in
                    [Change::Register, Change::Status, Change::Cancel].into_iter().enumerate()
                {
                    let writer = (n + step) % 3;
                    write(&http, &nodes[writer], &id, change).await;
                    let acked = Instant::now();
                    let mut pending: Vec<usize> = (0..3).filter(|i| *i != writer).collect();
                    while !pending.is_empty() {
                        let mut still = Vec::new();
                        for i in pending {
                            if !visible(&http, &nodes[i], &id, change).await {
                                still.push(i);
                            }
                        }
                        pending = still;
                        if !pending.is_empty() {
                            assert!(
                                acked.elapsed() < Duration::from_secs(60),
                                "{change:?} of {id} never propagated"
                            );
                            if poll.is_zero() {
                                tokio::task::yield_now().await;
                            } else {
                                sleep(poll).await;
                            }
                        }
                    }
                    samples.lock().await.push((nodes[writer].kind, change, acked.elapsed()));
                }
            }
        });
    }
    while let Some(r) = lanes.join_next().await {
        r.expect("lane");
    }
    let samples = samples.lock().await.clone();
    println!(
        "{} changes in {:.1} s, {concurrency} in flight; latency = write answered -> visible on both other nodes",
        samples.len(),
        started.elapsed().as_secs_f64()
    );
    report("all changes", &samples, |_| true);
    for (label, kind) in [("written on ours", Kind::Ours), ("written on Java", Kind::Java)] {
        report(label, &samples, |s| s.0 == kind);
    }
    for (label, change) in [
        ("register", Change::Register),
        ("status override", Change::Status),
        ("cancel", Change::Cancel),
    ] {
        report(label, &samples, |s| s.1 == change);
    }
    for s in springs {
        s.stop().await;
    }
    drop(children);
}
