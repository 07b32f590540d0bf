//! The effective configuration, key by key, with where each value came from: what
//! `eureka-server config show` prints. Secrets are masked (passwords, and the password of
//! a `user:password@` in peer URLs).

use serde::Serialize;

use super::error::{Origin, Provenance};
use super::keys::{Apply, Binding, Shown, BINDINGS};
use super::kinds::mask_url;
use super::settings::ServerConfig;
use super::Loaded;

/// One key's effective value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveValue {
    /// The canonical key (a map key with its entry, e.g. `eureka.client.service-url.defaultZone`).
    pub key: String,
    /// The value in effect, as it could be written; empty when unset.
    pub value: String,
    /// Where it came from: `default`, a file path, `environment` or `command line`;
    /// `derived` when another key set it (e.g. `spring.application.name`).
    pub source: String,
    /// The key or variable as written in that source, when it differs from `key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<String>,
}

impl EffectiveValue {
    /// Whether a source other than the defaults set the value.
    pub fn is_set(&self) -> bool {
        self.source != "default"
    }
}

/// Every key's value in `loaded`, in key-table order; map keys one line per entry.
pub fn effective(loaded: &Loaded) -> Vec<EffectiveValue> {
    let defaults = ServerConfig::default();
    let mut out = Vec::new();
    for row in BINDINGS {
        match (row.show)(&loaded.config) {
            Shown::Value(value) => {
                let default = match (row.show)(&defaults) {
                    Shown::Value(default) => default == value,
                    _ => false,
                };
                out.push(line(loaded, row.key, value, default));
            }
            Shown::Unset => out.push(line(loaded, row.key, String::new(), true)),
            Shown::Entries(entries) if entries.is_empty() => {
                out.push(line(loaded, row.key, String::new(), true));
            }
            Shown::Entries(entries) => {
                for (map_key, value) in entries {
                    let key = format!("{}.{map_key}", row.base());
                    out.push(line(loaded, &key, value, false));
                }
            }
            Shown::AsWritten => out.push(as_written(loaded, row)),
        }
    }
    out
}

/// `effective` as aligned text: key, value, source.
pub fn render_effective(values: &[EffectiveValue]) -> String {
    let key_width = values.iter().map(|v| v.key.len()).max().unwrap_or(0);
    let value_width = values.iter().map(|v| shown_value(v).chars().count()).max().unwrap_or(0);
    let value_width = value_width.min(40);
    let mut out = String::new();
    for v in values {
        let source = match &v.written {
            Some(written) => format!("{} ({written})", v.source),
            None => v.source.clone(),
        };
        let line = format!("{:key_width$}  {:value_width$}  {source}", v.key, shown_value(v));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn shown_value(v: &EffectiveValue) -> String {
    if v.value.is_empty() {
        "(unset)".to_string()
    } else {
        v.value.clone()
    }
}

/// A line for a key the configuration holds; `default` when the value is the default's.
fn line(loaded: &Loaded, key: &str, value: String, default: bool) -> EffectiveValue {
    match loaded.sources.get(key) {
        Some(provenance) => from_provenance(key, value, provenance),
        None => EffectiveValue {
            key: key.to_string(),
            value,
            source: if default { "default" } else { "derived" }.to_string(),
            written: None,
        },
    }
}

/// A line for a key that is not held as such: its value as written, if a source set it.
fn as_written(loaded: &Loaded, row: &Binding) -> EffectiveValue {
    match loaded.sources.get(row.key) {
        Some(provenance) => {
            let mut value = mask_url(&provenance.value);
            if matches!(row.apply, Apply::NoEffect(_)) && !value.is_empty() {
                value.push_str(" (no effect)");
            }
            from_provenance(row.key, value, provenance)
        }
        None => EffectiveValue {
            key: row.key.to_string(),
            value: String::new(),
            source: "default".to_string(),
            written: None,
        },
    }
}

fn from_provenance(key: &str, value: String, provenance: &Provenance) -> EffectiveValue {
    let source = match &provenance.origin {
        Origin::File(path) => path.display().to_string(),
        Origin::Environment => "environment".to_string(),
        Origin::Override => "command line".to_string(),
        Origin::Resolved => "derived".to_string(),
    };
    let written = Some(provenance.written.clone()).filter(|w| w != key);
    EffectiveValue { key: key.to_string(), value, source, written }
}
