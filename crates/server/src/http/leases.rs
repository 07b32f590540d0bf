//! `GET {base}/leases[?apps=A,B]`: every lease's live timing (ours, not Eureka's).
//!
//! Registry documents carry lease timestamps that are refreshed lazily (an unchanged
//! application's content is reused for up to a minute, as Java's response cache does), so a
//! healthy instance renewing every 10 s can show a last renewal 50 s old there. This answer
//! is read from the leases themselves, for tools that show "last renewal" (`eurekactl`, the
//! console):
//!
//! ```json
//! {"now":1700000000000,"leases":[{"app":"ORDERS","id":"o1","registeredAt":1699999990000,
//!   "lastRenewal":1699999999000,"expiresAt":1700000089000,"expired":false}]}
//! ```
//!
//! A lease a health check has marked DOWN also carries
//! `"healthDown":{"reason":"health check: HTTP 503","since":…,"by":"node-a"}`.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eureka_model::AppName;
use eureka_registry::LeaseTiming;
use serde_json::{json, Value};

use super::error::ApiError;
use super::negotiate::accepts_gzip;
use crate::state::SharedState;

/// The applications an `apps=A,B` list names, upper-cased; `None` for all.
pub fn app_list(apps: Option<&str>) -> Option<Vec<String>> {
    apps.map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| AppName::new(a).to_string())
            .collect()
    })
}

/// One lease's timing as JSON, judged expired against `now`, with `healthDown` (reason, since,
/// marking node) when a health check has marked the instance DOWN; absent otherwise, so the
/// answer for 10,000 healthy leases does not grow.
pub fn lease_json(t: &LeaseTiming, now: u64) -> Value {
    let mut doc = json!({
        "app": t.app,
        "id": t.id,
        "registeredAt": t.registered_at,
        "lastRenewal": t.last_renewal,
        "expiresAt": t.expires_at,
        "expired": now > t.expires_at,
    });
    if let Some(d) = &t.health_down {
        doc["healthDown"] = json!({ "reason": &*d.reason, "since": d.since, "by": &*d.by });
    }
    doc
}

/// The leases of `apps` (all when `None`) as the answer's `leases` array.
pub fn leases(state: &SharedState, apps: Option<&[String]>, now: u64) -> Value {
    let timings = state.registry.lease_timings_of(apps);
    Value::Array(timings.iter().map(|t| lease_json(t, now)).collect())
}

/// `GET leases`: JSON (gzip when accepted), never cached.
pub fn answer(
    state: &SharedState,
    apps: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let now = state.clock.now_ms();
    let apps = app_list(apps);
    let doc = json!({ "now": now, "leases": leases(state, apps.as_deref(), now) });
    Ok(json_response(doc.to_string().into_bytes(), headers))
}

/// A JSON answer built for this request: gzip-compressed (with the registry documents'
/// compressor) when the caller accepts it, and never cached by the browser.
pub fn json_response(body: Vec<u8>, headers: &HeaderMap) -> Response {
    let gzip = accepts_gzip(headers);
    let body: Bytes = if gzip { crate::cache::gzip(&body) } else { Bytes::from(body) };
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}
