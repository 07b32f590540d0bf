//! Push on top of Eureka: the registry version header, the long-poll delta, the `watch`
//! change stream and drain, end to end over a real loopback socket.

use std::time::Duration;

use eureka_testkit::fixtures::java_json;
use eureka_testkit::TestServer;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Client, Response};
use tokio::time::Instant;

const JSON: &str = "application/json";
const VERSION: &str = "x-eureka-version";

fn http() -> Client {
    Client::builder().no_gzip().build().unwrap()
}

fn version(r: &Response) -> u64 {
    r.headers()[VERSION].to_str().unwrap().parse().unwrap()
}

async fn register(s: &TestServer, app: &str, id: &str) -> Response {
    let r = http()
        .post(s.url(&format!("apps/{app}")))
        .header(CONTENT_TYPE, JSON)
        .body(java_json(app, id, 8080))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    r
}

#[tokio::test]
async fn every_answer_carries_the_registry_version_and_every_change_advances_it() {
    let s = TestServer::start().await;
    let get = |path: &'static str| http().get(s.url(path)).header(ACCEPT, JSON).send();
    assert_eq!(version(&get("apps").await.unwrap()), 0);
    let v1 = version(&register(&s, "ORDERS", "o1").await);
    assert_eq!(v1, 1, "a write's answer names the version that holds it");
    for path in ["apps", "apps/delta", "apps/ORDERS", "apps/ORDERS/o1", "vips/orders", "status"] {
        let r = get(path).await.unwrap();
        assert_eq!(version(&r), 1, "{path}");
    }
    // Status override, metadata, override removal and cancel each advance it; a renew does not.
    let c = http();
    let put = c.put(s.url("apps/ORDERS/o1/status?value=OUT_OF_SERVICE")).send().await.unwrap();
    assert_eq!(version(&put), 2);
    let r = c.put(s.url("apps/ORDERS/o1")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), version(&r)), (200, 2));
    let r = c.put(s.url("apps/ORDERS/o1/metadata?k=v")).send().await.unwrap();
    assert_eq!(version(&r), 3);
    let r = c.delete(s.url("apps/ORDERS/o1/status?value=UP")).send().await.unwrap();
    assert_eq!(version(&r), 4);
    let r = c.delete(s.url("apps/ORDERS/o1")).send().await.unwrap();
    assert_eq!(version(&r), 5);
    assert_eq!(version(&get("apps").await.unwrap()), 5);
    s.stop().await;
}

async fn long_poll(s: &TestServer, query: &str) -> Response {
    http().get(s.url(&format!("apps/delta?{query}"))).header(ACCEPT, JSON).send().await.unwrap()
}

#[tokio::test]
async fn long_poll_delta_answers_as_soon_as_the_registry_changes() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    // Older than the registry: answered at once with the ordinary delta.
    let started = Instant::now();
    let r = long_poll(&s, "since=0&wait=30").await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!((r.status().as_u16(), version(&r)), (200, 1));
    // Up to date: held until a change, then answered with it.
    let held = tokio::spawn({
        let url = s.url("apps/delta?since=1&wait=30");
        async move {
            let started = Instant::now();
            let r = http().get(url).header(ACCEPT, JSON).send().await.unwrap();
            let v = version(&r);
            (v, r.text().await.unwrap(), started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!held.is_finished(), "held while nothing changes");
    register(&s, "BILLING", "b1").await;
    let (v, body, took) = held.await.unwrap();
    assert_eq!(v, 2);
    assert!(body.contains(r#""instanceId":"b1""#), "{body}");
    assert!(took < Duration::from_secs(5), "answered on the change, not the timeout: {took:?}");
    s.stop().await;
}

#[tokio::test]
async fn long_poll_times_out_with_the_unchanged_registry() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    let started = Instant::now();
    let r = long_poll(&s, "since=1&wait=1").await;
    let took = started.elapsed();
    assert_eq!((r.status().as_u16(), version(&r)), (200, 1));
    assert!(took >= Duration::from_millis(950) && took < Duration::from_secs(5), "{took:?}");
    s.stop().await;
}

#[tokio::test]
async fn long_poll_parameters_are_validated() {
    let s = TestServer::start().await;
    for (query, needle) in
        [("since=abc", "invalid since 'abc'"), ("since=0&wait=-1", "invalid wait '-1'")]
    {
        let r = long_poll(&s, query).await;
        assert_eq!(r.status(), 400, "{query}");
        assert!(r.text().await.unwrap().contains(needle), "{query}");
    }
    s.stop().await;
}

#[tokio::test]
async fn without_since_the_delta_is_eurekas_and_never_held() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    let started = Instant::now();
    // `wait` alone means nothing to Eureka: answered at once, as Java clients expect.
    let r = long_poll(&s, "wait=30").await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let body = r.text().await.unwrap();
    assert!(body.contains(r#""versions__delta":"1""#) && body.contains("ADDED"), "{body}");
    s.stop().await;
}

#[tokio::test]
async fn a_held_long_poll_does_not_hold_up_shutdown() {
    let s = TestServer::start().await;
    let held =
        tokio::spawn(http().get(s.url("apps/delta?since=0&wait=60")).header(ACCEPT, JSON).send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    s.stop().await;
    assert!(started.elapsed() < Duration::from_secs(3), "stopped in {:?}", started.elapsed());
    let r = held.await.unwrap().unwrap();
    assert_eq!(r.status(), 200, "answered with the unchanged registry");
}
