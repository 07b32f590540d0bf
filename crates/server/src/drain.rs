//! Drain: has every client of this node seen a change yet?
//!
//! `POST apps/{APP}/{ID}/drain` takes an instance out of service (the registry's ordinary
//! status override, replicated like any other) and then waits until everyone this node
//! serves has *seen* the resulting version `V`:
//!
//! - every connected watcher whose `apps=` filter includes `APP` has had an event with a
//!   version at or above `V` written to its connection by this node (taken by the HTTP
//!   connection; nothing is acknowledged by the remote process, so "seen" means "sent");
//! - every identified polling client (a fetch of `apps` or `apps/delta` carrying
//!   `X-Eureka-Client-Id`, heard from within [`POLLER_EXPIRY`]) was last answered with a
//!   document at or above `V`, or follows the stream under the same id and its watcher has.
//!
//! Watchers and pollers of other nodes are not counted: drain each node to cover them.
//!
//! [`POLLER_EXPIRY`]: crate::watch::POLLER_EXPIRY

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use crate::watch::WatchHub;

/// How long a drain waits when the request does not say.
pub const DEFAULT_DRAIN_WAIT: Duration = Duration::from_secs(30);
/// The longest a drain may wait.
pub const MAX_DRAIN_WAIT: Duration = Duration::from_secs(120);
/// How often a waiting drain looks again without being woken: pollers expire silently.
const RECHECK: Duration = Duration::from_secs(1);

/// Who has and has not seen a version, by name: a watcher is named by its client id, or
/// `watcher-N` when it gave none; a poller by its client id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// Watchers of the application that were sent the version.
    pub watchers_seen: Vec<String>,
    /// Watchers of the application that were not, yet.
    pub watchers_pending: Vec<String>,
    /// Identified polling clients answered with the version (or watching it).
    pub clients_seen: Vec<String>,
    /// Identified polling clients not answered with it yet.
    pub clients_pending: Vec<String>,
}

impl Seen {
    /// Whether nobody is pending.
    pub fn complete(&self) -> bool {
        self.watchers_pending.is_empty() && self.clients_pending.is_empty()
    }
}

/// Who has seen `version` of `app` now.
pub fn seen(hub: &WatchHub, app: &str, version: u64, now: Instant) -> Seen {
    let mut out = Seen::default();
    let mut watching = HashSet::new();
    for (id, watcher) in hub.watchers_by_id() {
        let has_seen = watcher.cursor.load(Ordering::Acquire) >= version;
        if let Some(client) = &watcher.client_id {
            if has_seen {
                watching.insert(client.clone());
            }
        }
        if !watcher.wants(app) {
            continue;
        }
        let name = watcher.client_id.clone().unwrap_or_else(|| format!("watcher-{id}"));
        if has_seen {
            out.watchers_seen.push(name);
        } else {
            out.watchers_pending.push(name);
        }
    }
    for (client, answered) in hub.pollers(now) {
        if answered >= version || watching.contains(&client) {
            out.clients_seen.push(client);
        } else {
            out.clients_pending.push(client);
        }
    }
    for list in [
        &mut out.watchers_seen,
        &mut out.watchers_pending,
        &mut out.clients_seen,
        &mut out.clients_pending,
    ] {
        list.sort();
    }
    out
}

/// Waits until everyone has seen `version` of `app`, `wait` has passed, or the server is
/// shutting down, and says who had. Holds no lock while waiting: it sleeps on the hub's
/// progress signal, which watchers and pollers bump as they move.
pub async fn wait_until_seen(hub: &WatchHub, app: &str, version: u64, wait: Duration) -> Seen {
    let deadline = Instant::now() + wait;
    let mut progress = hub.subscribe_progress();
    loop {
        // Marked before looking, so progress made while we look wakes the wait below.
        progress.borrow_and_update();
        let now = Instant::now();
        let seen = seen(hub, app, version, now);
        if seen.complete() || now >= deadline || hub.closing().is_cancelled() {
            return seen;
        }
        tokio::select! {
            _ = progress.changed() => {}
            _ = tokio::time::sleep_until(deadline.min(now + RECHECK)) => {}
            _ = hub.closing().cancelled() => {}
        }
    }
}
