//! Measures how fast a change reaches `GET watch` watchers: for each write, the time from the
//! write's HTTP answer to each watcher's `change` event carrying the version the answer named
//! (`X-Eureka-Version`), per event; p50, p99 and max.
//!
//! ```sh
//! cargo run --release -p eureka-testkit --example watch_propagation -- --watchers 1000 --writes 50
//! cargo run --release -p eureka-testkit --example watch_propagation -- --cluster --watchers 1000 --writes 50
//! ```
//!
//! Servers run in this process (`TestServer`), so they share the machine's cores with the
//! watchers: the figures are an upper bound of what a separate server process would show.
//! With `--cluster`, three nodes replicate to each other; writes go to node 1 and the
//! watchers are split between nodes 2 and 3.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eureka_client::sse::SseParser;
use eureka_server::{Clock, ServerConfig};
use eureka_testkit::fixtures::java_json;
use eureka_testkit::measure::{arg, percentile};
use eureka_testkit::TestServer;
use tokio::time::Instant;

/// Arrival time of each (watcher, version).
type Arrivals = Arc<Mutex<Vec<HashMap<u64, Instant>>>>;

async fn watcher(
    http: reqwest::Client,
    url: String,
    slot: usize,
    arrivals: Arrivals,
    ready: tokio::sync::mpsc::Sender<()>,
) {
    let mut resp = http.get(url).send().await.expect("open watch");
    let mut parser = SseParser::new(1 << 26);
    let mut announced = false;
    while let Ok(Some(chunk)) = resp.chunk().await {
        let at = Instant::now();
        for e in parser.push(&chunk).expect("sse") {
            if e.event == "snapshot" && !announced {
                announced = true;
                let _ = ready.send(()).await;
            }
            if e.event == "change" {
                if let Some(v) = e.id.and_then(|v| v.parse().ok()) {
                    arrivals.lock().unwrap()[slot].insert(v, at);
                }
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let watchers = arg("--watchers", 1000);
    let writes = arg("--writes", 50);
    let cluster = std::env::args().any(|a| a == "--cluster");

    let nodes: Vec<TestServer> = if cluster {
        let listeners = [
            TestServer::listener().await,
            TestServer::listener().await,
            TestServer::listener().await,
        ];
        let urls: Vec<String> = listeners
            .iter()
            .map(|l| format!("http://{}/eureka/", l.local_addr().unwrap()))
            .collect();
        let mut nodes = Vec::new();
        for (i, l) in listeners.into_iter().enumerate() {
            let config = ServerConfig {
                extra_peer_urls: urls
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, u)| u.clone())
                    .collect(),
                ..ServerConfig::default()
            };
            nodes.push(TestServer::start_on(l, config, Clock::System).await);
        }
        nodes
    } else {
        vec![TestServer::start().await]
    };
    let watched: Vec<&TestServer> =
        if cluster { vec![&nodes[1], &nodes[2]] } else { vec![&nodes[0]] };

    let arrivals: Arrivals = Arc::new(Mutex::new(vec![HashMap::new(); watchers]));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(watchers);
    let mut tasks = tokio::task::JoinSet::new();
    for slot in 0..watchers {
        // One client per watcher: each stream is its own connection, as with real watchers.
        let http = reqwest::Client::builder().no_gzip().pool_max_idle_per_host(0).build().unwrap();
        let node = watched[slot % watched.len()];
        tasks.spawn(watcher(http, node.url("watch"), slot, arrivals.clone(), ready_tx.clone()));
    }
    for _ in 0..watchers {
        ready_rx.recv().await;
    }
    eprintln!("{watchers} watchers connected{}", if cluster { " (nodes 2 and 3)" } else { "" });

    let writer = reqwest::Client::new();
    let mut answered: Vec<(u64, Instant)> = Vec::new();
    // Versions are per node: on a peer, the cluster run keys events by write order.
    let before: Vec<u64> = watched.iter().map(|n| n.state.registry.version()).collect();
    for i in 0..writes {
        let r = writer
            .post(nodes[0].url("apps/PROPAGATION"))
            .header("Content-Type", "application/json")
            .body(java_json("PROPAGATION", &format!("p-{i}"), 8000 + i as u16))
            .send()
            .await
            .expect("write");
        let at = Instant::now();
        assert_eq!(r.status(), 204);
        let v: u64 = r.headers()["x-eureka-version"].to_str().unwrap().parse().unwrap();
        answered.push((v, at));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let arrivals = std::mem::take(&mut *arrivals.lock().unwrap());
    let mut latencies = Vec::new();
    let mut missing = 0usize;
    for (slot, seen) in arrivals.iter().enumerate() {
        let node = slot % watched.len();
        for (i, (v, at)) in answered.iter().enumerate() {
            // On one node the answer names the version; on a peer the i-th write is the
            // i-th change after the start (nothing else writes).
            let key = if cluster { before[node] + i as u64 + 1 } else { *v };
            match seen.get(&key) {
                Some(t) => latencies.push(t.saturating_duration_since(*at)),
                None => missing += 1,
            }
        }
    }
    latencies.sort();
    println!(
        "{} watchers, {} writes{}: {} events, {} missing; p50 {:?}, p99 {:?}, max {:?}",
        watchers,
        writes,
        if cluster {
            ", 3-node cluster (write on node 1, watchers on nodes 2 and 3)"
        } else {
            ", one node"
        },
        latencies.len(),
        missing,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default(),
    );
    tasks.abort_all();
    for n in nodes {
        n.stop().await;
    }
}
