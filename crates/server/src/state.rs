//! The state every handler and background task shares.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use eureka_model::replication::ReplicationAction;
use eureka_model::{DataCenterInfo, InstanceInfo, InstanceStatus, Port};
use eureka_registry::{Registry, RegistrySettings};

use crate::cache::ResponseCache;
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::health::HealthChecker;
use crate::listener::{ConnectionStats, ListenerSetup};
use crate::metrics::{HealthFigures, Metrics, Observed};
use crate::rate_limit::RateLimiter;
use crate::remote::Remote;
use crate::replication::{ReplicationHost, Replicator};
use crate::security::Authenticator;
use crate::tls::{self, TlsError};
use crate::watch::WatchHub;

/// Shared, immutable-after-start server state.
pub type SharedState = Arc<ServerState>;

/// The registry, its response cache, the configuration and the clock.
///
/// The composition root: it holds the listener's counts, the replicator and the metrics,
/// and hands each what it needs ([`ReplicationHost`], [`Observed`], [`ListenerSetup`]);
/// none of them names this type.
#[derive(Debug)]
pub struct ServerState {
    /// The registry.
    pub registry: Registry,
    /// Encoded registry responses by version.
    pub cache: ResponseCache,
    /// The configuration the server started with.
    pub config: ServerConfig,
    /// Where "now" comes from.
    pub clock: Clock,
    /// Start time, epoch ms.
    pub started_ms: u64,
    /// This server's own instance record, shown by `status`.
    pub own_instance: InstanceInfo,
    /// Requests answered, by kind.
    pub requests: RequestCounters,
    /// Peers, their replication queues and the start-up sync state.
    pub replication: Replicator,
    /// Prometheus metrics: event counters, and gauges read from this state when scraped.
    pub metrics: Metrics,
    /// Wake-ups for long polls and change streams.
    pub watch: WatchHub,
    /// The listener's TLS configuration (`server.ssl.*`), `None` for plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Connections open, accepted, waited for and failed, for `/metrics`.
    pub connections: Arc<ConnectionStats>,
    /// Who may call what (`eureka.security.*`); checks nothing when security is off.
    pub auth: Authenticator,
    /// Server-side health checks (`eureka.server.health-checks.*`): settings and results.
    pub health: HealthChecker,
    /// Remote regions' copies, the merged reads over them and their fetch links.
    pub remote: Remote,
    /// The fetch rate limiter; `None` when `rate-limiter-enabled` is off.
    pub rate_limiter: Option<RateLimiter>,
}

/// Kinds of Eureka API requests, counted for tests and the real-client suite (operators
/// read the richer [`Metrics`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `GET apps`.
    FullFetch,
    /// `GET apps/delta`.
    DeltaFetch,
    /// `POST apps/{APP}` answered 204.
    Register,
    /// Renew answered 200.
    Renew,
    /// Renew answered 404 (the client must re-register).
    RenewNotFound,
    /// `DELETE apps/{APP}/{ID}` answered 200.
    Cancel,
    /// Status override set or removed.
    StatusOverride,
    /// A counted request answered with a 4xx other than a renew 404.
    Rejected,
}

impl RequestKind {
    const COUNT: usize = 8;
}

/// Per-kind request counters; lock-free, cheap enough for the renew path.
#[derive(Debug, Default)]
pub struct RequestCounters([AtomicU64; RequestKind::COUNT]);

impl RequestCounters {
    /// Counts one request.
    pub fn hit(&self, kind: RequestKind) {
        self.0[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Requests of a kind so far.
    pub fn get(&self, kind: RequestKind) -> u64 {
        self.0[kind as usize].load(Ordering::Relaxed)
    }
}

impl ServerState {
    /// Builds the state from validated configuration, reading the TLS files it names (the
    /// only part that can fail: a file is missing or unusable).
    pub fn new(config: ServerConfig, clock: Clock) -> Result<SharedState, TlsError> {
        let server_tls = tls::server_config(&config.ssl)?;
        let peer_tls = tls::peer_options(&config.peer_tls)?;
        let settings = RegistrySettings {
            self_preservation: config.enable_self_preservation,
            renewal_percent_threshold: config.renewal_percent_threshold,
            legacy_double_lease_expiry: config.legacy_double_lease_expiry,
            sync_when_timestamp_differs: config.sync_when_timestamp_differs,
            delta_retention_ms: config.delta_retention.as_millis() as u64,
            change_log_capacity: eureka_registry::registry::DEFAULT_CHANGE_LOG_CAPACITY,
        };
        let started_ms = clock.now_ms();
        let own_instance = own_instance(&config, started_ms);
        let mut own_names = vec![own_instance.host_name.clone(), own_instance.ip_addr.clone()];
        own_names.extend(machine_hostname());
        if !config.address.is_unspecified() {
            own_names.push(config.address.to_string());
        }
        let replication = Replicator::from_config(&config, own_names, &peer_tls);
        let remote = Remote::from_config(&config, &peer_tls, replication.node_id());
        let rate_limiter = RateLimiter::from_settings(&config.rate_limiter);
        let registry = Registry::new(settings);
        let watch = WatchHub::new(&registry);
        let auth = Authenticator::new(&config.security);
        let health = HealthChecker::new(
            config.health_checks.clone(),
            replication.cluster_name().clone(),
            &peer_tls,
        );
        let dns = config.dns.enabled;
        Ok(Arc::new_cyclic(|state: &Weak<ServerState>| ServerState {
            auth,
            health,
            remote,
            rate_limiter,
            registry,
            watch,
            cache: ResponseCache::default(),
            config,
            clock,
            started_ms,
            own_instance,
            requests: RequestCounters::default(),
            replication,
            metrics: Metrics::new(state.clone() as Weak<dyn Observed>, dns),
            tls: server_tls,
            connections: Arc::default(),
        }))
    }
}

impl ServerState {
    /// What the listener needs: limits, TLS, and the connection counts `/metrics` reads.
    pub fn listener_setup(&self) -> ListenerSetup {
        ListenerSetup {
            limits: self.config.limits.clone(),
            tls: self.tls.clone(),
            stats: self.connections.clone(),
        }
    }
}

impl ReplicationHost for ServerState {
    fn registry(&self) -> &Registry {
        &self.registry
    }
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
    fn replicator(&self) -> &Replicator {
        &self.replication
    }
    fn config(&self) -> &ServerConfig {
        &self.config
    }
    fn count_received(&self, action: ReplicationAction, status: u16) {
        self.metrics.received(action, status);
    }
    fn health_checks_enabled(&self) -> bool {
        self.health.enabled()
    }
}

impl Observed for ServerState {
    fn registry(&self) -> &Registry {
        &self.registry
    }
    fn replicator(&self) -> &Replicator {
        &self.replication
    }
    fn watch(&self) -> &WatchHub {
        &self.watch
    }
    fn connections(&self) -> &ConnectionStats {
        &self.connections
    }
    fn remote(&self) -> &Remote {
        &self.remote
    }
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
    fn started_ms(&self) -> u64 {
        self.started_ms
    }
    fn health(&self) -> HealthFigures {
        let (checked, failing) = self.health.counts();
        HealthFigures { checked, failing, suspect: self.health.is_suspect() }
    }
}

/// The machine's host name (Linux), if it has one.
fn machine_hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

fn own_instance(config: &ServerConfig, now: u64) -> InstanceInfo {
    let host = config
        .instance
        .hostname
        .clone()
        .or_else(machine_hostname)
        .unwrap_or_else(|| "localhost".to_string());
    let ip = config.instance.ip_address.clone().unwrap_or_else(|| "127.0.0.1".to_string());
    let app = config.instance.appname.to_uppercase();
    let port = config.port;
    InstanceInfo {
        instance_id: Some(
            config
                .instance
                .instance_id
                .clone()
                .unwrap_or_else(|| format!("{host}:{}:{port}", app.to_lowercase())),
        ),
        host_name: if config.instance.prefer_ip_address { ip.clone() } else { host },
        app: app.clone(),
        ip_addr: ip,
        status: InstanceStatus::Up,
        port: Port { port, enabled: true },
        data_center_info: Some(DataCenterInfo::default()),
        metadata: config.instance.metadata.clone().into(),
        vip_address: Some(app.to_lowercase()),
        secure_vip_address: Some(app.to_lowercase()),
        is_coordinating_discovery_server: true,
        last_updated_timestamp: now,
        last_dirty_timestamp: now,
        ..Default::default()
    }
}
