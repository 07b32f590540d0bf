//! End-to-end tests: the real `eurekactl` binary against an in-process server on a real
//! loopback socket. The registry is read directly from the server's state, so every
//! assertion checks what the command really did, not what it printed.

use std::process::Stdio;
use std::time::Duration;

use eureka_client::{EurekaHttp, Instance, InstanceStatus, Timeouts};
use eureka_model::{json, xml, InstanceInfo};
use eureka_server::{Clock, ServerConfig};
use eureka_testkit::TestServer;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::{sleep, timeout, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_eurekactl");
/// Longest any single wait may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(15);
const T: Timeouts = Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(5) };

/// What one run of the binary left behind.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn command(server: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--server").arg(server).args(args).kill_on_drop(true);
    for inherited in [
        "EUREKA_URL",
        "EUREKA_CACERT",
        "EUREKA_USERNAME",
        "EUREKA_PASSWORD",
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
    ] {
        cmd.env_remove(inherited);
    }
    cmd
}

/// Runs `eurekactl --server SERVER ARGS...` to completion.
async fn ctl(server: &str, args: &[&str]) -> Run {
    finish(command(server, args)).await
}

async fn finish(mut cmd: Command) -> Run {
    let out = timeout(DEADLINE, cmd.output()).await.expect("eurekactl finished").unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

impl Run {
    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "{self:?}");
        self
    }

    /// Asserts a failure with `code` and one line on stderr, and returns that line.
    #[track_caller]
    fn fails(&self, code: i32) -> &str {
        assert_eq!(self.code, code, "{self:?}");
        assert_eq!(self.stderr.lines().count(), 1, "one line on stderr: {self:?}");
        assert!(self.stderr.starts_with("eurekactl: "), "{self:?}");
        self.stderr.trim_end()
    }
}

fn instance(app: &str, id: &str, port: u16) -> InstanceInfo {
    let mut info = Instance::new(app, port)
        .instance_id(id)
        .host_name(format!("{id}.test"))
        .ip_addr("127.0.0.1")
        .metadata("zone", "a")
        .to_instance_info();
    info.last_dirty_timestamp = eureka_testkit::fixtures::now_ms();
    info
}

async fn api(s: &TestServer) -> EurekaHttp {
    EurekaHttp::new(&s.service_url(), T).unwrap()
}

/// Registers through the REST API, as any client would.
async fn register(s: &TestServer, app: &str, id: &str, port: u16) -> InstanceInfo {
    let info = instance(app, id, port);
    api(s).await.register(&info).await.unwrap();
    info
}

/// A service URL on which nothing listens.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/eureka/")
}

/// Polls `probe` until it gives a value, failing the test after [`DEADLINE`].
async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        sleep(Duration::from_millis(20)).await;
    }
}

/// Sends a signal by name with `kill`, and waits for the process to exit.
async fn signal_and_wait(child: &mut Child, signal: &str) -> i32 {
    let pid = child.id().expect("child still running").to_string();
    let status = Command::new("kill").args([&format!("-{signal}"), &pid]).status().await.unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
    let status = timeout(DEADLINE, child.wait()).await.expect("exit after a signal").unwrap();
    status.code().unwrap_or(-1)
}

async fn read_stream(stream: Option<impl tokio::io::AsyncRead + Unpin>) -> String {
    let mut text = String::new();
    if let Some(mut stream) = stream {
        stream.read_to_string(&mut text).await.unwrap();
    }
    text
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn apps_table_counts_instances_by_status_sorted_with_a_total_row() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    register(&s, "orders", "o-2", 8081).await;
    register(&s, "billing", "b-1", 9090).await;
    api(&s).await.set_status_override("ORDERS", "o-2", InstanceStatus::Down, 0).await.unwrap();

    let run = ctl(&s.service_url(), &["apps"]).await.ok();
    let lines: Vec<Vec<&str>> = run.stdout.lines().map(words).collect();
    assert_eq!(
        lines,
        [
            vec!["APP", "UP", "DOWN", "STARTING", "OUT_OF_SERVICE", "UNKNOWN", "TOTAL"],
            vec!["BILLING", "1", "0", "0", "0", "0", "1"],
            vec!["ORDERS", "1", "1", "0", "0", "0", "2"],
            vec!["2", "apps", "2", "1", "0", "0", "0", "3"],
        ],
        "{}",
        run.stdout
    );
    assert_eq!(run.stderr, "");
}

#[tokio::test]
async fn apps_json_and_xml_are_the_registry_document() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    register(&s, "billing", "b-1", 9090).await;
    let registry = s.state.registry.snapshot().apps;

    let run = ctl(&s.service_url(), &["apps", "--output", "json"]).await.ok();
    assert_eq!(run.stdout.lines().count(), 1, "one document on one line");
    assert_eq!(json::decode_applications(run.stdout.as_bytes()).unwrap(), *registry);

    let run = ctl(&s.service_url(), &["-o", "xml", "apps"]).await.ok();
    assert!(run.stdout.starts_with("<applications>"), "{}", run.stdout);
    assert_eq!(xml::decode_applications(run.stdout.as_bytes()).unwrap(), *registry);
}

#[tokio::test]
async fn app_lists_its_instances_and_documents_decode() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-2", 8081).await;
    register(&s, "orders", "o-1", 8080).await;
    api(&s)
        .await
        .set_status_override("ORDERS", "o-2", InstanceStatus::OutOfService, 0)
        .await
        .unwrap();

    let run = ctl(&s.service_url(), &["app", "orders"]).await.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert_eq!(
        words(lines[0]),
        ["INSTANCE", "ID", "HOST:PORT", "STATUS", "VIP", "LAST", "RENEWAL", "METADATA"]
    );
    assert_eq!(words(lines[1])[..4], ["o-1", "o-1.test:8080", "UP", "orders"]);
    assert_eq!(
        words(lines[2])[..5],
        ["o-2", "o-2.test:8081", "OUT_OF_SERVICE", "[override]", "orders"]
    );
    assert!(lines[1].ends_with("zone=a"), "{}", run.stdout);

    let expected = s.state.registry.snapshot().apps.applications[0].clone();
    let run = ctl(&s.service_url(), &["app", "ORDERS", "-o", "json"]).await.ok();
    assert_eq!(json::decode_application(run.stdout.as_bytes()).unwrap(), expected);
    let run = ctl(&s.service_url(), &["app", "orders", "-o", "xml"]).await.ok();
    assert_eq!(xml::decode_application(run.stdout.as_bytes()).unwrap(), expected);
}

#[tokio::test]
async fn unknown_app_exits_3() {
    let s = TestServer::start().await;
    let run = ctl(&s.service_url(), &["app", "nobody"]).await;
    assert_eq!(run.fails(3), "eurekactl: application NOBODY not found");
    assert_eq!(run.stdout, "");
}

#[tokio::test]
async fn instance_by_id_or_by_app_and_404_exits_3_in_one_line() {
    let s = TestServer::start().await;
    register(&s, "orders", "web-1:orders:8080", 8080).await;
    let stored = s.state.registry.get_instance("ORDERS", "web-1:orders:8080").unwrap();

    let run = ctl(&s.service_url(), &["instance", "web-1:orders:8080"]).await.ok();
    assert!(run.stdout.starts_with("Instance ID   web-1:orders:8080\nApp           ORDERS\n"));
    assert!(run.stdout.contains("\nMetadata      zone=a\n"), "{}", run.stdout);

    for args in [
        &["instance", "web-1:orders:8080", "-o", "json"][..],
        &["instance", "web-1:orders:8080", "--app", "orders", "-o", "json"],
    ] {
        let run = ctl(&s.service_url(), args).await.ok();
        assert_eq!(json::decode_instance(run.stdout.as_bytes()).unwrap(), *stored, "{args:?}");
    }
    let run = ctl(&s.service_url(), &["instance", "web-1:orders:8080", "-o", "xml"]).await.ok();
    assert_eq!(xml::decode_instance(run.stdout.as_bytes()).unwrap(), *stored);

    let run = ctl(&s.service_url(), &["instance", "web-9:orders:8080"]).await;
    assert_eq!(run.fails(3), "eurekactl: instance web-9:orders:8080 not found");
    let run = ctl(&s.service_url(), &["instance", "--app", "orders", "web-9:orders:8080"]).await;
    assert_eq!(run.fails(3), "eurekactl: instance web-9:orders:8080 not found in ORDERS");
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn status_set_and_clear_reach_the_registry() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    let status = || {
        let i = s.state.registry.get_instance("ORDERS", "o-1").unwrap();
        (i.status, i.overridden_status)
    };

    let run = ctl(&s.service_url(), &["status", "set", "orders", "o-1", "out_of_service"]).await;
    assert_eq!(run.ok().stderr, "ORDERS/o-1: status override set to OUT_OF_SERVICE\n");
    assert_eq!(status(), (InstanceStatus::OutOfService, InstanceStatus::OutOfService));

    ctl(&s.service_url(), &["status", "clear", "orders", "o-1", "--to", "UP"]).await.ok();
    assert_eq!(status(), (InstanceStatus::Up, InstanceStatus::Unknown));

    ctl(&s.service_url(), &["status", "set", "orders", "o-1", "DOWN"]).await.ok();
    ctl(&s.service_url(), &["status", "clear", "orders", "o-1"]).await.ok();
    assert_eq!(status(), (InstanceStatus::Unknown, InstanceStatus::Unknown), "Eureka's default");

    let run = ctl(&s.service_url(), &["status", "set", "orders", "o-9", "UP"]).await;
    assert_eq!(run.fails(3), "eurekactl: instance o-9 not found in ORDERS");
    let run = ctl(&s.service_url(), &["status", "set", "orders", "o-1", "SLEEPING"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("'SLEEPING' is not a status"), "{run:?}");
}

#[tokio::test]
async fn metadata_set_merges_entries() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    let run = ctl(&s.service_url(), &["metadata", "set", "orders", "o-1", "zone=b", "v=1=2"]).await;
    run.ok();
    let stored = s.state.registry.get_instance("ORDERS", "o-1").unwrap();
    assert_eq!(stored.metadata["zone"], "b");
    assert_eq!(stored.metadata["v"], "1=2");

    let run = ctl(&s.service_url(), &["metadata", "set", "orders", "o-9", "a=b"]).await;
    assert_eq!(run.fails(3), "eurekactl: instance o-9 not found in ORDERS");
}

#[tokio::test]
async fn cancel_removes_the_lease_and_a_second_cancel_exits_3() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    let run = ctl(&s.service_url(), &["cancel", "orders", "o-1"]).await.ok();
    assert_eq!(run.stderr, "cancelled ORDERS/o-1\n");
    assert!(s.state.registry.get_instance("ORDERS", "o-1").is_none());
    let run = ctl(&s.service_url(), &["cancel", "orders", "o-1"]).await;
    assert_eq!(run.fails(3), "eurekactl: instance o-1 not found in ORDERS");
}

// ---------------------------------------------------------------------------------------------
// register
// ---------------------------------------------------------------------------------------------

/// Starts `register`, waits until the server holds the lease, stops it with `signal`, and
/// checks that the lease is gone and the exit was clean.
async fn register_until(signal: &str) {
    let s = TestServer::start().await;
    let mut cmd = command(
        &s.service_url(),
        &[
            "register",
            "--app",
            "cli-reg",
            "--port",
            "9001",
            "--id",
            "reg-1",
            "--host",
            "reg.test",
            "--ip",
            "127.0.0.2",
            "--secure-port",
            "9443",
            "--vip",
            "reg-vip",
            "--metadata",
            "zone=a",
            "--metadata",
            "team=core",
            "--renewal-interval",
            "1s",
            "--lease-duration",
            "5s",
        ],
    );
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();

    let info =
        eventually("the registration", || s.state.registry.get_instance("CLI-REG", "reg-1")).await;
    assert_eq!((info.host_name.as_str(), info.ip_addr.as_str()), ("reg.test", "127.0.0.2"));
    assert_eq!(
        (info.port.port, info.secure_port.port, info.secure_port.enabled),
        (9001, 9443, true)
    );
    assert_eq!(info.vip_address.as_deref(), Some("reg-vip"));
    assert_eq!(info.metadata["team"], "core");
    assert_eq!(
        (info.lease_info.renewal_interval_in_secs, info.lease_info.duration_in_secs),
        (1, 5)
    );

    assert_eq!(signal_and_wait(&mut child, signal).await, 0, "clean exit on SIG{signal}");
    assert!(s.state.registry.get_instance("CLI-REG", "reg-1").is_none(), "lease cancelled");
    let stderr = read_stream(child.stderr.take()).await;
    assert_eq!(
        stderr,
        format!("registered CLI-REG/reg-1 on {}\ncancelled CLI-REG/reg-1\n", s.service_url())
    );
    assert_eq!(read_stream(child.stdout.take()).await, "", "no data on stdout");
}

#[tokio::test]
async fn register_keeps_the_lease_until_sigint_then_cancels_it() {
    register_until("INT").await;
}

#[tokio::test]
async fn register_keeps_the_lease_until_sigterm_then_cancels_it() {
    register_until("TERM").await;
}

#[tokio::test]
async fn register_fails_at_once_when_no_server_answers() {
    let url = dead_url();
    let run =
        ctl(&url, &["register", "--app", "a", "--port", "1", "--id", "a-1", "--host", "h"]).await;
    let line = run.fails(4);
    assert_eq!(
        line,
        format!("eurekactl: cannot register A/a-1: cannot reach {url}: connection refused")
    );
}

// ---------------------------------------------------------------------------------------------
// watch
// ---------------------------------------------------------------------------------------------

/// Reads NDJSON events until one matches, failing after [`DEADLINE`].
async fn next_event(
    lines: &mut Lines<BufReader<ChildStdout>>,
    action: &str,
    id: &str,
) -> serde_json::Value {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = timeout(left, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no {action} event for {id}"))
            .unwrap()
            .unwrap_or_else(|| panic!("watch ended before the {action} event for {id}"));
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        // The instance object is the model's JSON encoding: wrapped in its root, it decodes.
        let wrapped = format!("{{\"instance\":{}}}", event["instance"]);
        let info = json::decode_instance(wrapped.as_bytes()).unwrap();
        assert_eq!(event["id"], info.id());
        assert_eq!(event["app"], info.app);
        if event["action"] == action && event["id"] == id {
            return event;
        }
    }
}

#[tokio::test]
async fn watch_prints_the_registry_then_each_change_as_json_lines() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    let mut watch =
        command(&s.service_url(), &["watch", "--interval", "200ms", "--output", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    let mut filtered = command(&s.service_url(), &["watch", "billing", "--interval", "200ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();

    let first = next_event(&mut lines, "ADDED", "o-1").await;
    assert_eq!(first["instance"]["status"], "UP");

    register(&s, "billing", "b-1", 9090).await;
    let added = next_event(&mut lines, "ADDED", "b-1").await;
    assert_eq!(added["app"], "BILLING");
    assert_eq!(added["instance"]["port"]["$"], 9090);

    api(&s)
        .await
        .set_status_override("BILLING", "b-1", InstanceStatus::OutOfService, 0)
        .await
        .unwrap();
    let modified = next_event(&mut lines, "MODIFIED", "b-1").await;
    assert_eq!(modified["instance"]["overriddenStatus"], "OUT_OF_SERVICE");

    api(&s).await.cancel("BILLING", "b-1").await.unwrap();
    next_event(&mut lines, "DELETED", "b-1").await;

    assert_eq!(signal_and_wait(&mut watch, "INT").await, 0);
    let stderr = read_stream(watch.stderr.take()).await;
    assert_eq!(
        stderr,
        format!(
            "watching {}: its change stream, or polling every 200ms without one (Ctrl-C to stop)\n",
            s.service_url()
        )
    );

    // The filtered table watch polls on its own, so two changes may land in one poll and
    // show as one line; but it starts with b-1's arrival, ends with its departure, and never
    // mentions ORDERS.
    let mut table = BufReader::new(filtered.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while !seen.last().is_some_and(|l: &String| l.contains("  DELETED ")) {
        let line = timeout(DEADLINE, table.next_line()).await.expect("DELETED line").unwrap();
        seen.push(line.expect("watch still running"));
    }
    assert_eq!(words(&seen[0])[1..4], ["ADDED", "BILLING", "b-1"], "{seen:?}");
    for line in &seen {
        assert_eq!(words(line)[2..4], ["BILLING", "b-1"], "{seen:?}");
    }
    assert_eq!(signal_and_wait(&mut filtered, "TERM").await, 0);
}

#[tokio::test]
async fn watch_follows_the_change_stream_so_a_change_prints_at_once_whatever_the_interval() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    let mut watch = command(&s.service_url(), &["watch", "--interval", "30s", "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    next_event(&mut lines, "ADDED", "o-1").await;
    eventually("the watch stream", || (s.state.watch.watcher_count() == 1).then_some(())).await;
    let written = Instant::now();
    register(&s, "billing", "b-1", 9090).await;
    next_event(&mut lines, "ADDED", "b-1").await;
    let took = written.elapsed();
    // Polling would take up to 30 s; the stream takes milliseconds (slack for a busy machine).
    assert!(took < Duration::from_secs(1), "printed {took:?} after the write");
    assert_eq!(signal_and_wait(&mut watch, "INT").await, 0);
}

#[tokio::test]
async fn watch_refuses_xml_and_a_dead_server() {
    let s = TestServer::start().await;
    let run = ctl(&s.service_url(), &["watch", "-o", "xml"]).await;
    assert!(run.fails(2).contains("--output json"), "{run:?}");
    let url = dead_url();
    let run = ctl(&url, &["watch", "--interval", "200ms"]).await;
    assert_eq!(run.fails(4), format!("eurekactl: cannot reach {url}: connection refused"));
}

// ---------------------------------------------------------------------------------------------
// drain
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn drain_exits_0_when_everyone_saw_it_and_7_with_the_pending_list_when_not() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    register(&s, "orders", "o-2", 8081).await;
    // A client that names itself on its fetches, as eureka-rs clients do.
    let poller = api(&s).await.with_client_id("poller-1");
    let poll = || async { poller.delta().await.unwrap() };
    poll().await;

    // poller-1 does not poll again: the drain runs out and names it.
    let started = Instant::now();
    let run = ctl(&s.service_url(), &["drain", "orders", "o-1", "--wait", "1s"]).await;
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
    let line = run.fails(7).to_string();
    assert!(line.contains("not everyone saw ORDERS/o-1 go out of service within 1s"), "{line}");
    assert!(run.stdout.starts_with("ORDERS/o-1: OUT_OF_SERVICE at version 3"), "{run:?}");
    assert!(run.stdout.contains("0/1 clients"), "{run:?}");
    assert!(run.stdout.contains("\npending: poller-1\n"), "{run:?}");
    let info = s.state.registry.get_instance("ORDERS", "o-1").unwrap();
    assert_eq!(info.status, InstanceStatus::OutOfService, "the override is set either way");

    // It polls while the drain waits: complete, exit 0; --output json is the server's report.
    let drain = command(&s.service_url(), &["drain", "orders", "o-2", "-o", "json"]);
    let drain = tokio::spawn(finish(drain));
    sleep(Duration::from_millis(500)).await;
    poll().await;
    let run = drain.await.unwrap().ok();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(report["clients"]["seen"], serde_json::json!(["poller-1"]));
    assert_eq!(report["instanceId"], "o-2");

    let run = ctl(&s.service_url(), &["drain", "orders", "nope"]).await;
    assert_eq!(run.fails(3), "eurekactl: instance nope not found in ORDERS");
    let run = ctl(&s.service_url(), &["drain", "orders", "o-1", "--wait", "3m"]).await;
    assert_eq!(run.code, 2, "{run:?}");
}

// ---------------------------------------------------------------------------------------------
// Servers, errors and exit codes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unreachable_server_exits_4_and_the_next_server_in_the_list_is_used() {
    let dead = dead_url();
    let run = ctl(&dead, &["apps"]).await;
    assert_eq!(run.fails(4), format!("eurekactl: cannot reach {dead}: connection refused"));
    assert_eq!(run.stdout, "");

    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    let both = format!("{dead},{}", s.service_url());
    let run = ctl(&both, &["app", "orders"]).await.ok();
    assert!(run.stdout.contains("o-1.test:8080"), "{run:?}");

    let other_dead = dead_url();
    let run = ctl(&format!("{dead}, {other_dead}"), &["apps"]).await;
    let line = run.fails(4);
    assert!(line.starts_with(&format!("eurekactl: cannot reach any of {dead}, {other_dead}: ")));
}

#[tokio::test]
async fn credentials_are_sent_but_never_printed() {
    let dead = dead_url();
    let with_credentials = dead.replace("http://", "http://admin:s3cret@");
    let run = ctl(&with_credentials, &["apps"]).await;
    assert_eq!(run.fails(4), format!("eurekactl: cannot reach {dead}: connection refused"));
    assert!(!run.stderr.contains("s3cret"));

    let s = TestServer::start().await;
    let url = s.service_url().replace("http://", "http://admin:s3cret@");
    let run = ctl(&url, &["apps", "-o", "json"]).await.ok();
    assert!(!run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"));
}

/// A server with `eureka.security.enabled` and a write user and an admin.
async fn secured_server() -> TestServer {
    let config = eureka_testkit::fixtures::config(&[
        ("eureka.security.enabled", "true"),
        ("eureka.security.users.writer.password", "w-pw"),
        ("eureka.security.users.writer.roles", "write"),
        ("eureka.security.users.admin.password", "a-pw"),
        ("eureka.security.users.admin.roles", "admin"),
    ]);
    TestServer::start_with(config, Clock::System).await
}

#[tokio::test]
async fn a_secured_server_is_used_with_credentials_and_refusals_exit_5() {
    let s = secured_server().await;
    let bare = s.service_url();
    let run = ctl(&bare, &["apps"]).await;
    let line = run.fails(5);
    assert!(line.contains("answered 401 Unauthorized: authentication required"), "{line}");
    assert!(line.contains("EUREKA_USERNAME"), "says how to give credentials: {line}");

    let admin = bare.replace("http://", "http://admin:a-pw@");
    EurekaHttp::new(&admin, T).unwrap().register(&instance("orders", "o-1", 8080)).await.unwrap();
    ctl(&admin, &["status", "set", "orders", "o-1", "OUT_OF_SERVICE"]).await.ok();
    assert_eq!(
        s.state.registry.get_instance("ORDERS", "o-1").unwrap().status,
        InstanceStatus::OutOfService
    );

    let writer = bare.replace("http://", "http://writer:w-pw@");
    let run = ctl(&writer, &["status", "clear", "orders", "o-1"]).await;
    let line = run.fails(5);
    assert!(line.contains("403 Forbidden: user 'writer' lacks role 'admin'"), "{line}");
    assert!(!run.stderr.contains("w-pw"));

    let wrong = bare.replace("http://", "http://admin:nope@");
    assert!(ctl(&wrong, &["apps"]).await.fails(5).contains("invalid credentials"));

    // The user and password may come from the environment instead of the URL.
    let mut cmd = command(&bare, &["apps"]);
    cmd.env("EUREKA_USERNAME", "admin").env("EUREKA_PASSWORD", "a-pw");
    let run = finish(cmd).await.ok();
    assert!(run.stdout.contains("ORDERS"), "{run:?}");
}

#[tokio::test]
async fn the_server_url_can_come_from_eureka_url() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    let mut cmd = Command::new(BIN);
    cmd.args(["apps"]).env("EUREKA_URL", s.service_url());
    let run = finish(cmd).await.ok();
    assert!(run.stdout.contains("ORDERS"), "{run:?}");
}

#[tokio::test]
async fn a_refused_request_exits_5_with_the_servers_message() {
    // Java's "registry not ready" window: every read gets 403 for the first five minutes.
    let config = ServerConfig { default_open_for_traffic_count: 0, ..ServerConfig::default() };
    let s = TestServer::start_with(config, Clock::System).await;
    let run = ctl(&s.service_url(), &["apps"]).await;
    let line = run.fails(5);
    assert!(
        line.starts_with("eurekactl: the server answered 403 Forbidden: registry not ready"),
        "{line}"
    );
}

#[tokio::test]
async fn an_undecodable_answer_exits_6() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/eureka/", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            let body = "this is not a registry";
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    let run = ctl(&url, &["apps"]).await;
    let line = run.fails(6);
    assert!(line.starts_with(&format!("eurekactl: cannot decode the answer of {url}: ")), "{line}");
    server.abort();
}

#[tokio::test]
async fn usage_errors_exit_2_and_help_lists_the_exit_codes() {
    let run = ctl("ftp://example.invalid/eureka/", &["apps"]).await;
    assert!(run
        .fails(2)
        .starts_with("eurekactl: invalid server URL 'ftp://example.invalid/eureka/'"));
    let run = ctl(&dead_url(), &["apps", "--timeout", "soon"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    let run = ctl(&dead_url(), &["--help"]).await.ok();
    assert!(run.stdout.contains("Exit codes:\n  0  success"), "{}", run.stdout);
    assert!(run.stdout.contains("6  the server's answer could not be decoded"), "{}", run.stdout);
    assert!(run.stdout.contains("7  drain: not every watcher"), "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------------
// The Java server
// ---------------------------------------------------------------------------------------------

/// The same commands against the Spring Cloud Netflix Eureka server, the registry users run
/// today. Needs `scripts/prepare-real-clients` (run by `scripts/test` and CI).
#[cfg(feature = "real-clients")]
mod java_server {
    use eureka_testkit::find_instance;
    use eureka_testkit::real::{free_port, Ready, SpringServer};

    use super::*;

    /// Polls the Java registry until `check` holds for instance `id` (None: absent), reading
    /// it live (`instance_now`, not Java's cached `GET apps`).
    async fn until(url: &str, what: &str, id: &str, check: impl Fn(Option<&InstanceInfo>) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let now = eureka_testkit::instance_now(url, id).await;
            if check(now.as_ref()) {
                return;
            }
            assert!(Instant::now() < deadline, "Java server: timed out waiting for {what}");
            sleep(Duration::from_millis(100)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_command_works_against_the_spring_eureka_server() {
        let ready = Ready::load();
        let port = free_port();
        let own = format!("http://127.0.0.1:{port}/eureka/");
        let log = std::env::temp_dir().join(format!("eurekactl-spring-{port}.log"));
        let java = SpringServer::start(&ready, port, &[own], log).await;
        let url = java.service_url();

        let mut register = command(
            &url,
            &[
                "register",
                "--app",
                "cli-java",
                "--port",
                "8080",
                "--id",
                "j-1",
                "--host",
                "j.test",
                "--ip",
                "127.0.0.1",
                "--metadata",
                "zone=a",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        until(&url, "the registration", "j-1", |i| i.is_some()).await;

        let mut watch = command(&url, &["watch", "--interval", "500ms", "--output", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut events = BufReader::new(watch.stdout.take().unwrap()).lines();
        next_event(&mut events, "ADDED", "j-1").await;

        let run = ctl(&url, &["apps"]).await.ok();
        let row = run.stdout.lines().find(|l| l.starts_with("CLI-JAVA")).map(words);
        assert_eq!(row, Some(vec!["CLI-JAVA", "1", "0", "0", "0", "0", "1"]), "{}", run.stdout);
        let run = ctl(&url, &["apps", "-o", "json"]).await.ok();
        let apps = json::decode_applications(run.stdout.as_bytes()).unwrap();
        assert_eq!(find_instance(&apps, "j-1").unwrap().metadata["zone"], "a");
        let run = ctl(&url, &["app", "cli-java"]).await.ok();
        assert_eq!(words(run.stdout.lines().nth(1).unwrap())[..3], ["j-1", "j.test:8080", "UP"]);
        let run = ctl(&url, &["instance", "j-1"]).await.ok();
        assert!(run.stdout.starts_with("Instance ID   j-1\nApp           CLI-JAVA\n"), "{run:?}");
        let run = ctl(&url, &["instance", "--app", "cli-java", "j-1", "-o", "xml"]).await.ok();
        assert_eq!(xml::decode_instance(run.stdout.as_bytes()).unwrap().id(), "j-1");
        let run = ctl(&url, &["instance", "--app", "cli-java", "j-9"]).await;
        assert_eq!(run.fails(3), "eurekactl: instance j-9 not found in CLI-JAVA");

        ctl(&url, &["status", "set", "cli-java", "j-1", "OUT_OF_SERVICE"]).await.ok();
        let oos =
            |i: Option<&InstanceInfo>| i.is_some_and(|i| i.status == InstanceStatus::OutOfService);
        until(&url, "the override", "j-1", oos).await;
        let modified = next_event(&mut events, "MODIFIED", "j-1").await;
        assert_eq!(modified["instance"]["status"], "OUT_OF_SERVICE");
        ctl(&url, &["status", "clear", "cli-java", "j-1", "--to", "UP"]).await.ok();
        let up = |i: Option<&InstanceInfo>| i.is_some_and(|i| i.status == InstanceStatus::Up);
        until(&url, "the cleared override", "j-1", up).await;

        ctl(&url, &["metadata", "set", "cli-java", "j-1", "team=core"]).await.ok();
        let has_team = |i: Option<&InstanceInfo>| {
            i.is_some_and(|i| i.metadata.get("team").map(String::as_str) == Some("core"))
        };
        until(&url, "the metadata", "j-1", has_team).await;

        assert_eq!(signal_and_wait(&mut register, "INT").await, 0);
        until(&url, "the cancel", "j-1", |i| i.is_none()).await;
        let stderr = read_stream(register.stderr.take()).await;
        assert!(stderr.ends_with("cancelled CLI-JAVA/j-1\n"), "{stderr}");
        next_event(&mut events, "DELETED", "j-1").await;
        let run = ctl(&url, &["cancel", "cli-java", "j-1"]).await;
        assert_eq!(run.fails(3), "eurekactl: instance j-1 not found in CLI-JAVA");

        assert_eq!(signal_and_wait(&mut watch, "INT").await, 0);
        java.stop().await;
    }
}

#[tokio::test]
async fn cacert_trusts_a_private_ca_for_https_servers() {
    let ca = eureka_testkit::tls::TestCa::new("cli");
    let mut config = ServerConfig::default();
    ca.configure(&mut config, &ca.server("server"), eureka_server::config::ClientAuth::None);
    let s = TestServer::start_with(config, Clock::System).await;
    let url = s.service_url();
    assert!(url.starts_with("https://"));
    let ca_pem = ca.ca_pem.to_str().unwrap();

    let untrusted = ctl(&url, &["apps"]).await;
    assert_ne!(untrusted.code, 0, "{untrusted:?}");
    assert!(untrusted.stderr.contains(&url), "{untrusted:?}");

    let registered = ca
        .client(None)
        .post(s.url("apps/ORDERS"))
        .header("Content-Type", "application/json")
        .body(eureka_testkit::fixtures::java_json("ORDERS", "o1", 8080))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 204);
    let listed = ctl(&url, &["--cacert", ca_pem, "apps"]).await.ok();
    assert!(listed.stdout.contains("ORDERS"), "{listed:?}");
    let mut by_env = command(&url, &["apps"]);
    by_env.env("EUREKA_CACERT", ca_pem);
    let listed = finish(by_env).await.ok();
    assert!(listed.stdout.contains("ORDERS"), "{listed:?}");

    let missing = ctl(&url, &["--cacert", "/nonexistent/ca.pem", "apps"]).await;
    assert!(missing.fails(2).contains("--cacert /nonexistent/ca.pem"), "{missing:?}");
}

// ---------------------------------------------------------------------------------------------
// Issue 19: finding what is broken
// ---------------------------------------------------------------------------------------------

/// A registry with one application of each kind of trouble: ORDERS has a DOWN instance,
/// BILLING a STARTING one, SHIPPING is all UP.
async fn troubled() -> TestServer {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    register(&s, "orders", "o-2", 8081).await;
    register(&s, "billing", "b-1", 9090).await;
    register(&s, "shipping", "s-1", 7070).await;
    let http = api(&s).await;
    http.set_status_override("ORDERS", "o-2", InstanceStatus::Down, 0).await.unwrap();
    http.set_status_override("BILLING", "b-1", InstanceStatus::Starting, 0).await.unwrap();
    s
}

#[tokio::test]
async fn apps_filter_by_status_or_not_up_and_drop_headers() {
    let s = troubled().await;
    let url = s.service_url();
    let run = ctl(&url, &["apps", "--status", "down"]).await.ok();
    let names: Vec<&str> = run.stdout.lines().skip(1).map(|l| words(l)[0]).collect();
    assert_eq!(names, ["ORDERS", "1"], "ORDERS and the total row: {}", run.stdout);
    let run = ctl(&url, &["apps", "--not-up", "--no-headers"]).await.ok();
    let names: Vec<&str> = run.stdout.lines().map(|l| words(l)[0]).collect();
    assert_eq!(names, ["BILLING", "ORDERS"], "no header, no total row: {}", run.stdout);
    let run = ctl(&url, &["apps", "--not-up", "-o", "json"]).await.ok();
    let apps = json::decode_applications(run.stdout.as_bytes()).unwrap();
    let names: Vec<&str> = apps.applications.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["BILLING", "ORDERS"]);
}

#[tokio::test]
async fn problems_lists_what_needs_attention_worst_first_with_live_renewals() {
    let s = troubled().await;
    let run = ctl(&s.service_url(), &["problems"]).await.ok();
    let lines: Vec<Vec<&str>> = run.stdout.lines().map(words).collect();
    assert_eq!(lines[0][..7], ["APP", "INSTANCE", "ID", "HOST:PORT", "STATUS", "VIP", "LAST"]);
    assert_eq!(lines[1][..4], ["ORDERS", "o-2", "o-2.test:8081", "DOWN"], "{}", run.stdout);
    assert_eq!(lines[2][..4], ["BILLING", "b-1", "b-1.test:9090", "STARTING"], "{}", run.stdout);
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    let run = ctl(&s.service_url(), &["problems", "billing", "-o", "yaml"]).await.ok();
    assert!(run.stdout.starts_with("applications:\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("instanceId: b-1") && !run.stdout.contains("o-2"),
        "{}",
        run.stdout
    );
}

/// Issue 19: LAST RENEWAL came from the registry document, whose lease timestamps are
/// refreshed lazily, so an instance renewing every few seconds looked tens of seconds old.
#[tokio::test]
async fn last_renewal_is_read_from_the_live_leases() {
    let s = TestServer::start().await;
    register(&s, "orders", "o-1", 8080).await;
    let http = api(&s).await;
    // The document is built now; the renewal below does not change the registry version.
    let _ = http.applications().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    http.heartbeat("ORDERS", "o-1", InstanceStatus::Up, 0).await.unwrap();
    let stale = s.state.registry.snapshot().apps.applications[0].instances[0].lease_info;
    assert!(
        stale.last_renewal_timestamp + 2_000 <= eureka_testkit::fixtures::now_ms(),
        "the document lags"
    );
    let run = ctl(&s.service_url(), &["app", "orders"]).await.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].contains("LAST RENEWAL"), "{}", run.stdout);
    assert!(lines[1].contains("just now"), "the renewal of a moment ago: {}", run.stdout);
    let run = ctl(&s.service_url(), &["app", "orders", "-o", "wide"]).await.ok();
    let header = words(run.stdout.lines().next().unwrap());
    assert!(
        header.contains(&"ZONE") && header.contains(&"VERSION") && header.contains(&"IP"),
        "{header:?}"
    );
}

#[tokio::test]
async fn yaml_is_the_json_document() {
    let s = troubled().await;
    let json_run = ctl(&s.service_url(), &["app", "orders", "-o", "json"]).await.ok();
    let yaml_run = ctl(&s.service_url(), &["app", "orders", "-o", "yaml"]).await.ok();
    let from_json: serde_json::Value = serde_json::from_str(&json_run.stdout).unwrap();
    let from_yaml: serde_json::Value = serde_norway::from_str(&yaml_run.stdout).unwrap();
    assert_eq!(from_json, from_yaml);
}

#[tokio::test]
async fn colour_only_when_asked_for_or_on_a_terminal_and_never_with_no_color() {
    let s = troubled().await;
    let escape = '\u{1b}';
    let run = ctl(&s.service_url(), &["problems"]).await.ok();
    assert!(!run.stdout.contains(escape), "a pipe gets no escape codes: {:?}", run.stdout);
    let mut forced = command(&s.service_url(), &["problems"]);
    forced.env("CLICOLOR_FORCE", "1");
    let run = finish(forced).await.ok();
    assert!(run.stdout.contains("\u{1b}[31mDOWN"), "DOWN in red: {:?}", run.stdout);
    let mut no_color = command(&s.service_url(), &["problems"]);
    no_color.env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1");
    let run = finish(no_color).await.ok();
    assert!(!run.stdout.contains(escape), "NO_COLOR wins: {:?}", run.stdout);
}

#[tokio::test]
async fn completion_scripts_for_bash_zsh_and_fish() {
    for (shell, marker) in
        [("bash", "_eurekactl()"), ("zsh", "#compdef eurekactl"), ("fish", "complete -c eurekactl")]
    {
        let run = ctl("http://unused.invalid/eureka/", &["completion", shell]).await.ok();
        assert!(
            run.stdout.contains(marker),
            "{shell}: {}",
            &run.stdout[..run.stdout.len().min(300)]
        );
        assert!(run.stdout.contains("cluster") && run.stdout.contains("problems"), "{shell}");
    }
    let run = ctl("http://unused.invalid/eureka/", &["completion", "tcsh"]).await;
    assert!(run.fails(2).contains("invalid value 'tcsh'"), "{run:?}");
}

#[tokio::test]
async fn usage_errors_are_one_line_and_close_names_are_suggested() {
    let s = troubled().await;
    let run = ctl(&s.service_url(), &["apps", "--statsu", "DOWN"]).await;
    let line = run.fails(2);
    assert!(line.starts_with("eurekactl: unexpected argument '--statsu' found"), "{line}");
    assert!(line.contains("'--status'"), "{line}");
    let run = ctl(&s.service_url(), &["clustr"]).await;
    assert!(run.fails(2).contains("'cluster'"), "{run:?}");

    let run = ctl(&s.service_url(), &["app", "ordrs"]).await;
    assert_eq!(run.fails(3), "eurekactl: application ORDRS not found (did you mean ORDERS?)");
    let run = ctl(&s.service_url(), &["status", "set", "orders", "O-1", "DOWN"]).await;
    assert_eq!(run.fails(3), "eurekactl: instance O-1 not found in ORDERS (did you mean o-1?)");
    let run = ctl(&s.service_url(), &["status", "set", "orders", "o-3", "DOWN"]).await;
    assert_eq!(run.fails(3), "eurekactl: instance o-3 not found in ORDERS", "ids look alike");
    let run = ctl(&s.service_url(), &["cancel", "shiping", "s-1"]).await;
    assert_eq!(run.fails(3), "eurekactl: application SHIPING not found (did you mean SHIPPING?)");
    let run = ctl(&s.service_url(), &["app", "payments"]).await;
    assert_eq!(run.fails(3), "eurekactl: application PAYMENTS not found", "nothing close");
}

#[tokio::test]
async fn cluster_asks_every_server_for_its_own_view() {
    let b = TestServer::start().await;
    let a_config = ServerConfig { extra_peer_urls: vec![b.service_url()], ..Default::default() };
    let a = TestServer::start_with(a_config, Clock::System).await;
    register(&a, "orders", "o-1", 8080).await;
    let dead = dead_url();
    let servers = format!("{},{},{dead}", a.service_url(), b.service_url());
    eventually("A to reach B", || {
        a.state.replication.views().iter().any(|p| p.health.reachable == Some(true)).then_some(())
    })
    .await;
    let run = ctl(&servers, &["cluster"]).await;
    assert_eq!(run.fails(4), "eurekactl: 1 of 3 servers could not be reached");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(words(lines[0])[..3], ["SERVER", "STATUS", "APPS"], "{}", run.stdout);
    let row_a = lines.iter().find(|l| l.starts_with(&a.service_url())).unwrap();
    assert!(row_a.contains("UP") && row_a.ends_with("1/1 reachable"), "{}", run.stdout);
    assert!(row_a.contains("active, first minute"), "{}", run.stdout);
    let row_b = lines.iter().find(|l| l.starts_with(&b.service_url())).unwrap();
    assert!(row_b.ends_with("standalone"), "{}", run.stdout);
    let row_dead = lines.iter().find(|l| l.starts_with(&dead)).unwrap();
    assert!(
        row_dead.contains(" unreachable ") && row_dead.ends_with("connection refused"),
        "{}",
        run.stdout
    );
    let link = lines.iter().find(|l| l.contains("PEER")).map(|_| lines.last().unwrap()).unwrap();
    assert!(
        link.starts_with(&a.service_url()) && link.contains(&b.service_url()),
        "{}",
        run.stdout
    );
    assert!(words(link)[2] == "yes", "{}", run.stdout);

    let run = ctl(&servers, &["cluster", "-o", "json"]).await;
    assert_eq!(run.code, 4);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc[0]["status"]["registry"]["instances"], 1);
    assert!(doc[2]["error"].as_str().unwrap().contains("connection refused"), "{doc}");
}
