//! `InstanceInfo` and its parts, as the Java model defines them.

use std::fmt;

use crate::error::ValidationError;
use crate::Metadata;

/// Lifecycle status of an instance (`InstanceInfo.InstanceStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum InstanceStatus {
    /// Ready to receive traffic.
    #[default]
    Up,
    /// Failed its health check.
    Down,
    /// Still initialising.
    Starting,
    /// Taken out of traffic on purpose.
    OutOfService,
    /// Unknown; also what an unrecognised status string decodes to.
    Unknown,
}

impl InstanceStatus {
    /// Every status, in the alphabetical order of their wire names (the hash code order).
    pub const ALL: [InstanceStatus; 5] = [
        InstanceStatus::Down,
        InstanceStatus::OutOfService,
        InstanceStatus::Starting,
        InstanceStatus::Unknown,
        InstanceStatus::Up,
    ];

    /// The exact upper-case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Up => "UP",
            InstanceStatus::Down => "DOWN",
            InstanceStatus::Starting => "STARTING",
            InstanceStatus::OutOfService => "OUT_OF_SERVICE",
            InstanceStatus::Unknown => "UNKNOWN",
        }
    }

    /// Strict parse of an exact wire name (query parameters); `None` if it is not one.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "UP" => InstanceStatus::Up,
            "DOWN" => InstanceStatus::Down,
            "STARTING" => InstanceStatus::Starting,
            "OUT_OF_SERVICE" => InstanceStatus::OutOfService,
            "UNKNOWN" => InstanceStatus::Unknown,
            _ => return None,
        })
    }

    /// Lenient parse used by document decoders: case-insensitive, anything else is `Unknown`,
    /// as the Java decoders do.
    pub fn parse_lenient(s: &str) -> Self {
        // Exact names (what every client sends) need no upper-cased copy.
        Self::parse(s)
            .or_else(|| Self::parse(&s.trim().to_ascii_uppercase()))
            .unwrap_or(InstanceStatus::Unknown)
    }
}

impl fmt::Display for InstanceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to an instance, as carried in delta entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionType {
    /// Registered (new lease).
    Added,
    /// Changed (status, override, metadata).
    Modified,
    /// Cancelled or evicted.
    Deleted,
}

impl ActionType {
    /// The exact upper-case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::Added => "ADDED",
            ActionType::Modified => "MODIFIED",
            ActionType::Deleted => "DELETED",
        }
    }

    /// Parses an exact wire name; anything else is `None` (Java ignores such delta entries).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ADDED" => ActionType::Added,
            "MODIFIED" => ActionType::Modified,
            "DELETED" => ActionType::Deleted,
            _ => return None,
        })
    }
}

/// A port and whether it is enabled (`{"$": 8080, "@enabled": "true"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    /// The port number.
    pub port: u16,
    /// Whether clients may use it.
    pub enabled: bool,
}

impl Port {
    /// Java's default for a missing `port`: 7001, enabled.
    pub const DEFAULT_PLAIN: Port = Port { port: 7001, enabled: true };
    /// Java's default for a missing `securePort`: 7002, disabled.
    pub const DEFAULT_SECURE: Port = Port { port: 7002, enabled: false };
}

/// The concrete Java class named by `dataCenterInfo`'s `@class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataCenterClass {
    /// `com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo` (most clients).
    Default,
    /// `com.netflix.appinfo.MyDataCenterInfo` (some third-party clients).
    MyDataCenter,
    /// `com.netflix.appinfo.AmazonInfo`, which carries AWS metadata.
    Amazon,
}

impl DataCenterClass {
    /// The fully qualified Java class name written in `@class` / `class=`.
    pub fn java_class(self) -> &'static str {
        match self {
            DataCenterClass::Default => "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",
            DataCenterClass::MyDataCenter => "com.netflix.appinfo.MyDataCenterInfo",
            DataCenterClass::Amazon => "com.netflix.appinfo.AmazonInfo",
        }
    }

    /// Maps a Java class name back; `None` for any other class.
    pub fn from_java_class(s: &str) -> Option<Self> {
        [DataCenterClass::Default, DataCenterClass::MyDataCenter, DataCenterClass::Amazon]
            .into_iter()
            .find(|c| c.java_class() == s)
    }
}

/// `dataCenterInfo.name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataCenterName {
    /// A private data center (the default everywhere outside AWS).
    MyOwn,
    /// AWS.
    Amazon,
    /// Netflix's own.
    Netflix,
}

impl DataCenterName {
    /// The exact wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCenterName::MyOwn => "MyOwn",
            DataCenterName::Amazon => "Amazon",
            DataCenterName::Netflix => "Netflix",
        }
    }

    /// Parses an exact wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "MyOwn" => DataCenterName::MyOwn,
            "Amazon" => DataCenterName::Amazon,
            "Netflix" => DataCenterName::Netflix,
            _ => return None,
        })
    }
}

/// Where an instance runs. `name` is optional only so validation can report its absence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCenterInfo {
    /// The Java class, re-emitted as `@class`.
    pub class: DataCenterClass,
    /// The data center kind; `None` only in a body that omitted it (rejected on register).
    pub name: Option<DataCenterName>,
    /// AWS metadata (`instance-id`, `availability-zone`, ...); empty for other classes.
    pub metadata: Metadata,
}

impl Default for DataCenterInfo {
    fn default() -> Self {
        DataCenterInfo {
            class: DataCenterClass::Default,
            name: Some(DataCenterName::MyOwn),
            metadata: Metadata::new(),
        }
    }
}

/// Lease timing as carried on the wire; the server rewrites it from the live lease on reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseInfo {
    /// How often the client promises to renew, in seconds (default 30).
    pub renewal_interval_in_secs: u32,
    /// How long after the last renew the lease expires, in seconds (default 90).
    pub duration_in_secs: u32,
    /// Epoch ms of the last register.
    pub registration_timestamp: u64,
    /// Epoch ms of the last renew.
    pub last_renewal_timestamp: u64,
    /// Epoch ms of the cancel or eviction, 0 while alive.
    pub eviction_timestamp: u64,
    /// Epoch ms when the instance was first seen UP, 0 if never.
    pub service_up_timestamp: u64,
}

impl LeaseInfo {
    /// Java's default renewal interval, seconds.
    pub const DEFAULT_RENEWAL_INTERVAL_SECS: u32 = 30;
    /// Java's default lease duration, seconds.
    pub const DEFAULT_DURATION_SECS: u32 = 90;
}

impl Default for LeaseInfo {
    fn default() -> Self {
        LeaseInfo {
            renewal_interval_in_secs: Self::DEFAULT_RENEWAL_INTERVAL_SECS,
            duration_in_secs: Self::DEFAULT_DURATION_SECS,
            registration_timestamp: 0,
            last_renewal_timestamp: 0,
            eviction_timestamp: 0,
            service_up_timestamp: 0,
        }
    }
}

/// An application name: always upper case on the server, as Java upper-cases it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppName(String);

impl AppName {
    /// Upper-cases `name` (ASCII and Unicode, as Java's `toUpperCase` does).
    pub fn new(name: &str) -> Self {
        AppName(name.to_uppercase())
    }

    /// The upper-cased name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One registered instance, with exactly the fields of Java's `InstanceInfo` that go on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    /// Explicit instance id; when absent the id falls back to the AWS id, then `host_name`.
    pub instance_id: Option<String>,
    /// Host name (or IP when the client prefers IPs).
    pub host_name: String,
    /// Application name, upper case.
    pub app: String,
    /// IP address.
    pub ip_addr: String,
    /// Deprecated security id; emitted only when not `na`/`unknown`.
    pub sid: Option<String>,
    /// Current status.
    pub status: InstanceStatus,
    /// Status set by an operator override, `Unknown` when none.
    pub overridden_status: InstanceStatus,
    /// Plain port.
    pub port: Port,
    /// TLS port.
    pub secure_port: Port,
    /// Country id, 1 by default.
    pub country_id: i32,
    /// Data center; `None` only in a body that omitted it (rejected on register).
    pub data_center_info: Option<DataCenterInfo>,
    /// Lease timing.
    pub lease_info: LeaseInfo,
    /// Free-form metadata.
    pub metadata: Metadata,
    /// Application group, upper case.
    pub app_group_name: Option<String>,
    /// Home page URL.
    pub home_page_url: Option<String>,
    /// Status page URL.
    pub status_page_url: Option<String>,
    /// Health check URL.
    pub health_check_url: Option<String>,
    /// Secure health check URL.
    pub secure_health_check_url: Option<String>,
    /// Comma-separated VIP addresses.
    pub vip_address: Option<String>,
    /// Comma-separated secure VIP addresses.
    pub secure_vip_address: Option<String>,
    /// True only for the serving Eureka server's own record.
    pub is_coordinating_discovery_server: bool,
    /// Server-side time of the last change, epoch ms.
    pub last_updated_timestamp: u64,
    /// Client-side time of the last change, epoch ms (0 when the body had none).
    pub last_dirty_timestamp: u64,
    /// Delta action; set by the server.
    pub action_type: Option<ActionType>,
    /// AWS auto-scaling group.
    pub asg_name: Option<String>,
}

impl Default for InstanceInfo {
    fn default() -> Self {
        InstanceInfo {
            instance_id: None,
            host_name: String::new(),
            app: String::new(),
            ip_addr: String::new(),
            sid: None,
            status: InstanceStatus::Up,
            overridden_status: InstanceStatus::Unknown,
            port: Port::DEFAULT_PLAIN,
            secure_port: Port::DEFAULT_SECURE,
            country_id: 1,
            data_center_info: Some(DataCenterInfo::default()),
            lease_info: LeaseInfo::default(),
            metadata: Metadata::new(),
            app_group_name: None,
            home_page_url: None,
            status_page_url: None,
            health_check_url: None,
            secure_health_check_url: None,
            vip_address: None,
            secure_vip_address: None,
            is_coordinating_discovery_server: false,
            last_updated_timestamp: 0,
            last_dirty_timestamp: 0,
            action_type: None,
            asg_name: None,
        }
    }
}

/// The AWS metadata key holding the EC2 instance id.
pub const AWS_INSTANCE_ID_KEY: &str = "instance-id";
/// The instance metadata key Spring Cloud puts an instance's zone under.
pub const ZONE_METADATA_KEY: &str = "zone";
/// The AWS data-center metadata key holding the availability zone.
pub const AWS_AVAILABILITY_ZONE_KEY: &str = "availability-zone";

impl InstanceInfo {
    /// The registry key: `instanceId` if set, else the AWS instance id, else `hostName`.
    pub fn id(&self) -> &str {
        if let Some(id) = self.instance_id.as_deref().filter(|s| !s.trim().is_empty()) {
            return id;
        }
        if let Some(dc) = &self.data_center_info {
            if dc.class == DataCenterClass::Amazon {
                if let Some(id) = dc.metadata.get(AWS_INSTANCE_ID_KEY).filter(|s| !s.is_empty()) {
                    return id;
                }
            }
        }
        &self.host_name
    }

    /// The instance's zone: the `zone` metadata (Spring Cloud's), else the AWS availability
    /// zone of its data-center info; `None` when neither is set or it is blank.
    pub fn zone(&self) -> Option<&str> {
        let aws = || {
            self.data_center_info.as_ref().and_then(|d| d.metadata.get(AWS_AVAILABILITY_ZONE_KEY))
        };
        self.metadata
            .get(ZONE_METADATA_KEY)
            .or_else(aws)
            .map(|z| z.trim())
            .filter(|z| !z.is_empty())
    }

    /// Iterates the VIP addresses (comma-separated elements, trimmed, empty ones skipped).
    pub fn vips(&self) -> impl Iterator<Item = &str> {
        split_vips(self.vip_address.as_deref())
    }

    /// Iterates the secure VIP addresses.
    pub fn secure_vips(&self) -> impl Iterator<Item = &str> {
        split_vips(self.secure_vip_address.as_deref())
    }

    /// Applies the registration checks of Java's `ApplicationResource.addInstance`, in its
    /// order, against the application named in the URL (already upper case); also refuses
    /// control characters in the id and app name, which no request path could address.
    pub fn validate_for_register(&self, path_app: &AppName) -> Result<(), ValidationError> {
        if self.id().trim().is_empty() {
            return Err(ValidationError::MissingInstanceId);
        }
        if self.host_name.trim().is_empty() {
            return Err(ValidationError::MissingHostName);
        }
        if self.ip_addr.trim().is_empty() {
            return Err(ValidationError::MissingIpAddr);
        }
        if self.app.trim().is_empty() {
            return Err(ValidationError::MissingAppName);
        }
        if self.id().chars().any(char::is_control) {
            return Err(ValidationError::ControlCharacters { field: "instanceId" });
        }
        if self.app.chars().any(char::is_control) {
            return Err(ValidationError::ControlCharacters { field: "app" });
        }
        let body_app = AppName::new(&self.app);
        if &body_app != path_app {
            return Err(ValidationError::MismatchedAppName {
                expected: path_app.to_string(),
                actual: body_app.to_string(),
            });
        }
        match &self.data_center_info {
            None => Err(ValidationError::MissingDataCenterInfo),
            Some(dc) if dc.name.is_none() => Err(ValidationError::MissingDataCenterName),
            Some(_) => Ok(()),
        }
    }

    /// Whether `self` and `other` are the same registration: equal in every field but those
    /// renewals and delta bookkeeping move (`leaseInfo`, `actionType`). Compares in place,
    /// without a copy, as clients diff whole registries with it.
    pub fn same_registration(&self, other: &InstanceInfo) -> bool {
        // Destructured, so that a new field is either compared or explicitly ignored here.
        let InstanceInfo {
            instance_id,
            host_name,
            app,
            ip_addr,
            sid,
            status,
            overridden_status,
            port,
            secure_port,
            country_id,
            data_center_info,
            lease_info: _,
            metadata,
            app_group_name,
            home_page_url,
            status_page_url,
            health_check_url,
            secure_health_check_url,
            vip_address,
            secure_vip_address,
            is_coordinating_discovery_server,
            last_updated_timestamp,
            last_dirty_timestamp,
            action_type: _,
            asg_name,
        } = self;
        *status == other.status
            && *overridden_status == other.overridden_status
            && *last_dirty_timestamp == other.last_dirty_timestamp
            && *last_updated_timestamp == other.last_updated_timestamp
            && *instance_id == other.instance_id
            && *host_name == other.host_name
            && *app == other.app
            && *ip_addr == other.ip_addr
            && *sid == other.sid
            && *port == other.port
            && *secure_port == other.secure_port
            && *country_id == other.country_id
            && *data_center_info == other.data_center_info
            && *metadata == other.metadata
            && *app_group_name == other.app_group_name
            && *home_page_url == other.home_page_url
            && *status_page_url == other.status_page_url
            && *health_check_url == other.health_check_url
            && *secure_health_check_url == other.secure_health_check_url
            && *vip_address == other.vip_address
            && *secure_vip_address == other.secure_vip_address
            && *is_coordinating_discovery_server == other.is_coordinating_discovery_server
            && *asg_name == other.asg_name
    }

    /// Normalises a freshly decoded registration the way the Spring server does: upper-case
    /// `app`/`appGroupName`, and take a missing `instanceId` from `metadata.instanceId`
    /// (prefixed with `hostName:` unless it already starts with it).
    pub fn normalize(&mut self) {
        self.app = self.app.to_uppercase();
        if let Some(group) = &mut self.app_group_name {
            *group = group.to_uppercase();
        }
        if self.instance_id.as_deref().is_none_or(|s| s.trim().is_empty()) {
            if let Some(meta_id) = self.metadata.get("instanceId").filter(|s| !s.is_empty()) {
                let prefix = format!("{}:", self.host_name);
                self.instance_id = Some(if meta_id.starts_with(&prefix) {
                    meta_id.clone()
                } else {
                    format!("{prefix}{meta_id}")
                });
            }
        }
    }
}

fn split_vips(list: Option<&str>) -> impl Iterator<Item = &str> {
    list.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_falls_back_to_aws_id_then_host_name() {
        let mut info = InstanceInfo { host_name: "h1".into(), ..Default::default() };
        assert_eq!(info.id(), "h1");
        info.data_center_info = Some(DataCenterInfo {
            class: DataCenterClass::Amazon,
            name: Some(DataCenterName::Amazon),
            metadata: [(AWS_INSTANCE_ID_KEY.to_string(), "i-123".to_string())].into(),
        });
        assert_eq!(info.id(), "i-123");
        info.instance_id = Some("explicit".into());
        assert_eq!(info.id(), "explicit");
    }

    #[test]
    fn validation_follows_java_order_and_messages() {
        let app = AppName::new("orders");
        let mut info = InstanceInfo::default();
        assert_eq!(info.validate_for_register(&app), Err(ValidationError::MissingInstanceId));
        info.instance_id = Some("i1".into());
        assert_eq!(info.validate_for_register(&app), Err(ValidationError::MissingHostName));
        info.host_name = "h".into();
        assert_eq!(info.validate_for_register(&app), Err(ValidationError::MissingIpAddr));
        info.ip_addr = "10.0.0.1".into();
        assert_eq!(info.validate_for_register(&app), Err(ValidationError::MissingAppName));
        info.app = "billing".into();
        let err = info.validate_for_register(&app).unwrap_err();
        assert_eq!(err.to_string(), "Mismatched appName, expecting ORDERS but was BILLING");
        info.app = "Orders".into();
        assert_eq!(info.validate_for_register(&app), Ok(()));
        info.data_center_info.as_mut().unwrap().name = None;
        assert_eq!(info.validate_for_register(&app), Err(ValidationError::MissingDataCenterName));
        info.data_center_info = None;
        assert_eq!(info.validate_for_register(&app), Err(ValidationError::MissingDataCenterInfo));
    }

    #[test]
    fn normalize_takes_instance_id_from_metadata_like_spring() {
        let mut info =
            InstanceInfo { host_name: "web-1".into(), app: "orders".into(), ..Default::default() };
        info.metadata.insert("instanceId".into(), "orders:8080".into());
        info.normalize();
        assert_eq!(info.app, "ORDERS");
        assert_eq!(info.instance_id.as_deref(), Some("web-1:orders:8080"));
    }

    #[test]
    fn zone_comes_from_metadata_then_the_availability_zone() {
        let mut info = InstanceInfo::default();
        assert_eq!(info.zone(), None);
        let aws = DataCenterInfo {
            class: DataCenterClass::Amazon,
            name: Some(DataCenterName::Amazon),
            metadata: [(AWS_AVAILABILITY_ZONE_KEY.to_string(), "us-east-1a".to_string())].into(),
        };
        info.data_center_info = Some(aws);
        assert_eq!(info.zone(), Some("us-east-1a"));
        info.metadata.insert(ZONE_METADATA_KEY.to_string(), " zone-b ".to_string());
        assert_eq!(info.zone(), Some("zone-b"), "the metadata wins, trimmed");
        info.metadata.insert(ZONE_METADATA_KEY.to_string(), " ".to_string());
        assert_eq!(info.zone(), None, "a blank zone is no zone");
    }

    #[test]
    fn vips_split_on_commas() {
        let info = InstanceInfo { vip_address: Some("a, b,,c".into()), ..Default::default() };
        assert_eq!(info.vips().collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn lenient_status_parse_maps_garbage_to_unknown() {
        assert_eq!(InstanceStatus::parse_lenient("up"), InstanceStatus::Up);
        assert_eq!(InstanceStatus::parse_lenient("BOGUS"), InstanceStatus::Unknown);
        assert_eq!(InstanceStatus::parse("up"), None);
    }

    #[test]
    fn same_registration_ignores_only_lease_and_action() {
        let a = InstanceInfo {
            host_name: "h1".into(),
            metadata: [("zone".to_string(), "a".to_string())].into(),
            ..Default::default()
        };
        let mut renewed = a.clone();
        renewed.lease_info.last_renewal_timestamp = 99;
        renewed.action_type = Some(ActionType::Modified);
        assert!(a.same_registration(&renewed));
        let changes: [fn(&mut InstanceInfo); 5] = [
            |i| i.status = InstanceStatus::Down,
            |i| i.last_dirty_timestamp = 7,
            |i| i.port.enabled = false,
            |i| i.asg_name = Some("asg".into()),
            |i| {
                i.metadata.insert("zone".into(), "b".into());
            },
        ];
        for change in changes {
            let mut other = a.clone();
            change(&mut other);
            assert!(!a.same_registration(&other), "{other:?}");
            assert!(!other.same_registration(&a));
        }
    }
}
