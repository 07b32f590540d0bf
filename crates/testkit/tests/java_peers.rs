//! A mixed cluster: our server and a Spring Cloud Netflix Eureka server (the Java registry
//! users run today) as peers of each other, each naming the other in its `defaultZone`.
//!
//! Proves both directions of the wire: Java's replication batches are applied by us, ours by
//! Java; Java's start-up sync copies from us; heartbeats on either side keep the lease alive on
//! both; status overrides and cancels cross over.
//!
//! Needs `scripts/prepare-real-clients` (run by `scripts/test` and CI).

use std::time::Duration;

use eureka_model::{Applications, InstanceInfo};
use eureka_server::{Clock, ServerConfig};
use eureka_testkit::fixtures::{java_json_lease, now_ms};
use eureka_testkit::real::{free_port, Ready, SpringServer};
use eureka_testkit::{fetch_apps, find_instance, instance_now, TestServer};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Method, StatusCode};
use tokio::time::{sleep, Instant};

const JSON: &str = "application/json";
/// Java batches replication for up to 500 ms; allow for a loaded CI machine.
const CONVERGE: Duration = Duration::from_secs(10);

fn http() -> Client {
    Client::builder().timeout(Duration::from_secs(5)).build().unwrap()
}

async fn apps(base: &str) -> Applications {
    fetch_apps(base).await
}

fn find(apps: &Applications, id: &str) -> Option<InstanceInfo> {
    find_instance(apps, id).cloned()
}

async fn register(base: &str, app: &str, id: &str, lease: (u32, u32)) {
    let body = java_json_lease(app, id, 8080, lease, now_ms());
    let r = http()
        .post(format!("{base}apps/{app}"))
        .header(CONTENT_TYPE, JSON)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "register {id} at {base}");
}

async fn call(base: &str, method: Method, path: &str) -> StatusCode {
    http().request(method, format!("{base}{path}")).send().await.unwrap().status()
}

/// Waits until `check` holds on both servers.
async fn on_both(
    bases: [&str; 2],
    what: &str,
    check: impl Fn(Option<InstanceInfo>) -> bool,
    id: &str,
) {
    let deadline = Instant::now() + CONVERGE;
    loop {
        let mut ok = true;
        for base in bases {
            // Live, not `GET apps`: Java's cached registry document can stay stale.
            ok &= check(instance_now(base, id).await);
        }
        if ok {
            return;
        }
        assert!(Instant::now() < deadline, "not on both servers within {CONVERGE:?}: {what}");
        sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spring_eureka_server_and_ours_replicate_to_each_other() {
    let ready = Ready::load();
    let java_port = free_port();
    let java_url = format!("http://127.0.0.1:{java_port}/eureka/");
    let listener = TestServer::listener().await;
    let config = ServerConfig {
        extra_peer_urls: vec![java_url.clone()],
        enable_self_preservation: false,
        eviction_interval: Duration::from_millis(500),
        peer_heartbeat_batch_delay: Duration::from_millis(100),
        peer_node_read_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    };
    let ours = TestServer::start_on(listener, config, Clock::System).await;
    let ours = ours.service_url();
    // Registered before Java starts: Java must copy it from us at start-up.
    register(&ours, "EARLY", "early-1", (30, 90)).await;

    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("spring-peer.log");
    let java = SpringServer::start(&ready, java_port, &[ours.clone(), java_url.clone()], log).await;
    let both = [ours.as_str(), java_url.as_str()];
    on_both(both, "start-up sync from our server", |i| i.is_some(), "early-1").await;

    // Each side's registrations reach the other.
    register(&java_url, "FROM-JAVA", "j-1", (1, 3)).await;
    register(&ours, "FROM-OURS", "o-1", (1, 3)).await;
    on_both(both, "registered on Java", |i| i.is_some(), "j-1").await;
    on_both(both, "registered on ours", |i| i.is_some(), "o-1").await;

    // Heartbeats only to the node each instance registered with. Our node evicts a 3 s lease
    // after 3 s, Java after about 2 × 3 s: 9 s of renewals proves both carry heartbeats over.
    let until = Instant::now() + Duration::from_secs(9);
    while Instant::now() < until {
        assert_eq!(call(&java_url, Method::PUT, "apps/FROM-JAVA/j-1").await, 200);
        assert_eq!(call(&ours, Method::PUT, "apps/FROM-OURS/o-1").await, 200);
        sleep(Duration::from_millis(700)).await;
    }
    for base in both {
        let apps = apps(base).await;
        assert!(find(&apps, "j-1").is_some(), "{base} lost j-1 that renewed on Java");
        assert!(find(&apps, "o-1").is_some(), "{base} lost o-1 that renewed on ours");
    }

    // Status overrides both ways.
    assert_eq!(
        call(&ours, Method::PUT, "apps/FROM-JAVA/j-1/status?value=OUT_OF_SERVICE").await,
        200
    );
    on_both(
        both,
        "override set on ours",
        |i| i.is_some_and(|i| i.status.as_str() == "OUT_OF_SERVICE"),
        "j-1",
    )
    .await;
    assert_eq!(
        call(&java_url, Method::PUT, "apps/FROM-OURS/o-1/status?value=OUT_OF_SERVICE").await,
        200
    );
    on_both(
        both,
        "override set on Java",
        |i| i.is_some_and(|i| i.status.as_str() == "OUT_OF_SERVICE"),
        "o-1",
    )
    .await;

    // Cancels both ways.
    assert_eq!(call(&java_url, Method::DELETE, "apps/FROM-OURS/o-1").await, 200);
    assert_eq!(call(&ours, Method::DELETE, "apps/FROM-JAVA/j-1").await, 200);
    on_both(both, "cancelled on Java", |i| i.is_none(), "o-1").await;
    on_both(both, "cancelled on ours", |i| i.is_none(), "j-1").await;

    java.stop().await;
}

/// Our health checks' verdicts reach a Spring Eureka server as the overrides it knows: an
/// instance our node marks DOWN is DOWN there (and stays so under heartbeats and a
/// re-registration sent to Java), and back UP with no override left once it recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_verdicts_reach_the_spring_eureka_server() {
    use eureka_testkit::checked::CheckedInstance;
    use eureka_testkit::fixtures::java_json;

    let ready = Ready::load();
    let java_port = free_port();
    let java_url = format!("http://127.0.0.1:{java_port}/eureka/");
    let listener = TestServer::listener().await;
    let config = eureka_testkit::fixtures::config(&[
        ("eureka.server.peer-urls", &java_url),
        ("eureka.server.peer-node-read-timeout-ms", "2000"),
        ("eureka.server.health-checks.enabled", "true"),
        ("eureka.server.health-checks.interval", "300ms"),
        ("eureka.server.health-checks.timeout", "200ms"),
        ("eureka.server.health-checks.failures-before-down", "2"),
        ("eureka.server.health-checks.successes-before-up", "2"),
    ]);
    let server = TestServer::start_on(listener, config, Clock::System).await;
    let ours = server.service_url();
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("spring-peer-health.log");
    let java = SpringServer::start(&ready, java_port, &[ours.clone(), java_url.clone()], log).await;
    let both = [ours.as_str(), java_url.as_str()];

    // Three checked instances (one failing stays under the suspicion fraction); the one that
    // will die registers with Java, as a client of the Java node would.
    let mut dying = CheckedInstance::start().await;
    let others = [CheckedInstance::start().await, CheckedInstance::start().await];
    let post = |base: String, id: &'static str, port: u16| async move {
        let r = http()
            .post(format!("{base}apps/CHECKED"))
            .header(CONTENT_TYPE, JSON)
            .body(java_json("CHECKED", id, port))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "register {id} at {base}");
    };
    post(java_url.clone(), "dying", dying.port).await;
    post(ours.clone(), "other-1", others[0].port).await;
    post(ours.clone(), "other-2", others[1].port).await;
    on_both(both, "registered", |i| i.is_some(), "dying").await;
    let status_is =
        |s: &'static str| move |i: Option<InstanceInfo>| i.is_some_and(|i| i.status.as_str() == s);
    on_both(both, "UP while it answers", status_is("UP"), "dying").await;

    dying.kill();
    on_both(both, "marked DOWN by our check", status_is("DOWN"), "dying").await;
    // The process keeps renewing and registers again with Java: Java holds our verdict as a
    // DOWN override, so it stays DOWN there; its echo does not become an override here.
    for _ in 0..3 {
        assert_eq!(call(&java_url, Method::PUT, "apps/CHECKED/dying?status=UP").await, 200);
        sleep(Duration::from_millis(200)).await;
    }
    post(java_url.clone(), "dying", dying.port).await;
    sleep(Duration::from_millis(1500)).await;
    on_both(both, "still DOWN after heartbeats and a re-registration", status_is("DOWN"), "dying")
        .await;
    assert!(server.state.registry.status_overrides(now_ms()).is_empty(), "no override learned");

    dying.revive().await;
    on_both(both, "UP again after the check passes", status_is("UP"), "dying").await;
    let on_java = instance_now(&java_url, "dying").await.unwrap();
    assert_eq!(on_java.overridden_status.as_str(), "UNKNOWN", "Java keeps no override");
    for id in ["other-1", "other-2"] {
        on_both(both, "the healthy ones stay UP", status_is("UP"), id).await;
    }
    java.stop().await;
}

/// `GET {base}apps?regions=...` as JSON: the instance ids it lists.
async fn ids_with_regions(base: &str, regions: &str) -> Vec<String> {
    let r = http()
        .get(format!("{base}apps?regions={regions}"))
        .header("Accept", JSON)
        .send()
        .await
        .unwrap();
    if !r.status().is_success() {
        return Vec::new();
    }
    let apps = eureka_model::json::decode_applications(&r.bytes().await.unwrap()).unwrap();
    let mut ids: Vec<String> = apps.instances().map(|i| i.id().to_string()).collect();
    ids.sort();
    ids
}

/// Remote regions across implementations: the Spring Eureka server (region "spring") follows
/// ours as remote region "ours", and ours follows it as remote region "spring", both every
/// second. Each serves the other's instances under `?regions=`, follows the other's changes,
/// and ours reconciles Spring's deltas without a full fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spring_eureka_server_and_ours_serve_each_others_region() {
    let ready = Ready::load();
    let java_port = free_port();
    let java_url = format!("http://127.0.0.1:{java_port}/eureka/");
    let listener = TestServer::listener().await;
    let ours_url = format!("http://{}/eureka/", listener.local_addr().unwrap());
    let config = eureka_testkit::fixtures::config(&[
        ("eureka.region", "ours"),
        ("eureka.server.remote-region-urls-with-name.spring", &java_url),
        ("eureka.server.remote-region-registry-fetch-interval", "1"),
    ]);
    let ours = TestServer::start_on(listener, config, Clock::System).await;
    // Before Spring starts: its first remote fetch, at start-up, must find it.
    register(&ours_url, "ORDERS", "o-ours", (30, 90)).await;

    let extra = [
        "--eureka.client.region=spring".to_string(),
        format!("--eureka.server.remote-region-urls-with-name.ours={ours_url}"),
        "--eureka.server.remote-region-registry-fetch-interval=1".to_string(),
        // Java's response cache is not invalidated by remote changes: expire it quickly.
        "--eureka.server.response-cache-auto-expiration-in-seconds=1".to_string(),
    ];
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("spring-regions.log");
    let java = SpringServer::start_with(
        &ready,
        java_port,
        std::slice::from_ref(&java_url),
        &extra,
        log.clone(),
    )
    .await;
    register(&java_url, "PAY", "j-1", (30, 90)).await;

    let both = ["j-1".to_string(), "o-ours".to_string()];
    eureka_testkit::eventually_within(CONVERGE, "Spring serves ours as region", async || {
        ids_with_regions(&java_url, "ours").await == both
    })
    .await;
    eureka_testkit::eventually_within(CONVERGE, "ours serves Spring as region", async || {
        ids_with_regions(&ours_url, "spring").await == both
    })
    .await;

    // Later changes on either side reach the other through its deltas.
    register(&ours_url, "ORDERS", "o-ours-2", (30, 90)).await;
    register(&java_url, "PAY", "j-2", (30, 90)).await;
    let all = ["j-1", "j-2", "o-ours", "o-ours-2"].map(String::from).to_vec();
    eureka_testkit::eventually_within(CONVERGE, "Spring follows ours", async || {
        ids_with_regions(&java_url, "ours").await == all
    })
    .await;
    eureka_testkit::eventually_within(CONVERGE, "ours follows Spring", async || {
        ids_with_regions(&ours_url, "spring").await == all
    })
    .await;
    // Without regions=, ours merges every region too (transparent fallback, as Java).
    assert_eq!(ids_with_regions(&ours_url, "").await, all);
    let health = ours.state.remote.links[0].health();
    assert!(health.delta_fetches >= 1, "{health:?}");
    assert_eq!(health.delta_mismatches, 0, "Spring's deltas reconcile: {health:?}");
    java.stop().await;
    // And ours' deltas reconcile with Spring's remote-region copy of us.
    let spring_log = std::fs::read_to_string(&log).unwrap();
    assert!(spring_log.contains("Getting instance registry info from the eureka server"));
    assert!(
        !spring_log.contains("Reconcile hashcodes do not match"),
        "Spring had to fetch ours in full; see {}",
        log.display()
    );
}
