//! The eureka-rs Spring Boot starter (`clients/spring-boot-starter`) in real Spring Boot
//! applications (`harness/real-clients/spring-push`): Spring Boot 3.5 / Spring Cloud 2025.0
//! with both Eureka transports (RestTemplate, the default there, and RestClient) and Spring
//! Boot 4.0 / Spring Cloud 2025.1 (RestClient), all with the same starter jar.
//!
//! The applications start while the registry is unreachable. Against our server a status
//! change, a drain and a cancel on SIGTERM reach the other applications' `DiscoveryClient` and
//! load balancer through the stream in well under the 30 s + 35 s of polling, no full fetch is forced by the pushed changes, and the stream
//! comes back after the server restarts. Against the Spring Cloud Eureka server (no stream)
//! the same applications keep working by polling.
//!
//! Needs `scripts/prepare-real-clients` (run by `scripts/test` and CI).

use std::path::PathBuf;
use std::time::Duration;

use eureka_server::state::RequestKind;
use eureka_server::{Clock, ServerConfig};
use eureka_testkit::real::{epoch_ms, free_port, line_ms, Ready, SpringApp, SpringServer};
use eureka_testkit::{eventually_within, TestServer};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// The bound on push latency asserted: far above the milliseconds measured on an idle
/// machine, far below the poll interval of these applications (plus the load balancer cache).
const PUSH_BOUND_MS: u64 = 2000;
/// The Eureka client's fetch interval in these tests: long enough that a change seen within
/// [`PUSH_BOUND_MS`] came through the stream, short enough to see deltas reconcile.
const FETCH_INTERVAL_S: u64 = 4;
/// Spring Boot applications start in 5–20 s on a loaded 2-core machine.
const START: Duration = Duration::from_secs(120);

/// One test at a time: both start several JVMs, and latency bounds want the cores.
static SERIAL: Mutex<()> = Mutex::const_new(());

fn log(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/spring-push-logs");
    std::fs::create_dir_all(&dir).expect("log dir");
    dir.join(format!("{name}.log"))
}

/// The settings every application gets: a fast lease and replication, the fetch interval.
fn client_args(service_url: &str, fetch_interval_s: u64) -> Vec<String> {
    [
        format!("--eureka.client.service-url.defaultZone={service_url}"),
        format!("--eureka.client.registry-fetch-interval-seconds={fetch_interval_s}"),
        "--eureka.instance.lease-renewal-interval-in-seconds=1".into(),
        "--eureka.instance.lease-expiration-duration-in-seconds=5".into(),
        "--eureka.client.initial-instance-info-replication-interval-seconds=1".into(),
        "--eureka.client.instance-info-replication-interval-seconds=1".into(),
        "--eureka.client.push.initial-backoff=200ms".into(),
        "--eureka.client.push.max-backoff=1s".into(),
    ]
    .into()
}

fn with(mut args: Vec<String>, more: &[&str]) -> Vec<String> {
    args.extend(more.iter().map(|s| s.to_string()));
    args
}

/// Waits until `app`'s DiscoveryClient (`DC`) or load balancer (`LB`) view of the target is
/// `ids` (`-` for none) in a line after `from`; returns the line's time.
async fn view(app: &SpringApp, from: usize, which: &str, ids: &str, limit: Duration) -> u64 {
    let prefix = format!("VIEW {which} ");
    let line = app
        .wait_for(from, &format!("{which} view {ids}"), limit, |l| {
            l.starts_with(&prefix) && l.rsplit(' ').next() == Some(ids)
        })
        .await;
    line_ms(&line)
}

/// `app`'s latest DiscoveryClient (`DC`) or load balancer (`LB`) view of the target, if any.
fn latest_view(app: &SpringApp, which: &str) -> Option<String> {
    let prefix = format!("VIEW {which} ");
    let lines = app.lines();
    let line = lines.iter().rev().find(|l| l.starts_with(&prefix))?;
    line.rsplit(' ').next().map(str::to_string)
}

/// Asserts that `change` (made at `t0`) reached every watcher's DiscoveryClient and load
/// balancer as `ids` within [`PUSH_BOUND_MS`], through a pushed event; prints the latencies.
async fn reached(watchers: &[&SpringApp], marks: &[usize], t0: u64, ids: &str, change: &str) {
    for (app, &from) in watchers.iter().zip(marks) {
        let limit = Duration::from_millis(PUSH_BOUND_MS * 5);
        let dc = view(app, from, "DC", ids, limit).await;
        let lb = view(app, from, "LB", ids, limit).await;
        let (dc_ms, lb_ms) = (dc.saturating_sub(t0), lb.saturating_sub(t0));
        println!("{change}: {} DiscoveryClient {dc_ms} ms, load balancer {lb_ms} ms", app.id);
        assert!(
            dc_ms <= PUSH_BOUND_MS && lb_ms <= PUSH_BOUND_MS,
            "{change} reached {} after {dc_ms} ms (DiscoveryClient) / {lb_ms} ms (load balancer); \
             bound {PUSH_BOUND_MS} ms",
            app.id
        );
        // Through the stream: the starter announced a BETA change around when the view moved
        // (its event is published after the copy changed, so the watch loop may see the copy
        // first; polling publishes no such event).
        let pushed = app.lines().iter().skip(from).any(|l| {
            l.starts_with("PUSH ")
                && l.split(' ').nth(2).is_some_and(|a| a.contains("BETA"))
                && line_ms(l) <= dc + 1000
        });
        assert!(pushed, "{}: {change} was not pushed before its view changed", app.id);
    }
}

/// Sets `instance` (beta, `b`) OUT_OF_SERVICE and asserts the change reached every watcher
/// (see [`reached`]), then removes the override and waits until their load balancers list
/// `b` again.
async fn out_of_service_and_back(watchers: &[&SpringApp], instance: &str, b: &str, change: &str) {
    let marks: Vec<usize> = watchers.iter().map(|a| a.mark()).collect();
    let t0 = epoch_ms();
    let (status, _) =
        http(reqwest::Method::PUT, &format!("{instance}/status?value=OUT_OF_SERVICE")).await;
    assert_eq!(status, 200);
    reached(watchers, &marks, t0, "-", change).await;
    let marks: Vec<usize> = watchers.iter().map(|a| a.mark()).collect();
    let (status, _) = http(reqwest::Method::DELETE, &format!("{instance}/status")).await;
    assert_eq!(status, 200);
    for (app, from) in watchers.iter().zip(marks) {
        view(app, from, "LB", b, START).await;
    }
}

async fn http(method: reqwest::Method, url: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .request(method, url)
        .header("Accept", "application/json")
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_changes_reach_discovery_and_the_load_balancer_on_boot_3_and_4() {
    let _serial = SERIAL.lock().await;
    let ready = Ready::load();
    // The applications start before the registry is there (nothing listens on its port yet):
    // start-up must not depend on it.
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
    let url = format!("http://{addr}/eureka/");
    let common = client_args(&url, FETCH_INTERVAL_S);

    let (bp, a3p, a4p) = (free_port(), free_port(), free_port());
    // beta: Boot 3.5 on the Eureka client's RestClient transport; alpha3: Boot 3.5 on its
    // default RestTemplate transport; alpha4: Boot 4.0 (RestClient, the only one there).
    let mut beta = SpringApp::start(
        &ready,
        "SPRING_PUSH3_CMD",
        "beta",
        bp,
        &with(common.clone(), &["--eureka.client.restclient.enabled=true"]),
        log("push-beta"),
    );
    let a3 = SpringApp::start(
        &ready,
        "SPRING_PUSH3_CMD",
        "alpha3",
        a3p,
        &with(common.clone(), &["--harness.watch=beta"]),
        log("push-alpha3"),
    );
    let a4 = SpringApp::start(
        &ready,
        "SPRING_PUSH4_CMD",
        "alpha4",
        a4p,
        &with(common.clone(), &["--harness.watch=beta"]),
        log("push-alpha4"),
    );
    let started = tokio::time::Instant::now();
    for app in [&beta, &a3, &a4] {
        app.wait_for(0, "READY", START, |l| l.starts_with("READY ")).await;
    }
    println!(
        "3 applications up in {:.1} s with the registry unreachable",
        started.elapsed().as_secs_f64()
    );
    let listener = TcpListener::bind(addr).await.expect("bind the registry's port");
    let mut server = TestServer::start_on(listener, ServerConfig::default(), Clock::System).await;
    assert_eq!(server.service_url(), url);
    let b = beta.id.clone();
    let watchers = [&a3, &a4];
    for app in watchers {
        view(app, 0, "DC", &b, START).await;
        view(app, 0, "LB", &b, START).await;
    }
    // Everyone's copy holds applications now, so each fetch from here is a delta; let one
    // round of them pass before counting.
    tokio::time::sleep(Duration::from_secs(FETCH_INTERVAL_S + 1)).await;
    let full_before = server.state.requests.get(RequestKind::FullFetch);
    let deltas_before = server.state.requests.get(RequestKind::DeltaFetch);
    let instance = server.url(&format!("apps/BETA/{b}"));

    // 1. A status change (an override, as an operator or a deploy tool sets it).
    out_of_service_and_back(&watchers, &instance, &b, "status OUT_OF_SERVICE").await;

    // 2. A drain: answered once every watcher (the three applications) was sent the change.
    let marks = [a3.mark(), a4.mark()];
    let t0 = epoch_ms();
    let (status, body) = http(reqwest::Method::POST, &format!("{instance}/drain?wait=10")).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("drain answer");
    assert_eq!(answer["complete"], true, "{body}");
    assert!(answer["watchers"]["seen"].as_u64() >= Some(3), "three applications watch: {body}");
    println!("drain answered in {} ms: {body}", epoch_ms() - t0);
    reached(&watchers, &marks, t0, "-", "drain").await;
    let marks = [a3.mark(), a4.mark()];
    let (status, _) = http(reqwest::Method::DELETE, &format!("{instance}/status")).await;
    assert_eq!(status, 200);
    for (app, from) in watchers.iter().zip(marks) {
        view(app, from, "LB", &b, START).await;
    }

    // The pushed changes left every copy equal to the server's: two more rounds of deltas
    // reconcile with apps__hashcode and none falls back to a full fetch.
    tokio::time::sleep(Duration::from_secs(2 * FETCH_INTERVAL_S + 1)).await;
    let deltas = server.state.requests.get(RequestKind::DeltaFetch) - deltas_before;
    let full = server.state.requests.get(RequestKind::FullFetch) - full_before;
    println!("after the pushed changes: {deltas} delta fetches, {full} full fetches");
    assert!(deltas >= 6, "three applications fetch deltas every {FETCH_INTERVAL_S} s: {deltas}");
    assert_eq!(full, 0, "a pushed change forced a full fetch (hash mismatch)");

    // 3. The server restarts on the same port: the streams reconnect (a fresh snapshot), the
    // applications re-register on their next heartbeat, and pushes flow again.
    server.stop().await;
    let listener = TcpListener::bind(addr).await.expect("rebind the server's port");
    server = TestServer::start_on(listener, ServerConfig::default(), Clock::System).await;
    let instance = server.url(&format!("apps/BETA/{b}"));
    eventually_within(
        Duration::from_secs(30),
        "every watcher follows the new server's stream",
        async || {
            server.state.watch.watcher_count() >= 3
                && eureka_testkit::instance_now(&url, &b).await.is_some()
        },
    )
    .await;
    for app in &watchers {
        // Emptied by the new server's first snapshot and back once beta re-registered, or never
        // emptied when beta's heartbeat re-registered it before the stream reconnected: either
        // way the copy ends with beta (the pushes below prove the new stream is followed).
        eventually_within(
            Duration::from_secs(30),
            "beta seen again after the restart",
            async || {
                latest_view(app, "DC").as_deref() == Some(b.as_str())
                    && latest_view(app, "LB").as_deref() == Some(b.as_str())
            },
        )
        .await;
    }
    out_of_service_and_back(&watchers, &instance, &b, "status change after the server restarted")
        .await;

    // 4. SIGTERM: beta leaves the registry before its web server stops taking requests.
    let marks = [a3.mark(), a4.mark()];
    let cancels = server.state.requests.get(RequestKind::Cancel);
    let t0 = epoch_ms();
    beta.signal("TERM");
    reached(&watchers, &marks, t0, "-", "SIGTERM (out of service, then cancel)").await;
    assert!(beta.exited_within(Duration::from_secs(30)).await, "beta did not exit on SIGTERM");
    let exited = epoch_ms();
    for (app, &from) in watchers.iter().zip(&marks) {
        let lb = view(app, from, "LB", "-", Duration::from_secs(1)).await;
        assert!(lb < exited, "{}: beta left the load balancer only after it exited", app.id);
    }
    assert_eq!(server.state.requests.get(RequestKind::Cancel), cancels + 1, "beta cancelled");
    assert!(eureka_testkit::instance_now(&url, &b).await.is_none(), "beta is gone");
    assert_eq!(beta.log_contains("Deregistered BETA/"), 1, "see {}", beta.log.display());

    for app in [&a3, &a4] {
        let errors: Vec<String> =
            app.lines().into_iter().filter(|l| l.starts_with("WATCH_ERROR")).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", app.id);
    }
    drop((a3, a4));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_the_java_eureka_server_the_applications_keep_polling() {
    let _serial = SERIAL.lock().await;
    let ready = Ready::load();
    let port = free_port();
    let own = format!("http://127.0.0.1:{port}/eureka/");
    let java =
        SpringServer::start(&ready, port, std::slice::from_ref(&own), log("java-server")).await;
    let url = java.service_url();
    let common = client_args(&url, 2);
    let (bp, ap) = (free_port(), free_port());
    let mut beta =
        SpringApp::start(&ready, "SPRING_PUSH3_CMD", "beta", bp, &common, log("java-beta"));
    let alpha = SpringApp::start(
        &ready,
        "SPRING_PUSH4_CMD",
        "alpha4",
        ap,
        &with(common.clone(), &["--harness.watch=beta"]),
        log("java-alpha4"),
    );
    for app in [&beta, &alpha] {
        app.wait_for(0, "READY", START, |l| l.starts_with("READY ")).await;
    }
    let b = beta.id.clone();
    view(&alpha, 0, "DC", &b, START).await;

    // A status change arrives by polling (and the load balancer's cache), as without the starter.
    let from = alpha.mark();
    let (status, _) =
        http(reqwest::Method::PUT, &format!("{url}apps/BETA/{b}/status?value=OUT_OF_SERVICE"))
            .await;
    assert_eq!(status, 200);
    view(&alpha, from, "DC", "-", Duration::from_secs(30)).await;
    let (status, _) = http(reqwest::Method::DELETE, &format!("{url}apps/BETA/{b}/status")).await;
    assert_eq!(status, 200);
    view(&alpha, from, "DC", &b, Duration::from_secs(30)).await;

    // SIGTERM: out of service and cancel work against the Java server too.
    beta.signal("TERM");
    assert!(beta.exited_within(Duration::from_secs(30)).await, "beta did not exit on SIGTERM");
    assert_eq!(beta.log_contains("Deregistered BETA/"), 1, "see {}", beta.log.display());
    eventually_within(Duration::from_secs(10), "beta cancelled on the Java server", async || {
        eureka_testkit::instance_now(&url, &b).await.is_none()
    })
    .await;
    view(&alpha, from, "DC", "-", Duration::from_secs(30)).await;

    // Silent: one line each about the missing stream, no push, no error.
    for app in [&beta, &alpha] {
        assert_eq!(
            app.log_contains("has no change stream (HTTP 404)"),
            1,
            "see {}",
            app.log.display()
        );
        assert!(
            !app.lines().iter().any(|l| l.starts_with("PUSH ")),
            "{}: pushed from the Java server?",
            app.id
        );
        // Expected warnings, none of them the starter's: Spring Cloud LoadBalancer's advice to
        // use Caffeine, and the Eureka client's own shutdown race (a scheduled task finishing
        // while its executor stops, seen with and without the starter).
        let warnings = app.log_contains(" WARN ")
            - app.log_contains("LoadBalancerCaffeineWarnLogger")
            - app.log_contains("task supervisor shutting down");
        assert_eq!(warnings, 0, "see {}", app.log.display());
        assert_eq!(app.log_contains(" ERROR "), 0, "see {}", app.log.display());
    }
    drop(alpha);
    java.stop().await;
}
