//! Prometheus metrics, served at `/metrics` and `/actuator/prometheus` as Prometheus text
//! 0.0.4, or OpenMetrics text when the scraper's `Accept` prefers it ([`mod@format`]).
//!
//! Events are counted as they happen ([`Metrics::applied`], [`Metrics::rejected`],
//! [`Metrics::evicted`], [`Metrics::observe_http`]); the write counters' handles are created
//! up front, so counting a renewal is one atomic add. Everything that describes *state* —
//! instances by app and status, self-preservation, queue depths, peer health, the process —
//! is read from the registry, the peers and `/proc` when scraped ([`collect`]), so writes pay
//! nothing for it and an app or peer that is gone is gone from the output.
//!
//! Each server has its own metric registry (no global recorder), so several servers in one
//! test process count separately.
//!
//! - [`collect`]: the scrape-time gauges.
//! - [`mod@format`]: the exposition format a scrape asks for.
//! - [`process`]: memory, CPU and file descriptors from `/proc`.
//! - [`dns`]: the DNS interface's query counters and answer durations.

pub mod collect;
pub mod dns;
pub mod format;
pub mod process;

use std::sync::Weak;
use std::time::Duration;

use axum::http::Method;
use eureka_registry::Origin;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::rate_limit::Fetch;
pub use collect::{HealthFigures, Observed};
use eureka_model::replication::ReplicationAction;
pub use format::Exposition;

/// Upper bounds of the request-duration buckets, seconds: a renew takes tens of
/// microseconds, a full fetch of a large registry tens of milliseconds, a peer batch more.
const HTTP_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// What a Eureka API call was, for the counters and the `operation` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST apps/{APP}`, or a replicated Register.
    Register,
    /// `PUT apps/{APP}/{ID}`, or a replicated Heartbeat.
    Renew,
    /// `DELETE apps/{APP}/{ID}`, or a replicated Cancel.
    Cancel,
    /// `PUT apps/{APP}/{ID}/status`: an override set.
    StatusUpdate,
    /// `DELETE apps/{APP}/{ID}/status`: an override removed.
    StatusDelete,
    /// `PUT apps/{APP}/{ID}/metadata`.
    Metadata,
    /// A registry read: `apps`, `apps/delta`, `apps/{APP}`, `vips`, `svips`.
    Fetch,
    /// A single instance read, or `status`.
    Lookup,
    /// `POST peerreplication/batch` as a whole (its items count as their own operations).
    PeerBatch,
    /// Anything else under the API (e.g. the AWS-only ASG call).
    Other,
    /// A path or method that names no route.
    Unmatched,
}

/// The write operations, each with its own success counter: (operation, name, help).
const WRITES: [(Operation, &str, &str); 6] = [
    (Operation::Register, "eureka_registrations", "Registrations applied"),
    (
        Operation::Renew,
        "eureka_renewals",
        "Renewals answered 200 (lease found, copies agree); 404 and 409 answers count as rejected",
    ),
    (Operation::Cancel, "eureka_cancels", "Cancellations applied (evictions are counted apart)"),
    (Operation::StatusUpdate, "eureka_status_updates", "Status overrides set"),
    (Operation::StatusDelete, "eureka_status_override_deletes", "Status overrides removed"),
    (Operation::Metadata, "eureka_metadata_updates", "Metadata updates applied"),
];

impl Operation {
    /// The `operation` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Register => "register",
            Operation::Renew => "renew",
            Operation::Cancel => "cancel",
            Operation::StatusUpdate => "status_update",
            Operation::StatusDelete => "status_delete",
            Operation::Metadata => "metadata",
            Operation::Fetch => "fetch",
            Operation::Lookup => "lookup",
            Operation::PeerBatch => "peer_batch",
            Operation::Other => "other",
            Operation::Unmatched => "unmatched",
        }
    }

    /// Index into [`WRITES`] for operations that change the registry.
    fn write_index(self) -> Option<usize> {
        WRITES.iter().position(|(op, _, _)| *op == self)
    }
}

/// The `origin` label: `client` for calls from instances and operators, `peer` for writes
/// replicated from another server (sum over `origin="client"` across a cluster to count each
/// write once).
pub fn origin_label(origin: Origin) -> &'static str {
    match origin {
        Origin::Client => "client",
        Origin::Peer => "peer",
    }
}

/// The `reason` label of a rejected call, from the status it was answered with.
pub fn reason_label(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        409 => "conflict",
        413 => "too_large",
        415 => "unsupported_media_type",
        _ => "other",
    }
}

/// The `method` label: the standard methods by name, anything else as `OTHER`, so a client
/// cannot mint series with made-up methods.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 7] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
    ];
    KNOWN.iter().find(|m| *m == method).map_or("OTHER", |m| m.as_str())
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OriginLabels {
    origin: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RejectedLabels {
    operation: &'static str,
    reason: &'static str,
    origin: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FetchLabels {
    fetch: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

type HttpFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CheckLabels {
    mode: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ModeLabels {
    mode: &'static str,
}

/// Upper bounds of the health-check duration buckets, seconds: a loopback TCP connect takes
/// tens of microseconds, a timeout up to the configured limit.
const CHECK_BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// The check modes that have series.
const CHECK_MODES: [&str; 2] = ["http", "tcp"];

/// Health-check counters, made up front: counting a check is one atomic add.
#[derive(Debug)]
struct HealthMetrics {
    /// By mode (http, tcp) then result (pass, fail).
    checks: [[Counter; 2]; 2],
    durations: [Histogram; 2],
    marked_down: Counter,
}

impl HealthMetrics {
    fn new(registry: &mut Registry) -> Self {
        let checks_family = Family::<CheckLabels, Counter>::default();
        registry.register(
            "eureka_health_checks",
            "Health checks run by this node, by mode and result",
            checks_family.clone(),
        );
        let durations_family: Family<ModeLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(CHECK_BUCKETS));
        registry.register_with_unit(
            "eureka_health_check_duration",
            "Health check duration by mode (a timed-out check counts its timeout)",
            Unit::Seconds,
            durations_family.clone(),
        );
        let marked_down = Counter::default();
        registry.register(
            "eureka_health_marked_down",
            "Instances this node's checks marked DOWN",
            marked_down.clone(),
        );
        HealthMetrics {
            checks: CHECK_MODES.map(|mode| {
                ["pass", "fail"]
                    .map(|result| checks_family.get_or_create_owned(&CheckLabels { mode, result }))
            }),
            durations: CHECK_MODES
                .map(|mode| durations_family.get_or_create_owned(&ModeLabels { mode })),
            marked_down,
        }
    }
}

/// One server's metrics: the event counters and the registry that renders them with the
/// scrape-time gauges.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Success counters of [`WRITES`], by write and then origin (client, peer).
    writes: [[Counter; 2]; WRITES.len()],
    rejected: Family<RejectedLabels, Counter>,
    evictions: Counter,
    http: HttpFamily,
    health: HealthMetrics,
    /// Fetches refused by the rate limiter: full, delta, application.
    throttled: [Counter; 3],
    /// The DNS interface's metrics; `None` when it is off (no empty series).
    pub dns: Option<dns::DnsMetrics>,
}

impl Metrics {
    /// Metrics for the server that `observed` will point to; the scrape-time collector
    /// reads it through this weak handle (the server's state owns the metrics). `dns`: whether
    /// the DNS interface is on, so its series exist.
    pub fn new(observed: Weak<dyn Observed>, dns: bool) -> Self {
        let mut registry = Registry::default();
        let writes = WRITES.map(|(_, name, help)| {
            let family = Family::<OriginLabels, Counter>::default();
            registry.register(name, help, family.clone());
            [Origin::Client, Origin::Peer]
                .map(|o| family.get_or_create_owned(&OriginLabels { origin: origin_label(o) }))
        });
        let rejected = Family::<RejectedLabels, Counter>::default();
        registry.register(
            "eureka_rejected_requests",
            "Eureka API calls and replicated items refused with a 4xx, by operation and reason",
            rejected.clone(),
        );
        let evictions = Counter::default();
        registry.register(
            "eureka_evictions",
            "Leases evicted because they expired (not replicated: each node evicts on its own)",
            evictions.clone(),
        );
        let http: HttpFamily = Family::new_with_constructor(|| Histogram::new(HTTP_BUCKETS));
        registry.register_with_unit(
            "eureka_http_request_duration",
            "HTTP request duration by method, route template and status",
            Unit::Seconds,
            http.clone(),
        );
        let throttled_family = Family::<FetchLabels, Counter>::default();
        registry.register(
            "eureka_throttled_fetches",
            "Registry fetches refused with 503 by the rate limiter (eureka.server.rate-limiter-*), by kind",
            throttled_family.clone(),
        );
        let throttled = [Fetch::Full, Fetch::Delta, Fetch::Application]
            .map(|f| throttled_family.get_or_create_owned(&FetchLabels { fetch: f.as_str() }));
        registry.register(
            "eureka_build",
            "The running version",
            Info::new([("version", env!("CARGO_PKG_VERSION"))]),
        );
        let health = HealthMetrics::new(&mut registry);
        let dns = dns.then(|| dns::DnsMetrics::register(&mut registry));
        registry.register_collector(Box::new(collect::StateCollector::new(observed)));
        Metrics { registry, writes, rejected, evictions, http, health, throttled, dns }
    }

    /// Counts a fetch the rate limiter refused.
    pub fn throttled(&self, fetch: Fetch) {
        self.throttled[fetch as usize].inc();
    }

    /// Counts a write that was applied.
    pub fn applied(&self, op: Operation, origin: Origin) {
        if let Some(i) = op.write_index() {
            self.writes[i][usize::from(origin == Origin::Peer)].inc();
        }
    }

    /// Counts a call or replicated item refused with a 4xx `status`.
    pub fn rejected(&self, op: Operation, origin: Origin, status: u16) {
        let labels = RejectedLabels {
            operation: op.as_str(),
            reason: reason_label(status),
            origin: origin_label(origin),
        };
        self.rejected.get_or_create(&labels).inc();
    }

    /// Counts one replicated item a peer sent, by the status it was answered with: applied
    /// (2xx) or refused (4xx) under the operation it replicates.
    pub fn received(&self, action: ReplicationAction, status: u16) {
        let op = match action {
            ReplicationAction::Register => Operation::Register,
            ReplicationAction::Heartbeat => Operation::Renew,
            ReplicationAction::Cancel => Operation::Cancel,
            ReplicationAction::StatusUpdate => Operation::StatusUpdate,
            ReplicationAction::DeleteStatusOverride => Operation::StatusDelete,
        };
        match status {
            200..=299 => self.applied(op, Origin::Peer),
            400..=499 => self.rejected(op, Origin::Peer, status),
            _ => {}
        }
    }

    /// Counts evicted leases.
    pub fn evicted(&self, count: usize) {
        self.evictions.inc_by(count as u64);
    }

    /// Counts one health check of `mode` (`http` or `tcp`) and its duration.
    pub fn health_check(&self, mode: &str, passed: bool, took: Duration) {
        let m = usize::from(mode == "tcp");
        self.health.checks[m][usize::from(!passed)].inc();
        self.health.durations[m].observe(took.as_secs_f64());
    }

    /// Counts an instance this node's checks marked DOWN.
    pub fn health_marked_down(&self) {
        self.health.marked_down.inc();
    }

    /// Records one answered HTTP request; `route` is a template, never a raw path.
    pub fn observe_http(&self, method: &Method, route: &'static str, status: u16, took: Duration) {
        let labels = HttpLabels { method: method_label(method), route, status };
        self.http.get_or_create(&labels).observe(took.as_secs_f64());
    }

    /// The whole exposition, OpenMetrics text ending in `# EOF`.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            // Writing to a String cannot fail; a collector returning an error would.
            tracing::warn!(error = %e, "could not encode metrics");
        }
        out
    }

    /// The exposition in `format`.
    pub fn render_as(&self, format: Exposition) -> String {
        match format {
            Exposition::OpenMetrics => self.render(),
            Exposition::PrometheusText => format::to_prometheus_text(&self.render()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        assert_eq!(method_label(&Method::PUT), "PUT");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }

    #[test]
    fn every_write_has_its_counter_and_reads_have_none() {
        for (op, _, _) in WRITES {
            assert!(op.write_index().is_some());
        }
        assert_eq!(Operation::Fetch.write_index(), None);
        assert_eq!(Operation::PeerBatch.write_index(), None);
    }
}
