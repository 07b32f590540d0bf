//! `eureka.server.rate-limiter-*` and `eureka.server.remote-region-*`: Java's fetch rate
//! limiter, and the other regions' registries merged into reads.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::config::defaults;

/// `eureka.server.rate-limiter-*`: Java's `RateLimitingFilter`, token buckets over registry
/// fetches (`GET apps`, `apps/delta`, `apps/{APP}`). Standard Java clients and servers
/// (`DiscoveryIdentity-Name` `DefaultClient`/`DefaultServer`) and the privileged clients are
/// never throttled unless `throttle-standard-clients`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimiterSettings {
    /// `rate-limiter-enabled`, default false: throttled fetches get 503.
    pub enabled: bool,
    /// `rate-limiter-throttle-standard-clients`, default false: throttle `DefaultClient` and
    /// `DefaultServer` (and the privileged clients) too.
    pub throttle_standard_clients: bool,
    /// `rate-limiter-privileged-clients`, default none: more `DiscoveryIdentity-Name`s exempt.
    pub privileged_clients: BTreeSet<String>,
    /// `rate-limiter-burst-size`, default 10: tokens a bucket holds (0: no limit, as Java).
    pub burst_size: u32,
    /// `rate-limiter-registry-fetch-average-rate`, default 500: fetches per second, all kinds
    /// (0: no limit).
    pub registry_fetch_average_rate: u32,
    /// `rate-limiter-full-fetch-average-rate`, default 100: full fetches per second, on top
    /// (0: no limit).
    pub full_fetch_average_rate: u32,
}

impl Default for RateLimiterSettings {
    fn default() -> Self {
        RateLimiterSettings {
            enabled: defaults::RATE_LIMITER_ENABLED,
            throttle_standard_clients: false,
            privileged_clients: BTreeSet::new(),
            burst_size: defaults::RATE_LIMITER_BURST_SIZE,
            registry_fetch_average_rate: defaults::RATE_LIMITER_REGISTRY_FETCH_AVERAGE_RATE,
            full_fetch_average_rate: defaults::RATE_LIMITER_FULL_FETCH_AVERAGE_RATE,
        }
    }
}

/// `eureka.server.remote-region-*`: other regions' Eureka servers, fetched in the background
/// and merged into reads that ask for them (`?regions=`), or into every read while transparent
/// fallback is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRegionSettings {
    /// `remote-region-urls-with-name.<region>`, default none: each region's service URL, by
    /// lower-cased region name (at most [`Self::MAX_REGIONS`]).
    pub urls: BTreeMap<String, String>,
    /// `remote-region-urls`, default none: accepted and validated; Java never reads it either
    /// (a region needs a name to be asked for).
    pub unnamed_urls: Vec<String>,
    /// `remote-region-registry-fetch-interval` (seconds), default 30.
    pub fetch_interval: Duration,
    /// `remote-region-app-whitelist.<region>` (and `.global` for regions without their own),
    /// default none: the applications a region serves, upper-cased.
    pub whitelists: BTreeMap<String, BTreeSet<String>>,
    /// `remote-region-connect-timeout-ms`, default 2000 (Netflix's; Spring's is 1000).
    pub connect_timeout: Duration,
    /// `remote-region-read-timeout-ms`, default 5000 (Netflix's; Spring's is 1000).
    pub read_timeout: Duration,
    /// `disable-transparent-fallback-to-other-region`, default false: while false, reads
    /// without `regions=` include every region, and lookups of an application or instance
    /// that is not local fall back to the regions.
    pub disable_transparent_fallback: bool,
    /// `disable-delta-for-remote-regions`, default false: fetch regions in full every time.
    pub disable_delta: bool,
    /// `remote-region-cache-lifetime` (ours), default 0 (for ever, as Java): a region's copy
    /// not refreshed for this long is no longer served, until it answers again.
    pub cache_lifetime: Duration,
}

impl Default for RemoteRegionSettings {
    fn default() -> Self {
        RemoteRegionSettings {
            urls: BTreeMap::new(),
            unnamed_urls: Vec::new(),
            fetch_interval: defaults::REMOTE_REGION_FETCH_INTERVAL,
            whitelists: BTreeMap::new(),
            connect_timeout: defaults::REMOTE_REGION_CONNECT_TIMEOUT,
            read_timeout: defaults::REMOTE_REGION_READ_TIMEOUT,
            disable_transparent_fallback: false,
            disable_delta: false,
            cache_lifetime: Duration::ZERO,
        }
    }
}

impl RemoteRegionSettings {
    /// The whitelist key that applies to regions without one of their own.
    pub const GLOBAL_WHITELIST: &'static str = "global";

    /// The most regions one server follows (a region set is a 64-bit mask).
    pub const MAX_REGIONS: usize = 64;

    /// The applications `region` serves: its own whitelist, else the global one, else all.
    pub fn whitelist(&self, region: &str) -> Option<&BTreeSet<String>> {
        self.whitelists.get(region).or_else(|| self.whitelists.get(Self::GLOBAL_WHITELIST))
    }
}
