//! Peer replication batch messages (`POST peerreplication/batch/`), as Java peers send them.

use crate::instance::{InstanceInfo, InstanceStatus};

/// What a replicated item asks the receiving peer to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplicationAction {
    /// Register the carried instance.
    Register,
    /// Renew the lease.
    Heartbeat,
    /// Cancel the lease.
    Cancel,
    /// Set a status override.
    StatusUpdate,
    /// Remove a status override.
    DeleteStatusOverride,
}

impl ReplicationAction {
    /// The exact wire name (`Register`, `Heartbeat`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicationAction::Register => "Register",
            ReplicationAction::Heartbeat => "Heartbeat",
            ReplicationAction::Cancel => "Cancel",
            ReplicationAction::StatusUpdate => "StatusUpdate",
            ReplicationAction::DeleteStatusOverride => "DeleteStatusOverride",
        }
    }

    /// Parses an exact wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Register" => ReplicationAction::Register,
            "Heartbeat" => ReplicationAction::Heartbeat,
            "Cancel" => ReplicationAction::Cancel,
            "StatusUpdate" => ReplicationAction::StatusUpdate,
            "DeleteStatusOverride" => ReplicationAction::DeleteStatusOverride,
            _ => return None,
        })
    }
}

/// One item of a replication batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationInstance {
    /// Application name.
    pub app_name: String,
    /// Instance id.
    pub id: String,
    /// The sender's `lastDirtyTimestamp` for the instance.
    pub last_dirty_timestamp: Option<u64>,
    /// The sender's override, only for heartbeats of overridden instances.
    pub overridden_status: Option<InstanceStatus>,
    /// The sender's status for the instance.
    pub status: Option<InstanceStatus>,
    /// The full instance, only for `Register`.
    pub instance_info: Option<InstanceInfo>,
    /// The action.
    pub action: ReplicationAction,
    /// A server-side health check's verdict (eureka-rs peers only, `healthCheck`): Java peers
    /// refuse unknown item fields, so it is only sent to peers that announced they read it.
    pub health_check: Option<HealthCheckNote>,
}

/// What a node's health check concluded about an instance, carried with the `StatusUpdate`
/// that replicates it, so eureka-rs peers can tell it from an operator's override.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HealthCheckNote {
    /// True: the instance is marked DOWN by the check; false: the mark is lifted.
    pub down: bool,
    /// Why it is DOWN (`health check: connection refused`), when down.
    pub reason: Option<String>,
    /// Since when it has been DOWN, epoch ms, when down.
    pub since: Option<u64>,
    /// The node whose check marked it (its cluster name), when down.
    pub by: Option<String>,
    /// When lifted: the status the instance itself reports, to return to.
    pub status: Option<InstanceStatus>,
}

/// A replication batch (`{"replicationList": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplicationList {
    /// The items, applied in order.
    pub replication_list: Vec<ReplicationInstance>,
}

/// The outcome of one batch item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationInstanceResponse {
    /// HTTP-like status code of the item.
    pub status_code: u16,
    /// The receiver's copy of the instance, sent with 409 conflicts.
    pub response_entity: Option<InstanceInfo>,
}

/// The answer to a batch (`{"responseList": [...]}`), one entry per item in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplicationListResponse {
    /// The per-item outcomes.
    pub response_list: Vec<ReplicationInstanceResponse>,
}
