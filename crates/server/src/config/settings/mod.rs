//! The typed settings: [`ServerConfig`], whose flat fields hold the registry, lease,
//! replication, console and peer-credential settings, and one struct per grouped concern in
//! the files beside this one.

use std::net::IpAddr;
use std::time::Duration;

use crate::config::defaults;
use crate::config::discovery::PeerDiscovery;
use crate::security::{Secret, SecuritySettings};

mod dns;
mod health;
mod instance;
mod listener;
mod logging;
mod peers;
mod regions;

pub use dns::DnsSettings;
pub use health::{HealthCheckMode, HealthCheckSettings};
pub use instance::InstanceSettings;
pub use listener::{ClientAuth, Limits, SslSettings};
pub use logging::LogFormat;
pub use peers::{ClientSettings, PeerTlsSettings};
pub use regions::{RateLimiterSettings, RemoteRegionSettings};

/// The whole server configuration, typed and validated; built once by [`ServerConfig::load`].
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// `server.port`, default 8761: the HTTP listen port (0 picks a free port).
    pub port: u16,
    /// `server.address`, default 0.0.0.0: the address to listen on.
    pub address: IpAddr,
    /// `eureka.server.enable-self-preservation`, default true: stop evicting when renewals drop
    /// (§4.9).
    pub enable_self_preservation: bool,
    /// `eureka.server.renewal-percent-threshold`, default 0.85, in [0, 1]: share of expected
    /// renewals (§4.9).
    pub renewal_percent_threshold: f64,
    /// `eureka.server.eviction-interval-timer-in-ms`, default 60 000 ms, > 0: eviction task period
    /// (§4.8).
    pub eviction_interval: Duration,
    /// `eureka.server.retention-time-in-m-s-in-delta-queue`, default 180 000 ms: how long changes
    /// stay in the delta (§4.11).
    pub delta_retention: Duration,
    /// `eureka.server.delta-retention-timer-interval-in-ms`, default 30 000 ms, > 0: delta queue
    /// pruning period (§4.11).
    pub delta_retention_timer_interval: Duration,
    /// `eureka.server.disable-delta`, default false: answer 403 to delta requests.
    pub disable_delta: bool,
    /// `eureka.server.sync-when-timestamp-differs`, default true: 409 to peer heartbeats with an
    /// older timestamp (§4.13).
    pub sync_when_timestamp_differs: bool,
    /// `eureka.server.legacy-double-lease-expiry`, default false (ours): reproduce Java's expiry
    /// after twice the lease duration (§4.2).
    pub legacy_double_lease_expiry: bool,
    /// `eureka.server.max-request-body-bytes`, default 1 048 576, > 0 (ours): largest request body
    /// accepted.
    pub max_request_body_bytes: usize,
    /// `eureka.server.wait-time-in-ms-when-sync-empty`, default 300 000 ms: the "registry not
    /// ready" window (§4.12).
    pub wait_time_when_sync_empty: Duration,
    /// `eureka.server.default-open-for-traffic-count`, default 1: Spring's count when peer sync
    /// found nothing (§6).
    pub default_open_for_traffic_count: u32,
    /// `eureka.server.registry-sync-retries`, default 0: start-up peer sync attempts (§4.12).
    pub registry_sync_retries: u32,
    /// `eureka.server.registry-sync-retry-wait-ms`, default 30 000 ms: pause between sync attempts
    /// (§4.12).
    pub registry_sync_retry_wait: Duration,
    /// `eureka.server.peer-node-connect-timeout-ms`, default 1 000 ms, > 0: peer connect timeout
    /// (§4.13).
    pub peer_node_connect_timeout: Duration,
    /// `eureka.server.peer-node-read-timeout-ms`, default 5 000 ms, > 0: peer read timeout (§4.13).
    pub peer_node_read_timeout: Duration,
    /// `eureka.server.max-elements-in-peer-replication-pool`, default 10 000, > 0: queued
    /// instances above which an *unreachable* peer's queue is shed for a resync (a peer that
    /// answers is never dropped a write; its queue holds one entry per instance).
    pub max_elements_in_peer_replication_pool: usize,
    /// `eureka.server.max-threads-for-peer-replication`, default 20, > 0: concurrent replication
    /// senders (§4.13).
    pub max_threads_for_peer_replication: usize,
    /// `eureka.server.max-time-for-replication`, default 30 000 ms, > 0: how long a peer must
    /// have been unreachable before its queue may be shed (queued writes never expire).
    pub max_time_for_replication: Duration,
    /// `eureka.server.peer-replication-batch-delay-ms`, default 0 ms: how long a replicated change
    /// waits for others to share its batch.
    pub peer_replication_batch_delay: Duration,
    /// `eureka.server.peer-heartbeat-batch-delay-ms`, default 500 ms: how long a replicated
    /// heartbeat may wait for others to share its batch.
    pub peer_heartbeat_batch_delay: Duration,
    /// `eureka.server.peer-replication-batch-size`, default 250, > 0: tasks per replication batch.
    pub peer_replication_batch_size: usize,
    /// `eureka.server.peer-urls` (also `--peer URL`), default empty: peers in addition to
    /// `eureka.client.service-url.defaultZone`; each ends with '/'.
    pub extra_peer_urls: Vec<String>,
    /// `eureka.server.enable-replicated-request-compression`, default false: gzip replication batch
    /// bodies.
    pub enable_replicated_request_compression: bool,
    /// `eureka.server.min-available-instances-for-peer-replication`, default -1 (disabled), >= -1:
    /// health flag in `status`.
    pub min_available_instances_for_peer_replication: i32,
    /// `eureka.server.peer-dns-*`, `peer-eureka-nodes-update-interval-ms` and Java's
    /// `eureka.client.use-dns-for-fetching-service-urls`: peers found in DNS.
    pub peer_discovery: PeerDiscovery,
    /// `eureka.server.my-url`, default unset: our own URL, to recognise ourselves among peers
    /// (§4.13); ends with '/'.
    pub my_url: Option<String>,
    /// `eureka.server.rate-limiter-*`: Java's fetch rate limiter, off by default (§4.14).
    pub rate_limiter: RateLimiterSettings,
    /// `eureka.server.remote-region-*`: other regions' registries merged into reads.
    pub remote_regions: RemoteRegionSettings,
    /// Response-cache keys that were set; accepted and validated for compatibility but without
    /// effect (we never serve stale reads).
    pub compat_ignored: Vec<String>,
    /// `eureka.dashboard.enabled`, default true: serve the console (off: its paths answer 404).
    pub dashboard_enabled: bool,
    /// `eureka.dashboard.path`, default `/`: where the console is served; starts with '/', no
    /// trailing '/', only URL-safe characters, not under `/eureka` or another fixed route.
    pub dashboard_path: String,
    /// `eureka.environment`, default "test": shown on the dashboard.
    pub environment: String,
    /// `eureka.datacenter`, default "default": shown on the dashboard.
    pub datacenter: String,
    /// `logging.format` (`--log-format`), default text: `json` writes one JSON object per line
    /// for log pipelines.
    pub log_format: LogFormat,
    /// `server.ssl.*`: TLS on the listener, optionally verifying client certificates.
    pub ssl: SslSettings,
    /// `server.max-connections`, `server.connection-timeout`, …: what one client may cost.
    pub limits: Limits,
    /// `eureka.server.peer-tls.*`: extra trust and a client certificate for calls to peers.
    pub peer_tls: PeerTlsSettings,
    /// `eureka.instance.*`: how this server describes itself when it registers.
    pub instance: InstanceSettings,
    /// `eureka.client.*`: peers and whether to register with or fetch from them.
    pub client: ClientSettings,
    /// `eureka.security.*` (and Spring's `spring.security.user.*`): authentication and roles.
    pub security: SecuritySettings,
    /// `eureka.server.peer-username`, default unset: the user this server replicates as, for
    /// peer URLs that carry no `user:password@` of their own.
    pub peer_username: Option<String>,
    /// `eureka.server.peer-password`, default unset: that user's password (plain text: it is
    /// sent, not checked).
    pub peer_password: Option<Secret>,
    /// `eureka.server.health-checks.*`: the server checking instances itself (off by default).
    pub health_checks: HealthCheckSettings,
    /// `eureka.dns.*`: the DNS interface to the registry, off by default.
    pub dns: DnsSettings,
}

impl Default for ServerConfig {
    fn default() -> Self {
        use defaults as d;
        ServerConfig {
            port: d::PORT,
            address: d::ADDRESS,
            enable_self_preservation: d::ENABLE_SELF_PRESERVATION,
            renewal_percent_threshold: d::RENEWAL_PERCENT_THRESHOLD,
            eviction_interval: d::EVICTION_INTERVAL,
            delta_retention: d::DELTA_RETENTION,
            delta_retention_timer_interval: d::DELTA_RETENTION_TIMER_INTERVAL,
            disable_delta: d::DISABLE_DELTA,
            sync_when_timestamp_differs: d::SYNC_WHEN_TIMESTAMP_DIFFERS,
            legacy_double_lease_expiry: d::LEGACY_DOUBLE_LEASE_EXPIRY,
            max_request_body_bytes: d::MAX_REQUEST_BODY_BYTES,
            wait_time_when_sync_empty: d::WAIT_TIME_WHEN_SYNC_EMPTY,
            default_open_for_traffic_count: d::DEFAULT_OPEN_FOR_TRAFFIC_COUNT,
            registry_sync_retries: d::REGISTRY_SYNC_RETRIES,
            registry_sync_retry_wait: d::REGISTRY_SYNC_RETRY_WAIT,
            peer_node_connect_timeout: d::PEER_NODE_CONNECT_TIMEOUT,
            peer_node_read_timeout: d::PEER_NODE_READ_TIMEOUT,
            max_elements_in_peer_replication_pool: d::MAX_ELEMENTS_IN_PEER_REPLICATION_POOL,
            max_threads_for_peer_replication: d::MAX_THREADS_FOR_PEER_REPLICATION,
            max_time_for_replication: d::MAX_TIME_FOR_REPLICATION,
            peer_replication_batch_delay: d::PEER_REPLICATION_BATCH_DELAY,
            peer_heartbeat_batch_delay: d::PEER_HEARTBEAT_BATCH_DELAY,
            peer_replication_batch_size: d::PEER_REPLICATION_BATCH_SIZE,
            extra_peer_urls: Vec::new(),
            enable_replicated_request_compression: d::ENABLE_REPLICATED_REQUEST_COMPRESSION,
            min_available_instances_for_peer_replication:
                d::MIN_AVAILABLE_INSTANCES_FOR_PEER_REPLICATION,
            peer_discovery: PeerDiscovery::default(),
            my_url: None,
            rate_limiter: RateLimiterSettings::default(),
            remote_regions: RemoteRegionSettings::default(),
            compat_ignored: Vec::new(),
            dashboard_enabled: d::DASHBOARD_ENABLED,
            dashboard_path: d::DASHBOARD_PATH.to_string(),
            environment: d::ENVIRONMENT.to_string(),
            datacenter: d::DATACENTER.to_string(),
            log_format: d::LOG_FORMAT,
            ssl: SslSettings::default(),
            limits: Limits::default(),
            peer_tls: PeerTlsSettings::default(),
            instance: InstanceSettings::default(),
            client: ClientSettings::default(),
            security: SecuritySettings::default(),
            peer_username: None,
            peer_password: None,
            health_checks: HealthCheckSettings::default(),
            dns: DnsSettings::default(),
        }
    }
}

impl ServerConfig {
    /// Every configured cluster URL: the `defaultZone` list, then `eureka.server.peer-urls`,
    /// without duplicates. Our own URL may be among them; the replication layer drops it.
    pub fn peer_urls(&self) -> Vec<String> {
        let mut urls = self.client.peer_urls();
        for url in &self.extra_peer_urls {
            if !urls.contains(url) {
                urls.push(url.clone());
            }
        }
        urls
    }
}
