//! XML codec: the shape Java's XStream converters write, and a lenient, hardened reader.
//!
//! Encoding writes compact XML (no declaration, no indentation; whitespace between elements is
//! insignificant to every parser) in the field order of protocol §2.2/§2.4: `<overriddenstatus>`
//! in lower case, ports as `<port enabled="true">8080</port>`, `<dataCenterInfo class="...">`,
//! empty metadata as `<metadata class="java.util.Collections$EmptyMap"/>`, one `<application>`
//! per app and one `<instance>` per instance. Element names made from metadata keys go through
//! XStream's name coder (`_` → `__`, `$` → `_-`); keys that still are not XML names are omitted
//! (see [`is_encodable_metadata_key`]).
//!
//! Decoding builds a small element tree (at most [`MAX_DEPTH`] levels) and reads it leniently:
//! elements in any order, unknown elements ignored, both `overriddenstatus` spellings,
//! `class` attributes optional. Only the five predefined entities and numeric character
//! references are understood; a `<!DOCTYPE>` is rejected, so no entity is ever expanded.

use std::collections::BTreeMap;
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::instance::{DataCenterClass, InstanceInfo, InstanceStatus, LeaseInfo, Port};
use crate::json::{
    clamp_u64, data_center_class, decode_sid, parse_bool_text, parse_data_center_name,
    parse_integer_text, port_number, sid_on_wire, write_i64, write_u64, LeaseBuilder, Path,
    EMPTY_MAP_CLASS,
};
use crate::{ActionType, Application, Applications, DataCenterInfo, DecodeError};

/// Deepest element nesting the decoder accepts (real documents need 6 levels).
pub const MAX_DEPTH: usize = 64;

/// Bytes reserved per instance when pre-sizing a registry document.
const INSTANCE_SIZE_HINT: usize = 1280;

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// Encodes `<instance>...</instance>` as XStream does (compact, no XML declaration).
///
/// Metadata entries whose key is not an XML element name even after name coding are omitted,
/// see [`is_encodable_metadata_key`]; the JSON codec keeps them.
pub fn encode_instance(info: &InstanceInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(INSTANCE_SIZE_HINT);
    write_instance(&mut out, info);
    out
}

/// Encodes `<application><name>..</name><instance>..</instance>...</application>`.
pub fn encode_application(app: &Application) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + app.instances.len() * INSTANCE_SIZE_HINT);
    write_application(&mut out, app);
    out
}

/// Encodes `<applications><versions__delta>..</versions__delta><apps__hashcode>..
/// </apps__hashcode><application>..</application>...</applications>`.
///
/// The version and hash are written as given; nothing is recomputed.
pub fn encode_applications(apps: &Applications) -> Vec<u8> {
    let count = apps.instances().count();
    let mut out = Vec::with_capacity(
        128 + apps.applications.len() * 64 + count.saturating_mul(INSTANCE_SIZE_HINT),
    );
    out.extend_from_slice(&applications_head(&apps.versions_delta, &apps.apps_hashcode));
    for app in &apps.applications {
        write_application(&mut out, app);
    }
    out.extend_from_slice(APPLICATIONS_TAIL);
    out
}

/// What [`encode_applications`] writes before the first application.
pub fn applications_head(versions_delta: &str, apps_hashcode: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + versions_delta.len() + apps_hashcode.len());
    out.extend_from_slice(b"<applications>");
    leaf(&mut out, "versions__delta", versions_delta);
    leaf(&mut out, "apps__hashcode", apps_hashcode);
    out
}

/// What [`encode_applications`] writes between two applications: nothing.
pub const APPLICATIONS_SEPARATOR: &[u8] = b"";
/// What [`encode_applications`] writes after the last application.
pub const APPLICATIONS_TAIL: &[u8] = b"</applications>";

/// Whether a metadata key can be written as an XML element name after XStream's name coding.
///
/// The coded name (`_` → `__`, `$` → `_-`) must be an XML 1.0 `Name` without `:` (a colon
/// would read as an unbound namespace prefix). Keys such as `""`, `"1abc"`, `"a b"`, `"a/b"`,
/// `"-x"` or `"a<b"` are therefore not encodable: the XML encoder omits those entries (Java
/// would emit broken XML, protocol §7 row 28); JSON keeps them.
pub fn is_encodable_metadata_key(key: &str) -> bool {
    let mut chars = key.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    // `_` and `$` both code to something starting with `_`, a valid first character.
    (first == '_' || first == '$' || is_name_start_char(first))
        && chars.all(|c| c == '$' || is_name_char(c))
}

fn write_application(out: &mut Vec<u8>, app: &Application) {
    out.extend_from_slice(b"<application>");
    leaf(out, "name", &app.name);
    for info in &app.instances {
        write_instance(out, info);
    }
    out.extend_from_slice(b"</application>");
}

fn write_instance(out: &mut Vec<u8>, info: &InstanceInfo) {
    out.extend_from_slice(b"<instance>");
    if let Some(id) = &info.instance_id {
        leaf(out, "instanceId", id);
    }
    leaf(out, "hostName", &info.host_name);
    leaf(out, "app", &info.app);
    leaf(out, "ipAddr", &info.ip_addr);
    if let Some(sid) = sid_on_wire(info) {
        leaf(out, "sid", sid);
    }
    leaf(out, "status", info.status.as_str());
    leaf(out, "overriddenstatus", info.overridden_status.as_str());
    write_port(out, "port", info.port);
    write_port(out, "securePort", info.secure_port);
    out.extend_from_slice(b"<countryId>");
    write_i64(out, i64::from(info.country_id));
    out.extend_from_slice(b"</countryId>");
    if let Some(dc) = &info.data_center_info {
        out.extend_from_slice(b"<dataCenterInfo class=\"");
        out.extend_from_slice(dc.class.java_class().as_bytes());
        out.extend_from_slice(b"\">");
        if let Some(name) = dc.name {
            leaf(out, "name", name.as_str());
        }
        if dc.class == DataCenterClass::Amazon {
            out.extend_from_slice(b"<metadata>");
            write_entries(out, &dc.metadata);
            out.extend_from_slice(b"</metadata>");
        }
        out.extend_from_slice(b"</dataCenterInfo>");
    }
    let lease = &info.lease_info;
    out.extend_from_slice(b"<leaseInfo>");
    number_leaf(out, "renewalIntervalInSecs", u64::from(lease.renewal_interval_in_secs));
    number_leaf(out, "durationInSecs", u64::from(lease.duration_in_secs));
    number_leaf(out, "registrationTimestamp", lease.registration_timestamp);
    number_leaf(out, "lastRenewalTimestamp", lease.last_renewal_timestamp);
    number_leaf(out, "evictionTimestamp", lease.eviction_timestamp);
    number_leaf(out, "serviceUpTimestamp", lease.service_up_timestamp);
    out.extend_from_slice(b"</leaseInfo>");
    if info.metadata.keys().any(|k| is_encodable_metadata_key(k)) {
        out.extend_from_slice(b"<metadata>");
        write_entries(out, &info.metadata);
        out.extend_from_slice(b"</metadata>");
    } else {
        out.extend_from_slice(b"<metadata class=\"");
        out.extend_from_slice(EMPTY_MAP_CLASS.as_bytes());
        out.extend_from_slice(b"\"/>");
    }
    let optional = [
        ("appGroupName", &info.app_group_name),
        ("homePageUrl", &info.home_page_url),
        ("statusPageUrl", &info.status_page_url),
        ("healthCheckUrl", &info.health_check_url),
        ("secureHealthCheckUrl", &info.secure_health_check_url),
        ("vipAddress", &info.vip_address),
        ("secureVipAddress", &info.secure_vip_address),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            leaf(out, name, value);
        }
    }
    leaf(
        out,
        "isCoordinatingDiscoveryServer",
        if info.is_coordinating_discovery_server { "true" } else { "false" },
    );
    number_leaf(out, "lastUpdatedTimestamp", info.last_updated_timestamp);
    number_leaf(out, "lastDirtyTimestamp", info.last_dirty_timestamp);
    if let Some(action) = info.action_type {
        leaf(out, "actionType", action.as_str());
    }
    if let Some(asg) = &info.asg_name {
        leaf(out, "asgName", asg);
    }
    out.extend_from_slice(b"</instance>");
}

pub(crate) fn write_port(out: &mut Vec<u8>, name: &str, port: Port) {
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(if port.enabled {
        b" enabled=\"true\">"
    } else {
        b" enabled=\"false\">"
    });
    write_u64(out, u64::from(port.port));
    close_tag(out, name);
}

/// Writes `<key>value</key>` for every encodable key, names coded as XStream does.
fn write_entries(out: &mut Vec<u8>, map: &BTreeMap<String, String>) {
    for (key, value) in map {
        if !is_encodable_metadata_key(key) {
            continue;
        }
        out.push(b'<');
        write_coded_name(out, key);
        out.push(b'>');
        write_text(out, value);
        out.extend_from_slice(b"</");
        write_coded_name(out, key);
        out.push(b'>');
    }
}

fn write_coded_name(out: &mut Vec<u8>, key: &str) {
    for c in key.chars() {
        match c {
            '_' => out.extend_from_slice(b"__"),
            '$' => out.extend_from_slice(b"_-"),
            other => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

pub(crate) fn leaf(out: &mut Vec<u8>, name: &str, text: &str) {
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
    write_text(out, text);
    close_tag(out, name);
}

pub(crate) fn number_leaf(out: &mut Vec<u8>, name: &str, n: u64) {
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
    write_u64(out, n);
    close_tag(out, name);
}

fn close_tag(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

/// Writes escaped character data: `&`, `<`, `>` as entities, `\r` as `&#13;` (so parsers do
/// not normalise it away), and characters XML 1.0 cannot carry at all (control characters
/// other than tab and newline, U+FFFE, U+FFFF) as U+FFFD.
fn write_text(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len());
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let replacement: &str = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '\r' => "&#13;",
            '\t' | '\n' => continue,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => "\u{fffd}",
            _ => continue,
        };
        out.extend_from_slice(&text.as_bytes()[start..i]);
        out.extend_from_slice(replacement.as_bytes());
        start = i + c.len_utf8();
    }
    out.extend_from_slice(&text.as_bytes()[start..]);
}

/// XML 1.0 `NameStartChar`, without `:`.
fn is_name_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 `NameChar`, without `:`.
fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}')
        || matches!(c, '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// Decodes a register body, `<instance>...</instance>`, leniently.
///
/// Children may come in any order and unknown ones are ignored; `overriddenstatus` and
/// `overriddenStatus` are both read (the lower-case XStream spelling wins if both are present),
/// an empty one is `UNKNOWN`; `<port>` is enabled unless its `enabled` attribute is `false`,
/// `<securePort>` only if it is `true`; `dataCenterInfo`'s `class` is optional (inferred from
/// `<name>`); metadata element names are decoded (`__` → `_`, `_-` → `$`). Numbers may be
/// surrounded by whitespace; negative ones clamp to 0; empty numeric elements keep the
/// default. Other text is kept exactly. `sid` values `na`/`unknown` decode to `None`.
///
/// Errors: malformed XML, a `<!DOCTYPE>`, an unknown entity, a root other than `instance`,
/// nesting deeper than [`MAX_DEPTH`], non-numeric numbers, ports outside `0..=65535`, an
/// unknown data center name, child elements inside a metadata value.
pub fn decode_instance(body: &[u8]) -> Result<InstanceInfo, DecodeError> {
    let root = parse_root(body, "instance")?;
    instance_from_element(root, &Path::root("instance"))
}

/// Decodes `<application><name>..</name><instance>..</instance>...</application>`.
pub fn decode_application(body: &[u8]) -> Result<Application, DecodeError> {
    let root = parse_root(body, "application")?;
    application_from_element(root, &Path::root("application"))
}

/// Decodes `<applications>...</applications>`; a missing version or hash is the empty string.
pub fn decode_applications(body: &[u8]) -> Result<Applications, DecodeError> {
    let root = parse_root(body, "applications")?;
    let path = Path::root("applications");
    reject_duplicates(&root.children, "application", &path)?;
    let mut apps = Applications::default();
    let (mut version_pref, mut version_alt) = (None, None);
    let (mut hash_pref, mut hash_alt) = (None, None);
    let mut index = 0;
    for child in root.children {
        match child.name.as_str() {
            "versions__delta" => version_pref = Some(child.text),
            "versions_delta" => version_alt = Some(child.text),
            "apps__hashcode" => hash_pref = Some(child.text),
            "apps_hashcode" => hash_alt = Some(child.text),
            "application" => {
                let p = path.key("application");
                apps.applications.push(application_from_element(child, &p.index(index))?);
                index += 1;
            }
            _ => {}
        }
    }
    apps.versions_delta = version_pref.or(version_alt).unwrap_or_default();
    apps.apps_hashcode = hash_pref.or(hash_alt).unwrap_or_default();
    Ok(apps)
}

/// One parsed element: its raw name, attributes, child elements and concatenated text.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn syntax(detail: impl Into<String>) -> DecodeError {
    DecodeError::Syntax { format: "XML", detail: detail.into() }
}

/// Parses the document and checks that its root element is `expected`.
fn parse_root(body: &[u8], expected: &'static str) -> Result<Element, DecodeError> {
    let root = parse_tree(body)?;
    if root.name == expected {
        Ok(root)
    } else {
        Err(DecodeError::WrongRoot { expected, found: root.name })
    }
}

/// Parses a whole document into its root element, with the depth and entity limits above.
fn parse_tree(body: &[u8]) -> Result<Element, DecodeError> {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|e| syntax(format!("not UTF-8: {e}")))?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                return Err(syntax(format!("{e} (at byte {})", reader.error_position())));
            }
        };
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::TooDeep(MAX_DEPTH));
                }
                stack.push(open_element(&start)?);
            }
            Event::Empty(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::TooDeep(MAX_DEPTH));
                }
                let element = open_element(&start)?;
                close_element(element, &mut stack, &mut root)?;
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches the open one.
                let element = stack.pop().ok_or_else(|| syntax("unexpected end tag"))?;
                close_element(element, &mut stack, &mut root)?;
            }
            Event::Text(raw) => {
                let text = raw.unescape().map_err(|e| syntax(e.to_string()))?;
                push_text(&mut stack, &text)?;
            }
            Event::CData(raw) => {
                let bytes = raw.into_inner();
                let text = std::str::from_utf8(&bytes).map_err(|e| syntax(e.to_string()))?;
                push_text(&mut stack, text)?;
            }
            Event::DocType(_) => return Err(syntax("DOCTYPE declarations are not accepted")),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(syntax(format!("unexpected end of document inside <{}>", open.name)));
    }
    root.ok_or_else(|| syntax("no root element"))
}

fn open_element(start: &BytesStart<'_>) -> Result<Element, DecodeError> {
    let name =
        std::str::from_utf8(start.name().as_ref()).map_err(|e| syntax(e.to_string()))?.to_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| syntax(e.to_string()))?;
        let key = std::str::from_utf8(attribute.key.as_ref())
            .map_err(|e| syntax(e.to_string()))?
            .to_owned();
        let value = attribute.unescape_value().map_err(|e| syntax(e.to_string()))?;
        attributes.push((key, value.into_owned()));
    }
    Ok(Element { name, attributes, ..Element::default() })
}

fn close_element(
    element: Element,
    stack: &mut [Element],
    root: &mut Option<Element>,
) -> Result<(), DecodeError> {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(element);
        Ok(())
    } else if root.is_some() {
        Err(syntax(format!("second root element <{}>", element.name)))
    } else {
        *root = Some(element);
        Ok(())
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), DecodeError> {
    match stack.last_mut() {
        Some(open) => {
            open.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(syntax("text outside the root element")),
    }
}

/// Refuses an element whose children repeat a name other than `repeatable` (XStream keeps the
/// last one, other readers the first: a repeated field is an ambiguity, not data).
fn reject_duplicates(
    children: &[Element],
    repeatable: &str,
    path: &Path<'_>,
) -> Result<(), DecodeError> {
    let mut seen = std::collections::HashSet::with_capacity(children.len());
    for child in children {
        if child.name != repeatable && !seen.insert(child.name.as_str()) {
            return Err(DecodeError::Duplicate {
                name: format!("element <{}>", child.name),
                location: path.render(),
            });
        }
    }
    Ok(())
}

fn application_from_element(element: Element, path: &Path<'_>) -> Result<Application, DecodeError> {
    reject_duplicates(&element.children, "instance", path)?;
    let mut app = Application::default();
    let mut index = 0;
    for child in element.children {
        match child.name.as_str() {
            "name" => app.name = child.text,
            "instance" => {
                let p = path.key("instance");
                app.instances.push(Arc::new(instance_from_element(child, &p.index(index))?));
                index += 1;
            }
            _ => {}
        }
    }
    Ok(app)
}

fn instance_from_element(element: Element, path: &Path<'_>) -> Result<InstanceInfo, DecodeError> {
    reject_duplicates(&element.children, "", path)?;
    let mut info = InstanceInfo::default();
    let mut data_center = None;
    let (mut overridden_lower, mut overridden_camel) = (None, None);
    for child in element.children {
        let Element { name, attributes, children, text } = child;
        let p = path.key(&name);
        match name.as_str() {
            "instanceId" => info.instance_id = Some(text),
            "hostName" => info.host_name = text,
            "app" => info.app = text,
            "ipAddr" => info.ip_addr = text,
            "sid" => info.sid = decode_sid(text),
            "status" => info.status = InstanceStatus::parse_lenient(&text),
            "overriddenstatus" => {
                overridden_lower = Some(InstanceStatus::parse_lenient(&text));
            }
            "overriddenStatus" => {
                overridden_camel = Some(InstanceStatus::parse_lenient(&text));
            }
            "port" => {
                let enabled = attribute(&attributes, "enabled").is_none_or(|a| !is_false(a));
                info.port = port_element(&text, &p, Port::DEFAULT_PLAIN.port, enabled)?;
            }
            "securePort" => {
                let enabled = attribute(&attributes, "enabled").is_some_and(is_true);
                info.secure_port = port_element(&text, &p, Port::DEFAULT_SECURE.port, enabled)?;
            }
            "countryId" => {
                if let Some(n) = integer(&text, &p)? {
                    info.country_id =
                        i32::try_from(n).map_err(|_| p.invalid("out of range for an int"))?;
                }
            }
            "dataCenterInfo" => data_center = Some(data_center_element(&attributes, children, &p)?),
            "leaseInfo" => info.lease_info = lease_element(children, &p)?,
            "metadata" => info.metadata = entries(children, &p)?,
            "appGroupName" => info.app_group_name = Some(text),
            "homePageUrl" => info.home_page_url = Some(text),
            "statusPageUrl" => info.status_page_url = Some(text),
            "healthCheckUrl" => info.health_check_url = Some(text),
            "secureHealthCheckUrl" => info.secure_health_check_url = Some(text),
            "vipAddress" => info.vip_address = Some(text),
            "secureVipAddress" => info.secure_vip_address = Some(text),
            "isCoordinatingDiscoveryServer" => {
                if let Some(b) = parse_bool_text(&text) {
                    info.is_coordinating_discovery_server = b;
                }
            }
            "lastUpdatedTimestamp" => {
                if let Some(n) = integer(&text, &p)? {
                    info.last_updated_timestamp = clamp_u64(n, &p)?;
                }
            }
            "lastDirtyTimestamp" => {
                if let Some(n) = integer(&text, &p)? {
                    info.last_dirty_timestamp = clamp_u64(n, &p)?;
                }
            }
            "actionType" => info.action_type = ActionType::parse(&text),
            "asgName" => info.asg_name = Some(text),
            _ => {}
        }
    }
    info.data_center_info = data_center;
    info.overridden_status =
        overridden_lower.or(overridden_camel).unwrap_or(InstanceStatus::Unknown);
    Ok(info)
}

fn is_true(attribute: &str) -> bool {
    attribute.trim().eq_ignore_ascii_case("true")
}

fn is_false(attribute: &str) -> bool {
    attribute.trim().eq_ignore_ascii_case("false")
}

fn port_element(
    text: &str,
    path: &Path<'_>,
    default_port: u16,
    enabled: bool,
) -> Result<Port, DecodeError> {
    let port = match integer(text, path)? {
        Some(n) => port_number(n, path)?,
        None => default_port,
    };
    Ok(Port { port, enabled })
}

fn data_center_element(
    attributes: &[(String, String)],
    children: Vec<Element>,
    path: &Path<'_>,
) -> Result<DataCenterInfo, DecodeError> {
    reject_duplicates(&children, "", path)?;
    let mut name = None;
    let mut metadata = None;
    for child in children {
        let p = path.key(&child.name);
        match child.name.as_str() {
            "name" => name = parse_data_center_name(&child.text, &p)?,
            "metadata" => metadata = Some(entries(child.children, &p)?),
            _ => {}
        }
    }
    let class = data_center_class(attribute(attributes, "class"), name);
    let metadata = if class == DataCenterClass::Amazon {
        metadata.unwrap_or_default()
    } else {
        BTreeMap::new()
    };
    Ok(DataCenterInfo { class, name, metadata })
}

fn lease_element(children: Vec<Element>, path: &Path<'_>) -> Result<LeaseInfo, DecodeError> {
    reject_duplicates(&children, "", path)?;
    let mut lease = LeaseBuilder::default();
    for child in children {
        if !LeaseBuilder::is_field(&child.name) {
            continue;
        }
        let p = path.key(&child.name);
        if let Some(n) = integer(&child.text, &p)? {
            lease.set(&child.name, n, &p)?;
        }
    }
    Ok(lease.finish())
}

/// Reads `<metadata><key>value</key>...</metadata>`, decoding the coded element names.
fn entries(
    children: Vec<Element>,
    path: &Path<'_>,
) -> Result<BTreeMap<String, String>, DecodeError> {
    let mut out = BTreeMap::new();
    for child in children {
        if !child.children.is_empty() {
            let p = path.key(&child.name);
            return Err(p.invalid("expected text, found child elements"));
        }
        let key = decode_name(&child.name);
        if out.contains_key(&key) {
            return Err(DecodeError::Duplicate {
                name: format!("element <{}>", child.name),
                location: path.render(),
            });
        }
        out.insert(key, child.text);
    }
    Ok(out)
}

/// Reverses XStream's name coding: `__` → `_`, `_-` → `$`; a lone `_` is kept.
fn decode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '_' {
            match chars.peek() {
                Some('_') => {
                    chars.next();
                    out.push('_');
                }
                Some('-') => {
                    chars.next();
                    out.push('$');
                }
                _ => out.push('_'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn integer(text: &str, path: &Path<'_>) -> Result<Option<i128>, DecodeError> {
    parse_integer_text(text).map_err(|detail| path.invalid(detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_coding_round_trips() {
        for key in ["a_b", "$x", "_$", "a_-", "__", "plain", "management.port", "é_$ü"] {
            let mut coded = Vec::new();
            write_coded_name(&mut coded, key);
            let coded = String::from_utf8(coded).unwrap();
            assert_eq!(decode_name(&coded), key, "coded as {coded}");
        }
    }

    #[test]
    fn encodable_keys() {
        for ok in ["zone", "a_b", "$x", "_", "management.port", "x-y", "é", "a1"] {
            assert!(is_encodable_metadata_key(ok), "{ok}");
        }
        for bad in ["", "1a", "a b", "a/b", "-x", "a<b", "a:b", ".x", "a&b", "a\"b"] {
            assert!(!is_encodable_metadata_key(bad), "{bad}");
        }
    }

    #[test]
    fn text_escaping() {
        let mut out = Vec::new();
        write_text(&mut out, "a<b>&c\r\n\t\u{1}\u{ffff}\"'");
        assert_eq!(String::from_utf8(out).unwrap(), "a&lt;b&gt;&amp;c&#13;\n\t\u{fffd}\u{fffd}\"'");
    }
}
