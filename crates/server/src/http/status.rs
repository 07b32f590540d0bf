//! `GET status`: Java's `StatusInfo` document, plus the registry's self-preservation state.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use eureka_model::Format;
use serde_json::{json, Map, Value};

use super::negotiate::response_format;
use crate::replication::PeerView;
use crate::state::SharedState;

/// Renders `GET status` in the negotiated format.
pub fn status_response(state: &SharedState, headers: &HeaderMap) -> Response {
    let doc = status_document(state);
    let format = response_format(headers);
    let body = match format {
        Format::Json => serde_json::to_vec(&doc).unwrap_or_default(),
        Format::Xml => {
            let mut out = String::from("<status>");
            if let Value::Object(fields) = &doc {
                for (name, value) in fields {
                    if name == "instanceInfo" {
                        out.push_str("<instanceInfo>");
                        out.push_str(&instance_xml_fields(state));
                        out.push_str("</instanceInfo>");
                    } else {
                        write_xml(&mut out, name, value);
                    }
                }
            }
            out.push_str("</status>");
            out.into_bytes()
        }
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, format.media_type())], body).into_response()
}

/// The status document as JSON; the XML form is derived from it.
pub fn status_document(state: &SharedState) -> Value {
    let stats = state.registry.stats();
    let uptime_ms = state.clock.now_ms().saturating_sub(state.started_ms);
    let (rss_mb, total_mb) = memory_mb();
    let pct = (rss_mb * 100).checked_div(total_mb).unwrap_or(0);
    let own = eureka_model::json::encode_instance(&state.own_instance);
    let own: Value = serde_json::from_slice::<Value>(&own)
        .ok()
        .and_then(|mut v| v.get_mut("instance").map(Value::take))
        .unwrap_or(Value::Null);
    let peers = state.replication.views();
    let (reachable, unreachable): (Vec<&PeerView>, Vec<&PeerView>) =
        peers.iter().partition(|p| p.health.reachable == Some(true));
    let peer_docs: Vec<Value> = peers.iter().map(peer_document).collect();
    json!({
        "generalStats": {
            "environment": state.config.environment,
            "num-of-cpus": std::thread::available_parallelism().map_or(1, |n| n.get()).to_string(),
            "total-avail-memory": format!("{total_mb}mb"),
            "current-memory-usage": format!("{rss_mb}mb ({pct}%)"),
            "server-uptime": format_uptime(uptime_ms),
        },
        "applicationStats": {
            "registered-replicas": join(peers.iter().map(|p| p.url.as_str())),
            "available-replicas": join(reachable.iter().map(|p| p.url.as_str())),
            "unavailable-replicas": join(unreachable.iter().map(|p| p.url.as_str())),
        },
        "healthy": true,
        "instanceInfo": own,
        "registry": {
            "version": stats.version,
            "applications": stats.applications,
            "instances": stats.instances,
            "renewsLastMin": stats.renews_last_min,
            "expectedRenewsPerMin": stats.expected_renews_per_min,
            "renewThreshold": stats.renew_threshold,
            "selfPreservationEnabled": stats.self_preservation_enabled,
            "leaseExpirationEnabled": stats.lease_expiration_enabled,
            "selfPreservationActive": stats.self_preservation_enabled && !stats.lease_expiration_enabled,
            "statusOverrides": stats.overrides,
            "deltaQueueLength": stats.delta_queue_len,
        },
        "replication": {
            "startupSyncFinished": state.replication.is_synced(),
            "instancesCopiedAtStartup": state.replication.synced_count(),
            "peers": peer_docs,
            "discovery": discovery_document(state),
        },
        "healthChecks": state.health.summary(state.registry.health_marked()),
        "region": state.config.client.region,
        "remoteRegions": remote_region_documents(state),
    })
}

/// Each remote region: where it is fetched from, what its copy holds and how fetching goes.
fn remote_region_documents(state: &SharedState) -> Vec<Value> {
    let remote = &state.remote;
    remote
        .regions
        .stats()
        .into_iter()
        .zip(&remote.links)
        .map(|(s, link)| {
            let h = link.health();
            json!({
                "name": s.name,
                "url": link.url,
                "served": s.last_success_ms.is_some() && !s.expired,
                "expired": s.expired,
                "applications": s.applications,
                "instances": s.instances,
                "servedInstances": s.served_instances,
                "lastSuccessMs": s.last_success_ms,
                "lastErrorMs": h.last_error.as_ref().map(|(at, _)| *at),
                "lastError": h.last_error.as_ref().map(|(_, e)| e.as_str()),
                "consecutiveFailures": h.consecutive_failures,
                "fullFetches": h.full_fetches,
                "deltaFetches": h.delta_fetches,
                "deltaMismatches": h.delta_mismatches,
                "fetchFailures": h.failures,
                "recentChanges": s.recent_changes,
            })
        })
        .collect()
}

fn join<'a>(urls: impl Iterator<Item = &'a str>) -> String {
    urls.collect::<Vec<_>>().join(",")
}

/// Where the peer set comes from and what the last look found.
fn discovery_document(state: &SharedState) -> Value {
    let membership = &state.replication.membership;
    let sources = membership.sources();
    let found = membership.status();
    let dns = sources.dns_description();
    json!({
        "dns": dns,
        "refreshIntervalMs": dns.as_ref().map(|_| sources.discovery.refresh_interval().as_millis() as u64),
        "lastLookupMs": found.last_lookup_ms,
        "lastErrorMs": found.last_error.as_ref().map(|(at, _)| *at),
        "lastError": found.last_error.as_ref().map(|(_, e)| e.as_str()),
        "peersAdded": found.added,
        "peersRemoved": found.removed,
    })
}

/// One peer's link as we see it: reachability, queue, last success and last error.
fn peer_document(p: &PeerView) -> Value {
    let h = &p.health;
    json!({
        "url": p.url,
        "reachable": h.reachable,
        "isThisServer": p.is_self,
        "queueDepth": p.queue_depth,
        "oldestTaskAgeMs": p.oldest_task_age.map(|d| d.as_millis() as u64),
        "lastSuccessMs": h.last_success_ms,
        "lastErrorMs": h.last_error.as_ref().map(|(at, _)| *at),
        "lastError": h.last_error.as_ref().map(|(_, e)| e.as_str()),
        "authRefused": h.auth_refused,
        "consecutiveFailures": h.consecutive_failures,
        "batchesSent": h.batches_sent,
        "itemsSent": h.items_sent,
        "batchFailures": h.failures,
        "itemFailures": h.item_failures,
        "shedEntries": p.dropped.shed,
        "resyncs": p.dropped.resyncs,
    })
}

/// Java's uptime format: `hh:mm`, prefixed with `N days ` past a day.
fn format_uptime(ms: u64) -> String {
    let minutes = ms / 60_000;
    let (days, hours, mins) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    if days > 0 {
        format!("{days} days {hours:02}:{mins:02}")
    } else {
        format!("{hours:02}:{mins:02}")
    }
}

/// (resident set size, machine memory) in MiB, from /proc; zeros where unavailable.
pub fn memory_mb() -> (u64, u64) {
    let rss_pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .unwrap_or(0);
    let total_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        })
        .unwrap_or(0);
    (rss_pages * 4096 / (1 << 20), total_kb / 1024)
}

fn instance_xml_fields(state: &SharedState) -> String {
    let xml = String::from_utf8(eureka_model::xml::encode_instance(&state.own_instance))
        .unwrap_or_default();
    let inner = xml.strip_prefix("<instance>").and_then(|s| s.strip_suffix("</instance>"));
    inner.unwrap_or("").to_string()
}

fn write_xml(out: &mut String, name: &str, value: &Value) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match value {
        Value::Object(fields) => {
            let fields: &Map<String, Value> = fields;
            for (k, v) in fields {
                write_xml(out, k, v);
            }
        }
        Value::Array(items) => {
            let child = name.strip_suffix('s').unwrap_or("item");
            for item in items {
                write_xml(out, child, item);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push_str(&escape(s)),
        other => out.push_str(&escape(&other.to_string())),
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes text for HTML and XML element content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_is_formatted_like_java() {
        assert_eq!(format_uptime(61 * 60_000), "01:01");
        assert_eq!(format_uptime((2 * 1440 + 5) * 60_000), "2 days 00:05");
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
