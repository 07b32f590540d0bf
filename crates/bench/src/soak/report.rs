//! What a soak run measured: samples over time, totals, the final check, and their text.

use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;
use tokio::time::Instant;

use super::client::Client;
use super::tally::{Counters, Kind, Tally};
use super::Cluster;
use crate::wire;

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
    /// The machine's 1-minute load average then.
    pub load_avg: Option<f64>,
    /// One entry per node, in node order.
    pub nodes: Vec<NodeSample>,
}

/// Every node's RSS at one moment of the registration storm.
#[derive(Debug, Clone, Serialize)]
pub struct RssSample {
    /// Seconds since the registration started.
    pub t_secs: f64,
    /// `VmRSS` per node, MiB (0 when unreadable).
    pub rss_mib: Vec<f64>,
}

impl RssSample {
    pub(crate) fn take(cluster: &Cluster, since: Instant) -> Self {
        RssSample {
            t_secs: since.elapsed().as_secs_f64(),
            rss_mib: cluster.nodes.iter().map(|p| p.rss_mib().unwrap_or(0.0)).collect(),
        }
    }
}

impl std::fmt::Display for RssSample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rss: Vec<String> = self.rss_mib.iter().map(|r| format!("{r:.0}")).collect();
        write!(f, "t {:.0} s, RSS MiB {}", self.t_secs, rss.join(" / "))
    }
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
    /// Competing CPU-bound processes (`--cpu-hogs`).
    pub cpu_hogs: usize,
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
    /// What the registration storm sent and what failed (before the renewals began).
    pub register_tally: Tally,
    /// RSS during the storm, one sample per sample period and one at its end.
    pub register_rss: Vec<RssSample>,
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
        head.push("load avg".to_string());
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
            row.push(s.load_avg.map_or("?".into(), |l| format!("{l:.1}")));
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
        let rt = &self.register_tally;
        let _ = writeln!(
            out,
            "- registration storm: {} instances in {:.1} s ({:.0}/s), {} requests, errors: {}",
            self.settings.instances,
            self.register_secs,
            self.settings.instances as f64 / self.register_secs,
            rt.requests(),
            rt.error_text()
        );
        if !self.register_rss.is_empty() {
            let rss: Vec<String> = self.register_rss.iter().map(|s| s.to_string()).collect();
            let _ = writeln!(out, "- RSS during the storm: {}", rss.join("; "));
        }
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
        // KiB of a node's RSS per instance registered (every node holds every instance).
        let per_instance = |mib: f64| mib * 1024.0 / self.settings.instances as f64;
        for (i, node) in self.totals.iter().enumerate() {
            let _ = writeln!(
                out,
                "- node {i} (:{}): RSS {:.1} MiB at start, {:.1} MiB at end ({:.2} KiB per instance), \
                 peak {:.1} MiB ({:.2}× the end); {} requests, {} errors",
                node.port,
                node.rss_start_mib,
                node.rss_end_mib,
                per_instance(node.rss_end_mib),
                node.rss_peak_mib,
                node.rss_peak_mib / node.rss_end_mib.max(1.0),
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
             {} competing CPU hogs, sampled every {} s.\n",
            s.nodes,
            s.instances,
            wire::APPS,
            s.renew_every_secs,
            s.lease.0,
            s.lease.1,
            s.full_fetch_rate,
            s.delta_rate,
            s.connections,
            s.cpu_hogs,
            s.sample_every_secs
        );
        out.push_str(&self.table());
        out.push_str("\n## Totals\n\n");
        out.push_str(&self.summary());
        out
    }
}

pub(crate) async fn take_sample(
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
    Sample { t_secs: (now - start).as_secs_f64(), load_avg: super::hog::load_average(), nodes }
}

pub(crate) fn print_sample(sample: &Sample, header_printed: &mut bool) {
    if !*header_printed {
        eprintln!(
            "{:>6}  {:>24}  {:>20}  {:>20}  {:>8}  {:>6}  {:>10}  load",
            "t (s)",
            "RSS MiB per node",
            "req/s per node",
            "instances per node",
            "errors",
            "lost",
            "self-pres."
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
        "{:>6.0}  {:>24}  {:>20}  {:>20}  {:>8}  {:>6}  {:>10}  {}",
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
        sample.load_avg.map_or("?".into(), |l| format!("{l:.1}")),
    );
}
