//! The scenarios of the issue, run against one server process. Each records throughput,
//! latency quantiles, the server's CPU (share of its core, and per request) and its peak RSS.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use tokio::time::Instant;

use crate::load::{self, Conn, MakeRequest, Outcome, Until};
use crate::process::ServerProcess;
use crate::report::{Report, Who};
use crate::wire;

/// Connections carrying the changes of the delta scenario.
const CHANGERS: usize = 8;

/// The sizes and durations of a run.
#[derive(Debug, Clone)]
pub struct Params {
    /// Instances registered (scenario 1) and renewed, fetched, changed afterwards.
    pub instances: u64,
    /// Connections of the register, renew and mix loads.
    pub connections: usize,
    /// Concurrent fetchers (scenarios 3, 4, 6).
    pub fetchers: usize,
    /// Measured time of each time-bound scenario.
    pub duration: Duration,
    /// Unmeasured load before it (JIT warm-up for Java, caches for everyone).
    pub warmup: Duration,
    /// Registry sizes of the scale sweep (scenario 6).
    pub sweep: Vec<u64>,
    /// Registrations timed in the propagation scenario (7).
    pub propagation: u64,
    /// Time compression of the realistic mix: 10 means a 30 s cycle is played in 3 s.
    pub mix_compression: f64,
}

/// Which scenarios to run.
#[derive(Debug, Clone)]
pub struct Selection(pub Vec<String>);

impl Selection {
    /// Every scenario name, in run order.
    pub const ALL: [&'static str; 9] =
        ["register", "renew", "fetch", "delta", "mix", "sweep", "propagation", "cluster", "dns"];

    /// Whether `name` runs.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|s| s == name)
    }
}

/// What our server answered, for the hyper baseline to serve the same bytes.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// `GET /eureka/apps` (gzip JSON) of the registry after scenario 1.
    pub apps: Option<Bytes>,
    /// `GET /eureka/apps/delta` (gzip JSON) during scenario 4.
    pub delta: Option<Bytes>,
}

/// One server's share of a run: records into `report` under `who`.
pub struct Run<'a> {
    /// The server.
    pub server: &'a ServerProcess,
    /// Whose column.
    pub who: Who,
    /// Sizes and durations.
    pub params: &'a Params,
    /// Where results go.
    pub report: &'a mut Report,
}

impl Run<'_> {
    /// Scenarios 1–5 and 7 on one server, in that order (each builds on the registry the
    /// previous ones left). Returns what our server answered, for the baseline.
    pub async fn main_scenarios(&mut self, only: &Selection) -> anyhow::Result<Captured> {
        let addr = self.server.addr;
        let p = self.params.clone();
        let n = p.instances;
        let mut captured = Captured::default();

        // 1. Register: always runs, every later scenario needs the registry.
        let dirty: u64 = wire::DIRTY.parse()?;
        let make: MakeRequest = Arc::new(move |seq| wire::register(addr, seq, dirty));
        let out =
            self.measure(load::closed_loop(addr, p.connections, Until::Count(n), make)).await?;
        self.record_load("register", &out)?;
        let apps = self.fetch_once(wire::full_fetch(addr)).await?;
        if self.who != Who::Hyper {
            let listed = count(&wire::inflate(&apps), b"\"instanceId\"");
            if listed != n as usize {
                bail!("{}: {listed} instances listed after registering {n}", self.who.name());
            }
        }
        captured.apps = Some(apps);

        if only.has("renew") {
            let make: MakeRequest = Arc::new(move |seq| wire::renew(addr, seq % n));
            self.timed("renew", p.connections, make).await?;
        }
        if only.has("fetch") {
            let make: MakeRequest = Arc::new(move |_| wire::full_fetch(addr));
            self.timed("fetch", p.fetchers, make).await?;
        }
        if only.has("delta") {
            // 1 % of the instances change per second: re-registrations with a newer
            // lastDirtyTimestamp, on their own connections (several, so a server that answers
            // a register slowly, as Java does under fetch load, still gets the full rate),
            // through warm-up and measurement.
            let rate = (n as f64 / 100.0).max(1.0);
            let changes: MakeRequest = Arc::new(move |seq| {
                wire::register(addr, seq % n, eureka_testkit::fixtures::now_ms())
            });
            let changer =
                tokio::spawn(load::open_loop(addr, CHANGERS, rate, p.warmup + p.duration, changes));
            let make: MakeRequest = Arc::new(move |_| wire::delta_fetch(addr));
            self.timed("delta", p.fetchers, make).await?;
            captured.delta = Some(self.fetch_once(wire::delta_fetch(addr)).await?);
            let changed = changer.await.context("changer panicked")??;
            self.report.record("delta", "changes applied (/s)", self.who, changed.throughput());
        }
        if only.has("mix") {
            self.mix().await?;
        }
        if only.has("propagation") && self.who != Who::Hyper {
            self.propagation().await?;
        }
        Ok(captured)
    }

    /// Scenario 5: every instance renews every 30 s and 10 % of them fetch the delta every
    /// 30 s, played `mix_compression` times faster.
    async fn mix(&mut self) -> anyhow::Result<()> {
        let addr = self.server.addr;
        let p = self.params.clone();
        let n = p.instances;
        let renew_rate = n as f64 / 30.0 * p.mix_compression;
        let delta_rate = n as f64 * 0.1 / 30.0 * p.mix_compression;
        let renews: MakeRequest = Arc::new(move |seq| wire::renew(addr, seq % n));
        let deltas: MakeRequest = Arc::new(move |_| wire::delta_fetch(addr));
        let cpu = self.server.cpu()?;
        let fetchers = (p.fetchers / 4).max(1);
        let delta = tokio::spawn(load::open_loop(addr, fetchers, delta_rate, p.duration, deltas));
        let renew = load::open_loop(addr, p.connections, renew_rate, p.duration, renews).await?;
        let delta = delta.await.context("delta load panicked")??;
        let cpu = self.server.cpu()? - cpu;
        let s = "mix";
        let who = self.who;
        self.report.record(s, "renews (/s)", who, renew.throughput());
        self.report.record(s, "delta fetches (/s)", who, delta.throughput());
        self.report.record(s, "renew p99 (ms)", who, renew.quantile_ms(0.99));
        self.report.record(s, "delta p99 (ms)", who, delta.quantile_ms(0.99));
        self.report.record(
            s,
            "server CPU (% of a core)",
            who,
            100.0 * cpu.as_secs_f64() / renew.elapsed.as_secs_f64(),
        );
        self.report.record(s, "RSS (MiB)", who, self.server.rss_mib()?);
        self.report.record(s, "errors", who, (renew.errors + delta.errors) as f64);
        Ok(())
    }

    /// Scenario 7: from a register's 204 to the answer of the first `GET /eureka/apps` that
    /// lists the instance, polled back to back on one keep-alive connection.
    async fn propagation(&mut self) -> anyhow::Result<()> {
        let addr = self.server.addr;
        let mut conn = Conn::open(addr).await?;
        let mut samples = load::histogram();
        let dirty: u64 = wire::DIRTY.parse()?;
        let first = self.params.instances;
        for n in first..first + self.params.propagation {
            let (status, _) = conn.send(wire::register(addr, n, dirty)).await?;
            if !status.is_success() {
                bail!("propagation: register answered {status}");
            }
            let acked = Instant::now();
            let needle = format!("\"instanceId\":\"{}\"", wire::id(n));
            let visible = loop {
                conn.reopen_if_closed(addr).await?;
                let (_, body) = conn.send(wire::full_fetch(addr)).await?;
                // The server's part ends when the answer is in; inflating and searching 8 MB
                // of JSON here is the load generator's own cost, not propagation.
                let answered = acked.elapsed();
                if count(&wire::inflate(&body), needle.as_bytes()) > 0 {
                    break answered;
                }
                if acked.elapsed() > Duration::from_secs(10) {
                    bail!("propagation: {} not listed after 10 s", wire::id(n));
                }
            };
            let _ = samples.record(visible.as_micros().max(1) as u64);
            conn.reopen_if_closed(addr).await?;
        }
        let who = self.who;
        for (q, name) in [(0.5, "p50 (ms)"), (0.99, "p99 (ms)"), (1.0, "max (ms)")] {
            self.report.record(
                "propagation",
                name,
                who,
                samples.value_at_quantile(q) as f64 / 1000.0,
            );
        }
        Ok(())
    }

    /// Scenario 6 at one size, on a fresh server: RSS with `size` instances and the cost of a
    /// full fetch. The baseline is not sent registrations (it serves our bytes for `size`).
    pub async fn sweep_point(&mut self, size: u64) -> anyhow::Result<Bytes> {
        let addr = self.server.addr;
        let p = self.params.clone();
        let dirty: u64 = wire::DIRTY.parse()?;
        if self.who != Who::Hyper {
            let make: MakeRequest = Arc::new(move |seq| wire::register(addr, seq, dirty));
            let out = load::closed_loop(addr, p.connections, Until::Count(size), make).await?;
            if out.errors > 0 {
                bail!("sweep {size}: {} registrations failed", out.errors);
            }
        }
        let apps = self.fetch_once(wire::full_fetch(addr)).await?;
        let make: MakeRequest = Arc::new(move |_| wire::full_fetch(addr));
        let warmup = Until::Elapsed(p.warmup);
        load::closed_loop(addr, p.fetchers, warmup, make.clone()).await?;
        let cpu = self.server.cpu()?;
        let out = load::closed_loop(addr, p.fetchers, Until::Elapsed(p.duration / 2), make).await?;
        let cpu = self.server.cpu()? - cpu;
        let s = format!("sweep {}", human(size));
        let who = self.who;
        self.report.record(&s, "RSS after fetches (MiB)", who, self.server.rss_mib()?);
        self.report.record(&s, "fetch body (KiB gzip)", who, apps.len() as f64 / 1024.0);
        self.report.record(&s, "fetches (/s)", who, out.throughput());
        self.report.record(&s, "fetch p99 (ms)", who, out.quantile_ms(0.99));
        self.report.record(&s, "CPU per fetch (µs)", who, per_request_us(cpu, &out));
        Ok(apps)
    }

    /// A closed-loop, time-bound scenario after a warm-up.
    async fn timed(
        &mut self,
        scenario: &str,
        connections: usize,
        make: MakeRequest,
    ) -> anyhow::Result<()> {
        let addr = self.server.addr;
        let warmup = Until::Elapsed(self.params.warmup);
        load::closed_loop(addr, connections, warmup, make.clone()).await?;
        let run = Until::Elapsed(self.params.duration);
        let out = self.measure(load::closed_loop(addr, connections, run, make)).await?;
        self.record_load(scenario, &out)
    }

    async fn measure(
        &self,
        load: impl std::future::Future<Output = anyhow::Result<Outcome>>,
    ) -> anyhow::Result<(Outcome, Duration)> {
        let cpu = self.server.cpu()?;
        let out = load.await?;
        Ok((out, self.server.cpu()? - cpu))
    }

    fn record_load(
        &mut self,
        scenario: &str,
        (out, cpu): &(Outcome, Duration),
    ) -> anyhow::Result<()> {
        let who = self.who;
        let r = &mut *self.report;
        r.record(scenario, "throughput (req/s)", who, out.throughput());
        r.record(scenario, "p50 (ms)", who, out.quantile_ms(0.5));
        r.record(scenario, "p99 (ms)", who, out.quantile_ms(0.99));
        r.record(scenario, "p99.9 (ms)", who, out.quantile_ms(0.999));
        r.record(
            scenario,
            "server CPU (% of a core)",
            who,
            100.0 * cpu.as_secs_f64() / out.elapsed.as_secs_f64(),
        );
        r.record(scenario, "CPU per request (µs)", who, per_request_us(*cpu, out));
        r.record(scenario, "peak RSS (MiB)", who, self.server.peak_rss_mib()?);
        r.record(scenario, "errors", who, out.errors as f64);
        if out.ok == 0 {
            bail!("{scenario}: no request of {} succeeded", who.name());
        }
        Ok(())
    }

    async fn fetch_once(&self, req: hyper::Request<load::Body>) -> anyhow::Result<Bytes> {
        let mut conn = Conn::open(self.server.addr).await?;
        let (status, body) = conn.send(req).await?;
        if !status.is_success() {
            bail!("{}: fetch answered {status}", self.who.name());
        }
        Ok(body)
    }
}

fn per_request_us(cpu: Duration, out: &Outcome) -> f64 {
    cpu.as_secs_f64() * 1e6 / out.ok.max(1) as f64
}

/// `1k`, `10k`, `100k`, or the number.
pub fn human(n: u64) -> String {
    if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// Scenario 7 on a 3-node cluster: from a register's 204 on the first node to the answers of
/// the first `GET /eureka/apps` on each other node that list the instance (the later of the
/// two), each peer polled back to back on its own keep-alive connection.
pub async fn cluster_propagation(
    nodes: &[ServerProcess],
    count: u64,
    who: Who,
    report: &mut Report,
) -> anyhow::Result<()> {
    let Some((first, peers)) = nodes.split_first() else {
        bail!("cluster propagation needs nodes");
    };
    let mut writer = Conn::open(first.addr).await?;
    let mut readers = Vec::with_capacity(peers.len());
    for peer in peers {
        readers.push((peer.addr, Conn::open(peer.addr).await?));
    }
    let dirty: u64 = wire::DIRTY.parse()?;
    let mut samples = load::histogram();
    for n in 0..count {
        // Tomcat closes a keep-alive connection after 100 requests.
        writer.reopen_if_closed(first.addr).await?;
        let (status, _) = writer.send(wire::register(first.addr, n, dirty)).await?;
        if !status.is_success() {
            bail!("cluster propagation: register answered {status}");
        }
        let acked = Instant::now();
        let needle = format!("\"instanceId\":\"{}\"", wire::id(n));
        let mut slowest = Duration::ZERO;
        for (addr, conn) in &mut readers {
            let visible = loop {
                conn.reopen_if_closed(*addr).await?;
                let (_, body) = conn.send(wire::full_fetch(*addr)).await?;
                let answered = acked.elapsed();
                if self::count(&wire::inflate(&body), needle.as_bytes()) > 0 {
                    break answered;
                }
                if acked.elapsed() > Duration::from_secs(30) {
                    bail!("cluster propagation: {} not on {addr} after 30 s", wire::id(n));
                }
            };
            slowest = slowest.max(visible);
        }
        let _ = samples.record(slowest.as_micros().max(1) as u64);
    }
    for (q, name) in [(0.5, "p50 (ms)"), (0.99, "p99 (ms)"), (1.0, "max (ms)")] {
        let ms = samples.value_at_quantile(q) as f64 / 1000.0;
        report.record("propagation, 3 nodes", name, who, ms);
    }
    Ok(())
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}
