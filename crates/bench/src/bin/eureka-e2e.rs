//! `eureka-e2e`: the end-to-end benchmark. A Spring Boot caller at a steady rate through a
//! `@LoadBalanced` `RestClient` to a service of three Spring Boot instances; one instance is
//! killed (-9), drained or stopped (SIGTERM); how long the caller keeps sending to it, and how
//! many calls fail, under (1) eureka-rs with health checks and the starter, (2) eureka-rs with
//! stock clients, (3) the Spring Cloud Eureka server with stock clients. Writes
//! `target/bench/e2e.md`.
//!
//! ```sh
//! scripts/prepare-real-clients
//! cargo build --release -p eureka-server -p eureka-bench --bins
//! target/release/eureka-e2e --reps 3
//! ```
//! Stock clients take minutes per event (30 s fetches, a 35 s load balancer cache, 90 s leases),
//! so a full run takes about an hour; `--setups` and `--events` choose a part.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::Parser;
use eureka_bench::e2e::{self, Event, Params, Setup, SETUPS};
use eureka_testkit::real::Ready;

/// End-to-end: how long Spring Boot callers keep calling a gone instance.
#[derive(Debug, Parser)]
#[command(name = "eureka-e2e")]
struct Args {
    /// Repetitions of each event under set-up (1).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Repetitions under the stock set-ups (2) and (3), minutes each.
    #[arg(long, default_value_t = 2)]
    stock_reps: usize,
    /// Set-ups to run, comma-separated: 1, 2, 3.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    setups: Vec<String>,
    /// Events, comma-separated: kill, drain, term.
    #[arg(long, value_delimiter = ',', default_value = "kill,drain,term")]
    events: Vec<String>,
    /// The caller's calls per second.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Seconds after an event at which the measurement gives up ("> cap" in the table).
    #[arg(long, default_value_t = 300)]
    cap: u64,
    /// More eureka-rs settings of set-up (1), `KEY=VALUE`, repeatable (`--set` of
    /// eureka-server); its health checks are always on.
    #[arg(long = "ours-set")]
    ours_set: Vec<String>,
    /// Leave set-up (1)'s health checks off (a server without them refuses their keys).
    #[arg(long)]
    no_health_checks: bool,
}

/// The workspace root, where `target/` is.
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Health checks of set-up (1): probe every second, down after two failures.
const HEALTH: [&str; 3] = [
    "eureka.server.health-checks.enabled=true",
    "eureka.server.health-checks.interval=1s",
    "eureka.server.health-checks.failures-before-down=2",
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = std::fs::canonicalize(ROOT)?;
    let ours_bin = root.join("target/release/eureka-server");
    if !ours_bin.exists() {
        bail!("{} missing: cargo build --release -p eureka-server", ours_bin.display());
    }
    let setups: Vec<Setup> =
        SETUPS.into_iter().filter(|s| args.setups.iter().any(|k| k == s.key)).collect();
    let events: Vec<Event> =
        Event::ALL.into_iter().filter(|e| args.events.iter().any(|k| k == e.key())).collect();
    if setups.is_empty() || events.is_empty() {
        bail!("no set-up or no event selected");
    }
    let health = if args.no_health_checks { &[][..] } else { &HEALTH[..] };
    let mut ours_extra: Vec<String> = health.iter().map(|s| s.to_string()).collect();
    ours_extra.extend(args.ours_set.iter().cloned());
    let params = Params {
        rate: args.rate,
        cap: Duration::from_secs(args.cap),
        quiet: Duration::from_secs(5),
        settle: Duration::from_secs(240),
        ours_extra,
        ours_bin,
        logs: root.join("target/bench/logs"),
    };
    std::fs::create_dir_all(&params.logs)?;
    let ready = Ready::load();
    let mut results = Vec::new();
    for &setup in &setups {
        eprintln!("== {}", setup.label);
        let reps = if setup.key == "1" { args.reps } else { args.stock_reps };
        results.push(e2e::run_setup(setup, &events, reps, &params, &ready).await?);
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let table = e2e::table(&setups, &events, &results, params.cap);
    let text = format!(
        "Command: `{command}`\n\nTime from the event to the last call the caller sent to the \
         instance, and calls that failed from the event on: median (max) over n repetitions; \
         caller at {} calls/s. Set-up (1) extra settings: {:?}.\n\n{table}",
        params.rate, params.ours_extra
    );
    println!("\n{text}");
    let out = PathBuf::from(&root).join("target/bench/e2e.md");
    e2e::write(&out, &text)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
