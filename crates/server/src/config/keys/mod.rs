//! The key table: one row per key, shared by file, environment and overrides, and the single
//! source of the settings reference (`eureka-server config keys`, the README's table).
//!
//! A row holds the key's canonical kebab-case name, how a raw value is applied, how the result
//! is range-checked, how the effective value is shown, its type, its Spring counterpart and
//! its description. Rows are grouped by concern, one file per group (the reference's
//! sections, in [`GROUPS`] order); [`BINDINGS`] is every group's rows in one flat table, which
//! lookup and validation walk. Also here: the keys we recognise without binding, and which
//! values are secret.
//!
//! Adding a key: a field in `settings/` with its default in `defaults.rs`, then one row in the
//! group file of its concern: `bind!("eureka.x.y" => field.path: KIND, check; Same, "What it
//! does.")`, with `KIND` from `kinds.rs` (it gives the parser, the type name and how the value
//! is shown, so the reference's default comes from the defaults and cannot drift), `check`
//! from `check.rs` (`any` when every parsed value is fine), and `Same`, `Renamed("spring.key")`
//! or `Ours` for the Spring counterpart. Then regenerate the README's table (see
//! [`super::reference`]). A new concern gets its own group file, listed in [`GROUPS`].

use crate::security::Password;

use super::check::Rejected;
use super::draft::Draft;
use super::names::canonical_segment;
use super::settings::ServerConfig;

mod console;
mod dns;
mod health;
mod instance;
mod listener;
mod regions;
mod registry;
mod replication;
mod security;

pub(super) use instance::SPRING_APPLICATION_NAME_KEY;
pub(super) use replication::SERVICE_URL_KEY;
pub(super) use security::{SPRING_USER_NAME_KEY, SPRING_USER_PASSWORD_KEY, SPRING_USER_ROLES_KEY};

type ScalarSetter = fn(&mut Draft, Option<&str>) -> Result<(), &'static str>;
type MapSetter = fn(&mut Draft, String, Option<&str>) -> Result<(), &'static str>;
type Check = fn(&ServerConfig) -> Result<(), Rejected>;
type ShowFn = fn(&ServerConfig) -> Shown;

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

/// A key's value in a configuration, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shown {
    /// The value held in the configuration.
    Value(String),
    /// An optional setting that is not set.
    Unset,
    /// A map key's entries, as (map key, value).
    Entries(Vec<(String, String)>),
    /// Not held as such (it feeds another key, or has no effect): shown as it was written.
    AsWritten,
}

/// A key's counterpart in Spring Boot or Spring Cloud Netflix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Spring {
    /// The same key, with the same meaning (the description says where a default differs).
    Same,
    /// Spring's key for the same setting has another name.
    Renamed(&'static str),
    /// No Spring counterpart: ours alone.
    Ours,
}

/// One configuration key: how to set it, check it, show it and describe it.
#[derive(Clone, Copy)]
pub(super) struct Binding {
    /// Canonical key; map rows end with `.*`.
    pub(super) key: &'static str,
    /// How a raw value is applied.
    pub(super) apply: Apply,
    /// Range check run by [`ServerConfig::validate`].
    pub(super) check: Check,
    /// The key's value in a configuration (the reference's default: in the defaults).
    pub(super) show: ShowFn,
    /// The type as the reference names it.
    pub(super) ty: &'static str,
    /// The Spring counterpart.
    pub(super) spring: Spring,
    /// What the key does, for the reference: a sentence or two, Markdown inline code allowed.
    pub(super) doc: &'static str,
}

impl Binding {
    /// The key without the `.*` of map rows.
    pub(super) fn base(&self) -> &'static str {
        self.key.strip_suffix(".*").unwrap_or(self.key)
    }
}

/// The rows of one concern: a section of the reference.
pub(super) struct Group {
    /// The section title.
    pub(super) title: &'static str,
    /// The rows, in reference order.
    pub(super) rows: &'static [Binding],
}

/// A row for a plain field: `bind!("key" => field.path: KIND, check; spring, "doc")`;
/// `optional` for `Option` fields; `no_effect KIND` for keys accepted for compatibility only.
macro_rules! bind {
    ($key:literal => optional $($field:ident).+ : $kind:path, $check:path;
     $spring:expr, $doc:expr) => {
        $crate::config::keys::Binding {
            key: $key,
            apply: $crate::config::keys::Apply::Scalar(|b, raw| {
                $crate::config::keys::set_optional(&mut b.config.$($field).+, raw, $kind.parse)
            }),
            check: |c| $check(&c.$($field).+),
            show: |c| match &c.$($field).+ {
                Some(value) => $crate::config::keys::Shown::Value(($kind.show)(value)),
                None => $crate::config::keys::Shown::Unset,
            },
            ty: $kind.ty,
            spring: $spring,
            doc: $doc,
        }
    };
    ($key:literal => no_effect $kind:path; $spring:expr, $doc:expr) => {
        $crate::config::keys::Binding {
            key: $key,
            apply: $crate::config::keys::Apply::NoEffect(|raw| ($kind.parse)(raw).map(|_| ())),
            check: |_| Ok(()),
            show: |_| $crate::config::keys::Shown::AsWritten,
            ty: $kind.ty,
            spring: $spring,
            doc: $doc,
        }
    };
    ($key:literal => $($field:ident).+ : $kind:path, $check:path; $spring:expr, $doc:expr) => {
        $crate::config::keys::Binding {
            key: $key,
            apply: $crate::config::keys::Apply::Scalar(|b, raw| {
                $crate::config::keys::set(&mut b.config.$($field).+, raw, $kind.parse)
            }),
            check: |c| $check(&c.$($field).+),
            show: |c| $crate::config::keys::Shown::Value(($kind.show)(&c.$($field).+)),
            ty: $kind.ty,
            spring: $spring,
            doc: $doc,
        }
    };
}
use bind;

/// Every group, in reference order.
pub(super) const GROUPS: &[Group] = &[
    listener::GROUP,
    registry::GROUP,
    replication::GROUP,
    regions::GROUP,
    instance::GROUP,
    security::GROUP,
    health::GROUP,
    console::GROUP,
    dns::GROUP,
];

/// Every key we bind: the groups' rows in one table, in reference order.
pub(super) const BINDINGS: &[Binding] = &flatten::<{ row_count(GROUPS) }>(GROUPS);

const fn row_count(groups: &[Group]) -> usize {
    let mut n = 0;
    let mut g = 0;
    while g < groups.len() {
        n += groups[g].rows.len();
        g += 1;
    }
    n
}

const fn flatten<const N: usize>(groups: &[Group]) -> [Binding; N] {
    let mut rows = [groups[0].rows[0]; N];
    let (mut g, mut n) = (0, 0);
    while g < groups.len() {
        let mut r = 0;
        while r < groups[g].rows.len() {
            rows[n] = groups[g].rows[r];
            (r, n) = (r + 1, n + 1);
        }
        g += 1;
    }
    rows
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

/// Keys whose values are never echoed in errors or shown.
const SECRET_KEYS: &[&str] = &["eureka.server.peer-password", SPRING_USER_PASSWORD_KEY];

/// Whether a key's values are secret: passwords are never echoed in errors.
pub(super) fn is_secret(binding: &Binding, map_key: Option<&str>) -> bool {
    SECRET_KEYS.contains(&binding.key)
        || (binding.key == security::USERS_KEY
            && map_key
                .and_then(|k| k.rsplit_once('.'))
                .is_some_and(|(_, field)| canonical_segment(field) == "password"))
}

/// Spring Cloud Netflix keys (§6) we recognise but do not use: a warning says so instead of
/// "unknown key".
pub(super) const UNUSED_SPRING_KEYS: &[&str] = &[
    // Remote regions use the peers' TLS settings and their own connection pool per region.
    "eureka.server.remote-region-trust-store",
    "eureka.server.remote-region-trust-store-password",
    "eureka.server.remote-region-total-connections",
    "eureka.server.remote-region-total-connections-per-host",
    "eureka.server.remote-region-connection-idle-timeout-seconds",
    "eureka.server.remote-region-fetch-thread-pool-size",
    "eureka.server.g-zip-content-from-remote-region",
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

/// Shows an optional value with `show`, or [`Shown::Unset`].
fn show_optional<T>(value: &Option<T>, show: fn(&T) -> String) -> Shown {
    value.as_ref().map_or(Shown::Unset, |v| Shown::Value(show(v)))
}

/// A password as `config show` prints it.
fn show_password(_: &Password) -> String {
    super::kinds::REDACTED.to_string()
}
