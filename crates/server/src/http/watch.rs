//! `GET {base}/watch`: the registry as server-sent events.
//!
//! A stream opens with one `snapshot` event (the full registry in Eureka's JSON, or the
//! `apps=` subset; its id is the version) and then sends one `change` event per change, the
//! version as its id. `Last-Event-ID` resumes after that version while the change log still
//! holds it; otherwise the stream starts with a fresh snapshot. `?since=V` does the same for
//! a first connection (a browser's `EventSource` cannot set the header): a page that read
//! `GET apps` at version V follows on from there without a second copy of the registry. A comment is sent every
//! [`KEEP_ALIVE`] so idle proxies keep the connection.
//!
//! The body is pulled by the connection: the next event is produced only when the previous
//! one was handed to the socket, so a slow reader holds a cursor, never a queue. When its
//! cursor leaves the log it gets a fresh snapshot (a resync); a watcher that needs
//! [`MAX_RESYNCS`] resyncs within [`RESYNC_WINDOW`] is disconnected (dropped).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eureka_model::{AppName, Applications, Codec, Detail, Format};
use tokio::sync::watch;
use tokio::time::Instant;

use super::error::ApiError;
use crate::state::SharedState;
use crate::watch::{EncodedChange, EventsSince, Watcher};

/// The media type of the stream.
pub const EVENT_STREAM: &str = "text/event-stream";
/// The header a reconnecting client names its last event with.
pub const LAST_EVENT_ID: &str = "last-event-id";
/// How often an idle stream sends a comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Resyncs within [`RESYNC_WINDOW`] after which a watcher is dropped.
pub const MAX_RESYNCS: usize = 3;
/// See [`MAX_RESYNCS`].
pub const RESYNC_WINDOW: Duration = Duration::from_secs(60);
/// Events taken from the shared log per wake-up.
const BATCH: usize = 256;

/// Opens a change stream (see the module documentation).
pub fn open(
    state: &SharedState,
    apps: Option<&str>,
    since: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let apps: Option<Vec<String>> = apps.map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| AppName::new(a).to_string())
            .collect()
    });
    // A reconnecting EventSource sends the header with its original URL: the header is newer.
    let resume = match (headers.get(LAST_EVENT_ID), since) {
        (None, None) => None,
        (Some(v), _) => {
            Some(v.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()).ok_or_else(|| {
                ApiError::bad_request("invalid Last-Event-ID: expected a registry version")
            })?)
        }
        (None, Some(v)) => Some(v.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("invalid since '{v}': expected a registry version"))
        })?),
    };
    let client_id = super::eureka::client_id(headers)?.map(str::to_string);
    let (id, watcher) = state.watch.add(apps, client_id, resume.unwrap_or(0));
    let stream = Stream {
        state: state.clone(),
        id,
        watcher,
        rx: state.watch.subscribe(),
        cursor: resume,
        unpublished: None,
        pending: VecDeque::new(),
        chunks: VecDeque::new(),
        resyncs: VecDeque::new(),
    };
    let body = futures_util::stream::unfold(stream, |mut s| async move {
        let chunk = s.next().await?;
        Some((Ok::<Bytes, Infallible>(chunk), s))
    });
    let mut response = (StatusCode::OK, Body::from_stream(body)).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(EVENT_STREAM));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tells nginx not to buffer the stream.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One watcher's stream: a cursor, the few events fetched for it, and its resync history.
struct Stream {
    state: SharedState,
    id: u64,
    watcher: Arc<Watcher>,
    rx: watch::Receiver<u64>,
    /// The version of the last event produced; `None` until the snapshot is.
    cursor: Option<u64>,
    /// A cursor produced but not yet taken by the connection (see `Stream::publish`).
    unpublished: Option<u64>,
    pending: VecDeque<Arc<EncodedChange>>,
    /// The rest of a snapshot frame, sent before anything else.
    chunks: VecDeque<Bytes>,
    resyncs: VecDeque<Instant>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.state.watch.remove(self.id);
    }
}

impl Stream {
    /// The next chunk to send, or `None` to end the stream (shutdown, or dropped).
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if self.state.watch.closing().is_cancelled() {
                return None;
            }
            self.publish();
            if let Some(chunk) = self.chunks.pop_front() {
                return Some(chunk);
            }
            if let Some(event) = self.pending.pop_front() {
                self.advance(event.version);
                return Some(event.frame.clone());
            }
            let Some(cursor) = self.cursor else {
                return Some(self.snapshot());
            };
            // Mark the current version seen *before* reading the log, so a change landing
            // in between wakes the wait below instead of being missed.
            self.rx.borrow_and_update();
            match self.state.watch.events_since(&self.state.registry, cursor, BATCH) {
                EventsSince::Events(events) if !events.is_empty() => {
                    let last = events.last().map_or(cursor, |e| e.version);
                    self.pending.extend(events.into_iter().filter(|e| self.watcher.wants(&e.app)));
                    if self.pending.is_empty() {
                        // Only other apps changed: move on without sending anything.
                        self.advance(last);
                    }
                }
                EventsSince::Events(_) => {
                    tokio::select! {
                        changed = self.rx.changed() => {
                            if changed.is_err() {
                                return None;
                            }
                        }
                        _ = tokio::time::sleep(KEEP_ALIVE) => return Some(Bytes::from_static(b":\n\n")),
                        _ = self.state.watch.closing().cancelled() => return None,
                    }
                }
                EventsSince::Resync => {
                    let now = Instant::now();
                    self.resyncs.retain(|t| now.duration_since(*t) < RESYNC_WINDOW);
                    if self.resyncs.len() + 1 >= MAX_RESYNCS {
                        tracing::info!(
                            watcher = self.id,
                            "dropping a watcher that keeps falling behind"
                        );
                        self.state.watch.count_dropped();
                        return None;
                    }
                    self.resyncs.push_back(now);
                    self.state.watch.count_resync();
                    self.cursor = None;
                }
            }
        }
    }

    fn advance(&mut self, version: u64) {
        self.cursor = Some(version);
        self.unpublished = Some(version);
    }

    /// Publishes the cursor for drain once the connection has taken every chunk up to it:
    /// the body is pulled, so being asked for the next chunk means the last one was written.
    fn publish(&mut self) {
        if !self.chunks.is_empty() {
            return;
        }
        if let Some(version) = self.unpublished.take() {
            self.watcher.cursor.store(version, Ordering::Release);
            self.state.watch.progressed();
        }
    }

    /// The `snapshot` event: the whole registry from the response cache (shared with every
    /// `GET apps` at that version), or the watched apps' subset.
    fn snapshot(&mut self) -> Bytes {
        let snap = self.state.registry.snapshot();
        let (version, data): (u64, Bytes) = match &self.watcher.apps {
            None => {
                let doc =
                    self.state.cache.full_registry(&snap, Codec::new(Format::Json, Detail::Full));
                (doc.stamp().registry, doc.plain().clone())
            }
            Some(_) => {
                let applications: Vec<_> = snap
                    .apps
                    .applications
                    .iter()
                    .filter(|a| self.watcher.wants(&a.name))
                    .cloned()
                    .collect();
                let mut subset = Applications {
                    versions_delta: snap.apps.versions_delta.clone(),
                    apps_hashcode: String::new(),
                    applications,
                };
                subset.apps_hashcode = subset.compute_hash_code();
                (snap.version, Bytes::from(Format::Json.encode_applications(&subset)))
            }
        };
        self.advance(version);
        // Three chunks, so the shared document is sent as is, never copied per watcher.
        self.chunks.push_back(data);
        self.chunks.push_back(Bytes::from_static(b"\n\n"));
        Bytes::from(format!("id: {version}\nevent: snapshot\ndata: "))
    }
}
