//! `eureka.instance.*`: how this server describes itself when it registers with peers.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::defaults;

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
