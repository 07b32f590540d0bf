//! Applying values: each source's keys, in precedence order, through the binding table onto a
//! [`Draft`], then validation with errors pointed at the source that set the value.

use std::collections::HashMap;

use super::draft::Draft;
use super::error::{ConfigError, Origin};
use super::keys::{is_secret, Apply, Binding, UNUSED_SPRING_KEYS, WARNED_NAMESPACES};
use super::lookup::{is_known_prefix, is_our_env_var, lookup, lookup_env};
use super::names::{canonical_segments, matches_pattern};
use super::placeholder::Resolver;
use super::settings::ServerConfig;

/// Where the current value of a key came from, so range errors can point at the source.
struct Provenance {
    written: String,
    raw: String,
    origin: Origin,
}

/// Applies values from every source onto a [`Draft`], remembering where each came from.
pub(super) struct Binder<'a> {
    resolver: Resolver<'a>,
    draft: Draft,
    provenance: HashMap<String, Provenance>,
    warnings: Vec<String>,
}

impl<'a> Binder<'a> {
    /// Starts from the defaults, resolving placeholders against `resolver`.
    pub(super) fn new(resolver: Resolver<'a>, warnings: Vec<String>) -> Self {
        Binder { resolver, draft: Draft::new(), provenance: HashMap::new(), warnings }
    }

    /// Applies a key from a file or an override: bind it, or warn if it is unknown.
    pub(super) fn apply_key(
        &mut self,
        written: &str,
        raw: Option<&str>,
        origin: &Origin,
    ) -> Result<(), ConfigError> {
        let raw = raw.map(str::trim).filter(|r| !r.is_empty());
        if let Some((binding, map_key)) = lookup(written) {
            self.apply_binding(binding, map_key, written, raw, origin)?;
            return Ok(());
        }
        let canonical = canonical_segments(written);
        let namespace = canonical.first().map(String::as_str).unwrap_or_default();
        if raw.is_none() && is_known_prefix(&canonical) {
            // An empty section such as `eureka.server:` or `metadata-map: {}`.
            return Ok(());
        }
        if UNUSED_SPRING_KEYS.iter().any(|pattern| matches_pattern(&canonical, pattern)) {
            self.warnings.push(format!(
                "key '{written}' in {origin} is a Spring Cloud Netflix setting \
                 this server does not use; ignored"
            ));
        } else if WARNED_NAMESPACES.contains(&namespace) || *origin == Origin::Override {
            self.warnings.push(format!("unknown key '{written}' in {origin}"));
        }
        Ok(())
    }

    /// Applies the environment: our variables, in name order, unknown ones ignored.
    pub(super) fn apply_env(&mut self, env: &[(String, String)]) -> Result<(), ConfigError> {
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
                self.apply_binding(binding, map_key, name, raw, &Origin::Environment)?;
            if let Some((earlier, earlier_value)) = seen.insert(canonical.clone(), (name, value)) {
                if earlier_value != value {
                    self.warnings.push(format!(
                        "environment variables {earlier} and {name} both set {canonical}; \
                         {name} wins"
                    ));
                }
            }
        }
        Ok(())
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
            Some(_) if secret => "(redacted)".to_string(),
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
            Provenance { written: written.to_string(), raw: shown(raw), origin: origin.clone() },
        );
        Ok(canonical)
    }

    /// Resolves fallbacks, validates (pointing errors at their source) and adds advisories:
    /// the configuration and the warnings to log.
    pub(super) fn finish(mut self) -> Result<(ServerConfig, Vec<String>), ConfigError> {
        let config = self.draft.finish();
        if let Err(ConfigError::InvalidValue { key, value, expected, origin }) = config.validate() {
            let error = match self.provenance.remove(&key) {
                Some(source) => ConfigError::InvalidValue {
                    key: source.written,
                    value: source.raw,
                    expected,
                    origin: source.origin,
                },
                None => ConfigError::InvalidValue { key, value, expected, origin },
            };
            return Err(error);
        }
        let mut warnings = self.warnings;
        warnings.extend(config.advisories());
        Ok((config, warnings))
    }
}
