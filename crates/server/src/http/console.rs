//! The registry console: a live dashboard at `eureka.dashboard.path` (default `/`).
//!
//! Everything it needs is embedded in the binary (no CDN, no build step), under the
//! dashboard path `P`:
//!
//! - `P`, `P/apps/{APP}`, `P/apps/{APP}/{ID}`: the HTML shell (`assets`), `no-cache`; the
//!   script shows the overview, an application or an instance from the address;
//! - `P/assets/{version}/{file}`: the styles and the script's ES modules, cached for a year;
//! - `P/api/console/summary`: [`summary::summary_document`], what is not the instance list
//!   (status, self-preservation, peers, expired leases, events), polled every few seconds;
//! - `P/api/console/instance?app=&id=`: one instance with its live lease and its history;
//! - `P/api/console`: [`console_document`], everything at once (what the page polled before
//!   it followed the change stream; kept for scripts).
//!
//! The instance list itself comes from the Eureka API: `GET /eureka/apps` once (gzip, from
//! the response cache), then the change stream `GET /eureka/watch?since=V`. The page's
//! actions (status overrides, cancel) call the Eureka API too, with a `reason`: the console
//! adds no write endpoint. With `eureka.dashboard.enabled=false` none of these routes exist
//! and the paths answer 404 like any unknown path.

mod assets;
mod summary;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use eureka_model::{InstanceInfo, InstanceStatus};
use eureka_registry::LeaseTiming;
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::leases::json_response;
use super::observe::RouteLabel;
use crate::config::ServerConfig;
use crate::state::SharedState;

pub use assets::{CSP, PAGE_TEMPLATE};
pub use summary::summary_document;

/// The JSON document's path under the dashboard path.
pub const API_SUFFIX: &str = "api/console";
/// The summary's path under the dashboard path.
pub const SUMMARY_SUFFIX: &str = "api/console/summary";
/// The instance detail's path under the dashboard path.
pub const INSTANCE_SUFFIX: &str = "api/console/instance";
/// The assets' folder under the dashboard path (then `{version}/{file}`).
pub const ASSETS_SUFFIX: &str = "assets";
/// Where the console's pages and actions find the Eureka API.
pub const EUREKA_BASE: &str = "/eureka/";

/// Recent events sent when the page does not ask for a number.
pub const DEFAULT_EVENTS: usize = 100;
/// The most recent events one request may ask for (the registry keeps 1000 of each kind).
pub const MAX_EVENTS: usize = 1000;

/// Route labels for metrics: the configured path is not `'static`, the template is.
const LABEL_PAGE: &str = "{dashboard}";
const LABEL_API: &str = "{dashboard}/api/console";
const LABEL_SUMMARY: &str = "{dashboard}/api/console/summary";
const LABEL_INSTANCE: &str = "{dashboard}/api/console/instance";
const LABEL_ASSET: &str = "{dashboard}/assets/{file}";

/// `base` + `/` + `suffix`, for a base that is `/` or has no trailing '/'.
pub fn join(base: &str, suffix: &str) -> String {
    format!("{}/{suffix}", base.trim_end_matches('/'))
}

/// The version part of the assets' addresses (a content hash).
pub fn assets_version() -> &'static str {
    assets::version()
}

/// The console's routes for this configuration; empty when the dashboard is disabled.
pub fn routes(config: &ServerConfig) -> Router<SharedState> {
    if !config.dashboard_enabled {
        return Router::new();
    }
    let base = config.dashboard_path.as_str();
    let page = assets::page(base, EUREKA_BASE);
    // Application and instance pages are for browsers: with a root dashboard their paths
    // look like a misconfigured Eureka client's (`/apps/ORDERS`), which gets the API's 404.
    let page_handler = move |uri: Uri, headers: HeaderMap| {
        let page = page.clone();
        async move {
            let html = headers
                .get_all(header::ACCEPT)
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.contains("text/html")));
            if html || !uri.path().contains("/apps/") {
                assets::page_response(page)
            } else {
                not_a_page(uri).await
            }
        }
    };
    let mut router = Router::new()
        .route(base, get(page_handler.clone()))
        .route(&join(base, "apps/{app}"), get(page_handler.clone()).fallback(not_a_page))
        .route(&join(base, "apps/{app}/{id}"), get(page_handler.clone()).fallback(not_a_page))
        .route(&join(base, API_SUFFIX), get(api))
        .route(&join(base, SUMMARY_SUFFIX), get(summary::summary))
        .route(&join(base, INSTANCE_SUFFIX), get(summary::instance))
        .route(&join(base, &format!("{ASSETS_SUFFIX}/{{version}}/{{file}}")), get(assets::asset));
    if base != "/" {
        router = router.route(&format!("{base}/"), get(page_handler));
    }
    router
}

/// What a console page's address answers when it is not a browser's `GET` of a page: the
/// Eureka API's 404 for a path outside its context.
async fn not_a_page(uri: Uri) -> Response {
    let response =
        ApiError::not_found(super::eureka::not_found_message(uri.path())).into_response();
    labelled(response, super::route::UNMATCHED)
}

fn labelled(mut response: Response, label: &'static str) -> Response {
    response.extensions_mut().insert(RouteLabel(label));
    response
}

/// `GET P/api/console[?events=N]`: the console document (gzip when accepted); 400 on a bad
/// `events`.
async fn api(
    State(state): State<SharedState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let response = match events_limit(query.as_deref()) {
        Ok(limit) => {
            json_response(console_document(&state, limit).to_string().into_bytes(), &headers)
        }
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

/// Everything the console shows, at one moment: [`summary_document`]'s sections (system
/// status, self-preservation in words, replicas, expired leases, recent events, general
/// information) and every application with its instances, their live lease times and their
/// health checks (`health`, `null` without). Built from
/// the cached snapshot, one walk of the leases and the status document; never touches the
/// renew path.
pub fn console_document(state: &SharedState, events: usize) -> Value {
    let now = state.clock.now_ms();
    let snap = state.registry.snapshot();
    let timings = state.registry.lease_timings();
    let mut health = state.health.documents(state, &state.registry.health_view());
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
                    let mut doc = instance_document(inst, timing, now);
                    let key = (app.name.clone(), inst.id().to_string());
                    doc["health"] = health.remove(&key).unwrap_or(Value::Null);
                    doc
                })
                .collect();
            json!({ "name": app.name, "counts": counts, "instances": instances })
        })
        .collect();
    let mut doc = summary::sections(state, now, events, true);
    doc.insert("version".into(), json!(snap.version));
    doc.insert("apps".into(), Value::Array(apps));
    Value::Object(doc)
}

/// The live timing of `app`/`id` (`timings` is sorted by app then id).
pub(crate) fn timing_of<'a>(
    timings: &'a [LeaseTiming],
    app: &str,
    id: &str,
) -> Option<&'a LeaseTiming> {
    timings
        .binary_search_by(|t| (t.app.as_str(), t.id.as_str()).cmp(&(app, id)))
        .ok()
        .map(|i| &timings[i])
}

/// One instance as the console shows it. URLs are passed only when http(s): a registered
/// instance chooses them, and a `javascript:` link must never reach the page.
pub(crate) fn instance_document(
    inst: &InstanceInfo,
    timing: Option<&LeaseTiming>,
    now: u64,
) -> Value {
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
    let zone = inst.zone();
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
    fn only_http_links_reach_the_page() {
        assert_eq!(http_url(Some("https://a/x")), Some("https://a/x"));
        assert_eq!(http_url(Some("HTTP://a")), Some("HTTP://a"));
        assert_eq!(http_url(Some("javascript:alert(1)")), None);
        assert_eq!(http_url(Some(" data:text/html,x")), None);
    }

    #[test]
    fn paths_join_under_the_root_and_a_prefix() {
        assert_eq!(join("/", API_SUFFIX), "/api/console");
        assert_eq!(join("/ops", SUMMARY_SUFFIX), "/ops/api/console/summary");
    }
}
