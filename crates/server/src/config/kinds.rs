//! Value kinds: for each kind of setting, its parser, how a value is written back as text
//! (for `config show` and the reference's default column) and the type name the reference
//! prints. A key row names its kind once, so the three cannot disagree.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::security::Secret;

use super::discovery::{parse_context, parse_dns_name, parse_host_port};
use super::parse::{
    parse_bool, parse_client_auth, parse_dashboard_path, parse_data_size, parse_dns_domain,
    parse_duration, parse_f64, parse_i32, parse_ip, parse_key_list, parse_log_format, parse_millis,
    parse_name_set, parse_path, parse_port, parse_secret, parse_secs, parse_text, parse_u32,
    parse_url, parse_url_list, parse_usize,
};
use super::settings::{ClientAuth, HealthCheckMode, LogFormat};

/// How one kind of value is read, written back and named.
pub(super) struct Kind<T: 'static> {
    /// The type as the reference names it, e.g. `milliseconds`.
    pub(super) ty: &'static str,
    /// Raw text to the typed value; the error says what would have been accepted.
    pub(super) parse: fn(&str) -> Result<T, &'static str>,
    /// The typed value as text that [`Kind::parse`] reads back to the same value.
    pub(super) show: fn(&T) -> String,
}

pub(super) const BOOL: Kind<bool> = Kind { ty: "boolean", parse: parse_bool, show: to_text };
pub(super) const PORT: Kind<u16> = Kind { ty: "port", parse: parse_port, show: to_text };
pub(super) const U32: Kind<u32> = Kind { ty: "integer", parse: parse_u32, show: to_text };
pub(super) const I32: Kind<i32> = Kind { ty: "integer", parse: parse_i32, show: to_text };
pub(super) const USIZE: Kind<usize> = Kind { ty: "integer", parse: parse_usize, show: to_text };
pub(super) const FRACTION: Kind<f64> = Kind { ty: "number", parse: parse_f64, show: to_text };
pub(super) const MILLIS: Kind<Duration> =
    Kind { ty: "milliseconds", parse: parse_millis, show: |d| d.as_millis().to_string() };
pub(super) const SECONDS: Kind<Duration> =
    Kind { ty: "seconds", parse: parse_secs, show: |d| d.as_secs().to_string() };
/// Spring's `Duration` text (`30s`, `500ms`; a bare number is milliseconds).
pub(super) const DURATION: Kind<Duration> =
    Kind { ty: "duration", parse: parse_duration, show: show_duration };
/// Spring's `DataSize` text (`8KB`, `1MB`, or bytes).
pub(super) const DATA_SIZE: Kind<usize> =
    Kind { ty: "data size", parse: parse_data_size, show: show_data_size };
/// A comma-separated set of names (clients, applications).
pub(super) const NAME_SET: Kind<BTreeSet<String>> = Kind {
    ty: "name list",
    parse: parse_name_set,
    show: |names| names.iter().cloned().collect::<Vec<_>>().join(","),
};
pub(super) const IP: Kind<IpAddr> = Kind { ty: "IP address", parse: parse_ip, show: to_text };
pub(super) const TEXT: Kind<String> = Kind { ty: "text", parse: parse_text, show: to_text };
pub(super) const PATH: Kind<PathBuf> =
    Kind { ty: "file", parse: parse_path, show: |p| p.display().to_string() };
pub(super) const URL: Kind<String> = Kind { ty: "URL", parse: parse_url, show: |u| mask_url(u) };
pub(super) const URL_LIST: Kind<Vec<String>> =
    Kind { ty: "URL list", parse: parse_url_list, show: |urls| show_url_list(urls) };
/// A DNS name, e.g. a headless Service's (`peer-dns-name`).
pub(super) const DNS_NAME: Kind<String> =
    Kind { ty: "DNS name", parse: parse_dns_name, show: to_text };
/// `HOST:PORT` of a name server.
pub(super) const HOST_PORT: Kind<String> =
    Kind { ty: "HOST:PORT", parse: parse_host_port, show: to_text };
/// A URL path without its slashes, e.g. `eureka` or `eureka/v2` (Java's URL context).
pub(super) const URL_CONTEXT: Kind<String> =
    Kind { ty: "URL path", parse: parse_context, show: to_text };
pub(super) const URL_PATH: Kind<String> =
    Kind { ty: "URL path", parse: parse_dashboard_path, show: to_text };
/// A DNS zone, lower case with the final dot (`eureka.`).
pub(super) const DNS_DOMAIN: Kind<String> =
    Kind { ty: "DNS domain", parse: parse_dns_domain, show: to_text };
/// Comma-separated names (`version,zone`).
pub(super) const NAME_LIST: Kind<Vec<String>> =
    Kind { ty: "name list", parse: parse_key_list, show: |names| names.join(",") };
pub(super) const SECRET: Kind<Secret> =
    Kind { ty: "secret", parse: parse_secret, show: |_| REDACTED.to_string() };
pub(super) const LOG_FORMAT: Kind<LogFormat> = Kind {
    ty: "text | json",
    parse: parse_log_format,
    show: |f| match f {
        LogFormat::Text => "text".to_string(),
        LogFormat::Json => "json".to_string(),
    },
};
pub(super) const CLIENT_AUTH: Kind<ClientAuth> = Kind {
    ty: "none | want | need",
    parse: parse_client_auth,
    show: |a| match a {
        ClientAuth::None => "none".to_string(),
        ClientAuth::Want => "want".to_string(),
        ClientAuth::Need => "need".to_string(),
    },
};
/// A health-check mode (`eureka.server.health-checks.default-mode`, `apps.<APP>`).
pub(super) const HEALTH_MODE: Kind<HealthCheckMode> = Kind {
    ty: "auto | http | tcp | none",
    parse: HealthCheckMode::parse,
    show: |m| m.as_str().to_string(),
};

/// What a secret value is shown as, in errors and in `config show`.
pub(super) const REDACTED: &str = "(redacted)";

fn to_text<T: ToString>(value: &T) -> String {
    value.to_string()
}

/// In the largest whole unit `parse_duration` reads: `30s`, `500ms`, `2m`.
fn show_duration(d: &Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0ms".to_string(),
        _ if !d.subsec_nanos().is_multiple_of(1_000_000) => format!("{}ns", d.as_nanos()),
        _ if ms.is_multiple_of(3_600_000) => format!("{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(60_000) => format!("{}m", ms / 60_000),
        _ if ms.is_multiple_of(1_000) => format!("{}s", ms / 1_000),
        _ => format!("{ms}ms"),
    }
}

fn show_data_size(bytes: &usize) -> String {
    match *bytes {
        0 => "0B".to_string(),
        b if b % (1 << 30) == 0 => format!("{}GB", b >> 30),
        b if b % (1 << 20) == 0 => format!("{}MB", b >> 20),
        b if b % (1 << 10) == 0 => format!("{}KB", b >> 10),
        b => format!("{b}B"),
    }
}

fn show_url_list(urls: &[String]) -> String {
    urls.iter().map(|u| mask_url(u)).collect::<Vec<_>>().join(",")
}

/// A URL with the password of its `user:password@` replaced, so `config show` can print peer
/// URLs that carry credentials.
pub(super) fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let authority_end = url[scheme_end..].find('/').map_or(url.len(), |i| scheme_end + i);
    let Some(at) = url[scheme_end..authority_end].rfind('@').map(|i| scheme_end + i) else {
        return url.to_string();
    };
    let user = url[scheme_end..at].split(':').next().unwrap_or_default();
    format!("{}{user}:{REDACTED}{}", &url[..scheme_end], &url[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_values_parse_back_to_themselves() {
        for d in [1, 500, 1_000, 30_000, 60_000, 120_000, 600_000, 3_600_000, 90_061_001] {
            let d = Duration::from_millis(d);
            assert_eq!((DURATION.parse)(&(DURATION.show)(&d)), Ok(d), "{d:?}");
            assert_eq!((MILLIS.parse)(&(MILLIS.show)(&d)), Ok(d), "{d:?}");
        }
        assert_eq!((DURATION.show)(&Duration::from_secs(60)), "1m");
        assert_eq!((DURATION.show)(&Duration::from_secs(30)), "30s");
        assert_eq!((DURATION.show)(&Duration::from_millis(1500)), "1500ms");
        for size in [0, 1, 1023, 1024, 8 * 1024, 1 << 20, 3 << 30, 1025] {
            assert_eq!((DATA_SIZE.parse)(&(DATA_SIZE.show)(&size)), Ok(size), "{size}");
        }
        assert_eq!((DATA_SIZE.show)(&8192), "8KB");
        let urls = vec!["http://a/eureka/".to_string(), "https://b:8443/eureka/".to_string()];
        assert_eq!((URL_LIST.parse)(&(URL_LIST.show)(&urls)), Ok(urls));
    }

    #[test]
    fn passwords_in_urls_are_masked_and_user_names_kept() {
        let masked = mask_url("http://replica:s3cret@peer:8761/eureka/");
        assert_eq!(masked, "http://replica:(redacted)@peer:8761/eureka/");
        assert_eq!(mask_url("http://a:b@c@peer/eureka/"), "http://a:(redacted)@peer/eureka/");
        assert_eq!(mask_url("http://peer:8761/eureka/"), "http://peer:8761/eureka/");
        assert_eq!(mask_url("http://peer/x@y/"), "http://peer/x@y/", "an @ in the path is not");
        assert_eq!((SECRET.show)(&Secret::new("pw")), REDACTED);
    }
}
