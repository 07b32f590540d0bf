//! Measures single-node propagation: the time from a register's 204 to the instance being
//! listed by `GET /eureka/apps` (JSON, gzip), over a real loopback socket.
//!
//! `cargo run --release -p eureka-testkit --example propagation -- [COUNT]`

use std::time::Duration;

use eureka_testkit::fixtures::java_json;
use eureka_testkit::TestServer;
use tokio::time::Instant;

#[tokio::main]
async fn main() {
    let count: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let mut samples: Vec<Duration> = Vec::with_capacity(count);
    let mut first_read_hits = 0;
    for n in 0..count {
        let id = format!("prop-{n}");
        let r = http
            .post(server.url("apps/PROP"))
            .header("Content-Type", "application/json")
            .body(java_json("PROP", &id, 8080))
            .send()
            .await
            .expect("register");
        assert_eq!(r.status(), 204);
        let acked = Instant::now();
        let needle = format!("\"instanceId\":\"{id}\"");
        let mut reads = 0;
        loop {
            reads += 1;
            let body = http
                .get(server.url("apps"))
                .header("Accept", "application/json")
                .send()
                .await
                .expect("fetch")
                .text()
                .await
                .expect("body");
            if body.contains(&needle) {
                break;
            }
        }
        if reads == 1 {
            first_read_hits += 1;
        }
        samples.push(acked.elapsed());
    }
    samples.sort();
    let pct =
        |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1];
    println!(
        "registrations: {count}; visible on the first read after the 204: {first_read_hits}/{count}\n\
         register 204 -> listed in GET apps: p50 {:?}  p99 {:?}  max {:?} (registry growing to {count} instances)",
        pct(0.50),
        pct(0.99),
        samples[samples.len() - 1]
    );
    server.stop().await;
}
