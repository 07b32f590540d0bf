//! A server under test as a separate process, pinned to a core with `taskset`, and what
//! `/proc` says about it: CPU time (`utime + stime`) and resident memory (`VmRSS`, `VmHWM`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use hyper::Request;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::load::{Body, Conn};
use crate::wire;

/// The core the servers run on; the load generator takes [`LOAD_CORE`].
pub const SERVER_CORE: &str = "0";
/// The core the load generator runs on.
pub const LOAD_CORE: &str = "1";

/// A running server process, killed on drop.
pub struct ServerProcess {
    /// Its address on loopback.
    pub addr: SocketAddr,
    pid: u32,
    child: Child,
}

impl ServerProcess {
    /// Runs `program args…` under `taskset -c SERVER_CORE` (taskset execs, so the pid is the
    /// server's), output to `log`, and waits until `GET /eureka/apps` answers 200.
    pub async fn start(
        program: &str,
        args: &[String],
        port: u16,
        log: &Path,
        startup: Duration,
    ) -> anyhow::Result<ServerProcess> {
        let mut command = Command::new("taskset");
        command.arg("-c").arg(SERVER_CORE).arg(program).args(args);
        Self::launch(command, port, log, startup, wire::full_fetch)
            .await
            .with_context(|| format!("taskset -c {SERVER_CORE} {program}"))
    }

    /// [`ServerProcess::start`] without pinning, for runs where the servers share the cores
    /// with the load (the soak, which measures stability rather than cost), ready once
    /// `/health/ready` says the start-up copy from peers is done. The process gets
    /// a process group of its own, so a terminal's Ctrl-C reaches only the caller, which then
    /// stops the load, checks the servers and stops them in that order.
    pub async fn start_unpinned(
        program: &str,
        args: &[String],
        port: u16,
        log: &Path,
        startup: Duration,
    ) -> anyhow::Result<ServerProcess> {
        Self::start_in_own_group(program, args, port, log, startup, wire::ready).await
    }

    /// [`ServerProcess::start_unpinned`] for any Eureka server (ours or Java's): ready once
    /// `GET /eureka/apps` answers 200. The end-to-end scenario runs it beside the
    /// applications, sharing the cores as in a deployment.
    pub async fn start_shared(
        program: &str,
        args: &[String],
        port: u16,
        log: &Path,
        startup: Duration,
    ) -> anyhow::Result<ServerProcess> {
        Self::start_in_own_group(program, args, port, log, startup, wire::full_fetch).await
    }

    /// Starts `program` in a process group of its own, ready once `probe` answers 200.
    async fn start_in_own_group(
        program: &str,
        args: &[String],
        port: u16,
        log: &Path,
        startup: Duration,
        probe: fn(SocketAddr) -> Request<Body>,
    ) -> anyhow::Result<ServerProcess> {
        let mut command = Command::new(program);
        command.args(args).process_group(0);
        Self::launch(command, port, log, startup, probe).await.with_context(|| program.to_string())
    }

    /// Runs `program args…` under `taskset -c SERVER_CORE` without waiting for it: for servers
    /// that speak no HTTP (the DNS baseline), whose readiness the caller checks its own way.
    pub fn spawn_pinned(
        program: &str,
        args: &[String],
        port: u16,
        log: &Path,
    ) -> anyhow::Result<ServerProcess> {
        let mut command = Command::new("taskset");
        command.arg("-c").arg(SERVER_CORE).arg(program).args(args);
        Self::spawn(command, port, log)
            .with_context(|| format!("taskset -c {SERVER_CORE} {program}"))
    }

    /// Spawns `command` and waits until `probe` answers 2xx.
    async fn launch(
        command: Command,
        port: u16,
        log: &Path,
        startup: Duration,
        probe: fn(SocketAddr) -> Request<Body>,
    ) -> anyhow::Result<ServerProcess> {
        let mut server = Self::spawn(command, port, log)?;
        server.wait_until_up(startup, log, probe).await?;
        Ok(server)
    }

    fn spawn(mut command: Command, port: u16, log: &Path) -> anyhow::Result<ServerProcess> {
        let file = std::fs::File::create(log).with_context(|| log.display().to_string())?;
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .context("spawn")?;
        let pid = child.id().context("server exited at once")?;
        Ok(ServerProcess { addr: SocketAddr::from(([127, 0, 0, 1], port)), pid, child })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    async fn wait_until_up(
        &mut self,
        limit: Duration,
        log: &Path,
        probe: fn(SocketAddr) -> Request<Body>,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("server exited with {status} before answering; see {}", log.display());
            }
            if let Ok(mut conn) = Conn::open(self.addr).await {
                if let Ok((status, _)) = conn.send(probe(self.addr)).await {
                    if status.is_success() {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                bail!("server not up after {limit:?}; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// CPU time used so far (user + system), from `/proc/PID/stat`.
    pub fn cpu(&self) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // Fields after the parenthesised command name start at field 3 (state); utime and
        // stime are fields 14 and 15.
        let rest = stat.rsplit_once(')').context("malformed /proc/PID/stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        Ok(Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64))
    }

    /// Resident memory now (`VmRSS`), in MiB.
    pub fn rss_mib(&self) -> anyhow::Result<f64> {
        self.status_kib("VmRSS").map(|k| k as f64 / 1024.0)
    }

    /// Peak resident memory so far (`VmHWM`), in MiB.
    pub fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        self.status_kib("VmHWM").map(|k| k as f64 / 1024.0)
    }

    fn status_kib(&self, key: &str) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let line = status
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|l| l.strip_prefix(':')))
            .with_context(|| format!("{key} missing from /proc/PID/status"))?;
        Ok(line.trim().trim_end_matches("kB").trim().parse()?)
    }

    /// Kills the process and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// Asks the process to stop (SIGTERM, so it drains as in production) and kills it if it
    /// has not exited within `grace`; returns whether it exited on SIGTERM (false if it had
    /// died before).
    pub async fn terminate(mut self, grace: Duration) -> bool {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return false;
        }
        let asked = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if asked && tokio::time::timeout(grace, self.child.wait()).await.is_ok() {
            return true;
        }
        let _ = self.child.kill().await;
        false
    }
}

/// `sysconf(_SC_CLK_TCK)`, the unit of `/proc/PID/stat` times, read once from `getconf`
/// (100 on every Linux we know of, the fallback).
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// Pins this process (all its threads, and every thread it starts later) to [`LOAD_CORE`].
pub fn pin_self_to_load_core() -> anyhow::Result<()> {
    let status = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", LOAD_CORE, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .context("run taskset")?;
    if !status.success() {
        bail!("taskset -p -c {LOAD_CORE} failed: {status}");
    }
    Ok(())
}

/// A free loopback port for a server process.
pub fn free_port() -> u16 {
    eureka_testkit::real::free_port()
}
