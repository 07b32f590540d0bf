//! Property tests: encode → decode is the identity for JSON and XML, for instances, registries
//! and replication batches; the XML encoder's output always parses even for data it cannot
//! carry; no input makes a decoder panic.

use std::collections::BTreeMap;
use std::sync::Arc;

use eureka_model::replication::{
    HealthCheckNote, ReplicationAction, ReplicationInstance, ReplicationInstanceResponse,
    ReplicationList, ReplicationListResponse,
};
use eureka_model::{
    json, xml, ActionType, Application, Applications, DataCenterClass, DataCenterInfo,
    DataCenterName, Format, InstanceInfo, InstanceStatus, LeaseInfo, Port,
};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

/// Which wire format the generated values must survive.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wire {
    Json,
    Xml,
}

/// Characters XML 1.0 can carry (the XML encoder replaces the others, see
/// `xml_encoder_output_always_parses`).
fn xml_char(c: char) -> bool {
    let control = matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}');
    !control && !matches!(c, '\u{fffe}' | '\u{ffff}')
}

/// Strings mixing arbitrary Unicode with the characters codecs must escape.
fn text(wire: Wire) -> BoxedStrategy<String> {
    let tricky = "[a-zA-Z0-9 <>&\"'\\\\/:;.,_$@#{}\\[\\]\t\n\r\u{e9}\u{4e2d}\u{1f600}-]{0,16}";
    let any_text = prop_oneof![2 => any::<String>(), 3 => tricky, 1 => Just(String::new())];
    match wire {
        Wire::Json => any_text.boxed(),
        Wire::Xml => any_text.prop_map(|s| s.chars().filter(|c| xml_char(*c)).collect()).boxed(),
    }
}

/// Metadata keys: anything but the `@class` marker for JSON; XML-encodable names for XML.
fn metadata_key(wire: Wire) -> BoxedStrategy<String> {
    match wire {
        Wire::Json => text(Wire::Json).prop_filter("@class is a marker", |k| k != "@class").boxed(),
        Wire::Xml => "[A-Za-z_$\u{e9}\u{4e2d}][A-Za-z0-9_.$\u{e9}\u{4e2d}\u{b7}-]{0,10}".boxed(),
    }
}

fn metadata(wire: Wire) -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(metadata_key(wire), text(wire), 0..4)
}

fn status() -> impl Strategy<Value = InstanceStatus> {
    proptest::sample::select(InstanceStatus::ALL.to_vec())
}

fn port() -> impl Strategy<Value = Port> {
    (any::<u16>(), any::<bool>()).prop_map(|(port, enabled)| Port { port, enabled })
}

fn data_center(wire: Wire) -> impl Strategy<Value = Option<DataCenterInfo>> {
    let class = proptest::sample::select(vec![
        DataCenterClass::Default,
        DataCenterClass::MyDataCenter,
        DataCenterClass::Amazon,
    ]);
    let name = option::of(proptest::sample::select(vec![
        DataCenterName::MyOwn,
        DataCenterName::Amazon,
        DataCenterName::Netflix,
    ]));
    option::of((class, name, metadata(wire)).prop_map(|(class, name, metadata)| DataCenterInfo {
        class,
        name,
        // Only AWS data centers carry metadata on the wire.
        metadata: if class == DataCenterClass::Amazon {
            metadata.into()
        } else {
            Default::default()
        },
    }))
}

fn lease() -> impl Strategy<Value = LeaseInfo> {
    (any::<u32>(), any::<u32>(), any::<[u64; 4]>()).prop_map(|(interval, duration, ts)| LeaseInfo {
        renewal_interval_in_secs: interval,
        duration_in_secs: duration,
        registration_timestamp: ts[0],
        last_renewal_timestamp: ts[1],
        eviction_timestamp: ts[2],
        service_up_timestamp: ts[3],
    })
}

fn action_type() -> impl Strategy<Value = Option<ActionType>> {
    option::of(proptest::sample::select(vec![
        ActionType::Added,
        ActionType::Modified,
        ActionType::Deleted,
    ]))
}

/// Any instance the given wire format can carry exactly. `sid` is never `na`/`unknown`: those
/// are placeholders the decoders read as "not set".
fn instance(wire: Wire) -> impl Strategy<Value = InstanceInfo> {
    let t = move || text(wire);
    let ids = (
        option::of(t()),
        t(),
        t(),
        t(),
        option::of(t()).prop_filter("placeholder sid", |s| {
            !matches!(s.as_deref(), Some("na") | Some("unknown"))
        }),
    );
    let state = (status(), status(), port(), port(), any::<i32>(), data_center(wire), lease());
    let urls = (
        option::of(t()),
        option::of(t()),
        option::of(t()),
        option::of(t()),
        option::of(t()),
        option::of(t()),
        option::of(t()),
    );
    let tail =
        (metadata(wire), any::<bool>(), any::<u64>(), any::<u64>(), action_type(), option::of(t()));
    (ids, state, urls, tail).prop_map(
        |(
            (instance_id, host_name, app, ip_addr, sid),
            (
                status,
                overridden_status,
                port,
                secure_port,
                country_id,
                data_center_info,
                lease_info,
            ),
            (app_group_name, home, status_page, health, secure_health, vip, secure_vip),
            (metadata, coordinating, last_updated, last_dirty, action_type, asg_name),
        )| InstanceInfo {
            instance_id,
            host_name,
            app,
            ip_addr,
            sid,
            status,
            overridden_status,
            port,
            secure_port,
            country_id,
            data_center_info,
            lease_info,
            metadata: metadata.into(),
            app_group_name,
            home_page_url: home,
            status_page_url: status_page,
            health_check_url: health,
            secure_health_check_url: secure_health,
            vip_address: vip,
            secure_vip_address: secure_vip,
            is_coordinating_discovery_server: coordinating,
            last_updated_timestamp: last_updated,
            last_dirty_timestamp: last_dirty,
            action_type,
            asg_name,
        },
    )
}

fn applications(wire: Wire) -> impl Strategy<Value = Applications> {
    let app = (text(wire), vec(instance(wire), 0..3)).prop_map(|(name, instances)| Application {
        name,
        instances: instances.into_iter().map(Arc::new).collect(),
    });
    (text(wire), text(wire), vec(app, 0..3)).prop_map(
        |(versions_delta, apps_hashcode, applications)| Applications {
            versions_delta,
            apps_hashcode,
            applications,
        },
    )
}

fn replication_list() -> impl Strategy<Value = ReplicationList> {
    let action = proptest::sample::select(vec![
        ReplicationAction::Register,
        ReplicationAction::Heartbeat,
        ReplicationAction::Cancel,
        ReplicationAction::StatusUpdate,
        ReplicationAction::DeleteStatusOverride,
    ]);
    let item = (
        text(Wire::Json),
        text(Wire::Json),
        option::of(any::<u64>()),
        option::of(status()),
        option::of(status()),
        option::of(instance(Wire::Json)),
        action,
        option::of(health_note()),
    )
        .prop_map(|(app_name, id, ts, overridden, status, info, action, note)| {
            ReplicationInstance {
                app_name,
                id,
                last_dirty_timestamp: ts,
                overridden_status: overridden,
                status,
                instance_info: info,
                action,
                health_check: note,
            }
        });
    vec(item, 0..4).prop_map(|replication_list| ReplicationList { replication_list })
}

fn health_note() -> impl Strategy<Value = HealthCheckNote> {
    (
        any::<bool>(),
        option::of(text(Wire::Json)),
        option::of(any::<u64>()),
        option::of(text(Wire::Json)),
        option::of(status()),
    )
        .prop_map(|(down, reason, since, by, status)| HealthCheckNote {
            down,
            reason,
            since,
            by,
            status,
        })
}

fn replication_response() -> impl Strategy<Value = ReplicationListResponse> {
    let item = (any::<u16>(), option::of(instance(Wire::Json))).prop_map(|(code, entity)| {
        ReplicationInstanceResponse { status_code: code, response_entity: entity }
    });
    vec(item, 0..4).prop_map(|response_list| ReplicationListResponse { response_list })
}

proptest! {
    #[test]
    fn json_instance_round_trip(info in instance(Wire::Json)) {
        let body = json::encode_instance(&info);
        prop_assert_eq!(json::decode_instance(&body).unwrap(), info);
    }

    #[test]
    fn xml_instance_round_trip(info in instance(Wire::Xml)) {
        let body = xml::encode_instance(&info);
        prop_assert_eq!(xml::decode_instance(&body).unwrap(), info);
    }

    #[test]
    fn json_applications_round_trip(apps in applications(Wire::Json)) {
        let body = json::encode_applications(&apps);
        prop_assert_eq!(json::decode_applications(&body).unwrap(), apps);
    }

    #[test]
    fn xml_applications_round_trip(apps in applications(Wire::Xml)) {
        let body = xml::encode_applications(&apps);
        prop_assert_eq!(xml::decode_applications(&body).unwrap(), apps);
    }

    #[test]
    fn framed_applications_equal_the_whole_document(apps in applications(Wire::Xml)) {
        for format in [Format::Json, Format::Xml] {
            let frame = format.applications_frame(&apps.versions_delta, &apps.apps_hashcode);
            let mut assembled = frame.head.clone();
            for (i, app) in apps.applications.iter().enumerate() {
                if i > 0 {
                    assembled.extend_from_slice(frame.separator);
                }
                assembled.extend_from_slice(&format.encode_application_entry(app));
            }
            assembled.extend_from_slice(&frame.tail);
            prop_assert_eq!(assembled, format.encode_applications(&apps));
        }
    }

    #[test]
    fn application_round_trip(apps in applications(Wire::Xml)) {
        for app in &apps.applications {
            let json_body = json::encode_application(app);
            prop_assert_eq!(&json::decode_application(&json_body).unwrap(), app);
            let xml_body = xml::encode_application(app);
            prop_assert_eq!(&xml::decode_application(&xml_body).unwrap(), app);
        }
    }

    #[test]
    fn replication_list_round_trip(list in replication_list()) {
        let body = json::encode_replication_list(&list);
        prop_assert_eq!(json::decode_replication_list(&body).unwrap(), list);
    }

    #[test]
    fn replication_response_round_trip(response in replication_response()) {
        let body = json::encode_replication_list_response(&response);
        prop_assert_eq!(json::decode_replication_list_response(&body).unwrap(), response);
    }

    /// JSON-only data (control characters, keys that are not XML names) still gives
    /// well-formed XML: the keys are dropped and the characters replaced by U+FFFD.
    #[test]
    fn xml_encoder_output_always_parses(info in instance(Wire::Json)) {
        let decoded = xml::decode_instance(&xml::encode_instance(&info)).unwrap();
        let keys: Vec<_> =
            info.metadata.keys().filter(|k| xml::is_encodable_metadata_key(k)).collect();
        prop_assert_eq!(decoded.metadata.keys().collect::<Vec<_>>(), keys);
        prop_assert_eq!(decoded.host_name.chars().count(), info.host_name.chars().count());
        prop_assert_eq!(decoded.lease_info, info.lease_info);
    }

    #[test]
    fn json_output_is_valid_json(info in instance(Wire::Json)) {
        let body = json::encode_instance(&info);
        prop_assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..256)) {
        let _ = json::decode_instance(&bytes);
        let _ = json::decode_applications(&bytes);
        let _ = json::decode_replication_list(&bytes);
        let _ = xml::decode_instance(&bytes);
        let _ = xml::decode_applications(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_damaged_documents(cut in 0usize..3000, byte in any::<u8>()) {
        let info = InstanceInfo {
            metadata: [("k_1".to_string(), "v".to_string())].into(),
            ..InstanceInfo::default()
        };
        let apps = Applications {
            versions_delta: "1".into(),
            apps_hashcode: "UP_1_".into(),
            applications: vec![Application { name: "A".into(), instances: vec![Arc::new(info)] }],
        };
        for mut body in [json::encode_applications(&apps), xml::encode_applications(&apps)] {
            let at = cut % body.len();
            body[at] = byte;
            let _ = json::decode_applications(&body);
            let _ = xml::decode_applications(&body);
            body.truncate(at);
            let _ = json::decode_applications(&body);
            let _ = xml::decode_applications(&body);
        }
    }
}
