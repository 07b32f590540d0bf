//! Spring placeholders across sources, with defaults, cycles and expansion limits.

use super::*;

#[test]
fn spring_placeholders_resolve_across_sources() {
    let loaded = ServerConfig::load(ConfigSources {
        file: Some(&write(
            "application.yml",
            &[
                "server:",
                "  port: 8761",
                "eureka:",
                "  instance:",
                "    hostname: localhost",
                "  client:",
                "    serviceUrl:",
                "      defaultZone: http://${eureka.instance.hostname}:${server.port}/eureka/",
                "  environment: ${DEPLOY_ENV:dev}",
                "  datacenter: ${missing.key:${eureka.instance.hostname}-dc}",
            ]
            .join("\n"),
        )),
        env: pairs(&[("EUREKA_INSTANCE_HOSTNAME", "peer1")]),
        overrides: pairs(&[("server.port", "8762")]),
    })
    .expect("loads");
    let c = &loaded.config;
    assert_eq!(c.peer_urls(), vec!["http://peer1:8762/eureka/"]);
    assert_eq!(c.environment, "dev");
    assert_eq!(c.datacenter, "peer1-dc");

    let error = ServerConfig::load(ConfigSources {
        overrides: pairs(&[("eureka.environment", "${nowhere}")]),
        ..ConfigSources::default()
    })
    .expect_err("rejects");
    assert_eq!(
        error.to_string(),
        "cannot resolve placeholder '${nowhere}' in the value of eureka.environment \
         in the command-line overrides"
    );
    let cycle = ServerConfig::load(ConfigSources {
        overrides: pairs(&[("eureka.environment", "${eureka.environment}")]),
        ..ConfigSources::default()
    });
    assert!(matches!(cycle, Err(ConfigError::Placeholder { .. })));
    let doubling: Vec<(String, String)> = (0..40)
        .map(|i| (format!("p{i}"), format!("${{p{}}}${{p{}}}", i + 1, i + 1)))
        .chain([("eureka.environment".to_string(), "${p0}".to_string())])
        .collect();
    let blowup =
        ServerConfig::load(ConfigSources { overrides: doubling, ..ConfigSources::default() });
    assert!(matches!(blowup, Err(ConfigError::Placeholder { .. })));
    // Unterminated placeholders stay as text; spring.* values are never resolved.
    let loaded = load_yaml(&["eureka.datacenter: a${b", "spring.x: ${unresolvable}"]);
    assert_eq!(loaded.config.datacenter, "a${b");
}
