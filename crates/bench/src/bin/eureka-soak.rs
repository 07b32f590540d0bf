//! `eureka-soak`: a cluster of release `eureka-server` processes under a steady client load for
//! a long time (not part of CI); reports errors, lost registrations and RSS over time, and
//! writes `target/bench/soak.{json,md}`. Exits 1 if a registration was lost or the nodes'
//! hashes differ, 130 after Ctrl-C (the report of the part that ran is still written).
//!
//! ```sh
//! cargo build --release --locked -p eureka-server -p eureka-bench --bins
//! target/release/eureka-soak --duration 30m --no-build
//! target/release/eureka-soak --duration 20s --instances 600 --sample-every 5s --no-build  # a quick look
//! target/release/eureka-soak --duration 1m --instances 300000 --cpu-hogs 8 --settle 3m --no-build  # overloaded
//! ```

use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use eureka_bench::soak::{self, parse_duration, Cluster, Params};

/// Soaks a peered cluster of eureka-server processes with renewing instances and fetches.
#[derive(Debug, Parser)]
#[command(name = "eureka-soak")]
struct Args {
    /// How long the renewals and fetches run, e.g. 30m, 60s.
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    duration: Duration,
    /// Instances in total, spread over the nodes and over 100 apps.
    #[arg(long, default_value_t = 10_000)]
    instances: u64,
    /// How often each instance renews on its node.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    renew_every: Duration,
    /// Cluster size.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Full (gzip) fetches per second on each node.
    #[arg(long, default_value_t = 1.0)]
    full_fetch_rate: f64,
    /// Delta fetches per second on each node.
    #[arg(long, default_value_t = 10.0)]
    delta_rate: f64,
    /// Sample period (RSS, rates, errors, instance counts).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    sample_every: Duration,
    /// The registered leaseInfo's renewalIntervalInSecs. Eureka's default (30) keeps the
    /// expected renewals at 2 per minute per instance, far under the 60 the soak sends, so
    /// self-preservation cannot engage however the renewals are shared between nodes.
    #[arg(long, default_value_t = 30)]
    lease_renewal_interval: u32,
    /// The registered leaseInfo's durationInSecs (Eureka's default: 90).
    #[arg(long, default_value_t = 90)]
    lease_duration: u32,
    /// Keep-alive connections per node carrying the renewals.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Competing CPU-bound processes to run from registration to the final check, to prove
    /// that an overloaded cluster gets slower but loses nothing (each stops by itself).
    #[arg(long, default_value_t = 0)]
    cpu_hogs: usize,
    /// How long the final check waits for every node to hold every instance.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    settle: Duration,
    /// Use the existing target/release/eureka-server instead of building it first.
    #[arg(long)]
    no_build: bool,
}

/// The workspace root, where `target/` is.
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// How long a node may drain after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(10);

fn main() -> anyhow::Result<()> {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(soak::hog::BURN_FLAG) {
        let secs: u64 = argv.get(2).and_then(|s| s.parse().ok()).unwrap_or(60);
        soak::hog::burn(Duration::from_secs(secs));
        return Ok(());
    }
    let args = Args::parse();
    if args.nodes == 0 || args.instances == 0 || args.connections == 0 {
        bail!("--nodes, --instances and --connections must be at least 1");
    }
    if args.full_fetch_rate < 0.0 || args.delta_rate < 0.0 {
        bail!("fetch rates cannot be negative");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(run(args))?;
    if report.interrupted {
        std::process::exit(130);
    }
    if !report.passed() {
        std::process::exit(1);
    }
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<soak::SoakReport> {
    let root = std::fs::canonicalize(ROOT)?;
    let out_dir = root.join("target/bench");
    let logs = out_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    if !args.no_build {
        build(&root)?;
    }
    let server = root.join("target/release/eureka-server");
    if !server.exists() {
        bail!("{} missing: build it, or drop --no-build", server.display());
    }
    let params = Params {
        duration: args.duration,
        instances: args.instances,
        renew_every: args.renew_every,
        nodes: args.nodes,
        full_fetch_rate: args.full_fetch_rate,
        delta_rate: args.delta_rate,
        sample_every: args.sample_every,
        lease: (args.lease_renewal_interval, args.lease_duration),
        connections: args.connections,
        cpu_hogs: args.cpu_hogs,
        settle: args.settle,
    };
    explain_self_preservation(&params);

    let (interrupt_tx, interrupt) = tokio::sync::watch::channel(false);
    let signals = tokio::spawn(async move {
        soak::interrupted().await;
        eprintln!("interrupted: stopping the load, then the servers");
        let _ = interrupt_tx.send(true);
    });
    eprintln!("starting {} nodes of {}", params.nodes, server.display());
    let cluster = Cluster::start(&server, params.nodes, &logs).await?;
    for (i, node) in cluster.nodes.iter().enumerate() {
        eprintln!(
            "node {i}: {} (pid {}), log {}",
            node.addr,
            node.pid(),
            cluster.logs[i].display()
        );
    }
    let meta = (shell("date", &["-u"]), std::env::args().collect::<Vec<_>>().join(" "));
    let outcome = soak::run(&params, &cluster, interrupt, meta).await;
    let clean = cluster.stop(GRACE).await;
    signals.abort();
    eprintln!("servers stopped ({clean}/{} exited on SIGTERM)", params.nodes);
    let report = outcome?;

    println!("\n{}\n{}", report.table(), report.summary());
    std::fs::write(out_dir.join("soak.md"), report.markdown())?;
    std::fs::write(out_dir.join("soak.json"), serde_json::to_vec_pretty(&report)?)?;
    eprintln!("wrote {}/soak.{{md,json}}", out_dir.display());
    if !report.passed() {
        eprintln!("FAILED: registrations lost or nodes disagree");
    }
    Ok(report)
}

/// Prints what self-preservation will expect of each node, so a run whose settings would
/// make it engage says so up front.
fn explain_self_preservation(p: &Params) {
    let expected = p.instances as f64 * 60.0 / f64::from(p.lease.0.max(1));
    let threshold = (expected * 0.85).floor();
    let sent = p.instances as f64 * 60.0 / p.renew_every.as_secs_f64();
    let local = sent / p.nodes as f64;
    eprintln!(
        "self-preservation per node: expected {expected:.0} renewals/min, threshold {threshold:.0} (at the default 0.85); \
         the soak sends {local:.0}/min to each node ({sent:.0}/min with the replicated ones)"
    );
    if local <= threshold {
        eprintln!(
            "note: each node stays above its threshold only through replicated heartbeats; \
             self-preservation engages if replication falls behind"
        );
    }
}

/// Builds the release server (this binary is already built).
fn build(root: &std::path::Path) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "--quiet", "-p", "eureka-server", "--bin", "eureka-server"])
        .status()
        .context("run cargo build")?;
    if !status.success() {
        bail!("cargo build failed: {status}");
    }
    Ok(())
}

fn shell(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
