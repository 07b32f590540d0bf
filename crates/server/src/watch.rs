//! Push on top of Eureka: wakes long polls and change streams when the registry changes.
//!
//! The registry stays free of any runtime: it calls one listener with each new version
//! (under its write lock, so the call is a single `watch::Sender::send_replace`). Waiters
//! subscribe to that `watch` and re-read the registry when woken, so a burst of changes
//! costs one wake-up per waiter, not one per change.
//!
//! Change streams share one log of encoded events ([`EncodedChange`]: the SSE frame as
//! `Bytes`, encoded once by whichever watcher needs it first); each watcher holds only a
//! cursor (a version) into it, so memory per watcher is constant and one change costs one
//! encoding however many watchers there are.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use eureka_model::{ActionType, InstanceInfo};
use eureka_registry::{ChangesSince, Registry};
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How many encoded change events the hub keeps for watchers to share; a watcher further
/// behind is served from the registry's own log (encoded for it alone) or resynchronised.
pub const ENCODED_LOG_CAPACITY: usize = 4096;

/// One change as a ready-to-send SSE frame (`id`, `event: change`, JSON `data`).
#[derive(Debug)]
pub struct EncodedChange {
    /// The registry version the change produced (the event id).
    pub version: u64,
    /// The instance's application, for `apps=` filters.
    pub app: String,
    /// The whole frame, shared by every watcher that sends it.
    pub frame: Bytes,
}

impl EncodedChange {
    fn encode(version: u64, instance: &InstanceInfo) -> Self {
        let action = match instance.action_type {
            Some(ActionType::Deleted) => "DELETED",
            Some(ActionType::Modified) => "MODIFIED",
            _ => "ADDED",
        };
        // `{"instance":{...}}` becomes `{"action":..,"app":..,"version":..,"instance":{...}}`:
        // the instance keeps Eureka's JSON shape. JSON encoders escape newlines, so the data
        // is one line as SSE requires.
        let instance_json = eureka_model::json::encode_instance(instance);
        let app = serde_json::to_string(&instance.app).unwrap_or_else(|_| "\"\"".into());
        let mut frame = Vec::with_capacity(instance_json.len() + 128);
        frame.extend_from_slice(
            format!(
                "id: {version}\nevent: change\ndata: {{\"action\":\"{action}\",\"app\":{app},\"version\":{version},"
            )
            .as_bytes(),
        );
        frame.extend_from_slice(instance_json.get(1..).unwrap_or_default());
        frame.extend_from_slice(b"\n\n");
        EncodedChange { version, app: instance.app.clone(), frame: Bytes::from(frame) }
    }
}

/// Events after a cursor, or word that the cursor is too old to resume from.
#[derive(Debug)]
pub enum EventsSince {
    /// The next events, oldest first; empty when the watcher is up to date.
    Events(Vec<Arc<EncodedChange>>),
    /// A change after the cursor is no longer retained: send a fresh snapshot.
    Resync,
}

/// One connected watcher as the hub sees it: what it has been sent so far.
#[derive(Debug)]
pub struct Watcher {
    /// The version of the last event handed to the connection (snapshot or change).
    pub cursor: AtomicU64,
    /// The applications it watches (upper case); `None` for all.
    pub apps: Option<Vec<String>>,
    /// The `X-Eureka-Client-Id` it opened the stream with, so drain can name it.
    pub client_id: Option<String>,
}

impl Watcher {
    /// Whether this watcher receives changes of `app`.
    pub fn wants(&self, app: &str) -> bool {
        self.apps.as_ref().is_none_or(|apps| apps.iter().any(|a| a == app))
    }
}

/// The longest a long poll may hold a request (`wait` above it is capped).
pub const MAX_LONG_POLL: Duration = Duration::from_secs(60);

/// The server's side of push: the latest version as a `watch`, and the token that ends
/// every held request and stream when the server shuts down.
#[derive(Debug)]
pub struct WatchHub {
    version: watch::Sender<u64>,
    closing: CancellationToken,
    /// Contiguous by version; filled on demand, trimmed to [`ENCODED_LOG_CAPACITY`].
    log: Mutex<VecDeque<Arc<EncodedChange>>>,
    watchers: Mutex<HashMap<u64, Arc<Watcher>>>,
    next_watcher: AtomicU64,
    resyncs: AtomicU64,
    dropped: AtomicU64,
    /// Bumped when a watcher hands an event to its connection or a poller is answered,
    /// while a drain listens (see [`WatchHub::progressed`]).
    progress: watch::Sender<u64>,
    /// Identified polling clients and the newest version each was answered with.
    pollers: Mutex<Pollers>,
}

impl WatchHub {
    /// A hub fed by `registry`'s change listener.
    pub fn new(registry: &Registry) -> Self {
        let (tx, _) = watch::channel(registry.version());
        let feed = tx.clone();
        registry.set_change_listener(Box::new(move |v| {
            feed.send_replace(v);
        }));
        WatchHub {
            version: tx,
            closing: CancellationToken::new(),
            log: Mutex::new(VecDeque::new()),
            watchers: Mutex::new(HashMap::new()),
            next_watcher: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            progress: watch::channel(0).0,
            pollers: Mutex::new(Pollers::default()),
        }
    }

    /// Adds a watcher at `cursor`; the caller removes it with [`WatchHub::remove`].
    pub fn add(
        &self,
        apps: Option<Vec<String>>,
        client_id: Option<String>,
        cursor: u64,
    ) -> (u64, Arc<Watcher>) {
        let id = self.next_watcher.fetch_add(1, Ordering::Relaxed);
        let watcher = Arc::new(Watcher { cursor: AtomicU64::new(cursor), apps, client_id });
        self.watchers.lock().insert(id, watcher.clone());
        (id, watcher)
    }

    /// Removes a watcher (its stream ended).
    pub fn remove(&self, id: u64) {
        self.watchers.lock().remove(&id);
    }

    /// The connected watchers with their hub ids, for drain.
    pub fn watchers_by_id(&self) -> Vec<(u64, Arc<Watcher>)> {
        self.watchers.lock().iter().map(|(id, w)| (*id, w.clone())).collect()
    }

    /// Signals a pending drain that a watcher's cursor or a poller's version moved. Costs
    /// nothing while no drain listens, which is almost always.
    pub fn progressed(&self) {
        if self.progress.receiver_count() > 0 {
            self.progress.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// A receiver woken by [`WatchHub::progressed`].
    pub fn subscribe_progress(&self) -> watch::Receiver<u64> {
        self.progress.subscribe()
    }

    /// Remembers that the polling client `client_id` was answered with `version` at `now`.
    pub fn record_poller(&self, client_id: &str, version: u64, now: Instant) {
        self.pollers.lock().record(client_id, version, now);
        self.progressed();
    }

    /// The identified polling clients heard from within [`POLLER_EXPIRY`] of `now`, with
    /// the newest version each was answered with.
    pub fn pollers(&self, now: Instant) -> Vec<(String, u64)> {
        self.pollers.lock().live(now)
    }

    /// Connected watchers now.
    pub fn watcher_count(&self) -> usize {
        self.watchers.lock().len()
    }

    /// Counts a watcher sent a fresh snapshot because its cursor left the log.
    pub fn count_resync(&self) {
        self.resyncs.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a watcher disconnected for falling behind again and again.
    pub fn count_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Resyncs so far.
    pub fn resyncs(&self) -> u64 {
        self.resyncs.load(Ordering::Relaxed)
    }

    /// Dropped watchers so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Up to `max` encoded events after version `after`, shared with every other watcher.
    ///
    /// The shared log is extended from the registry's change log under the hub's lock, so
    /// each change is encoded once; a cursor older than the shared log is served from the
    /// registry directly (encoded for that watcher only: it is catching up).
    pub fn events_since(&self, registry: &Registry, after: u64, max: usize) -> EventsSince {
        let mut log = self.log.lock();
        let newest = log.back().map(|e| e.version);
        let oldest = log.front().map(|e| e.version);
        let in_range =
            matches!((oldest, newest), (Some(o), Some(n)) if after + 1 >= o && after <= n);
        if !in_range {
            // Empty log, a cursor behind it, or ahead of it (the log lags the registry): start
            // the shared log over from this cursor when it is the freshest ask.
            let changes = match registry.changes_since(after, max) {
                ChangesSince::Changes(c) => c,
                ChangesSince::Gone => return EventsSince::Resync,
            };
            let events: Vec<Arc<EncodedChange>> = changes
                .iter()
                .map(|c| Arc::new(EncodedChange::encode(c.version, &c.instance)))
                .collect();
            if !events.is_empty() && newest.is_none_or(|n| after >= n) {
                log.clear();
                log.extend(events.iter().cloned());
                trim(&mut log);
            }
            return EventsSince::Events(events);
        }
        let newest = newest.unwrap_or(after);
        if registry.version() > newest {
            match registry.changes_since(newest, ENCODED_LOG_CAPACITY) {
                ChangesSince::Changes(c) => {
                    log.extend(
                        c.iter().map(|c| Arc::new(EncodedChange::encode(c.version, &c.instance))),
                    );
                    trim(&mut log);
                }
                ChangesSince::Gone => {
                    log.clear();
                    return EventsSince::Resync;
                }
            }
        }
        let first = log.front().map_or(after + 1, |e| e.version);
        if after + 1 < first {
            return EventsSince::Resync;
        }
        let skip = usize::try_from(after + 1 - first).unwrap_or(usize::MAX);
        EventsSince::Events(log.iter().skip(skip).take(max).cloned().collect())
    }

    /// A receiver of every new version (the latest one, not each one).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Cancelled when the server stops accepting requests: held requests answer at once and
    /// streams end, so graceful shutdown is not held up by them.
    pub fn closing(&self) -> &CancellationToken {
        &self.closing
    }

    /// Waits until the registry version differs from `since` (newer, or from another
    /// registry), `wait` has passed, or the server is shutting down. Returns whether the
    /// version moved.
    pub async fn wait_for_change(&self, since: u64, wait: Duration) -> bool {
        let mut rx = self.subscribe();
        let moved = async move { rx.wait_for(|v| *v != since).await.is_ok() };
        tokio::select! {
            moved = moved => moved,
            _ = tokio::time::sleep(wait) => false,
            _ = self.closing.cancelled() => false,
        }
    }
}

/// How long an identified polling client is remembered without a request: twice the
/// longest poll interval a client is expected to use (Eureka's 30 s default, plus slack).
pub const POLLER_EXPIRY: Duration = Duration::from_secs(90);
/// The most polling clients remembered; beyond it the longest silent one is forgotten, so
/// client ids sent by anyone cannot grow the map without bound.
pub const MAX_POLLERS: usize = 10_000;

/// What the hub remembers of one identified polling client.
#[derive(Debug, Clone, Copy)]
struct Polled {
    version: u64,
    at: Instant,
}

/// Identified polling clients (`X-Eureka-Client-Id` on `apps` and `apps/delta`), bounded
/// by [`MAX_POLLERS`] and forgotten after [`POLLER_EXPIRY`] of silence.
#[derive(Debug, Default)]
struct Pollers(HashMap<String, Polled>);

impl Pollers {
    fn record(&mut self, id: &str, version: u64, now: Instant) {
        if let Some(p) = self.0.get_mut(id) {
            // Answers can complete out of order; keep the newest version seen.
            p.version = p.version.max(version);
            p.at = now;
            return;
        }
        if self.0.len() >= MAX_POLLERS {
            self.0.retain(|_, p| now.duration_since(p.at) < POLLER_EXPIRY);
        }
        if self.0.len() >= MAX_POLLERS {
            let oldest = self.0.iter().min_by_key(|(_, p)| p.at).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.0.remove(&oldest);
            }
        }
        self.0.insert(id.to_string(), Polled { version, at: now });
    }

    fn live(&mut self, now: Instant) -> Vec<(String, u64)> {
        self.0.retain(|_, p| now.duration_since(p.at) < POLLER_EXPIRY);
        self.0.iter().map(|(id, p)| (id.clone(), p.version)).collect()
    }
}

fn trim(log: &mut VecDeque<Arc<EncodedChange>>) {
    while log.len() > ENCODED_LOG_CAPACITY {
        log.pop_front();
    }
}
