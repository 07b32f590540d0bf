//! The registry console in a real headless Chromium (feature `browser`; needs
//! `scripts/prepare-browser`, which `scripts/test` runs).
//!
//! This test owns the server: it starts one on a free port, registers instances over HTTP,
//! runs `harness/console-e2e/test.mjs URL OUTDIR` (playwright-core driving Debian's Chromium)
//! and checks its exit status and the registry afterwards. Screenshots land in
//! `target/console-e2e/console.png` and `console-phone.png`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use eureka_model::InstanceStatus;
use eureka_testkit::fixtures::java_json;
use eureka_testkit::TestServer;

/// The `KEY=VALUE` lines of `target/console-e2e/READY` (or `$EUREKA_CONSOLE_E2E_READY`).
fn ready() -> HashMap<String, String> {
    let path =
        std::env::var_os("EUREKA_CONSOLE_E2E_READY").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-e2e/READY")
        });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/prepare-browser first", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn register(s: &TestServer, app: &str, body: String) {
    let r = reqwest::Client::new()
        .post(s.url(&format!("apps/{app}")))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), 204, "register {app}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_updates_and_acts_on_the_registry_in_chromium() {
    let ready = ready();
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8081)).await;
    register(&s, "ORDERS", java_json("ORDERS", "o2", 8082)).await;
    // A hostile metadata value: the page must show it as text, never run it.
    let hostile = java_json("BILLING", "b1", 9090).replace(
        r#""metadata":{"zone":"zone-a"}"#,
        r#""metadata":{"zone":"zone-a","note":"<img src=x onerror=window.__xss=1>"}"#,
    );
    register(&s, "BILLING", hostile).await;

    let outdir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-e2e");
    let mut child = tokio::process::Command::new(&ready["NODE"])
        .arg(&ready["SCRIPT"])
        .arg(format!("http://{}", s.addr))
        .arg(&outdir)
        .env("CONSOLE_E2E_MODULES", &ready["MODULES"])
        .env("CHROMIUM", &ready["CHROMIUM"])
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the browser test finishes within 60 s")
        .expect("wait for node");
    assert!(status.success(), "the browser test failed: {status}");

    let o1 = s.state.registry.get_instance("ORDERS", "o1").expect("o1 is registered");
    assert_eq!(o1.status, InstanceStatus::OutOfService, "taken out of service through the UI");
    assert!(
        s.state.registry.get_instance("INVENTORY", "inv-1").is_some(),
        "registered by the script"
    );
    for shot in ["console.png", "console-phone.png"] {
        let len = std::fs::metadata(outdir.join(shot)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{shot} is missing or empty");
    }
    s.stop().await;
}
