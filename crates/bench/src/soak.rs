//! The soak run behind `eureka-soak`: a cluster of `eureka-server` processes peered with each
//! other, thousands of instances renewing on "their" node as real clients do, full and delta
//! fetches on every node, for a given duration.
//!
//! Every sample period it records each node's RSS (`VmRSS`), request rate, errors by kind
//! (connection errors, timeouts, non-2xx answers by status) and lost leases (a renewal
//! answered 404, after which the instance registers again, as a client would). At the end it
//! checks that every node holds every instance UP with the same `apps__hashcode`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use hyper::{Request, StatusCode};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::load::{Body, Conn};
use crate::process::{free_port, ServerProcess};
use crate::wire;

/// Longest wait for one answer; a client gives up and reconnects after it (Java's read
/// timeout is 8 s, its connect timeout 5 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the final check waits for every node to hold every instance: replication of the
/// last writes takes milliseconds, a re-registration after a lost lease a little more.
pub const SETTLE: Duration = Duration::from_secs(30);
/// How long a node may take to become ready (bind, and copy the registry from its peers).
pub const STARTUP: Duration = Duration::from_secs(60);

/// What to run.
#[derive(Debug, Clone)]
pub struct Params {
    /// How long the renewals and fetches run (after registration).
    pub duration: Duration,
    /// Instances in total, spread over the nodes (instance `n` lives on node `n % nodes`).
    pub instances: u64,
    /// Each instance renews this often on its node.
    pub renew_every: Duration,
    /// Cluster size.
    pub nodes: usize,
    /// Full (gzip) fetches per second, on each node.
    pub full_fetch_rate: f64,
    /// Delta fetches per second, on each node.
    pub delta_rate: f64,
    /// How often a sample (RSS, rates, errors, counts) is taken.
    pub sample_every: Duration,
    /// The `leaseInfo` registered: (`renewalIntervalInSecs`, `durationInSecs`).
    pub lease: (u32, u32),
    /// Keep-alive connections per node that carry the renewals.
    pub connections: usize,
}

/// The kinds of request the load sends, each counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Register,
    Renew,
    FullFetch,
    Delta,
    /// The sampler's `GET status`, on counters of its own.
    Status,
}

const KINDS: usize = 5;

/// Counters one node's load shares; read by the sampler.
#[derive(Debug, Default)]
struct Counters {
    requests: [AtomicU64; KINDS],
    connect_errors: AtomicU64,
    timeouts: AtomicU64,
    /// Non-2xx answers by status (a renewal's 404 is a lost lease, counted apart).
    http_errors: Mutex<BTreeMap<u16, u64>>,
    lost_leases: AtomicU64,
    reregistered: AtomicU64,
}

impl Counters {
    fn tally(&self) -> Tally {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Tally {
            registers: get(&self.requests[Kind::Register as usize]),
            renews: get(&self.requests[Kind::Renew as usize]),
            full_fetches: get(&self.requests[Kind::FullFetch as usize]),
            deltas: get(&self.requests[Kind::Delta as usize]),
            connect_errors: get(&self.connect_errors),
            timeouts: get(&self.timeouts),
            http_errors: self.http_errors.lock().expect("counter lock").clone(),
            lost_leases: get(&self.lost_leases),
            reregistered: get(&self.reregistered),
        }
    }
}

/// Counts at one moment (or between two moments, see `Tally::since`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Registrations sent (the initial ones and re-registrations).
    pub registers: u64,
    /// Renewals sent.
    pub renews: u64,
    /// Full fetches sent.
    pub full_fetches: u64,
    /// Delta fetches sent.
    pub deltas: u64,
    /// Connections refused or broken.
    pub connect_errors: u64,
    /// Requests unanswered after [`REQUEST_TIMEOUT`].
    pub timeouts: u64,
    /// Non-2xx answers by status, a renewal's 404 excepted.
    pub http_errors: BTreeMap<u16, u64>,
    /// Renewals answered 404: the node had lost the lease.
    pub lost_leases: u64,
    /// Re-registrations after a lost lease that the node accepted.
    pub reregistered: u64,
}

impl Tally {
    /// Every request sent.
    pub fn requests(&self) -> u64 {
        self.registers + self.renews + self.full_fetches + self.deltas
    }

    /// Connection errors, timeouts and non-2xx answers (lost leases are counted apart).
    pub fn errors(&self) -> u64 {
        self.connect_errors + self.timeouts + self.http_errors.values().sum::<u64>()
    }

    /// The counts since `earlier`.
    fn since(&self, earlier: &Tally) -> Tally {
        let mut http_errors = self.http_errors.clone();
        for (status, n) in &earlier.http_errors {
            *http_errors.entry(*status).or_default() -= n;
        }
        http_errors.retain(|_, n| *n > 0);
        Tally {
            registers: self.registers - earlier.registers,
            renews: self.renews - earlier.renews,
            full_fetches: self.full_fetches - earlier.full_fetches,
            deltas: self.deltas - earlier.deltas,
            connect_errors: self.connect_errors - earlier.connect_errors,
            timeouts: self.timeouts - earlier.timeouts,
            http_errors,
            lost_leases: self.lost_leases - earlier.lost_leases,
            reregistered: self.reregistered - earlier.reregistered,
        }
    }

    fn add(&mut self, other: &Tally) {
        self.registers += other.registers;
        self.renews += other.renews;
        self.full_fetches += other.full_fetches;
        self.deltas += other.deltas;
        self.connect_errors += other.connect_errors;
        self.timeouts += other.timeouts;
        for (status, n) in &other.http_errors {
            *self.http_errors.entry(*status).or_default() += n;
        }
        self.lost_leases += other.lost_leases;
        self.reregistered += other.reregistered;
    }

    fn error_text(&self) -> String {
        let mut parts = Vec::new();
        if self.connect_errors > 0 {
            parts.push(format!("{} conn", self.connect_errors));
        }
        if self.timeouts > 0 {
            parts.push(format!("{} timeout", self.timeouts));
        }
        for (status, n) in &self.http_errors {
            parts.push(format!("{n}×{status}"));
        }
        if parts.is_empty() {
            "0".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// One keep-alive connection of a simulated client to one node, reopened after a failure.
struct Client {
    addr: std::net::SocketAddr,
    conn: Option<Conn>,
    counters: Arc<Counters>,
}

impl Client {
    fn new(addr: std::net::SocketAddr, counters: Arc<Counters>) -> Client {
        Client { addr, conn: None, counters }
    }

    /// Sends one request and counts it; `None` when it failed (connection error or timeout,
    /// after which the next call opens a new connection). A non-2xx answer is counted as an
    /// error, except a renewal's 404, which the caller handles as a lost lease.
    async fn call(&mut self, kind: Kind, req: Request<Body>) -> Option<(StatusCode, Bytes)> {
        self.counters.requests[kind as usize].fetch_add(1, Ordering::Relaxed);
        let (addr, slot) = (self.addr, &mut self.conn);
        let attempt = tokio::time::timeout(REQUEST_TIMEOUT, async move {
            if slot.is_none() {
                *slot = Some(Conn::open(addr).await?);
            }
            slot.as_mut().expect("connection just opened").send(req).await
        })
        .await;
        match attempt {
            Err(_) => {
                self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
                self.conn = None;
                None
            }
            Ok(Err(_)) => {
                self.counters.connect_errors.fetch_add(1, Ordering::Relaxed);
                self.conn = None;
                None
            }
            Ok(Ok((status, body))) => {
                let lost_lease = kind == Kind::Renew && status == StatusCode::NOT_FOUND;
                if !status.is_success() && !lost_lease {
                    let mut errors = self.counters.http_errors.lock().expect("counter lock");
                    *errors.entry(status.as_u16()).or_default() += 1;
                }
                Some((status, body))
            }
        }
    }
}

/// The cluster under soak: `eureka-server` processes on loopback, each naming all the others
/// as peers. Dropping it kills them; [`Cluster::stop`] lets them drain first.
pub struct Cluster {
    /// The nodes, in order.
    pub nodes: Vec<ServerProcess>,
    /// Each node's log file.
    pub logs: Vec<PathBuf>,
}

impl Cluster {
    /// Starts `n` nodes of `program` on free ports at once (each copies the registry from
    /// its peers at start-up) and waits until every one is ready.
    pub async fn start(program: &Path, n: usize, log_dir: &Path) -> anyhow::Result<Cluster> {
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let peers: Vec<String> =
            ports.iter().map(|p| format!("http://127.0.0.1:{p}/eureka/")).collect();
        let logs: Vec<PathBuf> =
            (0..n).map(|i| log_dir.join(format!("soak-node{i}.log"))).collect();
        let mut starting = JoinSet::new();
        for (i, port) in ports.iter().copied().enumerate() {
            let mut args = vec!["--port".to_string(), port.to_string()];
            for peer in &peers {
                // A node skips its own URL (same host and port).
                args.push("--peer".into());
                args.push(peer.clone());
            }
            let (program, log) = (program.display().to_string(), logs[i].clone());
            starting.spawn(async move {
                let node = ServerProcess::start_unpinned(&program, &args, port, &log, STARTUP)
                    .await
                    .with_context(|| format!("node {i}"))?;
                anyhow::Ok((i, node))
            });
        }
        let mut nodes: Vec<Option<ServerProcess>> = (0..n).map(|_| None).collect();
        while let Some(started) = starting.join_next().await {
            let (i, node) = started.context("node start-up panicked")??;
            nodes[i] = Some(node);
        }
        Ok(Cluster {
            nodes: nodes.into_iter().map(|n| n.expect("every node started")).collect(),
            logs,
        })
    }

    /// Stops every node with SIGTERM, killing one that has not exited after `grace`; returns
    /// how many exited on their own.
    pub async fn stop(self, grace: Duration) -> usize {
        let mut stopping = JoinSet::new();
        for node in self.nodes {
            stopping.spawn(node.terminate(grace));
        }
        let mut clean = 0;
        while let Some(done) = stopping.join_next().await {
            clean += usize::from(done.unwrap_or(false));
        }
        clean
    }
}

/// One node at one sample.
#[derive(Debug, Clone, Serialize)]
pub struct NodeSample {
    /// Resident memory (`VmRSS`), MiB.
    pub rss_mib: f64,
    /// Requests per second sent to it since the previous sample.
    pub req_per_s: f64,
    /// What happened since the previous sample.
    pub period: Tally,
    /// Instances it holds (`GET /eureka/status`), when it answered.
    pub instances: Option<u64>,
    /// Renewals it counted in its last complete minute (clients' and replicated).
    pub renews_last_min: Option<u64>,
    /// Whether self-preservation holds eviction back (always so in a node's first minute).
    pub self_preservation_active: Option<bool>,
}

/// Every node at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Seconds since the renewals started.
    pub t_secs: f64,
    /// One entry per node, in node order.
    pub nodes: Vec<NodeSample>,
}

/// What the final check found on one node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeCheck {
    /// Instances it holds UP.
    pub instances: usize,
    /// Its `apps__hashcode`.
    pub apps_hashcode: String,
    /// Instances of the soak it does not hold, or holds in a status other than UP.
    pub lost: usize,
}

/// The final check across the cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Per node.
    pub nodes: Vec<NodeCheck>,
    /// Instances that kept renewing but are missing (or not UP) on at least one node.
    pub lost: usize,
    /// Up to 20 of their ids.
    pub lost_examples: Vec<String>,
    /// Whether every node answered the same `apps__hashcode`.
    pub hashes_equal: bool,
    /// How long after the load stopped the nodes agreed (or the check gave up).
    pub settled_after_secs: f64,
}

/// Totals for one node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeTotals {
    /// Its port.
    pub port: u16,
    /// Everything sent to it during the soak (registration included).
    pub tally: Tally,
    /// RSS once every instance was registered, MiB.
    pub rss_start_mib: f64,
    /// RSS when the load stopped, MiB.
    pub rss_end_mib: f64,
    /// Peak RSS over the process's life (`VmHWM`), MiB.
    pub rss_peak_mib: f64,
}

/// The settings, as recorded in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Planned duration, seconds.
    pub duration_secs: f64,
    /// Instances.
    pub instances: u64,
    /// Renewal period of each instance, seconds.
    pub renew_every_secs: f64,
    /// Nodes.
    pub nodes: usize,
    /// Full fetches per second per node.
    pub full_fetch_rate: f64,
    /// Delta fetches per second per node.
    pub delta_rate: f64,
    /// Sample period, seconds.
    pub sample_every_secs: f64,
    /// Registered `leaseInfo` (renewal interval, duration), seconds.
    pub lease: (u32, u32),
    /// Renewal connections per node.
    pub connections: usize,
}

/// Everything a soak run measured.
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    /// When it ran (`date -u`).
    pub date: String,
    /// The command line.
    pub command: String,
    /// What was asked for.
    pub settings: Settings,
    /// Whether Ctrl-C or SIGTERM cut the run short.
    pub interrupted: bool,
    /// Seconds the registration of every instance took.
    pub register_secs: f64,
    /// Seconds the renewals and fetches actually ran.
    pub ran_secs: f64,
    /// Renewals per second achieved, all nodes together (the target is instances / period).
    pub renew_rate: f64,
    /// The samples, in order.
    pub samples: Vec<Sample>,
    /// Per node.
    pub totals: Vec<NodeTotals>,
    /// All nodes together.
    pub total: Tally,
    /// The final check.
    pub verification: Verification,
}

impl SoakReport {
    /// Whether the cluster lost nothing and agrees on its hash.
    pub fn passed(&self) -> bool {
        self.verification.lost == 0 && self.verification.hashes_equal
    }

    /// The samples as a table (terminal and Markdown).
    pub fn table(&self) -> String {
        let n = self.settings.nodes;
        let mut out = String::new();
        let per_node = |label: &str| (0..n).map(|i| format!("{label} n{i}")).collect::<Vec<_>>();
        let mut head = vec!["t (s)".to_string()];
        head.extend(per_node("RSS MiB"));
        head.extend(per_node("req/s"));
        head.extend(per_node("instances"));
        head.extend(["errors".to_string(), "lost leases".to_string(), "self-pres.".to_string()]);
        let _ = writeln!(out, "| {} |", head.join(" | "));
        let _ = writeln!(out, "|{}", "---:|".repeat(head.len()));
        for s in &self.samples {
            let mut row = vec![format!("{:.0}", s.t_secs)];
            row.extend(s.nodes.iter().map(|x| format!("{:.1}", x.rss_mib)));
            row.extend(s.nodes.iter().map(|x| format!("{:.0}", x.req_per_s)));
            row.extend(s.nodes.iter().map(|x| x.instances.map_or("?".into(), |c| c.to_string())));
            let mut period = Tally::default();
            for x in &s.nodes {
                period.add(&x.period);
            }
            row.push(period.error_text());
            row.push(period.lost_leases.to_string());
            let sp: Vec<&str> = s
                .nodes
                .iter()
                .map(|x| match x.self_preservation_active {
                    Some(true) => "on",
                    Some(false) => "off",
                    None => "?",
                })
                .collect();
            row.push(sp.join("/"));
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }

    /// The totals as text lines.
    pub fn summary(&self) -> String {
        let v = &self.verification;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "- ran {:.0} s{} after registering {} instances in {:.1} s; renewals {:.0}/s (target {:.0}/s)",
            self.ran_secs,
            if self.interrupted { " (interrupted)" } else { "" },
            self.settings.instances,
            self.register_secs,
            self.renew_rate,
            self.settings.instances as f64 / self.settings.renew_every_secs,
        );
        let t = &self.total;
        let _ = writeln!(
            out,
            "- requests: {} ({} registrations, {} renewals, {} full fetches, {} deltas)",
            t.requests(),
            t.registers,
            t.renews,
            t.full_fetches,
            t.deltas
        );
        let _ = writeln!(
            out,
            "- errors: {}; lost leases (renewal answered 404): {}, re-registered: {}",
            t.error_text(),
            t.lost_leases,
            t.reregistered
        );
        for (i, node) in self.totals.iter().enumerate() {
            let _ = writeln!(
                out,
                "- node {i} (:{}): RSS {:.1} MiB at start, {:.1} MiB at end, peak {:.1} MiB; {} requests, {} errors",
                node.port,
                node.rss_start_mib,
                node.rss_end_mib,
                node.rss_peak_mib,
                node.tally.requests(),
                node.tally.errors()
            );
        }
        let counts: Vec<String> = v.nodes.iter().map(|c| c.instances.to_string()).collect();
        let hashes: Vec<&str> = v.nodes.iter().map(|c| c.apps_hashcode.as_str()).collect();
        let _ = writeln!(
            out,
            "- final check ({:.1} s after the load stopped): UP instances per node {}; apps__hashcode {} ({}); lost registrations: {}{}",
            v.settled_after_secs,
            counts.join("/"),
            if v.hashes_equal { "equal" } else { "DIFFERENT" },
            hashes.join(" / "),
            v.lost,
            if v.lost_examples.is_empty() {
                String::new()
            } else {
                format!(" (e.g. {})", v.lost_examples.join(", "))
            }
        );
        out
    }

    /// The whole report as Markdown (`soak.md`).
    pub fn markdown(&self) -> String {
        let s = &self.settings;
        let mut out = format!("# Soak run, {}\n\n`{}`\n\n", self.date, self.command);
        let _ = writeln!(
            out,
            "{} nodes, {} instances over {} apps renewing every {} s on their node (leaseInfo {}/{} s), \
             {} full gzip fetches/s and {} deltas/s per node, {} renewal connections per node, \
             sampled every {} s.\n",
            s.nodes,
            s.instances,
            wire::APPS,
            s.renew_every_secs,
            s.lease.0,
            s.lease.1,
            s.full_fetch_rate,
            s.delta_rate,
            s.connections,
            s.sample_every_secs
        );
        out.push_str(&self.table());
        out.push_str("\n## Totals\n\n");
        out.push_str(&self.summary());
        out
    }
}

/// Runs the soak against `cluster`: registers every instance, then renews and fetches for
/// `params.duration` (or until `interrupt` turns true), sampling as it goes, then checks the
/// registries. The caller stops the cluster.
pub async fn run(
    params: &Params,
    cluster: &Cluster,
    mut interrupt: watch::Receiver<bool>,
    meta: (String, String),
) -> anyhow::Result<SoakReport> {
    let n = cluster.nodes.len();
    let counters: Vec<Arc<Counters>> = (0..n).map(|_| Arc::default()).collect();
    // Instance `k` lives on node `k % n`, as each client is configured with "its" node.
    let owned: Vec<Vec<u64>> = (0..n)
        .map(|i| (0..params.instances).filter(|k| k % n as u64 == i as u64).collect())
        .collect();

    eprintln!("registering {} instances on {n} nodes", params.instances);
    let started = Instant::now();
    let registering = register_all(params, cluster, &owned, &counters);
    tokio::select! {
        done = registering => done?,
        _ = interrupt.wait_for(|stop| *stop) => bail!("interrupted while registering"),
    }
    let register_secs = started.elapsed().as_secs_f64();
    let rss_start: Vec<f64> = cluster.nodes.iter().map(|p| p.rss_mib().unwrap_or(0.0)).collect();
    eprintln!("registered in {register_secs:.1} s; soaking for {:?}", params.duration);

    let (stop_tx, stop) = watch::channel(false);
    let mut load = JoinSet::new();
    let start = Instant::now();
    for (i, node) in cluster.nodes.iter().enumerate() {
        let addr = node.addr;
        let chunks = split(&owned[i], params.connections);
        for (c, ids) in chunks.into_iter().enumerate() {
            if ids.is_empty() {
                continue;
            }
            let period = params.renew_every.div_f64(ids.len() as f64);
            // Spread the connections' first renewals over one period: no bursts.
            let first = start + period.mul_f64(c as f64 / params.connections as f64);
            let client = Client::new(addr, counters[i].clone());
            load.spawn(renew_loop(client, ids, period, first, params.lease, stop.clone()));
        }
        for (rate, kind) in
            [(params.full_fetch_rate, Kind::FullFetch), (params.delta_rate, Kind::Delta)]
        {
            if rate > 0.0 {
                let client = Client::new(addr, counters[i].clone());
                load.spawn(fetch_loop(client, kind, rate, start, stop.clone()));
            }
        }
    }

    let mut samples = Vec::new();
    let mut previous: Vec<Tally> = counters.iter().map(|c| c.tally()).collect();
    let mut previous_at = start;
    let mut monitors: Vec<Client> =
        cluster.nodes.iter().map(|p| Client::new(p.addr, Arc::default())).collect();
    let mut tick = interval_at(start + params.sample_every, params.sample_every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let end = start + params.duration;
    let mut interrupted = false;
    let mut header_printed = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(end) => break,
            _ = interrupt.wait_for(|stop| *stop) => { interrupted = true; break; }
            _ = tick.tick() => {
                let sample = take_sample(cluster, &counters, &mut previous, &mut previous_at, &mut monitors, start).await;
                print_sample(&sample, &mut header_printed);
                samples.push(sample);
            }
        }
    }
    if previous_at.elapsed() >= Duration::from_secs(1) {
        let sample =
            take_sample(cluster, &counters, &mut previous, &mut previous_at, &mut monitors, start)
                .await;
        print_sample(&sample, &mut header_printed);
        samples.push(sample);
    }
    let ran_secs = start.elapsed().as_secs_f64();
    let rss_end: Vec<f64> = cluster.nodes.iter().map(|p| p.rss_mib().unwrap_or(0.0)).collect();
    let _ = stop_tx.send(true);
    while let Some(done) = load.join_next().await {
        done.context("load task panicked")?;
    }

    eprintln!("load stopped; checking every node's registry");
    let verification = verify(cluster, params.instances).await;
    let mut total = Tally::default();
    let mut totals = Vec::new();
    for (i, node) in cluster.nodes.iter().enumerate() {
        let tally = counters[i].tally();
        total.add(&tally);
        totals.push(NodeTotals {
            port: node.addr.port(),
            tally,
            rss_start_mib: rss_start[i],
            rss_end_mib: rss_end[i],
            rss_peak_mib: node.peak_rss_mib().unwrap_or(0.0),
        });
    }
    let renews_in_run: u64 = samples.iter().flat_map(|s| &s.nodes).map(|x| x.period.renews).sum();
    Ok(SoakReport {
        date: meta.0,
        command: meta.1,
        settings: Settings {
            duration_secs: params.duration.as_secs_f64(),
            instances: params.instances,
            renew_every_secs: params.renew_every.as_secs_f64(),
            nodes: n,
            full_fetch_rate: params.full_fetch_rate,
            delta_rate: params.delta_rate,
            sample_every_secs: params.sample_every.as_secs_f64(),
            lease: params.lease,
            connections: params.connections,
        },
        interrupted,
        register_secs,
        ran_secs,
        renew_rate: renews_in_run as f64 / ran_secs,
        samples,
        totals,
        total,
        verification,
    })
}

/// `ids` dealt round-robin into `parts` lists.
fn split(ids: &[u64], parts: usize) -> Vec<Vec<u64>> {
    let parts = parts.max(1);
    let mut out = vec![Vec::new(); parts];
    for (k, id) in ids.iter().enumerate() {
        out[k % parts].push(*id);
    }
    out
}

/// Registers every instance on its node, `params.connections` connections per node, each
/// retried a few times; fails if one cannot be registered at all.
async fn register_all(
    params: &Params,
    cluster: &Cluster,
    owned: &[Vec<u64>],
    counters: &[Arc<Counters>],
) -> anyhow::Result<()> {
    let mut tasks = JoinSet::new();
    for (i, node) in cluster.nodes.iter().enumerate() {
        for ids in split(&owned[i], params.connections) {
            let mut client = Client::new(node.addr, counters[i].clone());
            let lease = params.lease;
            tasks.spawn(async move {
                for n in ids {
                    let mut attempts = 0;
                    loop {
                        let req = wire::register_with_lease(client.addr, n, dirty(), lease);
                        match client.call(Kind::Register, req).await {
                            Some((status, _)) if status.is_success() => break,
                            _ if attempts < 5 => attempts += 1,
                            other => bail!(
                                "instance {n} not registered on {}: {:?}",
                                client.addr,
                                other.map(|(s, _)| s)
                            ),
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                anyhow::Ok(())
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.context("registration task panicked")??;
    }
    Ok(())
}

/// The `lastDirtyTimestamp` of every registration: the constant the renewals send back, so a
/// renewal's timestamp always matches the stored one.
fn dirty() -> u64 {
    wire::DIRTY.parse().expect("a number")
}

/// Renews `ids` in turn, one every `period`, on one connection, until `stop`. A renewal
/// answered 404 is a lost lease: the instance registers again, as a client does.
async fn renew_loop(
    mut client: Client,
    ids: Vec<u64>,
    period: Duration,
    first: Instant,
    lease: (u32, u32),
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = interval_at(first, period);
    // After a slow answer the connection catches up back to back (it is one of many, each
    // sequential), so every instance still renews once per period on average.
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    for &n in ids.iter().cycle() {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tick.tick() => {}
        }
        let answer = client.call(Kind::Renew, wire::renew(client.addr, n)).await;
        if answer.is_some_and(|(status, _)| status == StatusCode::NOT_FOUND) {
            client.counters.lost_leases.fetch_add(1, Ordering::Relaxed);
            let req = wire::register_with_lease(client.addr, n, dirty(), lease);
            if client.call(Kind::Register, req).await.is_some_and(|(s, _)| s.is_success()) {
                client.counters.reregistered.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Sends `rate` fetches of `kind` per second on one connection until `stop`.
async fn fetch_loop(
    mut client: Client,
    kind: Kind,
    rate: f64,
    start: Instant,
    mut stop: watch::Receiver<bool>,
) {
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut tick = interval_at(start, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tick.tick() => {}
        }
        let req = match kind {
            Kind::Delta => wire::delta_fetch(client.addr),
            _ => wire::full_fetch(client.addr),
        };
        client.call(kind, req).await;
    }
}

async fn take_sample(
    cluster: &Cluster,
    counters: &[Arc<Counters>],
    previous: &mut [Tally],
    previous_at: &mut Instant,
    monitors: &mut [Client],
    start: Instant,
) -> Sample {
    let now = Instant::now();
    let secs = (now - *previous_at).as_secs_f64().max(1e-3);
    *previous_at = now;
    let mut nodes = Vec::new();
    for (i, node) in cluster.nodes.iter().enumerate() {
        let tally = counters[i].tally();
        let period = tally.since(&previous[i]);
        previous[i] = tally;
        let status = match monitors[i].call(Kind::Status, wire::status(node.addr)).await {
            Some((s, body)) if s.is_success() => {
                serde_json::from_slice::<serde_json::Value>(&body).ok()
            }
            _ => None,
        };
        let registry = status.as_ref().map(|s| &s["registry"]);
        nodes.push(NodeSample {
            rss_mib: node.rss_mib().unwrap_or(0.0),
            req_per_s: period.requests() as f64 / secs,
            period,
            instances: registry.and_then(|r| r["instances"].as_u64()),
            renews_last_min: registry.and_then(|r| r["renewsLastMin"].as_u64()),
            self_preservation_active: registry.and_then(|r| r["selfPreservationActive"].as_bool()),
        });
    }
    Sample { t_secs: (now - start).as_secs_f64(), nodes }
}

fn print_sample(sample: &Sample, header_printed: &mut bool) {
    if !*header_printed {
        eprintln!(
            "{:>6}  {:>24}  {:>20}  {:>20}  {:>8}  {:>6}  self-pres.",
            "t (s)", "RSS MiB per node", "req/s per node", "instances per node", "errors", "lost"
        );
        *header_printed = true;
    }
    let join = |f: &dyn Fn(&NodeSample) -> String| {
        sample.nodes.iter().map(f).collect::<Vec<_>>().join(" ")
    };
    let mut period = Tally::default();
    for x in &sample.nodes {
        period.add(&x.period);
    }
    eprintln!(
        "{:>6.0}  {:>24}  {:>20}  {:>20}  {:>8}  {:>6}  {}",
        sample.t_secs,
        join(&|x| format!("{:.1}", x.rss_mib)),
        join(&|x| format!("{:.0}", x.req_per_s)),
        join(&|x| x.instances.map_or("?".into(), |c| c.to_string())),
        period.errors(),
        period.lost_leases,
        join(&|x| match x.self_preservation_active {
            Some(true) => "on".into(),
            Some(false) => "off".into(),
            None => "?".into(),
        }),
    );
}

/// Reads every node's full registry until all hold every instance UP with equal hashes, or
/// [`SETTLE`] has passed; reports what the last round found. A node that does not answer (it
/// crashed, say) counts as holding nothing, so the report still gets written.
async fn verify(cluster: &Cluster, instances: u64) -> Verification {
    let started = Instant::now();
    let expected: Vec<String> = (0..instances).map(wire::id).collect();
    loop {
        let mut checks = Vec::new();
        let mut lost_ids = std::collections::BTreeSet::new();
        for node in &cluster.nodes {
            let (held, apps_hashcode) = match registry_of(node.addr).await {
                Ok(apps) => {
                    let up: std::collections::HashSet<String> = apps
                        .instances()
                        .filter(|i| i.status == eureka_model::InstanceStatus::Up)
                        .map(|i| i.id().to_string())
                        .collect();
                    (up, apps.apps_hashcode.clone())
                }
                Err(error) => (Default::default(), format!("(no answer: {error:#})")),
            };
            let lost: Vec<&String> = expected.iter().filter(|id| !held.contains(*id)).collect();
            checks.push(NodeCheck { instances: held.len(), apps_hashcode, lost: lost.len() });
            lost_ids.extend(lost.into_iter().cloned());
        }
        let hashes_equal = checks.windows(2).all(|w| w[0].apps_hashcode == w[1].apps_hashcode);
        if (lost_ids.is_empty() && hashes_equal) || started.elapsed() > SETTLE {
            return Verification {
                nodes: checks,
                lost: lost_ids.len(),
                lost_examples: lost_ids.into_iter().take(20).collect(),
                hashes_equal,
                settled_after_secs: started.elapsed().as_secs_f64(),
            };
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One node's full registry (`GET /eureka/apps`, gzip), decoded.
async fn registry_of(addr: std::net::SocketAddr) -> anyhow::Result<eureka_model::Applications> {
    let mut conn = Conn::open(addr).await?;
    let (status, body) =
        tokio::time::timeout(REQUEST_TIMEOUT * 4, conn.send(wire::full_fetch(addr)))
            .await
            .context("timed out")??;
    if !status.is_success() {
        bail!("answered {status}");
    }
    eureka_model::json::decode_applications(&wire::inflate(&body)).context("undecodable")
}

/// Parses `30m`, `60s`, `1h`, `500ms` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |at| text.split_at(at));
    let value: f64 =
        number.parse().map_err(|_| format!("'{text}': not a duration like 30m or 10s"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("'{text}': unit must be ms, s, m or h")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("'{text}': must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn interrupted() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_usual_units() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn a_tally_since_an_earlier_one_keeps_only_the_difference() {
        let mut earlier = Tally { renews: 5, timeouts: 1, ..Default::default() };
        earlier.http_errors.insert(503, 2);
        let mut later = Tally { renews: 9, timeouts: 1, ..Default::default() };
        later.http_errors.insert(503, 2);
        later.http_errors.insert(500, 1);
        let d = later.since(&earlier);
        assert_eq!((d.renews, d.timeouts, d.errors()), (4, 0, 1));
        assert_eq!(d.http_errors, BTreeMap::from([(500, 1)]));
    }

    #[test]
    fn instances_are_dealt_evenly_over_connections() {
        let parts = split(&[1, 2, 3, 4, 5], 2);
        assert_eq!(parts, vec![vec![1, 3, 5], vec![2, 4]]);
    }
}
