//! Gauges read when scraped: the registry's figures, self-preservation, readiness, each
//! peer's replication link, and the process.

use std::fmt;
use std::sync::Weak;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

use eureka_registry::Registry;

use super::process::ProcessStats;
use crate::listener::ConnectionStats;
use crate::remote::Remote;
use crate::replication::{PeerView, Replicator};
use crate::watch::WatchHub;

/// What a scrape reads from the running server. The server's state implements it, so this
/// module names the parts it reports on but never the state that holds them (dependencies
/// run one way: state → metrics).
pub trait Observed: Send + Sync {
    /// The registry: instances by app and status, leases, self-preservation.
    fn registry(&self) -> &Registry;
    /// The peers and the start-up sync.
    fn replicator(&self) -> &Replicator;
    /// Change-stream watchers.
    fn watch(&self) -> &WatchHub;
    /// The listener's connection counts.
    fn connections(&self) -> &ConnectionStats;
    /// The remote regions followed.
    fn remote(&self) -> &Remote;
    /// Now, epoch ms.
    fn now_ms(&self) -> u64;
    /// When the server started, epoch ms.
    fn started_ms(&self) -> u64;
    /// This node's server-side health checks.
    fn health(&self) -> HealthFigures;
}

/// This node's server-side health checks as a scrape reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HealthFigures {
    /// Instances this node checks (its share of the cluster).
    pub checked: usize,
    /// Those whose last check failed.
    pub failing: usize,
    /// Whether this node suspects its own network and marks nothing DOWN.
    pub suspect: bool,
}

/// Reads the server through [`Observed`] on every scrape.
pub struct StateCollector {
    observed: Weak<dyn Observed>,
}

impl StateCollector {
    /// A collector over what `observed` points to; a scrape after it is gone yields nothing.
    pub fn new(observed: Weak<dyn Observed>) -> Self {
        StateCollector { observed }
    }
}

impl fmt::Debug for StateCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateCollector")
    }
}

impl Collector for StateCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let Some(state) = self.observed.upgrade() else { return Ok(()) };
        registry(&*state, &mut encoder)?;
        replication(&*state, &mut encoder)?;
        remote_regions(&*state, &mut encoder)?;
        watch(&*state, &mut encoder)?;
        health(&*state, &mut encoder)?;
        connections(&*state, &mut encoder)?;
        process(&ProcessStats::read(), &mut encoder)
    }
}

/// A sample value: integers print as integers, the rest as floats.
#[derive(Debug, Clone, Copy)]
enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(v)
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(v as u64)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(u64::from(v))
    }
}

fn emit(metric: MetricEncoder<'_>, kind: MetricType, value: Value) -> fmt::Result {
    match (kind, value) {
        (MetricType::Counter, Value::Int(n)) => ConstCounter::new(n).encode(metric),
        (MetricType::Counter, Value::Float(x)) => ConstCounter::new(x).encode(metric),
        (_, Value::Int(n)) => ConstGauge::new(n).encode(metric),
        (_, Value::Float(x)) => ConstGauge::new(x).encode(metric),
    }
}

/// Change-stream watchers, and how often they fell behind.
fn watch(state: &dyn Observed, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let hub = state.watch();
    single(
        enc,
        ("eureka_watchers", "Connected change-stream watchers.", None, GAUGE),
        hub.watcher_count(),
    )?;
    single(
        enc,
        (
            "eureka_watch_resyncs",
            "Watchers sent a fresh snapshot because their position left the change log.",
            None,
            COUNTER,
        ),
        hub.resyncs(),
    )?;
    single(
        enc,
        (
            "eureka_watch_dropped",
            "Watchers disconnected for falling behind repeatedly (slow readers).",
            None,
            COUNTER,
        ),
        hub.dropped(),
    )
}

/// Server-side health checks: what this node checks, what fails, what is marked, suspicion.
fn health(state: &dyn Observed, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let HealthFigures { checked, failing, suspect } = state.health();
    let series: [(Descriptor, Value); 4] = [
        (
            ("eureka_health_checked_instances", "Instances this node checks (its share of the cluster).", None, GAUGE),
            checked.into(),
        ),
        (
            ("eureka_health_failing_instances", "Instances checked here whose last check failed.", None, GAUGE),
            failing.into(),
        ),
        (
            ("eureka_health_marked_down_instances", "Instances marked DOWN by health checks (any node's), as this node holds them.", None, GAUGE),
            state.registry().health_marked().into(),
        ),
        (
            ("eureka_health_suspect", "1 while this node suspects its own network (too many checks fail at once) and marks nothing DOWN.", None, GAUGE),
            suspect.into(),
        ),
    ];
    for (descriptor, value) in series {
        single(enc, descriptor, value)?;
    }
    Ok(())
}

/// The listener's connections: open now, accepted, waits at the limit, failed handshakes.
fn connections(state: &dyn Observed, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let c = state.connections();
    let series: [(Descriptor, u64); 4] = [
        (
            ("eureka_open_connections", "Client connections open now (TLS handshakes included).", None, GAUGE),
            c.open(),
        ),
        (("eureka_connections_accepted", "Connections accepted.", None, COUNTER), c.accepted()),
        (
            (
                "eureka_connection_limit_waits",
                "Times every slot (server.max-connections) was taken and accepting paused until one closed.",
                None,
                COUNTER,
            ),
            c.limit_waits(),
        ),
        (
            (
                "eureka_tls_handshake_failures",
                "TLS handshakes that failed (untrusted or missing client certificate, plain HTTP, …) or timed out.",
                None,
                COUNTER,
            ),
            c.handshake_failures(),
        ),
    ];
    for (descriptor, value) in series {
        single(enc, descriptor, value)?;
    }
    Ok(())
}

/// One unlabelled series.
fn single(
    enc: &mut DescriptorEncoder<'_>,
    (name, help, unit, kind): Descriptor,
    value: impl Into<Value>,
) -> fmt::Result {
    emit(enc.encode_descriptor(name, help, unit.as_ref(), kind)?, kind, value.into())
}

/// A series' name, help, unit and type.
type Descriptor = (&'static str, &'static str, Option<Unit>, MetricType);

const GAUGE: MetricType = MetricType::Gauge;
const COUNTER: MetricType = MetricType::Counter;

/// Instances by app and status, the renew rate against the self-preservation threshold, the
/// delta queue, the registry version and snapshot builds, and readiness.
fn registry(state: &dyn Observed, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let counts = state.registry().status_counts();
    let mut metric = enc.encode_descriptor(
        "eureka_instances",
        "Registered instances by application and status.",
        None,
        GAUGE,
    )?;
    for c in &counts {
        let labels = [("app", c.app.as_str()), ("status", c.status.as_str())];
        emit(metric.encode_family(&labels)?, GAUGE, c.count.into())?;
    }

    let s = state.registry().stats();
    let membership = state.replicator().membership.status();
    let series: [(Descriptor, Value); 18] = [
        (
            ("eureka_applications", "Applications with at least one instance.", None, GAUGE),
            s.applications.into(),
        ),
        (
            (
                "eureka_renews_last_minute",
                "Renewals counted in the last complete minute (what self-preservation compares).",
                None,
                GAUGE,
            ),
            s.renews_last_min.into(),
        ),
        (
            (
                "eureka_expected_renews_per_minute",
                "Renewals per minute the registered leases promise, from their own intervals.",
                None,
                GAUGE,
            ),
            s.expected_renews_per_min.into(),
        ),
        (
            (
                "eureka_renew_threshold",
                "Self-preservation threshold: renewals per minute must exceed it for eviction.",
                None,
                GAUGE,
            ),
            s.renew_threshold.into(),
        ),
        (
            (
                "eureka_self_preservation_enabled",
                "1 if self-preservation is configured on.",
                None,
                GAUGE,
            ),
            s.self_preservation_enabled.into(),
        ),
        (
            (
                "eureka_lease_expiration_enabled",
                "1 if eviction may run now (0 while self-preservation holds, and in the first minute).",
                None,
                GAUGE,
            ),
            s.lease_expiration_enabled.into(),
        ),
        (
            (
                "eureka_self_preservation_active",
                "1 if self-preservation is on and keeping expired leases now.",
                None,
                GAUGE,
            ),
            (s.self_preservation_enabled && !s.lease_expiration_enabled).into(),
        ),
        (("eureka_status_overrides", "Status overrides held.", None, GAUGE), s.overrides.into()),
        (
            ("eureka_delta_queue_length", "Entries in the delta queue.", None, GAUGE),
            s.delta_queue_len.into(),
        ),
        (
            (
                "eureka_registry_version",
                "Registry version; advances with every visible change.",
                None,
                GAUGE,
            ),
            s.version.into(),
        ),
        (
            (
                "eureka_snapshot_rebuilds",
                "Full registry snapshots built (one per changed version that was read).",
                None,
                COUNTER,
            ),
            s.snapshot_builds.into(),
        ),
        (
            (
                "eureka_snapshot_rebuild",
                "Time spent building snapshots; its rate over the rebuilds' rate is the mean.",
                Some(Unit::Seconds),
                COUNTER,
            ),
            s.snapshot_build_time.as_secs_f64().into(),
        ),
        (
            (
                "eureka_ready",
                "1 once the node serves the cluster's registry (start-up sync with peers done).",
                None,
                GAUGE,
            ),
            state.replicator().is_synced().into(),
        ),
        (
            (
                "eureka_startup_sync_instances",
                "Instances copied from a peer by the start-up sync.",
                None,
                GAUGE,
            ),
            state.replicator().synced_count().into(),
        ),
        (
            ("eureka_peers", "Peers this node replicates to now.", None, GAUGE),
            state.replicator().peers().len().into(),
        ),
        (
            (
                "eureka_peers_added",
                "Peers that joined the membership since start (DNS, SIGHUP reloads).",
                None,
                COUNTER,
            ),
            membership.added.into(),
        ),
        (
            (
                "eureka_peers_removed",
                "Peers that left the membership since start; their queues were dropped.",
                None,
                COUNTER,
            ),
            membership.removed.into(),
        ),
        (
            (
                "eureka_peer_discovery_failing",
                "1 while the last DNS lookup of the peers failed or found no records (the last \
                 peers found are kept).",
                None,
                GAUGE,
            ),
            membership.last_error.is_some().into(),
        ),
    ];
    for (descriptor, value) in series {
        single(enc, descriptor, value)?;
    }
    Ok(())
}

/// What a per-peer series needs besides the peer.
struct Now {
    now_ms: u64,
    started_ms: u64,
}

type PeerSeries =
    (&'static str, &'static str, Option<Unit>, MetricType, fn(&PeerView, &Now) -> Value);

/// One row per per-peer series: name, help, unit, type, value.
const PEER_SERIES: [PeerSeries; 10] = [
    ("eureka_peer_reachable", "1 if the last call to the peer succeeded.", None, GAUGE, |p, _| {
        (p.health.reachable == Some(true)).into()
    }),
    (
        "eureka_peer_auth_refused",
        "1 if the peer refused our credentials (HTTP 401/403) on its last call: check the peer \
         URL's user:password or eureka.server.peer-username/peer-password.",
        None,
        GAUGE,
        |p, _| p.health.auth_refused.into(),
    ),
    ("eureka_peer_queue_depth", "Replication tasks waiting for the peer.", None, GAUGE, |p, _| {
        p.queue_depth.into()
    }),
    (
        "eureka_peer_replication_lag",
        "How long the oldest task queued for the peer has waited (0 when none waits).",
        Some(Unit::Seconds),
        GAUGE,
        |p, _| p.oldest_task_age.map_or(0.0, |d| d.as_secs_f64()).into(),
    ),
    (
        "eureka_peer_last_success_age",
        "Time since a call to the peer last succeeded (since start-up if none has).",
        Some(Unit::Seconds),
        GAUGE,
        |p, now| {
            let since = p.health.last_success_ms.unwrap_or(now.started_ms);
            (now.now_ms.saturating_sub(since) as f64 / 1000.0).into()
        },
    ),
    (
        "eureka_peer_consecutive_failures",
        "Calls to the peer that failed in a row.",
        None,
        GAUGE,
        |p, _| u64::from(p.health.consecutive_failures).into(),
    ),
    (
        "eureka_peer_batches_sent",
        "Replication batches the peer accepted.",
        None,
        COUNTER,
        |p, _| p.health.batches_sent.into(),
    ),
    (
        "eureka_peer_items_sent",
        "Replicated items in the batches the peer accepted.",
        None,
        COUNTER,
        |p, _| p.health.items_sent.into(),
    ),
    (
        "eureka_peer_batch_failures",
        "Calls to the peer that failed (connection, timeout, 5xx) and were retried or dropped.",
        None,
        COUNTER,
        |p, _| p.health.failures.into(),
    ),
    (
        "eureka_peer_item_failures",
        "Replicated items the peer answered with a non-2xx code.",
        None,
        COUNTER,
        |p, _| p.health.item_failures.into(),
    ),
];

/// Each peer's replication link, labelled by its URL (credentials removed).
fn replication(state: &dyn Observed, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let peers = state.replicator().views();
    if peers.is_empty() {
        return Ok(());
    }
    let now = Now { now_ms: state.now_ms(), started_ms: state.started_ms() };
    for (name, help, unit, kind, value) in PEER_SERIES {
        let mut metric = enc.encode_descriptor(name, help, unit.as_ref(), kind)?;
        for p in &peers {
            let labels = [("peer", p.url.as_str())];
            emit(metric.encode_family(&labels)?, kind, value(p, &now))?;
        }
    }
    let mut metric = enc.encode_descriptor(
        "eureka_peer_shed_entries",
        "Queued instances shed because the peer stayed unreachable past max-time-for-replication \
         with more than max-elements-in-peer-replication-pool waiting (a resync follows).",
        None,
        COUNTER,
    )?;
    for p in &peers {
        let labels = [("peer", p.url.as_str())];
        emit(metric.encode_family(&labels)?, COUNTER, p.dropped.shed.into())?;
    }
    let mut metric = enc.encode_descriptor(
        "eureka_peer_resyncs",
        "Resyncs sent to the peer: every instance held here offered again after a shed queue.",
        None,
        COUNTER,
    )?;
    for p in &peers {
        let labels = [("peer", p.url.as_str())];
        emit(metric.encode_family(&labels)?, COUNTER, p.dropped.resyncs.into())?;
    }
    Ok(())
}

/// Each remote region: what it serves and how fetching it goes, labelled by region name.
fn remote_regions(state: &dyn Observed, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let remote = state.remote();
    if !remote.is_configured() {
        return Ok(());
    }
    let stats = remote.regions.stats();
    let health: Vec<_> = remote.links.iter().map(|l| l.health()).collect();
    let now = state.now_ms();
    let mut metric = enc.encode_descriptor(
        "eureka_remote_region_instances",
        "Instances a remote region contributes to reads (whitelisted; none while expired), by status.",
        None,
        GAUGE,
    )?;
    for (index, s) in stats.iter().enumerate() {
        for (status, n) in remote.regions.status_counts(index) {
            let labels = [("region", s.name.as_str()), ("status", status.as_str())];
            emit(metric.encode_family(&labels)?, GAUGE, n.into())?;
        }
    }
    type RegionSeries = (
        &'static str,
        &'static str,
        Option<Unit>,
        MetricType,
        fn(&eureka_registry::regions::RegionStats, &crate::remote::FetchHealth, u64, u64) -> Value,
    );
    let series: [RegionSeries; 6] = [
        (
            "eureka_remote_region_served",
            "1 while a remote region's copy is merged into reads (fetched once and not expired).",
            None,
            GAUGE,
            |s, _, _, _| (s.last_success_ms.is_some() && !s.expired).into(),
        ),
        (
            "eureka_remote_region_last_success_age",
            "Time since a remote region was last fetched successfully (since start-up if never).",
            Some(Unit::Seconds),
            GAUGE,
            |s, _, now, started| {
                (now.saturating_sub(s.last_success_ms.unwrap_or(started)) as f64 / 1000.0).into()
            },
        ),
        (
            "eureka_remote_region_consecutive_failures",
            "Fetches of a remote region that failed in a row.",
            None,
            GAUGE,
            |_, h, _, _| h.consecutive_failures.into(),
        ),
        (
            "eureka_remote_region_fetch_failures",
            "Fetches of a remote region that failed or timed out.",
            None,
            COUNTER,
            |_, h, _, _| h.failures.into(),
        ),
        (
            "eureka_remote_region_delta_fetches",
            "Deltas of a remote region applied with a matching hash.",
            None,
            COUNTER,
            |_, h, _, _| h.delta_fetches.into(),
        ),
        (
            "eureka_remote_region_full_fetches",
            "Full fetches of a remote region (first fetch, and after a delta whose hash differed).",
            None,
            COUNTER,
            |_, h, _, _| h.full_fetches.into(),
        ),
    ];
    for (name, help, unit, kind, value) in series {
        let mut metric = enc.encode_descriptor(name, help, unit.as_ref(), kind)?;
        for (s, h) in stats.iter().zip(&health) {
            let labels = [("region", s.name.as_str())];
            emit(metric.encode_family(&labels)?, kind, value(s, h, now, state.started_ms()))?;
        }
    }
    Ok(())
}

/// The `process_*` series every Prometheus client exports, where `/proc` provides them.
fn process(p: &ProcessStats, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let series: [(Descriptor, Option<Value>); 7] = [
        (
            ("process_cpu", "User and system CPU time.", Some(Unit::Seconds), COUNTER),
            p.cpu_seconds.map(Value::from),
        ),
        (
            ("process_resident_memory", "Resident memory size.", Some(Unit::Bytes), GAUGE),
            p.resident_bytes.map(Value::from),
        ),
        (
            ("process_virtual_memory", "Virtual memory size.", Some(Unit::Bytes), GAUGE),
            p.virtual_bytes.map(Value::from),
        ),
        (("process_open_fds", "Open file descriptors.", None, GAUGE), p.open_fds.map(Value::from)),
        (
            ("process_max_fds", "Limit on open file descriptors.", None, GAUGE),
            p.max_fds.map(Value::from),
        ),
        (("process_threads", "OS threads.", None, GAUGE), p.threads.map(Value::from)),
        (
            ("process_start_time", "Start time since the Unix epoch.", Some(Unit::Seconds), GAUGE),
            p.start_time_seconds.map(Value::from),
        ),
    ];
    for (descriptor, value) in series {
        if let Some(value) = value {
            single(enc, descriptor, value)?;
        }
    }
    Ok(())
}
