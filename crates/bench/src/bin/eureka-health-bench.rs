//! `eureka-health-bench`: detection time and cost of server-side health checks (see
//! `eureka_bench::health`). Not part of CI except `detect --quick`.
//!
//! ```sh
//! cargo build --release --locked -p eureka-server -p eureka-bench --bins
//! target/release/eureka-health-bench detect            # 50 kills per path, Java included (~8 min)
//! target/release/eureka-health-bench detect --quick    # 5 kills, fast checks only (seconds)
//! target/release/eureka-health-bench cost              # 10,000 instances, checks off vs on
//! ```

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use eureka_bench::health::{self, cost, detect};

/// Measures server-side health checks: detection time and cost.
#[derive(Debug, Parser)]
#[command(name = "eureka-health-bench")]
struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// kill -9 → DOWN on every node of a 3-node cluster: checks (fast, defaults), lease
    /// expiry (ours, Spring's), p50/p99 over the kills.
    Detect {
        /// Kills per path.
        #[arg(long, default_value_t = 50)]
        kills: usize,
        /// Instances killed at once on the checked paths.
        #[arg(long, default_value_t = 5)]
        wave: usize,
        /// Leave the Spring Cloud Eureka server out.
        #[arg(long)]
        no_java: bool,
        /// Only the checked paths (no lease expiry: minutes per sample).
        #[arg(long)]
        checks_only: bool,
        /// 5 kills, fast checks only: seconds (CI).
        #[arg(long)]
        quick: bool,
    },
    /// One node checking N instances every 10 s: CPU, RSS and renew throughput, checks off
    /// vs on.
    Cost {
        /// Instances (listener ports).
        #[arg(long, default_value_t = 10_000)]
        instances: usize,
        /// Quiet window, seconds.
        #[arg(long, default_value_t = 60)]
        window: u64,
        /// Renewal load per side, seconds.
        #[arg(long, default_value_t = 8)]
        renew_for: u64,
    },
}

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The cost run pins its server to core 0 and this process (the load, the listener
    // processes it starts) to core 1; detection leaves everything unpinned (children inherit
    // a pin, and its clusters need both cores).
    if matches!(args.what, What::Cost { .. }) {
        eureka_bench::process::pin_self_to_load_core()?;
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let root = PathBuf::from(ROOT);
    let (server, listener) = detect::binaries(&root);
    let log_dir = root.join("target/bench/logs");
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    match args.what {
        What::Detect { kills, wave, no_java, checks_only, quick } => {
            let p = detect::Params {
                kills: if quick { 5 } else { kills },
                wave,
                java: !no_java && !quick,
                lease_paths: !checks_only && !quick,
                default_checks: !quick,
                server,
                listener,
                log_dir,
            };
            let load_before = health::load_average();
            let rows = detect::run(&p).await?;
            let table = detect::table(&rows);
            let text = format!(
                "{table}\nload average before / after: {load_before} / {}\n",
                health::load_average()
            );
            println!("{text}");
            std::fs::write(out_dir.join("health-detect.md"), &text)?;
            for r in &rows {
                anyhow::ensure!(r.missed == 0, "{}: {} kills not detected", r.path, r.missed);
            }
        }
        What::Cost { instances, window, renew_for } => {
            let p = cost::Params {
                instances,
                window: Duration::from_secs(window),
                renew_for: Duration::from_secs(renew_for),
                connections: 64,
                server,
                listener,
                log_dir,
            };
            let load_before = health::load_average();
            let sides = cost::run(&p).await?;
            let text = format!(
                "{}\nload average before / after: {load_before} / {}\n",
                cost::table(&sides, p.window),
                health::load_average()
            );
            println!("{text}");
            std::fs::write(out_dir.join("health-cost.md"), &text)?;
        }
    }
    Ok(())
}
