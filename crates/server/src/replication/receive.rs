//! Applying a batch a peer sent us (`POST peerreplication/batch/`), item by item.

use std::sync::Arc;

use eureka_model::replication::{
    HealthCheckNote, ReplicationAction, ReplicationInstance, ReplicationInstanceResponse,
    ReplicationList, ReplicationListResponse,
};
use eureka_model::{AppName, InstanceStatus};
use eureka_registry::{
    Actor, HealthMark, Origin, Registry, RegistryError, RenewOutcome, RenewRequest,
};

use super::ReplicationHost;

/// Applies every item as a replicated call (never replicated again) and answers one entry per
/// item, in order, with the codes Java peers act on: a heartbeat's 404 makes the sender
/// register the instance with us, a 409 carries our newer copy for the sender to adopt.
pub fn apply_batch(host: &impl ReplicationHost, list: ReplicationList) -> ReplicationListResponse {
    let response_list = list.replication_list.into_iter().map(|item| apply(host, item)).collect();
    ReplicationListResponse { response_list }
}

fn code(status_code: u16) -> ReplicationInstanceResponse {
    ReplicationInstanceResponse { status_code, response_entity: None }
}

fn outcome<T>(result: Result<T, RegistryError>) -> ReplicationInstanceResponse {
    match result {
        Ok(_) => code(200),
        Err(RegistryError::NotFound { .. }) => code(404),
        Err(RegistryError::Invalid(_)) => code(400),
        Err(RegistryError::NotOwner { .. }) => code(403),
    }
}

fn apply(host: &impl ReplicationHost, item: ReplicationInstance) -> ReplicationInstanceResponse {
    let now = host.now_ms();
    let registry = host.registry();
    let (app, id) = (AppName::new(&item.app_name), item.id.as_str());
    let response = match item.action {
        ReplicationAction::Register => match item.instance_info {
            None => {
                tracing::debug!(app = %app, instance_id = id, "replicated register without instance");
                code(400)
            }
            Some(mut info) => {
                info.normalize();
                let app = AppName::new(&info.app);
                match info.validate_for_register(&app) {
                    Ok(()) => {
                        registry.register(info, Origin::Peer, now);
                        code(200)
                    }
                    Err(e) => {
                        tracing::debug!(app = %app, instance_id = id, error = %e, "replicated register rejected");
                        code(400)
                    }
                }
            }
        },
        ReplicationAction::Heartbeat => {
            let req = RenewRequest {
                last_dirty_timestamp: item.last_dirty_timestamp,
                overridden_status: item.overridden_status,
                origin: Origin::Peer,
            };
            match registry.renew(app.as_str(), id, req, now) {
                Ok(RenewOutcome::Renewed) => code(200),
                Ok(RenewOutcome::CallerNewer) | Err(_) => code(404),
                Ok(RenewOutcome::Conflict(mine)) => ReplicationInstanceResponse {
                    status_code: 409,
                    response_entity: Some((*mine).clone()),
                },
            }
        }
        ReplicationAction::Cancel => {
            outcome(registry.cancel_by(app.as_str(), id, None, &Actor::of(Origin::Peer), now))
        }
        ReplicationAction::StatusUpdate if item.health_check.is_some() => {
            apply_health_note(registry, app.as_str(), id, item.health_check.as_ref(), now)
        }
        ReplicationAction::StatusUpdate => match item.status {
            None => code(400),
            Some(status) => outcome(registry.set_status_override_by(
                app.as_str(),
                id,
                status,
                item.last_dirty_timestamp,
                &Actor::of(Origin::Peer),
                now,
            )),
        },
        ReplicationAction::DeleteStatusOverride => outcome(registry.delete_status_override_by(
            app.as_str(),
            id,
            item.status.unwrap_or(InstanceStatus::Unknown),
            item.last_dirty_timestamp,
            &Actor::of(Origin::Peer),
            now,
        )),
    };
    tracing::debug!(app = %app, instance_id = id, action = item.action.as_str(),
        code = response.status_code, "applied replicated item");
    host.count_received(item.action, response.status_code);
    response
}

/// A eureka-rs peer's health verdict: a mark or its lift, never an operator's override.
fn apply_health_note(
    registry: &Registry,
    app: &str,
    id: &str,
    note: Option<&HealthCheckNote>,
    now: u64,
) -> ReplicationInstanceResponse {
    let Some(note) = note else { return code(400) };
    if note.down {
        let mark = HealthMark {
            reason: Arc::from(note.reason.as_deref().unwrap_or("health check failed")),
            since: note.since.unwrap_or(now),
            by: Arc::from(note.by.as_deref().unwrap_or("")),
        };
        outcome(registry.mark_health_down(app, id, mark, now))
    } else {
        outcome(registry.lift_health_down(app, id, note.status, now))
    }
}
