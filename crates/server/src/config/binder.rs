//! Applying values: each source's keys, in precedence order, through the binding table onto a
//! [`Draft`], then validation with errors pointed at the source that set the value. Every
//! problem is collected, so `config check` can list them all; loading reports the first.

use std::collections::{BTreeMap, HashMap};

use super::draft::Draft;
use super::error::{ConfigError, Origin, Provenance};
use super::keys::{is_secret, Apply, Binding, UNUSED_SPRING_KEYS, WARNED_NAMESPACES};
use super::kinds::REDACTED;
use super::lookup::{is_known_prefix, is_our_env_var, lookup, lookup_env};
use super::names::{canonical_segments, matches_pattern};
use super::placeholder::Resolver;
use super::{Checked, Loaded};

/// Applies values from every source onto a [`Draft`], remembering where each came from.
pub(super) struct Binder<'a> {
    resolver: Resolver<'a>,
    draft: Draft,
    provenance: BTreeMap<String, Provenance>,
    warnings: Vec<String>,
    errors: Vec<ConfigError>,
}

impl<'a> Binder<'a> {
    /// Starts from the defaults, resolving placeholders against `resolver`.
    pub(super) fn new(resolver: Resolver<'a>, warnings: Vec<String>) -> Self {
        Binder {
            resolver,
            draft: Draft::new(),
            provenance: BTreeMap::new(),
            warnings,
            errors: Vec::new(),
        }
    }

    /// Records a problem that is not about one value (e.g. an unreadable file).
    pub(super) fn error(&mut self, error: ConfigError) {
        self.errors.push(error);
    }

    /// Applies a key from a file or an override: bind it, or warn if it is unknown.
    pub(super) fn apply_key(&mut self, written: &str, raw: Option<&str>, origin: &Origin) {
        let raw = raw.map(str::trim).filter(|r| !r.is_empty());
        if let Some((binding, map_key)) = lookup(written) {
            if let Err(e) = self.apply_binding(binding, map_key, written, raw, origin) {
                self.errors.push(e);
            }
            return;
        }
        let canonical = canonical_segments(written);
        let namespace = canonical.first().map(String::as_str).unwrap_or_default();
        if raw.is_none() && is_known_prefix(&canonical) {
            // An empty section such as `eureka.server:` or `metadata-map: {}`.
            return;
        }
        if UNUSED_SPRING_KEYS.iter().any(|pattern| matches_pattern(&canonical, pattern)) {
            self.warnings.push(format!(
                "key '{written}' in {origin} is a Spring Cloud Netflix setting \
                 this server does not use; ignored"
            ));
        } else if WARNED_NAMESPACES.contains(&namespace) || *origin == Origin::Override {
            self.warnings.push(format!("unknown key '{written}' in {origin}"));
        }
    }

    /// Applies the environment: our variables, in name order, unknown ones ignored.
    pub(super) fn apply_env(&mut self, env: &[(String, String)]) {
        let mut ours: Vec<&(String, String)> =
            env.iter().filter(|(name, _)| is_our_env_var(name)).collect();
        ours.sort();
        let mut seen: HashMap<String, (&str, &str)> = HashMap::new();
        for (name, value) in ours {
            let Some((binding, map_key)) = lookup_env(name) else {
                continue;
            };
            let raw = Some(value.trim()).filter(|r| !r.is_empty());
            let canonical =
                match self.apply_binding(binding, map_key, name, raw, &Origin::Environment) {
                    Ok(canonical) => canonical,
                    Err(e) => {
                        self.errors.push(e);
                        continue;
                    }
                };
            if let Some((earlier, earlier_value)) = seen.insert(canonical.clone(), (name, value)) {
                if earlier_value != value {
                    self.warnings.push(format!(
                        "environment variables {earlier} and {name} both set {canonical}; \
                         {name} wins"
                    ));
                }
            }
        }
    }

    /// Parses and stores one value; returns the canonical key it set.
    fn apply_binding(
        &mut self,
        binding: &'static Binding,
        map_key: Option<String>,
        written: &str,
        raw: Option<&str>,
        origin: &Origin,
    ) -> Result<String, ConfigError> {
        let resolved = match raw {
            Some(raw) => Some(self.resolver.resolve(raw).map_err(|placeholder| {
                ConfigError::Placeholder {
                    key: written.to_string(),
                    placeholder,
                    origin: origin.clone(),
                }
            })?),
            None => None,
        };
        let raw = resolved.as_deref().map(str::trim).filter(|r| !r.is_empty());
        let secret = is_secret(binding, map_key.as_deref());
        let shown = |raw: Option<&str>| match raw {
            Some(_) if secret => REDACTED.to_string(),
            raw => raw.unwrap_or_default().to_string(),
        };
        let canonical = match &map_key {
            Some(map_key) => format!("{}.{map_key}", binding.base()),
            None => binding.key.to_string(),
        };
        let result = match (binding.apply, map_key) {
            (Apply::Scalar(set), _) => set(&mut self.draft, raw),
            (Apply::Map(set), Some(map_key)) => set(&mut self.draft, map_key, raw),
            (Apply::Map(_), None) => Ok(()),
            (Apply::NoEffect(check), _) => match raw {
                Some(raw) => check(raw).map(|()| {
                    let ignored = &mut self.draft.config.compat_ignored;
                    if !ignored.iter().any(|k| k == binding.key) {
                        ignored.push(binding.key.to_string());
                    }
                }),
                None => Ok(()),
            },
        };
        result.map_err(|expected| ConfigError::InvalidValue {
            key: written.to_string(),
            value: shown(raw),
            expected,
            origin: origin.clone(),
        })?;
        self.provenance.insert(
            canonical.clone(),
            Provenance { written: written.to_string(), value: shown(raw), origin: origin.clone() },
        );
        Ok(canonical)
    }

    /// Resolves fallbacks, validates (pointing errors at their source) and adds advisories:
    /// the configuration as bound (values that failed keep the lower source's), with where
    /// each value came from, the warnings to log and every problem found.
    pub(super) fn finish(mut self) -> Checked {
        let config = self.draft.finish();
        for error in config.validate_all() {
            let error = match error {
                ConfigError::InvalidValue { key, value, expected, origin } => {
                    match self.provenance.get(&key) {
                        Some(source) => ConfigError::InvalidValue {
                            key: source.written.clone(),
                            value: source.value.clone(),
                            expected,
                            origin: source.origin.clone(),
                        },
                        None => ConfigError::InvalidValue { key, value, expected, origin },
                    }
                }
                other => other,
            };
            self.errors.push(error);
        }
        let mut warnings = self.warnings;
        warnings.extend(config.advisories());
        Checked {
            loaded: Loaded { config, warnings, sources: self.provenance },
            errors: self.errors,
        }
    }
}
