//! Key names under Spring's relaxed binding: dotted segments, their canonical (lower-cased,
//! `-`/`_`-free) forms, map keys, and the form environment variables spell keys in.

/// Splits a dotted key into segments; `[...]` is one segment (Spring's map-key brackets).
pub(super) fn split_key(key: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in key.char_indices() {
        match c {
            '[' if depth == 0 => {
                if i > start {
                    segments.push(&key[start..i]);
                }
                start = i;
                depth = 1;
            }
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                segments.push(&key[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(&key[start..]);
    segments
}

/// One segment compared Spring's way: lower-cased, without '-' and '_'.
pub(super) fn canonical_segment(segment: &str) -> String {
    segment.chars().filter(|c| *c != '-' && *c != '_').flat_map(char::to_lowercase).collect()
}

pub(super) fn canonical_segments(key: &str) -> Vec<String> {
    split_key(key).into_iter().map(canonical_segment).collect()
}

/// The map key from the segments after a map prefix, brackets removed, case kept.
pub(super) fn map_key(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s))
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether canonical segments match a pattern key (`prefix.*` matches anything below prefix).
pub(super) fn matches_pattern(canonical: &[String], pattern: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => {
            let prefix = canonical_segments(prefix);
            canonical.len() > prefix.len() && canonical[..prefix.len()] == prefix[..]
        }
        None => canonical == canonical_segments(pattern).as_slice(),
    }
}

/// A key as environment variables spell it: upper-cased, without '_', '.' and '-'.
pub(super) fn env_form(key: &str) -> String {
    key.chars().filter(|c| !matches!(c, '_' | '.' | '-')).flat_map(char::to_uppercase).collect()
}
