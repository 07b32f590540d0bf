//! The HTTP adapter: one route table over the registry.
//!
//! - [`route`]: resolves Eureka paths (all prefixes, trailing slashes, encoded ids).
//! - [`negotiate`]: JSON/XML and gzip selection exactly as Java does it.
//! - [`eureka`]: the Eureka API handlers.
//! - [`status`]: `GET status`.
//! - [`watch`]: `GET watch`, the change stream (server-sent events).
//! - [`drain`]: `POST apps/{APP}/{ID}/drain`, out of service until everyone has seen it.
//! - [`leases`]: `GET leases`, live lease timings (ours), and per-request JSON answers.
//! - [`console`]: the live registry console at `eureka.dashboard.path` (default `/`).
//! - [`auth`]: HTTP Basic authentication and the role each route needs (`eureka.security.*`).
//! - [`observe`]: request ids, request spans and the request-duration histogram.
//! - [`error`]: the one error type and its HTTP mapping.

pub mod auth;
pub mod console;
pub mod drain;
pub mod error;
pub mod eureka;
pub mod leases;
pub mod negotiate;
pub mod observe;
pub mod reads;
pub mod route;
pub mod status;
pub mod watch;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::metrics;
use crate::state::SharedState;

/// Liveness.
pub const PATH_HEALTH: &str = "/health";
/// Liveness where Spring Boot serves it.
pub const PATH_ACTUATOR_HEALTH: &str = "/actuator/health";
/// Readiness.
pub const PATH_READY: &str = "/health/ready";
/// Prometheus scrape endpoint.
pub const PATH_METRICS: &str = "/metrics";
/// The scrape endpoint where Spring Boot serves it.
pub const PATH_ACTUATOR_PROMETHEUS: &str = "/actuator/prometheus";
/// Java's override listing.
pub const PATH_STATUS_OVERRIDES: &str = "/serverinfo/statusoverrides";

/// Every path the axum table routes (the rest goes to the Eureka API): the `route` labels
/// these requests get.
/// The console's routes label themselves (their path is configured).
const FIXED_ROUTES: [&str; 6] = [
    PATH_HEALTH,
    PATH_ACTUATOR_HEALTH,
    PATH_READY,
    PATH_METRICS,
    PATH_ACTUATOR_PROMETHEUS,
    PATH_STATUS_OVERRIDES,
];

/// The `'static` route label of a path the axum table matched.
fn fixed_route(matched: &str) -> &'static str {
    FIXED_ROUTES.iter().copied().find(|r| *r == matched).unwrap_or(route::UNMATCHED)
}

/// The whole HTTP surface. A function of the state so tests can drive it in-process.
pub fn router(state: SharedState) -> Router {
    let routes = Router::new()
        .route(PATH_HEALTH, get(health))
        .route(PATH_ACTUATOR_HEALTH, get(health))
        .route(PATH_READY, get(ready))
        .route(PATH_METRICS, get(scrape))
        .route(PATH_ACTUATOR_PROMETHEUS, get(scrape))
        .route(PATH_STATUS_OVERRIDES, get(status_overrides))
        .merge(console::routes(&state.config));
    // Without security nothing is checked. The layer is on the routes only: the Eureka API
    // (the fallback, and the renew path) checks credentials itself, without a middleware hop.
    let routes = if state.auth.enabled() {
        routes.route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
    } else {
        routes
    };
    routes
        .fallback(eureka::api)
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
}

/// Liveness: the process answers HTTP. Says nothing about peers, so an orchestrator never
/// restarts a node only because its cluster is unreachable.
async fn health() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"UP"}"#)
}

/// Readiness: 200 once this node holds the cluster's registry, 503 before, so an orchestrator
/// routes clients only to a synced node. Configuration was validated and the listener bound
/// before anything could answer; what remains is the start-up sync with peers (done at once
/// without peers).
async fn ready(State(state): State<SharedState>) -> impl IntoResponse {
    let synced = state.replication.is_synced();
    let status = if synced { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let up = |ok: bool| if ok { "UP" } else { "DOWN" };
    let body = json!({
        "status": if synced { "UP" } else { "OUT_OF_SERVICE" },
        "checks": {
            "configuration": up(true),
            "listener": up(true),
            "startupSync": up(synced),
        },
        "startupSyncFinished": synced,
        "instancesCopiedAtStartup": state.replication.synced_count(),
    });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string())
}

/// The Prometheus scrape: counters, histograms and the gauges read now, in the text format
/// the scraper's `Accept` asks for (Prometheus 0.0.4 unless it prefers OpenMetrics).
async fn scrape(State(state): State<SharedState>, headers: HeaderMap) -> impl IntoResponse {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = metrics::Exposition::negotiate(accept);
    (
        [(header::CONTENT_TYPE, format.content_type()), (header::VARY, "Accept")],
        state.metrics.render_as(format),
    )
}
/// Java's `/serverinfo/statusoverrides`: instance id → override status.
async fn status_overrides(State(state): State<SharedState>) -> impl IntoResponse {
    let map: serde_json::Map<String, serde_json::Value> = state
        .registry
        .status_overrides(state.clock.now_ms())
        .into_iter()
        .map(|(id, s)| (id, json!(s.as_str())))
        .collect();
    ([(header::CONTENT_TYPE, "application/json")], serde_json::Value::Object(map).to_string())
}
