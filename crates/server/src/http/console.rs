//! The registry console: a live dashboard at `eureka.dashboard.path` (default `/`).
//!
//! Everything it needs is embedded in the binary (no CDN, no build step), under the
//! dashboard path `P`:
//!
//! - `P`: the HTML shell ([`PAGE_TEMPLATE`]), `no-cache`;
//! - `P/assets/console.js`, `P/assets/console.css`: the script and styles, cached for a year
//!   under a content-hash query, so a new binary is picked up at once;
//! - `P/api/console`: [`console_document`], the JSON the page polls every second.
//!
//! The page's actions (status overrides, cancel) call the Eureka API itself: the console adds
//! no write endpoint. With `eureka.dashboard.enabled=false` none of these routes exist and
//! the paths answer 404 like any unknown path.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use eureka_model::{InstanceInfo, InstanceStatus};
use eureka_registry::LeaseTiming;
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::observe::RouteLabel;
use super::status::status_document;
use crate::config::ServerConfig;
use crate::replication::PeerSources;
use crate::state::SharedState;

/// The HTML shell; `{{BASE}}` becomes the dashboard path without its trailing '/' and
/// `{{V}}` the assets' content hash.
pub const PAGE_TEMPLATE: &str = include_str!("../../assets/console/index.html");
/// The page's script: polling, keyed rendering, filters and actions.
pub const SCRIPT: &str = include_str!("../../assets/console/console.js");
/// The page's styles.
pub const STYLES: &str = include_str!("../../assets/console/console.css");

/// The JSON document's path under the dashboard path.
pub const API_SUFFIX: &str = "api/console";
/// The script's path under the dashboard path.
pub const SCRIPT_SUFFIX: &str = "assets/console.js";
/// The stylesheet's path under the dashboard path.
pub const STYLES_SUFFIX: &str = "assets/console.css";

/// Recent events sent when the page does not ask for a number.
pub const DEFAULT_EVENTS: usize = 100;
/// The most recent events one request may ask for (the registry keeps 1000 of each kind).
pub const MAX_EVENTS: usize = 1000;

/// Route labels for metrics: the configured path is not `'static`, the template is.
const LABEL_PAGE: &str = "{dashboard}";
const LABEL_API: &str = "{dashboard}/api/console";
const LABEL_ASSET: &str = "{dashboard}/assets/{file}";

/// Content-Security-Policy of the page: only its own script, styles and JSON, so a value a
/// registered instance chose can never run as script even if it reached the DOM as markup.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// `base` + `/` + `suffix`, for a base that is `/` or has no trailing '/'.
pub fn join(base: &str, suffix: &str) -> String {
    format!("{}/{suffix}", base.trim_end_matches('/'))
}

/// The console's routes for this configuration; empty when the dashboard is disabled.
pub fn routes(config: &ServerConfig) -> Router<SharedState> {
    if !config.dashboard_enabled {
        return Router::new();
    }
    let base = config.dashboard_path.as_str();
    let version = format!("{:016x}", fnv1a(SCRIPT.as_bytes()) ^ fnv1a(STYLES.as_bytes()));
    let page: Arc<str> = PAGE_TEMPLATE
        .replace("{{BASE}}", base.trim_end_matches('/'))
        .replace("{{V}}", &version)
        .into();
    let page_handler = move || {
        let page = page.clone();
        async move { page_response(page) }
    };
    let mut router = Router::new()
        .route(base, get(page_handler.clone()))
        .route(&join(base, API_SUFFIX), get(api))
        .route(&join(base, SCRIPT_SUFFIX), get(|| async { asset(SCRIPT, "text/javascript") }))
        .route(&join(base, STYLES_SUFFIX), get(|| async { asset(STYLES, "text/css") }));
    if base != "/" {
        router = router.route(&format!("{base}/"), get(page_handler));
    }
    router
}

/// 64-bit FNV-1a: a stable content hash for the assets' cache-busting query.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

fn labelled(mut response: Response, label: &'static str) -> Response {
    response.extensions_mut().insert(RouteLabel(label));
    response
}

fn page_response(page: Arc<str>) -> Response {
    let response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ],
        page.to_string(),
    )
        .into_response();
    labelled(response, LABEL_PAGE)
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let content_type = match content_type {
        "text/css" => "text/css; charset=utf-8",
        _ => "text/javascript; charset=utf-8",
    };
    let response = (
        [
            (header::CONTENT_TYPE, content_type),
            // The page asks for `?v=<content hash>`, so a cached copy is never stale.
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response();
    labelled(response, LABEL_ASSET)
}

/// `GET P/api/console[?events=N]`: the console document; 400 on a bad `events`.
async fn api(State(state): State<SharedState>, RawQuery(query): RawQuery) -> Response {
    let response = match events_limit(query.as_deref()) {
        Ok(limit) => (
            [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")],
            console_document(&state, limit).to_string(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    };
    labelled(response, LABEL_API)
}

/// The `events` query parameter: 0 to [`MAX_EVENTS`], [`DEFAULT_EVENTS`] when absent.
fn events_limit(query: Option<&str>) -> Result<usize, ApiError> {
    let mut limit = DEFAULT_EVENTS;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if key == "events" {
            limit = value.parse::<usize>().ok().filter(|n| *n <= MAX_EVENTS).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "events must be a whole number from 0 to {MAX_EVENTS}, not '{value}'"
                ))
            })?;
        }
    }
    Ok(limit)
}

/// Everything the console shows, at one moment: system status and self-preservation in
/// words, replicas, applications with their instances and live lease times, recent events and
/// general information. Built from the cached snapshot, one walk of the leases and the status
/// document; never touches the renew path.
pub fn console_document(state: &SharedState, events: usize) -> Value {
    let now = state.clock.now_ms();
    let status = status_document(state);
    let snap = state.registry.snapshot();
    let timings = state.registry.lease_timings();
    let reg = &status["registry"];
    let expiration_enabled = reg["leaseExpirationEnabled"].as_bool().unwrap_or(true);
    let preservation_on = reg["selfPreservationEnabled"].as_bool().unwrap_or(false);
    let active = preservation_on && !expiration_enabled;

    let mut kept = Vec::new();
    let apps: Vec<Value> = snap
        .apps
        .applications
        .iter()
        .map(|app| {
            let mut counts = Map::new();
            let instances: Vec<Value> = app
                .instances
                .iter()
                .map(|inst| {
                    let key = counts.entry(inst.status.as_str()).or_insert(json!(0));
                    *key = json!(key.as_u64().unwrap_or(0) + 1);
                    let timing = timing_of(&timings, &app.name, inst.id());
                    let doc = instance_document(inst, timing, now);
                    if active && doc["expired"] == json!(true) {
                        kept.push(json!({
                            "app": app.name,
                            "id": inst.id(),
                            "expiredAt": doc["expiresAt"],
                            "lastRenewal": doc["lastRenewal"],
                        }));
                    }
                    doc
                })
                .collect();
            json!({ "name": app.name, "counts": counts, "instances": instances })
        })
        .collect();

    let (event_list, events_total) = recent_events(state, events);
    let peers: Vec<Value> = status["replication"]["peers"]
        .as_array()
        .map(|peers| {
            peers
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    if let Some(url) = p["url"].as_str() {
                        p["url"] = json!(scrub_userinfo(url));
                    }
                    p
                })
                .collect()
        })
        .unwrap_or_default();
    let general = &status["generalStats"];
    let config = &state.config;

    json!({
        "now": now,
        "version": snap.version,
        "system": {
            "environment": config.environment,
            "datacenter": config.datacenter,
            "startedAt": state.started_ms,
            "uptimeMs": now.saturating_sub(state.started_ms),
            "leaseExpirationEnabled": expiration_enabled,
            "selfPreservationEnabled": preservation_on,
            "selfPreservationActive": active,
            "renewThreshold": reg["renewThreshold"],
            "renewsLastMin": reg["renewsLastMin"],
            "expectedRenewsPerMin": reg["expectedRenewsPerMin"],
            "applications": reg["applications"],
            "instances": reg["instances"],
            "statusOverrides": reg["statusOverrides"],
            "ready": status["replication"]["startupSyncFinished"],
        },
        "selfPreservation": {
            "active": active,
            "explanation": preservation_explanation(reg, active, kept.len()),
            "kept": kept,
        },
        "replicas": {
            "startupSyncFinished": status["replication"]["startupSyncFinished"],
            "instancesCopiedAtStartup": status["replication"]["instancesCopiedAtStartup"],
            "peers": peers,
        },
        "apps": apps,
        "events": event_list,
        "eventsTotal": events_total,
        "info": {
            "version": env!("CARGO_PKG_VERSION"),
            "cpus": general["num-of-cpus"],
            "memoryUsage": general["current-memory-usage"],
            "memoryTotal": general["total-avail-memory"],
            "uptime": general["server-uptime"],
            "node": {
                "id": state.own_instance.id(),
                "hostName": state.own_instance.host_name,
                "ipAddr": state.own_instance.ip_addr,
            },
            "config": config_that_matters(config, &state.replication.membership.sources()),
        },
    })
}

/// The live timing of `app`/`id` (`timings` is sorted by app then id).
fn timing_of<'a>(timings: &'a [LeaseTiming], app: &str, id: &str) -> Option<&'a LeaseTiming> {
    timings
        .binary_search_by(|t| (t.app.as_str(), t.id.as_str()).cmp(&(app, id)))
        .ok()
        .map(|i| &timings[i])
}

/// One instance as the console shows it. URLs are passed only when http(s): a registered
/// instance chooses them, and a `javascript:` link must never reach the page.
fn instance_document(inst: &InstanceInfo, timing: Option<&LeaseTiming>, now: u64) -> Value {
    let lease = &inst.lease_info;
    // A lease cancelled between the snapshot and the walk has no timing: show the snapshot's.
    let (registered, last_renewal, expires_at) = match timing {
        Some(t) => (t.registered_at, t.last_renewal, t.expires_at),
        None => (
            lease.registration_timestamp,
            lease.last_renewal_timestamp,
            lease.last_renewal_timestamp + u64::from(lease.duration_in_secs) * 1000,
        ),
    };
    let zone = inst.metadata.get("zone").cloned().or_else(|| {
        inst.data_center_info.as_ref().and_then(|d| d.metadata.get("availability-zone").cloned())
    });
    let overridden = (inst.overridden_status != InstanceStatus::Unknown)
        .then(|| inst.overridden_status.as_str());
    json!({
        "id": inst.id(),
        "app": inst.app,
        "hostName": inst.host_name,
        "ipAddr": inst.ip_addr,
        "port": inst.port.enabled.then_some(inst.port.port),
        "securePort": inst.secure_port.enabled.then_some(inst.secure_port.port),
        "status": inst.status.as_str(),
        "overriddenStatus": overridden,
        "zone": zone,
        "vipAddress": inst.vip_address,
        "registeredAt": registered,
        "serviceUpAt": (lease.service_up_timestamp > 0).then_some(lease.service_up_timestamp),
        "lastRenewal": last_renewal,
        "expiresAt": expires_at,
        "expired": now > expires_at,
        "lastUpdated": inst.last_updated_timestamp,
        "renewalIntervalSecs": lease.renewal_interval_in_secs,
        "durationSecs": lease.duration_in_secs,
        "metadata": inst.metadata,
        "statusPageUrl": http_url(inst.status_page_url.as_deref()),
        "healthCheckUrl": http_url(inst.health_check_url.as_deref()),
        "homePageUrl": http_url(inst.home_page_url.as_deref()),
    })
}

/// The URL if it is http(s), else `None`.
fn http_url(url: Option<&str>) -> Option<&str> {
    url.filter(|u| {
        let lower = u.trim_start().to_ascii_lowercase();
        lower.starts_with("http://") || lower.starts_with("https://")
    })
}

/// Drops `user:password@` from a URL, as Spring's dashboard does for replicas.
fn scrub_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end], &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Self-preservation in words, or `None` when eviction runs normally.
fn preservation_explanation(reg: &Value, active: bool, expired: usize) -> Option<String> {
    if !active {
        return None;
    }
    let renews = reg["renewsLastMin"].as_u64().unwrap_or(0);
    let threshold = reg["renewThreshold"].as_u64().unwrap_or(0);
    let expected = reg["expectedRenewsPerMin"].as_f64().unwrap_or(0.0);
    let kept = match expired {
        0 => "No lease has expired yet, so nothing is being kept for now.".to_string(),
        1 => "1 lease has expired and would have been evicted; it is kept and still listed."
            .to_string(),
        n => format!(
            "{n} leases have expired and would have been evicted; they are kept and still listed."
        ),
    };
    let why = if threshold == 0 && renews == 0 {
        "This node started less than a minute ago: it evicts nothing until it has counted a \
         full minute of renewals."
            .to_string()
    } else {
        format!(
            "Renewals in the last minute ({renews}) are not above the threshold ({threshold} of \
             {expected:.0} expected). Losing that many heartbeats at once looks more like a \
             network partition than dead instances, so expired leases are kept until renewals \
             recover."
        )
    };
    Some(format!("{why} {kept}"))
}

/// The newest `limit` registrations, cancellations and evictions, newest first, and how
/// many the registry holds in all.
fn recent_events(state: &SharedState, limit: usize) -> (Vec<Value>, usize) {
    let registered = state.registry.recent_registered();
    let cancelled = state.registry.recent_cancelled();
    let total = registered.len() + cancelled.len();
    let (mut r, mut c) = (registered.iter().peekable(), cancelled.iter().peekable());
    let mut out = Vec::with_capacity(limit.min(total));
    while out.len() < limit {
        // Both logs are newest first: taking the newer head each time keeps the merge so.
        let take_registered = match (r.peek(), c.peek()) {
            (Some(a), Some(b)) => a.at >= b.at,
            (registered, _) => registered.is_some(),
        };
        let next = if take_registered { r.next() } else { c.next() };
        let Some(e) = next else { break };
        out.push(json!({ "at": e.at, "kind": e.kind.as_str(), "app": e.app, "id": e.id }));
    }
    (out, total)
}

/// The settings an operator checks first, with credentials scrubbed from URLs. The peers are
/// the static list as last (re)loaded, and the DNS source if any.
fn config_that_matters(c: &ServerConfig, sources: &PeerSources) -> Value {
    let mut peers: Vec<String> = sources.static_urls.iter().map(|u| scrub_userinfo(u)).collect();
    peers.extend(sources.dns_description().map(|dns| format!("DNS {dns}")));
    json!([
        ["server.port", c.port.to_string()],
        ["eureka.dashboard.path", c.dashboard_path],
        ["eureka.server.enable-self-preservation", c.enable_self_preservation.to_string()],
        ["eureka.server.renewal-percent-threshold", c.renewal_percent_threshold.to_string()],
        [
            "eureka.server.eviction-interval-timer-in-ms",
            c.eviction_interval.as_millis().to_string()
        ],
        ["eureka.server.legacy-double-lease-expiry", c.legacy_double_lease_expiry.to_string()],
        [
            "eureka.server.retention-time-in-m-s-in-delta-queue",
            c.delta_retention.as_millis().to_string()
        ],
        ["eureka.server.disable-delta", c.disable_delta.to_string()],
        ["eureka.server.my-url", c.my_url.as_deref().map(scrub_userinfo).unwrap_or_default()],
        [
            "peers",
            if peers.is_empty() { "none (standalone)".to_string() } else { peers.join(", ") }
        ],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn events_query_is_checked() {
        assert_eq!(events_limit(None).unwrap(), DEFAULT_EVENTS);
        assert_eq!(events_limit(Some("events=0")).unwrap(), 0);
        assert_eq!(events_limit(Some("x=1&events=1000")).unwrap(), 1000);
        for bad in ["events=1001", "events=-1", "events=abc", "events="] {
            let e = events_limit(Some(bad)).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(e.message.contains("events must be"), "{}", e.message);
        }
    }

    #[test]
    fn only_http_links_and_no_credentials_reach_the_page() {
        assert_eq!(http_url(Some("https://a/x")), Some("https://a/x"));
        assert_eq!(http_url(Some("HTTP://a")), Some("HTTP://a"));
        assert_eq!(http_url(Some("javascript:alert(1)")), None);
        assert_eq!(http_url(Some(" data:text/html,x")), None);
        assert_eq!(scrub_userinfo("http://u:p@h:1/eureka/"), "http://h:1/eureka/");
        assert_eq!(scrub_userinfo("http://h/a@b"), "http://h/a@b");
        assert_eq!(scrub_userinfo("not a url"), "not a url");
    }

    #[test]
    fn paths_join_under_the_root_and_a_prefix() {
        assert_eq!(join("/", API_SUFFIX), "/api/console");
        assert_eq!(join("/ops", SCRIPT_SUFFIX), "/ops/assets/console.js");
    }

    #[test]
    fn self_preservation_is_explained_in_words() {
        let reg = json!({"renewsLastMin": 6, "renewThreshold": 17, "expectedRenewsPerMin": 20.0});
        assert_eq!(preservation_explanation(&reg, false, 3), None);
        let text = preservation_explanation(&reg, true, 3).unwrap();
        assert!(text.contains("(6)") && text.contains("17 of 20 expected"), "{text}");
        assert!(text.contains("3 leases have expired and would have been evicted"), "{text}");
        let first = json!({"renewsLastMin": 0, "renewThreshold": 0, "expectedRenewsPerMin": 0.0});
        let text = preservation_explanation(&first, true, 0).unwrap();
        assert!(text.contains("less than a minute ago"), "{text}");
    }
}
