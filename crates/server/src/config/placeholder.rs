//! Spring placeholders in values: `${name}` and `${name:default}`, looked up in the overrides,
//! then the environment, then the file.

use super::names::canonical_segments;
use super::source::Entry;

/// How deep placeholders may nest or refer to each other before we call it a cycle.
const MAX_PLACEHOLDER_DEPTH: usize = 16;
/// How many placeholders one value may expand in total, so a crafted file cannot hang us.
const MAX_PLACEHOLDER_EXPANSIONS: usize = 1_000;

/// Looks placeholder names up in every source, highest precedence first, as Spring does.
#[derive(Clone, Copy)]
pub(super) struct Resolver<'a> {
    /// The file's entries (profile documents already dropped); the last one wins.
    pub(super) file: &'a [Entry],
    /// All environment variables, not only ours: `${HOSTNAME}` is fair game.
    pub(super) env: &'a [(String, String)],
    /// The explicit overrides; the last one wins.
    pub(super) overrides: &'a [(String, String)],
}

impl Resolver<'_> {
    /// Replaces every placeholder in `value`; the error is the first unresolvable placeholder.
    pub(super) fn resolve(&self, value: &str) -> Result<String, String> {
        self.resolve_at(value, 0, &mut 0)
    }

    /// [`Resolver::resolve`] at a nesting depth, counting expansions against the budget.
    fn resolve_at(&self, value: &str, depth: usize, spent: &mut usize) -> Result<String, String> {
        if !value.contains("${") {
            return Ok(value.to_string());
        }
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let body_start = start + 2;
            let Some(len) = placeholder_len(&rest[body_start..]) else {
                // Unterminated: keep the text as it is, like Spring.
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let body = &rest[body_start..body_start + len];
            let whole = &rest[start..body_start + len + 1];
            *spent += 1;
            if depth >= MAX_PLACEHOLDER_DEPTH || *spent > MAX_PLACEHOLDER_EXPANSIONS {
                return Err(whole.to_string());
            }
            let (name, default) = split_placeholder(body);
            let name = self.resolve_at(name, depth + 1, spent)?;
            let found = match self.lookup(&name) {
                Some(found) => Some(self.resolve_at(found, depth + 1, spent)?),
                None => default.map(|d| self.resolve_at(d, depth + 1, spent)).transpose()?,
            };
            out.push_str(&found.ok_or_else(|| whole.to_string())?);
            rest = &rest[body_start + len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The raw value of a property: overrides, then environment, then file.
    fn lookup(&self, name: &str) -> Option<&str> {
        let canonical = canonical_segments(name);
        let same_key = |key: &str| canonical_segments(key) == canonical;
        if let Some((_, value)) = self.overrides.iter().rev().find(|(key, _)| same_key(key)) {
            return Some(value);
        }
        // Spring's environment lookup: the name as is, then upper-cased with '.' and '-' as '_'.
        let env_name = name.replace(['.', '-'], "_").to_uppercase();
        let env_value = |wanted: &str| {
            self.env.iter().find(|(key, _)| key == wanted).map(|(_, value)| value.as_str())
        };
        if let Some(value) = env_value(name).or_else(|| env_value(&env_name)) {
            return Some(value);
        }
        self.file
            .iter()
            .rev()
            .find(|(key, _)| same_key(key))
            .and_then(|(_, value)| value.as_deref())
    }
}

/// The length of a placeholder body up to its matching '}', or `None` if unterminated.
fn placeholder_len(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut previous = '\0';
    for (i, c) in text.char_indices() {
        match c {
            '{' if previous == '$' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
        previous = c;
    }
    None
}

/// Splits `name:default` at the first ':' outside nested placeholders.
fn split_placeholder(body: &str) -> (&str, Option<&str>) {
    let mut depth = 0usize;
    let mut previous = '\0';
    for (i, c) in body.char_indices() {
        match c {
            '{' if previous == '$' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => return (&body[..i], Some(&body[i + 1..])),
            _ => {}
        }
        previous = c;
    }
    (body, None)
}
