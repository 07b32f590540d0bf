//! Reading an instance object (the value under `instance`, a list item, a batch's
//! `instanceInfo`) and its parts: ports, data center, lease, metadata.

use std::borrow::Cow;

use serde::de::MapAccess;

use super::super::lenient::{
    clamp_u64, data_center_class, decode_sid, parse_data_center_name, port_number, LeaseBuilder,
    Path,
};
use super::value::{
    bool_value, check, fields, integer_value, optional, status_value, string_value, text, Ctx,
    KeySeed, KeySet, Node, NodeSeed, ObjectReader, Scalar, ScalarSeed, Seen, Skip,
};
use crate::instance::{
    ActionType, DataCenterClass, DataCenterInfo, InstanceInfo, InstanceStatus, LeaseInfo, Port,
};
use crate::{DecodeError, Metadata};

fields! {
    /// The keys of an instance object.
    Field {
        InstanceId = "instanceId",
        HostName = "hostName",
        App = "app",
        IpAddr = "ipAddr",
        Sid = "sid",
        Status = "status",
        OverriddenCamel = "overriddenStatus",
        OverriddenLower = "overriddenstatus",
        Port = "port",
        SecurePort = "securePort",
        CountryId = "countryId",
        DataCenter = "dataCenterInfo",
        Lease = "leaseInfo",
        Metadata = "metadata",
        AppGroupName = "appGroupName",
        HomePageUrl = "homePageUrl",
        StatusPageUrl = "statusPageUrl",
        HealthCheckUrl = "healthCheckUrl",
        SecureHealthCheckUrl = "secureHealthCheckUrl",
        VipAddress = "vipAddress",
        SecureVipAddress = "secureVipAddress",
        Coordinating = "isCoordinatingDiscoveryServer",
        LastUpdated = "lastUpdatedTimestamp",
        LastDirty = "lastDirtyTimestamp",
        Action = "actionType",
        AsgName = "asgName",
    }
}

/// Reads an instance object; `null` fields are missing, unknown ones ignored.
#[derive(Debug, Clone, Copy)]
pub(super) struct InstanceReader;

/// What an instance's fields leave to be settled once all are read.
#[derive(Default)]
struct Pending {
    data_center: Option<DataCenterInfo>,
    overridden_camel: Option<InstanceStatus>,
    overridden_lower: Option<InstanceStatus>,
}

impl<'de> ObjectReader<'de> for InstanceReader {
    type Output = InstanceInfo;

    fn read<A: MapAccess<'de>>(
        self,
        mut map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<InstanceInfo, A::Error> {
        let mut info = InstanceInfo::default();
        let mut pending = Pending::default();
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let field = Field::of(&key);
            if !seen.note(field.map(Field::bit), &key) {
                return Err(ctx.duplicate(&key));
            }
            let p = path.key(&key);
            let Some(field) = field else {
                map.next_value_seed(Skip { ctx })?;
                continue;
            };
            match field {
                Field::Port | Field::SecurePort => {
                    let default = if field == Field::Port {
                        Port::DEFAULT_PLAIN
                    } else {
                        Port::DEFAULT_SECURE
                    };
                    let node = map.next_value_seed(NodeSeed {
                        ctx,
                        path: &p,
                        reader: PortReader(default),
                    })?;
                    let port = match node {
                        Node::Object(port) => port,
                        Node::Other(Scalar::Null) => continue,
                        // Lenient: a bare number (or numeric string) is taken as the port number.
                        Node::Other(other) => check!(ctx, bare_port(other, &p, default)),
                    };
                    if field == Field::Port {
                        info.port = port;
                    } else {
                        info.secure_port = port;
                    }
                }
                Field::DataCenter => {
                    let node =
                        map.next_value_seed(NodeSeed { ctx, path: &p, reader: DataCenterReader })?;
                    if let Some(dc) = check!(ctx, optional(node, &p)) {
                        pending.data_center = Some(dc);
                    }
                }
                Field::Lease => {
                    let node =
                        map.next_value_seed(NodeSeed { ctx, path: &p, reader: LeaseReader })?;
                    if let Some(lease) = check!(ctx, optional(node, &p)) {
                        info.lease_info = lease;
                    }
                }
                Field::Metadata => {
                    let node =
                        map.next_value_seed(NodeSeed { ctx, path: &p, reader: StringMapReader })?;
                    if let Some(metadata) = check!(ctx, optional(node, &p)) {
                        info.metadata = metadata;
                    }
                }
                _ => {
                    let value = map.next_value_seed(ScalarSeed { ctx })?;
                    if !value.is_null() {
                        check!(ctx, scalar_field(&mut info, &mut pending, field, value, &p));
                    }
                }
            }
        }
        info.data_center_info = pending.data_center;
        info.overridden_status = pending
            .overridden_camel
            .or(pending.overridden_lower)
            .unwrap_or(InstanceStatus::Unknown);
        Ok(info)
    }
}

/// Sets one scalar field of an instance from a non-null value.
fn scalar_field(
    info: &mut InstanceInfo,
    pending: &mut Pending,
    field: Field,
    value: Scalar<'_>,
    p: &Path<'_>,
) -> Result<(), DecodeError> {
    match field {
        Field::InstanceId => info.instance_id = Some(string_value(value, p)?),
        Field::HostName => info.host_name = string_value(value, p)?,
        Field::App => info.app = string_value(value, p)?,
        Field::IpAddr => info.ip_addr = string_value(value, p)?,
        Field::Sid => info.sid = decode_sid(string_value(value, p)?),
        Field::Status => info.status = status_value(value, p)?,
        Field::OverriddenCamel => pending.overridden_camel = Some(status_value(value, p)?),
        Field::OverriddenLower => pending.overridden_lower = Some(status_value(value, p)?),
        Field::CountryId => {
            if let Some(n) = integer_value(value, p)? {
                info.country_id =
                    i32::try_from(n).map_err(|_| p.invalid("out of range for an int"))?;
            }
        }
        Field::AppGroupName => info.app_group_name = Some(string_value(value, p)?),
        Field::HomePageUrl => info.home_page_url = Some(string_value(value, p)?),
        Field::StatusPageUrl => info.status_page_url = Some(string_value(value, p)?),
        Field::HealthCheckUrl => info.health_check_url = Some(string_value(value, p)?),
        Field::SecureHealthCheckUrl => {
            info.secure_health_check_url = Some(string_value(value, p)?);
        }
        Field::VipAddress => info.vip_address = Some(string_value(value, p)?),
        Field::SecureVipAddress => info.secure_vip_address = Some(string_value(value, p)?),
        Field::Coordinating => {
            if let Some(b) = bool_value(value, p)? {
                info.is_coordinating_discovery_server = b;
            }
        }
        Field::LastUpdated => {
            if let Some(n) = integer_value(value, p)? {
                info.last_updated_timestamp = clamp_u64(n, p)?;
            }
        }
        Field::LastDirty => {
            if let Some(n) = integer_value(value, p)? {
                info.last_dirty_timestamp = clamp_u64(n, p)?;
            }
        }
        Field::Action => {
            info.action_type = match value {
                Scalar::Str(s) => ActionType::parse(&s),
                _ => None,
            };
        }
        Field::AsgName => info.asg_name = Some(string_value(value, p)?),
        // Structured fields have their own readers.
        Field::Port | Field::SecurePort | Field::DataCenter | Field::Lease | Field::Metadata => {}
    }
    Ok(())
}

/// A port given as a bare number or numeric string rather than a `{"$":..}` object.
fn bare_port(value: Scalar<'_>, path: &Path<'_>, default: Port) -> Result<Port, DecodeError> {
    let p = path.key("$");
    let mut port = default;
    if let Some(n) = integer_value(value, &p)? {
        port.port = port_number(n, &p)?;
    }
    Ok(port)
}

/// Reads `{"$":8080,"@enabled":"true"}`; what is missing keeps the given default.
#[derive(Debug, Clone, Copy)]
struct PortReader(Port);

impl<'de> ObjectReader<'de> for PortReader {
    type Output = Port;

    fn read<A: MapAccess<'de>>(
        self,
        mut map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<Port, A::Error> {
        let mut port = self.0;
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let bit = match key.as_ref() {
                "$" => Some(1),
                "@enabled" => Some(2),
                _ => None,
            };
            if !seen.note(bit, &key) {
                return Err(ctx.duplicate(&key));
            }
            let value = map.next_value_seed(ScalarSeed { ctx })?;
            if value.is_null() {
                continue;
            }
            let p = path.key(&key);
            match bit {
                Some(1) => {
                    if let Some(n) = check!(ctx, integer_value(value, &p)) {
                        port.port = check!(ctx, port_number(n, &p));
                    }
                }
                Some(_) => {
                    if let Some(b) = check!(ctx, bool_value(value, &p)) {
                        port.enabled = b;
                    }
                }
                None => {}
            }
        }
        Ok(port)
    }
}

/// Reads `dataCenterInfo`: `@class`, `name` and (for Amazon) `metadata`.
#[derive(Debug, Clone, Copy)]
struct DataCenterReader;

impl<'de> ObjectReader<'de> for DataCenterReader {
    type Output = DataCenterInfo;

    fn read<A: MapAccess<'de>>(
        self,
        mut map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<DataCenterInfo, A::Error> {
        let mut class: Option<Cow<'de, str>> = None;
        let mut name = None;
        let mut metadata = None;
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let bit = match key.as_ref() {
                "@class" => Some(1),
                "name" => Some(2),
                "metadata" => Some(4),
                _ => None,
            };
            if !seen.note(bit, &key) {
                return Err(ctx.duplicate(&key));
            }
            let p = path.key(&key);
            if bit == Some(4) {
                let node =
                    map.next_value_seed(NodeSeed { ctx, path: &p, reader: StringMapReader })?;
                if let Some(m) = check!(ctx, optional(node, &p)) {
                    metadata = Some(m);
                }
                continue;
            }
            let value = map.next_value_seed(ScalarSeed { ctx })?;
            if value.is_null() {
                continue;
            }
            match bit {
                Some(1) => class = Some(check!(ctx, text(value, &p))),
                Some(_) => {
                    let text = check!(ctx, text(value, &p));
                    name = check!(ctx, parse_data_center_name(&text, &p));
                }
                None => {}
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
}

/// Reads `leaseInfo`; unknown fields are ignored, see [`LeaseBuilder`].
#[derive(Debug, Clone, Copy)]
struct LeaseReader;

impl<'de> ObjectReader<'de> for LeaseReader {
    type Output = LeaseInfo;

    fn read<A: MapAccess<'de>>(
        self,
        mut map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<LeaseInfo, A::Error> {
        let mut lease = LeaseBuilder::default();
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let field = LeaseBuilder::field_index(&key);
            if !seen.note(field.map(|i| 1 << i), &key) {
                return Err(ctx.duplicate(&key));
            }
            if field.is_none() {
                map.next_value_seed(Skip { ctx })?;
                continue;
            }
            let value = map.next_value_seed(ScalarSeed { ctx })?;
            if value.is_null() {
                continue;
            }
            let p = path.key(&key);
            if let Some(n) = check!(ctx, integer_value(value, &p)) {
                check!(ctx, lease.set(&key, n, &p));
            }
        }
        Ok(lease.finish())
    }
}

/// Reads a string → string map: scalars become strings, `null` values and `@class` are dropped.
#[derive(Debug, Clone, Copy)]
struct StringMapReader;

impl<'de> ObjectReader<'de> for StringMapReader {
    type Output = Metadata;

    fn read<A: MapAccess<'de>>(
        self,
        mut map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<Metadata, A::Error> {
        // Collected in the decode's scratch list, then sorted and copied out at their exact
        // size: one allocation for the entries, and no shifting however large the map.
        let mut entries = ctx.take_scratch();
        let mut keys = KeySet::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if !keys.insert(&key) {
                return Err(ctx.duplicate(&key));
            }
            let value = map.next_value_seed(ScalarSeed { ctx })?;
            if value.is_null() || key == "@class" {
                continue;
            }
            let text = check!(ctx, string_value(value, &path.key(&key)));
            entries.push((key.into_owned(), text));
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut exact = Vec::with_capacity(entries.len());
        exact.append(&mut entries);
        ctx.put_scratch(entries);
        Ok(Metadata::from_sorted(exact))
    }
}
