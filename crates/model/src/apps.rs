//! Applications, registries and the `apps__hashcode` reconcile hash.

use std::sync::Arc;

use crate::instance::{InstanceInfo, InstanceStatus};

/// One application and its instances (`{"application": {"name": ..., "instance": [...]}}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Application {
    /// Upper-case application name.
    pub name: String,
    /// Instances, shared with the registry snapshot they came from.
    pub instances: Vec<Arc<InstanceInfo>>,
}

/// A registry document: full registry, delta or VIP subset (`applications` root).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applications {
    /// `versions__delta`: "1" for full fetches, "-1" for VIP fetches, a counter for deltas.
    pub versions_delta: String,
    /// `apps__hashcode`, see [`reconcile_hash_code`].
    pub apps_hashcode: String,
    /// The applications, in the order they are emitted.
    pub applications: Vec<Application>,
}

impl Applications {
    /// Iterates every instance of every application.
    pub fn instances(&self) -> impl Iterator<Item = &Arc<InstanceInfo>> {
        self.applications.iter().flat_map(|a| a.instances.iter())
    }

    /// The reconcile hash of the instances this document holds.
    pub fn compute_hash_code(&self) -> String {
        reconcile_hash_code(self.instances().map(|i| i.status))
    }
}

/// Java's `Applications.getReconcileHashCode`: per-status counts over all instances, zero counts
/// dropped, ordered by status name, each written `NAME_count_` (e.g. `DOWN_1_UP_3_`).
pub fn reconcile_hash_code(statuses: impl IntoIterator<Item = InstanceStatus>) -> String {
    let mut counts = [0usize; InstanceStatus::ALL.len()];
    for status in statuses {
        let slot = InstanceStatus::ALL.iter().position(|s| *s == status).unwrap_or(0);
        counts[slot] += 1;
    }
    hash_code_of_counts(InstanceStatus::ALL.iter().copied().zip(counts))
}

/// [`reconcile_hash_code`] from counts already kept per status (in any order), so a registry
/// that counts as it changes answers without walking its instances.
pub fn hash_code_of_counts(counts: impl IntoIterator<Item = (InstanceStatus, usize)>) -> String {
    let mut by_status = [0usize; InstanceStatus::ALL.len()];
    for (status, count) in counts {
        let slot = InstanceStatus::ALL.iter().position(|s| *s == status).unwrap_or(0);
        by_status[slot] += count;
    }
    let mut out = String::new();
    for (status, count) in InstanceStatus::ALL.iter().zip(by_status) {
        if count > 0 {
            out.push_str(status.as_str());
            out.push('_');
            out.push_str(&count.to_string());
            out.push('_');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceStatus::*;

    #[test]
    fn hash_code_orders_by_status_name_not_by_count() {
        assert_eq!(reconcile_hash_code([Up, Up, Down, Up]), "DOWN_1_UP_3_");
        assert_eq!(reconcile_hash_code([Up]), "UP_1_");
        assert_eq!(reconcile_hash_code([]), "");
        assert_eq!(
            reconcile_hash_code([Up, Unknown, Starting, OutOfService, Down]),
            "DOWN_1_OUT_OF_SERVICE_1_STARTING_1_UNKNOWN_1_UP_1_"
        );
    }

    #[test]
    fn status_order_is_alphabetical_by_wire_name() {
        let names: Vec<_> = InstanceStatus::ALL.iter().map(|s| s.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }
}
