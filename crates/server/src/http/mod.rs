//! The HTTP adapter: one route table over the registry.
//!
//! - [`route`]: resolves Eureka paths (all prefixes, trailing slashes, encoded ids).
//! - [`negotiate`]: JSON/XML and gzip selection exactly as Java does it.
//! - [`eureka`]: the Eureka API handlers.
//! - [`status`]: `GET status`.
//! - [`console`]: the HTML page at `/`.
//! - [`error`]: the one error type and its HTTP mapping.

pub mod console;
pub mod error;
pub mod eureka;
pub mod negotiate;
pub mod route;
pub mod status;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::state::SharedState;

/// The whole HTTP surface. A function of the state so tests can drive it in-process.
pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/", get(console::page))
        .route("/health", get(health))
        .route("/actuator/health", get(health))
        .route("/health/ready", get(ready))
        .route("/serverinfo/statusoverrides", get(status_overrides))
        .fallback(eureka::api)
        .with_state(state)
}

async fn health() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"UP"}"#)
}

/// Readiness: 200 once the start-up sync with peers has finished, 503 before, so an
/// orchestrator routes clients only to a node that holds the cluster's registry.
async fn ready(State(state): State<SharedState>) -> impl IntoResponse {
    let synced = state.replication.is_synced();
    let status = if synced { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if synced { "UP" } else { "OUT_OF_SERVICE" },
        "startupSyncFinished": synced,
        "instancesCopiedAtStartup": state.replication.synced_count(),
    });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string())
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
