//! Peer replication: a cluster of servers that share every write, with each other and with
//! Java Eureka servers.
//!
//! - [`peers`]: which URLs are peers and which is us (host **and** port), a peer's identity.
//! - [`membership`]: the peer set at run time: static list, DNS records, SIGHUP reloads.
//! - [`dns`]: the DNS lookups peer discovery makes.
//! - [`task`]: replication tasks and the coalescing, bounded per-peer queue.
//! - [`node`]: one peer's queue, health and sending loop (batches, retries, 404/409 handling).
//! - [`receive`]: applying a batch a peer sent us.
//! - [`sync`]: copying the registry from a peer at start-up.
//!
//! A client's write is applied to the registry first, then [`Replicator::replicate`] queues it
//! for every peer without waiting; each peer's dispatcher sends batches in Java's wire shape.
//! Writes that came from a peer are never replicated again, and evictions are not replicated:
//! every node evicts on its own, as in Java.

pub mod dns;
pub mod membership;
pub mod node;
pub mod peers;
pub mod receive;
pub mod sync;
pub mod task;

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use eureka_client::transport::{redact, Timeouts};
use eureka_client::{EurekaHttp, TlsOptions};
use eureka_model::replication::ReplicationAction;
use eureka_registry::{Origin, Registry};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info_span, Instrument};

use crate::config::ServerConfig;
pub use membership::{Membership, PeerSources};
pub use node::{DispatchSettings, PeerFeatures, PeerHealth, PeerNode, PeerView};
pub use peers::SelfIdentity;
pub use task::ReplicationTask;

/// What replication needs from the server it runs in: the registry it copies writes into,
/// the time, its own peer set and settings, and somewhere to count what peers sent. The
/// server's state implements it, so this module never names that state (dependencies run
/// one way: state → replication).
pub trait ReplicationHost: Send + Sync + 'static {
    /// The registry replicated writes are applied to.
    fn registry(&self) -> &Registry;
    /// Now, epoch ms.
    fn now_ms(&self) -> u64;
    /// This server's peers.
    fn replicator(&self) -> &Replicator;
    /// The configuration the server started with.
    fn config(&self) -> &ServerConfig;
    /// Counts one replicated item a peer sent us, by the status it was answered with.
    fn count_received(&self, action: ReplicationAction, status: u16);
    /// Whether this server checks instances itself: then a peer that becomes reachable again
    /// is sent every health mark it may have missed.
    fn health_checks_enabled(&self) -> bool;
}

/// Queues every health-check mark the registry holds for `node` (a peer reachable again may
/// have missed marks and lifts while it was away; lifts need nothing: an unmarked instance
/// is what it reports).
pub fn resend_health_marks(registry: &Registry, node: &PeerNode) {
    for ih in registry.health_view() {
        let Some(down) = ih.down else { continue };
        let served_down = ih.instance.status == eureka_model::InstanceStatus::Down;
        let verdict =
            task::HealthVerdict::Down { reason: down.reason, since: down.since, by: down.by };
        node.enqueue(Arc::new(ReplicationTask::health(
            ReplicationAction::StatusUpdate,
            ih.instance,
            verdict,
            served_down,
        )));
    }
}

/// The peers of this server (a set that changes at run time) and the start-up sync state.
#[derive(Debug)]
pub struct Replicator {
    node_id: String,
    /// The current peers, in membership order. Writes read it without locking; only the
    /// membership task replaces it.
    peers: ArcSwap<Vec<Arc<PeerNode>>>,
    maker: PeerMaker,
    me: SelfIdentity,
    /// Where the peer set comes from, and what the last look there found.
    pub membership: Membership,
    /// This node's name in the cluster (see [`Replicator::cluster_name`]).
    cluster_name: Arc<str>,
    synced: AtomicBool,
    synced_count: AtomicU64,
}

/// What every peer's transport and dispatcher is built with.
#[derive(Debug)]
struct PeerMaker {
    settings: DispatchSettings,
    timeouts: Timeouts,
    tls: TlsOptions,
    credentials: Option<(String, String)>,
    node_id: String,
    /// Resolves peers' host names when `peer-dns-server` is set (else the system does).
    resolver: parking_lot::Mutex<Option<Arc<dns::PeerResolver>>>,
}

impl PeerMaker {
    /// A peer reached at `url`; `None` (logged) when the transport cannot use it.
    fn make(&self, url: &str) -> Option<Arc<PeerNode>> {
        let resolver = self.resolver.lock().clone();
        match EurekaHttp::with_tls_resolver(url, self.timeouts, &self.tls, resolver) {
            Ok(http) => {
                let http = match &self.credentials {
                    Some((user, password)) => http.with_default_credentials(user, password),
                    None => http,
                };
                let http = http.with_node_id(self.node_id.clone());
                Some(Arc::new(PeerNode::new(http, self.settings)))
            }
            Err(e) => {
                tracing::error!(peer = %redact(url), error = %e, "ignoring unusable peer URL");
                None
            }
        }
    }
}

impl Replicator {
    /// Builds the starting peer set from the configuration: every static cluster URL except
    /// our own, called with `tls` (extra CAs, a client certificate). Peers found in DNS join
    /// when the membership task first looks ([`Replicator::spawn`]).
    pub fn from_config(config: &ServerConfig, own_names: Vec<String>, tls: &TlsOptions) -> Self {
        let own_host = own_names.first().cloned().unwrap_or_else(|| "localhost".to_string());
        let me =
            SelfIdentity::new(config.my_url.as_deref(), own_names, config.port, config.address);
        let checks = &config.health_checks;
        let probe_interval = if checks.enabled {
            (checks.interval / 2).clamp(std::time::Duration::from_millis(50), node::PROBE_INTERVAL)
        } else {
            node::PROBE_INTERVAL
        };
        let node_id = node_id();
        let maker = PeerMaker {
            settings: DispatchSettings {
                batch_size: config.peer_replication_batch_size,
                change_delay: config.peer_replication_batch_delay,
                heartbeat_delay: config.peer_heartbeat_batch_delay,
                capacity: config.max_elements_in_peer_replication_pool,
                max_age: config.max_time_for_replication,
                compress: config.enable_replicated_request_compression,
                probe_interval,
            },
            timeouts: Timeouts {
                connect: config.peer_node_connect_timeout,
                request: config.peer_node_read_timeout,
            },
            tls: tls.clone(),
            credentials: config.peer_username.as_ref().map(|user| {
                (user.clone(), config.peer_password.as_ref().map_or("", |p| p.expose()).to_string())
            }),
            node_id: node_id.clone(),
            resolver: parking_lot::Mutex::new(None),
        };
        let sources = PeerSources::from_config(config);
        let peers: Vec<Arc<PeerNode>> = peers::peer_urls(&sources.static_urls, &me)
            .iter()
            .filter_map(|url| maker.make(url))
            .collect();
        for peer in &peers {
            tracing::info!(peer = %peer.url(), "replicating to peer");
        }
        let cluster_name = Arc::from(peers::cluster_name(config, &me, &own_host));
        // With peers, or peers still to be found in DNS, readiness waits for the start-up copy.
        let synced = peers.is_empty() && !sources.discovery.uses_dns();
        Replicator {
            node_id,
            peers: ArcSwap::from_pointee(peers),
            maker,
            me,
            cluster_name,
            membership: Membership::new(sources),
            synced: AtomicBool::new(synced),
            synced_count: AtomicU64::new(0),
        }
    }

    /// This process's random identity, sent with every batch so that a peer URL that turns
    /// out to be this very server (a name self-detection could not know) is noticed.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The peers now, in membership order: a snapshot, cheap to take at any time (one atomic
    /// load). A peer's identity is its [`PeerNode::url`], a normalised service URL; whether we
    /// reach it is [`PeerNode::reachable`].
    pub fn peers(&self) -> Arc<Vec<Arc<PeerNode>>> {
        self.peers.load_full()
    }

    /// What identifies this server among peer URLs.
    pub fn identity(&self) -> &SelfIdentity {
        &self.me
    }

    /// The name this node goes by in the cluster, the same string on every node: its own
    /// entry in the cluster URL list (`eureka.server.my-url` first). Sent to peers with every
    /// batch answer; health checks are shared out over these names.
    pub fn cluster_name(&self) -> &Arc<str> {
        &self.cluster_name
    }

    /// Whether a write from `origin` goes to peers: it came from a client and there are peers.
    /// Lets hot paths skip building a task nobody will send.
    pub fn wants(&self, origin: Origin) -> bool {
        origin == Origin::Client && !self.peers.load().is_empty()
    }

    /// Queues a write for every current peer, unless it came from a peer. Never waits.
    pub fn replicate(&self, origin: Origin, task: impl FnOnce() -> ReplicationTask) {
        if origin != Origin::Client {
            return;
        }
        let peers = self.peers.load();
        if peers.is_empty() {
            return;
        }
        let task = Arc::new(task());
        for peer in peers.iter() {
            peer.enqueue(task.clone());
        }
    }

    /// Every peer as we see it now.
    pub fn views(&self) -> Vec<PeerView> {
        self.peers.load().iter().map(|p| p.view()).collect()
    }

    /// Whether the start-up sync has finished (immediately true without peers).
    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    /// Instances copied by the start-up sync.
    pub fn synced_count(&self) -> u64 {
        self.synced_count.load(Ordering::Relaxed)
    }

    fn mark_synced(&self, count: u64) {
        self.synced_count.store(count, Ordering::Relaxed);
        self.synced.store(true, Ordering::Release);
    }

    /// Has peers made from now on resolve host names with `resolver` (`None`: the system's).
    fn resolve_peers_with(&self, resolver: Option<&dns::PeerResolver>) {
        *self.maker.resolver.lock() = resolver.cloned().map(Arc::new);
    }

    /// Makes `desired` (peer URLs, ours already removed) the peer set: peers that stay keep
    /// their queue and health, new ones are returned for the caller to start, and peers that
    /// left are retired (dispatcher stopped, queue dropped) and returned too. Only the
    /// membership task calls this, so changes never race.
    fn apply(&self, desired: &[String]) -> (Vec<Arc<PeerNode>>, Vec<Arc<PeerNode>>) {
        let current = self.peers.load_full();
        let mut next: Vec<Arc<PeerNode>> = Vec::with_capacity(desired.len());
        let mut added = Vec::new();
        for url in desired {
            let Some(key) = peers::peer_key(url) else { continue };
            if next.iter().any(|p| p.url() == key) {
                continue;
            }
            match current.iter().find(|p| p.url() == key) {
                Some(kept) => next.push(kept.clone()),
                None => {
                    if let Some(node) = self.maker.make(url) {
                        added.push(node.clone());
                        next.push(node);
                    }
                }
            }
        }
        let removed: Vec<Arc<PeerNode>> =
            current.iter().filter(|p| !next.iter().any(|n| Arc::ptr_eq(n, p))).cloned().collect();
        if added.is_empty() && removed.is_empty() {
            return (added, removed);
        }
        self.peers.store(Arc::new(next));
        for peer in &removed {
            peer.retire();
        }
        (added, removed)
    }

    /// Spawns the membership task into `tasks`: it starts a dispatcher per peer, the start-up
    /// sync, and keeps the peer set up to date (DNS, SIGHUP reloads) until `shutdown`.
    pub fn spawn<H: ReplicationHost>(
        host: &Arc<H>,
        shutdown: &CancellationToken,
        tasks: &mut JoinSet<()>,
    ) {
        tasks.spawn(
            membership::run(host.clone(), shutdown.clone()).instrument(info_span!("membership")),
        );
    }
}

/// Starts `peer`'s dispatcher in `tasks`, in a span naming the peer.
fn spawn_dispatcher<H: ReplicationHost>(
    host: &Arc<H>,
    peer: &Arc<PeerNode>,
    shutdown: &CancellationToken,
    tasks: &mut JoinSet<()>,
) {
    let span = info_span!("replication", peer = %peer.url());
    tasks.spawn(node::dispatch(host.clone(), peer.clone(), shutdown.clone()).instrument(span));
}

/// A random 64-bit id in hex, different for every process start.
fn node_id() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    h.write_u128(now.map_or(0, |d| d.as_nanos()));
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replicator(peers: &str) -> Replicator {
        let config = crate::config::ServerConfig::load(crate::config::ConfigSources {
            overrides: vec![("eureka.server.peer-urls".into(), peers.into())],
            ..Default::default()
        })
        .unwrap()
        .config;
        Replicator::from_config(&config, Vec::new(), &TlsOptions::default())
    }

    fn urls(r: &Replicator) -> Vec<String> {
        r.peers().iter().map(|p| p.url().to_string()).collect()
    }

    #[tokio::test]
    async fn apply_keeps_adds_and_retires_by_identity() {
        let r = replicator("http://a:8761/eureka/,http://b:8761/eureka/");
        let before = r.peers();
        let a = before[0].clone();
        let b = before[1].clone();
        r.replicate(Origin::Client, || ReplicationTask::cancel("APP", "i-1"));
        assert_eq!(b.view().queue_depth, 1);

        // Same server written differently is the same peer; b leaves, c joins.
        let (added, removed) =
            r.apply(&["HTTP://A:8761/eureka".into(), "http://c:8761/eureka/".into()]);
        assert_eq!(urls(&r), ["http://a:8761/eureka/", "http://c:8761/eureka/"]);
        assert!(Arc::ptr_eq(&r.peers()[0], &a), "a kept its node (queue, health)");
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].url(), "http://c:8761/eureka/");
        assert_eq!(removed.len(), 1);
        assert!(Arc::ptr_eq(&removed[0], &b) && b.is_retired());
        assert_eq!(b.view().queue_depth, 0, "a removed peer's queue is dropped");
        assert_eq!(a.view().queue_depth, 1, "a kept peer keeps its queue");

        // Later writes go to the current peers only.
        r.replicate(Origin::Client, || ReplicationTask::cancel("APP", "i-2"));
        assert_eq!(added[0].view().queue_depth, 1);
        assert_eq!(b.view().queue_depth, 0);
        b.enqueue(Arc::new(ReplicationTask::cancel("APP", "i-3")));
        assert_eq!(b.view().queue_depth, 0, "a retired peer takes nothing");

        // Nothing changes: nothing is added or removed, the list is the same allocation.
        let same = r.peers();
        let (added, removed) =
            r.apply(&["http://a:8761/eureka/".into(), "http://c:8761/eureka/".into()]);
        assert!(added.is_empty() && removed.is_empty());
        assert!(Arc::ptr_eq(&same, &r.peers()));
    }

    #[test]
    fn peers_from_dns_hold_readiness_until_the_copy() {
        let config = crate::config::ServerConfig::load(crate::config::ConfigSources {
            overrides: vec![("eureka.server.peer-dns-name".into(), "e.ns".into())],
            ..Default::default()
        })
        .unwrap()
        .config;
        let r = Replicator::from_config(&config, Vec::new(), &TlsOptions::default());
        assert!(r.peers().is_empty());
        assert!(!r.is_synced(), "not ready before DNS was asked and the registry copied");
        assert!(replicator("").is_synced(), "a standalone node is ready at once");
    }
}
