//! Invalid and out-of-range values: errors name the key, the value and the source.

use super::*;

#[test]
fn invalid_values_name_the_key_and_the_source() {
    let path = write("application.yml", "eureka:\n  server:\n    evictionIntervalTimerInMs: abc\n");
    let message = load_file(&path).expect_err("rejects").to_string();
    assert!(message.contains("'abc'"), "{message}");
    assert!(message.contains("eureka.server.evictionIntervalTimerInMs"), "{message}");
    assert!(message.contains("a whole number of milliseconds"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");

    let error = ServerConfig::load(ConfigSources {
        env: pairs(&[("EUREKA_SERVER_ENABLE_SELF_PRESERVATION", "maybe")]),
        ..ConfigSources::default()
    })
    .expect_err("rejects");
    match &error {
        ConfigError::InvalidValue { key, value, expected, origin } => {
            assert_eq!(key, "EUREKA_SERVER_ENABLE_SELF_PRESERVATION");
            assert_eq!(value, "maybe");
            assert_eq!(*expected, "true or false");
            assert_eq!(*origin, Origin::Environment);
        }
        other => panic!("unexpected error {other:?}"),
    }

    let error = ServerConfig::load(ConfigSources {
        overrides: pairs(&[("server.port", "70000")]),
        ..ConfigSources::default()
    })
    .expect_err("rejects");
    assert_eq!(
        error.to_string(),
        "invalid value '70000' for server.port in the command-line overrides: \
         expected a port number from 0 to 65535"
    );
}

#[test]
fn range_errors_point_at_the_source_that_set_the_value() {
    let path = write("application.properties", "eureka.server.eviction-interval-timer-in-ms=0\n");
    let message = load_file(&path).expect_err("rejects").to_string();
    assert!(message.contains("for eureka.server.eviction-interval-timer-in-ms in"), "{message}");
    assert!(message.contains("positive"), "{message}");

    let error = ServerConfig::load(ConfigSources {
        env: pairs(&[("EUREKA_SERVER_RENEWALPERCENTTHRESHOLD", "1.5")]),
        ..ConfigSources::default()
    })
    .expect_err("rejects");
    assert!(error.to_string().contains("EUREKA_SERVER_RENEWALPERCENTTHRESHOLD"), "{error}");

    let config = ServerConfig { renewal_percent_threshold: f64::NAN, ..ServerConfig::default() };
    let message = config.validate().expect_err("rejects").to_string();
    assert!(
        message.contains("eureka.server.renewal-percent-threshold in the resolved configuration"),
        "{message}"
    );

    let config =
        ServerConfig { delta_retention_timer_interval: Duration::ZERO, ..ServerConfig::default() };
    assert!(config.validate().is_err());
}

#[test]
fn tls_settings_that_cannot_work_name_the_missing_key() {
    let err = |overrides: &[(&str, &str)]| {
        ServerConfig::load(ConfigSources {
            overrides: pairs(overrides),
            ..ConfigSources::default()
        })
        .expect_err("refused")
        .to_string()
    };
    let e = err(&[("server.ssl.certificate", "/c.pem")]);
    assert!(e.contains("server.ssl.certificate-private-key"), "{e}");
    let e = err(&[("server.ssl.enabled", "true")]);
    assert!(e.contains("server.ssl.enabled") && e.contains("server.ssl.certificate"), "{e}");
    let e = err(&[
        ("server.ssl.certificate", "/c.pem"),
        ("server.ssl.certificate-private-key", "/k.pem"),
        ("server.ssl.client-auth", "want"),
    ]);
    assert!(e.contains("server.ssl.trust-certificate"), "{e}");
    let e = err(&[("server.ssl.client-auth", "sometimes")]);
    assert!(e.contains("none, want or need"), "{e}");
    let e = err(&[("eureka.server.peer-tls.certificate", "/p.pem")]);
    assert!(e.contains("eureka.server.peer-tls.certificate-private-key"), "{e}");
    let e = err(&[("server.max-http-request-header-size", "512")]);
    assert!(e.contains("from 1KB to 16MB"), "{e}");
    let e = err(&[("server.max-connections", "0")]);
    assert!(e.contains("server.max-connections"), "{e}");
    let e = err(&[("server.request-timeout", "soon")]);
    assert!(e.contains("server.request-timeout") && e.contains("30s"), "{e}");
}
