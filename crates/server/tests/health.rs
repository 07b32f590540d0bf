//! Server-side health checks on one node, against real HTTP servers and TCP listeners started
//! here as the checked instances: killed (refused), hung (timeout), 503, recovering; heartbeats
//! and re-registrations while failing, an operator's override, `none`, and the suspicion switch.

use std::time::Duration;

use eureka_model::InstanceStatus;
use eureka_server::Clock;
use eureka_testkit::checked::{Behaviour, CheckedInstance};
use eureka_testkit::fixtures::{config, java_json};
use eureka_testkit::{eventually_within, TestServer};
use reqwest::Client;
use serde_json::Value;

/// Checks every 200 ms with a 150 ms timeout; DOWN after 2 failures, UP after 2 passes.
const SETTINGS: &[(&str, &str)] = &[
    ("eureka.server.health-checks.enabled", "true"),
    ("eureka.server.health-checks.interval", "200ms"),
    ("eureka.server.health-checks.timeout", "150ms"),
    ("eureka.server.health-checks.failures-before-down", "2"),
    ("eureka.server.health-checks.successes-before-up", "2"),
];
/// Generous: a loaded CI machine; the expected time is 2–3 intervals.
const WITHIN: Duration = Duration::from_secs(8);

async fn server(extra: &[(&str, &str)]) -> TestServer {
    let mut settings = SETTINGS.to_vec();
    settings.extend_from_slice(extra);
    TestServer::start_with(config(&settings), Clock::System).await
}

/// Registers `id` (app `APP`) pointing at `port`, with `metadata` added (`"k":"v"` pairs).
async fn register(server: &TestServer, id: &str, port: u16, metadata: &str) {
    let mut body = java_json("APP", id, port);
    if !metadata.is_empty() {
        body = body.replace(
            r#""metadata":{"zone":"zone-a"}"#,
            &format!(r#""metadata":{{"zone":"zone-a",{metadata}}}"#),
        );
    }
    let r = Client::new()
        .post(server.url("apps/APP"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

fn status(server: &TestServer, id: &str) -> InstanceStatus {
    server.state.registry.get_instance("APP", id).expect("registered").status
}

async fn wait_status(server: &TestServer, id: &str, want: InstanceStatus) {
    eventually_within(WITHIN, &format!("{id} {want:?}"), async || status(server, id) == want).await;
}

async fn json(server: &TestServer, path: &str) -> Value {
    let r = Client::new().get(server.url(path)).header("Accept", "application/json");
    r.send().await.unwrap().json().await.unwrap()
}

/// The console's `health` of an instance.
async fn console_health(server: &TestServer, id: &str) -> Value {
    let doc = json(server, "../api/console").await;
    doc["apps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["instances"].as_array().unwrap())
        .find(|i| i["id"] == id)
        .map(|i| i["health"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_goes_down_stays_down_under_heartbeats_and_comes_back_after_passes() {
    let server = server(&[]).await;
    let mut dead = CheckedInstance::start().await;
    let healthy = CheckedInstance::start().await;
    register(&server, "dead", dead.port, "").await;
    register(&server, "healthy", healthy.port, "").await;
    eventually_within(WITHIN, "both checked", async || {
        dead.requests() >= 2 && healthy.requests() >= 2
    })
    .await;
    assert_eq!(status(&server, "dead"), InstanceStatus::Up);

    let version = server.state.registry.version();
    let timeouts = eureka_client::Timeouts {
        connect: Duration::from_secs(2),
        request: Duration::from_secs(5),
    };
    let transport = eureka_client::EurekaHttp::new(&server.service_url(), timeouts).unwrap();
    let mut stream = transport.watch(None).await.unwrap().expect("our server streams");
    dead.kill();
    wait_status(&server, "dead", InstanceStatus::Down).await;
    // A change-stream client sees it at once: the change event carries the DOWN instance.
    loop {
        let event = tokio::time::timeout(WITHIN, stream.next()).await.unwrap().unwrap().unwrap();
        if event.event == "change" && event.data.contains(r#""instanceId":"dead""#) {
            assert!(event.data.contains(r#""status":"DOWN""#), "{}", event.data);
            break;
        }
    }
    assert!(server.state.registry.version() > version, "marking is a visible change");
    assert_eq!(status(&server, "healthy"), InstanceStatus::Up);
    // Everywhere a status is: the full document, the delta, the single lookup, the console.
    let apps = json(&server, "apps").await;
    assert!(apps.to_string().contains(r#""status":"DOWN""#), "{apps}");
    assert_eq!(apps["applications"]["apps__hashcode"], "DOWN_1_UP_1_");
    let delta = json(&server, "apps/delta").await;
    assert!(delta.to_string().contains(r#""status":"DOWN""#), "{delta}");
    let one = json(&server, "apps/APP/dead").await;
    assert_eq!(one["instance"]["status"], "DOWN");
    assert_eq!(one["instance"]["overriddenStatus"], "UNKNOWN", "no override is invented");
    let health = console_health(&server, "dead").await;
    assert_eq!(health["downReason"], "health check: connection refused", "{health}");
    assert_eq!(health["lastResult"], "fail");
    assert_eq!(health["mode"], "http");
    assert!(health["downSince"].as_u64().is_some());
    // The console's instance page: the same health state, and the mark in its history with
    // the check's reason; GET leases names the reason for eurekactl's problems.
    let detail = json(&server, "../api/console/instance?app=APP&id=dead").await;
    assert_eq!(detail["instance"]["health"]["downReason"], "health check: connection refused");
    assert_eq!(detail["instance"]["health"]["lastResult"], "fail", "{detail}");
    let marked = detail["history"].as_array().unwrap().iter().find(|e| e["kind"] == "MARKED_DOWN");
    let marked = marked.unwrap_or_else(|| panic!("no MARKED_DOWN in {detail}"));
    assert_eq!(marked["reason"], "health check: connection refused");
    let summary = json(&server, "../api/console/summary").await;
    assert!(summary["events"].to_string().contains("MARKED_DOWN"), "{summary}");
    assert_eq!(summary["system"]["healthChecks"]["markedDown"], 1);
    let leases = json(&server, "leases").await;
    let lease = leases["leases"].as_array().unwrap().iter().find(|l| l["id"] == "dead").unwrap();
    assert_eq!(lease["healthDown"]["reason"], "health check: connection refused", "{leases}");
    let lease = leases["leases"].as_array().unwrap().iter().find(|l| l["id"] == "healthy");
    assert!(lease.unwrap().get("healthDown").is_none(), "{leases}");
    let status_doc = json(&server, "status").await;
    assert_eq!(status_doc["healthChecks"]["markedDown"], 1, "{status_doc}");
    assert_eq!(status_doc["healthChecks"]["enabled"], true);

    // The process still renews and re-registers, but its check fails: it stays DOWN.
    for _ in 0..5 {
        let r = Client::new().put(server.url("apps/APP/dead?status=UP")).send().await.unwrap();
        assert_eq!(r.status(), 200, "the lease is not cancelled");
        register(&server, "dead", dead.port, "").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(status(&server, "dead"), InstanceStatus::Down);
    }

    dead.revive().await;
    wait_status(&server, "dead", InstanceStatus::Up).await;
    let health = console_health(&server, "dead").await;
    assert_eq!(health["downReason"], Value::Null);
    assert_eq!(health["lastResult"], "pass");
    let detail = json(&server, "../api/console/instance?app=APP&id=dead").await;
    assert!(detail["history"].to_string().contains("MARKED_UP"), "{detail}");
    let scrape = server.scrape().await;
    assert!(
        scrape.sum("eureka_health_checks_total", &[("mode", "http"), ("result", "fail")]) >= 2.0
    );
    assert!(
        scrape.sum("eureka_health_checks_total", &[("mode", "http"), ("result", "pass")]) >= 2.0
    );
    assert_eq!(scrape.get("eureka_health_marked_down_total", &[]), Some(1.0));
    assert_eq!(scrape.get("eureka_health_suspect", &[]), Some(0.0));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_instance_times_out_a_503_fails_and_tcp_checks_see_a_closed_port() {
    let server = server(&[]).await;
    let hung = CheckedInstance::start().await;
    let unavailable = CheckedInstance::start().await;
    let mut tcp = CheckedInstance::start().await;
    // Enough healthy ones that three failing stay under half (no suspicion).
    let fine = healthy_instances(4).await;
    register(&server, "hung", hung.port, "").await;
    register(&server, "unavailable", unavailable.port, "").await;
    register(&server, "tcp", tcp.port, r#""eureka-health-check":"tcp""#).await;
    for (i, f) in fine.iter().enumerate() {
        register(&server, &format!("fine{i}"), f.port, "").await;
    }
    hung.set(Behaviour::Hang);
    unavailable.set(Behaviour::Unavailable);
    tcp.kill();
    for id in ["hung", "unavailable", "tcp"] {
        wait_status(&server, id, InstanceStatus::Down).await;
    }
    let reason = |id| {
        let down = server.state.registry.health_of("APP", id).expect("marked");
        down.reason.to_string()
    };
    assert_eq!(reason("hung"), "health check: timed out after 150ms");
    assert_eq!(reason("unavailable"), "health check: HTTP 503");
    assert_eq!(reason("tcp"), "health check: connection refused");
    assert_eq!(console_health(&server, "tcp").await["mode"], "tcp");
    assert_eq!(tcp.requests(), 0, "a TCP check sends no request");
    assert_eq!(status(&server, "fine0"), InstanceStatus::Up);
    let scrape = server.scrape().await;
    assert!(
        scrape.sum("eureka_health_checks_total", &[("mode", "tcp"), ("result", "fail")]) >= 2.0
    );
    assert_eq!(scrape.get("eureka_health_failing_instances", &[]), Some(3.0));
    assert_eq!(scrape.get("eureka_health_checked_instances", &[]), Some(7.0));

    // Recovering: the 503 answers 200 again.
    unavailable.set(Behaviour::Healthy);
    wait_status(&server, "unavailable", InstanceStatus::Up).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_override_wins_and_none_opts_out() {
    let server = server(&[]).await;
    let mut out = CheckedInstance::start().await;
    let mut opted_out = CheckedInstance::start().await;
    let others: Vec<CheckedInstance> = healthy_instances(3).await;
    register(&server, "out", out.port, "").await;
    register(&server, "optedout", opted_out.port, r#""eureka-health-check":"none""#).await;
    for (i, o) in others.iter().enumerate() {
        register(&server, &format!("other{i}"), o.port, "").await;
    }
    let r = Client::new()
        .put(server.url("apps/APP/out/status?value=OUT_OF_SERVICE"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    out.kill();
    opted_out.kill();
    eventually_within(WITHIN, "out marked", async || {
        server.state.registry.health_of("APP", "out").is_some()
    })
    .await;
    assert_eq!(status(&server, "out"), InstanceStatus::OutOfService, "the operator wins");
    // Removing the override hands the status back to the check: DOWN.
    let r = Client::new().delete(server.url("apps/APP/out/status?value=UP")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(status(&server, "out"), InstanceStatus::Down);

    // `none`: never checked, never marked.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(opted_out.requests(), 0);
    assert_eq!(status(&server, "optedout"), InstanceStatus::Up);
    assert_eq!(console_health(&server, "optedout").await["mode"], "none");
    assert_eq!(console_health(&server, "optedout").await["checkedBy"], Value::Null);
    server.stop().await;
}

/// `n` healthy instances.
async fn healthy_instances(n: usize) -> Vec<CheckedInstance> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(CheckedInstance::start().await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_checked_instance_fails_at_once_the_node_suspects_itself_and_marks_nothing() {
    let server = server(&[]).await;
    let mut instances = healthy_instances(5).await;
    for (i, c) in instances.iter().enumerate() {
        register(&server, &format!("i{i}"), c.port, "").await;
    }
    eventually_within(WITHIN, "all checked", async || instances.iter().all(|c| c.requests() >= 1))
        .await;
    // The checker's own network goes: every instance at once.
    for c in &mut instances {
        c.kill();
    }
    eventually_within(WITHIN, "suspicion reported", async || {
        json(&server, "status").await["healthChecks"]["suspect"] == true
    })
    .await;
    // Well past failures-before-down: nothing was marked.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for i in 0..5 {
        assert_eq!(status(&server, &format!("i{i}")), InstanceStatus::Up, "i{i}");
    }
    let doc = json(&server, "status").await;
    assert_eq!(doc["healthChecks"]["failing"], 5, "{doc}");
    assert_eq!(doc["healthChecks"]["markedDown"], 0);
    assert_eq!(doc["healthChecks"]["failingFraction"], 1.0);
    // The console's summary carries it where its banner looks (system.healthChecks).
    let summary = json(&server, "../api/console/summary").await;
    assert_eq!(summary["system"]["healthChecks"]["suspect"], true, "{summary}");
    assert_eq!(server.scrape().await.get("eureka_health_suspect", &[]), Some(1.0));

    // The network comes back but one instance is really dead: suspicion ends, it goes DOWN.
    for c in instances.iter_mut().skip(1) {
        c.revive().await;
    }
    wait_status(&server, "i0", InstanceStatus::Down).await;
    assert_eq!(json(&server, "status").await["healthChecks"]["suspect"], false);
    for i in 1..5 {
        assert_eq!(status(&server, &format!("i{i}")), InstanceStatus::Up);
    }
    server.stop().await;
}
