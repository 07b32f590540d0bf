//! Value parsers: raw text to a typed value; the error says what would have been accepted.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::security::Secret;

use super::defaults;
use super::settings::{ClientAuth, LogFormat};

pub(super) const EXPECT_URL: &str = "an http:// or https:// URL";
pub(super) const EXPECT_URL_LIST: &str = "a comma-separated list of http:// or https:// URLs";

/// Spring's boolean words: true/on/yes/1 and false/off/no/0, any case.
pub(super) fn parse_bool(raw: &str) -> Result<bool, &'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err("true or false"),
    }
}

pub(super) fn parse_port(raw: &str) -> Result<u16, &'static str> {
    raw.parse().map_err(|_| "a port number from 0 to 65535")
}

pub(super) fn parse_u32(raw: &str) -> Result<u32, &'static str> {
    raw.parse().map_err(|_| "a whole number from 0 to 4294967295")
}

pub(super) fn parse_i32(raw: &str) -> Result<i32, &'static str> {
    raw.parse().map_err(|_| "a whole number (-1 disables it)")
}

pub(super) fn parse_usize(raw: &str) -> Result<usize, &'static str> {
    raw.parse().map_err(|_| "a whole number")
}

pub(super) fn parse_f64(raw: &str) -> Result<f64, &'static str> {
    raw.parse().map_err(|_| "a number between 0 and 1")
}

pub(super) fn parse_millis(raw: &str) -> Result<Duration, &'static str> {
    raw.parse().map(Duration::from_millis).map_err(|_| "a whole number of milliseconds")
}

pub(super) fn parse_secs(raw: &str) -> Result<Duration, &'static str> {
    raw.parse().map(Duration::from_secs).map_err(|_| "a whole number of seconds")
}

/// An IP address; `localhost` and `[::1]` are accepted for convenience.
pub(super) fn parse_ip(raw: &str) -> Result<IpAddr, &'static str> {
    if raw.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let bare = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(raw);
    bare.parse().map_err(|_| "an IP address such as 0.0.0.0 or ::1")
}

pub(super) fn parse_log_format(raw: &str) -> Result<LogFormat, &'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err("text or json"),
    }
}

pub(super) fn parse_text(raw: &str) -> Result<String, &'static str> {
    Ok(raw.to_string())
}

/// A comma-separated set of names (clients, applications), trimmed, empty items dropped.
pub(super) fn parse_name_set(raw: &str) -> Result<BTreeSet<String>, &'static str> {
    Ok(raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
}

/// A region name as requests give it: lower case, no ',' (which separates `regions=`).
pub(super) fn parse_region_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim().to_lowercase();
    if name.is_empty() || name.contains(',') || name.chars().any(char::is_whitespace) {
        return Err(
            "a region name without ',' or spaces, e.g. remote-region-urls-with-name.us-west-2",
        );
    }
    Ok(name)
}

/// A DNS zone such as `eureka.` or `eureka.svc.example.com`: lower-cased, with the final '.'
/// added; labels of letters, digits, '-' and '_', 1 to 63 characters each; not the root.
pub(super) fn parse_dns_domain(raw: &str) -> Result<String, &'static str> {
    const EXPECT: &str = "a domain such as eureka. or discovery.example.com: labels of letters, \
                          digits, '-' or '_' (1 to 63 characters), at most 253 characters";
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(EXPECT);
    }
    Ok(format!("{name}."))
}

/// A comma-separated list of names (blank items dropped).
pub(super) fn parse_key_list(raw: &str) -> Result<Vec<String>, &'static str> {
    Ok(raw.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect())
}

/// A file path; whether it can be read is checked when the server starts (`tls.rs`).
pub(super) fn parse_path(raw: &str) -> Result<PathBuf, &'static str> {
    Ok(PathBuf::from(raw))
}

pub(super) fn parse_client_auth(raw: &str) -> Result<ClientAuth, &'static str> {
    match raw.to_ascii_lowercase().as_str() {
        "none" => Ok(ClientAuth::None),
        "want" => Ok(ClientAuth::Want),
        "need" => Ok(ClientAuth::Need),
        _ => Err("none, want or need"),
    }
}

/// Spring's `DataSize` text: a whole number of bytes, or with a unit B, KB, MB or GB (any
/// case; 1KB = 1024 bytes).
pub(super) fn parse_data_size(raw: &str) -> Result<usize, &'static str> {
    const EXPECT: &str = "a size in bytes, or with a unit such as 8KB or 1MB";
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let scale: usize = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        _ => return Err(EXPECT),
    };
    digits.parse::<usize>().ok().and_then(|n| n.checked_mul(scale)).ok_or(EXPECT)
}

/// Spring's `Duration` text: a whole number of milliseconds, or with a unit ns, us, ms, s, m,
/// h or d (e.g. `30s`, `500ms`).
pub(super) fn parse_duration(raw: &str) -> Result<Duration, &'static str> {
    const EXPECT: &str = "a duration such as 30s, 500ms or 2m (a bare number is milliseconds)";
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: u64 = digits.parse().map_err(|_| EXPECT)?;
    let nanos_per: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "ns" => 1,
        "us" => 1_000,
        "" | "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3_600 * 1_000_000_000,
        "d" => 86_400 * 1_000_000_000,
        _ => return Err(EXPECT),
    };
    let nanos = u128::from(n) * u128::from(nanos_per);
    let max = defaults::MAX_DURATION.as_nanos();
    // Clamped so the range check reports "at most one year" rather than overflowing here.
    Ok(Duration::from_nanos(nanos.min(max + 1) as u64))
}

/// Paths the console may not take: the Eureka API and the fixed operational routes.
const RESERVED_PATH_PREFIXES: &[&str] =
    &["/eureka", "/health", "/actuator", "/metrics", "/serverinfo"];

/// The console's path, normalised: a leading '/', no trailing '/' (except the root), and only
/// characters that need no escaping in a URL or in HTML, because it is written into the page.
pub(super) fn parse_dashboard_path(raw: &str) -> Result<String, &'static str> {
    const EXPECT: &str = "a path such as / or /console: starts with '/', letters, digits and \
                          '-', '_', '.', '~' in segments, not under /eureka, /health, /actuator, \
                          /metrics or /serverinfo";
    let trimmed = raw.trim();
    let path = if trimmed.len() > 1 { trimmed.trim_end_matches('/') } else { trimmed };
    let path = if path.is_empty() { "/" } else { path };
    if !path.starts_with('/') {
        return Err(EXPECT);
    }
    if path != "/" {
        let segments_ok = path[1..].split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
        });
        let lower = path.to_ascii_lowercase();
        let reserved = RESERVED_PATH_PREFIXES.iter().any(|p| {
            lower == *p || lower.strip_prefix(p).is_some_and(|rest| rest.starts_with('/'))
        });
        if !segments_ok || reserved {
            return Err(EXPECT);
        }
    }
    Ok(path.to_string())
}

pub(super) fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    ["http://", "https://"]
        .iter()
        .any(|scheme| lower.len() > scheme.len() && lower.starts_with(scheme))
}

/// One http(s) URL, given a trailing '/' so it compares and joins like peer URLs.
pub(super) fn parse_url(raw: &str) -> Result<String, &'static str> {
    if !is_http_url(raw) || raw.chars().any(char::is_whitespace) {
        return Err(EXPECT_URL);
    }
    let mut url = raw.to_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

/// A comma-separated URL list, each trimmed and normalised by [`parse_url`]; empty items are
/// dropped.
pub(super) fn parse_url_list(raw: &str) -> Result<Vec<String>, &'static str> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse_url(item).map_err(|_| EXPECT_URL_LIST))
        .collect()
}

/// A user name for HTTP Basic: not empty, no ':' (which ends the name in a Basic header).
pub(super) fn parse_user_name(raw: &str) -> Result<String, &'static str> {
    if raw.is_empty() || raw.contains(':') || raw.chars().any(char::is_control) {
        return Err("a user name without ':' or control characters");
    }
    Ok(raw.to_string())
}

pub(super) fn parse_secret(raw: &str) -> Result<Secret, &'static str> {
    Ok(Secret::new(raw))
}
