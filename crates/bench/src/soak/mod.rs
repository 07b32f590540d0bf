//! The soak run behind `eureka-soak`: a cluster of `eureka-server` processes peered with each
//! other, thousands of instances renewing on "their" node as real clients do, full and delta
//! fetches on every node, for a given duration.
//!
//! Every sample period it records each node's RSS (`VmRSS`), request rate, errors by kind
//! (connection errors, timeouts, non-2xx answers by status) and lost leases (a renewal
//! answered 404, after which the instance registers again, as a client would). At the end it
//! checks that every node holds every instance UP with the same `apps__hashcode`.
//!
//! - `tally`: what the load counts (requests, errors by kind, lost leases).
//! - `client`: the simulated clients: registration, renewal and fetch loops.
//! - `cluster`: the server processes.
//! - `report`: samples, the final check's findings and the report (table, summary, Markdown).
//! - `verify`: the final check of every node's registry.
//! - `hog`: competing CPU-bound processes for overloaded runs (`--cpu-hogs`).

mod client;
mod cluster;
pub mod hog;
mod report;
mod tally;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use client::{fetch_loop, register_all, renew_loop, Client};
pub use cluster::Cluster;
use report::{print_sample, take_sample};
pub use report::{
    NodeCheck, NodeSample, NodeTotals, RssSample, Sample, Settings, SoakReport, Verification,
};
pub use tally::Tally;
use tally::{Counters, Kind};
use verify::verify;

/// Longest wait for one answer; a client gives up and reconnects after it (Java's read
/// timeout is 8 s, its connect timeout 5 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the final check waits by default for every node to hold every instance:
/// replication of the last writes takes milliseconds, a re-registration after a lost lease a
/// little more (an overloaded run may be given longer with `Params::settle`).
pub const SETTLE: Duration = Duration::from_secs(30);
/// How long a CPU hog may outlive the planned run before it stops by itself.
const HOG_MARGIN: Duration = Duration::from_secs(600);
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
    /// Competing CPU-bound processes kept running from registration to the final check.
    pub cpu_hogs: usize,
    /// How long the final check waits for the nodes to agree.
    pub settle: Duration,
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

    let hogs = if params.cpu_hogs > 0 {
        let limit = params.duration + params.settle + HOG_MARGIN;
        let hogs = hog::Hogs::start(params.cpu_hogs, limit)?;
        eprintln!("started {} CPU hogs (each stops by itself after {limit:?})", hogs.len());
        Some(hogs)
    } else {
        None
    };
    eprintln!("registering {} instances on {n} nodes", params.instances);
    let started = Instant::now();
    let registering = register_all(params, cluster, &owned, &counters);
    tokio::pin!(registering);
    // RSS during the storm, where a node's peak is expected.
    let mut register_rss = Vec::new();
    let mut storm_tick = interval_at(started + params.sample_every, params.sample_every);
    storm_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            done = &mut registering => { done?; break; }
            _ = interrupt.wait_for(|stop| *stop) => bail!("interrupted while registering"),
            _ = storm_tick.tick() => {
                let sample = RssSample::take(cluster, started);
                eprintln!("registering: {sample}");
                register_rss.push(sample);
            }
        }
    }
    let register_secs = started.elapsed().as_secs_f64();
    let mut register_tally = Tally::default();
    for c in &counters {
        register_tally.add(&c.tally());
    }
    register_rss.push(RssSample::take(cluster, started));
    let rss_start: Vec<f64> = cluster.nodes.iter().map(|p| p.rss_mib().unwrap_or(0.0)).collect();
    eprintln!(
        "registered in {register_secs:.1} s ({:.0}/s), errors: {}; soaking for {:?}",
        params.instances as f64 / register_secs,
        register_tally.error_text(),
        params.duration
    );

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
    let verification = verify(cluster, params.instances, params.settle).await;
    if let Some(hogs) = hogs {
        hogs.stop().await;
    }
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
            cpu_hogs: params.cpu_hogs,
        },
        interrupted,
        register_secs,
        register_tally,
        register_rss,
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
    fn instances_are_dealt_evenly_over_connections() {
        let parts = split(&[1, 2, 3, 4, 5], 2);
        assert_eq!(parts, vec![vec![1, 3, 5], vec![2, 4]]);
    }
}
