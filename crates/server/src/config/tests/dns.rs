//! `eureka.dns.*`: defaults, binding from a file and the environment, range checks.

use super::*;

#[test]
fn dns_settings_bind_from_a_file_and_the_environment_and_are_checked() {
    let d = ServerConfig::default().dns;
    assert!(!d.enabled, "off unless asked for");
    assert_eq!(
        (d.port, d.domain.as_str(), d.ttl, d.max_answers),
        (8600, "eureka.", Duration::from_secs(5), 16)
    );
    assert!(d.txt_metadata.is_empty() && d.address.is_none());

    let path = write(
        "dns.yml",
        "eureka:\n  dns:\n    enabled: true\n    domain: Discovery.Example.COM\n    ttl: 30\n    \
         maxAnswers: 8\n    txt-metadata: [version, zone]\n",
    );
    let loaded = ServerConfig::load(ConfigSources {
        file: Some(&path),
        env: pairs(&[("EUREKA_DNS_PORT", "5353"), ("EUREKA_DNS_ADDRESS", "127.0.0.1")]),
        ..ConfigSources::default()
    })
    .expect("config loads");
    let d = &loaded.config.dns;
    assert!(d.enabled);
    assert_eq!(d.domain, "discovery.example.com.", "lower case, with the final dot");
    assert_eq!((d.ttl, d.max_answers, d.port), (Duration::from_secs(30), 8, 5353));
    assert_eq!(d.txt_metadata, ["version", "zone"]);
    let addr = d.listen_addr(loaded.config.address);
    assert_eq!(addr.to_string(), "127.0.0.1:5353");

    let refuse = |key: &str, value: &str| {
        ServerConfig::load(ConfigSources {
            overrides: pairs(&[(key, value)]),
            ..ConfigSources::default()
        })
        .expect_err("refused")
        .to_string()
    };
    for (key, value) in [
        ("eureka.dns.domain", "."),
        ("eureka.dns.domain", "a..b"),
        ("eureka.dns.domain", "bad domain"),
        ("eureka.dns.domain", &"x".repeat(64)),
        ("eureka.dns.ttl", "86401"),
        ("eureka.dns.ttl", "5s"),
        ("eureka.dns.max-answers", "0"),
        ("eureka.dns.max-answers", "1025"),
        ("eureka.dns.port", "70000"),
    ] {
        let message = refuse(key, value);
        assert!(message.contains(key), "{key}={value}: {message}");
    }
}
