//! Configuration files: YAML and `.properties`, both read as documents of (dotted key, value)
//! entries.

use std::path::Path;

use super::error::ConfigError;
use super::names::{canonical_segments, matches_pattern};

mod properties;
mod yaml;

pub(super) use properties::parse_properties;
pub(super) use yaml::parse_yaml;

/// A flattened (dotted key, value) pair; `None` is null or empty.
pub(super) type Entry = (String, Option<String>);

/// The syntax of a configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSyntax {
    /// YAML (`.yml`, `.yaml`), possibly several `---` documents.
    Yaml,
    /// Java `.properties`, possibly several `#---` documents.
    Properties,
}

/// Reads a file into documents of entries, by extension.
pub(super) fn read_file(path: &Path) -> Result<Vec<Vec<Entry>>, ConfigError> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let syntax = match extension.as_deref() {
        Some("yml" | "yaml") => FileSyntax::Yaml,
        Some("properties") => FileSyntax::Properties,
        _ => return Err(ConfigError::UnsupportedFormat { path: path.to_path_buf() }),
    };
    let bytes = std::fs::read(path)
        .map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
    let parse_error = |detail: String| ConfigError::Parse { path: path.to_path_buf(), detail };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) if syntax == FileSyntax::Yaml => {
            return Err(parse_error("the file is not valid UTF-8".to_string()))
        }
        // Java reads .properties as ISO-8859-1; accept that when the file is not UTF-8.
        Err(e) => e.into_bytes().into_iter().map(char::from).collect(),
    };
    parse_file_text(syntax, &text).map_err(parse_error)
}

/// Parses file text into documents of entries.
pub(super) fn parse_file_text(syntax: FileSyntax, text: &str) -> Result<Vec<Vec<Entry>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match syntax {
        FileSyntax::Yaml => parse_yaml(text),
        FileSyntax::Properties => parse_properties(text),
    }
}

/// The profile condition of a document (`spring.config.activate.*`, legacy `spring.profiles`), if
/// any.
pub(super) fn profile_condition(document: &[Entry]) -> Option<String> {
    document.iter().find_map(|(key, value)| {
        let canonical = canonical_segments(key);
        let conditional = matches_pattern(&canonical, "spring.config.activate.*")
            || matches_pattern(&canonical, "spring.profiles");
        match value {
            Some(value) if conditional => Some(format!("{key} is '{value}'")),
            _ => None,
        }
    })
}
