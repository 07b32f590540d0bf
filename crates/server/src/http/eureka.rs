//! Handlers of the Eureka REST API. Each decodes its input, makes one registry call and
//! encodes the answer; the rules themselves live in the registry. Registry reads (cached
//! documents, remote regions, the rate limiter) are in `reads.rs`.

use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eureka_model::{AppName, Format, InstanceStatus};
use eureka_registry::{Actor, Origin, RegistryError, RenewOutcome, RenewRequest};
use http_body_util::BodyExt;

use super::auth;
use super::error::ApiError;
use super::negotiate::{body_type, response_format};
use super::observe::RouteLabel;
use super::reads::{
    encoded_response, find_instance, instance_document, registry_document, throttled,
};
use super::route::{self, Route, RouteError};
use super::status;
use crate::cache::Entity;
use crate::metrics::Operation;
use crate::replication::{node, receive, ReplicationTask};
use crate::security::Caller;
use crate::state::{RequestKind, SharedState};
use crate::watch::MAX_LONG_POLL;
use eureka_client::transport::{
    HEADER_CLIENT_ID, HEADER_HEALTH_CHECKS, HEADER_NODE_ID, HEADER_NODE_NAME,
};

/// Header a peer sets on single replicated calls (`PeerEurekaNode.HEADER_REPLICATION`).
pub const HEADER_REPLICATION: &str = "x-netflix-discovery-replication";
pub use super::reads::{HEADER_EUREKA_ACCEPT, HEADER_VERSION};

const STATUS_NAMES: &str = "expected one of UP, DOWN, STARTING, OUT_OF_SERVICE, UNKNOWN";

/// Query parameters in order, decoded (`+` as space, as Jersey does).
struct Query<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Query<'a> {
    /// Borrows from the URI where nothing is escaped (a renewal's query never is).
    fn parse(uri: &'a Uri) -> Self {
        Query(form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref())
    }

    /// The pairs as owned strings, for the registry to keep.
    fn owned(self) -> Vec<(String, String)> {
        self.0.into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    fn timestamp(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!("invalid {name} '{v}': expected epoch milliseconds"))
            }),
        }
    }

    fn status(&self, name: &str) -> Result<Option<InstanceStatus>, ApiError> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => InstanceStatus::parse(v).map(Some).ok_or_else(|| {
                ApiError::bad_request(format!("invalid status in '{name}': '{v}': {STATUS_NAMES}"))
            }),
        }
    }
}

/// The longest `X-Eureka-Client-Id` accepted.
pub const MAX_CLIENT_ID_LEN: usize = 256;

/// The `X-Eureka-Client-Id` a client named itself with, if any: printable ASCII, at most
/// [`MAX_CLIENT_ID_LEN`] bytes, or the request is refused with 400.
pub fn client_id(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(HEADER_CLIENT_ID) else { return Ok(None) };
    let id = value.to_str().map(str::trim).unwrap_or_default();
    let printable = id.bytes().all(|b| b.is_ascii_graphic());
    if id.is_empty() || id.len() > MAX_CLIENT_ID_LEN || !printable {
        return Err(ApiError::bad_request(format!(
            "invalid X-Eureka-Client-Id: expected 1 to {MAX_CLIENT_ID_LEN} printable ASCII characters"
        )));
    }
    Ok(Some(id))
}

/// Whether a call says it is a peer's replication (`x-netflix-discovery-replication: true`).
pub(crate) fn origin(headers: &HeaderMap) -> Origin {
    match headers.get(HEADER_REPLICATION) {
        Some(v) if v.as_bytes() == b"true" => Origin::Peer,
        _ => Origin::Client,
    }
}

/// Entry point for every path under the Eureka API.
pub async fn api(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match state.auth.enabled() {
        false => None,
        true => match auth::authenticate(&state, &method, &uri, &headers).await {
            Ok(caller) => Some(caller),
            Err(mut refused) => {
                // Labelled by its route like any answer, so refusals show per route.
                if let Ok(route) = route::resolve(&method, uri.path()) {
                    refused.extensions_mut().insert(RouteLabel(route.template()));
                }
                return refused;
            }
        },
    };
    let route = match route::resolve(&method, uri.path()) {
        Ok(r) => r,
        Err(e) => {
            let response = route_error(e, uri.path()).into_response();
            let status = response.status().as_u16();
            state.metrics.rejected(Operation::Unmatched, origin(&headers), status);
            return response;
        }
    };
    let op = operation(&route, &method);
    let template = route.template();
    // A batch is replication by nature; Java peers set the header only on single calls.
    let origin = if route == Route::PeerBatch { Origin::Peer } else { origin(&headers) };
    // Without security there is no caller and no check; with it, a refusal changes nothing.
    let owner = match caller
        .as_ref()
        .map(|c| auth::authorize(c, &route, &method, origin == Origin::Peer))
    {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(owner))) => Some(owner),
        Some(Err(refusal)) => {
            let response = refusal.into_response();
            state.metrics.rejected(op, origin, response.status().as_u16());
            return response;
        }
    };
    let owner = owner.as_ref();
    if throttled(&state, &route, &method, &headers) {
        let mut response = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "registry fetches are rate limited (eureka.server.rate-limiter-*): retry later or on another server",
        )
        .into_response();
        response.extensions_mut().insert(RouteLabel(template));
        return response;
    }
    let query = Query::parse(&uri);
    // Operator writes record who asked (with security) and why (`reason=`) in recent events.
    let user = || match &caller {
        Some(Caller::User(user)) => Some(user.name.clone()),
        _ => None,
    };
    let kind = match (&route, &method) {
        (Route::Apps, _) => Some(RequestKind::FullFetch),
        (Route::Delta, _) => Some(RequestKind::DeltaFetch),
        (Route::App(_), &Method::POST) => Some(RequestKind::Register),
        (Route::Instance(..), &Method::PUT) => Some(RequestKind::Renew),
        (Route::Instance(..), &Method::DELETE) => Some(RequestKind::Cancel),
        (Route::InstanceStatus(..) | Route::InstanceDrain(..), _) => {
            Some(RequestKind::StatusOverride)
        }
        _ => None,
    };
    // Identified pollers are remembered for drain; an invalid id is refused before any work.
    let poller = match route {
        Route::Apps | Route::Delta => match client_id(&headers) {
            Ok(id) => id,
            Err(e) => return e.into_response(),
        },
        _ => None,
    };
    let result = match (route, method) {
        (Route::Apps, _) => {
            registry_document(&state, Entity::AllApps, &headers, query.get("regions"))
        }
        (Route::Delta, _) => delta(&state, &query, &headers).await,
        (Route::App(app), Method::POST) => register(&state, &app, &headers, body, owner).await,
        (Route::App(app), _) => {
            registry_document(&state, Entity::App(app.to_string()), &headers, None)
        }
        (Route::Instance(app, id), Method::GET) => {
            instance_document(find_instance(&state, Some(&app), &id), &headers, &id)
        }
        (Route::Instance(app, id), Method::PUT) => {
            renew(&state, &app, &id, &query, &headers, owner)
        }
        (Route::Instance(app, id), _) => match actor(&query, origin, user()) {
            Ok(actor) => cancel(&state, &app, &id, &headers, owner, &actor),
            Err(e) => Err(e),
        },
        (Route::InstanceStatus(app, id), Method::PUT) => match actor(&query, origin, user()) {
            Ok(actor) => set_status(&state, &app, &id, &query, &actor),
            Err(e) => Err(e),
        },
        (Route::InstanceStatus(app, id), _) => match actor(&query, origin, user()) {
            Ok(actor) => delete_status(&state, &app, &id, &query, &actor),
            Err(e) => Err(e),
        },
        (Route::InstanceMetadata(app, id), _) => {
            update_metadata(&state, &app, &id, query, origin, owner)
        }
        (Route::InstanceDrain(app, id), _) => match actor(&query, origin, user()) {
            Ok(actor) => {
                let actor = Actor { via: Some("drain"), ..actor };
                super::drain::drain(&state, &app, &id, query.get("wait"), &actor).await
            }
            Err(e) => Err(e),
        },
        (Route::InstanceById(id), _) => {
            instance_document(find_instance(&state, None, &id), &headers, &id)
        }
        (Route::Vip(vip), _) => registry_document(&state, Entity::Vip(vip), &headers, None),
        (Route::SecureVip(vip), _) => {
            registry_document(&state, Entity::SecureVip(vip), &headers, None)
        }
        (Route::Status, _) => Ok(status::status_response(&state, &headers)),
        (Route::PeerBatch, _) => peer_batch(&state, &headers, body).await,
        (Route::Watch, _) => {
            super::watch::open(&state, query.get("apps"), query.get("since"), &headers)
        }
        (Route::Leases, _) => super::leases::answer(&state, query.get("apps"), &headers),
        (Route::AsgStatus(_), _) => {
            Err(ApiError::bad_request("ASG status is only supported on AWS"))
        }
    };
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    // Documents carry the version they were built at; every other answer (writes included)
    // carries the version after the call, so a writer knows which version holds its change.
    if !response.headers().contains_key(HEADER_VERSION) {
        let version = HeaderValue::from(state.registry.version());
        response.headers_mut().insert(HEADER_VERSION, version);
    }
    if let Some(poller) = poller.filter(|_| response.status().is_success()) {
        let answered = response.headers().get(HEADER_VERSION).and_then(|v| v.to_str().ok());
        if let Some(version) = answered.and_then(|v| v.parse().ok()) {
            state.watch.record_poller(poller, version, tokio::time::Instant::now());
        }
    }
    count(&state, kind, op, origin, response.status());
    response.extensions_mut().insert(RouteLabel(template));
    response
}

fn route_error(e: RouteError, path: &str) -> ApiError {
    match e {
        RouteError::NotFound => ApiError::not_found(not_found_message(path)),
        RouteError::BadEncoding(seg) => ApiError::bad_request(format!(
            "path segment '{seg}' is not valid percent-encoded UTF-8 \
             (every '%' must start two hex digits)"
        )),
        RouteError::BadSegment(seg, why) => {
            ApiError::bad_request(format!("path segment '{seg}' is refused: {why}"))
        }
        RouteError::MethodNotAllowed(allow) => ApiError::method_not_allowed(allow),
    }
}

/// A 404 for a path that is not the API; when it names an API resource under another
/// context (`/apps`, `/registry/apps`), it says where the API is, since that is a client's
/// misconfigured service URL.
pub(crate) fn not_found_message(path: &str) -> String {
    let outside = !path.trim_start_matches('/').starts_with(&format!("{}/", route::CONTEXT));
    let names_resource = path.split('/').any(|s| matches!(s, "apps" | "status" | "instances"));
    if outside && names_resource {
        format!(
            "no Eureka resource at {path}: the Eureka API is under /{0}/ (e.g. /{0}/apps); \
             check the client's service URL (defaultZone)",
            route::CONTEXT
        )
    } else {
        format!("no Eureka resource at {path}")
    }
}

/// What a resolved call does, for the metrics.
pub(crate) fn operation(route: &Route, method: &Method) -> Operation {
    match (route, method) {
        (Route::App(_), &Method::POST) => Operation::Register,
        (Route::Apps | Route::Delta | Route::App(_) | Route::Vip(_) | Route::SecureVip(_), _) => {
            Operation::Fetch
        }
        (Route::Instance(..), &Method::PUT) => Operation::Renew,
        (Route::Instance(..), &Method::DELETE) => Operation::Cancel,
        (Route::Instance(..) | Route::InstanceById(_) | Route::Status | Route::Leases, _) => {
            Operation::Lookup
        }
        (Route::InstanceStatus(..), &Method::PUT) | (Route::InstanceDrain(..), _) => {
            Operation::StatusUpdate
        }
        (Route::InstanceStatus(..), _) => Operation::StatusDelete,
        (Route::InstanceMetadata(..), _) => Operation::Metadata,
        (Route::PeerBatch, _) => Operation::PeerBatch,
        (Route::AsgStatus(_), _) => Operation::Other,
        (Route::Watch, _) => Operation::Fetch,
    }
}

/// Counts an answered call: a write answered 2xx was applied; any 4xx was rejected. A renew
/// answered 404 or 409 is not a renewal, whatever the lease saw.
fn count(
    state: &SharedState,
    kind: Option<RequestKind>,
    op: Operation,
    origin: Origin,
    status: StatusCode,
) {
    let code = status.as_u16();
    match code {
        200..=299 => state.metrics.applied(op, origin),
        400..=499 => state.metrics.rejected(op, origin, code),
        _ => {}
    }
    let kind = match (kind, code) {
        (None, _) => return,
        (Some(RequestKind::Renew), 404) => RequestKind::RenewNotFound,
        (Some(_), 400..=499) => RequestKind::Rejected,
        (Some(kind), 200..=299) => kind,
        _ => return,
    };
    state.requests.hit(kind);
}

/// `GET apps/delta`, Eureka's delta; with `since=V` (ours only, Java clients never send it)
/// a long poll: answered at once when the registry version differs from `V`, otherwise held
/// up to `wait` seconds (default 0, capped at [`MAX_LONG_POLL`]) until it changes. Either
/// way the answer is the ordinary delta document with its `X-Eureka-Version`.
async fn delta(
    state: &SharedState,
    query: &Query<'_>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if state.config.disable_delta {
        return Err(ApiError::forbidden(
            "delta fetches are disabled (eureka.server.disable-delta)",
        ));
    }
    if let Some(since) = query.get("since") {
        let since: u64 = since.parse().map_err(|_| {
            ApiError::bad_request(format!("invalid since '{since}': expected a registry version"))
        })?;
        let wait = match query.get("wait") {
            None => Duration::ZERO,
            Some(w) => w.parse::<u64>().map(Duration::from_secs).map_err(|_| {
                ApiError::bad_request(format!("invalid wait '{w}': expected whole seconds"))
            })?,
        };
        // Waits on a `watch` receiver only: no registry lock is held while the request is.
        state.watch.wait_for_change(since, wait.min(MAX_LONG_POLL)).await;
    }
    registry_document(state, Entity::Delta, headers, query.get("regions"))
}

/// Reads a request body within the configured size limit and `server.request-timeout`,
/// inflating `Content-Encoding: gzip`. The body is the only part of a request whose pace the
/// client sets (heads are bounded by `server.connection-timeout`), so this is where a
/// trickling client is cut off; requests without a body pay no timer.
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    state: &SharedState,
) -> Result<Bytes, ApiError> {
    let limit = state.config.max_request_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::too_large(limit));
    }
    let deadline = state.config.limits.request_timeout;
    let collected =
        tokio::time::timeout(deadline, http_body_util::Limited::new(body, limit).collect())
            .await
            .map_err(|_| ApiError::request_timeout(deadline))?;
    let bytes = match collected {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            return Err(ApiError::too_large(limit))
        }
        Err(e) => return Err(ApiError::bad_request(format!("could not read request body: {e}"))),
    };
    let encoding = headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").trim());
    match encoding {
        None => return Ok(bytes),
        Some(e) if e.is_empty() || e.eq_ignore_ascii_case("identity") => return Ok(bytes),
        Some(e) if e.eq_ignore_ascii_case("gzip") || e.eq_ignore_ascii_case("x-gzip") => {}
        Some(other) => {
            return Err(ApiError::unsupported_media_type(format!(
                "unsupported Content-Encoding '{other}': send gzip or no encoding"
            )))
        }
    }
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|e| ApiError::bad_request(format!("invalid gzip request body: {e}")))?;
    if inflated.len() > limit {
        return Err(ApiError::too_large(limit));
    }
    Ok(Bytes::from(inflated))
}

async fn register(
    state: &SharedState,
    app: &AppName,
    headers: &HeaderMap,
    body: Body,
    owner: Option<&Arc<str>>,
) -> Result<Response, ApiError> {
    let body_type = body_type(headers)?;
    let bytes = read_body(body, headers, state).await?;
    let text: Bytes = if body_type.latin1 {
        Bytes::from(bytes.iter().map(|&b| b as char).collect::<String>())
    } else {
        bytes
    };
    let mut info = body_type.format.decode_instance(&text)?;
    info.normalize();
    info.validate_for_register(app)?;
    let origin = origin(headers);
    let now = state.clock.now_ms();
    let stored = match owner {
        Some(user) => state.registry.register_as(info, origin, user, now)?,
        None => state.registry.register(info, origin, now),
    };
    tracing::info!(app = %stored.app, instance_id = stored.id(), status = %stored.status, ?origin, "registered");
    state.replication.replicate(origin, || ReplicationTask::register(stored));
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn renew(
    state: &SharedState,
    app: &AppName,
    id: &str,
    query: &Query<'_>,
    headers: &HeaderMap,
    owner: Option<&Arc<str>>,
) -> Result<Response, ApiError> {
    let req = RenewRequest {
        last_dirty_timestamp: query.timestamp("lastDirtyTimestamp")?,
        overridden_status: query.status("overriddenstatus")?,
        origin: origin(headers),
    };
    let now = state.clock.now_ms();
    let outcome = match owner {
        Some(user) => state.registry.renew_as(app.as_str(), id, req, user, now),
        None => state.registry.renew(app.as_str(), id, req, now),
    };
    if outcome.is_ok() && state.replication.wants(req.origin) {
        // Java replicates every renew that found the lease, whatever the timestamp check says.
        if let Some((info, overridden)) = state.registry.replica(app.as_str(), id, now) {
            state
                .replication
                .replicate(req.origin, || ReplicationTask::heartbeat(info, overridden));
        }
    }
    // Renew answers carry no body except the 409 instance: Java clients decode any body.
    Ok(match outcome {
        Ok(RenewOutcome::Renewed) => StatusCode::OK.into_response(),
        Err(refused @ RegistryError::NotOwner { .. }) => return Err(refused.into()),
        Ok(RenewOutcome::CallerNewer) | Err(_) => {
            tracing::debug!(app = %app, instance_id = id, "renew answered 404");
            StatusCode::NOT_FOUND.into_response()
        }
        Ok(RenewOutcome::Conflict(mine)) => {
            let format = response_format(headers);
            encoded_response(StatusCode::CONFLICT, format, format.encode_instance(&mine))
        }
    })
}

/// The longest `reason` an operator write may carry.
pub const MAX_REASON_LEN: usize = 500;

/// Who makes an operator write (override, cancel, drain) and why: the caller's user name with
/// security on, and the optional `reason` query parameter (ours; Java clients never send it,
/// and Java servers ignore it). A reason is 1 to [`MAX_REASON_LEN`] characters without
/// control characters, or the call is refused with 400 before anything changes.
fn actor(query: &Query<'_>, origin: Origin, user: Option<Arc<str>>) -> Result<Actor, ApiError> {
    let reason = match query.get("reason").map(str::trim) {
        None | Some("") => None,
        Some(r) if r.chars().count() > MAX_REASON_LEN || r.chars().any(char::is_control) => {
            return Err(ApiError::bad_request(format!(
                "invalid reason: expected at most {MAX_REASON_LEN} characters without control \
                 characters"
            )))
        }
        Some(r) => Some(r.to_string()),
    };
    Ok(Actor { origin, user, reason, via: None })
}

fn cancel(
    state: &SharedState,
    app: &AppName,
    id: &str,
    headers: &HeaderMap,
    owner: Option<&Arc<str>>,
    actor: &Actor,
) -> Result<Response, ApiError> {
    let now = state.clock.now_ms();
    state.registry.cancel_by(app.as_str(), id, owner, actor, now)?;
    tracing::info!(app = %app, instance_id = id, reason = actor.reason.as_deref(), "cancelled");
    state.replication.replicate(origin(headers), || ReplicationTask::cancel(app.as_str(), id));
    Ok(StatusCode::OK.into_response())
}

fn set_status(
    state: &SharedState,
    app: &AppName,
    id: &str,
    query: &Query<'_>,
    actor: &Actor,
) -> Result<Response, ApiError> {
    let status = query.status("value")?.ok_or_else(|| {
        ApiError::bad_request(format!("missing query parameter 'value': {STATUS_NAMES}"))
    })?;
    let dirty = query.timestamp("lastDirtyTimestamp")?;
    override_status(state, app, id, status, dirty, actor)?;
    Ok(StatusCode::OK.into_response())
}

/// Sets a status override and replicates it: what `PUT .../status` and drain both do.
pub fn override_status(
    state: &SharedState,
    app: &AppName,
    id: &str,
    status: InstanceStatus,
    dirty: Option<u64>,
    actor: &Actor,
) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let stored =
        state.registry.set_status_override_by(app.as_str(), id, status, dirty, actor, now)?;
    tracing::info!(app = %app, instance_id = id, %status, reason = actor.reason.as_deref(),
        "status override set");
    // Java replicates even a no-op status update; so do we (the peer may lack the override).
    state.replication.replicate(actor.origin, || ReplicationTask::status_update(stored));
    Ok(())
}

fn delete_status(
    state: &SharedState,
    app: &AppName,
    id: &str,
    query: &Query<'_>,
    actor: &Actor,
) -> Result<Response, ApiError> {
    let status = query.status("value")?.unwrap_or(InstanceStatus::Unknown);
    let dirty = query.timestamp("lastDirtyTimestamp")?;
    let now = state.clock.now_ms();
    let stored =
        state.registry.delete_status_override_by(app.as_str(), id, status, dirty, actor, now)?;
    tracing::info!(app = %app, instance_id = id, %status, reason = actor.reason.as_deref(),
        "status override removed");
    state.replication.replicate(actor.origin, || ReplicationTask::delete_status_override(stored));
    Ok(StatusCode::OK.into_response())
}

fn update_metadata(
    state: &SharedState,
    app: &AppName,
    id: &str,
    query: Query<'_>,
    origin: Origin,
    owner: Option<&Arc<str>>,
) -> Result<Response, ApiError> {
    if query.0.iter().any(|(key, _)| key.trim().is_empty()) {
        return Err(ApiError::bad_request(
            "every metadata key must be non-blank: send PUT .../metadata?key=value",
        ));
    }
    let now = state.clock.now_ms();
    let stored = match owner {
        Some(user) => {
            state.registry.update_metadata_as(app.as_str(), id, query.owned(), user, now)?
        }
        None => state.registry.update_metadata(app.as_str(), id, query.owned(), now)?,
    };
    tracing::info!(app = %app, instance_id = id, "metadata updated");
    // Java replicates a metadata change as a Register of the updated instance.
    state.replication.replicate(origin, || ReplicationTask::register(stored));
    Ok(StatusCode::OK.into_response())
}

/// `POST peerreplication/batch/`: a peer's batch of replicated writes, JSON only (gzip bodies
/// accepted). A malformed batch is refused whole with 400; otherwise every item is applied and
/// answered in order.
async fn peer_batch(
    state: &SharedState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let own = state.replication.node_id().as_bytes();
    let sender = headers.get(HEADER_NODE_ID);
    if sender.is_some_and(|v| v.as_bytes() == own) {
        return Err(ApiError::new(
            StatusCode::from_u16(node::LOOP_DETECTED).unwrap_or(StatusCode::CONFLICT),
            "this batch was sent by this very server: one of its peer URLs leads back to itself",
        ));
    }
    // A node that just joined probes us at once: with DNS discovery we look it up now.
    if let Some(id) = sender.and_then(|v| v.to_str().ok()).filter(|id| id.len() <= 64) {
        state.replication.membership.heard_from(id);
    }
    // Java peers and ours send JSON; a missing Content-Type is read as JSON too.
    if headers.contains_key(header::CONTENT_TYPE) && body_type(headers)?.format != Format::Json {
        return Err(ApiError::unsupported_media_type(
            "replication batches are accepted as JSON only: send Content-Type application/json",
        ));
    }
    let bytes = read_body(body, headers, state).await?;
    let list = eureka_model::json::decode_replication_list(&bytes)?;
    let items = list.replication_list.len();
    let answer = receive::apply_batch(&**state, list);
    tracing::debug!(items, "applied a replication batch");
    let body = eureka_model::json::encode_replication_list_response(&answer);
    let mut response = encoded_response(StatusCode::OK, Format::Json, body);
    // What Java peers never send: that we read `healthCheck` notes, whether we check
    // instances, and our name in the cluster (how peers share the checks out).
    let h = response.headers_mut();
    let on = if state.config.health_checks.enabled { "on" } else { "off" };
    h.insert(HEADER_HEALTH_CHECKS, HeaderValue::from_static(on));
    if let Ok(name) = HeaderValue::from_str(state.replication.cluster_name()) {
        h.insert(HEADER_NODE_NAME, name);
    }
    Ok(response)
}
