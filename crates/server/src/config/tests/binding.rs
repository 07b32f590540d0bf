//! Binding values to typed settings: defaults, key spellings, map keys, units and normalising.

use super::*;

#[test]
fn defaults_match_the_documented_values() {
    let c = ServerConfig::default();
    assert_eq!(c.port, 8761);
    assert_eq!(c.address, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert!(c.enable_self_preservation);
    assert_eq!(c.renewal_percent_threshold, 0.85);
    assert_eq!(c.eviction_interval, Duration::from_millis(60_000));
    assert_eq!(c.delta_retention, Duration::from_millis(180_000));
    assert_eq!(c.delta_retention_timer_interval, Duration::from_millis(30_000));
    assert!(!c.disable_delta);
    assert!(c.sync_when_timestamp_differs);
    assert!(!c.legacy_double_lease_expiry);
    assert_eq!(c.max_request_body_bytes, 1_048_576);
    assert_eq!(c.wait_time_when_sync_empty, Duration::from_millis(300_000));
    assert_eq!(c.default_open_for_traffic_count, 1);
    assert_eq!(c.registry_sync_retries, 0);
    assert_eq!(c.registry_sync_retry_wait, Duration::from_millis(30_000));
    assert_eq!(c.peer_node_connect_timeout, Duration::from_millis(1_000));
    assert_eq!(c.peer_node_read_timeout, Duration::from_millis(5_000));
    assert_eq!(c.peer_discovery, PeerDiscovery::default());
    assert_eq!(c.peer_discovery.refresh_interval(), Duration::from_secs(30));
    assert_eq!(c.max_elements_in_peer_replication_pool, 10_000);
    assert_eq!(c.max_threads_for_peer_replication, 20);
    assert_eq!(c.max_time_for_replication, Duration::from_millis(30_000));
    assert!(!c.enable_replicated_request_compression);
    assert_eq!(c.min_available_instances_for_peer_replication, -1);
    assert_eq!(c.my_url, None);
    assert_eq!(c.rate_limiter, RateLimiterSettings::default());
    assert!(!c.rate_limiter.enabled);
    assert_eq!((c.rate_limiter.burst_size, c.rate_limiter.registry_fetch_average_rate), (10, 500));
    assert_eq!(c.rate_limiter.full_fetch_average_rate, 100);
    assert!(c.remote_regions.urls.is_empty());
    assert_eq!(c.remote_regions.fetch_interval, Duration::from_secs(30));
    assert!(!c.remote_regions.disable_transparent_fallback);
    assert!(c.compat_ignored.is_empty());
    assert_eq!(c.environment, "test");
    assert_eq!(c.datacenter, "default");
    assert_eq!(c.instance.appname, "eureka");
    assert_eq!(c.instance.lease_renewal_interval, Duration::from_secs(30));
    assert_eq!(c.instance.lease_expiration_duration, Duration::from_secs(90));
    assert!(!c.instance.prefer_ip_address);
    assert!(c.instance.metadata.is_empty());
    assert!(c.client.service_urls.is_empty());
    assert!(!c.client.register_with_eureka);
    assert!(!c.client.fetch_registry);
    assert_eq!(c.client.region, "us-east-1");
    assert!(c.peer_urls().is_empty());
    assert!(!c.ssl.is_enabled());
    assert_eq!(c.ssl.client_auth, ClientAuth::None);
    assert_eq!(c.limits.max_http_request_header_size, 8192);
    assert_eq!(c.limits.max_connections, 10_000);
    assert_eq!(c.limits.connection_timeout, Duration::from_secs(60));
    assert_eq!(c.limits.request_timeout, Duration::from_secs(30));
    assert_eq!(c.peer_tls, PeerTlsSettings::default());
    c.validate().expect("defaults are valid");

    let loaded = ServerConfig::load(ConfigSources::default()).expect("loads");
    assert_eq!(loaded.config, c);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn yaml_accepts_kebab_camel_and_underscore_keys() {
    let loaded = load_yaml(&[
        "eureka:",
        "  server:",
        "    enable-self-preservation: false",
        "    evictionIntervalTimerInMs: 5000",
        "    renewal_percent_threshold: 0.5",
        "    retentionTimeInMSInDeltaQueue: 1000",
        "    DISABLE-DELTA: 'true'",
        "    waitTimeInMsWhenSyncEmpty: '0'",
    ]);
    let c = loaded.config;
    assert!(!c.enable_self_preservation);
    assert_eq!(c.eviction_interval, Duration::from_millis(5000));
    assert_eq!(c.renewal_percent_threshold, 0.5);
    assert_eq!(c.delta_retention, Duration::from_millis(1000));
    assert!(c.disable_delta);
    assert_eq!(c.wait_time_when_sync_empty, Duration::ZERO);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn yaml_nested_and_flat_dotted_keys_bind_alike() {
    let loaded = load_yaml(&[
        "server:",
        "  port: 9000",
        "  address: 127.0.0.1",
        "eureka.server.peer-node-read-timeout-ms: 200",
        "eureka:",
        "  server.peerNodeConnectTimeoutMs: 300",
        "  environment: prod",
        "  datacenter: cloud",
        "  instance:",
        "    hostname: peer1",
        "    lease-expiration-duration-in-seconds: 120",
    ]);
    let c = loaded.config;
    assert_eq!(c.port, 9000);
    assert_eq!(c.address, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(c.peer_node_read_timeout, Duration::from_millis(200));
    assert_eq!(c.peer_node_connect_timeout, Duration::from_millis(300));
    assert_eq!(c.environment, "prod");
    assert_eq!(c.datacenter, "cloud");
    assert_eq!(c.instance.hostname.as_deref(), Some("peer1"));
    assert_eq!(c.instance.lease_expiration_duration, Duration::from_secs(120));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn appname_beats_spring_application_name_whatever_the_source() {
    let path = write("application.yml", "eureka.instance.appname: from-file\n");
    let loaded = ServerConfig::load(ConfigSources {
        file: Some(&path),
        env: pairs(&[("SPRING_APPLICATION_NAME", "from-env")]),
        overrides: Vec::new(),
    })
    .expect("loads");
    assert_eq!(loaded.config.instance.appname, "from-file");
    let loaded = load_yaml(&["spring:", "  application:", "    name: orders-registry"]);
    assert_eq!(loaded.config.instance.appname, "orders-registry");
}

#[test]
fn dashboard_keys_use_springs_names_and_the_path_is_normalised() {
    let c = ServerConfig::default();
    assert!(c.dashboard_enabled);
    assert_eq!(c.dashboard_path, "/");
    let loaded =
        load_yaml(&["eureka:", "  dashboard:", "    enabled: false", "    path: /ops/console/"]);
    assert!(!loaded.config.dashboard_enabled);
    assert_eq!(loaded.config.dashboard_path, "/ops/console");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let env = ServerConfig::load(ConfigSources {
        env: pairs(&[("EUREKA_DASHBOARD_PATH", "/registry")]),
        ..ConfigSources::default()
    })
    .expect("loads");
    assert_eq!(env.config.dashboard_path, "/registry");
    for good in ["/", "/a", "/a.b/c-d_e~f"] {
        assert_eq!(parse_dashboard_path(good).as_deref(), Ok(good));
    }
    for bad in [
        "console",
        "/eureka",
        "/eureka/console",
        "/EUREKA",
        "/health/x",
        "/metrics",
        "/a//b",
        "/a/../b",
        "/a b",
        "/a\"<b",
        "/x?y",
        "/%2e",
    ] {
        assert!(parse_dashboard_path(bad).is_err(), "{bad} should be refused");
    }
    assert_eq!(parse_dashboard_path("/eurekaconsole").as_deref(), Ok("/eurekaconsole"));
    let message = ServerConfig::load(ConfigSources {
        overrides: pairs(&[("eureka.dashboard.path", "/eureka/ui")]),
        ..ConfigSources::default()
    })
    .expect_err("rejects")
    .to_string();
    assert!(
        message.contains("eureka.dashboard.path") && message.contains("not under /eureka"),
        "{message}"
    );
}

#[test]
fn log_format_from_file_environment_or_flag() {
    assert_eq!(ServerConfig::default().log_format, LogFormat::Text);
    assert_eq!(load_yaml(&["logging:", "  format: JSON"]).config.log_format, LogFormat::Json);
    let from_env = ServerConfig::load(ConfigSources {
        env: pairs(&[("LOGGING_FORMAT", "json"), ("LOGGING_LEVEL_ROOT", "debug")]),
        ..ConfigSources::default()
    })
    .expect("loads");
    assert_eq!(from_env.config.log_format, LogFormat::Json);
    assert!(from_env.warnings.is_empty(), "{:?}", from_env.warnings);
    let bad = ServerConfig::load(ConfigSources {
        overrides: pairs(&[("logging.format", "xml")]),
        ..ConfigSources::default()
    })
    .expect_err("xml is no log format");
    assert_eq!(
        bad.to_string(),
        "invalid value 'xml' for logging.format in the command-line overrides: \
         expected text or json"
    );
}

#[test]
fn service_urls_split_trim_and_end_with_a_slash() {
    let loaded = load_yaml(&[
        "eureka:",
        "  client:",
        "    serviceUrl:",
        "      defaultZone: ' http://peer1:8761/eureka ,http://peer2:8761/eureka/,, '",
        "      us-east-1a: [http://peer3/eureka, 'https://peer4/eureka']",
    ]);
    let c = &loaded.config;
    assert_eq!(c.peer_urls(), vec!["http://peer1:8761/eureka/", "http://peer2:8761/eureka/"]);
    assert_eq!(
        c.client.service_urls["us-east-1a"],
        vec!["http://peer3/eureka/", "https://peer4/eureka/"]
    );
    assert_eq!(loaded.warnings.len(), 1, "other zones unused: {:?}", loaded.warnings);

    let loaded = ServerConfig::load(ConfigSources {
        env: pairs(&[(
            "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            "http://e1:8761/eureka,http://e2:8761/eureka",
        )]),
        overrides: pairs(&[("eureka.client.register-with-eureka", "true")]),
        ..ConfigSources::default()
    })
    .expect("loads");
    assert_eq!(loaded.config.peer_urls(), vec!["http://e1:8761/eureka/", "http://e2:8761/eureka/"]);
    assert!(loaded.config.client.register_with_eureka);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    let error =
        load_file(&write("application.yml", "eureka.client.service-url.defaultZone: peer1:8761\n"))
            .expect_err("rejects");
    assert!(error.to_string().contains("eureka.client.service-url.defaultZone"), "{error}");
}

#[test]
fn metadata_map_keys_keep_their_case() {
    let loaded = load_yaml(&[
        "eureka:",
        "  instance:",
        "    metadataMap:",
        "      zoneName: east",
        "      management.port: 8081",
        "      '[a.b]': c",
        "      Empty: ''",
    ]);
    let metadata = &loaded.config.instance.metadata;
    assert_eq!(metadata["zoneName"], "east");
    assert_eq!(metadata["management.port"], "8081");
    assert_eq!(metadata["a.b"], "c");
    assert_eq!(metadata["Empty"], "");
    assert!(!metadata.contains_key("zonename"));

    let path = write("application.properties", "eureka.instance.metadata-map[version.Major]=2\n");
    let loaded = load_file(&path).expect("loads");
    assert_eq!(loaded.config.instance.metadata["version.Major"], "2");

    let loaded = ServerConfig::load(ConfigSources {
        env: pairs(&[("EUREKA_INSTANCE_METADATAMAP_MANAGEMENT_PORT", "8081")]),
        ..ConfigSources::default()
    })
    .expect("loads");
    // Spring's rule for map keys from the environment: lower-cased, '_' becomes '.'.
    assert_eq!(loaded.config.instance.metadata["management.port"], "8081");
}

#[test]
fn response_cache_keys_are_validated_and_recorded_without_effect() {
    let loaded = load_yaml(&[
        "eureka.server:",
        "  useReadOnlyResponseCache: false",
        "  response-cache-update-interval-ms: 1000",
    ]);
    assert_eq!(
        loaded.config.compat_ignored,
        vec![
            "eureka.server.use-read-only-response-cache",
            "eureka.server.response-cache-update-interval-ms"
        ]
    );
    let error = load_file(&write(
        "application.yml",
        "eureka.server.initial-capacity-of-response-cache: lots\n",
    ))
    .expect_err("rejects");
    assert!(error.to_string().contains("initial-capacity-of-response-cache"));
}

#[test]
fn tls_and_limit_keys_use_springs_names_and_units() {
    let loaded = load_yaml(&[
        "server:",
        "  max-http-request-header-size: 16KB",
        "  max-connections: 3",
        "  connection-timeout: 5s",
        "  request-timeout: 1500",
        "  ssl:",
        "    certificate: /etc/eureka/server.pem",
        "    certificate-private-key: /etc/eureka/server.key",
        "    trust-certificate: /etc/eureka/ca.pem",
        "    client-auth: NEED",
        "eureka.server.peer-tls:",
        "  trust-certificate: /etc/eureka/ca.pem",
        "  certificate: /etc/eureka/peer.pem",
        "  certificate-private-key: /etc/eureka/peer.key",
    ]);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(c.limits.max_http_request_header_size, 16 * 1024);
    assert_eq!(c.limits.max_connections, 3);
    assert_eq!(c.limits.connection_timeout, Duration::from_secs(5));
    assert_eq!(c.limits.request_timeout, Duration::from_millis(1500));
    assert!(c.ssl.is_enabled());
    assert_eq!(c.ssl.client_auth, ClientAuth::Need);
    assert_eq!(c.ssl.trust_certificate.as_deref(), Some(Path::new("/etc/eureka/ca.pem")));
    assert_eq!(c.peer_tls.certificate.as_deref(), Some(Path::new("/etc/eureka/peer.pem")));

    // Spring's `server.ssl.enabled: false` keeps the listener plain despite a certificate.
    let off = ServerConfig::load(ConfigSources {
        env: pairs(&[
            ("SERVER_SSL_ENABLED", "false"),
            ("SERVER_SSL_CERTIFICATE", "/c.pem"),
            ("SERVER_SSL_CERTIFICATEPRIVATEKEY", "/k.pem"),
        ]),
        ..ConfigSources::default()
    })
    .expect("loads");
    assert!(!off.config.ssl.is_enabled());
}

#[test]
fn sizes_and_durations_parse_as_spring_writes_them() {
    assert_eq!(parse_data_size("8192"), Ok(8192));
    assert_eq!(parse_data_size("8KB"), Ok(8192));
    assert_eq!(parse_data_size("1mb"), Ok(1 << 20));
    assert_eq!(parse_data_size("10B"), Ok(10));
    assert!(parse_data_size("8 KiB").is_err());
    assert!(parse_data_size("KB").is_err());
    assert!(parse_data_size("99999999999999999999GB").is_err());
    assert_eq!(parse_duration("250"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration("1500us"), Ok(Duration::from_micros(1500)));
    assert!(parse_duration("1.5s").is_err());
    assert!(parse_duration("-1s").is_err());
    assert!(positive_millis(&parse_duration("99999999999d").unwrap()).is_err());
}
