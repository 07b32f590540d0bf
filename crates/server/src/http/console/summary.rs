//! What the console shows besides the instance list, and one instance's detail.
//!
//! The page follows instances on the change stream; this is the rest, small enough to poll
//! every few seconds: the node, system status and self-preservation in words, health checks
//! (the node's suspicion among them), replicas, expired leases per application, recent events
//! (operator actions with their user and reason, and health-check marks with their reason),
//! general information, remote regions, and, when the page asks with `leases=A,B` (or `*`), the
//! live lease timings of the applications it shows, and with `remote=1` the instances the remote
//! regions serve. An instance's detail carries its health-check state.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use eureka_registry::{Origin, RecentEvent};
use serde_json::{json, Map, Value};

use super::{events_limit, instance_document, labelled, LABEL_INSTANCE, LABEL_SUMMARY};
use crate::config::ServerConfig;
use crate::http::error::ApiError;
use crate::http::leases::{app_list, json_response, lease_json, leases};
use crate::http::status::status_document;
use crate::replication::PeerSources;
use crate::state::SharedState;

/// Kept leases listed by name in the self-preservation banner; the rest are counted.
pub const MAX_KEPT_LISTED: usize = 50;
/// Expired leases listed by name (for the page's "expired" marks and filter); the rest are
/// counted in `expired`.
pub const MAX_EXPIRED_LISTED: usize = 1000;
/// Instances of one remote region listed on the overview; the rest are counted.
pub const MAX_REMOTE_LISTED: usize = 1000;
/// History entries on an instance page.
pub const MAX_HISTORY: usize = 50;

/// `GET P/api/console/summary[?events=N][&leases=A,B|*][&remote=1]` (gzip when accepted).
pub async fn summary(
    State(state): State<SharedState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.unwrap_or_default();
    let response = match events_limit(Some(&query)) {
        Ok(events) => {
            let param = |name: &str| {
                form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            };
            let leases = param("leases");
            let remote = param("remote").is_some_and(|v| v == "1" || v == "true");
            let doc = summary_document(&state, events, leases.as_deref(), remote);
            json_response(doc.to_string().into_bytes(), &headers)
        }
        Err(e) => e.into_response(),
    };
    labelled(response, LABEL_SUMMARY)
}

/// The summary: the shared sections, the registry version, and the live lease timings of the
/// applications named in `leases` (a comma-separated list, or `*` for all); the remote
/// regions' instances only when `remote_instances` (they can be many, and the page polls).
pub fn summary_document(
    state: &SharedState,
    events: usize,
    leases_of: Option<&str>,
    remote_instances: bool,
) -> Value {
    let now = state.clock.now_ms();
    let mut doc = sections(state, now, events, remote_instances);
    doc.insert("version".into(), json!(state.registry.version()));
    if let Some(list) = leases_of.filter(|l| !l.trim().is_empty()) {
        let apps = if list.trim() == "*" { None } else { app_list(Some(list)) };
        doc.insert("leases".into(), leases(state, apps.as_deref(), now));
    }
    Value::Object(doc)
}

/// `GET P/api/console/instance?app=A&id=I`: the instance as the console shows it (live lease
/// times; `null` when it is not registered now), its owner on this node, and its history
/// from the recent events, newest first. 400 without `app` and `id`.
pub async fn instance(
    State(state): State<SharedState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
    let response = match (get("app").filter(|a| !a.is_empty()), get("id").filter(|i| !i.is_empty()))
    {
        (Some(app), Some(id)) => {
            let app = eureka_model::AppName::new(app).to_string();
            let doc = instance_detail(&state, &app, id);
            json_response(doc.to_string().into_bytes(), &headers)
        }
        _ => ApiError::bad_request("expected the query parameters app and id").into_response(),
    };
    labelled(response, LABEL_INSTANCE)
}

fn instance_detail(state: &SharedState, app: &str, id: &str) -> Value {
    let now = state.clock.now_ms();
    let timing =
        state.registry.lease_timings_of(Some(&[app.to_string()])).into_iter().find(|t| t.id == id);
    let instance = state.registry.get_instance(app, id).map(|info| {
        let mut doc = instance_document(&info, timing.as_ref(), now);
        let down = state.registry.health_of(app, id);
        doc["health"] = state.health.document_of(state, &info, down.as_ref());
        doc
    });
    let logs = recent_logs(state);
    let history = newest_first(&logs, MAX_HISTORY, |e| e.app == app && e.id == id);
    json!({
        "now": now,
        "app": app,
        "id": id,
        "instance": instance,
        "owner": state.registry.owner(app, id).as_deref(),
        "history": history.into_iter().map(event_json).collect::<Vec<_>>(),
    })
}

/// The sections every console answer shares, read at `now`; each remote region with the
/// instances it serves when `remote_instances`, else its status alone.
pub fn sections(
    state: &SharedState,
    now: u64,
    events: usize,
    remote_instances: bool,
) -> Map<String, Value> {
    let status = status_document(state);
    let reg = &status["registry"];
    let expiration_enabled = reg["leaseExpirationEnabled"].as_bool().unwrap_or(true);
    let preservation_on = reg["selfPreservationEnabled"].as_bool().unwrap_or(false);
    let active = preservation_on && !expiration_enabled;

    let expired = state.registry.expired_lease_timings(now);
    let mut expired_by_app = Map::new();
    for t in &expired {
        let n = expired_by_app.get(&t.app).and_then(Value::as_u64).unwrap_or(0);
        expired_by_app.insert(t.app.clone(), json!(n + 1));
    }
    let kept: Vec<Value> = if active {
        expired.iter().take(MAX_KEPT_LISTED).map(|t| lease_json(t, now)).collect()
    } else {
        Vec::new()
    };

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
    let others = peers.iter().filter(|p| p["isThisServer"] != json!(true));
    let peers_total = others.clone().count();
    let peers_reachable = others.filter(|p| p["reachable"] == json!(true)).count();

    let renews = reg["renewsLastMin"].as_u64().unwrap_or(0);
    let threshold = reg["renewThreshold"].as_u64().unwrap_or(0);
    // Renewals as a share of the threshold: at or under 100 % self-preservation engages.
    let renew_percent = (threshold > 0).then(|| (renews as f64 * 100.0 / threshold as f64).round());
    let (event_list, events_total) = recent_events(state, events);
    let general = &status["generalStats"];
    let config = &state.config;
    let own = &state.own_instance;

    let doc = json!({
        "now": now,
        "node": {
            "id": own.id(),
            "app": own.app,
            "hostName": own.host_name,
            "ipAddr": own.ip_addr,
            "port": config.port,
        },
        "system": {
            "environment": config.environment,
            "datacenter": config.datacenter,
            "startedAt": state.started_ms,
            "uptimeMs": now.saturating_sub(state.started_ms),
            "leaseExpirationEnabled": expiration_enabled,
            "selfPreservationEnabled": preservation_on,
            "selfPreservationActive": active,
            "renewThreshold": threshold,
            "renewsLastMin": renews,
            "renewPercent": renew_percent,
            "expectedRenewsPerMin": reg["expectedRenewsPerMin"],
            "applications": reg["applications"],
            "instances": reg["instances"],
            "expiredInstances": expired.len(),
            "statusOverrides": reg["statusOverrides"],
            "peersReachable": peers_reachable,
            "peersTotal": peers_total,
            "ready": status["replication"]["startupSyncFinished"],
            "healthChecks": status["healthChecks"],
        },
        "selfPreservation": {
            "active": active,
            "explanation": preservation_explanation(reg, active, expired.len()),
            "kept": kept,
            "keptTotal": if active { expired.len() } else { 0 },
        },
        "replicas": {
            "startupSyncFinished": status["replication"]["startupSyncFinished"],
            "instancesCopiedAtStartup": status["replication"]["instancesCopiedAtStartup"],
            "peers": peers,
        },
        "remoteRegions": remote_regions(state, &status, remote_instances),
        "expired": expired_by_app,
        "expiredLeases": expired
            .iter()
            .take(MAX_EXPIRED_LISTED)
            .map(|t| lease_json(t, now))
            .collect::<Vec<_>>(),
        "events": event_list,
        "eventsTotal": events_total,
        "info": {
            "version": env!("CARGO_PKG_VERSION"),
            "cpus": general["num-of-cpus"],
            "memoryUsage": general["current-memory-usage"],
            "memoryTotal": general["total-avail-memory"],
            "uptime": general["server-uptime"],
            "node": { "id": own.id(), "hostName": own.host_name, "ipAddr": own.ip_addr },
            "config": config_that_matters(config, &state.replication.membership.sources()),
        },
    });
    match doc {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// One recent event as the page shows it: what, to whom, and who did it and why.
fn event_json(e: &RecentEvent) -> Value {
    json!({
        "at": e.at,
        "kind": e.kind.as_str(),
        "app": e.app,
        "id": e.id,
        "status": e.status.map(|s| s.as_str()),
        "user": e.actor.user.as_deref(),
        "reason": e.actor.reason,
        "via": e.actor.via,
        "peer": e.actor.origin == Origin::Peer,
    })
}

/// Every log of recent events: registrations, cancellations and evictions, overrides,
/// health-check marks, in the order an instance meets them.
fn recent_logs(state: &SharedState) -> [Vec<RecentEvent>; 4] {
    [
        state.registry.recent_registered(),
        state.registry.recent_cancelled(),
        state.registry.recent_overrides(),
        state.registry.recent_health(),
    ]
}

/// The newest `limit` events of every log, newest first, and how many the registry holds in
/// all.
fn recent_events(state: &SharedState, limit: usize) -> (Vec<Value>, usize) {
    let logs = recent_logs(state);
    let total = logs.iter().map(Vec::len).sum();
    let events = newest_first(&logs, limit, |_| true);
    (events.into_iter().map(event_json).collect(), total)
}

/// Merges logs that are each newest first into the newest `limit` events `keep` accepts.
/// Within one millisecond the later log wins: an instance is registered before it can be
/// cancelled or overridden, so that order is the one that happened.
fn newest_first(
    logs: &[Vec<RecentEvent>],
    limit: usize,
    keep: impl Fn(&RecentEvent) -> bool,
) -> Vec<&RecentEvent> {
    let mut heads: Vec<_> = logs.iter().map(|l| l.iter().filter(|e| keep(e)).peekable()).collect();
    let mut out = Vec::new();
    while out.len() < limit {
        let newest = heads
            .iter_mut()
            .enumerate()
            .filter_map(|(i, h)| h.peek().map(|e| (i, e.at)))
            .max_by_key(|(i, at)| (*at, *i));
        let Some((i, _)) = newest else { break };
        out.extend(heads[i].next());
    }
    out
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

/// Each remote region (from the status document), with `with_instances` the instances it serves
/// (the first [`MAX_REMOTE_LISTED`]; `servedInstances` counts all), each marked with the
/// region: shown apart from local instances, which alone the actions apply to.
fn remote_regions(state: &SharedState, status: &Value, with_instances: bool) -> Vec<Value> {
    let docs = status["remoteRegions"].as_array().cloned().unwrap_or_default();
    docs.into_iter()
        .enumerate()
        .map(|(index, mut doc)| {
            if let Some(url) = doc["url"].as_str() {
                doc["url"] = json!(scrub_userinfo(url));
            }
            if !with_instances {
                return doc;
            }
            let (region, apps) = state.remote.regions.served(index).unwrap_or_default();
            let instances: Vec<Value> = apps
                .iter()
                .flat_map(|app| app.instances.iter())
                .take(MAX_REMOTE_LISTED)
                .map(|inst| {
                    json!({
                        "region": region,
                        "id": inst.id(),
                        "app": inst.app,
                        "hostName": inst.host_name,
                        "ipAddr": inst.ip_addr,
                        "port": inst.port.enabled.then_some(inst.port.port),
                        "securePort": inst.secure_port.enabled.then_some(inst.secure_port.port),
                        "status": inst.status.as_str(),
                        "zone": eureka_client::instance_zone(inst),
                    })
                })
                .collect();
            doc["instanceList"] = json!(instances);
            doc
        })
        .collect()
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

    #[test]
    fn no_credentials_reach_the_page() {
        assert_eq!(scrub_userinfo("http://u:p@h:1/eureka/"), "http://h:1/eureka/");
        assert_eq!(scrub_userinfo("http://h/a@b"), "http://h/a@b");
        assert_eq!(scrub_userinfo("not a url"), "not a url");
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
