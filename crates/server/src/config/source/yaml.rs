//! YAML files (possibly several `---` documents), flattened to dotted keys.

use serde::Deserialize;
use serde_norway::Value;

use super::Entry;

/// Parses YAML text (possibly several `---` documents) into flattened entries.
pub(in crate::config) fn parse_yaml(text: &str) -> Result<Vec<Vec<Entry>>, String> {
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| e.to_string())?;
        let mut entries = Vec::new();
        match value {
            Value::Null => {}
            Value::Mapping(_) => flatten("", &value, &mut entries)?,
            _ => return Err("a document must be a mapping of keys to values".to_string()),
        }
        documents.push(entries);
    }
    Ok(documents)
}

/// A YAML scalar as text; `None` for null, sequences and mappings.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Tagged(tagged) => scalar_text(&tagged.value),
        Value::Null | Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

/// Flattens nested mappings to dotted keys; scalar sequences become comma-joined strings.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<Entry>) -> Result<(), String> {
    match value {
        Value::Mapping(map) => {
            if map.is_empty() && !prefix.is_empty() {
                out.push((prefix.to_string(), None));
            }
            for (key, value) in map {
                let key = scalar_text(key).ok_or_else(|| {
                    format!("a key under '{prefix}' is not a plain string or number")
                })?;
                let full = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
                flatten(&full, value, out)?;
            }
        }
        Value::Sequence(items) => {
            let scalars: Option<Vec<String>> = items.iter().map(scalar_text).collect();
            match scalars {
                Some(scalars) => out.push((prefix.to_string(), Some(scalars.join(",")))),
                None => {
                    for (i, item) in items.iter().enumerate() {
                        flatten(&format!("{prefix}[{i}]"), item, out)?;
                    }
                }
            }
        }
        Value::Tagged(tagged) => flatten(prefix, &tagged.value, out)?,
        Value::Null => out.push((prefix.to_string(), None)),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            out.push((prefix.to_string(), scalar_text(value)));
        }
    }
    Ok(())
}
