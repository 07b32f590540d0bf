//! Environment variables: precedence over the file and under the overrides, conflicting spellings.

use super::*;

#[test]
fn environment_overrides_the_file() {
    let path = write(
        "application.yml",
        "server.port: 9000\neureka.server.enable-self-preservation: true\n",
    );
    let loaded = ServerConfig::load(ConfigSources {
        file: Some(&path),
        env: pairs(&[
            ("SERVER_PORT", "9100"),
            ("EUREKA_SERVER_ENABLESELFPRESERVATION", "FALSE"),
            ("EUREKA_SERVER_EVICTION_INTERVAL_TIMER_IN_MS", "1000"),
            ("SPRING_APPLICATION_NAME", "discovery"),
            ("PATH", "/usr/bin"),
            ("EUREKA_NOT_OURS", "whatever"),
            ("SPRING_PROFILES_ACTIVE", "prod"),
        ]),
        overrides: Vec::new(),
    })
    .expect("loads");
    let c = loaded.config;
    assert_eq!(c.port, 9100);
    assert!(!c.enable_self_preservation);
    assert_eq!(c.eviction_interval, Duration::from_millis(1000));
    assert_eq!(c.instance.appname, "discovery");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn override_beats_environment() {
    let loaded = ServerConfig::load(ConfigSources {
        file: None,
        env: pairs(&[("SERVER_PORT", "9100"), ("EUREKA_INSTANCE_HOSTNAME", "env-host")]),
        overrides: pairs(&[
            ("server.port", "9200"),
            ("eureka.instance.hostname", ""),
            ("eureka.server.registrySyncRetries", "3"),
        ]),
    })
    .expect("loads");
    assert_eq!(loaded.config.port, 9200);
    assert_eq!(loaded.config.instance.hostname, None, "empty override unsets");
    assert_eq!(loaded.config.registry_sync_retries, 3);
}

#[test]
fn conflicting_environment_spellings_warn_deterministically() {
    let loaded = ServerConfig::load(ConfigSources {
        env: pairs(&[
            ("EUREKA_SERVER_ENABLE_SELF_PRESERVATION", "true"),
            ("EUREKA_SERVER_ENABLESELFPRESERVATION", "false"),
        ]),
        ..ConfigSources::default()
    })
    .expect("loads");
    // Sorted by name: ENABLESELF... < ENABLE_SELF..., so the underscored spelling wins.
    assert!(loaded.config.enable_self_preservation);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
}
