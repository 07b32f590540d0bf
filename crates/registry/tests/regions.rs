//! Remote regions' copies and the merged reads over them, with time passed in.

use std::collections::BTreeSet;
use std::sync::Arc;

use eureka_model::{
    reconcile_hash_code, ActionType, Application, Applications, InstanceInfo, InstanceStatus,
};
use eureka_registry::regions::UpdateSummary;
use eureka_registry::{Origin, RegionConfig, RegionSet, Registry, RegistrySettings, RemoteRegions};

const T0: u64 = 1_700_000_000_000;
const RETENTION: u64 = 180_000;
use InstanceStatus::*;

fn instance(app: &str, id: &str, status: InstanceStatus) -> InstanceInfo {
    InstanceInfo {
        instance_id: Some(id.to_string()),
        host_name: format!("{id}.remote"),
        app: app.to_string(),
        ip_addr: "10.9.0.1".to_string(),
        status,
        vip_address: Some(app.to_lowercase()),
        ..Default::default()
    }
}

/// A fetched remote registry, in no particular order (as a server may send it).
fn fetched(instances: &[(&str, &str, InstanceStatus)]) -> Applications {
    let mut apps: Vec<Application> = Vec::new();
    for (app, id, status) in instances.iter().rev() {
        let info = Arc::new(instance(app, id, *status));
        match apps.iter_mut().find(|a| a.name == *app) {
            Some(a) => a.instances.push(info),
            None => apps.push(Application { name: app.to_string(), instances: vec![info] }),
        }
    }
    let hash = reconcile_hash_code(apps.iter().flat_map(|a| &a.instances).map(|i| i.status));
    Applications { versions_delta: "1".into(), apps_hashcode: hash, applications: apps }
}

fn region(name: &str, whitelist: Option<&[&str]>) -> RegionConfig {
    RegionConfig {
        name: name.to_string(),
        whitelist: whitelist.map(|w| w.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>()),
    }
}

fn local() -> Registry {
    let r = Registry::new(RegistrySettings::default());
    let mut info = instance("ORDERS", "o-local", Up);
    info.host_name = "o-local.here".into();
    r.register(info, Origin::Client, T0);
    r
}

fn ids(apps: &Applications) -> Vec<String> {
    apps.instances().map(|i| format!("{}/{}", i.app, i.id())).collect()
}

/// A client's merged copy after a delta, the way Java's `updateDelta` applies one.
fn apply_delta(copy: &Applications, delta: &Applications) -> Vec<Arc<InstanceInfo>> {
    let mut local: Vec<Arc<InstanceInfo>> = copy.instances().cloned().collect();
    for inst in delta.instances() {
        local.retain(|i| !(i.app == inst.app && i.id() == inst.id()));
        if let Some(ActionType::Added | ActionType::Modified) = inst.action_type {
            local.push(inst.clone());
        }
    }
    local
}

#[test]
fn requested_regions_are_lower_cased_and_unknown_ones_add_nothing() {
    let regions = RemoteRegions::new(
        vec![region("eu-west-1", None), region("us-west-2", None)],
        RETENTION,
        None,
    );
    let set = regions.parse_set("US-WEST-2, nowhere,us-east-1");
    assert_eq!(set.iter().collect::<Vec<_>>(), [1]);
    assert!(regions.parse_set("nowhere").is_empty());
    assert_eq!(regions.all().iter().collect::<Vec<_>>(), [0, 1]);
    assert!(!regions.ready(), "nothing fetched yet");
    regions.update(0, &fetched(&[]), T0);
    assert!(!regions.ready(), "every region must have answered once");
    regions.update(1, &fetched(&[]), T0);
    assert!(regions.ready());
}

#[test]
fn the_merged_registry_holds_both_and_hashes_the_merged_set() {
    let registry = local();
    let regions = RemoteRegions::new(vec![region("west", None)], RETENTION, None);
    regions.update(0, &fetched(&[("ORDERS", "o-west", Down), ("BILLING", "b-west", Up)]), T0);
    let set = regions.all();
    let view = regions.full_view(&registry.snapshot(), set);
    assert_eq!(ids(&view.apps), ["BILLING/b-west", "ORDERS/o-local", "ORDERS/o-west"]);
    assert_eq!(view.apps.apps_hashcode, "DOWN_1_UP_2_");
    assert_eq!(view.apps.versions_delta, "1");
    // The local view alone is untouched.
    let alone = regions.full_view(&registry.snapshot(), RegionSet::EMPTY);
    assert_eq!(ids(&alone.apps), ["ORDERS/o-local"]);
    // Built once per version and generation.
    assert!(Arc::ptr_eq(&view, &regions.full_view(&registry.snapshot(), set)));
}

#[test]
fn whitelists_limit_what_a_region_serves() {
    let registry = local();
    let regions = RemoteRegions::new(vec![region("west", Some(&["BILLING"]))], RETENTION, None);
    regions.update(0, &fetched(&[("ORDERS", "o-west", Up), ("BILLING", "b-west", Up)]), T0);
    let view = regions.full_view(&registry.snapshot(), regions.all());
    assert_eq!(ids(&view.apps), ["BILLING/b-west", "ORDERS/o-local"]);
    assert!(regions.application("ORDERS", regions.all()).is_none(), "not whitelisted");
    assert_eq!(regions.application("BILLING", regions.all()).unwrap().instances.len(), 1);
    assert!(regions.instance(None, "o-west", regions.all()).is_none());
    assert!(regions.instance(Some("BILLING"), "b-west", regions.all()).is_some());
    let stats = &regions.stats()[0];
    assert_eq!((stats.instances, stats.served_instances), (2, 1));
}

#[test]
fn an_update_records_what_changed_and_restamps_only_changed_applications() {
    let registry = local();
    let regions = RemoteRegions::new(vec![region("west", None)], RETENTION, None);
    let first =
        regions.update(0, &fetched(&[("A", "a1", Up), ("B", "b1", Up), ("C", "c1", Up)]), T0);
    assert_eq!(first, UpdateSummary { added: 3, modified: 0, removed: 0 });
    let before = regions.full_view(&registry.snapshot(), regions.all());

    // Same content again: nothing changes, not even the generation.
    let generation = regions.generation();
    let same = regions.update(
        0,
        &fetched(&[("A", "a1", Up), ("B", "b1", Up), ("C", "c1", Up)]),
        T0 + 30_000,
    );
    assert_eq!(same, UpdateSummary::default());
    assert_eq!(regions.generation(), generation);

    let next = regions.update(
        0,
        &fetched(&[("A", "a1", Up), ("B", "b1", Down), ("D", "d1", Up)]),
        T0 + 60_000,
    );
    assert_eq!(next, UpdateSummary { added: 1, modified: 1, removed: 1 });
    let after = regions.full_view(&registry.snapshot(), regions.all());
    let key = |view: &eureka_registry::regions::MergedView, app: &str| {
        let i = view.apps.applications.iter().position(|a| a.name == app).unwrap();
        view.keys[i].clone()
    };
    assert_eq!(key(&before, "A"), key(&after, "A"), "A did not change");
    assert_ne!(key(&before, "B"), key(&after, "B"), "B did");
    assert_eq!(
        key(&before, "ORDERS"),
        key(&after, "ORDERS"),
        "local content is keyed by its own stamp"
    );
}

#[test]
fn previous_merged_registry_plus_merged_delta_hashes_like_the_server() {
    let registry = local();
    let regions = RemoteRegions::new(
        vec![region("west", None), region("east", Some(&["PAY"]))],
        RETENTION,
        None,
    );
    regions.update(0, &fetched(&[("A", "a1", Up), ("B", "b1", Up)]), T0);
    regions.update(1, &fetched(&[("PAY", "p1", Up), ("HIDDEN", "h1", Up)]), T0);
    let set = regions.all();
    let client_copy = regions.full_view(&registry.snapshot(), set).apps.clone();

    // Changes everywhere: a local registration, remote ones in both regions.
    registry.register(instance("ORDERS", "o-2", Up), Origin::Client, T0 + 1_000);
    regions.update(0, &fetched(&[("A", "a1", OutOfService), ("C", "c1", Up)]), T0 + 2_000);
    regions.update(1, &fetched(&[("PAY", "p2", Up), ("HIDDEN", "h2", Up)]), T0 + 2_000);

    let (_, local_delta) = registry.delta();
    let snap = registry.snapshot();
    let (full, delta) = regions.delta_view(&local_delta, &snap, set);
    let after = apply_delta(&client_copy, &delta);
    assert_eq!(reconcile_hash_code(after.iter().map(|i| i.status)), delta.apps_hashcode);
    assert_eq!(delta.apps_hashcode, full.apps.apps_hashcode);
    let mut seen: Vec<String> = after.iter().map(|i| i.id().to_string()).collect();
    seen.sort();
    assert_eq!(seen, ["a1", "c1", "o-2", "o-local", "p2"]);
    assert!(delta.instances().all(|i| i.app != "HIDDEN"), "whitelisted out of deltas too");
    let removed: Vec<&str> = delta
        .instances()
        .filter(|i| i.action_type == Some(ActionType::Deleted))
        .map(|i| i.id())
        .collect();
    assert_eq!(removed, ["b1", "p1"]);
}

#[test]
fn remote_changes_leave_merged_deltas_after_the_retention_window() {
    let registry = local();
    let regions = RemoteRegions::new(vec![region("west", None)], RETENTION, None);
    regions.update(0, &fetched(&[("A", "a1", Up)]), T0);
    let (_, d) = registry.delta();
    let (_, delta) = regions.delta_view(&d, &registry.snapshot(), regions.all());
    assert!(delta.instances().any(|i| i.id() == "a1"));
    assert_eq!(regions.purge_changes(T0 + RETENTION - 1), 0);
    let generation = regions.generation();
    assert_eq!(regions.purge_changes(T0 + RETENTION + 1), 1);
    assert!(regions.generation() > generation, "cached merged deltas must be rebuilt");
    let (_, delta) = regions.delta_view(&d, &registry.snapshot(), regions.all());
    assert!(delta.instances().all(|i| i.id() != "a1"));
}

#[test]
fn a_copy_older_than_its_lifetime_is_no_longer_served_until_fetched_again() {
    let registry = local();
    let regions = RemoteRegions::new(vec![region("west", None)], RETENTION, Some(60_000));
    regions.update(0, &fetched(&[("A", "a1", Up)]), T0);
    assert!(!regions.check_expiry(0, T0 + 59_999), "still within its lifetime");
    assert_eq!(ids(&regions.full_view(&registry.snapshot(), regions.all()).apps).len(), 2);
    assert!(regions.check_expiry(0, T0 + 60_000));
    assert!(!regions.check_expiry(0, T0 + 90_000), "expires once");
    assert_eq!(
        ids(&regions.full_view(&registry.snapshot(), regions.all()).apps),
        ["ORDERS/o-local"]
    );
    assert!(regions.application("A", regions.all()).is_none());
    assert!(regions.stats()[0].expired);
    regions.update(0, &fetched(&[("A", "a1", Up)]), T0 + 120_000);
    assert_eq!(ids(&regions.full_view(&registry.snapshot(), regions.all()).apps).len(), 2);

    let forever = RemoteRegions::new(vec![region("west", None)], RETENTION, None);
    forever.update(0, &fetched(&[("A", "a1", Up)]), T0);
    assert!(!forever.check_expiry(0, T0 + 86_400_000), "without a lifetime, kept as Java keeps it");
}

#[test]
fn an_instance_listed_twice_is_taken_from_the_local_registry_and_its_remote_changes_ignored() {
    // Two regions following each other: west lists this server's own instance back, older.
    let registry = local();
    let regions = RemoteRegions::new(vec![region("west", None)], RETENTION, None);
    let set = regions.all();
    regions.update(0, &fetched(&[("ORDERS", "o-local", Down), ("A", "a1", Up)]), T0);
    let client_copy = regions.full_view(&registry.snapshot(), set).apps.clone();
    assert_eq!(ids(&client_copy), ["A/a1", "ORDERS/o-local"]);
    assert_eq!(client_copy.apps_hashcode, "UP_2_", "the live local state, not west's copy");

    regions.update(0, &fetched(&[("ORDERS", "o-local", OutOfService), ("A", "a1", Down)]), T0 + 1);
    let (_, local_delta) = registry.delta();
    let (full, delta) = regions.delta_view(&local_delta, &registry.snapshot(), set);
    let after = apply_delta(&client_copy, &delta);
    assert_eq!(reconcile_hash_code(after.iter().map(|i| i.status)), full.apps.apps_hashcode);
    assert_eq!(full.apps.apps_hashcode, "DOWN_1_UP_1_");
}
