//! Remote-region and rate-limiter keys: Spring's names, map keys per region, advisories.

use std::collections::BTreeSet;

use super::*;

#[test]
fn remote_region_and_rate_limiter_keys_bind_as_springs_do() {
    let loaded = load_yaml(&[
        "eureka:",
        "  region: EU-West-1",
        "  server:",
        "    remote-region-urls-with-name:",
        "      US-West-2: http://west.example:8761/eureka",
        "      ap-south-1: https://south.example/eureka/",
        "    remoteRegionAppWhitelist:",
        "      us-west-2: orders, Billing",
        "      global: PAY",
        "    remote-region-registry-fetch-interval: 10",
        "    remote-region-read-timeout-ms: 3000",
        "    disable-transparent-fallback-to-other-region: true",
        "    remote-region-cache-lifetime: 10m",
        "    rate-limiter-enabled: true",
        "    rate-limiter-privileged-clients: batch-job, cron",
        "    rate-limiter-burst-size: 20",
    ]);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(c.client.region, "EU-West-1");
    let r = &c.remote_regions;
    assert_eq!(
        r.urls.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(),
        [
            ("ap-south-1", "https://south.example/eureka/"),
            ("us-west-2", "http://west.example:8761/eureka/")
        ]
    );
    let names = |set: Option<&BTreeSet<String>>| set.map(|s| s.iter().cloned().collect::<Vec<_>>());
    assert_eq!(names(r.whitelist("us-west-2")), Some(vec!["BILLING".into(), "ORDERS".into()]));
    assert_eq!(names(r.whitelist("ap-south-1")), Some(vec!["PAY".into()]), "the global list");
    assert_eq!(r.fetch_interval, Duration::from_secs(10));
    assert_eq!(r.read_timeout, Duration::from_millis(3000));
    assert_eq!(r.connect_timeout, Duration::from_millis(2000));
    assert!(r.disable_transparent_fallback);
    assert_eq!(r.cache_lifetime, Duration::from_secs(600));
    let l = &c.rate_limiter;
    assert!(l.enabled && !l.throttle_standard_clients);
    assert_eq!(l.privileged_clients, ["batch-job".to_string(), "cron".to_string()].into());
    assert_eq!((l.burst_size, l.registry_fetch_average_rate), (20, 500));
}

#[test]
fn remote_region_mistakes_name_the_key_or_warn() {
    let error = ServerConfig::load(ConfigSources {
        overrides: pairs(&[("eureka.server.remote-region-urls-with-name.west", "west:8761")]),
        ..ConfigSources::default()
    })
    .expect_err("rejects");
    assert!(error.to_string().contains("an http:// or https:// URL"), "{error}");
    let warned = ServerConfig::load(ConfigSources {
        overrides: pairs(&[
            ("eureka.server.remote-region-urls", "http://a.example/eureka/"),
            ("eureka.server.remote-region-app-whitelist.nowhere", "A"),
            ("eureka.server.remote-region-urls-with-name.us-east-1", "http://b.example/eureka/"),
            ("eureka.server.remote-region-trust-store", "/etc/trust.jks"),
        ]),
        ..ConfigSources::default()
    })
    .expect("loads")
    .warnings;
    for expected in [
        "remote-region-urls has no effect",
        "whitelist.nowhere names no remote region",
        "us-east-1 is this server's own region",
        "remote-region-trust-store",
    ] {
        assert!(warned.iter().any(|w| w.contains(expected)), "{expected}: {warned:?}");
    }
}
