//! Behaviour of the registry as a whole, with time passed in (no sleeps).

use std::sync::Arc;

use eureka_model::{ActionType, Applications, InstanceInfo, InstanceStatus};
use eureka_registry::{
    Actor, EventKind, Origin, Registry, RegistryError, RegistrySettings, RenewOutcome, RenewRequest,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

const T0: u64 = 1_700_000_000_000;
use InstanceStatus::*;

fn instance(app: &str, id: &str) -> InstanceInfo {
    InstanceInfo {
        instance_id: Some(id.to_string()),
        host_name: format!("{id}.local"),
        app: app.to_string(),
        ip_addr: "10.0.0.1".to_string(),
        vip_address: Some(app.to_lowercase()),
        last_dirty_timestamp: T0,
        ..Default::default()
    }
}

fn client_renew(dirty: Option<u64>) -> RenewRequest {
    RenewRequest { last_dirty_timestamp: dirty, overridden_status: None, origin: Origin::Client }
}

fn peer_renew(dirty: Option<u64>) -> RenewRequest {
    RenewRequest { last_dirty_timestamp: dirty, overridden_status: None, origin: Origin::Peer }
}

fn registry() -> Registry {
    Registry::new(RegistrySettings::default())
}

/// Applies a delta to a client-side copy the way Java's `DiscoveryClient.updateDelta` does.
fn apply_delta(local: &mut Vec<Arc<InstanceInfo>>, delta: &Applications) {
    for inst in delta.instances() {
        local.retain(|i| !(i.app == inst.app && i.id() == inst.id()));
        if let Some(ActionType::Added | ActionType::Modified) = inst.action_type {
            local.push(inst.clone());
        }
    }
}

#[test]
fn register_then_read_back_in_snapshot_and_lookup() {
    let r = registry();
    let stored = r.register(instance("ORDERS", "o1"), Origin::Client, T0);
    assert_eq!(stored.action_type, Some(ActionType::Added));
    assert_eq!(stored.last_updated_timestamp, T0);
    assert_eq!(stored.lease_info.service_up_timestamp, T0);
    let snap = r.snapshot();
    assert_eq!(snap.apps.apps_hashcode, "UP_1_");
    assert_eq!(snap.apps.versions_delta, "1");
    assert_eq!(snap.application("ORDERS").unwrap().instances.len(), 1);
    assert!(r.get_instance("ORDERS", "o1").is_some());
    assert!(r.find_instance("o1").is_some());
    assert!(r.get_instance("ORDERS", "nope").is_none());
}

#[test]
fn snapshot_is_reused_until_the_version_changes() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    let s1 = r.snapshot();
    let s2 = r.snapshot();
    assert!(Arc::ptr_eq(&s1.apps, &s2.apps));
    r.renew("A", "a1", client_renew(None), T0 + 1000).unwrap();
    assert!(Arc::ptr_eq(&s1.apps, &r.snapshot().apps), "a renewal rebuilds nothing");
    r.register(instance("A", "a2"), Origin::Client, T0 + 2000);
    let s3 = r.snapshot();
    assert!(s3.version > s1.version);
    assert_eq!(s3.apps.apps_hashcode, "UP_2_");
    assert_eq!(r.stats().snapshot_builds, 2, "one build per version that was read");
}

#[test]
fn a_snapshot_retakes_only_the_applications_that_changed() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    r.register(instance("B", "b1"), Origin::Client, T0);
    r.register(instance("C", "c1"), Origin::Client, T0);
    let s1 = r.snapshot();
    r.renew("B", "b1", client_renew(None), T0 + 1000).unwrap();
    r.register(instance("A", "a2"), Origin::Client, T0 + 2000);
    let s2 = r.snapshot();
    assert_ne!(s2.app_version(0), s1.app_version(0), "A changed");
    assert_eq!(s2.app_version(1), s1.app_version(1), "B only renewed");
    assert_eq!(s2.app_version(2), s1.app_version(2), "C untouched");
    assert_eq!(s2.apps.applications[0].instances.len(), 2);
    let b = &s2.apps.applications[1].instances[0];
    assert_eq!(b.lease_info.last_renewal_timestamp, T0, "B's content is the one taken at T0");

    // A cancel that empties an application drops it; the others keep their versions.
    r.cancel("C", "c1", T0 + 3000).unwrap();
    let s3 = r.snapshot();
    assert_eq!(s3.apps.applications.len(), 2);
    assert_eq!(s3.app_version(1), s1.app_version(1));
    assert_eq!(s3.app_version(2), None);

    // Once older than the refresh bound (plus its spread), B is taken again on the next
    // rebuild, with its newer renewal.
    let late = T0 + 2 * eureka_registry::APP_REFRESH_MS + 1;
    r.register(instance("A", "a3"), Origin::Client, late);
    let s4 = r.snapshot();
    assert_ne!(s4.app_version(1), s1.app_version(1));
    let b = &s4.apps.applications[1].instances[0];
    assert_eq!(b.lease_info.last_renewal_timestamp, T0 + 1000);
}

#[test]
fn status_counts_group_instances_by_app_and_status() {
    let r = registry();
    for id in ["o1", "o2", "o3"] {
        r.register(instance("ORDERS", id), Origin::Client, T0);
    }
    r.register(instance("BILLING", "b1"), Origin::Client, T0);
    r.set_status_override("ORDERS", "o2", OutOfService, None, T0 + 1).unwrap();
    let counts: Vec<(String, InstanceStatus, u64)> =
        r.status_counts().into_iter().map(|c| (c.app, c.status, c.count)).collect();
    assert_eq!(
        counts,
        vec![
            ("BILLING".to_string(), Up, 1),
            ("ORDERS".to_string(), Up, 2),
            ("ORDERS".to_string(), OutOfService, 1),
        ]
    );
    r.cancel("BILLING", "b1", T0 + 2).unwrap();
    assert!(r.status_counts().iter().all(|c| c.app != "BILLING"), "an emptied app disappears");
}

#[test]
fn renew_of_unknown_instance_is_not_found() {
    let r = registry();
    assert!(matches!(
        r.renew("A", "x", client_renew(None), T0),
        Err(RegistryError::NotFound { .. })
    ));
}

#[test]
fn renew_applies_the_last_dirty_timestamp_rules() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    assert_eq!(r.renew("A", "a1", client_renew(Some(T0)), T0 + 1).unwrap(), RenewOutcome::Renewed);
    assert_eq!(r.renew("A", "a1", client_renew(None), T0 + 1).unwrap(), RenewOutcome::Renewed);
    // The caller has newer data: 404 so that it re-registers.
    assert_eq!(
        r.renew("A", "a1", client_renew(Some(T0 + 5)), T0 + 2).unwrap(),
        RenewOutcome::CallerNewer
    );
    // The server has newer data: a client just gets 200, a peer gets 409 with our copy.
    assert_eq!(
        r.renew("A", "a1", client_renew(Some(T0 - 5)), T0 + 3).unwrap(),
        RenewOutcome::Renewed
    );
    match r.renew("A", "a1", peer_renew(Some(T0 - 5)), T0 + 4).unwrap() {
        RenewOutcome::Conflict(mine) => assert_eq!(mine.last_dirty_timestamp, T0),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn timestamp_rule_can_be_switched_off() {
    let r = Registry::new(RegistrySettings {
        sync_when_timestamp_differs: false,
        ..Default::default()
    });
    r.register(instance("A", "a1"), Origin::Client, T0);
    assert_eq!(
        r.renew("A", "a1", peer_renew(Some(T0 + 9)), T0 + 1).unwrap(),
        RenewOutcome::Renewed
    );
}

#[test]
fn older_registration_does_not_overwrite_newer_stored_copy() {
    let r = registry();
    let mut newer = instance("A", "a1");
    newer.last_dirty_timestamp = T0 + 100;
    newer.ip_addr = "10.0.0.2".into();
    r.register(newer, Origin::Client, T0 + 100);
    let stale = instance("A", "a1");
    let stored = r.register(stale, Origin::Peer, T0 + 200);
    assert_eq!(stored.ip_addr, "10.0.0.2");
    assert_eq!(stored.last_updated_timestamp, T0 + 200);
}

#[test]
fn missing_dirty_timestamp_is_taken_as_now() {
    let r = registry();
    let mut i = instance("A", "a1");
    i.last_dirty_timestamp = 0;
    assert_eq!(r.register(i, Origin::Client, T0 + 7).last_dirty_timestamp, T0 + 7);
}

#[test]
fn status_override_survives_reregistration_and_heartbeats() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    let o = r.set_status_override("A", "a1", OutOfService, Some(T0 + 10), T0 + 1).unwrap();
    assert_eq!((o.status, o.overridden_status), (OutOfService, OutOfService));
    assert_eq!(o.last_dirty_timestamp, T0 + 10);
    // The client keeps saying UP: the override wins.
    let again = r.register(instance("A", "a1"), Origin::Client, T0 + 2);
    assert_eq!(again.status, OutOfService);
    assert_eq!(r.renew("A", "a1", client_renew(None), T0 + 3).unwrap(), RenewOutcome::Renewed);
    assert_eq!(r.get_instance("A", "a1").unwrap().status, OutOfService);
    // An instance that reports DOWN is believed even with an override.
    let mut down = instance("A", "a1");
    down.status = Down;
    down.last_dirty_timestamp = T0 + 20;
    assert_eq!(r.register(down, Origin::Client, T0 + 4).status, Down);
}

#[test]
fn setting_the_current_status_creates_no_override() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    let v = r.version();
    let same = r.set_status_override("A", "a1", Up, None, T0 + 1).unwrap();
    assert_eq!(same.overridden_status, Unknown);
    assert_eq!(r.version(), v);
    assert_eq!(r.stats().overrides, 0);
}

#[test]
fn deleting_the_override_forces_a_reregistration() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    r.set_status_override("A", "a1", OutOfService, None, T0 + 1).unwrap();
    let d = r.delete_status_override("A", "a1", Unknown, None, T0 + 2).unwrap();
    assert_eq!((d.status, d.overridden_status), (Unknown, Unknown));
    // Next heartbeat: 404, the client re-registers with its real status.
    assert!(r.renew("A", "a1", client_renew(None), T0 + 3).is_err());
    let back = r.register(instance("A", "a1"), Origin::Client, T0 + 4);
    assert_eq!(back.status, Up);
}

#[test]
fn deleting_the_override_with_a_value_sets_that_status() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    r.set_status_override("A", "a1", OutOfService, None, T0 + 1).unwrap();
    let d = r.delete_status_override("A", "a1", Up, None, T0 + 2).unwrap();
    assert_eq!((d.status, d.overridden_status), (Up, Unknown));
    assert_eq!(r.renew("A", "a1", client_renew(None), T0 + 3).unwrap(), RenewOutcome::Renewed);
}

#[test]
fn peer_heartbeat_with_newer_data_teaches_its_override() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    let req = RenewRequest {
        last_dirty_timestamp: Some(T0 + 50),
        overridden_status: Some(OutOfService),
        origin: Origin::Peer,
    };
    assert_eq!(r.renew("A", "a1", req, T0 + 1).unwrap(), RenewOutcome::CallerNewer);
    assert_eq!(r.get_instance("A", "a1").unwrap().overridden_status, OutOfService);
    // The next heartbeat applies the learned override to the status, visible as a change.
    let v = r.version();
    r.renew("A", "a1", client_renew(None), T0 + 2).unwrap();
    assert_eq!(r.get_instance("A", "a1").unwrap().status, OutOfService);
    assert!(r.version() > v);
}

#[test]
fn cancel_removes_and_reports_deleted_and_drops_override() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    r.set_status_override("A", "a1", OutOfService, None, T0 + 1).unwrap();
    let gone = r.cancel("A", "a1", T0 + 2).unwrap();
    assert_eq!(gone.action_type, Some(ActionType::Deleted));
    assert_eq!(gone.lease_info.eviction_timestamp, T0 + 2);
    assert!(r.cancel("A", "a1", T0 + 3).is_err());
    assert_eq!(r.stats().overrides, 0);
    assert_eq!(r.snapshot().apps.applications.len(), 0);
    assert_eq!(r.recent_cancelled()[0].id, "a1");
}

#[test]
fn metadata_update_merges_and_reregisters() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    let u = r.update_metadata("A", "a1", [("zone".to_string(), "z1".to_string())], T0 + 5).unwrap();
    assert_eq!(u.metadata.get("zone").map(String::as_str), Some("z1"));
    assert_eq!(u.action_type, Some(ActionType::Added));
    assert!(r.update_metadata("A", "nope", [], T0).is_err());
}

#[test]
fn delta_plus_previous_full_registry_reproduces_the_hash() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    r.register(instance("A", "a2"), Origin::Client, T0);
    r.register(instance("B", "b1"), Origin::Client, T0);
    let mut local: Vec<Arc<InstanceInfo>> = r.snapshot().apps.instances().cloned().collect();

    r.set_status_override("A", "a1", OutOfService, None, T0 + 1).unwrap();
    r.cancel("B", "b1", T0 + 2).unwrap();
    r.register(instance("C", "c1"), Origin::Client, T0 + 3);
    r.register(instance("C", "c1"), Origin::Client, T0 + 4);

    let (_, delta) = r.delta();
    assert_eq!(delta.apps_hashcode, r.snapshot().apps.apps_hashcode);
    assert_eq!(delta.apps_hashcode, "OUT_OF_SERVICE_1_UP_2_");
    apply_delta(&mut local, &delta);
    assert_eq!(
        eureka_model::reconcile_hash_code(local.iter().map(|i| i.status)),
        delta.apps_hashcode
    );
    // One entry per id, the latest state wins.
    let ids: Vec<_> = delta.instances().map(|i| (i.id().to_string(), i.action_type)).collect();
    assert!(ids.contains(&("a1".to_string(), Some(ActionType::Modified))));
    assert!(ids.contains(&("b1".to_string(), Some(ActionType::Deleted))));
    assert_eq!(ids.iter().filter(|(id, _)| id == "c1").count(), 1);
}

#[test]
fn delta_entries_expire_after_the_retention_window() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    r.register(instance("A", "a2"), Origin::Client, T0 + 100_000);
    let (k1, d1) = r.delta();
    assert_eq!(d1.instances().count(), 2);
    assert_eq!(r.purge_delta(T0 + 180_001), 1);
    let (k2, d2) = r.delta();
    assert_ne!(k1, k2, "a purge changes the cached delta");
    assert_eq!(d2.instances().count(), 1);
    assert_eq!(d2.apps_hashcode, "UP_2_", "the hash still covers the whole registry");
}

#[test]
fn vip_lookup_matches_each_comma_separated_element_exactly() {
    let r = registry();
    let mut i = instance("A", "a1");
    i.vip_address = Some("front,back".into());
    i.secure_vip_address = Some("secure-a".into());
    r.register(i, Origin::Client, T0);
    r.register(instance("B", "b1"), Origin::Client, T0);
    let snap = r.snapshot();
    assert_eq!(snap.by_vip("back", false).instances().count(), 1);
    assert_eq!(snap.by_vip("BACK", false).instances().count(), 0);
    assert_eq!(snap.by_vip("secure-a", true).instances().count(), 1);
    let vip = snap.by_vip("b", false);
    assert_eq!((vip.versions_delta.as_str(), vip.apps_hashcode.as_str()), ("-1", "UP_1_"));
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

#[test]
fn nothing_is_evicted_before_the_first_minute_closes() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    assert!(!r.lease_expiration_enabled());
    assert!(r.evict(T0 + 1_000_000, 0, &mut rng()).is_empty());
}

#[test]
fn expired_leases_are_evicted_when_renewals_are_healthy() {
    let r =
        Registry::new(RegistrySettings { renewal_percent_threshold: 0.5, ..Default::default() });
    for n in 0..4 {
        let mut i = instance("A", &format!("a{n}"));
        i.lease_info.renewal_interval_in_secs = 30;
        i.lease_info.duration_in_secs = 90;
        r.register(i, Origin::Client, T0);
    }
    // a0..a2 renew twice in the minute, a3 has gone silent.
    for n in 0..3 {
        r.renew("A", &format!("a{n}"), client_renew(None), T0 + 30_000).unwrap();
        r.renew("A", &format!("a{n}"), client_renew(None), T0 + 60_000).unwrap();
    }
    r.tick_renew_meter();
    let stats = r.stats();
    assert_eq!(
        (stats.renews_last_min, stats.expected_renews_per_min as u64, stats.renew_threshold),
        (6, 8, 4)
    );
    assert!(r.lease_expiration_enabled());
    // a3 expires 90 s after registration, not 180 s (Java's double-duration bug is off).
    assert!(r.evict(T0 + 90_000, 0, &mut rng()).is_empty());
    let evicted = r.evict(T0 + 90_001, 0, &mut rng());
    assert_eq!(evicted.iter().map(|i| i.id()).collect::<Vec<_>>(), ["a3"]);
    assert_eq!(evicted[0].action_type, Some(ActionType::Deleted));
    assert_eq!(r.stats().instances, 3);
}

#[test]
fn late_eviction_runs_are_compensated() {
    let r = Registry::new(RegistrySettings { self_preservation: false, ..Default::default() });
    r.register(instance("A", "a1"), Origin::Client, T0);
    assert!(r.evict(T0 + 100_000, 20_000, &mut rng()).is_empty());
    assert_eq!(r.evict(T0 + 100_000, 0, &mut rng()).len(), 1);
}

#[test]
fn self_preservation_stops_eviction_when_renewals_drop() {
    let r = registry();
    for n in 0..10 {
        r.register(instance("A", &format!("a{n}")), Origin::Client, T0);
    }
    // Only 3 of 10 instances renew: 6 renewals against 20 expected (threshold 17).
    for n in 0..3 {
        r.renew("A", &format!("a{n}"), client_renew(None), T0 + 30_000).unwrap();
        r.renew("A", &format!("a{n}"), client_renew(None), T0 + 60_000).unwrap();
    }
    r.tick_renew_meter();
    let stats = r.stats();
    assert_eq!((stats.renew_threshold, stats.lease_expiration_enabled), (17, false));
    assert!(r.evict(T0 + 10_000_000, 0, &mut rng()).is_empty());
    assert_eq!(r.stats().instances, 10);
}

#[test]
fn expected_rate_follows_each_leases_own_interval() {
    let r = registry();
    let mut fast = instance("A", "fast");
    fast.lease_info.renewal_interval_in_secs = 1;
    r.register(fast, Origin::Client, T0);
    r.register(instance("A", "slow"), Origin::Client, T0);
    r.tick_renew_meter();
    assert_eq!(r.stats().expected_renews_per_min, 62.0);
    assert_eq!(r.stats().renew_threshold, 52);
}

#[test]
fn one_eviction_run_removes_at_most_fifteen_percent_chosen_at_random() {
    let r = Registry::new(RegistrySettings { self_preservation: false, ..Default::default() });
    for n in 0..100 {
        r.register(
            instance(if n % 2 == 0 { "EVEN" } else { "ODD" }, &format!("i{n}")),
            Origin::Client,
            T0,
        );
    }
    let evicted = r.evict(T0 + 1_000_000, 0, &mut rng());
    assert_eq!(evicted.len(), 15);
    let even = evicted.iter().filter(|i| i.app == "EVEN").count();
    assert!(even > 0 && even < 15, "random across apps, got {even} of 15 from one app");
    assert_eq!(r.stats().instances, 85);
}

#[test]
fn legacy_flag_reproduces_javas_double_expiry() {
    let r = Registry::new(RegistrySettings {
        self_preservation: false,
        legacy_double_lease_expiry: true,
        ..Default::default()
    });
    r.register(instance("A", "a1"), Origin::Client, T0);
    r.renew("A", "a1", client_renew(None), T0 + 1_000).unwrap();
    assert!(r.evict(T0 + 181_000, 0, &mut rng()).is_empty());
    assert_eq!(r.evict(T0 + 181_001, 0, &mut rng()).len(), 1);
}

#[test]
fn concurrent_renewals_and_registrations_are_safe() {
    let r = Arc::new(registry());
    for n in 0..50 {
        r.register(instance("A", &format!("a{n}")), Origin::Client, T0);
    }
    std::thread::scope(|s| {
        for t in 0..4 {
            let r = r.clone();
            s.spawn(move || {
                for k in 0..500 {
                    let id = format!("a{}", (k + t) % 50);
                    r.renew("A", &id, client_renew(None), T0 + k).unwrap();
                    if k % 50 == 0 {
                        r.register(instance("B", &format!("b{t}-{k}")), Origin::Client, T0 + k);
                        let _ = r.snapshot();
                    }
                }
            });
        }
    });
    assert_eq!(r.stats().instances, 50 + 4 * 10);
}

#[test]
fn recent_events_are_newest_first_capped_and_tell_evictions_from_cancels() {
    let r = Registry::new(RegistrySettings { self_preservation: false, ..Default::default() });
    for n in 0..1005u64 {
        r.register(instance("A", &format!("a{n}")), Origin::Client, T0 + n);
    }
    let registered = r.recent_registered();
    assert_eq!(registered.len(), 1000, "the log keeps the last 1000, as Spring's /lastn");
    assert_eq!((registered[0].id.as_str(), registered[0].at), ("a1004", T0 + 1004));
    assert_eq!(registered[999].id, "a5");
    assert!(registered.iter().all(|e| e.kind == EventKind::Registered && e.app == "A"));

    r.cancel("A", "a1004", T0 + 2_000).unwrap();
    let evicted = r.evict(T0 + 2_000 + 90_000, 0, &mut rng());
    assert!(!evicted.is_empty());
    let cancelled = r.recent_cancelled();
    assert_eq!(cancelled.len(), evicted.len() + 1);
    assert_eq!(
        cancelled.last().map(|e| (e.id.as_str(), e.kind)),
        Some(("a1004", EventKind::Cancelled))
    );
    assert!(cancelled[..evicted.len()].iter().all(|e| e.kind == EventKind::Evicted));
}

#[test]
fn operator_actions_are_recorded_with_who_and_why() {
    let r = registry();
    r.register(instance("A", "a1"), Origin::Client, T0);
    r.register(instance("A", "a2"), Origin::Client, T0);
    let ops = Actor {
        user: Some(Arc::from("ops")),
        reason: Some("bad deploy".to_string()),
        ..Actor::client()
    };
    r.set_status_override_by("A", "a1", OutOfService, None, &ops, T0 + 1).unwrap();
    let drain = Actor { via: Some("drain"), ..Actor::client() };
    // Recorded even when the status already was that: the action is what is recorded.
    r.set_status_override_by("A", "a1", OutOfService, None, &drain, T0 + 2).unwrap();
    r.delete_status_override_by("A", "a1", Unknown, None, &Actor::of(Origin::Peer), T0 + 3)
        .unwrap();
    // Removing an override that is not there records nothing.
    r.delete_status_override_by("A", "a2", Unknown, None, &ops, T0 + 4).unwrap();
    let overrides = r.recent_overrides();
    let seen: Vec<_> = overrides
        .iter()
        .map(|e| (e.kind, e.status, e.actor.user.as_deref(), e.actor.via, e.actor.origin))
        .collect();
    assert_eq!(
        seen,
        [
            (EventKind::OverrideRemoved, None, None, None, Origin::Peer),
            (EventKind::OverrideSet, Some(OutOfService), None, Some("drain"), Origin::Client),
            (EventKind::OverrideSet, Some(OutOfService), Some("ops"), None, Origin::Client),
        ]
    );
    assert_eq!(overrides[2].actor.reason.as_deref(), Some("bad deploy"));

    // A cancel on behalf of an owner is refused for another user, and records its actor.
    let owner: Arc<str> = Arc::from("orders");
    r.register_as(instance("B", "b1"), Origin::Client, &owner, T0).unwrap();
    let other: Arc<str> = Arc::from("billing");
    let refused = r.cancel_by("B", "b1", Some(&other), &Actor::client(), T0 + 5);
    assert!(matches!(refused, Err(RegistryError::NotOwner { .. })));
    r.cancel_by("B", "b1", None, &ops, T0 + 6).unwrap();
    let cancelled = r.recent_cancelled();
    assert_eq!((cancelled[0].id.as_str(), cancelled[0].actor.user.as_deref()), ("b1", Some("ops")));
    let registered = r.recent_registered();
    assert_eq!(registered[0].actor.user.as_deref(), Some("orders"), "the registering user");
    assert_eq!(registered[0].status, Some(Up));
    assert!(r.set_status_override_by("A", "zz", Down, None, &ops, T0).is_err());
    assert_eq!(r.recent_overrides().len(), 3, "nothing recorded for an unknown instance");
}

#[test]
fn expired_lease_timings_list_only_the_expired() {
    let r = registry();
    let mut short = instance("A", "a1");
    short.lease_info.duration_in_secs = 10;
    r.register(short, Origin::Client, T0);
    r.register(instance("A", "a2"), Origin::Client, T0);
    r.register(instance("B", "b1"), Origin::Client, T0);
    let expired = r.expired_lease_timings(T0 + 20_000);
    assert_eq!(expired.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["a1"]);
    let of_a = r.lease_timings_of(Some(&["A".to_string()]));
    assert_eq!(of_a.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["a1", "a2"]);
    assert_eq!(r.lease_timings_of(None).len(), 3);
}

#[test]
fn lease_timings_follow_renewals_that_snapshots_do_not_see() {
    let r = registry();
    let mut i = instance("B", "b1");
    i.lease_info.duration_in_secs = 30;
    r.register(i, Origin::Client, T0);
    r.register(instance("A", "a1"), Origin::Client, T0);
    let snap_before = r.snapshot();
    r.renew("B", "b1", client_renew(None), T0 + 10_000).unwrap();
    let t = r.lease_timings();
    assert_eq!(t.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["a1", "b1"], "sorted");
    assert_eq!(
        (t[1].registered_at, t[1].last_renewal, t[1].expires_at),
        (T0, T0 + 10_000, T0 + 40_000)
    );
    assert_eq!(t[0].expires_at, T0 + 90_000, "the default 90 s lease");
    assert_eq!(r.snapshot().version, snap_before.version, "a renewal alone is not a change");
}

#[test]
fn the_change_log_holds_every_change_by_version_and_says_when_one_is_gone() {
    use eureka_registry::ChangesSince;
    let r = Registry::new(RegistrySettings { change_log_capacity: 3, ..Default::default() });
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    assert!(r.set_change_listener(Box::new(move |v| log.lock().unwrap().push(v))));
    r.register(instance("A", "a1"), Origin::Client, T0);
    r.set_status_override("A", "a1", OutOfService, None, T0 + 1).unwrap();
    r.renew("A", "a1", client_renew(None), T0 + 2).unwrap();
    r.cancel("A", "a1", T0 + 3).unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3], "a renew is no change");
    let ChangesSince::Changes(all) = r.changes_since(0, 10) else { panic!("all retained") };
    let summary: Vec<_> =
        all.iter().map(|c| (c.version, c.instance.action_type, c.instance.status)).collect();
    assert_eq!(
        summary,
        vec![
            (1, Some(ActionType::Added), Up),
            (2, Some(ActionType::Modified), OutOfService),
            (3, Some(ActionType::Deleted), OutOfService),
        ]
    );
    let ChangesSince::Changes(tail) = r.changes_since(2, 10) else { panic!("retained") };
    assert_eq!(tail.len(), 1);
    let ChangesSince::Changes(none) = r.changes_since(3, 10) else { panic!("up to date") };
    assert!(none.is_empty());
    assert!(matches!(r.changes_since(4, 10), ChangesSince::Gone), "a version from elsewhere");
    r.register(instance("A", "a2"), Origin::Client, T0 + 4);
    assert!(matches!(r.changes_since(0, 10), ChangesSince::Gone), "version 1 fell out");
    let ChangesSince::Changes(kept) = r.changes_since(1, 2) else { panic!("2..=4 retained") };
    assert_eq!(kept.iter().map(|c| c.version).collect::<Vec<_>>(), vec![2, 3]);
}

fn not_owner<T>(result: Result<T, RegistryError>) -> bool {
    matches!(result, Err(RegistryError::NotOwner { .. }))
}

#[test]
fn an_instance_belongs_to_the_user_that_registered_it() {
    let r = registry();
    let alice: Arc<str> = Arc::from("alice");
    let bob: Arc<str> = Arc::from("bob");
    r.register_as(instance("ORDERS", "o1"), Origin::Client, &alice, T0).expect("alice registers");
    assert_eq!(r.owner("ORDERS", "o1").as_deref(), Some("alice"));
    let before = r.version();

    assert!(not_owner(r.register_as(instance("ORDERS", "o1"), Origin::Client, &bob, T0 + 1)));
    assert!(not_owner(r.renew_as("ORDERS", "o1", client_renew(None), &bob, T0 + 1)));
    assert!(not_owner(r.cancel_as("ORDERS", "o1", &bob, T0 + 1)));
    assert!(not_owner(r.update_metadata_as(
        "ORDERS",
        "o1",
        [("k".to_string(), "v".to_string())],
        &bob,
        T0 + 1
    )));
    assert_eq!(r.version(), before, "refused writes change nothing");

    // The owner is compared by name, not by pointer: a second Arc of the same name is alice.
    let alice_again: Arc<str> = Arc::from("alice");
    assert_eq!(
        r.renew_as("ORDERS", "o1", client_renew(None), &alice_again, T0 + 2),
        Ok(RenewOutcome::Renewed)
    );
    r.update_metadata_as("ORDERS", "o1", [("k".to_string(), "v".to_string())], &alice, T0 + 3)
        .expect("owner updates metadata");
    // A replicated re-registration and an unchecked write keep the owner.
    r.register(instance("ORDERS", "o1"), Origin::Peer, T0 + 4);
    assert_eq!(r.owner("ORDERS", "o1").as_deref(), Some("alice"));
    r.cancel_as("ORDERS", "o1", &alice, T0 + 5).expect("owner cancels");
    // Once the lease is gone, anyone may register the id anew and owns it.
    r.register_as(instance("ORDERS", "o1"), Origin::Client, &bob, T0 + 6).expect("bob registers");
    assert_eq!(r.owner("ORDERS", "o1").as_deref(), Some("bob"));
}

#[test]
fn an_instance_learned_from_a_peer_is_claimed_by_the_first_user_write() {
    let r = registry();
    let alice: Arc<str> = Arc::from("alice");
    let bob: Arc<str> = Arc::from("bob");
    r.register(instance("ORDERS", "o1"), Origin::Peer, T0);
    assert_eq!(r.owner("ORDERS", "o1"), None);
    assert_eq!(
        r.renew_as("ORDERS", "o1", client_renew(None), &bob, T0 + 1),
        Ok(RenewOutcome::Renewed)
    );
    assert_eq!(r.owner("ORDERS", "o1").as_deref(), Some("bob"));
    assert!(matches!(
        r.renew_as("ORDERS", "o1", client_renew(None), &alice, T0 + 2),
        Err(RegistryError::NotOwner { .. })
    ));
}
