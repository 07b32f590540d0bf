//! Detection time: `kill -9` of a checked instance's process → DOWN (or gone) in `GET apps` on
//! every node of a 3-node cluster.
//!
//! Each path gets its own cluster. With checks, instances are killed in waves of a few (well
//! under `max-failing-fraction`), each wave's instances cancelled once detected so the failing
//! share stays small. Without checks (lease expiry), the bench stops an instance's heartbeats
//! at its kill, and the kills are spread over one eviction period and run in parallel: each
//! sample takes up to minutes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use eureka_model::InstanceStatus;
use eureka_testkit::fixtures::{java_json_lease, now_ms};
use tokio::process::Child;
use tokio::time::{sleep, Instant};

use super::{apps, http, quantile, Listeners};
use crate::process::{free_port, ServerProcess};

/// The application every benchmark instance belongs to.
const APP: &str = "BENCH";

/// What one run needs.
#[derive(Debug, Clone)]
pub struct Params {
    /// Kills (samples) per path.
    pub kills: usize,
    /// Instances killed at once on the checked paths.
    pub wave: usize,
    /// Run the Spring Cloud Eureka server path.
    pub java: bool,
    /// Run the lease-expiry paths (minutes each).
    pub lease_paths: bool,
    /// Run the checks with default settings (10 s interval: minutes).
    pub default_checks: bool,
    /// `target/release/eureka-server`.
    pub server: PathBuf,
    /// `target/release/eureka-bench-listener`.
    pub listener: PathBuf,
    /// Where the servers' logs go.
    pub log_dir: PathBuf,
}

/// One path's samples, in ms.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub path: String,
    /// Detection times, ms, sorted.
    pub samples: Vec<f64>,
    /// Kills whose instance was not seen DOWN before the limit.
    pub missed: usize,
}

/// Our checks with the fast settings.
const FAST: &[&str] = &[
    "eureka.server.health-checks.enabled=true",
    "eureka.server.health-checks.interval=1s",
    "eureka.server.health-checks.failures-before-down=2",
    "eureka.server.health-checks.timeout=500ms",
];
/// Our checks with every other setting at its default (10 s, 3 failures, 2 s).
const DEFAULTS: &[&str] = &["eureka.server.health-checks.enabled=true"];
/// Heartbeats only: Eureka's defaults, but no self-preservation (the bench kills most of the
/// instances, which would otherwise stop eviction).
const LEASE_ONLY: &[&str] = &["eureka.server.enable-self-preservation=false"];

/// Runs every selected path; the checked ones one after the other, the lease paths alongside.
pub async fn run(p: &Params) -> anyhow::Result<Vec<Row>> {
    std::fs::create_dir_all(&p.log_dir)?;
    let checks = async {
        let mut rows = vec![checked_path(p, "ours, checks 1s / 2 failures / 500ms", FAST).await?];
        if p.default_checks {
            rows.push(checked_path(p, "ours, checks at defaults (10s / 3 / 2s)", DEFAULTS).await?);
        }
        anyhow::Ok(rows)
    };
    let leases = async {
        if !p.lease_paths {
            return anyhow::Ok(Vec::new());
        }
        let ours = lease_path_ours(p);
        let java = async {
            if p.java {
                lease_path_java(p).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let (ours, java) = tokio::join!(ours, java);
        Ok([Some(ours?), java?].into_iter().flatten().collect())
    };
    let (checks, leases) = tokio::join!(checks, leases);
    let mut rows = checks?;
    rows.extend(leases?);
    Ok(rows)
}

/// A cluster of our server: three processes on free ports, peered with each other.
async fn our_cluster(
    p: &Params,
    name: &str,
    settings: &[&str],
) -> anyhow::Result<Vec<ServerProcess>> {
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let urls: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}/eureka/")).collect();
    let mut nodes = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let mut args = vec!["--port".to_string(), port.to_string()];
        for url in &urls {
            args.extend(["--peer".to_string(), url.clone()]);
        }
        for s in settings {
            args.extend(["--set".to_string(), s.to_string()]);
        }
        let log = p.log_dir.join(format!("detect-{name}-node{i}.log"));
        let server = p.server.to_string_lossy().into_owned();
        nodes.push(
            ServerProcess::start_unpinned(&server, &args, *port, &log, Duration::from_secs(30))
                .await?,
        );
    }
    Ok(nodes)
}

fn base(node: &ServerProcess) -> String {
    format!("http://{}/eureka/", node.addr)
}

/// One instance of a path: its id, the node it registered on, and whether it still lives.
struct Instance {
    id: String,
    port: u16,
    node: usize,
    alive: Arc<AtomicBool>,
    process: Option<Listeners>,
}

/// Registers `instances` on `bases` (round robin) and renews each every 30 s (random phase)
/// while it lives, as a Java client does with Eureka's default lease.
async fn register_all(bases: &[String], instances: &[Instance]) -> anyhow::Result<()> {
    let http = http();
    for inst in instances {
        let body = java_json_lease(APP, &inst.id, inst.port, (30, 90), now_ms());
        let r = http
            .post(format!("{}apps/{APP}", bases[inst.node]))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(r.status() == 204, "register {}: {}", inst.id, r.status());
        let (url, alive) =
            (format!("{}apps/{APP}/{}", bases[inst.node], inst.id), inst.alive.clone());
        let http = http.clone();
        let phase = Duration::from_millis(u64::from(inst.port) * 7919 % 30_000);
        tokio::spawn(async move {
            sleep(phase).await;
            while alive.load(Ordering::Relaxed) {
                let _ = http.put(&url).send().await;
                sleep(Duration::from_secs(30)).await;
            }
        });
    }
    Ok(())
}

/// Polls every node until each pending instance is DOWN or gone on all of them; returns the
/// time from its kill, per instance id. Gives up on an instance after `limit`.
async fn wait_detected(
    bases: &[String],
    mut pending: HashMap<String, Instant>,
    poll: Duration,
    limit: Duration,
) -> Vec<(String, f64)> {
    let http = http();
    let mut out = Vec::new();
    while !pending.is_empty() {
        out.extend(settle(&http, bases, &mut pending, limit).await);
        sleep(poll).await;
    }
    out
}

/// One look at every node: the pending instances now DOWN or gone everywhere leave `pending`
/// with the time since their kill (ms); those pending longer than `limit` leave it unmeasured.
async fn settle(
    http: &reqwest::Client,
    bases: &[String],
    pending: &mut HashMap<String, Instant>,
    limit: Duration,
) -> Vec<(String, f64)> {
    let mut docs = Vec::with_capacity(bases.len());
    for b in bases {
        docs.push(apps(http, b).await);
    }
    let now = Instant::now();
    let mut out = Vec::new();
    pending.retain(|id, killed_at| {
        let down_everywhere = docs.iter().all(|d| {
            d.as_ref().is_some_and(|a| status_of(a, id).is_none_or(|s| s == InstanceStatus::Down))
        });
        if down_everywhere {
            out.push((id.clone(), (now - *killed_at).as_secs_f64() * 1000.0));
            return false;
        }
        now - *killed_at < limit
    });
    out
}

/// The status of `id` in a registry document, `None` when it is not listed.
pub fn status_of(apps: &eureka_model::Applications, id: &str) -> Option<InstanceStatus> {
    apps.applications.iter().flat_map(|a| &a.instances).find(|i| i.id() == id).map(|i| i.status)
}

/// Checks on: instances are real listener processes killed with SIGKILL in waves.
async fn checked_path(p: &Params, label: &str, settings: &[&str]) -> anyhow::Result<Row> {
    let tag = if settings.len() > 1 { "fast" } else { "defaults" };
    let nodes = our_cluster(p, tag, settings).await?;
    let bases: Vec<String> = nodes.iter().map(base).collect();
    // Nine healthy instances per killed one in a wave: each node checks a third of them, and
    // a wave must stay well under `max-failing-fraction` on every node (or the node suspects
    // its own network and rightly marks nothing).
    let total = p.kills + 9 * p.wave;
    let mut instances = Vec::with_capacity(total);
    for i in 0..total {
        let listener = Listeners::start(&p.listener, Some(free_port()), 1).await?;
        let port = listener.ports[0];
        instances.push(Instance {
            id: format!("checked-{port}"),
            port,
            node: i % 3,
            alive: Arc::new(AtomicBool::new(true)),
            process: Some(listener),
        });
    }
    register_all(&bases, &instances).await?;
    // Every instance checked (and UP) on every node before the first kill.
    let http = http();
    let interval = if tag == "fast" { Duration::from_secs(1) } else { Duration::from_secs(10) };
    let deadline = Instant::now() + Duration::from_secs(60) + interval * 3;
    loop {
        let mut checked = 0;
        for b in &bases {
            let r =
                http.get(format!("{b}status")).header("Accept", "application/json").send().await;
            if let Ok(r) = r {
                let doc: serde_json::Value = r.json().await.unwrap_or_default();
                checked += doc["healthChecks"]["checkedHere"].as_u64().unwrap_or(0);
            }
        }
        if checked as usize == total {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{label}: {checked} of {total} instances checked"
        );
        sleep(Duration::from_millis(200)).await;
    }
    sleep(interval * 2).await;

    let mut samples = Vec::new();
    let mut missed = 0;
    for wave in instances[..p.kills].chunks_mut(p.wave) {
        let mut pending = HashMap::new();
        for inst in wave.iter_mut() {
            if let Some(mut proc) = inst.process.take() {
                proc.kill();
            }
            inst.alive.store(false, Ordering::Relaxed);
            pending.insert(inst.id.clone(), Instant::now());
        }
        let limit = interval * 10 + Duration::from_secs(10);
        let found = wait_detected(&bases, pending, Duration::from_millis(50), limit).await;
        missed += wave.len() - found.len();
        samples.extend(found.iter().map(|(_, ms)| *ms));
        for inst in wave.iter() {
            let _ = http.delete(format!("{}apps/{APP}/{}", bases[0], inst.id)).send().await;
        }
        // Let the cancels settle and the next wave start at another phase of the rounds.
        sleep(interval + Duration::from_millis(137)).await;
    }
    for node in nodes {
        node.stop().await;
    }
    samples.sort_by(f64::total_cmp);
    Ok(Row { path: label.to_string(), samples, missed })
}

/// Kills spread over one eviction period (60 s), measured in parallel by one poller.
async fn lease_kills(
    bases: &[String],
    instances: &[Instance],
    poll: Duration,
) -> (Vec<f64>, usize) {
    let http = http();
    let spread = Duration::from_secs(60);
    let start = Instant::now();
    let step = spread.div_f64(instances.len().max(1) as f64);
    let mut pending = HashMap::new();
    let mut next = 0;
    let mut samples = Vec::new();
    while next < instances.len() || !pending.is_empty() {
        let now = Instant::now();
        while next < instances.len() && start + step * next as u32 <= now {
            instances[next].alive.store(false, Ordering::Relaxed);
            pending.insert(instances[next].id.clone(), now);
            next += 1;
        }
        if !pending.is_empty() {
            let found = settle(&http, bases, &mut pending, Duration::from_secs(900)).await;
            samples.extend(found.into_iter().map(|(_, ms)| ms));
        }
        sleep(poll).await;
    }
    let missed = instances.len() - samples.len();
    samples.sort_by(f64::total_cmp);
    (samples, missed)
}

/// `kills` instances to kill and nine times as many that keep renewing: an eviction run
/// evicts at most 15 % of the leases (`renewal-percent-threshold`, as in Java), so a registry
/// where most instances die at once drains over several runs; a fleet does not lose half its
/// instances in a minute.
fn lease_instances(kills: usize, prefix: &str) -> Vec<Instance> {
    (0..kills * 10)
        .map(|i| Instance {
            id: format!("{prefix}-{i}"),
            port: 10_000 + i as u16,
            node: i % 3,
            alive: Arc::new(AtomicBool::new(true)),
            process: None,
        })
        .collect()
}

/// Our server without checks: the lease (90 s) runs out, the eviction timer (60 s) evicts.
async fn lease_path_ours(p: &Params) -> anyhow::Result<Row> {
    let nodes = our_cluster(p, "lease", LEASE_ONLY).await?;
    let bases: Vec<String> = nodes.iter().map(base).collect();
    let instances = lease_instances(p.kills, "lease");
    register_all(&bases, &instances).await?;
    sleep(Duration::from_secs(2)).await;
    let (samples, missed) =
        lease_kills(&bases, &instances[..p.kills], Duration::from_millis(250)).await;
    for node in nodes {
        node.stop().await;
    }
    Ok(Row {
        path: "ours, heartbeats only (90s lease, 60s eviction timer)".into(),
        samples,
        missed,
    })
}

/// Three Spring Cloud Eureka servers with their production defaults for what matters here:
/// 90 s leases (expired after twice that, Java's quirk), a 60 s eviction timer and the 30 s
/// read-only response cache; self-preservation off, as on our lease path.
async fn lease_path_java(p: &Params) -> anyhow::Result<Row> {
    let ready = eureka_testkit::real::Ready::load();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let urls: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}/eureka/")).collect();
    let mut children: Vec<Child> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let args = [
            format!("--server.port={port}"),
            format!("--eureka.client.service-url.defaultZone={}", urls.join(",")),
            format!("--eureka.server.my-url={}", urls[i]),
            "--eureka.client.register-with-eureka=false".to_string(),
            "--eureka.client.fetch-registry=true".to_string(),
            "--eureka.server.enable-self-preservation=false".to_string(),
            "--eureka.server.eviction-interval-timer-in-ms=60000".to_string(),
            "--eureka.server.use-read-only-response-cache=true".to_string(),
            "--eureka.server.response-cache-update-interval-ms=30000".to_string(),
            "--eureka.server.delta-retention-timer-interval-in-ms=30000".to_string(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let log = std::fs::File::create(p.log_dir.join(format!("detect-java-node{i}.log")))?;
        let mut cmd = ready.command("SPRING_SERVER_CMD", &args);
        cmd.stdout(log.try_clone()?).stderr(log);
        children.push(cmd.spawn().context("spawn the Spring Eureka server")?);
    }
    let http = http();
    let deadline = Instant::now() + Duration::from_secs(180);
    for url in &urls {
        while apps(&http, url).await.is_none() {
            anyhow::ensure!(Instant::now() < deadline, "Spring server {url} not up");
            sleep(Duration::from_millis(500)).await;
        }
    }
    let instances = lease_instances(p.kills, "java");
    register_all(&urls, &instances).await?;
    sleep(Duration::from_secs(2)).await;
    let (samples, missed) =
        lease_kills(&urls, &instances[..p.kills], Duration::from_millis(250)).await;
    for mut c in children {
        let _ = c.kill().await;
    }
    Ok(Row {
        path: "Spring Cloud Eureka 2025.0.1, heartbeats only (90s lease, 60s eviction, 30s response cache)"
            .into(),
        samples,
        missed,
    })
}

/// The table of rows: samples, p50, p99, max (seconds).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| path | kills | p50 (s) | p99 (s) | max (s) | not detected |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let s = |q: f64| quantile(&r.samples, q) / 1000.0;
        out.push_str(&format!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {} |\n",
            r.path,
            r.samples.len(),
            s(0.5),
            s(0.99),
            s(1.0),
            r.missed
        ));
    }
    out
}

/// Where the binaries are under the workspace root.
pub fn binaries(root: &Path) -> (PathBuf, PathBuf) {
    (root.join("target/release/eureka-server"), root.join("target/release/eureka-bench-listener"))
}
