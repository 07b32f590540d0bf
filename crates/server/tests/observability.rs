//! Observability end to end: scraped counters equal a scripted workload exactly, readiness
//! waits for the start-up sync, request ids, and the Grafana dashboard only plots series the
//! server exports.

use std::collections::BTreeSet;
use std::time::Duration;

use eureka_server::{Clock, ServerConfig};
use eureka_testkit::fixtures::{java_json_lease, now_ms};
use eureka_testkit::prom::Scrape;
use eureka_testkit::proxy::{Fault, FaultProxy};
use eureka_testkit::{eventually, fetch_apps, find_instance, TestServer};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

const JSON: &str = "application/json";
const REPLICATION: &str = "x-netflix-discovery-replication";
const LONG_LEASE: (u32, u32) = (30, 90);

fn http() -> Client {
    Client::builder().timeout(Duration::from_secs(5)).build().unwrap()
}

async fn register(s: &TestServer, app: &str, id: &str, lease: (u32, u32)) -> StatusCode {
    let body = java_json_lease(app, id, 8080, lease, now_ms());
    let req = http().post(s.url(&format!("apps/{app}"))).header(CONTENT_TYPE, JSON).body(body);
    req.send().await.unwrap().status()
}

async fn call(s: &TestServer, method: Method, path: &str) -> StatusCode {
    http().request(method, s.url(path)).send().await.unwrap().status()
}

/// A node replicating to `peer`. A generous read timeout: a batch retried after a slow answer
/// would be applied twice and spoil exact counts.
fn peer_config(peer: &str) -> ServerConfig {
    ServerConfig {
        extra_peer_urls: vec![peer.to_string()],
        peer_node_connect_timeout: Duration::from_millis(200),
        peer_node_read_timeout: Duration::from_secs(5),
        ..ServerConfig::default()
    }
}

/// Asserts a sample's value, showing the whole family when it differs.
fn expect(scrape: &Scrape, name: &str, labels: &[(&str, &str)], want: f64) {
    let got = scrape.get(name, labels);
    let family: Vec<_> = scrape.samples.iter().filter(|s| s.name == name).collect();
    assert_eq!(got, Some(want), "{name}{labels:?}; family: {family:#?}");
}

#[tokio::test]
async fn scraped_counters_equal_the_scripted_workload() {
    // A: the node under test; it evicts a 1 s lease within ~1.2 s. B replicates to A.
    let config = ServerConfig {
        enable_self_preservation: false,
        eviction_interval: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let a = TestServer::start_with(config, Clock::System).await;
    let b = TestServer::start_with(peer_config(&a.service_url()), Clock::System).await;

    // 4 client registrations, one of them with a 1 s lease that will be evicted.
    for (app, id) in [("ORDERS", "o1"), ("ORDERS", "o2"), ("BILLING", "b1")] {
        assert_eq!(register(&a, app, id, LONG_LEASE).await, 204);
    }
    assert_eq!(register(&a, "EVICTME", "e1", (1, 1)).await, 204);
    // 5 client renewals, 1 replicated renewal (a peer's single call), 1 renew of nothing.
    for id in ["o1", "o1", "o1", "o2", "o2"] {
        assert_eq!(call(&a, Method::PUT, &format!("apps/ORDERS/{id}")).await, 200);
    }
    let replicated =
        http().put(a.url("apps/ORDERS/o1")).header(REPLICATION, "true").send().await.unwrap();
    assert_eq!(replicated.status(), 200);
    assert_eq!(call(&a, Method::PUT, "apps/ORDERS/ghost").await, 404);
    // A body that is no instance, a status change and a bad status value.
    let bad = http().post(a.url("apps/ORDERS")).header(CONTENT_TYPE, JSON).body("{\"nope\":1}");
    assert_eq!(bad.send().await.unwrap().status(), 400);
    assert_eq!(call(&a, Method::PUT, "apps/ORDERS/o2/status?value=OUT_OF_SERVICE").await, 200);
    assert_eq!(call(&a, Method::PUT, "apps/ORDERS/o2/status?value=SLEEPY").await, 400);
    // A cancel, and a cancel of what is already gone.
    assert_eq!(call(&a, Method::DELETE, "apps/BILLING/b1").await, 200);
    assert_eq!(call(&a, Method::DELETE, "apps/BILLING/b1").await, 404);
    // A write replicated from peer B.
    assert_eq!(register(&b, "REMOTE", "r1", LONG_LEASE).await, 204);
    eventually("B's registration replicated to A", async || {
        find_instance(&fetch_apps(&a.service_url()).await, "r1").is_some()
    })
    .await;
    // The eviction.
    eventually("e1 evicted", async || {
        find_instance(&fetch_apps(&a.service_url()).await, "e1").is_none()
    })
    .await;

    let m = a.scrape().await;
    for (name, client, peer) in [
        ("eureka_registrations_total", 4.0, 1.0),
        ("eureka_renewals_total", 5.0, 1.0),
        ("eureka_cancels_total", 1.0, 0.0),
        ("eureka_status_updates_total", 1.0, 0.0),
        ("eureka_status_override_deletes_total", 0.0, 0.0),
        ("eureka_metadata_updates_total", 0.0, 0.0),
    ] {
        expect(&m, name, &[("origin", "client")], client);
        expect(&m, name, &[("origin", "peer")], peer);
    }
    expect(&m, "eureka_evictions_total", &[], 1.0);
    let rejected = "eureka_rejected_requests_total";
    for (operation, reason) in [
        ("renew", "not_found"),
        ("register", "bad_request"),
        ("status_update", "bad_request"),
        ("cancel", "not_found"),
    ] {
        expect(
            &m,
            rejected,
            &[("operation", operation), ("reason", reason), ("origin", "client")],
            1.0,
        );
    }
    assert_eq!(m.sum(rejected, &[]), 4.0, "nothing else was rejected");

    // State gauges: o1 UP, o2 OUT_OF_SERVICE, r1 UP; BILLING cancelled, EVICTME evicted.
    expect(&m, "eureka_instances", &[("app", "ORDERS"), ("status", "UP")], 1.0);
    expect(&m, "eureka_instances", &[("app", "ORDERS"), ("status", "OUT_OF_SERVICE")], 1.0);
    expect(&m, "eureka_instances", &[("app", "REMOTE"), ("status", "UP")], 1.0);
    assert_eq!(m.sum("eureka_instances", &[]), 3.0);
    expect(&m, "eureka_applications", &[], 2.0);
    expect(&m, "eureka_status_overrides", &[], 1.0);
    expect(&m, "eureka_ready", &[], 1.0);
    expect(&m, "eureka_registry_version", &[], a.state.registry.version() as f64);

    // Request durations are labelled by route template, never by the raw path.
    let count = "eureka_http_request_duration_seconds_count";
    let renew = [("method", "PUT"), ("route", "/eureka/apps/{app}/{id}")];
    expect(&m, count, &[renew[0], renew[1], ("status", "200")], 6.0);
    expect(&m, count, &[renew[0], renew[1], ("status", "404")], 1.0);
    expect(
        &m,
        count,
        &[("method", "POST"), ("route", "/eureka/apps/{app}"), ("status", "204")],
        4.0,
    );
    let routes: BTreeSet<&str> =
        m.samples.iter().filter(|s| s.name == count).map(|s| s.labels["route"].as_str()).collect();
    for route in &routes {
        assert!(
            route.starts_with('/')
                && !["ORDERS", "o1", "ghost", "BILLING"].iter().any(|raw| route.contains(raw)),
            "route label {route} is not a template"
        );
    }
    assert!(routes.contains("/eureka/peerreplication/batch"), "{routes:?}");

    // B's side of the replicated write: one item in one batch, nothing left queued.
    let a_url = a.service_url();
    let peer = [("peer", a_url.as_str())];
    let mb = b.scrape().await;
    expect(&mb, "eureka_registrations_total", &[("origin", "client")], 1.0);
    expect(&mb, "eureka_peer_items_sent_total", &peer, 1.0);
    expect(&mb, "eureka_peer_batches_sent_total", &peer, 1.0);
    expect(&mb, "eureka_peer_queue_depth", &peer, 0.0);
    expect(&mb, "eureka_peer_replication_lag_seconds", &peer, 0.0);
    expect(&mb, "eureka_peer_reachable", &peer, 1.0);
    expect(&mb, "eureka_peer_batch_failures_total", &peer, 0.0);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn self_preservation_gauges_follow_the_renew_meter() {
    let s = TestServer::start().await;
    // Four leases renewing every 30 s promise 8 renewals a minute; the threshold is 85 %: 6.
    for id in ["a", "b", "c", "d"] {
        assert_eq!(register(&s, "ORDERS", id, LONG_LEASE).await, 204);
    }
    for _ in 0..2 {
        assert_eq!(call(&s, Method::PUT, "apps/ORDERS/a").await, 200);
    }
    s.state.registry.tick_renew_meter();
    let m = s.scrape().await;
    expect(&m, "eureka_renews_last_minute", &[], 2.0);
    expect(&m, "eureka_expected_renews_per_minute", &[], 8.0);
    expect(&m, "eureka_renew_threshold", &[], 6.0);
    expect(&m, "eureka_lease_expiration_enabled", &[], 0.0);
    expect(&m, "eureka_self_preservation_active", &[], 1.0);
    for _ in 0..7 {
        assert_eq!(call(&s, Method::PUT, "apps/ORDERS/b").await, 200);
    }
    s.state.registry.tick_renew_meter();
    let m = s.scrape().await;
    expect(&m, "eureka_renews_last_minute", &[], 7.0);
    expect(&m, "eureka_self_preservation_active", &[], 0.0);
    expect(&m, "eureka_lease_expiration_enabled", &[], 1.0);
    expect(&m, "eureka_renewals_total", &[("origin", "client")], 9.0);
}

async fn ready(s: &TestServer) -> (StatusCode, Value) {
    let r = http().get(format!("http://{}/health/ready", s.addr)).send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn readiness_waits_until_a_starting_node_has_synced_from_its_peer() {
    // B holds the cluster's registry; A starts next to it while the link is cut.
    let b = TestServer::start().await;
    for id in ["o1", "o2"] {
        assert_eq!(register(&b, "ORDERS", id, LONG_LEASE).await, 204);
    }
    let proxy = FaultProxy::start(b.addr).await.unwrap();
    proxy.set(Fault::Cut);
    let config = ServerConfig {
        registry_sync_retries: 1000,
        registry_sync_retry_wait: Duration::from_millis(50),
        ..peer_config(&format!("http://{}/eureka/", proxy.addr()))
    };
    let a = TestServer::start_with(config, Clock::System).await;
    let peer_url = format!("http://{}/eureka/", proxy.addr());
    let peer = [("peer", peer_url.as_str())];

    eventually("a failed sync attempt", async || {
        a.scrape().await.get("eureka_peer_batch_failures_total", &peer).is_some_and(|n| n >= 2.0)
    })
    .await;
    let (status, body) = ready(&a).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["startupSync"], "DOWN", "{body}");
    assert_eq!(body["checks"]["listener"], "UP", "{body}");
    let alive = http().get(format!("http://{}/health", a.addr)).send().await.unwrap();
    assert_eq!(alive.status(), 200, "liveness does not depend on peers");
    let m = a.scrape().await;
    expect(&m, "eureka_ready", &[], 0.0);
    expect(&m, "eureka_peer_reachable", &peer, 0.0);

    proxy.set(Fault::Pass);
    eventually("ready after the sync", async || ready(&a).await.0 == 200).await;
    let (_, body) = ready(&a).await;
    assert_eq!(body["checks"]["startupSync"], "UP", "{body}");
    assert_eq!(body["instancesCopiedAtStartup"], 2, "{body}");
    let m = a.scrape().await;
    expect(&m, "eureka_ready", &[], 1.0);
    expect(&m, "eureka_startup_sync_instances", &[], 2.0);
    expect(&m, "eureka_instances", &[("app", "ORDERS"), ("status", "UP")], 2.0);
    // Copies made by the sync are not registrations anyone sent.
    expect(&m, "eureka_registrations_total", &[("origin", "peer")], 0.0);
    a.stop().await;
    proxy.stop().await;
}

#[tokio::test]
async fn request_ids_are_taken_when_sane_and_made_otherwise() {
    let s = TestServer::start().await;
    let id_of = |r: &reqwest::Response| {
        r.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_string())
    };
    let given = http().get(s.url("apps")).header("X-Request-Id", "trace-42").send().await.unwrap();
    assert_eq!(id_of(&given).as_deref(), Some("trace-42"));
    let first = id_of(&http().get(s.url("apps")).send().await.unwrap()).unwrap();
    let second = id_of(&http().get(format!("http://{}/health", s.addr)).send().await.unwrap());
    assert!(!first.is_empty());
    assert_ne!(Some(first), second, "generated ids differ");
    let long = "x".repeat(500);
    let replaced = http().get(s.url("apps")).header("X-Request-Id", &long).send().await.unwrap();
    assert!(id_of(&replaced).is_some_and(|id| id != long && id.len() <= 128));
    let spaced = http().get(s.url("apps")).header("X-Request-Id", "a b").send().await.unwrap();
    assert!(id_of(&spaced).is_some_and(|id| id != "a b"));
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_the_request_id() {
    let port = eureka_testkit::real::free_port();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("json-logs.log");
    let log = std::fs::File::create(&path).unwrap();
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_eureka-server"))
        .args(["--port", &port.to_string(), "--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    eventually("server up", async || {
        http().get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    let body = java_json_lease("ORDERS", "o1", 8080, LONG_LEASE, now_ms());
    let r = http()
        .post(format!("{base}/eureka/apps/ORDERS"))
        .header(CONTENT_TYPE, JSON)
        .header("X-Request-Id", "json-log-test-1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    server.kill().await.unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let registered = lines
        .iter()
        .find(|l| l["fields"]["message"] == "registered")
        .unwrap_or_else(|| panic!("no registration logged: {text}"));
    assert_eq!(registered["span"]["request_id"], "json-log-test-1", "{registered}");
    assert_eq!(registered["fields"]["instance_id"], "o1", "{registered}");
}

/// `eureka_*` and `process_*` names in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
        let tail = &rest[start..];
        let end =
            tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        let word = &tail[..end];
        let preceded_by_ident = rest[..start].ends_with(|c: char| c.is_ascii_alphanumeric());
        if !preceded_by_ident && (word.starts_with("eureka_") || word.starts_with("process_")) {
            names.push(word.to_string());
        }
        rest = &tail[end..];
    }
    names
}

#[tokio::test]
async fn the_grafana_dashboard_plots_only_series_the_server_exports() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dashboards/grafana-eureka-rs.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(
        variables.iter().any(|v| v["type"] == "datasource" && v["query"] == "prometheus"),
        "a Prometheus data-source variable"
    );
    let panels = dashboard["panels"].as_array().unwrap();
    let mut referenced = BTreeSet::new();
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{}", panel["title"]);
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{} has no query", panel["title"]);
        for t in targets {
            let names = metric_names(t["expr"].as_str().unwrap());
            assert!(!names.is_empty(), "{}: {}", panel["title"], t["expr"]);
            referenced.extend(names);
        }
    }

    // A node with a peer (so per-peer series exist) that has answered requests and refused one.
    let s = TestServer::start_with(peer_config("http://127.0.0.1:9/eureka/"), Clock::System).await;
    assert_eq!(register(&s, "ORDERS", "o1", LONG_LEASE).await, 204);
    assert_eq!(call(&s, Method::PUT, "apps/ORDERS/nope").await, 404);
    let m = s.scrape().await;
    let exported = m.names();
    let missing: Vec<&String> =
        referenced.iter().filter(|n| !exported.contains(n.as_str())).collect();
    assert!(missing.is_empty(), "the dashboard plots series nobody exports: {missing:?}");
    for must in ["eureka_instances", "eureka_renew_threshold", "eureka_peer_queue_depth"] {
        assert!(referenced.contains(must), "the dashboard should plot {must}");
    }
}

#[test]
fn metric_names_are_found_in_promql() {
    assert_eq!(
        metric_names(
            "histogram_quantile(0.99, sum by (le) (rate(eureka_http_request_duration_seconds_bucket{instance=~\"$instance\"}[$__rate_interval])))"
        ),
        vec!["eureka_http_request_duration_seconds_bucket"]
    );
    assert_eq!(metric_names("x_eureka_y + process_open_fds"), vec!["process_open_fds"]);
}

/// Issue 19, item 10: Prometheus text 0.0.4 unless the scraper prefers OpenMetrics.
#[tokio::test]
async fn metrics_answer_prometheus_text_unless_openmetrics_is_asked_for() {
    let s = TestServer::start().await;
    s.register_json("ORDERS", "o1").await;
    let url = format!("http://{}/metrics", s.addr);
    let http = reqwest::Client::new();
    for (accept, expected) in [
        (None, "text/plain; version=0.0.4; charset=utf-8"),
        (Some("text/plain"), "text/plain; version=0.0.4; charset=utf-8"),
        (
            Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
    ] {
        let mut req = http.get(&url);
        if let Some(accept) = accept {
            req = req.header("accept", accept);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.headers()["content-type"], expected, "{accept:?}");
        let text = r.text().await.unwrap();
        let openmetrics = expected.starts_with("application/openmetrics");
        assert_eq!(text.ends_with("# EOF\n"), openmetrics, "{accept:?}");
        assert_eq!(text.contains("# UNIT "), openmetrics, "{accept:?}");
        let counter_type = if openmetrics {
            "# TYPE eureka_registrations counter"
        } else {
            "# TYPE eureka_registrations_total counter"
        };
        assert!(text.contains(counter_type), "{accept:?}");
        let scrape = eureka_testkit::prom::Scrape::parse(&text).unwrap();
        assert_eq!(scrape.get("eureka_registrations_total", &[("origin", "client")]), Some(1.0));
    }
}
