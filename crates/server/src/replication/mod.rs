//! Peer replication: a cluster of servers that share every write, with each other and with
//! Java Eureka servers.
//!
//! - [`peers`]: which configured URLs are peers and which is us (host **and** port).
//! - [`task`]: replication tasks and the coalescing, bounded per-peer queue.
//! - [`node`]: one peer's queue, health and sending loop (batches, retries, 404/409 handling).
//! - [`receive`]: applying a batch a peer sent us.
//! - [`sync`]: copying the registry from a peer at start-up.
//!
//! A client's write is applied to the registry first, then [`Replicator::replicate`] queues it
//! for every peer without waiting; each peer's dispatcher sends batches in Java's wire shape.
//! Writes that came from a peer are never replicated again, and evictions are not replicated:
//! every node evicts on its own, as in Java.

pub mod node;
pub mod peers;
pub mod receive;
pub mod sync;
pub mod task;

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use eureka_client::transport::{redact, Timeouts};
use eureka_client::{EurekaHttp, TlsOptions};
use eureka_model::replication::ReplicationAction;
use eureka_registry::{Origin, Registry};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info_span, Instrument};

use crate::config::ServerConfig;
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

/// The peers of this server and the start-up sync state.
#[derive(Debug)]
pub struct Replicator {
    node_id: String,
    cluster_name: Arc<str>,
    peers: Vec<Arc<PeerNode>>,
    synced: AtomicBool,
    synced_count: AtomicU64,
}

impl Replicator {
    /// Builds the peer set from the configuration: every cluster URL except our own, called
    /// with `tls` (extra CAs, a client certificate). A URL the transport cannot use is logged
    /// and skipped.
    pub fn from_config(config: &ServerConfig, own_names: Vec<String>, tls: &TlsOptions) -> Self {
        let own_host = own_names.first().cloned().unwrap_or_else(|| "localhost".to_string());
        let me = SelfIdentity::new(config.my_url.as_deref(), own_names, config.port);
        let checks = &config.health_checks;
        let probe_interval = if checks.enabled {
            (checks.interval / 2).clamp(std::time::Duration::from_millis(50), node::PROBE_INTERVAL)
        } else {
            node::PROBE_INTERVAL
        };
        let settings = DispatchSettings {
            batch_size: config.peer_replication_batch_size,
            change_delay: config.peer_replication_batch_delay,
            heartbeat_delay: config.peer_heartbeat_batch_delay,
            capacity: config.max_elements_in_peer_replication_pool,
            max_age: config.max_time_for_replication,
            compress: config.enable_replicated_request_compression,
            probe_interval,
            probe_at_start: checks.enabled,
        };
        let timeouts = Timeouts {
            connect: config.peer_node_connect_timeout,
            request: config.peer_node_read_timeout,
        };
        let node_id = node_id();
        let peers = peers::peer_urls(&config.peer_urls(), &me)
            .into_iter()
            .filter_map(|url| match EurekaHttp::with_tls(&url, timeouts, tls) {
                Ok(http) => {
                    let http = match &config.peer_username {
                        Some(user) => http.with_default_credentials(
                            user,
                            config.peer_password.as_ref().map_or("", |p| p.expose()),
                        ),
                        None => http,
                    };
                    Some(Arc::new(PeerNode::new(http.with_node_id(node_id.clone()), settings)))
                }
                Err(e) => {
                    tracing::error!(peer = %redact(&url), error = %e, "ignoring unusable peer URL");
                    None
                }
            })
            .collect::<Vec<_>>();
        let cluster_name = peers::cluster_name(config, &me, &own_host);
        let replicator = Replicator {
            node_id,
            cluster_name: Arc::from(cluster_name),
            synced: AtomicBool::new(peers.is_empty()),
            peers,
            synced_count: AtomicU64::new(0),
        };
        for peer in &replicator.peers {
            tracing::info!(peer = %peer.url(), "replicating to peer");
        }
        replicator
    }

    /// This process's random identity, sent with every batch so that a peer URL that turns
    /// out to be this very server (a name self-detection could not know) is noticed.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The name this node goes by in the cluster, the same string on every node: its own
    /// entry in the cluster URL list (`eureka.server.my-url` first). Sent to peers with every
    /// batch answer; health checks are shared out over these names.
    pub fn cluster_name(&self) -> &Arc<str> {
        &self.cluster_name
    }

    /// The peers, in configuration order.
    pub fn peers(&self) -> &[Arc<PeerNode>] {
        &self.peers
    }

    /// Whether a write from `origin` goes to peers: it came from a client and there are peers.
    /// Lets hot paths skip building a task nobody will send.
    pub fn wants(&self, origin: Origin) -> bool {
        origin == Origin::Client && !self.peers.is_empty()
    }

    /// Queues a write for every peer, unless it came from a peer. Never waits.
    pub fn replicate(&self, origin: Origin, task: impl FnOnce() -> ReplicationTask) {
        if !self.wants(origin) {
            return;
        }
        let task = Arc::new(task());
        for peer in &self.peers {
            peer.enqueue(task.clone());
        }
    }

    /// Every peer as we see it now.
    pub fn views(&self) -> Vec<PeerView> {
        self.peers.iter().map(|p| p.view()).collect()
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

    /// Spawns the start-up sync and one dispatcher per peer into `tasks`, each in its span.
    pub fn spawn<H: ReplicationHost>(
        host: &Arc<H>,
        shutdown: &CancellationToken,
        tasks: &mut JoinSet<()>,
    ) {
        if host.replicator().peers.is_empty() {
            return;
        }
        tasks.spawn(
            sync::sync_from_peers(host.clone(), shutdown.clone())
                .instrument(info_span!("startup_sync")),
        );
        for peer in &host.replicator().peers {
            let span = info_span!("replication", peer = %peer.url());
            tasks.spawn(
                node::dispatch(host.clone(), peer.clone(), shutdown.clone()).instrument(span),
            );
        }
    }
}

/// A random 64-bit id in hex, different for every process start.
fn node_id() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    h.write_u128(now.map_or(0, |d| d.as_nanos()));
    format!("{:016x}", h.finish())
}
