//! JSON codec: byte-for-byte what Java's legacy `EurekaJacksonCodec` writes, and a lenient
//! reader of what real clients send.
//!
//! Encoding writes compact JSON (no whitespace, no trailing newline) straight into a pre-sized
//! buffer, in the field order of protocol §2.2: port numbers, `countryId` and lease fields as
//! numbers, `@enabled`, timestamps and `isCoordinatingDiscoveryServer` as strings, arrays for
//! `application`/`instance` even with one or no element, and `@class` markers.
//!
//! Decoding accepts every variant of §2.6/§2.7 (see [`decode_instance`]): numbers as numbers or
//! numeric strings, booleans as booleans or strings, both `overriddenStatus` spellings, missing
//! fields (Java defaults), `null` as missing, unknown fields (ignored), single objects where
//! arrays are expected.
//!
//! Peer replication batches (§2.9) are JSON only and live here too.

use std::cell::RefCell;
use std::sync::Arc;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::instance::{
    ActionType, DataCenterClass, DataCenterInfo, DataCenterName, InstanceInfo, InstanceStatus,
    LeaseInfo, Port,
};
use crate::replication::{
    HealthCheckNote, ReplicationAction, ReplicationInstance, ReplicationInstanceResponse,
    ReplicationList, ReplicationListResponse,
};
use crate::{Application, Applications, DecodeError, Metadata};

/// The `@class` marker Java writes for an empty metadata map.
pub(crate) const EMPTY_MAP_CLASS: &str = "java.util.Collections$EmptyMap";

/// Nesting depth at which serde_json gives up (its built-in recursion limit).
const JSON_MAX_DEPTH: usize = 128;

/// Bytes reserved per instance when pre-sizing a registry document.
const INSTANCE_SIZE_HINT: usize = 1024;

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

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

fn is_placeholder_sid(sid: &str) -> bool {
    sid == "na" || sid == "unknown"
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// Decodes a register body, `{"instance":{...}}`, leniently.
///
/// Accepted beyond the Java encoder's own output: numbers as numeric strings and vice versa,
/// booleans as JSON booleans or `"true"`/`"false"` in any case, `port.$` as number or string,
/// `@enabled` as boolean or string, a bare number as a port, `overriddenStatus` or
/// `overriddenstatus` (camelCase wins if both), unknown status names (→ `UNKNOWN`), `null` as
/// missing, missing fields (Java defaults; missing timestamps stay 0), unknown fields of any
/// shape (ignored), `dataCenterInfo` without or with an unknown `@class` (inferred from `name`),
/// the legacy lease key `renewalTimestamp`, negative numbers (clamped to 0), an empty string
/// for a number or boolean (the default is kept). `sid` values `na`/`unknown` decode to `None`.
/// Values are kept as sent: `app` is not upper-cased here (see [`InstanceInfo::normalize`]).
///
/// Errors: malformed JSON, a root other than `instance`, a port outside `0..=65535` or not a
/// number, an unknown `dataCenterInfo.name`, a structured value where a scalar is expected
/// (e.g. an object as a metadata value), nesting deeper than serde_json's limit of 128.
pub fn decode_instance(body: &[u8]) -> Result<InstanceInfo, DecodeError> {
    let value = take_root(parse(body)?, "instance")?;
    instance_from_value(value, &Path::root("instance"))
}

/// Decodes `{"application":{"name":...,"instance":[...]}}`; `instance` may be one object.
pub fn decode_application(body: &[u8]) -> Result<Application, DecodeError> {
    let value = take_root(parse(body)?, "application")?;
    application_from_value(value, &Path::root("application"))
}

/// Decodes `{"applications":{...}}`; `application` may be missing (empty), one object or a list.
///
/// The version and hash keys are also accepted with single underscores (`versions_delta`), as
/// written by clients configured with another `escapeCharReplacement`; numbers are accepted for
/// both. A missing key decodes to the empty string.
pub fn decode_applications(body: &[u8]) -> Result<Applications, DecodeError> {
    let value = take_root(parse(body)?, "applications")?;
    let path = Path::root("applications");
    let map = expect_object(value, &path)?;
    let mut apps = Applications::default();
    let (mut version_pref, mut version_alt) = (None, None);
    let (mut hash_pref, mut hash_alt) = (None, None);
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        let p = path.key(&key);
        match key.as_str() {
            "versions__delta" => version_pref = Some(string_value(value, &p)?),
            "versions_delta" => version_alt = Some(string_value(value, &p)?),
            "apps__hashcode" => hash_pref = Some(string_value(value, &p)?),
            "apps_hashcode" => hash_alt = Some(string_value(value, &p)?),
            "application" => {
                for (i, item) in one_or_many(value).into_iter().enumerate() {
                    apps.applications.push(application_from_value(item, &p.index(i))?);
                }
            }
            _ => {}
        }
    }
    apps.versions_delta = version_pref.or(version_alt).unwrap_or_default();
    apps.apps_hashcode = hash_pref.or(hash_alt).unwrap_or_default();
    Ok(apps)
}

/// Decodes a peer replication batch, `{"replicationList":[...]}`.
///
/// `action` is required and must be an exact action name; unknown item keys are ignored.
pub fn decode_replication_list(body: &[u8]) -> Result<ReplicationList, DecodeError> {
    let value = take_root(parse(body)?, "replicationList")?;
    let path = Path::root("replicationList");
    let mut list = ReplicationList::default();
    for (i, item) in one_or_many(value).into_iter().enumerate() {
        list.replication_list.push(replication_item(item, &path.index(i))?);
    }
    Ok(list)
}

/// Decodes the answer to a batch, `{"responseList":[...]}`; `statusCode` is required.
pub fn decode_replication_list_response(
    body: &[u8],
) -> Result<ReplicationListResponse, DecodeError> {
    let value = take_root(parse(body)?, "responseList")?;
    let path = Path::root("responseList");
    let mut response = ReplicationListResponse::default();
    for (i, item) in one_or_many(value).into_iter().enumerate() {
        let p = path.index(i);
        let mut status_code = None;
        let mut response_entity = None;
        for (key, value) in expect_object(item, &p)? {
            if value.is_null() {
                continue;
            }
            let kp = p.key(&key);
            match key.as_str() {
                "statusCode" => {
                    status_code = integer_value(value, &kp)?
                        .map(|n| u16::try_from(n).map_err(|_| kp.invalid("not an HTTP status")))
                        .transpose()?;
                }
                "responseEntity" => response_entity = Some(instance_from_value(value, &kp)?),
                _ => {}
            }
        }
        let status_code = status_code.ok_or_else(|| p.key("statusCode").invalid("missing"))?;
        response.response_list.push(ReplicationInstanceResponse { status_code, response_entity });
    }
    Ok(response)
}

fn parse(body: &[u8]) -> Result<Value, DecodeError> {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = UniqueKeys { duplicate: &duplicate }.deserialize(&mut de).and_then(|value| {
        de.end()?;
        Ok(value)
    });
    parsed.map_err(|e| {
        if let Some(key) = duplicate.take() {
            return DecodeError::Duplicate {
                name: format!("key {}", quoted(&key)),
                location: format!("line {} column {}", e.line(), e.column()),
            };
        }
        let detail = e.to_string();
        if detail.starts_with("recursion limit exceeded") {
            DecodeError::TooDeep(JSON_MAX_DEPTH)
        } else {
            DecodeError::Syntax { format: "JSON", detail }
        }
    })
}

/// Builds a [`Value`] like serde_json does, but refuses an object that repeats a key: Java's
/// codec would keep the last value and other parsers the first, so a repeated key is an
/// ambiguity a sender can exploit, never something a real client sends. The repeated key is
/// left in `duplicate` for the error message.
#[derive(Clone, Copy)]
struct UniqueKeys<'a> {
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        // serde_json's recursion limit still applies: it counts nesting in the deserializer.
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        // serde_json never yields a non-finite float, so the fallback is unreachable in practice.
        Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let message = format!("duplicate key {}", quoted(&key));
                *self.duplicate.borrow_mut() = Some(key);
                return Err(serde::de::Error::custom(message));
            }
            let value = map.next_value_seed(self)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Takes the value under the mandatory root key `name`.
fn take_root(value: Value, name: &'static str) -> Result<Value, DecodeError> {
    let found = match value {
        Value::Object(mut map) => match map.remove(name) {
            Some(inner) => return Ok(inner),
            None => map.keys().next().cloned().unwrap_or_else(|| "(empty object)".into()),
        },
        Value::Array(_) => "(array)".into(),
        Value::String(_) => "(string)".into(),
        Value::Number(_) => "(number)".into(),
        Value::Bool(_) => "(boolean)".into(),
        Value::Null => "(null)".into(),
    };
    Err(DecodeError::WrongRoot { expected: name, found })
}

fn application_from_value(value: Value, path: &Path<'_>) -> Result<Application, DecodeError> {
    let mut app = Application::default();
    for (key, value) in expect_object(value, path)? {
        if value.is_null() {
            continue;
        }
        let p = path.key(&key);
        match key.as_str() {
            "name" => app.name = string_value(value, &p)?,
            "instance" => {
                let items = one_or_many(value);
                app.instances.reserve(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    app.instances.push(Arc::new(instance_from_value(item, &p.index(i))?));
                }
            }
            _ => {}
        }
    }
    Ok(app)
}

fn replication_item(value: Value, path: &Path<'_>) -> Result<ReplicationInstance, DecodeError> {
    let mut app_name = String::new();
    let mut id = String::new();
    let mut last_dirty_timestamp = None;
    let mut overridden_status = None;
    let mut status = None;
    let mut instance_info = None;
    let mut action = None;
    let mut health_check = None;
    for (key, value) in expect_object(value, path)? {
        if value.is_null() {
            continue;
        }
        let p = path.key(&key);
        match key.as_str() {
            "appName" => app_name = string_value(value, &p)?,
            "id" => id = string_value(value, &p)?,
            "lastDirtyTimestamp" => {
                last_dirty_timestamp =
                    integer_value(value, &p)?.map(|n| clamp_u64(n, &p)).transpose()?;
            }
            "overriddenStatus" => overridden_status = Some(strict_status_value(value, &p)?),
            "status" => status = Some(strict_status_value(value, &p)?),
            "instanceInfo" => instance_info = Some(instance_from_value(value, &p)?),
            "action" => {
                let name = string_value(value, &p)?;
                action = Some(ReplicationAction::parse(&name).ok_or_else(|| {
                    p.invalid(format!("unknown replication action {}", quoted(&name)))
                })?);
            }
            "healthCheck" => health_check = Some(health_note(value, &p)?),
            _ => {}
        }
    }
    let action = action.ok_or_else(|| path.key("action").invalid("missing"))?;
    Ok(ReplicationInstance {
        app_name,
        id,
        last_dirty_timestamp,
        overridden_status,
        status,
        instance_info,
        action,
        health_check,
    })
}

/// A batch item's `healthCheck` (sent by eureka-rs peers only).
fn health_note(value: Value, path: &Path<'_>) -> Result<HealthCheckNote, DecodeError> {
    let mut note = HealthCheckNote::default();
    for (key, value) in expect_object(value, path)? {
        if value.is_null() {
            continue;
        }
        let p = path.key(&key);
        match key.as_str() {
            "down" => note.down = bool_value(value, &p)?.unwrap_or(false),
            "reason" => note.reason = Some(string_value(value, &p)?),
            "since" => {
                note.since = integer_value(value, &p)?.map(|n| clamp_u64(n, &p)).transpose()?;
            }
            "by" => note.by = Some(string_value(value, &p)?),
            "status" => note.status = Some(strict_status_value(value, &p)?),
            _ => {}
        }
    }
    Ok(note)
}

/// Reads the instance object itself (the value under `instance`, or a batch's `instanceInfo`).
fn instance_from_value(value: Value, path: &Path<'_>) -> Result<InstanceInfo, DecodeError> {
    let map = expect_object(value, path)?;
    let mut info = InstanceInfo::default();
    let mut data_center = None;
    let (mut overridden_camel, mut overridden_lower) = (None, None);
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        let p = path.key(&key);
        match key.as_str() {
            "instanceId" => info.instance_id = Some(string_value(value, &p)?),
            "hostName" => info.host_name = string_value(value, &p)?,
            "app" => info.app = string_value(value, &p)?,
            "ipAddr" => info.ip_addr = string_value(value, &p)?,
            "sid" => info.sid = decode_sid(string_value(value, &p)?),
            "status" => info.status = status_value(value, &p)?,
            "overriddenStatus" => overridden_camel = Some(status_value(value, &p)?),
            "overriddenstatus" => overridden_lower = Some(status_value(value, &p)?),
            "port" => info.port = port_value(value, &p, Port::DEFAULT_PLAIN)?,
            "securePort" => info.secure_port = port_value(value, &p, Port::DEFAULT_SECURE)?,
            "countryId" => {
                if let Some(n) = integer_value(value, &p)? {
                    info.country_id =
                        i32::try_from(n).map_err(|_| p.invalid("out of range for an int"))?;
                }
            }
            "dataCenterInfo" => data_center = Some(data_center_value(value, &p)?),
            "leaseInfo" => info.lease_info = lease_value(value, &p)?,
            "metadata" => info.metadata = string_map_value(value, &p)?,
            "appGroupName" => info.app_group_name = Some(string_value(value, &p)?),
            "homePageUrl" => info.home_page_url = Some(string_value(value, &p)?),
            "statusPageUrl" => info.status_page_url = Some(string_value(value, &p)?),
            "healthCheckUrl" => info.health_check_url = Some(string_value(value, &p)?),
            "secureHealthCheckUrl" => {
                info.secure_health_check_url = Some(string_value(value, &p)?);
            }
            "vipAddress" => info.vip_address = Some(string_value(value, &p)?),
            "secureVipAddress" => info.secure_vip_address = Some(string_value(value, &p)?),
            "isCoordinatingDiscoveryServer" => {
                if let Some(b) = bool_value(value, &p)? {
                    info.is_coordinating_discovery_server = b;
                }
            }
            "lastUpdatedTimestamp" => {
                if let Some(n) = integer_value(value, &p)? {
                    info.last_updated_timestamp = clamp_u64(n, &p)?;
                }
            }
            "lastDirtyTimestamp" => {
                if let Some(n) = integer_value(value, &p)? {
                    info.last_dirty_timestamp = clamp_u64(n, &p)?;
                }
            }
            "actionType" => {
                info.action_type = match value {
                    Value::String(s) => ActionType::parse(&s),
                    _ => None,
                };
            }
            "asgName" => info.asg_name = Some(string_value(value, &p)?),
            _ => {}
        }
    }
    info.data_center_info = data_center;
    info.overridden_status =
        overridden_camel.or(overridden_lower).unwrap_or(InstanceStatus::Unknown);
    Ok(info)
}

fn port_value(value: Value, path: &Path<'_>, default: Port) -> Result<Port, DecodeError> {
    let mut port = default;
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                if value.is_null() {
                    continue;
                }
                let p = path.key(&key);
                match key.as_str() {
                    "$" => {
                        if let Some(n) = integer_value(value, &p)? {
                            port.port = port_number(n, &p)?;
                        }
                    }
                    "@enabled" => {
                        if let Some(b) = bool_value(value, &p)? {
                            port.enabled = b;
                        }
                    }
                    _ => {}
                }
            }
        }
        // Lenient: a bare number (or numeric string) is taken as the port number.
        other => {
            let p = path.key("$");
            if let Some(n) = integer_value(other, &p)? {
                port.port = port_number(n, &p)?;
            }
        }
    }
    Ok(port)
}

fn data_center_value(value: Value, path: &Path<'_>) -> Result<DataCenterInfo, DecodeError> {
    let mut class = None;
    let mut name = None;
    let mut metadata = None;
    for (key, value) in expect_object(value, path)? {
        if value.is_null() {
            continue;
        }
        let p = path.key(&key);
        match key.as_str() {
            "@class" => class = Some(string_value(value, &p)?),
            "name" => name = parse_data_center_name(&string_value(value, &p)?, &p)?,
            "metadata" => metadata = Some(string_map_value(value, &p)?),
            _ => {}
        }
    }
    let class = data_center_class(class.as_deref(), name);
    let metadata = if class == DataCenterClass::Amazon {
        metadata.unwrap_or_default()
    } else {
        Metadata::new()
    };
    Ok(DataCenterInfo { class, name, metadata })
}

fn lease_value(value: Value, path: &Path<'_>) -> Result<LeaseInfo, DecodeError> {
    let mut lease = LeaseBuilder::default();
    for (key, value) in expect_object(value, path)? {
        if value.is_null() || !LeaseBuilder::is_field(&key) {
            continue;
        }
        let p = path.key(&key);
        if let Some(n) = integer_value(value, &p)? {
            lease.set(&key, n, &p)?;
        }
    }
    Ok(lease.finish())
}

/// Reads a string → string map: scalars become strings, `null` values and `@class` are dropped.
fn string_map_value(value: Value, path: &Path<'_>) -> Result<Metadata, DecodeError> {
    let mut out = Metadata::new();
    for (key, value) in expect_object(value, path)? {
        if value.is_null() || key == "@class" {
            continue;
        }
        let text = string_value(value, &path.key(&key))?;
        out.insert(key, text);
    }
    out.shrink_to_fit();
    Ok(out)
}

fn expect_object(value: Value, path: &Path<'_>) -> Result<Map<String, Value>, DecodeError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(path.invalid(format!("expected an object, found {}", kind(&other)))),
    }
}

/// An array's items, or a single value as a one-item list (`null` is an empty list).
fn one_or_many(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        single => vec![single],
    }
}

/// A scalar as text: strings as they are, numbers and booleans in their JSON spelling.
fn string_value(value: Value, path: &Path<'_>) -> Result<String, DecodeError> {
    match value {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(path.invalid(format!("expected a string, found {}", kind(&other)))),
    }
}

/// A status in an instance document: a JSON string, any unknown text read as `UNKNOWN` as
/// Java's codec does; a number, boolean or structure is refused (no client sends one).
fn status_value(value: Value, path: &Path<'_>) -> Result<InstanceStatus, DecodeError> {
    match value {
        Value::String(s) => Ok(InstanceStatus::parse_lenient(&s)),
        other => Err(path.invalid(format!("expected a status string, found {}", kind(&other)))),
    }
}

/// A status in a replication item: Java's receiver calls `InstanceStatus.valueOf` on it, so an
/// unknown name is an error there too (case and surrounding blanks are forgiven).
fn strict_status_value(value: Value, path: &Path<'_>) -> Result<InstanceStatus, DecodeError> {
    let text = match value {
        Value::String(s) => s,
        other => {
            return Err(path.invalid(format!("expected a status string, found {}", kind(&other))))
        }
    };
    InstanceStatus::parse(&text.trim().to_ascii_uppercase()).ok_or_else(|| {
        path.invalid(format!(
            "unknown status {}: expected UP, DOWN, STARTING, OUT_OF_SERVICE or UNKNOWN",
            quoted(&text)
        ))
    })
}

/// An integer given as a JSON number or numeric string; `None` for an empty string.
fn integer_value(value: Value, path: &Path<'_>) -> Result<Option<i128>, DecodeError> {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i128::from(i)))
            } else if let Some(u) = n.as_u64() {
                Ok(Some(i128::from(u)))
            } else {
                match n.as_f64() {
                    // Integral floats such as `1e3` or `30.0` are accepted; the bound keeps the
                    // cast exact enough and far from i128's limits.
                    Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30 => {
                        Ok(Some(f as i128))
                    }
                    _ => Err(path.invalid(format!("expected an integer, found {n}"))),
                }
            }
        }
        Value::String(s) => parse_integer_text(&s).map_err(|detail| path.invalid(detail)),
        other => Err(path.invalid(format!("expected an integer, found {}", kind(&other)))),
    }
}

/// A boolean given as a JSON boolean or a string; `None` for an empty string.
fn bool_value(value: Value, path: &Path<'_>) -> Result<Option<bool>, DecodeError> {
    match value {
        Value::Bool(b) => Ok(Some(b)),
        Value::String(s) => Ok(parse_bool_text(&s)),
        other => Err(path.invalid(format!("expected a boolean, found {}", kind(&other)))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------
// Lenient scalar rules shared with the XML decoder
// ---------------------------------------------------------------------------------------------

/// Parses decimal integer text (surrounding whitespace and a sign allowed); `None` if blank.
pub(crate) fn parse_integer_text(text: &str) -> Result<Option<i128>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    trimmed
        .parse::<i128>()
        .map(Some)
        .map_err(|_| format!("expected an integer, found {}", quoted(trimmed)))
}

/// Java's `Boolean.parseBoolean`: `true` in any case is true, other text false; `None` if blank.
pub(crate) fn parse_bool_text(text: &str) -> Option<bool> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        None
    } else {
        Some(trimmed.eq_ignore_ascii_case("true"))
    }
}

/// A timestamp or other unsigned value: negatives clamp to 0, overflow is an error.
pub(crate) fn clamp_u64(n: i128, path: &Path<'_>) -> Result<u64, DecodeError> {
    u64::try_from(n.max(0)).map_err(|_| path.invalid("out of range"))
}

/// A lease interval in seconds: negatives clamp to 0, overflow is an error.
pub(crate) fn clamp_u32(n: i128, path: &Path<'_>) -> Result<u32, DecodeError> {
    u32::try_from(n.max(0)).map_err(|_| path.invalid("out of range"))
}

/// A port number, which must lie in `0..=65535`.
pub(crate) fn port_number(n: i128, path: &Path<'_>) -> Result<u16, DecodeError> {
    u16::try_from(n).map_err(|_| path.invalid(format!("port {n} is outside 0..=65535")))
}

/// `sid` as decoded: the Java placeholders `na`/`unknown` mean "not set".
pub(crate) fn decode_sid(sid: String) -> Option<String> {
    if is_placeholder_sid(&sid) {
        None
    } else {
        Some(sid)
    }
}

/// A data center name: exact or case-insensitive match; blank is `None`, anything else an error.
pub(crate) fn parse_data_center_name(
    text: &str,
    path: &Path<'_>,
) -> Result<Option<DataCenterName>, DecodeError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if let Some(name) = DataCenterName::parse(trimmed) {
        return Ok(Some(name));
    }
    [DataCenterName::MyOwn, DataCenterName::Amazon, DataCenterName::Netflix]
        .into_iter()
        .find(|n| n.as_str().eq_ignore_ascii_case(trimmed))
        .map(Some)
        .ok_or_else(|| path.invalid(format!("unknown data center name {}", quoted(trimmed))))
}

/// The data center class: the given Java class if it is one of the three known, else inferred
/// from the name (`Amazon` → `AmazonInfo`, anything else → `DefaultDataCenterInfo`).
pub(crate) fn data_center_class(
    java_class: Option<&str>,
    name: Option<DataCenterName>,
) -> DataCenterClass {
    java_class.map(str::trim).and_then(DataCenterClass::from_java_class).unwrap_or(
        if name == Some(DataCenterName::Amazon) {
            DataCenterClass::Amazon
        } else {
            DataCenterClass::Default
        },
    )
}

/// Collects `leaseInfo` fields by name; `renewalTimestamp` is the legacy alias of
/// `lastRenewalTimestamp`, which wins when both are present. Missing fields keep the defaults.
#[derive(Debug, Default)]
pub(crate) struct LeaseBuilder {
    lease: LeaseInfo,
    last_renewal: Option<u64>,
    legacy_renewal: Option<u64>,
}

impl LeaseBuilder {
    /// Whether `name` is a lease field this builder reads (others are ignored).
    pub(crate) fn is_field(name: &str) -> bool {
        matches!(
            name,
            "renewalIntervalInSecs"
                | "durationInSecs"
                | "registrationTimestamp"
                | "lastRenewalTimestamp"
                | "renewalTimestamp"
                | "evictionTimestamp"
                | "serviceUpTimestamp"
        )
    }

    /// Sets field `name` from an integer (negatives clamp to 0, overflow is an error).
    pub(crate) fn set(&mut self, name: &str, n: i128, path: &Path<'_>) -> Result<(), DecodeError> {
        let lease = &mut self.lease;
        match name {
            "renewalIntervalInSecs" => lease.renewal_interval_in_secs = clamp_u32(n, path)?,
            "durationInSecs" => lease.duration_in_secs = clamp_u32(n, path)?,
            "registrationTimestamp" => lease.registration_timestamp = clamp_u64(n, path)?,
            "lastRenewalTimestamp" => self.last_renewal = Some(clamp_u64(n, path)?),
            "renewalTimestamp" => self.legacy_renewal = Some(clamp_u64(n, path)?),
            "evictionTimestamp" => lease.eviction_timestamp = clamp_u64(n, path)?,
            "serviceUpTimestamp" => lease.service_up_timestamp = clamp_u64(n, path)?,
            _ => {}
        }
        Ok(())
    }

    /// The lease read so far.
    pub(crate) fn finish(mut self) -> LeaseInfo {
        if let Some(ts) = self.last_renewal.or(self.legacy_renewal) {
            self.lease.last_renewal_timestamp = ts;
        }
        self.lease
    }
}

/// Quotes input text for an error message, cut to a readable length.
pub(crate) fn quoted(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

/// Where in a document a value sits, rendered only when an error needs it
/// (e.g. `applications.application[0].instance[2].port.$`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    /// The path of a document's root element.
    pub(crate) fn root(name: &'a str) -> Self {
        Path { parent: None, segment: Segment::Key(name) }
    }

    /// The path of a child field.
    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path { parent: Some(self), segment: Segment::Key(key) }
    }

    /// The path of a list item.
    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path { parent: Some(self), segment: Segment::Index(index) }
    }

    /// An [`DecodeError::InvalidField`] at this path.
    pub(crate) fn invalid(&self, detail: impl Into<String>) -> DecodeError {
        DecodeError::InvalidField { field: self.render(), detail: detail.into() }
    }

    /// The dotted path as text, e.g. `instance.leaseInfo`.
    pub(crate) fn render(&self) -> String {
        let mut out = match self.parent {
            Some(parent) => parent.render(),
            None => String::new(),
        };
        match self.segment {
            Segment::Key(key) => {
                if self.parent.is_some() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
        out
    }
}
