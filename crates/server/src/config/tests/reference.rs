//! The reference generated from the key table (and the README's copy of it), `config check`'s
//! list of every problem, and `config show`'s values with their sources.

use super::*;

#[test]
fn readme_reference_is_the_one_generated_from_the_key_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).expect("read README.md");
    let generated = splice_readme(&readme)
        .unwrap_or_else(|| panic!("README.md lacks the lines {README_BEGIN} and {README_END}"));
    if generated == readme {
        return;
    }
    if std::env::var_os("EUREKA_UPDATE_README").is_some() {
        std::fs::write(&path, generated).expect("write README.md");
        return;
    }
    panic!(
        "README.md's configuration reference differs from the key table \
         (crates/server/src/config/keys/). Regenerate it with\n  \
         EUREKA_UPDATE_README=1 cargo test -p eureka-server --lib readme\n\
         or paste the output of `cargo run -p eureka-server -- config keys -o markdown` \
         between {README_BEGIN} and {README_END}."
    );
}

#[test]
fn every_key_has_a_type_a_default_and_a_description() {
    let docs = reference();
    assert_eq!(docs.len(), KNOWN_KEYS.len());
    let mut sections: Vec<&str> = Vec::new();
    for doc in &docs {
        assert!(!doc.ty.is_empty() && !doc.default.is_empty(), "{doc:?}");
        let text = doc.description;
        assert!(text.len() > 10 && text.ends_with('.'), "{}: {text:?}", doc.key);
        assert!(!text.contains("  ") && !text.contains('\n'), "{}: {text:?}", doc.key);
        assert_eq!(text.matches('`').count() % 2, 0, "{}: unbalanced code quotes", doc.key);
        if sections.last() != Some(&doc.section) {
            assert!(!sections.contains(&doc.section), "section {} is split", doc.section);
            sections.push(doc.section);
        }
    }
    let markdown = render_reference(ReferenceFormat::Markdown);
    let rows = markdown.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(rows, docs.len(), "one table row per key");
    let json: serde_json::Value =
        serde_json::from_str(&render_reference(ReferenceFormat::Json)).expect("JSON");
    let first = &json.as_array().expect("an array")[0];
    assert_eq!(first["key"], "server.port");
    assert_eq!(first["type"], "port");
    assert_eq!(first["env"], "SERVER_PORT");
    let text = render_reference(ReferenceFormat::Text);
    assert!(text.lines().all(|l| l.chars().count() <= 100 || !l.contains(' ')), "{text}");
}

#[test]
fn defaults_in_the_reference_are_the_configurations_defaults() {
    let docs = reference();
    let doc = |key: &str| {
        docs.iter().find(|d| d.key == key).unwrap_or_else(|| panic!("{key} missing")).clone()
    };
    assert_eq!(doc("server.port").default, defaults::PORT.to_string());
    assert_eq!(doc("server.connection-timeout").default, "1m");
    assert_eq!(doc("server.max-http-request-header-size").default, "8KB");
    assert_eq!(doc("eureka.server.eviction-interval-timer-in-ms").default, "60000");
    assert_eq!(doc("eureka.server.renewal-percent-threshold").default, "0.85");
    assert_eq!(doc("eureka.instance.lease-expiration-duration-in-seconds").default, "90");
    assert_eq!(doc("eureka.server.peer-password").default, "unset");
    assert_eq!(doc("eureka.server.use-read-only-response-cache").default, "-");
    let zones = doc("eureka.client.service-url.<key>");
    assert_eq!(
        (zones.default.as_str(), zones.env.as_str()),
        ("empty", "EUREKA_CLIENT_SERVICE_URL_<KEY>")
    );
    assert_eq!(
        doc("server.max-connections").spring.as_deref(),
        Some("server.tomcat.max-connections")
    );
    assert_eq!(doc("eureka.security.enabled").spring, None);
    assert_eq!(doc("eureka.dashboard.path").spring.as_deref(), Some("eureka.dashboard.path"));
}

/// A file with two bad values, a bad environment variable, a bad flag and a range error.
fn troubled_sources(path: &Path) -> ConfigSources<'_> {
    ConfigSources {
        file: Some(path),
        env: pairs(&[("EUREKA_SERVER_PEER_NODE_READ_TIMEOUT_MS", "fast")]),
        overrides: pairs(&[("server.port", "99999")]),
    }
}

#[test]
fn check_lists_every_problem_with_its_key_and_source_and_load_reports_the_first() {
    let path = write(
        "application.yml",
        "eureka:\n  server:\n    enableSelfPreservation: maybe\n    \
         eviction-interval-timer-in-ms: 0\n    renewal-percent-threshold: 2\n  foo: 1\n",
    );
    let checked = ServerConfig::check(troubled_sources(&path));
    let errors: Vec<String> = checked.errors.iter().map(ToString::to_string).collect();
    let file = path.display();
    assert_eq!(
        errors,
        vec![
            format!(
                "invalid value 'maybe' for eureka.server.enableSelfPreservation in {file}: \
                 expected true or false"
            ),
            "invalid value 'fast' for EUREKA_SERVER_PEER_NODE_READ_TIMEOUT_MS in the \
             environment: expected a whole number of milliseconds"
                .to_string(),
            "invalid value '99999' for server.port in the command-line overrides: expected a \
             port number from 0 to 65535"
                .to_string(),
            format!(
                "invalid value '2' for eureka.server.renewal-percent-threshold in {file}: \
                 expected a number between 0 and 1"
            ),
            format!(
                "invalid value '0' for eureka.server.eviction-interval-timer-in-ms in {file}: \
                 expected a positive whole number of milliseconds, at most one year"
            ),
        ]
    );
    assert_eq!(checked.loaded.warnings, vec![format!("unknown key 'eureka.foo' in {file}")]);
    let first = ServerConfig::load(troubled_sources(&path)).expect_err("refused");
    assert_eq!(first.to_string(), errors[0]);

    let missing = temp_dir().join("missing.yml");
    let checked = ServerConfig::check(troubled_sources(&missing));
    assert_eq!(checked.errors.len(), 3, "the file, then the environment and the flag");
    assert!(matches!(checked.errors[0], ConfigError::Io { .. }), "{:?}", checked.errors);
}

#[test]
fn show_gives_each_value_its_source_and_masks_secrets() {
    let path = write(
        "application.yml",
        "spring.application.name: registry\neureka:\n  server:\n    peerPassword: s3cret\n  \
         client.service-url.defaultZone: http://replica:s3cret@peer:8761/eureka/\n  \
         instance.metadata-map.zone: eu-1\n",
    );
    let loaded = ServerConfig::load(ConfigSources {
        file: Some(&path),
        env: pairs(&[("EUREKA_SERVER_DISABLE_DELTA", "true")]),
        overrides: pairs(&[
            ("eureka.security.users.ops.password", "pw"),
            ("eureka.security.users.ops.roles", "admin"),
        ]),
    })
    .expect("loads");
    let values = effective(&loaded);
    let value = |key: &str| {
        let v = values.iter().find(|v| v.key == key).unwrap_or_else(|| panic!("{key}"));
        (v.value.as_str(), v.source.as_str(), v.written.as_deref())
    };
    let file = path.display().to_string();
    assert_eq!(value("server.port"), ("8761", "default", None));
    assert_eq!(
        value("eureka.server.disable-delta"),
        ("true", "environment", Some("EUREKA_SERVER_DISABLE_DELTA"))
    );
    assert_eq!(
        value("eureka.server.peer-password"),
        ("(redacted)", file.as_str(), Some("eureka.server.peerPassword"))
    );
    assert_eq!(
        value("eureka.client.service-url.defaultZone"),
        ("http://replica:(redacted)@peer:8761/eureka/", file.as_str(), None)
    );
    assert_eq!(value("eureka.instance.metadata-map.zone"), ("eu-1", file.as_str(), None));
    assert_eq!(value("eureka.instance.appname"), ("registry", "derived", None));
    assert_eq!(value("eureka.security.users.ops.password"), ("(redacted)", "command line", None));
    assert_eq!(value("eureka.security.users.ops.roles"), ("admin", "command line", None));
    assert_eq!(value("eureka.server.my-url"), ("", "default", None));
    let text = render_effective(&values);
    assert!(!text.contains("s3cret") && !text.contains("pw "), "{text}");
    assert!(text.lines().any(|l| l.starts_with("eureka.server.disable-delta ")), "{text}");
}
