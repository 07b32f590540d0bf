//! Which row of the binding table a key as written, or an environment variable, binds to.

use super::defaults;
use super::keys::{
    Apply, Binding, BINDINGS, SERVICE_URL_KEY, SPRING_APPLICATION_NAME_KEY, SPRING_USER_NAME_KEY,
    SPRING_USER_PASSWORD_KEY, SPRING_USER_ROLES_KEY,
};
use super::names::{canonical_segment, canonical_segments, env_form, map_key, split_key};

/// Finds the row a written key binds to, with the map key for map rows.
pub(super) fn lookup(written: &str) -> Option<(&'static Binding, Option<String>)> {
    let segments = split_key(written);
    let canonical: Vec<String> = segments.iter().map(|s| canonical_segment(s)).collect();
    for binding in BINDINGS {
        let base: Vec<String> = binding.base().split('.').map(canonical_segment).collect();
        match binding.apply {
            Apply::Map(_) => {
                if canonical.len() > base.len() && canonical[..base.len()] == base[..] {
                    return Some((binding, Some(map_key(&segments[base.len()..]))));
                }
            }
            Apply::Scalar(_) | Apply::NoEffect(_) => {
                if canonical == base {
                    return Some((binding, None));
                }
            }
        }
    }
    None
}

/// Whether canonical segments are a proper prefix of (or equal to the base of) some known key.
pub(super) fn is_known_prefix(canonical: &[String]) -> bool {
    BINDINGS.iter().any(|binding| {
        let base = canonical_segments(binding.base());
        canonical.len() <= base.len() && canonical == &base[..canonical.len()]
    })
}

/// Whether an environment variable is ours to read at all.
pub(super) fn is_our_env_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("EUREKA_")
        || upper.starts_with("SERVER_")
        || upper.starts_with("LOGGING_")
        || (upper.starts_with("SPRING_")
            && [
                SPRING_APPLICATION_NAME_KEY,
                SPRING_USER_NAME_KEY,
                SPRING_USER_PASSWORD_KEY,
                SPRING_USER_ROLES_KEY,
            ]
            .iter()
            .any(|key| env_form(name) == env_form(key)))
}

/// Finds the row an environment variable binds to, with the map key for map rows.
pub(super) fn lookup_env(name: &str) -> Option<(&'static Binding, Option<String>)> {
    let flat = env_form(name);
    if let Some(binding) =
        BINDINGS.iter().find(|b| !matches!(b.apply, Apply::Map(_)) && env_form(b.key) == flat)
    {
        return Some((binding, None));
    }
    for binding in BINDINGS.iter().filter(|b| matches!(b.apply, Apply::Map(_))) {
        let prefix = env_form(binding.base());
        for (i, _) in name.char_indices().filter(|(_, c)| *c == '_') {
            let rest = &name[i + 1..];
            if env_form(&name[..i]) == prefix && !rest.is_empty() {
                return Some((binding, Some(env_map_key(binding, rest))));
            }
        }
    }
    None
}

/// Spring's env-to-map-key rule: lower-case, '_' becomes '.'; `DEFAULTZONE` is `defaultZone`.
fn env_map_key(binding: &Binding, rest: &str) -> String {
    if binding.key == SERVICE_URL_KEY && env_form(rest) == env_form(defaults::DEFAULT_ZONE) {
        return defaults::DEFAULT_ZONE.to_string();
    }
    rest.to_lowercase().replace('_', ".")
}
