//! `eureka-bench`: runs the benchmark scenarios against our server, the bare hyper baseline
//! and the Spring Cloud Eureka server, one after the other on the same machine, and writes
//! `target/bench/report.{json,md}`.
//!
//! ```sh
//! cargo build --release -p eureka-server -p eureka-bench --bins   # one build of both
//! target/release/eureka-bench --full --no-build                  # the full run (minutes)
//! target/release/eureka-bench --quick --no-java --no-build       # seconds, small counts (CI)
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use eureka_bench::process::{self, ServerProcess};
use eureka_bench::report::{Meta, Report, Target, Who};
use eureka_bench::scenario::{self, human, Captured, Params, Run, Selection};
use eureka_bench::{dns, wire};

/// Benchmarks our server against the Spring Cloud Eureka server and a bare hyper server.
#[derive(Debug, Parser)]
#[command(name = "eureka-bench")]
struct Args {
    /// Seconds, small counts: keeps the harness from rotting (CI).
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// The full run (the default): 10k instances, 8 s per scenario, sweep 1k/10k/100k.
    #[arg(long)]
    full: bool,
    /// Only these scenarios (comma-separated): register, renew, fetch, delta, mix, sweep,
    /// propagation, cluster (propagation on 3 nodes), dns. Register always runs with any of
    /// the HTTP scenarios: they need its registry.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Include the Spring Cloud Eureka server (the default; needs
    /// `scripts/prepare-real-clients`).
    #[arg(long, conflicts_with = "no_java")]
    java: bool,
    /// Leave the Java server out.
    #[arg(long)]
    no_java: bool,
    /// Do not build `eureka-server` and `eureka-bench-hyper` first.
    #[arg(long)]
    no_build: bool,
    /// Run our server with `eureka.security.enabled` and one `write` user whose password is a
    /// bcrypt hash, and send its credentials with every request (what authentication costs).
    #[arg(long)]
    auth: bool,
}

/// The workspace root, where `target/` is.
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Lease and delta settings given to both registries (the Spring harness's `application.yml`
/// already has self-preservation and the read-only response cache off). A 10 s delta retention
/// makes the delta of scenario 4 hold the recent 1 %/s changes rather than the registration
/// burst of scenario 1.
const DELTA_RETENTION_MS: &str = "10000";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Counted before pinning: afterwards this process sees only its own core.
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    // Before any thread exists, so the runtime's threads inherit the core.
    process::pin_self_to_load_core()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(run(args, cores))
}

async fn run(args: Args, cores: usize) -> anyhow::Result<()> {
    let mode = if args.quick { "quick" } else { "full" };
    let params = if args.quick {
        Params {
            instances: 500,
            connections: 16,
            fetchers: 8,
            duration: Duration::from_millis(500),
            warmup: Duration::from_millis(200),
            sweep: vec![100, 1000],
            propagation: 20,
            mix_compression: 10.0,
        }
    } else {
        Params {
            instances: 10_000,
            connections: 64,
            fetchers: 50,
            duration: Duration::from_secs(8),
            warmup: Duration::from_secs(3),
            sweep: vec![1_000, 10_000, 100_000],
            propagation: 200,
            mix_compression: 10.0,
        }
    };
    let only = if args.only.is_empty() {
        Selection(Selection::ALL.iter().map(|s| s.to_string()).collect())
    } else {
        for s in &args.only {
            if !Selection::ALL.contains(&s.as_str()) {
                bail!("--only {s}: not one of {}", Selection::ALL.join(", "));
            }
        }
        Selection(args.only.clone())
    };
    let root = std::fs::canonicalize(ROOT)?;
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(out_dir.join("logs"))?;
    if !args.no_build {
        build()?;
    }
    let bin = root.join("target/release");
    let ours_bin = bin.join("eureka-server").display().to_string();
    let hyper_bin = bin.join("eureka-bench-hyper").display().to_string();
    let hickory_bin = bin.join("eureka-bench-dns").display().to_string();
    // The DNS scenario has no Java column.
    let dns_only = only.0.iter().all(|s| s == "dns");
    let java = if args.no_java || dns_only { None } else { Some(java_command()?) };
    let security = if args.auth {
        wire::send_credentials();
        let (user, password) = wire::AUTH_USER;
        let hash = bcrypt::hash(password, bcrypt::DEFAULT_COST)?;
        vec![
            "eureka.security.enabled=true".to_string(),
            format!("eureka.security.users.{user}.password={{bcrypt}}{hash}"),
            format!("eureka.security.users.{user}.roles=write"),
        ]
    } else {
        Vec::new()
    };
    let ours_args = |port: u16| ours_args(port, &security);

    let mut servers = vec![
        format!("ours: taskset -c {} {ours_bin} {}", process::SERVER_CORE, ours_args(0).join(" ")),
        format!(
            "hyper: taskset -c {} {hyper_bin} --port P --apps FILE --delta FILE",
            process::SERVER_CORE
        ),
    ];
    if only.has("dns") {
        servers.push(format!(
            "hickory (dns): taskset -c {} {hickory_bin} --port P --name {} --address … (static records)",
            process::SERVER_CORE,
            eureka_bench::dns::NAME
        ));
    }
    if let Some((program, args)) = &java {
        let args = java_args(args, 0);
        servers.push(format!(
            "java: taskset -c {} {program} {}",
            process::SERVER_CORE,
            args.join(" ")
        ));
    }
    servers.push(format!(
        "load generator: pinned to core {}, one thread, {} connections ({} fetchers), warm-up {:?}, {:?} per scenario",
        process::LOAD_CORE, params.connections, params.fetchers, params.warmup, params.duration
    ));
    let meta = Meta {
        date: shell("date", &["-u"]).unwrap_or_default(),
        mode: mode.to_string(),
        cores,
        memory_gib: mem_total_gib(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        servers,
    };
    let mut report = Report::new(meta);
    let logs = out_dir.join("logs");

    if only.has("dns") {
        eprintln!("== dns: ours, then hickory");
        let ours = |http: u16, dns: u16| (ours_bin.clone(), dns::ours_args(ours_args(http), dns));
        dns::run(&ours, &hickory_bin, &params, &logs, &mut report).await?;
    }
    // Only the DNS scenario: nothing below needs a registry.
    let http = !dns_only;

    // Ours first: the baseline serves the bytes it answered.
    let start_ours = |port: u16| (ours_bin.clone(), ours_args(port));
    let captured = match http {
        true => {
            eprintln!("== ours");
            main_and_sweep(
                &mut report,
                Who::Ours,
                &params,
                &only,
                &logs,
                &out_dir,
                &start_ours,
                None,
            )
            .await?
        }
        false => Captured::default(),
    };

    if http {
        eprintln!("== hyper");
        // Its arguments (port and body files) are made by `main_and_sweep`.
        let start_hyper = |_: u16| (hyper_bin.clone(), Vec::new());
        main_and_sweep(
            &mut report,
            Who::Hyper,
            &params,
            &only,
            &logs,
            &out_dir,
            &start_hyper,
            Some(&captured),
        )
        .await?;
    }

    if let Some((program, base)) = &java {
        eprintln!("== java");
        let start_java = |port: u16| (program.clone(), java_args(base, port));
        main_and_sweep(&mut report, Who::Java, &params, &only, &logs, &out_dir, &start_java, None)
            .await?;
    }

    if only.has("cluster") {
        eprintln!("== ours, 3 nodes");
        let ours = |ports: &[u16], i: usize| (ours_bin.clone(), ours_cluster_args(ports, i));
        cluster(&mut report, Who::Ours, &params, &logs, &ours, Duration::from_secs(20)).await?;
        if let Some((program, base)) = &java {
            eprintln!("== java, 3 nodes");
            let java =
                |ports: &[u16], i: usize| (program.clone(), java_cluster_args(base, ports, i));
            // Java's column is a comparison: losing it must not lose the whole run.
            let java_cluster =
                cluster(&mut report, Who::Java, &params, &logs, &java, Duration::from_secs(180));
            if let Err(e) = java_cluster.await {
                eprintln!("warning: no 3-node figures for java: {e:#}");
            }
        }
    }

    let rt = "throughput (req/s)";
    report.target("register", rt, Target::AtLeast { of: Who::Java, ratio: 10.0 });
    report.target("register", "peak RSS (MiB)", Target::AtMost { of: Who::Java, ratio: 0.1 });
    report.target("renew", rt, Target::AtLeast { of: Who::Hyper, ratio: 0.7 });
    report.target("renew", rt, Target::AtLeast { of: Who::Java, ratio: 20.0 });
    report.target("fetch", rt, Target::AtLeast { of: Who::Hyper, ratio: 0.7 });
    report.target("propagation", "p99 (ms)", Target::Below { limit: 10.0 });
    report.target(
        "dns",
        "throughput (queries/s)",
        Target::AtLeast { of: Who::Hickory, ratio: 0.7 },
    );

    let table = report.table();
    println!("\n{}\n{table}", report.meta.date);
    std::fs::write(out_dir.join("report.md"), report.markdown())?;
    std::fs::write(out_dir.join("report.json"), serde_json::to_vec_pretty(&report)?)?;
    eprintln!("wrote {}/report.{{md,json}}", out_dir.display());
    Ok(())
}

/// Starts a server on a port: (program, arguments).
type Start<'a> = dyn Fn(u16) -> (String, Vec<String>) + 'a;

/// The main scenarios on one server, then the sweep on a fresh server per size. For the hyper
/// baseline, `captured` holds our answers (written to files it serves).
#[allow(clippy::too_many_arguments)]
async fn main_and_sweep(
    report: &mut Report,
    who: Who,
    params: &Params,
    only: &Selection,
    logs: &Path,
    out_dir: &Path,
    start: &Start<'_>,
    captured: Option<&Captured>,
) -> anyhow::Result<Captured> {
    let name = who.name();
    let startup = if who == Who::Java { Duration::from_secs(120) } else { Duration::from_secs(20) };
    let spawn = |port: u16, apps: &Path| {
        let (program, mut args) = start(port);
        if who == Who::Hyper {
            // The hyper start closure only knows the port; the bodies are files.
            args = vec![
                "--port".into(),
                port.to_string(),
                "--apps".into(),
                apps.display().to_string(),
                "--delta".into(),
                out_dir.join("delta.json.gz").display().to_string(),
            ];
        }
        (program, args)
    };
    let main_apps = out_dir.join(format!("apps-{}.json.gz", params.instances));
    if let Some(c) = captured {
        std::fs::write(&main_apps, c.apps.as_deref().unwrap_or_default())?;
        std::fs::write(out_dir.join("delta.json.gz"), c.delta.as_deref().unwrap_or_default())?;
    }
    let port = process::free_port();
    let (program, args) = spawn(port, &main_apps);
    let log = logs.join(format!("{name}-main.log"));
    let server = ServerProcess::start(&program, &args, port, &log, startup).await?;
    let mut run = Run { server: &server, who, params, report };
    let got = run.main_scenarios(only).await.with_context(|| format!("{name}: main scenarios"))?;
    server.stop().await;

    if only.has("sweep") {
        for &size in &params.sweep {
            let apps = out_dir.join(format!("apps-{size}.json.gz"));
            let port = process::free_port();
            let (program, args) = spawn(port, &apps);
            let log = logs.join(format!("{name}-sweep-{}.log", human(size)));
            let server = ServerProcess::start(&program, &args, port, &log, startup).await?;
            let mut run = Run { server: &server, who, params, report };
            let body =
                run.sweep_point(size).await.with_context(|| format!("{name}: sweep {size}"))?;
            if who == Who::Ours {
                std::fs::write(&apps, &body)?;
            }
            server.stop().await;
        }
    }
    Ok(got)
}

/// Starts node `i` of a cluster on `ports`: (program, arguments).
type StartNode<'a> = dyn Fn(&[u16], usize) -> (String, Vec<String>) + 'a;

/// Scenario 7 on three nodes of one kind that name each other as peers.
async fn cluster(
    report: &mut Report,
    who: Who,
    params: &Params,
    logs: &Path,
    start: &StartNode<'_>,
    startup: Duration,
) -> anyhow::Result<()> {
    let ports: Vec<u16> = (0..3).map(|_| process::free_port()).collect();
    let node = |i: usize| {
        let (program, args) = start(&ports, i);
        let log = logs.join(format!("{}-cluster-{i}.log", who.name()));
        let port = ports[i];
        async move { ServerProcess::start(&program, &args, port, &log, startup).await }
    };
    // Started together: each Java node waits for its peers during start-up.
    let (a, b, c) = tokio::try_join!(node(0), node(1), node(2))?;
    let nodes = [a, b, c];
    let measured = scenario::cluster_propagation(&nodes, params.propagation, who, report).await;
    for node in nodes {
        node.stop().await;
    }
    measured.with_context(|| format!("{}: 3-node propagation", who.name()))
}

/// Our node `i` of a cluster on `ports`, peered with the others.
fn ours_cluster_args(ports: &[u16], i: usize) -> Vec<String> {
    let mut args = ours_args(ports[i], &[]);
    for (j, port) in ports.iter().enumerate() {
        if j != i {
            args.push("--peer".into());
            args.push(format!("http://127.0.0.1:{port}/eureka/"));
        }
    }
    args
}

/// The Spring server's node `i` of a cluster on `ports`: every node lists the whole cluster
/// and recognises itself by `my-url`, as `eureka_testkit::real::SpringServer` starts them.
fn java_cluster_args(base: &[String], ports: &[u16], i: usize) -> Vec<String> {
    let urls: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}/eureka/")).collect();
    let mut args = java_args(base, ports[i]);
    args.extend([
        format!("--eureka.client.service-url.defaultZone={}", urls.join(",")),
        format!("--eureka.server.my-url={}", urls[i]),
        "--eureka.client.register-with-eureka=false".into(),
        "--eureka.client.fetch-registry=true".into(),
        "--eureka.server.registry-sync-retries=1".into(),
        "--eureka.server.registry-sync-retry-wait-ms=500".into(),
        "--eureka.server.wait-time-in-ms-when-sync-empty=0".into(),
    ]);
    args
}

fn ours_args(port: u16, security: &[String]) -> Vec<String> {
    let mut args = vec!["--port".to_string(), port.to_string()];
    for kv in [
        "eureka.server.enable-self-preservation=false".to_string(),
        "eureka.server.eviction-interval-timer-in-ms=1000".to_string(),
        "eureka.server.delta-retention-timer-interval-in-ms=1000".to_string(),
        format!("eureka.server.retention-time-in-m-s-in-delta-queue={DELTA_RETENTION_MS}"),
    ]
    .into_iter()
    .chain(security.iter().cloned())
    {
        args.push("--set".into());
        args.push(kv);
    }
    args
}

/// The Spring server's command from the prepared `READY` file, minus
/// `-XX:TieredStopAtLevel=1`: that flag makes tests start faster but stops the JIT at C1, and a
/// benchmark must run Java as it runs in production.
fn java_command() -> anyhow::Result<(String, Vec<String>)> {
    let ready = std::env::var_os("EUREKA_REAL_CLIENTS_READY")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("target/real-clients/READY"));
    if !ready.exists() {
        bail!("{} missing: run scripts/prepare-real-clients, or pass --no-java", ready.display());
    }
    let ready = eureka_testkit::real::Ready::load();
    let mut parts = ready.get("SPRING_SERVER_CMD").split(' ').map(str::to_string);
    let program = parts.next().context("empty SPRING_SERVER_CMD")?;
    Ok((program, parts.filter(|a| a != "-XX:TieredStopAtLevel=1").collect()))
}

fn java_args(base: &[String], port: u16) -> Vec<String> {
    let mut args = base.to_vec();
    args.push(format!("--server.port={port}"));
    args.push(format!("--eureka.server.retention-time-in-m-s-in-delta-queue={DELTA_RETENTION_MS}"));
    args
}

/// Builds the two server binaries in release mode (the one running is already built).
fn build() -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(ROOT)
        .args(["build", "--release", "--quiet", "-p", "eureka-server", "--bin", "eureka-server"])
        .args(["-p", "eureka-bench", "--bin", "eureka-bench-hyper", "--bin", "eureka-bench-dns"])
        .status()
        .context("run cargo build")?;
    if !status.success() {
        bail!("cargo build failed: {status}");
    }
    Ok(())
}

fn shell(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program).args(args).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn mem_total_gib() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0)
}
