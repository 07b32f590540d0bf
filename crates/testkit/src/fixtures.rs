//! Registration bodies shaped like the ones real clients send.

/// A Jersey-client style JSON registration (legacy codec shape, string timestamps).
pub fn java_json(app: &str, id: &str, port: u16) -> String {
    format!(
        r#"{{"instance":{{"instanceId":"{id}","hostName":"127.0.0.1","app":"{app}","ipAddr":"127.0.0.1","status":"UP","overriddenStatus":"UNKNOWN","port":{{"$":{port},"@enabled":"true"}},"securePort":{{"$":443,"@enabled":"false"}},"countryId":1,"dataCenterInfo":{{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"}},"leaseInfo":{{"renewalIntervalInSecs":30,"durationInSecs":90,"registrationTimestamp":0,"lastRenewalTimestamp":0,"evictionTimestamp":0,"serviceUpTimestamp":0}},"metadata":{{"zone":"zone-a"}},"homePageUrl":"http://127.0.0.1:{port}/","statusPageUrl":"http://127.0.0.1:{port}/info","healthCheckUrl":"http://127.0.0.1:{port}/health","vipAddress":"{vip}","secureVipAddress":"{vip}","isCoordinatingDiscoveryServer":"false","lastUpdatedTimestamp":"1700000000000","lastDirtyTimestamp":"1700000000000"}}}}"#,
        vip = app.to_lowercase()
    )
}

/// An XStream-style XML registration.
pub fn java_xml(app: &str, id: &str, port: u16) -> String {
    format!(
        r#"<instance><instanceId>{id}</instanceId><hostName>127.0.0.1</hostName><app>{app}</app><ipAddr>127.0.0.1</ipAddr><status>UP</status><overriddenstatus>UNKNOWN</overriddenstatus><port enabled="true">{port}</port><securePort enabled="false">443</securePort><countryId>1</countryId><dataCenterInfo class="com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"><name>MyOwn</name></dataCenterInfo><leaseInfo><renewalIntervalInSecs>30</renewalIntervalInSecs><durationInSecs>90</durationInSecs></leaseInfo><metadata><zone>zone-a</zone></metadata><vipAddress>{vip}</vipAddress><secureVipAddress>{vip}</secureVipAddress><isCoordinatingDiscoveryServer>false</isCoordinatingDiscoveryServer><lastUpdatedTimestamp>1700000000000</lastUpdatedTimestamp><lastDirtyTimestamp>1700000000000</lastDirtyTimestamp></instance>"#,
        vip = app.to_lowercase()
    )
}

/// The minimal body eureka-js-client sends (no securePort, leaseInfo or timestamps,
/// a boolean `@enabled`).
pub fn node_json(app: &str, id: &str, port: u16) -> String {
    format!(
        r#"{{"instance":{{"instanceId":"{id}","app":"{app}","hostName":"127.0.0.1","ipAddr":"127.0.0.1","port":{{"$":{port},"@enabled":true}},"vipAddress":"{vip}","dataCenterInfo":{{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"}},"metadata":{{"harness":"node"}},"status":"UP"}}}}"#,
        vip = app.to_lowercase()
    )
}

/// [`java_json`] with a given lease (renewal interval, duration in seconds) and
/// `lastDirtyTimestamp`/`lastUpdatedTimestamp`, for tests of expiry and replication order.
pub fn java_json_lease(app: &str, id: &str, port: u16, lease: (u32, u32), dirty_ms: u64) -> String {
    java_json(app, id, port)
        .replace(
            r#""renewalIntervalInSecs":30,"durationInSecs":90"#,
            &format!(r#""renewalIntervalInSecs":{},"durationInSecs":{}"#, lease.0, lease.1),
        )
        .replace("1700000000000", &dirty_ms.to_string())
}

/// The wall clock in epoch milliseconds, as clients stamp `lastDirtyTimestamp`.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A discovery-client instance on loopback with a 1 s renewal and a 3 s lease, so tests see
/// renewals (and expiries) quickly.
pub fn loopback_instance(app: &str, port: u16) -> eureka_client::Instance {
    eureka_client::Instance::new(app, port)
        .host_name("127.0.0.1")
        .ip_addr("127.0.0.1")
        .renewal_interval(std::time::Duration::from_secs(1))
        .lease_duration(std::time::Duration::from_secs(3))
}

/// A discovery-client builder for `service_url` that refreshes every 200 ms, with short
/// timeouts.
pub fn fast_client(service_url: &str) -> eureka_client::ClientBuilder {
    eureka_client::ClientBuilder::new(service_url).configure(|c| {
        c.registry_fetch_interval = std::time::Duration::from_millis(200);
        c.timeouts = eureka_client::Timeouts {
            connect: std::time::Duration::from_secs(2),
            request: std::time::Duration::from_secs(5),
        };
    })
}

/// A server configuration from `key=value` settings, loaded the way file, environment and
/// flags are (so keys are checked and validated as in production).
pub fn config(settings: &[(&str, &str)]) -> eureka_server::ServerConfig {
    let overrides = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let sources = eureka_server::config::ConfigSources { overrides, ..Default::default() };
    eureka_server::ServerConfig::load(sources).expect("valid configuration").config
}
