//! Copies of other regions' registries (Java's remote regions), kept apart from the local
//! registry: they are never replicated, evicted or health-checked here, only merged into what
//! clients read.
//!
//! The server fetches each region in the background and hands every result to
//! [`RemoteRegions::update`], which diffs it against the previous copy: what changed is kept
//! for the delta retention window (so merged deltas carry remote changes as the local delta
//! carries local ones), and each application is stamped with the generation at which its
//! content last changed (so merged documents re-encode only what changed). Reads take a
//! [`RegionSet`] and get the local registry merged with those regions' copies, whitelists
//! applied, with `apps__hashcode` over the merged set. Time is an input.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use eureka_model::{
    reconcile_hash_code, ActionType, Application, Applications, InstanceInfo, InstanceStatus,
};
use parking_lot::{Mutex, RwLock};

use crate::snapshot::{Snapshot, FULL_FETCH_VERSION};
use crate::Millis;

/// The most remote regions one server can follow (a [`RegionSet`] is a 64-bit mask).
pub const MAX_REGIONS: usize = 64;
/// Merged views kept at once (one per region set asked for; sets come from requests).
const MAX_VIEWS: usize = 64;

/// A set of configured remote regions, by their position in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RegionSet(u64);

impl RegionSet {
    /// No remote region: the local registry alone.
    pub const EMPTY: RegionSet = RegionSet(0);

    /// Whether no region is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the `index`-th configured region is in the set.
    pub fn contains(self, index: usize) -> bool {
        index < MAX_REGIONS && self.0 & (1 << index) != 0
    }

    /// The positions in the set, in configuration order.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..MAX_REGIONS).filter(move |&i| self.contains(i))
    }

    /// The set as a bit mask (bit `i` is the `i`-th configured region).
    pub fn bits(self) -> u64 {
        self.0
    }

    fn with(self, index: usize) -> RegionSet {
        RegionSet(self.0 | (1 << index))
    }
}

/// One remote region as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionConfig {
    /// Its name, lower case (requests name regions in lower case).
    pub name: String,
    /// The applications served from it (upper-case names); `None` serves every one.
    pub whitelist: Option<BTreeSet<String>>,
}

/// What one region's copy holds, for status pages and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionStats {
    /// The region's name.
    pub name: String,
    /// Applications in the copy.
    pub applications: usize,
    /// Instances in the copy.
    pub instances: usize,
    /// Instances merged into reads (whitelisted, and none while expired).
    pub served_instances: usize,
    /// When the copy was last replaced by a successful fetch.
    pub last_success_ms: Option<Millis>,
    /// Whether the copy is too old to be served (`remote-region-cache-lifetime`).
    pub expired: bool,
    /// Remote changes kept for merged deltas.
    pub recent_changes: usize,
}

/// What an [`RemoteRegions::update`] changed in a region's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpdateSummary {
    /// Instances that appeared.
    pub added: usize,
    /// Instances whose registration changed (not only their lease timestamps).
    pub modified: usize,
    /// Instances that disappeared.
    pub removed: usize,
}

/// Identifies an application's content in a merged document: for each source it comes from,
/// (0 for local, region position + 1) and the stamp of that source's content. Same name and
/// key, same content, so its encoding can be reused.
pub type ContentKey = Box<[u64]>;

/// The local registry merged with some remote regions, at one local version and one remote
/// generation; built once and shared.
#[derive(Debug)]
pub struct MergedView {
    /// The local registry version merged.
    pub local_version: u64,
    /// The remote generation merged ([`RemoteRegions::generation`]).
    pub generation: u64,
    /// The merged registry (`versions__delta` "1", hash of the merged instances).
    pub apps: Arc<Applications>,
    /// Per application of `apps`, in the same order: its [`ContentKey`].
    pub keys: Vec<ContentKey>,
}

#[derive(Debug, Default)]
struct Copy {
    /// The region's registry as last fetched: applications by name, instances by id.
    apps: Arc<Applications>,
    /// Per application of `apps`: the generation at which its content last changed.
    stamps: Vec<u64>,
    /// Registration changes, oldest first, with their action (ADDED, MODIFIED, DELETED).
    changes: VecDeque<(Millis, Arc<InstanceInfo>)>,
    last_success_ms: Option<Millis>,
    expired: bool,
}

#[derive(Debug)]
struct Region {
    config: RegionConfig,
    copy: RwLock<Copy>,
}

impl Region {
    fn serves(&self, app: &str) -> bool {
        self.config.whitelist.as_ref().is_none_or(|w| w.contains(app))
    }
}

/// Every configured remote region's copy, and the merged reads over them.
#[derive(Debug)]
pub struct RemoteRegions {
    regions: Vec<Region>,
    /// Advances with every change to what any region contributes to reads.
    generation: AtomicU64,
    /// How long remote changes stay in merged deltas (the local delta retention).
    retention_ms: Millis,
    /// A copy not refreshed for this long is no longer served; `None`: served until replaced.
    lifetime_ms: Option<Millis>,
    /// The newest merged view per region set.
    views: Mutex<HashMap<RegionSet, Arc<MergedView>>>,
}

impl RemoteRegions {
    /// Regions in configuration order (at most [`MAX_REGIONS`]; more are ignored), remote
    /// changes kept `retention_ms`, copies served until `lifetime_ms` after their last
    /// successful fetch (`None`: for ever, as Java does).
    pub fn new(
        configs: Vec<RegionConfig>,
        retention_ms: Millis,
        lifetime_ms: Option<Millis>,
    ) -> Self {
        let regions = configs
            .into_iter()
            .take(MAX_REGIONS)
            .map(|config| Region { config, copy: RwLock::new(Copy::default()) })
            .collect();
        RemoteRegions {
            regions,
            generation: AtomicU64::new(0),
            retention_ms,
            lifetime_ms,
            views: Mutex::new(HashMap::new()),
        }
    }

    /// No remote region configured.
    pub fn none() -> Self {
        Self::new(Vec::new(), 0, None)
    }

    /// Whether no remote region is configured.
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// The configured regions, in order.
    pub fn configs(&self) -> impl Iterator<Item = &RegionConfig> {
        self.regions.iter().map(|r| &r.config)
    }

    /// Every configured region.
    pub fn all(&self) -> RegionSet {
        (0..self.regions.len()).fold(RegionSet::EMPTY, RegionSet::with)
    }

    /// The regions a `regions=` parameter names: split on commas, lower-cased as Java does;
    /// names that are not configured remote regions (the local region among them) add nothing.
    pub fn parse_set(&self, requested: &str) -> RegionSet {
        requested
            .split(',')
            .map(|name| name.trim().to_lowercase())
            .filter_map(|name| self.regions.iter().position(|r| r.config.name == name))
            .fold(RegionSet::EMPTY, RegionSet::with)
    }

    /// Whether every configured region has been fetched at least once: Java refuses reads
    /// that ask for remote regions (403) until then.
    pub fn ready(&self) -> bool {
        self.regions.iter().all(|r| r.copy.read().last_success_ms.is_some())
    }

    /// Advances with every change to what any region contributes to reads: part of the
    /// version merged documents are cached at.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn bump(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Replaces region `index`'s copy with a fetched registry: records what changed for
    /// merged deltas and restamps the applications whose content changed.
    pub fn update(&self, index: usize, fetched: &Applications, now: Millis) -> UpdateSummary {
        let Some(region) = self.regions.get(index) else { return UpdateSummary::default() };
        let mut apps: Vec<Application> = fetched
            .applications
            .iter()
            .filter(|a| !a.instances.is_empty())
            .map(|a| {
                let mut instances = a.instances.clone();
                instances.sort_by(|x, y| x.id().cmp(y.id()));
                instances.dedup_by(|x, y| x.id() == y.id());
                Application { name: a.name.to_uppercase(), instances }
            })
            .collect();
        apps.sort_by(|a, b| a.name.cmp(&b.name));
        apps.dedup_by(|later, earlier| {
            let same = later.name == earlier.name;
            if same {
                earlier.instances.append(&mut later.instances);
                earlier.instances.sort_by(|x, y| x.id().cmp(y.id()));
                earlier.instances.dedup_by(|x, y| x.id() == y.id());
            }
            same
        });

        let mut copy = region.copy.write();
        let generation = self.generation() + 1;
        let mut summary = UpdateSummary::default();
        let mut changed = copy.expired;
        let mut changes = Vec::new();
        let mut stamps = Vec::with_capacity(apps.len());
        {
            let old = &copy.apps.applications;
            let mut before = old.iter().zip(copy.stamps.iter()).peekable();
            for app in &apps {
                while let Some((gone, _)) = before.next_if(|(o, _)| o.name < app.name) {
                    changed = true;
                    summary.removed += gone.instances.len();
                    changes
                        .extend(gone.instances.iter().map(|i| with_action(i, ActionType::Deleted)));
                }
                let previous = before.next_if(|(o, _)| o.name == app.name);
                let old_instances = previous.map_or(&[][..], |(o, _)| &o.instances[..]);
                let same_content =
                    diff_instances(old_instances, &app.instances, &mut changes, &mut summary);
                match previous {
                    Some((_, &stamp)) if same_content => stamps.push(stamp),
                    _ => {
                        changed = true;
                        stamps.push(generation);
                    }
                }
            }
            for (gone, _) in before {
                changed = true;
                summary.removed += gone.instances.len();
                changes.extend(gone.instances.iter().map(|i| with_action(i, ActionType::Deleted)));
            }
        }
        copy.apps = Arc::new(Applications {
            versions_delta: FULL_FETCH_VERSION.to_string(),
            apps_hashcode: reconcile_hash_code(
                apps.iter().flat_map(|a| &a.instances).map(|i| i.status),
            ),
            applications: apps,
        });
        copy.stamps = stamps;
        copy.changes.extend(changes.into_iter().map(|c| (now, c)));
        copy.last_success_ms = Some(now);
        copy.expired = false;
        if changed {
            // Under the copy's lock, so no reader merges this copy with an older generation.
            self.bump();
        }
        summary
    }

    /// Called after a failed fetch of region `index`: once its copy is older than the
    /// lifetime it stops being served (until the next successful fetch). Returns whether it
    /// just expired.
    pub fn check_expiry(&self, index: usize, now: Millis) -> bool {
        let (Some(region), Some(lifetime)) = (self.regions.get(index), self.lifetime_ms) else {
            return false;
        };
        let mut copy = region.copy.write();
        let stale = copy.last_success_ms.is_some_and(|at| now.saturating_sub(at) >= lifetime);
        if stale && !copy.expired {
            copy.expired = true;
            self.bump();
            return true;
        }
        false
    }

    /// Drops remote changes older than the retention window; returns how many went.
    pub fn purge_changes(&self, now: Millis) -> usize {
        let cutoff = now.saturating_sub(self.retention_ms);
        let mut purged = 0;
        for region in &self.regions {
            let mut copy = region.copy.write();
            let before = copy.changes.len();
            while copy.changes.front().is_some_and(|(at, _)| *at < cutoff) {
                copy.changes.pop_front();
            }
            let gone = before - copy.changes.len();
            if gone > 0 {
                purged += gone;
                self.bump();
            }
        }
        purged
    }

    /// The local registry merged with the regions of `set`: whitelisted applications of
    /// every region that is not expired, instances of one application from several sources
    /// merged by id. An instance listed by several sources is taken from the local registry,
    /// else from the first region (Java lets the last one win, so a region that lists this
    /// server's own instances back, as two regions following each other do, would shadow
    /// the live local state with an older copy). Built once per (local version, generation,
    /// set).
    pub fn full_view(&self, local: &Snapshot, set: RegionSet) -> Arc<MergedView> {
        let generation = self.generation();
        if let Some(view) = self.views.lock().get(&set) {
            if view.local_version == local.version && view.generation == generation {
                return view.clone();
            }
        }
        let guards: Vec<_> =
            set.iter().filter_map(|i| self.regions.get(i).map(|r| (i, r, r.copy.read()))).collect();
        // Read under the copies' locks: `update` bumps while holding its copy's lock.
        let generation = self.generation();
        let mut by_name: BTreeMap<&str, Vec<(u64, u64, &Application)>> = BTreeMap::new();
        for (i, app) in local.apps.applications.iter().enumerate() {
            let stamp = local.app_version(i).unwrap_or(local.version);
            by_name.entry(app.name.as_str()).or_default().push((0, stamp, app));
        }
        for (index, region, copy) in &guards {
            if copy.expired {
                continue;
            }
            for (app, stamp) in copy.apps.applications.iter().zip(copy.stamps.iter()) {
                if region.serves(&app.name) {
                    let source = *index as u64 + 1;
                    by_name.entry(app.name.as_str()).or_default().push((source, *stamp, app));
                }
            }
        }
        let mut applications = Vec::with_capacity(by_name.len());
        let mut keys = Vec::with_capacity(by_name.len());
        for (name, sources) in by_name {
            let key: ContentKey = sources.iter().flat_map(|&(s, stamp, _)| [s, stamp]).collect();
            let app = match &sources[..] {
                [(_, _, only)] => (*only).clone(),
                several => Application {
                    name: name.to_string(),
                    instances: merge_by_id(several.iter().map(|(_, _, a)| &a.instances[..])),
                },
            };
            applications.push(app);
            keys.push(key);
        }
        let hash =
            reconcile_hash_code(applications.iter().flat_map(|a| &a.instances).map(|i| i.status));
        let view = Arc::new(MergedView {
            local_version: local.version,
            generation,
            apps: Arc::new(Applications {
                versions_delta: FULL_FETCH_VERSION.to_string(),
                apps_hashcode: hash,
                applications,
            }),
            keys,
        });
        drop(guards);
        let mut views = self.views.lock();
        let newer = views.get(&set).is_some_and(|v| {
            (v.local_version, v.generation) > (view.local_version, view.generation)
        });
        if !newer {
            // Sets come from requests: keep a bounded number.
            if views.len() >= MAX_VIEWS && !views.contains_key(&set) {
                views.clear();
            }
            views.insert(set, view.clone());
        }
        view
    }

    /// The local delta merged with the recent changes of the regions of `set` (whitelisted),
    /// with `apps__hashcode` of the merged registry at the same moment (`local` must be the
    /// snapshot at the delta's version), so a client holding the previous merged registry plus
    /// this delta computes the same hash. Returns the merged registry it hashed, too.
    pub fn delta_view(
        &self,
        local_delta: &Applications,
        local: &Snapshot,
        set: RegionSet,
    ) -> (Arc<MergedView>, Applications) {
        loop {
            let full = self.full_view(local, set);
            let guards: Vec<_> = set
                .iter()
                .filter_map(|i| self.regions.get(i).map(|r| (r, r.copy.read())))
                .collect();
            if self.generation() != full.generation {
                // A region changed between the two reads: merge again.
                continue;
            }
            let mut by_app: BTreeMap<String, BTreeMap<String, Arc<InstanceInfo>>> = BTreeMap::new();
            for app in &local_delta.applications {
                let entry = by_app.entry(app.name.clone()).or_default();
                for info in &app.instances {
                    entry.insert(info.id().to_string(), info.clone());
                }
            }
            let live: Vec<_> = guards.iter().filter(|(_, copy)| !copy.expired).collect();
            for (k, (region, copy)) in live.iter().enumerate() {
                for (_, info) in &copy.changes {
                    let app = info.app.to_uppercase();
                    // The merged registry takes an instance listed twice from the local
                    // registry or the first region: changes of shadowed copies are not news.
                    let shadowed = lists(&local.apps, &app, info.id())
                        || live[..k]
                            .iter()
                            .any(|(_, earlier)| lists(&earlier.apps, &app, info.id()));
                    if region.serves(&app) && !shadowed {
                        by_app.entry(app).or_default().insert(info.id().to_string(), info.clone());
                    }
                }
            }
            let delta = Applications {
                versions_delta: local_delta.versions_delta.clone(),
                apps_hashcode: full.apps.apps_hashcode.clone(),
                applications: by_app
                    .into_iter()
                    .map(|(name, instances)| Application {
                        name,
                        instances: instances.into_values().collect(),
                    })
                    .collect(),
            };
            return (full, delta);
        }
    }

    /// An application of no local instance, from the first region of `set` (in configuration
    /// order) that serves it: Java's transparent fallback.
    pub fn application(&self, name: &str, set: RegionSet) -> Option<Application> {
        set.iter().filter_map(|i| self.regions.get(i)).find_map(|region| {
            if !region.serves(name) {
                return None;
            }
            let copy = region.copy.read();
            if copy.expired {
                return None;
            }
            let apps = &copy.apps.applications;
            apps.binary_search_by(|a| a.name.as_str().cmp(name)).ok().map(|i| apps[i].clone())
        })
    }

    /// An instance by id (within `app` when given) from the first region of `set` that
    /// serves it: the fallback of single-instance lookups.
    pub fn instance(
        &self,
        app: Option<&str>,
        id: &str,
        set: RegionSet,
    ) -> Option<Arc<InstanceInfo>> {
        set.iter().filter_map(|i| self.regions.get(i)).find_map(|region| {
            let copy = region.copy.read();
            if copy.expired {
                return None;
            }
            copy.apps
                .applications
                .iter()
                .filter(|a| app.is_none_or(|name| a.name == name) && region.serves(&a.name))
                .find_map(|a| a.instances.iter().find(|i| i.id() == id).cloned())
        })
    }

    /// The applications region `index` contributes to reads (whitelisted; none while
    /// expired), with the region's name: what the console lists as remote.
    pub fn served(&self, index: usize) -> Option<(String, Vec<Application>)> {
        let region = self.regions.get(index)?;
        let copy = region.copy.read();
        let apps = if copy.expired {
            Vec::new()
        } else {
            copy.apps.applications.iter().filter(|a| region.serves(&a.name)).cloned().collect()
        };
        Some((region.config.name.clone(), apps))
    }

    /// Per region: what its copy holds.
    pub fn stats(&self) -> Vec<RegionStats> {
        self.regions
            .iter()
            .map(|region| {
                let copy = region.copy.read();
                let served = if copy.expired {
                    0
                } else {
                    copy.apps
                        .applications
                        .iter()
                        .filter(|a| region.serves(&a.name))
                        .map(|a| a.instances.len())
                        .sum()
                };
                RegionStats {
                    name: region.config.name.clone(),
                    applications: copy.apps.applications.len(),
                    instances: copy.apps.instances().count(),
                    served_instances: served,
                    last_success_ms: copy.last_success_ms,
                    expired: copy.expired,
                    recent_changes: copy.changes.len(),
                }
            })
            .collect()
    }

    /// Instances by status that region `index` serves, for metrics.
    pub fn status_counts(&self, index: usize) -> [(InstanceStatus, usize); 5] {
        let mut counts = InstanceStatus::ALL.map(|s| (s, 0));
        if let Some(region) = self.regions.get(index) {
            let copy = region.copy.read();
            if !copy.expired {
                for app in copy.apps.applications.iter().filter(|a| region.serves(&a.name)) {
                    for info in &app.instances {
                        if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == info.status) {
                            slot.1 += 1;
                        }
                    }
                }
            }
        }
        counts
    }
}

/// Compares one application's instances (both sorted by id), recording registration changes;
/// returns whether the content is identical (lease timestamps included).
fn diff_instances(
    old: &[Arc<InstanceInfo>],
    new: &[Arc<InstanceInfo>],
    changes: &mut Vec<Arc<InstanceInfo>>,
    summary: &mut UpdateSummary,
) -> bool {
    let mut same = old.len() == new.len();
    let mut before = old.iter().peekable();
    for info in new {
        while let Some(gone) = before.next_if(|o| o.id() < info.id()) {
            same = false;
            summary.removed += 1;
            changes.push(with_action(gone, ActionType::Deleted));
        }
        match before.next_if(|o| o.id() == info.id()) {
            None => {
                same = false;
                summary.added += 1;
                changes.push(with_action(info, ActionType::Added));
            }
            Some(o) if Arc::ptr_eq(o, info) || **o == **info => {}
            Some(o) => {
                same = false;
                if !same_registration(o, info) {
                    summary.modified += 1;
                    changes.push(with_action(info, ActionType::Modified));
                }
            }
        }
    }
    for gone in before {
        same = false;
        summary.removed += 1;
        changes.push(with_action(gone, ActionType::Deleted));
    }
    same
}

/// Equal but for what renewals and delta bookkeeping move.
fn same_registration(a: &InstanceInfo, b: &InstanceInfo) -> bool {
    InstanceInfo { lease_info: b.lease_info, action_type: b.action_type, ..a.clone() } == *b
}

fn with_action(info: &Arc<InstanceInfo>, action: ActionType) -> Arc<InstanceInfo> {
    if info.action_type == Some(action) {
        return info.clone();
    }
    Arc::new(InstanceInfo { action_type: Some(action), ..InstanceInfo::clone(info) })
}

/// Instances of several sources merged by id, earlier sources winning; sorted by id.
fn merge_by_id<'a>(
    sources: impl Iterator<Item = &'a [Arc<InstanceInfo>]>,
) -> Vec<Arc<InstanceInfo>> {
    let mut by_id: BTreeMap<&str, &Arc<InstanceInfo>> = BTreeMap::new();
    for source in sources {
        for info in source {
            by_id.entry(info.id()).or_insert(info);
        }
    }
    by_id.into_values().cloned().collect()
}

/// Whether a registry document sorted by application and instance id lists `app`/`id`.
fn lists(apps: &Applications, app: &str, id: &str) -> bool {
    let apps = &apps.applications;
    apps.binary_search_by(|a| a.name.as_str().cmp(app))
        .is_ok_and(|i| apps[i].instances.binary_search_by(|x| x.id().cmp(id)).is_ok())
}
