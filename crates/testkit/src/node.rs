//! Servers as child processes, for cluster tests that kill, restart and partition nodes:
//! [`NodeProcess`] is one, [`Mesh`] a cluster of them peered through fault proxies.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::{sleep, Instant};

use crate::proxy::{Fault, FaultProxy};

/// One `eureka-server` process on a fixed port, peered through the given addresses (fault
/// proxies, usually), its output appended to `log` so a restart keeps the first life's lines.
pub struct NodeProcess {
    /// The port it listens on, the same across restarts.
    pub port: u16,
    /// Where it reaches each peer.
    pub peers: Vec<SocketAddr>,
    /// Its output, appended across restarts.
    pub log: PathBuf,
    /// The loopback address it listens on (`server.address`), 127.0.0.1 unless set with
    /// [`NodeProcess::at`]: nodes on 127.0.0.2, .3, … can share one port, as peers found by
    /// their A records do.
    pub address: IpAddr,
    binary: PathBuf,
    settings: Vec<String>,
    args: Vec<String>,
    child: Option<Child>,
}

impl NodeProcess {
    /// A node not yet started; `settings` are `key=value` pairs passed with `--set`.
    pub fn new(
        binary: impl Into<PathBuf>,
        port: u16,
        peers: Vec<SocketAddr>,
        log: PathBuf,
        settings: &[&str],
    ) -> Self {
        let settings = settings.iter().map(|s| s.to_string()).collect();
        let address = IpAddr::V4(Ipv4Addr::LOCALHOST);
        NodeProcess {
            port,
            peers,
            log,
            address,
            binary: binary.into(),
            settings,
            args: Vec::new(),
            child: None,
        }
    }

    /// The same node with more command-line arguments (e.g. `--config FILE`).
    pub fn with_args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// The same node listening on `address` only.
    pub fn at(mut self, address: IpAddr) -> Self {
        self.address = address;
        self
    }

    /// Its service URL, `http://ADDRESS:PORT/eureka/`.
    pub fn base(&self) -> String {
        format!("http://{}/eureka/", SocketAddr::new(self.address, self.port))
    }

    /// Sends the running process a signal by name (`HUP`, `TERM`, …).
    pub fn signal(&self, name: &str) {
        let pid = self.child.as_ref().and_then(Child::id).expect("node is running");
        let status = std::process::Command::new("kill")
            .args(["-s", name, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} {pid}");
    }

    /// SIGTERM, then waits for the process to exit (it drains and flushes), at most `limit`.
    pub async fn terminate(&mut self, limit: Duration) {
        self.signal("TERM");
        if let Some(mut child) = self.child.take() {
            match tokio::time::timeout(limit, child.wait()).await {
                Ok(status) => {
                    let status = status.expect("wait for node");
                    assert!(status.success(), "node {} exited with {status}", self.port);
                }
                Err(_) => {
                    let _ = child.kill().await;
                    panic!("node {} did not stop within {limit:?}; see {:?}", self.port, self.log);
                }
            }
        }
    }

    /// Spawns the process and waits until `/health/ready` answers 200 (the start-up copy from
    /// its peers is done), at most `limit`.
    pub async fn start(&mut self, limit: Duration) {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--port").arg(self.port.to_string());
        if self.address != IpAddr::V4(Ipv4Addr::LOCALHOST) {
            cmd.arg("--set").arg(format!("server.address={}", self.address));
        }
        for peer in &self.peers {
            cmd.arg("--peer").arg(format!("http://{peer}/eureka/"));
        }
        for s in &self.settings {
            cmd.arg("--set").arg(s);
        }
        cmd.args(&self.args);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("node log file");
        let err = log.try_clone().expect("node log file");
        cmd.env("RUST_LOG", "info,eureka_server::replication=debug")
            .env("NO_COLOR", "1")
            .stdout(log)
            .stderr(err)
            .kill_on_drop(true);
        self.child = Some(cmd.spawn().expect("spawn eureka-server"));
        let ready = format!("http://{}/health/ready", SocketAddr::new(self.address, self.port));
        let http = reqwest::Client::new();
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(r) = http.get(&ready).send().await {
                if r.status() == reqwest::StatusCode::OK {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "node {} not ready; see {:?}", self.port, self.log);
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no drain, no flush of the replication queues.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill node");
        }
    }
}

/// Three (or `n`) nodes peered through a fault proxy per direction of every link, so a test
/// can cut, slow or reset any node's traffic with [`Mesh::isolate`].
pub struct Mesh {
    /// The nodes, started and ready.
    pub nodes: Vec<NodeProcess>,
    /// The proxy node `from` uses to reach node `to`, by `(from, to)`.
    pub links: HashMap<(usize, usize), FaultProxy>,
}

impl Mesh {
    /// Starts `n` nodes of `binary` with `settings`, logs in `log_dir` as `{name}-node{i}.log`
    /// (emptied first), each ready within `ready`.
    pub async fn start(
        binary: &str,
        n: usize,
        log_dir: &Path,
        name: &str,
        settings: &[&str],
        ready: Duration,
    ) -> Mesh {
        let ports: Vec<u16> = (0..n).map(|_| crate::real::free_port()).collect();
        let mut links = HashMap::new();
        for from in 0..n {
            for (to, port) in ports.iter().enumerate() {
                if from != to {
                    let target = SocketAddr::from(([127, 0, 0, 1], *port));
                    links.insert((from, to), FaultProxy::start(target).await.expect("proxy"));
                }
            }
        }
        std::fs::create_dir_all(log_dir).expect("log dir");
        let mut nodes: Vec<NodeProcess> = (0..n)
            .map(|i| {
                let log = log_dir.join(format!("{name}-node{i}.log"));
                let _ = std::fs::remove_file(&log);
                let peers = (0..n).filter(|j| *j != i).map(|j| links[&(i, j)].addr()).collect();
                NodeProcess::new(binary, ports[i], peers, log, settings)
            })
            .collect();
        for node in &mut nodes {
            node.start(ready).await;
        }
        Mesh { nodes, links }
    }

    /// Every node's service URL.
    pub fn bases(&self) -> Vec<String> {
        self.nodes.iter().map(NodeProcess::base).collect()
    }

    /// Applies `fault` to every link into or out of node `i`, as a network partition does.
    pub fn isolate(&self, i: usize, fault: Fault) {
        for ((from, to), proxy) in &self.links {
            if *from == i || *to == i {
                proxy.set(fault);
            }
        }
    }

    /// Kills every node and stops every proxy.
    pub async fn stop(mut self) {
        for node in &mut self.nodes {
            node.kill().await;
        }
        for (_, proxy) in self.links.drain() {
            proxy.stop().await;
        }
    }
}
