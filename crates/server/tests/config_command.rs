//! `eureka-server config keys|check|show`, run as a user would: the binary, its output and its
//! exit status. The environment is cleared so only what a test sets is seen.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eureka_server::config::KNOWN_KEYS;

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eureka-server"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run eureka-server")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A file in a directory of its own under the target directory.
fn file(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("config-command-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}

#[test]
fn keys_lists_every_key_as_text_and_json() {
    let text = run(&["config", "keys"], &[]);
    assert!(text.status.success());
    let text = stdout(&text);
    for key in KNOWN_KEYS {
        let shown = key.replace(".*", ".<key>");
        assert!(text.lines().any(|l| l.starts_with(&format!("{shown}  ("))), "{key} missing");
    }
    assert!(text.contains("server.port  (port, default 8761)"), "{text}");

    let json = run(&["config", "keys", "-o", "json"], &[]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(KNOWN_KEYS.len()));

    let markdown = stdout(&run(&["config", "keys", "-o", "markdown"], &[]));
    assert!(markdown.contains("| `server.port` | port | `8761` | same |"), "{markdown}");
}

#[test]
fn check_lists_every_problem_and_exits_1() {
    let bad = file(
        "bad.yml",
        "eureka:\n  server:\n    enableSelfPreservation: maybe\n    \
         eviction-interval-timer-in-ms: 0\n  dashbord.path: /console\n",
    );
    let bad = bad.display().to_string();
    let out = run(
        &["config", "check", &bad, "--set", "server.port=99999"],
        &[("EUREKA_SERVER_PEER_NODE_READ_TIMEOUT_MS", "fast")],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 4, "{text}");
    assert!(errors[0].contains(&format!("eureka.server.enableSelfPreservation in {bad}")));
    assert!(errors[1].contains("EUREKA_SERVER_PEER_NODE_READ_TIMEOUT_MS in the environment"));
    assert!(errors[2].contains("server.port in the command-line overrides"), "{text}");
    assert!(errors[3].contains(&format!("eureka.server.eviction-interval-timer-in-ms in {bad}")));
    assert!(text.contains("warning: unknown key 'eureka.dashbord.path'"), "{text}");
    assert!(text.contains("failed: 4 errors and 1 warning"), "{text}");
}

#[test]
fn check_passes_a_sound_file_and_fails_on_warnings_only_when_strict() {
    let good = file("good.properties", "server.port=9000\neureka.server.foo=1\n");
    let good = good.display().to_string();
    let out = run(&["config", "check", &good], &[]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("ok: "), "{}", stdout(&out));
    let strict = run(&["config", "check", "--strict", &good], &[]);
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
}

#[test]
fn check_reads_the_tls_files_start_up_would() {
    let missing = file("tls.yml", "server.ssl:\n  certificate: /nonexistent/cert.pem\n  certificate-private-key: /nonexistent/key.pem\n");
    let out = run(&["config", "check", &missing.display().to_string()], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error: cannot read server.ssl.certificate file /nonexistent/cert.pem"),
        "{text}"
    );
}

#[test]
fn show_prints_values_with_their_sources_and_masks_secrets() {
    let path = file(
        "show.yml",
        "eureka:\n  server:\n    peer-password: s3cret\n  client:\n    serviceUrl:\n      \
         defaultZone: http://replica:s3cret@peer:8761/eureka/\n",
    );
    let path = path.display().to_string();
    let out = run(
        &["config", "show", "--config", &path, "--port", "9000", "--changed"],
        &[("EUREKA_SERVER_DISABLE_DELTA", "true")],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(!text.contains("s3cret"), "{text}");
    let line = |key: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("{key} missing from\n{text}"))
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("server.port"), "9000 command line");
    assert_eq!(
        line("eureka.server.disable-delta"),
        "true environment (EUREKA_SERVER_DISABLE_DELTA)"
    );
    assert_eq!(line("eureka.server.peer-password"), format!("(redacted) {path}"));
    assert_eq!(
        line("eureka.client.service-url.defaultZone"),
        format!("http://replica:(redacted)@peer:8761/eureka/ {path} (eureka.client.serviceUrl.defaultZone)")
    );
    assert!(!text.contains("server.address"), "--changed leaves out defaults: {text}");

    let bad = run(&["config", "show", "--set", "server.port=x"], &[]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("error: invalid value 'x' for server.port")
    );
}
