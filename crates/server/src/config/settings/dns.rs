//! `eureka.dns.*`: the DNS interface to the registry (see `crate::dns`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::config::defaults;

/// `eureka.dns.*`: answering DNS queries for the registry's UP instances (see `dns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSettings {
    /// `eureka.dns.enabled`, default false: serve DNS over UDP and TCP.
    pub enabled: bool,
    /// `eureka.dns.port`, default 8600: the UDP and TCP port (0 picks a free one).
    pub port: u16,
    /// `eureka.dns.address`, default unset (`server.address`): the address to listen on.
    pub address: Option<IpAddr>,
    /// `eureka.dns.domain`, default `eureka.`: the zone answered; lower case, ends with '.'.
    /// Names outside it are refused.
    pub domain: String,
    /// `eureka.dns.ttl`, default 5 s, whole seconds up to a day: the TTL of every record,
    /// and how long resolvers may cache a "no such name".
    pub ttl: Duration,
    /// `eureka.dns.max-answers`, default 16, 1 to 1024: records per answer (a random subset
    /// when an application has more instances).
    pub max_answers: usize,
    /// `eureka.dns.txt-metadata`, default empty: the metadata keys an instance's TXT record
    /// shows (comma-separated); metadata may hold secrets, so nothing unless listed.
    pub txt_metadata: Vec<String>,
}

impl Default for DnsSettings {
    fn default() -> Self {
        DnsSettings {
            enabled: false,
            port: defaults::DNS_PORT,
            address: None,
            domain: defaults::DNS_DOMAIN.to_string(),
            ttl: defaults::DNS_TTL,
            max_answers: defaults::DNS_MAX_ANSWERS,
            txt_metadata: Vec::new(),
        }
    }
}

impl DnsSettings {
    /// The address DNS listens on: `eureka.dns.address`, else the HTTP listener's.
    pub fn listen_addr(&self, server_address: IpAddr) -> SocketAddr {
        SocketAddr::new(self.address.unwrap_or(server_address), self.port)
    }
}
