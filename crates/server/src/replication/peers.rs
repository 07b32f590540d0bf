//! Which cluster URLs are peers, and which one is this server; a peer's identity.

use std::net::{IpAddr, UdpSocket};

use eureka_client::Url;

/// What identifies this server among the cluster URLs.
///
/// A URL is ours when it equals `eureka.server.my-url`, or when its host is one of our names or
/// addresses **and** its port is ours. Java compares the host only, so two Java servers on one
/// host cannot peer; comparing the port too lets a whole cluster run on one machine.
///
/// Our addresses are the configured ones, and, when we listen on every interface, every
/// address of this machine (a pod's IP among the records of a headless Service), checked when
/// asked by binding a socket to it.
#[derive(Debug, Clone)]
pub struct SelfIdentity {
    my_url: Option<String>,
    hosts: Vec<String>,
    port: u16,
    listen: IpAddr,
}

impl SelfIdentity {
    /// Our identity from the configured `my_url`, our names and addresses, and the listening
    /// port and address. Loopback and wildcard names are always included.
    pub fn new(
        my_url: Option<&str>,
        names: impl IntoIterator<Item = String>,
        port: u16,
        listen: IpAddr,
    ) -> Self {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "0.0.0.0", "::"]
            .iter()
            .map(|h| h.to_string())
            .chain(names.into_iter().map(|h| normalise_host(&h)))
            .filter(|h| !h.is_empty())
            .collect();
        hosts.sort();
        hosts.dedup();
        SelfIdentity { my_url: my_url.map(with_slash), hosts, port, listen }
    }

    /// Our listening port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether `ip` reaches this server: a configured address, the listening address, or (when
    /// listening on every interface) any address of this machine.
    pub fn is_own_ip(&self, ip: IpAddr) -> bool {
        ip == self.listen
            || self.hosts.contains(&ip.to_string())
            || (self.listen.is_unspecified() && is_local_address(ip))
    }

    /// Whether `url`, whose host resolves to `addresses`, points at this server: [`Self::is_self`],
    /// or our port at one of our addresses.
    pub fn is_self_at(&self, url: &str, addresses: &[IpAddr]) -> bool {
        if self.is_self(url) {
            return true;
        }
        let port = Url::parse(url).ok().and_then(|u| u.port_or_known_default());
        port == Some(self.port) && addresses.iter().any(|ip| self.is_own_ip(*ip))
    }

    /// Whether `url` points at this server.
    pub fn is_self(&self, url: &str) -> bool {
        if self.my_url.as_deref() == Some(with_slash(url).as_str()) {
            return true;
        }
        let Ok(parsed) = Url::parse(url) else { return false };
        let Some(host) = parsed.host_str() else { return false };
        let port = parsed.port_or_known_default().unwrap_or(0);
        if port != self.port {
            return false;
        }
        let host = normalise_host(host);
        self.hosts.contains(&host) || host.parse::<IpAddr>().is_ok_and(|ip| self.is_own_ip(ip))
    }
}

/// Whether `ip` is an address of this machine: only those can be bound.
fn is_local_address(ip: IpAddr) -> bool {
    UdpSocket::bind((ip, 0)).is_ok()
}

/// A peer's identity: its service URL as the transport shows it (lower-case scheme and host,
/// no credentials, no default port, ending in '/'), so one server named two ways by the same
/// URL text is one peer, and the identity stays the same across membership changes. `None`
/// for a URL that is not http(s) with a host.
pub fn peer_key(url: &str) -> Option<String> {
    let mut parsed = Url::parse(url.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return None;
    }
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Some(parsed.to_string())
}

/// Lower-cases a host and strips IPv6 brackets, so `[::1]` and `::1` compare equal.
fn normalise_host(host: &str) -> String {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host,
    }
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

/// This node's name in the cluster: `eureka.server.my-url`, else its own entry in the
/// configured cluster URLs (as written there, with a trailing '/'), else a URL made of its
/// host name and port. Peers learn it from our batch answers, so only its stability matters.
pub fn cluster_name(config: &crate::config::ServerConfig, me: &SelfIdentity, host: &str) -> String {
    if let Some(url) = &config.my_url {
        return with_slash(url);
    }
    config
        .peer_urls()
        .iter()
        .map(|u| with_slash(u.trim()))
        .find(|u| me.is_self(u))
        .unwrap_or_else(|| format!("http://{host}:{}/eureka/", config.port))
}

/// The peers among the configured URLs: ours removed, duplicates (by [`peer_key`]) removed,
/// order kept. The URLs keep their credentials.
pub fn peer_urls(configured: &[String], me: &SelfIdentity) -> Vec<String> {
    let mut peers: Vec<String> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for url in configured {
        let url = with_slash(url.trim());
        let key = peer_key(&url).unwrap_or_else(|| url.clone());
        if !me.is_self(&url) && !keys.contains(&key) {
            keys.push(key);
            peers.push(url);
        }
    }
    peers
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

    fn me() -> SelfIdentity {
        SelfIdentity::new(None, ["Node-A.example".to_string(), "10.0.0.5".to_string()], 8761, ANY)
    }

    #[test]
    fn same_host_other_port_is_a_peer() {
        let urls = [
            "http://127.0.0.1:8761/eureka/".to_string(),
            "http://127.0.0.1:8762/eureka/".to_string(),
            "http://localhost:8763/eureka".to_string(),
        ];
        assert_eq!(
            peer_urls(&urls, &me()),
            vec!["http://127.0.0.1:8762/eureka/", "http://localhost:8763/eureka/"]
        );
    }

    #[test]
    fn own_names_and_addresses_are_self_on_our_port() {
        let me = me();
        assert!(me.is_self("http://node-a.example:8761/eureka/"));
        assert!(me.is_self("http://10.0.0.5:8761/eureka/"));
        assert!(me.is_self("http://[::1]:8761/eureka/"));
        assert!(!me.is_self("http://node-b.example:8761/eureka/"));
        assert!(!me.is_self("http://node-a.example/eureka/"), "port 80 is not ours");
    }

    #[test]
    fn my_url_matches_exactly_modulo_trailing_slash() {
        let me = SelfIdentity::new(Some("http://peer1:9000/eureka"), Vec::new(), 8761, ANY);
        assert!(me.is_self("http://peer1:9000/eureka/"));
        assert!(!me.is_self("http://peer2:9000/eureka/"));
    }

    #[test]
    fn local_addresses_are_self_when_listening_everywhere() {
        let everywhere = SelfIdentity::new(None, Vec::new(), 8761, ANY);
        // Every 127/8 address is this machine's.
        assert!(everywhere.is_self("http://127.0.0.9:8761/eureka/"));
        assert!(everywhere
            .is_self_at("http://eureka-0.svc:8761/eureka/", &["127.0.0.7".parse().unwrap()]));
        assert!(!everywhere
            .is_self_at("http://eureka-1.svc:8761/eureka/", &["192.0.2.1".parse().unwrap()]));
        assert!(!everywhere
            .is_self_at("http://eureka-0.svc:8762/eureka/", &["127.0.0.7".parse().unwrap()]));

        // Listening on one address: another loopback address is another server.
        let one = SelfIdentity::new(None, Vec::new(), 8761, "127.0.0.11".parse().unwrap());
        assert!(one.is_self("http://127.0.0.11:8761/eureka/"));
        assert!(!one.is_self("http://127.0.0.12:8761/eureka/"));
        assert!(!one.is_self_at("http://peer:8761/eureka/", &["127.0.0.12".parse().unwrap()]));
    }

    #[test]
    fn peer_key_is_the_transports_url() {
        let timeouts = eureka_client::transport::Timeouts {
            connect: std::time::Duration::from_secs(1),
            request: std::time::Duration::from_secs(1),
        };
        for url in [
            "http://Eureka-1:8761/eureka",
            "HTTP://user:pw@eureka-1:8761/eureka/",
            "https://[FD00::1]:443/eureka/v2/",
            "http://10.0.0.1:80/eureka/",
        ] {
            let http = eureka_client::EurekaHttp::new(url, timeouts).unwrap();
            assert_eq!(peer_key(url).as_deref(), Some(http.url()), "{url}");
        }
        assert_eq!(peer_key("ftp://x/"), None);
    }

    #[test]
    fn duplicates_collapse() {
        let urls = ["http://p:1/eureka/".to_string(), "http://p:1/eureka".to_string()];
        assert_eq!(peer_urls(&urls, &me()), vec!["http://p:1/eureka/"]);
    }
}
