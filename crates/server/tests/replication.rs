//! Peer replication in-process: the batch endpoint as Java peers use it, and two servers
//! talking to each other (404 → register, 409 → adopt, replicated writes never echoed).

use std::time::Duration;

use eureka_model::{json, Applications};
use eureka_server::{Clock, ServerConfig};
use eureka_testkit::fixtures::java_json;
use eureka_testkit::{eventually, fetch_apps, TestServer};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use tokio::time::{sleep, Instant};

const JSON: &str = "application/json";
const REPLICATION: &str = "x-netflix-discovery-replication";

fn http() -> Client {
    Client::builder().timeout(Duration::from_secs(5)).build().unwrap()
}

/// The instance object of a registration body, without its `{"instance": ...}` wrapper, as
/// batch items carry it.
fn bare_instance(app: &str, id: &str, dirty: u64) -> String {
    let wrapped = java_json(app, id, 8080).replace("1700000000000", &dirty.to_string());
    let v: Value = serde_json::from_str(&wrapped).unwrap();
    v["instance"].to_string()
}

async fn post_batch(s: &TestServer, body: String) -> (StatusCode, String) {
    let r = http()
        .post(s.url("peerreplication/batch/"))
        .header(CONTENT_TYPE, JSON)
        .header(ACCEPT, JSON)
        .header(REPLICATION, "true")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn apps(s: &TestServer) -> Applications {
    fetch_apps(&s.service_url()).await
}

async fn register(s: &TestServer, app: &str, id: &str, dirty: u64, replicated: bool) {
    let mut req = http()
        .post(s.url(&format!("apps/{app}")))
        .header(CONTENT_TYPE, JSON)
        .body(java_json(app, id, 8080).replace("1700000000000", &dirty.to_string()));
    if replicated {
        req = req.header(REPLICATION, "true");
    }
    assert_eq!(req.send().await.unwrap().status(), 204);
}

async fn call(s: &TestServer, method: Method, path: &str, replicated: bool) -> StatusCode {
    let mut req = http().request(method, s.url(path));
    if replicated {
        req = req.header(REPLICATION, "true");
    }
    req.send().await.unwrap().status()
}

fn peer_config(peer: &str) -> ServerConfig {
    ServerConfig {
        extra_peer_urls: vec![peer.to_string()],
        peer_node_connect_timeout: Duration::from_millis(200),
        peer_node_read_timeout: Duration::from_millis(500),
        peer_heartbeat_batch_delay: Duration::from_millis(20),
        ..ServerConfig::default()
    }
}

/// Starts B (no peers) and A (peer B).
async fn pair() -> (TestServer, TestServer) {
    let b = TestServer::start().await;
    let a = TestServer::start_with(peer_config(&b.service_url()), Clock::System).await;
    (a, b)
}

fn has(apps: &Applications, id: &str) -> bool {
    apps.applications.iter().flat_map(|a| a.instances.iter()).any(|i| i.id() == id)
}

#[tokio::test]
async fn batch_in_java_shape_is_applied_item_by_item() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "known", 2_000, true).await;
    let batch = format!(
        r#"{{"replicationList":[
        {{"appName":"ORDERS","id":"new","lastDirtyTimestamp":1000,"status":"UP","instanceInfo":{new},"action":"Register"}},
        {{"appName":"ORDERS","id":"ghost","lastDirtyTimestamp":1000,"status":"UP","action":"Heartbeat"}},
        {{"appName":"ORDERS","id":"known","lastDirtyTimestamp":1000,"status":"UP","action":"Heartbeat"}},
        {{"appName":"ORDERS","id":"known","lastDirtyTimestamp":2000,"status":"UP","action":"Heartbeat"}},
        {{"appName":"ORDERS","id":"new","lastDirtyTimestamp":1000,"status":"OUT_OF_SERVICE","action":"StatusUpdate"}},
        {{"appName":"ORDERS","id":"ghost","action":"Cancel"}}
        ]}}"#,
        new = bare_instance("ORDERS", "new", 1000)
    );
    let (code, body) = post_batch(&s, batch).await;
    assert_eq!(code, 200, "{body}");
    let answer = json::decode_replication_list_response(body.as_bytes()).unwrap();
    let codes: Vec<u16> = answer.response_list.iter().map(|r| r.status_code).collect();
    assert_eq!(codes, vec![200, 404, 409, 200, 200, 404]);
    let conflict = answer.response_list[2].response_entity.as_ref().expect("409 carries our copy");
    assert_eq!((conflict.id(), conflict.last_dirty_timestamp), ("known", 2_000));
    let new = s.state.registry.get_instance("ORDERS", "new").unwrap();
    assert_eq!(new.status.as_str(), "OUT_OF_SERVICE");
}

#[tokio::test]
async fn malformed_batch_is_refused_whole_and_changes_nothing() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "kept", 1_000, true).await;
    let version = s.state.registry.version();
    let bad = [
        ("{not json", "JSON"),
        (r#"{"replicationList":[{"appName":"ORDERS","id":"kept","action":"Explode"}]}"#, "Explode"),
        (r#"{"somethingElse":[]}"#, "replicationList"),
        (
            r#"{"replicationList":[{"appName":"ORDERS","id":"kept","action":"Cancel"},{"id":1}]}"#,
            "",
        ),
    ];
    for (body, mentions) in bad {
        let (code, text) = post_batch(&s, body.to_string()).await;
        assert_eq!(code, 400, "{body} -> {text}");
        assert!(text.contains(mentions), "{text} should mention {mentions}");
    }
    assert_eq!(s.state.registry.version(), version);
    assert!(s.state.registry.get_instance("ORDERS", "kept").is_some());
}

#[tokio::test]
async fn client_writes_reach_the_peer_and_replicated_ones_are_not_echoed() {
    let (a, b) = pair().await;
    register(&a, "ORDERS", "from-client", 1_000, false).await;
    register(&a, "ORDERS", "from-peer", 1_000, true).await;
    eventually("client write on B", async || has(&apps(&b).await, "from-client")).await;
    // The replicated write went out in no batch: give it the same time, then check.
    sleep(Duration::from_millis(200)).await;
    assert!(!has(&apps(&b).await, "from-peer"), "a replicated write was replicated again");
    let peers = a.state.replication.views();
    assert_eq!(peers[0].health.items_sent, 1);
}

#[tokio::test]
async fn heartbeat_unknown_to_the_peer_makes_us_register_it_there() {
    let (a, b) = pair().await;
    register(&a, "ORDERS", "o-1", 1_000, false).await;
    eventually("replicated", async || has(&apps(&b).await, "o-1")).await;
    // B loses the instance behind A's back (replicated cancel: B does not tell anyone).
    assert_eq!(call(&b, Method::DELETE, "apps/ORDERS/o-1", true).await, 200);
    assert!(!has(&apps(&b).await, "o-1"));
    assert_eq!(call(&a, Method::PUT, "apps/ORDERS/o-1", false).await, 200);
    eventually("re-registered on B after its 404", async || has(&apps(&b).await, "o-1")).await;
}

#[tokio::test]
async fn a_peer_with_a_newer_copy_answers_409_and_we_adopt_it() {
    let (a, b) = pair().await;
    register(&a, "ORDERS", "o-1", 1_000, false).await;
    eventually("replicated", async || has(&apps(&b).await, "o-1")).await;
    // B learns a newer copy (dirty 2000, new metadata) that A never saw.
    let newer = java_json("ORDERS", "o-1", 8080)
        .replace("1700000000000", "2000")
        .replace(r#""zone":"zone-a""#, r#""zone":"zone-b""#);
    let r = http()
        .post(b.url("apps/ORDERS"))
        .header(CONTENT_TYPE, JSON)
        .header(REPLICATION, "true")
        .body(newer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(call(&a, Method::PUT, "apps/ORDERS/o-1", false).await, 200);
    eventually("A adopted B's newer copy", async || {
        a.state.registry.get_instance("ORDERS", "o-1").is_some_and(|i| {
            i.last_dirty_timestamp == 2_000
                && i.metadata.get("zone").map(String::as_str) == Some("zone-b")
        })
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_peer_is_reported_and_caught_up_when_it_comes() {
    // B's address is reserved, but nothing serves it yet.
    let b_listener = TestServer::listener().await;
    let b_url = format!("http://{}/eureka/", b_listener.local_addr().unwrap());
    drop(b_listener);
    let a = TestServer::start_with(peer_config(&b_url), Clock::System).await;
    for i in 0..20 {
        register(&a, "ORDERS", &format!("o-{i}"), 1_000, false).await;
    }
    eventually("peer marked unreachable", async || {
        let p = &a.state.replication.views()[0];
        p.health.reachable == Some(false) && p.health.last_error.is_some() && p.queue_depth > 0
    })
    .await;
    let status: Value = http()
        .get(a.url("status"))
        .header(ACCEPT, JSON)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let peer = &status["replication"]["peers"][0];
    assert_eq!(peer["url"], b_url);
    assert_eq!(peer["reachable"], false);
    assert!(peer["lastError"].as_str().is_some_and(|e| !e.is_empty()), "{peer}");
    assert_eq!(status["applicationStats"]["unavailable-replicas"], b_url);

    let addr: std::net::SocketAddr = b_url[7..b_url.len() - 8].parse().unwrap();
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let b = TestServer::start_on(listener, ServerConfig::default(), Clock::System).await;
    eventually("all 20 delivered after the peer came up", async || {
        apps(&b).await.apps_hashcode == "UP_20_"
    })
    .await;
    eventually("peer marked reachable", async || {
        a.state.replication.views()[0].health.reachable == Some(true)
    })
    .await;
}

#[tokio::test]
async fn registry_not_ready_window_only_when_asked_for() {
    let config = ServerConfig { default_open_for_traffic_count: 0, ..ServerConfig::default() };
    let s = TestServer::start_with(config, Clock::System).await;
    assert_eq!(call(&s, Method::GET, "apps", false).await, 403);
    register(&s, "ORDERS", "o-1", 1_000, false).await;
    assert_eq!(call(&s, Method::GET, "apps/ORDERS", false).await, 403);
    let default = TestServer::start().await;
    assert_eq!(call(&default, Method::GET, "apps", false).await, 200);
}

#[tokio::test]
async fn a_slow_peer_does_not_slow_writes() {
    use eureka_testkit::proxy::{Fault, FaultProxy};
    let b = TestServer::start().await;
    let proxy = FaultProxy::start(b.addr).await.unwrap();
    proxy.set(Fault::Delay(Duration::from_secs(3)));
    let config = ServerConfig {
        peer_node_read_timeout: Duration::from_secs(10),
        ..peer_config(&format!("http://{}/eureka/", proxy.addr()))
    };
    let a = TestServer::start_with(config, Clock::System).await;
    let started = Instant::now();
    for i in 0..20 {
        register(&a, "ORDERS", &format!("o-{i}"), 1_000, false).await;
    }
    // Each batch to B takes over 6 s (3 s each way); the writes did not wait for any of them.
    assert!(started.elapsed() < Duration::from_secs(2), "writes waited for the slow peer");
    assert_eq!(apps(&a).await.apps_hashcode, "UP_20_");
    proxy.set(Fault::Pass);
    eventually("slow peer caught up", async || apps(&b).await.apps_hashcode == "UP_20_").await;
    proxy.stop().await;
}

#[tokio::test]
async fn a_stopping_server_flushes_its_replication_queue() {
    let b = TestServer::start().await;
    let config = ServerConfig {
        // Changes would wait a minute for company: only the shutdown flush can deliver them.
        peer_replication_batch_delay: Duration::from_secs(60),
        peer_heartbeat_batch_delay: Duration::from_secs(60),
        ..peer_config(&b.service_url())
    };
    let a = TestServer::start_with(config, Clock::System).await;
    // Let the start-up sync and first probe settle, then write.
    sleep(Duration::from_millis(100)).await;
    register(&a, "ORDERS", "last-words", 1_000, false).await;
    sleep(Duration::from_millis(100)).await;
    assert!(!has(&apps(&b).await, "last-words"), "delivered before the delay");
    a.stop().await;
    assert!(has(&apps(&b).await, "last-words"), "the queued register was lost on shutdown");
}

#[tokio::test]
async fn a_peer_url_that_leads_back_to_ourselves_is_detected_and_dropped() {
    use eureka_testkit::proxy::FaultProxy;
    // A's "peer" is a proxy in front of A itself: host and port differ, so only the node id in
    // the batch can tell.
    let listener = TestServer::listener().await;
    let proxy = FaultProxy::start(listener.local_addr().unwrap()).await.unwrap();
    let config = peer_config(&format!("http://{}/eureka/", proxy.addr()));
    let a = TestServer::start_on(listener, config, Clock::System).await;
    register(&a, "ORDERS", "o-1", 1_000, false).await;
    eventually("loop detected", async || a.state.replication.views()[0].is_self).await;
    let before = proxy.connections();
    register(&a, "ORDERS", "o-2", 1_000, false).await;
    assert_eq!(call(&a, Method::PUT, "apps/ORDERS/o-1", false).await, 200);
    sleep(Duration::from_millis(200)).await;
    assert_eq!(a.state.replication.views()[0].queue_depth, 0, "tasks still queued for ourselves");
    assert_eq!(proxy.connections(), before, "still sending to ourselves");
    proxy.stop().await;
}
