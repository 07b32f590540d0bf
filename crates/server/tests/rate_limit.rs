//! Java's fetch rate limiter over HTTP: off by default; on, anonymous fetches beyond the
//! burst get 503 while Java's own clients (`DiscoveryIdentity-Name`) pass.

use eureka_server::Clock;
use eureka_testkit::fixtures::config;
use eureka_testkit::TestServer;
use reqwest::Client;

async fn fetch(s: &TestServer, path: &str, identity: Option<&str>) -> u16 {
    let mut req = Client::new().get(s.url(path));
    if let Some(name) = identity {
        req = req.header("DiscoveryIdentity-Name", name);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn off_by_default_every_fetch_is_served() {
    let s = TestServer::start().await;
    for _ in 0..60 {
        assert_eq!(fetch(&s, "apps", None).await, 200);
    }
    assert_eq!(s.scrape().await.sum("eureka_throttled_fetches_total", &[]), 0.0);
}

#[tokio::test]
async fn on_fetches_beyond_the_burst_get_503_unless_the_client_is_privileged() {
    let s = TestServer::start_with(
        config(&[
            ("eureka.server.rate-limiter-enabled", "true"),
            ("eureka.server.rate-limiter-burst-size", "3"),
            ("eureka.server.rate-limiter-registry-fetch-average-rate", "1"),
            ("eureka.server.rate-limiter-full-fetch-average-rate", "1"),
            ("eureka.server.rate-limiter-privileged-clients", "batch-job"),
        ]),
        Clock::System,
    )
    .await;
    let mut answers = Vec::new();
    let mut refusal = String::new();
    for _ in 0..8 {
        let r = Client::new().get(s.url("apps")).send().await.unwrap();
        answers.push(r.status().as_u16());
        if r.status() == 503 {
            refusal = r.text().await.unwrap();
        }
    }
    assert!(refusal.contains("rate limited"), "{refusal}");
    assert_eq!(&answers[..3], [200, 200, 200], "the burst: {answers:?}");
    assert!(answers[3..].iter().filter(|&&c| c == 503).count() >= 4, "then 503s: {answers:?}");
    // Java's clients and servers, and the privileged ones, are never throttled.
    for name in ["DefaultClient", "DefaultServer", "batch-job"] {
        for _ in 0..5 {
            assert_eq!(fetch(&s, "apps/delta", Some(name)).await, 200, "{name}");
        }
    }
    // Writes and other reads are not limited.
    assert_eq!(fetch(&s, "status", None).await, 200);
    assert_eq!(fetch(&s, "vips/orders", None).await, 200);
    let metrics = s.scrape().await;
    assert!(metrics.sum("eureka_throttled_fetches_total", &[("fetch", "full")]) >= 4.0);
}
