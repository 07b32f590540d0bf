//! What to check for an instance: the mode (metadata, per-application setting, default) and
//! the URL or address it leads to. Pure functions of the registered instance.

use eureka_model::InstanceInfo;

use crate::config::{HealthCheckMode, HealthCheckSettings};

/// The instance metadata key that chooses an instance's check: `http`, `tcp` or `none`
/// (`auto` defers to the settings).
pub const METADATA_KEY: &str = "eureka-health-check";

/// A check to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `GET` this URL; a 2xx passes.
    Http(String),
    /// Open a connection to this host and port.
    Tcp(String, u16),
}

impl Target {
    /// `http` or `tcp`, for labels and documents.
    pub fn mode(&self) -> &'static str {
        match self {
            Target::Http(_) => "http",
            Target::Tcp(..) => "tcp",
        }
    }
}

/// The mode that applies: the instance's metadata, else its application's setting, else the
/// default; `Auto` is resolved to HTTP when a health check URL is registered, else TCP.
pub fn mode_of(info: &InstanceInfo, settings: &HealthCheckSettings) -> HealthCheckMode {
    let chosen = info
        .metadata
        .get(METADATA_KEY)
        .and_then(|m| HealthCheckMode::parse(m).ok())
        .filter(|m| *m != HealthCheckMode::Auto)
        .or_else(|| settings.app_modes.get(&info.app.to_ascii_uppercase()).copied())
        .unwrap_or(settings.default_mode);
    match chosen {
        HealthCheckMode::Auto if http_url(info).is_some() => HealthCheckMode::Http,
        HealthCheckMode::Auto => HealthCheckMode::Tcp,
        other => other,
    }
}

/// The check for an instance in `mode` (never `Auto`), or why there is none to run.
pub fn target_of(info: &InstanceInfo, mode: HealthCheckMode) -> Result<Target, &'static str> {
    match mode {
        HealthCheckMode::None => Err("checks are off for this instance"),
        HealthCheckMode::Http | HealthCheckMode::Auto => {
            http_url(info).map(Target::Http).ok_or("no usable health check URL is registered")
        }
        HealthCheckMode::Tcp => {
            let port = if info.port.enabled {
                info.port.port
            } else if info.secure_port.enabled {
                info.secure_port.port
            } else {
                return Err("no enabled port is registered");
            };
            let host = if info.ip_addr.parse::<std::net::IpAddr>().is_ok() {
                info.ip_addr.clone()
            } else {
                info.host_name.clone()
            };
            if host.is_empty() || port == 0 {
                return Err("no host and port are registered");
            }
            Ok(Target::Tcp(host, port))
        }
    }
}

/// The health check URL to call: the secure one when only the secure port is enabled, else
/// the plain one, falling back to the other. Absolute http(s) URLs are used as registered
/// (with Java's `${eureka.hostname}` filled in); a path is taken relative to the instance's
/// host and port.
pub fn http_url(info: &InstanceInfo) -> Option<String> {
    let plain = info.health_check_url.as_deref().filter(|u| !u.trim().is_empty());
    let secure = info.secure_health_check_url.as_deref().filter(|u| !u.trim().is_empty());
    let secure_first = info.secure_port.enabled && !info.port.enabled;
    let (first, second) = if secure_first { (secure, plain) } else { (plain, secure) };
    first.and_then(|u| absolute(info, u)).or_else(|| second.and_then(|u| absolute(info, u)))
}

fn absolute(info: &InstanceInfo, url: &str) -> Option<String> {
    let url = url.trim().replace("${eureka.hostname}", &info.host_name);
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return eureka_client::Url::parse(&url).ok().map(|_| url);
    }
    if !url.starts_with('/') || info.host_name.is_empty() {
        return None;
    }
    let (scheme, port) = if info.port.enabled {
        ("http", info.port.port)
    } else if info.secure_port.enabled {
        ("https", info.secure_port.port)
    } else {
        return None;
    };
    let host = if info.host_name.contains(':') {
        format!("[{}]", info.host_name)
    } else {
        info.host_name.clone()
    };
    Some(format!("{scheme}://{host}:{port}{url}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use eureka_model::Port;

    fn info() -> InstanceInfo {
        InstanceInfo {
            app: "ORDERS".into(),
            host_name: "web-1".into(),
            ip_addr: "10.0.0.7".into(),
            port: Port { port: 8080, enabled: true },
            ..Default::default()
        }
    }

    #[test]
    fn auto_is_http_with_a_health_url_and_tcp_without() {
        let s = HealthCheckSettings::default();
        let mut i = info();
        assert_eq!(mode_of(&i, &s), HealthCheckMode::Tcp);
        assert_eq!(target_of(&i, HealthCheckMode::Tcp), Ok(Target::Tcp("10.0.0.7".into(), 8080)));
        i.health_check_url = Some("http://web-1:8080/actuator/health".into());
        assert_eq!(mode_of(&i, &s), HealthCheckMode::Http);
        assert_eq!(
            target_of(&i, HealthCheckMode::Http),
            Ok(Target::Http("http://web-1:8080/actuator/health".into()))
        );
    }

    #[test]
    fn metadata_beats_the_application_setting_which_beats_the_default() {
        let mut s =
            HealthCheckSettings { default_mode: HealthCheckMode::None, ..Default::default() };
        let mut i = info();
        assert_eq!(mode_of(&i, &s), HealthCheckMode::None);
        s.app_modes.insert("ORDERS".into(), HealthCheckMode::Tcp);
        assert_eq!(mode_of(&i, &s), HealthCheckMode::Tcp);
        i.metadata.insert(METADATA_KEY.into(), "NONE".into());
        assert_eq!(mode_of(&i, &s), HealthCheckMode::None);
        i.metadata.insert(METADATA_KEY.into(), "bogus".into());
        assert_eq!(mode_of(&i, &s), HealthCheckMode::Tcp, "an unknown value is ignored");
    }

    #[test]
    fn relative_and_templated_urls_and_the_secure_port() {
        let mut i = info();
        i.health_check_url = Some("/health".into());
        assert_eq!(http_url(&i).as_deref(), Some("http://web-1:8080/health"));
        i.health_check_url = Some("http://${eureka.hostname}:8080/health".into());
        assert_eq!(http_url(&i).as_deref(), Some("http://web-1:8080/health"));
        i.port.enabled = false;
        i.secure_port = Port { port: 8443, enabled: true };
        i.secure_health_check_url = Some("https://web-1:8443/health".into());
        assert_eq!(http_url(&i).as_deref(), Some("https://web-1:8443/health"));
        assert_eq!(target_of(&i, HealthCheckMode::Tcp), Ok(Target::Tcp("10.0.0.7".into(), 8443)));
        i.secure_port.enabled = false;
        assert!(target_of(&i, HealthCheckMode::Tcp).is_err());
        i.health_check_url = Some("not a url".into());
        i.secure_health_check_url = None;
        assert_eq!(http_url(&i), None);
    }
}
