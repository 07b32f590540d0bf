//! `eureka.server.*` keys of the registry itself: leases, eviction, self-preservation, the
//! delta queue, and Java's response-cache keys (accepted, without effect).

use crate::config::check::{any, fraction, millis, positive_millis};
use crate::config::kinds::{BOOL, FRACTION, MILLIS, SECONDS, USIZE};

use super::Spring::{Ours, Same};
use super::{bind, Group};

pub(super) const GROUP: Group = Group {
    title: "Registry, leases and self-preservation",
    rows: &[
        bind!("eureka.server.enable-self-preservation"
            => enable_self_preservation: BOOL, any; Same,
            "Stop evicting expired leases while renewals are under the threshold: a network \
             partition is likelier than a fleet dying at once."),
        bind!("eureka.server.renewal-percent-threshold"
            => renewal_percent_threshold: FRACTION, fraction; Same,
            "Share (0 to 1) of expected renewals, counted from each lease's own interval, \
             under which self-preservation engages; one eviction run also removes at most \
             (1 - threshold) of the leases."),
        // Expected renewals are counted from each lease's own renewal interval and recomputed
        // at every minute tick, so Java's assumed client interval and its 15-minute recompute
        // period have nothing to set (accepted so Java configuration files still load).
        bind!("eureka.server.expected-client-renewal-interval-seconds" => no_effect SECONDS; Same,
            "Accepted, no effect: expected renewals come from each lease's own renewal \
             interval."),
        bind!("eureka.server.renewal-threshold-update-interval-ms" => no_effect MILLIS; Same,
            "Accepted, no effect: expected renewals are recounted every minute."),
        bind!("eureka.server.eviction-interval-timer-in-ms"
            => eviction_interval: MILLIS, positive_millis; Same,
            "How often expired leases are evicted (a late run is compensated for)."),
        bind!("eureka.server.legacy-double-lease-expiry"
            => legacy_double_lease_expiry: BOOL, any; Ours,
            "Reproduce Java's bug: a renewed lease expires two lease durations after its last \
             renewal instead of one."),
        bind!("eureka.server.retention-time-in-m-s-in-delta-queue"
            => delta_retention: MILLIS, millis; Same,
            "How long a change stays in `apps/delta` answers."),
        bind!("eureka.server.delta-retention-timer-interval-in-ms"
            => delta_retention_timer_interval: MILLIS, positive_millis; Same,
            "How often changes older than the retention time leave the delta queue."),
        bind!("eureka.server.disable-delta" => disable_delta: BOOL, any; Same,
            "Answer `apps/delta` with 403, so clients fetch the full registry."),
        bind!("eureka.server.use-read-only-response-cache" => no_effect BOOL; Same,
            "Accepted, no effect: reads are never stale (each document is the registry's at \
             the version it is served at)."),
        bind!("eureka.server.response-cache-update-interval-ms" => no_effect MILLIS; Same,
            "Accepted, no effect: there is no read-only cache to refresh."),
        bind!("eureka.server.response-cache-auto-expiration-in-seconds"
            => no_effect SECONDS; Same,
            "Accepted, no effect: encoded documents are dropped when the registry changes."),
        bind!("eureka.server.initial-capacity-of-response-cache" => no_effect USIZE; Same,
            "Accepted, no effect."),
    ],
};
