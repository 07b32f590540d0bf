//! The key table: unique, kebab-case, reachable from every source; unknown and unused keys warn.

use super::*;

#[test]
fn known_keys_are_unique_kebab_case_and_distinct_as_env_names() {
    let mut seen = std::collections::HashSet::new();
    let mut env_seen = std::collections::HashSet::new();
    for key in KNOWN_KEYS {
        assert!(seen.insert(*key), "duplicate key {key}");
        assert!(env_seen.insert(env_form(key)), "env name clash for {key}");
        assert!(
            key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.*".contains(c)),
            "{key} is not kebab-case"
        );
    }
    for binding in BINDINGS {
        let is_map = matches!(binding.apply, Apply::Map(_));
        assert_eq!(is_map, binding.key.ends_with(".*"), "{}", binding.key);
    }
    assert_eq!(KNOWN_KEYS.len(), BINDINGS.len());
    assert!(KNOWN_KEYS.contains(&"eureka.server.retention-time-in-m-s-in-delta-queue"));
    for key in UNUSED_SPRING_KEYS {
        assert!(lookup(key.trim_end_matches(".*")).is_none(), "{key} is bound");
    }
}

#[test]
fn every_known_key_round_trips_through_each_source() {
    for key in KNOWN_KEYS {
        let written = key.replace(".*", ".someKey");
        assert!(lookup(&written).is_some(), "{written}");
        let env_name = written.replace(['.', '-'], "_").to_uppercase();
        assert!(lookup_env(&env_name).is_some(), "{env_name}");
    }
}

#[test]
fn unknown_eureka_and_server_keys_warn() {
    let path = write("application.yml", "eureka:\n  server:\n    foo: 1\nserver:\n  bar: 2\n");
    let loaded = load_file(&path).expect("loads");
    assert!(loaded
        .warnings
        .contains(&format!("unknown key 'eureka.server.foo' in {}", path.display())));
    assert!(loaded.warnings.contains(&format!("unknown key 'server.bar' in {}", path.display())));
    let loaded = ServerConfig::load(ConfigSources {
        overrides: pairs(&[("nonsense.key", "1")]),
        ..ConfigSources::default()
    })
    .expect("loads");
    assert_eq!(loaded.warnings, vec!["unknown key 'nonsense.key' in the command-line overrides"]);
}

#[test]
fn spring_management_logging_and_other_keys_are_silent() {
    let loaded = load_yaml(&[
        "spring:",
        "  application:",
        "    name: x",
        "  profiles:",
        "    active: prod",
        "  cloud:",
        "    gateway:",
        "      routes:",
        "        - id: a",
        "          uri: http://a",
        "management:",
        "  endpoints.web.exposure.include: '*'",
        "logging:",
        "  level:",
        "    root: info",
        "info:",
        "  app: demo",
        "eureka:",
        "  server: {}",
        "  instance:",
        "    metadata-map:",
    ]);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn recognised_spring_client_keys_warn_that_they_are_unused() {
    let loaded = load_yaml(&["eureka:", "  client:", "    registryFetchIntervalSeconds: 5"]);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].contains("does not use"), "{:?}", loaded.warnings);
}
