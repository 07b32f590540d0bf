//! Server-side health checks (`eureka.server.health-checks.*`): the server checking registered
//! instances itself. No Spring counterpart: Java's server never calls `healthCheckUrl`.

use crate::config::check::{
    any, at_least_one, fraction, positive_count, positive_millis, reject, Rejected,
};
use crate::config::kinds::{BOOL, DURATION, FRACTION, HEALTH_MODE, U32, USIZE};

use super::Spring::Ours;
use super::{bind, set_optional, show_optional, Apply, Binding, Group, Shown};

pub(super) const GROUP: Group = Group {
    title: "Server-side health checks",
    rows: &[
        bind!("eureka.server.health-checks.enabled" => health_checks.enabled: BOOL, any; Ours,
            "Check registered instances from the server (HTTP `GET` of the health check URL, \
             else a TCP connect) and mark failing ones DOWN; see [Health checks](#health-checks)."),
        bind!("eureka.server.health-checks.interval"
            => health_checks.interval: DURATION, positive_millis; Ours,
            "How often each instance is checked; checks spread over the interval."),
        Binding {
            key: "eureka.server.health-checks.timeout",
            apply: Apply::Scalar(|b, raw| {
                set_optional(&mut b.config.health_checks.timeout, raw, DURATION.parse)
            }),
            check: check_timeout,
            show: |c| show_optional(&c.health_checks.timeout, DURATION.show),
            ty: DURATION.ty,
            spring: Ours,
            doc: "Per check, connection and answer; not longer than the interval. Unset: 2s, \
                  or the interval when that is shorter.",
        },
        bind!("eureka.server.health-checks.failures-before-down"
            => health_checks.failures_before_down: U32, at_least_one; Ours,
            "Consecutive failures that mark an instance DOWN (at least 1)."),
        bind!("eureka.server.health-checks.successes-before-up"
            => health_checks.successes_before_up: U32, at_least_one; Ours,
            "Consecutive passes that lift the mark (at least 1)."),
        bind!("eureka.server.health-checks.max-concurrency"
            => health_checks.max_concurrency: USIZE, positive_count; Ours,
            "Checks in flight at once on this node."),
        bind!("eureka.server.health-checks.max-failing-fraction"
            => health_checks.max_failing_fraction: FRACTION, fraction; Ours,
            "Above this share of failing checks in one interval the node suspects its own \
             network and marks nothing DOWN."),
        bind!("eureka.server.health-checks.suspicion-min-failing"
            => health_checks.suspicion_min_failing: USIZE, any; Ours,
            "Fewer failing instances never count as suspicious (a node checking one dead \
             instance marks it)."),
        bind!("eureka.server.health-checks.default-mode"
            => health_checks.default_mode: HEALTH_MODE, any; Ours,
            "`auto` (HTTP with a health check URL, else TCP), `http`, `tcp` or `none`; the \
             instance metadata key `eureka-health-check` wins over it."),
        Binding {
            key: "eureka.server.health-checks.apps.*",
            apply: Apply::Map(|b, app, raw| {
                let app = app.to_ascii_uppercase();
                match raw {
                    Some(raw) => {
                        b.config.health_checks.app_modes.insert(app, (HEALTH_MODE.parse)(raw)?);
                    }
                    None => {
                        b.config.health_checks.app_modes.remove(&app);
                    }
                }
                Ok(())
            }),
            check: |_| Ok(()),
            show: |c| {
                let modes = &c.health_checks.app_modes;
                Shown::Entries(
                    modes.iter().map(|(app, m)| (app.clone(), (HEALTH_MODE.show)(m))).collect(),
                )
            },
            ty: HEALTH_MODE.ty,
            spring: Ours,
            doc: "The mode for one application, e.g. `apps.ORDERS: tcp` (names compared \
                  upper-cased); wins over `default-mode`.",
        },
    ],
};

/// A set timeout is positive and not longer than the interval.
fn check_timeout(c: &crate::config::settings::ServerConfig) -> Result<(), Rejected> {
    let Some(timeout) = c.health_checks.timeout else { return Ok(()) };
    positive_millis(&timeout)?;
    if timeout > c.health_checks.interval {
        return reject(
            format!("{}ms", timeout.as_millis()),
            "a timeout not longer than eureka.server.health-checks.interval",
        );
    }
    Ok(())
}
