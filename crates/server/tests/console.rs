//! The registry console over a real socket: the page and its assets, the JSON document it
//! polls, and the `eureka.dashboard.*` switches. The browser test is in
//! `crates/testkit/tests/console_browser.rs`.

use std::time::Duration;

use eureka_server::{Clock, ServerConfig};
use eureka_testkit::fixtures::java_json;
use eureka_testkit::TestServer;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use reqwest::{Client, StatusCode};
use serde_json::Value;

async fn register(s: &TestServer, app: &str, body: String) {
    let r = Client::new()
        .post(s.url(&format!("apps/{app}")))
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    Client::new().get(format!("http://{}{path}", s.addr)).send().await.unwrap()
}

async fn console(s: &TestServer, path: &str) -> Value {
    let r = get(s, path).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    r.json().await.unwrap()
}

#[tokio::test]
async fn page_and_assets_are_embedded_with_types_and_cache_headers() {
    let s = TestServer::start().await;
    let page = get(&s, "/").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(page.headers()[CACHE_CONTROL], "no-cache");
    let csp = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-api="/api/console""#), "{html}");
    assert!(!html.contains("{{"), "every placeholder is filled");
    assert!(!html.contains("http://") && !html.contains("https://"), "no CDN, nothing external");

    for (path, ctype, marker) in [
        ("/assets/console.js", "text/javascript; charset=utf-8", "textContent"),
        ("/assets/console.css", "text/css; charset=utf-8", "tabular-nums"),
    ] {
        let version = html.split(&format!("{path}?v=")).nth(1).unwrap().split('"').next().unwrap();
        let r = get(&s, &format!("{path}?v={version}")).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()[CONTENT_TYPE], ctype);
        assert!(r.headers()[CACHE_CONTROL].to_str().unwrap().contains("immutable"));
        assert!(r.text().await.unwrap().contains(marker), "{path}");
    }
    let scrape = s.scrape().await;
    let labels = format!("{scrape:?}");
    assert!(labels.contains("{dashboard}/assets/{file}"), "route labels are templates");
}

#[tokio::test]
async fn the_document_lists_apps_instances_live_lease_times_and_events() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "o2", 8082)).await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8081)).await;
    register(&s, "BILLING", java_json("BILLING", "b1", 9090)).await;
    let r = Client::new()
        .put(s.url("apps/ORDERS/o2/status?value=OUT_OF_SERVICE"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = Client::new().delete(s.url("apps/BILLING/b1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let before = console(&s, "/api/console").await;
    Client::new().put(s.url("apps/ORDERS/o1")).send().await.unwrap();

    let doc = console(&s, "/api/console").await;
    let apps = doc["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 1, "BILLING was cancelled");
    let orders = &apps[0];
    assert_eq!(orders["name"], "ORDERS");
    assert_eq!(orders["counts"], serde_json::json!({"UP": 1, "OUT_OF_SERVICE": 1}));
    let o1 = &orders["instances"][0];
    let o2 = &orders["instances"][1];
    assert_eq!((o1["id"].as_str(), o2["id"].as_str()), (Some("o1"), Some("o2")));
    assert_eq!(o1["hostName"], "127.0.0.1");
    assert_eq!(o1["port"], 8081);
    assert_eq!(o1["securePort"], Value::Null);
    assert_eq!(o1["zone"], "zone-a");
    assert_eq!(o1["statusPageUrl"], "http://127.0.0.1:8081/info");
    assert_eq!(o2["status"], "OUT_OF_SERVICE");
    assert_eq!(o2["overriddenStatus"], "OUT_OF_SERVICE");
    assert_eq!(o1["expired"], false);
    let renewed = o1["lastRenewal"].as_u64().unwrap();
    assert!(
        renewed > before["apps"][0]["instances"][0]["lastRenewal"].as_u64().unwrap(),
        "a renewal shows at once, though it does not change the registry version"
    );
    assert_eq!(o1["expiresAt"].as_u64().unwrap(), renewed + 90_000);

    let kinds: Vec<(&str, &str)> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [("CANCELLED", "b1"), ("REGISTERED", "b1"), ("REGISTERED", "o1"), ("REGISTERED", "o2")]
    );
    assert_eq!(doc["eventsTotal"], 4);
    assert_eq!(console(&s, "/api/console?events=1").await["events"].as_array().unwrap().len(), 1);
    let bad = get(&s, "/api/console?events=lots").await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("events must be"));

    assert_eq!(doc["system"]["environment"], "test");
    assert_eq!(doc["system"]["datacenter"], "default");
    assert_eq!(doc["system"]["instances"], 2);
    assert_eq!(doc["replicas"]["peers"], serde_json::json!([]));
    assert!(doc["info"]["version"].is_string() && doc["info"]["cpus"].is_string());
    assert!(doc["info"]["config"].as_array().unwrap().len() > 5);
}

#[tokio::test]
async fn attacker_chosen_values_arrive_as_data_and_script_links_are_dropped() {
    let s = TestServer::start().await;
    let body = java_json("EVIL", "e1", 8080)
        .replace("http://127.0.0.1:8080/info", "javascript:alert(1)")
        .replace(r#""zone":"zone-a""#, r#""zone":"<img src=x onerror=alert(1)>""#);
    register(&s, "EVIL", body).await;
    let doc = console(&s, "/api/console").await;
    let e1 = &doc["apps"][0]["instances"][0];
    assert_eq!(e1["statusPageUrl"], Value::Null);
    assert_eq!(e1["healthCheckUrl"], "http://127.0.0.1:8080/health");
    assert_eq!(e1["metadata"]["zone"], "<img src=x onerror=alert(1)>", "the page sets it as text");
}

#[tokio::test(start_paused = true)]
async fn self_preservation_names_the_leases_it_keeps() {
    let s = TestServer::start_with(ServerConfig::default(), Clock::tokio()).await;
    let short =
        java_json("ORDERS", "o1", 8080).replace(r#""durationInSecs":90"#, r#""durationInSecs":2"#);
    register(&s, "ORDERS", short).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let doc = console(&s, "/api/console").await;
    let sp = &doc["selfPreservation"];
    assert_eq!(sp["active"], true, "nothing is evicted in a node's first minute");
    assert_eq!(sp["kept"][0]["id"], "o1");
    let text = sp["explanation"].as_str().unwrap();
    assert!(
        text.contains("less than a minute ago") && text.contains("1 lease has expired"),
        "{text}"
    );
    assert_eq!(doc["apps"][0]["instances"][0]["expired"], true);
}

#[tokio::test]
async fn the_dashboard_can_be_moved_or_disabled() {
    let moved = ServerConfig { dashboard_path: "/ops/console".to_string(), ..Default::default() };
    let s = TestServer::start_with(moved, Clock::System).await;
    assert_eq!(get(&s, "/").await.status(), 404);
    assert_eq!(get(&s, "/api/console").await.status(), 404);
    for path in ["/ops/console", "/ops/console/"] {
        let r = get(&s, path).await;
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains(r#"data-api="/ops/console/api/console""#), "{html}");
        assert!(html.contains(r#"src="/ops/console/assets/console.js?v="#), "{html}");
    }
    assert_eq!(get(&s, "/ops/console/assets/console.css").await.status(), 200);
    assert!(console(&s, "/ops/console/api/console").await["apps"].is_array());
    assert_eq!(Client::new().get(s.url("apps")).send().await.unwrap().status(), 200);

    let off = ServerConfig { dashboard_enabled: false, ..Default::default() };
    let s = TestServer::start_with(off, Clock::System).await;
    for path in ["/", "/api/console", "/assets/console.js"] {
        assert_eq!(get(&s, path).await.status(), 404, "{path}");
    }
    assert_eq!(get(&s, "/health").await.status(), 200);
}
