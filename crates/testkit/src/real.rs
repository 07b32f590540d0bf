//! The real Java, Python and Node programs built by `scripts/prepare-real-clients`: reading
//! its `READY` file and running the Spring Cloud Eureka server as a peer.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The `KEY=VALUE` lines of `target/real-clients/READY` (or `$EUREKA_REAL_CLIENTS_READY`).
#[derive(Debug, Clone)]
pub struct Ready(HashMap<String, String>);

impl Ready {
    /// Reads the READY file; panics with the command to run when it is missing.
    pub fn load() -> Ready {
        let path =
            std::env::var_os("EUREKA_REAL_CLIENTS_READY").map(PathBuf::from).unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/real-clients/READY")
            });
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{}: {e}; run scripts/prepare-real-clients first", path.display())
        });
        Ready(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// A value; panics naming the key when it is missing.
    pub fn get(&self, key: &str) -> &str {
        self.0.get(key).unwrap_or_else(|| panic!("{key} missing from READY"))
    }

    /// The command of a `*_CMD` key with `args` appended, stdout and stderr piped, killed on
    /// drop.
    pub fn command(&self, key: &str, args: &[&str]) -> Command {
        let mut parts = self.get(key).split(' ');
        let mut cmd = Command::new(parts.next().unwrap_or_default());
        cmd.args(parts).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        cmd
    }
}

/// A Spring Cloud Netflix Eureka server process, killed on drop.
pub struct SpringServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Where its output goes.
    pub log: PathBuf,
    child: Option<Child>,
}

impl SpringServer {
    /// Starts a Spring Eureka server on `port` as a member of the cluster `cluster_urls` (its own
    /// URL among them, recognised through `my-url`), copying the registry from its peers at
    /// start-up, with test-speed settings and 2 s peer timeouts. Waits until it answers.
    pub async fn start(ready: &Ready, port: u16, cluster_urls: &[String], log: PathBuf) -> Self {
        Self::start_with(ready, port, cluster_urls, &[], log).await
    }

    /// [`SpringServer::start`] with more Spring properties (`--key=value`), e.g. remote regions.
    pub async fn start_with(
        ready: &Ready,
        port: u16,
        cluster_urls: &[String],
        extra: &[String],
        log: PathBuf,
    ) -> Self {
        let own = format!("http://127.0.0.1:{port}/eureka/");
        let mut args = vec![
            format!("--server.port={port}"),
            format!("--eureka.client.service-url.defaultZone={}", cluster_urls.join(",")),
            format!("--eureka.server.my-url={own}"),
            "--eureka.client.register-with-eureka=false".to_string(),
            "--eureka.client.fetch-registry=true".to_string(),
            "--eureka.server.registry-sync-retries=1".to_string(),
            "--eureka.server.registry-sync-retry-wait-ms=500".to_string(),
            "--eureka.server.peer-node-connect-timeout-ms=2000".to_string(),
            "--eureka.server.peer-node-read-timeout-ms=2000".to_string(),
        ];
        args.extend_from_slice(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let file = std::fs::File::create(&log).expect("spring server log file");
        let err = file.try_clone().expect("spring server log file");
        let mut cmd = ready.command("SPRING_SERVER_CMD", &args);
        cmd.stdout(file).stderr(err);
        let child = cmd.spawn().expect("spawn the Spring Eureka server");
        let server = SpringServer { port, log, child: Some(child) };
        server.wait_until_up(Duration::from_secs(90)).await;
        server
    }

    /// Its service URL, `http://127.0.0.1:PORT/eureka/`.
    pub fn service_url(&self) -> String {
        format!("http://127.0.0.1:{}/eureka/", self.port)
    }

    async fn wait_until_up(&self, limit: Duration) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + limit;
        let url = format!("{}apps", self.service_url());
        loop {
            let ok = http.get(&url).header("Accept", "application/json").send().await;
            if ok.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Spring Eureka server on {} not up after {limit:?}; see {}",
                self.port,
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Kills the process and waits for it.
    pub async fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

/// A free loopback port for a server in another process, chosen below Linux's ephemeral range
/// (32768 and up) so that no socket bound to port 0 meanwhile can take it before the process
/// binds it. Randomised so that tests running at once rarely try the same port, and checked
/// by binding it.
pub fn free_port() -> u16 {
    free_port_on(&[std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)])
}

/// [`free_port`] free on every one of `addresses` (loopback aliases such as 127.0.0.2), for
/// nodes that share a port on different addresses, as peers found by their A records do.
pub fn free_port_on(addresses: &[std::net::IpAddr]) -> u16 {
    use std::hash::{BuildHasher, Hasher};
    for _ in 0..1000 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        h.write_u128(now.map_or(0, |d| d.as_nanos()));
        let port = 20_000 + (h.finish() % 12_000) as u16;
        if addresses.iter().all(|ip| std::net::TcpListener::bind((*ip, port)).is_ok()) {
            return port;
        }
    }
    panic!("no free loopback port in 20000..32000 on {addresses:?}")
}

/// A process of the Spring push test application (`SPRING_PUSH3_CMD` / `SPRING_PUSH4_CMD`,
/// `harness/real-clients/spring-push`), killed on drop. Its stdout and stderr go to a log
/// file; the harness's own stdout lines (`READY`, `VIEW`, `PUSH`, `CALL`, `CLOSING`, …, each
/// with its epoch-millisecond time) are also kept for the test to read.
pub struct SpringApp {
    /// Its instance id, `name:port`.
    pub id: String,
    /// Its HTTP port.
    pub port: u16,
    /// Where its output goes.
    pub log: PathBuf,
    pid: u32,
    child: Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Set when its stdout closed (it exited).
    closed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// The keywords of the push harness's own stdout lines.
const HARNESS_LINES: [&str; 6] = ["READY ", "VIEW ", "PUSH ", "CALL ", "CLOSING ", "WATCH_ERROR "];

impl SpringApp {
    /// Starts `READY[key]` with `--server.port=port --harness.name=name` and `args`.
    pub fn start(
        ready: &Ready,
        key: &str,
        name: &str,
        port: u16,
        args: &[String],
        log: PathBuf,
    ) -> Self {
        use std::io::Write;
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut all = vec![format!("--server.port={port}"), format!("--harness.name={name}")];
        all.extend(args.iter().cloned());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let file = std::fs::File::create(&log).expect("spring app log file");
        let err = file.try_clone().expect("spring app log file");
        let mut cmd = ready.command(key, &all);
        cmd.stderr(err).stdin(Stdio::null());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {key}: {e}"));
        let pid = child.id().expect("spring app pid");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = lines.clone();
        let closed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = closed.clone();
        tokio::spawn(async move {
            // Small appends to a local file: blocking is harmless here.
            let mut out = file;
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let _ = writeln!(out, "{line}");
                if HARNESS_LINES.iter().any(|k| line.starts_with(k)) {
                    keep.lock().expect("lines lock").push(line);
                }
            }
            done.store(true, std::sync::atomic::Ordering::Release);
        });
        SpringApp { id: format!("{name}:{port}"), port, log, pid, child, lines, closed }
    }

    /// The harness lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines lock").clone()
    }

    /// The harness lines from number `from` on (a [`SpringApp::mark`]).
    pub fn lines_from(&self, from: usize) -> Vec<String> {
        self.lines.lock().expect("lines lock").iter().skip(from).cloned().collect()
    }

    /// How many harness lines there are so far (a cursor for [`SpringApp::wait_for`]).
    pub fn mark(&self) -> usize {
        self.lines.lock().expect("lines lock").len()
    }

    /// The first harness line after `from` for which `check` holds, waiting up to `limit`;
    /// panics naming `what` and the log otherwise.
    pub async fn wait_for(
        &self,
        from: usize,
        what: &str,
        limit: Duration,
        check: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(line) =
                self.lines.lock().expect("lines lock").iter().skip(from).find(|l| check(l))
            {
                return line.clone();
            }
            let exited = self.closed.load(std::sync::atomic::Ordering::Acquire);
            assert!(
                Instant::now() < deadline && !exited,
                "{}: no line for {what} within {limit:?} (exited: {exited}); see {}",
                self.id,
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the log holds `text` (the Spring and Eureka log lines are only in the file).
    pub fn log_contains(&self, text: &str) -> usize {
        std::fs::read_to_string(&self.log).map(|s| s.matches(text).count()).unwrap_or(0)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends `signal` (`TERM`, `KILL`) with `kill`.
    pub fn signal(&self, signal: &str) {
        let ok = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{signal} {}", self.pid);
    }

    /// Waits up to `limit` for the process to exit; whether it did.
    pub async fn exited_within(&mut self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.child.wait()).await.is_ok()
    }
}

/// The epoch-millisecond time of a harness line (its second field).
pub fn line_ms(line: &str) -> u64 {
    let field = if line.starts_with("VIEW ") { 2 } else { 1 };
    line.split(' ').nth(field).and_then(|t| t.parse().ok()).unwrap_or(0)
}

/// Now, in epoch milliseconds (the harness lines' clock).
pub fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
