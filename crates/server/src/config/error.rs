//! Why loading failed ([`ConfigError`]), which source a value came from ([`Origin`]) and
//! where exactly ([`Provenance`]).

use std::fmt;
use std::path::PathBuf;

/// Which source a value came from, so errors and warnings can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The configuration file at this path.
    File(PathBuf),
    /// The environment variables.
    Environment,
    /// The explicit overrides (command-line flags).
    Override,
    /// The final configuration, when [`ServerConfig::validate`] cannot tell where a value
    /// came from.
    ///
    /// [`ServerConfig::validate`]: super::ServerConfig::validate
    Resolved,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Environment => f.write_str("the environment"),
            Origin::Override => f.write_str("the command-line overrides"),
            Origin::Resolved => f.write_str("the resolved configuration"),
        }
    }
}

/// Where the value of a key came from, as `config show` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The key as written there: a file key, an environment variable or an override key.
    pub written: String,
    /// The value as written, after placeholders; `(redacted)` for secrets.
    pub value: String,
    /// The source.
    pub origin: Origin,
}

/// Why the configuration could not be loaded; each message names the file or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read configuration file {}: {source}", .path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The configuration file is not valid YAML or `.properties` text.
    #[error("cannot parse configuration file {}: {detail}", .path.display())]
    Parse {
        /// The file that could not be parsed.
        path: PathBuf,
        /// What is wrong, with a line number where known.
        detail: String,
    },
    /// The configuration file's extension is none of `.yml`, `.yaml`, `.properties`.
    #[error(
        "configuration file {} has an unsupported extension: expected .yml, .yaml or .properties",
        .path.display()
    )]
    UnsupportedFormat {
        /// The file with the unsupported extension.
        path: PathBuf,
    },
    /// A `${name}` placeholder in a value names no property and has no `:default`.
    #[error("cannot resolve placeholder '{placeholder}' in the value of {key} in {origin}")]
    Placeholder {
        /// The key as written in its source.
        key: String,
        /// The placeholder that could not be resolved, e.g. `${peer.url}`.
        placeholder: String,
        /// The source the value came from.
        origin: Origin,
    },
    /// A value does not parse or is out of range.
    #[error("invalid value '{value}' for {key} in {origin}: expected {expected}")]
    InvalidValue {
        /// The key as written in its source (file key, environment variable name or flag key).
        key: String,
        /// The offending value as written (after placeholder resolution).
        value: String,
        /// What would have been accepted.
        expected: &'static str,
        /// The source the value came from.
        origin: Origin,
    },
}
