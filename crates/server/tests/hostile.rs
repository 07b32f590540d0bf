//! The bad-input suite: one table of hostile requests, each sent over a raw socket (so paths,
//! headers and bodies arrive byte for byte as written, never normalised by an HTTP client).
//!
//! Every row must get its exact 4xx and a message naming what is wrong, and the registry
//! (its snapshot in both formats, version, overrides and lease times) must be byte-identical
//! before and after the whole table. All failing rows are collected and reported together.
//!
//! Inputs real clients send and Java accepts are not rows here (they are accepted on purpose):
//! an unknown status *string* in a body decodes as UNKNOWN, the renew `status` query parameter
//! is ignored, percent-encoded ids are decoded, unknown fields are ignored.

use std::io::Write;
use std::time::Duration;

use eureka_model::{json, xml};
use eureka_server::{Clock, ServerConfig, SharedState};
use eureka_testkit::fixtures::{java_json, java_xml, node_json};
use eureka_testkit::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const JSON: &str = "application/json";
const XML: &str = "application/xml";
const REGISTER: &str = "/eureka/apps/ORDERS";
const BATCH: &str = "/eureka/peerreplication/batch/";

/// One hostile request and the answer it must get.
struct Row {
    name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Sent instead of the body; `Content-Length` is then what `headers` say, so rows can lie.
    raw_body: bool,
    /// Close our sending side after the body, so a body shorter than declared ends.
    half_close: bool,
    status: u16,
    /// Must appear in the answer's body (empty: the answer may have no body, e.g. hyper's own).
    message: &'static str,
}

fn row(name: &'static str, method: &'static str, path: impl Into<String>) -> Row {
    Row {
        name,
        method,
        path: path.into(),
        headers: Vec::new(),
        body: Vec::new(),
        raw_body: false,
        half_close: false,
        status: 400,
        message: "",
    }
}

impl Row {
    fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self.header("Content-Type", content_type)
    }

    fn json(self, body: impl Into<Vec<u8>>) -> Self {
        self.body(JSON, body)
    }

    fn xml(self, body: impl Into<Vec<u8>>) -> Self {
        self.body(XML, body)
    }

    fn expect(mut self, status: u16, message: &'static str) -> Self {
        self.status = status;
        self.message = message;
        self
    }
}

/// A valid ORDERS registration (JSON) with `from` replaced by `to`, asserting the pattern exists.
fn json_with(from: &str, to: &str) -> String {
    let body = java_json("ORDERS", "hostile-1", 8080);
    assert!(body.contains(from), "fixture lacks {from}");
    body.replacen(from, to, 1)
}

/// A valid ORDERS registration (XML) with `from` replaced by `to`.
fn xml_with(from: &str, to: &str) -> String {
    let body = java_xml("ORDERS", "hostile-1", 8080);
    assert!(body.contains(from), "fixture lacks {from}");
    body.replacen(from, to, 1)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn batch(items: &str) -> String {
    format!(r#"{{"replicationList":[{items}]}}"#)
}

fn rows() -> Vec<Row> {
    let valid_json = java_json("ORDERS", "hostile-1", 8080);
    let valid_xml = java_xml("ORDERS", "hostile-1", 8080);
    let deep_json_array =
        format!(r#"{{"instance":{{"metadata":{}{}}}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    let deep_json_object = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    let deep_xml =
        format!("<instance>{}{}</instance>", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let long_id = "x".repeat(100 * 1024);
    let zeros = vec![0u8; 20 * 1024 * 1024];
    let utf16: Vec<u8> =
        valid_json.encode_utf16().flat_map(|u| u.to_le_bytes()).collect::<Vec<u8>>();
    let register_item = |instance: &str| {
        batch(&format!(
            r#"{{"appName":"ORDERS","id":"hostile-1","action":"Register","instanceInfo":{instance}}}"#
        ))
    };
    let valid_instance = valid_json
        .strip_prefix(r#"{"instance":"#)
        .and_then(|s| s.strip_suffix('}'))
        .unwrap()
        .to_string();

    vec![
        // --- malformed and truncated JSON -------------------------------------------------
        row("json_truncated", "POST", REGISTER)
            .json(&valid_json[..valid_json.len() / 2])
            .expect(400, "malformed JSON"),
        row("json_empty_body", "POST", REGISTER).json("").expect(400, "malformed JSON"),
        row("json_whitespace_only", "POST", REGISTER).json("  \n ").expect(400, "malformed JSON"),
        row("json_trailing_junk", "POST", REGISTER)
            .json(format!("{valid_json} trailing"))
            .expect(400, "trailing characters"),
        row("json_two_documents", "POST", REGISTER)
            .json(format!("{valid_json}{valid_json}"))
            .expect(400, "trailing characters"),
        row("json_root_array", "POST", REGISTER).json("[]").expect(400, "expected root 'instance'"),
        row("json_root_null", "POST", REGISTER).json("null").expect(400, "expected root 'instance'"),
        row("json_wrong_root", "POST", REGISTER)
            .json(r#"{"application":{"name":"ORDERS"}}"#)
            .expect(400, "expected root 'instance'"),
        row("json_instance_is_string", "POST", REGISTER)
            .json(r#"{"instance":"ORDERS"}"#)
            .expect(400, "'instance': expected an object"),
        row("json_single_quotes", "POST", REGISTER)
            .json(valid_json.replace('"', "'"))
            .expect(400, "malformed JSON"),
        row("json_nan", "POST", REGISTER)
            .json(json_with(r#""$":8080"#, r#""$":NaN"#))
            .expect(400, "malformed JSON"),
        row("json_number_overflow", "POST", REGISTER)
            .json(json_with(r#""$":8080"#, r#""$":1e400"#))
            .expect(400, "malformed JSON"),
        row("json_invalid_utf8", "POST", REGISTER)
            .json([&valid_json.as_bytes()[..40], b"\xff\xfe", &valid_json.as_bytes()[40..]].concat())
            .expect(400, "malformed JSON"),
        row("json_lone_surrogate", "POST", REGISTER)
            .json(json_with(r#""hostName":"127.0.0.1""#, r#""hostName":"\ud800""#))
            .expect(400, "malformed JSON"),
        row("json_control_char_in_string", "POST", REGISTER)
            .json(json_with(r#""hostName":"127.0.0.1""#, "\"hostName\":\"a\u{1}b\""))
            .expect(400, "malformed JSON"),
        row("json_utf16_body", "POST", REGISTER).json(utf16).expect(400, "malformed JSON"),
        // --- wrong types --------------------------------------------------------------------
        row("json_port_object_text", "POST", REGISTER)
            .json(json_with(r#""$":8080"#, r#""$":"eighty""#))
            .expect(400, "instance.port.$"),
        row("json_port_array", "POST", REGISTER)
            .json(json_with(r#""port":{"$":8080,"@enabled":"true"}"#, r#""port":[8080]"#))
            .expect(400, "instance.port"),
        row("json_port_object_in_object", "POST", REGISTER)
            .json(json_with(r#""$":8080"#, r#""$":{"n":8080}"#))
            .expect(400, "instance.port.$"),
        row("json_port_out_of_range", "POST", REGISTER)
            .json(json_with(r#""$":8080"#, r#""$":70000"#))
            .expect(400, "outside 0..=65535"),
        row("json_port_negative", "POST", REGISTER)
            .json(json_with(r#""$":8080"#, r#""$":-1"#))
            .expect(400, "outside 0..=65535"),
        row("json_port_huge_digits", "POST", REGISTER)
            .json(json_with(r#""$":8080"#, &format!(r#""$":"{}""#, "9".repeat(500_000))))
            .expect(400, "expected an integer"),
        row("json_enabled_object", "POST", REGISTER)
            .json(json_with(r#""@enabled":"true""#, r#""@enabled":{}"#))
            .expect(400, "instance.port.@enabled"),
        row("json_status_number", "POST", REGISTER)
            .json(json_with(r#""status":"UP""#, r#""status":5"#))
            .expect(400, "instance.status"),
        row("json_status_object", "POST", REGISTER)
            .json(json_with(r#""status":"UP""#, r#""status":{"v":"UP"}"#))
            .expect(400, "instance.status"),
        row("json_overridden_status_bool", "POST", REGISTER)
            .json(json_with(r#""overriddenStatus":"UNKNOWN""#, r#""overriddenStatus":true"#))
            .expect(400, "instance.overriddenStatus"),
        row("json_host_name_object", "POST", REGISTER)
            .json(json_with(r#""hostName":"127.0.0.1""#, r#""hostName":{}"#))
            .expect(400, "instance.hostName"),
        row("json_metadata_array", "POST", REGISTER)
            .json(json_with(r#""metadata":{"zone":"zone-a"}"#, r#""metadata":["zone-a"]"#))
            .expect(400, "instance.metadata"),
        row("json_metadata_nested", "POST", REGISTER)
            .json(json_with(r#""zone":"zone-a""#, r#""zone":{"a":"b"}"#))
            .expect(400, "instance.metadata.zone"),
        row("json_lease_string", "POST", REGISTER)
            .json(json_with(r#""leaseInfo":{"#, r#""leaseInfo":"90","x":{"#))
            .expect(400, "instance.leaseInfo"),
        row("json_lease_duration_text", "POST", REGISTER)
            .json(json_with(r#""durationInSecs":90"#, r#""durationInSecs":"ninety""#))
            .expect(400, "instance.leaseInfo.durationInSecs"),
        row("json_lease_duration_overflow", "POST", REGISTER)
            .json(json_with(r#""durationInSecs":90"#, r#""durationInSecs":1e20"#))
            .expect(400, "instance.leaseInfo.durationInSecs"),
        row("json_dirty_timestamp_text", "POST", REGISTER)
            .json(json_with(r#""lastDirtyTimestamp":"1700000000000""#, r#""lastDirtyTimestamp":"yesterday""#))
            .expect(400, "instance.lastDirtyTimestamp"),
        row("json_country_fraction", "POST", REGISTER)
            .json(json_with(r#""countryId":1"#, r#""countryId":1.5"#))
            .expect(400, "instance.countryId"),
        row("json_data_center_string", "POST", REGISTER)
            .json(json_with(
                r#""dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"}"#,
                r#""dataCenterInfo":"MyOwn""#,
            ))
            .expect(400, "instance.dataCenterInfo"),
        row("json_data_center_unknown_name", "POST", REGISTER)
            .json(json_with(r#""name":"MyOwn""#, r#""name":"Mars""#))
            .expect(400, "unknown data center name"),
        // --- missing or inconsistent required fields ----------------------------------------
        row("json_missing_app", "POST", REGISTER)
            .json(json_with(r#""app":"ORDERS","#, ""))
            .expect(400, "Missing appName"),
        row("json_blank_app", "POST", REGISTER)
            .json(json_with(r#""app":"ORDERS""#, r#""app":"  ""#))
            .expect(400, "Missing appName"),
        row("json_missing_host_name", "POST", REGISTER)
            .json(json_with(r#""hostName":"127.0.0.1","#, ""))
            .expect(400, "Missing hostname"),
        row("json_missing_id_and_host", "POST", REGISTER)
            .json(json_with(r#""instanceId":"hostile-1","hostName":"127.0.0.1","#, ""))
            .expect(400, "Missing instanceId"),
        row("json_missing_ip", "POST", REGISTER)
            .json(json_with(r#""ipAddr":"127.0.0.1","#, ""))
            .expect(400, "Missing ip address"),
        row("json_missing_data_center", "POST", REGISTER)
            .json(json_with(
                r#""dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"},"#,
                "",
            ))
            .expect(400, "Missing dataCenterInfo"),
        row("json_missing_data_center_name", "POST", REGISTER)
            .json(json_with(r#","name":"MyOwn""#, ""))
            .expect(400, "Missing dataCenterInfo Name"),
        row("json_app_mismatch", "POST", REGISTER)
            .json(json_with(r#""app":"ORDERS""#, r#""app":"BILLING""#))
            .expect(400, "Mismatched appName, expecting ORDERS but was BILLING"),
        row("json_id_control_char", "POST", REGISTER)
            .json(json_with(r#""instanceId":"hostile-1""#, r#""instanceId":"hostile\u0000-1""#))
            .expect(400, "Invalid instanceId: control characters"),
        row("json_app_control_char", "POST", "/eureka/apps/ORDERS%09")
            .json(json_with(r#""app":"ORDERS""#, r#""app":"ORDERS\t""#))
            .expect(400, "control characters"),
        row("xml_id_control_char", "POST", REGISTER)
            .xml(xml_with("<instanceId>hostile-1", "<instanceId>hostile-1&#x1B;"))
            .expect(400, "Invalid instanceId: control characters"),
        // --- duplicate keys -------------------------------------------------------------------
        row("json_duplicate_key", "POST", REGISTER)
            .json(json_with(r#""app":"ORDERS","#, r#""app":"ORDERS","app":"BILLING","#))
            .expect(400, r#"duplicate key "app""#),
        row("json_duplicate_metadata_key", "POST", REGISTER)
            .json(json_with(r#""zone":"zone-a""#, r#""zone":"zone-a","zone":"zone-b""#))
            .expect(400, r#"duplicate key "zone""#),
        row("json_duplicate_root", "POST", REGISTER)
            .json(format!(r#"{{"instance":{valid_instance},"instance":{valid_instance}}}"#))
            .expect(400, r#"duplicate key "instance""#),
        // --- huge and deeply nested documents -------------------------------------------------
        row("json_deep_arrays", "POST", REGISTER)
            .json(deep_json_array)
            .expect(400, "nested deeper than"),
        row("json_deep_objects", "POST", REGISTER)
            .json(deep_json_object)
            .expect(400, "nested deeper than"),
        row("xml_deep_elements", "POST", REGISTER).xml(deep_xml).expect(400, "nested deeper than"),
        row("body_over_limit", "POST", REGISTER)
            .json(format!(r#"{{"instance":{{"hostName":"{}"}}}}"#, "h".repeat(2 * 1024 * 1024)))
            .expect(413, "max-request-body-bytes"),
        row("batch_over_limit", "POST", BATCH)
            .json(batch(&format!(r#"{{"appName":"{}"}}"#, "A".repeat(2 * 1024 * 1024))))
            .expect(413, "max-request-body-bytes"),
        row("gzip_bomb", "POST", REGISTER)
            .json(gzip(&zeros))
            .header("Content-Encoding", "gzip")
            .expect(413, "max-request-body-bytes"),
        row("gzip_bomb_batch", "POST", BATCH)
            .json(gzip(&zeros))
            .header("Content-Encoding", "gzip")
            .expect(413, "max-request-body-bytes"),
        row("gzip_invalid", "POST", REGISTER)
            .json(valid_json.clone())
            .header("Content-Encoding", "gzip")
            .expect(400, "invalid gzip"),
        row("gzip_truncated", "POST", REGISTER)
            .json({
                let g = gzip(valid_json.as_bytes());
                g[..g.len() / 2].to_vec()
            })
            .header("Content-Encoding", "gzip")
            .expect(400, "invalid gzip"),
        row("content_encoding_unknown", "POST", REGISTER)
            .json(valid_json.clone())
            .header("Content-Encoding", "br")
            .expect(415, "Content-Encoding"),
        // --- XML ----------------------------------------------------------------------------
        row("xml_truncated", "POST", REGISTER)
            .xml(&valid_xml[..valid_xml.len() / 2])
            .expect(400, "malformed XML"),
        row("xml_empty_body", "POST", REGISTER).xml("").expect(400, "no root element"),
        row("xml_not_xml", "POST", REGISTER).xml(valid_json.clone()).expect(400, "malformed XML"),
        row("xml_doctype_entity", "POST", REGISTER)
            .xml(format!(r#"<!DOCTYPE instance [<!ENTITY h "127.0.0.1">]>{}"#, xml_with("<hostName>127.0.0.1", "<hostName>&h;")))
            .expect(400, "DOCTYPE"),
        row("xml_billion_laughs", "POST", REGISTER)
            .xml(format!(
                "<!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]>{}",
                (1..10)
                    .map(|i| format!(
                        "<!ENTITY lol{i} \"{}\">",
                        format!("&lol{};", if i == 1 { String::new() } else { (i - 1).to_string() })
                            .repeat(10)
                    ))
                    .collect::<String>(),
                xml_with("<hostName>127.0.0.1", "<hostName>&lol9;")
            ))
            .expect(400, "DOCTYPE"),
        row("xml_external_entity", "POST", REGISTER)
            .xml(format!(
                r#"<?xml version="1.0"?><!DOCTYPE instance [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>{}"#,
                xml_with("<hostName>127.0.0.1", "<hostName>&xxe;")
            ))
            .expect(400, "DOCTYPE"),
        row("xml_undefined_entity", "POST", REGISTER)
            .xml(xml_with("<hostName>127.0.0.1", "<hostName>&nope;"))
            .expect(400, "malformed XML"),
        row("xml_invalid_char_reference", "POST", REGISTER)
            .xml(xml_with("<hostName>127.0.0.1", "<hostName>&#xD800;"))
            .expect(400, "malformed XML"),
        row("xml_mismatched_tags", "POST", REGISTER)
            .xml(xml_with("</hostName>", "</hostname>"))
            .expect(400, "malformed XML"),
        row("xml_two_roots", "POST", REGISTER)
            .xml(format!("{valid_xml}{valid_xml}"))
            .expect(400, "second root element"),
        row("xml_text_after_root", "POST", REGISTER)
            .xml(format!("{valid_xml}junk"))
            .expect(400, "text outside the root element"),
        row("xml_namespaced_root", "POST", REGISTER)
            .xml(format!(r#"<e:instance xmlns:e="urn:x">{}</e:instance>"#, &valid_xml[10..valid_xml.len() - 11]))
            .expect(400, "expected root 'instance', found 'e:instance'"),
        row("xml_attribute_bad_entity", "POST", REGISTER)
            .xml(xml_with(r#"<port enabled="true">"#, r#"<port enabled="&bogus;">"#))
            .expect(400, "malformed XML"),
        row("xml_wrong_root", "POST", REGISTER)
            .xml("<application><name>ORDERS</name></application>")
            .expect(400, "expected root 'instance'"),
        row("xml_invalid_utf8", "POST", REGISTER)
            .xml([&valid_xml.as_bytes()[..40], b"\xc3\x28", &valid_xml.as_bytes()[40..]].concat())
            .expect(400, "not UTF-8"),
        row("xml_port_text", "POST", REGISTER)
            .xml(xml_with(">8080<", ">eighty<"))
            .expect(400, "instance.port"),
        row("xml_lease_text", "POST", REGISTER)
            .xml(xml_with("<durationInSecs>90<", "<durationInSecs>ninety<"))
            .expect(400, "instance.leaseInfo.durationInSecs"),
        row("xml_metadata_nested", "POST", REGISTER)
            .xml(xml_with("<zone>zone-a</zone>", "<zone><a>b</a></zone>"))
            .expect(400, "instance.metadata.zone"),
        row("xml_duplicate_element", "POST", REGISTER)
            .xml(xml_with("<app>ORDERS</app>", "<app>ORDERS</app><app>BILLING</app>"))
            .expect(400, "duplicate element <app>"),
        row("xml_duplicate_metadata", "POST", REGISTER)
            .xml(xml_with("<zone>zone-a</zone>", "<zone>zone-a</zone><zone>zone-b</zone>"))
            .expect(400, "duplicate element <zone>"),
        row("xml_missing_host_name", "POST", REGISTER)
            .xml(xml_with("<hostName>127.0.0.1</hostName>", ""))
            .expect(400, "Missing hostname"),
        row("xml_app_mismatch", "POST", REGISTER)
            .xml(xml_with("<app>ORDERS</app>", "<app>BILLING</app>"))
            .expect(400, "Mismatched appName"),
        // --- content types ---------------------------------------------------------------------
        row("content_type_missing", "POST", REGISTER)
            .header("X-Nothing", "1")
            .expect(415, "missing Content-Type"),
        row("content_type_text_plain", "POST", REGISTER)
            .body("text/plain", valid_json.clone())
            .expect(415, "unsupported Content-Type 'text/plain'"),
        row("content_type_multipart", "POST", REGISTER)
            .body("multipart/form-data; boundary=x", format!("--x\r\n\r\n{valid_json}\r\n--x--"))
            .expect(415, "unsupported Content-Type 'multipart/form-data'"),
        row("content_type_utf16", "POST", REGISTER)
            .body("application/json; charset=utf-16", valid_json.clone())
            .expect(415, "unsupported charset 'utf-16'"),
        row("batch_as_xml", "POST", BATCH)
            .xml("<replicationList/>")
            .expect(415, "JSON"),
        // --- status and action values ----------------------------------------------------------
        row("override_bogus", "PUT", "/eureka/apps/ORDERS/o-1/status?value=BOGUS")
            .expect(400, "invalid status in 'value': 'BOGUS'"),
        row("override_lower_case", "PUT", "/eureka/apps/ORDERS/o-1/status?value=up")
            .expect(400, "invalid status in 'value': 'up'"),
        row("override_missing_value", "PUT", "/eureka/apps/ORDERS/o-1/status")
            .expect(400, "missing query parameter 'value'"),
        row("override_empty_value", "PUT", "/eureka/apps/ORDERS/o-1/status?value=")
            .expect(400, "missing query parameter 'value'"),
        row("override_bad_encoding", "PUT", "/eureka/apps/ORDERS/o-1/status?value=%FF")
            .expect(400, "invalid status in 'value'"),
        row("override_bad_dirty", "PUT", "/eureka/apps/ORDERS/o-1/status?value=UP&lastDirtyTimestamp=abc")
            .expect(400, "invalid lastDirtyTimestamp 'abc'"),
        row("override_delete_bogus", "DELETE", "/eureka/apps/ORDERS/o-1/status?value=BOGUS")
            .expect(400, "invalid status in 'value': 'BOGUS'"),
        row("override_reason_too_long", "PUT", format!("/eureka/apps/ORDERS/o-1/status?value=DOWN&reason={}", "r".repeat(501)))
            .expect(400, "invalid reason"),
        row("override_delete_reason_newline", "DELETE", "/eureka/apps/ORDERS/o-1/status?reason=a%0Ab")
            .expect(400, "invalid reason"),
        row("cancel_reason_control", "DELETE", "/eureka/apps/ORDERS/o-1?reason=%07")
            .expect(400, "invalid reason"),
        row("watch_since_text", "GET", "/eureka/watch?since=abc")
            .expect(400, "invalid since 'abc'"),
        row("api_outside_its_context", "GET", "/apps/ORDERS")
            .expect(404, "the Eureka API is under /eureka/"),
        row("renew_dirty_text", "PUT", "/eureka/apps/ORDERS/o-1?lastDirtyTimestamp=abc")
            .expect(400, "invalid lastDirtyTimestamp 'abc'"),
        row("renew_dirty_negative", "PUT", "/eureka/apps/ORDERS/o-1?lastDirtyTimestamp=-5")
            .expect(400, "invalid lastDirtyTimestamp '-5'"),
        row("renew_dirty_overflow", "PUT", "/eureka/apps/ORDERS/o-1?lastDirtyTimestamp=99999999999999999999999")
            .expect(400, "invalid lastDirtyTimestamp"),
        row("renew_overridden_bogus", "PUT", "/eureka/apps/ORDERS/o-1?overriddenstatus=BOGUS")
            .expect(400, "invalid status in 'overriddenstatus'"),
        row("delta_since_text", "GET", "/eureka/apps/delta?since=abc")
            .expect(400, "invalid since 'abc'"),
        row("delta_wait_text", "GET", "/eureka/apps/delta?since=1&wait=soon")
            .expect(400, "invalid wait 'soon'"),
        row("drain_wait_text", "POST", "/eureka/apps/ORDERS/o-1/drain?wait=soon")
            .expect(400, "invalid wait 'soon'"),
        row("metadata_empty_key", "PUT", "/eureka/apps/ORDERS/o-1/metadata?=x")
            .expect(400, "metadata key"),
        row("client_id_too_long", "GET", "/eureka/apps")
            .header("X-Eureka-Client-Id", "c".repeat(300))
            .expect(400, "invalid X-Eureka-Client-Id"),
        // --- replication batches ---------------------------------------------------------------
        row("batch_not_json", "POST", BATCH).json("Register ORDERS").expect(400, "malformed JSON"),
        row("batch_wrong_root", "POST", BATCH)
            .json(r#"{"responseList":[]}"#)
            .expect(400, "expected root 'replicationList'"),
        row("batch_item_not_object", "POST", BATCH)
            .json(batch("42"))
            .expect(400, "'replicationList[0]': expected an object"),
        row("batch_unknown_action", "POST", BATCH)
            .json(batch(r#"{"appName":"ORDERS","id":"o-1","action":"Explode"}"#))
            .expect(400, "unknown replication action \"Explode\""),
        row("batch_missing_action", "POST", BATCH)
            .json(batch(r#"{"appName":"ORDERS","id":"o-1"}"#))
            .expect(400, "replicationList[0].action"),
        row("batch_action_lower_case", "POST", BATCH)
            .json(batch(r#"{"appName":"ORDERS","id":"o-1","action":"cancel"}"#))
            .expect(400, "unknown replication action"),
        row("batch_bogus_status", "POST", BATCH)
            .json(batch(r#"{"appName":"ORDERS","id":"o-1","action":"StatusUpdate","status":"BOGUS"}"#))
            .expect(400, "replicationList[0].status"),
        row("batch_bogus_overridden_status", "POST", BATCH)
            .json(batch(r#"{"appName":"ORDERS","id":"o-1","action":"Heartbeat","overriddenStatus":"BOGUS"}"#))
            .expect(400, "replicationList[0].overriddenStatus"),
        row("batch_dirty_text", "POST", BATCH)
            .json(batch(r#"{"appName":"ORDERS","id":"o-1","action":"Heartbeat","lastDirtyTimestamp":"abc"}"#))
            .expect(400, "replicationList[0].lastDirtyTimestamp"),
        row("batch_bad_instance", "POST", BATCH)
            .json(register_item(&valid_instance.replace(r#""$":8080"#, r#""$":"x""#)))
            .expect(400, "replicationList[0].instanceInfo.port.$"),
        row("batch_duplicate_key", "POST", BATCH)
            .json(batch(r#"{"appName":"ORDERS","id":"o-1","action":"Heartbeat","action":"Cancel"}"#))
            .expect(400, r#"duplicate key "action""#),
        row("batch_register_without_instance", "POST", BATCH)
            .json(batch(r#"{"appName":"ORDERS","id":"o-9","action":"Register"}"#))
            .expect(200, r#"{"responseList":[{"statusCode":400}]}"#),
        row("batch_register_control_char_id", "POST", BATCH)
            .json(register_item(&valid_instance.replace("hostile-1", "hostile\\u0007")))
            .expect(200, r#"{"responseList":[{"statusCode":400}]}"#),
        row("batch_register_invalid_instance", "POST", BATCH)
            .json(register_item(&valid_instance.replace(r#""ipAddr":"127.0.0.1","#, "")))
            .expect(200, r#"{"responseList":[{"statusCode":400}]}"#),
        // --- paths ---------------------------------------------------------------------------------
        row("path_dot_dot", "DELETE", "/eureka/apps/ORDERS/..")
            .expect(400, "dot segment"),
        row("path_dot_dot_encoded", "DELETE", "/eureka/apps/ORDERS/%2e%2E")
            .expect(400, "dot segment"),
        row("path_dot_dot_app", "GET", "/eureka/apps/../ORDERS")
            .expect(400, "dot segment"),
        row("path_encoded_slash", "DELETE", "/eureka/apps/ORDERS/o-1%2Fstatus")
            .expect(404, "instance o-1/status"),
        row("path_nul", "DELETE", "/eureka/apps/ORDERS/o-1%00")
            .expect(400, "control character"),
        row("path_control_char", "PUT", "/eureka/apps/ORDERS/o-1%0Ax/status?value=UP")
            .expect(400, "control character"),
        row("path_bad_escape", "DELETE", "/eureka/apps/ORDERS/o%ZZ1")
            .expect(400, "percent"),
        row("path_truncated_escape", "DELETE", "/eureka/apps/ORDERS/o-1%2")
            .expect(400, "percent"),
        row("path_invalid_utf8", "DELETE", "/eureka/apps/ORDERS/o-1%C3%28")
            .expect(400, "UTF-8"),
        // A request head over `server.max-http-request-header-size` (8 KiB) is refused by the
        // listener before any handler runs.
        row("path_overlong_id", "GET", format!("/eureka/apps/ORDERS/{long_id}")).expect(431, ""),
        row("path_overlong_app_register", "POST", format!("/eureka/apps/{long_id}"))
            .json(valid_json.clone())
            .expect(431, ""),
        // Under that, the message quoting the id is cut to a readable length.
        row("path_long_id", "GET", format!("/eureka/apps/ORDERS/{}", &long_id[..6 * 1024]))
            .expect(404, "instance xxxxxxxx"),
        row("path_long_app_register", "POST", format!("/eureka/apps/{}", &long_id[..6 * 1024]))
            .json(valid_json.clone())
            .expect(400, "Mismatched appName, expecting XXXXXXXX"),
        row("path_trailing_junk", "PUT", "/eureka/apps/ORDERS/o-1/status/extra?value=UP")
            .expect(404, "no Eureka resource"),
        row("path_unknown_resource", "GET", "/eureka/nothing").expect(404, "no Eureka resource"),
        row("path_raw_space", "GET", "/eureka/apps/ORDERS/o 1").expect(400, ""),
        // --- methods --------------------------------------------------------------------------------
        row("method_delete_apps", "DELETE", "/eureka/apps").expect(405, "allowed: GET"),
        row("method_post_instance", "POST", "/eureka/apps/ORDERS/o-1")
            .json(valid_json.clone())
            .expect(405, "allowed: GET, PUT, DELETE"),
        row("method_get_status", "GET", "/eureka/apps/ORDERS/o-1/status")
            .expect(405, "allowed: PUT, DELETE"),
        row("method_patch_app", "PATCH", "/eureka/apps/ORDERS").expect(405, "allowed: GET, POST"),
        row("method_get_batch", "GET", BATCH).expect(405, "allowed: POST"),
        row("method_delete_metadata", "DELETE", "/eureka/apps/ORDERS/o-1/metadata?a=b")
            .expect(405, "allowed: PUT"),
        // --- headers and framing ----------------------------------------------------------------
        row("header_oversized", "GET", "/eureka/apps")
            .header("X-Big", "b".repeat(512 * 1024))
            .expect(431, ""),
        row("header_too_many", "GET", "/eureka/apps")
            .tap(|mut r| {
                for i in 0..200 {
                    r = r.header(&format!("X-H{i}"), "v");
                }
                r
            })
            .expect(431, ""),
        row("content_length_not_a_number", "POST", REGISTER)
            .json(valid_json.clone())
            .header("Content-Length", "ten")
            .raw()
            .expect(400, ""),
        row("content_length_conflicting", "POST", REGISTER)
            .json(valid_json.clone())
            .header("Content-Length", valid_json.len().to_string())
            .header("Content-Length", (valid_json.len() + 1).to_string())
            .raw()
            .expect(400, ""),
        row("content_length_longer_than_body", "POST", REGISTER)
            .json(valid_json.clone())
            .header("Content-Length", (valid_json.len() + 100).to_string())
            .raw()
            .half_close()
            .expect(400, "could not read request body"),
        row("content_length_shorter_than_body", "POST", REGISTER)
            .json(valid_json.clone())
            .header("Content-Length", (valid_json.len() - 10).to_string())
            .raw()
            .expect(400, "malformed JSON"),
        row("chunked_invalid", "POST", REGISTER)
            .header("Content-Type", JSON)
            .header("Transfer-Encoding", "chunked")
            .tap(|mut r| {
                r.body = b"zz\r\n{}\r\n0\r\n\r\n".to_vec();
                r
            })
            .raw()
            .expect(400, ""),
        row("content_length_over_limit", "POST", REGISTER)
            .json(valid_json.clone())
            .header("Content-Length", "99999999999")
            .raw()
            .expect(413, "max-request-body-bytes"),
    ]
}

impl Row {
    fn tap(self, f: impl FnOnce(Row) -> Row) -> Row {
        f(self)
    }

    fn half_close(mut self) -> Self {
        self.half_close = true;
        self
    }

    /// Sends the headers as given, without adding a `Content-Length` of our own.
    fn raw(mut self) -> Self {
        self.raw_body = true;
        self
    }
}

/// A parsed answer.
struct Answer {
    status: u16,
    body: String,
}

/// Sends one row over a fresh connection (`Connection: close`) and reads the answer to EOF.
async fn send(addr: std::net::SocketAddr, row: &Row) -> Result<Answer, String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let mut head =
        format!("{} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n", row.method, row.path)
            .into_bytes();
    for (name, value) in &row.headers {
        head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !row.raw_body {
        head.extend_from_slice(format!("Content-Length: {}\r\n", row.body.len()).as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    // The server may answer (and close) before reading everything, e.g. a 413 on the declared
    // length or a 431 on the head: a failed write is not a failed row, the answer decides.
    let _ = stream.write_all(&head).await;
    let _ = stream.write_all(&row.body).await;
    if row.half_close {
        let _ = stream.shutdown().await;
    }
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw)).await;
    match read {
        Err(_) => return Err("no answer within 20 s".into()),
        Ok(Err(e)) if raw.is_empty() => return Err(format!("read: {e}")),
        Ok(_) => {}
    }
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Result<Answer, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete answer head in {} bytes", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line: {head}"))?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    let mut body = raw[end + 4..].to_vec();
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Answer { status, body: String::from_utf8_lossy(&body).into_owned() })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").ok_or("bad chunk")?;
        let size_text = std::str::from_utf8(&data[..line_end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("chunk size {size_text:?}: {e}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or("short chunk")?);
        data = data.get(size + 2..).ok_or("short chunk")?;
    }
}

/// Everything the registry holds that a request could change, as bytes.
fn snapshot(state: &SharedState) -> Vec<u8> {
    let snap = state.registry.snapshot();
    let mut out = format!("version {}\n", state.registry.version()).into_bytes();
    out.extend_from_slice(&json::encode_applications(&snap.apps));
    out.push(b'\n');
    out.extend_from_slice(&xml::encode_applications(&snap.apps));
    out.push(b'\n');
    let now = state.clock.now_ms();
    out.extend_from_slice(format!("{:?}\n", state.registry.status_overrides(now)).as_bytes());
    out.extend_from_slice(format!("{:?}\n", state.registry.lease_timings()).as_bytes());
    out
}

async fn seed(s: &TestServer) {
    let http = reqwest::Client::new();
    let register = |app: &str, ctype: &str, body: String| {
        http.post(s.url(&format!("apps/{app}"))).header("Content-Type", ctype).body(body).send()
    };
    let amazon = java_json("ORDERS", "o-2", 8081).replace(
        r#""dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"}"#,
        r#""dataCenterInfo":{"@class":"com.netflix.appinfo.AmazonInfo","name":"Amazon","metadata":{"instance-id":"i-123","availability-zone":"eu-1a"}}"#,
    );
    let answers = [
        register("ORDERS", JSON, java_json("ORDERS", "o-1", 8080)).await,
        register("ORDERS", JSON, amazon).await,
        register("BILLING", XML, java_xml("BILLING", "b-1", 9090)).await,
        register("NODE", JSON, node_json("NODE", "n-1", 7070)).await,
        http.put(s.url("apps/ORDERS/o-1/status?value=OUT_OF_SERVICE")).send().await,
        http.put(s.url("apps/BILLING/b-1/metadata?version=2&owner=team_a")).send().await,
    ];
    for answer in answers {
        let answer = answer.unwrap();
        assert!(answer.status().is_success(), "seeding: {} {}", answer.url(), answer.status());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_request_gets_its_4xx_and_leaves_the_registry_untouched() {
    let s = TestServer::start_with(ServerConfig::default(), Clock::System).await;
    seed(&s).await;
    let mut before = snapshot(&s.state);
    let rows = rows();
    assert!(rows.len() >= 60, "the table has {} rows", rows.len());
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for row in &rows {
        assert!(names.insert(row.name), "duplicate row name {}", row.name);
        match send(s.addr, row).await {
            Err(e) => failures.push(format!("{}: {e}", row.name)),
            Ok(answer) => {
                let short: String = answer.body.chars().take(300).collect();
                if answer.status != row.status {
                    failures.push(format!(
                        "{}: status {} (expected {}): {short:?}",
                        row.name, answer.status, row.status
                    ));
                } else if !answer.body.contains(row.message) {
                    failures
                        .push(format!("{}: message {short:?} lacks {:?}", row.name, row.message));
                } else if answer.body.len() > 2048 {
                    failures.push(format!(
                        "{}: a {}-byte error message",
                        row.name,
                        answer.body.len()
                    ));
                }
            }
        }
        let now = snapshot(&s.state);
        if now != before {
            failures.push(format!("{}: changed the registry", row.name));
            before = now;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    // The server still serves after the whole table.
    let after = reqwest::get(s.url("apps")).await.unwrap();
    assert_eq!(after.status(), 200);
}
