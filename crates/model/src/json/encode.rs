//! Encoding: compact JSON (no whitespace, no trailing newline) written straight into a
//! pre-sized buffer, in the field order of protocol §2.2, byte for byte what Java's legacy
//! `EurekaJacksonCodec` writes.

use super::lenient::is_placeholder_sid;
use super::EMPTY_MAP_CLASS;
use crate::instance::{DataCenterClass, InstanceInfo, Port};
use crate::replication::{HealthCheckNote, ReplicationList, ReplicationListResponse};
use crate::{Application, Applications, Metadata};

/// Bytes reserved per instance when pre-sizing a registry document.
const INSTANCE_SIZE_HINT: usize = 1024;

/// Encodes `{"instance":{...}}` exactly as the Java legacy codec does.
pub fn encode_instance(info: &InstanceInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(INSTANCE_SIZE_HINT);
    out.extend_from_slice(b"{\"instance\":");
    write_instance(&mut out, info);
    out.push(b'}');
    out
}

/// Encodes `{"application":{"name":...,"instance":[...]}}`; `instance` is always an array.
pub fn encode_application(app: &Application) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + app.instances.len() * INSTANCE_SIZE_HINT);
    out.extend_from_slice(b"{\"application\":");
    write_application(&mut out, app);
    out.push(b'}');
    out
}

/// Encodes `{"applications":{"versions__delta":..,"apps__hashcode":..,"application":[...]}}`.
///
/// The version and hash are written as given; nothing is recomputed.
pub fn encode_applications(apps: &Applications) -> Vec<u8> {
    let count = apps.instances().count();
    let mut out = Vec::with_capacity(
        128 + apps.applications.len() * 64 + count.saturating_mul(INSTANCE_SIZE_HINT),
    );
    out.extend_from_slice(&applications_head(&apps.versions_delta, &apps.apps_hashcode));
    for (i, app) in apps.applications.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(APPLICATIONS_SEPARATOR);
        }
        write_application(&mut out, app);
    }
    out.extend_from_slice(APPLICATIONS_TAIL);
    out
}

/// What [`encode_applications`] writes before the first application.
pub fn applications_head(versions_delta: &str, apps_hashcode: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + versions_delta.len() + apps_hashcode.len());
    out.extend_from_slice(b"{\"applications\":{\"versions__delta\":");
    write_str(&mut out, versions_delta);
    out.extend_from_slice(b",\"apps__hashcode\":");
    write_str(&mut out, apps_hashcode);
    out.extend_from_slice(b",\"application\":[");
    out
}

/// What [`encode_applications`] writes between two applications.
pub const APPLICATIONS_SEPARATOR: &[u8] = b",";
/// What [`encode_applications`] writes after the last application.
pub const APPLICATIONS_TAIL: &[u8] = b"]}}";

/// What [`encode_application_entry`] writes before the first instance.
pub fn application_head(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + name.len());
    out.extend_from_slice(b"{\"name\":");
    write_str(&mut out, name);
    out.extend_from_slice(b",\"instance\":[");
    out
}

/// What [`encode_application_entry`] writes after the last instance.
pub const APPLICATION_TAIL: &[u8] = b"]}";

/// One instance as an element of an application's `instance` array.
pub fn encode_instance_entry(info: &InstanceInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(INSTANCE_SIZE_HINT);
    write_instance(&mut out, info);
    out
}

/// One application as an element of the `application` array of [`encode_applications`].
pub fn encode_application_entry(app: &Application) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + app.instances.len() * INSTANCE_SIZE_HINT);
    write_application(&mut out, app);
    out
}

/// Encodes a peer replication batch `{"replicationList":[...]}` (no root wrapper, nulls omitted).
pub fn encode_replication_list(list: &ReplicationList) -> Vec<u8> {
    let hint = list
        .replication_list
        .iter()
        .map(|item| if item.instance_info.is_some() { INSTANCE_SIZE_HINT } else { 160 })
        .sum::<usize>();
    let mut out = Vec::with_capacity(32 + hint);
    out.extend_from_slice(b"{\"replicationList\":[");
    for (i, item) in list.replication_list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"appName\":");
        write_str(&mut out, &item.app_name);
        out.extend_from_slice(b",\"id\":");
        write_str(&mut out, &item.id);
        if let Some(ts) = item.last_dirty_timestamp {
            out.extend_from_slice(b",\"lastDirtyTimestamp\":");
            write_u64(&mut out, ts);
        }
        if let Some(status) = item.overridden_status {
            out.extend_from_slice(b",\"overriddenStatus\":");
            write_str(&mut out, status.as_str());
        }
        if let Some(status) = item.status {
            out.extend_from_slice(b",\"status\":");
            write_str(&mut out, status.as_str());
        }
        if let Some(info) = &item.instance_info {
            out.extend_from_slice(b",\"instanceInfo\":");
            write_instance(&mut out, info);
        }
        out.extend_from_slice(b",\"action\":");
        write_str(&mut out, item.action.as_str());
        if let Some(note) = &item.health_check {
            write_health_note(&mut out, note);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

/// `,"healthCheck":{"down":..,"reason":..,"since":..,"by":..,"status":..}` (nulls omitted).
fn write_health_note(out: &mut Vec<u8>, note: &HealthCheckNote) {
    out.extend_from_slice(b",\"healthCheck\":{\"down\":");
    out.extend_from_slice(if note.down { b"true" } else { b"false" });
    if let Some(reason) = &note.reason {
        out.extend_from_slice(b",\"reason\":");
        write_str(out, reason);
    }
    if let Some(since) = note.since {
        out.extend_from_slice(b",\"since\":");
        write_u64(out, since);
    }
    if let Some(by) = &note.by {
        out.extend_from_slice(b",\"by\":");
        write_str(out, by);
    }
    if let Some(status) = note.status {
        out.extend_from_slice(b",\"status\":");
        write_str(out, status.as_str());
    }
    out.push(b'}');
}

/// Encodes the answer to a batch, `{"responseList":[{"statusCode":200},...]}`.
pub fn encode_replication_list_response(response: &ReplicationListResponse) -> Vec<u8> {
    let hint = response
        .response_list
        .iter()
        .map(|r| if r.response_entity.is_some() { INSTANCE_SIZE_HINT } else { 24 })
        .sum::<usize>();
    let mut out = Vec::with_capacity(32 + hint);
    out.extend_from_slice(b"{\"responseList\":[");
    for (i, item) in response.response_list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"statusCode\":");
        write_u64(&mut out, u64::from(item.status_code));
        if let Some(info) = &item.response_entity {
            out.extend_from_slice(b",\"responseEntity\":");
            write_instance(&mut out, info);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

fn write_application(out: &mut Vec<u8>, app: &Application) {
    out.extend_from_slice(b"{\"name\":");
    write_str(out, &app.name);
    out.extend_from_slice(b",\"instance\":[");
    for (i, info) in app.instances.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_instance(out, info);
    }
    out.extend_from_slice(b"]}");
}

/// Writes the instance object itself (no `instance` wrapper), fields in §2.2 order.
fn write_instance(out: &mut Vec<u8>, info: &InstanceInfo) {
    out.push(b'{');
    if let Some(id) = &info.instance_id {
        out.extend_from_slice(b"\"instanceId\":");
        write_str(out, id);
        out.push(b',');
    }
    out.extend_from_slice(b"\"hostName\":");
    write_str(out, &info.host_name);
    out.extend_from_slice(b",\"app\":");
    write_str(out, &info.app);
    out.extend_from_slice(b",\"ipAddr\":");
    write_str(out, &info.ip_addr);
    if let Some(sid) = sid_on_wire(info) {
        out.extend_from_slice(b",\"sid\":");
        write_str(out, sid);
    }
    out.extend_from_slice(b",\"status\":");
    write_str(out, info.status.as_str());
    out.extend_from_slice(b",\"overriddenStatus\":");
    write_str(out, info.overridden_status.as_str());
    out.extend_from_slice(b",\"port\":");
    write_port(out, info.port);
    out.extend_from_slice(b",\"securePort\":");
    write_port(out, info.secure_port);
    out.extend_from_slice(b",\"countryId\":");
    write_i64(out, i64::from(info.country_id));
    if let Some(dc) = &info.data_center_info {
        out.extend_from_slice(b",\"dataCenterInfo\":{\"@class\":");
        write_str(out, dc.class.java_class());
        if let Some(name) = dc.name {
            out.extend_from_slice(b",\"name\":");
            write_str(out, name.as_str());
        }
        if dc.class == DataCenterClass::Amazon {
            out.extend_from_slice(b",\"metadata\":");
            write_string_map(out, &dc.metadata);
        }
        out.push(b'}');
    }
    let lease = &info.lease_info;
    out.extend_from_slice(b",\"leaseInfo\":{\"renewalIntervalInSecs\":");
    write_u64(out, u64::from(lease.renewal_interval_in_secs));
    out.extend_from_slice(b",\"durationInSecs\":");
    write_u64(out, u64::from(lease.duration_in_secs));
    out.extend_from_slice(b",\"registrationTimestamp\":");
    write_u64(out, lease.registration_timestamp);
    out.extend_from_slice(b",\"lastRenewalTimestamp\":");
    write_u64(out, lease.last_renewal_timestamp);
    out.extend_from_slice(b",\"evictionTimestamp\":");
    write_u64(out, lease.eviction_timestamp);
    out.extend_from_slice(b",\"serviceUpTimestamp\":");
    write_u64(out, lease.service_up_timestamp);
    out.extend_from_slice(b"},\"metadata\":");
    if info.metadata.is_empty() {
        out.extend_from_slice(b"{\"@class\":");
        write_str(out, EMPTY_MAP_CLASS);
        out.push(b'}');
    } else {
        write_string_map(out, &info.metadata);
    }
    let optional: [(&[u8], &Option<String>); 7] = [
        (b",\"appGroupName\":", &info.app_group_name),
        (b",\"homePageUrl\":", &info.home_page_url),
        (b",\"statusPageUrl\":", &info.status_page_url),
        (b",\"healthCheckUrl\":", &info.health_check_url),
        (b",\"secureHealthCheckUrl\":", &info.secure_health_check_url),
        (b",\"vipAddress\":", &info.vip_address),
        (b",\"secureVipAddress\":", &info.secure_vip_address),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out.extend_from_slice(key);
            write_str(out, value);
        }
    }
    out.extend_from_slice(if info.is_coordinating_discovery_server {
        b",\"isCoordinatingDiscoveryServer\":\"true\""
    } else {
        b",\"isCoordinatingDiscoveryServer\":\"false\""
    });
    out.extend_from_slice(b",\"lastUpdatedTimestamp\":\"");
    write_u64(out, info.last_updated_timestamp);
    out.extend_from_slice(b"\",\"lastDirtyTimestamp\":\"");
    write_u64(out, info.last_dirty_timestamp);
    out.push(b'"');
    if let Some(action) = info.action_type {
        out.extend_from_slice(b",\"actionType\":");
        write_str(out, action.as_str());
    }
    if let Some(asg) = &info.asg_name {
        out.extend_from_slice(b",\"asgName\":");
        write_str(out, asg);
    }
    out.push(b'}');
}

pub(crate) fn write_port(out: &mut Vec<u8>, port: Port) {
    out.extend_from_slice(b"{\"$\":");
    write_u64(out, u64::from(port.port));
    out.extend_from_slice(if port.enabled {
        b",\"@enabled\":\"true\"}"
    } else {
        b",\"@enabled\":\"false\"}"
    });
}

fn write_string_map(out: &mut Vec<u8>, map: &Metadata) {
    out.push(b'{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        write_str(out, value);
    }
    out.push(b'}');
}

/// Writes a JSON string literal, escaping as Jackson does: `"`, `\` and control characters
/// (short forms for `\b \t \n \f \r`, `\u00XX` for the rest); everything else raw UTF-8.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => &[],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0x0f)]);
        } else {
            out.extend_from_slice(short);
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends the decimal digits of `n` (shared with the XML encoder).
pub(crate) fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    loop {
        pos -= 1;
        // `n % 10` is always below 10, so the cast cannot truncate.
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[pos..]);
}

/// Appends the decimal digits of `n`, with a leading `-` when negative.
pub(crate) fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// The `sid` to put on the wire: none when unset or the Java placeholders `na`/`unknown`.
pub(crate) fn sid_on_wire(info: &InstanceInfo) -> Option<&str> {
    info.sid.as_deref().filter(|sid| !is_placeholder_sid(sid))
}
