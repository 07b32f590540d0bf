//! Configuration files: `.properties` syntax, profile documents, file errors, odd input.

use super::*;

#[test]
fn properties_file_binds_with_comments_separators_and_escapes() {
    let text = [
        "# a comment",
        "! another comment",
        "",
        "server.port = 8762",
        "eureka.server.enableSelfPreservation: false",
        "eureka.instance.appname   registry",
        r"eureka.client.service-url.defaultZone=http://a:8761/eureka, \",
        "    http://b:8761/eureka/",
        r"eureka.instance.metadata-map.greeting=caf\u00e9\tbar",
        "eureka.instance.hostname=",
    ]
    .join("\n");
    let path = write("application.properties", &text);
    let loaded = load_file(&path).expect("loads");
    let c = loaded.config;
    assert_eq!(c.port, 8762);
    assert!(!c.enable_self_preservation);
    assert_eq!(c.instance.appname, "registry");
    assert_eq!(c.peer_urls(), vec!["http://a:8761/eureka/", "http://b:8761/eureka/"]);
    assert_eq!(c.instance.metadata["greeting"], "café\tbar");
    assert_eq!(c.instance.hostname, None);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn profile_documents_are_skipped_with_a_warning() {
    let loaded = load_yaml(&[
        "server.port: 9000",
        "---",
        "spring.config.activate.on-profile: peer2",
        "server.port: 9001",
        "---",
        "eureka.environment: prod",
    ]);
    assert_eq!(loaded.config.port, 9000);
    assert_eq!(loaded.config.environment, "prod");
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
}

#[test]
fn file_errors_are_reported() {
    let dir = temp_dir();
    let missing = dir.join("missing.yml");
    assert!(matches!(load_file(&missing), Err(ConfigError::Io { .. })));
    let toml = write("application.toml", "x = 1\n");
    assert!(matches!(load_file(&toml), Err(ConfigError::UnsupportedFormat { .. })));
    let bad = write("application.yml", "eureka: [unclosed\n");
    assert!(matches!(load_file(&bad), Err(ConfigError::Parse { .. })));
    let scalar = write("application.yml", "just a string\n");
    assert!(matches!(load_file(&scalar), Err(ConfigError::Parse { .. })));
    let escape = write("application.properties", "a=\\uZZZZ\n");
    let message = load_file(&escape).expect_err("rejects").to_string();
    assert!(message.contains("line 1"), "{message}");
    let empty = write("application.yml", "");
    assert!(load_file(&empty).is_ok());
}

#[test]
fn file_text_loads_like_a_file_without_touching_the_disk() {
    let name = Path::new("inline.yml");
    let yaml = "eureka:\n  server:\n    max-request-body-bytes: 2048\n";
    let loaded = ServerConfig::load_text(FileSyntax::Yaml, name, yaml).expect("loads");
    assert_eq!(loaded.config.max_request_body_bytes, 2048);
    let props = "eureka.server.max-request-body-bytes=4096\n";
    let loaded = ServerConfig::load_text(FileSyntax::Properties, name, props).expect("loads");
    assert_eq!(loaded.config.max_request_body_bytes, 4096);
    let err = ServerConfig::load_text(FileSyntax::Yaml, name, "a: [").unwrap_err();
    assert!(err.to_string().starts_with("cannot parse configuration file inline.yml"), "{err}");
}

#[test]
fn odd_input_never_panics() {
    let inputs = [
        "",
        "\\",
        "=",
        ":",
        "a\\",
        "a=\\u12",
        "a=\\uD800",
        "a=\\uD800\\u0041",
        "a=\\uD83D\\uDE00",
        "${",
        "${${${}}}",
        "${a:${b:${c:}}}",
        "}${",
        "[",
        "]",
        "a.[b",
        "a]].b",
        "..",
        "é=ü",
        "#---\n#---",
    ];
    for input in inputs {
        let _ = parse_properties(input);
        let _ = parse_yaml(input);
        let _ = lookup(input);
        let _ = lookup_env(input);
        let _ = ServerConfig::load(ConfigSources {
            env: vec![(format!("EUREKA_{input}"), input.to_string())],
            overrides: vec![
                (input.to_string(), input.to_string()),
                ("eureka.environment".to_string(), input.to_string()),
            ],
            ..ConfigSources::default()
        });
    }
    let pair = parse_properties("a=\\uD83D\\uDE00").expect("parses");
    assert_eq!(pair[0][0].1.as_deref(), Some("😀"));
}
