//! Expected values for the golden fixtures, built by hand from protocol §2.7–§2.9.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;
use std::sync::Arc;

use eureka_model::replication::{
    ReplicationAction, ReplicationInstance, ReplicationInstanceResponse, ReplicationList,
    ReplicationListResponse,
};
use eureka_model::{
    ActionType, Application, Applications, DataCenterClass, DataCenterInfo, DataCenterName,
    InstanceInfo, InstanceStatus, LeaseInfo, Metadata, Port,
};

/// Reads `tests/fixtures/{name}` as bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", name].iter().collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A string map from pairs.
pub fn map(pairs: &[(&str, &str)]) -> Metadata {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn s(text: &str) -> Option<String> {
    Some(text.to_string())
}

/// The Jersey register body of §2.7 (`instance.json` / `instance.xml`).
pub fn register_orders() -> InstanceInfo {
    InstanceInfo {
        instance_id: s("web-1:orders:8080"),
        host_name: "web-1".into(),
        app: "ORDERS".into(),
        ip_addr: "10.1.2.3".into(),
        sid: None,
        status: InstanceStatus::Up,
        overridden_status: InstanceStatus::Unknown,
        port: Port { port: 8080, enabled: true },
        secure_port: Port { port: 443, enabled: false },
        country_id: 1,
        data_center_info: Some(DataCenterInfo::default()),
        lease_info: LeaseInfo::default(),
        metadata: map(&[("zone", "zone-a")]),
        app_group_name: None,
        home_page_url: s("http://web-1:8080/"),
        status_page_url: s("http://web-1:8080/actuator/info"),
        health_check_url: s("http://web-1:8080/actuator/health"),
        secure_health_check_url: None,
        vip_address: s("orders"),
        secure_vip_address: s("orders"),
        is_coordinating_discovery_server: false,
        last_updated_timestamp: 1_700_000_000_000,
        last_dirty_timestamp: 1_700_000_000_000,
        action_type: None,
        asg_name: None,
    }
}

/// The ORDERS instance of the §2.8 registry sample.
pub fn orders_listed() -> InstanceInfo {
    InstanceInfo {
        metadata: Metadata::new(),
        lease_info: LeaseInfo {
            registration_timestamp: 1_700_000_000_123,
            last_renewal_timestamp: 1_700_000_120_456,
            eviction_timestamp: 0,
            service_up_timestamp: 1_700_000_000_100,
            ..LeaseInfo::default()
        },
        last_updated_timestamp: 1_700_000_000_123,
        last_dirty_timestamp: 1_699_999_999_000,
        action_type: Some(ActionType::Added),
        ..register_orders()
    }
}

/// The BILLING instance of the §2.8 registry sample.
pub fn billing_listed() -> InstanceInfo {
    InstanceInfo {
        instance_id: s("web-2:billing:9090"),
        host_name: "web-2".into(),
        app: "BILLING".into(),
        ip_addr: "10.1.2.4".into(),
        status: InstanceStatus::Down,
        port: Port { port: 9090, enabled: true },
        lease_info: LeaseInfo {
            registration_timestamp: 1_700_000_005_000,
            last_renewal_timestamp: 1_700_000_005_000,
            ..LeaseInfo::default()
        },
        metadata: map(&[("management.port", "9090")]),
        home_page_url: None,
        status_page_url: None,
        health_check_url: None,
        vip_address: s("billing"),
        secure_vip_address: s("billing"),
        last_updated_timestamp: 1_700_000_005_000,
        last_dirty_timestamp: 1_700_000_004_000,
        action_type: Some(ActionType::Modified),
        ..register_orders()
    }
}

/// An application holding the given instances.
pub fn app(name: &str, instances: Vec<InstanceInfo>) -> Application {
    Application { name: name.into(), instances: instances.into_iter().map(Arc::new).collect() }
}

/// `application.json` / `application.xml`.
pub fn orders_application() -> Application {
    app("ORDERS", vec![orders_listed()])
}

/// The two-app registry of §2.8 (`apps_full.*`).
pub fn full_registry() -> Applications {
    Applications {
        versions_delta: "1".into(),
        apps_hashcode: "DOWN_1_UP_1_".into(),
        applications: vec![orders_application(), app("BILLING", vec![billing_listed()])],
    }
}

/// An empty registry (`apps_empty.*`).
pub fn empty_registry() -> Applications {
    Applications { versions_delta: "1".into(), apps_hashcode: String::new(), applications: vec![] }
}

/// The delta of §3 with the full field set (`apps_delta.*`).
pub fn delta_registry() -> Applications {
    let orders = InstanceInfo {
        status: InstanceStatus::OutOfService,
        overridden_status: InstanceStatus::OutOfService,
        last_updated_timestamp: 1_700_000_130_000,
        action_type: Some(ActionType::Modified),
        ..orders_listed()
    };
    let billing = InstanceInfo {
        status: InstanceStatus::Up,
        lease_info: LeaseInfo {
            eviction_timestamp: 1_700_000_140_000,
            service_up_timestamp: 1_700_000_005_000,
            ..billing_listed().lease_info
        },
        last_updated_timestamp: 1_700_000_140_000,
        action_type: Some(ActionType::Deleted),
        ..billing_listed()
    };
    Applications {
        versions_delta: "57".into(),
        apps_hashcode: "OUT_OF_SERVICE_1_UP_2_".into(),
        applications: vec![app("ORDERS", vec![orders]), app("BILLING", vec![billing])],
    }
}

/// An AWS instance with every optional field set (`instance_amazon.*`). Its metadata key
/// `quote"d` is not an XML name, so the XML fixture lacks it.
pub fn amazon_catalog() -> InstanceInfo {
    InstanceInfo {
        instance_id: None,
        host_name: "ip-10-0-1-5.ec2.internal".into(),
        app: "CATALOG".into(),
        ip_addr: "10.0.1.5".into(),
        sid: s("s-42"),
        status: InstanceStatus::OutOfService,
        overridden_status: InstanceStatus::OutOfService,
        port: Port { port: 7001, enabled: false },
        secure_port: Port { port: 7002, enabled: true },
        country_id: 1,
        data_center_info: Some(DataCenterInfo {
            class: DataCenterClass::Amazon,
            name: Some(DataCenterName::Amazon),
            metadata: map(&[
                ("ami-id", "ami-0123"),
                ("availability-zone", "us-east-1a"),
                ("instance-id", "i-0abc123"),
                ("instance-type", "m5.large"),
                ("local-hostname", "ip-10-0-1-5.ec2.internal"),
                ("local-ipv4", "10.0.1.5"),
                ("public-hostname", "ec2-54-1-2-3.compute-1.amazonaws.com"),
                ("public-ipv4", "54.1.2.3"),
            ]),
        }),
        lease_info: LeaseInfo {
            renewal_interval_in_secs: 10,
            duration_in_secs: 30,
            registration_timestamp: 1_700_000_100_000,
            last_renewal_timestamp: 1_700_000_160_000,
            eviction_timestamp: 0,
            service_up_timestamp: 1_700_000_100_500,
        },
        metadata: map(&[
            ("build_id", "42"),
            ("cost$center", "r&d <core>"),
            ("quote\"d", "say \"hi\"\n"),
        ]),
        app_group_name: s("CATALOG-GROUP"),
        home_page_url: s("http://ip-10-0-1-5.ec2.internal:7001/"),
        status_page_url: s("http://ip-10-0-1-5.ec2.internal:7001/Status"),
        health_check_url: s("http://ip-10-0-1-5.ec2.internal:7001/healthcheck"),
        secure_health_check_url: s("https://ip-10-0-1-5.ec2.internal:7002/healthcheck"),
        vip_address: s("catalog"),
        secure_vip_address: s("catalog-secure"),
        is_coordinating_discovery_server: true,
        last_updated_timestamp: 1_700_000_100_000,
        last_dirty_timestamp: 1_700_000_099_000,
        action_type: Some(ActionType::Modified),
        asg_name: s("catalog-v042"),
    }
}

/// The batch of §2.9 plus a StatusUpdate and a DeleteStatusOverride (`replication_list.json`).
pub fn replication_list() -> ReplicationList {
    let item = |action, status, overridden| ReplicationInstance {
        app_name: "ORDERS".into(),
        id: "web-1:orders:8080".into(),
        last_dirty_timestamp: Some(1_699_999_999_000),
        overridden_status: overridden,
        status,
        instance_info: None,
        action,
        health_check: None,
    };
    let oos = Some(InstanceStatus::OutOfService);
    ReplicationList {
        replication_list: vec![
            ReplicationInstance {
                instance_info: Some(InstanceInfo { action_type: None, ..orders_listed() }),
                ..item(ReplicationAction::Register, Some(InstanceStatus::Up), None)
            },
            item(ReplicationAction::Heartbeat, oos, oos),
            item(ReplicationAction::StatusUpdate, oos, None),
            item(ReplicationAction::DeleteStatusOverride, Some(InstanceStatus::Up), None),
            ReplicationInstance {
                app_name: "BILLING".into(),
                id: "web-2:billing:9090".into(),
                last_dirty_timestamp: None,
                overridden_status: None,
                status: None,
                instance_info: None,
                action: ReplicationAction::Cancel,
                health_check: None,
            },
        ],
    }
}

/// The answer to a batch, one 409 carrying the receiver's copy (`replication_response.json`).
pub fn replication_response() -> ReplicationListResponse {
    let code = |status_code| ReplicationInstanceResponse { status_code, response_entity: None };
    ReplicationListResponse {
        response_list: vec![
            code(200),
            ReplicationInstanceResponse {
                status_code: 409,
                response_entity: Some(InstanceInfo { action_type: None, ..billing_listed() }),
            },
            code(404),
            code(500),
        ],
    }
}
