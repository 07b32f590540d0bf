//! The registry console in a real headless Chromium (feature `browser`; needs
//! `scripts/prepare-browser`, which `scripts/test` runs).
//!
//! This test owns the server: it starts one on a free port, registers instances over HTTP,
//! runs `harness/console-e2e/test.mjs URL OUTDIR` (playwright-core driving Debian's Chromium)
//! and checks its exit status and the registry afterwards. The script asks for what only the
//! server's owner can do through a line `@@control CMD` on its stdout, answered `ok` on its
//! stdin: `self-preservation` closes a renewal minute now (no renewals were counted, so
//! self-preservation engages with a real threshold), `stop` stops the server (the page must
//! then say its connection is lost). Screenshots land in `target/console-e2e/screenshots/`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use eureka_model::InstanceStatus;
use eureka_testkit::fixtures::java_json;
use eureka_testkit::TestServer;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

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
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let state = s.state.clone();
    let mut server = Some(s);
    let drive = async {
        while let Some(line) = lines.next_line().await.expect("read the script's output") {
            println!("{line}");
            let Some(command) = line.strip_prefix("@@control ") else { continue };
            match command {
                "self-preservation" => state.registry.tick_renew_meter(),
                "stop" => {
                    if let Some(s) = server.take() {
                        s.stop().await;
                    }
                }
                other => panic!("unknown control command {other}"),
            }
            stdin.write_all(b"ok\n").await.expect("answer the script");
        }
        child.wait().await.expect("wait for node")
    };
    let status = tokio::time::timeout(Duration::from_secs(150), drive)
        .await
        .expect("the browser test finishes within 150 s");
    assert!(status.success(), "the browser test failed: {status}");

    let o1 = state.registry.get_instance("ORDERS", "o1").expect("o1 is registered");
    assert_eq!(
        o1.overridden_status,
        InstanceStatus::Unknown,
        "back in service removed the override"
    );
    assert!(state.registry.get_instance("ORDERS", "o3").is_some(), "registered by the script");
    let reasons: Vec<Option<String>> =
        state.registry.recent_overrides().into_iter().map(|e| e.actor.reason).collect();
    assert!(reasons.contains(&Some("e2e maintenance window".to_string())), "{reasons:?}");
    for shot in ["overview", "instance", "self-preservation"] {
        for width in [1400, 390] {
            let file = outdir.join(format!("screenshots/{shot}-{width}.png"));
            let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            assert!(len > 10_000, "{} is missing or empty", file.display());
        }
    }
    if let Some(s) = server {
        s.stop().await;
    }
}

/// The console's pure modules (formatting, the registry mirror, filters, orders, addresses)
/// under node's own test runner (`harness/console-e2e/unit.test.mjs`; no dependency).
#[tokio::test]
async fn the_consoles_modules_pass_their_unit_tests() {
    let ready = ready();
    let tests =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../harness/console-e2e/unit.test.mjs");
    let out = tokio::process::Command::new(&ready["NODE"])
        .arg("--test")
        .arg(&tests)
        .output()
        .await
        .expect("run node --test");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("# fail 0") && !report.contains("# pass 0"), "{report}");
}
