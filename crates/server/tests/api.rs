//! End-to-end tests of the Eureka API over a real loopback socket.

use std::io::Read;
use std::time::Duration;

use eureka_model::{json, xml, InstanceStatus};
use eureka_server::{Clock, ServerConfig};
use eureka_testkit::fixtures::{java_json, java_xml, node_json};
use eureka_testkit::TestServer;
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{Client, StatusCode};

const JSON: &str = "application/json";
const XML: &str = "application/xml";

fn http() -> Client {
    // No automatic gzip: the tests check the server's own encoding decisions.
    Client::builder().no_gzip().build().unwrap()
}

async fn register(s: &TestServer, app: &str, body: String, ctype: &str) -> StatusCode {
    http()
        .post(s.url(&format!("apps/{app}")))
        .header(CONTENT_TYPE, ctype)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

async fn get_json(s: &TestServer, path: &str) -> (StatusCode, String) {
    let r = http().get(s.url(path)).header(ACCEPT, JSON).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn status_of(s: &TestServer, method: reqwest::Method, path: &str) -> StatusCode {
    http().request(method, s.url(path)).send().await.unwrap().status()
}

#[tokio::test]
async fn empty_registry_in_both_formats() {
    let s = TestServer::start().await;
    let (code, body) = get_json(&s, "apps").await;
    assert_eq!(code, 200);
    assert_eq!(
        body,
        r#"{"applications":{"versions__delta":"1","apps__hashcode":"","application":[]}}"#
    );
    // No Accept at all (py-eureka-client): XML.
    let r = http().get(s.url("apps/")).send().await.unwrap();
    assert_eq!(r.headers()[CONTENT_TYPE], XML);
    assert!(r.text().await.unwrap().starts_with("<applications>"));
}

#[tokio::test]
async fn register_is_visible_to_the_very_next_read_under_every_prefix() {
    let s = TestServer::start().await;
    assert_eq!(
        register(&s, "orders", java_json("ORDERS", "web-1:orders:8080", 8080), JSON).await,
        204
    );
    for path in ["apps", "apps/", "v2/apps", "v2/apps/"] {
        let (code, body) = get_json(&s, path).await;
        assert_eq!(code, 200, "{path}");
        let apps = json::decode_applications(body.as_bytes()).unwrap();
        assert_eq!(apps.apps_hashcode, "UP_1_", "{path}");
        assert_eq!(apps.applications[0].instances[0].id(), "web-1:orders:8080");
    }
    assert_eq!(register(&s, "BILLING", java_xml("BILLING", "b-1", 9090), XML).await, 204);
    let (_, body) = get_json(&s, "apps").await;
    assert_eq!(json::decode_applications(body.as_bytes()).unwrap().apps_hashcode, "UP_2_");
    let xml_body =
        http().get(s.url("apps")).header(ACCEPT, XML).send().await.unwrap().bytes().await.unwrap();
    let apps = xml::decode_applications(&xml_body).unwrap();
    assert_eq!(apps.applications.len(), 2);
    assert_eq!(apps.applications[0].instances[0].metadata["zone"], "zone-a");
}

/// Issue 19, item 11: only `/eureka/` (with an optional version segment) is the API, so a
/// client configured with a wrong context path gets a 404 that says where the API is.
#[tokio::test]
async fn paths_outside_the_eureka_context_are_404() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8080), JSON).await;
    for path in
        ["/apps", "/apps/ORDERS", "/foo/apps", "/v2/apps", "/registry/eureka/apps", "/status"]
    {
        let r = http().get(format!("http://{}{path}", s.addr)).header(ACCEPT, JSON).send().await;
        let r = r.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let text = r.text().await.unwrap();
        assert!(text.contains("the Eureka API is under /eureka/"), "{path}: {text}");
    }
    let renew = http().put(format!("http://{}/apps/ORDERS/o1", s.addr)).send().await.unwrap();
    assert_eq!(renew.status(), 404);
    for path in
        ["/eureka/apps", "/eureka/v2/apps/", "/eureka/v1/apps/ORDERS", "/eureka/apps/ORDERS/o1"]
    {
        let r = http().get(format!("http://{}{path}", s.addr)).header(ACCEPT, JSON).send().await;
        assert_eq!(r.unwrap().status(), 200, "{path}");
    }
}

#[tokio::test]
async fn minimal_node_style_registration_gets_java_defaults() {
    let s = TestServer::start().await;
    assert_eq!(
        register(&s, "NODE-APP", node_json("NODE-APP", "node-app:1", 18082), JSON).await,
        204
    );
    let (code, body) = get_json(&s, "apps/NODE-APP/node-app:1").await;
    assert_eq!(code, 200);
    let info = json::decode_instance(body.as_bytes()).unwrap();
    assert_eq!((info.port.port, info.port.enabled), (18082, true));
    assert_eq!(info.lease_info.duration_in_secs, 90);
    assert!(info.last_dirty_timestamp > 0);
}

#[tokio::test]
async fn single_app_and_instance_lookups() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "web-1:orders:8080", 8080), JSON).await;
    let (code, body) = get_json(&s, "apps/orders").await;
    assert_eq!(code, 200);
    assert!(body.starts_with(r#"{"application":{"name":"ORDERS","instance":[{"#), "{body}");
    assert_eq!(get_json(&s, "apps/NOPE").await.0, 404);
    assert_eq!(get_json(&s, "apps/ORDERS/web-1%3Aorders%3A8080").await.0, 200);
    assert_eq!(get_json(&s, "apps/ORDERS/nope").await.0, 404);
    let (code, body) = get_json(&s, "instances/web-1:orders:8080").await;
    assert_eq!(code, 200);
    assert!(body.starts_with(r#"{"instance":{"instanceId":"web-1:orders:8080""#));
    assert_eq!(get_json(&s, "instances/nope").await.0, 404);
    let xml = http()
        .get(s.url("apps/ORDERS/web-1:orders:8080"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(xml.starts_with("<instance>"), "{xml}");
}

#[tokio::test]
async fn renew_answers_follow_the_java_rules_with_empty_bodies() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8080), JSON).await;
    let c = http();
    let put = |q: &str| c.put(s.url(&format!("apps/ORDERS/o1{q}")));
    let r = put("?status=UP&lastDirtyTimestamp=1700000000000").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().is_empty());
    // Jersey 3 style: a `{}` body; eureka-js-client style: nothing at all.
    let r = put("?status=UP&lastDirtyTimestamp=1700000000000")
        .header(CONTENT_TYPE, JSON)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(put("").send().await.unwrap().status(), 200);
    // The client has newer data: 404 without a body, so it re-registers.
    let r = put("?status=UP&lastDirtyTimestamp=1700000009999").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.bytes().await.unwrap().is_empty());
    // A peer with older data gets 409 and our copy.
    let r = put("?lastDirtyTimestamp=1600000000000")
        .header("x-netflix-discovery-replication", "true")
        .header(ACCEPT, JSON)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let mine = json::decode_instance(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(mine.last_dirty_timestamp, 1_700_000_000_000);
    // A plain client with older data just gets 200.
    assert_eq!(put("?lastDirtyTimestamp=1600000000000").send().await.unwrap().status(), 200);
    let r = c.put(s.url("apps/ORDERS/unknown?status=UP")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = put("?lastDirtyTimestamp=yesterday").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("lastDirtyTimestamp"));
}

#[tokio::test]
async fn cancel_then_cancel_again() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8080), JSON).await;
    assert_eq!(status_of(&s, reqwest::Method::DELETE, "apps/ORDERS/o1").await, 200);
    assert_eq!(status_of(&s, reqwest::Method::DELETE, "apps/ORDERS/o1").await, 404);
    assert_eq!(get_json(&s, "apps/ORDERS").await.0, 404);
}

#[tokio::test]
async fn status_override_put_and_delete() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "web-1:orders:8080", 8080), JSON).await;
    let c = http();
    let r = c.put(s.url("apps/ORDERS/web-1:orders:8080/status?value=OUT_OF_SERVICE&lastDirtyTimestamp=1700000000001")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, body) = get_json(&s, "apps").await;
    let apps = json::decode_applications(body.as_bytes()).unwrap();
    assert_eq!(apps.apps_hashcode, "OUT_OF_SERVICE_1_");
    let inst = &apps.applications[0].instances[0];
    assert_eq!(
        (inst.status, inst.overridden_status),
        (InstanceStatus::OutOfService, InstanceStatus::OutOfService)
    );
    let (_, overrides) = get_json(&s, "../serverinfo/statusoverrides").await;
    assert_eq!(overrides, r#"{"web-1:orders:8080":"OUT_OF_SERVICE"}"#);

    for bad in ["?value=BOGUS", "?value=up", ""] {
        let r = c
            .put(s.url(&format!("apps/ORDERS/web-1:orders:8080/status{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.text().await.unwrap().contains("UP, DOWN, STARTING, OUT_OF_SERVICE, UNKNOWN"));
    }
    assert_eq!(
        c.put(s.url("apps/ORDERS/nope/status?value=UP")).send().await.unwrap().status(),
        404
    );

    // py-eureka-client removes the override without a value: UNKNOWN until it re-registers.
    let r = c
        .delete(s.url("apps/ORDERS/web-1%3Aorders%3A8080/status?lastDirtyTimestamp=1700000000001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, body) = get_json(&s, "apps/ORDERS/web-1:orders:8080").await;
    assert_eq!(json::decode_instance(body.as_bytes()).unwrap().status, InstanceStatus::Unknown);
    assert_eq!(c.put(s.url("apps/ORDERS/web-1:orders:8080")).send().await.unwrap().status(), 404);
    assert_eq!(c.delete(s.url("apps/ORDERS/nope/status")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn metadata_update_merges() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8080), JSON).await;
    let c = http();
    assert_eq!(
        c.put(s.url("apps/ORDERS/o1/metadata?weight=5&zone=z2")).send().await.unwrap().status(),
        200
    );
    let (_, body) = get_json(&s, "apps/ORDERS/o1").await;
    let info = json::decode_instance(body.as_bytes()).unwrap();
    assert_eq!((info.metadata["weight"].as_str(), info.metadata["zone"].as_str()), ("5", "z2"));
    assert_eq!(c.put(s.url("apps/ORDERS/nope/metadata?a=b")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn vip_and_secure_vip_lookups() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8080), JSON).await;
    register(&s, "BILLING", java_json("BILLING", "b1", 8081), JSON).await;
    for path in ["vips/orders", "svips/orders"] {
        let (code, body) = get_json(&s, path).await;
        assert_eq!(code, 200);
        let apps = json::decode_applications(body.as_bytes()).unwrap();
        assert_eq!((apps.versions_delta.as_str(), apps.apps_hashcode.as_str()), ("-1", "UP_1_"));
        assert_eq!(apps.applications[0].name, "ORDERS");
    }
    let (code, body) = get_json(&s, "vips/nothing").await;
    assert_eq!(code, 200);
    assert_eq!(json::decode_applications(body.as_bytes()).unwrap().applications.len(), 0);
}

#[tokio::test]
async fn delta_carries_changes_and_the_full_registry_hash() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8080), JSON).await;
    register(&s, "ORDERS", java_json("ORDERS", "o2", 8081), JSON).await;
    status_of(&s, reqwest::Method::DELETE, "apps/ORDERS/o2").await;
    let (code, body) = get_json(&s, "apps/delta").await;
    assert_eq!(code, 200);
    let delta = json::decode_applications(body.as_bytes()).unwrap();
    assert_eq!(delta.apps_hashcode, "UP_1_");
    let actions: Vec<_> =
        delta.instances().map(|i| (i.id().to_string(), i.action_type.unwrap().as_str())).collect();
    assert_eq!(actions, [("o1".to_string(), "ADDED"), ("o2".to_string(), "DELETED")]);
}

#[tokio::test]
async fn delta_can_be_disabled() {
    let config = ServerConfig { disable_delta: true, ..Default::default() };
    let s = TestServer::start_with(config, Clock::System).await;
    assert_eq!(get_json(&s, "apps/delta").await.0, 403);
}

#[tokio::test]
async fn gzip_on_request_only() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8080), JSON).await;
    let c = http();
    let plain = c.get(s.url("apps")).header(ACCEPT, JSON).send().await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let plain = plain.bytes().await.unwrap();
    let zipped = c
        .get(s.url("apps"))
        .header(ACCEPT, JSON)
        .header(ACCEPT_ENCODING, "gzip, deflate")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(zipped.headers()[CONTENT_TYPE], JSON);
    let mut inflated = Vec::new();
    flate2_read(&zipped.bytes().await.unwrap(), &mut inflated);
    assert_eq!(inflated, plain.to_vec());
}

fn flate2_read(gz: &[u8], out: &mut Vec<u8>) {
    flate2::read::GzDecoder::new(gz).read_to_end(out).unwrap();
}

#[tokio::test]
async fn gzip_request_bodies_are_inflated() {
    let s = TestServer::start().await;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, java_json("ORDERS", "o1", 8080).as_bytes()).unwrap();
    let r = http()
        .post(s.url("apps/ORDERS"))
        .header(CONTENT_TYPE, JSON)
        .header(CONTENT_ENCODING, "gzip")
        .body(enc.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let config = ServerConfig { max_request_body_bytes: 4096, ..Default::default() };
    let s = TestServer::start_with(config, Clock::System).await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8080), JSON).await;
    let before = get_json(&s, "apps").await.1;
    let c = http();
    let post = |app: &str, ctype: Option<&str>, body: String| {
        let mut rb = c.post(s.url(&format!("apps/{app}"))).body(body);
        if let Some(t) = ctype {
            rb = rb.header(CONTENT_TYPE, t);
        }
        rb.send()
    };
    let cases: Vec<(&str, Option<&str>, String, u16, &str)> = vec![
        ("ORDERS", Some(JSON), r#"{"instance":{"#.into(), 400, "cannot parse request body"),
        (
            "ORDERS",
            Some(XML),
            "<instance><app>ORDERS</app".into(),
            400,
            "cannot parse request body",
        ),
        ("ORDERS", Some(JSON), r#"{"application":{}}"#.into(), 400, "instance"),
        ("ORDERS", Some("text/plain"), java_json("ORDERS", "o1", 1), 415, "Content-Type"),
        ("ORDERS", None, java_json("ORDERS", "o1", 1), 415, "Content-Type"),
        ("ORDERS", Some(JSON), "x".repeat(5000), 413, "max-request-body-bytes"),
        (
            "BILLING",
            Some(JSON),
            java_json("ORDERS", "o1", 8080),
            400,
            "Mismatched appName, expecting BILLING but was ORDERS",
        ),
        (
            "ORDERS",
            Some(JSON),
            java_json("ORDERS", "o1", 8080).replace(r#""hostName":"127.0.0.1","#, ""),
            400,
            "Missing hostname",
        ),
        (
            "ORDERS",
            Some(JSON),
            java_json("ORDERS", "o1", 8080).replace(r#""ipAddr":"127.0.0.1","#, ""),
            400,
            "Missing ip address",
        ),
        (
            "ORDERS",
            Some(JSON),
            java_json("ORDERS", "", 8080).replace(r#""hostName":"127.0.0.1","#, ""),
            400,
            "Missing instanceId",
        ),
        (
            "ORDERS",
            Some(JSON),
            java_json("ORDERS", "o1", 8080).replace(r#""name":"MyOwn""#, r#""x":"y""#),
            400,
            "Missing dataCenterInfo Name",
        ),
        (
            "ORDERS",
            Some(JSON),
            java_json("ORDERS", "o1", 8080)
                .replace(r#""port":{"$":8080"#, r#""port":{"$":"eighty""#),
            400,
            "port",
        ),
    ];
    for (app, ctype, body, want, needle) in cases {
        let r = post(app, ctype, body).await.unwrap();
        let code = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(code, want, "{needle}: {text}");
        assert!(text.contains(needle), "expected '{needle}' in '{text}'");
    }
    assert_eq!(get_json(&s, "apps").await.1, before, "the registry is unchanged");
    assert_eq!(status_of(&s, reqwest::Method::DELETE, "apps").await, 405);
    assert_eq!(status_of(&s, reqwest::Method::GET, "nowhere/at/all/x/y").await, 404);
    assert_eq!(status_of(&s, reqwest::Method::GET, "apps/%FF%FE").await, 400);
}

#[tokio::test]
async fn status_health_and_console() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "o1", 8080), JSON).await;
    let (code, body) = get_json(&s, "status").await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["registry"]["instances"], 1);
    assert_eq!(v["registry"]["selfPreservationEnabled"], true);
    assert_eq!(v["instanceInfo"]["isCoordinatingDiscoveryServer"], "true");
    let xml = http().get(s.url("status")).send().await.unwrap().text().await.unwrap();
    assert!(xml.starts_with("<status>") && xml.contains("<renewThreshold>"), "{xml}");
    for path in ["/health", "/actuator/health"] {
        let r = http().get(format!("http://{}{path}", s.addr)).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), r#"{"status":"UP"}"#);
    }
    let console: serde_json::Value = http()
        .get(format!("http://{}/api/console", s.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(console["apps"][0]["name"], "ORDERS");
    assert_eq!(console["apps"][0]["instances"][0]["id"], "o1");
}

#[tokio::test(start_paused = true)]
async fn eviction_task_removes_expired_leases_under_paused_time() {
    let config = ServerConfig {
        enable_self_preservation: false,
        eviction_interval: Duration::from_secs(5),
        ..Default::default()
    };
    let s = TestServer::start_with(config, Clock::tokio()).await;
    let mut info = json::decode_instance(java_json("ORDERS", "o1", 8080).as_bytes()).unwrap();
    info.lease_info.duration_in_secs = 3;
    info.normalize();
    s.state.registry.register(info, eureka_registry::Origin::Client, s.state.clock.now_ms());
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        s.state.registry.stats().instances,
        1,
        "first eviction run is one period after start"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.state.registry.stats().instances, 0, "evicted 3 s after its last renew");
    assert_eq!(s.state.registry.recent_cancelled()[0].id, "o1");
    s.stop().await;
}

#[tokio::test]
async fn compact_documents_on_x_eureka_accept_compact() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", java_json("ORDERS", "web-1:orders:8080", 8080), JSON).await;
    let fetch = |path: &'static str, accept: &'static str, eureka_accept: Option<&'static str>| {
        let mut req = http().get(s.url(path)).header(ACCEPT, accept);
        if let Some(value) = eureka_accept {
            req = req.header("X-Eureka-Accept", value);
        }
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let registry = s.state.registry.snapshot();
    for (media, format) in [(JSON, eureka_model::Format::Json), (XML, eureka_model::Format::Xml)] {
        let compact = eureka_model::Codec::new(format, eureka_model::Detail::Compact);
        let full = eureka_model::Codec::new(format, eureka_model::Detail::Full);
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
        assert_eq!(
            fetch("apps", media, Some("compact")).await,
            text(compact.encode_applications(&registry.apps))
        );
        assert_eq!(
            fetch("apps", media, Some("COMPACT")).await,
            text(compact.encode_applications(&registry.apps)),
            "case-insensitive, as Java"
        );
        assert_eq!(
            fetch("apps", media, Some("full")).await,
            text(full.encode_applications(&registry.apps))
        );
        let app = registry.application("ORDERS").unwrap();
        assert_eq!(
            fetch("apps/ORDERS", media, Some("compact")).await,
            text(compact.encode_application(app))
        );
        let vip = fetch("vips/orders", media, Some("compact")).await;
        assert!(!vip.contains("leaseInfo") && vip.contains("web-1:orders:8080"), "{vip}");
        let delta = fetch("apps/delta", media, Some("compact")).await;
        assert!(!delta.contains("leaseInfo") && delta.contains("ADDED"), "{delta}");
        // Single instances are always full, as in Java.
        let one = fetch("apps/ORDERS/web-1:orders:8080", media, Some("compact")).await;
        assert!(one.contains("leaseInfo"), "{one}");
    }
    // Compact bodies are cached and gzipped like full ones.
    let r = http()
        .get(s.url("apps"))
        .header(ACCEPT, JSON)
        .header("X-Eureka-Accept", "compact")
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[CONTENT_ENCODING], "gzip");
    let mut plain = Vec::new();
    flate2_read(&r.bytes().await.unwrap(), &mut plain);
    assert_eq!(plain, fetch("apps", JSON, Some("compact")).await.into_bytes());
}
