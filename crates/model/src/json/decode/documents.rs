//! Reading the documents around instances: applications, an application, and the peer
//! replication batch and its answer.

use std::borrow::Cow;
use std::sync::Arc;

use serde::de::MapAccess;

use super::super::lenient::{clamp_u64, quoted, Path};
use super::instance::InstanceReader;
use super::value::{
    bool_value, check, fields, integer_value, optional, strict_status_value, string_value, text,
    Ctx, KeySeed, ListSeed, NodeSeed, ObjectReader, ScalarSeed, Seen, Skip,
};
use crate::replication::{
    HealthCheckNote, ReplicationAction, ReplicationInstance, ReplicationInstanceResponse,
};
use crate::{Application, Applications, DecodeError, InstanceInfo};

fields! {
    /// The keys of an `applications` object.
    AppsField {
        VersionPreferred = "versions__delta",
        VersionAlternative = "versions_delta",
        HashPreferred = "apps__hashcode",
        HashAlternative = "apps_hashcode",
        Application = "application",
    }
}

/// Reads the object under `applications`.
#[derive(Debug, Clone, Copy)]
pub(super) struct ApplicationsReader;

impl<'de> ObjectReader<'de> for ApplicationsReader {
    type Output = Applications;

    fn read<A: MapAccess<'de>>(
        self,
        mut map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<Applications, A::Error> {
        let mut apps = Applications::default();
        let (mut version_pref, mut version_alt) = (None, None);
        let (mut hash_pref, mut hash_alt) = (None, None);
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let field = AppsField::of(&key);
            if !seen.note(field.map(AppsField::bit), &key) {
                return Err(ctx.duplicate(&key));
            }
            let p = path.key(&key);
            let Some(field) = field else {
                map.next_value_seed(Skip { ctx })?;
                continue;
            };
            if field == AppsField::Application {
                let list = ListSeed { ctx, path: &p, reader: ApplicationReader };
                apps.applications = map.next_value_seed(list)?;
                continue;
            }
            let value = map.next_value_seed(ScalarSeed { ctx })?;
            if value.is_null() {
                continue;
            }
            let value = Some(check!(ctx, string_value(value, &p)));
            match field {
                AppsField::VersionPreferred => version_pref = value,
                AppsField::VersionAlternative => version_alt = value,
                AppsField::HashPreferred => hash_pref = value,
                AppsField::HashAlternative => hash_alt = value,
                AppsField::Application => {}
            }
        }
        apps.versions_delta = version_pref.or(version_alt).unwrap_or_default();
        apps.apps_hashcode = hash_pref.or(hash_alt).unwrap_or_default();
        Ok(apps)
    }
}

/// Reads an application object: `name` and `instance` (one object or a list).
#[derive(Debug, Clone, Copy)]
pub(super) struct ApplicationReader;

impl<'de> ObjectReader<'de> for ApplicationReader {
    type Output = Application;

    fn read<A: MapAccess<'de>>(
        self,
        mut map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<Application, A::Error> {
        let mut app = Application::default();
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let bit = match key.as_ref() {
                "name" => Some(1),
                "instance" => Some(2),
                _ => None,
            };
            if !seen.note(bit, &key) {
                return Err(ctx.duplicate(&key));
            }
            let p = path.key(&key);
            match bit {
                Some(1) => {
                    let value = map.next_value_seed(ScalarSeed { ctx })?;
                    if !value.is_null() {
                        app.name = check!(ctx, string_value(value, &p));
                    }
                }
                Some(_) => {
                    let list = ListSeed { ctx, path: &p, reader: SharedInstanceReader };
                    app.instances = map.next_value_seed(list)?;
                }
                None => map.next_value_seed(Skip { ctx })?,
            }
        }
        Ok(app)
    }
}

/// An instance as an application holds it.
#[derive(Debug, Clone, Copy)]
struct SharedInstanceReader;

impl<'de> ObjectReader<'de> for SharedInstanceReader {
    type Output = Arc<InstanceInfo>;

    fn read<A: MapAccess<'de>>(
        self,
        map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<Arc<InstanceInfo>, A::Error> {
        InstanceReader.read(map, ctx, path).map(Arc::new)
    }
}

fields! {
    /// The keys of a replication batch item.
    ItemField {
        AppName = "appName",
        Id = "id",
        LastDirty = "lastDirtyTimestamp",
        OverriddenStatus = "overriddenStatus",
        Status = "status",
        InstanceInfo = "instanceInfo",
        Action = "action",
        HealthCheck = "healthCheck",
    }
}

/// Reads one item of `replicationList`; `action` is required and must be an exact name.
#[derive(Debug, Clone, Copy)]
pub(super) struct ReplicationItemReader;

impl<'de> ObjectReader<'de> for ReplicationItemReader {
    type Output = ReplicationInstance;

    fn read<A: MapAccess<'de>>(
        self,
        mut map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<ReplicationInstance, A::Error> {
        let mut item = ReplicationInstance {
            app_name: String::new(),
            id: String::new(),
            last_dirty_timestamp: None,
            overridden_status: None,
            status: None,
            instance_info: None,
            action: ReplicationAction::Heartbeat,
            health_check: None,
        };
        let mut action = None;
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let field = ItemField::of(&key);
            if !seen.note(field.map(ItemField::bit), &key) {
                return Err(ctx.duplicate(&key));
            }
            let p = path.key(&key);
            match field {
                None => map.next_value_seed(Skip { ctx })?,
                Some(ItemField::InstanceInfo) => {
                    let node =
                        map.next_value_seed(NodeSeed { ctx, path: &p, reader: InstanceReader })?;
                    if let Some(info) = check!(ctx, optional(node, &p)) {
                        item.instance_info = Some(info);
                    }
                }
                Some(ItemField::HealthCheck) => {
                    let node =
                        map.next_value_seed(NodeSeed { ctx, path: &p, reader: HealthNoteReader })?;
                    if let Some(note) = check!(ctx, optional(node, &p)) {
                        item.health_check = Some(note);
                    }
                }
                Some(field) => {
                    let value = map.next_value_seed(ScalarSeed { ctx })?;
                    if value.is_null() {
                        continue;
                    }
                    match field {
                        ItemField::AppName => item.app_name = check!(ctx, string_value(value, &p)),
                        ItemField::Id => item.id = check!(ctx, string_value(value, &p)),
                        ItemField::LastDirty => {
                            let n = check!(ctx, integer_value(value, &p));
                            item.last_dirty_timestamp =
                                check!(ctx, n.map(|n| clamp_u64(n, &p)).transpose());
                        }
                        ItemField::OverriddenStatus => {
                            item.overridden_status =
                                Some(check!(ctx, strict_status_value(value, &p)));
                        }
                        ItemField::Status => {
                            item.status = Some(check!(ctx, strict_status_value(value, &p)));
                        }
                        ItemField::Action => {
                            action = Some(check!(ctx, action_value(text(value, &p), &p)))
                        }
                        ItemField::InstanceInfo | ItemField::HealthCheck => {}
                    }
                }
            }
        }
        item.action = check!(ctx, action.ok_or_else(|| path.key("action").invalid("missing")));
        Ok(item)
    }
}

/// A replication action, by its exact wire name.
fn action_value(
    name: Result<Cow<'_, str>, DecodeError>,
    path: &Path<'_>,
) -> Result<ReplicationAction, DecodeError> {
    let name = name?;
    ReplicationAction::parse(&name)
        .ok_or_else(|| path.invalid(format!("unknown replication action {}", quoted(&name))))
}

/// Reads a batch item's `healthCheck` (sent by eureka-rs peers only).
#[derive(Debug, Clone, Copy)]
struct HealthNoteReader;

impl<'de> ObjectReader<'de> for HealthNoteReader {
    type Output = HealthCheckNote;

    fn read<A: MapAccess<'de>>(
        self,
        mut map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<HealthCheckNote, A::Error> {
        let mut note = HealthCheckNote::default();
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let bit = match key.as_ref() {
                "down" => Some(1),
                "reason" => Some(2),
                "since" => Some(4),
                "by" => Some(8),
                "status" => Some(16),
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
                Some(1) => note.down = check!(ctx, bool_value(value, &p)).unwrap_or(false),
                Some(2) => note.reason = Some(check!(ctx, string_value(value, &p))),
                Some(4) => {
                    let n = check!(ctx, integer_value(value, &p));
                    note.since = check!(ctx, n.map(|n| clamp_u64(n, &p)).transpose());
                }
                Some(8) => note.by = Some(check!(ctx, string_value(value, &p))),
                Some(_) => note.status = Some(check!(ctx, strict_status_value(value, &p))),
                None => {}
            }
        }
        Ok(note)
    }
}

/// Reads one item of `responseList`; `statusCode` is required.
#[derive(Debug, Clone, Copy)]
pub(super) struct ResponseItemReader;

impl<'de> ObjectReader<'de> for ResponseItemReader {
    type Output = ReplicationInstanceResponse;

    fn read<A: MapAccess<'de>>(
        self,
        mut map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<ReplicationInstanceResponse, A::Error> {
        let mut status_code = None;
        let mut response_entity = None;
        let mut seen = Seen::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let bit = match key.as_ref() {
                "statusCode" => Some(1),
                "responseEntity" => Some(2),
                _ => None,
            };
            if !seen.note(bit, &key) {
                return Err(ctx.duplicate(&key));
            }
            let p = path.key(&key);
            match bit {
                Some(1) => {
                    let value = map.next_value_seed(ScalarSeed { ctx })?;
                    if value.is_null() {
                        continue;
                    }
                    let code = check!(ctx, integer_value(value, &p))
                        .map(|n| u16::try_from(n).map_err(|_| p.invalid("not an HTTP status")));
                    status_code = check!(ctx, code.transpose());
                }
                Some(_) => {
                    let node =
                        map.next_value_seed(NodeSeed { ctx, path: &p, reader: InstanceReader })?;
                    if let Some(info) = check!(ctx, optional(node, &p)) {
                        response_entity = Some(info);
                    }
                }
                None => map.next_value_seed(Skip { ctx })?,
            }
        }
        let status_code =
            check!(ctx, status_code.ok_or_else(|| path.key("statusCode").invalid("missing")));
        Ok(ReplicationInstanceResponse { status_code, response_entity })
    }
}
