//! Which configured cluster URLs are peers, and which one is this server.

use std::net::IpAddr;

use eureka_client::Url;

/// What identifies this server among the cluster URLs.
///
/// A URL is ours when it equals `eureka.server.my-url`, or when its host is one of our names or
/// addresses **and** its port is ours. Java compares the host only, so two Java servers on one
/// host cannot peer; comparing the port too lets a whole cluster run on one machine.
#[derive(Debug, Clone)]
pub struct SelfIdentity {
    my_url: Option<String>,
    hosts: Vec<String>,
    port: u16,
}

impl SelfIdentity {
    /// Our identity from the configured `my_url`, our names and addresses, and the listening
    /// port. Loopback and wildcard names are always included.
    pub fn new(my_url: Option<&str>, names: impl IntoIterator<Item = String>, port: u16) -> Self {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "0.0.0.0", "::"]
            .iter()
            .map(|h| h.to_string())
            .chain(names.into_iter().map(|h| normalise_host(&h)))
            .filter(|h| !h.is_empty())
            .collect();
        hosts.sort();
        hosts.dedup();
        SelfIdentity { my_url: my_url.map(with_slash), hosts, port }
    }

    /// Whether `url` points at this server.
    pub fn is_self(&self, url: &str) -> bool {
        if self.my_url.as_deref() == Some(with_slash(url).as_str()) {
            return true;
        }
        let Ok(parsed) = Url::parse(url) else { return false };
        let Some(host) = parsed.host_str() else { return false };
        let port = parsed.port_or_known_default().unwrap_or(0);
        port == self.port && self.hosts.contains(&normalise_host(host))
    }
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

/// The peers among the configured URLs: ours removed, duplicates removed, order kept.
pub fn peer_urls(configured: &[String], me: &SelfIdentity) -> Vec<String> {
    let mut peers: Vec<String> = Vec::new();
    for url in configured {
        let url = with_slash(url.trim());
        if !me.is_self(&url) && !peers.contains(&url) {
            peers.push(url);
        }
    }
    peers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> SelfIdentity {
        SelfIdentity::new(None, ["Node-A.example".to_string(), "10.0.0.5".to_string()], 8761)
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
        let me = SelfIdentity::new(Some("http://peer1:9000/eureka"), Vec::new(), 8761);
        assert!(me.is_self("http://peer1:9000/eureka/"));
        assert!(!me.is_self("http://peer2:9000/eureka/"));
    }

    #[test]
    fn duplicates_collapse() {
        let urls = ["http://p:1/eureka/".to_string(), "http://p:1/eureka".to_string()];
        assert_eq!(peer_urls(&urls, &me()), vec!["http://p:1/eureka/"]);
    }
}
