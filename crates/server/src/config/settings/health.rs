//! `eureka.server.health-checks.*`: the server checking registered instances itself.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::defaults;

/// `eureka.server.health-checks.*`: server-side HTTP/TCP checks of registered instances.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckSettings {
    /// `enabled`, default false: check instances; false changes nothing for anyone.
    pub enabled: bool,
    /// `interval`, default 10s, > 0: how often each instance is checked (spread over it).
    pub interval: Duration,
    /// `timeout`, default 2s or the interval if shorter, > 0 and not over the interval: per
    /// check. `None` when not set (see [`HealthCheckSettings::timeout`]).
    pub timeout: Option<Duration>,
    /// `failures-before-down`, default 3, >= 1: consecutive failures that mark DOWN.
    pub failures_before_down: u32,
    /// `successes-before-up`, default 2, >= 1: consecutive passes that lift the mark.
    pub successes_before_up: u32,
    /// `max-concurrency`, default 256, > 0: checks in flight at once.
    pub max_concurrency: usize,
    /// `max-failing-fraction`, default 0.5, in [0, 1]: above it (and with at least
    /// `suspicion-min-failing` failing) a node suspects its own network and marks nothing.
    pub max_failing_fraction: f64,
    /// `suspicion-min-failing`, default 3: fewer failing instances never make a node suspect
    /// itself (one failing instance of one is a dead instance, not a cut network).
    pub suspicion_min_failing: usize,
    /// `default-mode`, default auto: http when a health check URL is registered, else tcp.
    pub default_mode: HealthCheckMode,
    /// `apps.<APP>`, default empty: a mode per application (names compared upper-cased).
    pub app_modes: BTreeMap<String, HealthCheckMode>,
}

/// How an instance is checked: `eureka-health-check` metadata, `apps.<APP>`, `default-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthCheckMode {
    /// HTTP when the instance registered a health check URL, else TCP.
    Auto,
    /// `GET` its health check URL: a 2xx passes.
    Http,
    /// Connect to its enabled port: a connection that opens in time passes.
    Tcp,
    /// Not checked.
    None,
}

impl HealthCheckMode {
    /// Parses `auto`, `http`, `tcp` or `none` (any case).
    pub fn parse(raw: &str) -> Result<HealthCheckMode, &'static str> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(HealthCheckMode::Auto),
            "http" => Ok(HealthCheckMode::Http),
            "tcp" => Ok(HealthCheckMode::Tcp),
            "none" => Ok(HealthCheckMode::None),
            _ => Err("auto, http, tcp or none"),
        }
    }

    /// The lower-case name, for labels and documents.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthCheckMode::Auto => "auto",
            HealthCheckMode::Http => "http",
            HealthCheckMode::Tcp => "tcp",
            HealthCheckMode::None => "none",
        }
    }
}

impl HealthCheckSettings {
    /// The timeout in force: the one set, else 2 s, or the interval when that is shorter.
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(defaults::HEALTH_CHECK_TIMEOUT.min(self.interval))
    }
}

impl Default for HealthCheckSettings {
    fn default() -> Self {
        use defaults as d;
        HealthCheckSettings {
            enabled: d::HEALTH_CHECKS_ENABLED,
            interval: d::HEALTH_CHECK_INTERVAL,
            timeout: None,
            failures_before_down: d::HEALTH_CHECK_FAILURES_BEFORE_DOWN,
            successes_before_up: d::HEALTH_CHECK_SUCCESSES_BEFORE_UP,
            max_concurrency: d::HEALTH_CHECK_MAX_CONCURRENCY,
            max_failing_fraction: d::HEALTH_CHECK_MAX_FAILING_FRACTION,
            suspicion_min_failing: d::HEALTH_CHECK_SUSPICION_MIN_FAILING,
            default_mode: HealthCheckMode::Auto,
            app_modes: BTreeMap::new(),
        }
    }
}
