use super::*;
use eureka_model::{Detail, Format};

const JSON: Codec = Codec::new(Format::Json, Detail::Full);
const XML: Codec = Codec::new(Format::Xml, Detail::Full);
const CODECS: [Codec; 4] = [
    JSON,
    XML,
    Codec::new(Format::Json, Detail::Compact),
    Codec::new(Format::Xml, Detail::Compact),
];
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
    let e =
        cache.get_or_build(Entity::AllApps, JSON, NONE, Stamp::local(2), || Some(b"v2".to_vec()));
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
    for codec in CODECS {
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
    let before: Vec<Arc<Fragment>> = before.parts.get().unwrap().fragments().cloned().collect();
    registry.cancel("APP-02", "i-2-1", 1_700_000_001_000).unwrap();
    let snap = registry.snapshot();
    let after = cache.full_registry(&snap, JSON);
    let fragments: Vec<&Arc<Fragment>> = after.parts.get().unwrap().fragments().collect();
    let reused: Vec<bool> =
        before.iter().zip(fragments.iter()).map(|(b, a)| Arc::ptr_eq(b, *a)).collect();
    assert_eq!(reused, [true, true, false, true, true]);
    assert!(gunzip(after.gzip()) == Format::Json.encode_applications(&snap.apps));
}

fn delta_stamp(key: (u64, u64)) -> Stamp {
    Stamp { registry: key.0, delta_epoch: key.1, regions: 0 }
}

#[test]
fn the_delta_is_assembled_from_instance_fragments_reused_across_versions() {
    let registry = registry_of(4, 5);
    let cache = ResponseCache::default();
    for codec in CODECS {
        let (key, delta) = registry.delta();
        let doc = cache.delta(NONE, codec, delta_stamp(key), || delta.clone());
        let whole = codec.encode_applications(&delta);
        assert!(doc.plain().as_ref() == &whole[..], "{codec:?} plain differs");
        assert!(gunzip(doc.gzip()) == whole, "{codec:?} gzip differs");
    }
    let (key, delta) = registry.delta();
    let first: Vec<Arc<Fragment>> = cache
        .delta(NONE, JSON, delta_stamp(key), || delta.clone())
        .parts
        .get()
        .unwrap()
        .fragments()
        .cloned()
        .collect();
    registry.cancel("APP-01", "i-1-1", 1_700_000_001_000).unwrap();
    let (key, delta) = registry.delta();
    let doc = cache.delta(NONE, JSON, delta_stamp(key), || delta.clone());
    assert!(gunzip(doc.gzip()) == Format::Json.encode_applications(&delta));
    let second: Vec<&Arc<Fragment>> = doc.parts.get().unwrap().fragments().collect();
    let reused = second.iter().filter(|f| first.iter().any(|g| Arc::ptr_eq(g, f))).count();
    assert_eq!((second.len(), reused), (20, 19), "only the cancelled instance is new");
}

#[test]
fn compact_deltas_keep_their_own_fragments() {
    let registry = registry_of(2, 3);
    let cache = ResponseCache::default();
    let (key, delta) = registry.delta();
    let compact = Codec::new(Format::Json, Detail::Compact);
    let full = cache.delta(NONE, JSON, delta_stamp(key), || delta.clone());
    let mini = cache.delta(NONE, compact, delta_stamp(key), || delta.clone());
    assert!(gunzip(full.gzip()) == JSON.encode_applications(&delta));
    assert!(gunzip(mini.gzip()) == compact.encode_applications(&delta));
    assert!(mini.gzip().len() < full.gzip().len(), "compact instances are smaller");
}

#[test]
fn gzip_round_trips() {
    let cache = ResponseCache::default();
    let e = cache
        .get_or_build(Entity::Delta, JSON, NONE, Stamp::local(1), || Some(b"hello".repeat(100)))
        .unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&e.gzip()[..]), &mut out).unwrap();
    assert_eq!(out, b"hello".repeat(100));
}
