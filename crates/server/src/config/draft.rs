//! The configuration under construction: what the binding table's setters write to, with the
//! fallbacks that can only be resolved once every source has been applied.

use crate::security::{Password, Role, UserSettings};

use super::settings::ServerConfig;

/// The settings bound so far, plus the Spring fallbacks waiting for [`Draft::finish`].
pub(super) struct Draft {
    /// Starts as the defaults; each applied value overwrites its field.
    pub(super) config: ServerConfig,
    /// Whether `eureka.instance.appname` was set (it beats `spring.application.name`).
    pub(super) appname_set: bool,
    /// `spring.application.name`, the app name when `eureka.instance.appname` is not set.
    pub(super) spring_application_name: Option<String>,
    /// `spring.security.user.name`, `.password`, `.roles`.
    pub(super) spring_user: (Option<String>, Option<Password>, Option<Vec<Role>>),
}

impl Draft {
    /// Starts from the defaults.
    pub(super) fn new() -> Self {
        Draft {
            config: ServerConfig::default(),
            appname_set: false,
            spring_application_name: None,
            spring_user: (None, None, None),
        }
    }

    /// Resolves the fallbacks into the configuration (not yet validated).
    pub(super) fn finish(mut self) -> ServerConfig {
        if !self.appname_set {
            if let Some(name) = self.spring_application_name.take() {
                self.config.instance.appname = name;
            }
        }
        // Spring Security's single user (`user` unless named) holds every role unless told
        // otherwise: in a Spring Eureka cluster that one user is clients, peers and operators.
        if let (name, Some(password), roles) = std::mem::take(&mut self.spring_user) {
            let name = name.unwrap_or_else(|| "user".to_string());
            let roles = roles.unwrap_or_else(|| vec![Role::Admin]);
            self.config
                .security
                .users
                .insert(name, UserSettings { password: Some(password), roles });
        }
        self.config
    }
}
