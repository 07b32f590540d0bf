//! Drain: `POST apps/{APP}/{ID}/drain` takes an instance out of service and answers when
//! every watcher of the app and every identified polling client has seen the change.

use std::time::Duration;

use eureka_testkit::TestServer;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Client, Response};
use serde_json::Value;
use tokio::time::Instant;

const JSON: &str = "application/json";
const CLIENT_ID: &str = "x-eureka-client-id";

fn http() -> Client {
    Client::builder().no_gzip().build().unwrap()
}

async fn register(s: &TestServer, app: &str, id: &str) -> Response {
    s.register_json(app, id).await
}

/// `GET apps/delta` as the polling client `id`.
async fn poll(s: &TestServer, id: &str) -> Response {
    let r = http()
        .get(s.url("apps/delta"))
        .header(ACCEPT, JSON)
        .header(CLIENT_ID, id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r
}

/// Opens `GET watch{query}` and reads up to the snapshot, so the watcher is connected.
async fn watch(s: &TestServer, query: &str, id: Option<&str>) -> Response {
    let mut req = http().get(s.url(&format!("watch{query}")));
    if let Some(id) = id {
        req = req.header(CLIENT_ID, id);
    }
    let mut r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let first = r.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"id: "), "{first:?}");
    r
}

async fn drain(s: &TestServer, path: &str) -> Response {
    http().post(s.url(path)).send().await.unwrap()
}

async fn drain_json(s: &TestServer, path: &str) -> Value {
    let r = drain(s, path).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CONTENT_TYPE], JSON);
    r.json().await.unwrap()
}

/// Reads a stream until its body contains `needle`.
async fn read_until(w: &mut Response, needle: &str) {
    let mut seen = String::new();
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), w.chunk())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .expect("the stream is open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn drain_completes_once_both_watchers_were_sent_the_change_and_sets_the_override() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    let mut a = watch(&s, "", None).await;
    let mut b = watch(&s, "?apps=orders", Some("web-b")).await;
    let started = Instant::now();
    let body = drain_json(&s, "apps/ORDERS/o1/drain?wait=10").await;
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(body["complete"], true, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(body["watchers"]["seen"], 2);
    assert_eq!(body["watchers"]["total"], 2);
    // Both really got it.
    read_until(&mut a, "OUT_OF_SERVICE").await;
    read_until(&mut b, "OUT_OF_SERVICE").await;
    // The override is the registry's ordinary one.
    let overrides: Value = http()
        .get(format!("http://{}/serverinfo/statusoverrides", s.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overrides["o1"], "OUT_OF_SERVICE");
    let info = s.state.registry.get_instance("ORDERS", "o1").unwrap();
    assert_eq!(info.status.as_str(), "OUT_OF_SERVICE");
    s.stop().await;
}

#[tokio::test]
async fn a_watcher_of_another_app_does_not_count() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    let _orders = watch(&s, "", None).await;
    let _billing = watch(&s, "?apps=BILLING", Some("billing-watcher")).await;
    let body = drain_json(&s, "apps/ORDERS/o1/drain?wait=5").await;
    assert_eq!(body["complete"], true, "{body}");
    assert_eq!(body["watchers"]["total"], 1, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn an_identified_poller_is_pending_until_it_polls_again() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    poll(&s, "poller-1").await;
    // An unidentified poller is not waited for.
    http().get(s.url("apps/delta")).header(ACCEPT, JSON).send().await.unwrap();
    let held = tokio::spawn({
        let url = s.url("apps/ORDERS/o1/drain?wait=20");
        async move {
            let started = Instant::now();
            let body: Value = http().post(url).send().await.unwrap().json().await.unwrap();
            (body, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!held.is_finished(), "waits for poller-1");
    poll(&s, "poller-1").await;
    let (body, took) = held.await.unwrap();
    assert!(took < Duration::from_secs(5), "answered on the poll: {took:?}");
    assert_eq!(body["complete"], true, "{body}");
    assert_eq!(body["clients"]["seen"], serde_json::json!(["poller-1"]));
    assert_eq!(body["clients"]["pending"], serde_json::json!([]));
    s.stop().await;
}

#[tokio::test]
async fn a_client_following_the_stream_under_its_id_has_seen_it() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    // Polled (its periodic delta check) and watches under the same id.
    poll(&s, "web-1").await;
    let _w = watch(&s, "", Some("web-1")).await;
    let body = drain_json(&s, "apps/ORDERS/o1/drain?wait=5").await;
    assert_eq!(body["complete"], true, "{body}");
    assert_eq!(body["clients"]["seen"], serde_json::json!(["web-1"]));
    assert_eq!(body["watchers"]["seen"], 1);
    s.stop().await;
}

#[tokio::test]
async fn at_the_timeout_drain_reports_who_is_pending() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    poll(&s, "slow-poller").await;
    let started = Instant::now();
    let body = drain_json(&s, "apps/ORDERS/o1/drain?wait=1").await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(950) && took < Duration::from_secs(4), "{took:?}");
    assert_eq!(body["complete"], false, "{body}");
    assert_eq!(body["clients"]["pending"], serde_json::json!(["slow-poller"]));
    // The override is set even when not everyone saw it in time.
    let info = s.state.registry.get_instance("ORDERS", "o1").unwrap();
    assert_eq!(info.status.as_str(), "OUT_OF_SERVICE");
    s.stop().await;
}

#[tokio::test]
async fn bad_drains_are_refused_with_a_reason() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    let r = drain(&s, "apps/ORDERS/nope/drain").await;
    assert_eq!(r.status(), 404);
    for (wait, needle) in [("abc", "invalid wait 'abc'"), ("121", "from 0 to 120"), ("-1", "'-1'")]
    {
        let r = drain(&s, &format!("apps/ORDERS/o1/drain?wait={wait}")).await;
        assert_eq!(r.status(), 400, "{wait}");
        assert!(r.text().await.unwrap().contains(needle), "{wait}");
    }
    let r = http().get(s.url("apps/ORDERS/o1/drain")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["allow"].to_str().unwrap()), (405, "POST"));
    // Nothing was taken out of service by a refused drain.
    let info = s.state.registry.get_instance("ORDERS", "o1").unwrap();
    assert_eq!(info.status.as_str(), "UP");
    // A client id that is no id.
    let long = "x".repeat(300);
    for bad in ["two words", long.as_str()] {
        let r = http().get(s.url("apps/delta")).header(CLIENT_ID, bad).send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("X-Eureka-Client-Id"));
    }
    s.stop().await;
}

#[tokio::test]
async fn a_pending_drain_ends_on_shutdown() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    poll(&s, "never-again").await;
    let held = tokio::spawn(http().post(s.url("apps/ORDERS/o1/drain?wait=60")).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    s.stop().await;
    assert!(started.elapsed() < Duration::from_secs(3), "stopped in {:?}", started.elapsed());
    let body: Value = held.await.unwrap().unwrap().json().await.unwrap();
    assert_eq!(body["complete"], false, "{body}");
    assert_eq!(body["clients"]["pending"], serde_json::json!(["never-again"]));
}
