//! Users, roles and peer credentials, and Spring Security's single user.

use super::*;

#[test]
fn security_users_bind_from_a_file_the_environment_and_flags() {
    use crate::security::Role;
    let path = write(
        "application.yml",
        "eureka:\n  security:\n    enabled: true\n    anonymousRead: yes\n    users:\n      \
         alice:\n        password: '{noop}a-pw'\n        roles: [write, admin]\n",
    );
    let loaded = ServerConfig::load(ConfigSources {
        file: Some(&path),
        env: pairs(&[
            ("EUREKA_SECURITY_USERS_BOB_PASSWORD", "b-pw"),
            ("EUREKA_SECURITY_USERS_BOB_ROLES", "read,peer"),
            ("EUREKA_SERVER_PEER_PASSWORD", "p-pw"),
        ]),
        overrides: pairs(&[("eureka.server.peer-username", "replicator")]),
    })
    .expect("loads");
    let security = &loaded.config.security;
    assert!(security.enabled && security.anonymous_read && !security.protect_metrics);
    let alice = &security.users["alice"];
    assert_eq!(alice.password, Some(Password::Plain("a-pw".into())));
    assert_eq!(alice.roles, vec![Role::Write, Role::Admin]);
    assert_eq!(security.users["bob"].roles, vec![Role::Read, Role::Peer]);
    assert_eq!(loaded.config.peer_username.as_deref(), Some("replicator"));
    assert_eq!(loaded.config.peer_password.as_ref().map(Secret::expose), Some("p-pw"));
    assert!(!format!("{:?}", loaded.config).contains("-pw"), "Debug shows no password");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(!ServerConfig::default().security.enabled, "off by default");
}

#[test]
fn springs_single_user_migrates_with_every_role() {
    let loaded = ServerConfig::load(ConfigSources {
        env: pairs(&[
            ("SPRING_SECURITY_USER_NAME", "eureka"),
            ("SPRING_SECURITY_USER_PASSWORD", "s-pw"),
            ("EUREKA_SECURITY_ENABLED", "true"),
        ]),
        ..ConfigSources::default()
    })
    .expect("loads");
    let user = &loaded.config.security.users["eureka"];
    assert_eq!(user.roles, vec![crate::security::Role::Admin]);
    assert_eq!(user.password, Some(Password::Plain("s-pw".into())));
}

#[test]
fn security_mistakes_refuse_to_start_naming_the_key() {
    let refuse = |items: &[(&str, &str)]| {
        ServerConfig::load(ConfigSources { overrides: pairs(items), ..ConfigSources::default() })
            .expect_err("refused")
            .to_string()
    };
    let message = refuse(&[("eureka.security.enabled", "true")]);
    assert!(message.contains("eureka.security.enabled"), "{message}");
    assert!(message.contains("at least one user"), "{message}");

    let message = refuse(&[
        ("eureka.security.users.alice.password", "pw"),
        ("eureka.security.users.alice.roles", "read,superuser"),
    ]);
    assert!(message.contains("eureka.security.users.alice.roles"), "{message}");
    assert!(message.contains("read, write, admin, peer"), "{message}");

    let message = refuse(&[("eureka.security.users.alice.password", "{bcrypt}$2b$10$short")]);
    assert!(message.contains("eureka.security.users.alice.password"), "{message}");
    assert!(message.contains("bcrypt hash"), "{message}");
    assert!(!message.contains("$short"), "the value is not echoed: {message}");

    let message = refuse(&[("eureka.security.users.alice.roles", "read")]);
    assert!(message.contains("eureka.security.users.alice.password"), "{message}");

    let message = refuse(&[("eureka.security.users.alice.password", "pw")]);
    assert!(message.contains("eureka.security.users.alice.roles"), "{message}");

    let message = refuse(&[("eureka.security.users.alice.colour", "red")]);
    assert!(message.contains("<name>.password"), "{message}");
}
