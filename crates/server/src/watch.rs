//! Push on top of Eureka: wakes long polls and change streams when the registry changes.
//!
//! The registry stays free of any runtime: it calls one listener with each new version
//! (under its write lock, so the call is a single `watch::Sender::send_replace`). Waiters
//! subscribe to that `watch` and re-read the registry when woken, so a burst of changes
//! costs one wake-up per waiter, not one per change.

use std::time::Duration;

use eureka_registry::Registry;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The longest a long poll may hold a request (`wait` above it is capped).
pub const MAX_LONG_POLL: Duration = Duration::from_secs(60);

/// The server's side of push: the latest version as a `watch`, and the token that ends
/// every held request and stream when the server shuts down.
#[derive(Debug)]
pub struct WatchHub {
    version: watch::Sender<u64>,
    closing: CancellationToken,
}

impl WatchHub {
    /// A hub fed by `registry`'s change listener.
    pub fn new(registry: &Registry) -> Self {
        let (tx, _) = watch::channel(registry.version());
        let feed = tx.clone();
        registry.set_change_listener(Box::new(move |v| {
            feed.send_replace(v);
        }));
        WatchHub { version: tx, closing: CancellationToken::new() }
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
