//! Lease arithmetic, as pure functions of `now`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use eureka_model::{ActionType, InstanceInfo, LeaseInfo};

use crate::health::HealthDown;
use crate::Millis;

/// A lease on one registered instance.
///
/// The instance document is immutable and shared (`Arc`); a change replaces it. Renewal only
/// stores a timestamp, so the renew hot path needs no write lock.
#[derive(Debug)]
pub(crate) struct Lease {
    pub(crate) instance: Arc<InstanceInfo>,
    pub(crate) registration_ts: Millis,
    pub(crate) service_up_ts: Millis,
    pub(crate) duration_ms: Millis,
    last_renewal_ts: AtomicU64,
    renewed: AtomicBool,
    /// The user that owns the instance on this node: set by the first write that names one
    /// (a claim under the read lock, so renewals never take the write lock for it).
    pub(crate) owner: OnceLock<Arc<str>>,
    /// A health check's DOWN mark: beside the lease, never in the instance's own fields.
    pub(crate) health: Option<HealthDown>,
}

impl Lease {
    pub(crate) fn new(instance: Arc<InstanceInfo>, now: Millis, service_up_ts: Millis) -> Self {
        let duration_ms = lease_duration_ms(&instance.lease_info);
        Lease {
            instance,
            registration_ts: now,
            service_up_ts,
            duration_ms,
            last_renewal_ts: AtomicU64::new(now),
            renewed: AtomicBool::new(false),
            owner: OnceLock::new(),
            health: None,
        }
    }

    /// Replaces the instance with an edited copy marked `MODIFIED` at `now` (documents are
    /// immutable and shared with snapshots) and returns it for the delta queue. The copy's
    /// `serviceUpTimestamp` follows the lease's.
    pub(crate) fn modify(
        &mut self,
        now: Millis,
        edit: impl FnOnce(&mut InstanceInfo),
    ) -> Arc<InstanceInfo> {
        let mut updated = (*self.instance).clone();
        edit(&mut updated);
        updated.action_type = Some(ActionType::Modified);
        updated.last_updated_timestamp = now;
        updated.lease_info.service_up_timestamp = self.service_up_ts;
        self.instance = Arc::new(updated);
        self.instance.clone()
    }

    /// Whether `user` may write this instance: it owns it, or nobody did and `user` now does.
    /// Costs one pointer compare when the names come from the same configuration.
    pub(crate) fn admits(&self, user: &Arc<str>) -> bool {
        let owner = self.owner.get_or_init(|| user.clone());
        Arc::ptr_eq(owner, user) || **owner == **user
    }

    /// The status the rule chain gives the instance without its health mark.
    pub(crate) fn reported(&self) -> eureka_model::InstanceStatus {
        self.health.as_ref().map_or(self.instance.status, |h| h.reported)
    }

    /// Records the first time the instance is seen UP (Java's `serviceUp()`).
    pub(crate) fn service_up(&mut self, now: Millis) {
        if self.service_up_ts == 0 {
            self.service_up_ts = now;
        }
    }

    /// Records a renewal. Monotonic, so a late-arriving renew never moves expiry backwards.
    pub(crate) fn renew(&self, now: Millis) {
        self.last_renewal_ts.fetch_max(now, Ordering::Relaxed);
        self.renewed.store(true, Ordering::Relaxed);
    }

    pub(crate) fn last_renewal(&self) -> Millis {
        self.last_renewal_ts.load(Ordering::Relaxed)
    }

    /// When the lease expires. Correct by default: `duration` after the last renew. With
    /// `legacy_double` it reproduces Java's `Lease.renew()` quirk: once renewed, `2 × duration`.
    pub(crate) fn expires_at(&self, legacy_double: bool) -> Millis {
        let factor = if legacy_double && self.renewed.load(Ordering::Relaxed) { 2 } else { 1 };
        self.last_renewal().saturating_add(self.duration_ms.saturating_mul(factor))
    }

    /// Java's `isExpired(additionalLeaseMs)`: strictly past expiry plus the late-timer slack.
    pub(crate) fn is_expired(&self, now: Millis, extra_ms: Millis, legacy_double: bool) -> bool {
        now > self.expires_at(legacy_double).saturating_add(extra_ms)
    }

    /// The `leaseInfo` clients see. In legacy mode `lastRenewalTimestamp` is shown the way Java
    /// stores it (renew time + duration), so operators comparing servers see the same numbers.
    pub(crate) fn wire_lease_info(&self, legacy_double: bool) -> LeaseInfo {
        let renewed = self.renewed.load(Ordering::Relaxed);
        let last = if legacy_double && renewed {
            self.last_renewal().saturating_add(self.duration_ms)
        } else {
            self.last_renewal()
        };
        LeaseInfo {
            renewal_interval_in_secs: self.instance.lease_info.renewal_interval_in_secs,
            duration_in_secs: self.instance.lease_info.duration_in_secs,
            registration_timestamp: self.registration_ts,
            last_renewal_timestamp: last,
            eviction_timestamp: 0,
            service_up_timestamp: self.service_up_ts,
        }
    }
}

/// The lease duration a registrant asked for, or Java's 90 s when it gave none.
pub(crate) fn lease_duration_ms(info: &LeaseInfo) -> Millis {
    let secs = if info.duration_in_secs > 0 {
        info.duration_in_secs
    } else {
        LeaseInfo::DEFAULT_DURATION_SECS
    };
    Millis::from(secs) * 1000
}

/// The renewal interval a registrant promised, or Java's 30 s when it gave none.
pub(crate) fn renewal_interval_ms(info: &LeaseInfo) -> Millis {
    let secs = if info.renewal_interval_in_secs > 0 {
        info.renewal_interval_in_secs
    } else {
        LeaseInfo::DEFAULT_RENEWAL_INTERVAL_SECS
    };
    Millis::from(secs) * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(duration_secs: u32, now: Millis) -> Lease {
        let mut info = InstanceInfo::default();
        info.lease_info.duration_in_secs = duration_secs;
        Lease::new(Arc::new(info), now, 0)
    }

    #[test]
    fn expires_one_duration_after_last_renew() {
        let l = lease(90, 1_000);
        assert!(!l.is_expired(91_000, 0, false));
        assert!(l.is_expired(91_001, 0, false));
        l.renew(50_000);
        assert!(!l.is_expired(140_000, 0, false));
        assert!(l.is_expired(140_001, 0, false));
    }

    #[test]
    fn legacy_mode_doubles_the_duration_after_a_renew_only() {
        let l = lease(90, 0);
        assert!(l.is_expired(90_001, 0, true), "never renewed: one duration, as in Java");
        l.renew(10_000);
        assert!(!l.is_expired(190_000, 0, true));
        assert!(l.is_expired(190_001, 0, true));
        assert_eq!(l.wire_lease_info(true).last_renewal_timestamp, 100_000);
        assert_eq!(l.wire_lease_info(false).last_renewal_timestamp, 10_000);
    }

    #[test]
    fn slack_delays_expiry_and_renewals_never_go_backwards() {
        let l = lease(10, 0);
        assert!(!l.is_expired(15_000, 5_000, false));
        l.renew(8_000);
        l.renew(3_000);
        assert_eq!(l.last_renewal(), 8_000);
    }

    #[test]
    fn missing_duration_defaults_to_ninety_seconds() {
        let l = lease(0, 0);
        assert_eq!(l.duration_ms, 90_000);
    }
}
