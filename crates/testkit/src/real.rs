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
