//! Lenient decoding: the bodies real clients send (protocol §2.6/§2.7, real-clients.md §3, §4,
//! §8 item 6) and every variant the decoders promise to accept.

mod common;

use common::*;
use eureka_model::{
    json, xml, ActionType, DataCenterClass, DataCenterInfo, DataCenterName, InstanceInfo,
    InstanceStatus, LeaseInfo, Port,
};

/// Wraps instance fields (JSON object members, without braces) in `{"instance":{...}}`.
fn json_instance(members: &str) -> InstanceInfo {
    let body = format!(r#"{{"instance":{{{members}}}}}"#);
    json::decode_instance(body.as_bytes()).unwrap_or_else(|e| panic!("{e}\nbody: {body}"))
}

/// Wraps instance children in `<instance>...</instance>`.
fn xml_instance(children: &str) -> InstanceInfo {
    let body = format!("<instance>{children}</instance>");
    xml::decode_instance(body.as_bytes()).unwrap_or_else(|e| panic!("{e}\nbody: {body}"))
}

// --- Real bodies ------------------------------------------------------------------------------

const JERSEY_REGISTER_JSON: &str = r#"{"instance": {
  "instanceId": "web-1:orders:8080",
  "hostName": "web-1", "app": "ORDERS", "ipAddr": "10.1.2.3",
  "status": "UP", "overriddenStatus": "UNKNOWN",
  "port": {"$": 8080, "@enabled": "true"},
  "securePort": {"$": 443, "@enabled": "false"},
  "countryId": 1,
  "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"},
  "leaseInfo": {"renewalIntervalInSecs": 30, "durationInSecs": 90, "registrationTimestamp": 0,
                "lastRenewalTimestamp": 0, "evictionTimestamp": 0, "serviceUpTimestamp": 0},
  "metadata": {"zone": "zone-a"},
  "homePageUrl": "http://web-1:8080/",
  "statusPageUrl": "http://web-1:8080/actuator/info",
  "healthCheckUrl": "http://web-1:8080/actuator/health",
  "vipAddress": "orders", "secureVipAddress": "orders",
  "isCoordinatingDiscoveryServer": "false",
  "lastUpdatedTimestamp": "1700000000000", "lastDirtyTimestamp": "1700000000000"
}}"#;

const JERSEY_REGISTER_XML: &str = r#"<instance>
  <instanceId>web-1:orders:8080</instanceId>
  <hostName>web-1</hostName>
  <app>ORDERS</app>
  <ipAddr>10.1.2.3</ipAddr>
  <status>UP</status>
  <overriddenstatus>UNKNOWN</overriddenstatus>
  <port enabled="true">8080</port>
  <securePort enabled="false">443</securePort>
  <countryId>1</countryId>
  <dataCenterInfo class="com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo">
    <name>MyOwn</name>
  </dataCenterInfo>
  <leaseInfo>
    <renewalIntervalInSecs>30</renewalIntervalInSecs>
    <durationInSecs>90</durationInSecs>
    <registrationTimestamp>0</registrationTimestamp>
    <lastRenewalTimestamp>0</lastRenewalTimestamp>
    <evictionTimestamp>0</evictionTimestamp>
    <serviceUpTimestamp>0</serviceUpTimestamp>
  </leaseInfo>
  <metadata>
    <zone>zone-a</zone>
  </metadata>
  <homePageUrl>http://web-1:8080/</homePageUrl>
  <statusPageUrl>http://web-1:8080/actuator/info</statusPageUrl>
  <healthCheckUrl>http://web-1:8080/actuator/health</healthCheckUrl>
  <vipAddress>orders</vipAddress>
  <secureVipAddress>orders</secureVipAddress>
  <isCoordinatingDiscoveryServer>false</isCoordinatingDiscoveryServer>
  <lastUpdatedTimestamp>1700000000000</lastUpdatedTimestamp>
  <lastDirtyTimestamp>1700000000000</lastDirtyTimestamp>
</instance>
"#;

#[test]
fn jersey_register_body_json_spec_2_7() {
    assert_eq!(json::decode_instance(JERSEY_REGISTER_JSON.as_bytes()).unwrap(), register_orders());
}

#[test]
fn jersey_register_body_xml_spec_2_7_pretty_printed() {
    assert_eq!(xml::decode_instance(JERSEY_REGISTER_XML.as_bytes()).unwrap(), register_orders());
}

#[test]
fn xml_registry_sample_spec_2_8_pretty_printed_with_comment() {
    let body = r#"<applications>
  <versions__delta>1</versions__delta>
  <apps__hashcode>DOWN_1_UP_1_</apps__hashcode>
  <application>
    <name>ORDERS</name>
    <instance>
      <instanceId>web-1:orders:8080</instanceId>
      <hostName>web-1</hostName>
      <app>ORDERS</app>
      <ipAddr>10.1.2.3</ipAddr>
      <status>UP</status>
      <overriddenstatus>UNKNOWN</overriddenstatus>
      <port enabled="true">8080</port>
      <securePort enabled="false">443</securePort>
      <countryId>1</countryId>
      <dataCenterInfo class="com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo">
        <name>MyOwn</name>
      </dataCenterInfo>
      <leaseInfo>
        <renewalIntervalInSecs>30</renewalIntervalInSecs>
        <durationInSecs>90</durationInSecs>
        <registrationTimestamp>1700000000123</registrationTimestamp>
        <lastRenewalTimestamp>1700000120456</lastRenewalTimestamp>
        <evictionTimestamp>0</evictionTimestamp>
        <serviceUpTimestamp>1700000000100</serviceUpTimestamp>
      </leaseInfo>
      <metadata class="java.util.Collections$EmptyMap"/>
      <homePageUrl>http://web-1:8080/</homePageUrl>
      <statusPageUrl>http://web-1:8080/actuator/info</statusPageUrl>
      <healthCheckUrl>http://web-1:8080/actuator/health</healthCheckUrl>
      <vipAddress>orders</vipAddress>
      <secureVipAddress>orders</secureVipAddress>
      <isCoordinatingDiscoveryServer>false</isCoordinatingDiscoveryServer>
      <lastUpdatedTimestamp>1700000000123</lastUpdatedTimestamp>
      <lastDirtyTimestamp>1699999999000</lastDirtyTimestamp>
      <actionType>ADDED</actionType>
    </instance>
  </application>
  <!-- BILLING omitted -->
</applications>"#;
    let mut expected = full_registry();
    expected.applications.truncate(1);
    assert_eq!(xml::decode_applications(body.as_bytes()).unwrap(), expected);
}

#[test]
fn py_eureka_client_register_body() {
    // real-clients.md §3: lower-case `overriddenstatus`, `secureHealthCheckUrl: ""`, status last.
    let body = r#"{"instance": {"instanceId": "py-harness:18081", "hostName": "127.0.0.1", "app": "PY-HARNESS",
          "ipAddr": "127.0.0.1", "port": {"$": 18081, "@enabled": "true"}, "securePort": {"$": 9443, "@enabled": "false"},
          "countryId": 1, "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"},
          "leaseInfo": {"renewalIntervalInSecs": 1, "durationInSecs": 3, "registrationTimestamp": 0, "lastRenewalTimestamp": 0,
                        "evictionTimestamp": 0, "serviceUpTimestamp": 0},
          "metadata": {"management.port": "18081", "zone": "default", "harness": "python"},
          "homePageUrl": "http://127.0.0.1:18081/", "statusPageUrl": "http://127.0.0.1:18081/info",
          "healthCheckUrl": "http://127.0.0.1:18081/health", "secureHealthCheckUrl": "", "vipAddress": "py-harness",
          "secureVipAddress": "py-harness", "isCoordinatingDiscoveryServer": "false", "status": "UP",
          "overriddenstatus": "UNKNOWN", "lastUpdatedTimestamp": "1795255595477", "lastDirtyTimestamp": "1795255595477"}}"#;
    let expected = InstanceInfo {
        instance_id: Some("py-harness:18081".into()),
        host_name: "127.0.0.1".into(),
        app: "PY-HARNESS".into(),
        ip_addr: "127.0.0.1".into(),
        port: Port { port: 18081, enabled: true },
        secure_port: Port { port: 9443, enabled: false },
        lease_info: LeaseInfo {
            renewal_interval_in_secs: 1,
            duration_in_secs: 3,
            ..LeaseInfo::default()
        },
        metadata: map(&[("management.port", "18081"), ("zone", "default"), ("harness", "python")]),
        home_page_url: Some("http://127.0.0.1:18081/".into()),
        status_page_url: Some("http://127.0.0.1:18081/info".into()),
        health_check_url: Some("http://127.0.0.1:18081/health".into()),
        secure_health_check_url: Some(String::new()),
        vip_address: Some("py-harness".into()),
        secure_vip_address: Some("py-harness".into()),
        last_updated_timestamp: 1_795_255_595_477,
        last_dirty_timestamp: 1_795_255_595_477,
        ..InstanceInfo::default()
    };
    assert_eq!(json::decode_instance(body.as_bytes()).unwrap(), expected);
}

#[test]
fn eureka_js_client_register_body() {
    // real-clients.md §4: no securePort/leaseInfo/countryId/override/timestamps, boolean @enabled.
    let body = r#"{"instance":{"instanceId":"node-harness:18082","app":"NODE-HARNESS","hostName":"127.0.0.1","ipAddr":"127.0.0.1",
              "port":{"$":18082,"@enabled":true},"vipAddress":"node-harness","statusPageUrl":"http://127.0.0.1:18082/info",
              "healthCheckUrl":"http://127.0.0.1:18082/health","homePageUrl":"http://127.0.0.1:18082/",
              "dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"},
              "metadata":{"harness":"node"},"status":"UP"}}"#;
    let expected = InstanceInfo {
        instance_id: Some("node-harness:18082".into()),
        host_name: "127.0.0.1".into(),
        app: "NODE-HARNESS".into(),
        ip_addr: "127.0.0.1".into(),
        port: Port { port: 18082, enabled: true },
        metadata: map(&[("harness", "node")]),
        home_page_url: Some("http://127.0.0.1:18082/".into()),
        status_page_url: Some("http://127.0.0.1:18082/info".into()),
        health_check_url: Some("http://127.0.0.1:18082/health".into()),
        vip_address: Some("node-harness".into()),
        ..InstanceInfo::default()
    };
    let decoded = json::decode_instance(body.as_bytes()).unwrap();
    assert_eq!(decoded, expected);
    assert_eq!(decoded.secure_port, Port::DEFAULT_SECURE);
    assert_eq!(decoded.overridden_status, InstanceStatus::Unknown);
    assert_eq!((decoded.last_dirty_timestamp, decoded.last_updated_timestamp), (0, 0));
}

#[test]
fn spring_bean_codec_register_body() {
    // §2.7: nulls written, `"sid": "na"`, numbers for countryId and timestamps, a boolean
    // isCoordinatingDiscoveryServer, and port/securePort/metadata last.
    let body = r#"{"instance":{"instanceId":"web-1:orders:8080","app":"ORDERS","appGroupName":null,
        "ipAddr":"10.1.2.3","sid":"na","homePageUrl":"http://web-1:8080/",
        "statusPageUrl":"http://web-1:8080/actuator/info","healthCheckUrl":"http://web-1:8080/actuator/health",
        "secureHealthCheckUrl":null,"vipAddress":"orders","secureVipAddress":"orders","countryId":1,
        "dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"},
        "hostName":"web-1","status":"UP","overriddenStatus":"UNKNOWN",
        "leaseInfo":{"renewalIntervalInSecs":30,"durationInSecs":90,"registrationTimestamp":0,
          "lastRenewalTimestamp":0,"evictionTimestamp":0,"serviceUpTimestamp":0},
        "isCoordinatingDiscoveryServer":false,"lastUpdatedTimestamp":1700000000000,
        "lastDirtyTimestamp":1700000000000,"actionType":null,"asgName":null,
        "port":{"$":8080,"@enabled":"true"},"securePort":{"$":443,"@enabled":"false"},
        "metadata":{"zone":"zone-a"}}}"#;
    assert_eq!(json::decode_instance(body.as_bytes()).unwrap(), register_orders());
}

#[test]
fn fargo_style_xml_register_body() {
    // real-clients.md §8.6: no `class` attribute, <port> after <metadata>, empty override,
    // ports without `enabled`.
    let info = xml_instance(
        "<hostName>h</hostName><app>FARGO</app><ipAddr>10.0.0.9</ipAddr>\
         <status>UP</status><overriddenstatus/>\
         <dataCenterInfo><name>MyOwn</name></dataCenterInfo>\
         <metadata><zone>z</zone></metadata>\
         <port>8080</port><securePort>443</securePort>",
    );
    assert_eq!(info.overridden_status, InstanceStatus::Unknown);
    assert_eq!(info.port, Port { port: 8080, enabled: true });
    assert_eq!(info.secure_port, Port { port: 443, enabled: false });
    assert_eq!(info.data_center_info, Some(DataCenterInfo::default()));
    assert_eq!(info.metadata, map(&[("zone", "z")]));
}

// --- JSON variants ------------------------------------------------------------------------------

#[test]
fn json_numbers_as_strings_and_booleans_as_strings() {
    let info = json_instance(
        r#""port":{"$":"8080","@enabled":"TRUE"},"securePort":{"$":" 443 ","@enabled":"True"},
           "countryId":"2","leaseInfo":{"renewalIntervalInSecs":"10","durationInSecs":"20",
           "registrationTimestamp":"5","lastRenewalTimestamp":"6","evictionTimestamp":"7",
           "serviceUpTimestamp":"8"},"isCoordinatingDiscoveryServer":"TRUE",
           "lastUpdatedTimestamp":1700000000000,"lastDirtyTimestamp":"1700000000001""#,
    );
    assert_eq!(info.port, Port { port: 8080, enabled: true });
    assert_eq!(info.secure_port, Port { port: 443, enabled: true });
    assert_eq!(info.country_id, 2);
    assert_eq!(
        info.lease_info,
        LeaseInfo {
            renewal_interval_in_secs: 10,
            duration_in_secs: 20,
            registration_timestamp: 5,
            last_renewal_timestamp: 6,
            eviction_timestamp: 7,
            service_up_timestamp: 8,
        }
    );
    assert!(info.is_coordinating_discovery_server);
    assert_eq!(info.last_updated_timestamp, 1_700_000_000_000);
    assert_eq!(info.last_dirty_timestamp, 1_700_000_000_001);
}

#[test]
fn json_boolean_enabled_and_integral_float_port() {
    let info = json_instance(
        r#""port":{"$":8080.0,"@enabled":false},"securePort":{"$":443,"@enabled":true}"#,
    );
    assert_eq!(info.port, Port { port: 8080, enabled: false });
    assert_eq!(info.secure_port, Port { port: 443, enabled: true });
}

#[test]
fn json_port_without_enabled_keeps_the_per_port_default() {
    let info = json_instance(r#""port":{"$":81},"securePort":{"$":444}"#);
    assert_eq!(info.port, Port { port: 81, enabled: true });
    assert_eq!(info.secure_port, Port { port: 444, enabled: false });
}

#[test]
fn json_bare_number_port_is_accepted() {
    let info = json_instance(r#""port":8081,"securePort":"8443""#);
    assert_eq!(info.port, Port { port: 8081, enabled: true });
    assert_eq!(info.secure_port, Port { port: 8443, enabled: false });
}

#[test]
fn json_both_override_spellings_camel_case_wins() {
    assert_eq!(
        json_instance(r#""overriddenstatus":"DOWN""#).overridden_status,
        InstanceStatus::Down
    );
    assert_eq!(
        json_instance(r#""overriddenStatus":"UP","overriddenstatus":"DOWN""#).overridden_status,
        InstanceStatus::Up
    );
    assert_eq!(
        json_instance(r#""overriddenstatus":"DOWN","overriddenStatus":"UP""#).overridden_status,
        InstanceStatus::Up
    );
    assert_eq!(
        json_instance(r#""overriddenStatus":"""#).overridden_status,
        InstanceStatus::Unknown
    );
    assert_eq!(
        json_instance(r#""overriddenStatus":null,"overriddenstatus":"OUT_OF_SERVICE""#)
            .overridden_status,
        InstanceStatus::OutOfService
    );
}

#[test]
fn json_status_is_lenient() {
    assert_eq!(json_instance(r#""status":"up""#).status, InstanceStatus::Up);
    assert_eq!(json_instance(r#""status":"out_of_service""#).status, InstanceStatus::OutOfService);
    assert_eq!(json_instance(r#""status":"BOGUS""#).status, InstanceStatus::Unknown);
    assert_eq!(json_instance("").status, InstanceStatus::Up);
}

#[test]
fn json_missing_fields_take_java_defaults() {
    let info = json_instance(r#""app":"x""#);
    assert_eq!(
        info,
        InstanceInfo { app: "x".into(), data_center_info: None, ..Default::default() }
    );
    assert_eq!(info.port, Port::DEFAULT_PLAIN);
    assert_eq!(info.secure_port, Port::DEFAULT_SECURE);
    assert_eq!(info.country_id, 1);
    assert_eq!(info.lease_info, LeaseInfo::default());
}

#[test]
fn json_null_means_missing() {
    let info = json_instance(
        r#""instanceId":null,"hostName":null,"status":null,"securePort":null,"countryId":null,
           "dataCenterInfo":null,"leaseInfo":null,"metadata":null,"vipAddress":null,
           "lastDirtyTimestamp":null,"port":{"$":null,"@enabled":null}"#,
    );
    assert_eq!(info, InstanceInfo { data_center_info: None, ..Default::default() });
}

#[test]
fn json_empty_strings_for_numbers_keep_defaults() {
    let info = json_instance(
        r#""countryId":"","lastDirtyTimestamp":"","port":{"$":"","@enabled":""},
           "isCoordinatingDiscoveryServer":"""#,
    );
    assert_eq!(info.country_id, 1);
    assert_eq!(info.last_dirty_timestamp, 0);
    assert_eq!(info.port, Port::DEFAULT_PLAIN);
    assert!(!info.is_coordinating_discovery_server);
}

#[test]
fn json_unknown_fields_scalar_or_structured_are_ignored() {
    let info = json_instance(
        r#""hostName":"h","extra":{"nested":[1,{"deep":{"hostName":"wrong"}}],"x":null},
           "flag":true,"list":[1,2,3],"app":"A","port":{"$":1,"@enabled":"true","extra":{"a":1}},
           "leaseInfo":{"durationInSecs":5,"unknown":[1]},
           "dataCenterInfo":{"@class":"com.netflix.appinfo.MyDataCenterInfo","name":"MyOwn","x":{}}"#,
    );
    assert_eq!(info.host_name, "h");
    assert_eq!(info.app, "A");
    assert_eq!(info.port, Port { port: 1, enabled: true });
    assert_eq!(info.lease_info.duration_in_secs, 5);
    assert_eq!(info.data_center_info.unwrap().class, DataCenterClass::MyDataCenter);
}

#[test]
fn json_app_is_not_upper_cased_by_the_decoder() {
    let info = json_instance(r#""app":"orders","appGroupName":"grp""#);
    assert_eq!(info.app, "orders");
    assert_eq!(info.app_group_name.as_deref(), Some("grp"));
}

#[test]
fn json_sid_placeholders_decode_to_none() {
    assert_eq!(json_instance(r#""sid":"na""#).sid, None);
    assert_eq!(json_instance(r#""sid":"unknown""#).sid, None);
    assert_eq!(json_instance(r#""sid":"s-1""#).sid.as_deref(), Some("s-1"));
}

#[test]
fn json_metadata_scalars_become_strings_and_class_marker_is_dropped() {
    let info = json_instance(
        r#""metadata":{"@class":"java.util.Collections$EmptyMap","port":9090,"ratio":1.5,
           "on":true,"gone":null,"text":"t","":"empty key","a b":"space"}"#,
    );
    assert_eq!(
        info.metadata,
        map(&[
            ("port", "9090"),
            ("ratio", "1.5"),
            ("on", "true"),
            ("text", "t"),
            ("", "empty key"),
            ("a b", "space")
        ])
    );
    assert!(json_instance(r#""metadata":{"@class":"java.util.Collections$EmptyMap"}"#)
        .metadata
        .is_empty());
}

#[test]
fn json_data_center_class_is_optional_and_inferred() {
    let dc = |members: &str| {
        json_instance(&format!(r#""dataCenterInfo":{{{members}}}"#)).data_center_info
    };
    let default = Some(DataCenterInfo::default());
    assert_eq!(dc(r#""name":"MyOwn""#), default);
    assert_eq!(dc(r#""@class":"com.example.Custom","name":"MyOwn""#), default);
    assert_eq!(dc(r#""name":"myown""#), default);
    assert_eq!(
        dc(r#""name":"Amazon","metadata":{"instance-id":"i-1"}"#),
        Some(DataCenterInfo {
            class: DataCenterClass::Amazon,
            name: Some(DataCenterName::Amazon),
            metadata: map(&[("instance-id", "i-1")]),
        })
    );
    assert_eq!(
        dc(r#""@class":"com.netflix.appinfo.MyDataCenterInfo","name":"MyOwn""#),
        Some(DataCenterInfo { class: DataCenterClass::MyDataCenter, ..DataCenterInfo::default() })
    );
    assert_eq!(
        dc(r#""@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo""#),
        Some(DataCenterInfo { name: None, ..DataCenterInfo::default() })
    );
    assert_eq!(
        dc(r#""name":"Netflix""#),
        Some(DataCenterInfo { name: Some(DataCenterName::Netflix), ..DataCenterInfo::default() })
    );
    // AWS metadata is only kept for the Amazon class.
    assert_eq!(dc(r#""name":"MyOwn","metadata":{"instance-id":"i-1"}"#), default);
    assert_eq!(json_instance(r#""app":"x""#).data_center_info, None);
}

#[test]
fn json_lease_legacy_renewal_timestamp_and_negative_clamping() {
    let lease = |members: &str| json_instance(&format!(r#""leaseInfo":{{{members}}}"#)).lease_info;
    assert_eq!(lease(r#""renewalTimestamp":42"#).last_renewal_timestamp, 42);
    assert_eq!(
        lease(r#""renewalTimestamp":42,"lastRenewalTimestamp":43"#).last_renewal_timestamp,
        43
    );
    assert_eq!(
        lease(r#""lastRenewalTimestamp":43,"renewalTimestamp":42"#).last_renewal_timestamp,
        43
    );
    let clamped =
        lease(r#""renewalIntervalInSecs":-1,"evictionTimestamp":"-5","durationInSecs":-90"#);
    assert_eq!(
        (clamped.renewal_interval_in_secs, clamped.eviction_timestamp, clamped.duration_in_secs),
        (0, 0, 0)
    );
    assert_eq!(json_instance(r#""lastDirtyTimestamp":"-1""#).last_dirty_timestamp, 0);
    assert_eq!(json_instance(r#""countryId":-3"#).country_id, -3);
}

#[test]
fn json_action_type_must_be_exact() {
    assert_eq!(json_instance(r#""actionType":"ADDED""#).action_type, Some(ActionType::Added));
    assert_eq!(json_instance(r#""actionType":"DELETED""#).action_type, Some(ActionType::Deleted));
    assert_eq!(json_instance(r#""actionType":"added""#).action_type, None);
    assert_eq!(json_instance(r#""actionType":"BOGUS""#).action_type, None);
    assert_eq!(json_instance(r#""actionType":1"#).action_type, None);
}

#[test]
fn json_single_objects_where_arrays_are_expected() {
    let body = br#"{"applications":{"versions__delta":"3","apps__hashcode":"UP_1_",
        "application":{"name":"A","instance":{"hostName":"h","app":"A"}}}}"#;
    let apps = json::decode_applications(body).unwrap();
    assert_eq!(apps.versions_delta, "3");
    assert_eq!(apps.applications.len(), 1);
    assert_eq!(apps.applications[0].instances.len(), 1);
    assert_eq!(apps.applications[0].instances[0].host_name, "h");

    let app = json::decode_application(br#"{"application":{"name":"A","instance":{"app":"A"}}}"#);
    assert_eq!(app.unwrap().instances.len(), 1);
}

#[test]
fn json_missing_or_null_application_list_is_empty() {
    for body in [
        r#"{"applications":{"versions__delta":"1","apps__hashcode":""}}"#,
        r#"{"applications":{"versions__delta":"1","apps__hashcode":"","application":null}}"#,
        r#"{"applications":{"versions__delta":"1","apps__hashcode":"","application":[]}}"#,
    ] {
        assert_eq!(json::decode_applications(body.as_bytes()).unwrap(), empty_registry(), "{body}");
    }
    let app = json::decode_application(br#"{"application":{"name":"A"}}"#).unwrap();
    assert!(app.instances.is_empty());
}

#[test]
fn json_registry_version_keys_are_lenient() {
    let apps = json::decode_applications(
        br#"{"applications":{"versions_delta":7,"apps_hashcode":"UP_1_","application":[]}}"#,
    )
    .unwrap();
    assert_eq!((apps.versions_delta.as_str(), apps.apps_hashcode.as_str()), ("7", "UP_1_"));
}

#[test]
fn json_byte_order_mark_and_extra_root_members_are_tolerated() {
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend_from_slice(br#"{"instance":{"app":"A"},"other":1}"#);
    assert_eq!(json::decode_instance(&body).unwrap().app, "A");
}

#[test]
fn json_string_escapes_decode() {
    let info = json_instance(r#""hostName":"a\"b\\c\u00e9\n\ud83d\ude00""#);
    assert_eq!(info.host_name, "a\"b\\c\u{e9}\n\u{1f600}");
}

#[test]
fn json_replication_list_lenient_items() {
    let body = br#"{"replicationList":[{"appName":"A","id":"i","lastDirtyTimestamp":"12",
        "status":"up","overriddenStatus":" unknown ","action":"Heartbeat","extra":{"x":[1]}}]}"#;
    let list = json::decode_replication_list(body).unwrap();
    let item = &list.replication_list[0];
    assert_eq!(item.last_dirty_timestamp, Some(12));
    assert_eq!(item.status, Some(InstanceStatus::Up));
    assert_eq!(item.overridden_status, Some(InstanceStatus::Unknown));
    assert!(item.instance_info.is_none());
    let empty = json::decode_replication_list(br#"{"replicationList":[]}"#).unwrap();
    assert!(empty.replication_list.is_empty());
}

// --- XML variants -------------------------------------------------------------------------------

#[test]
fn xml_port_enabled_rules() {
    let ports = |children: &str| {
        let info = xml_instance(children);
        (info.port.enabled, info.secure_port.enabled)
    };
    assert_eq!(ports(r#"<port>1</port><securePort>2</securePort>"#), (true, false));
    assert_eq!(
        ports(r#"<port enabled="false">1</port><securePort enabled="true">2</securePort>"#),
        (false, true)
    );
    assert_eq!(
        ports(r#"<port enabled="bogus">1</port><securePort enabled="bogus">2</securePort>"#),
        (true, false)
    );
    assert_eq!(
        ports(r#"<port enabled="FALSE">1</port><securePort enabled="TRUE">2</securePort>"#),
        (false, true)
    );
    let info = xml_instance("<port> 8080 </port><securePort/>");
    assert_eq!(info.port.port, 8080);
    assert_eq!(info.secure_port, Port::DEFAULT_SECURE);
}

#[test]
fn xml_both_override_spellings() {
    assert_eq!(
        xml_instance("<overriddenStatus>DOWN</overriddenStatus>").overridden_status,
        InstanceStatus::Down
    );
    assert_eq!(
        xml_instance("<overriddenstatus>DOWN</overriddenstatus>").overridden_status,
        InstanceStatus::Down
    );
    assert_eq!(
        xml_instance(
            "<overriddenStatus>UP</overriddenStatus><overriddenstatus>DOWN</overriddenstatus>"
        )
        .overridden_status,
        InstanceStatus::Down
    );
    assert_eq!(
        xml_instance("<overriddenstatus></overriddenstatus>").overridden_status,
        InstanceStatus::Unknown
    );
    assert_eq!(xml_instance("").overridden_status, InstanceStatus::Unknown);
    assert_eq!(xml_instance("<status>weird</status>").status, InstanceStatus::Unknown);
}

#[test]
fn xml_missing_fields_take_java_defaults() {
    let info = xml_instance("<app>x</app>");
    assert_eq!(
        info,
        InstanceInfo { app: "x".into(), data_center_info: None, ..Default::default() }
    );
}

#[test]
fn xml_unknown_elements_are_ignored_at_any_depth() {
    let info = xml_instance(
        "<extra><hostName>wrong</hostName><deeper><x/></deeper></extra><hostName>h</hostName>\
         <leaseInfo><durationInSecs>5</durationInSecs><unknown><a/></unknown></leaseInfo>\
         <dataCenterInfo class=\"com.netflix.appinfo.MyDataCenterInfo\"><name>MyOwn</name><x>1</x></dataCenterInfo>",
    );
    assert_eq!(info.host_name, "h");
    assert_eq!(info.lease_info.duration_in_secs, 5);
    assert_eq!(info.data_center_info.unwrap().class, DataCenterClass::MyDataCenter);
}

#[test]
fn xml_metadata_names_are_decoded() {
    let info = xml_instance(
        "<metadata><management.port>1</management.port><build__id>2</build__id>\
         <cost_-center>3</cost_-center><lone_under>4</lone_under><empty/></metadata>",
    );
    assert_eq!(
        info.metadata,
        map(&[
            ("management.port", "1"),
            ("build_id", "2"),
            ("cost$center", "3"),
            ("lone_under", "4"),
            ("empty", "")
        ])
    );
    assert!(xml_instance("<metadata/>").metadata.is_empty());
    assert!(xml_instance(r#"<metadata class="java.util.Collections$EmptyMap"></metadata>"#)
        .metadata
        .is_empty());
}

#[test]
fn xml_data_center_class_is_optional_and_inferred() {
    let dc = |inner: &str| xml_instance(inner).data_center_info;
    assert_eq!(
        dc("<dataCenterInfo><name>MyOwn</name></dataCenterInfo>"),
        Some(DataCenterInfo::default())
    );
    assert_eq!(
        dc("<dataCenterInfo><name>Amazon</name><metadata><instance-id>i-9</instance-id></metadata></dataCenterInfo>"),
        Some(DataCenterInfo {
            class: DataCenterClass::Amazon,
            name: Some(DataCenterName::Amazon),
            metadata: map(&[("instance-id", "i-9")]),
        })
    );
    assert_eq!(
        dc(r#"<dataCenterInfo class="com.example.Other"><name>MyOwn</name></dataCenterInfo>"#),
        Some(DataCenterInfo::default())
    );
    assert_eq!(
        dc(r#"<dataCenterInfo class="com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"/>"#),
        Some(DataCenterInfo { name: None, ..DataCenterInfo::default() })
    );
    assert_eq!(dc("<dataCenterInfo><name></name></dataCenterInfo>").unwrap().name, None);
}

#[test]
fn xml_numbers_whitespace_negatives_and_legacy_lease_key() {
    let info = xml_instance(
        "<countryId> 7 </countryId><lastDirtyTimestamp>-4</lastDirtyTimestamp>\
         <lastUpdatedTimestamp></lastUpdatedTimestamp>\
         <leaseInfo><renewalTimestamp>99</renewalTimestamp><evictionTimestamp>-1</evictionTimestamp></leaseInfo>\
         <isCoordinatingDiscoveryServer>TRUE</isCoordinatingDiscoveryServer>",
    );
    assert_eq!(info.country_id, 7);
    assert_eq!(info.last_dirty_timestamp, 0);
    assert_eq!(info.last_updated_timestamp, 0);
    assert_eq!(info.lease_info.last_renewal_timestamp, 99);
    assert_eq!(info.lease_info.eviction_timestamp, 0);
    assert!(info.is_coordinating_discovery_server);
}

#[test]
fn xml_entities_char_refs_cdata_comments_and_declaration() {
    let body = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- lead -->\
        <instance><hostName>a&amp;b&lt;c&gt;&quot;&apos;&#65;&#x42;</hostName>\
        <app><![CDATA[<raw & text>]]></app><?pi data?><!-- inside -->\
        <ipAddr> spaced </ipAddr><secureHealthCheckUrl></secureHealthCheckUrl>\
        <vipAddress>line1&#13;\nline2</vipAddress></instance>\n<!-- trail -->\n";
    let info = xml::decode_instance(body.as_bytes()).unwrap();
    assert_eq!(info.host_name, "a&b<c>\"'AB");
    assert_eq!(info.app, "<raw & text>");
    assert_eq!(info.ip_addr, " spaced ");
    assert_eq!(info.secure_health_check_url.as_deref(), Some(""));
    assert_eq!(info.vip_address.as_deref(), Some("line1\r\nline2"));
}

#[test]
fn xml_sid_action_type_and_app_case() {
    let info = xml_instance("<sid>na</sid><actionType>added</actionType><app>lower</app>");
    assert_eq!((info.sid, info.action_type, info.app.as_str()), (None, None, "lower"));
    let info = xml_instance("<sid>s-2</sid><actionType>DELETED</actionType>");
    assert_eq!((info.sid.as_deref(), info.action_type), (Some("s-2"), Some(ActionType::Deleted)));
}

#[test]
fn xml_registry_without_applications_and_lenient_version_keys() {
    let apps = xml::decode_applications(b"<applications/>").unwrap();
    assert_eq!((apps.versions_delta.as_str(), apps.applications.len()), ("", 0));
    let apps = xml::decode_applications(
        b"<applications><versions_delta>4</versions_delta><apps_hashcode>UP_1_</apps_hashcode>\
          <application><name>A</name></application><extra/></applications>",
    )
    .unwrap();
    assert_eq!((apps.versions_delta.as_str(), apps.apps_hashcode.as_str()), ("4", "UP_1_"));
    assert_eq!(apps.applications.len(), 1);
    assert!(apps.applications[0].instances.is_empty());
}
