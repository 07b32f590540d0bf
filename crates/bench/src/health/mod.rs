//! `eureka-health-bench`: what server-side health checks buy and cost (not part of CI except
//! `detect --quick`).
//!
//! - [`detect`]: time from `kill -9` of an instance's process until every node of a 3-node
//!   cluster serves it DOWN (or no longer lists it) in `GET /eureka/apps`: our checks with fast
//!   settings and with the defaults, our heartbeat-only lease expiry, and the Spring Cloud
//!   Eureka server's lease expiry behind its response cache, in one run.
//! - [`cost`]: one node checking 10,000 instances (real loopback listeners in helper
//!   processes): server CPU and RSS with checks on and off, and renew throughput in each.

pub mod cost;
pub mod detect;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use eureka_model::Applications;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A listener process (`eureka-bench-listener`) and the ports it holds; killed on drop.
pub struct Listeners {
    /// Its ports on 127.0.0.1.
    pub ports: Vec<u16>,
    child: Child,
}

impl Listeners {
    /// Starts `binary --port P` (`count` = None) or `binary --count N` and waits for its ports.
    pub async fn start(binary: &Path, port: Option<u16>, count: usize) -> anyhow::Result<Self> {
        let mut cmd = Command::new(binary);
        match port {
            Some(p) => cmd.arg("--port").arg(p.to_string()),
            None => cmd.arg("--count").arg(count.to_string()),
        };
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawn {}", binary.display()))?;
        let stdout = child.stdout.take().context("listener stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).await?;
        let Some(list) = line.trim().strip_prefix("ports ") else {
            bail!("listener did not start: {line:?}");
        };
        let ports = list.split(',').map(str::parse).collect::<Result<Vec<u16>, _>>()?;
        Ok(Listeners { ports, child })
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// A short-timeout HTTP client for the bench's own calls.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(4)
        .build()
        .expect("http client")
}

/// `GET {base}apps` as JSON, decoded; `None` when the node does not answer.
pub async fn apps(http: &reqwest::Client, base: &str) -> Option<Applications> {
    let r = http.get(format!("{base}apps")).header("Accept", "application/json").send().await;
    let body = r.ok().filter(|r| r.status().is_success())?.bytes().await.ok()?;
    eureka_model::json::decode_applications(&body).ok()
}

/// The value at quantile `q` (0..=1) of sorted `xs` (nearest rank).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` has them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_string())
}
