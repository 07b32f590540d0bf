//! The registry's background jobs: eviction, the renew-rate minute, delta retention.
//!
//! Each is a named loop owned by the server's `JoinSet`, running in a span of its name (so its
//! logs say which job spoke); each `select!`s on its tick and on the shutdown token and
//! returns when the server stops.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::task::JoinSet;
use tokio::time::{interval_at, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{info_span, Instrument};

use crate::state::SharedState;

/// How often the renew meter closes a bucket (Java's `MeasuredRate` minute).
pub const RENEW_METER_PERIOD: Duration = Duration::from_secs(60);

/// Spawns every background job into `tasks`.
pub fn spawn_all(state: &SharedState, shutdown: &CancellationToken, tasks: &mut JoinSet<()>) {
    tasks.spawn(eviction(state.clone(), shutdown.clone()).instrument(info_span!("eviction")));
    tasks.spawn(renew_meter(state.clone(), shutdown.clone()).instrument(info_span!("renew_meter")));
    tasks.spawn(
        delta_retention(state.clone(), shutdown.clone()).instrument(info_span!("delta_retention")),
    );
}

fn ticker(period: Duration) -> tokio::time::Interval {
    let mut t = interval_at(Instant::now() + period, period);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

/// Evicts expired leases every `eviction-interval-timer-in-ms`, compensating for late runs.
async fn eviction(state: SharedState, shutdown: CancellationToken) {
    let period = state.config.eviction_interval;
    let mut tick = ticker(period);
    let mut rng = StdRng::from_entropy();
    let mut last_run = Instant::now();
    // Self-preservation is logged when it starts and when it ends, not on every run.
    let mut preserving = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {
                let now = Instant::now();
                let compensation = (now - last_run).saturating_sub(period);
                last_run = now;
                let evicted = state.registry.evict(state.clock.now_ms(), compensation.as_millis() as u64, &mut rng);
                state.metrics.evicted(evicted.len());
                for gone in &evicted {
                    tracing::info!(app = %gone.app, instance_id = gone.id(), "evicted expired lease");
                }
                let now_preserving = !state.registry.lease_expiration_enabled();
                if now_preserving != preserving {
                    log_preservation(&state, now_preserving);
                    preserving = now_preserving;
                }
            }
        }
    }
    tracing::debug!("eviction task stopped");
}

/// Says once that self-preservation started (and why) or ended.
fn log_preservation(state: &SharedState, active: bool) {
    let s = state.registry.stats();
    if !active {
        tracing::info!(
            renews_last_min = s.renews_last_min,
            threshold = s.renew_threshold,
            "self-preservation ended: expired leases are evicted again"
        );
    } else if s.renew_threshold == 0 && s.renews_last_min == 0 {
        // A node's first minute: nothing has been counted yet, nothing is wrong.
        tracing::info!(
            "self-preservation holds until the first minute of renewals is counted: \
             expired leases are kept until then"
        );
    } else {
        tracing::warn!(
            renews_last_min = s.renews_last_min,
            threshold = s.renew_threshold,
            "self-preservation active: renewals are not above the threshold, expired leases \
             are kept (a network partition, or many instances stopped at once)"
        );
    }
}

/// Closes the renews-per-minute bucket every minute.
async fn renew_meter(state: SharedState, shutdown: CancellationToken) {
    let mut tick = ticker(RENEW_METER_PERIOD);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => state.registry.tick_renew_meter(),
        }
    }
    tracing::debug!("renew meter task stopped");
}

/// Drops delta entries (local, and remote regions' changes) older than the retention window.
async fn delta_retention(state: SharedState, shutdown: CancellationToken) {
    let mut tick = ticker(state.config.delta_retention_timer_interval);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {
                let now = state.clock.now_ms();
                state.registry.purge_delta(now);
                state.remote.regions.purge_changes(now);
            }
        }
    }
    tracing::debug!("delta retention task stopped");
}
