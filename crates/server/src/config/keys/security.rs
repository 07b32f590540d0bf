//! `eureka.security.*` and Spring Security's single user: who may call the server.

use crate::config::check::{any, reject, Rejected};
use crate::config::draft::Draft;
use crate::config::kinds::{BOOL, TEXT};
use crate::config::names::canonical_segment;
use crate::config::parse::parse_user_name;
use crate::security::{parse_roles, Password, Role};

use super::Spring::{Ours, Same};
use super::{bind, set, set_optional, show_password, Apply, Binding, Group, Shown};

/// The key that binds `eureka.security.users.<name>.password|roles`.
pub(super) const USERS_KEY: &str = "eureka.security.users.*";
/// Spring Security's single user, for servers migrating from Spring (see [`Draft::finish`]).
pub(in crate::config) const SPRING_USER_NAME_KEY: &str = "spring.security.user.name";
pub(in crate::config) const SPRING_USER_PASSWORD_KEY: &str = "spring.security.user.password";
pub(in crate::config) const SPRING_USER_ROLES_KEY: &str = "spring.security.user.roles";

pub(super) const GROUP: Group = Group {
    title: "Authentication and roles",
    rows: &[
        Binding {
            key: "eureka.security.enabled",
            apply: Apply::Scalar(|b, raw| set(&mut b.config.security.enabled, raw, BOOL.parse)),
            check: |c| {
                if c.security.enabled && c.security.users.is_empty() {
                    return reject(
                        "true".to_string(),
                        "at least one user (eureka.security.users.<name>.password and .roles, \
                         or spring.security.user.password) when security is enabled",
                    );
                }
                Ok(())
            },
            show: |c| Shown::Value((BOOL.show)(&c.security.enabled)),
            ty: BOOL.ty,
            spring: Ours,
            doc: "Require HTTP Basic credentials of a configured user on every call except the \
                  health probes; refuses to start without a user.",
        },
        bind!("eureka.security.anonymous-read" => security.anonymous_read: BOOL, any; Ours,
            "Callers without credentials may read (never write)."),
        bind!("eureka.security.protect-metrics" => security.protect_metrics: BOOL, any; Ours,
            "`/metrics` and `/actuator/prometheus` need the `read` role too."),
        Binding {
            key: USERS_KEY,
            apply: Apply::Map(set_user_field),
            check: |c| {
                for (name, user) in &c.security.users {
                    if user.password.is_none() {
                        return Err(Rejected {
                            map_key: Some(format!("{name}.password")),
                            value: String::new(),
                            expected: "a password for the user (plain, {noop}, {bcrypt} or \
                                       {argon2})",
                        });
                    }
                    if user.roles.is_empty() {
                        return Err(Rejected {
                            map_key: Some(format!("{name}.roles")),
                            value: String::new(),
                            expected: crate::security::ROLES_EXPECTED,
                        });
                    }
                }
                Ok(())
            },
            show: |c| {
                let mut entries = Vec::new();
                for (name, user) in &c.security.users {
                    if let Some(password) = &user.password {
                        entries.push((format!("{name}.password"), show_password(password)));
                    }
                    entries.push((format!("{name}.roles"), show_roles(&user.roles)));
                }
                Shown::Entries(entries)
            },
            ty: "password, roles",
            spring: Ours,
            doc: "A user: `<name>.password` (plain, `{noop}…`, `{bcrypt}…`, `{argon2}…` or a \
                  bare hash) and `<name>.roles`, a comma-separated (or YAML) list of `read`, \
                  `write`, `admin`, `peer`.",
        },
        Binding {
            key: SPRING_USER_NAME_KEY,
            apply: Apply::Scalar(|b, raw| set_optional(&mut b.spring_user.0, raw, parse_user_name)),
            check: |_| Ok(()),
            show: |_| Shown::AsWritten,
            ty: TEXT.ty,
            spring: Same,
            doc: "Spring Security's single user, for servers migrating from Spring: its name \
                  (`user` when unset).",
        },
        Binding {
            key: SPRING_USER_PASSWORD_KEY,
            apply: Apply::Scalar(|b, raw| set_optional(&mut b.spring_user.1, raw, Password::parse)),
            check: |_| Ok(()),
            show: |_| Shown::AsWritten,
            ty: "password",
            spring: Same,
            doc: "Its password; setting it creates the user.",
        },
        Binding {
            key: SPRING_USER_ROLES_KEY,
            apply: Apply::Scalar(|b, raw| set_optional(&mut b.spring_user.2, raw, parse_roles)),
            check: |_| Ok(()),
            show: |_| Shown::AsWritten,
            ty: "roles",
            spring: Same,
            doc: "Its roles; unset: `admin`, which holds every role (in a Spring cluster that \
                  one user is clients, peers and operators).",
        },
    ],
};

/// Sets `<name>.password` or `<name>.roles` of `eureka.security.users`.
fn set_user_field(b: &mut Draft, key: String, raw: Option<&str>) -> Result<(), &'static str> {
    const EXPECT_FIELD: &str = "a key eureka.security.users.<name>.password or \
                                eureka.security.users.<name>.roles";
    let (name, field) = key.rsplit_once('.').ok_or(EXPECT_FIELD)?;
    let name = parse_user_name(name)?;
    match canonical_segment(field).as_str() {
        "password" => {
            let password = raw.map(Password::parse).transpose()?;
            b.config.security.users.entry(name).or_default().password = password;
        }
        "roles" => {
            let roles = raw.map(parse_roles).transpose()?.unwrap_or_default();
            b.config.security.users.entry(name).or_default().roles = roles;
        }
        _ => return Err(EXPECT_FIELD),
    }
    Ok(())
}

fn show_roles(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}
