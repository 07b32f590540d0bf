//! Push on top of Eureka: the registry version header, the long-poll delta, the `watch`
//! change stream and drain, end to end over a real loopback socket.

use eureka_testkit::fixtures::java_json;
use eureka_testkit::TestServer;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Client, Response};

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
