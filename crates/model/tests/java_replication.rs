//! Replication batches captured from a Spring Cloud Eureka server (2025.0.x, eureka-core
//! 2.0.5) talking to a recording peer, and its answers to batches we posted
//! (`tests/fixtures/replication/java-*.json`). Our codec must read what Java sends and send
//! what Java reads: Java's decoder rejects unknown keys, so byte-identical output is the bar.

mod common;

use common::fixture;
use eureka_model::json;
use eureka_model::replication::ReplicationAction;
use eureka_model::InstanceStatus;

fn batch(name: &str) -> Vec<u8> {
    fixture(&format!("replication/java-batch-{name}.json"))
}

#[test]
fn java_batches_without_instances_roundtrip_byte_for_byte() {
    for (name, action) in [
        ("heartbeat", ReplicationAction::Heartbeat),
        ("heartbeat-override", ReplicationAction::Heartbeat),
        ("status-update", ReplicationAction::StatusUpdate),
        ("delete-override", ReplicationAction::DeleteStatusOverride),
        ("cancel", ReplicationAction::Cancel),
    ] {
        let bytes = batch(name);
        let list = json::decode_replication_list(&bytes).unwrap();
        assert_eq!(list.replication_list.len(), 1, "{name}");
        assert_eq!(list.replication_list[0].action, action, "{name}");
        assert_eq!(
            String::from_utf8(json::encode_replication_list(&list)).unwrap(),
            String::from_utf8(bytes).unwrap(),
            "{name}: our encoding differs from Java's"
        );
    }
}

#[test]
fn java_heartbeat_carries_the_override_only_while_one_is_set() {
    let plain = json::decode_replication_list(&batch("heartbeat")).unwrap();
    assert_eq!(plain.replication_list[0].overridden_status, None);
    let over = json::decode_replication_list(&batch("heartbeat-override")).unwrap();
    let item = &over.replication_list[0];
    assert_eq!(item.overridden_status, Some(InstanceStatus::OutOfService));
    assert_eq!(item.status, Some(InstanceStatus::OutOfService));
    assert!(item.instance_info.is_none());
}

#[test]
fn java_register_item_carries_the_bare_instance() {
    let list = json::decode_replication_list(&batch("register")).unwrap();
    let item = &list.replication_list[0];
    assert_eq!(item.action, ReplicationAction::Register);
    let info = item.instance_info.as_ref().expect("instanceInfo");
    assert_eq!(info.id(), "web-1:orders:8080");
    assert_eq!(info.app, "ORDERS");
    assert_eq!(Some(info.last_dirty_timestamp), item.last_dirty_timestamp);
    // Our re-encoding decodes to the same item (Java reads the result: see java_peers tests).
    let again = json::decode_replication_list(&json::encode_replication_list(&list)).unwrap();
    assert_eq!(again, list);
}

#[test]
fn java_batch_answers_decode() {
    let mixed = json::decode_replication_list_response(&fixture(
        "replication/java-batch-response-mixed.json",
    ))
    .unwrap();
    let codes: Vec<u16> = mixed.response_list.iter().map(|r| r.status_code).collect();
    assert_eq!(codes, vec![200, 409, 404, 200, 200]);
    let theirs = mixed.response_list[1].response_entity.as_ref().expect("409 entity");
    assert_eq!(theirs.id(), "web-2:billing:9090");
    assert!(mixed.response_list[0].response_entity.is_none());

    let empty = json::decode_replication_list_response(&fixture(
        "replication/java-batch-response-empty-list.json",
    ))
    .unwrap();
    assert!(empty.response_list.is_empty());

    // Java's parser can desynchronise and answer more entries than items; still decodable.
    let desync = json::decode_replication_list_response(&fixture(
        "replication/java-batch-response-desync-500.json",
    ))
    .unwrap();
    assert_eq!(desync.response_list.len(), 2);
}

#[test]
fn the_mixed_request_posted_to_java_decodes() {
    let bytes = fixture("replication/java-batch-request-mixed.json");
    let list = json::decode_replication_list(&bytes).unwrap();
    let actions: Vec<_> = list.replication_list.iter().map(|i| i.action).collect();
    assert_eq!(actions.len(), 5);
    assert_eq!(actions[0], ReplicationAction::Register);
    assert_eq!(actions[4], ReplicationAction::Cancel);
}
