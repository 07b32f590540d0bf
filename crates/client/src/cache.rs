//! The client's copy of the registry: kept by full fetches and deltas, reconciled with the
//! server's `apps__hashcode` ([`refresh`]), and published as immutable [`Snapshot`]s that answer
//! lookups without a network call. The server follows remote regions with the same copy and
//! the same [`refresh`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use eureka_model::InstanceStatus;
use eureka_model::{
    hash_code_of_counts, reconcile_hash_code, ActionType, Application, Applications, InstanceInfo,
};
use rand::seq::SliceRandom;

use crate::api::EurekaApi;
use crate::transport::TransportError;

/// (application, instance id): where an instance sits in the registry.
type Key = (String, String);

/// A copy of a server's registry as the last fetches left it: every instance of every
/// application, any status.
#[derive(Debug, Clone, Default)]
pub struct LocalRegistry {
    apps: BTreeMap<String, BTreeMap<String, Arc<InstanceInfo>>>,
    /// The instances deltas and stream events touched since the last published snapshot,
    /// with what each was before, so a snapshot's changes cost what was touched rather than
    /// a diff of the whole registry. `None` after a full fetch: then the snapshot diffs.
    touched: Option<BTreeMap<Key, Option<Arc<InstanceInfo>>>>,
    /// Instances per status, kept as changes apply, so checking a delta's hash costs the
    /// changes it carries rather than a walk over the whole copy.
    counts: StatusCounts,
}

/// How many instances hold each status, indexed as [`InstanceStatus::ALL`].
#[derive(Debug, Clone, Copy, Default)]
struct StatusCounts([usize; InstanceStatus::ALL.len()]);

impl StatusCounts {
    fn slot(status: InstanceStatus) -> usize {
        InstanceStatus::ALL.iter().position(|s| *s == status).unwrap_or(0)
    }

    fn add(&mut self, status: InstanceStatus) {
        self.0[Self::slot(status)] += 1;
    }

    fn remove(&mut self, status: InstanceStatus) {
        let slot = &mut self.0[Self::slot(status)];
        *slot = slot.saturating_sub(1);
    }

    fn hash_code(&self) -> String {
        hash_code_of_counts(InstanceStatus::ALL.iter().copied().zip(self.0))
    }
}

/// What applying a delta found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaResult {
    /// Applied; the local hash equals the server's.
    Applied,
    /// Applied, but the local hash differs from the server's: a full fetch is needed.
    Mismatch {
        /// The local hash after applying.
        local: String,
        /// The server's.
        remote: String,
    },
}

impl LocalRegistry {
    /// Replaces everything with a full fetch.
    pub fn from_full(full: &Applications) -> Self {
        let mut apps: BTreeMap<String, BTreeMap<String, Arc<InstanceInfo>>> = BTreeMap::new();
        let mut counts = StatusCounts::default();
        for app in &full.applications {
            let entry = apps.entry(app.name.to_uppercase()).or_default();
            for info in &app.instances {
                if let Some(replaced) = entry.insert(info.id().to_string(), Arc::clone(info)) {
                    counts.remove(replaced.status);
                }
                counts.add(info.status);
            }
        }
        LocalRegistry { apps, touched: None, counts }
    }

    /// Whether the registry holds no application (Java then fetches in full, not a delta).
    pub fn is_empty(&self) -> bool {
        self.apps.values().all(BTreeMap::is_empty)
    }

    /// Applies a delta as Java's client does: ADDED and MODIFIED replace by id, DELETED
    /// removes, entries without a known action are ignored; then compares hashes.
    pub fn apply_delta(&mut self, delta: &Applications) -> DeltaResult {
        for app in &delta.applications {
            let name = app.name.to_uppercase();
            for info in &app.instances {
                self.apply_one(&name, info);
            }
        }
        let local = self.hash_code();
        if local == delta.apps_hashcode {
            DeltaResult::Applied
        } else {
            DeltaResult::Mismatch { local, remote: delta.apps_hashcode.clone() }
        }
    }

    /// Applies one change from the watch stream (ADDED/MODIFIED replace, DELETED removes).
    /// No hash travels with it: the periodic delta check reconciles.
    pub(crate) fn apply_change(&mut self, info: Arc<InstanceInfo>) {
        let name = info.app.to_uppercase();
        self.apply_one(&name, &info);
    }

    /// One delta entry, by its action; entries without a known action are ignored.
    fn apply_one(&mut self, app: &str, info: &Arc<InstanceInfo>) {
        let before = match info.action_type {
            Some(ActionType::Added | ActionType::Modified) => {
                self.counts.add(info.status);
                self.apps
                    .entry(app.to_string())
                    .or_default()
                    .insert(info.id().to_string(), Arc::clone(info))
            }
            Some(ActionType::Deleted) => {
                let Some(instances) = self.apps.get_mut(app) else { return };
                let removed = instances.remove(info.id());
                if instances.is_empty() {
                    self.apps.remove(app);
                }
                match removed {
                    Some(removed) => Some(removed),
                    None => return,
                }
            }
            None => return,
        };
        if let Some(before) = &before {
            self.counts.remove(before.status);
        }
        if let Some(touched) = &mut self.touched {
            touched.entry((app.to_string(), info.id().to_string())).or_insert(before);
        }
    }

    /// The changes since the last published snapshot, when they are known without a diff.
    pub(crate) fn touched_changes(&self) -> Option<Vec<Change>> {
        let touched = self.touched.as_ref()?;
        let changes = touched.iter().filter_map(|((app, id), before)| {
            let now = self.apps.get(app).and_then(|instances| instances.get(id));
            match (before, now) {
                (None, Some(now)) => Some(Change::Added(Arc::clone(now))),
                (Some(before), None) => Some(Change::Removed(Arc::clone(before))),
                (Some(before), Some(now)) if !same_registration(before, now) => {
                    Some(Change::Modified(Arc::clone(now)))
                }
                _ => None,
            }
        });
        Some(changes.collect())
    }

    /// Starts counting changes afresh: the snapshot they were counted against is published.
    pub(crate) fn mark_published(&mut self) {
        self.touched = Some(BTreeMap::new());
    }

    /// The reconcile hash over every instance, whatever its status (from the kept counts).
    pub fn hash_code(&self) -> String {
        self.counts.hash_code()
    }

    /// Number of instances, any status.
    pub fn len(&self) -> usize {
        self.apps.values().map(BTreeMap::len).sum()
    }

    /// The copy as a registry document: applications by name, instances by id, the hash of
    /// all of them. Instances are shared, not copied.
    pub fn to_applications(&self) -> Applications {
        Applications {
            versions_delta: "1".into(),
            apps_hashcode: self.hash_code(),
            applications: self
                .apps
                .iter()
                .map(|(name, instances)| Application {
                    name: name.clone(),
                    instances: instances.values().cloned().collect(),
                })
                .collect(),
        }
    }

    /// An immutable view for lookups, with `changes` against `previous` (the snapshot last
    /// published from this registry).
    #[cfg(test)]
    pub(crate) fn snapshot(&self, previous: &Snapshot, view: &View) -> Snapshot {
        self.snapshot_with(previous, view, self.touched_changes())
    }

    /// [`LocalRegistry::snapshot`] with the changes already counted by
    /// [`LocalRegistry::touched_changes`] (`None`: diff against `previous`).
    pub(crate) fn snapshot_with(
        &self,
        previous: &Snapshot,
        view: &View,
        known: Option<Vec<Change>>,
    ) -> Snapshot {
        let apps: BTreeMap<String, Vec<Arc<InstanceInfo>>> = self
            .apps
            .iter()
            .map(|(name, instances)| (name.clone(), instances.values().cloned().collect()))
            .collect();
        let mut snapshot = Snapshot::index(apps, view);
        snapshot.version = previous.version + 1;
        snapshot.changes = known.unwrap_or_else(|| previous.diff(&snapshot));
        snapshot
    }
}

/// How [`refresh`] brought a copy up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refreshed {
    /// A delta applied, and the hashes agree.
    Delta,
    /// A full fetch (the copy was empty, deltas are off, or the server refused the delta).
    Full,
    /// A delta left a different hash than the server's, so the registry was fetched in full.
    Reconciled,
}

/// Brings `copy` up to date from `api` as Java's client does: a delta when possible, a full
/// fetch when the copy is empty, `use_delta` is false, the delta is refused (any HTTP status),
/// or the hashes disagree after applying it. Other failures leave the copy as it was (a
/// mismatching delta stays applied until the full fetch succeeds).
pub async fn refresh(
    api: &impl EurekaApi,
    copy: &mut LocalRegistry,
    use_delta: bool,
) -> Result<Refreshed, TransportError> {
    let mut outcome = Refreshed::Full;
    if use_delta && !copy.is_empty() {
        match api.delta().await {
            Ok(delta) => match copy.apply_delta(&delta) {
                DeltaResult::Applied => return Ok(Refreshed::Delta),
                DeltaResult::Mismatch { local, remote } => {
                    tracing::info!(%local, %remote, "registry hash differs after delta, fetching it all");
                    outcome = Refreshed::Reconciled;
                }
            },
            Err(TransportError::Status { status, .. }) => {
                tracing::debug!(status, "delta refused, fetching the whole registry");
            }
            Err(e) => return Err(e),
        }
    }
    let full = api.applications().await?;
    *copy = LocalRegistry::from_full(&full);
    Ok(outcome)
}

/// How lookups see the registry.
#[derive(Debug, Clone)]
pub(crate) struct View {
    /// Only UP instances in app and VIP lookups (Java's `shouldFilterOnlyUpInstances`).
    pub(crate) only_up: bool,
    /// Shuffle each lookup list so that clients spread their calls.
    pub(crate) shuffle: bool,
    /// Lookups prefer instances of this zone while it has any usable one.
    pub(crate) zone: Option<String>,
}

/// What happened to one instance between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// It appeared.
    Added(Arc<InstanceInfo>),
    /// It changed (status, address, metadata...); carries the new state.
    Modified(Arc<InstanceInfo>),
    /// It disappeared (cancelled or evicted); carries its last known state.
    Removed(Arc<InstanceInfo>),
}

impl Change {
    /// The instance concerned.
    pub fn instance(&self) -> &Arc<InstanceInfo> {
        match self {
            Change::Added(i) | Change::Modified(i) | Change::Removed(i) => i,
        }
    }

    /// `ADDED`, `MODIFIED` or `DELETED`, as Eureka deltas name them.
    pub fn action(&self) -> ActionType {
        match self {
            Change::Added(_) => ActionType::Added,
            Change::Modified(_) => ActionType::Modified,
            Change::Removed(_) => ActionType::Deleted,
        }
    }
}

/// The registry at one moment, as the client last fetched it. Cheap to share (`Arc`), never
/// changes; each refresh that changes something publishes a new one.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    version: u64,
    apps: BTreeMap<String, Vec<Arc<InstanceInfo>>>,
    usable: HashMap<String, Vec<Arc<InstanceInfo>>>,
    vips: HashMap<String, Vec<Arc<InstanceInfo>>>,
    secure_vips: HashMap<String, Vec<Arc<InstanceInfo>>>,
    /// The zone lookups prefer, and per lookup key the usable instances in it (only keys
    /// with at least one).
    zone: Option<String>,
    in_zone: Lookups,
    changes: Vec<Change>,
}

/// Usable instances of the preferred zone, by application and by (secure) VIP.
#[derive(Debug, Clone, Default)]
struct Lookups {
    apps: HashMap<String, Vec<Arc<InstanceInfo>>>,
    vips: HashMap<String, Vec<Arc<InstanceInfo>>>,
    secure_vips: HashMap<String, Vec<Arc<InstanceInfo>>>,
}

/// The list under the upper-cased `vip`, upper-cased in `buffer` so that only a new key costs
/// an allocation.
fn list_for<'m>(
    lists: &'m mut HashMap<String, Vec<Arc<InstanceInfo>>>,
    buffer: &mut String,
    vip: &str,
) -> &'m mut Vec<Arc<InstanceInfo>> {
    buffer.clear();
    buffer.extend(vip.chars().flat_map(char::to_uppercase));
    if !lists.contains_key(buffer.as_str()) {
        lists.insert(buffer.clone(), Vec::new());
    }
    lists.get_mut(buffer.as_str()).expect("inserted above")
}

impl Snapshot {
    fn index(apps: BTreeMap<String, Vec<Arc<InstanceInfo>>>, view: &View) -> Snapshot {
        let mut usable: HashMap<String, Vec<Arc<InstanceInfo>>> = HashMap::new();
        let mut vips: HashMap<String, Vec<Arc<InstanceInfo>>> = HashMap::new();
        let mut secure_vips: HashMap<String, Vec<Arc<InstanceInfo>>> = HashMap::new();
        // One upper-case buffer for every VIP: a key is allocated only when it is new.
        let mut upper = String::new();
        for (name, instances) in &apps {
            let mine: Vec<_> = instances
                .iter()
                .filter(|info| !view.only_up || info.status == InstanceStatus::Up)
                .cloned()
                .collect();
            for info in &mine {
                for vip in info.vips() {
                    list_for(&mut vips, &mut upper, vip).push(Arc::clone(info));
                }
                for vip in info.secure_vips() {
                    list_for(&mut secure_vips, &mut upper, vip).push(Arc::clone(info));
                }
            }
            if !mine.is_empty() {
                usable.insert(name.clone(), mine);
            }
        }
        if view.shuffle {
            let mut rng = rand::thread_rng();
            for list in usable.values_mut().chain(vips.values_mut()).chain(secure_vips.values_mut())
            {
                list.shuffle(&mut rng);
            }
        }
        let mut in_zone = Lookups::default();
        if let Some(zone) = &view.zone {
            let of_zone = |all: &HashMap<String, Vec<Arc<InstanceInfo>>>| {
                all.iter()
                    .filter_map(|(key, list)| {
                        let mine: Vec<_> = list
                            .iter()
                            .filter(|i| {
                                crate::config::instance_zone(i)
                                    .is_some_and(|z| z.eq_ignore_ascii_case(zone))
                            })
                            .cloned()
                            .collect();
                        (!mine.is_empty()).then(|| (key.clone(), mine))
                    })
                    .collect()
            };
            in_zone = Lookups {
                apps: of_zone(&usable),
                vips: of_zone(&vips),
                secure_vips: of_zone(&secure_vips),
            };
        }
        Snapshot {
            version: 0,
            apps,
            usable,
            vips,
            secure_vips,
            zone: view.zone.clone(),
            in_zone,
            changes: Vec::new(),
        }
    }

    /// A local counter, raised by one for every refresh that changed something; 0 before the
    /// first fetch. Not the server's `versions__delta`.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The instances of `app` that callers should use: UP only (unless configured otherwise),
    /// in this client's shuffled order; with a preferred zone, only those of that zone while
    /// it has any ([`Snapshot::instances_any_zone`] ignores zones). Case-insensitive.
    pub fn instances(&self, app: &str) -> &[Arc<InstanceInfo>] {
        let key = app.to_uppercase();
        self.in_zone.apps.get(&key).or_else(|| self.usable.get(&key)).map_or(&[], Vec::as_slice)
    }

    /// The usable instances of `app` in every zone.
    pub fn instances_any_zone(&self, app: &str) -> &[Arc<InstanceInfo>] {
        self.usable.get(&app.to_uppercase()).map_or(&[], Vec::as_slice)
    }

    /// The zone lookups prefer, if any.
    pub fn preferred_zone(&self) -> Option<&str> {
        self.zone.as_deref()
    }

    /// Every instance of `app`, whatever its status, sorted by id.
    pub fn all_instances(&self, app: &str) -> &[Arc<InstanceInfo>] {
        self.apps.get(&app.to_uppercase()).map_or(&[], Vec::as_slice)
    }

    /// The usable instances behind a VIP address (case-insensitive), preferring the zone as
    /// [`Snapshot::instances`] does.
    pub fn instances_by_vip(&self, vip: &str) -> &[Arc<InstanceInfo>] {
        let key = vip.to_uppercase();
        self.in_zone.vips.get(&key).or_else(|| self.vips.get(&key)).map_or(&[], Vec::as_slice)
    }

    /// The usable instances behind a secure VIP address (case-insensitive), preferring the
    /// zone as [`Snapshot::instances`] does.
    pub fn instances_by_secure_vip(&self, vip: &str) -> &[Arc<InstanceInfo>] {
        let key = vip.to_uppercase();
        let zoned = self.in_zone.secure_vips.get(&key);
        zoned.or_else(|| self.secure_vips.get(&key)).map_or(&[], Vec::as_slice)
    }

    /// An instance by id, in any application.
    pub fn instance(&self, id: &str) -> Option<&Arc<InstanceInfo>> {
        self.apps.values().flatten().find(|i| i.id() == id)
    }

    /// Application names, sorted.
    pub fn app_names(&self) -> impl Iterator<Item = &str> {
        self.apps.keys().map(String::as_str)
    }

    /// Number of instances, any status.
    pub fn len(&self) -> usize {
        self.apps.values().map(Vec::len).sum()
    }

    /// Whether the registry holds no instance.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What changed since the previous snapshot this client published.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The reconcile hash (`apps__hashcode`) of this registry.
    pub fn hash_code(&self) -> String {
        reconcile_hash_code(self.apps.values().flatten().map(|i| i.status))
    }

    /// The registry as a wire document (e.g. to print it as Eureka JSON or XML).
    pub fn to_applications(&self) -> Applications {
        Applications {
            versions_delta: "1".into(),
            apps_hashcode: self.hash_code(),
            applications: self
                .apps
                .iter()
                .map(|(name, instances)| Application {
                    name: name.clone(),
                    instances: instances.clone(),
                })
                .collect(),
        }
    }

    /// The changes from `self` to `newer`, by instance id. Lease timestamps, which move with
    /// every renewal, do not count as a change.
    pub fn diff(&self, newer: &Snapshot) -> Vec<Change> {
        // Both sides list each application's instances sorted by id: one merge walk per
        // application, no index of the whole registry.
        let mut changes = Vec::new();
        let mut removed = Vec::new();
        let none: &[Arc<InstanceInfo>] = &[];
        let names: BTreeSet<&String> = self.apps.keys().chain(newer.apps.keys()).collect();
        for name in names {
            let old = self.apps.get(name).map_or(none, Vec::as_slice);
            let new = newer.apps.get(name).map_or(none, Vec::as_slice);
            let (mut o, mut n) = (old.iter().peekable(), new.iter().peekable());
            loop {
                match (o.peek(), n.peek()) {
                    (None, None) => break,
                    (Some(before), Some(now)) if before.id() == now.id() => {
                        if !same_registration(before, now) {
                            changes.push(Change::Modified(Arc::clone(now)));
                        }
                        o.next();
                        n.next();
                    }
                    (Some(before), Some(now)) if before.id() < now.id() => {
                        removed.push(Change::Removed(Arc::clone(before)));
                        o.next();
                    }
                    (Some(before), None) => {
                        removed.push(Change::Removed(Arc::clone(before)));
                        o.next();
                    }
                    (_, Some(now)) => {
                        changes.push(Change::Added(Arc::clone(now)));
                        n.next();
                    }
                }
            }
        }
        changes.append(&mut removed);
        changes
    }
}

/// Equal but for what renewals and delta bookkeeping move.
fn same_registration(a: &Arc<InstanceInfo>, b: &Arc<InstanceInfo>) -> bool {
    Arc::ptr_eq(a, b) || a.same_registration(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceStatus::*;

    fn inst(app: &str, id: &str, status: InstanceStatus) -> Arc<InstanceInfo> {
        Arc::new(InstanceInfo {
            instance_id: Some(id.into()),
            host_name: id.into(),
            app: app.into(),
            ip_addr: "10.0.0.1".into(),
            status,
            vip_address: Some(format!("{}, shared", app.to_lowercase())),
            ..Default::default()
        })
    }

    fn with_action(info: &Arc<InstanceInfo>, action: ActionType) -> Arc<InstanceInfo> {
        Arc::new(InstanceInfo { action_type: Some(action), ..InstanceInfo::clone(info) })
    }

    fn doc(hash: &str, apps: &[(&str, Vec<Arc<InstanceInfo>>)]) -> Applications {
        Applications {
            versions_delta: "1".into(),
            apps_hashcode: hash.into(),
            applications: apps
                .iter()
                .map(|(n, i)| Application { name: n.to_string(), instances: i.clone() })
                .collect(),
        }
    }

    const VIEW: &View = &View { only_up: true, shuffle: false, zone: None };

    #[test]
    fn delta_adds_modifies_and_deletes_like_java() {
        let a1 = inst("A", "a1", Up);
        let a2 = inst("A", "a2", Up);
        let mut local = LocalRegistry::from_full(&doc("UP_2_", &[("A", vec![a1.clone(), a2])]));
        let delta = doc(
            "DOWN_1_UP_1_",
            &[
                ("A", vec![with_action(&inst("A", "a1", Down), ActionType::Modified)]),
                ("A", vec![with_action(&inst("A", "a2", Up), ActionType::Deleted)]),
                ("B", vec![with_action(&inst("B", "b1", Up), ActionType::Added)]),
            ],
        );
        assert_eq!(local.apply_delta(&delta), DeltaResult::Applied);
        let snap = local.snapshot(&Snapshot::default(), VIEW);
        assert_eq!(snap.all_instances("a").len(), 1);
        assert_eq!(snap.all_instances("A")[0].status, Down);
        assert!(snap.instances("A").is_empty(), "DOWN is filtered out of usable instances");
        assert_eq!(snap.instances("b")[0].id(), "b1");
        assert_eq!(snap.hash_code(), "DOWN_1_UP_1_");
    }

    #[test]
    fn kept_status_counts_equal_a_walk_after_every_kind_of_change() {
        let walk = |l: &LocalRegistry| {
            reconcile_hash_code(l.apps.values().flat_map(|m| m.values()).map(|i| i.status))
        };
        let full = doc("", &[("A", vec![inst("A", "a1", Up), inst("A", "a2", Down)])]);
        let mut local = LocalRegistry::from_full(&full);
        assert_eq!(local.hash_code(), walk(&local));
        let changes = [
            with_action(&inst("A", "a1", OutOfService), ActionType::Modified),
            with_action(&inst("A", "a3", Starting), ActionType::Added),
            // An ADDED for an instance already held replaces it: counted once.
            with_action(&inst("A", "a3", Up), ActionType::Added),
            with_action(&inst("A", "a2", Down), ActionType::Deleted),
            with_action(&inst("A", "gone", Up), ActionType::Deleted),
            inst("B", "no-action", Up),
        ];
        for change in changes {
            local.apply_delta(&doc("", &[(change.app.as_str(), vec![change.clone()])]));
            assert_eq!(local.hash_code(), walk(&local), "after {change:?}");
        }
        assert_eq!(local.hash_code(), "OUT_OF_SERVICE_1_UP_1_");
    }

    #[test]
    fn a_delta_that_leaves_a_different_hash_asks_for_a_full_fetch() {
        let mut local =
            LocalRegistry::from_full(&doc("UP_1_", &[("A", vec![inst("A", "a1", Up)])]));
        // The server counts an instance this client never heard of.
        let delta =
            doc("UP_3_", &[("A", vec![with_action(&inst("A", "a2", Up), ActionType::Added)])]);
        assert_eq!(
            local.apply_delta(&delta),
            DeltaResult::Mismatch { local: "UP_2_".into(), remote: "UP_3_".into() }
        );
    }

    #[test]
    fn entries_without_action_are_ignored_and_deleting_unknowns_is_harmless() {
        let mut local =
            LocalRegistry::from_full(&doc("UP_1_", &[("A", vec![inst("A", "a1", Up)])]));
        let delta = doc(
            "UP_1_",
            &[(
                "A",
                vec![inst("A", "x", Up), with_action(&inst("Z", "z", Up), ActionType::Deleted)],
            )],
        );
        assert_eq!(local.apply_delta(&delta), DeltaResult::Applied);
    }

    #[test]
    fn vip_lookups_are_case_insensitive_and_cover_every_listed_vip() {
        let local = LocalRegistry::from_full(&doc(
            "UP_2_",
            &[("A", vec![inst("A", "a1", Up)]), ("B", vec![inst("B", "b1", Up)])],
        ));
        let snap = local.snapshot(&Snapshot::default(), VIEW);
        assert_eq!(snap.instances_by_vip("a").len(), 1);
        assert_eq!(snap.instances_by_vip("SHARED").len(), 2);
        assert!(snap.instances_by_secure_vip("a").is_empty());
    }

    #[test]
    fn diff_ignores_renewals_but_sees_status_and_membership() {
        let empty = Snapshot::default();
        let one = LocalRegistry::from_full(&doc("", &[("A", vec![inst("A", "a1", Up)])]))
            .snapshot(&empty, VIEW);
        assert_eq!(one.version(), 1);
        assert!(matches!(one.changes(), [Change::Added(i)] if i.id() == "a1"));

        let mut renewed = InstanceInfo::clone(&inst("A", "a1", Up));
        renewed.lease_info.last_renewal_timestamp = 99;
        let same = LocalRegistry::from_full(&doc("", &[("A", vec![Arc::new(renewed)])]))
            .snapshot(&one, VIEW);
        assert!(same.changes().is_empty());

        let down = LocalRegistry::from_full(&doc("", &[("A", vec![inst("A", "a1", Down)])]))
            .snapshot(&one, VIEW);
        assert!(matches!(down.changes(), [Change::Modified(i)] if i.status == Down));
        let gone = LocalRegistry::default().snapshot(&down, VIEW);
        assert!(matches!(gone.changes(), [Change::Removed(i)] if i.id() == "a1"));
        assert_eq!(gone.changes()[0].action(), ActionType::Deleted);
    }

    #[test]
    fn diff_walks_every_application_in_id_order() {
        let snap = |apps: &[(&str, Vec<Arc<InstanceInfo>>)]| {
            LocalRegistry::from_full(&doc("", apps)).snapshot(&Snapshot::default(), VIEW)
        };
        let before = snap(&[
            ("A", vec![inst("A", "a1", Up), inst("A", "a3", Up), inst("A", "a5", Up)]),
            ("B", vec![inst("B", "b1", Up)]),
            ("C", vec![inst("C", "c1", Up)]),
        ]);
        let after = snap(&[
            ("A", vec![inst("A", "a2", Up), inst("A", "a3", Down), inst("A", "a5", Up)]),
            ("B", vec![inst("B", "b0", Up), inst("B", "b1", Up)]),
            ("D", vec![inst("D", "d1", Up)]),
        ]);
        let described: Vec<String> = before
            .diff(&after)
            .iter()
            .map(|c| format!("{:?} {}", c.action(), c.instance().id()))
            .collect();
        assert_eq!(
            described,
            ["Added a2", "Modified a3", "Added b0", "Added d1", "Deleted a1", "Deleted c1"]
        );
        assert!(after.diff(&after).is_empty());
    }

    fn zoned(app: &str, id: &str, status: InstanceStatus, zone: &str) -> Arc<InstanceInfo> {
        let mut info = InstanceInfo::clone(&inst(app, id, status));
        info.metadata.insert("zone".into(), zone.into());
        Arc::new(info)
    }

    #[test]
    fn lookups_prefer_the_own_zone_while_it_has_an_up_instance() {
        let mut aws = InstanceInfo::clone(&inst("A", "a-aws", Up));
        aws.data_center_info = Some(eureka_model::DataCenterInfo {
            class: eureka_model::DataCenterClass::Amazon,
            name: Some(eureka_model::DataCenterName::Amazon),
            metadata: [("availability-zone".to_string(), "zone-b".to_string())].into(),
        });
        let view = View { only_up: true, shuffle: false, zone: Some("zone-b".into()) };
        let local = LocalRegistry::from_full(&doc(
            "",
            &[(
                "A",
                vec![zoned("A", "a1", Up, "zone-a"), zoned("A", "a2", Up, "zone-b"), Arc::new(aws)],
            )],
        ));
        let snap = local.snapshot(&Snapshot::default(), &view);
        let ids = |list: &[Arc<InstanceInfo>]| {
            list.iter().map(|i| i.id().to_string()).collect::<Vec<_>>()
        };
        assert_eq!(
            ids(snap.instances("a")),
            ["a-aws", "a2"],
            "metadata zone and AWS zone both count"
        );
        assert_eq!(ids(snap.instances_by_vip("A")), ["a-aws", "a2"]);
        assert_eq!(snap.instances_any_zone("a").len(), 3);

        // Nothing UP in zone-b: every zone's UP instances.
        let local = LocalRegistry::from_full(&doc(
            "",
            &[("A", vec![zoned("A", "a1", Up, "zone-a"), zoned("A", "a2", Down, "zone-b")])],
        ));
        let snap = local.snapshot(&Snapshot::default(), &view);
        assert_eq!(ids(snap.instances("a")), ["a1"]);
    }
}
