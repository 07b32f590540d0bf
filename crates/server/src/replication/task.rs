//! Replication tasks and the per-peer queue that coalesces and bounds them.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use eureka_model::replication::{HealthCheckNote, ReplicationAction, ReplicationInstance};
use eureka_model::{InstanceInfo, InstanceStatus};
use tokio::time::Instant;

/// Java's expiry for a Register or Heartbeat of an instance without lease info: 90 s.
const DEFAULT_LEASE_RENEWAL: Duration = Duration::from_secs(90);

/// One write to send to peers. Built once per write and shared by every peer's queue.
#[derive(Debug)]
pub struct ReplicationTask {
    /// What the peer is asked to do.
    pub action: ReplicationAction,
    /// Application name.
    pub app: String,
    /// Instance id.
    pub id: String,
    /// The instance as stored here when the write happened (all actions but Cancel).
    pub instance: Option<Arc<InstanceInfo>>,
    /// The override held here, sent with heartbeats so peers learn it.
    pub overridden_status: Option<InstanceStatus>,
    /// Set for a health check's verdict: sent to each peer in the form it understands.
    pub health: Option<HealthTask>,
}

/// A health check's verdict to replicate. eureka-rs peers get a `StatusUpdate` with a
/// `healthCheck` note; Java peers, which know only overrides, get what makes them serve the
/// same status: `StatusUpdate` DOWN for a mark, and for a lift `StatusUpdate` to the new
/// status then `DeleteStatusOverride` back to it (which also holds when the Java peer never
/// saw the mark, e.g. after its restart).
#[derive(Debug, Clone)]
pub struct HealthTask {
    /// The mark, or its lift.
    pub verdict: HealthVerdict,
    /// Whether the served status changed with it (Java peers only hear of those).
    pub status_changed: bool,
}

/// What a node's checks concluded.
#[derive(Debug, Clone)]
pub enum HealthVerdict {
    /// Marked DOWN.
    Down {
        /// Why.
        reason: std::sync::Arc<str>,
        /// Since when, epoch ms.
        since: u64,
        /// The marking node's cluster name.
        by: std::sync::Arc<str>,
    },
    /// The mark is lifted; the instance returns to this status (the one it reports).
    Up {
        /// The status the instance itself reports.
        reported: InstanceStatus,
    },
}

impl ReplicationTask {
    /// Replicates a registration of the stored instance.
    pub fn register(instance: Arc<InstanceInfo>) -> Self {
        Self::with_instance(ReplicationAction::Register, instance, None)
    }

    /// Replicates a heartbeat, with the override held here for the instance.
    pub fn heartbeat(instance: Arc<InstanceInfo>, overridden: Option<InstanceStatus>) -> Self {
        Self::with_instance(ReplicationAction::Heartbeat, instance, overridden)
    }

    /// Replicates a status override (the instance carries the new status).
    pub fn status_update(instance: Arc<InstanceInfo>) -> Self {
        Self::with_instance(ReplicationAction::StatusUpdate, instance, None)
    }

    /// Replicates the removal of an override (the instance carries the status to set).
    pub fn delete_status_override(instance: Arc<InstanceInfo>) -> Self {
        Self::with_instance(ReplicationAction::DeleteStatusOverride, instance, None)
    }

    /// Replicates a cancel.
    pub fn cancel(app: &str, id: &str) -> Self {
        ReplicationTask {
            action: ReplicationAction::Cancel,
            app: app.to_string(),
            id: id.to_string(),
            instance: None,
            overridden_status: None,
            health: None,
        }
    }

    /// Replicates a health verdict on the stored instance (which carries the served status).
    /// A lift is two tasks, `StatusUpdate` then `DeleteStatusOverride` (Java peers need both;
    /// eureka-rs peers get the first only).
    pub fn health(
        action: ReplicationAction,
        instance: Arc<InstanceInfo>,
        verdict: HealthVerdict,
        status_changed: bool,
    ) -> Self {
        ReplicationTask {
            health: Some(HealthTask { verdict, status_changed }),
            ..Self::with_instance(action, instance, None)
        }
    }

    fn with_instance(
        action: ReplicationAction,
        instance: Arc<InstanceInfo>,
        overridden_status: Option<InstanceStatus>,
    ) -> Self {
        ReplicationTask {
            action,
            app: instance.app.clone(),
            id: instance.id().to_string(),
            overridden_status: overridden_status.filter(|s| *s != InstanceStatus::Unknown),
            instance: Some(instance),
            health: None,
        }
    }

    /// How long the task stays worth sending: a heartbeat until the next one supersedes it
    /// (one renewal interval); a registration at least `max_age` whatever that interval;
    /// anything else `max_age` (`max-time-for-replication`).
    pub fn expiry(&self, max_age: Duration) -> Duration {
        let renewal = || self.instance.as_deref().map_or(DEFAULT_LEASE_RENEWAL, renewal_interval);
        match self.action {
            ReplicationAction::Heartbeat => renewal(),
            ReplicationAction::Register => renewal().max(max_age),
            _ => max_age,
        }
    }

    /// Whether peers wait on this task (everything but heartbeats changes what readers see).
    pub fn is_change(&self) -> bool {
        self.action != ReplicationAction::Heartbeat
    }

    /// The batch item for a peer, or `None` when this peer has nothing to learn from the task
    /// (see [`HealthTask`]); `reads_notes` says the peer announced it reads `healthCheck`.
    pub fn item_for(&self, reads_notes: bool) -> Option<ReplicationInstance> {
        let Some(health) = &self.health else { return Some(self.to_item()) };
        if !reads_notes {
            return health.status_changed.then(|| self.to_item());
        }
        if self.action == ReplicationAction::DeleteStatusOverride {
            return None;
        }
        let note = match &health.verdict {
            HealthVerdict::Down { reason, since, by } => HealthCheckNote {
                down: true,
                reason: Some(reason.to_string()),
                since: Some(*since),
                by: Some(by.to_string()),
                status: None,
            },
            HealthVerdict::Up { reported } => HealthCheckNote {
                down: false,
                status: Some(*reported),
                ..HealthCheckNote::default()
            },
        };
        Some(ReplicationInstance { health_check: Some(note), ..self.to_item() })
    }

    /// The batch item, in Java's shape (§2.9): `lastDirtyTimestamp` and `status` from the
    /// instance, the full instance only for Register, the override only for Heartbeat.
    pub fn to_item(&self) -> ReplicationInstance {
        let info = self.instance.as_deref();
        ReplicationInstance {
            app_name: self.app.clone(),
            id: self.id.clone(),
            last_dirty_timestamp: info.map(|i| i.last_dirty_timestamp),
            overridden_status: self
                .overridden_status
                .filter(|_| self.action == ReplicationAction::Heartbeat),
            status: info.map(|i| i.status),
            instance_info: info
                .filter(|_| self.action == ReplicationAction::Register)
                .map(|i| (*i).clone()),
            action: self.action,
            health_check: None,
        }
    }
}

fn renewal_interval(info: &InstanceInfo) -> Duration {
    match info.lease_info.renewal_interval_in_secs {
        0 => DEFAULT_LEASE_RENEWAL,
        secs => Duration::from_secs(u64::from(secs)),
    }
}

/// Identity of a task for coalescing: (action, app, id), as Java's `register#APP/ID` keys.
#[derive(Debug, Clone)]
struct TaskKey(Arc<ReplicationTask>);

/// 0 for an operator's or client's write, 1 for a health mark, 2 for its lift: a health
/// verdict never replaces an operator's override in a queue, nor a mark its lift.
fn health_kind(task: &ReplicationTask) -> u8 {
    match task.health.as_ref().map(|h| &h.verdict) {
        None => 0,
        Some(HealthVerdict::Down { .. }) => 1,
        Some(HealthVerdict::Up { .. }) => 2,
    }
}

impl PartialEq for TaskKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.action == other.0.action
            && self.0.app == other.0.app
            && self.0.id == other.0.id
            && health_kind(&self.0) == health_kind(&other.0)
    }
}

impl Eq for TaskKey {}

impl Hash for TaskKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.action.hash(state);
        self.0.app.hash(state);
        self.0.id.hash(state);
        health_kind(&self.0).hash(state);
    }
}

#[derive(Debug)]
struct Pending {
    seq: i64,
    task: Arc<ReplicationTask>,
    queued_at: Instant,
}

/// What happened to tasks that were not sent, for the peer's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Dropped because they outlived their expiry.
    pub expired: u64,
    /// Dropped because the queue was full (the oldest goes).
    pub overflow: u64,
}

/// A bounded FIFO of tasks for one peer that keeps only the newest task per key.
///
/// A newer task with the same (action, app, id) replaces the pending one *and moves to the
/// back*, so the peer sees writes to one instance in the order they happened (Java keeps the
/// old position, so register-cancel-register can arrive as register-cancel). When full, the
/// oldest task is dropped, as Java does.
#[derive(Debug)]
pub struct TaskQueue {
    capacity: usize,
    max_age: Duration,
    next_seq: i64,
    order: BTreeMap<i64, TaskKey>,
    changes: BTreeMap<i64, Instant>,
    pending: HashMap<TaskKey, Pending>,
    dropped: Dropped,
}

impl TaskQueue {
    /// An empty queue holding at most `capacity` tasks; changes expire after `max_age`
    /// (see [`ReplicationTask::expiry`]).
    pub fn new(capacity: usize, max_age: Duration) -> Self {
        TaskQueue {
            capacity: capacity.max(1),
            max_age,
            next_seq: 0,
            order: BTreeMap::new(),
            changes: BTreeMap::new(),
            pending: HashMap::new(),
            dropped: Dropped::default(),
        }
    }

    /// Tasks waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// When the task at the front was queued: how far behind the peer is. Requeued tasks
    /// keep their first time, so retries do not hide the lag.
    pub fn oldest_queued_at(&self) -> Option<Instant> {
        self.order.first_key_value().map(|(_, k)| self.pending[k].queued_at)
    }

    /// Tasks dropped so far.
    pub fn dropped(&self) -> Dropped {
        self.dropped
    }

    /// Queues a task at the back, replacing a pending one with the same key.
    pub fn push(&mut self, task: Arc<ReplicationTask>, now: Instant) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.insert(seq, task, now);
        self.trim();
    }

    /// Drops the oldest tasks beyond the capacity.
    fn trim(&mut self) {
        while self.pending.len() > self.capacity {
            let Some((_, key)) = self.order.pop_first() else { break };
            self.remove_key(&key);
            self.dropped.overflow += 1;
        }
    }

    fn insert(&mut self, seq: i64, task: Arc<ReplicationTask>, queued_at: Instant) {
        let key = TaskKey(task.clone());
        if let Some(old) = self.pending.remove(&key) {
            self.order.remove(&old.seq);
            self.changes.remove(&old.seq);
        }
        if task.is_change() {
            self.changes.insert(seq, queued_at);
        }
        self.order.insert(seq, key.clone());
        self.pending.insert(key, Pending { seq, task, queued_at });
    }

    fn remove_key(&mut self, key: &TaskKey) -> Option<Pending> {
        let p = self.pending.remove(key)?;
        self.changes.remove(&p.seq);
        Some(p)
    }

    /// When the next batch should leave: at once when `batch_size` tasks wait, when the oldest
    /// change has waited `change_delay`, or when the oldest task of any kind has waited
    /// `heartbeat_delay`. `None` when the queue is empty.
    pub fn due(
        &self,
        batch_size: usize,
        change_delay: Duration,
        heartbeat_delay: Duration,
    ) -> Option<Instant> {
        let oldest = self.oldest_queued_at()?;
        if self.pending.len() >= batch_size {
            return Some(oldest);
        }
        let by_change = self.changes.first_key_value().map(|(_, at)| *at + change_delay);
        let by_any = oldest + heartbeat_delay;
        Some(by_change.map_or(by_any, |c| c.min(by_any)))
    }

    /// Takes up to `max` tasks from the front, dropping those that have expired.
    pub fn take_batch(&mut self, max: usize, now: Instant) -> Vec<Queued> {
        let mut batch = Vec::with_capacity(max.min(self.pending.len()));
        while batch.len() < max {
            let Some((_, key)) = self.order.pop_first() else { break };
            let Some(p) = self.remove_key(&key) else { continue };
            if now.duration_since(p.queued_at) > p.task.expiry(self.max_age) {
                self.dropped.expired += 1;
                continue;
            }
            batch.push(Queued { task: p.task, queued_at: p.queued_at });
        }
        batch
    }

    /// Puts an unsent batch back at the front, in its order, keeping its age; a task already
    /// superseded by a newer one with the same key is discarded.
    pub fn requeue_front(&mut self, batch: Vec<Queued>) {
        let mut seq = self.order.first_key_value().map_or(self.next_seq, |(s, _)| *s);
        for q in batch.into_iter().rev() {
            if self.pending.contains_key(&TaskKey(q.task.clone())) {
                continue;
            }
            seq -= 1;
            self.insert(seq, q.task, q.queued_at);
        }
        self.trim();
    }
}

/// A task taken from the queue, with the time it was queued (kept across retries).
#[derive(Debug, Clone)]
pub struct Queued {
    /// The task.
    pub task: Arc<ReplicationTask>,
    /// When it was queued.
    pub queued_at: Instant,
}

#[cfg(test)]
mod tests {
    use super::*;
    use eureka_model::LeaseInfo;

    fn instance(id: &str) -> Arc<InstanceInfo> {
        Arc::new(InstanceInfo {
            instance_id: Some(id.to_string()),
            app: "ORDERS".to_string(),
            host_name: "h".to_string(),
            lease_info: LeaseInfo { renewal_interval_in_secs: 30, ..Default::default() },
            ..Default::default()
        })
    }

    const AGE: Duration = Duration::from_secs(30);

    fn actions(batch: &[Queued]) -> Vec<(ReplicationAction, String)> {
        batch.iter().map(|q| (q.task.action, q.task.id.clone())).collect()
    }

    fn served(id: &str, status: InstanceStatus) -> Arc<InstanceInfo> {
        Arc::new(InstanceInfo { status, ..(*instance(id)).clone() })
    }

    fn down_task(status_changed: bool) -> ReplicationTask {
        let verdict = HealthVerdict::Down {
            reason: Arc::from("health check: HTTP 503"),
            since: 7,
            by: Arc::from("http://n1:8761/eureka/"),
        };
        let status =
            if status_changed { InstanceStatus::Down } else { InstanceStatus::OutOfService };
        ReplicationTask::health(
            ReplicationAction::StatusUpdate,
            served("a", status),
            verdict,
            status_changed,
        )
    }

    #[test]
    fn a_health_mark_is_a_note_for_our_peers_and_a_down_override_for_java() {
        let ours = down_task(true).item_for(true).unwrap();
        assert_eq!(ours.action, ReplicationAction::StatusUpdate);
        let note = ours.health_check.unwrap();
        assert!(note.down);
        assert_eq!(note.reason.as_deref(), Some("health check: HTTP 503"));
        assert_eq!(note.by.as_deref(), Some("http://n1:8761/eureka/"));
        let java = down_task(true).item_for(false).unwrap();
        assert_eq!(
            (java.action, java.status),
            (ReplicationAction::StatusUpdate, Some(InstanceStatus::Down))
        );
        assert!(java.health_check.is_none(), "Java refuses unknown fields");
        // Held OUT_OF_SERVICE by an operator: Java keeps that override, ours learn the mark.
        assert!(down_task(false).item_for(false).is_none());
        assert!(down_task(false).item_for(true).is_some());
    }

    #[test]
    fn a_lift_is_one_note_for_our_peers_and_an_update_then_a_delete_for_java() {
        let lift = |action| {
            let verdict = HealthVerdict::Up { reported: InstanceStatus::Up };
            ReplicationTask::health(action, served("a", InstanceStatus::Up), verdict, true)
        };
        let update = lift(ReplicationAction::StatusUpdate);
        let delete = lift(ReplicationAction::DeleteStatusOverride);
        let note = update.item_for(true).unwrap().health_check.unwrap();
        assert!(!note.down);
        assert_eq!(note.status, Some(InstanceStatus::Up));
        assert!(delete.item_for(true).is_none());
        for (task, action) in [
            (update, ReplicationAction::StatusUpdate),
            (delete, ReplicationAction::DeleteStatusOverride),
        ] {
            let item = task.item_for(false).unwrap();
            assert_eq!((item.action, item.status), (action, Some(InstanceStatus::Up)));
        }
    }

    #[test]
    fn a_health_verdict_never_replaces_an_operator_s_override_in_the_queue() {
        let now = Instant::now();
        let mut q = TaskQueue::new(100, AGE);
        q.push(
            Arc::new(ReplicationTask::status_update(served("a", InstanceStatus::OutOfService))),
            now,
        );
        q.push(Arc::new(down_task(false)), now);
        q.push(Arc::new(down_task(true)), now);
        assert_eq!(q.len(), 2, "the second mark replaces the first, not the override");
        let batch = q.take_batch(10, now);
        assert!(batch[0].task.health.is_none());
        assert!(batch[1].task.health.is_some());
    }

    #[test]
    fn newer_task_with_same_key_replaces_and_moves_to_the_back() {
        let now = Instant::now();
        let mut q = TaskQueue::new(100, AGE);
        q.push(Arc::new(ReplicationTask::register(instance("a"))), now);
        q.push(Arc::new(ReplicationTask::cancel("ORDERS", "a")), now);
        q.push(Arc::new(ReplicationTask::register(instance("a"))), now);
        assert_eq!(q.len(), 2);
        let batch = q.take_batch(10, now);
        assert_eq!(
            actions(&batch),
            vec![
                (ReplicationAction::Cancel, "a".into()),
                (ReplicationAction::Register, "a".into())
            ]
        );
    }

    #[test]
    fn full_queue_drops_the_oldest() {
        let now = Instant::now();
        let mut q = TaskQueue::new(2, AGE);
        for id in ["a", "b", "c"] {
            q.push(Arc::new(ReplicationTask::heartbeat(instance(id), None)), now);
        }
        assert_eq!(q.dropped().overflow, 1);
        let ids: Vec<_> = q.take_batch(10, now).iter().map(|q| q.task.id.clone()).collect();
        assert_eq!(ids, vec!["b", "c"]);
    }

    #[test]
    fn expired_tasks_are_dropped_not_sent() {
        let t0 = Instant::now();
        let mut q = TaskQueue::new(10, Duration::from_secs(60));
        q.push(Arc::new(ReplicationTask::heartbeat(instance("a"), None)), t0);
        q.push(Arc::new(ReplicationTask::cancel("ORDERS", "b")), t0);
        let batch = q.take_batch(10, t0 + Duration::from_secs(31));
        assert_eq!(actions(&batch), vec![(ReplicationAction::Cancel, "b".into())]);
        assert_eq!(q.dropped().expired, 1);
    }

    #[test]
    fn changes_are_due_before_heartbeats() {
        let t0 = Instant::now();
        let change = Duration::from_millis(0);
        let hb = Duration::from_millis(500);
        let mut q = TaskQueue::new(10, AGE);
        assert_eq!(q.due(250, change, hb), None);
        q.push(Arc::new(ReplicationTask::heartbeat(instance("a"), None)), t0);
        assert_eq!(q.due(250, change, hb), Some(t0 + hb));
        let t1 = t0 + Duration::from_millis(100);
        q.push(Arc::new(ReplicationTask::cancel("ORDERS", "b")), t1);
        assert_eq!(q.due(250, change, hb), Some(t1));
        assert_eq!(q.due(2, change, hb), Some(t0), "a full batch leaves at once");
    }

    #[test]
    fn requeued_batch_goes_back_to_the_front_unless_superseded() {
        let now = Instant::now();
        let mut q = TaskQueue::new(10, AGE);
        q.push(Arc::new(ReplicationTask::register(instance("a"))), now);
        q.push(Arc::new(ReplicationTask::register(instance("b"))), now);
        let batch = q.take_batch(10, now);
        q.push(Arc::new(ReplicationTask::register(instance("c"))), now);
        let newer_b = Arc::new(ReplicationTask::register(instance("b")));
        q.push(newer_b.clone(), now);
        q.requeue_front(batch);
        let again = q.take_batch(10, now);
        let ids: Vec<_> = again.iter().map(|q| q.task.id.clone()).collect();
        assert_eq!(ids, vec!["a", "c", "b"]);
        assert!(Arc::ptr_eq(&again[2].task, &newer_b));
    }

    #[test]
    fn items_carry_what_java_sends_per_action() {
        let mut info = (*instance("a")).clone();
        info.last_dirty_timestamp = 42;
        info.status = InstanceStatus::OutOfService;
        let info = Arc::new(info);
        let hb =
            ReplicationTask::heartbeat(info.clone(), Some(InstanceStatus::OutOfService)).to_item();
        assert_eq!(hb.last_dirty_timestamp, Some(42));
        assert_eq!(hb.overridden_status, Some(InstanceStatus::OutOfService));
        assert_eq!(hb.status, Some(InstanceStatus::OutOfService));
        assert!(hb.instance_info.is_none());
        let reg = ReplicationTask::register(info.clone()).to_item();
        assert!(reg.instance_info.is_some());
        assert_eq!(reg.overridden_status, None);
        let cancel = ReplicationTask::cancel("ORDERS", "a").to_item();
        assert_eq!((cancel.last_dirty_timestamp, cancel.status), (None, None));
    }
}
