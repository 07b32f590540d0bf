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
//!   per concern, with their `Default`s; `error.rs`: [`ConfigError`] and [`Origin`].
//! - `names.rs`: relaxed-binding key forms; `parse.rs`: raw text to typed values;
//!   `check.rs`: range checks of single values; `draft.rs`: the configuration under
//!   construction that setters write to.
//! - `keys.rs`: the binding table (one row per key: setter and check); `lookup.rs`: which row
//!   a written key or environment variable binds to; `validate.rs`: the whole-configuration
//!   checks ([`ServerConfig::validate`]) and advisories.
//! - `source/`: the YAML and `.properties` readers; `placeholder.rs`: `${…}` resolution;
//!   `binder.rs`: applies file, environment and overrides in order; this file: the entry
//!   points, [`ServerConfig::load`] and [`ServerConfig::load_text`].

use std::path::Path;

use binder::Binder;
use placeholder::Resolver;
use source::{parse_file_text, profile_condition, read_file, Entry};

mod binder;
mod check;
pub mod defaults;
pub mod discovery;
mod draft;
mod error;
mod keys;
mod lookup;
mod names;
mod parse;
mod placeholder;
mod settings;
mod source;
#[cfg(test)]
mod tests;
mod validate;

pub use discovery::PeerDiscovery;
pub use error::{ConfigError, Origin};
pub use keys::KNOWN_KEYS;
pub use settings::{
    ClientAuth, ClientSettings, InstanceSettings, Limits, LogFormat, PeerTlsSettings, ServerConfig,
    SslSettings,
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
}

impl ServerConfig {
    /// Loads defaults < file < environment < overrides, validates, and collects warnings.
    pub fn load(sources: ConfigSources<'_>) -> Result<Loaded, ConfigError> {
        let documents = match sources.file {
            Some(path) => read_file(path)?,
            None => Vec::new(),
        };
        Self::load_documents(sources, documents)
    }

    /// Loads the text of a configuration file in `syntax` over the defaults, as [`Self::load`]
    /// does with a file; `name` stands for the file in messages. No file system access: for
    /// tests and the fuzz target of the parsers.
    pub fn load_text(syntax: FileSyntax, name: &Path, text: &str) -> Result<Loaded, ConfigError> {
        let documents = parse_file_text(syntax, text)
            .map_err(|detail| ConfigError::Parse { path: name.to_path_buf(), detail })?;
        Self::load_documents(
            ConfigSources { file: Some(name), ..ConfigSources::default() },
            documents,
        )
    }

    /// Binds already parsed file documents (from `sources.file`), then environment and
    /// overrides.
    fn load_documents(
        sources: ConfigSources<'_>,
        documents: Vec<Vec<Entry>>,
    ) -> Result<Loaded, ConfigError> {
        let mut file_entries = Vec::new();
        let mut warnings = Vec::new();
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
        if let Some(path) = sources.file {
            let origin = Origin::File(path.to_path_buf());
            for (key, value) in &file_entries {
                binder.apply_key(key, value.as_deref(), &origin)?;
            }
        }
        binder.apply_env(&sources.env)?;
        for (key, value) in &sources.overrides {
            binder.apply_key(key, Some(value), &Origin::Override)?;
        }
        let (config, warnings) = binder.finish()?;
        Ok(Loaded { config, warnings })
    }
}
