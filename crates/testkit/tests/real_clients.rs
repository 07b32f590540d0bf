//! Compatibility with real Eureka clients nobody here wrote: Netflix `eureka-client` 2.0.6 and
//! 1.10.18, `py-eureka-client` 0.13.3 and `eureka-js-client` 4.5.0.
//!
//! Each client gets its own server. It registers, is listed, discovers an instance registered
//! by another client (this test, in XML) through its own API, heartbeats, re-registers after
//! the server forgets it (its renew answered 404), fetches deltas where it can, changes
//! status where it can, and cancels on shutdown.
//!
//! The Netflix client is also run against a server with `eureka.security.enabled`, its
//! credentials in its service URL as Spring users write them.
//!
//! Needs `scripts/prepare-real-clients` (run by `scripts/test` and CI).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use eureka_server::config::ClientAuth;
use eureka_server::state::RequestKind;
use eureka_server::{Clock, ServerConfig};
use eureka_testkit::fixtures::java_xml;
use eureka_testkit::real::Ready;
use eureka_testkit::tls::TestCa;
use eureka_testkit::TestServer;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::Mutex;

/// How long each client watches the registry before its status steps.
const WATCH_SECONDS: &str = "8";
const TARGET_APP: &str = "TARGET";

struct Run {
    server: TestServer,
    /// Reaches the server: plain, or trusting its test CA.
    http: reqwest::Client,
    app: &'static str,
    id: &'static str,
}

impl Run {
    async fn start(app: &'static str, id: &'static str) -> Run {
        Run::start_with(app, id, ServerConfig::default(), reqwest::Client::new()).await
    }

    /// A server serving HTTPS with a certificate of `ca` (for `localhost` and `127.0.0.1`).
    async fn start_tls(app: &'static str, id: &'static str, ca: &TestCa) -> Run {
        let mut config = ServerConfig::default();
        ca.configure(&mut config, &ca.server("server"), ClientAuth::None);
        Run::start_with(app, id, config, ca.client(None)).await
    }

    async fn start_with(
        app: &'static str,
        id: &'static str,
        config: ServerConfig,
        http: reqwest::Client,
    ) -> Run {
        let server = TestServer::start_with(config, Clock::System).await;
        let r = http
            .post(server.url(&format!("apps/{TARGET_APP}")))
            .header("Content-Type", "application/xml")
            .body(java_xml(TARGET_APP, "target-1", 18090))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        Run { server, http, app, id }
    }

    fn registered(&self) -> bool {
        self.server.state.registry.get_instance(self.app, self.id).is_some()
    }

    async fn wait_for(&self, what: &str, timeout: Duration, cond: impl Fn(&Self) -> bool) {
        let start = Instant::now();
        while !cond(self) {
            assert!(start.elapsed() < timeout, "{}: timed out waiting for {what}", self.app);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs a client to completion while forgetting its lease once, and returns its stdout.
    async fn drive(&self, mut cmd: Command) -> Vec<String> {
        let mut child = cmd.spawn().expect("spawn client");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let sink = lines.clone();
        let reader = tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                sink.lock().await.push(line);
            }
        });
        let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
        let errors = tokio::spawn(async move {
            let mut tail = Vec::new();
            while let Ok(Some(line)) = err.next_line().await {
                tail.push(line);
                if tail.len() > 40 {
                    tail.remove(0);
                }
            }
            tail
        });

        self.wait_for("registration", Duration::from_secs(40), Run::registered).await;
        // Forget the lease behind the client's back: its next renew gets 404.
        let r = self
            .http
            .delete(self.server.url(&format!("apps/{}/{}", self.app, self.id)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        self.wait_for(
            "re-registration after a 404 renew",
            Duration::from_secs(15),
            Run::registered,
        )
        .await;

        let status = tokio::time::timeout(Duration::from_secs(120), child.wait()).await;
        let _ = reader.await;
        let stderr = errors.await.unwrap_or_default().join("\n");
        let status = status
            .unwrap_or_else(|_| panic!("{} did not finish; stderr tail:\n{stderr}", self.app))
            .unwrap();
        let lines = lines.lock().await.clone();
        assert!(
            status.success(),
            "{} exited with {status}; stdout:\n{}\nstderr tail:\n{stderr}",
            self.app,
            lines.join("\n")
        );
        lines
    }

    fn assert_common(&self, lines: &[String]) {
        let has = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
        let all = lines.join("\n");
        assert!(has("REGISTERED"), "{}: no REGISTERED line:\n{all}", self.app);
        assert!(
            has(&format!("DISCOVERED {TARGET_APP} target-1 127.0.0.1 18090 UP")),
            "{}: did not discover the target:\n{all}",
            self.app
        );
        assert!(has("SHUTDOWN"), "{}: no SHUTDOWN line:\n{all}", self.app);
        let req = &self.server.state.requests;
        assert!(
            req.get(RequestKind::Register) >= 2,
            "{}: registered {} times",
            self.app,
            req.get(RequestKind::Register)
        );
        assert!(
            req.get(RequestKind::Renew) >= 3,
            "{}: {} renewals",
            self.app,
            req.get(RequestKind::Renew)
        );
        assert!(
            req.get(RequestKind::RenewNotFound) >= 1,
            "{}: the forgotten lease was never renewed",
            self.app
        );
        assert!(req.get(RequestKind::Cancel) >= 2, "{}: no cancel on shutdown", self.app);
        assert!(!self.registered(), "{}: still registered after shutdown", self.app);
        assert_eq!(
            req.get(RequestKind::Rejected),
            0,
            "{}: the server rejected a request",
            self.app
        );
    }
}

async fn java(profile_key: &'static str, app: &'static str, id: &'static str, port: &str) {
    let ready = Ready::load();
    let run = Run::start(app, id).await;
    let cmd = ready.command(
        profile_key,
        &[&run.server.service_url(), &app.to_lowercase(), port, TARGET_APP, WATCH_SECONDS],
    );
    java_checks(run, cmd).await;
}

/// The Java client's whole run against `run`'s server, and what it must have done.
async fn java_checks(run: Run, cmd: Command) {
    let app = run.app;
    let lines = run.drive(cmd).await;
    run.assert_common(&lines);
    let all = lines.join("\n");
    let req = &run.server.state.requests;
    assert!(
        req.get(RequestKind::DeltaFetch) >= 3,
        "{app}: {} delta fetches",
        req.get(RequestKind::DeltaFetch)
    );
    // The client saw its own status changes through its fetched registry.
    assert!(
        lines.iter().any(|l| l == "SELF OUT_OF_SERVICE"),
        "{app}: never saw itself OUT_OF_SERVICE:\n{all}"
    );
    assert!(lines.iter().any(|l| l == "OVERRIDE 200"), "{app}:\n{all}");
    assert!(lines.iter().any(|l| l == "OVERRIDE_REMOVED 200"), "{app}:\n{all}");
    assert_eq!(req.get(RequestKind::StatusOverride), 2);
    // Delta fetches stayed consistent: a hash mismatch would make the client fall back to
    // full fetches on every cycle.
    let full = req.get(RequestKind::FullFetch);
    assert!(
        full < req.get(RequestKind::DeltaFetch),
        "{app}: {full} full fetches, deltas not trusted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netflix_eureka_client_2_0_6() {
    java("JAVA2_CMD", "JAVA2-HARNESS", "java2-harness:18084", "18084").await;
}

/// Over HTTPS: the JVM is told to trust the test CA through the standard `javax.net.ssl`
/// properties (a PKCS#12 trust store made with `keytool`), which eureka-client 2.0.6's Jersey 3
/// transport and the harness's own JDK HTTP client both use when no SSL context is given.
/// `JAVA_TOOL_OPTIONS` carries them, so the harness is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netflix_eureka_client_2_0_6_over_https() {
    let ready = Ready::load();
    let ca = TestCa::new("java-https");
    let run = Run::start_tls("JAVA2-TLS-HARNESS", "java2-tls-harness:18086", &ca).await;
    let service_url = run.server.service_url();
    assert!(service_url.starts_with("https://127.0.0.1:"), "{service_url}");

    let store = ca.dir().join("truststore.p12");
    let keytool = std::path::Path::new(ready.get("JAVA")).with_file_name("keytool");
    let made = Command::new(&keytool)
        .args(["-importcert", "-noprompt", "-alias", "eureka-rs-test-ca", "-storetype", "PKCS12"])
        .args(["-storepass", "changeit", "-file"])
        .arg(&ca.ca_pem)
        .arg("-keystore")
        .arg(&store)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", keytool.display()));
    assert!(made.status.success(), "keytool: {}", String::from_utf8_lossy(&made.stderr));

    let mut cmd = ready.command(
        "JAVA2_CMD",
        &[&service_url, "java2-tls-harness", "18086", TARGET_APP, WATCH_SECONDS],
    );
    cmd.env(
        "JAVA_TOOL_OPTIONS",
        format!(
            "-Djavax.net.ssl.trustStore={} -Djavax.net.ssl.trustStorePassword=changeit \
             -Djavax.net.ssl.trustStoreType=PKCS12",
            store.display()
        ),
    );
    let state = run.server.state.clone();
    java_checks(run, cmd).await;
    // Everything went over TLS (the port speaks nothing else), and no handshake failed.
    assert!(state.connections.accepted() >= 1);
    assert_eq!(state.connections.handshake_failures(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netflix_eureka_client_1_10_18() {
    java("JAVA1_CMD", "JAVA1-HARNESS", "java1-harness:18085", "18085").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn py_eureka_client_0_13_3() {
    let ready = Ready::load();
    let run = Run::start("PY-HARNESS", "py-harness:18081").await;
    let lines = run
        .drive(
            ready.command(
                "PY_CMD",
                &[&run.server.service_url(), TARGET_APP, "18081", WATCH_SECONDS],
            ),
        )
        .await;
    run.assert_common(&lines);
    let req = &run.server.state.requests;
    assert!(
        req.get(RequestKind::DeltaFetch) >= 3,
        "py: {} delta fetches",
        req.get(RequestKind::DeltaFetch)
    );
    assert_eq!(
        req.get(RequestKind::StatusOverride),
        2,
        "py: status_update and delete_status_override"
    );
    assert!(lines.iter().any(|l| l.starts_with("STATUS_CHANGE")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eureka_js_client_4_5_0() {
    let ready = Ready::load();
    let run = Run::start("NODE-HARNESS", "node-harness:18082").await;
    let port = run.server.addr.port().to_string();
    let lines = run
        .drive(ready.command(
            "NODE_CMD",
            &["127.0.0.1", &port, "/eureka/apps/", TARGET_APP, "18082", WATCH_SECONDS, "delta"],
        ))
        .await;
    run.assert_common(&lines);
    assert!(run.server.state.requests.get(RequestKind::DeltaFetch) >= 3);
}

/// A server with `eureka.security.enabled` and one `write` user, `javauser`.
async fn secured_server() -> TestServer {
    let config = eureka_testkit::fixtures::config(&[
        ("eureka.security.enabled", "true"),
        ("eureka.security.users.javauser.password", "j-pw"),
        ("eureka.security.users.javauser.roles", "write"),
    ]);
    TestServer::start_with(config, Clock::System).await
}

/// Runs the Java 2.x harness against `service_url` with short phases, to completion, and
/// returns its stdout.
async fn run_java_harness(service_url: &str, app: &str, port: &str, seconds: &str) -> String {
    let ready = Ready::load();
    let mut cmd =
        ready.command("JAVA2_CMD", &[service_url, &app.to_lowercase(), port, TARGET_APP, seconds]);
    cmd.env("HARNESS_PHASE_SECONDS", "1");
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("the Java harness finished")
        .expect("the Java harness ran");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
    assert!(out.status.success(), "{app} exited {}: {stdout}\n{}", out.status, tail.join("\n"));
    stdout
}

/// Spring users write credentials into `defaultZone`: the Netflix client sends them as Basic
/// auth on every call, so registration, renewals, fetches, a status change (a re-registration)
/// and the cancel all pass a secured server. With a wrong password nothing is registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netflix_eureka_client_with_credentials_in_its_service_url() {
    let server = secured_server().await;
    let app = "JAVA2-AUTH";
    let id = "java2-auth:18086";
    let url = server.service_url().replace("http://", "http://javauser:j-pw@");
    let stdout = run_java_harness(&url, app, "18086", "4").await;
    let req = &server.state.requests;
    assert!(stdout.contains("SHUTDOWN"), "{stdout}");
    assert!(stdout.contains("SELF UP"), "{stdout}");
    // The harness's own override calls (java.net.http, no credentials) are refused.
    assert!(stdout.contains("OVERRIDE 401"), "{stdout}");
    assert_eq!(req.get(RequestKind::StatusOverride), 0);
    assert!(
        req.get(RequestKind::Register) >= 2,
        "{} registrations",
        req.get(RequestKind::Register)
    );
    assert!(req.get(RequestKind::Renew) >= 3, "{} renewals", req.get(RequestKind::Renew));
    assert!(req.get(RequestKind::DeltaFetch) >= 1, "fetches authenticated too");
    assert!(req.get(RequestKind::Cancel) >= 1, "cancelled on shutdown");
    assert!(server.state.registry.get_instance(app, id).is_none(), "still registered");
    let scrape = server.scrape().await;
    let unauthenticated = scrape.sum(
        "eureka_rejected_requests_total",
        &[("reason", "unauthenticated"), ("operation", "register")],
    );
    assert_eq!(unauthenticated, 0.0, "every registration carried the credentials");

    let wrong = server.service_url().replace("http://", "http://javauser:wrong@");
    let registrations = req.get(RequestKind::Register);
    let stdout = run_java_harness(&wrong, "JAVA2-WRONG", "18087", "3").await;
    assert!(stdout.contains("SELF ABSENT"), "{stdout}");
    assert!(!stdout.contains("SELF UP"), "{stdout}");
    assert_eq!(req.get(RequestKind::Register), registrations, "nothing registered");
    assert!(server.state.registry.get_instance("JAVA2-WRONG", "java2-wrong:18087").is_none());
    let scrape = server.scrape().await;
    let refused = scrape.sum(
        "eureka_rejected_requests_total",
        &[("reason", "unauthenticated"), ("operation", "register")],
    );
    assert!(refused >= 1.0, "the wrong password was refused: {refused}");
}

/// An instance on AWS in `zone`, as a Java client on EC2 registers it.
fn aws_instance(app: &str, id: &str, zone: &str) -> eureka_model::InstanceInfo {
    let mut info = eureka_client::Instance::new(app, 8080)
        .instance_id(id)
        .host_name(id)
        .ip_addr("127.0.0.1")
        .to_instance_info();
    info.data_center_info = Some(eureka_model::DataCenterInfo {
        class: eureka_model::DataCenterClass::Amazon,
        name: Some(eureka_model::DataCenterName::Amazon),
        metadata: [("instance-id", id), ("availability-zone", zone)]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into(),
    });
    info
}

/// Two of our servers as two regions: "east" follows "west" (1 s remote fetches). The Netflix
/// client on east with `fetchRemoteRegionsRegistry=west` sees instances of both regions (a
/// west instance without AWS data-center info among its local ones, as Java files it; an AWS
/// one in west's zone under region west), follows changes in west by deltas that reconcile
/// with east's merged hash (no full fetch after the first), and keeps seeing west's instances
/// after west goes away, east's copy being within its cache lifetime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netflix_eureka_client_fetches_a_remote_region() {
    let ready = Ready::load();
    let west = TestServer::start().await;
    let west_http = eureka_client::EurekaHttp::new(
        &west.service_url(),
        eureka_client::Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(5),
        },
    )
    .unwrap();
    west.register_json(TARGET_APP, "t-west").await;
    west_http.register(&aws_instance("EDGE", "edge-1", "west-a")).await.unwrap();
    let config = eureka_testkit::fixtures::config(&[
        ("eureka.server.remote-region-urls-with-name.west", &west.service_url()),
        ("eureka.server.remote-region-registry-fetch-interval", "1"),
        ("eureka.server.remote-region-cache-lifetime", "60s"),
    ]);
    let east = TestServer::start_with(config, Clock::System).await;
    east.register_json(TARGET_APP, "t-east").await;
    eureka_testkit::eventually("east fetched west", async || east.state.remote.regions.ready())
        .await;

    let mut cmd = ready
        .command("JAVA2_CMD", &[&east.service_url(), "java2-regions", "18088", TARGET_APP, "10"]);
    cmd.env("HARNESS_PHASE_SECONDS", "1").env("HARNESS_REMOTE_REGIONS", "west").env(
        "JAVA_TOOL_OPTIONS",
        "-Deureka.fetchRemoteRegionsRegistry=west -Deureka.west.availabilityZones=west-a",
    );
    let mut child = cmd.spawn().expect("spawn the Java harness");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let sink = lines.clone();
    let reader = tokio::spawn(async move {
        while let Ok(Some(line)) = out.next_line().await {
            sink.lock().await.push(line);
        }
    });
    let seen_after = async |from: usize, what: &str| {
        let lines = lines.lock().await;
        lines[from.min(lines.len())..].iter().any(|l| l.starts_with(what))
    };
    let within = Duration::from_secs(40);
    for what in
        ["DISCOVERED TARGET t-east ", "DISCOVERED TARGET t-west ", "REMOTE west EDGE edge-1 UP"]
    {
        eureka_testkit::eventually_within(within, what, async || seen_after(0, what).await).await;
    }
    let full_at_start = east.state.requests.get(RequestKind::FullFetch);

    // A change in west reaches the client through east's merged delta.
    west.register_json(TARGET_APP, "t-west-2").await;
    eureka_testkit::eventually_within(within, "t-west-2 by delta", async || {
        seen_after(0, "DISCOVERED TARGET t-west-2 ").await
    })
    .await;

    // West goes away: east keeps serving its copy, so the client keeps its instances.
    west.stop().await;
    eureka_testkit::eventually_within(within, "east noticed west is gone", async || {
        east.state.remote.links[0].health().consecutive_failures > 0
    })
    .await;
    let mark = lines.lock().await.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(seen_after(mark, "DISCOVERED TARGET t-west-2 ").await, "{:?}", lines.lock().await);
    assert!(seen_after(mark, "REMOTE west EDGE edge-1 UP").await, "{:?}", lines.lock().await);

    let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await;
    let _ = reader.await;
    let lines = lines.lock().await.join("\n");
    assert!(status.expect("harness finished").expect("harness ran").success(), "{lines}");
    assert!(lines.contains("SHUTDOWN"), "{lines}");
    let req = &east.state.requests;
    assert_eq!(
        req.get(RequestKind::FullFetch),
        full_at_start,
        "every merged delta reconciled: no full fetch after the first"
    );
    assert!(req.get(RequestKind::DeltaFetch) >= 5, "{} deltas", req.get(RequestKind::DeltaFetch));
}
