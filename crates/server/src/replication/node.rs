//! One peer: its replication queue, its health as we see it, and the loop that sends to it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eureka_client::transport::BatchAnswer;
use eureka_client::{EurekaHttp, TransportError};
use eureka_model::replication::{ReplicationAction, ReplicationInstanceResponse, ReplicationList};
use eureka_registry::Origin;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::task::{Dropped, Queued, ReplicationTask, TaskQueue};
use super::ReplicationHost;

/// First pause after a failed batch; it doubles per consecutive failure.
const BACKOFF_START: Duration = Duration::from_millis(100);
/// First pause after a congestion signal (timeout or 503), as Java's 1 s.
const CONGESTION_BACKOFF_START: Duration = Duration::from_millis(500);
/// Longest pause between retries. Java caps at 30 s; a short cap lets a healed peer converge
/// within seconds, and one small request per peer every 2 s costs nothing.
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// What a server answers to a batch it sent itself (HTTP 508 Loop Detected).
pub const LOOP_DETECTED: u16 = 508;
/// Longest a stopping server spends delivering its queues.
const FLUSH_LIMIT: Duration = Duration::from_secs(2);
/// An idle peer is probed (an empty batch) this often, so its reachability stays true (more
/// often with health checks on: see [`DispatchSettings::probe_interval`]).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(5);

/// Settings of every peer's dispatcher.
#[derive(Debug, Clone, Copy)]
pub struct DispatchSettings {
    /// Tasks per batch.
    pub batch_size: usize,
    /// How long a change waits for company.
    pub change_delay: Duration,
    /// How long a heartbeat waits for company.
    pub heartbeat_delay: Duration,
    /// Entries an unreachable peer's queue may hold before it is shed for a resync.
    pub capacity: usize,
    /// How long a peer must have been unreachable before its queue may be shed
    /// (`max-time-for-replication`).
    pub max_age: Duration,
    /// Gzip batch bodies.
    pub compress: bool,
    /// How often an idle peer is probed ([`PROBE_INTERVAL`], or half the health-check
    /// interval when checks are on, so a dead node's instances change hands quickly).
    pub probe_interval: Duration,
}

/// What a eureka-rs peer said of itself on its last batch answer (nothing from Java peers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerFeatures {
    /// It reads batch items' `healthCheck` notes.
    pub reads_health_notes: bool,
    /// It checks instances itself, so it may own some.
    pub health_checks: bool,
    /// The name it goes by in the cluster.
    pub name: Option<Arc<str>>,
}

/// What we know of a peer's health, for `status`, the console and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerHealth {
    /// Whether the last call succeeded; `None` before the first call.
    pub reachable: Option<bool>,
    /// When a call last succeeded, epoch ms.
    pub last_success_ms: Option<u64>,
    /// The last failure: when (epoch ms) and why.
    pub last_error: Option<(u64, String)>,
    /// Consecutive failed calls.
    pub consecutive_failures: u32,
    /// Batches the peer accepted.
    pub batches_sent: u64,
    /// Items the peer accepted in those batches.
    pub items_sent: u64,
    /// Batch calls that failed.
    pub failures: u64,
    /// Items the peer answered with a non-2xx code.
    pub item_failures: u64,
    /// The peer refused our credentials (401) or their rights (403) on its last call.
    pub auth_refused: bool,
}

/// A snapshot of one peer for display.
#[derive(Debug, Clone)]
pub struct PeerView {
    /// The peer's service URL (no credentials).
    pub url: String,
    /// Its health.
    pub health: PeerHealth,
    /// Instances with writes waiting to be sent.
    pub queue_depth: usize,
    /// How long the oldest waiting task has waited; `None` when nothing waits.
    pub oldest_task_age: Option<Duration>,
    /// Entries shed (peer unreachable too long) and resyncs sent.
    pub dropped: Dropped,
    /// The URL turned out to lead back to this server: nothing is sent to it.
    pub is_self: bool,
    /// What it said of itself (eureka-rs peers).
    pub features: PeerFeatures,
}

/// One peer server: the queue of writes to send it and the state of our link to it.
#[derive(Debug)]
pub struct PeerNode {
    http: EurekaHttp,
    queue: Mutex<TaskQueue>,
    wake: Notify,
    health: Mutex<PeerHealth>,
    is_self: AtomicBool,
    features: Mutex<PeerFeatures>,
    settings: DispatchSettings,
    /// Cancelled when the peer leaves the membership: its dispatcher stops without flushing.
    retired: CancellationToken,
}

impl PeerNode {
    /// A peer reached through `http`.
    pub fn new(http: EurekaHttp, settings: DispatchSettings) -> Self {
        PeerNode {
            http,
            queue: Mutex::new(TaskQueue::new()),
            wake: Notify::new(),
            health: Mutex::new(PeerHealth::default()),
            is_self: AtomicBool::new(false),
            features: Mutex::new(PeerFeatures::default()),
            settings,
            retired: CancellationToken::new(),
        }
    }

    /// Whether the last call to the peer succeeded (`None` before the first call, `false` for
    /// a URL that leads back to this server). Cheap: for callers that poll the peer set.
    pub fn reachable(&self) -> Option<bool> {
        if self.is_self.load(Ordering::Relaxed) {
            return Some(false);
        }
        self.health.lock().reachable
    }

    /// Takes the peer out of service: its dispatcher stops and its queue is dropped.
    pub(crate) fn retire(&self) {
        self.retired.cancel();
        *self.queue.lock() = TaskQueue::new();
    }

    /// Whether the peer left the membership.
    pub fn is_retired(&self) -> bool {
        self.retired.is_cancelled()
    }

    /// The peer's service URL.
    pub fn url(&self) -> &str {
        self.http.url()
    }

    /// The transport to the peer (also used by the start-up sync).
    pub fn http(&self) -> &EurekaHttp {
        &self.http
    }

    /// Queues a task without waiting. Wakes the sender for a change (it may be due at once)
    /// or when the queue was empty (the sender may be idle until the next probe).
    pub fn enqueue(&self, task: Arc<ReplicationTask>) {
        if self.is_self.load(Ordering::Relaxed) || self.retired.is_cancelled() {
            return;
        }
        let change = task.is_change();
        let was_empty = {
            let mut queue = self.queue.lock();
            let was_empty = queue.is_empty();
            queue.push(task, Instant::now());
            was_empty
        };
        if change || was_empty {
            self.wake.notify_one();
        }
    }

    /// The peer as we see it now.
    pub fn view(&self) -> PeerView {
        let (queue_depth, oldest, dropped) = {
            let q = self.queue.lock();
            (q.len(), q.oldest_queued_at(), q.dropped())
        };
        PeerView {
            url: self.url().to_string(),
            health: self.health.lock().clone(),
            queue_depth,
            oldest_task_age: oldest.map(|at| Instant::now().saturating_duration_since(at)),
            dropped,
            is_self: self.is_self.load(Ordering::Relaxed),
            features: self.features(),
        }
    }

    /// What the peer said of itself on its last answer.
    pub fn features(&self) -> PeerFeatures {
        self.features.lock().clone()
    }

    /// Whether the peer is reachable now (its last call succeeded).
    pub fn is_reachable(&self) -> bool {
        self.health.lock().reachable == Some(true)
    }

    fn learn_features(&self, answer: &BatchAnswer) {
        let mut f = self.features.lock();
        f.reads_health_notes = answer.health_checks.is_some();
        f.health_checks = answer.health_checks == Some(true);
        if f.name.as_deref() != answer.node_name.as_deref() {
            f.name = answer.node_name.as_deref().map(Arc::from);
        }
    }

    /// Stops replicating to a URL that leads back to this server.
    fn disable_as_self(&self) {
        tracing::error!(peer = %self.url(),
            "this peer URL leads back to this server; not replicating to it \
             (set eureka.server.my-url to this URL to silence this)");
        self.is_self.store(true, Ordering::Relaxed);
        *self.queue.lock() = TaskQueue::new();
    }

    /// Records a successful call; true when the peer was not reachable before.
    pub(crate) fn record_success(&self, now_ms: u64, items: usize, item_failures: u64) -> bool {
        let mut h = self.health.lock();
        let became_reachable = h.reachable != Some(true);
        if became_reachable {
            tracing::info!(peer = %self.url(), "peer reachable");
        }
        h.reachable = Some(true);
        h.auth_refused = false;
        h.last_success_ms = Some(now_ms);
        h.consecutive_failures = 0;
        if items > 0 {
            h.batches_sent += 1;
            h.items_sent += items as u64;
        }
        h.item_failures += item_failures;
        became_reachable
    }

    pub(crate) fn record_failure(&self, now_ms: u64, error: &TransportError) -> u32 {
        let mut h = self.health.lock();
        if error.is_auth_refused() {
            if !h.auth_refused {
                let credentials = if self.http.has_credentials() { "ours" } else { "none sent" };
                tracing::error!(peer = %self.url(), %error, credentials,
                    "peer refused our credentials: nothing replicates to it until it accepts \
                     them (set user:password@ in its URL, or eureka.server.peer-username and \
                     eureka.server.peer-password, to a user with role peer on that server)");
            }
            h.auth_refused = true;
        } else if h.reachable != Some(false) {
            tracing::warn!(peer = %self.url(), %error, "peer unreachable; replication will retry");
        }
        h.reachable = Some(false);
        h.last_error = Some((now_ms, error.to_string()));
        h.failures += 1;
        h.consecutive_failures = h.consecutive_failures.saturating_add(1);
        h.consecutive_failures
    }
}

/// Sends `node`'s queue to the peer until `shutdown` (then flushes it) or until the peer is
/// retired (then drops it): waits until a batch is due, sends it, handles each item's answer,
/// and on retryable failures puts the batch back and backs off. The first call is an
/// immediate probe, so a new peer's reachability (and our node id, to the peer) is known at
/// once. A slow or overloaded peer only makes the queue drain later; a peer unreachable for
/// longer than `max_age` with more than `capacity` entries waiting has its queue shed and gets
/// a resync (every instance held here, as heartbeats) once it answers again.
pub async fn dispatch<H: ReplicationHost>(
    host: Arc<H>,
    node: Arc<PeerNode>,
    shutdown: CancellationToken,
) {
    let s = node.settings;
    // Probe at once: a new peer's reachability (and, for health checks, what it announces)
    // is known before the first interval, and the peer hears our node id.
    let mut last_contact =
        Instant::now().checked_sub(s.probe_interval).unwrap_or_else(Instant::now);
    let mut backoff: Option<Duration> = None;
    let mut failing_since: Option<Instant> = None;
    loop {
        let due = node.queue.lock().due(s.batch_size, s.change_delay, s.heartbeat_delay);
        let wake_at = match (backoff, due) {
            (Some(pause), _) => Instant::now() + pause,
            (None, Some(due)) => due,
            (None, None) => last_contact + s.probe_interval,
        };
        tokio::select! {
            _ = node.retired.cancelled() => break,
            _ = shutdown.cancelled() => {
                flush(&node).await;
                break;
            }
            _ = tokio::time::sleep_until(wake_at) => {},
            _ = node.wake.notified(), if backoff.is_none() => continue,
        }
        let now = Instant::now();
        let batch = node.queue.lock().take_batch(s.batch_size);
        if batch.is_empty()
            && now.duration_since(last_contact) < s.probe_interval
            && backoff.is_none()
        {
            continue;
        }
        let reads_notes = node.features.lock().reads_health_notes;
        let (batch, list) = batch_of(batch, reads_notes);
        let sent = tokio::select! {
            _ = node.retired.cancelled() => break,
            _ = shutdown.cancelled() => {
                node.queue.lock().requeue_front(batch);
                flush(&node).await;
                break;
            }
            sent = node.http.replicate(&list, s.compress) => sent,
        };
        last_contact = Instant::now();
        match sent {
            Ok(answer) => {
                node.learn_features(&answer);
                let failures = handle_answers(&*host, &node, &batch, &answer.list.response_list);
                if node.record_success(host.now_ms(), batch.len(), failures)
                    && host.health_checks_enabled()
                {
                    super::resend_health_marks(host.registry(), &node);
                }
                backoff = None;
                failing_since = None;
                if node.queue.lock().take_resync() {
                    resync(&*host, &node);
                }
            }
            Err(TransportError::Status { status: LOOP_DETECTED, .. }) => {
                node.disable_as_self();
                break;
            }
            Err(error) => {
                node.record_failure(host.now_ms(), &error);
                let since = *failing_since.get_or_insert(last_contact);
                if error.is_auth_refused() || error.is_retryable() {
                    // Kept, not dropped: a peer being reconfigured (users added in a rolling
                    // restart) or overloaded takes the queue when it accepts us again.
                    backoff = Some(if error.is_auth_refused() {
                        BACKOFF_MAX
                    } else {
                        let start = if error.is_congestion() {
                            CONGESTION_BACKOFF_START
                        } else {
                            BACKOFF_START
                        };
                        backoff.map_or(start, |b| (b * 2).min(BACKOFF_MAX))
                    });
                    let mut queue = node.queue.lock();
                    queue.requeue_front(batch);
                    if last_contact.duration_since(since) > s.max_age && queue.len() > s.capacity {
                        let shed = queue.shed();
                        drop(queue);
                        tracing::warn!(peer = %node.url(), shed,
                            "peer unreachable too long; its queue is shed and it will get a \
                             resync when it answers");
                    }
                } else {
                    tracing::warn!(peer = %node.url(), %error, items = batch.len(),
                        "peer rejected a replication batch; dropping it");
                    backoff = None;
                }
            }
        }
    }
    tracing::debug!(peer = %node.url(), "replication dispatcher stopped");
}

/// Offers every instance held here to the peer again, as heartbeats: the peer renews what it
/// has, and answers 404 (we then send a Register) for what it lacks or holds older. Bounded
/// by the number of instances, since the queue keeps one entry per instance.
fn resync(host: &impl ReplicationHost, node: &PeerNode) {
    let replicas = host.registry().replicas(host.now_ms());
    tracing::info!(peer = %node.url(), instances = replicas.len(), "resyncing peer");
    for (info, overridden) in replicas {
        node.enqueue(Arc::new(ReplicationTask::heartbeat(info, overridden)));
    }
}

/// On shutdown, one bounded attempt to deliver what is still queued (a cancel or status change
/// made just before the stop would otherwise be lost); answers are not acted on.
async fn flush(node: &PeerNode) {
    let pending = node.queue.lock().take_batch(usize::MAX);
    if pending.is_empty() {
        return;
    }
    let deadline = Instant::now() + FLUSH_LIMIT;
    let reads_notes = node.features.lock().reads_health_notes;
    for chunk in pending.chunks(node.settings.batch_size) {
        let (_, list) = batch_of(chunk.to_vec(), reads_notes);
        match tokio::time::timeout_at(deadline, node.http.replicate(&list, node.settings.compress))
            .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(peer = %node.url(), %error, "could not flush replication on shutdown");
                return;
            }
            Err(_) => {
                tracing::warn!(peer = %node.url(), "replication flush on shutdown timed out");
                return;
            }
        }
    }
    tracing::debug!(peer = %node.url(), tasks = pending.len(), "flushed replication on shutdown");
}

/// The wire batch for queued tasks, items in queue order, in the form this peer reads; the
/// tasks it has nothing to learn from are left out (see `ReplicationTask::item_for`).
fn batch_of(tasks: Vec<Queued>, reads_notes: bool) -> (Vec<Queued>, ReplicationList) {
    let mut sent = Vec::with_capacity(tasks.len());
    let mut items = Vec::with_capacity(tasks.len());
    for q in tasks {
        if let Some(item) = q.task.item_for(reads_notes) {
            items.push(item);
            sent.push(q);
        }
    }
    (sent, ReplicationList { replication_list: items })
}

/// Applies Java's per-item rules (§4.13) and returns how many items failed.
fn handle_answers(
    host: &impl ReplicationHost,
    node: &PeerNode,
    batch: &[Queued],
    answers: &[ReplicationInstanceResponse],
) -> u64 {
    if answers.len() != batch.len() {
        tracing::warn!(peer = %node.url(), sent = batch.len(), answered = answers.len(),
            "peer answered a batch with the wrong number of items");
    }
    let mut failures = 0;
    for (q, answer) in batch.iter().zip(answers) {
        let task = &q.task;
        if (200..300).contains(&answer.status_code) {
            continue;
        }
        failures += 1;
        match (task.action, answer.status_code) {
            (ReplicationAction::Heartbeat, 404) => {
                // The peer lost (or never had) the instance: send it our copy.
                let now = host.now_ms();
                if let Some((info, _)) = host.registry().replica(&task.app, &task.id, now) {
                    tracing::debug!(peer = %node.url(), app = %task.app, instance_id = %task.id,
                        "peer does not know instance; replicating its registration");
                    node.enqueue(Arc::new(ReplicationTask::register(info)));
                }
            }
            (ReplicationAction::Heartbeat, _) if host.config().sync_when_timestamp_differs => {
                // 409: the peer holds a newer copy; adopt it (it is not replicated again).
                if let Some(theirs) = &answer.response_entity {
                    tracing::info!(peer = %node.url(), app = %task.app, instance_id = %task.id,
                        "adopting the peer's newer copy of the instance");
                    let mut theirs = theirs.clone();
                    theirs.normalize();
                    host.registry().register(theirs, Origin::Peer, host.now_ms());
                }
            }
            (action, code) => {
                tracing::debug!(peer = %node.url(), app = %task.app, instance_id = %task.id,
                    action = action.as_str(), code, "peer did not apply a replicated item");
            }
        }
    }
    failures
}
