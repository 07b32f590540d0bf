//! `eureka-heap`: where a server's heap goes, structure by structure, for a registry of N
//! instances shaped like the soak's (the Java client's registration body, 100 apps).
//!
//! Builds, in one process under dhat's heap profiler, what a node holds during a registration
//! storm (the registry, a delta covering everything, one peer's replication queue) and at
//! steady state (leases renewed, the delta window past, the snapshot, the JSON response
//! cache), prints the live heap each one adds, then the peak of a rebuild after one change. The call-site profile goes to `target/bench/dhat-heap.json`
//! (open it in dhat's viewer, `dh_view.html`).
//!
//! ```sh
//! cargo run --release -p eureka-bench --features heap-profile --bin eureka-heap -- --instances 100000
//! ```

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use eureka_model::{Codec, Detail, Format};
use eureka_registry::{Origin, Registry, RenewRequest};
use eureka_server::cache::ResponseCache;
use eureka_server::replication::task::{ReplicationTask, TaskQueue};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Measures the heap a registry of N instances costs, by structure.
#[derive(Debug, Parser)]
#[command(name = "eureka-heap")]
struct Args {
    /// Instances registered (spread over 100 apps, as in the soak).
    #[arg(long, default_value_t = 100_000)]
    instances: u64,
    /// Also profile the XML forms (a node serves XML only to clients that ask for it).
    #[arg(long)]
    xml: bool,
}

/// The workspace root, where `target/` is.
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// Lease time of the registrations (the soak's `lastDirtyTimestamp`).
const NOW: u64 = 1_700_000_000_000;

struct Meter {
    last: u64,
    instances: u64,
}

impl Meter {
    fn live() -> u64 {
        dhat::HeapStats::get().curr_bytes as u64
    }

    /// Records what the heap grew by since the previous row.
    fn row(&mut self, what: &str) {
        let now = Self::live();
        let grew = now as i64 - self.last as i64;
        println!(
            "{what:<58} {:>10.1} MiB {:>8.0} B/instance",
            grew as f64 / 1048576.0,
            grew as f64 / self.instances as f64
        );
        self.last = now;
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let out = std::fs::canonicalize(ROOT)?.join("target/bench");
    std::fs::create_dir_all(&out)?;
    let _profiler = dhat::Profiler::builder()
        .file_name(out.join("dhat-heap.json"))
        .trim_backtraces(Some(8))
        .build();
    let n = args.instances;
    let mut m = Meter { last: Meter::live(), instances: n };
    println!(
        "{n} instances over {} apps; live heap added by each structure:",
        eureka_bench::wire::APPS
    );

    let registry = Registry::new(Default::default());
    for k in 0..n {
        let body = eureka_testkit::fixtures::java_json_lease(
            &eureka_bench::wire::app(k),
            &eureka_bench::wire::id(k),
            8080,
            (30, 90),
            NOW,
        );
        let mut info = eureka_model::json::decode_instance(body.as_bytes())?;
        info.normalize();
        registry.register(info, Origin::Client, NOW);
    }
    m.row("registry after the storm (records, leases, indexes, delta queue, change log)");

    let (_, delta) = registry.delta();
    let delta_json = Format::Json.encode_applications(&delta);
    m.row("storm-time delta (every instance is in the window) + its JSON");
    drop((delta, delta_json));
    m.last = Meter::live();

    let mut queue = TaskQueue::new();
    for (info, _) in registry.replicas(NOW) {
        queue.push(Arc::new(ReplicationTask::register(info)), tokio::time::Instant::now());
    }
    m.row("storm-time replication queue of one peer (a Register per instance)");
    drop(queue);
    m.last = Meter::live();

    // Steady state: every lease renewed since, the storm out of the delta's window.
    let renewed = NOW + 30_000;
    for k in 0..n {
        let req = RenewRequest {
            last_dirty_timestamp: Some(NOW),
            overridden_status: None,
            origin: Origin::Client,
        };
        let _ =
            registry.renew(&eureka_bench::wire::app(k), &eureka_bench::wire::id(k), req, renewed);
    }
    registry.purge_delta(renewed + Duration::from_secs(3600).as_millis() as u64);
    // A delta fetcher replaces the registry's cached storm-time delta with the empty one.
    let _ = registry.delta();
    m.row("renewals, then the delta queue purged (steady state)");

    let snap = registry.snapshot();
    m.row("snapshot with live lease timestamps (reads are served from it)");

    let cache = ResponseCache::default();
    let json = cache.full_registry(&snap, Codec::new(Format::Json, Detail::Full));
    let gzip = json.gzip().len();
    m.row("JSON full registry: per-app fragments + gzip document");
    if args.xml {
        let xml = cache.full_registry(&snap, Codec::new(Format::Xml, Detail::Full));
        let _ = xml.gzip();
        m.row("XML full registry: per-app fragments + gzip document");
    }
    let steady = Meter::live();
    let plain = json.plain().len();
    m.row("JSON full registry: plain document (only once a client asks)");
    println!("  (JSON document: {:.1} MiB plain, {:.1} MiB gzip)", mib(plain), mib(gzip));
    drop(json);

    let mut info = eureka_model::json::decode_instance(
        eureka_testkit::fixtures::java_json_lease("APP-000", "inst-extra", 8080, (30, 90), NOW)
            .as_bytes(),
    )?;
    info.normalize();
    registry.register(info, Origin::Client, renewed + 1);
    let snap2 = registry.snapshot();
    drop(snap);
    let _ = cache.full_registry(&snap2, Codec::new(Format::Json, Detail::Full)).gzip().len();
    let stats = dhat::HeapStats::get();
    println!(
        "steady live heap (gzip clients only) {:.1} MiB = {:.0} B/instance; after one change \
         and a rebuild {:.1} MiB; peak over the run {:.1} MiB",
        mib(steady as usize),
        steady as f64 / n as f64,
        mib(stats.curr_bytes),
        mib(stats.max_bytes)
    );
    Ok(())
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / 1048576.0
}
