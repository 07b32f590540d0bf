//! What checking costs: one node (pinned to core 0) with 10,000 instances whose health check
//! URLs lead to real loopback listeners (held by helper processes), measured with checks off
//! and on: server CPU and RSS over a quiet window, then renew throughput (closed loop from
//! this process, pinned to core 1).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use eureka_testkit::fixtures::java_json_lease;
use tokio::time::{sleep, Instant};

use super::{http, Listeners};
use crate::load::{self, MakeRequest, Until};
use crate::process::{free_port, ServerProcess};
use crate::wire;

/// Ports per listener process (each holds its listeners and their keep-alive connections,
/// under a 20,000 open-file limit).
const PORTS_PER_PROCESS: usize = 5_000;

/// What one run needs.
#[derive(Debug, Clone)]
pub struct Params {
    /// Instances (each its own listener port).
    pub instances: usize,
    /// The quiet window CPU is measured over (a multiple of the 10 s interval).
    pub window: Duration,
    /// How long renewals are driven for, per side.
    pub renew_for: Duration,
    /// Keep-alive connections carrying the renewals.
    pub connections: usize,
    /// `target/release/eureka-server`.
    pub server: PathBuf,
    /// `target/release/eureka-bench-listener`.
    pub listener: PathBuf,
    /// Where the server logs go.
    pub log_dir: PathBuf,
}

/// One side of the comparison.
#[derive(Debug, Clone)]
pub struct Side {
    /// Checks off or on.
    pub label: &'static str,
    /// Server CPU over the quiet window, % of one core.
    pub cpu_pct: f64,
    /// Checks run in the window.
    pub checks: f64,
    /// Resident memory at the end of the window, MiB.
    pub rss_mib: f64,
    /// Renewals per second (closed loop).
    pub renew_rps: f64,
    /// Renewal p99, ms.
    pub renew_p99_ms: f64,
}

/// Runs checks off, then on, against the same listeners.
pub async fn run(p: &Params) -> anyhow::Result<Vec<Side>> {
    std::fs::create_dir_all(&p.log_dir)?;
    let mut holders = Vec::new();
    let mut ports = Vec::with_capacity(p.instances);
    while ports.len() < p.instances {
        let n = PORTS_PER_PROCESS.min(p.instances - ports.len());
        let l = Listeners::start(&p.listener, None, n).await?;
        ports.extend(l.ports.iter().copied());
        holders.push(l);
    }
    let sides = [
        ("checks off", Vec::<&str>::new()),
        ("checks on, 10s interval", vec!["eureka.server.health-checks.enabled=true"]),
    ];
    let mut out = Vec::new();
    for (label, settings) in sides {
        out.push(side(p, label, &settings, &ports).await?);
    }
    drop(holders);
    Ok(out)
}

async fn side(
    p: &Params,
    label: &'static str,
    settings: &[&str],
    ports: &[u16],
) -> anyhow::Result<Side> {
    let port = free_port();
    let mut args = vec!["--port".to_string(), port.to_string()];
    for s in settings {
        args.extend(["--set".to_string(), s.to_string()]);
    }
    let log = p
        .log_dir
        .join(format!("cost-{}.log", label.split(',').next().unwrap_or(label).replace(' ', "-")));
    let server = p.server.to_string_lossy().into_owned();
    let node = ServerProcess::start(&server, &args, port, &log, Duration::from_secs(30)).await?;
    let base = format!("http://127.0.0.1:{port}/eureka/");
    register(&base, ports).await?;
    let checks_on = !settings.is_empty();
    if checks_on {
        // Every instance checked once before the window opens.
        let deadline = Instant::now() + Duration::from_secs(120);
        while checks_run(&base).await < ports.len() as f64 {
            anyhow::ensure!(Instant::now() < deadline, "{label}: not every instance was checked");
            sleep(Duration::from_secs(1)).await;
        }
    } else {
        sleep(Duration::from_secs(10)).await;
    }
    let (cpu0, checks0, t0) = (node.cpu()?, checks_run(&base).await, Instant::now());
    sleep(p.window).await;
    let (cpu1, checks1, elapsed) = (node.cpu()?, checks_run(&base).await, t0.elapsed());
    let rss_mib = node.rss_mib()?;
    let cpu_pct = (cpu1 - cpu0).as_secs_f64() / elapsed.as_secs_f64() * 100.0;
    let n = ports.len() as u64;
    let addr = node.addr;
    let make: MakeRequest = Arc::new(move |seq| wire::renew(addr, seq % n));
    let renew = load::closed_loop(addr, p.connections, Until::Elapsed(p.renew_for), make).await?;
    node.stop().await;
    Ok(Side {
        label,
        cpu_pct,
        checks: checks1 - checks0,
        rss_mib,
        renew_rps: renew.throughput(),
        renew_p99_ms: renew.quantile_ms(0.99),
    })
}

/// Registers instance `n` (the renew load's ids) with its health check URL on `ports[n]`.
async fn register(base: &str, ports: &[u16]) -> anyhow::Result<()> {
    let http = http();
    let mut tasks = tokio::task::JoinSet::new();
    let workers = 16;
    let ports = Arc::new(ports.to_vec());
    for w in 0..workers {
        let (http, base, ports) = (http.clone(), base.to_string(), ports.clone());
        tasks.spawn(async move {
            for n in (w..ports.len()).step_by(workers) {
                let n64 = n as u64;
                let body = java_json_lease(
                    &wire::app(n64),
                    &wire::id(n64),
                    ports[n],
                    (30, 90),
                    1_700_000_000_000,
                );
                let r = http
                    .post(format!("{base}apps/{}", wire::app(n64)))
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 204, "register {n}: {}", r.status());
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(())
}

/// `eureka_health_checks_total`, summed over modes and results.
async fn checks_run(base: &str) -> f64 {
    let url = base.replace("/eureka/", "/metrics");
    let Ok(r) = http().get(&url).send().await else { return 0.0 };
    let text = r.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("eureka_health_checks_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The comparison table.
pub fn table(sides: &[Side], window: Duration) -> String {
    let mut out = format!(
        "| {} instances | server CPU, quiet {}s window (% of a core) | checks in the window | CPU per check (µs) | RSS (MiB) | renewals/s | renew p99 (ms) |\n|---|---:|---:|---:|---:|---:|---:|\n",
        "10k",
        window.as_secs()
    );
    let off_cpu = sides.first().map_or(0.0, |s| s.cpu_pct);
    for s in sides {
        let per_check = if s.checks > 0.0 {
            format!("{:.1}", (s.cpu_pct - off_cpu) / 100.0 * window.as_secs_f64() / s.checks * 1e6)
        } else {
            "–".to_string()
        };
        out.push_str(&format!(
            "| {} | {:.2} | {:.0} | {} | {:.1} | {:.0} | {:.2} |\n",
            s.label, s.cpu_pct, s.checks, per_check, s.rss_mib, s.renew_rps, s.renew_p99_ms
        ));
    }
    out
}
