//! The registry console over a real socket: the page and its assets, the JSON document it
//! polls, and the `eureka.dashboard.*` switches. The browser test is in
//! `crates/testkit/tests/console_browser.rs`.

use std::time::Duration;

use eureka_server::{Clock, ServerConfig};
use eureka_testkit::fixtures::java_json;
use eureka_testkit::TestServer;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

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

/// `GET path` as a browser asks for a page.
async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    let url = format!("http://{}{path}", s.addr);
    Client::new().get(url).header("accept", "text/html,*/*;q=0.8").send().await.unwrap()
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
    assert!(
        html.contains(r#"data-base="""#) && html.contains(r#"data-eureka="/eureka/""#),
        "{html}"
    );
    assert!(!html.contains("{{"), "every placeholder is filled");
    assert!(!html.contains("http://") && !html.contains("https://"), "no CDN, nothing external");
    let version = html.split("/assets/").nth(1).unwrap().split('/').next().unwrap().to_string();
    assert!(html.contains(&format!(r#"<script type="module" src="/assets/{version}/app.js">"#)));

    // Every module the entry imports is served under the same version.
    let app_js = get(&s, &format!("/assets/{version}/app.js")).await.text().await.unwrap();
    let imports: Vec<&str> =
        app_js.lines().filter_map(|l| l.split(r#"from "./"#).nth(1)?.split('"').next()).collect();
    assert!(imports.len() >= 5, "{imports:?}");
    for file in imports.iter().copied().chain(["console.css", "app.js"]) {
        let r = get(&s, &format!("/assets/{version}/{file}")).await;
        assert_eq!(r.status(), 200, "{file}");
        let ctype = if file.ends_with(".css") { "text/css" } else { "text/javascript" };
        assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with(ctype), "{file}");
        assert!(r.headers()[CACHE_CONTROL].to_str().unwrap().contains("immutable"), "{file}");
    }
    let old = get(&s, "/assets/0000000000000000/app.js").await;
    assert_eq!(old.status(), 200, "a page from before a restart still loads");
    assert_eq!(old.headers()[CACHE_CONTROL], "no-cache", "but is not cached under the old name");
    assert_eq!(get(&s, &format!("/assets/{version}/nope.js")).await.status(), 404);

    // Application and instance addresses are console pages; the Eureka API is not shadowed.
    for path in ["/apps/ORDERS", "/apps/ORDERS/web-1%3Aorders%3A8080"] {
        let r = get(&s, path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.text().await.unwrap().contains("app.js"), "{path}");
    }
    assert_eq!(get(&s, "/eureka/apps/ORDERS").await.status(), 404, "no such app: the API answers");
    // A Eureka client pointed at the root by mistake gets the API's 404, not the page.
    let client = Client::new();
    let json =
        client.get(format!("http://{}/apps/ORDERS", s.addr)).header("accept", "application/json");
    let r = json.send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("under /eureka/"));
    let post =
        client.post(format!("http://{}/apps/ORDERS", s.addr)).body("{}").send().await.unwrap();
    assert_eq!(post.status(), 404, "a registration at the wrong context is not the console's");
    let scrape = s.scrape().await;
    let labels = format!("{scrape:?}");
    assert!(labels.contains("{dashboard}/assets/{file}"), "route labels are templates");
}

#[tokio::test]
async fn the_document_lists_apps_instances_live_lease_times_and_events() {
    let s = TestServer::start().await;
    let tick = || tokio::time::sleep(Duration::from_millis(3));
    register(&s, "ORDERS", java_json("ORDERS", "o2", 8082)).await;
    tick().await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8081)).await;
    tick().await;
    register(&s, "BILLING", java_json("BILLING", "b1", 9090)).await;
    tick().await;
    let r = Client::new()
        .put(s.url("apps/ORDERS/o2/status?value=OUT_OF_SERVICE&reason=deploy%201.4"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tick().await;
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
        [
            ("CANCELLED", "b1"),
            ("OVERRIDE_SET", "o2"),
            ("REGISTERED", "b1"),
            ("REGISTERED", "o1"),
            ("REGISTERED", "o2")
        ]
    );
    assert_eq!(doc["eventsTotal"], 5);
    let set = &doc["events"][1];
    assert_eq!(
        (&set["status"], &set["reason"], &set["peer"]),
        (&json!("OUT_OF_SERVICE"), &json!("deploy 1.4"), &json!(false))
    );
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
    assert_eq!((&sp["keptTotal"], &doc["system"]["expiredInstances"]), (&json!(1), &json!(1)));
    assert_eq!(doc["expired"], json!({"ORDERS": 1}));
    assert_eq!(doc["expiredLeases"][0]["id"], "o1");
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
        assert!(html.contains(r#"data-base="/ops/console""#), "{html}");
        assert!(html.contains(r#"src="/ops/console/assets/"#), "{html}");
    }
    let version = eureka_server::http::console::assets_version();
    let css = get(&s, &format!("/ops/console/assets/{version}/console.css")).await;
    assert_eq!(css.status(), 200);
    assert_eq!(get(&s, "/ops/console/apps/ORDERS/o1").await.status(), 200);
    assert_eq!(get(&s, "/ops/console/api/console/summary").await.status(), 200);
    assert_eq!(get(&s, "/apps/ORDERS").await.status(), 404, "not under the moved dashboard");
    assert!(console(&s, "/ops/console/api/console").await["apps"].is_array());
    assert_eq!(Client::new().get(s.url("apps")).send().await.unwrap().status(), 200);

    let off = ServerConfig { dashboard_enabled: false, ..Default::default() };
    let s = TestServer::start_with(off, Clock::System).await;
    for path in ["/", "/api/console", "/api/console/summary", "/apps/ORDERS"] {
        assert_eq!(get(&s, path).await.status(), 404, "{path}");
    }
    assert_eq!(get(&s, "/health").await.status(), 200);
}

/// `GET url` with `Accept-Encoding: gzip` and no automatic decompression: the status, whether
/// the answer came gzip-compressed, and its JSON.
async fn gzipped_json(url: &str) -> (StatusCode, bool, Value) {
    let client = Client::builder().no_gzip().build().unwrap();
    let r = client.get(url).header("accept-encoding", "gzip, deflate").send().await.unwrap();
    let status = r.status();
    let gzip = r.headers().get("content-encoding").is_some_and(|v| v == "gzip");
    let bytes = r.bytes().await.unwrap();
    let mut text = String::new();
    if gzip {
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
            .unwrap();
    } else {
        text = String::from_utf8(bytes.to_vec()).unwrap();
    }
    (status, gzip, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_summary_counts_peers_and_expired_leases_and_names_who_acted_and_why() {
    // One peer on a port where nothing listens: unreachable once probed.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config = ServerConfig {
        extra_peer_urls: vec![format!("http://127.0.0.1:{}/eureka/", dead.port())],
        ..Default::default()
    };
    let s = TestServer::start_with(config, Clock::System).await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8081)).await;
    register(&s, "ORDERS", java_json("ORDERS", "o2", 8082)).await;
    register(&s, "BILLING", java_json("BILLING", "b1", 9090)).await;
    let http = Client::new();
    let put = http
        .put(s.url("apps/ORDERS/o1/status?value=OUT_OF_SERVICE&reason=bad%20deploy"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let too_long = format!("apps/ORDERS/o2/status?value=DOWN&reason={}", "x".repeat(501));
    let refused = http.put(s.url(&too_long)).send().await.unwrap();
    assert_eq!(refused.status(), 400, "a reason over 500 characters is refused");
    assert!(refused.text().await.unwrap().contains("invalid reason"));
    assert_eq!(s.state.registry.get_instance("ORDERS", "o2").unwrap().status.as_str(), "UP");

    let url = format!("http://{}/api/console/summary?leases=orders", s.addr);
    let (status, gzip, doc) = gzipped_json(&url).await;
    assert_eq!((status, gzip), (StatusCode::OK, true), "the summary is gzip-compressed");
    assert_eq!(doc["node"]["port"], json!(s.addr.port()));
    assert!(doc.get("apps").is_none(), "no instance list: the page has the change stream");
    let leases: Vec<&str> =
        doc["leases"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(leases, ["o1", "o2"], "live leases of the asked applications only");
    assert_eq!(doc["events"][0]["kind"], "OVERRIDE_SET");
    assert_eq!(doc["events"][0]["reason"], "bad deploy");
    assert_eq!(doc["system"]["peersTotal"], 1);
    assert_eq!(doc["system"]["expiredInstances"], 0);
    eureka_testkit::eventually_within(
        Duration::from_secs(20),
        "the dead peer probed",
        async || {
            let doc = console(&s, "/api/console/summary").await;
            doc["replicas"]["peers"][0]["reachable"] == json!(false)
        },
    )
    .await;
    let doc = console(&s, "/api/console/summary").await;
    assert_eq!(
        (&doc["system"]["peersReachable"], &doc["system"]["peersTotal"]),
        (&json!(0), &json!(1))
    );

    // An instance's page: its live lease, and its history with the reason.
    let detail = console(&s, "/api/console/instance?app=orders&id=o1").await;
    assert_eq!(detail["instance"]["status"], "OUT_OF_SERVICE");
    let history: Vec<&str> =
        detail["history"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(history, ["OVERRIDE_SET", "REGISTERED"]);
    assert_eq!(detail["history"][0]["reason"], "bad deploy");
    let cancel = http.delete(s.url("apps/ORDERS/o1?reason=gone")).send().await.unwrap();
    assert_eq!(cancel.status(), 200);
    let detail = console(&s, "/api/console/instance?app=ORDERS&id=o1").await;
    assert_eq!(detail["instance"], Value::Null, "not registered now, but its history remains");
    assert_eq!(detail["history"][0]["kind"], "CANCELLED");
    assert_eq!(detail["history"][0]["reason"], "gone");
    assert_eq!(get(&s, "/api/console/instance?app=ORDERS").await.status(), 400);

    // The full document is gzip-compressed too, and `GET leases` serves live lease times.
    let (_, gzip, full) = gzipped_json(&format!("http://{}/api/console", s.addr)).await;
    assert!(gzip && full["apps"].is_array());
    let (status, _, leases) = gzipped_json(&s.url("leases?apps=billing")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(leases["leases"][0]["id"], "b1");
    assert_eq!(leases["leases"].as_array().unwrap().len(), 1);
}
