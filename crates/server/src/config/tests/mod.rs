//! Tests of configuration loading, one file per topic; the helpers they share.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::security::{Password, Secret};

use super::check::positive_millis;
use super::keys::{Apply, BINDINGS, UNUSED_SPRING_KEYS};
use super::lookup::{lookup, lookup_env};
use super::names::env_form;
use super::parse::{parse_dashboard_path, parse_data_size, parse_duration};
use super::source::{parse_properties, parse_yaml};
use super::*;

mod binding;
mod dns;
mod env;
mod files;
mod health;
mod keys;
mod placeholders;
mod reference;
mod regions;
mod security;
mod validation;

/// A fresh directory under the system temp dir, unique per test and process.
fn temp_dir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!(
        "eureka-config-test-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn write(name: &str, contents: &str) -> PathBuf {
    let path = temp_dir().join(name);
    std::fs::write(&path, contents).expect("write config file");
    path
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
    ServerConfig::load(ConfigSources { file: Some(path), ..ConfigSources::default() })
}

/// Writes the YAML lines to a fresh `application.yml` and loads it.
fn load_yaml(lines: &[&str]) -> Loaded {
    let path = write("application.yml", &(lines.join("\n") + "\n"));
    load_file(&path).expect("config loads")
}
