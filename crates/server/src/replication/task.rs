//! Replication tasks and the per-peer queue that coalesces them per instance.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use eureka_model::replication::{HealthCheckNote, ReplicationAction, ReplicationInstance};
use eureka_model::{InstanceInfo, InstanceStatus};
use tokio::time::Instant;

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

/// Identity of a queue entry: one instance, (app, id). Every write to an instance lands in
/// its one entry, so a queue never holds more entries than instances were written.
type InstanceKey = (String, String);

/// The writes still to send for one instance, oldest first. At most three of clients and
/// operators: a Register or a Cancel (each stands for the whole state, so it clears what came
/// before), then a status change, then a heartbeat. Health verdicts (issue 15) live beside
/// them, at most one per (action, mark or lift): a verdict never replaces an operator's
/// override, nor a mark its lift, and what came last is sent last.
#[derive(Debug, Default, Clone)]
struct Writes(Vec<Arc<ReplicationTask>>);

/// 0 for an operator's or client's write, 1 for a health mark, 2 for its lift.
fn health_kind(task: &ReplicationTask) -> u8 {
    match task.health.as_ref().map(|h| &h.verdict) {
        None => 0,
        Some(HealthVerdict::Down { .. }) => 1,
        Some(HealthVerdict::Up { .. }) => 2,
    }
}

impl Writes {
    /// Adds a newer write, keeping only what the peer still needs to reach our state.
    fn push(&mut self, task: Arc<ReplicationTask>) {
        use ReplicationAction as A;
        if task.health.is_some() {
            let kind = health_kind(&task);
            self.0.retain(|t| !(t.action == task.action && health_kind(t) == kind));
            self.0.push(task);
            return;
        }
        let ours = |t: &Arc<ReplicationTask>| t.health.is_none();
        match task.action {
            A::Register | A::Cancel => self.0.retain(|t| !ours(t)),
            A::Heartbeat => {
                // A pending Register renews the lease and carries the instance as stored;
                // the heartbeat adds nothing to it.
                if self.0.iter().any(|t| t.action == A::Register) {
                    return;
                }
                self.0.retain(|t| !(ours(t) && t.action == A::Heartbeat));
            }
            A::StatusUpdate | A::DeleteStatusOverride => self.0.retain(|t| {
                !(ours(t)
                    && matches!(t.action, A::StatusUpdate | A::DeleteStatusOverride | A::Heartbeat))
            }),
        }
        self.0.push(task);
    }

    fn is_change(&self) -> bool {
        self.0.iter().any(|t| t.is_change())
    }
}

#[derive(Debug)]
struct Pending {
    seq: i64,
    writes: Writes,
    queued_at: Instant,
}

/// What the queue had to give up, for the peer's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Entries shed because the peer stayed unreachable with more entries waiting than the
    /// pool bound; each shedding schedules a resync, so nothing is lost for good.
    pub shed: u64,
    /// Resyncs sent: every instance held here offered to the peer again.
    pub resyncs: u64,
}

/// The writes waiting for one peer, one entry per instance, oldest entry first.
///
/// A newer write to an instance joins its entry (see `Writes::push`: a Register or Cancel
/// replaces what was pending, a heartbeat is absorbed by a pending Register) and the entry
/// keeps its place, so the peer sees one instance's writes in order and a busy instance is
/// not starved. Nothing expires and nothing is dropped while the peer answers: the queue is
/// bounded by the number of instances, and a slow peer only makes it drain later. Only
/// [`TaskQueue::shed`] (an unreachable peer) empties it, and then asks for a resync.
#[derive(Debug)]
pub struct TaskQueue {
    next_seq: i64,
    order: BTreeMap<i64, InstanceKey>,
    changes: BTreeMap<i64, Instant>,
    pending: HashMap<InstanceKey, Pending>,
    items: usize,
    dropped: Dropped,
    resync: bool,
}

impl Default for TaskQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl TaskQueue {
    /// An empty queue.
    pub fn new() -> Self {
        TaskQueue {
            next_seq: 0,
            order: BTreeMap::new(),
            changes: BTreeMap::new(),
            pending: HashMap::new(),
            items: 0,
            dropped: Dropped::default(),
            resync: false,
        }
    }

    /// Instances with writes waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// When the entry at the front was queued: how far behind the peer is. Requeued entries
    /// keep their first time, so retries do not hide the lag.
    pub fn oldest_queued_at(&self) -> Option<Instant> {
        self.order.first_key_value().map(|(_, k)| self.pending[k].queued_at)
    }

    /// What was given up so far.
    pub fn dropped(&self) -> Dropped {
        self.dropped
    }

    /// Queues a write: it joins the instance's pending entry, or starts one at the back.
    pub fn push(&mut self, task: Arc<ReplicationTask>, now: Instant) {
        let key = (task.app.clone(), task.id.clone());
        let change = task.is_change();
        if let Some(p) = self.pending.get_mut(&key) {
            self.items -= p.writes.0.len();
            p.writes.push(task);
            self.items += p.writes.0.len();
            if change {
                self.changes.entry(p.seq).or_insert(now);
            }
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut writes = Writes::default();
        writes.push(task);
        self.insert(seq, key, writes, now);
    }

    fn insert(&mut self, seq: i64, key: InstanceKey, writes: Writes, queued_at: Instant) {
        if writes.is_change() {
            self.changes.insert(seq, queued_at);
        }
        self.items += writes.0.len();
        self.order.insert(seq, key.clone());
        self.pending.insert(key, Pending { seq, writes, queued_at });
    }

    /// When the next batch should leave: at once when `batch_size` writes wait, when the
    /// oldest change has waited `change_delay`, or when the oldest entry of any kind has
    /// waited `heartbeat_delay`. `None` when the queue is empty.
    pub fn due(
        &self,
        batch_size: usize,
        change_delay: Duration,
        heartbeat_delay: Duration,
    ) -> Option<Instant> {
        let oldest = self.oldest_queued_at()?;
        if self.items >= batch_size {
            return Some(oldest);
        }
        let by_change = self.changes.first_key_value().map(|(_, at)| *at + change_delay);
        let by_any = oldest + heartbeat_delay;
        Some(by_change.map_or(by_any, |c| c.min(by_any)))
    }

    /// Takes whole entries from the front until the batch holds `max` writes (an entry is
    /// never split, so a batch may hold up to two more).
    pub fn take_batch(&mut self, max: usize) -> Vec<Queued> {
        let mut batch = Vec::with_capacity(max.min(self.items));
        while batch.len() < max {
            let Some((seq, key)) = self.order.pop_first() else { break };
            let Some(p) = self.pending.remove(&key) else { continue };
            self.changes.remove(&seq);
            self.items -= p.writes.0.len();
            let queued_at = p.queued_at;
            batch.extend(p.writes.0.into_iter().map(|task| Queued { task, queued_at }));
        }
        batch
    }

    /// Puts an unsent batch back at the front, in its order, keeping its age. Writes queued
    /// for the same instance since are newer, so they are merged in after the returned ones.
    pub fn requeue_front(&mut self, batch: Vec<Queued>) {
        let mut entries: Vec<(InstanceKey, Writes, Instant)> = Vec::new();
        let mut at: HashMap<InstanceKey, usize> = HashMap::new();
        for q in batch {
            let key = (q.task.app.clone(), q.task.id.clone());
            let slot = *at.entry(key.clone()).or_insert_with(|| {
                entries.push((key, Writes::default(), q.queued_at));
                entries.len() - 1
            });
            entries[slot].1.push(q.task);
        }
        let mut seq = self.order.first_key_value().map_or(self.next_seq, |(s, _)| *s);
        for (key, mut writes, queued_at) in entries.into_iter().rev() {
            if let Some(newer) = self.pending.remove(&key) {
                self.order.remove(&newer.seq);
                self.changes.remove(&newer.seq);
                self.items -= newer.writes.0.len();
                for task in newer.writes.0 {
                    writes.push(task);
                }
            }
            seq -= 1;
            self.insert(seq, key, writes, queued_at);
        }
    }

    /// Empties the queue of a peer that cannot take it (unreachable for longer than it is
    /// worth remembering single writes) and marks it for a resync; returns how many entries
    /// went.
    pub fn shed(&mut self) -> usize {
        let n = self.pending.len();
        self.order.clear();
        self.changes.clear();
        self.pending.clear();
        self.items = 0;
        self.dropped.shed += n as u64;
        self.resync = true;
        n
    }

    /// Whether a resync is owed; clears the mark and counts the resync.
    pub fn take_resync(&mut self) -> bool {
        let owed = std::mem::take(&mut self.resync);
        self.dropped.resyncs += u64::from(owed);
        owed
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

    fn actions(batch: &[Queued]) -> Vec<(ReplicationAction, String)> {
        batch.iter().map(|q| (q.task.action, q.task.id.clone())).collect()
    }

    fn register(id: &str) -> Arc<ReplicationTask> {
        Arc::new(ReplicationTask::register(instance(id)))
    }

    fn heartbeat(id: &str) -> Arc<ReplicationTask> {
        Arc::new(ReplicationTask::heartbeat(instance(id), None))
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
        let mut q = TaskQueue::new();
        q.push(
            Arc::new(ReplicationTask::status_update(served("a", InstanceStatus::OutOfService))),
            now,
        );
        q.push(Arc::new(down_task(false)), now);
        q.push(Arc::new(down_task(true)), now);
        q.push(register("a"), now);
        let batch = q.take_batch(10);
        assert_eq!(batch.len(), 2, "the second mark replaced the first; the register the override");
        assert!(batch[0].task.health.is_some(), "the mark survives a re-registration");
        assert_eq!(batch[1].task.action, ReplicationAction::Register);
    }

    #[test]
    fn the_last_health_verdict_is_sent_last() {
        let now = Instant::now();
        let lift = |action| {
            let verdict = HealthVerdict::Up { reported: InstanceStatus::Up };
            Arc::new(ReplicationTask::health(
                action,
                served("a", InstanceStatus::Up),
                verdict,
                true,
            ))
        };
        let mut q = TaskQueue::new();
        q.push(Arc::new(down_task(true)), now);
        q.push(lift(ReplicationAction::StatusUpdate), now);
        q.push(lift(ReplicationAction::DeleteStatusOverride), now);
        q.push(Arc::new(down_task(true)), now);
        q.push(heartbeat("a"), now);
        let kinds: Vec<_> = q.take_batch(10).iter().map(|b| health_kind(&b.task)).collect();
        assert_eq!(kinds, vec![2, 2, 1, 0], "lift, then the newer mark, then the heartbeat");
    }

    #[test]
    fn writes_to_one_instance_share_one_entry_in_their_order() {
        use ReplicationAction as A;
        let now = Instant::now();
        let mut q = TaskQueue::new();
        q.push(register("a"), now);
        q.push(Arc::new(ReplicationTask::cancel("ORDERS", "a")), now);
        q.push(register("b"), now);
        q.push(register("a"), now);
        q.push(heartbeat("a"), now);
        q.push(Arc::new(ReplicationTask::status_update(instance("a"))), now);
        assert_eq!(q.len(), 2);
        let batch = q.take_batch(10);
        assert_eq!(
            actions(&batch),
            vec![
                (A::Register, "a".into()),
                (A::StatusUpdate, "a".into()),
                (A::Register, "b".into())
            ],
            "a keeps its place; its register absorbed the heartbeat and replaced the cancel"
        );
    }

    #[test]
    fn a_queue_holds_one_entry_per_instance_however_many_writes() {
        let now = Instant::now();
        let mut q = TaskQueue::new();
        for _ in 0..50 {
            for id in ["a", "b", "c"] {
                q.push(heartbeat(id), now);
            }
        }
        assert_eq!(q.len(), 3);
        assert_eq!(q.dropped(), Dropped::default());
    }

    #[test]
    fn nothing_is_dropped_however_many() {
        let t0 = Instant::now();
        let mut q = TaskQueue::new();
        for n in 0..20_000 {
            q.push(register(&n.to_string()), t0);
        }
        let mut sent = 0;
        loop {
            let batch = q.take_batch(250);
            if batch.is_empty() {
                break;
            }
            sent += batch.len();
        }
        assert_eq!((sent, q.dropped()), (20_000, Dropped::default()));
        assert!(q.due(250, Duration::ZERO, Duration::ZERO).is_none());
    }

    #[test]
    fn changes_are_due_before_heartbeats() {
        let t0 = Instant::now();
        let change = Duration::from_millis(0);
        let hb = Duration::from_millis(500);
        let mut q = TaskQueue::new();
        assert_eq!(q.due(250, change, hb), None);
        q.push(heartbeat("a"), t0);
        assert_eq!(q.due(250, change, hb), Some(t0 + hb));
        let t1 = t0 + Duration::from_millis(100);
        q.push(Arc::new(ReplicationTask::cancel("ORDERS", "b")), t1);
        assert_eq!(q.due(250, change, hb), Some(t1));
        assert_eq!(q.due(2, change, hb), Some(t0), "a full batch leaves at once");
    }

    #[test]
    fn a_change_joining_a_heartbeat_entry_makes_it_due() {
        let t0 = Instant::now();
        let mut q = TaskQueue::new();
        q.push(heartbeat("a"), t0);
        let t1 = t0 + Duration::from_millis(10);
        q.push(Arc::new(ReplicationTask::status_update(instance("a"))), t1);
        assert_eq!(q.due(250, Duration::ZERO, Duration::from_secs(1)), Some(t1));
    }

    #[test]
    fn requeued_batch_goes_back_to_the_front_with_newer_writes_merged_after() {
        use ReplicationAction as A;
        let now = Instant::now();
        let mut q = TaskQueue::new();
        q.push(register("a"), now);
        q.push(register("b"), now);
        let batch = q.take_batch(10);
        q.push(register("c"), now);
        q.push(Arc::new(ReplicationTask::status_update(instance("b"))), now);
        q.requeue_front(batch);
        let again = q.take_batch(10);
        assert_eq!(
            actions(&again),
            vec![
                (A::Register, "a".into()),
                (A::Register, "b".into()),
                (A::StatusUpdate, "b".into()),
                (A::Register, "c".into()),
            ]
        );
        let newer_b = register("b");
        q.push(heartbeat("b"), now);
        q.requeue_front(vec![Queued { task: newer_b.clone(), queued_at: now }]);
        let last = q.take_batch(10);
        assert_eq!(actions(&last), vec![(A::Register, "b".into())], "the heartbeat is absorbed");
        assert!(Arc::ptr_eq(&last[0].task, &newer_b));
    }

    #[test]
    fn shedding_empties_the_queue_and_owes_one_resync() {
        let now = Instant::now();
        let mut q = TaskQueue::new();
        q.push(register("a"), now);
        q.push(register("b"), now);
        assert_eq!(q.shed(), 2);
        assert!(q.is_empty());
        assert!(q.take_resync());
        assert!(!q.take_resync());
        assert_eq!(q.dropped(), Dropped { shed: 2, resyncs: 1 });
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
