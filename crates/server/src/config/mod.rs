//! Server configuration: typed, validated settings, loaded once at start-up.
//!
//! Sources, lowest precedence first: the embedded defaults ([`ServerConfig::default`], named
//! constants in [`defaults`]) < a Spring Boot style file (`application.yml`, `.yaml` or
//! `.properties`) < environment variables (Spring relaxed binding) < explicit overrides (the
//! command-line flags, as dotted keys). Every source goes through one code path: a key as
//! written and its raw text are looked up in one binding table (its keys are [`KNOWN_KEYS`]),
//! parsed into the typed field, and range-checked by [`ServerConfig::validate`].
//!
//! Key matching follows Spring's relaxed binding: each dotted segment is compared lower-cased
//! with `-` and `_` removed, so `enableSelfPreservation`, `enable-self-preservation` and
//! `enable_self_preservation` are one key; map keys (after `metadata-map.` and `service-url.`)
//! keep their exact text. Environment variables match when upper-cased with `_`, `.` and `-`
//! removed (`EUREKA_SERVER_ENABLE_SELF_PRESERVATION`). An empty or null value means "unset":
//! an optional field becomes `None`, any other field keeps the value from a lower source.
//! Values of our keys may use Spring placeholders, `${name}` or `${name:default}`, looked up in
//! the overrides, then the environment, then the file; unlike Spring, which leaves an
//! unresolvable placeholder as literal text, we refuse it ([`ConfigError::Placeholder`]).
//!
//! Property names and defaults: `eureka-protocol.md` §4.15 and §6 ("Property names").
//!
//! Layout, each file depending only on those listed before it (except that a default may be
//! one of the settings' enums):
//! - [`defaults`]: the named default constants; `settings/`: the typed settings, one struct
//!   per concern, with their `Default`s; `error.rs`: [`ConfigError`], [`Origin`] and
//!   [`Provenance`].
//! - `names.rs`: relaxed-binding key forms; `parse.rs`: raw text to typed values;
//!   `kinds.rs`: each kind of value's parser, display form and type name together;
//!   `check.rs`: range checks of single values; `draft.rs`: the configuration under
//!   construction that setters write to.
//! - `keys/`: the key table, one file per concern (one row per key: setter, check, display,
//!   type, Spring counterpart, description), assembled into one flat table; `lookup.rs`: which
//!   row a written key or environment variable binds to; `validate.rs`: the whole-configuration
//!   checks ([`ServerConfig::validate`], [`ServerConfig::validate_all`]) and advisories.
//! - `source/`: the YAML and `.properties` readers; `placeholder.rs`: `${…}` resolution;
//!   `binder.rs`: applies file, environment and overrides in order, recording where each
//!   value came from and collecting every problem; this file: the entry points,
//!   [`ServerConfig::load`], [`ServerConfig::check`] and [`ServerConfig::load_text`].
//! - `reference.rs`: the settings reference generated from the key table
//!   (`eureka-server config keys`, the README's table); `effective.rs`: the effective values
//!   with their sources (`eureka-server config show`).
//!
//! Adding a key: see `keys/mod.rs` (and ARCHITECTURE.md, "Life of a setting").

use std::collections::BTreeMap;
use std::path::Path;

use binder::Binder;
use placeholder::Resolver;
use source::{parse_file_text, profile_condition, read_file, Entry};

mod binder;
mod check;
pub mod defaults;
pub mod discovery;
mod draft;
mod effective;
mod error;
mod keys;
mod kinds;
mod lookup;
mod names;
mod parse;
mod placeholder;
mod reference;
mod settings;
mod source;
#[cfg(test)]
mod tests;
mod validate;

pub use discovery::PeerDiscovery;
pub use effective::{effective, render_effective, EffectiveValue};
pub use error::{ConfigError, Origin, Provenance};
pub use keys::KNOWN_KEYS;
pub use reference::{
    reference, render_reference, splice_readme, KeyDoc, ReferenceFormat, README_BEGIN, README_END,
};
pub use settings::{
    ClientAuth, ClientSettings, DnsSettings, HealthCheckMode, HealthCheckSettings,
    InstanceSettings, Limits, LogFormat, PeerTlsSettings, RateLimiterSettings,
    RemoteRegionSettings, ServerConfig, SslSettings,
};
pub use source::FileSyntax;

/// Where the configuration comes from; tests fill `env` from a list, never the process.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources<'a> {
    /// A Spring Boot style file (`.yml`, `.yaml` or `.properties`), if any.
    pub file: Option<&'a Path>,
    /// Environment variables as (name, value); only `EUREKA_*`, `SERVER_*`, `LOGGING_*` and
    /// `SPRING_APPLICATION_NAME` bind keys, but any may be named by a `${NAME}` placeholder.
    pub env: Vec<(String, String)>,
    /// Explicit overrides from command-line flags as (dotted key, value), applied in order, highest
    /// precedence.
    pub overrides: Vec<(String, String)>,
}

/// The outcome of [`ServerConfig::load`]: the configuration and the warnings to log.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated configuration.
    pub config: ServerConfig,
    /// Human-readable warnings, e.g. "unknown key 'eureka.server.foo' in /etc/application.yml".
    pub warnings: Vec<String>,
    /// Where each value that a source set came from, by canonical key (map keys as
    /// `prefix.<key>`); keys left at their defaults are absent.
    pub sources: BTreeMap<String, Provenance>,
}

/// The outcome of [`ServerConfig::check`]: the configuration as far as it could be bound, and
/// every problem found (not only the first, as [`ServerConfig::load`] reports).
#[derive(Debug)]
pub struct Checked {
    /// The configuration as bound: a value that failed keeps the lower source's (or the
    /// default); unvalidated when `errors` is not empty.
    pub loaded: Loaded,
    /// Every problem, in the order found: files, then values by source precedence, then
    /// range checks in key-table order.
    pub errors: Vec<ConfigError>,
}

impl Checked {
    /// The configuration, or the first problem.
    fn into_result(self) -> Result<Loaded, ConfigError> {
        match self.errors.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(self.loaded),
        }
    }
}

impl ServerConfig {
    /// Loads defaults < file < environment < overrides, validates, and collects warnings; the
    /// first problem is the error.
    pub fn load(sources: ConfigSources<'_>) -> Result<Loaded, ConfigError> {
        Self::check(sources).into_result()
    }

    /// Loads as [`Self::load`] does, but goes on past problems to list them all: an unreadable
    /// file is one problem and the environment and overrides are still checked.
    pub fn check(sources: ConfigSources<'_>) -> Checked {
        let documents = match sources.file {
            Some(path) => read_file(path),
            None => Ok(Vec::new()),
        };
        Self::bind_documents(sources, documents)
    }

    /// Loads the text of a configuration file in `syntax` over the defaults, as [`Self::load`]
    /// does with a file; `name` stands for the file in messages. No file system access: for
    /// tests and the fuzz target of the parsers.
    pub fn load_text(syntax: FileSyntax, name: &Path, text: &str) -> Result<Loaded, ConfigError> {
        let documents = parse_file_text(syntax, text)
            .map_err(|detail| ConfigError::Parse { path: name.to_path_buf(), detail });
        Self::bind_documents(
            ConfigSources { file: Some(name), ..ConfigSources::default() },
            documents,
        )
        .into_result()
    }

    /// Binds the file's documents (from `sources.file`, or why they could not be read), then
    /// environment and overrides.
    fn bind_documents(
        sources: ConfigSources<'_>,
        documents: Result<Vec<Vec<Entry>>, ConfigError>,
    ) -> Checked {
        let mut file_entries = Vec::new();
        let mut warnings = Vec::new();
        let (documents, file_error) = match documents {
            Ok(documents) => (documents, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        if let Some(path) = sources.file {
            for document in documents {
                match profile_condition(&document) {
                    Some(condition) => warnings.push(format!(
                        "skipped a document in {} that only applies when {condition}: \
                         profiles are not supported",
                        path.display()
                    )),
                    None => file_entries.extend(document),
                }
            }
        }
        let resolver =
            Resolver { file: &file_entries, env: &sources.env, overrides: &sources.overrides };
        let mut binder = Binder::new(resolver, warnings);
        if let Some(e) = file_error {
            binder.error(e);
        }
        if let Some(path) = sources.file {
            let origin = Origin::File(path.to_path_buf());
            for (key, value) in &file_entries {
                binder.apply_key(key, value.as_deref(), &origin);
            }
        }
        binder.apply_env(&sources.env);
        for (key, value) in &sources.overrides {
            binder.apply_key(key, Some(value), &Origin::Override);
        }
        binder.finish()
    }
}
