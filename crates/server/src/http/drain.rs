//! `POST apps/{APP}/{ID}/drain?wait=S`: out of service, then wait until it was seen.
//!
//! Answers 200 with JSON whether or not everyone saw the change in time; `complete` tells
//! which (a deploy script stops the instance only when it is true):
//!
//! ```json
//! {"app":"ORDERS","instanceId":"o1","version":7,"complete":false,
//!  "watchers":{"seen":2,"total":3,"pending":["watcher-4"]},
//!  "clients":{"seen":["web-1:orders:8080"],"pending":["client-9f.."]}}
//! ```
//!
//! What "seen" means is in [`crate::drain`].

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use eureka_model::{AppName, InstanceStatus};
use eureka_registry::Actor;
use serde_json::json;

use super::error::ApiError;
use super::eureka::{override_status, HEADER_VERSION};
use crate::drain::{wait_until_seen, DEFAULT_DRAIN_WAIT, MAX_DRAIN_WAIT};
use crate::state::SharedState;

/// Drains one instance (see the module documentation).
pub async fn drain(
    state: &SharedState,
    app: &AppName,
    id: &str,
    wait: Option<&str>,
    actor: &Actor,
) -> Result<Response, ApiError> {
    let wait = parse_wait(wait)?;
    override_status(state, app, id, InstanceStatus::OutOfService, None, actor)?;
    // The version after the override holds it (a newer one only can be later changes).
    let version = state.registry.version();
    let seen = wait_until_seen(&state.watch, app.as_str(), version, wait).await;
    let complete = seen.complete();
    tracing::info!(
        app = %app,
        instance_id = id,
        version,
        complete,
        pending_watchers = seen.watchers_pending.len(),
        pending_clients = seen.clients_pending.len(),
        "drain answered"
    );
    let body = json!({
        "app": app.as_str(),
        "instanceId": id,
        "version": version,
        "complete": complete,
        "watchers": {
            "seen": seen.watchers_seen.len(),
            "total": seen.watchers_seen.len() + seen.watchers_pending.len(),
            "pending": seen.watchers_pending,
        },
        "clients": { "seen": seen.clients_seen, "pending": seen.clients_pending },
    });
    let mut response =
        (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string())
            .into_response();
    response.headers_mut().insert(HEADER_VERSION, HeaderValue::from(version));
    Ok(response)
}

fn parse_wait(wait: Option<&str>) -> Result<Duration, ApiError> {
    let Some(w) = wait else { return Ok(DEFAULT_DRAIN_WAIT) };
    let max = MAX_DRAIN_WAIT.as_secs();
    match w.parse::<u64>() {
        Ok(s) if s <= max => Ok(Duration::from_secs(s)),
        _ => Err(ApiError::bad_request(format!(
            "invalid wait '{w}': expected whole seconds from 0 to {max}"
        ))),
    }
}
