//! Server configuration: typed, validated settings, loaded once at start-up.
//!
//! Sources, lowest precedence first: the embedded defaults ([`ServerConfig::default`], named
//! constants in [`defaults`]) < a Spring Boot style file (`application.yml`, `.yaml` or
//! `.properties`) < environment variables (Spring relaxed binding) < explicit overrides (the
//! command-line flags, as dotted keys). Every source goes through one code path: a key as
//! written and its raw text are looked up in one binding table (its keys are [`KNOWN_KEYS`]),
//! parsed into the typed field, and range-checked by [`ServerConfig::validate`].
//!
//! Key matching follows Spring's relaxed binding: each dotted segment is compared lower-cased
//! with `-` and `_` removed, so `enableSelfPreservation`, `enable-self-preservation` and
//! `enable_self_preservation` are one key; map keys (after `metadata-map.` and `service-url.`)
//! keep their exact text. Environment variables match when upper-cased with `_`, `.` and `-`
//! removed (`EUREKA_SERVER_ENABLE_SELF_PRESERVATION`). An empty or null value means "unset":
//! an optional field becomes `None`, any other field keeps the value from a lower source.
//! Values of our keys may use Spring placeholders, `${name}` or `${name:default}`, looked up in
//! the overrides, then the environment, then the file; unlike Spring, which leaves an
//! unresolvable placeholder as literal text, we refuse it ([`ConfigError::Placeholder`]).
//!
//! Property names and defaults: `eureka-protocol.md` §4.15 and §6 ("Property names").

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_norway::Value;

use crate::security::{parse_roles, Password, Secret, SecuritySettings, UserSettings};

pub mod discovery;
pub use discovery::PeerDiscovery;

/// The embedded defaults, one named constant per setting (`eureka-protocol.md` §4.15).
pub mod defaults {
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Duration;

    /// `server.port`: 8761, the port Spring's client default URL points at.
    pub const PORT: u16 = 8761;
    /// `server.address`: listen on every interface.
    pub const ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    /// `eureka.server.enable-self-preservation`: on, as in Java.
    pub const ENABLE_SELF_PRESERVATION: bool = true;
    /// `eureka.server.renewal-percent-threshold`: 85 % of expected renewals.
    pub const RENEWAL_PERCENT_THRESHOLD: f64 = 0.85;
    /// `eureka.server.eviction-interval-timer-in-ms`: 60 s.
    pub const EVICTION_INTERVAL: Duration = Duration::from_millis(60_000);
    /// `eureka.server.retention-time-in-m-s-in-delta-queue`: 3 minutes.
    pub const DELTA_RETENTION: Duration = Duration::from_millis(180_000);
    /// `eureka.server.delta-retention-timer-interval-in-ms`: 30 s.
    pub const DELTA_RETENTION_TIMER_INTERVAL: Duration = Duration::from_millis(30_000);
    /// `eureka.server.disable-delta`: deltas are served.
    pub const DISABLE_DELTA: bool = false;
    /// `eureka.server.sync-when-timestamp-differs`: answer 409 to stale peer heartbeats.
    pub const SYNC_WHEN_TIMESTAMP_DIFFERS: bool = true;
    /// `eureka.server.legacy-double-lease-expiry`: off, leases expire after one duration.
    pub const LEGACY_DOUBLE_LEASE_EXPIRY: bool = false;
    /// `eureka.server.max-request-body-bytes`: 1 MiB.
    pub const MAX_REQUEST_BODY_BYTES: usize = 1_048_576;
    /// `eureka.server.wait-time-in-ms-when-sync-empty`: 5 minutes.
    pub const WAIT_TIME_WHEN_SYNC_EMPTY: Duration = Duration::from_millis(300_000);
    /// `eureka.server.default-open-for-traffic-count`: 1, Spring's value (no 403 window).
    pub const DEFAULT_OPEN_FOR_TRAFFIC_COUNT: u32 = 1;
    /// `eureka.server.registry-sync-retries`: 0, Spring's value for a standalone server.
    pub const REGISTRY_SYNC_RETRIES: u32 = 0;
    /// `eureka.server.registry-sync-retry-wait-ms`: 30 s.
    pub const REGISTRY_SYNC_RETRY_WAIT: Duration = Duration::from_millis(30_000);
    /// `eureka.server.peer-node-connect-timeout-ms`: 1 s (Netflix's value).
    pub const PEER_NODE_CONNECT_TIMEOUT: Duration = Duration::from_millis(1_000);
    /// `eureka.server.peer-node-read-timeout-ms`: 5 s (Netflix's value).
    pub const PEER_NODE_READ_TIMEOUT: Duration = Duration::from_millis(5_000);
    /// `eureka.server.max-elements-in-peer-replication-pool`: 10 000 queued tasks.
    pub const MAX_ELEMENTS_IN_PEER_REPLICATION_POOL: usize = 10_000;
    /// `eureka.server.max-threads-for-peer-replication`: 20 concurrent senders.
    pub const MAX_THREADS_FOR_PEER_REPLICATION: usize = 20;
    /// `eureka.server.max-time-for-replication`: 30 s before a queued task is dropped.
    pub const MAX_TIME_FOR_REPLICATION: Duration = Duration::from_millis(30_000);
    /// `eureka.server.peer-replication-batch-delay-ms`: 0, a change leaves at once; changes that
    /// arrive while a batch is in flight go together in the next one.
    pub const PEER_REPLICATION_BATCH_DELAY: Duration = Duration::ZERO;
    /// `eureka.server.peer-heartbeat-batch-delay-ms`: 500 ms, Java's batching window, for
    /// heartbeats only (nobody waits on them).
    pub const PEER_HEARTBEAT_BATCH_DELAY: Duration = Duration::from_millis(500);
    /// `eureka.server.peer-replication-batch-size`: 250 tasks per batch, as Java.
    pub const PEER_REPLICATION_BATCH_SIZE: usize = 250;
    /// `eureka.server.enable-replicated-request-compression`: off.
    pub const ENABLE_REPLICATED_REQUEST_COMPRESSION: bool = false;
    /// `eureka.server.min-available-instances-for-peer-replication`: -1, check disabled.
    pub const MIN_AVAILABLE_INSTANCES_FOR_PEER_REPLICATION: i32 = -1;
    /// `eureka.server.rate-limiter-enabled`: off.
    pub const RATE_LIMITER_ENABLED: bool = false;
    /// `eureka.dashboard.enabled`: the console is served.
    pub const DASHBOARD_ENABLED: bool = true;
    /// `eureka.dashboard.path`: the console is at the root, as Spring's.
    pub const DASHBOARD_PATH: &str = "/";
    /// `eureka.environment`: "test", what the dashboard shows.
    pub const ENVIRONMENT: &str = "test";
    /// `eureka.datacenter`: "default", what the dashboard shows.
    pub const DATACENTER: &str = "default";
    /// `logging.format`: human-readable lines.
    pub const LOG_FORMAT: super::LogFormat = super::LogFormat::Text;
    /// `server.ssl.client-auth`: no client certificates asked for.
    pub const CLIENT_AUTH: super::ClientAuth = super::ClientAuth::None;
    /// `server.max-http-request-header-size`: 8 KiB, Spring's (Tomcat's) default, so a client
    /// that works against a Spring Eureka server works here; Eureka clients send under 1 KiB.
    pub const MAX_HTTP_REQUEST_HEADER_SIZE: usize = 8 * 1024;
    /// `server.max-connections`: 10 000 open connections (Tomcat's 8 192, rounded up: every
    /// instance of a fleet may hold one, plus watchers).
    pub const MAX_CONNECTIONS: usize = 10_000;
    /// `server.connection-timeout`: 60 s to finish the TLS handshake and each request head,
    /// counted from the connection's opening or the end of its previous answer (so also the
    /// keep-alive idle limit). Embedded Tomcat's 60 s: longer than the 30 s that Java and our
    /// clients keep idle connections pooled, so a pooled connection is not cut under them.
    pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);
    /// `server.request-timeout`: 30 s for a request's body to arrive once its head has.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// `eureka.instance.appname`: "eureka" when neither it nor `spring.application.name` is set.
    pub const APPNAME: &str = "eureka";
    /// `eureka.instance.prefer-ip-address`: advertise the host name.
    pub const PREFER_IP_ADDRESS: bool = false;
    /// `eureka.instance.lease-renewal-interval-in-seconds`: 30 s.
    pub const LEASE_RENEWAL_INTERVAL: Duration = Duration::from_secs(30);
    /// `eureka.instance.lease-expiration-duration-in-seconds`: 90 s.
    pub const LEASE_EXPIRATION_DURATION: Duration = Duration::from_secs(90);
    /// `eureka.client.register-with-eureka`: off, we are standalone by default.
    pub const REGISTER_WITH_EUREKA: bool = false;
    /// `eureka.client.fetch-registry`: off, we are standalone by default.
    pub const FETCH_REGISTRY: bool = false;
    /// `eureka.client.region`: "us-east-1", the Java default.
    pub const REGION: &str = "us-east-1";
    /// The service-url zone that lists our peers.
    pub const DEFAULT_ZONE: &str = "defaultZone";
    /// Upper bound for every duration setting: one year, so later arithmetic cannot overflow.
    pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);
}

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
    /// `eureka.server.max-elements-in-peer-replication-pool`, default 10 000, > 0: replication
    /// queue bound (§4.13).
    pub max_elements_in_peer_replication_pool: usize,
    /// `eureka.server.max-threads-for-peer-replication`, default 20, > 0: concurrent replication
    /// senders (§4.13).
    pub max_threads_for_peer_replication: usize,
    /// `eureka.server.max-time-for-replication`, default 30 000 ms, > 0: age after which a queued
    /// task is dropped (§4.13).
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
    /// `eureka.server.rate-limiter-enabled`, default false: the Netflix rate limiter filter
    /// (§4.14).
    pub rate_limiter_enabled: bool,
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
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the fields of the current spans (request id, peer, task).
    Json,
}

/// `server.ssl.*`, Spring Boot's keys: PEM files for the listener's certificate and for
/// verifying clients' certificates (mTLS).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SslSettings {
    /// `server.ssl.enabled`, default unset: false turns TLS off even with a certificate; true
    /// without `server.ssl.certificate` is refused. Unset: TLS when a certificate is set, as
    /// in Spring.
    pub enabled: Option<bool>,
    /// `server.ssl.certificate`, default unset: PEM file with the server's certificate chain,
    /// leaf first.
    pub certificate: Option<PathBuf>,
    /// `server.ssl.certificate-private-key`, default unset: PEM file with the certificate's
    /// private key (PKCS#8, PKCS#1 or SEC1); required with a certificate.
    pub certificate_private_key: Option<PathBuf>,
    /// `server.ssl.trust-certificate`, default unset: PEM bundle of the CAs whose client
    /// certificates are accepted; required when `client-auth` is want or need.
    pub trust_certificate: Option<PathBuf>,
    /// `server.ssl.client-auth`, default none: whether clients must present a certificate.
    pub client_auth: ClientAuth,
}

impl SslSettings {
    /// Whether the listener speaks TLS: a certificate is set and TLS is not turned off.
    pub fn is_enabled(&self) -> bool {
        self.certificate.is_some() && self.enabled != Some(false)
    }
}

/// `server.ssl.client-auth`: whether a TLS client must present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No certificate is asked for.
    #[default]
    None,
    /// A certificate is asked for and verified if sent; clients without one are served.
    Want,
    /// A verified certificate is required: the handshake fails without one (peers' mTLS).
    Need,
}

/// Limits on what one connection or request may cost the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `server.max-http-request-header-size`, default 8 KiB, at least 1 KiB: the largest
    /// request line plus headers; larger heads are answered 431.
    pub max_http_request_header_size: usize,
    /// `server.max-connections`, default 10 000, > 0: open connections; at the limit the
    /// server stops accepting (new ones wait in the kernel's backlog) until one closes.
    pub max_connections: usize,
    /// `server.connection-timeout`, default 60 s, > 0: time allowed for the TLS handshake and
    /// for each request head, from the connection's opening or its previous answer; also the
    /// keep-alive idle limit. Protects against clients that connect and send slowly.
    pub connection_timeout: Duration,
    /// `server.request-timeout`, default 30 s, > 0: time for a request's body to arrive once
    /// its head has; then 408. Handling needs no bound (it never waits on the client), and
    /// long polls, drains and change streams have their own.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_http_request_header_size: defaults::MAX_HTTP_REQUEST_HEADER_SIZE,
            max_connections: defaults::MAX_CONNECTIONS,
            connection_timeout: defaults::CONNECTION_TIMEOUT,
            request_timeout: defaults::REQUEST_TIMEOUT,
        }
    }
}

/// `eureka.server.peer-tls.*`: how this server's calls to peers (replication, start-up
/// sync) use TLS, beyond the public roots every `https://` peer URL is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerTlsSettings {
    /// `eureka.server.peer-tls.trust-certificate`, default unset: PEM bundle of extra CAs
    /// trusted for peers' server certificates (e.g. a private cluster CA).
    pub trust_certificate: Option<PathBuf>,
    /// `eureka.server.peer-tls.certificate`, default unset: PEM certificate chain presented
    /// to peers that ask for one (mTLS); needs the private key below.
    pub certificate: Option<PathBuf>,
    /// `eureka.server.peer-tls.certificate-private-key`, default unset: PEM private key of
    /// the peer client certificate.
    pub certificate_private_key: Option<PathBuf>,
}

/// `eureka.instance.*`: this server's own instance record, used when it registers with peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSettings {
    /// `eureka.instance.appname`, else `spring.application.name`, default "eureka": our app name
    /// (upper-cased on the wire).
    pub appname: String,
    /// `eureka.instance.hostname`, default unset (the machine's host name): the advertised host.
    pub hostname: Option<String>,
    /// `eureka.instance.instance-id`, default unset (derived host:app:port): our instance id.
    pub instance_id: Option<String>,
    /// `eureka.instance.prefer-ip-address`, default false: advertise the IP address instead of the
    /// host name.
    pub prefer_ip_address: bool,
    /// `eureka.instance.ip-address`, default unset (detected): the advertised IP address.
    pub ip_address: Option<String>,
    /// `eureka.instance.lease-renewal-interval-in-seconds`, default 30 s, > 0: our heartbeat
    /// period.
    pub lease_renewal_interval: Duration,
    /// `eureka.instance.lease-expiration-duration-in-seconds`, default 90 s, > 0: our lease
    /// duration.
    pub lease_expiration_duration: Duration,
    /// `eureka.instance.metadata-map.<key>`, default empty: our metadata; keys keep their case.
    pub metadata: BTreeMap<String, String>,
}

/// `eureka.client.*`: the peers this server talks to and whether it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// `eureka.client.service-url.<zone>`, default empty (unlike Spring's localhost URL): peer URLs
    /// per zone, each ending with '/'.
    pub service_urls: BTreeMap<String, Vec<String>>,
    /// `eureka.client.register-with-eureka`, default false: register ourselves with the peers.
    pub register_with_eureka: bool,
    /// `eureka.client.fetch-registry`, default false: fetch the registry from the peers.
    pub fetch_registry: bool,
    /// `eureka.client.region`, default "us-east-1": our region.
    pub region: String,
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
            rate_limiter_enabled: d::RATE_LIMITER_ENABLED,
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
        }
    }
}

impl Default for InstanceSettings {
    fn default() -> Self {
        InstanceSettings {
            appname: defaults::APPNAME.to_string(),
            hostname: None,
            instance_id: None,
            prefer_ip_address: defaults::PREFER_IP_ADDRESS,
            ip_address: None,
            lease_renewal_interval: defaults::LEASE_RENEWAL_INTERVAL,
            lease_expiration_duration: defaults::LEASE_EXPIRATION_DURATION,
            metadata: BTreeMap::new(),
        }
    }
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            service_urls: BTreeMap::new(),
            register_with_eureka: defaults::REGISTER_WITH_EUREKA,
            fetch_registry: defaults::FETCH_REGISTRY,
            region: defaults::REGION.to_string(),
        }
    }
}

impl ClientSettings {
    /// The peer URLs: the `defaultZone` service-url list (other zones are not used yet).
    pub fn peer_urls(&self) -> Vec<String> {
        self.service_urls.get(defaults::DEFAULT_ZONE).cloned().unwrap_or_default()
    }
}

/// Where the configuration comes from; tests fill `env` from a list, never the process.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources<'a> {
    /// A Spring Boot style file (`.yml`, `.yaml` or `.properties`), if any.
    pub file: Option<&'a Path>,
    /// Environment variables as (name, value); only `EUREKA_*`, `SERVER_*`, `LOGGING_*` and
    /// `SPRING_APPLICATION_NAME` bind keys, but any may be named by a `${NAME}` placeholder.
    pub env: Vec<(String, String)>,
    /// Explicit overrides from command-line flags as (dotted key, value), applied in order, highest
    /// precedence.
    pub overrides: Vec<(String, String)>,
}

/// The outcome of [`ServerConfig::load`]: the configuration and the warnings to log.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated configuration.
    pub config: ServerConfig,
    /// Human-readable warnings, e.g. "unknown key 'eureka.server.foo' in /etc/application.yml".
    pub warnings: Vec<String>,
}

/// Which source a value came from, so errors and warnings can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The configuration file at this path.
    File(PathBuf),
    /// The environment variables.
    Environment,
    /// The explicit overrides (command-line flags).
    Override,
    /// The final configuration, when [`ServerConfig::validate`] cannot tell where a value came
    /// from.
    Resolved,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Environment => f.write_str("the environment"),
            Origin::Override => f.write_str("the command-line overrides"),
            Origin::Resolved => f.write_str("the resolved configuration"),
        }
    }
}

/// Why the configuration could not be loaded; each message names the file or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read configuration file {}: {source}", .path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The configuration file is not valid YAML or `.properties` text.
    #[error("cannot parse configuration file {}: {detail}", .path.display())]
    Parse {
        /// The file that could not be parsed.
        path: PathBuf,
        /// What is wrong, with a line number where known.
        detail: String,
    },
    /// The configuration file's extension is none of `.yml`, `.yaml`, `.properties`.
    #[error(
        "configuration file {} has an unsupported extension: expected .yml, .yaml or .properties",
        .path.display()
    )]
    UnsupportedFormat {
        /// The file with the unsupported extension.
        path: PathBuf,
    },
    /// A `${name}` placeholder in a value names no property and has no `:default`.
    #[error("cannot resolve placeholder '{placeholder}' in the value of {key} in {origin}")]
    Placeholder {
        /// The key as written in its source.
        key: String,
        /// The placeholder that could not be resolved, e.g. `${peer.url}`.
        placeholder: String,
        /// The source the value came from.
        origin: Origin,
    },
    /// A value does not parse or is out of range.
    #[error("invalid value '{value}' for {key} in {origin}: expected {expected}")]
    InvalidValue {
        /// The key as written in its source (file key, environment variable name or flag key).
        key: String,
        /// The offending value as written (after placeholder resolution).
        value: String,
        /// What would have been accepted.
        expected: &'static str,
        /// The source the value came from.
        origin: Origin,
    },
}

impl ServerConfig {
    /// Loads defaults < file < environment < overrides, validates, and collects warnings.
    pub fn load(sources: ConfigSources<'_>) -> Result<Loaded, ConfigError> {
        let documents = match sources.file {
            Some(path) => read_file(path)?,
            None => Vec::new(),
        };
        Self::load_documents(sources, documents)
    }

    /// Loads the text of a configuration file in `syntax` over the defaults, as [`Self::load`]
    /// does with a file; `name` stands for the file in messages. No file system access: for
    /// tests and the fuzz target of the parsers.
    pub fn load_text(syntax: FileSyntax, name: &Path, text: &str) -> Result<Loaded, ConfigError> {
        let documents = parse_file_text(syntax, text)
            .map_err(|detail| ConfigError::Parse { path: name.to_path_buf(), detail })?;
        Self::load_documents(
            ConfigSources { file: Some(name), ..ConfigSources::default() },
            documents,
        )
    }

    /// Binds already parsed file documents (from `sources.file`), then environment and
    /// overrides.
    fn load_documents(
        sources: ConfigSources<'_>,
        documents: Vec<Vec<Entry>>,
    ) -> Result<Loaded, ConfigError> {
        let mut file_entries = Vec::new();
        let mut warnings = Vec::new();
        if let Some(path) = sources.file {
            for document in documents {
                match profile_condition(&document) {
                    Some(condition) => warnings.push(format!(
                        "skipped a document in {} that only applies when {condition}: \
                         profiles are not supported",
                        path.display()
                    )),
                    None => file_entries.extend(document),
                }
            }
        }
        let resolver =
            Resolver { file: &file_entries, env: &sources.env, overrides: &sources.overrides };
        let mut binder = Binder::new(resolver, warnings);
        if let Some(path) = sources.file {
            let origin = Origin::File(path.to_path_buf());
            for (key, value) in &file_entries {
                binder.apply_key(key, value.as_deref(), &origin)?;
            }
        }
        binder.apply_env(&sources.env)?;
        for (key, value) in &sources.overrides {
            binder.apply_key(key, Some(value), &Origin::Override)?;
        }
        binder.finish()
    }

    /// Checks ranges and cross-field rules (threshold in [0, 1], intervals > 0, URLs well formed).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for binding in BINDINGS {
            if let Err(rejected) = (binding.check)(self) {
                let key = match rejected.map_key {
                    Some(map_key) => format!("{}.{map_key}", binding.base()),
                    None => binding.key.to_string(),
                };
                return Err(ConfigError::InvalidValue {
                    key,
                    value: rejected.value,
                    expected: rejected.expected,
                    origin: Origin::Resolved,
                });
            }
        }
        Ok(())
    }

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

    /// Soft problems worth a warning but not a refusal to start.
    fn advisories(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let instance = &self.instance;
        if instance.lease_expiration_duration <= instance.lease_renewal_interval {
            notes.push(format!(
                "eureka.instance.lease-expiration-duration-in-seconds ({} s) is not longer than \
                 eureka.instance.lease-renewal-interval-in-seconds ({} s): \
                 our own lease can expire between heartbeats",
                instance.lease_expiration_duration.as_secs_f64(),
                instance.lease_renewal_interval.as_secs_f64()
            ));
        }
        let client = &self.client;
        if (client.register_with_eureka || client.fetch_registry) && client.peer_urls().is_empty() {
            notes.push(
                "eureka.client.register-with-eureka or fetch-registry is true but \
                 eureka.client.service-url.defaultZone is empty: there is no peer to talk to"
                    .to_string(),
            );
        }
        let other_zones: Vec<&str> = client
            .service_urls
            .keys()
            .map(String::as_str)
            .filter(|zone| *zone != defaults::DEFAULT_ZONE)
            .collect();
        if !other_zones.is_empty() {
            notes.push(format!(
                "service-url zones other than defaultZone are not used yet: {}",
                other_zones.join(", ")
            ));
        }
        notes
    }
}

// ---------------------------------------------------------------------------------------------
// The binding table: one row per key, shared by file, environment and overrides.
// ---------------------------------------------------------------------------------------------

/// A value that failed a range check in [`ServerConfig::validate`].
struct Rejected {
    /// For map keys, which entry (e.g. the zone).
    map_key: Option<String>,
    /// The offending value, formatted in the key's unit.
    value: String,
    /// What would have been accepted.
    expected: &'static str,
}

type ScalarSetter = fn(&mut Binder<'_>, Option<&str>) -> Result<(), &'static str>;
type MapSetter = fn(&mut Binder<'_>, String, Option<&str>) -> Result<(), &'static str>;
type Check = fn(&ServerConfig) -> Result<(), Rejected>;

/// How a row applies a raw value.
#[derive(Clone, Copy)]
enum Apply {
    /// Parse into one field; `None` means unset.
    Scalar(ScalarSetter),
    /// Parse into one entry of a map field; the key is everything after the row's prefix.
    Map(MapSetter),
    /// Parse to validate, record in `compat_ignored`, otherwise ignore.
    NoEffect(fn(&str) -> Result<(), &'static str>),
}

/// One configuration key: its canonical kebab-case name, how to set it, how to range-check it.
struct Binding {
    /// Canonical key; map rows end with `.*`.
    key: &'static str,
    /// How a raw value is applied.
    apply: Apply,
    /// Range check run by [`ServerConfig::validate`].
    check: Check,
}

impl Binding {
    /// The key without the `.*` of map rows.
    fn base(&self) -> &'static str {
        self.key.strip_suffix(".*").unwrap_or(self.key)
    }
}

/// A row for a plain field: `bind!("key" => field.path: parser, check)`; `optional` for `Option`
/// fields.
macro_rules! bind {
    ($key:literal => optional $($field:ident).+ : $parse:path, $check:path) => {
        Binding {
            key: $key,
            apply: Apply::Scalar(|b, raw| set_optional(&mut b.config.$($field).+, raw, $parse)),
            check: |c| $check(&c.$($field).+),
        }
    };
    ($key:literal => $($field:ident).+ : $parse:path, $check:path) => {
        Binding {
            key: $key,
            apply: Apply::Scalar(|b, raw| set(&mut b.config.$($field).+, raw, $parse)),
            check: |c| $check(&c.$($field).+),
        }
    };
    ($key:literal => no_effect $parse:path) => {
        Binding {
            key: $key,
            apply: Apply::NoEffect(|raw| $parse(raw).map(|_| ())),
            check: |_| Ok(()),
        }
    };
}

/// The key that binds `eureka.client.service-url.<zone>`.
const SERVICE_URL_KEY: &str = "eureka.client.service-url.*";
/// The key that binds `eureka.security.users.<name>.password|roles`.
const USERS_KEY: &str = "eureka.security.users.*";
/// Spring Security's single user, for servers migrating from Spring (see [`Binder::finish`]).
const SPRING_USER_NAME_KEY: &str = "spring.security.user.name";
const SPRING_USER_PASSWORD_KEY: &str = "spring.security.user.password";
const SPRING_USER_ROLES_KEY: &str = "spring.security.user.roles";
/// Keys whose values are never echoed in errors.
const SECRET_KEYS: &[&str] = &["eureka.server.peer-password", SPRING_USER_PASSWORD_KEY];
/// The fallback for the instance app name.
const SPRING_APPLICATION_NAME_KEY: &str = "spring.application.name";

/// Every key we bind, in documentation order.
const BINDINGS: &[Binding] = &[
    bind!("server.port" => port: parse_port, any),
    bind!("server.address" => address: parse_ip, any),
    bind!("eureka.server.enable-self-preservation" => enable_self_preservation: parse_bool, any),
    bind!("eureka.server.renewal-percent-threshold"
        => renewal_percent_threshold: parse_f64, fraction),
    // Expected renewals are counted from each lease's own renewal interval and recomputed at
    // every minute tick, so Java's assumed client interval and its 15-minute recompute period
    // have nothing to set (accepted so Java configuration files still load).
    bind!("eureka.server.expected-client-renewal-interval-seconds" => no_effect parse_secs),
    bind!("eureka.server.renewal-threshold-update-interval-ms" => no_effect parse_millis),
    bind!("eureka.server.eviction-interval-timer-in-ms"
        => eviction_interval: parse_millis, positive_millis),
    bind!("eureka.server.retention-time-in-m-s-in-delta-queue"
        => delta_retention: parse_millis, millis),
    bind!("eureka.server.delta-retention-timer-interval-in-ms"
        => delta_retention_timer_interval: parse_millis, positive_millis),
    bind!("eureka.server.disable-delta" => disable_delta: parse_bool, any),
    bind!("eureka.server.sync-when-timestamp-differs"
        => sync_when_timestamp_differs: parse_bool, any),
    bind!("eureka.server.legacy-double-lease-expiry"
        => legacy_double_lease_expiry: parse_bool, any),
    bind!("eureka.server.max-request-body-bytes"
        => max_request_body_bytes: parse_usize, positive_count),
    bind!("eureka.server.wait-time-in-ms-when-sync-empty"
        => wait_time_when_sync_empty: parse_millis, millis),
    bind!("eureka.server.default-open-for-traffic-count"
        => default_open_for_traffic_count: parse_u32, any),
    bind!("eureka.server.registry-sync-retries" => registry_sync_retries: parse_u32, any),
    bind!("eureka.server.registry-sync-retry-wait-ms"
        => registry_sync_retry_wait: parse_millis, millis),
    bind!("eureka.server.peer-node-connect-timeout-ms"
        => peer_node_connect_timeout: parse_millis, positive_millis),
    bind!("eureka.server.peer-node-read-timeout-ms"
        => peer_node_read_timeout: parse_millis, positive_millis),
    Binding {
        key: "eureka.server.peer-eureka-nodes-update-interval-ms",
        apply: Apply::Scalar(|b, raw| {
            set_optional(&mut b.config.peer_discovery.refresh_interval, raw, parse_millis)
        }),
        check: |c| discovery::check_interval(&c.peer_discovery),
    },
    bind!("eureka.server.peer-dns-name"
        => optional peer_discovery.dns_name: discovery::parse_dns_name, any),
    bind!("eureka.server.peer-dns-port" => optional peer_discovery.dns_port: parse_port, any),
    Binding {
        key: "eureka.server.peer-dns-srv",
        apply: Apply::Scalar(|b, raw| set(&mut b.config.peer_discovery.dns_srv, raw, parse_bool)),
        check: |c| discovery::check_srv(&c.peer_discovery),
    },
    bind!("eureka.server.peer-dns-server"
        => optional peer_discovery.dns_server: discovery::parse_host_port, any),
    Binding {
        key: "eureka.client.use-dns-for-fetching-service-urls",
        apply: Apply::Scalar(|b, raw| set(&mut b.config.peer_discovery.java_txt, raw, parse_bool)),
        check: |c| discovery::check_java_txt(&c.peer_discovery),
    },
    bind!("eureka.client.eureka-server-d-n-s-name"
        => optional peer_discovery.java_dns_name: discovery::parse_dns_name, any),
    bind!("eureka.client.eureka-server-port"
        => optional peer_discovery.java_port: parse_port, any),
    bind!("eureka.client.eureka-server-u-r-l-context"
        => optional peer_discovery.java_context: discovery::parse_context, any),
    bind!("eureka.server.max-elements-in-peer-replication-pool"
        => max_elements_in_peer_replication_pool: parse_usize, positive_count),
    bind!("eureka.server.max-threads-for-peer-replication"
        => max_threads_for_peer_replication: parse_usize, positive_count),
    bind!("eureka.server.max-time-for-replication"
        => max_time_for_replication: parse_millis, positive_millis),
    bind!("eureka.server.peer-replication-batch-delay-ms"
        => peer_replication_batch_delay: parse_millis, millis),
    bind!("eureka.server.peer-heartbeat-batch-delay-ms"
        => peer_heartbeat_batch_delay: parse_millis, millis),
    bind!("eureka.server.peer-replication-batch-size"
        => peer_replication_batch_size: parse_usize, positive_count),
    bind!("eureka.server.peer-urls" => extra_peer_urls: parse_url_list, any),
    bind!("eureka.server.enable-replicated-request-compression"
        => enable_replicated_request_compression: parse_bool, any),
    bind!("eureka.server.min-available-instances-for-peer-replication"
        => min_available_instances_for_peer_replication: parse_i32, minus_one_or_more),
    bind!("eureka.server.my-url" => optional my_url: parse_url, optional_url),
    bind!("eureka.server.rate-limiter-enabled" => rate_limiter_enabled: parse_bool, any),
    bind!("eureka.server.use-read-only-response-cache" => no_effect parse_bool),
    bind!("eureka.server.response-cache-update-interval-ms" => no_effect parse_millis),
    bind!("eureka.server.response-cache-auto-expiration-in-seconds" => no_effect parse_secs),
    bind!("eureka.server.initial-capacity-of-response-cache" => no_effect parse_usize),
    bind!("eureka.dashboard.enabled" => dashboard_enabled: parse_bool, any),
    bind!("eureka.dashboard.path" => dashboard_path: parse_dashboard_path, any),
    bind!("eureka.environment" => environment: parse_text, any),
    bind!("eureka.datacenter" => datacenter: parse_text, any),
    bind!("logging.format" => log_format: parse_log_format, any),
    Binding {
        key: "server.ssl.enabled",
        apply: Apply::Scalar(|b, raw| set_optional(&mut b.config.ssl.enabled, raw, parse_bool)),
        check: |c| match (c.ssl.enabled, &c.ssl.certificate) {
            (Some(true), None) => reject(
                "true".to_string(),
                "false, or set server.ssl.certificate and server.ssl.certificate-private-key",
            ),
            _ => Ok(()),
        },
    },
    bind!("server.ssl.certificate" => optional ssl.certificate: parse_path, any),
    Binding {
        key: "server.ssl.certificate-private-key",
        apply: Apply::Scalar(|b, raw| {
            set_optional(&mut b.config.ssl.certificate_private_key, raw, parse_path)
        }),
        check: |c| {
            required_with(
                &c.ssl.certificate_private_key,
                &c.ssl.certificate,
                "a PEM private key file: server.ssl.certificate needs its key",
            )
        },
    },
    Binding {
        key: "server.ssl.trust-certificate",
        apply: Apply::Scalar(|b, raw| {
            set_optional(&mut b.config.ssl.trust_certificate, raw, parse_path)
        }),
        check: |c| match (c.ssl.client_auth, &c.ssl.trust_certificate) {
            (ClientAuth::Want | ClientAuth::Need, None) => reject(
                String::new(),
                "a PEM file of the CAs to verify client certificates with: \
                 server.ssl.client-auth is want or need",
            ),
            _ => Ok(()),
        },
    },
    bind!("server.ssl.client-auth" => ssl.client_auth: parse_client_auth, any),
    bind!("server.max-http-request-header-size"
        => limits.max_http_request_header_size: parse_data_size, header_size),
    bind!("server.max-connections" => limits.max_connections: parse_usize, positive_count),
    bind!("server.connection-timeout"
        => limits.connection_timeout: parse_duration, positive_millis),
    bind!("server.request-timeout" => limits.request_timeout: parse_duration, positive_millis),
    bind!("eureka.server.peer-tls.trust-certificate"
        => optional peer_tls.trust_certificate: parse_path, any),
    Binding {
        key: "eureka.server.peer-tls.certificate",
        apply: Apply::Scalar(|b, raw| {
            set_optional(&mut b.config.peer_tls.certificate, raw, parse_path)
        }),
        check: |c| {
            required_with(
                &c.peer_tls.certificate,
                &c.peer_tls.certificate_private_key,
                "a PEM certificate file: eureka.server.peer-tls.certificate-private-key \
                 needs its certificate",
            )
        },
    },
    Binding {
        key: "eureka.server.peer-tls.certificate-private-key",
        apply: Apply::Scalar(|b, raw| {
            set_optional(&mut b.config.peer_tls.certificate_private_key, raw, parse_path)
        }),
        check: |c| {
            required_with(
                &c.peer_tls.certificate_private_key,
                &c.peer_tls.certificate,
                "a PEM private key file: eureka.server.peer-tls.certificate needs its key",
            )
        },
    },
    Binding {
        key: "eureka.instance.appname",
        apply: Apply::Scalar(|b, raw| {
            if let Some(raw) = raw {
                b.config.instance.appname = raw.to_string();
                b.appname_set = true;
            }
            Ok(())
        }),
        check: |c| non_empty(&c.instance.appname),
    },
    Binding {
        key: SPRING_APPLICATION_NAME_KEY,
        apply: Apply::Scalar(|b, raw| {
            if let Some(raw) = raw {
                b.spring_application_name = Some(raw.to_string());
            }
            Ok(())
        }),
        check: |_| Ok(()),
    },
    bind!("eureka.instance.hostname" => optional instance.hostname: parse_text, any),
    bind!("eureka.instance.instance-id" => optional instance.instance_id: parse_text, any),
    bind!("eureka.instance.prefer-ip-address" => instance.prefer_ip_address: parse_bool, any),
    bind!("eureka.instance.ip-address" => optional instance.ip_address: parse_text, any),
    bind!("eureka.instance.lease-renewal-interval-in-seconds"
        => instance.lease_renewal_interval: parse_secs, positive_secs),
    bind!("eureka.instance.lease-expiration-duration-in-seconds"
        => instance.lease_expiration_duration: parse_secs, positive_secs),
    Binding {
        key: "eureka.instance.metadata-map.*",
        apply: Apply::Map(|b, key, raw| {
            // A metadata value may legitimately be empty; Spring binds it as "".
            b.config.instance.metadata.insert(key, raw.unwrap_or_default().to_string());
            Ok(())
        }),
        check: |_| Ok(()),
    },
    Binding {
        key: SERVICE_URL_KEY,
        apply: Apply::Map(|b, zone, raw| {
            let urls = match raw {
                Some(raw) => parse_url_list(raw)?,
                None => Vec::new(),
            };
            if urls.is_empty() {
                b.config.client.service_urls.remove(&zone);
            } else {
                b.config.client.service_urls.insert(zone, urls);
            }
            Ok(())
        }),
        check: |c| {
            for (zone, urls) in &c.client.service_urls {
                if let Some(bad) = urls.iter().find(|url| !is_http_url(url)) {
                    return Err(Rejected {
                        map_key: Some(zone.clone()),
                        value: bad.clone(),
                        expected: EXPECT_URL_LIST,
                    });
                }
            }
            Ok(())
        },
    },
    bind!("eureka.client.register-with-eureka" => client.register_with_eureka: parse_bool, any),
    bind!("eureka.client.fetch-registry" => client.fetch_registry: parse_bool, any),
    bind!("eureka.client.region" => client.region: parse_text, any),
    Binding {
        key: "eureka.security.enabled",
        apply: Apply::Scalar(|b, raw| set(&mut b.config.security.enabled, raw, parse_bool)),
        check: |c| {
            if c.security.enabled && c.security.users.is_empty() {
                return reject(
                    "true".to_string(),
                    "at least one user (eureka.security.users.<name>.password and .roles, or \
                     spring.security.user.password) when security is enabled",
                );
            }
            Ok(())
        },
    },
    bind!("eureka.security.anonymous-read" => security.anonymous_read: parse_bool, any),
    bind!("eureka.security.protect-metrics" => security.protect_metrics: parse_bool, any),
    Binding {
        key: USERS_KEY,
        apply: Apply::Map(set_user_field),
        check: |c| {
            for (name, user) in &c.security.users {
                if user.password.is_none() {
                    return Err(Rejected {
                        map_key: Some(format!("{name}.password")),
                        value: String::new(),
                        expected: "a password for the user (plain, {noop}, {bcrypt} or {argon2})",
                    });
                }
                if user.roles.is_empty() {
                    return Err(Rejected {
                        map_key: Some(format!("{name}.roles")),
                        value: String::new(),
                        expected: crate::security::ROLES_EXPECTED,
                    });
                }
            }
            Ok(())
        },
    },
    Binding {
        key: SPRING_USER_NAME_KEY,
        apply: Apply::Scalar(|b, raw| set_optional(&mut b.spring_user.0, raw, parse_user_name)),
        check: |_| Ok(()),
    },
    Binding {
        key: SPRING_USER_PASSWORD_KEY,
        apply: Apply::Scalar(|b, raw| set_optional(&mut b.spring_user.1, raw, Password::parse)),
        check: |_| Ok(()),
    },
    Binding {
        key: SPRING_USER_ROLES_KEY,
        apply: Apply::Scalar(|b, raw| set_optional(&mut b.spring_user.2, raw, parse_roles)),
        check: |_| Ok(()),
    },
    bind!("eureka.server.peer-username" => optional peer_username: parse_text, any),
    bind!("eureka.server.peer-password" => optional peer_password: parse_secret, any),
];

/// Sets `<name>.password` or `<name>.roles` of `eureka.security.users`.
fn set_user_field(b: &mut Binder<'_>, key: String, raw: Option<&str>) -> Result<(), &'static str> {
    const EXPECT_FIELD: &str = "a key eureka.security.users.<name>.password or \
                                eureka.security.users.<name>.roles";
    let (name, field) = key.rsplit_once('.').ok_or(EXPECT_FIELD)?;
    let name = parse_user_name(name)?;
    match canonical_segment(field).as_str() {
        "password" => {
            let password = raw.map(Password::parse).transpose()?;
            b.config.security.users.entry(name).or_default().password = password;
        }
        "roles" => {
            let roles = raw.map(parse_roles).transpose()?.unwrap_or_default();
            b.config.security.users.entry(name).or_default().roles = roles;
        }
        _ => return Err(EXPECT_FIELD),
    }
    Ok(())
}

/// A user name for HTTP Basic: not empty, no ':' (which ends the name in a Basic header).
fn parse_user_name(raw: &str) -> Result<String, &'static str> {
    if raw.is_empty() || raw.contains(':') || raw.chars().any(char::is_control) {
        return Err("a user name without ':' or control characters");
    }
    Ok(raw.to_string())
}

fn parse_secret(raw: &str) -> Result<Secret, &'static str> {
    Ok(Secret::new(raw))
}

/// Whether a key's values are secret: passwords are never echoed in errors.
fn is_secret(binding: &Binding, map_key: Option<&str>) -> bool {
    SECRET_KEYS.contains(&binding.key)
        || (binding.key == USERS_KEY
            && map_key
                .and_then(|k| k.rsplit_once('.'))
                .is_some_and(|(_, field)| canonical_segment(field) == "password"))
}

/// The canonical kebab-case keys this server reads (map keys shown as `prefix.*`), e.g. to check
/// the README table.
pub const KNOWN_KEYS: &[&str] = &{
    let mut keys = [""; BINDINGS.len()];
    let mut i = 0;
    while i < keys.len() {
        keys[i] = BINDINGS[i].key;
        i += 1;
    }
    keys
};

/// Spring Cloud Netflix keys (§6) we recognise but do not use: a warning says so instead of
/// "unknown key".
const UNUSED_SPRING_KEYS: &[&str] = &[
    "eureka.instance.registry.*",
    "eureka.server.expected-number-of-renews-per-min",
    "eureka.instance.non-secure-port",
    "eureka.instance.secure-port",
    "eureka.instance.non-secure-port-enabled",
    "eureka.instance.secure-port-enabled",
    "eureka.instance.virtual-host-name",
    "eureka.instance.secure-virtual-host-name",
    "eureka.instance.status-page-url-path",
    "eureka.instance.health-check-url-path",
    "eureka.instance.home-page-url-path",
    "eureka.instance.instance-enabled-onit",
    "eureka.instance.initial-status",
    "eureka.client.registry-fetch-interval-seconds",
    "eureka.client.initial-instance-info-replication-interval-seconds",
    "eureka.client.healthcheck.*",
    "eureka.client.filter-only-up-instances",
    "eureka.client.prefer-same-zone-eureka",
    "eureka.client.availability-zones.*",
    "eureka.client.disable-delta",
    "eureka.client.on-demand-update-status-change",
    "eureka.client.should-unregister-on-shutdown",
    "eureka.client.fetch-remote-regions-registry",
    "eureka.client.client-data-accept",
    "eureka.client.enabled",
    "eureka.client.refresh.*",
];

/// Top-level namespaces whose unknown keys deserve a warning (others belong to someone else).
const WARNED_NAMESPACES: &[&str] = &["eureka", "server"];

// ---------------------------------------------------------------------------------------------
// Parsers (raw text -> typed value; the error is what would have been accepted) and checks.
// ---------------------------------------------------------------------------------------------

const EXPECT_URL: &str = "an http:// or https:// URL";
const EXPECT_URL_LIST: &str = "a comma-separated list of http:// or https:// URLs";

/// Sets a field from a present value; an absent one keeps the lower source's value.
fn set<T>(
    slot: &mut T,
    raw: Option<&str>,
    parse: fn(&str) -> Result<T, &'static str>,
) -> Result<(), &'static str> {
    if let Some(raw) = raw {
        *slot = parse(raw)?;
    }
    Ok(())
}

/// Sets an optional field; an absent value clears it.
fn set_optional<T>(
    slot: &mut Option<T>,
    raw: Option<&str>,
    parse: fn(&str) -> Result<T, &'static str>,
) -> Result<(), &'static str> {
    *slot = raw.map(parse).transpose()?;
    Ok(())
}

/// Spring's boolean words: true/on/yes/1 and false/off/no/0, any case.
fn parse_bool(raw: &str) -> Result<bool, &'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err("true or false"),
    }
}

fn parse_port(raw: &str) -> Result<u16, &'static str> {
    raw.parse().map_err(|_| "a port number from 0 to 65535")
}

fn parse_u32(raw: &str) -> Result<u32, &'static str> {
    raw.parse().map_err(|_| "a whole number from 0 to 4294967295")
}

fn parse_i32(raw: &str) -> Result<i32, &'static str> {
    raw.parse().map_err(|_| "a whole number (-1 disables it)")
}

fn parse_usize(raw: &str) -> Result<usize, &'static str> {
    raw.parse().map_err(|_| "a whole number")
}

fn parse_f64(raw: &str) -> Result<f64, &'static str> {
    raw.parse().map_err(|_| "a number between 0 and 1")
}

fn parse_millis(raw: &str) -> Result<Duration, &'static str> {
    raw.parse().map(Duration::from_millis).map_err(|_| "a whole number of milliseconds")
}

fn parse_secs(raw: &str) -> Result<Duration, &'static str> {
    raw.parse().map(Duration::from_secs).map_err(|_| "a whole number of seconds")
}

/// An IP address; `localhost` and `[::1]` are accepted for convenience.
fn parse_ip(raw: &str) -> Result<IpAddr, &'static str> {
    if raw.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let bare = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(raw);
    bare.parse().map_err(|_| "an IP address such as 0.0.0.0 or ::1")
}

fn parse_log_format(raw: &str) -> Result<LogFormat, &'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err("text or json"),
    }
}

fn parse_text(raw: &str) -> Result<String, &'static str> {
    Ok(raw.to_string())
}

/// A file path; whether it can be read is checked when the server starts (`tls.rs`).
fn parse_path(raw: &str) -> Result<PathBuf, &'static str> {
    Ok(PathBuf::from(raw))
}

fn parse_client_auth(raw: &str) -> Result<ClientAuth, &'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "none" => Ok(ClientAuth::None),
        "want" => Ok(ClientAuth::Want),
        "need" => Ok(ClientAuth::Need),
        _ => Err("none, want or need"),
    }
}

/// Spring's `DataSize` text: a whole number of bytes, or with a unit B, KB, MB or GB (any
/// case; 1KB = 1024 bytes).
fn parse_data_size(raw: &str) -> Result<usize, &'static str> {
    const EXPECT: &str = "a size in bytes, or with a unit such as 8KB or 1MB";
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let scale: usize = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        _ => return Err(EXPECT),
    };
    digits.parse::<usize>().ok().and_then(|n| n.checked_mul(scale)).ok_or(EXPECT)
}

/// Spring's `Duration` text: a whole number of milliseconds, or with a unit ns, us, ms, s, m,
/// h or d (e.g. `30s`, `500ms`).
fn parse_duration(raw: &str) -> Result<Duration, &'static str> {
    const EXPECT: &str = "a duration such as 30s, 500ms or 2m (a bare number is milliseconds)";
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: u64 = digits.parse().map_err(|_| EXPECT)?;
    let nanos_per: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "ns" => 1,
        "us" => 1_000,
        "" | "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3_600 * 1_000_000_000,
        "d" => 86_400 * 1_000_000_000,
        _ => return Err(EXPECT),
    };
    let nanos = u128::from(n) * u128::from(nanos_per);
    let max = defaults::MAX_DURATION.as_nanos();
    // Clamped so the range check reports "at most one year" rather than overflowing here.
    Ok(Duration::from_nanos(nanos.min(max + 1) as u64))
}

/// Paths the console may not take: the Eureka API and the fixed operational routes.
const RESERVED_PATH_PREFIXES: &[&str] =
    &["/eureka", "/health", "/actuator", "/metrics", "/serverinfo"];

/// The console's path, normalised: a leading '/', no trailing '/' (except the root), and only
/// characters that need no escaping in a URL or in HTML, because it is written into the page.
fn parse_dashboard_path(raw: &str) -> Result<String, &'static str> {
    const EXPECT: &str = "a path such as / or /console: starts with '/', letters, digits and \
                          '-', '_', '.', '~' in segments, not under /eureka, /health, /actuator, \
                          /metrics or /serverinfo";
    let trimmed = raw.trim();
    let path = if trimmed.len() > 1 { trimmed.trim_end_matches('/') } else { trimmed };
    let path = if path.is_empty() { "/" } else { path };
    if !path.starts_with('/') {
        return Err(EXPECT);
    }
    if path != "/" {
        let segments_ok = path[1..].split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
        });
        let lower = path.to_ascii_lowercase();
        let reserved = RESERVED_PATH_PREFIXES.iter().any(|p| {
            lower == *p || lower.strip_prefix(p).is_some_and(|rest| rest.starts_with('/'))
        });
        if !segments_ok || reserved {
            return Err(EXPECT);
        }
    }
    Ok(path.to_string())
}

fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    ["http://", "https://"]
        .iter()
        .any(|scheme| lower.len() > scheme.len() && lower.starts_with(scheme))
}

/// One http(s) URL, given a trailing '/' so it compares and joins like peer URLs.
fn parse_url(raw: &str) -> Result<String, &'static str> {
    if !is_http_url(raw) || raw.chars().any(char::is_whitespace) {
        return Err(EXPECT_URL);
    }
    let mut url = raw.to_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

/// A comma-separated URL list, each trimmed and normalised by [`parse_url`]; empty items are
/// dropped.
fn parse_url_list(raw: &str) -> Result<Vec<String>, &'static str> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse_url(item).map_err(|_| EXPECT_URL_LIST))
        .collect()
}

fn any<T>(_: &T) -> Result<(), Rejected> {
    Ok(())
}

fn reject(value: String, expected: &'static str) -> Result<(), Rejected> {
    Err(Rejected { map_key: None, value, expected })
}

fn fraction(value: &f64) -> Result<(), Rejected> {
    if (0.0..=1.0).contains(value) {
        Ok(())
    } else {
        reject(value.to_string(), "a number between 0 and 1")
    }
}

fn millis(value: &Duration) -> Result<(), Rejected> {
    if *value <= defaults::MAX_DURATION {
        Ok(())
    } else {
        reject(
            (value.as_secs_f64() * 1000.0).to_string(),
            "a whole number of milliseconds, at most one year",
        )
    }
}

fn positive_millis(value: &Duration) -> Result<(), Rejected> {
    if !value.is_zero() && *value <= defaults::MAX_DURATION {
        Ok(())
    } else {
        reject(
            (value.as_secs_f64() * 1000.0).to_string(),
            "a positive whole number of milliseconds, at most one year",
        )
    }
}

fn positive_secs(value: &Duration) -> Result<(), Rejected> {
    if !value.is_zero() && *value <= defaults::MAX_DURATION {
        Ok(())
    } else {
        reject(
            value.as_secs_f64().to_string(),
            "a positive whole number of seconds, at most one year",
        )
    }
}

fn positive_count(value: &usize) -> Result<(), Rejected> {
    if *value > 0 {
        Ok(())
    } else {
        reject(value.to_string(), "a positive whole number")
    }
}

fn minus_one_or_more(value: &i32) -> Result<(), Rejected> {
    if *value >= -1 {
        Ok(())
    } else {
        reject(value.to_string(), "a whole number, -1 or more (-1 disables it)")
    }
}

fn optional_url(value: &Option<String>) -> Result<(), Rejected> {
    match value {
        Some(url) if !is_http_url(url) => reject(url.clone(), EXPECT_URL),
        _ => Ok(()),
    }
}

/// A setting that only makes sense together with another: `value` must be set when `with` is.
fn required_with(
    value: &Option<PathBuf>,
    with: &Option<PathBuf>,
    expected: &'static str,
) -> Result<(), Rejected> {
    match (value, with) {
        (None, Some(_)) => reject(String::new(), expected),
        _ => Ok(()),
    }
}

/// The head limit: hyper reads a head in a buffer of at least 8 KiB anyway, and anything
/// under 1 KiB would refuse ordinary clients.
fn header_size(value: &usize) -> Result<(), Rejected> {
    if (1024..=16 << 20).contains(value) {
        Ok(())
    } else {
        reject(value.to_string(), "a size from 1KB to 16MB")
    }
}

fn non_empty(value: &str) -> Result<(), Rejected> {
    if value.trim().is_empty() {
        reject(value.to_string(), "a non-empty name")
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Key matching (Spring relaxed binding).
// ---------------------------------------------------------------------------------------------

/// Splits a dotted key into segments; `[...]` is one segment (Spring's map-key brackets).
fn split_key(key: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in key.char_indices() {
        match c {
            '[' if depth == 0 => {
                if i > start {
                    segments.push(&key[start..i]);
                }
                start = i;
                depth = 1;
            }
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                segments.push(&key[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(&key[start..]);
    segments
}

/// One segment compared Spring's way: lower-cased, without '-' and '_'.
fn canonical_segment(segment: &str) -> String {
    segment.chars().filter(|c| *c != '-' && *c != '_').flat_map(char::to_lowercase).collect()
}

fn canonical_segments(key: &str) -> Vec<String> {
    split_key(key).into_iter().map(canonical_segment).collect()
}

/// The map key from the segments after a map prefix, brackets removed, case kept.
fn map_key(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s))
        .collect::<Vec<_>>()
        .join(".")
}

/// Finds the row a written key binds to, with the map key for map rows.
fn lookup(written: &str) -> Option<(&'static Binding, Option<String>)> {
    let segments = split_key(written);
    let canonical: Vec<String> = segments.iter().map(|s| canonical_segment(s)).collect();
    for binding in BINDINGS {
        let base: Vec<String> = binding.base().split('.').map(canonical_segment).collect();
        match binding.apply {
            Apply::Map(_) => {
                if canonical.len() > base.len() && canonical[..base.len()] == base[..] {
                    return Some((binding, Some(map_key(&segments[base.len()..]))));
                }
            }
            Apply::Scalar(_) | Apply::NoEffect(_) => {
                if canonical == base {
                    return Some((binding, None));
                }
            }
        }
    }
    None
}

/// Whether canonical segments match a pattern key (`prefix.*` matches anything below prefix).
fn matches_pattern(canonical: &[String], pattern: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => {
            let prefix = canonical_segments(prefix);
            canonical.len() > prefix.len() && canonical[..prefix.len()] == prefix[..]
        }
        None => canonical == canonical_segments(pattern).as_slice(),
    }
}

/// Whether canonical segments are a proper prefix of (or equal to the base of) some known key.
fn is_known_prefix(canonical: &[String]) -> bool {
    BINDINGS.iter().any(|binding| {
        let base = canonical_segments(binding.base());
        canonical.len() <= base.len() && canonical == &base[..canonical.len()]
    })
}

/// A key as environment variables spell it: upper-cased, without '_', '.' and '-'.
fn env_form(key: &str) -> String {
    key.chars().filter(|c| !matches!(c, '_' | '.' | '-')).flat_map(char::to_uppercase).collect()
}

/// Whether an environment variable is ours to read at all.
fn is_our_env_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("EUREKA_")
        || upper.starts_with("SERVER_")
        || upper.starts_with("LOGGING_")
        || (upper.starts_with("SPRING_")
            && [
                SPRING_APPLICATION_NAME_KEY,
                SPRING_USER_NAME_KEY,
                SPRING_USER_PASSWORD_KEY,
                SPRING_USER_ROLES_KEY,
            ]
            .iter()
            .any(|key| env_form(name) == env_form(key)))
}

/// Finds the row an environment variable binds to, with the map key for map rows.
fn lookup_env(name: &str) -> Option<(&'static Binding, Option<String>)> {
    let flat = env_form(name);
    if let Some(binding) =
        BINDINGS.iter().find(|b| !matches!(b.apply, Apply::Map(_)) && env_form(b.key) == flat)
    {
        return Some((binding, None));
    }
    for binding in BINDINGS.iter().filter(|b| matches!(b.apply, Apply::Map(_))) {
        let prefix = env_form(binding.base());
        for (i, _) in name.char_indices().filter(|(_, c)| *c == '_') {
            let rest = &name[i + 1..];
            if env_form(&name[..i]) == prefix && !rest.is_empty() {
                return Some((binding, Some(env_map_key(binding, rest))));
            }
        }
    }
    None
}

/// Spring's env-to-map-key rule: lower-case, '_' becomes '.'; `DEFAULTZONE` is `defaultZone`.
fn env_map_key(binding: &Binding, rest: &str) -> String {
    if binding.key == SERVICE_URL_KEY && env_form(rest) == env_form(defaults::DEFAULT_ZONE) {
        return defaults::DEFAULT_ZONE.to_string();
    }
    rest.to_lowercase().replace('_', ".")
}

// ---------------------------------------------------------------------------------------------
// Spring placeholders: `${name}` and `${name:default}` in values.
// ---------------------------------------------------------------------------------------------

/// How deep placeholders may nest or refer to each other before we call it a cycle.
const MAX_PLACEHOLDER_DEPTH: usize = 16;
/// How many placeholders one value may expand in total, so a crafted file cannot hang us.
const MAX_PLACEHOLDER_EXPANSIONS: usize = 1_000;

/// Looks placeholder names up in every source, highest precedence first, as Spring does.
#[derive(Clone, Copy)]
struct Resolver<'a> {
    /// The file's entries (profile documents already dropped); the last one wins.
    file: &'a [Entry],
    /// All environment variables, not only ours: `${HOSTNAME}` is fair game.
    env: &'a [(String, String)],
    /// The explicit overrides; the last one wins.
    overrides: &'a [(String, String)],
}

impl Resolver<'_> {
    /// Replaces every placeholder in `value`; the error is the first unresolvable placeholder.
    fn resolve(&self, value: &str) -> Result<String, String> {
        self.resolve_at(value, 0, &mut 0)
    }

    /// [`Resolver::resolve`] at a nesting depth, counting expansions against the budget.
    fn resolve_at(&self, value: &str, depth: usize, spent: &mut usize) -> Result<String, String> {
        if !value.contains("${") {
            return Ok(value.to_string());
        }
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let body_start = start + 2;
            let Some(len) = placeholder_len(&rest[body_start..]) else {
                // Unterminated: keep the text as it is, like Spring.
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let body = &rest[body_start..body_start + len];
            let whole = &rest[start..body_start + len + 1];
            *spent += 1;
            if depth >= MAX_PLACEHOLDER_DEPTH || *spent > MAX_PLACEHOLDER_EXPANSIONS {
                return Err(whole.to_string());
            }
            let (name, default) = split_placeholder(body);
            let name = self.resolve_at(name, depth + 1, spent)?;
            let found = match self.lookup(&name) {
                Some(found) => Some(self.resolve_at(found, depth + 1, spent)?),
                None => default.map(|d| self.resolve_at(d, depth + 1, spent)).transpose()?,
            };
            out.push_str(&found.ok_or_else(|| whole.to_string())?);
            rest = &rest[body_start + len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The raw value of a property: overrides, then environment, then file.
    fn lookup(&self, name: &str) -> Option<&str> {
        let canonical = canonical_segments(name);
        let same_key = |key: &str| canonical_segments(key) == canonical;
        if let Some((_, value)) = self.overrides.iter().rev().find(|(key, _)| same_key(key)) {
            return Some(value);
        }
        // Spring's environment lookup: the name as is, then upper-cased with '.' and '-' as '_'.
        let env_name = name.replace(['.', '-'], "_").to_uppercase();
        let env_value = |wanted: &str| {
            self.env.iter().find(|(key, _)| key == wanted).map(|(_, value)| value.as_str())
        };
        if let Some(value) = env_value(name).or_else(|| env_value(&env_name)) {
            return Some(value);
        }
        self.file
            .iter()
            .rev()
            .find(|(key, _)| same_key(key))
            .and_then(|(_, value)| value.as_deref())
    }
}

/// The length of a placeholder body up to its matching '}', or `None` if unterminated.
fn placeholder_len(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut previous = '\0';
    for (i, c) in text.char_indices() {
        match c {
            '{' if previous == '$' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
        previous = c;
    }
    None
}

/// Splits `name:default` at the first ':' outside nested placeholders.
fn split_placeholder(body: &str) -> (&str, Option<&str>) {
    let mut depth = 0usize;
    let mut previous = '\0';
    for (i, c) in body.char_indices() {
        match c {
            '{' if previous == '$' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => return (&body[..i], Some(&body[i + 1..])),
            _ => {}
        }
        previous = c;
    }
    (body, None)
}

// ---------------------------------------------------------------------------------------------
// Applying values.
// ---------------------------------------------------------------------------------------------

/// Where the current value of a key came from, so range errors can point at the source.
struct Provenance {
    written: String,
    raw: String,
    origin: Origin,
}

/// The configuration under construction, plus what is needed to finish it.
struct Binder<'a> {
    resolver: Resolver<'a>,
    config: ServerConfig,
    appname_set: bool,
    spring_application_name: Option<String>,
    /// `spring.security.user.name`, `.password`, `.roles`.
    spring_user: (Option<String>, Option<Password>, Option<Vec<crate::security::Role>>),
    provenance: HashMap<String, Provenance>,
    warnings: Vec<String>,
}

impl<'a> Binder<'a> {
    /// Starts from the defaults, resolving placeholders against `resolver`.
    fn new(resolver: Resolver<'a>, warnings: Vec<String>) -> Self {
        Binder {
            resolver,
            config: ServerConfig::default(),
            appname_set: false,
            spring_application_name: None,
            spring_user: (None, None, None),
            provenance: HashMap::new(),
            warnings,
        }
    }

    /// Applies a key from a file or an override: bind it, or warn if it is unknown.
    fn apply_key(
        &mut self,
        written: &str,
        raw: Option<&str>,
        origin: &Origin,
    ) -> Result<(), ConfigError> {
        let raw = raw.map(str::trim).filter(|r| !r.is_empty());
        if let Some((binding, map_key)) = lookup(written) {
            self.apply_binding(binding, map_key, written, raw, origin)?;
            return Ok(());
        }
        let canonical = canonical_segments(written);
        let namespace = canonical.first().map(String::as_str).unwrap_or_default();
        if raw.is_none() && is_known_prefix(&canonical) {
            // An empty section such as `eureka.server:` or `metadata-map: {}`.
            return Ok(());
        }
        if UNUSED_SPRING_KEYS.iter().any(|pattern| matches_pattern(&canonical, pattern)) {
            self.warnings.push(format!(
                "key '{written}' in {origin} is a Spring Cloud Netflix setting \
                 this server does not use; ignored"
            ));
        } else if WARNED_NAMESPACES.contains(&namespace) || *origin == Origin::Override {
            self.warnings.push(format!("unknown key '{written}' in {origin}"));
        }
        Ok(())
    }

    /// Applies the environment: our variables, in name order, unknown ones ignored.
    fn apply_env(&mut self, env: &[(String, String)]) -> Result<(), ConfigError> {
        let mut ours: Vec<&(String, String)> =
            env.iter().filter(|(name, _)| is_our_env_var(name)).collect();
        ours.sort();
        let mut seen: HashMap<String, (&str, &str)> = HashMap::new();
        for (name, value) in ours {
            let Some((binding, map_key)) = lookup_env(name) else {
                continue;
            };
            let raw = Some(value.trim()).filter(|r| !r.is_empty());
            let canonical =
                self.apply_binding(binding, map_key, name, raw, &Origin::Environment)?;
            if let Some((earlier, earlier_value)) = seen.insert(canonical.clone(), (name, value)) {
                if earlier_value != value {
                    self.warnings.push(format!(
                        "environment variables {earlier} and {name} both set {canonical}; \
                         {name} wins"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Parses and stores one value; returns the canonical key it set.
    fn apply_binding(
        &mut self,
        binding: &'static Binding,
        map_key: Option<String>,
        written: &str,
        raw: Option<&str>,
        origin: &Origin,
    ) -> Result<String, ConfigError> {
        let resolved = match raw {
            Some(raw) => Some(self.resolver.resolve(raw).map_err(|placeholder| {
                ConfigError::Placeholder {
                    key: written.to_string(),
                    placeholder,
                    origin: origin.clone(),
                }
            })?),
            None => None,
        };
        let raw = resolved.as_deref().map(str::trim).filter(|r| !r.is_empty());
        let secret = is_secret(binding, map_key.as_deref());
        let shown = |raw: Option<&str>| match raw {
            Some(_) if secret => "(redacted)".to_string(),
            raw => raw.unwrap_or_default().to_string(),
        };
        let canonical = match &map_key {
            Some(map_key) => format!("{}.{map_key}", binding.base()),
            None => binding.key.to_string(),
        };
        let result = match (binding.apply, map_key) {
            (Apply::Scalar(set), _) => set(self, raw),
            (Apply::Map(set), Some(map_key)) => set(self, map_key, raw),
            (Apply::Map(_), None) => Ok(()),
            (Apply::NoEffect(check), _) => match raw {
                Some(raw) => check(raw).map(|()| {
                    if !self.config.compat_ignored.iter().any(|k| k == binding.key) {
                        self.config.compat_ignored.push(binding.key.to_string());
                    }
                }),
                None => Ok(()),
            },
        };
        result.map_err(|expected| ConfigError::InvalidValue {
            key: written.to_string(),
            value: shown(raw),
            expected,
            origin: origin.clone(),
        })?;
        self.provenance.insert(
            canonical.clone(),
            Provenance { written: written.to_string(), raw: shown(raw), origin: origin.clone() },
        );
        Ok(canonical)
    }

    /// Resolves fallbacks, validates (pointing errors at their source) and adds advisories.
    fn finish(mut self) -> Result<Loaded, ConfigError> {
        if !self.appname_set {
            if let Some(name) = self.spring_application_name.take() {
                self.config.instance.appname = name;
            }
        }
        // Spring Security's single user (`user` unless named) holds every role unless told
        // otherwise: in a Spring Eureka cluster that one user is clients, peers and operators.
        if let (name, Some(password), roles) = std::mem::take(&mut self.spring_user) {
            let name = name.unwrap_or_else(|| "user".to_string());
            let roles = roles.unwrap_or_else(|| vec![crate::security::Role::Admin]);
            self.config
                .security
                .users
                .insert(name, UserSettings { password: Some(password), roles });
        }
        if let Err(ConfigError::InvalidValue { key, value, expected, origin }) =
            self.config.validate()
        {
            let error = match self.provenance.remove(&key) {
                Some(source) => ConfigError::InvalidValue {
                    key: source.written,
                    value: source.raw,
                    expected,
                    origin: source.origin,
                },
                None => ConfigError::InvalidValue { key, value, expected, origin },
            };
            return Err(error);
        }
        let mut warnings = self.warnings;
        warnings.extend(self.config.advisories());
        Ok(Loaded { config: self.config, warnings })
    }
}

// ---------------------------------------------------------------------------------------------
// Files: YAML and .properties, both read as documents of (dotted key, value) entries.
// ---------------------------------------------------------------------------------------------

/// A flattened (dotted key, value) pair; `None` is null or empty.
type Entry = (String, Option<String>);

/// The syntax of a configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSyntax {
    /// YAML (`.yml`, `.yaml`), possibly several `---` documents.
    Yaml,
    /// Java `.properties`, possibly several `#---` documents.
    Properties,
}

/// Reads a file into documents of entries, by extension.
fn read_file(path: &Path) -> Result<Vec<Vec<Entry>>, ConfigError> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let syntax = match extension.as_deref() {
        Some("yml" | "yaml") => FileSyntax::Yaml,
        Some("properties") => FileSyntax::Properties,
        _ => return Err(ConfigError::UnsupportedFormat { path: path.to_path_buf() }),
    };
    let bytes = std::fs::read(path)
        .map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
    let parse_error = |detail: String| ConfigError::Parse { path: path.to_path_buf(), detail };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) if syntax == FileSyntax::Yaml => {
            return Err(parse_error("the file is not valid UTF-8".to_string()))
        }
        // Java reads .properties as ISO-8859-1; accept that when the file is not UTF-8.
        Err(e) => e.into_bytes().into_iter().map(char::from).collect(),
    };
    parse_file_text(syntax, &text).map_err(parse_error)
}

/// Parses file text into documents of entries.
fn parse_file_text(syntax: FileSyntax, text: &str) -> Result<Vec<Vec<Entry>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match syntax {
        FileSyntax::Yaml => parse_yaml(text),
        FileSyntax::Properties => parse_properties(text),
    }
}

/// The profile condition of a document (`spring.config.activate.*`, legacy `spring.profiles`), if
/// any.
fn profile_condition(document: &[Entry]) -> Option<String> {
    document.iter().find_map(|(key, value)| {
        let canonical = canonical_segments(key);
        let conditional = matches_pattern(&canonical, "spring.config.activate.*")
            || matches_pattern(&canonical, "spring.profiles");
        match value {
            Some(value) if conditional => Some(format!("{key} is '{value}'")),
            _ => None,
        }
    })
}

/// Parses YAML text (possibly several `---` documents) into flattened entries.
fn parse_yaml(text: &str) -> Result<Vec<Vec<Entry>>, String> {
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| e.to_string())?;
        let mut entries = Vec::new();
        match value {
            Value::Null => {}
            Value::Mapping(_) => flatten("", &value, &mut entries)?,
            _ => return Err("a document must be a mapping of keys to values".to_string()),
        }
        documents.push(entries);
    }
    Ok(documents)
}

/// A YAML scalar as text; `None` for null, sequences and mappings.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Tagged(tagged) => scalar_text(&tagged.value),
        Value::Null | Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

/// Flattens nested mappings to dotted keys; scalar sequences become comma-joined strings.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<Entry>) -> Result<(), String> {
    match value {
        Value::Mapping(map) => {
            if map.is_empty() && !prefix.is_empty() {
                out.push((prefix.to_string(), None));
            }
            for (key, value) in map {
                let key = scalar_text(key).ok_or_else(|| {
                    format!("a key under '{prefix}' is not a plain string or number")
                })?;
                let full = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
                flatten(&full, value, out)?;
            }
        }
        Value::Sequence(items) => {
            let scalars: Option<Vec<String>> = items.iter().map(scalar_text).collect();
            match scalars {
                Some(scalars) => out.push((prefix.to_string(), Some(scalars.join(",")))),
                None => {
                    for (i, item) in items.iter().enumerate() {
                        flatten(&format!("{prefix}[{i}]"), item, out)?;
                    }
                }
            }
        }
        Value::Tagged(tagged) => flatten(prefix, &tagged.value, out)?,
        Value::Null => out.push((prefix.to_string(), None)),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            out.push((prefix.to_string(), scalar_text(value)));
        }
    }
    Ok(())
}

/// Parses `.properties` text: `key=value`, `key: value` or `key value`; `#`/`!` comments;
/// trailing-backslash continuations; Java escapes; `#---` separates documents (Spring Boot).
fn parse_properties(text: &str) -> Result<Vec<Vec<Entry>>, String> {
    let mut documents = Vec::new();
    let mut current = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let line = line.trim_start();
        if line == "#---" || line == "!---" {
            documents.push(std::mem::take(&mut current));
            continue;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let mut logical = String::new();
        let mut piece = line;
        loop {
            let trailing = piece.len() - piece.trim_end_matches('\\').len();
            if trailing % 2 == 1 {
                logical.push_str(&piece[..piece.len() - 1]);
                match lines.next() {
                    Some((_, next)) => piece = next.trim_start(),
                    None => break,
                }
            } else {
                logical.push_str(piece);
                break;
            }
        }
        let entry =
            parse_property_line(&logical).map_err(|e| format!("line {}: {e}", index + 1))?;
        current.push(entry);
    }
    documents.push(current);
    Ok(documents)
}

/// Splits one logical `.properties` line into key and value, unescaping both.
fn parse_property_line(line: &str) -> Result<Entry, String> {
    let mut chars = line.chars().peekable();
    let mut key = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => key.push(unescape(&mut chars)?),
            '=' | ':' => break,
            c if c.is_whitespace() => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('=' | ':')) {
                    chars.next();
                }
                break;
            }
            c => key.push(c),
        }
    }
    let mut value = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(unescape(&mut chars)?),
            c => value.push(c),
        }
    }
    let value = value.trim();
    Ok((key, (!value.is_empty()).then(|| value.to_string())))
}

/// The character after a backslash: `\t \n \r \f`, `\uXXXX` (surrogate pairs joined), or itself.
fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, String> {
    let Some(c) = chars.next() else {
        return Ok('\\');
    };
    Ok(match c {
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        'f' => '\u{c}',
        'u' => {
            let high = hex4(chars)?;
            if (0xD800..0xDC00).contains(&high) {
                let low = match (chars.next(), chars.next()) {
                    (Some('\\'), Some('u')) => hex4(chars)?,
                    _ => return Err("unpaired \\u surrogate".to_string()),
                };
                if !(0xDC00..0xE000).contains(&low) {
                    return Err("unpaired \\u surrogate".to_string());
                }
                let combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                char::from_u32(combined).ok_or("invalid \\u escape")?
            } else {
                char::from_u32(high).ok_or("unpaired \\u surrogate")?
            }
        }
        other => other,
    })
}

/// Four hex digits of a `\u` escape.
fn hex4(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<u32, String> {
    let mut code = 0;
    for _ in 0..4 {
        let digit = chars.next().and_then(|c| c.to_digit(16)).ok_or("malformed \\uXXXX escape")?;
        code = code * 16 + digit;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, unique per test and process.
    fn temp_dir() -> PathBuf {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "eureka-config-test-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        dir
    }

    fn write(name: &str, contents: &str) -> PathBuf {
        let path = temp_dir().join(name);
        std::fs::write(&path, contents).expect("write config file");
        path
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
        ServerConfig::load(ConfigSources { file: Some(path), ..ConfigSources::default() })
    }

    /// Writes the YAML lines to a fresh `application.yml` and loads it.
    fn load_yaml(lines: &[&str]) -> Loaded {
        let path = write("application.yml", &(lines.join("\n") + "\n"));
        load_file(&path).expect("config loads")
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let c = ServerConfig::default();
        assert_eq!(c.port, 8761);
        assert_eq!(c.address, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert!(c.enable_self_preservation);
        assert_eq!(c.renewal_percent_threshold, 0.85);
        assert_eq!(c.eviction_interval, Duration::from_millis(60_000));
        assert_eq!(c.delta_retention, Duration::from_millis(180_000));
        assert_eq!(c.delta_retention_timer_interval, Duration::from_millis(30_000));
        assert!(!c.disable_delta);
        assert!(c.sync_when_timestamp_differs);
        assert!(!c.legacy_double_lease_expiry);
        assert_eq!(c.max_request_body_bytes, 1_048_576);
        assert_eq!(c.wait_time_when_sync_empty, Duration::from_millis(300_000));
        assert_eq!(c.default_open_for_traffic_count, 1);
        assert_eq!(c.registry_sync_retries, 0);
        assert_eq!(c.registry_sync_retry_wait, Duration::from_millis(30_000));
        assert_eq!(c.peer_node_connect_timeout, Duration::from_millis(1_000));
        assert_eq!(c.peer_node_read_timeout, Duration::from_millis(5_000));
        assert_eq!(c.peer_discovery, PeerDiscovery::default());
        assert_eq!(c.peer_discovery.refresh_interval(), Duration::from_secs(30));
        assert_eq!(c.max_elements_in_peer_replication_pool, 10_000);
        assert_eq!(c.max_threads_for_peer_replication, 20);
        assert_eq!(c.max_time_for_replication, Duration::from_millis(30_000));
        assert!(!c.enable_replicated_request_compression);
        assert_eq!(c.min_available_instances_for_peer_replication, -1);
        assert_eq!(c.my_url, None);
        assert!(!c.rate_limiter_enabled);
        assert!(c.compat_ignored.is_empty());
        assert_eq!(c.environment, "test");
        assert_eq!(c.datacenter, "default");
        assert_eq!(c.instance.appname, "eureka");
        assert_eq!(c.instance.lease_renewal_interval, Duration::from_secs(30));
        assert_eq!(c.instance.lease_expiration_duration, Duration::from_secs(90));
        assert!(!c.instance.prefer_ip_address);
        assert!(c.instance.metadata.is_empty());
        assert!(c.client.service_urls.is_empty());
        assert!(!c.client.register_with_eureka);
        assert!(!c.client.fetch_registry);
        assert_eq!(c.client.region, "us-east-1");
        assert!(c.peer_urls().is_empty());
        assert!(!c.ssl.is_enabled());
        assert_eq!(c.ssl.client_auth, ClientAuth::None);
        assert_eq!(c.limits.max_http_request_header_size, 8192);
        assert_eq!(c.limits.max_connections, 10_000);
        assert_eq!(c.limits.connection_timeout, Duration::from_secs(60));
        assert_eq!(c.limits.request_timeout, Duration::from_secs(30));
        assert_eq!(c.peer_tls, PeerTlsSettings::default());
        c.validate().expect("defaults are valid");

        let loaded = ServerConfig::load(ConfigSources::default()).expect("loads");
        assert_eq!(loaded.config, c);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn yaml_accepts_kebab_camel_and_underscore_keys() {
        let loaded = load_yaml(&[
            "eureka:",
            "  server:",
            "    enable-self-preservation: false",
            "    evictionIntervalTimerInMs: 5000",
            "    renewal_percent_threshold: 0.5",
            "    retentionTimeInMSInDeltaQueue: 1000",
            "    DISABLE-DELTA: 'true'",
            "    waitTimeInMsWhenSyncEmpty: '0'",
        ]);
        let c = loaded.config;
        assert!(!c.enable_self_preservation);
        assert_eq!(c.eviction_interval, Duration::from_millis(5000));
        assert_eq!(c.renewal_percent_threshold, 0.5);
        assert_eq!(c.delta_retention, Duration::from_millis(1000));
        assert!(c.disable_delta);
        assert_eq!(c.wait_time_when_sync_empty, Duration::ZERO);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn yaml_nested_and_flat_dotted_keys_bind_alike() {
        let loaded = load_yaml(&[
            "server:",
            "  port: 9000",
            "  address: 127.0.0.1",
            "eureka.server.peer-node-read-timeout-ms: 200",
            "eureka:",
            "  server.peerNodeConnectTimeoutMs: 300",
            "  environment: prod",
            "  datacenter: cloud",
            "  instance:",
            "    hostname: peer1",
            "    lease-expiration-duration-in-seconds: 120",
        ]);
        let c = loaded.config;
        assert_eq!(c.port, 9000);
        assert_eq!(c.address, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(c.peer_node_read_timeout, Duration::from_millis(200));
        assert_eq!(c.peer_node_connect_timeout, Duration::from_millis(300));
        assert_eq!(c.environment, "prod");
        assert_eq!(c.datacenter, "cloud");
        assert_eq!(c.instance.hostname.as_deref(), Some("peer1"));
        assert_eq!(c.instance.lease_expiration_duration, Duration::from_secs(120));
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn properties_file_binds_with_comments_separators_and_escapes() {
        let text = [
            "# a comment",
            "! another comment",
            "",
            "server.port = 8762",
            "eureka.server.enableSelfPreservation: false",
            "eureka.instance.appname   registry",
            r"eureka.client.service-url.defaultZone=http://a:8761/eureka, \",
            "    http://b:8761/eureka/",
            r"eureka.instance.metadata-map.greeting=caf\u00e9\tbar",
            "eureka.instance.hostname=",
        ]
        .join("\n");
        let path = write("application.properties", &text);
        let loaded = load_file(&path).expect("loads");
        let c = loaded.config;
        assert_eq!(c.port, 8762);
        assert!(!c.enable_self_preservation);
        assert_eq!(c.instance.appname, "registry");
        assert_eq!(c.peer_urls(), vec!["http://a:8761/eureka/", "http://b:8761/eureka/"]);
        assert_eq!(c.instance.metadata["greeting"], "café\tbar");
        assert_eq!(c.instance.hostname, None);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn environment_overrides_the_file() {
        let path = write(
            "application.yml",
            "server.port: 9000\neureka.server.enable-self-preservation: true\n",
        );
        let loaded = ServerConfig::load(ConfigSources {
            file: Some(&path),
            env: pairs(&[
                ("SERVER_PORT", "9100"),
                ("EUREKA_SERVER_ENABLESELFPRESERVATION", "FALSE"),
                ("EUREKA_SERVER_EVICTION_INTERVAL_TIMER_IN_MS", "1000"),
                ("SPRING_APPLICATION_NAME", "discovery"),
                ("PATH", "/usr/bin"),
                ("EUREKA_NOT_OURS", "whatever"),
                ("SPRING_PROFILES_ACTIVE", "prod"),
            ]),
            overrides: Vec::new(),
        })
        .expect("loads");
        let c = loaded.config;
        assert_eq!(c.port, 9100);
        assert!(!c.enable_self_preservation);
        assert_eq!(c.eviction_interval, Duration::from_millis(1000));
        assert_eq!(c.instance.appname, "discovery");
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn log_format_from_file_environment_or_flag() {
        assert_eq!(ServerConfig::default().log_format, LogFormat::Text);
        assert_eq!(load_yaml(&["logging:", "  format: JSON"]).config.log_format, LogFormat::Json);
        let from_env = ServerConfig::load(ConfigSources {
            env: pairs(&[("LOGGING_FORMAT", "json"), ("LOGGING_LEVEL_ROOT", "debug")]),
            ..ConfigSources::default()
        })
        .expect("loads");
        assert_eq!(from_env.config.log_format, LogFormat::Json);
        assert!(from_env.warnings.is_empty(), "{:?}", from_env.warnings);
        let bad = ServerConfig::load(ConfigSources {
            overrides: pairs(&[("logging.format", "xml")]),
            ..ConfigSources::default()
        })
        .expect_err("xml is no log format");
        assert_eq!(
            bad.to_string(),
            "invalid value 'xml' for logging.format in the command-line overrides: \
             expected text or json"
        );
    }

    #[test]
    fn override_beats_environment() {
        let loaded = ServerConfig::load(ConfigSources {
            file: None,
            env: pairs(&[("SERVER_PORT", "9100"), ("EUREKA_INSTANCE_HOSTNAME", "env-host")]),
            overrides: pairs(&[
                ("server.port", "9200"),
                ("eureka.instance.hostname", ""),
                ("eureka.server.registrySyncRetries", "3"),
            ]),
        })
        .expect("loads");
        assert_eq!(loaded.config.port, 9200);
        assert_eq!(loaded.config.instance.hostname, None, "empty override unsets");
        assert_eq!(loaded.config.registry_sync_retries, 3);
    }

    #[test]
    fn appname_beats_spring_application_name_whatever_the_source() {
        let path = write("application.yml", "eureka.instance.appname: from-file\n");
        let loaded = ServerConfig::load(ConfigSources {
            file: Some(&path),
            env: pairs(&[("SPRING_APPLICATION_NAME", "from-env")]),
            overrides: Vec::new(),
        })
        .expect("loads");
        assert_eq!(loaded.config.instance.appname, "from-file");
        let loaded = load_yaml(&["spring:", "  application:", "    name: orders-registry"]);
        assert_eq!(loaded.config.instance.appname, "orders-registry");
    }

    #[test]
    fn dashboard_keys_use_springs_names_and_the_path_is_normalised() {
        let c = ServerConfig::default();
        assert!(c.dashboard_enabled);
        assert_eq!(c.dashboard_path, "/");
        let loaded = load_yaml(&[
            "eureka:",
            "  dashboard:",
            "    enabled: false",
            "    path: /ops/console/",
        ]);
        assert!(!loaded.config.dashboard_enabled);
        assert_eq!(loaded.config.dashboard_path, "/ops/console");
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let env = ServerConfig::load(ConfigSources {
            env: pairs(&[("EUREKA_DASHBOARD_PATH", "/registry")]),
            ..ConfigSources::default()
        })
        .expect("loads");
        assert_eq!(env.config.dashboard_path, "/registry");
        for good in ["/", "/a", "/a.b/c-d_e~f"] {
            assert_eq!(parse_dashboard_path(good).as_deref(), Ok(good));
        }
        for bad in [
            "console",
            "/eureka",
            "/eureka/console",
            "/EUREKA",
            "/health/x",
            "/metrics",
            "/a//b",
            "/a/../b",
            "/a b",
            "/a\"<b",
            "/x?y",
            "/%2e",
        ] {
            assert!(parse_dashboard_path(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(parse_dashboard_path("/eurekaconsole").as_deref(), Ok("/eurekaconsole"));
        let message = ServerConfig::load(ConfigSources {
            overrides: pairs(&[("eureka.dashboard.path", "/eureka/ui")]),
            ..ConfigSources::default()
        })
        .expect_err("rejects")
        .to_string();
        assert!(
            message.contains("eureka.dashboard.path") && message.contains("not under /eureka"),
            "{message}"
        );
    }

    #[test]
    fn security_users_bind_from_a_file_the_environment_and_flags() {
        use crate::security::Role;
        let path = write(
            "application.yml",
            "eureka:\n  security:\n    enabled: true\n    anonymousRead: yes\n    users:\n      \
             alice:\n        password: '{noop}a-pw'\n        roles: [write, admin]\n",
        );
        let loaded = ServerConfig::load(ConfigSources {
            file: Some(&path),
            env: pairs(&[
                ("EUREKA_SECURITY_USERS_BOB_PASSWORD", "b-pw"),
                ("EUREKA_SECURITY_USERS_BOB_ROLES", "read,peer"),
                ("EUREKA_SERVER_PEER_PASSWORD", "p-pw"),
            ]),
            overrides: pairs(&[("eureka.server.peer-username", "replicator")]),
        })
        .expect("loads");
        let security = &loaded.config.security;
        assert!(security.enabled && security.anonymous_read && !security.protect_metrics);
        let alice = &security.users["alice"];
        assert_eq!(alice.password, Some(Password::Plain("a-pw".into())));
        assert_eq!(alice.roles, vec![Role::Write, Role::Admin]);
        assert_eq!(security.users["bob"].roles, vec![Role::Read, Role::Peer]);
        assert_eq!(loaded.config.peer_username.as_deref(), Some("replicator"));
        assert_eq!(loaded.config.peer_password.as_ref().map(Secret::expose), Some("p-pw"));
        assert!(!format!("{:?}", loaded.config).contains("-pw"), "Debug shows no password");
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert!(!ServerConfig::default().security.enabled, "off by default");
    }

    #[test]
    fn springs_single_user_migrates_with_every_role() {
        let loaded = ServerConfig::load(ConfigSources {
            env: pairs(&[
                ("SPRING_SECURITY_USER_NAME", "eureka"),
                ("SPRING_SECURITY_USER_PASSWORD", "s-pw"),
                ("EUREKA_SECURITY_ENABLED", "true"),
            ]),
            ..ConfigSources::default()
        })
        .expect("loads");
        let user = &loaded.config.security.users["eureka"];
        assert_eq!(user.roles, vec![crate::security::Role::Admin]);
        assert_eq!(user.password, Some(Password::Plain("s-pw".into())));
    }

    #[test]
    fn security_mistakes_refuse_to_start_naming_the_key() {
        let refuse = |items: &[(&str, &str)]| {
            ServerConfig::load(ConfigSources {
                overrides: pairs(items),
                ..ConfigSources::default()
            })
            .expect_err("refused")
            .to_string()
        };
        let message = refuse(&[("eureka.security.enabled", "true")]);
        assert!(message.contains("eureka.security.enabled"), "{message}");
        assert!(message.contains("at least one user"), "{message}");

        let message = refuse(&[
            ("eureka.security.users.alice.password", "pw"),
            ("eureka.security.users.alice.roles", "read,superuser"),
        ]);
        assert!(message.contains("eureka.security.users.alice.roles"), "{message}");
        assert!(message.contains("read, write, admin, peer"), "{message}");

        let message = refuse(&[("eureka.security.users.alice.password", "{bcrypt}$2b$10$short")]);
        assert!(message.contains("eureka.security.users.alice.password"), "{message}");
        assert!(message.contains("bcrypt hash"), "{message}");
        assert!(!message.contains("$short"), "the value is not echoed: {message}");

        let message = refuse(&[("eureka.security.users.alice.roles", "read")]);
        assert!(message.contains("eureka.security.users.alice.password"), "{message}");

        let message = refuse(&[("eureka.security.users.alice.password", "pw")]);
        assert!(message.contains("eureka.security.users.alice.roles"), "{message}");

        let message = refuse(&[("eureka.security.users.alice.colour", "red")]);
        assert!(message.contains("<name>.password"), "{message}");
    }

    #[test]
    fn invalid_values_name_the_key_and_the_source() {
        let path =
            write("application.yml", "eureka:\n  server:\n    evictionIntervalTimerInMs: abc\n");
        let message = load_file(&path).expect_err("rejects").to_string();
        assert!(message.contains("'abc'"), "{message}");
        assert!(message.contains("eureka.server.evictionIntervalTimerInMs"), "{message}");
        assert!(message.contains("a whole number of milliseconds"), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");

        let error = ServerConfig::load(ConfigSources {
            env: pairs(&[("EUREKA_SERVER_ENABLE_SELF_PRESERVATION", "maybe")]),
            ..ConfigSources::default()
        })
        .expect_err("rejects");
        match &error {
            ConfigError::InvalidValue { key, value, expected, origin } => {
                assert_eq!(key, "EUREKA_SERVER_ENABLE_SELF_PRESERVATION");
                assert_eq!(value, "maybe");
                assert_eq!(*expected, "true or false");
                assert_eq!(*origin, Origin::Environment);
            }
            other => panic!("unexpected error {other:?}"),
        }

        let error = ServerConfig::load(ConfigSources {
            overrides: pairs(&[("server.port", "70000")]),
            ..ConfigSources::default()
        })
        .expect_err("rejects");
        assert_eq!(
            error.to_string(),
            "invalid value '70000' for server.port in the command-line overrides: \
             expected a port number from 0 to 65535"
        );
    }

    #[test]
    fn range_errors_point_at_the_source_that_set_the_value() {
        let path =
            write("application.properties", "eureka.server.eviction-interval-timer-in-ms=0\n");
        let message = load_file(&path).expect_err("rejects").to_string();
        assert!(
            message.contains("for eureka.server.eviction-interval-timer-in-ms in"),
            "{message}"
        );
        assert!(message.contains("positive"), "{message}");

        let error = ServerConfig::load(ConfigSources {
            env: pairs(&[("EUREKA_SERVER_RENEWALPERCENTTHRESHOLD", "1.5")]),
            ..ConfigSources::default()
        })
        .expect_err("rejects");
        assert!(error.to_string().contains("EUREKA_SERVER_RENEWALPERCENTTHRESHOLD"), "{error}");

        let config =
            ServerConfig { renewal_percent_threshold: f64::NAN, ..ServerConfig::default() };
        let message = config.validate().expect_err("rejects").to_string();
        assert!(
            message
                .contains("eureka.server.renewal-percent-threshold in the resolved configuration"),
            "{message}"
        );

        let config = ServerConfig {
            delta_retention_timer_interval: Duration::ZERO,
            ..ServerConfig::default()
        };
        assert!(config.validate().is_err());
    }

    #[test]
    fn unknown_eureka_and_server_keys_warn() {
        let path = write("application.yml", "eureka:\n  server:\n    foo: 1\nserver:\n  bar: 2\n");
        let loaded = load_file(&path).expect("loads");
        assert!(loaded
            .warnings
            .contains(&format!("unknown key 'eureka.server.foo' in {}", path.display())));
        assert!(loaded
            .warnings
            .contains(&format!("unknown key 'server.bar' in {}", path.display())));
        let loaded = ServerConfig::load(ConfigSources {
            overrides: pairs(&[("nonsense.key", "1")]),
            ..ConfigSources::default()
        })
        .expect("loads");
        assert_eq!(
            loaded.warnings,
            vec!["unknown key 'nonsense.key' in the command-line overrides"]
        );
    }

    #[test]
    fn spring_management_logging_and_other_keys_are_silent() {
        let loaded = load_yaml(&[
            "spring:",
            "  application:",
            "    name: x",
            "  profiles:",
            "    active: prod",
            "  cloud:",
            "    gateway:",
            "      routes:",
            "        - id: a",
            "          uri: http://a",
            "management:",
            "  endpoints.web.exposure.include: '*'",
            "logging:",
            "  level:",
            "    root: info",
            "info:",
            "  app: demo",
            "eureka:",
            "  server: {}",
            "  instance:",
            "    metadata-map:",
        ]);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn recognised_spring_client_keys_warn_that_they_are_unused() {
        let loaded = load_yaml(&["eureka:", "  client:", "    registryFetchIntervalSeconds: 5"]);
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("does not use"), "{:?}", loaded.warnings);
    }

    #[test]
    fn service_urls_split_trim_and_end_with_a_slash() {
        let loaded = load_yaml(&[
            "eureka:",
            "  client:",
            "    serviceUrl:",
            "      defaultZone: ' http://peer1:8761/eureka ,http://peer2:8761/eureka/,, '",
            "      us-east-1a: [http://peer3/eureka, 'https://peer4/eureka']",
        ]);
        let c = &loaded.config;
        assert_eq!(c.peer_urls(), vec!["http://peer1:8761/eureka/", "http://peer2:8761/eureka/"]);
        assert_eq!(
            c.client.service_urls["us-east-1a"],
            vec!["http://peer3/eureka/", "https://peer4/eureka/"]
        );
        assert_eq!(loaded.warnings.len(), 1, "other zones unused: {:?}", loaded.warnings);

        let loaded = ServerConfig::load(ConfigSources {
            env: pairs(&[(
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
                "http://e1:8761/eureka,http://e2:8761/eureka",
            )]),
            overrides: pairs(&[("eureka.client.register-with-eureka", "true")]),
            ..ConfigSources::default()
        })
        .expect("loads");
        assert_eq!(
            loaded.config.peer_urls(),
            vec!["http://e1:8761/eureka/", "http://e2:8761/eureka/"]
        );
        assert!(loaded.config.client.register_with_eureka);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

        let error = load_file(&write(
            "application.yml",
            "eureka.client.service-url.defaultZone: peer1:8761\n",
        ))
        .expect_err("rejects");
        assert!(error.to_string().contains("eureka.client.service-url.defaultZone"), "{error}");
    }

    #[test]
    fn metadata_map_keys_keep_their_case() {
        let loaded = load_yaml(&[
            "eureka:",
            "  instance:",
            "    metadataMap:",
            "      zoneName: east",
            "      management.port: 8081",
            "      '[a.b]': c",
            "      Empty: ''",
        ]);
        let metadata = &loaded.config.instance.metadata;
        assert_eq!(metadata["zoneName"], "east");
        assert_eq!(metadata["management.port"], "8081");
        assert_eq!(metadata["a.b"], "c");
        assert_eq!(metadata["Empty"], "");
        assert!(!metadata.contains_key("zonename"));

        let path =
            write("application.properties", "eureka.instance.metadata-map[version.Major]=2\n");
        let loaded = load_file(&path).expect("loads");
        assert_eq!(loaded.config.instance.metadata["version.Major"], "2");

        let loaded = ServerConfig::load(ConfigSources {
            env: pairs(&[("EUREKA_INSTANCE_METADATAMAP_MANAGEMENT_PORT", "8081")]),
            ..ConfigSources::default()
        })
        .expect("loads");
        // Spring's rule for map keys from the environment: lower-cased, '_' becomes '.'.
        assert_eq!(loaded.config.instance.metadata["management.port"], "8081");
    }

    #[test]
    fn response_cache_keys_are_validated_and_recorded_without_effect() {
        let loaded = load_yaml(&[
            "eureka.server:",
            "  useReadOnlyResponseCache: false",
            "  response-cache-update-interval-ms: 1000",
        ]);
        assert_eq!(
            loaded.config.compat_ignored,
            vec![
                "eureka.server.use-read-only-response-cache",
                "eureka.server.response-cache-update-interval-ms"
            ]
        );
        let error = load_file(&write(
            "application.yml",
            "eureka.server.initial-capacity-of-response-cache: lots\n",
        ))
        .expect_err("rejects");
        assert!(error.to_string().contains("initial-capacity-of-response-cache"));
    }

    #[test]
    fn spring_placeholders_resolve_across_sources() {
        let loaded = ServerConfig::load(ConfigSources {
            file: Some(&write(
                "application.yml",
                &[
                    "server:",
                    "  port: 8761",
                    "eureka:",
                    "  instance:",
                    "    hostname: localhost",
                    "  client:",
                    "    serviceUrl:",
                    "      defaultZone: http://${eureka.instance.hostname}:${server.port}/eureka/",
                    "  environment: ${DEPLOY_ENV:dev}",
                    "  datacenter: ${missing.key:${eureka.instance.hostname}-dc}",
                ]
                .join("\n"),
            )),
            env: pairs(&[("EUREKA_INSTANCE_HOSTNAME", "peer1")]),
            overrides: pairs(&[("server.port", "8762")]),
        })
        .expect("loads");
        let c = &loaded.config;
        assert_eq!(c.peer_urls(), vec!["http://peer1:8762/eureka/"]);
        assert_eq!(c.environment, "dev");
        assert_eq!(c.datacenter, "peer1-dc");

        let error = ServerConfig::load(ConfigSources {
            overrides: pairs(&[("eureka.environment", "${nowhere}")]),
            ..ConfigSources::default()
        })
        .expect_err("rejects");
        assert_eq!(
            error.to_string(),
            "cannot resolve placeholder '${nowhere}' in the value of eureka.environment \
             in the command-line overrides"
        );
        let cycle = ServerConfig::load(ConfigSources {
            overrides: pairs(&[("eureka.environment", "${eureka.environment}")]),
            ..ConfigSources::default()
        });
        assert!(matches!(cycle, Err(ConfigError::Placeholder { .. })));
        let doubling: Vec<(String, String)> = (0..40)
            .map(|i| (format!("p{i}"), format!("${{p{}}}${{p{}}}", i + 1, i + 1)))
            .chain([("eureka.environment".to_string(), "${p0}".to_string())])
            .collect();
        let blowup =
            ServerConfig::load(ConfigSources { overrides: doubling, ..ConfigSources::default() });
        assert!(matches!(blowup, Err(ConfigError::Placeholder { .. })));
        // Unterminated placeholders stay as text; spring.* values are never resolved.
        let loaded = load_yaml(&["eureka.datacenter: a${b", "spring.x: ${unresolvable}"]);
        assert_eq!(loaded.config.datacenter, "a${b");
    }

    #[test]
    fn profile_documents_are_skipped_with_a_warning() {
        let loaded = load_yaml(&[
            "server.port: 9000",
            "---",
            "spring.config.activate.on-profile: peer2",
            "server.port: 9001",
            "---",
            "eureka.environment: prod",
        ]);
        assert_eq!(loaded.config.port, 9000);
        assert_eq!(loaded.config.environment, "prod");
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    }

    #[test]
    fn file_errors_are_reported() {
        let dir = temp_dir();
        let missing = dir.join("missing.yml");
        assert!(matches!(load_file(&missing), Err(ConfigError::Io { .. })));
        let toml = write("application.toml", "x = 1\n");
        assert!(matches!(load_file(&toml), Err(ConfigError::UnsupportedFormat { .. })));
        let bad = write("application.yml", "eureka: [unclosed\n");
        assert!(matches!(load_file(&bad), Err(ConfigError::Parse { .. })));
        let scalar = write("application.yml", "just a string\n");
        assert!(matches!(load_file(&scalar), Err(ConfigError::Parse { .. })));
        let escape = write("application.properties", "a=\\uZZZZ\n");
        let message = load_file(&escape).expect_err("rejects").to_string();
        assert!(message.contains("line 1"), "{message}");
        let empty = write("application.yml", "");
        assert!(load_file(&empty).is_ok());
    }

    #[test]
    fn conflicting_environment_spellings_warn_deterministically() {
        let loaded = ServerConfig::load(ConfigSources {
            env: pairs(&[
                ("EUREKA_SERVER_ENABLE_SELF_PRESERVATION", "true"),
                ("EUREKA_SERVER_ENABLESELFPRESERVATION", "false"),
            ]),
            ..ConfigSources::default()
        })
        .expect("loads");
        // Sorted by name: ENABLESELF... < ENABLE_SELF..., so the underscored spelling wins.
        assert!(loaded.config.enable_self_preservation);
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    }

    #[test]
    fn tls_and_limit_keys_use_springs_names_and_units() {
        let loaded = load_yaml(&[
            "server:",
            "  max-http-request-header-size: 16KB",
            "  max-connections: 3",
            "  connection-timeout: 5s",
            "  request-timeout: 1500",
            "  ssl:",
            "    certificate: /etc/eureka/server.pem",
            "    certificate-private-key: /etc/eureka/server.key",
            "    trust-certificate: /etc/eureka/ca.pem",
            "    client-auth: NEED",
            "eureka.server.peer-tls:",
            "  trust-certificate: /etc/eureka/ca.pem",
            "  certificate: /etc/eureka/peer.pem",
            "  certificate-private-key: /etc/eureka/peer.key",
        ]);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let c = loaded.config;
        assert_eq!(c.limits.max_http_request_header_size, 16 * 1024);
        assert_eq!(c.limits.max_connections, 3);
        assert_eq!(c.limits.connection_timeout, Duration::from_secs(5));
        assert_eq!(c.limits.request_timeout, Duration::from_millis(1500));
        assert!(c.ssl.is_enabled());
        assert_eq!(c.ssl.client_auth, ClientAuth::Need);
        assert_eq!(c.ssl.trust_certificate.as_deref(), Some(Path::new("/etc/eureka/ca.pem")));
        assert_eq!(c.peer_tls.certificate.as_deref(), Some(Path::new("/etc/eureka/peer.pem")));

        // Spring's `server.ssl.enabled: false` keeps the listener plain despite a certificate.
        let off = ServerConfig::load(ConfigSources {
            env: pairs(&[
                ("SERVER_SSL_ENABLED", "false"),
                ("SERVER_SSL_CERTIFICATE", "/c.pem"),
                ("SERVER_SSL_CERTIFICATEPRIVATEKEY", "/k.pem"),
            ]),
            ..ConfigSources::default()
        })
        .expect("loads");
        assert!(!off.config.ssl.is_enabled());
    }

    #[test]
    fn tls_settings_that_cannot_work_name_the_missing_key() {
        let err = |overrides: &[(&str, &str)]| {
            ServerConfig::load(ConfigSources {
                overrides: pairs(overrides),
                ..ConfigSources::default()
            })
            .expect_err("refused")
            .to_string()
        };
        let e = err(&[("server.ssl.certificate", "/c.pem")]);
        assert!(e.contains("server.ssl.certificate-private-key"), "{e}");
        let e = err(&[("server.ssl.enabled", "true")]);
        assert!(e.contains("server.ssl.enabled") && e.contains("server.ssl.certificate"), "{e}");
        let e = err(&[
            ("server.ssl.certificate", "/c.pem"),
            ("server.ssl.certificate-private-key", "/k.pem"),
            ("server.ssl.client-auth", "want"),
        ]);
        assert!(e.contains("server.ssl.trust-certificate"), "{e}");
        let e = err(&[("server.ssl.client-auth", "sometimes")]);
        assert!(e.contains("none, want or need"), "{e}");
        let e = err(&[("eureka.server.peer-tls.certificate", "/p.pem")]);
        assert!(e.contains("eureka.server.peer-tls.certificate-private-key"), "{e}");
        let e = err(&[("server.max-http-request-header-size", "512")]);
        assert!(e.contains("from 1KB to 16MB"), "{e}");
        let e = err(&[("server.max-connections", "0")]);
        assert!(e.contains("server.max-connections"), "{e}");
        let e = err(&[("server.request-timeout", "soon")]);
        assert!(e.contains("server.request-timeout") && e.contains("30s"), "{e}");
    }

    #[test]
    fn sizes_and_durations_parse_as_spring_writes_them() {
        assert_eq!(parse_data_size("8192"), Ok(8192));
        assert_eq!(parse_data_size("8KB"), Ok(8192));
        assert_eq!(parse_data_size("1mb"), Ok(1 << 20));
        assert_eq!(parse_data_size("10B"), Ok(10));
        assert!(parse_data_size("8 KiB").is_err());
        assert!(parse_data_size("KB").is_err());
        assert!(parse_data_size("99999999999999999999GB").is_err());
        assert_eq!(parse_duration("250"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1500us"), Ok(Duration::from_micros(1500)));
        assert!(parse_duration("1.5s").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(positive_millis(&parse_duration("99999999999d").unwrap()).is_err());
    }

    #[test]
    fn known_keys_are_unique_kebab_case_and_distinct_as_env_names() {
        let mut seen = std::collections::HashSet::new();
        let mut env_seen = std::collections::HashSet::new();
        for key in KNOWN_KEYS {
            assert!(seen.insert(*key), "duplicate key {key}");
            assert!(env_seen.insert(env_form(key)), "env name clash for {key}");
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.*".contains(c)),
                "{key} is not kebab-case"
            );
        }
        for binding in BINDINGS {
            let is_map = matches!(binding.apply, Apply::Map(_));
            assert_eq!(is_map, binding.key.ends_with(".*"), "{}", binding.key);
        }
        assert_eq!(KNOWN_KEYS.len(), BINDINGS.len());
        assert!(KNOWN_KEYS.contains(&"eureka.server.retention-time-in-m-s-in-delta-queue"));
        for key in UNUSED_SPRING_KEYS {
            assert!(lookup(key.trim_end_matches(".*")).is_none(), "{key} is bound");
        }
    }

    #[test]
    fn every_known_key_round_trips_through_each_source() {
        for key in KNOWN_KEYS {
            let written = key.replace(".*", ".someKey");
            assert!(lookup(&written).is_some(), "{written}");
            let env_name = written.replace(['.', '-'], "_").to_uppercase();
            assert!(lookup_env(&env_name).is_some(), "{env_name}");
        }
    }

    #[test]
    fn odd_input_never_panics() {
        let inputs = [
            "",
            "\\",
            "=",
            ":",
            "a\\",
            "a=\\u12",
            "a=\\uD800",
            "a=\\uD800\\u0041",
            "a=\\uD83D\\uDE00",
            "${",
            "${${${}}}",
            "${a:${b:${c:}}}",
            "}${",
            "[",
            "]",
            "a.[b",
            "a]].b",
            "..",
            "é=ü",
            "#---\n#---",
        ];
        for input in inputs {
            let _ = parse_properties(input);
            let _ = parse_yaml(input);
            let _ = lookup(input);
            let _ = lookup_env(input);
            let _ = ServerConfig::load(ConfigSources {
                env: vec![(format!("EUREKA_{input}"), input.to_string())],
                overrides: vec![
                    (input.to_string(), input.to_string()),
                    ("eureka.environment".to_string(), input.to_string()),
                ],
                ..ConfigSources::default()
            });
        }
        let pair = parse_properties("a=\\uD83D\\uDE00").expect("parses");
        assert_eq!(pair[0][0].1.as_deref(), Some("😀"));
    }

    #[test]
    fn file_text_loads_like_a_file_without_touching_the_disk() {
        let name = Path::new("inline.yml");
        let yaml = "eureka:\n  server:\n    max-request-body-bytes: 2048\n";
        let loaded = ServerConfig::load_text(FileSyntax::Yaml, name, yaml).expect("loads");
        assert_eq!(loaded.config.max_request_body_bytes, 2048);
        let props = "eureka.server.max-request-body-bytes=4096\n";
        let loaded = ServerConfig::load_text(FileSyntax::Properties, name, props).expect("loads");
        assert_eq!(loaded.config.max_request_body_bytes, 4096);
        let err = ServerConfig::load_text(FileSyntax::Yaml, name, "a: [").unwrap_err();
        assert!(err.to_string().starts_with("cannot parse configuration file inline.yml"), "{err}");
    }
}
