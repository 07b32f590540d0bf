//! Push on top of Eureka: the registry version header, the long-poll delta, the `watch`
//! change stream and drain, end to end over a real loopback socket.

use std::time::Duration;

use eureka_client::sse::{SseEvent, SseParser};
use eureka_testkit::fixtures::{java_json, now_ms};
use eureka_testkit::{find_instance, TestServer};
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
    s.register_json(app, id).await
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

/// An open `GET watch` and the events read from it so far.
struct Watch {
    response: Response,
    parser: SseParser,
    ready: std::collections::VecDeque<SseEvent>,
}

impl Watch {
    async fn open(s: &TestServer, query: &str, last_event_id: Option<u64>) -> Watch {
        let mut req = http().get(s.url(&format!("watch{query}")));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
        Watch { response, parser: SseParser::new(1 << 24), ready: Default::default() }
    }

    /// The next event (keep-alive comments skipped); `None` when the stream ended.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(e) = self.ready.pop_front() {
                return Some(e);
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.response.chunk())
                .await
                .expect("an event within 5 s")
                .ok()??;
            self.ready.extend(self.parser.push(&chunk).unwrap());
        }
    }

    async fn change(&mut self) -> (u64, serde_json::Value) {
        let e = self.next().await.expect("a change event");
        assert_eq!(e.event, "change", "{e:?}");
        (e.id.unwrap().parse().unwrap(), serde_json::from_str(&e.data).unwrap())
    }
}

#[tokio::test]
async fn watch_sends_a_snapshot_then_every_change_with_its_version() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    let mut w = Watch::open(&s, "", None).await;
    let snap = w.next().await.unwrap();
    assert_eq!((snap.event.as_str(), snap.id.as_deref()), ("snapshot", Some("1")));
    let apps = eureka_model::json::decode_applications(snap.data.as_bytes()).unwrap();
    assert!(find_instance(&apps, "o1").is_some());

    register(&s, "BILLING", "b1").await;
    let (v, body) = w.change().await;
    assert_eq!(v, 2);
    assert_eq!((body["action"].as_str(), body["app"].as_str()), (Some("ADDED"), Some("BILLING")));
    assert_eq!(body["instance"]["instanceId"], "b1", "the instance in Eureka's JSON shape");
    http().put(s.url("apps/ORDERS/o1/status?value=OUT_OF_SERVICE")).send().await.unwrap();
    let (v, body) = w.change().await;
    assert_eq!((v, body["action"].as_str()), (3, Some("MODIFIED")));
    assert_eq!(body["instance"]["status"], "OUT_OF_SERVICE");
    http().delete(s.url("apps/BILLING/b1")).send().await.unwrap();
    let (v, body) = w.change().await;
    assert_eq!((v, body["action"].as_str()), (4, Some("DELETED")));
    let watchers = s.scrape().await.get("eureka_watchers", &[]);
    assert_eq!(watchers, Some(1.0));
    s.stop().await;
}

#[tokio::test]
async fn last_event_id_resumes_without_loss_and_a_lost_position_gets_a_snapshot() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    register(&s, "ORDERS", "o2").await;
    register(&s, "ORDERS", "o3").await;
    let mut w = Watch::open(&s, "", Some(1)).await;
    assert_eq!(w.change().await.0, 2, "no snapshot: resumed after 1");
    assert_eq!(w.change().await.0, 3);
    drop(w);

    // Push version 1 out of the registry's change log (10,000 changes kept).
    let info = eureka_model::json::decode_instance(java_json("BULK", "x", 1).as_bytes()).unwrap();
    for _ in 0..10_000 {
        s.state.registry.register(info.clone(), eureka_registry::Origin::Client, now_ms());
    }
    let mut w = Watch::open(&s, "", Some(1)).await;
    let e = w.next().await.unwrap();
    assert_eq!((e.event.as_str(), e.id.as_deref()), ("snapshot", Some("10003")));
    assert_eq!(s.scrape().await.get("eureka_watch_resyncs_total", &[]), Some(1.0));
    s.stop().await;
}

#[tokio::test]
async fn apps_limits_the_stream_to_some_applications() {
    let s = TestServer::start().await;
    register(&s, "ORDERS", "o1").await;
    register(&s, "BILLING", "b1").await;
    let mut w = Watch::open(&s, "?apps=billing,Stock", None).await;
    let snap = w.next().await.unwrap();
    let apps = eureka_model::json::decode_applications(snap.data.as_bytes()).unwrap();
    let names: Vec<_> = apps.applications.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["BILLING"]);
    assert_eq!(apps.apps_hashcode, "UP_1_", "the hash of what was sent");
    register(&s, "ORDERS", "o2").await;
    register(&s, "STOCK", "s1").await;
    let (v, body) = w.change().await;
    assert_eq!((v, body["app"].as_str()), (4, Some("STOCK")), "ORDERS skipped");
    s.stop().await;
}

#[tokio::test]
async fn changes_replicated_from_a_peer_reach_watchers() {
    let s = TestServer::start().await;
    let mut w = Watch::open(&s, "", None).await;
    assert_eq!(w.next().await.unwrap().event, "snapshot");
    let r = http()
        .post(s.url("apps/ORDERS"))
        .header(CONTENT_TYPE, JSON)
        .header("x-netflix-discovery-replication", "true")
        .body(java_json("ORDERS", "o1", 8080))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, body) = w.change().await;
    assert_eq!(body["instance"]["instanceId"], "o1");
    s.stop().await;
}

#[tokio::test]
async fn watch_streams_end_on_shutdown_and_bad_resume_ids_are_refused() {
    let s = TestServer::start().await;
    let r = http().get(s.url("watch")).header("Last-Event-ID", "soon").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let mut w = Watch::open(&s, "", None).await;
    assert_eq!(w.next().await.unwrap().event, "snapshot");
    let started = Instant::now();
    s.stop().await;
    assert!(started.elapsed() < Duration::from_secs(3), "stopped in {:?}", started.elapsed());
    assert!(w.next().await.is_none(), "the stream ended");
}
