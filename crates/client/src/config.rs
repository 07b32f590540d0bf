//! What the discovery client is told: the servers, its own instance, and the timings, with
//! Java's defaults (`../shared/eureka-protocol.md` §5.9) except where noted.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::time::Duration;

use eureka_model::{Format, InstanceInfo, InstanceStatus, LeaseInfo, Port};

use crate::transport::{Timeouts, TlsOptions};

/// How the client behaves; every field has Java's default unless its doc says otherwise.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Eureka service URLs (`defaultZone`): every server when no zone is configured, and the
    /// servers of any zone without a list of its own in `zone_service_urls`.
    pub service_urls: Vec<String>,
    /// Service URLs per zone (`service-url.<zone>`).
    pub zone_service_urls: BTreeMap<String, Vec<String>>,
    /// The zones of this client's region, in ring order (`availability-zones.<region>`);
    /// when empty, the zones named in `zone_service_urls` (Java would use only `defaultZone`).
    pub availability_zones: Vec<String>,
    /// This client's own zone; default: the registered instance's zone (its `zone` metadata
    /// or AWS availability zone), else the first availability zone.
    pub zone: Option<String>,
    /// Talk to servers of the own zone first (`prefer-same-zone-eureka`, true).
    pub prefer_same_zone: bool,
    /// Lookups (`instances`, choosers, VIPs) return only instances of the own zone while it
    /// has any usable one. Off by default: it concentrates calls on the own zone's instances.
    pub prefer_zone_instances: bool,
    /// Remote regions whose instances the server should merge into fetches
    /// (`fetch-remote-regions-registry`, sent as `?regions=`); lookups see them as local ones.
    pub fetch_remote_regions: Vec<String>,
    /// Keep a local copy of the registry (`fetch-registry`, default true).
    pub fetch_registry: bool,
    /// Refresh period of the local copy (`registry-fetch-interval-seconds`, 30 s).
    pub registry_fetch_interval: Duration,
    /// Always fetch the whole registry instead of deltas (`disable-delta`, false).
    pub disable_delta: bool,
    /// Follow the server's `watch` change stream when it offers one (ours does; Java's does
    /// not, and is then polled), so changes arrive in milliseconds. Default true.
    pub use_watch: bool,
    /// Lookups return UP instances only (`filter-only-up-instances`, true).
    pub filter_only_up_instances: bool,
    /// Lookups return instances in a per-refresh random order (Java always shuffles).
    pub shuffle_instances: bool,
    /// How often the instance is checked for changes and re-registered if dirty
    /// (`instance-info-replication-interval-seconds`, 30 s).
    pub instance_info_replication_interval: Duration,
    /// Delay before the first registration. Java waits 40 s; we register at once.
    pub initial_registration_delay: Duration,
    /// Cap of the timeout back-off, as a multiple of the task's interval
    /// (`heartbeat-executor-exponential-back-off-bound`, 10).
    pub backoff_bound: u32,
    /// Connection and per-request timeouts (Jersey's 5 s and 8 s).
    pub timeouts: Timeouts,
    /// How long a failing server is skipped before it is tried again.
    pub quarantine: Duration,
    /// On-demand status pushes allowed per minute, after a burst of two (Java: 4).
    pub on_demand_updates_per_minute: u32,
    /// Cancel the lease on shutdown (`should-unregister-on-shutdown`, true).
    pub unregister_on_shutdown: bool,
    /// Wire format of requests and answers (JSON, or XML on request).
    pub format: Format,
    /// Extra trusted CAs and a client certificate for `https://` servers (default: the
    /// public web roots only, no client certificate).
    pub tls: TlsOptions,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            service_urls: vec![DEFAULT_SERVICE_URL.to_string()],
            zone_service_urls: BTreeMap::new(),
            availability_zones: Vec::new(),
            zone: None,
            prefer_same_zone: true,
            prefer_zone_instances: false,
            fetch_remote_regions: Vec::new(),
            fetch_registry: true,
            registry_fetch_interval: Duration::from_secs(30),
            disable_delta: false,
            use_watch: true,
            filter_only_up_instances: true,
            shuffle_instances: true,
            instance_info_replication_interval: Duration::from_secs(30),
            initial_registration_delay: Duration::ZERO,
            backoff_bound: 10,
            timeouts: Timeouts { connect: Duration::from_secs(5), request: Duration::from_secs(8) },
            quarantine: crate::failover::DEFAULT_QUARANTINE,
            on_demand_updates_per_minute: 4,
            unregister_on_shutdown: true,
            format: Format::Json,
            tls: TlsOptions::default(),
        }
    }
}

/// Where a Eureka server listens when nobody says otherwise.
pub const DEFAULT_SERVICE_URL: &str = "http://localhost:8761/eureka/";

/// The metadata key Spring Cloud clients put their zone in.
pub const ZONE_METADATA_KEY: &str = "zone";

/// The AWS data-center metadata key of an instance's availability zone.
pub const AWS_ZONE_KEY: &str = "availability-zone";

impl ClientConfig {
    /// Whether any zone is configured (else the servers are one undivided list).
    pub fn has_zones(&self) -> bool {
        !self.availability_zones.is_empty() || !self.zone_service_urls.is_empty()
    }

    /// The zones in ring order: `availability_zones`, else the zones of `zone_service_urls`.
    pub fn zones(&self) -> Vec<String> {
        if self.availability_zones.is_empty() {
            self.zone_service_urls.keys().cloned().collect()
        } else {
            self.availability_zones.clone()
        }
    }

    /// The own zone: `zone`, else the registered instance's, else the first zone.
    pub fn own_zone(&self, instance: Option<&InstanceInfo>) -> Option<String> {
        self.zone
            .clone()
            .or_else(|| instance.and_then(instance_zone).map(str::to_string))
            .or_else(|| self.zones().into_iter().next())
    }

    /// The service URLs of `zone`: its own list, else `service_urls`.
    pub fn urls_of_zone(&self, zone: &str) -> &[String] {
        match self.zone_service_urls.get(zone) {
            Some(urls) if !urls.is_empty() => urls,
            _ => &self.service_urls,
        }
    }
}

/// The zone an instance runs in: its AWS availability zone, else its `zone` metadata (what
/// Java's resolvers and Spring Cloud read).
pub fn instance_zone(info: &InstanceInfo) -> Option<&str> {
    let aws = info
        .data_center_info
        .as_ref()
        .filter(|dc| dc.class == eureka_model::DataCenterClass::Amazon)
        .and_then(|dc| dc.metadata.get(AWS_ZONE_KEY));
    aws.or_else(|| info.metadata.get(ZONE_METADATA_KEY))
        .map(String::as_str)
        .filter(|z| !z.is_empty())
}

/// The instance this service registers, built from a few facts with sensible defaults:
/// detected host name and IP, instance id `host:app:port`, VIP address = app name in lower
/// case, lease 30 s / 90 s, initial status UP.
#[derive(Debug, Clone)]
pub struct Instance {
    app: String,
    port: u16,
    instance_id: Option<String>,
    host_name: Option<String>,
    ip_addr: Option<String>,
    prefer_ip_address: bool,
    secure_port: Option<u16>,
    plain_port_enabled: bool,
    vip_address: Option<String>,
    secure_vip_address: Option<String>,
    metadata: BTreeMap<String, String>,
    renewal_interval: Duration,
    lease_duration: Duration,
    home_page_url: Option<String>,
    status_page_url: Option<String>,
    health_check_url: Option<String>,
    initial_status: InstanceStatus,
}

impl Instance {
    /// An instance of `app` serving on `port`.
    pub fn new(app: impl Into<String>, port: u16) -> Self {
        Instance {
            app: app.into(),
            port,
            instance_id: None,
            host_name: None,
            ip_addr: None,
            prefer_ip_address: false,
            secure_port: None,
            plain_port_enabled: true,
            vip_address: None,
            secure_vip_address: None,
            metadata: BTreeMap::new(),
            renewal_interval: Duration::from_secs(LeaseInfo::DEFAULT_RENEWAL_INTERVAL_SECS.into()),
            lease_duration: Duration::from_secs(LeaseInfo::DEFAULT_DURATION_SECS.into()),
            home_page_url: None,
            status_page_url: None,
            health_check_url: None,
            initial_status: InstanceStatus::Up,
        }
    }

    /// Sets the instance id (default `host:app:port`).
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance_id = Some(id.into());
        self
    }

    /// Sets the host name (default: the machine's).
    pub fn host_name(mut self, host: impl Into<String>) -> Self {
        self.host_name = Some(host.into());
        self
    }

    /// Sets the IP address (default: the address of the interface that routes outwards).
    pub fn ip_addr(mut self, ip: impl Into<String>) -> Self {
        self.ip_addr = Some(ip.into());
        self
    }

    /// Registers the IP address as the host name, as Spring's `prefer-ip-address` does.
    pub fn prefer_ip_address(mut self, yes: bool) -> Self {
        self.prefer_ip_address = yes;
        self
    }

    /// Enables the TLS port.
    pub fn secure_port(mut self, port: u16) -> Self {
        self.secure_port = Some(port);
        self
    }

    /// Enables or disables the plain port (enabled by default).
    pub fn plain_port_enabled(mut self, enabled: bool) -> Self {
        self.plain_port_enabled = enabled;
        self
    }

    /// Sets the VIP address, comma-separated (default: the app name in lower case).
    pub fn vip_address(mut self, vip: impl Into<String>) -> Self {
        self.vip_address = Some(vip.into());
        self
    }

    /// Sets the secure VIP address (default: the app name in lower case).
    pub fn secure_vip_address(mut self, vip: impl Into<String>) -> Self {
        self.secure_vip_address = Some(vip.into());
        self
    }

    /// Adds a metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets how often the lease is renewed (default 30 s; whole seconds on the wire).
    pub fn renewal_interval(mut self, every: Duration) -> Self {
        self.renewal_interval = every;
        self
    }

    /// Sets how long the server keeps the lease without a renewal (default 90 s).
    pub fn lease_duration(mut self, duration: Duration) -> Self {
        self.lease_duration = duration;
        self
    }

    /// Sets the home page URL (default `http://host:port/`).
    pub fn home_page_url(mut self, url: impl Into<String>) -> Self {
        self.home_page_url = Some(url.into());
        self
    }

    /// Sets the status page URL shown in consoles.
    pub fn status_page_url(mut self, url: impl Into<String>) -> Self {
        self.status_page_url = Some(url.into());
        self
    }

    /// Sets the health check URL.
    pub fn health_check_url(mut self, url: impl Into<String>) -> Self {
        self.health_check_url = Some(url.into());
        self
    }

    /// Sets the status sent with the first registration (default UP; STARTING lets a
    /// service register before it is ready and call `set_status(Up)` later).
    pub fn initial_status(mut self, status: InstanceStatus) -> Self {
        self.initial_status = status;
        self
    }

    /// The renewal interval.
    pub fn renewal(&self) -> Duration {
        self.renewal_interval
    }

    /// The `InstanceInfo` to register, with host and IP detected where not given.
    pub fn to_instance_info(&self) -> InstanceInfo {
        let ip = self.ip_addr.clone().unwrap_or_else(|| detect_ip().to_string());
        let host = match (&self.host_name, self.prefer_ip_address) {
            (Some(host), false) => host.clone(),
            (_, true) => ip.clone(),
            (None, false) => detect_host_name(),
        };
        let app = self.app.to_uppercase();
        let vip_default = self.app.to_lowercase();
        let base = format!("http://{host}:{}", self.port);
        InstanceInfo {
            instance_id: Some(
                self.instance_id
                    .clone()
                    .unwrap_or_else(|| format!("{host}:{}:{}", self.app.to_lowercase(), self.port)),
            ),
            host_name: host,
            app,
            ip_addr: ip,
            status: self.initial_status,
            overridden_status: InstanceStatus::Unknown,
            port: Port { port: self.port, enabled: self.plain_port_enabled },
            secure_port: match self.secure_port {
                Some(port) => Port { port, enabled: true },
                None => Port { port: 443, enabled: false },
            },
            lease_info: LeaseInfo {
                renewal_interval_in_secs: whole_secs(self.renewal_interval),
                duration_in_secs: whole_secs(self.lease_duration),
                ..LeaseInfo::default()
            },
            metadata: self.metadata.clone(),
            home_page_url: Some(self.home_page_url.clone().unwrap_or_else(|| format!("{base}/"))),
            status_page_url: self.status_page_url.clone(),
            health_check_url: self.health_check_url.clone(),
            vip_address: Some(self.vip_address.clone().unwrap_or_else(|| vip_default.clone())),
            secure_vip_address: Some(self.secure_vip_address.clone().unwrap_or(vip_default)),
            ..InstanceInfo::default()
        }
    }
}

fn whole_secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX).max(1)
}

/// The machine's host name, or `localhost` when it cannot be read.
pub fn detect_host_name() -> String {
    let name = gethostname::gethostname().to_string_lossy().trim().to_string();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

/// The address of the interface that routes outwards (found by "connecting" a UDP socket,
/// which sends nothing), or loopback when there is no route.
pub fn detect_ip() -> IpAddr {
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| s.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).map(|()| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_spring_naming() {
        let info =
            Instance::new("Orders", 8080).host_name("web-1").ip_addr("10.1.2.3").to_instance_info();
        assert_eq!(info.app, "ORDERS");
        assert_eq!(info.instance_id.as_deref(), Some("web-1:orders:8080"));
        assert_eq!(info.vip_address.as_deref(), Some("orders"));
        assert_eq!(info.home_page_url.as_deref(), Some("http://web-1:8080/"));
        assert_eq!(info.port, Port { port: 8080, enabled: true });
        assert!(!info.secure_port.enabled);
        assert_eq!(info.lease_info.renewal_interval_in_secs, 30);
        assert_eq!(info.lease_info.duration_in_secs, 90);
        assert!(info.validate_for_register(&eureka_model::AppName::new("orders")).is_ok());
    }

    #[test]
    fn prefer_ip_address_uses_the_ip_as_host() {
        let info =
            Instance::new("a", 1).ip_addr("10.9.9.9").prefer_ip_address(true).to_instance_info();
        assert_eq!(info.host_name, "10.9.9.9");
        assert_eq!(info.instance_id.as_deref(), Some("10.9.9.9:a:1"));
    }

    #[test]
    fn detection_gives_something_usable() {
        assert!(!detect_host_name().is_empty());
        assert!(!detect_ip().is_unspecified());
    }
}
