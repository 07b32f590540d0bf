//! The compact instance form (`X-Eureka-Accept: compact`), in JSON and XML: what Java servers
//! answer with their "mini" bean codecs (`JacksonJsonMini`, `JacksonXmlMini`).
//!
//! An instance keeps only `instanceId`, `app`, `ipAddr`, `vipAddress`, `secureVipAddress`,
//! `dataCenterInfo`, `hostName`, `status`, `lastUpdatedTimestamp` (a number here), `actionType`,
//! `asgName`, `port` and `securePort`, in that order, absent ones omitted. AWS data-center
//! metadata is cut to `instance-id`, `public-ipv4`, `public-hostname`, `local-ipv4` and
//! `availability-zone`, in the order Java's `HashMap` iterates them. Unlike the full form, the
//! `applications` envelope puts `application` first and the version and hash last. The shape is
//! checked against captures of a Spring Cloud Eureka server (`tests/fixtures/compact/`).

use std::collections::BTreeMap;

use crate::instance::{DataCenterClass, DataCenterInfo, InstanceInfo};
use crate::json::{write_port as json_port, write_str, write_u64};
use crate::xml::{leaf, number_leaf, write_port as xml_port};
use crate::{Application, Applications, DocumentFrame, Format};

/// The AWS metadata keys the compact form keeps.
const MINI_AMAZON_KEYS: [&str; 5] =
    ["instance-id", "public-ipv4", "public-hostname", "local-ipv4", "availability-zone"];

/// Bytes reserved per instance when pre-sizing a document.
const INSTANCE_SIZE_HINT: usize = 512;

/// The bean codec's marker for every data-center class but Amazon's.
const DEFAULT_DATA_CENTER_CLASS: &str = "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo";

/// Encodes one instance wrapped in its `instance` root.
pub fn encode_instance(format: Format, info: &InstanceInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(INSTANCE_SIZE_HINT);
    match format {
        Format::Json => {
            out.extend_from_slice(b"{\"instance\":");
            write_json_instance(&mut out, info);
            out.push(b'}');
        }
        Format::Xml => write_xml_instance(&mut out, info),
    }
    out
}

/// Encodes one application wrapped in its `application` root.
pub fn encode_application(format: Format, app: &Application) -> Vec<u8> {
    match format {
        Format::Json => {
            let mut out = Vec::with_capacity(32 + app.instances.len() * INSTANCE_SIZE_HINT);
            out.extend_from_slice(b"{\"application\":");
            out.extend_from_slice(&encode_application_entry(format, app));
            out.push(b'}');
            out
        }
        Format::Xml => encode_application_entry(format, app),
    }
}

/// One application as it appears inside an `applications` document.
pub fn encode_application_entry(format: Format, app: &Application) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + app.instances.len() * INSTANCE_SIZE_HINT);
    match format {
        Format::Json => {
            out.extend_from_slice(b"{\"name\":");
            write_str(&mut out, &app.name);
            out.extend_from_slice(b",\"instance\":[");
            for (i, info) in app.instances.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_instance(&mut out, info);
            }
            out.extend_from_slice(b"]}");
        }
        Format::Xml => {
            out.extend_from_slice(b"<application>");
            leaf(&mut out, "name", &app.name);
            for info in &app.instances {
                write_xml_instance(&mut out, info);
            }
            out.extend_from_slice(b"</application>");
        }
    }
    out
}

/// Encodes a registry document (full, delta or VIP subset) wrapped in its `applications` root.
pub fn encode_applications(format: Format, apps: &Applications) -> Vec<u8> {
    let frame = applications_frame(format, &apps.versions_delta, &apps.apps_hashcode);
    let mut out = frame.head;
    out.reserve(apps.instances().count().saturating_mul(INSTANCE_SIZE_HINT) + frame.tail.len());
    for (i, app) in apps.applications.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(frame.separator);
        }
        out.extend_from_slice(&encode_application_entry(format, app));
    }
    out.extend_from_slice(&frame.tail);
    out
}

/// The frame of a compact `applications` document: the version and hash go in the tail.
pub fn applications_frame(
    format: Format,
    versions_delta: &str,
    apps_hashcode: &str,
) -> DocumentFrame {
    match format {
        Format::Json => {
            let mut tail = Vec::with_capacity(64 + versions_delta.len() + apps_hashcode.len());
            tail.extend_from_slice(b"],\"versions__delta\":");
            write_str(&mut tail, versions_delta);
            tail.extend_from_slice(b",\"apps__hashcode\":");
            write_str(&mut tail, apps_hashcode);
            tail.extend_from_slice(b"}}");
            DocumentFrame {
                head: b"{\"applications\":{\"application\":[".to_vec(),
                separator: b",",
                tail,
            }
        }
        Format::Xml => {
            let mut tail = Vec::with_capacity(96 + versions_delta.len() + apps_hashcode.len());
            leaf(&mut tail, "versions__delta", versions_delta);
            leaf(&mut tail, "apps__hashcode", apps_hashcode);
            tail.extend_from_slice(b"</applications>");
            DocumentFrame { head: b"<applications>".to_vec(), separator: b"", tail }
        }
    }
}

fn write_json_instance(out: &mut Vec<u8>, info: &InstanceInfo) {
    out.push(b'{');
    if let Some(id) = &info.instance_id {
        out.extend_from_slice(b"\"instanceId\":");
        write_str(out, id);
        out.push(b',');
    }
    out.extend_from_slice(b"\"app\":");
    write_str(out, &info.app);
    out.extend_from_slice(b",\"ipAddr\":");
    write_str(out, &info.ip_addr);
    if let Some(vip) = &info.vip_address {
        out.extend_from_slice(b",\"vipAddress\":");
        write_str(out, vip);
    }
    if let Some(vip) = &info.secure_vip_address {
        out.extend_from_slice(b",\"secureVipAddress\":");
        write_str(out, vip);
    }
    if let Some(dc) = &info.data_center_info {
        out.extend_from_slice(b",\"dataCenterInfo\":{\"@class\":");
        write_str(out, data_center_class(dc));
        if let Some(name) = dc.name {
            out.extend_from_slice(b",\"name\":");
            write_str(out, name.as_str());
        }
        if dc.class == DataCenterClass::Amazon {
            out.extend_from_slice(b",\"metadata\":{");
            for (i, (key, value)) in mini_amazon_metadata(&dc.metadata).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_str(out, value);
            }
            out.push(b'}');
        }
        out.push(b'}');
    }
    out.extend_from_slice(b",\"hostName\":");
    write_str(out, &info.host_name);
    out.extend_from_slice(b",\"status\":");
    write_str(out, info.status.as_str());
    out.extend_from_slice(b",\"lastUpdatedTimestamp\":");
    write_u64(out, info.last_updated_timestamp);
    if let Some(action) = info.action_type {
        out.extend_from_slice(b",\"actionType\":");
        write_str(out, action.as_str());
    }
    if let Some(asg) = &info.asg_name {
        out.extend_from_slice(b",\"asgName\":");
        write_str(out, asg);
    }
    out.extend_from_slice(b",\"port\":");
    json_port(out, info.port);
    out.extend_from_slice(b",\"securePort\":");
    json_port(out, info.secure_port);
    out.push(b'}');
}

fn write_xml_instance(out: &mut Vec<u8>, info: &InstanceInfo) {
    out.extend_from_slice(b"<instance>");
    if let Some(id) = &info.instance_id {
        leaf(out, "instanceId", id);
    }
    leaf(out, "app", &info.app);
    leaf(out, "ipAddr", &info.ip_addr);
    if let Some(vip) = &info.vip_address {
        leaf(out, "vipAddress", vip);
    }
    if let Some(vip) = &info.secure_vip_address {
        leaf(out, "secureVipAddress", vip);
    }
    if let Some(dc) = &info.data_center_info {
        out.extend_from_slice(b"<dataCenterInfo class=\"");
        out.extend_from_slice(data_center_class(dc).as_bytes());
        out.extend_from_slice(b"\">");
        if let Some(name) = dc.name {
            leaf(out, "name", name.as_str());
        }
        if dc.class == DataCenterClass::Amazon {
            out.extend_from_slice(b"<metadata>");
            for (key, value) in mini_amazon_metadata(&dc.metadata) {
                leaf(out, key, value);
            }
            out.extend_from_slice(b"</metadata>");
        }
        out.extend_from_slice(b"</dataCenterInfo>");
    }
    leaf(out, "hostName", &info.host_name);
    leaf(out, "status", info.status.as_str());
    number_leaf(out, "lastUpdatedTimestamp", info.last_updated_timestamp);
    if let Some(action) = info.action_type {
        leaf(out, "actionType", action.as_str());
    }
    if let Some(asg) = &info.asg_name {
        leaf(out, "asgName", asg);
    }
    xml_port(out, "port", info.port);
    xml_port(out, "securePort", info.secure_port);
    out.extend_from_slice(b"</instance>");
}

/// The bean codec names Amazon's class, and writes the default marker for every other one.
fn data_center_class(dc: &DataCenterInfo) -> &'static str {
    match dc.class {
        DataCenterClass::Amazon => DataCenterClass::Amazon.java_class(),
        DataCenterClass::Default | DataCenterClass::MyDataCenter => DEFAULT_DATA_CENTER_CLASS,
    }
}

/// The kept AWS entries in the order a Java `HashMap` holding the whole metadata iterates
/// them: by bucket, for the table size that many entries grow the map to.
fn mini_amazon_metadata(
    metadata: &BTreeMap<String, String>,
) -> impl Iterator<Item = (&'static str, &String)> {
    let buckets = java_hash_map_capacity(metadata.len());
    let mut kept: Vec<(usize, &'static str, &String)> = MINI_AMAZON_KEYS
        .iter()
        .filter_map(|&key| metadata.get(key).map(|v| (java_bucket(key, buckets), key, v)))
        .collect();
    kept.sort_by_key(|&(bucket, key, _)| (bucket, MINI_AMAZON_KEYS.iter().position(|k| *k == key)));
    kept.into_iter().map(|(_, key, value)| (key, value))
}

/// The table size of a `java.util.HashMap` filled by `len` puts: 16, doubled whenever the
/// entries pass three quarters of it.
fn java_hash_map_capacity(len: usize) -> usize {
    let mut capacity = 16usize;
    while len > capacity / 4 * 3 && capacity < 1 << 30 {
        capacity *= 2;
    }
    capacity
}

/// The bucket Java's `HashMap` puts a string key in: `String.hashCode`, spread, masked.
fn java_bucket(key: &str, capacity: usize) -> usize {
    let mut h: u32 = 0;
    for unit in key.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(u32::from(unit));
    }
    let spread = h ^ (h >> 16);
    spread as usize & (capacity - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amazon(len: usize) -> BTreeMap<String, String> {
        let mut m: BTreeMap<String, String> =
            MINI_AMAZON_KEYS.iter().map(|k| (k.to_string(), format!("v-{k}"))).collect();
        for i in m.len()..len {
            m.insert(format!("extra-{i}"), "x".into());
        }
        m
    }

    fn keys(m: &BTreeMap<String, String>) -> Vec<&'static str> {
        mini_amazon_metadata(m).map(|(k, _)| k).collect()
    }

    #[test]
    fn amazon_keys_follow_java_hash_map_order_for_its_size() {
        // Both orders as a Spring Eureka server wrote them (tests/fixtures/compact/).
        assert_eq!(
            keys(&amazon(8)),
            ["public-ipv4", "public-hostname", "instance-id", "local-ipv4", "availability-zone"]
        );
        assert_eq!(
            keys(&amazon(14)),
            ["public-hostname", "instance-id", "local-ipv4", "availability-zone", "public-ipv4"]
        );
    }

    #[test]
    fn hash_map_capacity_grows_past_three_quarters() {
        assert_eq!(java_hash_map_capacity(0), 16);
        assert_eq!(java_hash_map_capacity(12), 16);
        assert_eq!(java_hash_map_capacity(13), 32);
        assert_eq!(java_hash_map_capacity(25), 64);
    }
}
