//! Encoded registry responses, built once per version and shared by every request.
//!
//! A document is keyed by what it holds ([`Entity`]), how it is encoded ([`Codec`]: JSON or
//! XML, full or compact) and which remote regions are merged into it ([`RegionSet`], empty for
//! the local registry alone), as Java keys its response cache. It is tagged with the
//! [`Stamp`] it was built at (local version, delta epoch, remote generation) and served while
//! no reader has seen anything newer.
//!
//! Registry listings (`GET apps`, with or without regions) are assembled from
//! per-application fragments: a change re-encodes and re-compresses only the applications it
//! touched, and the gzip body is the concatenation of each fragment's deflate stream (flushed
//! to a byte boundary) under one gzip header and trailer. A register is visible in a full
//! fetch after encoding one application, not the whole registry.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use eureka_model::{Applications, Codec, DocumentFrame};
use eureka_registry::{RegionSet, Snapshot};
use flate2::write::GzEncoder;
use flate2::{Compress, Compression, FlushCompress};
use parking_lot::Mutex;

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

    /// The uncompressed bytes.
    pub fn plain(&self) -> &Bytes {
        self.plain.get_or_init(|| self.parts.get().map(Parts::plain).unwrap_or_default())
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

/// `plain` as one gzip member, at the level the cache uses for its size: for answers that
/// are built per request (the console's JSON), so they share the registry documents' code.
pub fn gzip(plain: &[u8]) -> Bytes {
    let mut enc = GzEncoder::new(Vec::with_capacity(plain.len() / 8 + 64), level(plain.len()));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(plain);
    Bytes::from(enc.finish().unwrap_or_default())
}

/// One application encoded with one codec: plain, and as raw deflate flushed to a byte
/// boundary (not final), so compressed fragments concatenate into one valid stream.
#[derive(Debug)]
struct Fragment {
    name: String,
    /// What identifies the content encoded (its source stamps): same name and key, same bytes.
    key: Box<[u64]>,
    plain: Bytes,
    deflated: Bytes,
    crc: crc32fast::Hasher,
}

impl Fragment {
    fn encode(codec: Codec, app: &eureka_model::Application, key: &[u64]) -> Self {
        let plain = codec.encode_application_entry(app);
        let deflated = deflate_flushed(&plain, level(plain.len()));
        let mut crc = crc32fast::Hasher::new();
        crc.update(&plain);
        Fragment {
            name: app.name.clone(),
            key: key.into(),
            plain: plain.into(),
            deflated: deflated.into(),
            crc,
        }
    }
}

/// A full registry's fragments, in application order.
type FragmentList = Arc<[Arc<Fragment>]>;

/// A document as its frame around application fragments.
#[derive(Debug)]
struct Parts {
    frame: DocumentFrame,
    fragments: FragmentList,
}

impl Parts {
    /// Every piece of the plain document, in order.
    fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        let body = self.fragments.iter().enumerate().flat_map(|(i, f)| {
            let separator = if i == 0 { &[][..] } else { self.frame.separator };
            [separator, &f.plain[..]]
        });
        std::iter::once(&self.frame.head[..])
            .chain(body)
            .chain(std::iter::once(&self.frame.tail[..]))
    }

    fn plain(&self) -> Bytes {
        let mut out = Vec::with_capacity(self.pieces().map(<[u8]>::len).sum());
        self.pieces().for_each(|p| out.extend_from_slice(p));
        out.into()
    }

    /// One gzip member: the frame's pieces as stored blocks, each fragment's deflate as is,
    /// an empty final block, and the CRC combined from the fragments' own.
    fn gzip(&self) -> Bytes {
        let compressed: usize = self.fragments.iter().map(|f| f.deflated.len()).sum();
        let mut out = Vec::with_capacity(compressed + self.frame.head.len() + 64);
        out.extend_from_slice(&GZIP_HEADER);
        let mut crc = crc32fast::Hasher::new();
        let mut len: u64 = 0;
        let mut literal = |out: &mut Vec<u8>, crc: &mut crc32fast::Hasher, bytes: &[u8]| {
            write_stored(out, bytes);
            crc.update(bytes);
            len += bytes.len() as u64;
        };
        literal(&mut out, &mut crc, &self.frame.head);
        for (i, f) in self.fragments.iter().enumerate() {
            if i > 0 {
                literal(&mut out, &mut crc, self.frame.separator);
            }
            out.extend_from_slice(&f.deflated);
            crc.combine(&f.crc);
        }
        literal(&mut out, &mut crc, &self.frame.tail);
        let fragments: u64 = self.fragments.iter().map(|f| f.plain.len() as u64).sum();
        // The final block: stored, empty.
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        // ISIZE is the length modulo 2^32 by definition (RFC 1952).
        out.extend_from_slice(&((len + fragments) as u32).to_le_bytes());
        out.into()
    }
}

/// gzip member header: deflate, no flags, no mtime, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff];

/// Writes `bytes` as non-final stored deflate blocks; the stream must be at a byte boundary
/// (it is: after the header, a flushed fragment or another stored block).
fn write_stored(out: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in bytes.chunks(usize::from(u16::MAX)) {
        let len = chunk.len() as u16;
        out.push(0x00);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// Raw deflate of `data` ending with a sync flush: byte-aligned and not final, so the
/// output can be followed by more blocks.
fn deflate_flushed(data: &[u8], level: Compression) -> Vec<u8> {
    let mut z = Compress::new(level, false);
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(data.len()).min(data.len());
        // Only a stream used after its end fails, and this one is never finished.
        let _ = z.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync);
        // Done once all input is in and the flush left output space unused.
        if z.total_in() >= data.len() as u64 && out.len() < out.capacity() {
            return out;
        }
        out.reserve(out.capacity().max(1024));
    }
}

/// Large registries are compressed at a faster level: the cost is paid on every change.
fn level(len: usize) -> Compression {
    if len > 1 << 20 {
        Compression::fast()
    } else {
        Compression::default()
    }
}

/// Upper bound on cached documents; VIP names come from the network, so the map is bounded.
const MAX_ENTRIES: usize = 4096;
/// Upper bound on fragment lists kept (one per codec and region set; sets come from requests).
const MAX_LISTINGS: usize = 64;

/// The newest fragments of one listing (codec and region set), with the stamp they were
/// assembled at.
type Listing = (Stamp, FragmentList);

/// The cache of encoded responses, keyed by document, codec and region set, and tagged with
/// the stamp they were built at. A stale entry is replaced on the next request, never served.
#[derive(Debug, Default)]
pub struct ResponseCache {
    entries: Mutex<HashMap<Key, Arc<Encoded>>>,
    /// Per (codec, region set): the newest registry listing's fragments.
    listings: Mutex<HashMap<(Codec, RegionSet), Listing>>,
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
        slot.parts.get_or_init(|| Parts {
            frame: codec.applications_frame(&apps.versions_delta, &apps.apps_hashcode),
            fragments: self.fragments((codec, regions), stamp, apps, keys),
        });
        slot
    }

    /// The local registry's listing of `snap` (`GET apps` without remote regions).
    pub fn full_registry(&self, snap: &Snapshot, codec: Codec) -> Arc<Encoded> {
        let keys = (0..snap.apps.applications.len())
            .map(|i| [0, snap.app_version(i).unwrap_or(snap.version)]);
        self.listing(RegionSet::EMPTY, codec, Stamp::local(snap.version), &snap.apps, keys)
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

#[cfg(test)]
mod tests {
    use super::*;
    use eureka_model::{Detail, Format};

    const JSON: Codec = Codec::new(Format::Json, Detail::Full);
    const XML: Codec = Codec::new(Format::Xml, Detail::Full);
    const NONE: RegionSet = RegionSet::EMPTY;

    #[test]
    fn builds_once_per_version() {
        let cache = ResponseCache::default();
        let mut builds = 0;
        for _ in 0..3 {
            cache.get_or_build(Entity::AllApps, JSON, NONE, Stamp::local(1), || {
                builds += 1;
                Some(b"v1".to_vec())
            });
        }
        assert_eq!(builds, 1);
        let e = cache
            .get_or_build(Entity::AllApps, JSON, NONE, Stamp::local(2), || Some(b"v2".to_vec()));
        assert_eq!(e.unwrap().plain().as_ref(), b"v2");
    }

    #[test]
    fn missing_documents_are_not_cached() {
        let cache = ResponseCache::default();
        assert!(cache
            .get_or_build(Entity::App("X".into()), XML, NONE, Stamp::local(1), || None)
            .is_none());
        let e = cache.get_or_build(Entity::App("X".into()), XML, NONE, Stamp::local(1), || {
            Some(b"<a/>".to_vec())
        });
        assert!(e.is_some());
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out)
            .expect("valid gzip");
        out
    }

    fn registry_of(apps: usize, per_app: usize) -> eureka_registry::Registry {
        let registry = eureka_registry::Registry::new(Default::default());
        for a in 0..apps {
            for i in 0..per_app {
                let info = eureka_model::InstanceInfo {
                    instance_id: Some(format!("i-{a}-{i}")),
                    host_name: format!("host-{i}.example"),
                    app: format!("APP-{a:02}"),
                    ip_addr: "10.0.0.1".into(),
                    ..Default::default()
                };
                registry.register(info, eureka_registry::Origin::Client, 1_700_000_000_000);
            }
        }
        registry
    }

    #[test]
    fn the_full_registry_is_assembled_from_fragments_into_the_same_bytes() {
        let registry = registry_of(12, 40);
        let cache = ResponseCache::default();
        for codec in [JSON, XML, Codec::new(Format::Xml, Detail::Compact)] {
            let snap = registry.snapshot();
            let doc = cache.full_registry(&snap, codec);
            let whole = codec.encode_applications(&snap.apps);
            assert!(doc.plain().as_ref() == &whole[..], "{codec:?} plain differs");
            assert!(gunzip(doc.gzip()) == whole, "{codec:?} gzip differs");
        }
        let empty = eureka_registry::Registry::new(Default::default()).snapshot();
        let doc = ResponseCache::default().full_registry(&empty, JSON);
        assert!(gunzip(doc.gzip()) == Format::Json.encode_applications(&empty.apps), "empty");
    }

    #[test]
    fn a_change_re_encodes_only_its_application() {
        let registry = registry_of(5, 3);
        let cache = ResponseCache::default();
        let before = cache.full_registry(&registry.snapshot(), JSON);
        let before = before.parts.get().unwrap().fragments.clone();
        registry.cancel("APP-02", "i-2-1", 1_700_000_001_000).unwrap();
        let snap = registry.snapshot();
        let after = cache.full_registry(&snap, JSON);
        let fragments = &after.parts.get().unwrap().fragments;
        let reused: Vec<bool> =
            before.iter().zip(fragments.iter()).map(|(b, a)| Arc::ptr_eq(b, a)).collect();
        assert_eq!(reused, [true, true, false, true, true]);
        assert!(gunzip(after.gzip()) == Format::Json.encode_applications(&snap.apps));
    }

    #[test]
    fn gzip_round_trips() {
        let cache = ResponseCache::default();
        let e = cache
            .get_or_build(Entity::Delta, JSON, NONE, Stamp::local(1), || Some(b"hello".repeat(100)))
            .unwrap();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&e.gzip()[..]), &mut out)
            .unwrap();
        assert_eq!(out, b"hello".repeat(100));
    }
}
