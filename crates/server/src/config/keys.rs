//! The binding table: one row per key (its canonical kebab-case name, how a raw value is
//! applied, how the result is range-checked), shared by file, environment and overrides; and
//! the lists of keys we recognise without binding.

use crate::security::{parse_roles, Password};

use super::check::{
    any, fraction, header_size, millis, minus_one_or_more, non_empty, optional_url, positive_count,
    positive_millis, positive_secs, reject, required_with, Rejected,
};
use super::discovery;
use super::draft::Draft;
use super::names::canonical_segment;
use super::parse::{
    is_http_url, parse_bool, parse_client_auth, parse_dashboard_path, parse_data_size,
    parse_duration, parse_f64, parse_i32, parse_ip, parse_log_format, parse_millis, parse_path,
    parse_port, parse_secret, parse_secs, parse_text, parse_u32, parse_url, parse_url_list,
    parse_user_name, parse_usize, EXPECT_URL_LIST,
};
use super::settings::{ClientAuth, ServerConfig};

type ScalarSetter = fn(&mut Draft, Option<&str>) -> Result<(), &'static str>;
type MapSetter = fn(&mut Draft, String, Option<&str>) -> Result<(), &'static str>;
type Check = fn(&ServerConfig) -> Result<(), Rejected>;

/// How a row applies a raw value.
#[derive(Clone, Copy)]
pub(super) enum Apply {
    /// Parse into one field; `None` means unset.
    Scalar(ScalarSetter),
    /// Parse into one entry of a map field; the key is everything after the row's prefix.
    Map(MapSetter),
    /// Parse to validate, record in `compat_ignored`, otherwise ignore.
    NoEffect(fn(&str) -> Result<(), &'static str>),
}

/// One configuration key: its canonical kebab-case name, how to set it, how to range-check it.
pub(super) struct Binding {
    /// Canonical key; map rows end with `.*`.
    pub(super) key: &'static str,
    /// How a raw value is applied.
    pub(super) apply: Apply,
    /// Range check run by [`ServerConfig::validate`].
    pub(super) check: Check,
}

impl Binding {
    /// The key without the `.*` of map rows.
    pub(super) fn base(&self) -> &'static str {
        self.key.strip_suffix(".*").unwrap_or(self.key)
    }
}

/// A row for a plain field: `bind!("key" => field.path: parser, check)`; `optional` for `Option`
/// fields.
macro_rules! bind {
    ($key:literal => optional $($field:ident).+ : $parse:path, $check:path) => {
        Binding {
            key: $key,
            apply: Apply::Scalar(|b, raw| set_optional(&mut b.config.$($field).+, raw, $parse)),
            check: |c| $check(&c.$($field).+),
        }
    };
    ($key:literal => $($field:ident).+ : $parse:path, $check:path) => {
        Binding {
            key: $key,
            apply: Apply::Scalar(|b, raw| set(&mut b.config.$($field).+, raw, $parse)),
            check: |c| $check(&c.$($field).+),
        }
    };
    ($key:literal => no_effect $parse:path) => {
        Binding {
            key: $key,
            apply: Apply::NoEffect(|raw| $parse(raw).map(|_| ())),
            check: |_| Ok(()),
        }
    };
}

/// The key that binds `eureka.client.service-url.<zone>`.
pub(super) const SERVICE_URL_KEY: &str = "eureka.client.service-url.*";
/// The key that binds `eureka.security.users.<name>.password|roles`.
const USERS_KEY: &str = "eureka.security.users.*";
/// Spring Security's single user, for servers migrating from Spring (see [`Draft::finish`]).
pub(super) const SPRING_USER_NAME_KEY: &str = "spring.security.user.name";
pub(super) const SPRING_USER_PASSWORD_KEY: &str = "spring.security.user.password";
pub(super) const SPRING_USER_ROLES_KEY: &str = "spring.security.user.roles";
/// Keys whose values are never echoed in errors.
const SECRET_KEYS: &[&str] = &["eureka.server.peer-password", SPRING_USER_PASSWORD_KEY];
/// The fallback for the instance app name.
pub(super) const SPRING_APPLICATION_NAME_KEY: &str = "spring.application.name";

/// Every key we bind, in documentation order.
pub(super) const BINDINGS: &[Binding] = &[
    bind!("server.port" => port: parse_port, any),
    bind!("server.address" => address: parse_ip, any),
    bind!("eureka.server.enable-self-preservation" => enable_self_preservation: parse_bool, any),
    bind!("eureka.server.renewal-percent-threshold"
        => renewal_percent_threshold: parse_f64, fraction),
    // Expected renewals are counted from each lease's own renewal interval and recomputed at
    // every minute tick, so Java's assumed client interval and its 15-minute recompute period
    // have nothing to set (accepted so Java configuration files still load).
    bind!("eureka.server.expected-client-renewal-interval-seconds" => no_effect parse_secs),
    bind!("eureka.server.renewal-threshold-update-interval-ms" => no_effect parse_millis),
    bind!("eureka.server.eviction-interval-timer-in-ms"
        => eviction_interval: parse_millis, positive_millis),
    bind!("eureka.server.retention-time-in-m-s-in-delta-queue"
        => delta_retention: parse_millis, millis),
    bind!("eureka.server.delta-retention-timer-interval-in-ms"
        => delta_retention_timer_interval: parse_millis, positive_millis),
    bind!("eureka.server.disable-delta" => disable_delta: parse_bool, any),
    bind!("eureka.server.sync-when-timestamp-differs"
        => sync_when_timestamp_differs: parse_bool, any),
    bind!("eureka.server.legacy-double-lease-expiry"
        => legacy_double_lease_expiry: parse_bool, any),
    bind!("eureka.server.max-request-body-bytes"
        => max_request_body_bytes: parse_usize, positive_count),
    bind!("eureka.server.wait-time-in-ms-when-sync-empty"
        => wait_time_when_sync_empty: parse_millis, millis),
    bind!("eureka.server.default-open-for-traffic-count"
        => default_open_for_traffic_count: parse_u32, any),
    bind!("eureka.server.registry-sync-retries" => registry_sync_retries: parse_u32, any),
    bind!("eureka.server.registry-sync-retry-wait-ms"
        => registry_sync_retry_wait: parse_millis, millis),
    bind!("eureka.server.peer-node-connect-timeout-ms"
        => peer_node_connect_timeout: parse_millis, positive_millis),
    bind!("eureka.server.peer-node-read-timeout-ms"
        => peer_node_read_timeout: parse_millis, positive_millis),
    Binding {
        key: "eureka.server.peer-eureka-nodes-update-interval-ms",
        apply: Apply::Scalar(|b, raw| {
            set_optional(&mut b.config.peer_discovery.refresh_interval, raw, parse_millis)
        }),
        check: |c| discovery::check_interval(&c.peer_discovery),
    },
    bind!("eureka.server.peer-dns-name"
        => optional peer_discovery.dns_name: discovery::parse_dns_name, any),
    bind!("eureka.server.peer-dns-port" => optional peer_discovery.dns_port: parse_port, any),
    Binding {
        key: "eureka.server.peer-dns-srv",
        apply: Apply::Scalar(|b, raw| set(&mut b.config.peer_discovery.dns_srv, raw, parse_bool)),
        check: |c| discovery::check_srv(&c.peer_discovery),
    },
    bind!("eureka.server.peer-dns-server"
        => optional peer_discovery.dns_server: discovery::parse_host_port, any),
    Binding {
        key: "eureka.client.use-dns-for-fetching-service-urls",
        apply: Apply::Scalar(|b, raw| set(&mut b.config.peer_discovery.java_txt, raw, parse_bool)),
        check: |c| discovery::check_java_txt(&c.peer_discovery),
    },
    bind!("eureka.client.eureka-server-d-n-s-name"
        => optional peer_discovery.java_dns_name: discovery::parse_dns_name, any),
    bind!("eureka.client.eureka-server-port"
        => optional peer_discovery.java_port: parse_port, any),
    bind!("eureka.client.eureka-server-u-r-l-context"
        => optional peer_discovery.java_context: discovery::parse_context, any),
    bind!("eureka.server.max-elements-in-peer-replication-pool"
        => max_elements_in_peer_replication_pool: parse_usize, positive_count),
    bind!("eureka.server.max-threads-for-peer-replication"
        => max_threads_for_peer_replication: parse_usize, positive_count),
    bind!("eureka.server.max-time-for-replication"
        => max_time_for_replication: parse_millis, positive_millis),
    bind!("eureka.server.peer-replication-batch-delay-ms"
        => peer_replication_batch_delay: parse_millis, millis),
    bind!("eureka.server.peer-heartbeat-batch-delay-ms"
        => peer_heartbeat_batch_delay: parse_millis, millis),
    bind!("eureka.server.peer-replication-batch-size"
        => peer_replication_batch_size: parse_usize, positive_count),
    bind!("eureka.server.peer-urls" => extra_peer_urls: parse_url_list, any),
    bind!("eureka.server.enable-replicated-request-compression"
        => enable_replicated_request_compression: parse_bool, any),
    bind!("eureka.server.min-available-instances-for-peer-replication"
        => min_available_instances_for_peer_replication: parse_i32, minus_one_or_more),
    bind!("eureka.server.my-url" => optional my_url: parse_url, optional_url),
    bind!("eureka.server.rate-limiter-enabled" => rate_limiter_enabled: parse_bool, any),
    bind!("eureka.server.use-read-only-response-cache" => no_effect parse_bool),
    bind!("eureka.server.response-cache-update-interval-ms" => no_effect parse_millis),
    bind!("eureka.server.response-cache-auto-expiration-in-seconds" => no_effect parse_secs),
    bind!("eureka.server.initial-capacity-of-response-cache" => no_effect parse_usize),
    bind!("eureka.dashboard.enabled" => dashboard_enabled: parse_bool, any),
    bind!("eureka.dashboard.path" => dashboard_path: parse_dashboard_path, any),
    bind!("eureka.environment" => environment: parse_text, any),
    bind!("eureka.datacenter" => datacenter: parse_text, any),
    bind!("logging.format" => log_format: parse_log_format, any),
    Binding {
        key: "server.ssl.enabled",
        apply: Apply::Scalar(|b, raw| set_optional(&mut b.config.ssl.enabled, raw, parse_bool)),
        check: |c| match (c.ssl.enabled, &c.ssl.certificate) {
            (Some(true), None) => reject(
                "true".to_string(),
                "false, or set server.ssl.certificate and server.ssl.certificate-private-key",
            ),
            _ => Ok(()),
        },
    },
    bind!("server.ssl.certificate" => optional ssl.certificate: parse_path, any),
    Binding {
        key: "server.ssl.certificate-private-key",
        apply: Apply::Scalar(|b, raw| {
            set_optional(&mut b.config.ssl.certificate_private_key, raw, parse_path)
        }),
        check: |c| {
            required_with(
                &c.ssl.certificate_private_key,
                &c.ssl.certificate,
                "a PEM private key file: server.ssl.certificate needs its key",
            )
        },
    },
    Binding {
        key: "server.ssl.trust-certificate",
        apply: Apply::Scalar(|b, raw| {
            set_optional(&mut b.config.ssl.trust_certificate, raw, parse_path)
        }),
        check: |c| match (c.ssl.client_auth, &c.ssl.trust_certificate) {
            (ClientAuth::Want | ClientAuth::Need, None) => reject(
                String::new(),
                "a PEM file of the CAs to verify client certificates with: \
                 server.ssl.client-auth is want or need",
            ),
            _ => Ok(()),
        },
    },
    bind!("server.ssl.client-auth" => ssl.client_auth: parse_client_auth, any),
    bind!("server.max-http-request-header-size"
        => limits.max_http_request_header_size: parse_data_size, header_size),
    bind!("server.max-connections" => limits.max_connections: parse_usize, positive_count),
    bind!("server.connection-timeout"
        => limits.connection_timeout: parse_duration, positive_millis),
    bind!("server.request-timeout" => limits.request_timeout: parse_duration, positive_millis),
    bind!("eureka.server.peer-tls.trust-certificate"
        => optional peer_tls.trust_certificate: parse_path, any),
    Binding {
        key: "eureka.server.peer-tls.certificate",
        apply: Apply::Scalar(|b, raw| {
            set_optional(&mut b.config.peer_tls.certificate, raw, parse_path)
        }),
        check: |c| {
            required_with(
                &c.peer_tls.certificate,
                &c.peer_tls.certificate_private_key,
                "a PEM certificate file: eureka.server.peer-tls.certificate-private-key \
                 needs its certificate",
            )
        },
    },
    Binding {
        key: "eureka.server.peer-tls.certificate-private-key",
        apply: Apply::Scalar(|b, raw| {
            set_optional(&mut b.config.peer_tls.certificate_private_key, raw, parse_path)
        }),
        check: |c| {
            required_with(
                &c.peer_tls.certificate_private_key,
                &c.peer_tls.certificate,
                "a PEM private key file: eureka.server.peer-tls.certificate needs its key",
            )
        },
    },
    Binding {
        key: "eureka.instance.appname",
        apply: Apply::Scalar(|b, raw| {
            if let Some(raw) = raw {
                b.config.instance.appname = raw.to_string();
                b.appname_set = true;
            }
            Ok(())
        }),
        check: |c| non_empty(&c.instance.appname),
    },
    Binding {
        key: SPRING_APPLICATION_NAME_KEY,
        apply: Apply::Scalar(|b, raw| {
            if let Some(raw) = raw {
                b.spring_application_name = Some(raw.to_string());
            }
            Ok(())
        }),
        check: |_| Ok(()),
    },
    bind!("eureka.instance.hostname" => optional instance.hostname: parse_text, any),
    bind!("eureka.instance.instance-id" => optional instance.instance_id: parse_text, any),
    bind!("eureka.instance.prefer-ip-address" => instance.prefer_ip_address: parse_bool, any),
    bind!("eureka.instance.ip-address" => optional instance.ip_address: parse_text, any),
    bind!("eureka.instance.lease-renewal-interval-in-seconds"
        => instance.lease_renewal_interval: parse_secs, positive_secs),
    bind!("eureka.instance.lease-expiration-duration-in-seconds"
        => instance.lease_expiration_duration: parse_secs, positive_secs),
    Binding {
        key: "eureka.instance.metadata-map.*",
        apply: Apply::Map(|b, key, raw| {
            // A metadata value may legitimately be empty; Spring binds it as "".
            b.config.instance.metadata.insert(key, raw.unwrap_or_default().to_string());
            Ok(())
        }),
        check: |_| Ok(()),
    },
    Binding {
        key: SERVICE_URL_KEY,
        apply: Apply::Map(|b, zone, raw| {
            let urls = match raw {
                Some(raw) => parse_url_list(raw)?,
                None => Vec::new(),
            };
            if urls.is_empty() {
                b.config.client.service_urls.remove(&zone);
            } else {
                b.config.client.service_urls.insert(zone, urls);
            }
            Ok(())
        }),
        check: |c| {
            for (zone, urls) in &c.client.service_urls {
                if let Some(bad) = urls.iter().find(|url| !is_http_url(url)) {
                    return Err(Rejected {
                        map_key: Some(zone.clone()),
                        value: bad.clone(),
                        expected: EXPECT_URL_LIST,
                    });
                }
            }
            Ok(())
        },
    },
    bind!("eureka.client.register-with-eureka" => client.register_with_eureka: parse_bool, any),
    bind!("eureka.client.fetch-registry" => client.fetch_registry: parse_bool, any),
    bind!("eureka.client.region" => client.region: parse_text, any),
    Binding {
        key: "eureka.security.enabled",
        apply: Apply::Scalar(|b, raw| set(&mut b.config.security.enabled, raw, parse_bool)),
        check: |c| {
            if c.security.enabled && c.security.users.is_empty() {
                return reject(
                    "true".to_string(),
                    "at least one user (eureka.security.users.<name>.password and .roles, or \
                     spring.security.user.password) when security is enabled",
                );
            }
            Ok(())
        },
    },
    bind!("eureka.security.anonymous-read" => security.anonymous_read: parse_bool, any),
    bind!("eureka.security.protect-metrics" => security.protect_metrics: parse_bool, any),
    Binding {
        key: USERS_KEY,
        apply: Apply::Map(set_user_field),
        check: |c| {
            for (name, user) in &c.security.users {
                if user.password.is_none() {
                    return Err(Rejected {
                        map_key: Some(format!("{name}.password")),
                        value: String::new(),
                        expected: "a password for the user (plain, {noop}, {bcrypt} or {argon2})",
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
    },
    Binding {
        key: SPRING_USER_NAME_KEY,
        apply: Apply::Scalar(|b, raw| set_optional(&mut b.spring_user.0, raw, parse_user_name)),
        check: |_| Ok(()),
    },
    Binding {
        key: SPRING_USER_PASSWORD_KEY,
        apply: Apply::Scalar(|b, raw| set_optional(&mut b.spring_user.1, raw, Password::parse)),
        check: |_| Ok(()),
    },
    Binding {
        key: SPRING_USER_ROLES_KEY,
        apply: Apply::Scalar(|b, raw| set_optional(&mut b.spring_user.2, raw, parse_roles)),
        check: |_| Ok(()),
    },
    bind!("eureka.server.peer-username" => optional peer_username: parse_text, any),
    bind!("eureka.server.peer-password" => optional peer_password: parse_secret, any),
];

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

/// Whether a key's values are secret: passwords are never echoed in errors.
pub(super) fn is_secret(binding: &Binding, map_key: Option<&str>) -> bool {
    SECRET_KEYS.contains(&binding.key)
        || (binding.key == USERS_KEY
            && map_key
                .and_then(|k| k.rsplit_once('.'))
                .is_some_and(|(_, field)| canonical_segment(field) == "password"))
}

/// The canonical kebab-case keys this server reads (map keys shown as `prefix.*`), e.g. to check
/// the README table.
pub const KNOWN_KEYS: &[&str] = &{
    let mut keys = [""; BINDINGS.len()];
    let mut i = 0;
    while i < keys.len() {
        keys[i] = BINDINGS[i].key;
        i += 1;
    }
    keys
};

/// Spring Cloud Netflix keys (§6) we recognise but do not use: a warning says so instead of
/// "unknown key".
pub(super) const UNUSED_SPRING_KEYS: &[&str] = &[
    "eureka.instance.registry.*",
    "eureka.server.expected-number-of-renews-per-min",
    "eureka.instance.non-secure-port",
    "eureka.instance.secure-port",
    "eureka.instance.non-secure-port-enabled",
    "eureka.instance.secure-port-enabled",
    "eureka.instance.virtual-host-name",
    "eureka.instance.secure-virtual-host-name",
    "eureka.instance.status-page-url-path",
    "eureka.instance.health-check-url-path",
    "eureka.instance.home-page-url-path",
    "eureka.instance.instance-enabled-onit",
    "eureka.instance.initial-status",
    "eureka.client.registry-fetch-interval-seconds",
    "eureka.client.initial-instance-info-replication-interval-seconds",
    "eureka.client.healthcheck.*",
    "eureka.client.filter-only-up-instances",
    "eureka.client.prefer-same-zone-eureka",
    "eureka.client.availability-zones.*",
    "eureka.client.disable-delta",
    "eureka.client.on-demand-update-status-change",
    "eureka.client.should-unregister-on-shutdown",
    "eureka.client.fetch-remote-regions-registry",
    "eureka.client.client-data-accept",
    "eureka.client.enabled",
    "eureka.client.refresh.*",
];

/// Top-level namespaces whose unknown keys deserve a warning (others belong to someone else).
pub(super) const WARNED_NAMESPACES: &[&str] = &["eureka", "server"];

/// Sets a field from a present value; an absent one keeps the lower source's value.
fn set<T>(
    slot: &mut T,
    raw: Option<&str>,
    parse: fn(&str) -> Result<T, &'static str>,
) -> Result<(), &'static str> {
    if let Some(raw) = raw {
        *slot = parse(raw)?;
    }
    Ok(())
}

/// Sets an optional field; an absent value clears it.
fn set_optional<T>(
    slot: &mut Option<T>,
    raw: Option<&str>,
    parse: fn(&str) -> Result<T, &'static str>,
) -> Result<(), &'static str> {
    *slot = raw.map(parse).transpose()?;
    Ok(())
}
