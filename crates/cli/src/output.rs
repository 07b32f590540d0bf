//! What the commands print: aligned tables for people, and the model's own encoders for
//! scripts, so that `--output json|xml` is byte for byte what a Eureka server sends.
//!
//! Everything here is a pure function of its input (and of `now` where ages are shown), so
//! the layouts are unit-tested without a server.

use std::io::Write;

use eureka_client::{Change, InstanceInfo, InstanceStatus};
use eureka_model::{json, Application, Applications};

use crate::duration;
use crate::error::CliError;

/// Widest metadata cell in `app` tables; longer lists end in `...`.
const METADATA_WIDTH: usize = 40;
/// The model's JSON instance document is this wrapper around the instance object.
const JSON_INSTANCE_ROOT: &[u8] = b"{\"instance\":";

/// Writes to standard output, turning a closed pipe into a quiet exit.
pub fn stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(|e| CliError::from_stdout(&e))
}

/// A document followed by a newline, as a shell prompt wants.
pub fn document(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.push(b'\n');
    bytes
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A table with aligned columns separated by two spaces, widths measured in characters.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Option<Vec<String>>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a header row; `align` gives each column's alignment.
    pub fn new(header: &[&str], align: &[Align]) -> Self {
        Table {
            header: Some(header.iter().map(|h| h.to_string()).collect()),
            align: align.to_vec(),
            rows: Vec::new(),
        }
    }

    /// A table without a header (a key/value view).
    pub fn headless(align: &[Align]) -> Self {
        Table { header: None, align: align.to_vec(), rows: Vec::new() }
    }

    /// Adds a row; missing cells are empty.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, no trailing spaces.
    pub fn render(&self) -> String {
        let lines: Vec<&Vec<String>> = self.header.iter().chain(&self.rows).collect();
        let columns = lines.iter().map(|r| r.len()).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in &lines {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in lines {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = row.get(i).map_or("", String::as_str);
                let pad = width - cell.chars().count();
                if i > 0 {
                    line.push_str("  ");
                }
                match self.align.get(i).copied().unwrap_or(Align::Left) {
                    Align::Left => {
                        line.push_str(cell);
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The statuses in the order `apps` shows them: traffic-relevant first.
const STATUS_COLUMNS: [InstanceStatus; 5] = [
    InstanceStatus::Up,
    InstanceStatus::Down,
    InstanceStatus::Starting,
    InstanceStatus::OutOfService,
    InstanceStatus::Unknown,
];

/// `apps`: one row per application (sorted) with its instance counts by status, and a last
/// row that sums every column.
pub fn apps_table(apps: &Applications) -> String {
    let mut header = vec!["APP"];
    header.extend(STATUS_COLUMNS.iter().map(|s| s.as_str()));
    header.push("TOTAL");
    let mut align = vec![Align::Left];
    align.extend([Align::Right; STATUS_COLUMNS.len() + 1]);
    let mut table = Table::new(&header, &align);

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
        let mut row = vec![app.name.clone()];
        row.extend(counts.iter().map(usize::to_string));
        table.row(row);
    }
    let label = match sorted.len() {
        1 => "1 app".to_string(),
        n => format!("{n} apps"),
    };
    let mut row = vec![label];
    row.extend(totals.iter().map(usize::to_string));
    table.row(row);
    table.render()
}

/// `app NAME`: one row per instance, sorted by id.
pub fn app_table(app: &Application, now_ms: u64) -> String {
    use Align::Left;
    let mut table = Table::new(
        &["INSTANCE ID", "HOST:PORT", "STATUS", "VIP", "LAST RENEWAL", "METADATA"],
        &[Left; 6],
    );
    let mut instances: Vec<&InstanceInfo> = app.instances.iter().map(|i| &**i).collect();
    instances.sort_by(|a, b| a.id().cmp(b.id()));
    for info in instances {
        table.row(vec![
            info.id().to_string(),
            address(info),
            status(info),
            info.vip_address.clone().unwrap_or_default(),
            duration::ago(info.lease_info.last_renewal_timestamp, now_ms),
            truncate(&metadata(info, ", "), METADATA_WIDTH),
        ]);
    }
    table.render()
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

    #[test]
    fn columns_align_by_characters_and_lines_have_no_trailing_spaces() {
        let mut t = Table::new(&["NAME", "N", "NOTE"], &[Align::Left, Align::Right, Align::Left]);
        t.row(vec!["zürich".into(), "7".into(), String::new()]);
        t.row(vec!["a".into(), "1234".into(), "x".into()]);
        assert_eq!(
            t.render(),
            "NAME       N  NOTE\n\
             zürich     7\n\
             a       1234  x\n"
        );
        let mut kv = Table::headless(&[Align::Left, Align::Left]);
        kv.row(vec!["Key".into(), "v".into()]);
        kv.row(vec!["Longer key".into(), "w".into()]);
        assert_eq!(kv.render(), "Key         v\nLonger key  w\n");
        assert_eq!(Table::headless(&[]).render(), "");
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
            apps_table(&apps),
            "\
APP      UP  DOWN  STARTING  OUT_OF_SERVICE  UNKNOWN  TOTAL
BILLING   1     0         0               0        0      1
ORDERS    1     0         0               1        0      2
2 apps    2     0         0               1        0      3
"
        );
        let empty = apps_table(&Applications::default());
        assert!(empty.ends_with("0 apps   0     0         0               0        0      0\n"));
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
        let text = app_table(&app, NOW);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("INSTANCE ID  HOST:PORT"), "{text}");
        assert!(lines[1].starts_with("o1           o1.local:8080  "), "{text}");
        assert!(lines[1].contains(" never ") && lines[1].ends_with("zone=a"), "{text}");
        assert!(lines[2].contains("o2.local:8080 (secure 8443)"), "{text}");
        assert!(lines[2].contains("OUT_OF_SERVICE [override]  orders  12s ago"), "{text}");
        assert!(lines[2].ends_with("key1=value1, key2=value2..."), "{text}");
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
