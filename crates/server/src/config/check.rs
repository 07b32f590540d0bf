//! Range checks on single typed values, one per kind of setting, named by the binding table's
//! rows and run by [`ServerConfig::validate`].
//!
//! [`ServerConfig::validate`]: super::ServerConfig::validate

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::defaults;
use super::parse::{is_http_url, EXPECT_URL};
use super::settings::RemoteRegionSettings;

/// A value that failed a range check in [`ServerConfig::validate`].
///
/// [`ServerConfig::validate`]: super::ServerConfig::validate
pub(super) struct Rejected {
    /// For map keys, which entry (e.g. the zone).
    pub(super) map_key: Option<String>,
    /// The offending value, formatted in the key's unit.
    pub(super) value: String,
    /// What would have been accepted.
    pub(super) expected: &'static str,
}

pub(super) fn any<T>(_: &T) -> Result<(), Rejected> {
    Ok(())
}

pub(super) fn reject(value: String, expected: &'static str) -> Result<(), Rejected> {
    Err(Rejected { map_key: None, value, expected })
}

pub(super) fn fraction(value: &f64) -> Result<(), Rejected> {
    if (0.0..=1.0).contains(value) {
        Ok(())
    } else {
        reject(value.to_string(), "a number between 0 and 1")
    }
}

pub(super) fn millis(value: &Duration) -> Result<(), Rejected> {
    if *value <= defaults::MAX_DURATION {
        Ok(())
    } else {
        reject(
            (value.as_secs_f64() * 1000.0).to_string(),
            "a whole number of milliseconds, at most one year",
        )
    }
}

pub(super) fn positive_millis(value: &Duration) -> Result<(), Rejected> {
    if !value.is_zero() && *value <= defaults::MAX_DURATION {
        Ok(())
    } else {
        reject(
            (value.as_secs_f64() * 1000.0).to_string(),
            "a positive whole number of milliseconds, at most one year",
        )
    }
}

pub(super) fn positive_secs(value: &Duration) -> Result<(), Rejected> {
    if !value.is_zero() && *value <= defaults::MAX_DURATION {
        Ok(())
    } else {
        reject(
            value.as_secs_f64().to_string(),
            "a positive whole number of seconds, at most one year",
        )
    }
}

pub(super) fn positive_count(value: &usize) -> Result<(), Rejected> {
    if *value > 0 {
        Ok(())
    } else {
        reject(value.to_string(), "a positive whole number")
    }
}

pub(super) fn minus_one_or_more(value: &i32) -> Result<(), Rejected> {
    if *value >= -1 {
        Ok(())
    } else {
        reject(value.to_string(), "a whole number, -1 or more (-1 disables it)")
    }
}

pub(super) fn optional_url(value: &Option<String>) -> Result<(), Rejected> {
    match value {
        Some(url) if !is_http_url(url) => reject(url.clone(), EXPECT_URL),
        _ => Ok(()),
    }
}

/// A setting that only makes sense together with another: `value` must be set when `with` is.
pub(super) fn required_with(
    value: &Option<PathBuf>,
    with: &Option<PathBuf>,
    expected: &'static str,
) -> Result<(), Rejected> {
    match (value, with) {
        (None, Some(_)) => reject(String::new(), expected),
        _ => Ok(()),
    }
}

/// The head limit: hyper reads a head in a buffer of at least 8 KiB anyway, and anything
/// under 1 KiB would refuse ordinary clients.
pub(super) fn header_size(value: &usize) -> Result<(), Rejected> {
    if (1024..=16 << 20).contains(value) {
        Ok(())
    } else {
        reject(value.to_string(), "a size from 1KB to 16MB")
    }
}

/// A DNS TTL: whole seconds up to a day.
pub(super) fn dns_ttl(value: &Duration) -> Result<(), Rejected> {
    if value.as_secs() <= 86_400 {
        Ok(())
    } else {
        reject(value.as_secs().to_string(), "a whole number of seconds from 0 to 86400")
    }
}

/// Records per DNS answer: at least one, and a bounded answer.
pub(super) fn dns_max_answers(value: &usize) -> Result<(), Rejected> {
    if (1..=1024).contains(value) {
        Ok(())
    } else {
        reject(value.to_string(), "a whole number from 1 to 1024")
    }
}

pub(super) fn non_empty(value: &str) -> Result<(), Rejected> {
    if value.trim().is_empty() {
        reject(value.to_string(), "a non-empty name")
    } else {
        Ok(())
    }
}

pub(super) fn at_least_one(value: &u32) -> Result<(), Rejected> {
    if *value >= 1 {
        Ok(())
    } else {
        reject(value.to_string(), "a whole number of at least 1")
    }
}

/// No more remote regions than a region set holds.
pub(super) fn region_count(urls: &BTreeMap<String, String>) -> Result<(), Rejected> {
    if urls.len() <= RemoteRegionSettings::MAX_REGIONS {
        Ok(())
    } else {
        reject(urls.len().to_string(), "at most 64 remote regions")
    }
}
