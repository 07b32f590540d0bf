//! `cluster`: every `--server`'s own view of the cluster, from its `GET status`: whether it
//! answers and is ready, its registry size, self-preservation and its inputs, and each of its
//! peer links (reachability, queue, lag, last success, last error). Our servers say all of
//! it; a Java server's status has no registry or queue figures, so those show as `-` and its
//! peers come from `applicationStats`.

use serde_json::Value;

use super::{bad, good, warn, Align, Cell, Table, TableOpts};
use crate::duration;

/// One server as `cluster` saw it: its status document, or why there is none.
#[derive(Debug, Clone)]
pub struct Node {
    /// The server's URL, without credentials.
    pub server: String,
    /// `GET status` as JSON, or the one-line reason it could not be read.
    pub status: Result<Value, String>,
}

/// The servers table, then (when any server has peers) the peer links table.
pub fn cluster_tables(nodes: &[Node], now_ms: u64, opts: TableOpts) -> String {
    let mut servers = Table::new(
        &["SERVER", "STATUS", "APPS", "INSTANCES", "SELF-PRESERVATION", "RENEWALS/MIN", "PEERS"],
        &[
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Left,
            Align::Left,
            Align::Left,
        ],
    )
    .without_header(opts.no_headers);
    let mut peers = Table::new(
        &["SERVER", "PEER", "REACHABLE", "QUEUE", "OLDEST", "LAST SUCCESS", "LAST ERROR"],
        &[
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Left,
            Align::Left,
        ],
    )
    .without_header(opts.no_headers);
    let mut any_peer = false;
    for node in nodes {
        let doc = match &node.status {
            Ok(doc) => doc,
            Err(reason) => {
                // The reason goes last, so it does not widen the columns of the others.
                let mut row = vec![node.server.clone().into(), Cell::styled("unreachable", bad())];
                row.extend(std::iter::repeat_n(Cell::default(), 4));
                row.push(Cell::styled(reason.clone(), bad()));
                servers.cells(row);
                continue;
            }
        };
        let reg = &doc["registry"];
        let links = peer_links(doc);
        let reachable = links.iter().filter(|l| l.reachable == Some(true)).count();
        let peers_cell = match links.len() {
            0 => Cell::from("standalone"),
            n if reachable < n => Cell::styled(format!("{reachable}/{n} reachable"), bad()),
            n => Cell::styled(format!("{reachable}/{n} reachable"), good()),
        };
        let ready = doc["replication"]["startupSyncFinished"].as_bool();
        servers.cells(vec![
            node.server.clone().into(),
            match ready {
                Some(false) => Cell::styled("UP, syncing", warn()),
                _ => Cell::styled("UP", good()),
            },
            number(&reg["applications"]).into(),
            number(&reg["instances"]).into(),
            preservation(reg),
            renewals(reg),
            peers_cell,
        ]);
        for link in links {
            any_peer = true;
            let reach = match link.reachable {
                Some(true) => Cell::styled("yes", good()),
                Some(false) => Cell::styled("no", bad()),
                None => Cell::from("unknown"),
            };
            let queue = match link.queue {
                Some(q) if q > 1000 => Cell::styled(q.to_string(), warn()),
                Some(q) => q.to_string().into(),
                None => "-".into(),
            };
            let error = match (&link.last_error, link.last_error_ms) {
                (Some(e), Some(at)) => {
                    Cell::styled(format!("{}: {e}", duration::ago(at, now_ms)), bad())
                }
                (Some(e), None) => Cell::styled(e.clone(), bad()),
                _ => "-".into(),
            };
            peers.cells(vec![
                node.server.clone().into(),
                link.url.into(),
                reach,
                queue,
                link.oldest_ms.map_or("-".to_string(), |ms| format!("{}s", ms / 1000)).into(),
                link.last_success_ms.map_or("-".to_string(), |at| duration::ago(at, now_ms)).into(),
                error,
            ]);
        }
    }
    let mut out = servers.render();
    if any_peer {
        out.push('\n');
        out.push_str(&peers.render());
    }
    out
}

/// One peer link of one server.
#[derive(Debug, Clone, Default, PartialEq)]
struct Link {
    url: String,
    reachable: Option<bool>,
    queue: Option<u64>,
    oldest_ms: Option<u64>,
    last_success_ms: Option<u64>,
    last_error: Option<String>,
    last_error_ms: Option<u64>,
}

/// Our `replication.peers`, or Java's comma-separated `applicationStats` lists.
fn peer_links(doc: &Value) -> Vec<Link> {
    if let Some(peers) = doc["replication"]["peers"].as_array() {
        return peers
            .iter()
            .filter(|p| p["isThisServer"] != Value::Bool(true))
            .map(|p| Link {
                url: p["url"].as_str().unwrap_or("?").to_string(),
                reachable: p["reachable"].as_bool(),
                queue: p["queueDepth"].as_u64(),
                oldest_ms: p["oldestTaskAgeMs"].as_u64(),
                last_success_ms: p["lastSuccessMs"].as_u64(),
                last_error: p["lastError"].as_str().map(str::to_string),
                last_error_ms: p["lastErrorMs"].as_u64(),
            })
            .collect();
    }
    let list = |key: &str| -> Vec<String> {
        doc["applicationStats"][key]
            .as_str()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect()
    };
    let available = list("available-replicas");
    list("registered-replicas")
        .into_iter()
        .map(|url| Link { reachable: Some(available.contains(&url)), url, ..Link::default() })
        .collect()
}

fn number(v: &Value) -> String {
    v.as_u64().map_or("-".to_string(), |n| n.to_string())
}

/// `active` (yellow; `active, first minute` in a node's first minute), `enabled`, `off`.
fn preservation(reg: &Value) -> Cell {
    let enabled = reg["selfPreservationEnabled"].as_bool();
    let active = reg["selfPreservationActive"].as_bool();
    let first_minute =
        reg["renewThreshold"].as_u64() == Some(0) && reg["renewsLastMin"].as_u64() == Some(0);
    match (enabled, active) {
        (None, _) => "-".into(),
        (Some(false), _) => "off".into(),
        (Some(true), Some(true)) if first_minute => Cell::styled("active, first minute", warn()),
        (Some(true), Some(true)) => Cell::styled("ACTIVE", bad()),
        (Some(true), _) => "enabled".into(),
    }
}

/// `170 / 170 needed (100%)`: the renewals of the last minute against the threshold.
fn renewals(reg: &Value) -> Cell {
    let (Some(renews), Some(threshold)) =
        (reg["renewsLastMin"].as_u64(), reg["renewThreshold"].as_u64())
    else {
        return "-".into();
    };
    if threshold == 0 {
        return format!("{renews} (none needed)").into();
    }
    let percent = renews * 100 / threshold;
    let text = format!("{renews} / {threshold} needed ({percent}%)");
    match percent {
        0..=100 => Cell::styled(text, bad()),
        101..=109 => Cell::styled(text, warn()),
        _ => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn plain(text: String) -> String {
        anstream::adapter::strip_str(&text).to_string()
    }

    #[test]
    fn servers_and_peer_links_from_ours_and_javas_status() {
        let ours = json!({
            "registry": {"applications": 2, "instances": 5, "renewsLastMin": 9, "renewThreshold": 17,
                         "selfPreservationEnabled": true, "selfPreservationActive": true},
            "replication": {"startupSyncFinished": true, "peers": [
                {"url": "http://b:8761/eureka/", "reachable": true, "queueDepth": 0, "lastSuccessMs": NOW - 2_000},
                {"url": "http://c:8761/eureka/", "reachable": false, "queueDepth": 12,
                 "oldestTaskAgeMs": 9_000, "lastError": "connection refused", "lastErrorMs": NOW - 1_000},
            ]},
        });
        let java = json!({"applicationStats": {
            "registered-replicas": "http://a:8761/eureka/,http://c:8761/eureka/",
            "available-replicas": "http://a:8761/eureka/", "unavailable-replicas": "http://c:8761/eureka/"}});
        let nodes = [
            Node { server: "http://a:8761/eureka/".into(), status: Ok(ours) },
            Node { server: "http://b:8761/eureka/".into(), status: Ok(java) },
            Node {
                server: "http://c:8761/eureka/".into(),
                status: Err("connection refused".into()),
            },
        ];
        let text = plain(cluster_tables(&nodes, NOW, TableOpts::default()));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("SERVER"), "{text}");
        assert!(lines[1].contains("UP") && lines[1].contains("ACTIVE"), "{text}");
        assert!(
            lines[1].contains("9 / 17 needed (52%)") && lines[1].ends_with("1/2 reachable"),
            "{text}"
        );
        assert!(lines[2].contains(" -  ") && lines[2].ends_with("1/2 reachable"), "Java: {text}");
        assert!(
            lines[3].contains(" unreachable ") && lines[3].ends_with("connection refused"),
            "{text}"
        );
        assert_eq!(lines[4], "", "{text}");
        assert!(lines[5].starts_with("SERVER") && lines[5].contains("LAST ERROR"), "{text}");
        assert!(
            lines[7].contains("http://c:8761/eureka/  no") && lines[7].contains("12      9s"),
            "{text}"
        );
        assert!(lines[7].ends_with("1s ago: connection refused"), "{text}");
        assert_eq!(lines.len(), 10, "two links of ours and two of Java's: {text}");
    }
}
