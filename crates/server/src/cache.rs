//! Encoded registry responses, built once per registry version and shared by every request.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use eureka_model::Format;
use flate2::write::GzEncoder;
use flate2::Compression;
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
    format: Format,
}

/// One encoded document at one version; the gzip form is made on first demand, once.
#[derive(Debug)]
pub struct Encoded {
    version: (u64, u64),
    plain: OnceLock<Bytes>,
    gzip: OnceLock<Bytes>,
}

impl Encoded {
    /// The (registry version, delta epoch) this document was built at.
    pub fn version(&self) -> (u64, u64) {
        self.version
    }

    /// The uncompressed bytes.
    pub fn plain(&self) -> &Bytes {
        self.plain.get().expect("filled before the entry is handed out")
    }

    /// The gzip-compressed bytes, compressed at most once per version.
    pub fn gzip(&self) -> &Bytes {
        self.gzip.get_or_init(|| {
            let plain = self.plain();
            let mut enc =
                GzEncoder::new(Vec::with_capacity(plain.len() / 8 + 64), level(plain.len()));
            // Writing into a Vec cannot fail.
            let _ = enc.write_all(plain);
            Bytes::from(enc.finish().unwrap_or_default())
        })
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

/// The cache of encoded responses, keyed by document and format and tagged with the version
/// they were built at. A stale entry is replaced on the next request, never served.
#[derive(Debug, Default)]
pub struct ResponseCache {
    entries: Mutex<HashMap<Key, Arc<Encoded>>>,
}

impl ResponseCache {
    /// Returns the document at `version`, encoding it with `build` if no request has yet.
    /// Concurrent requests for the same new version wait for a single encoding.
    /// `build` returns `None` when the document does not exist (nothing is cached then).
    pub fn get_or_build(
        &self,
        entity: Entity,
        format: Format,
        version: (u64, u64),
        build: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Option<Arc<Encoded>> {
        let key = Key { entity, format };
        let slot = {
            let mut entries = self.entries.lock();
            match entries.get(&key) {
                Some(e) if e.version >= version => e.clone(),
                _ => {
                    if entries.len() >= MAX_ENTRIES {
                        entries.clear();
                    }
                    let fresh = Arc::new(Encoded {
                        version,
                        plain: OnceLock::new(),
                        gzip: OnceLock::new(),
                    });
                    entries.insert(key.clone(), fresh.clone());
                    fresh
                }
            }
        };
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_once_per_version() {
        let cache = ResponseCache::default();
        let mut builds = 0;
        for _ in 0..3 {
            cache.get_or_build(Entity::AllApps, Format::Json, (1, 0), || {
                builds += 1;
                Some(b"v1".to_vec())
            });
        }
        assert_eq!(builds, 1);
        let e = cache.get_or_build(Entity::AllApps, Format::Json, (2, 0), || Some(b"v2".to_vec()));
        assert_eq!(e.unwrap().plain().as_ref(), b"v2");
    }

    #[test]
    fn missing_documents_are_not_cached() {
        let cache = ResponseCache::default();
        assert!(cache
            .get_or_build(Entity::App("X".into()), Format::Xml, (1, 0), || None)
            .is_none());
        let e = cache
            .get_or_build(Entity::App("X".into()), Format::Xml, (1, 0), || Some(b"<a/>".to_vec()));
        assert!(e.is_some());
    }

    #[test]
    fn gzip_round_trips() {
        let cache = ResponseCache::default();
        let e = cache
            .get_or_build(Entity::Delta, Format::Json, (1, 0), || Some(b"hello".repeat(100)))
            .unwrap();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&e.gzip()[..]), &mut out)
            .unwrap();
        assert_eq!(out, b"hello".repeat(100));
    }
}
