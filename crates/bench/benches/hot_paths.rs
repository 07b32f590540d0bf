//! Micro-benchmarks of the hot paths behind the HTTP numbers: the JSON and XML codecs (one
//! instance, a 10k-instance registry), the registry's register, renew and snapshot, the
//! full-fetch body a change costs (local, and merged with a remote region), and what
//! `eureka.security` adds to a renewal (credential check, ownership check).
//!
//! `cargo bench -p eureka-bench` (or `-- codec` / `-- registry` / `-- auth` for one group).

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use eureka_model::{json, xml, Codec, Detail, Format, InstanceInfo};
use eureka_registry::{
    Origin, RegionConfig, Registry, RegistrySettings, RemoteRegions, RenewRequest,
};
use eureka_server::cache::{ResponseCache, Stamp};
use eureka_testkit::fixtures::{java_json, java_xml};

const NOW: u64 = 1_700_000_000_000;
const BIG: u64 = 10_000;
const JSON: Codec = Codec::new(Format::Json, Detail::Full);

fn instance(n: u64) -> InstanceInfo {
    let body = java_json(&format!("APP-{:03}", n % 100), &format!("inst-{n}"), 8080);
    json::decode_instance(body.as_bytes()).expect("fixture decodes")
}

fn registry(size: u64) -> Registry {
    let registry = Registry::new(RegistrySettings::default());
    for n in 0..size {
        registry.register(instance(n), Origin::Client, NOW);
    }
    registry
}

fn codecs(c: &mut Criterion) {
    let mut g = c.benchmark_group("codec");
    let body_json = java_json("APP-001", "inst-1", 8080);
    let body_xml = java_xml("APP-001", "inst-1", 8080);
    let one = instance(1);
    g.bench_function("json decode instance", |b| {
        b.iter(|| json::decode_instance(black_box(body_json.as_bytes())))
    });
    g.bench_function("xml decode instance", |b| {
        b.iter(|| xml::decode_instance(black_box(body_xml.as_bytes())))
    });
    g.bench_function("json encode instance", |b| b.iter(|| json::encode_instance(black_box(&one))));
    g.bench_function("xml encode instance", |b| b.iter(|| xml::encode_instance(black_box(&one))));

    let apps = registry(BIG).snapshot().apps;
    let apps_json = json::encode_applications(&apps);
    g.sample_size(10);
    g.bench_function("json encode 10k registry", |b| {
        b.iter(|| json::encode_applications(black_box(&apps)))
    });
    g.bench_function("xml encode 10k registry", |b| {
        b.iter(|| xml::encode_applications(black_box(&apps)))
    });
    g.bench_function("json decode 10k registry", |b| {
        b.iter(|| json::decode_applications(black_box(&apps_json)))
    });
    g.finish();
}

fn registry_ops(c: &mut Criterion) {
    let mut g = c.benchmark_group("registry");
    let reg = registry(BIG);
    let renew = RenewRequest {
        last_dirty_timestamp: Some(NOW),
        overridden_status: None,
        origin: Origin::Client,
    };
    let mut n = 0u64;
    g.bench_function("renew (10k registry)", |b| {
        b.iter(|| {
            n = (n + 1) % BIG;
            let app = format!("APP-{:03}", n % 100);
            reg.renew(&app, &format!("inst-{n}"), renew, NOW + 1)
        })
    });
    g.bench_function("re-register (10k registry)", |b| {
        b.iter_batched(
            || instance(7),
            |i| reg.register(i, Origin::Client, NOW + 2),
            BatchSize::SmallInput,
        )
    });
    g.sample_size(10);
    // A change invalidates the cached snapshot, so every iteration rebuilds it.
    g.bench_function("snapshot after a change (10k registry)", |b| {
        b.iter_batched(
            || {
                reg.register(instance(7), Origin::Client, NOW + 3);
            },
            |()| reg.snapshot(),
            BatchSize::PerIteration,
        )
    });
    // What a register costs the next full fetch: the snapshot, re-encoding the changed
    // application and assembling the gzip body from the cached fragments.
    let cache = ResponseCache::default();
    let _ = cache.full_registry(&reg.snapshot(), JSON).gzip();
    g.bench_function("gzip full registry after a change (10k registry)", |b| {
        b.iter_batched(
            || {
                reg.register(instance(7), Origin::Client, NOW + 4);
            },
            |()| cache.full_registry(&reg.snapshot(), JSON).gzip().len(),
            BatchSize::PerIteration,
        )
    });
    // The same for `GET apps?regions=west`: the local registry merged with a remote region of
    // 10k more instances; the merged view and the changed application's fragment are rebuilt.
    let west = Registry::new(RegistrySettings::default());
    for n in BIG..2 * BIG {
        west.register(instance(n + 100), Origin::Client, NOW);
    }
    let regions = RemoteRegions::new(
        vec![RegionConfig { name: "west".into(), whitelist: None }],
        180_000,
        None,
    );
    regions.update(0, &west.snapshot().apps, NOW);
    let set = regions.all();
    let merged = || {
        let view = regions.full_view(&reg.snapshot(), set);
        let stamp =
            Stamp { registry: view.local_version, delta_epoch: 0, regions: view.generation };
        cache.listing(set, JSON, stamp, &view.apps, view.keys.iter()).gzip().len()
    };
    merged();
    g.bench_function("gzip merged registry after a local change (10k + 10k remote)", |b| {
        b.iter_batched(
            || {
                reg.register(instance(7), Origin::Client, NOW + 5);
            },
            |()| merged(),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// What authentication adds per request: the credential check of a renewal (plain password,
/// and a bcrypt one, both answered from the verification cache), a bcrypt check that misses
/// the cache (what the cache saves), and `renew_as` (ownership checked; every lease is claimed
/// in criterion's warm-up) next to the same `renew` unchecked.
fn auth(c: &mut Criterion) {
    use eureka_server::security::{Authenticator, Password, Role, SecuritySettings, UserSettings};
    let mut g = c.benchmark_group("auth");
    let user = |password: &str| UserSettings {
        password: Some(Password::parse(password).expect("password")),
        roles: vec![Role::Write],
    };
    let bcrypt_hash = bcrypt::hash("pw", bcrypt::DEFAULT_COST).expect("bcrypt hash");
    let settings = SecuritySettings {
        enabled: true,
        users: [("plain".to_string(), user("pw")), ("hashed".to_string(), user(&bcrypt_hash))]
            .into_iter()
            .collect(),
        ..SecuritySettings::default()
    };
    let auth = Authenticator::new(&settings);
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    // base64("plain:pw"), base64("hashed:pw")
    let (plain, hashed) = (b"Basic cGxhaW46cHc=".as_slice(), b"Basic aGFzaGVkOnB3".as_slice());
    assert!(rt.block_on(auth.authenticate(Some(hashed))).is_ok(), "warms the cache");
    g.bench_function("check plain password", |b| {
        b.iter(|| rt.block_on(auth.authenticate(black_box(Some(plain)))).is_ok())
    });
    g.bench_function("check bcrypt password, cached", |b| {
        b.iter(|| rt.block_on(auth.authenticate(black_box(Some(hashed)))).is_ok())
    });
    let reg = registry(BIG);
    let owner: std::sync::Arc<str> = std::sync::Arc::from("plain");
    let renew = RenewRequest {
        last_dirty_timestamp: None,
        overridden_status: None,
        origin: Origin::Client,
    };
    let mut n = 0u64;
    g.bench_function("renew, unchecked (10k registry)", |b| {
        b.iter(|| {
            n = (n + 1) % BIG;
            let app = format!("APP-{:03}", n % 100);
            reg.renew(&app, &format!("inst-{n}"), renew, NOW + 1)
        })
    });
    g.bench_function("renew_as, owner checked (10k registry)", |b| {
        b.iter(|| {
            n = (n + 1) % BIG;
            let app = format!("APP-{:03}", n % 100);
            reg.renew_as(&app, &format!("inst-{n}"), renew, &owner, NOW + 1)
        })
    });
    g.sample_size(10);
    g.bench_function("check bcrypt password, uncached (cost 10)", |b| {
        b.iter(|| bcrypt::verify(black_box("pw"), &bcrypt_hash))
    });
    g.finish();
}

criterion_group!(benches, codecs, registry_ops, auth);
criterion_main!(benches);
