//! Live membership: the peer set changes while the server runs.
//!
//! Peers come from the static list (`defaultZone`, `eureka.server.peer-urls`, `--peer`) and,
//! when configured, from DNS: the A/AAAA or SRV records of `eureka.server.peer-dns-name`, or
//! Java's TXT scheme (`txt.<region>.<domain>` names the zones, `txt.<zone-name>` each zone's
//! servers). One owned task, [`run`], keeps the set current:
//!
//! - at start it looks once (waiting up to [`STARTUP_DNS_WAIT`] for DNS to name anyone, so a
//!   pod whose Service records are not published yet does not start alone), starts a
//!   dispatcher per peer and the start-up copy of the registry;
//! - every `peer-eureka-nodes-update-interval-ms` (DNS only), on a SIGHUP reload of the static
//!   list ([`Membership::reload`]), and when a server we have not heard from sends us a batch
//!   (a node that just joined: we look at once rather than at the next interval), it looks
//!   again and applies the difference: a new peer gets a dispatcher and every later write; a
//!   peer that is gone has its dispatcher stopped and its queue dropped, and disappears from
//!   `status`, the metrics and the console. Each change is logged once.
//!
//! A failed lookup, or an answer with no records at all, keeps the peers DNS gave last (as
//! Java keeps its list when the lookup comes back empty); an answer that names only this node
//! empties the DNS part (the cluster was scaled to one).

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use eureka_client::Url;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{info_span, Instrument};

use super::dns::{DnsError, PeerResolver};
use super::{peers, spawn_dispatcher, sync, PeerNode, ReplicationHost};
use crate::config::{PeerDiscovery, ServerConfig};

/// How long a starting node waits for DNS to name any node (itself included) before it gives
/// up, starts with the static peers only and reports ready.
pub const STARTUP_DNS_WAIT: Duration = Duration::from_secs(30);
/// The longest pause between start-up lookups, and the shortest between two lookups that were
/// asked for (reloads, unknown senders), so a flood of new node ids costs at most one lookup
/// per second.
const MIN_LOOKUP_GAP: Duration = Duration::from_secs(1);
/// How many sender ids are remembered to tell a new node from a known one.
const SEEN_NODES_LIMIT: usize = 1024;
/// The path of a peer found by its A/AAAA or SRV records.
const PEER_PATH: &str = "eureka/";

/// Where peers come from: what the configuration says, replaced whole by a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSources {
    /// The static cluster URLs (ours may be among them).
    pub static_urls: Vec<String>,
    /// DNS discovery settings.
    pub discovery: PeerDiscovery,
    /// `http` or `https`, from `server.ssl.*`: how peers found in DNS are called.
    pub scheme: &'static str,
    /// Our port: the default port of peers found by their A/AAAA records or the TXT scheme.
    pub port: u16,
    /// `eureka.client.region`, for the TXT scheme.
    pub region: String,
    /// Our zone (`eureka.instance.metadata-map.zone`): its servers come first in the TXT scheme.
    pub zone: Option<String>,
}

impl PeerSources {
    /// The sources a configuration names.
    pub fn from_config(config: &ServerConfig) -> Self {
        PeerSources {
            static_urls: config.peer_urls(),
            discovery: config.peer_discovery.clone(),
            scheme: if config.ssl.is_enabled() { "https" } else { "http" },
            port: config.port,
            region: config.client.region.clone(),
            zone: config.instance.metadata.get("zone").cloned(),
        }
    }

    /// A one-line description of the DNS source, for `status`, the console and logs.
    pub fn dns_description(&self) -> Option<String> {
        let d = &self.discovery;
        let mut parts = Vec::new();
        if let Some(name) = &d.dns_name {
            parts.push(if d.dns_srv {
                format!("SRV {name}")
            } else {
                format!("A/AAAA {name} port {}", d.dns_port.unwrap_or(self.port))
            });
        }
        if d.java_txt {
            let domain = d.java_dns_name.as_deref().unwrap_or("");
            parts.push(format!("TXT txt.{}.{domain}", self.region.trim().to_ascii_lowercase()));
        }
        if parts.is_empty() {
            return None;
        }
        let server = d.dns_server.as_deref().map_or(String::new(), |s| format!(" via {s}"));
        Some(format!("{}{server}", parts.join(" + ")))
    }
}

/// What the last looks found, for `status` and the console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoveryStatus {
    /// When the peer set was last looked up (epoch ms).
    pub last_lookup_ms: Option<u64>,
    /// The last failed lookup: when and why; cleared by a successful one.
    pub last_error: Option<(u64, String)>,
    /// Peers added since start.
    pub added: u64,
    /// Peers removed since start.
    pub removed: u64,
}

/// The membership's shared side: the sources, the requests to look again, what was found.
#[derive(Debug)]
pub struct Membership {
    sources: Mutex<PeerSources>,
    look_again: Notify,
    status: Mutex<DiscoveryStatus>,
    seen_nodes: Mutex<HashSet<String>>,
}

impl Membership {
    /// A membership reading `sources`.
    pub fn new(sources: PeerSources) -> Self {
        Membership {
            sources: Mutex::new(sources),
            look_again: Notify::new(),
            status: Mutex::new(DiscoveryStatus::default()),
            seen_nodes: Mutex::new(HashSet::new()),
        }
    }

    /// The sources now.
    pub fn sources(&self) -> PeerSources {
        self.sources.lock().clone()
    }

    /// What the last looks found.
    pub fn status(&self) -> DiscoveryStatus {
        self.status.lock().clone()
    }

    /// Replaces the sources (a SIGHUP reload) and has the membership task apply them at once.
    /// Returns whether anything changed.
    pub fn reload(&self, sources: PeerSources) -> bool {
        let changed = {
            let mut current = self.sources.lock();
            let changed = *current != sources;
            *current = sources;
            changed
        };
        if changed {
            self.look_again.notify_one();
        }
        changed
    }

    /// Notes the node id of a server that sent us a batch. A server not seen before may be a
    /// node that just joined: with DNS discovery, look again now rather than at the next
    /// interval, so it gets our writes from the start.
    pub fn heard_from(&self, node_id: &str) {
        let new = {
            let mut seen = self.seen_nodes.lock();
            if seen.contains(node_id) {
                false
            } else {
                if seen.len() >= SEEN_NODES_LIMIT {
                    seen.clear();
                }
                seen.insert(node_id.to_string());
                true
            }
        };
        if new && self.sources.lock().discovery.uses_dns() {
            self.look_again.notify_one();
        }
    }
}

/// A URL found for the peer set, with the addresses its host is known to have.
#[derive(Debug, Clone)]
struct Candidate {
    url: String,
    addresses: Vec<IpAddr>,
    source: &'static str,
}

/// The resolver, rebuilt when `peer-dns-server` changes.
struct Resolvers {
    server: Option<Option<String>>,
    resolver: Option<PeerResolver>,
}

impl Resolvers {
    async fn get(&mut self, server: Option<&str>) -> Result<&PeerResolver, DnsError> {
        let wanted = server.map(str::to_string);
        if self.server.as_ref() != Some(&wanted) || self.resolver.is_none() {
            self.resolver = None;
            self.server = Some(wanted);
            self.resolver = Some(PeerResolver::new(server).await?);
        }
        Ok(self.resolver.as_ref().expect("set above"))
    }
}

/// The membership task: see the module documentation. Owns every dispatcher and the start-up
/// sync; on `shutdown` waits for them (they flush their queues).
pub async fn run<H: ReplicationHost>(host: Arc<H>, shutdown: CancellationToken) {
    let replicator = host.replicator();
    let mut tasks = JoinSet::new();
    let mut resolvers = Resolvers { server: None, resolver: None };
    let mut dns_peers: Vec<Candidate> = Vec::new();

    for peer in replicator.peers().iter() {
        spawn_dispatcher(&host, peer, &shutdown, &mut tasks);
    }
    if replicator.membership.sources().discovery.uses_dns() {
        let deadline = Instant::now() + STARTUP_DNS_WAIT;
        loop {
            // A lookup may take seconds when DNS is down: a stop does not wait for it.
            let named = tokio::select! {
                _ = shutdown.cancelled() => break,
                named = look(&host, &mut resolvers, &mut dns_peers, &shutdown, &mut tasks) => named,
            };
            if named || Instant::now() >= deadline {
                if !named {
                    tracing::warn!(waited = ?STARTUP_DNS_WAIT,
                        "DNS named no node; starting with the static peers only");
                }
                break;
            }
            let pause = replicator.membership.sources().discovery.refresh_interval();
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(pause.min(MIN_LOOKUP_GAP)) => {}
            }
        }
    }
    if !replicator.is_synced() && !shutdown.is_cancelled() {
        tasks.spawn(
            sync::sync_from_peers(host.clone(), shutdown.clone())
                .instrument(info_span!("startup_sync")),
        );
    }

    let mut interval = replicator.membership.sources().discovery.refresh_interval();
    let mut tick = ticker(interval);
    let mut last_look = Instant::now();
    let mut asked = false;
    loop {
        let uses_dns = replicator.membership.sources().discovery.uses_dns();
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick(), if uses_dns => {}
            _ = replicator.membership.look_again.notified(), if !asked => {
                asked = true;
                continue;
            }
            _ = tokio::time::sleep_until(last_look + MIN_LOOKUP_GAP.min(interval)), if asked => {
                asked = false;
            }
            Some(ended) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = ended {
                    if e.is_panic() {
                        tracing::error!(error = %e, "a replication task panicked");
                    }
                }
                continue;
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = look(&host, &mut resolvers, &mut dns_peers, &shutdown, &mut tasks) => {}
        }
        last_look = Instant::now();
        let now_interval = replicator.membership.sources().discovery.refresh_interval();
        if now_interval != interval {
            interval = now_interval;
            tick = ticker(interval);
        }
    }
    while tasks.join_next().await.is_some() {}
    tracing::debug!("membership task stopped");
}

fn ticker(period: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval_at(Instant::now() + period, period);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

/// Looks the peer set up once and applies it. Returns whether DNS (if used) named any node,
/// this one included.
async fn look<H: ReplicationHost>(
    host: &Arc<H>,
    resolvers: &mut Resolvers,
    dns_peers: &mut Vec<Candidate>,
    shutdown: &CancellationToken,
    tasks: &mut JoinSet<()>,
) -> bool {
    let replicator = host.replicator();
    let sources = replicator.membership.sources();
    let now = host.now_ms();
    let mut named = false;
    if sources.discovery.uses_dns() {
        let server = sources.discovery.dns_server.as_deref();
        let found = match resolvers.get(server).await {
            Ok(resolver) => {
                replicator.resolve_peers_with(server.map(|_| resolver));
                discover(resolver, &sources).await
            }
            Err(e) => Err(e),
        };
        let mut status = replicator.membership.status.lock();
        status.last_lookup_ms = Some(now);
        match found {
            Ok(found) if found.is_empty() => {
                if status.last_error.is_none() {
                    tracing::warn!(
                        source = sources.dns_description().unwrap_or_default(),
                        kept = dns_peers.len(),
                        "DNS has no records for the peers; keeping the last ones"
                    );
                }
                status.last_error = Some((now, "no records".to_string()));
            }
            Ok(found) => {
                if status.last_error.take().is_some() {
                    tracing::info!("peer DNS records found again");
                }
                *dns_peers = found;
                named = true;
            }
            Err(error) => {
                if status.last_error.is_none() {
                    tracing::warn!(%error, kept = dns_peers.len(),
                        "peer lookup failed; keeping the last peers DNS gave");
                }
                status.last_error = Some((now, error.to_string()));
            }
        }
    } else {
        dns_peers.clear();
    }

    let me = replicator.identity();
    let mut desired: Vec<(String, &'static str)> = Vec::new();
    let statics = sources.static_urls.iter().map(|u| Candidate {
        url: u.clone(),
        addresses: Vec::new(),
        source: "static",
    });
    for candidate in statics.chain(dns_peers.iter().cloned()) {
        if is_self(me, &candidate, resolvers, &sources).await {
            continue;
        }
        desired.push((candidate.url, candidate.source));
    }
    if shutdown.is_cancelled() {
        return named;
    }
    let urls: Vec<String> = desired.iter().map(|(u, _)| u.clone()).collect();
    let (added, removed) = replicator.apply(&urls);
    log_changes(&added, &removed, &desired);
    {
        let mut status = replicator.membership.status.lock();
        status.added += added.len() as u64;
        status.removed += removed.len() as u64;
    }
    for peer in &added {
        spawn_dispatcher(host, peer, shutdown, tasks);
    }
    named
}

/// Whether a candidate is this server: by URL (names, `my-url`), else by the addresses its
/// host has (given by the answer, or looked up when DNS discovery is on).
async fn is_self(
    me: &peers::SelfIdentity,
    candidate: &Candidate,
    resolvers: &mut Resolvers,
    sources: &PeerSources,
) -> bool {
    if me.is_self(&candidate.url) {
        return true;
    }
    let Some(host) = Url::parse(&candidate.url).ok().and_then(|u| u.host_str().map(str::to_string))
    else {
        return false;
    };
    if host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
        return false;
    }
    let port = Url::parse(&candidate.url).ok().and_then(|u| u.port_or_known_default());
    if port != Some(me.port()) {
        return false;
    }
    let mut addresses = candidate.addresses.clone();
    // Names are looked up only where DNS is in use already: a static-only node keeps its
    // start-up free of DNS traffic, as before.
    if addresses.is_empty() && sources.discovery.uses_dns() {
        if let Ok(resolver) = resolvers.get(sources.discovery.dns_server.as_deref()).await {
            addresses = resolver.addresses(&host).await.unwrap_or_default();
        }
    }
    me.is_self_at(&candidate.url, &addresses)
}

fn log_changes(added: &[Arc<PeerNode>], removed: &[Arc<PeerNode>], desired: &[(String, &str)]) {
    for peer in added {
        let source = desired
            .iter()
            .find(|(u, _)| peers::peer_key(u).as_deref() == Some(peer.url()))
            .map_or("", |(_, s)| *s);
        tracing::info!(peer = %peer.url(), source, "peer joined; replicating to it");
    }
    for peer in removed {
        tracing::info!(peer = %peer.url(), "peer left; its replication queue is dropped");
    }
}

/// Every peer URL DNS names now (this node's included), in the order start-up sync tries them.
async fn discover(
    resolver: &PeerResolver,
    sources: &PeerSources,
) -> Result<Vec<Candidate>, DnsError> {
    let d = &sources.discovery;
    let mut found = Vec::new();
    if let Some(name) = &d.dns_name {
        if d.dns_srv {
            for target in resolver.srv(name).await? {
                found.push(Candidate {
                    url: service_url(sources.scheme, &target.host, target.port, PEER_PATH),
                    addresses: target.addresses,
                    source: "dns-srv",
                });
            }
        } else {
            let port = d.dns_port.unwrap_or(sources.port);
            for ip in resolver.addresses(name).await? {
                found.push(Candidate {
                    url: service_url(sources.scheme, &ip.to_string(), port, PEER_PATH),
                    addresses: vec![ip],
                    source: "dns-a",
                });
            }
        }
    }
    if d.java_txt {
        found.extend(java_txt(resolver, sources).await?);
    }
    Ok(found)
}

/// Java's scheme (`EndpointUtils.getServiceUrlsFromDNS`): `txt.<region>.<domain>` lists zone
/// names (`<zone>.<anything>`, the zone is the first label); `txt.<zone-name>` lists that
/// zone's servers. Our zone's servers come first; each is `scheme://host:port/context/`.
async fn java_txt(
    resolver: &PeerResolver,
    sources: &PeerSources,
) -> Result<Vec<Candidate>, DnsError> {
    let d = &sources.discovery;
    let domain = d.java_dns_name.as_deref().unwrap_or_default();
    let region = sources.region.trim().to_ascii_lowercase();
    let mut zones: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for zone_name in resolver.txt_words(&format!("txt.{region}.{domain}")).await? {
        let zone = zone_name.split('.').next().unwrap_or_default().to_string();
        zones.entry(zone).or_default().push(zone_name);
    }
    let mut ordered: Vec<(String, Vec<String>)> = zones.into_iter().collect();
    if let Some(mine) = &sources.zone {
        if let Some(i) = ordered.iter().position(|(z, _)| z.eq_ignore_ascii_case(mine)) {
            ordered.rotate_left(i);
        }
    }
    let port = d.java_port.unwrap_or(sources.port);
    let context = d.java_context();
    let path = if context.is_empty() { String::new() } else { format!("{context}/") };
    let mut found = Vec::new();
    for (_, zone_names) in ordered {
        for zone_name in zone_names {
            for host in resolver.txt_words(&format!("txt.{zone_name}")).await? {
                found.push(Candidate {
                    url: service_url(sources.scheme, &host, port, &path),
                    addresses: Vec::new(),
                    source: "dns-txt",
                });
            }
        }
    }
    Ok(found)
}

/// `scheme://host:port/path`, with IPv6 addresses in brackets.
fn service_url(scheme: &str, host: &str, port: u16, path: &str) -> String {
    let host = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
        _ => host.to_string(),
    };
    format!("{scheme}://{host}:{port}/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_urls_bracket_ipv6() {
        assert_eq!(
            service_url("http", "10.0.0.1", 8761, PEER_PATH),
            "http://10.0.0.1:8761/eureka/"
        );
        assert_eq!(
            service_url("https", "fd00::1", 8443, PEER_PATH),
            "https://[fd00::1]:8443/eureka/"
        );
        assert_eq!(service_url("http", "e-0.svc", 80, ""), "http://e-0.svc:80/");
    }

    #[test]
    fn dns_description_names_the_source() {
        let mut config = ServerConfig::default();
        assert_eq!(PeerSources::from_config(&config).dns_description(), None);
        config.peer_discovery.dns_name = Some("_http._tcp.e.ns".into());
        config.peer_discovery.dns_srv = true;
        config.peer_discovery.dns_server = Some("127.0.0.1:5353".into());
        assert_eq!(
            PeerSources::from_config(&config).dns_description().as_deref(),
            Some("SRV _http._tcp.e.ns via 127.0.0.1:5353")
        );
    }

    #[test]
    fn a_new_sender_asks_for_a_look_only_with_dns() {
        let mut config = ServerConfig::default();
        let m = Membership::new(PeerSources::from_config(&config));
        m.heard_from("a");
        assert!(m.seen_nodes.lock().contains("a"));
        config.peer_discovery.dns_name = Some("e.ns".into());
        assert!(m.reload(PeerSources::from_config(&config)));
        assert!(!m.reload(PeerSources::from_config(&config)), "the same sources change nothing");
    }
}
