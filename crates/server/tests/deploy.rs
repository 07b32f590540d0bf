//! The deployment files agree with the server: the `application.yml` that the Helm chart puts
//! in its ConfigMap loads without a warning, as a pod would load it (pod name, namespace and
//! IP in the environment), and says what the chart means; the StatefulSet's probes, ports and
//! `--config` path are the server's.
//!
//! Always checked: `deploy/kubernetes/eureka-rs.yaml` (the chart rendered with its defaults).
//! Also checked when present: every variant `scripts/check-deploy` rendered into
//! `target/deploy-check/` (auth, TLS, A records…).

use std::path::{Path, PathBuf};

use eureka_server::config::{ConfigSources, ServerConfig};
use serde_norway::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The YAML documents of a manifest file.
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.split("\n---")
        .filter_map(|doc| serde_norway::from_str::<Value>(doc).ok())
        .filter(|v| v.get("kind").is_some())
        .collect()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"].as_str() == Some(kind)).collect()
}

/// Loads `application.yml` as the pod `eureka-rs-1` in namespace `eureka` would.
fn load_as_pod(name: &str, application_yml: &str) -> eureka_server::config::Loaded {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("deploy");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}-application.yml"));
    std::fs::write(&file, application_yml).unwrap();
    let env = [
        ("POD_NAME", "eureka-rs-1"),
        ("POD_NAMESPACE", "eureka"),
        ("POD_IP", "10.1.2.3"),
        ("AUTH_PEER_PASSWORD", "peer-secret"),
        ("AUTH_USER_0_PASSWORD", "user-0-secret"),
        ("AUTH_USER_1_PASSWORD", "user-1-secret"),
    ];
    let sources = ConfigSources {
        file: Some(&file),
        env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        overrides: Vec::new(),
    };
    ServerConfig::load(sources)
        .unwrap_or_else(|e| panic!("{name}: application.yml does not load: {e}"))
}

/// Checks one rendered chart; returns its configuration.
fn check_rendering(name: &str, path: &Path) -> ServerConfig {
    let docs = documents(path);
    let maps = of_kind(&docs, "ConfigMap");
    assert_eq!(maps.len(), 1, "{name}: one ConfigMap");
    let yml = maps[0]["data"]["application.yml"].as_str().expect("application.yml");
    let loaded = load_as_pod(name, yml);
    assert!(loaded.warnings.is_empty(), "{name}: {:?}", loaded.warnings);
    let config = loaded.config;

    // Pods know themselves by their stable name and IP; peers come from the headless Service.
    let headless = "eureka-rs-headless.eureka.svc.cluster.local";
    assert_eq!(
        config.instance.hostname.as_deref(),
        Some(format!("eureka-rs-1.{headless}").as_str()),
        "{name}"
    );
    assert_eq!(config.instance.ip_address.as_deref(), Some("10.1.2.3"), "{name}");
    let d = &config.peer_discovery;
    assert!(d.uses_dns(), "{name}");
    let dns_name = d.dns_name.as_deref().unwrap();
    assert!(
        dns_name == headless || dns_name.ends_with(&format!("._tcp.{headless}")),
        "{name}: {dns_name}"
    );
    assert!(config.peer_urls().is_empty(), "{name}: no static peers");

    let sets = of_kind(&docs, "StatefulSet");
    assert_eq!(sets.len(), 1, "{name}: one StatefulSet");
    let pod = &sets[0]["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let args: Vec<&str> =
        container["args"].as_sequence().unwrap().iter().filter_map(Value::as_str).collect();
    let mount = container["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m["name"].as_str() == Some("config"))
        .and_then(|m| m["mountPath"].as_str())
        .unwrap();
    assert_eq!(args, ["--config", format!("{mount}/application.yml").as_str()], "{name}");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"].as_str(), Some("/health"));
    assert_eq!(container["readinessProbe"]["httpGet"]["path"].as_str(), Some("/health/ready"));
    let port = container["ports"][0]["containerPort"].as_u64().unwrap();
    assert_eq!(port, u64::from(config.port), "{name}: container port is server.port");
    let scheme = if config.ssl.is_enabled() { "HTTPS" } else { "HTTP" };
    assert_eq!(container["readinessProbe"]["httpGet"]["scheme"].as_str(), Some(scheme), "{name}");
    assert_eq!(
        pod["enableServiceLinks"].as_bool(),
        Some(false),
        "{name}: no service-link variables"
    );
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"].as_bool(), Some(true));

    // Every environment variable a placeholder names is set on the container.
    let env: Vec<&str> =
        container["env"].as_sequence().unwrap().iter().filter_map(|e| e["name"].as_str()).collect();
    for placeholder in yml.split("${").skip(1).filter_map(|s| s.split('}').next()) {
        assert!(env.contains(&placeholder), "{name}: ${{{placeholder}}} has no variable");
    }

    let services = of_kind(&docs, "Service");
    let headless_svc = services
        .iter()
        .find(|s| s["spec"]["clusterIP"].as_str() == Some("None"))
        .expect("a headless Service");
    assert_eq!(headless_svc["spec"]["publishNotReadyAddresses"].as_bool(), Some(true));
    assert_eq!(sets[0]["spec"]["serviceName"], headless_svc["metadata"]["name"]);
    config
}

#[test]
fn plain_manifests_configure_the_server_as_the_chart_means() {
    let config = check_rendering("plain", &root().join("deploy/kubernetes/eureka-rs.yaml"));
    let d = &config.peer_discovery;
    assert!(d.dns_srv, "the default discovery is SRV");
    assert_eq!(
        d.dns_name.as_deref(),
        Some("_http._tcp.eureka-rs-headless.eureka.svc.cluster.local")
    );
    assert!(!config.security.enabled);
    assert!(!config.ssl.is_enabled());
}

#[test]
fn every_variant_check_deploy_rendered_loads() {
    let dir = root().join("target/deploy-check");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "{} absent (scripts/check-deploy not run): only the plain manifests checked",
            dir.display()
        );
        return;
    };
    let mut checked = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        if !file.ends_with("-values.yaml") {
            continue;
        }
        let config = check_rendering(&file, &path);
        if file == "full-values.yaml" {
            assert!(config.security.enabled);
            assert_eq!(config.peer_username.as_deref(), Some("replica"));
            assert!(config.ssl.is_enabled());
            assert!(!config.peer_discovery.dns_srv, "full values use A records");
        }
        checked += 1;
    }
    eprintln!("checked {checked} rendered variants in {}", dir.display());
}
