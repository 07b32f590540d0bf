//! Status overrides: the map of operator-set statuses and the rule chain that applies them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use eureka_model::InstanceStatus;

use crate::registry::Origin;
use crate::Millis;

/// How long an override lives after it was last read or written (Java: one hour).
pub const OVERRIDE_TTL_MS: Millis = 60 * 60 * 1000;

#[derive(Debug)]
struct Entry {
    status: InstanceStatus,
    last_access: AtomicU64,
}

/// Operator-set statuses keyed by instance id only (not app), as in Java, with access expiry.
#[derive(Debug, Default)]
pub(crate) struct OverrideMap {
    entries: HashMap<String, Entry>,
}

impl OverrideMap {
    /// Reads an override and refreshes its access time; safe under a shared lock.
    pub(crate) fn get(&self, id: &str, now: Millis) -> Option<InstanceStatus> {
        let e = self.entries.get(id)?;
        if now.saturating_sub(e.last_access.load(Ordering::Relaxed)) > OVERRIDE_TTL_MS {
            return None;
        }
        e.last_access.fetch_max(now, Ordering::Relaxed);
        Some(e.status)
    }

    pub(crate) fn contains(&self, id: &str, now: Millis) -> bool {
        self.get(id, now).is_some()
    }

    pub(crate) fn put(&mut self, id: &str, status: InstanceStatus, now: Millis) {
        self.entries.insert(id.to_string(), Entry { status, last_access: AtomicU64::new(now) });
    }

    pub(crate) fn remove(&mut self, id: &str, now: Millis) -> Option<InstanceStatus> {
        let e = self.entries.remove(id)?;
        let live = now.saturating_sub(e.last_access.load(Ordering::Relaxed)) <= OVERRIDE_TTL_MS;
        live.then_some(e.status)
    }

    /// Drops overrides not touched for [`OVERRIDE_TTL_MS`].
    pub(crate) fn purge_expired(&mut self, now: Millis) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, e| {
            now.saturating_sub(e.last_access.load(Ordering::Relaxed)) <= OVERRIDE_TTL_MS
        });
        before - self.entries.len()
    }

    /// Live overrides as (id, status), for Java's `/serverinfo/statusoverrides`.
    pub(crate) fn live(&self, now: Millis) -> Vec<(String, InstanceStatus)> {
        let mut out: Vec<_> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                now.saturating_sub(e.last_access.load(Ordering::Relaxed)) <= OVERRIDE_TTL_MS
            })
            .map(|(id, e)| (id.clone(), e.status))
            .collect();
        out.sort();
        out
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Java's status rule chain (first match wins), without the AWS-only ASG rule:
/// 1. an instance that says it is DOWN, STARTING or UNKNOWN is believed;
/// 2. an operator override wins next;
/// 3. for client calls, an existing lease's UP or OUT_OF_SERVICE is kept;
/// 4. otherwise the incoming status.
pub(crate) fn resolve_status(
    incoming: InstanceStatus,
    override_status: Option<InstanceStatus>,
    existing_status: Option<InstanceStatus>,
    origin: Origin,
) -> InstanceStatus {
    use InstanceStatus::*;
    if !matches!(incoming, Up | OutOfService) {
        return incoming;
    }
    if let Some(o) = override_status {
        return o;
    }
    if origin == Origin::Client {
        if let Some(s @ (Up | OutOfService)) = existing_status {
            return s;
        }
    }
    incoming
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceStatus::*;

    #[test]
    fn instances_reporting_not_ready_are_believed_over_overrides() {
        assert_eq!(resolve_status(Down, Some(Up), Some(Up), Origin::Client), Down);
        assert_eq!(resolve_status(Starting, Some(OutOfService), None, Origin::Peer), Starting);
        assert_eq!(resolve_status(Unknown, None, Some(Up), Origin::Client), Unknown);
    }

    #[test]
    fn override_beats_reported_up() {
        assert_eq!(resolve_status(Up, Some(OutOfService), Some(Up), Origin::Client), OutOfService);
    }

    #[test]
    fn existing_lease_status_is_kept_for_client_calls_only() {
        assert_eq!(resolve_status(Up, None, Some(OutOfService), Origin::Client), OutOfService);
        assert_eq!(resolve_status(Up, None, Some(OutOfService), Origin::Peer), Up);
        assert_eq!(resolve_status(OutOfService, None, Some(Down), Origin::Client), OutOfService);
    }

    #[test]
    fn overrides_expire_an_hour_after_last_access() {
        let mut m = OverrideMap::default();
        m.put("i1", OutOfService, 0);
        assert_eq!(m.get("i1", OVERRIDE_TTL_MS), Some(OutOfService));
        // The read above refreshed the access time.
        assert_eq!(m.get("i1", 2 * OVERRIDE_TTL_MS), Some(OutOfService));
        assert_eq!(m.get("i1", 3 * OVERRIDE_TTL_MS + 1), None);
        assert_eq!(m.purge_expired(3 * OVERRIDE_TTL_MS + 1), 1);
        assert_eq!(m.len(), 0);
    }
}
