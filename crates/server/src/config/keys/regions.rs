//! Other regions and fetch load: `eureka.server.remote-region-*` (other regions' registries
//! merged into reads) and `eureka.server.rate-limiter-*` (Java's fetch rate limiter).

use crate::config::check::{any, millis, positive_millis, positive_secs, region_count};
use crate::config::kinds::{BOOL, DURATION, MILLIS, NAME_SET, SECONDS, TEXT, U32, URL, URL_LIST};
use crate::config::parse::parse_region_name;

use super::Spring::{Ours, Renamed, Same};
use super::{bind, Apply, Binding, Group, Shown};

pub(super) const GROUP: Group = Group {
    title: "Remote regions and rate limiting",
    rows: &[
        bind!("eureka.region" => client.region: TEXT, any; Renamed("eureka.client.region"),
            "This server's region, Netflix's name for `eureka.client.region`."),
        Binding {
            key: "eureka.server.remote-region-urls-with-name.*",
            apply: Apply::Map(|b, region, raw| {
                let region = parse_region_name(&region)?;
                match raw {
                    Some(raw) => b.config.remote_regions.urls.insert(region, (URL.parse)(raw)?),
                    None => b.config.remote_regions.urls.remove(&region),
                };
                Ok(())
            }),
            check: |c| region_count(&c.remote_regions.urls),
            show: |c| {
                let urls = &c.remote_regions.urls;
                Shown::Entries(urls.iter().map(|(r, u)| (r.clone(), (URL.show)(u))).collect())
            },
            ty: URL.ty,
            spring: Same,
            doc: "A remote region's service URL, by region name (lower-cased; at most 64): its \
                  registry is fetched in the background and merged into reads that ask for it \
                  with `regions=`.",
        },
        bind!("eureka.server.remote-region-urls" => remote_regions.unnamed_urls: URL_LIST, any;
            Same,
            "Accepted with a warning, no effect: Java never reads it either (a region needs a \
             name to be asked for)."),
        bind!("eureka.server.remote-region-registry-fetch-interval"
            => remote_regions.fetch_interval: SECONDS, positive_secs; Same,
            "Seconds between fetches of each remote region (full, then deltas checked against \
             the hash)."),
        Binding {
            key: "eureka.server.remote-region-app-whitelist.*",
            apply: Apply::Map(|b, region, raw| {
                let region = parse_region_name(&region)?;
                match raw {
                    Some(raw) => {
                        let apps = (NAME_SET.parse)(raw)?;
                        let apps = apps.iter().map(|a| a.to_uppercase()).collect();
                        b.config.remote_regions.whitelists.insert(region, apps)
                    }
                    None => b.config.remote_regions.whitelists.remove(&region),
                };
                Ok(())
            }),
            check: |_| Ok(()),
            show: |c| {
                let lists = &c.remote_regions.whitelists;
                Shown::Entries(lists.iter().map(|(r, a)| (r.clone(), (NAME_SET.show)(a))).collect())
            },
            ty: NAME_SET.ty,
            spring: Same,
            doc: "The applications a region serves (comma-separated, any case); `.global` for \
                  regions without a list of their own. None: every application.",
        },
        bind!("eureka.server.remote-region-connect-timeout-ms"
            => remote_regions.connect_timeout: MILLIS, positive_millis; Same,
            "Connect timeout of a remote fetch (Netflix's default; Spring's is 1000)."),
        bind!("eureka.server.remote-region-read-timeout-ms"
            => remote_regions.read_timeout: MILLIS, positive_millis; Same,
            "Read timeout of a remote fetch (Netflix's default; Spring's is 1000)."),
        bind!("eureka.server.disable-transparent-fallback-to-other-region"
            => remote_regions.disable_transparent_fallback: BOOL, any; Same,
            "While false, reads without `regions=` merge every region and lookups of an \
             application or instance that is not local look in the regions."),
        bind!("eureka.server.disable-delta-for-remote-regions"
            => remote_regions.disable_delta: BOOL, any; Same,
            "Fetch remote regions in full every time."),
        bind!("eureka.server.remote-region-cache-lifetime"
            => remote_regions.cache_lifetime: DURATION, millis; Ours,
            "Stop serving a region's copy not refreshed for this long, until it answers again \
             (0: for ever, as Java)."),
        bind!("eureka.server.rate-limiter-enabled" => rate_limiter.enabled: BOOL, any; Same,
            "Java's fetch rate limiter: fetches beyond the token buckets get 503."),
        bind!("eureka.server.rate-limiter-throttle-standard-clients"
            => rate_limiter.throttle_standard_clients: BOOL, any; Same,
            "Throttle Java's own clients and servers (`DiscoveryIdentity-Name` `DefaultClient`, \
             `DefaultServer`) and the privileged clients too."),
        bind!("eureka.server.rate-limiter-privileged-clients"
            => rate_limiter.privileged_clients: NAME_SET, any; Same,
            "More `DiscoveryIdentity-Name`s never throttled (comma-separated)."),
        bind!("eureka.server.rate-limiter-burst-size" => rate_limiter.burst_size: U32, any; Same,
            "Tokens each bucket holds (0: no limit, as Java)."),
        bind!("eureka.server.rate-limiter-registry-fetch-average-rate"
            => rate_limiter.registry_fetch_average_rate: U32, any; Same,
            "Fetches per second, every kind (`apps`, `apps/delta`, `apps/{APP}`; 0: no limit)."),
        bind!("eureka.server.rate-limiter-full-fetch-average-rate"
            => rate_limiter.full_fetch_average_rate: U32, any; Same,
            "Full fetches per second, on top (0: no limit)."),
    ],
};
