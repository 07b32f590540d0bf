//! What every request gets on its way through: a request id, a span carrying it, and an
//! observation in the request-duration histogram under its route template.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tokio::time::Instant;
use tracing::Instrument;

use super::route::UNMATCHED;
use crate::state::SharedState;

/// The request id header: taken from the request when usable, always set on the response.
pub const HEADER_REQUEST_ID: &str = "x-request-id";

/// Longest request id taken from a caller; a longer one is replaced, not trusted into logs.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The route template a handler outside the axum route table (the Eureka API fallback)
/// attaches to its response, for the `route` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteLabel(pub &'static str);

/// Requests given an id by this process; with the node id it makes ids unique in a cluster.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Middleware: runs the request inside a `request` span (id, method, path), echoes the id in
/// `X-Request-Id`, and records the duration by method, route template and status.
pub async fn observe(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&request, &state);
    let method = request.method().clone();
    // The axum-routed paths are known statically; the Eureka fallback labels its own response.
    let matched = request.extensions().get::<MatchedPath>().map(|m| super::fixed_route(m.as_str()));
    // Only the id: the fmt layer formats a span's fields when the span is made, on every
    // request, and method and path cost more to format than a renewal costs to serve. They
    // are in the "request answered" event (debug) and the access metrics.
    let span = tracing::info_span!("request", request_id = id.to_str().unwrap_or_default());
    let path = tracing::enabled!(tracing::Level::DEBUG).then(|| request.uri().path().to_owned());
    let mut response = next.run(request).instrument(span.clone()).await;
    let route = response.extensions().get::<RouteLabel>().map(|r| r.0).or(matched);
    let status = response.status().as_u16();
    let took = started.elapsed();
    state.metrics.observe_http(&method, route.unwrap_or(UNMATCHED), status, took);
    if let Some(path) = path {
        tracing::debug!(
            parent: &span,
            %method,
            path,
            status,
            micros = took.as_micros() as u64,
            "request answered"
        );
    }
    response.headers_mut().insert(HEADER_REQUEST_ID, id);
    response
}

/// The caller's `X-Request-Id` if it is 1 to [`MAX_REQUEST_ID_LEN`] visible ASCII characters
/// (safe to log and echo), else a new one: this node's id and a sequence number.
fn request_id(request: &Request, state: &SharedState) -> HeaderValue {
    if let Some(given) = request.headers().get(HEADER_REQUEST_ID) {
        if usable(given.as_bytes()) {
            return given.clone();
        }
    }
    let seq = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let id = generated_id(state.replication.node_id(), seq);
    HeaderValue::from_maybe_shared(bytes::Bytes::from(id))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// `{node}-{seq in hex}`, written by hand: `format!` costs more than the rest of a renewal's
/// bookkeeping.
fn generated_id(node: &str, seq: u64) -> Vec<u8> {
    let mut id = Vec::with_capacity(node.len() + 17);
    id.extend_from_slice(node.as_bytes());
    id.push(b'-');
    let digits = (64 - seq.leading_zeros()).div_ceil(4).max(1);
    for shift in (0..digits).rev() {
        id.push(b"0123456789abcdef"[((seq >> (shift * 4)) & 0xf) as usize]);
    }
    id
}

fn usable(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID_LEN && id.iter().all(u8::is_ascii_graphic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_the_node_and_the_sequence_in_hex() {
        for seq in [0, 1, 0xf, 0x10, 0x1f2e, u64::MAX] {
            let expected = format!("n1-{seq:x}");
            assert_eq!(String::from_utf8(generated_id("n1", seq)).unwrap(), expected);
        }
    }

    #[test]
    fn only_short_visible_ascii_ids_are_taken() {
        assert!(usable(b"3f2a-17"));
        assert!(usable(&[b'a'; MAX_REQUEST_ID_LEN]));
        assert!(!usable(&[b'a'; MAX_REQUEST_ID_LEN + 1]));
        assert!(!usable(b""));
        assert!(!usable(b"two words"));
        assert!(!usable("é".as_bytes()));
        assert!(!usable(b"a\tb"));
    }
}
