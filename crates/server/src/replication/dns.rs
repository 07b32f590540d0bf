//! DNS lookups for peer discovery: addresses, SRV targets and TXT strings, from the system
//! resolver or the name server of `eureka.server.peer-dns-server`.
//!
//! Nothing is cached: the peer set is re-read on purpose, and a cached answer would hide a
//! scale-up or scale-down for as long as its TTL.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;

/// How long one query may take (each of the resolver's two attempts).
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a lookup gave no usable answer. A name without records is not an error: it answers
/// with nothing.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// The resolver could not be set up (unreadable resolv.conf, unresolvable server name).
    #[error("cannot set up the DNS resolver: {0}")]
    Setup(String),
    /// The query failed: timeout, refused, SERVFAIL, a malformed name.
    #[error("DNS lookup of {name} failed: {reason}")]
    Lookup {
        /// What was looked up.
        name: String,
        /// Why it failed.
        reason: String,
    },
}

/// One SRV record: a target host, its port, and its addresses when the answer carried them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvTarget {
    /// The target's name, without the trailing dot.
    pub host: String,
    /// The port it serves on.
    pub port: u16,
    /// Its addresses from the answer's additional section (may be empty).
    pub addresses: Vec<IpAddr>,
}

/// The resolver peer discovery uses.
#[derive(Debug, Clone)]
pub struct PeerResolver {
    resolver: TokioResolver,
}

impl PeerResolver {
    /// The system resolver (resolv.conf, its search domains and ndots), or only `server`
    /// (`HOST:PORT`; a host name is resolved once, by the system) when given.
    pub async fn new(server: Option<&str>) -> Result<Self, DnsError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = match server {
            None => TokioResolver::builder(provider).map_err(|e| DnsError::Setup(e.to_string()))?,
            Some(server) => {
                let addr = resolve_server(server).await?;
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let ns = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    provider,
                )
            }
        };
        let options = builder.options_mut();
        options.cache_size = 0;
        options.positive_max_ttl = Some(Duration::ZERO);
        options.negative_max_ttl = Some(Duration::ZERO);
        options.timeout = QUERY_TIMEOUT;
        options.try_tcp_on_error = true;
        let resolver = builder.build().map_err(|e| DnsError::Setup(e.to_string()))?;
        Ok(PeerResolver { resolver })
    }

    /// The A and AAAA addresses of `name`, sorted; empty when it has none.
    pub async fn addresses(&self, name: &str) -> Result<Vec<IpAddr>, DnsError> {
        let mut ips = match self.resolver.lookup_ip(name).await {
            Ok(lookup) => lookup.iter().collect::<Vec<_>>(),
            Err(e) if is_no_records(&e) => Vec::new(),
            Err(e) => return Err(failed(name, &e)),
        };
        ips.sort();
        ips.dedup();
        Ok(ips)
    }

    /// The SRV records of `name`, sorted by target and port; empty when it has none.
    pub async fn srv(&self, name: &str) -> Result<Vec<SrvTarget>, DnsError> {
        let lookup = match self.resolver.srv_lookup(name).await {
            Ok(lookup) => lookup,
            Err(e) if is_no_records(&e) => return Ok(Vec::new()),
            Err(e) => return Err(failed(name, &e)),
        };
        let additional: Vec<(String, IpAddr)> = lookup
            .additionals()
            .iter()
            .filter_map(|r| {
                let ip = match &r.data {
                    RData::A(a) => IpAddr::V4(a.0),
                    RData::AAAA(a) => IpAddr::V6(a.0),
                    _ => return None,
                };
                Some((host_of(&r.name.to_ascii()), ip))
            })
            .collect();
        let mut targets: Vec<SrvTarget> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(srv) => {
                    let host = host_of(&srv.target.to_ascii());
                    let addresses =
                        additional.iter().filter(|(h, _)| *h == host).map(|(_, ip)| *ip).collect();
                    Some(SrvTarget { host, port: srv.port, addresses })
                }
                _ => None,
            })
            .filter(|t| !t.host.is_empty() && t.port != 0)
            .collect();
        targets.sort_by(|a, b| (&a.host, a.port).cmp(&(&b.host, b.port)));
        targets.dedup_by(|a, b| a.host == b.host && a.port == b.port);
        Ok(targets)
    }

    /// Every word of every TXT string of `name` (Java splits its record on spaces), sorted and
    /// without duplicates; empty when it has none.
    pub async fn txt_words(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let lookup = match self.resolver.txt_lookup(name).await {
            Ok(lookup) => lookup,
            Err(e) if is_no_records(&e) => return Ok(Vec::new()),
            Err(e) => return Err(failed(name, &e)),
        };
        let mut words: Vec<String> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(txt) => Some(txt),
                _ => None,
            })
            .flat_map(|txt| txt.txt_data.iter())
            .flat_map(|s| {
                String::from_utf8_lossy(s)
                    .trim_matches('"')
                    .split_whitespace()
                    .map(|w| w.trim_end_matches('.').to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .filter(|w| !w.is_empty())
            .collect();
        words.sort();
        words.dedup();
        Ok(words)
    }
}

/// Peer transports resolve host names through this resolver when `peer-dns-server` is set, so
/// names only that server knows (SRV targets, the TXT scheme's hosts) can be called.
impl reqwest::dns::Resolve for PeerResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.resolver.clone();
        Box::pin(async move {
            let found = resolver.lookup_ip(name.as_str()).await?;
            let addrs: Vec<SocketAddr> = found.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A name as a URL host: lower case, no trailing dot.
fn host_of(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn is_no_records(e: &NetError) -> bool {
    e.is_no_records_found() || e.is_nx_domain()
}

fn failed(name: &str, e: &NetError) -> DnsError {
    DnsError::Lookup { name: name.to_string(), reason: e.to_string() }
}

async fn resolve_server(server: &str) -> Result<SocketAddr, DnsError> {
    let unbracketed = server.replace(['[', ']'], "");
    if let Ok(addr) = server.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some((host, port)) = unbracketed.rsplit_once(':') {
        if let (Ok(ip), Ok(port)) = (host.parse::<IpAddr>(), port.parse::<u16>()) {
            return Ok(SocketAddr::new(ip, port));
        }
    }
    tokio::net::lookup_host(server)
        .await
        .map_err(|e| DnsError::Setup(format!("name server {server}: {e}")))?
        .next()
        .ok_or_else(|| DnsError::Setup(format!("name server {server} has no address")))
}
