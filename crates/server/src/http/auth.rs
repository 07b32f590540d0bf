//! Authentication and authorization at the HTTP edge (`eureka.security.*`).
//!
//! [`authenticate`] answers 401 to bad credentials and to callers without any (unless
//! `anonymous-read`). The Eureka API (the router's fallback, and the hot path) calls it
//! itself, then asks [`authorize`] which role its route needs and applies instance ownership
//! through the registry's `*_as` calls; [`guard`], a route layer installed only when security
//! is on, does it for the other routes (console, status overrides, metrics), all of which
//! need `read` (which every role has), and leaves the health endpoints open (and `/metrics`,
//! unless `protect-metrics`).
//!
//! Credentials are HTTP Basic only: no session, no cookie, so there is no CSRF token to get
//! wrong (Spring Security's CSRF filter is why Spring servers answer 403 to registrations).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::eureka::{operation, origin};
use super::route::{self, Route};
use super::{
    PATH_ACTUATOR_HEALTH, PATH_ACTUATOR_PROMETHEUS, PATH_HEALTH, PATH_METRICS, PATH_READY,
};
use crate::metrics::Operation;
use crate::security::{AuthError, Caller, Role};
use crate::state::SharedState;

/// What a 401 says when credentials were sent but are not valid: the same for an unknown user
/// and a wrong password.
const INVALID_CREDENTIALS: &str = "invalid credentials: unknown user or wrong password";
/// What a 401 says when the `Authorization` header is not HTTP Basic.
const MALFORMED_CREDENTIALS: &str =
    "invalid Authorization header: expected HTTP Basic credentials (Basic base64(user:password))";
/// What a 401 says when no credentials were sent.
const MISSING_CREDENTIALS: &str =
    "authentication required: send HTTP Basic credentials (e.g. http://user:password@host:8761/eureka/)";

/// Paths that never ask for credentials: liveness and readiness probes, and the scrape
/// endpoint unless `eureka.security.protect-metrics` is set.
fn is_open(state: &SharedState, path: &str) -> bool {
    matches!(path, PATH_HEALTH | PATH_ACTUATOR_HEALTH | PATH_READY)
        || (!state.auth.protect_metrics()
            && matches!(path, PATH_METRICS | PATH_ACTUATOR_PROMETHEUS))
}

/// The route layer of the routes outside the Eureka API: they need `read`, which every user
/// has, so valid credentials (or `anonymous-read`) are enough. Nothing behind it runs for a
/// refused request.
pub async fn guard(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    if is_open(&state, req.uri().path()) {
        return next.run(req).await;
    }
    match authenticate(&state, req.method(), req.uri(), req.headers()).await {
        Ok(_) => next.run(req).await,
        Err(refused) => refused,
    }
}

/// Who sent a request that needs credentials, or the 401 to answer (counted as
/// `reason="unauthenticated"`).
pub async fn authenticate(
    state: &SharedState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Caller, Response> {
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let refusal = match state.auth.authenticate(authorization).await {
        Ok(Caller::Anonymous) if !state.auth.anonymous_read() => MISSING_CREDENTIALS,
        Ok(caller) => return Ok(caller),
        Err(AuthError::Invalid) => INVALID_CREDENTIALS,
        Err(AuthError::Malformed) => MALFORMED_CREDENTIALS,
    };
    let op = route::resolve(method, uri.path()).map_or(Operation::Other, |r| operation(&r, method));
    state.metrics.rejected(op, origin(headers), 401);
    Err(ApiError::unauthorized(refusal).into_response())
}

/// The role a Eureka API call needs, and how a refusal names the call.
fn required(route: &Route, method: &Method, replicated: bool) -> (Role, &'static str) {
    match (route, method) {
        (Route::PeerBatch, _) => (Role::Peer, "replication"),
        _ if replicated => {
            (Role::Peer, "a call marked as replicated (x-netflix-discovery-replication)")
        }
        (Route::App(_), &Method::POST) => (Role::Write, "registering"),
        (Route::Instance(..), &Method::PUT) => (Role::Write, "renewing"),
        (Route::Instance(..), &Method::DELETE) => (Role::Write, "cancelling"),
        (Route::InstanceMetadata(..), _) => (Role::Write, "updating metadata"),
        (Route::InstanceStatus(..), _) => (Role::Admin, "changing a status override"),
        (Route::InstanceDrain(..), _) => (Role::Admin, "draining"),
        (Route::AsgStatus(_), _) => (Role::Admin, "changing an ASG status"),
        _ => (Role::Read, "reading the registry"),
    }
}

/// Whether `caller` may make this call. `Ok(Some(user))` when the call writes an instance on
/// behalf of a user who must own it (admins and peers write any instance: `Ok(None)`).
pub fn authorize(
    caller: &Caller,
    route: &Route,
    method: &Method,
    replicated: bool,
) -> Result<Option<Arc<str>>, ApiError> {
    let (role, what) = required(route, method, replicated);
    let user = match caller {
        // Anonymous callers reach here only with `anonymous-read`.
        Caller::Anonymous if role == Role::Read => return Ok(None),
        Caller::Anonymous => {
            return Err(ApiError::unauthorized(format!(
                "authentication required: {what} needs a user with role '{}'; \
                 send HTTP Basic credentials",
                role.as_str()
            )))
        }
        Caller::User(user) => user,
    };
    if !user.roles.contains(role) {
        return Err(ApiError::forbidden(format!(
            "user '{}' lacks role '{}', which {what} needs",
            user.name,
            role.as_str()
        )));
    }
    let owned = role == Role::Write && !user.roles.contains(Role::Admin);
    Ok(owned.then(|| user.name.clone()))
}
