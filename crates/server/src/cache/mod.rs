//! Encoded registry responses, built once per version and shared by every request.
//!
//! A document is keyed by what it holds ([`Entity`]), how it is encoded ([`Codec`]: JSON or
//! XML, full or compact) and which remote regions are merged into it ([`RegionSet`], empty for
//! the local registry alone), as Java keys its response cache. It is tagged with the
//! [`Stamp`] it was built at (local version, delta epoch, remote generation) and served while
//! no reader has seen anything newer.
//!
//! Registry listings (`GET apps`, with or without regions) are assembled from
//! per-application fragments, and deltas from per-change (per-instance) fragments: a change
//! re-encodes and re-compresses only what it touched, and the gzip body is the concatenation
//! of the fragments' deflate streams under one gzip header and trailer (`fragment.rs`). A
//! register is visible in a full fetch after encoding one application, not the whole
//! registry.

mod fragment;
#[cfg(test)]
mod tests;

use std::borrow::Borrow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use eureka_model::{Applications, Codec, InstanceInfo};
use eureka_registry::{RegionSet, Snapshot};
use parking_lot::Mutex;

pub use fragment::gzip;
use fragment::{inflate, Fragment, FragmentList, Parts};

/// Which document a cached response holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Entity {
    /// `GET apps`.
    AllApps,
    /// `GET apps/delta`.
    Delta,
    /// `GET apps/{APP}`.
    App(String),
    /// `GET vips/{vip}`.
    Vip(String),
    /// `GET svips/{svip}`.
    SecureVip(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    entity: Entity,
    codec: Codec,
    regions: RegionSet,
}

/// The versions a document was built at. Each only grows; a document is served to a reader
/// whose stamp it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamp {
    /// The local registry version.
    pub registry: u64,
    /// The local delta's purge epoch (deltas only).
    pub delta_epoch: u64,
    /// The remote regions' generation (documents with regions merged in).
    pub regions: u64,
}

impl Stamp {
    /// A stamp of the local registry alone.
    pub fn local(registry: u64) -> Stamp {
        Stamp { registry, ..Stamp::default() }
    }

    /// Whether a document built at `self` is at least as new as `other` in every part.
    pub fn covers(self, other: Stamp) -> bool {
        self.registry >= other.registry
            && self.delta_epoch >= other.delta_epoch
            && self.regions >= other.regions
    }
}

/// One encoded document at one version; the gzip form is made on first demand, once.
#[derive(Debug)]
pub struct Encoded {
    stamp: Stamp,
    plain: OnceLock<Bytes>,
    gzip: OnceLock<Bytes>,
    /// For documents assembled from fragments: what both forms are concatenated from.
    parts: OnceLock<Parts>,
}

impl Encoded {
    fn new(stamp: Stamp) -> Self {
        Encoded { stamp, plain: OnceLock::new(), gzip: OnceLock::new(), parts: OnceLock::new() }
    }

    /// The versions this document was built at.
    pub fn stamp(&self) -> Stamp {
        self.stamp
    }

    /// The uncompressed bytes. A document assembled from fragments keeps only compressed
    /// fragments, so its plain form is inflated from the gzip one, once, when first asked.
    pub fn plain(&self) -> &Bytes {
        self.plain.get_or_init(|| match self.parts.get() {
            Some(parts) => inflate(self.gzip(), parts.plain_len()),
            None => Bytes::new(),
        })
    }

    /// The gzip-compressed bytes, compressed at most once per version.
    pub fn gzip(&self) -> &Bytes {
        self.gzip.get_or_init(|| {
            if let Some(parts) = self.parts.get() {
                return parts.gzip();
            }
            gzip(self.plain())
        })
    }
}

/// Upper bound on cached documents; VIP names come from the network, so the map is bounded.
const MAX_ENTRIES: usize = 4096;
/// Upper bound on fragment sets kept (one per codec and region set; sets come from requests).
const MAX_LISTINGS: usize = 64;

/// The newest fragments of one listing (codec and region set), with the stamp they were
/// assembled at.
type Listing = (Stamp, FragmentList);

/// The fragments of a delta's instances, by the stored instance they encode.
type InstanceFragments = HashMap<ByPtr, Arc<Fragment>>;

/// An instance compared and hashed by its address: the registry (and a remote region's copy)
/// never changes a stored instance in place, so the same `Arc` means the same bytes. Holding
/// the `Arc` keeps the address from being reused.
#[derive(Debug, Clone)]
struct ByPtr(Arc<InstanceInfo>);

impl PartialEq for ByPtr {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ByPtr {}

impl std::hash::Hash for ByPtr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::hash(Arc::as_ptr(&self.0), state);
    }
}

/// The cache of encoded responses, keyed by document, codec and region set, and tagged with
/// the stamp they were built at. A stale entry is replaced on the next request, never served.
#[derive(Debug, Default)]
pub struct ResponseCache {
    entries: Mutex<HashMap<Key, Arc<Encoded>>>,
    /// Per (codec, region set): the newest registry listing's fragments.
    listings: Mutex<HashMap<(Codec, RegionSet), Listing>>,
    /// Per (codec, region set): the newest delta's stamp and its instance fragments.
    deltas: Mutex<HashMap<(Codec, RegionSet), (Stamp, InstanceFragments)>>,
}

impl ResponseCache {
    /// The entry for `key` at `stamp` (or newer), created empty if there is none yet.
    fn slot(&self, key: &Key, stamp: Stamp) -> Arc<Encoded> {
        let mut entries = self.entries.lock();
        match entries.get(key) {
            Some(e) if e.stamp.covers(stamp) => e.clone(),
            _ => {
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
                let fresh = Arc::new(Encoded::new(stamp));
                entries.insert(key.clone(), fresh.clone());
                fresh
            }
        }
    }

    /// Returns the document at `stamp`, encoding it with `build` if no request has yet.
    /// Concurrent requests for the same new stamp wait for a single encoding.
    /// `build` returns `None` when the document does not exist (nothing is cached then).
    pub fn get_or_build(
        &self,
        entity: Entity,
        codec: Codec,
        regions: RegionSet,
        stamp: Stamp,
        build: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Option<Arc<Encoded>> {
        let key = Key { entity, codec, regions };
        let slot = self.slot(&key, stamp);
        let mut missing = false;
        slot.plain.get_or_init(|| match build() {
            Some(bytes) => Bytes::from(bytes),
            None => {
                missing = true;
                Bytes::new()
            }
        });
        if missing || slot.plain().is_empty() {
            self.entries.lock().remove(&key);
            return None;
        }
        Some(slot)
    }

    /// A registry listing (`GET apps`, the local registry or a merged one) at `stamp`,
    /// assembled from per-application fragments: `keys` gives, per application of `apps`, what
    /// identifies its content, and only applications whose key moved since the last assembly
    /// of this listing are encoded and compressed again.
    pub fn listing<K: AsRef<[u64]>>(
        &self,
        regions: RegionSet,
        codec: Codec,
        stamp: Stamp,
        apps: &Applications,
        keys: impl Iterator<Item = K>,
    ) -> Arc<Encoded> {
        let slot = self.slot(&Key { entity: Entity::AllApps, codec, regions }, stamp);
        slot.parts.get_or_init(|| {
            let frame = codec.applications_frame(&apps.versions_delta, &apps.apps_hashcode);
            Parts::framed(&frame, &self.fragments((codec, regions), stamp, apps, keys))
        });
        slot
    }

    /// The local registry's listing of `snap` (`GET apps` without remote regions).
    pub fn full_registry(&self, snap: &Snapshot, codec: Codec) -> Arc<Encoded> {
        let keys = (0..snap.apps.applications.len())
            .map(|i| [0, snap.app_version(i).unwrap_or(snap.version)]);
        self.listing(RegionSet::EMPTY, codec, Stamp::local(snap.version), &snap.apps, keys)
    }

    /// A delta (`GET apps/delta`, local or merged with `regions`) at `stamp`, assembled from
    /// one fragment per changed instance: an instance's change is encoded and compressed
    /// once, when it first appears in a delta of this codec and region set, and reused by
    /// every later stamp while it stays in the window. `delta` makes the document's content,
    /// called only when no request has built this stamp yet.
    pub fn delta<D: Borrow<Applications>>(
        &self,
        regions: RegionSet,
        codec: Codec,
        stamp: Stamp,
        delta: impl FnOnce() -> D,
    ) -> Arc<Encoded> {
        let slot = self.slot(&Key { entity: Entity::Delta, codec, regions }, stamp);
        slot.parts.get_or_init(|| {
            let delta = delta();
            let delta: &Applications = delta.borrow();
            let which = (codec, regions);
            let previous = self.deltas.lock().remove(&which).map(|(_, f)| f).unwrap_or_default();
            let mut kept = HashMap::with_capacity(delta.instances().count());
            let mut parts = Parts::default();
            let frame = codec.applications_frame(&delta.versions_delta, &delta.apps_hashcode);
            parts.literal(&frame.head);
            for (a, app) in delta.applications.iter().enumerate() {
                if a > 0 {
                    parts.literal(frame.separator);
                }
                let app_frame = codec.application_frame(&app.name);
                parts.literal(&app_frame.head);
                for (i, info) in app.instances.iter().enumerate() {
                    if i > 0 {
                        parts.literal(app_frame.separator);
                    }
                    let key = ByPtr(info.clone());
                    let fragment = previous.get(&key).cloned().unwrap_or_else(|| {
                        let plain = codec.encode_instance_entry(info);
                        Arc::new(Fragment::of(String::new(), &[], &plain))
                    });
                    parts.fragment(fragment.clone());
                    kept.insert(key, fragment);
                }
                parts.literal(&app_frame.tail);
            }
            parts.literal(&frame.tail);
            let mut newest = self.deltas.lock();
            // Keep the set of the newest build; a slower, older one must not replace it.
            match newest.get(&which) {
                Some((at, _)) if !stamp.covers(*at) => {}
                _ => {
                    if newest.len() >= MAX_LISTINGS && !newest.contains_key(&which) {
                        newest.clear();
                    }
                    newest.insert(which, (stamp, kept));
                }
            }
            parts
        });
        slot
    }

    fn fragments<K: AsRef<[u64]>>(
        &self,
        listing: (Codec, RegionSet),
        stamp: Stamp,
        apps: &Applications,
        keys: impl Iterator<Item = K>,
    ) -> FragmentList {
        let previous = self.listings.lock().get(&listing).map(|(_, list)| list.clone());
        let previous = previous.unwrap_or_else(|| Arc::new([]));
        let mut before = previous.iter().peekable();
        let apps = &apps.applications;
        let mut fragments = Vec::with_capacity(apps.len());
        for (app, key) in apps.iter().zip(keys) {
            let key = key.as_ref();
            while before.next_if(|f| f.name.as_str() < app.name.as_str()).is_some() {}
            match before.next_if(|f| f.name == app.name) {
                Some(f) if *f.key == *key => fragments.push(f.clone()),
                _ => fragments.push(Arc::new(Fragment::encode(listing.0, app, key))),
            }
        }
        let fragments: FragmentList = fragments.into();
        let mut newest = self.listings.lock();
        // A slower build of an older version must not replace a newer set.
        match newest.get(&listing) {
            Some((at, _)) if !stamp.covers(*at) => {}
            _ => {
                if newest.len() >= MAX_LISTINGS && !newest.contains_key(&listing) {
                    newest.clear();
                }
                newest.insert(listing, (stamp, fragments.clone()));
            }
        }
        fragments
    }
}
