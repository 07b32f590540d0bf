//! `eureka.server.health-checks.*`: every source binds, and bad values are refused.

use super::*;

#[test]
fn health_check_settings_bind_from_every_source_and_are_validated() {
    let yaml =
        "eureka:\n  server:\n    health-checks:\n      enabled: true\n      interval: 1s\n      \
                timeout: 500ms\n      failures-before-down: 2\n      apps:\n        orders: tcp\n";
    let loaded =
        ServerConfig::load_text(FileSyntax::Yaml, Path::new("h.yml"), yaml).expect("loads");
    let h = &loaded.config.health_checks;
    assert!(h.enabled);
    assert_eq!((h.interval, h.timeout()), (Duration::from_secs(1), Duration::from_millis(500)));
    let short = HealthCheckSettings { interval: Duration::from_millis(300), ..Default::default() };
    assert_eq!(short.timeout(), Duration::from_millis(300), "an unset timeout fits the interval");
    assert_eq!(h.failures_before_down, 2);
    assert_eq!(h.successes_before_up, defaults::HEALTH_CHECK_SUCCESSES_BEFORE_UP);
    assert_eq!(h.app_modes.get("ORDERS"), Some(&HealthCheckMode::Tcp));
    let env = ServerConfig::load(ConfigSources {
        env: vec![("EUREKA_SERVER_HEALTH_CHECKS_DEFAULT_MODE".into(), "none".into())],
        ..ConfigSources::default()
    })
    .expect("loads");
    assert_eq!(env.config.health_checks.default_mode, HealthCheckMode::None);

    let refused = |key: &str, value: &str| {
        let overrides = vec![
            ("eureka.server.health-checks.interval".to_string(), "1s".to_string()),
            (key.to_string(), value.to_string()),
        ];
        ServerConfig::load(ConfigSources { overrides, ..ConfigSources::default() })
            .expect_err(key)
            .to_string()
    };
    let e = refused("eureka.server.health-checks.timeout", "2s");
    assert!(e.contains("not longer than eureka.server.health-checks.interval"), "{e}");
    let e = refused("eureka.server.health-checks.failures-before-down", "0");
    assert!(e.contains("at least 1"), "{e}");
    let e = refused("eureka.server.health-checks.default-mode", "ping");
    assert!(e.contains("auto, http, tcp or none"), "{e}");
    let e = refused("eureka.server.health-checks.apps.orders", "icmp");
    assert!(e.contains("eureka.server.health-checks.apps.orders"), "{e}");
    let e = refused("eureka.server.health-checks.max-failing-fraction", "1.5");
    assert!(e.contains("between 0 and 1"), "{e}");
}
