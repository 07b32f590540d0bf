//! Server-side health checks as the registry sees them: a DOWN mark kept beside the lease
//! (never in the instance's own fields) and the rule that turns it into the served status.
//!
//! The checks themselves (HTTP, TCP, scheduling, who checks what) live in the server; the
//! registry only stores their verdict, applies it in the one status rule chain and makes
//! setting or lifting it a visible change (version, delta, change log, recent events).

use std::sync::Arc;

use eureka_model::{InstanceInfo, InstanceStatus};

use crate::Millis;

/// A health check's DOWN verdict on one lease. Heartbeats and re-registrations keep it; only
/// [`crate::Registry::lift_health_down`] or the end of the lease remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthDown {
    /// Why, e.g. `health check: connection refused` or `health check: HTTP 503`.
    pub reason: Arc<str>,
    /// When the instance was marked DOWN, epoch ms.
    pub since: Millis,
    /// The cluster name of the node whose check marked it.
    pub by: Arc<str>,
    /// The status the rule chain gives the instance without the mark: what it returns to.
    pub reported: InstanceStatus,
}

/// What a check concluded, as [`crate::Registry::mark_health_down`] takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthMark {
    /// Why the instance is DOWN.
    pub reason: Arc<str>,
    /// Since when, epoch ms.
    pub since: Millis,
    /// The marking node's cluster name.
    pub by: Arc<str>,
}

/// The outcome of marking or lifting.
#[derive(Debug, Clone)]
pub struct HealthChange {
    /// The instance as stored afterwards (its served status).
    pub instance: Arc<InstanceInfo>,
    /// Whether the mark was set or removed by this call (false: it already was / was not).
    pub mark_changed: bool,
    /// Whether the served status changed (an instance held OUT_OF_SERVICE by an operator
    /// keeps that status whatever its health).
    pub status_changed: bool,
}

/// The last step of the status rule chain: a health-check DOWN takes an instance the chain
/// would otherwise serve as UP to DOWN. Every other status wins over it: an operator's
/// override other than UP (it is already in `resolved`), and what an instance says of itself
/// when it is not UP (STARTING, DOWN, UNKNOWN).
pub fn apply_health(resolved: InstanceStatus, marked_down: bool) -> InstanceStatus {
    if marked_down && resolved == InstanceStatus::Up {
        InstanceStatus::Down
    } else {
        resolved
    }
}

/// One instance with its health mark, as [`crate::Registry::health_view`] lists them.
#[derive(Debug, Clone)]
pub struct InstanceHealth {
    /// The instance as stored (served status).
    pub instance: Arc<InstanceInfo>,
    /// Its DOWN mark, if any.
    pub down: Option<HealthDown>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceStatus::*;

    #[test]
    fn a_mark_only_takes_up_to_down() {
        assert_eq!(apply_health(Up, true), Down);
        assert_eq!(apply_health(Up, false), Up);
        for other in [OutOfService, Starting, Down, Unknown] {
            assert_eq!(apply_health(other, true), other, "{other:?} wins over the mark");
        }
    }
}
