//! Whole-configuration checks: every row's range check ([`ServerConfig::validate`]) and the
//! advisories (soft problems worth a warning, not a refusal to start).

use super::defaults;
use super::error::{ConfigError, Origin};
use super::keys::BINDINGS;
use super::settings::{RemoteRegionSettings, ServerConfig};

impl ServerConfig {
    /// Checks ranges and cross-field rules (threshold in [0, 1], intervals > 0, URLs well formed);
    /// the first failing key, in key-table order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.validate_all().into_iter().next() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Every failing key of [`Self::validate`] (at most one error per key), in key-table order.
    pub fn validate_all(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for binding in BINDINGS {
            if let Err(rejected) = (binding.check)(self) {
                let key = match rejected.map_key {
                    Some(map_key) => format!("{}.{map_key}", binding.base()),
                    None => binding.key.to_string(),
                };
                errors.push(ConfigError::InvalidValue {
                    key,
                    value: rejected.value,
                    expected: rejected.expected,
                    origin: Origin::Resolved,
                });
            }
        }
        errors
    }

    /// Soft problems worth a warning but not a refusal to start.
    pub(super) fn advisories(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let instance = &self.instance;
        if instance.lease_expiration_duration <= instance.lease_renewal_interval {
            notes.push(format!(
                "eureka.instance.lease-expiration-duration-in-seconds ({} s) is not longer than \
                 eureka.instance.lease-renewal-interval-in-seconds ({} s): \
                 our own lease can expire between heartbeats",
                instance.lease_expiration_duration.as_secs_f64(),
                instance.lease_renewal_interval.as_secs_f64()
            ));
        }
        let client = &self.client;
        if (client.register_with_eureka || client.fetch_registry) && client.peer_urls().is_empty() {
            notes.push(
                "eureka.client.register-with-eureka or fetch-registry is true but \
                 eureka.client.service-url.defaultZone is empty: there is no peer to talk to"
                    .to_string(),
            );
        }
        let regions = &self.remote_regions;
        if !regions.unnamed_urls.is_empty() {
            notes.push(
                "eureka.server.remote-region-urls has no effect (Java never reads it either): \
                 name each region with eureka.server.remote-region-urls-with-name.<region>"
                    .to_string(),
            );
        }
        for region in regions.whitelists.keys() {
            if region != RemoteRegionSettings::GLOBAL_WHITELIST
                && !regions.urls.contains_key(region)
            {
                notes.push(format!(
                    "eureka.server.remote-region-app-whitelist.{region} names no remote region \
                     of eureka.server.remote-region-urls-with-name"
                ));
            }
        }
        if regions.urls.contains_key(&client.region.to_lowercase()) {
            notes.push(format!(
                "eureka.server.remote-region-urls-with-name.{} is this server's own region \
                 (eureka.region): requests never ask for it as a remote one",
                client.region.to_lowercase()
            ));
        }
        let other_zones: Vec<&str> = client
            .service_urls
            .keys()
            .map(String::as_str)
            .filter(|zone| *zone != defaults::DEFAULT_ZONE)
            .collect();
        if !other_zones.is_empty() {
            notes.push(format!(
                "service-url zones other than defaultZone are not used yet: {}",
                other_zones.join(", ")
            ));
        }
        notes
    }
}
