//! Peers found in DNS: `eureka.server.peer-dns-*` (A/AAAA or SRV records) and Java's TXT
//! scheme (`eureka.client.use-dns-for-fetching-service-urls`). Their rows are in the key
//! table's cluster group (`keys/replication.rs`); their settings, parsers and checks are here.

use std::time::Duration;

use super::check::{positive_millis, reject, Rejected};

/// `eureka.server.peer-eureka-nodes-update-interval-ms` when peers come from DNS: 30 s (Java's
/// 10 minutes leaves a scaled-up node unknown to its peers for as long).
pub const PEER_DNS_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// Where the peer set comes from besides the static URL list, and how often it is re-read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerDiscovery {
    /// `eureka.server.peer-dns-name`, default unset: every A/AAAA record of this name (or, with
    /// `peer-dns-srv`, every SRV record) is a peer.
    pub dns_name: Option<String>,
    /// `eureka.server.peer-dns-port`, default this node's port: the peers' port for A/AAAA
    /// records.
    pub dns_port: Option<u16>,
    /// `eureka.server.peer-dns-srv`, default false: look `peer-dns-name` up as SRV records,
    /// whose targets and ports are the peers.
    pub dns_srv: bool,
    /// `eureka.server.peer-dns-server`, default unset (the system resolver): `HOST:PORT` of the
    /// name server that peer lookups are sent to.
    pub dns_server: Option<String>,
    /// `eureka.server.peer-eureka-nodes-update-interval-ms`, default 30 s when peers come from
    /// DNS: how often the peer set is re-read.
    pub refresh_interval: Option<Duration>,
    /// `eureka.client.use-dns-for-fetching-service-urls`, default false: Java's TXT records
    /// (`txt.<region>.<eureka-server-d-n-s-name>`) list the peers.
    pub java_txt: bool,
    /// `eureka.client.eureka-server-d-n-s-name`, default unset: the domain of Java's TXT scheme.
    pub java_dns_name: Option<String>,
    /// `eureka.client.eureka-server-port`, default this node's port: the port of the servers
    /// the TXT records name.
    pub java_port: Option<u16>,
    /// `eureka.client.eureka-server-u-r-l-context`, default `eureka`: the path of their API
    /// (Java builds `/` when it is unset, which no Spring server answers on).
    pub java_context: Option<String>,
}

impl PeerDiscovery {
    /// Whether peers come from DNS at all (so the set is re-read periodically).
    pub fn uses_dns(&self) -> bool {
        self.dns_name.is_some() || self.java_txt
    }

    /// How often the peer set is re-read from DNS.
    pub fn refresh_interval(&self) -> Duration {
        self.refresh_interval.unwrap_or(PEER_DNS_REFRESH_INTERVAL)
    }

    /// The path of the API of servers found through the TXT scheme, without slashes.
    pub fn java_context(&self) -> &str {
        self.java_context.as_deref().map(|c| c.trim_matches('/')).unwrap_or("eureka")
    }
}

/// A DNS name: letters, digits, `-`, `_` (SRV labels) and dots, at most 253 characters.
pub(super) fn parse_dns_name(raw: &str) -> Result<String, &'static str> {
    const EXPECT: &str = "a DNS name, e.g. eureka-headless.my-ns.svc.cluster.local";
    let name = raw.trim().trim_end_matches('.');
    let labels_ok = name.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if name.is_empty() || name.len() > 253 || !labels_ok {
        return Err(EXPECT);
    }
    Ok(name.to_ascii_lowercase())
}

/// `HOST:PORT` (or `[IPv6]:PORT`) of a name server.
pub(super) fn parse_host_port(raw: &str) -> Result<String, &'static str> {
    const EXPECT: &str = "HOST:PORT of a DNS server, e.g. 10.96.0.10:53 or [fd00::a]:53";
    let raw = raw.trim();
    let (host, port) = raw.rsplit_once(':').ok_or(EXPECT)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(EXPECT);
    }
    if host.parse::<std::net::IpAddr>().is_err() && parse_dns_name(host).is_err() {
        return Err(EXPECT);
    }
    Ok(raw.to_string())
}

/// A URL path segment for Java's `eureka-server-u-r-l-context`, e.g. `eureka` or `/eureka/v2/`.
pub(super) fn parse_context(raw: &str) -> Result<String, &'static str> {
    let path = raw.trim().trim_matches('/');
    if path.bytes().any(|b| !(b.is_ascii_alphanumeric() || b"-._~/".contains(&b))) {
        return Err("a URL path such as eureka or eureka/v2");
    }
    Ok(path.to_string())
}

/// The TXT scheme needs the domain it looks up.
pub(super) fn check_java_txt(d: &PeerDiscovery) -> Result<(), Rejected> {
    if d.java_txt && d.java_dns_name.is_none() {
        return reject(
            "true".to_string(),
            "false, or set eureka.client.eureka-server-d-n-s-name to the domain whose \
             txt.<region>.<domain> record lists the zones",
        );
    }
    Ok(())
}

/// SRV lookups need a name.
pub(super) fn check_srv(d: &PeerDiscovery) -> Result<(), Rejected> {
    if d.dns_srv && d.dns_name.is_none() {
        return reject(
            "true".to_string(),
            "false, or set eureka.server.peer-dns-name to the SRV name, e.g. \
             _http._tcp.eureka-headless.my-ns.svc.cluster.local",
        );
    }
    Ok(())
}

/// A refresh interval, when set, is positive and at most a year.
pub(super) fn check_interval(d: &PeerDiscovery) -> Result<(), Rejected> {
    match d.refresh_interval {
        Some(interval) => positive_millis(&interval),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigSources, ServerConfig};

    fn load(overrides: &[(&str, &str)], env: &[(&str, &str)]) -> Result<ServerConfig, String> {
        let sources = ConfigSources {
            file: None,
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            overrides: overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        ServerConfig::load(sources).map(|l| l.config).map_err(|e| e.to_string())
    }

    #[test]
    fn keys_bind_from_flags_and_environment() {
        let c = load(
            &[
                ("eureka.server.peer-dns-name", "_http._tcp.E.ns.svc.cluster.local"),
                ("eureka.server.peerDnsSrv", "true"),
                ("eureka.server.peer-dns-server", "127.0.0.1:5353"),
                ("eureka.server.peer-eureka-nodes-update-interval-ms", "400"),
            ],
            &[("EUREKA_SERVER_PEER_DNS_PORT", "9000")],
        )
        .unwrap();
        let d = &c.peer_discovery;
        assert_eq!(d.dns_name.as_deref(), Some("_http._tcp.e.ns.svc.cluster.local"));
        assert!(d.dns_srv && d.uses_dns());
        assert_eq!(d.dns_port, Some(9000));
        assert_eq!(d.dns_server.as_deref(), Some("127.0.0.1:5353"));
        assert_eq!(d.refresh_interval(), Duration::from_millis(400));

        // Java's spelling of its keys, camelCase included.
        let c = load(
            &[
                ("eureka.client.useDnsForFetchingServiceUrls", "true"),
                ("eureka.client.eurekaServerDNSName", "example.net"),
                ("eureka.client.eureka-server-port", "8080"),
                ("eureka.client.eurekaServerURLContext", "/eureka/v2/"),
            ],
            &[],
        )
        .unwrap();
        let d = &c.peer_discovery;
        assert!(d.java_txt && d.uses_dns());
        assert_eq!(d.java_dns_name.as_deref(), Some("example.net"));
        assert_eq!(d.java_port, Some(8080));
        assert_eq!(d.java_context(), "eureka/v2");
    }

    #[test]
    fn incomplete_or_bad_settings_are_refused_with_the_key() {
        let srv = load(&[("eureka.server.peer-dns-srv", "true")], &[]).unwrap_err();
        assert!(
            srv.contains("eureka.server.peer-dns-srv") && srv.contains("peer-dns-name"),
            "{srv}"
        );
        let txt =
            load(&[("eureka.client.use-dns-for-fetching-service-urls", "true")], &[]).unwrap_err();
        assert!(txt.contains("eureka-server-d-n-s-name"), "{txt}");
        let name = load(&[("eureka.server.peer-dns-name", "not a name")], &[]).unwrap_err();
        assert!(
            name.contains("eureka.server.peer-dns-name") && name.contains("DNS name"),
            "{name}"
        );
        let server = load(&[("eureka.server.peer-dns-server", "10.0.0.1")], &[]).unwrap_err();
        assert!(server.contains("HOST:PORT"), "{server}");
        let zero =
            load(&[("eureka.server.peer-eureka-nodes-update-interval-ms", "0")], &[]).unwrap_err();
        assert!(zero.contains("positive"), "{zero}");
    }

    #[test]
    fn the_reference_and_config_show_know_every_peer_discovery_key() {
        let docs = crate::config::reference();
        let doc = |key: &str| {
            let d = docs.iter().find(|d| d.key == key).unwrap_or_else(|| panic!("{key} missing"));
            (d.section, d.ty, d.default.as_str(), d.spring.is_some())
        };
        let cluster = "Cluster and replication";
        assert_eq!(doc("eureka.server.peer-dns-name"), (cluster, "DNS name", "unset", false));
        assert_eq!(doc("eureka.server.peer-dns-srv"), (cluster, "boolean", "false", false));
        assert_eq!(doc("eureka.server.peer-dns-server").1, "HOST:PORT");
        assert_eq!(
            doc("eureka.server.peer-eureka-nodes-update-interval-ms"),
            (cluster, "milliseconds", "30000", true)
        );
        assert!(doc("eureka.client.use-dns-for-fetching-service-urls").3);
        assert_eq!(doc("eureka.client.eureka-server-u-r-l-context").1, "URL path");

        let loaded = ServerConfig::load(ConfigSources {
            file: None,
            env: vec![("EUREKA_SERVER_PEER_DNS_PORT".into(), "9000".into())],
            overrides: vec![
                ("eureka.server.peer-dns-name".into(), "E.ns.svc".into()),
                ("eureka.client.eurekaServerURLContext".into(), "/eureka/v2/".into()),
            ],
        })
        .unwrap();
        let values = crate::config::effective(&loaded);
        let value = |key: &str| {
            let v = values.iter().find(|v| v.key == key).unwrap_or_else(|| panic!("{key}"));
            (v.value.clone(), v.source.clone())
        };
        assert_eq!(
            value("eureka.server.peer-dns-name"),
            ("e.ns.svc".into(), "command line".into())
        );
        assert_eq!(value("eureka.server.peer-dns-port"), ("9000".into(), "environment".into()));
        assert_eq!(
            value("eureka.client.eureka-server-u-r-l-context"),
            ("eureka/v2".into(), "command line".into())
        );
        assert_eq!(
            value("eureka.server.peer-eureka-nodes-update-interval-ms"),
            ("30000".into(), "default".into())
        );
    }

    #[test]
    fn dns_names_are_checked_and_lower_cased() {
        assert_eq!(
            parse_dns_name("Eureka-Headless.NS.svc.cluster.local.").unwrap(),
            "eureka-headless.ns.svc.cluster.local"
        );
        assert_eq!(parse_dns_name("_http._tcp.e.ns").unwrap(), "_http._tcp.e.ns");
        assert!(parse_dns_name("bad name").is_err());
        assert!(parse_dns_name("a..b").is_err());
        assert!(parse_dns_name("").is_err());
    }

    #[test]
    fn name_servers_need_a_port() {
        assert!(parse_host_port("10.0.0.10:53").is_ok());
        assert!(parse_host_port("[fd00::a]:5353").is_ok());
        assert!(parse_host_port("dns.local:53").is_ok());
        assert!(parse_host_port("10.0.0.10").is_err());
        assert!(parse_host_port("10.0.0.10:0").is_err());
        assert!(parse_host_port(":53").is_err());
    }

    #[test]
    fn java_context_defaults_to_eureka() {
        let mut d = PeerDiscovery::default();
        assert_eq!(d.java_context(), "eureka");
        d.java_context = Some(parse_context("/eureka/v2/").unwrap());
        assert_eq!(d.java_context(), "eureka/v2");
    }
}
