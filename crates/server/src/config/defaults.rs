//! The embedded defaults, one named constant per setting (`eureka-protocol.md` §4.15).

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
/// `eureka.server.max-elements-in-peer-replication-pool`: 10 000 queued instances.
pub const MAX_ELEMENTS_IN_PEER_REPLICATION_POOL: usize = 10_000;
/// `eureka.server.max-threads-for-peer-replication`: 20 concurrent senders.
pub const MAX_THREADS_FOR_PEER_REPLICATION: usize = 20;
/// `eureka.server.max-time-for-replication`: 30 s unreachable before a queue may be shed.
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
/// `eureka.server.rate-limiter-burst-size`: 10 tokens, as Java.
pub const RATE_LIMITER_BURST_SIZE: u32 = 10;
/// `eureka.server.rate-limiter-registry-fetch-average-rate`: 500 fetches a second, as Java.
pub const RATE_LIMITER_REGISTRY_FETCH_AVERAGE_RATE: u32 = 500;
/// `eureka.server.rate-limiter-full-fetch-average-rate`: 100 full fetches a second, as Java.
pub const RATE_LIMITER_FULL_FETCH_AVERAGE_RATE: u32 = 100;
/// `eureka.server.remote-region-registry-fetch-interval`: 30 s, as Java.
pub const REMOTE_REGION_FETCH_INTERVAL: Duration = Duration::from_secs(30);
/// `eureka.server.remote-region-connect-timeout-ms`: 2 000 ms (Netflix's; Spring's is 1 000).
pub const REMOTE_REGION_CONNECT_TIMEOUT: Duration = Duration::from_millis(2_000);
/// `eureka.server.remote-region-read-timeout-ms`: 5 000 ms (Netflix's; Spring's is 1 000).
pub const REMOTE_REGION_READ_TIMEOUT: Duration = Duration::from_millis(5_000);
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
/// `eureka.server.health-checks.*`: off, and the other defaults of [`super::HealthCheckSettings`].
pub const HEALTH_CHECKS_ENABLED: bool = false;
/// `eureka.server.health-checks.interval`: each instance is checked every 10 s.
pub const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(10);
/// `eureka.server.health-checks.timeout`: 2 s for a connection or an HTTP answer.
pub const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// `eureka.server.health-checks.failures-before-down`: 3 consecutive failures.
pub const HEALTH_CHECK_FAILURES_BEFORE_DOWN: u32 = 3;
/// `eureka.server.health-checks.successes-before-up`: 2 consecutive passes.
pub const HEALTH_CHECK_SUCCESSES_BEFORE_UP: u32 = 2;
/// `eureka.server.health-checks.max-concurrency`: 256 checks in flight.
pub const HEALTH_CHECK_MAX_CONCURRENCY: usize = 256;
/// `eureka.server.health-checks.max-failing-fraction`: more than half failing is suspect.
pub const HEALTH_CHECK_MAX_FAILING_FRACTION: f64 = 0.5;
/// `eureka.server.health-checks.suspicion-min-failing`: suspicion needs 3 failing.
pub const HEALTH_CHECK_SUSPICION_MIN_FAILING: usize = 3;
/// Upper bound for every duration setting: one year, so later arithmetic cannot overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);
/// `eureka.dns.port`: 8600, the port Consul's DNS interface uses.
pub const DNS_PORT: u16 = 8600;
/// `eureka.dns.domain`: names are `<app>.service.eureka.` and so on.
pub const DNS_DOMAIN: &str = "eureka.";
/// `eureka.dns.ttl`: 5 s, so a resolver's cache lags the registry by at most that.
pub const DNS_TTL: Duration = Duration::from_secs(5);
/// `eureka.dns.max-answers`: 16 addresses (or SRV records) per answer; 16 A or AAAA records
/// fit a 512-byte UDP answer, so stub resolvers without EDNS0 never retry over TCP.
pub const DNS_MAX_ANSWERS: usize = 16;
