//! The registry's tables for people: `apps`, `app`, `instance`, `problems` and `watch` lines.
//!
//! Everything here is a pure function of its input (and of `now` where ages are shown), so
//! the layouts are unit-tested without a server.

use std::collections::HashMap;

use eureka_client::{Change, InstanceInfo, InstanceStatus};
use eureka_model::{json, Application, Applications};

use super::{status_style, Align, Cell, Table};
use crate::duration;

/// Widest metadata cell in `app` tables; longer lists end in `...`.
const METADATA_WIDTH: usize = 40;
/// The model's JSON instance document is this wrapper around the instance object.
const JSON_INSTANCE_ROOT: &[u8] = b"{\"instance\":";

/// The statuses in the order `apps` shows them: traffic-relevant first.
const STATUS_COLUMNS: [InstanceStatus; 5] = [
    InstanceStatus::Up,
    InstanceStatus::Down,
    InstanceStatus::Starting,
    InstanceStatus::OutOfService,
    InstanceStatus::Unknown,
];

/// How a table is drawn: `--no-headers`, `-o wide`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableOpts {
    /// Leave the header row out.
    pub no_headers: bool,
    /// More columns (`-o wide`).
    pub wide: bool,
}

/// A lease's live timing, from the server's `GET leases` (ours only): registry documents
/// carry lease timestamps that may be a minute old.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLease {
    /// Last renewal, epoch ms.
    pub last_renewal: u64,
    /// When the lease expires unless renewed, epoch ms.
    pub expires_at: u64,
    /// Whether it had expired when the server answered.
    pub expired: bool,
    /// Why the server's health check marked it DOWN, when it did.
    pub health_down: Option<String>,
}

/// Live leases by (application, instance id).
pub type Leases = HashMap<(String, String), LiveLease>;

/// `apps`: one row per application (sorted) with its instance counts by status, and a last
/// row that sums every column.
pub fn apps_table(apps: &Applications, opts: TableOpts) -> String {
    let mut header = vec!["APP"];
    header.extend(STATUS_COLUMNS.iter().map(|s| s.as_str()));
    header.push("TOTAL");
    let mut align = vec![Align::Left];
    align.extend([Align::Right; STATUS_COLUMNS.len() + 1]);
    let mut table = Table::new(&header, &align).without_header(opts.no_headers);

    let mut sorted: Vec<&Application> = apps.applications.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut totals = [0usize; STATUS_COLUMNS.len() + 1];
    for app in &sorted {
        let mut counts = [0usize; STATUS_COLUMNS.len() + 1];
        for info in &app.instances {
            let column = STATUS_COLUMNS.iter().position(|s| *s == info.status).unwrap_or(4);
            counts[column] += 1;
            counts[STATUS_COLUMNS.len()] += 1;
        }
        for (total, count) in totals.iter_mut().zip(counts) {
            *total += count;
        }
        table.cells(count_cells(app.name.clone(), &counts));
    }
    let label = match sorted.len() {
        1 => "1 app".to_string(),
        n => format!("{n} apps"),
    };
    if !opts.no_headers {
        table.cells(count_cells(label, &totals));
    }
    table.render()
}

/// A row of counts; a non-zero count of a status other than UP is coloured.
fn count_cells(label: String, counts: &[usize]) -> Vec<Cell> {
    let mut row = vec![Cell::from(label)];
    for (i, n) in counts.iter().enumerate() {
        let style = match STATUS_COLUMNS.get(i) {
            Some(status) if *n > 0 && *status != InstanceStatus::Up => status_style(*status),
            _ => anstyle::Style::new(),
        };
        row.push(Cell::styled(n.to_string(), style));
    }
    row
}

/// `app NAME`: one row per instance, sorted by id (natural order is the console's; here the
/// plain order keeps scripts stable). LAST RENEWAL is shown only from a live source: without
/// `leases` (a server without `GET leases`) the column is left out rather than showing the
/// registry document's stale timestamp.
pub fn app_table(
    app: &Application,
    leases: Option<&Leases>,
    now_ms: u64,
    opts: TableOpts,
) -> String {
    let mut instances: Vec<&InstanceInfo> = app.instances.iter().map(|i| &**i).collect();
    instances.sort_by(|a, b| a.id().cmp(b.id()));
    instance_rows(&instances, leases, now_ms, opts, false)
}

/// `problems`: every instance that needs attention (not UP, or its lease expired), across
/// applications, worst first.
pub fn problems_table(
    instances: &[&InstanceInfo],
    leases: Option<&Leases>,
    now_ms: u64,
    opts: TableOpts,
) -> String {
    instance_rows(instances, leases, now_ms, opts, true)
}

/// Whether an instance needs attention: not UP, or (from live leases) expired.
pub fn is_problem(info: &InstanceInfo, leases: Option<&Leases>) -> bool {
    info.status != InstanceStatus::Up || lease_of(info, leases).is_some_and(|l| l.expired)
}

fn lease_of<'a>(info: &InstanceInfo, leases: Option<&'a Leases>) -> Option<&'a LiveLease> {
    leases?.get(&(info.app.clone(), info.id().to_string()))
}

fn instance_rows(
    instances: &[&InstanceInfo],
    leases: Option<&Leases>,
    now_ms: u64,
    opts: TableOpts,
    with_app: bool,
) -> String {
    let mut header = Vec::new();
    if with_app {
        header.push("APP");
    }
    header.extend(["INSTANCE ID", "HOST:PORT", "STATUS"]);
    if opts.wide {
        header.extend(["IP", "ZONE", "VERSION", "REGISTERED"]);
    } else {
        header.push("VIP");
    }
    if leases.is_some() {
        header.push("LAST RENEWAL");
    }
    header.push("METADATA");
    let mut table =
        Table::new(&header, &vec![Align::Left; header.len()]).without_header(opts.no_headers);
    for info in instances {
        let mut row: Vec<Cell> = Vec::new();
        if with_app {
            row.push(info.app.clone().into());
        }
        row.push(info.id().to_string().into());
        row.push(address(info).into());
        let status = match lease_of(info, leases).and_then(|l| l.health_down.as_deref()) {
            Some(reason) => format!("{} ({reason})", status(info)),
            None => status(info),
        };
        row.push(Cell::styled(status, status_style(info.status)));
        if opts.wide {
            row.push(info.ip_addr.clone().into());
            row.push(zone(info).unwrap_or("-").into());
            row.push(version(info).unwrap_or("-").into());
            row.push(duration::ago(info.lease_info.registration_timestamp, now_ms).into());
        } else {
            row.push(info.vip_address.clone().unwrap_or_default().into());
        }
        if let Some(leases) = leases {
            row.push(match lease_of(info, Some(leases)) {
                Some(l) if l.expired => Cell::styled(
                    format!("{} (expired)", duration::ago(l.last_renewal, now_ms)),
                    super::bad(),
                ),
                Some(l) => duration::ago(l.last_renewal, now_ms).into(),
                None => "-".into(),
            });
        }
        let meta = metadata(info, ", ");
        row.push(if opts.wide { meta } else { truncate(&meta, METADATA_WIDTH) }.into());
        table.cells(row);
    }
    table.render()
}

/// The zone an instance names (`zone` metadata, or AWS data-center info).
fn zone(info: &InstanceInfo) -> Option<&str> {
    info.metadata.get("zone").map(String::as_str).or_else(|| {
        info.data_center_info
            .as_ref()
            .and_then(|d| d.metadata.get("availability-zone"))
            .map(String::as_str)
    })
}

/// The version an instance names in its metadata, as the console reads it.
fn version(info: &InstanceInfo) -> Option<&str> {
    ["version", "app.version", "app-version", "build.version", "build-version"]
        .iter()
        .find_map(|k| info.metadata.get(k))
        .map(String::as_str)
}

/// `instance ID`: every field a person looks for, one per line.
pub fn instance_view(info: &InstanceInfo, now_ms: u64) -> String {
    let mut table = Table::headless(&[Align::Left, Align::Left]);
    let mut field = |key: &str, value: String| table.row(vec![key.to_string(), value]);
    let port = |p: eureka_model::Port| {
        format!("{} ({})", p.port, if p.enabled { "enabled" } else { "disabled" })
    };
    let time = |ms: u64| match ms {
        0 => "never".to_string(),
        _ => format!("{} ({})", duration::rfc3339(ms), duration::ago(ms, now_ms)),
    };
    let lease = &info.lease_info;
    field("Instance ID", info.id().to_string());
    field("App", info.app.clone());
    field("Host", info.host_name.clone());
    field("IP", info.ip_addr.clone());
    field("Status", info.status.to_string());
    field("Override", override_of(info).map_or("none".to_string(), |s| s.to_string()));
    field("Port", port(info.port));
    field("Secure port", port(info.secure_port));
    field("VIP", dash(&info.vip_address));
    field("Secure VIP", dash(&info.secure_vip_address));
    field("Home page", dash(&info.home_page_url));
    field("Status page", dash(&info.status_page_url));
    field("Health check", dash(&info.health_check_url));
    field(
        "Lease",
        format!(
            "renewed every {}s, expires {}s after the last renewal",
            lease.renewal_interval_in_secs, lease.duration_in_secs
        ),
    );
    field("Registered", time(lease.registration_timestamp));
    field("Last renewal", time(lease.last_renewal_timestamp));
    field("Up since", time(lease.service_up_timestamp));
    field("Last updated", time(info.last_updated_timestamp));
    field("Last dirty", time(info.last_dirty_timestamp));
    let data_center = info.data_center_info.as_ref().and_then(|dc| dc.name);
    field("Data center", data_center.map_or("-", |n| n.as_str()).to_string());
    if info.metadata.is_empty() {
        field("Metadata", "none".to_string());
    }
    for (i, (k, v)) in info.metadata.iter().enumerate() {
        field(if i == 0 { "Metadata" } else { "" }, format!("{k}={v}"));
    }
    table.render()
}

/// The widths of `watch`'s variable columns (app, id, status). They only grow, so that
/// lines stay aligned once the widest values have been seen, without knowing the future.
#[derive(Debug, Clone, Default)]
pub struct WatchColumns {
    widths: [usize; 3],
}

impl WatchColumns {
    /// Widens the columns for a batch of changes about to be printed.
    pub fn fit<'a>(&mut self, changes: impl IntoIterator<Item = &'a Change>) {
        for change in changes {
            let info = change.instance();
            let cells = [info.app.chars().count(), info.id().chars().count(), status_width(info)];
            for (width, cell) in self.widths.iter_mut().zip(cells) {
                *width = (*width).max(cell);
            }
        }
    }

    /// One line for people: time, action, app, id, status, host:port.
    pub fn line(&self, change: &Change, now_ms: u64) -> String {
        let info = change.instance();
        let [app, id, state] = self.widths;
        format!(
            "{}  {:<8}  {:<app$}  {:<id$}  {:<state$}  {}\n",
            duration::rfc3339(now_ms),
            change.action().as_str(),
            info.app,
            info.id(),
            status(info),
            address(info)
        )
    }
}

fn status_width(info: &InstanceInfo) -> usize {
    status(info).chars().count()
}

/// One `watch` line for scripts: a JSON object whose `instance` is the model's JSON encoding
/// of the instance, with `actionType` set to this change's action as a delta would carry it.
pub fn change_json(change: &Change, now_ms: u64) -> String {
    let info = InstanceInfo {
        action_type: Some(change.action()),
        ..InstanceInfo::clone(change.instance())
    };
    let encoded = json::encode_instance(&info);
    // The encoder writes `{"instance":{...}}`; the object inside is embedded as it is, so
    // the line carries exactly the server's field set and order.
    let object = encoded
        .strip_prefix(JSON_INSTANCE_ROOT)
        .and_then(|rest| rest.strip_suffix(b"}"))
        .unwrap_or(&encoded);
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    format!(
        "{{\"time\":{},\"action\":{},\"app\":{},\"id\":{},\"instance\":{}}}\n",
        quote(&duration::rfc3339(now_ms)),
        quote(change.action().as_str()),
        quote(&info.app),
        quote(info.id()),
        String::from_utf8_lossy(object)
    )
}

/// The override, if an operator set one (UNKNOWN means none on the wire).
fn override_of(info: &InstanceInfo) -> Option<InstanceStatus> {
    (info.overridden_status != InstanceStatus::Unknown).then_some(info.overridden_status)
}

/// `UP`, or `OUT_OF_SERVICE [override]`, or `UP [override DOWN]` when they differ.
fn status(info: &InstanceInfo) -> String {
    match override_of(info) {
        None => info.status.to_string(),
        Some(o) if o == info.status => format!("{} [override]", info.status),
        Some(o) => format!("{} [override {o}]", info.status),
    }
}

/// `host:8080`, `host:8080 (secure 8443)`, or `host:8443 (secure only)`.
fn address(info: &InstanceInfo) -> String {
    let (plain, secure) = (info.port, info.secure_port);
    match (plain.enabled, secure.enabled) {
        (true, true) => format!("{}:{} (secure {})", info.host_name, plain.port, secure.port),
        (false, true) => format!("{}:{} (secure only)", info.host_name, secure.port),
        (true, false) => format!("{}:{}", info.host_name, plain.port),
        (false, false) => format!("{}:{} (disabled)", info.host_name, plain.port),
    }
}

/// An optional field, `-` when absent so that a key/value row never looks cut off.
fn dash(value: &Option<String>) -> String {
    value.as_deref().filter(|v| !v.is_empty()).unwrap_or("-").to_string()
}

fn metadata(info: &InstanceInfo, separator: &str) -> String {
    info.metadata.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(separator)
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept: String = text.chars().take(width.saturating_sub(3)).collect();
    format!("{kept}...")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use eureka_model::Port;

    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn inst(app: &str, id: &str, status: InstanceStatus) -> Arc<InstanceInfo> {
        Arc::new(InstanceInfo {
            instance_id: Some(id.into()),
            host_name: format!("{id}.local"),
            app: app.into(),
            ip_addr: "10.0.0.1".into(),
            status,
            port: Port { port: 8080, enabled: true },
            vip_address: Some(app.to_lowercase()),
            ..Default::default()
        })
    }

    /// The text without escape codes, as a pipe or `NO_COLOR` gets it.
    fn strip(text: String) -> String {
        anstream::adapter::strip_str(&text).to_string()
    }

    #[test]
    fn apps_counts_by_status_sorted_with_a_total_row() {
        use InstanceStatus::*;
        let apps = Applications {
            versions_delta: "1".into(),
            apps_hashcode: String::new(),
            applications: vec![
                Application {
                    name: "ORDERS".into(),
                    instances: vec![inst("ORDERS", "o1", Up), inst("ORDERS", "o2", OutOfService)],
                },
                Application { name: "BILLING".into(), instances: vec![inst("BILLING", "b1", Up)] },
            ],
        };
        assert_eq!(
            strip(apps_table(&apps, TableOpts::default())),
            "\
APP      UP  DOWN  STARTING  OUT_OF_SERVICE  UNKNOWN  TOTAL
BILLING   1     0         0               0        0      1
ORDERS    1     0         0               1        0      2
2 apps    2     0         0               1        0      3
"
        );
        let empty = apps_table(&Applications::default(), TableOpts::default());
        assert!(empty.ends_with("0 apps   0     0         0               0        0      0\n"));
        let bare = strip(apps_table(&apps, TableOpts { no_headers: true, wide: false }));
        assert_eq!(
            bare, "BILLING  1  0  0  0  0  1\nORDERS   1  0  0  1  0  2\n",
            "no header, no total"
        );
        assert!(
            apps_table(&apps, TableOpts::default()).contains("\u{1b}[33m1\u{1b}[0m"),
            "OOS in yellow"
        );
    }

    #[test]
    fn app_rows_show_overrides_ports_ages_and_truncated_metadata() {
        let mut secure = InstanceInfo::clone(&inst("ORDERS", "o2", InstanceStatus::OutOfService));
        secure.overridden_status = InstanceStatus::OutOfService;
        secure.secure_port = Port { port: 8443, enabled: true };
        secure.lease_info.last_renewal_timestamp = NOW - 12_000;
        secure.metadata = (0..10).map(|i| (format!("key{i}"), format!("value{i}"))).collect();
        let mut plain = InstanceInfo::clone(&inst("ORDERS", "o1", InstanceStatus::Up));
        plain.metadata.insert("zone".into(), "a".into());
        let app = Application {
            name: "ORDERS".into(),
            instances: vec![Arc::new(secure), Arc::new(plain)],
        };
        let leases: Leases = [
            (
                ("ORDERS".into(), "o2".into()),
                LiveLease {
                    last_renewal: NOW - 12_000,
                    expires_at: NOW + 78_000,
                    expired: false,
                    health_down: None,
                },
            ),
            (
                ("ORDERS".into(), "o1".into()),
                LiveLease {
                    last_renewal: NOW - 95_000,
                    expires_at: NOW - 5_000,
                    expired: true,
                    health_down: None,
                },
            ),
        ]
        .into();
        let text = strip(app_table(&app, Some(&leases), NOW, TableOpts::default()));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("INSTANCE ID  HOST:PORT"), "{text}");
        assert!(lines[0].contains("LAST RENEWAL"), "{text}");
        assert!(lines[1].starts_with("o1           o1.local:8080  "), "{text}");
        assert!(lines[1].contains(" 95s ago (expired) ") && lines[1].ends_with("zone=a"), "{text}");
        assert!(lines[2].contains("o2.local:8080 (secure 8443)"), "{text}");
        assert!(lines[2].contains("OUT_OF_SERVICE [override]  orders  12s ago"), "{text}");
        assert!(lines[2].ends_with("key1=value1, key2=value2..."), "{text}");

        // Without a live source the column is left out, not filled from the document.
        let text = strip(app_table(&app, None, NOW, TableOpts::default()));
        assert!(!text.contains("LAST RENEWAL") && !text.contains("ago"), "{text}");
        let wide = strip(app_table(&app, None, NOW, TableOpts { no_headers: false, wide: true }));
        let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(header[4..8], ["IP", "ZONE", "VERSION", "REGISTERED"], "{wide}");
        assert!(wide.contains("key9=value9"), "wide does not truncate metadata: {wide}");
    }

    #[test]
    fn problems_name_a_health_checks_reason() {
        let down = inst("ORDERS", "o3", InstanceStatus::Down);
        let lease = LiveLease {
            last_renewal: NOW - 2_000,
            expires_at: NOW + 88_000,
            expired: false,
            health_down: Some("health check: HTTP 503".into()),
        };
        let leases: Leases = [(("ORDERS".into(), "o3".into()), lease)].into();
        assert!(is_problem(&down, Some(&leases)));
        let text = strip(problems_table(&[&down], Some(&leases), NOW, TableOpts::default()));
        assert!(text.contains("DOWN (health check: HTTP 503)"), "{text}");
        // A DOWN the instance reported itself has no reason to show.
        let text = strip(problems_table(&[&down], None, NOW, TableOpts::default()));
        assert!(text.contains("DOWN") && !text.contains("health check"), "{text}");
    }
    #[test]
    fn status_and_address_variants() {
        let mut i = InstanceInfo::clone(&inst("A", "a", InstanceStatus::Up));
        i.overridden_status = InstanceStatus::Down;
        assert_eq!(status(&i), "UP [override DOWN]");
        i.port.enabled = false;
        i.secure_port = Port { port: 443, enabled: true };
        assert_eq!(address(&i), "a.local:443 (secure only)");
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abc...");
    }

    #[test]
    fn instance_view_lists_fields_and_metadata_one_per_line() {
        let mut i = InstanceInfo::clone(&inst("A", "a1", InstanceStatus::Up));
        i.metadata = [("x".to_string(), "1".to_string()), ("y".into(), "2".into())].into();
        i.lease_info.registration_timestamp = NOW - 300_000;
        let text = instance_view(&i, NOW);
        assert!(text.starts_with("Instance ID   a1\nApp           A\n"), "{text}");
        assert!(text.contains("Override      none\n"), "{text}");
        assert!(text.contains("Registered    2023-11-14T22:08:20Z (5m ago)\n"), "{text}");
        assert!(text.ends_with("Metadata      x=1\n              y=2\n"), "{text}");
    }

    #[test]
    fn watch_lines_align_once_the_widest_values_are_seen() {
        let short = Change::Added(inst("A", "a1", InstanceStatus::Up));
        let long = Change::Removed(inst("ORDERS", "web-1:orders:8080", InstanceStatus::Down));
        let mut columns = WatchColumns::default();
        columns.fit([&short, &long]);
        assert_eq!(
            columns.line(&short, NOW),
            "2023-11-14T22:13:20Z  ADDED     A       a1                 UP    a1.local:8080\n"
        );
        assert_eq!(
            columns.line(&long, NOW),
            "2023-11-14T22:13:20Z  DELETED   ORDERS  web-1:orders:8080  DOWN  \
             web-1:orders:8080.local:8080\n"
        );
        // Narrower changes later do not shrink the columns.
        columns.fit([&short]);
        assert!(columns
            .line(&short, NOW)
            .starts_with("2023-11-14T22:13:20Z  ADDED     A       a1   "));
    }

    #[test]
    fn watch_json_lines_embed_the_models_instance_encoding() {
        let change = Change::Modified(inst("ORDERS", "o\"1", InstanceStatus::Up));
        let line = change_json(&change, NOW);
        assert!(line.ends_with("}\n") && !line.trim_end().contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["time"], "2023-11-14T22:13:20Z");
        assert_eq!(value["action"], "MODIFIED");
        assert_eq!(value["app"], "ORDERS");
        assert_eq!(value["id"], "o\"1");
        assert_eq!(value["instance"]["actionType"], "MODIFIED");
        // The instance object is the model's encoding: wrapped again, it decodes.
        let wrapped = format!("{{\"instance\":{}}}", value["instance"]);
        let decoded = json::decode_instance(wrapped.as_bytes()).unwrap();
        let expected = InstanceInfo {
            action_type: Some(eureka_model::ActionType::Modified),
            ..InstanceInfo::clone(change.instance())
        };
        assert_eq!(decoded, expected);
    }
}
