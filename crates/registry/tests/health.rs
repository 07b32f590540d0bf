//! Health-check DOWN marks in the registry: the rule chain, what lifts them and what does not.

use std::sync::Arc;

use eureka_model::{ActionType, InstanceInfo, InstanceStatus};
use eureka_registry::{
    ChangesSince, EventKind, HealthMark, Origin, Registry, RegistrySettings, RenewRequest,
};

use InstanceStatus::*;

const T0: u64 = 1_700_000_000_000;

fn instance(id: &str, status: InstanceStatus) -> InstanceInfo {
    InstanceInfo {
        instance_id: Some(id.to_string()),
        host_name: format!("{id}.local"),
        app: "ORDERS".to_string(),
        ip_addr: "10.0.0.1".to_string(),
        status,
        last_dirty_timestamp: T0,
        ..Default::default()
    }
}

fn mark(reason: &str) -> HealthMark {
    HealthMark { reason: Arc::from(reason), since: T0 + 5, by: Arc::from("node-a") }
}

fn renew(origin: Origin) -> RenewRequest {
    RenewRequest { last_dirty_timestamp: Some(T0), overridden_status: None, origin }
}

fn status(r: &Registry, id: &str) -> InstanceStatus {
    r.get_instance("ORDERS", id).unwrap().status
}

fn marked(id: &str) -> (Registry, u64) {
    let r = Registry::new(RegistrySettings::default());
    r.register(instance(id, Up), Origin::Client, T0);
    let change = r.mark_health_down("ORDERS", id, mark("health check: HTTP 503"), T0 + 5).unwrap();
    assert!(change.mark_changed && change.status_changed);
    (r, change.instance.last_updated_timestamp)
}

#[test]
fn a_mark_is_a_visible_change_in_snapshot_delta_change_log_and_events() {
    let (r, _) = marked("o1");
    let before = r.version();
    assert_eq!(status(&r, "o1"), Down);
    assert_eq!(r.snapshot().apps.apps_hashcode, "DOWN_1_");
    let (_, delta) = r.delta();
    let last = delta.instances().last().unwrap().clone();
    assert_eq!((last.status, last.action_type), (Down, Some(ActionType::Modified)));
    assert_eq!(delta.apps_hashcode, "DOWN_1_");
    let ChangesSince::Changes(changes) = r.changes_since(before - 1, 10) else { panic!() };
    assert_eq!(changes.last().unwrap().instance.status, Down);
    assert_eq!(r.recent_health()[0].kind, EventKind::MarkedDown);
    let down = r.health_of("ORDERS", "o1").unwrap();
    assert_eq!((&*down.reason, down.since, down.reported), ("health check: HTTP 503", T0 + 5, Up));
    // The instance's own fields are untouched: no override appears.
    assert_eq!(r.get_instance("ORDERS", "o1").unwrap().overridden_status, Unknown);
    assert!(r.status_overrides(T0 + 5).is_empty());
}

#[test]
fn heartbeats_and_re_registrations_do_not_lift_a_mark() {
    let (r, _) = marked("o1");
    let version = r.version();
    r.renew("ORDERS", "o1", renew(Origin::Client), T0 + 10).unwrap();
    r.renew("ORDERS", "o1", renew(Origin::Peer), T0 + 11).unwrap();
    assert_eq!(status(&r, "o1"), Down);
    assert_eq!(r.version(), version, "a heartbeat of a marked instance changes nothing");
    let mut again = instance("o1", Up);
    again.last_dirty_timestamp = T0 + 20;
    assert_eq!(r.register(again.clone(), Origin::Client, T0 + 20).status, Down);
    assert_eq!(r.register(again, Origin::Peer, T0 + 21).status, Down);
    assert!(r.health_of("ORDERS", "o1").is_some());
}

#[test]
fn lifting_returns_to_the_status_the_instance_reports() {
    let (r, _) = marked("o1");
    // While marked the instance says STARTING (it restarts): that is believed over the mark.
    let mut starting = instance("o1", Starting);
    starting.last_dirty_timestamp = T0 + 30;
    assert_eq!(r.register(starting, Origin::Client, T0 + 30).status, Starting);
    let mut up = instance("o1", Up);
    up.last_dirty_timestamp = T0 + 31;
    assert_eq!(r.register(up, Origin::Client, T0 + 31).status, Down, "UP again, still marked");
    let lifted = r.lift_health_down("ORDERS", "o1", None, T0 + 40).unwrap();
    assert!(lifted.mark_changed && lifted.status_changed);
    assert_eq!(status(&r, "o1"), Up);
    assert_eq!(r.snapshot().apps.apps_hashcode, "UP_1_");
    assert_eq!(r.recent_health()[0].kind, EventKind::MarkedUp);
    let again = r.lift_health_down("ORDERS", "o1", None, T0 + 41).unwrap();
    assert!(!again.mark_changed && !again.status_changed);
}

#[test]
fn an_operator_override_other_than_up_wins_over_the_mark() {
    let (r, _) = marked("o1");
    r.set_status_override("ORDERS", "o1", OutOfService, None, T0 + 10).unwrap();
    assert_eq!(status(&r, "o1"), OutOfService);
    // An UP override does not hide the mark.
    r.set_status_override("ORDERS", "o1", Up, None, T0 + 11).unwrap();
    assert_eq!(status(&r, "o1"), Down);
    r.set_status_override("ORDERS", "o1", OutOfService, None, T0 + 12).unwrap();
    // Removing the override with UP leaves the mark in force.
    r.delete_status_override("ORDERS", "o1", Up, None, T0 + 13).unwrap();
    assert_eq!(status(&r, "o1"), Down);
    r.lift_health_down("ORDERS", "o1", None, T0 + 14).unwrap();
    assert_eq!(status(&r, "o1"), Up);

    // Marked while out of service: the served status stays OUT_OF_SERVICE, no version change.
    r.set_status_override("ORDERS", "o1", OutOfService, None, T0 + 20).unwrap();
    let version = r.version();
    let change = r.mark_health_down("ORDERS", "o1", mark("health check: timed out"), T0 + 21);
    let change = change.unwrap();
    assert!(change.mark_changed && !change.status_changed);
    assert_eq!(r.version(), version);
    assert_eq!(status(&r, "o1"), OutOfService);
}

#[test]
fn a_peer_echo_of_the_mark_is_not_taken_as_the_instance_s_word_or_an_override() {
    let (r, _) = marked("o1");
    // What a Java peer holding our StatusUpdate DOWN sends back when the client registers there.
    let mut echo = instance("o1", Down);
    echo.overridden_status = Down;
    echo.last_dirty_timestamp = T0 + 50;
    r.register(echo, Origin::Peer, T0 + 50);
    assert!(r.status_overrides(T0 + 50).is_empty(), "no operator override learned");
    let req = RenewRequest {
        last_dirty_timestamp: Some(T0 + 60),
        overridden_status: Some(Down),
        origin: Origin::Peer,
    };
    r.renew("ORDERS", "o1", req, T0 + 60).unwrap();
    assert!(r.status_overrides(T0 + 60).is_empty());
    r.lift_health_down("ORDERS", "o1", None, T0 + 70).unwrap();
    assert_eq!(status(&r, "o1"), Up, "back to what the client said, not the echo's DOWN");
}

#[test]
fn a_copy_taken_while_down_returns_to_the_marking_node_s_status_on_the_lift() {
    // A node that copied the instance as DOWN (no mark of its own) learns UP from the lift.
    let r = Registry::new(RegistrySettings::default());
    r.register(instance("o1", Down), Origin::Peer, T0);
    let change = r.lift_health_down("ORDERS", "o1", Some(Up), T0 + 1).unwrap();
    assert!(!change.mark_changed && change.status_changed);
    assert_eq!(status(&r, "o1"), Up);
    // Without that hint nothing changes.
    let r = Registry::new(RegistrySettings::default());
    r.register(instance("o1", Down), Origin::Peer, T0);
    r.lift_health_down("ORDERS", "o1", None, T0 + 1).unwrap();
    assert_eq!(status(&r, "o1"), Down);
}

#[test]
fn cancelling_ends_the_mark_with_the_lease() {
    let (r, _) = marked("o1");
    r.cancel("ORDERS", "o1", T0 + 10).unwrap();
    r.register(instance("o1", Up), Origin::Client, T0 + 20);
    assert_eq!(status(&r, "o1"), Up);
    assert_eq!(r.health_marked(), 0);
}
