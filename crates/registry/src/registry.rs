//! The registry: leases by application and instance id, and every operation on them.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use eureka_model::{
    hash_code_of_counts, reconcile_hash_code, ActionType, Application, Applications, InstanceInfo,
    InstanceStatus,
};
use parking_lot::{Mutex, RwLock, RwLockUpgradableReadGuard};
use rand::Rng;

use crate::error::RegistryError;
use crate::health::{apply_health, HealthChange, HealthDown, HealthMark, InstanceHealth};
use crate::lease::{lease_duration_ms, renewal_interval_ms, Lease};
use crate::meter::RenewMeter;
use crate::overrides::{resolve_status, OverrideMap};
use crate::snapshot::{AppStamp, Snapshot, FULL_FETCH_VERSION};
use crate::Millis;

/// Who made a call: an instance (or operator), or a peer server replicating one.
///
/// Replicated calls are applied but never replicated again, and a few rules differ for them
/// (the lease-exists status rule, 409 conflicts on renew).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A client or operator talking to this server directly.
    Client,
    /// A peer server replicating a call it received.
    Peer,
}

/// The registry's behaviour switches, taken from the server configuration.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    /// Stop evicting when renewals fall under the threshold (`enable-self-preservation`).
    pub self_preservation: bool,
    /// Fraction of expected renewals under which self-preservation engages (0.85).
    pub renewal_percent_threshold: f64,
    /// Reproduce Java's `Lease.renew()` bug: leases expire 2 × duration after a renew.
    pub legacy_double_lease_expiry: bool,
    /// Compare `lastDirtyTimestamp` on renew and answer 404/409 when copies differ.
    pub sync_when_timestamp_differs: bool,
    /// How long changes stay in the delta queue (180 s).
    pub delta_retention_ms: Millis,
    /// How many changes the change log keeps for watchers to resume from (10,000).
    pub change_log_capacity: usize,
}

/// Default of [`RegistrySettings::change_log_capacity`].
pub const DEFAULT_CHANGE_LOG_CAPACITY: usize = 10_000;

impl Default for RegistrySettings {
    fn default() -> Self {
        RegistrySettings {
            self_preservation: true,
            renewal_percent_threshold: 0.85,
            legacy_double_lease_expiry: false,
            sync_when_timestamp_differs: true,
            delta_retention_ms: 180_000,
            change_log_capacity: DEFAULT_CHANGE_LOG_CAPACITY,
        }
    }
}

/// Parameters of a renew (heartbeat) beyond app and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewRequest {
    /// The caller's `lastDirtyTimestamp`, when it sent one.
    pub last_dirty_timestamp: Option<Millis>,
    /// The override a peer holds for the instance (`overriddenstatus`), peers only.
    pub overridden_status: Option<InstanceStatus>,
    /// Who renews.
    pub origin: Origin,
}

/// A successful renew; every variant means the lease *was* renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewOutcome {
    /// Copies agree (HTTP 200).
    Renewed,
    /// The caller holds newer data than this server (HTTP 404, so it re-registers).
    CallerNewer,
    /// A peer holds older data than this server (HTTP 409 with this copy as the body).
    Conflict(Arc<InstanceInfo>),
}

/// What happened to a lease, in the console's "recent events".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Registered (or re-registered).
    Registered,
    /// Cancelled by a client, an operator or a peer.
    Cancelled,
    /// Evicted because its lease expired.
    Evicted,
    /// Marked DOWN by a server-side health check.
    MarkedDown,
    /// Its health check's DOWN mark was lifted (the check passes again).
    MarkedUp,
    /// A status override set (by an operator, a drain, or a peer replicating one).
    OverrideSet,
    /// A status override removed.
    OverrideRemoved,
}

impl EventKind {
    /// The upper-case name the console shows.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Registered => "REGISTERED",
            EventKind::Cancelled => "CANCELLED",
            EventKind::Evicted => "EVICTED",
            EventKind::MarkedDown => "MARKED_DOWN",
            EventKind::MarkedUp => "MARKED_UP",
            EventKind::OverrideSet => "OVERRIDE_SET",
            EventKind::OverrideRemoved => "OVERRIDE_REMOVED",
        }
    }
}

/// Who made a write and why, kept with it in the recent events (the console's "who changed
/// it"). Replication does not carry it: a peer's copy of an operator's action shows as
/// `Origin::Peer` without user or reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A client or operator, or a peer replicating.
    pub origin: Origin,
    /// The authenticated user that asked (with security on).
    pub user: Option<Arc<str>>,
    /// The reason an operator gave.
    pub reason: Option<String>,
    /// The call that made the change when it is not the plain one (e.g. `drain`).
    pub via: Option<&'static str>,
}

impl Actor {
    /// A call from a client or operator with nothing more to say.
    pub fn client() -> Self {
        Actor { origin: Origin::Client, user: None, reason: None, via: None }
    }

    /// A call from `origin` with nothing more to say.
    pub fn of(origin: Origin) -> Self {
        Actor { origin, ..Actor::client() }
    }
}

/// One entry of the recent-events logs shown on the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentEvent {
    /// When it happened, epoch ms.
    pub at: Millis,
    /// Application name.
    pub app: String,
    /// Instance id.
    pub id: String,
    /// Registered, cancelled, evicted, override set or removed.
    pub kind: EventKind,
    /// The status registered with, or the override set; `None` for the others.
    pub status: Option<InstanceStatus>,
    /// Who did it, and why. Evictions are the registry's own (`Origin::Client`, no user).
    pub actor: Actor,
}

/// The live timing of one lease, which snapshots do not carry (renewals do not advance the
/// registry version, so a snapshot's `lastRenewalTimestamp` may be older).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseTiming {
    /// Application name.
    pub app: String,
    /// Instance id.
    pub id: String,
    /// When the lease was (last) registered, epoch ms.
    pub registered_at: Millis,
    /// The last renewal, epoch ms (the registration if never renewed).
    pub last_renewal: Millis,
    /// When the lease expires unless renewed, epoch ms.
    pub expires_at: Millis,
    /// A health check's DOWN mark on it, when there is one (its reason and since when, for
    /// tools that list problems).
    pub health_down: Option<HealthDown>,
}

/// Figures about the registry for `status`, the console and metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryStats {
    /// Registry version.
    pub version: u64,
    /// Applications with at least one instance.
    pub applications: usize,
    /// Registered instances (leases).
    pub instances: usize,
    /// Renewals counted in the last complete minute.
    pub renews_last_min: u64,
    /// Renewals per minute the registered leases promise (from their own intervals).
    pub expected_renews_per_min: f64,
    /// `floor(expected × renewal-percent-threshold)`; renewals must exceed it to evict.
    pub renew_threshold: u64,
    /// Whether self-preservation is configured on.
    pub self_preservation_enabled: bool,
    /// Whether eviction may run now.
    pub lease_expiration_enabled: bool,
    /// Status overrides currently held.
    pub overrides: usize,
    /// Entries in the delta queue.
    pub delta_queue_len: usize,
    /// Full snapshots built so far (one per registry version that was read).
    pub snapshot_builds: u64,
    /// Time spent building those snapshots, in total.
    pub snapshot_build_time: Duration,
}

/// Instances of one application in one status, for the per-app gauges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    /// Application name.
    pub app: String,
    /// The instances' status.
    pub status: InstanceStatus,
    /// How many instances of `app` are in `status`.
    pub count: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct PreservationState {
    /// False until the first renew-meter tick: nothing is evicted in the first minute.
    ready: bool,
    renews_last_min: u64,
    expected_per_min: f64,
}

/// One visible change, as the change log keeps it: the version it produced and the instance
/// as stored by it (its `actionType` says ADDED, MODIFIED or DELETED).
#[derive(Debug, Clone)]
pub struct Change {
    /// The registry version this change advanced the registry to.
    pub version: u64,
    /// The instance after the change (for a cancel: its last state, marked DELETED).
    pub instance: Arc<InstanceInfo>,
}

/// What [`Registry::changes_since`] found.
#[derive(Debug, Clone)]
pub enum ChangesSince {
    /// Every change after the asked version, oldest first (empty when there is none).
    Changes(Vec<Change>),
    /// Some change after the asked version is no longer retained (or the version is from
    /// another registry): the caller must start again from a snapshot.
    Gone,
}

/// Called with the new version after every visible change, under the registry's write lock:
/// it must be quick and must not call back into the registry.
pub type ChangeListener = Box<dyn Fn(u64) + Send + Sync>;

struct Listener(ChangeListener);

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangeListener")
    }
}

#[derive(Debug)]
struct DeltaEntry {
    at: Millis,
    instance: Arc<InstanceInfo>,
}

const RECENT_EVENTS_CAPACITY: usize = 1000;

/// How old (in lease time) an unchanged application's content in a snapshot may get before
/// it is taken again; each application adds up to as much again, so refreshes spread out
/// instead of all landing on one rebuild.
pub const APP_REFRESH_MS: Millis = 30_000;

/// [`APP_REFRESH_MS`] plus a spread fixed per application name.
fn refresh_after_ms(name: &str) -> Millis {
    use std::hash::{Hash, Hasher};
    // SipHash with fixed keys: the same spread on every run and node.
    let mut h = std::hash::DefaultHasher::new();
    name.hash(&mut h);
    APP_REFRESH_MS + h.finish() % APP_REFRESH_MS
}

#[derive(Debug, Default)]
struct Inner {
    apps: HashMap<String, HashMap<String, Lease>>,
    leases: usize,
    overrides: OverrideMap,
    delta: VecDeque<DeltaEntry>,
    /// The last changes by version, contiguous (each change adds exactly one entry).
    changes: VecDeque<Change>,
    recent_registered: VecDeque<RecentEvent>,
    recent_cancelled: VecDeque<RecentEvent>,
    recent_health: VecDeque<RecentEvent>,
    recent_overrides: VecDeque<RecentEvent>,
    /// Per application, the version of its last visible change: a snapshot reuses an
    /// application's previous content while nothing changed in it.
    app_changed: HashMap<String, u64>,
    /// Lease time of the newest change; a snapshot is only rebuilt after one, so this is
    /// "now" for the age of reused applications.
    last_change_at: Millis,
    /// Leases per status (by `status_index`), kept by `record_change`: the delta's hash of
    /// the whole registry without a walk over every lease.
    status_counts: [usize; 5],
}

impl Inner {
    fn lease(&self, app: &str, id: &str) -> Option<&Lease> {
        self.apps.get(app)?.get(id)
    }

    fn lease_mut(&mut self, app: &str, id: &str) -> Option<&mut Lease> {
        self.apps.get_mut(app)?.get_mut(id)
    }
}

fn push_capped(log: &mut VecDeque<RecentEvent>, event: RecentEvent) {
    if log.len() == RECENT_EVENTS_CAPACITY {
        log.pop_front();
    }
    log.push_back(event);
}

fn push_override_event(
    inner: &mut Inner,
    app: &str,
    id: &str,
    kind: EventKind,
    status: Option<InstanceStatus>,
    actor: &Actor,
    now: Millis,
) {
    let event = RecentEvent {
        at: now,
        app: app.to_string(),
        id: id.to_string(),
        kind,
        status,
        actor: actor.clone(),
    };
    push_capped(&mut inner.recent_overrides, event);
}

/// Java raises the stored `lastDirtyTimestamp` to a caller's newer one on status changes.
fn raise_dirty(info: &mut InstanceInfo, caller: Option<Millis>) {
    if let Some(t) = caller {
        info.last_dirty_timestamp = info.last_dirty_timestamp.max(t);
    }
}

/// Every status, in the order [`Registry::status_counts`] lists them.
const ALL_STATUSES: [InstanceStatus; 5] = [
    InstanceStatus::Up,
    InstanceStatus::Down,
    InstanceStatus::Starting,
    InstanceStatus::OutOfService,
    InstanceStatus::Unknown,
];

fn status_index(status: InstanceStatus) -> usize {
    match status {
        InstanceStatus::Up => 0,
        InstanceStatus::Down => 1,
        InstanceStatus::Starting => 2,
        InstanceStatus::OutOfService => 3,
        InstanceStatus::Unknown => 4,
    }
}

fn not_found(app: &str, id: &str) -> RegistryError {
    RegistryError::NotFound { app: app.to_string(), id: id.to_string() }
}

fn not_owner(app: &str, id: &str) -> RegistryError {
    RegistryError::NotOwner { app: app.to_string(), id: id.to_string() }
}

/// The registry of leases. All methods take `&self` and are safe to call concurrently.
///
/// Writes take a short write lock; a renew takes only a read lock and stores one timestamp.
/// Every visible change advances [`Registry::version`], which keys all cached encodings.
#[derive(Debug)]
pub struct Registry {
    settings: RegistrySettings,
    inner: RwLock<Inner>,
    version: AtomicU64,
    delta_epoch: AtomicU64,
    meter: RenewMeter,
    preservation: Mutex<PreservationState>,
    snapshot_cache: Mutex<Option<Snapshot>>,
    delta_cache: Mutex<Option<(u64, u64, Arc<Applications>)>>,
    snapshot_builds: AtomicU64,
    snapshot_build_nanos: AtomicU64,
    listener: OnceLock<Listener>,
}

impl Registry {
    /// An empty registry.
    pub fn new(settings: RegistrySettings) -> Self {
        Registry {
            settings,
            inner: RwLock::new(Inner::default()),
            version: AtomicU64::new(0),
            delta_epoch: AtomicU64::new(0),
            meter: RenewMeter::default(),
            preservation: Mutex::new(PreservationState::default()),
            snapshot_cache: Mutex::new(None),
            delta_cache: Mutex::new(None),
            snapshot_builds: AtomicU64::new(0),
            snapshot_build_nanos: AtomicU64::new(0),
            listener: OnceLock::new(),
        }
    }

    /// Installs the one function told of every new version (the server wakes its watchers
    /// with it; the registry itself stays free of any async runtime). A second call is
    /// ignored and returns false.
    pub fn set_change_listener(&self, listener: ChangeListener) -> bool {
        self.listener.set(Listener(listener)).is_ok()
    }

    /// Every change after version `after`, oldest first, or [`ChangesSince::Gone`] when one
    /// of them has left the log (capacity [`RegistrySettings::change_log_capacity`]) or
    /// `after` is newer than this registry. At most `max` changes are returned; ask again
    /// from the last one's version for more.
    pub fn changes_since(&self, after: u64, max: usize) -> ChangesSince {
        let inner = self.inner.read();
        let current = self.version();
        if after > current {
            return ChangesSince::Gone;
        }
        let first = inner.changes.front().map_or(current + 1, |c| c.version);
        if after + 1 < first {
            return ChangesSince::Gone;
        }
        let skip = usize::try_from(after + 1 - first).unwrap_or(usize::MAX);
        ChangesSince::Changes(inner.changes.iter().skip(skip).take(max).cloned().collect())
    }

    /// The settings this registry runs with.
    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    /// The current version; it advances with every change a reader could see.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Records a visible change: `before` is the status the lease had (`None` for a new
    /// lease), `instance` the state after (marked DELETED when the lease is gone).
    fn record_change(
        &self,
        inner: &mut Inner,
        before: Option<InstanceStatus>,
        instance: Arc<InstanceInfo>,
        now: Millis,
    ) {
        if let Some(status) = before {
            inner.status_counts[status_index(status)] -= 1;
        }
        if instance.action_type != Some(ActionType::Deleted) {
            inner.status_counts[status_index(instance.status)] += 1;
        }
        inner.delta.push_back(DeltaEntry { at: now, instance: instance.clone() });
        // Under the write lock, so versions and log entries advance together.
        let version = self.version.fetch_add(1, Ordering::AcqRel) + 1;
        if inner.changes.len() >= self.settings.change_log_capacity.max(1) {
            inner.changes.pop_front();
        }
        // Only applications that still exist are tracked; an emptied one is forgotten.
        if !inner.apps.contains_key(&instance.app) {
            inner.app_changed.remove(&instance.app);
        } else if let Some(at) = inner.app_changed.get_mut(&instance.app) {
            *at = version;
        } else {
            inner.app_changed.insert(instance.app.clone(), version);
        }
        inner.last_change_at = inner.last_change_at.max(now);
        inner.changes.push_back(Change { version, instance });
        if let Some(Listener(listener)) = self.listener.get() {
            listener(version);
        }
    }

    /// Registers (or re-registers) an already validated and normalised instance.
    ///
    /// Follows Java's `AbstractInstanceRegistry.register`: a stored copy with a strictly newer
    /// `lastDirtyTimestamp` wins over the incoming one, an override travels with the
    /// registration, the status goes through the override rule chain, and the change is
    /// queued as `ADDED`. Returns the instance as stored.
    pub fn register(
        &self,
        incoming: InstanceInfo,
        origin: Origin,
        now: Millis,
    ) -> Arc<InstanceInfo> {
        let mut inner = self.inner.write();
        self.register_locked(&mut inner, incoming, origin, None, now)
    }

    /// [`Registry::register`] on behalf of a user: refused with [`RegistryError::NotOwner`]
    /// when another user owns the instance; otherwise the user owns it from now on (an owner
    /// survives re-registrations, including replicated ones, until the lease ends).
    pub fn register_as(
        &self,
        incoming: InstanceInfo,
        origin: Origin,
        user: &Arc<str>,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        let mut inner = self.inner.write();
        if let Some(lease) = inner.lease(&incoming.app, incoming.id()) {
            if !lease.admits(user) {
                return Err(not_owner(&incoming.app, incoming.id()));
            }
        }
        Ok(self.register_locked(&mut inner, incoming, origin, Some(user), now))
    }

    /// The user that owns an instance on this node, if any.
    pub fn owner(&self, app: &str, id: &str) -> Option<Arc<str>> {
        self.inner.read().lease(app, id).and_then(|l| l.owner.get().cloned())
    }

    fn register_locked(
        &self,
        inner: &mut Inner,
        mut incoming: InstanceInfo,
        origin: Origin,
        claim: Option<&Arc<str>>,
        now: Millis,
    ) -> Arc<InstanceInfo> {
        if incoming.last_dirty_timestamp == 0 {
            incoming.last_dirty_timestamp = now;
        }
        let app = incoming.app.clone();
        let id = incoming.id().to_string();
        let duration_ms = lease_duration_ms(&incoming.lease_info);

        let existing = inner.lease(&app, &id);
        let owner = existing.and_then(|l| l.owner.get()).or(claim).cloned();
        let existing_status = existing.map(|l| l.reported());
        let mut health = existing.and_then(|l| l.health.clone());
        let service_up_before = existing.map_or(0, |l| l.service_up_ts);
        let mut registrant = match existing {
            Some(l) if l.instance.last_dirty_timestamp > incoming.last_dirty_timestamp => {
                let mut kept = (*l.instance).clone();
                kept.status = l.reported();
                kept
            }
            _ => incoming,
        };
        // A peer's copy of an instance marked DOWN here says DOWN because of the mark (a Java
        // peer even holds it as a DOWN override): an echo, not the instance's own word.
        let echo = origin == Origin::Peer && health.is_some();
        if echo && registrant.overridden_status == InstanceStatus::Down {
            registrant.overridden_status = InstanceStatus::Unknown;
        }
        if registrant.overridden_status != InstanceStatus::Unknown
            && !inner.overrides.contains(&id, now)
        {
            inner.overrides.put(&id, registrant.overridden_status, now);
        }
        let override_status = inner.overrides.get(&id, now);
        if let Some(o) = override_status {
            registrant.overridden_status = o;
        }
        let own = match (echo && registrant.status == InstanceStatus::Down, existing_status) {
            (true, Some(kept)) => kept,
            _ => resolve_status(registrant.status, override_status, existing_status, origin),
        };
        if let Some(h) = &mut health {
            h.reported = own;
        }
        registrant.status = apply_health(own, health.is_some());
        let service_up_ts = match (service_up_before, registrant.status) {
            (0, InstanceStatus::Up) => now,
            (ts, _) => ts,
        };
        registrant.action_type = Some(ActionType::Added);
        registrant.last_updated_timestamp = now;
        registrant.lease_info.registration_timestamp = now;
        registrant.lease_info.last_renewal_timestamp = now;
        registrant.lease_info.eviction_timestamp = 0;
        registrant.lease_info.service_up_timestamp = service_up_ts;
        let stored = Arc::new(registrant);

        let mut lease = Lease::new(stored.clone(), now, service_up_ts);
        lease.duration_ms = duration_ms;
        if let Some(owner) = owner {
            let _ = lease.owner.set(owner);
        }
        lease.health = health;
        let replaced = inner.apps.entry(app.clone()).or_default().insert(id.clone(), lease);
        if replaced.is_none() {
            inner.leases += 1;
        }
        let actor = Actor { user: claim.cloned(), ..Actor::of(origin) };
        let status = Some(stored.status);
        push_capped(
            &mut inner.recent_registered,
            RecentEvent { at: now, app, id, kind: EventKind::Registered, status, actor },
        );
        self.record_change(inner, replaced.map(|l| l.instance.status), stored.clone(), now);
        stored
    }

    /// Renews a lease (Java's `renew` plus the resource's `lastDirtyTimestamp` rule).
    ///
    /// `NotFound` when there is no lease, or when the rule chain resolves to UNKNOWN (how a
    /// deleted override forces the client to re-register). A status the rule chain changes
    /// is stored and queued as `MODIFIED` (Java changes it silently, leaving caches stale).
    pub fn renew(
        &self,
        app: &str,
        id: &str,
        req: RenewRequest,
        now: Millis,
    ) -> Result<RenewOutcome, RegistryError> {
        self.renew_checked(app, id, req, None, now)
    }

    /// [`Registry::renew`] on behalf of a user: [`RegistryError::NotOwner`] when another user
    /// owns the instance; an unowned one (learned from a peer) becomes the user's.
    pub fn renew_as(
        &self,
        app: &str,
        id: &str,
        req: RenewRequest,
        user: &Arc<str>,
        now: Millis,
    ) -> Result<RenewOutcome, RegistryError> {
        self.renew_checked(app, id, req, Some(user), now)
    }

    fn renew_checked(
        &self,
        app: &str,
        id: &str,
        req: RenewRequest,
        user: Option<&Arc<str>>,
        now: Millis,
    ) -> Result<RenewOutcome, RegistryError> {
        let stored_dirty;
        {
            let inner = self.inner.read();
            let lease = inner.lease(app, id).ok_or_else(|| not_found(app, id))?;
            if user.is_some_and(|user| !lease.admits(user)) {
                return Err(not_owner(app, id));
            }
            let current = lease.instance.status;
            let reported = lease.reported();
            let own =
                resolve_status(reported, inner.overrides.get(id, now), Some(reported), req.origin);
            if own == InstanceStatus::Unknown {
                return Err(not_found(app, id));
            }
            if own == reported && apply_health(own, lease.health.is_some()) == current {
                lease.renew(now);
                stored_dirty = lease.instance.last_dirty_timestamp;
            } else {
                drop(inner);
                stored_dirty = self.renew_with_status_change(app, id, req.origin, now)?;
            }
        }
        self.meter.record();

        let Some(caller_dirty) =
            req.last_dirty_timestamp.filter(|_| self.settings.sync_when_timestamp_differs)
        else {
            return Ok(RenewOutcome::Renewed);
        };
        if caller_dirty > stored_dirty {
            if req.origin == Origin::Peer {
                if let Some(o) = req.overridden_status.filter(|s| *s != InstanceStatus::Unknown) {
                    self.store_override_if_required(app, id, o, now);
                }
            }
            return Ok(RenewOutcome::CallerNewer);
        }
        if caller_dirty < stored_dirty && req.origin == Origin::Peer {
            if let Some(current) = self.get_instance(app, id) {
                return Ok(RenewOutcome::Conflict(current));
            }
        }
        Ok(RenewOutcome::Renewed)
    }

    fn renew_with_status_change(
        &self,
        app: &str,
        id: &str,
        origin: Origin,
        now: Millis,
    ) -> Result<Millis, RegistryError> {
        let mut inner = self.inner.write();
        let override_status = inner.overrides.get(id, now);
        let lease = inner.lease_mut(app, id).ok_or_else(|| not_found(app, id))?;
        let current = lease.instance.status;
        let reported = lease.reported();
        let own = resolve_status(reported, override_status, Some(reported), origin);
        if own == InstanceStatus::Unknown {
            return Err(not_found(app, id));
        }
        lease.renew(now);
        let dirty = lease.instance.last_dirty_timestamp;
        if let Some(h) = &mut lease.health {
            h.reported = own;
        }
        let resolved = apply_health(own, lease.health.is_some());
        if resolved != current {
            if resolved == InstanceStatus::Up {
                lease.service_up(now);
            }
            let updated = lease.modify(now, |i| i.status = resolved);
            self.record_change(&mut inner, Some(current), updated, now);
        }
        Ok(dirty)
    }

    /// Java's `storeOverriddenStatusIfRequired`: learn a peer's override for an instance.
    fn store_override_if_required(&self, app: &str, id: &str, status: InstanceStatus, now: Millis) {
        let mut inner = self.inner.write();
        if inner.overrides.get(id, now) == Some(status) {
            return;
        }
        // A Java peer holds our health mark as a DOWN override and sends it back with its
        // heartbeats: not an operator's.
        if status == InstanceStatus::Down
            && inner.lease(app, id).is_some_and(|l| l.health.is_some())
        {
            return;
        }
        inner.overrides.put(id, status, now);
        if let Some(lease) = inner.lease_mut(app, id) {
            let before = lease.instance.status;
            let updated = lease.modify(now, |i| i.overridden_status = status);
            self.record_change(&mut inner, Some(before), updated, now);
        }
    }

    /// Cancels a lease (explicit cancel or eviction). The id's override is dropped either way.
    /// Returns the instance as it was, marked `DELETED`.
    pub fn cancel(
        &self,
        app: &str,
        id: &str,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        self.cancel_by(app, id, None, &Actor::client(), now)
    }

    /// [`Registry::cancel`] on behalf of a user: [`RegistryError::NotOwner`] (and nothing
    /// changes) when another user owns the instance.
    pub fn cancel_as(
        &self,
        app: &str,
        id: &str,
        user: &Arc<str>,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        let actor = Actor { user: Some(user.clone()), ..Actor::client() };
        self.cancel_by(app, id, Some(user), &actor, now)
    }

    /// [`Registry::cancel`] recording `actor` in the recent events; with `owner`, refused
    /// with [`RegistryError::NotOwner`] (and nothing changes) when another user owns it.
    pub fn cancel_by(
        &self,
        app: &str,
        id: &str,
        owner: Option<&Arc<str>>,
        actor: &Actor,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        let mut inner = self.inner.write();
        if let Some(user) = owner {
            if inner.lease(app, id).is_some_and(|l| !l.admits(user)) {
                return Err(not_owner(app, id));
            }
        }
        self.cancel_locked(&mut inner, app, id, EventKind::Cancelled, actor, now)
    }

    /// Removes a lease; `kind` (cancelled or evicted) and `actor` are what the recent-events
    /// log records.
    fn cancel_locked(
        &self,
        inner: &mut Inner,
        app: &str,
        id: &str,
        kind: EventKind,
        actor: &Actor,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        inner.overrides.remove(id, now);
        let instances = inner.apps.get_mut(app).ok_or_else(|| not_found(app, id))?;
        let lease = instances.remove(id).ok_or_else(|| not_found(app, id))?;
        if instances.is_empty() {
            inner.apps.remove(app);
        }
        inner.leases -= 1;
        let mut gone = (*lease.instance).clone();
        gone.action_type = Some(ActionType::Deleted);
        gone.last_updated_timestamp = now;
        gone.lease_info = lease.wire_lease_info(self.settings.legacy_double_lease_expiry);
        gone.lease_info.eviction_timestamp = now;
        let gone = Arc::new(gone);
        push_capped(
            &mut inner.recent_cancelled,
            RecentEvent {
                at: now,
                app: app.to_string(),
                id: id.to_string(),
                kind,
                status: None,
                actor: actor.clone(),
            },
        );
        self.record_change(inner, Some(lease.instance.status), gone.clone(), now);
        Ok(gone)
    }

    /// Sets an operator status override (Java's `statusUpdate`). Renews the lease; changes
    /// nothing else when the instance already has that status. Returns the instance as
    /// stored afterwards.
    pub fn set_status_override(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: Option<Millis>,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        self.set_status_override_by(app, id, status, last_dirty_timestamp, &Actor::client(), now)
    }

    /// [`Registry::set_status_override`], recording `actor` in the recent events (even when
    /// the instance already had that status: the operator's action is what is recorded).
    pub fn set_status_override_by(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: Option<Millis>,
        actor: &Actor,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        let mut inner = self.inner.write();
        let lease = inner.lease_mut(app, id).ok_or_else(|| not_found(app, id))?;
        lease.renew(now);
        let unchanged = lease.reported() == status;
        let current = lease.instance.clone();
        push_override_event(&mut inner, app, id, EventKind::OverrideSet, Some(status), actor, now);
        if unchanged {
            return Ok(current);
        }
        let lease = inner.lease_mut(app, id).ok_or_else(|| not_found(app, id))?;
        if let Some(h) = &mut lease.health {
            h.reported = status;
        }
        let served = apply_health(status, lease.health.is_some());
        if served == InstanceStatus::Up {
            lease.service_up(now);
        }
        let before = lease.instance.status;
        let updated = lease.modify(now, |i| {
            i.overridden_status = status;
            i.status = served;
            raise_dirty(i, last_dirty_timestamp);
        });
        inner.overrides.put(id, status, now);
        self.record_change(&mut inner, Some(before), updated.clone(), now);
        Ok(updated)
    }

    /// Removes an operator override (Java's `deleteStatusOverride`) and sets `new_status`
    /// (UNKNOWN by default, which makes the next heartbeat 404 so the client re-registers).
    pub fn delete_status_override(
        &self,
        app: &str,
        id: &str,
        new_status: InstanceStatus,
        last_dirty_timestamp: Option<Millis>,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        let actor = Actor::client();
        self.delete_status_override_by(app, id, new_status, last_dirty_timestamp, &actor, now)
    }

    /// [`Registry::delete_status_override`], recording `actor` in the recent events when
    /// there was an override to remove.
    pub fn delete_status_override_by(
        &self,
        app: &str,
        id: &str,
        new_status: InstanceStatus,
        last_dirty_timestamp: Option<Millis>,
        actor: &Actor,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        let mut inner = self.inner.write();
        if inner.lease(app, id).is_none() {
            return Err(not_found(app, id));
        }
        let had_override = inner.overrides.remove(id, now).is_some();
        if had_override {
            push_override_event(&mut inner, app, id, EventKind::OverrideRemoved, None, actor, now);
        }
        let lease = inner.lease_mut(app, id).ok_or_else(|| not_found(app, id))?;
        lease.renew(now);
        if !had_override {
            return Ok(lease.instance.clone());
        }
        let before = lease.instance.status;
        if let Some(h) = &mut lease.health {
            h.reported = new_status;
        }
        let served = apply_health(new_status, lease.health.is_some());
        let updated = lease.modify(now, |i| {
            i.overridden_status = InstanceStatus::Unknown;
            i.status = served;
            raise_dirty(i, last_dirty_timestamp);
        });
        self.record_change(&mut inner, Some(before), updated.clone(), now);
        Ok(updated)
    }

    /// Marks an instance DOWN on a health check's verdict. The mark stays until
    /// [`Registry::lift_health_down`] or the end of the lease: heartbeats and
    /// re-registrations keep it. The served status becomes DOWN unless something stronger
    /// holds it (an operator's override other than UP, or the instance's own STARTING or
    /// DOWN); when it changes, the version advances and the change enters the delta and the
    /// change log. An instance already marked keeps its first mark.
    pub fn mark_health_down(
        &self,
        app: &str,
        id: &str,
        mark: HealthMark,
        now: Millis,
    ) -> Result<HealthChange, RegistryError> {
        let mut inner = self.inner.write();
        let lease = inner.lease_mut(app, id).ok_or_else(|| not_found(app, id))?;
        if lease.health.is_some() {
            return Ok(HealthChange {
                instance: lease.instance.clone(),
                mark_changed: false,
                status_changed: false,
            });
        }
        let reported = lease.instance.status;
        let reason = mark.reason.to_string();
        lease.health =
            Some(HealthDown { reason: mark.reason, since: mark.since, by: mark.by, reported });
        let served = apply_health(reported, true);
        let status_changed = served != reported;
        let instance = if status_changed {
            let updated = lease.modify(now, |i| i.status = served);
            self.record_change(&mut inner, Some(reported), updated.clone(), now);
            updated
        } else {
            lease.instance.clone()
        };
        push_capped(
            &mut inner.recent_health,
            RecentEvent {
                at: now,
                app: app.to_string(),
                id: id.to_string(),
                kind: EventKind::MarkedDown,
                status: None,
                // The check's reason, as an operator's override carries theirs.
                actor: Actor { reason: Some(reason), ..Actor::client() },
            },
        );
        Ok(HealthChange { instance, mark_changed: true, status_changed })
    }

    /// Lifts a health check's DOWN mark: the instance returns to the status it reports
    /// (through the override chain). Without a mark here, an instance served DOWN returns to
    /// `reported` when given (the marking node's view, for a copy taken while it was DOWN,
    /// e.g. at start-up); otherwise nothing changes.
    pub fn lift_health_down(
        &self,
        app: &str,
        id: &str,
        reported: Option<InstanceStatus>,
        now: Millis,
    ) -> Result<HealthChange, RegistryError> {
        let mut inner = self.inner.write();
        let override_status = inner.overrides.get(id, now);
        let lease = inner.lease_mut(app, id).ok_or_else(|| not_found(app, id))?;
        let current = lease.instance.status;
        let (own, mark_changed) = match lease.health.take() {
            Some(h) => (h.reported, true),
            None => match reported {
                Some(r) if current == InstanceStatus::Down => {
                    (resolve_status(r, override_status, None, Origin::Peer), false)
                }
                _ => (current, false),
            },
        };
        let status_changed = own != current;
        let instance = if status_changed {
            if own == InstanceStatus::Up {
                lease.service_up(now);
            }
            let updated = lease.modify(now, |i| i.status = own);
            self.record_change(&mut inner, Some(current), updated.clone(), now);
            updated
        } else {
            lease.instance.clone()
        };
        if mark_changed {
            push_capped(
                &mut inner.recent_health,
                RecentEvent {
                    at: now,
                    app: app.to_string(),
                    id: id.to_string(),
                    kind: EventKind::MarkedUp,
                    status: None,
                    actor: Actor::client(),
                },
            );
        }
        Ok(HealthChange { instance, mark_changed, status_changed })
    }

    /// Every instance with its health mark, sorted by application then id: one read-locked
    /// walk that copies pointers, for the health checker's rounds and the console.
    pub fn health_view(&self) -> Vec<InstanceHealth> {
        let inner = self.inner.read();
        let mut out: Vec<InstanceHealth> = inner
            .apps
            .values()
            .flat_map(|m| m.values())
            .map(|l| InstanceHealth { instance: l.instance.clone(), down: l.health.clone() })
            .collect();
        drop(inner);
        out.sort_unstable_by(|a, b| {
            (&a.instance.app, a.instance.id()).cmp(&(&b.instance.app, b.instance.id()))
        });
        out
    }

    /// The health mark of one instance, if it has one.
    pub fn health_of(&self, app: &str, id: &str) -> Option<HealthDown> {
        self.inner.read().lease(app, id).and_then(|l| l.health.clone())
    }

    /// Instances marked DOWN by health checks now.
    pub fn health_marked(&self) -> usize {
        self.inner
            .read()
            .apps
            .values()
            .flat_map(|m| m.values())
            .filter(|l| l.health.is_some())
            .count()
    }

    /// Merges metadata into an instance and re-registers it as a client registration, as
    /// Java does (so it is replicated as a Register and shows in the delta as `ADDED`).
    /// The client overwrites it on its next re-registration, as with Java.
    pub fn update_metadata(
        &self,
        app: &str,
        id: &str,
        entries: impl IntoIterator<Item = (String, String)>,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        self.update_metadata_checked(app, id, entries, None, now)
    }

    /// [`Registry::update_metadata`] on behalf of a user: [`RegistryError::NotOwner`] when
    /// another user owns the instance.
    pub fn update_metadata_as(
        &self,
        app: &str,
        id: &str,
        entries: impl IntoIterator<Item = (String, String)>,
        user: &Arc<str>,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        self.update_metadata_checked(app, id, entries, Some(user), now)
    }

    fn update_metadata_checked(
        &self,
        app: &str,
        id: &str,
        entries: impl IntoIterator<Item = (String, String)>,
        user: Option<&Arc<str>>,
        now: Millis,
    ) -> Result<Arc<InstanceInfo>, RegistryError> {
        let mut inner = self.inner.write();
        let lease = inner.lease(app, id).ok_or_else(|| not_found(app, id))?;
        if user.is_some_and(|user| !lease.admits(user)) {
            return Err(not_owner(app, id));
        }
        let mut info = (*lease.instance).clone();
        info.metadata.extend(entries);
        Ok(self.register_locked(&mut inner, info, Origin::Client, None, now))
    }

    /// One instance with its live lease timestamps.
    pub fn get_instance(&self, app: &str, id: &str) -> Option<Arc<InstanceInfo>> {
        let inner = self.inner.read();
        inner.lease(app, id).map(|l| self.decorate(l))
    }

    /// The stored instance and the override held for it, cheaply (no lease decoration):
    /// what a heartbeat replicated to peers carries.
    pub fn replica(
        &self,
        app: &str,
        id: &str,
        now: Millis,
    ) -> Option<(Arc<InstanceInfo>, Option<InstanceStatus>)> {
        let inner = self.inner.read();
        let lease = inner.lease(app, id)?;
        Some((lease.instance.clone(), inner.overrides.get(id, now)))
    }

    /// Every stored instance with the override held for it: what a resync offers a peer
    /// that missed writes.
    pub fn replicas(&self, now: Millis) -> Vec<(Arc<InstanceInfo>, Option<InstanceStatus>)> {
        let inner = self.inner.read();
        let mut out = Vec::with_capacity(inner.leases);
        for lease in inner.apps.values().flat_map(|m| m.values()) {
            out.push((lease.instance.clone(), inner.overrides.get(lease.instance.id(), now)));
        }
        out
    }

    /// An instance by id in any application (`GET instances/{id}`).
    pub fn find_instance(&self, id: &str) -> Option<Arc<InstanceInfo>> {
        let inner = self.inner.read();
        inner.apps.values().find_map(|m| m.get(id)).map(|l| self.decorate(l))
    }

    fn decorate(&self, lease: &Lease) -> Arc<InstanceInfo> {
        let lease_info = lease.wire_lease_info(self.settings.legacy_double_lease_expiry);
        if lease.instance.lease_info == lease_info {
            return lease.instance.clone();
        }
        let mut info = (*lease.instance).clone();
        info.lease_info = lease_info;
        Arc::new(info)
    }

    /// The full registry at the current version; built once per version and shared.
    ///
    /// Applications unchanged since the previous snapshot keep their previous content (and
    /// [`Snapshot::app_version`]), so encoders re-encode only what changed; their lease
    /// timestamps are refreshed once older than [`APP_REFRESH_MS`] (plus a per-application
    /// spread), as Java's response cache refreshes its payloads.
    pub fn snapshot(&self) -> Snapshot {
        let version = self.version();
        let previous = {
            let cache = self.snapshot_cache.lock();
            match cache.as_ref() {
                Some(s) if s.version == version => return s.clone(),
                other => other.cloned(),
            }
        };
        // What a build costs is measured in real time, whatever clock drives lease time.
        #[allow(clippy::disallowed_methods)]
        let started = std::time::Instant::now();
        let snapshot = {
            // Upgradable: renewals (readers) go on while the view is built; the write lock is
            // taken only to store the refreshed copies back (pointer swaps).
            let inner = self.inner.upgradable_read();
            let version = self.version();
            let mut refreshed: Vec<(Arc<InstanceInfo>, Arc<InstanceInfo>)> = Vec::new();
            let now = inner.last_change_at;
            let mut names: Vec<&String> = inner.apps.keys().collect();
            names.sort_unstable();
            let mut before = previous
                .as_ref()
                .map(|p| p.apps.applications.iter().zip(p.stamps.iter()))
                .into_iter()
                .flatten()
                .peekable();
            let mut applications = Vec::with_capacity(names.len());
            let mut stamps = Vec::with_capacity(names.len());
            for name in names {
                while before.next_if(|(app, _)| app.name.as_str() < name.as_str()).is_some() {}
                let reusable = before.next_if(|(app, _)| app.name == *name).filter(|(_, stamp)| {
                    let changed = inner.app_changed.get(name).copied().unwrap_or(u64::MAX);
                    changed <= stamp.version
                        && now.saturating_sub(stamp.taken_at) < refresh_after_ms(name)
                });
                if let Some((app, stamp)) = reusable {
                    applications.push(app.clone());
                    stamps.push(*stamp);
                    continue;
                }
                let leases = &inner.apps[name];
                let mut ids: Vec<&String> = leases.keys().collect();
                ids.sort_unstable();
                let instances = ids
                    .into_iter()
                    .map(|id| {
                        let lease = &leases[id];
                        let shown = self.decorate(lease);
                        if !Arc::ptr_eq(&shown, &lease.instance) {
                            refreshed.push((lease.instance.clone(), shown.clone()));
                        }
                        shown
                    })
                    .collect();
                applications.push(Application { name: name.clone(), instances });
                stamps.push(AppStamp { version, taken_at: now });
            }
            let hash = reconcile_hash_code(
                applications.iter().flat_map(|a| &a.instances).map(|i| i.status),
            );
            if !refreshed.is_empty() {
                // The copy with live lease timestamps replaces the stored one, so a node keeps
                // one copy of each instance instead of the stored one plus the one shown.
                let mut inner = RwLockUpgradableReadGuard::upgrade(inner);
                for (stored, shown) in refreshed {
                    if let Some(lease) = inner.lease_mut(&stored.app, stored.id()) {
                        if Arc::ptr_eq(&lease.instance, &stored) {
                            lease.instance = shown;
                        }
                    }
                }
            }
            Snapshot {
                version,
                apps: Arc::new(Applications {
                    versions_delta: FULL_FETCH_VERSION.to_string(),
                    apps_hashcode: hash,
                    applications,
                }),
                stamps: stamps.into(),
            }
        };
        let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.snapshot_build_nanos.fetch_add(took, Ordering::Relaxed);
        self.snapshot_builds.fetch_add(1, Ordering::Relaxed);
        let mut cache = self.snapshot_cache.lock();
        if cache.as_ref().is_none_or(|c| c.version < snapshot.version) {
            *cache = Some(snapshot.clone());
        }
        snapshot
    }

    /// The delta: the latest state of every instance changed within the retention window,
    /// with `apps__hashcode` of the *whole* registry taken under the same lock, so a client
    /// holding the previous full registry plus this delta computes the same hash.
    /// `versions__delta` is the registry version. Returns the key it is cached under.
    pub fn delta(&self) -> ((u64, u64), Arc<Applications>) {
        let key = (self.version(), self.delta_epoch.load(Ordering::Acquire));
        if let Some((v, e, d)) = self.delta_cache.lock().as_ref() {
            if (*v, *e) == key {
                return (key, d.clone());
            }
        }
        let (key, delta) = {
            let inner = self.inner.read();
            let key = (self.version(), self.delta_epoch.load(Ordering::Acquire));
            let mut latest: HashMap<(&str, &str), &Arc<InstanceInfo>> = HashMap::new();
            for entry in &inner.delta {
                latest.insert((entry.instance.app.as_str(), entry.instance.id()), &entry.instance);
            }
            let mut by_app: Vec<((&str, &str), &Arc<InstanceInfo>)> = latest.into_iter().collect();
            by_app.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let mut applications: Vec<Application> = Vec::new();
            for ((app, _), instance) in by_app {
                match applications.last_mut() {
                    Some(last) if last.name == app => last.instances.push(instance.clone()),
                    _ => applications.push(Application {
                        name: app.to_string(),
                        instances: vec![instance.clone()],
                    }),
                }
            }
            let hash = hash_code_of_counts(
                ALL_STATUSES.iter().map(|s| (*s, inner.status_counts[status_index(*s)])),
            );
            let delta = Arc::new(Applications {
                versions_delta: key.0.to_string(),
                apps_hashcode: hash,
                applications,
            });
            (key, delta)
        };
        *self.delta_cache.lock() = Some((key.0, key.1, delta.clone()));
        (key, delta)
    }

    /// Drops delta entries older than the retention window (Java's delta retention timer).
    pub fn purge_delta(&self, now: Millis) -> usize {
        let cutoff = now.saturating_sub(self.settings.delta_retention_ms);
        let mut inner = self.inner.write();
        let before = inner.delta.len();
        while inner.delta.front().is_some_and(|e| e.at < cutoff) {
            inner.delta.pop_front();
        }
        let purged = before - inner.delta.len();
        if purged > 0 {
            self.delta_epoch.fetch_add(1, Ordering::AcqRel);
        }
        purged
    }

    /// Closes the renew meter's minute and recomputes the expected renew rate from the
    /// registered leases' own renewal intervals. Call once a minute.
    pub fn tick_renew_meter(&self) {
        let renews = self.meter.tick();
        let expected = {
            let inner = self.inner.read();
            inner
                .apps
                .values()
                .flat_map(|m| m.values())
                .map(|l| 60_000.0 / renewal_interval_ms(&l.instance.lease_info) as f64)
                .sum::<f64>()
        };
        *self.preservation.lock() =
            PreservationState { ready: true, renews_last_min: renews, expected_per_min: expected };
    }

    fn threshold(&self, expected_per_min: f64) -> u64 {
        (expected_per_min * self.settings.renewal_percent_threshold).floor() as u64
    }

    /// Whether eviction may run: always without self-preservation; otherwise only after the
    /// first complete minute and while renewals exceed the threshold. Unlike Java, a zero
    /// threshold (nothing expected) does not block eviction forever.
    pub fn lease_expiration_enabled(&self) -> bool {
        if !self.settings.self_preservation {
            return true;
        }
        let state = *self.preservation.lock();
        let threshold = self.threshold(state.expected_per_min);
        state.ready && (threshold == 0 || state.renews_last_min > threshold)
    }

    /// Evicts expired leases (Java's `evict`): nothing while self-preservation holds, and at
    /// most `size − size × threshold` per run, picked at random so no app is emptied first.
    /// `compensation_ms` is how late this run is, added to every lease's expiry.
    pub fn evict(
        &self,
        now: Millis,
        compensation_ms: Millis,
        rng: &mut impl Rng,
    ) -> Vec<Arc<InstanceInfo>> {
        if !self.lease_expiration_enabled() {
            return Vec::new();
        }
        let legacy = self.settings.legacy_double_lease_expiry;
        let mut inner = self.inner.write();
        inner.overrides.purge_expired(now);
        let mut expired: Vec<(String, String)> = inner
            .apps
            .iter()
            .flat_map(|(app, m)| {
                m.iter()
                    .filter(|(_, l)| l.is_expired(now, compensation_ms, legacy))
                    .map(move |(id, _)| (app.clone(), id.clone()))
            })
            .collect();
        let size = inner.leases;
        let limit = size - (size as f64 * self.settings.renewal_percent_threshold).floor() as usize;
        let count = expired.len().min(limit);
        let evictor = Actor { via: Some("eviction"), ..Actor::client() };
        // Partial Fisher–Yates: the first `count` slots end up a uniform random sample.
        for i in 0..count {
            let j = rng.gen_range(i..expired.len());
            expired.swap(i, j);
        }
        expired
            .into_iter()
            .take(count)
            .filter_map(|(app, id)| {
                self.cancel_locked(&mut inner, &app, &id, EventKind::Evicted, &evictor, now).ok()
            })
            .collect()
    }

    /// Live status overrides as (instance id, status), sorted by id.
    pub fn status_overrides(&self, now: Millis) -> Vec<(String, InstanceStatus)> {
        self.inner.read().overrides.live(now)
    }

    /// The last registrations, newest first (at most 1000).
    pub fn recent_registered(&self) -> Vec<RecentEvent> {
        self.inner.read().recent_registered.iter().rev().cloned().collect()
    }

    /// The last cancellations and evictions, newest first (at most 1000).
    pub fn recent_cancelled(&self) -> Vec<RecentEvent> {
        self.inner.read().recent_cancelled.iter().rev().cloned().collect()
    }

    /// The last health marks set and lifted, newest first (at most 1000).
    pub fn recent_health(&self) -> Vec<RecentEvent> {
        self.inner.read().recent_health.iter().rev().cloned().collect()
    }

    /// The last status overrides set or removed, newest first (at most 1000).
    pub fn recent_overrides(&self) -> Vec<RecentEvent> {
        self.inner.read().recent_overrides.iter().rev().cloned().collect()
    }

    /// Every lease's live timing, sorted by application then id. One read lock and one walk,
    /// for the console (never called on the renew path).
    pub fn lease_timings(&self) -> Vec<LeaseTiming> {
        self.timings_where(|_| true, |_| true)
    }

    /// The live timing of the leases of `apps` (upper-case names; every application when
    /// `None`), sorted by application then id: what `GET leases` answers.
    pub fn lease_timings_of(&self, apps: Option<&[String]>) -> Vec<LeaseTiming> {
        self.timings_where(|app| apps.is_none_or(|apps| apps.iter().any(|a| a == app)), |_| true)
    }

    /// The live timing of every lease that has expired by `now` (kept by self-preservation,
    /// or waiting for the next eviction run), sorted by application then id.
    pub fn expired_lease_timings(&self, now: Millis) -> Vec<LeaseTiming> {
        self.timings_where(|_| true, |t| now > t.expires_at)
    }

    fn timings_where(
        &self,
        app_wanted: impl Fn(&str) -> bool,
        keep: impl Fn(&LeaseTiming) -> bool,
    ) -> Vec<LeaseTiming> {
        let legacy = self.settings.legacy_double_lease_expiry;
        let inner = self.inner.read();
        let mut out: Vec<LeaseTiming> = Vec::new();
        for (app, leases) in inner.apps.iter().filter(|(app, _)| app_wanted(app)) {
            for (id, l) in leases {
                let expires_at = l.expires_at(legacy);
                let registered_at = l.registration_ts;
                let last_renewal = l.last_renewal();
                // Checked before the names are copied: most leases are not wanted.
                let probe = LeaseTiming {
                    app: String::new(),
                    id: String::new(),
                    registered_at,
                    last_renewal,
                    expires_at,
                    health_down: None,
                };
                if keep(&probe) {
                    out.push(LeaseTiming {
                        app: app.clone(),
                        id: id.clone(),
                        health_down: l.health.clone(),
                        ..probe
                    });
                }
            }
        }
        drop(inner);
        out.sort_unstable_by(|a, b| (&a.app, &a.id).cmp(&(&b.app, &b.id)));
        out
    }

    /// Current figures for `status`, the console and metrics.
    pub fn stats(&self) -> RegistryStats {
        let state = *self.preservation.lock();
        let lease_expiration_enabled = self.lease_expiration_enabled();
        let inner = self.inner.read();
        RegistryStats {
            version: self.version(),
            applications: inner.apps.len(),
            instances: inner.leases,
            renews_last_min: state.renews_last_min,
            expected_renews_per_min: state.expected_per_min,
            renew_threshold: self.threshold(state.expected_per_min),
            self_preservation_enabled: self.settings.self_preservation,
            lease_expiration_enabled,
            overrides: inner.overrides.len(),
            delta_queue_len: inner.delta.len(),
            snapshot_builds: self.snapshot_builds.load(Ordering::Relaxed),
            snapshot_build_time: Duration::from_nanos(
                self.snapshot_build_nanos.load(Ordering::Relaxed),
            ),
        }
    }

    /// Instances by application and status, sorted by application then status; only
    /// non-empty combinations. Walks the leases under a read lock without copying instances.
    pub fn status_counts(&self) -> Vec<StatusCount> {
        let inner = self.inner.read();
        let mut counts = Vec::with_capacity(inner.apps.len());
        for (app, leases) in &inner.apps {
            let mut by_status = [0u64; 5];
            for lease in leases.values() {
                by_status[status_index(lease.instance.status)] += 1;
            }
            for status in ALL_STATUSES {
                let count = by_status[status_index(status)];
                if count > 0 {
                    counts.push(StatusCount { app: app.clone(), status, count });
                }
            }
        }
        counts.sort_unstable_by(|a, b| {
            a.app.cmp(&b.app).then(status_index(a.status).cmp(&status_index(b.status)))
        });
        counts
    }
}
