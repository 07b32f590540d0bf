//! Registry reads: documents from the per-version cache (local, or merged with remote
//! regions per `regions=` and transparent fallback; full or compact), single instances with
//! their fallback to remote regions, and Java's fetch rate limiter in front of them.

use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eureka_client::transport::HEADER_IDENTITY_NAME;
use eureka_model::{AppName, Applications, Codec, Detail, Format, InstanceInfo};
use eureka_registry::snapshot::by_vip;
use eureka_registry::{RegionSet, Snapshot};

use super::error::ApiError;
use super::negotiate::{accepts_gzip, response_format};
use super::route::Route;
use crate::cache::{Entity, Stamp};
use crate::rate_limit::Fetch;
use crate::state::SharedState;

/// Header carrying the registry version on every answer of the Eureka API (Java clients
/// ignore unknown headers).
pub const HEADER_VERSION: &str = "x-eureka-version";

/// Header selecting full or compact instances (`X-Eureka-Accept`), part of the cache key.
pub const HEADER_EUREKA_ACCEPT: &str = "x-eureka-accept";

/// The remote regions a read merges in: those its `regions=` names (fetches only; 403 until
/// every region has answered once, as Java), else every region while transparent fallback is
/// on, else none.
pub(super) fn region_set(
    state: &SharedState,
    entity: &Entity,
    requested: Option<&str>,
) -> Result<RegionSet, ApiError> {
    let remote = &state.remote;
    match requested.filter(|r| !r.is_empty()) {
        Some(regions) if matches!(entity, Entity::AllApps | Entity::Delta) => {
            if !remote.regions.ready() {
                return Err(ApiError::forbidden(
                    "remote regions not fetched yet: this server has not had an answer from \
                     every remote region (eureka.server.remote-region-urls-with-name); retry",
                ));
            }
            Ok(remote.regions.parse_set(regions))
        }
        _ => Ok(remote.default_set()),
    }
}

/// Serves a registry document from the per-version cache: encoded once per version, codec
/// (format, full or compact) and set of merged remote regions, gzip-compressed once on first
/// demand.
pub(super) fn registry_document(
    state: &SharedState,
    entity: Entity,
    headers: &HeaderMap,
    requested_regions: Option<&str>,
) -> Result<Response, ApiError> {
    if reads_refused(state) {
        return Err(ApiError::forbidden(
            "registry not ready: the start-up copy from peers was empty; \
             retry on another server (eureka.server.wait-time-in-ms-when-sync-empty)",
        ));
    }
    let format = response_format(headers);
    let codec = Codec::new(
        format,
        Detail::from_header(headers.get(HEADER_EUREKA_ACCEPT).map(|v| v.as_bytes())),
    );
    let set = region_set(state, &entity, requested_regions)?;
    let regions = &state.remote.regions;
    let encoded = match &entity {
        Entity::Delta if set.is_empty() => {
            let (key, delta) = state.registry.delta();
            let stamp = Stamp { registry: key.0, delta_epoch: key.1, regions: 0 };
            let build = || Some(codec.encode_applications(&delta));
            state.cache.get_or_build(entity.clone(), codec, set, stamp, build)
        }
        Entity::Delta => {
            let generation = regions.generation();
            let (key, delta, snap) = consistent_delta(state);
            let stamp = Stamp { registry: key.0, delta_epoch: key.1, regions: generation };
            let build =
                || Some(codec.encode_applications(&regions.delta_view(&delta, &snap, set).1));
            state.cache.get_or_build(entity.clone(), codec, set, stamp, build)
        }
        Entity::AllApps if set.is_empty() => {
            Some(state.cache.full_registry(&state.registry.snapshot(), codec))
        }
        Entity::AllApps => {
            let view = regions.full_view(&state.registry.snapshot(), set);
            let stamp =
                Stamp { registry: view.local_version, delta_epoch: 0, regions: view.generation };
            Some(state.cache.listing(set, codec, stamp, &view.apps, view.keys.iter()))
        }
        Entity::App(_) | Entity::Vip(_) | Entity::SecureVip(_) => {
            let generation = if set.is_empty() { 0 } else { regions.generation() };
            let snap = state.registry.snapshot();
            let build = || match &entity {
                Entity::App(name) => match snap.application(name) {
                    Some(app) => Some(codec.encode_application(app)),
                    None => regions.application(name, set).map(|a| codec.encode_application(&a)),
                },
                Entity::Vip(vip) | Entity::SecureVip(vip) => {
                    let secure = matches!(entity, Entity::SecureVip(_));
                    let subset = if set.is_empty() {
                        snap.by_vip(vip, secure)
                    } else {
                        by_vip(&regions.full_view(&snap, set).apps, vip, secure)
                    };
                    Some(codec.encode_applications(&subset))
                }
                Entity::AllApps | Entity::Delta => None,
            };
            let stamp = Stamp { registry: snap.version, delta_epoch: 0, regions: generation };
            state.cache.get_or_build(entity.clone(), codec, set, stamp, build)
        }
    };
    let Some(encoded) = encoded else {
        return Err(match entity {
            Entity::App(name) => {
                ApiError::not_found(format!("application {name} is not registered"))
            }
            _ => ApiError::not_found("not found"),
        });
    };
    let gzip = accepts_gzip(headers);
    let body: Bytes = if gzip { encoded.gzip().clone() } else { encoded.plain().clone() };
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(HEADER_VERSION, HeaderValue::from(encoded.stamp().registry));
    h.insert(header::VARY, HeaderValue::from_static("Accept, Accept-Encoding, X-Eureka-Accept"));
    Ok(response)
}

/// The local delta and the snapshot at the same registry version, so a merged delta's hash
/// covers exactly the local registry the delta leads to.
pub(super) fn consistent_delta(state: &SharedState) -> ((u64, u64), Arc<Applications>, Snapshot) {
    loop {
        let (key, delta) = state.registry.delta();
        let snap = state.registry.snapshot();
        if snap.version == key.0 {
            return (key, delta, snap);
        }
    }
}

/// A single instance, local or (with transparent fallback) from a remote region.
pub(super) fn find_instance(
    state: &SharedState,
    app: Option<&AppName>,
    id: &str,
) -> Option<Arc<InstanceInfo>> {
    let local = match app {
        Some(app) => state.registry.get_instance(app.as_str(), id),
        None => state.registry.find_instance(id),
    };
    let set = state.remote.default_set();
    local.or_else(|| {
        (!set.is_empty())
            .then(|| state.remote.regions.instance(app.map(AppName::as_str), id, set))
            .flatten()
    })
}

/// The rate limiter's verdict on a fetch (nothing to decide when it is off).
pub(super) fn throttled(
    state: &SharedState,
    route: &Route,
    method: &Method,
    headers: &HeaderMap,
) -> bool {
    let Some(limiter) = &state.rate_limiter else { return false };
    if method != Method::GET {
        return false;
    }
    let fetch = match route {
        Route::Apps => Fetch::Full,
        Route::Delta => Fetch::Delta,
        Route::App(_) => Fetch::Application,
        _ => return false,
    };
    let identity = headers.get(HEADER_IDENTITY_NAME).and_then(|v| v.to_str().ok());
    let refused = limiter.throttles(fetch, identity, state.clock.now_ms());
    if refused {
        state.metrics.throttled(fetch);
    }
    refused
}

/// Java's "registry not ready" window (§4.12), only when asked for with
/// `default-open-for-traffic-count: 0` (Spring's default of 1 has no window): reads are refused
/// while the start-up sync copied nothing and `wait-time-in-ms-when-sync-empty` has not passed.
pub(super) fn reads_refused(state: &SharedState) -> bool {
    state.config.default_open_for_traffic_count == 0
        && state.replication.synced_count() == 0
        && state.clock.now_ms().saturating_sub(state.started_ms)
            < state.config.wait_time_when_sync_empty.as_millis() as u64
}

pub(super) fn encoded_response(status: StatusCode, format: Format, bytes: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, format.media_type())], bytes).into_response()
}

pub(super) fn instance_document(
    found: Option<std::sync::Arc<InstanceInfo>>,
    headers: &HeaderMap,
    id: &str,
) -> Result<Response, ApiError> {
    let info =
        found.ok_or_else(|| ApiError::not_found(format!("instance {id} is not registered")))?;
    let format = response_format(headers);
    Ok(encoded_response(StatusCode::OK, format, format.encode_instance(&info)))
}
