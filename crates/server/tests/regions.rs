//! Remote regions end to end: two of our servers as two regions ("west" holds some
//! instances; "east" follows it), over real sockets, with 1 s remote fetches.

use std::time::Duration;

use eureka_client::cache::{refresh, LocalRegistry, Refreshed};
use eureka_client::{EurekaHttp, Timeouts};
use eureka_model::{json, xml, Applications};
use eureka_server::Clock;
use eureka_testkit::fixtures::{config, java_json};
use eureka_testkit::{eventually_within, TestServer};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::Client;

const JSON: &str = "application/json";
/// A remote fetch every second; allow a loaded machine a few rounds.
const FETCHED: Duration = Duration::from_secs(10);
const T: Timeouts = Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(5) };

fn http() -> Client {
    Client::builder().timeout(Duration::from_secs(5)).build().unwrap()
}

async fn register(s: &TestServer, app: &str, id: &str) {
    let r = http()
        .post(s.url(&format!("apps/{app}")))
        .header(CONTENT_TYPE, JSON)
        .body(java_json(app, id, 8080))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "register {app}/{id}");
}

async fn cancel(s: &TestServer, app: &str, id: &str) {
    let r = http().delete(s.url(&format!("apps/{app}/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), 200, "cancel {app}/{id}");
}

async fn get(s: &TestServer, path: &str) -> (u16, String) {
    let r = http().get(s.url(path)).header(ACCEPT, JSON).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn apps(s: &TestServer, path: &str) -> Applications {
    let (code, body) = get(s, path).await;
    assert_eq!(code, 200, "GET {path}: {body}");
    json::decode_applications(body.as_bytes()).unwrap()
}

fn ids(apps: &Applications) -> Vec<String> {
    let mut ids: Vec<String> = apps.instances().map(|i| format!("{}/{}", i.app, i.id())).collect();
    ids.sort();
    ids
}

/// "west" with two applications.
async fn west() -> TestServer {
    let west = TestServer::start().await;
    register(&west, "ORDERS", "w-orders").await;
    register(&west, "PAY", "w-pay").await;
    west
}

/// "east", following `west` every second, with `extra` settings.
async fn east(west: &TestServer, extra: &[(&str, &str)]) -> TestServer {
    let url = west.service_url();
    let mut settings = vec![
        ("eureka.region", "east"),
        ("eureka.server.remote-region-urls-with-name.west", url.as_str()),
        ("eureka.server.remote-region-registry-fetch-interval", "1"),
    ];
    settings.extend_from_slice(extra);
    let east = TestServer::start_with(config(&settings), Clock::System).await;
    register(&east, "ORDERS", "e-orders").await;
    east
}

/// Waits until east's copy of west holds `expected` instances.
async fn until_copy_holds(east: &TestServer, expected: usize) {
    eventually_within(FETCHED, &format!("east's copy of west holds {expected}"), async || {
        let stats = east.state.remote.regions.stats();
        stats[0].last_success_ms.is_some() && stats[0].instances == expected
    })
    .await;
}

#[tokio::test]
async fn reads_that_ask_for_a_region_merge_it_and_hash_the_merged_set() {
    let west = west().await;
    let east = east(&west, &[]).await;
    until_copy_holds(&east, 2).await;

    let merged = apps(&east, "apps?regions=west").await;
    assert_eq!(ids(&merged), ["ORDERS/e-orders", "ORDERS/w-orders", "PAY/w-pay"]);
    assert_eq!(merged.apps_hashcode, "UP_3_");
    // Names are matched lower-cased; the local region and unknown names add nothing.
    let asked = apps(&east, "apps/?regions=WEST,east,nowhere").await;
    assert_eq!(ids(&asked), ids(&merged));
    let local_only = apps(&east, "apps?regions=nowhere").await;
    assert_eq!(ids(&local_only), ["ORDERS/e-orders"]);
    // Transparent fallback (on by default): a read without regions= includes every region,
    // and lookups of what is not local find it in a region.
    assert_eq!(ids(&apps(&east, "apps").await), ids(&merged));
    let (code, body) = get(&east, "apps/PAY").await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("w-pay"));
    let (code, body) = get(&east, "instances/w-pay").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(get(&east, "apps/PAY/w-pay").await.0, 200);
    let vip = apps(&east, "vips/orders").await;
    assert_eq!(ids(&vip), ["ORDERS/e-orders", "ORDERS/w-orders"]);
    // XML carries the same merged registry, and instances keep their data-center info.
    let r = http().get(east.url("apps?regions=west")).send().await.unwrap();
    let xml = xml::decode_applications(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(ids(&xml), ids(&merged));
    let remote = merged.instances().find(|i| i.id() == "w-pay").unwrap();
    assert_eq!(remote.data_center_info, Some(Default::default()));
    // West's own view is untouched: regions are not replicated.
    assert_eq!(ids(&apps(&west, "apps").await), ["ORDERS/w-orders", "PAY/w-pay"]);
}

#[tokio::test]
async fn a_client_holding_the_merged_registry_reconciles_merged_deltas() {
    let west = west().await;
    let east = east(&west, &[]).await;
    until_copy_holds(&east, 2).await;
    let server = EurekaHttp::new(&east.service_url(), T).unwrap().with_regions("west");
    let mut copy = LocalRegistry::default();
    assert_eq!(refresh(&server, &mut copy, true).await.unwrap(), Refreshed::Full);
    assert_eq!(copy.len(), 3);

    // The first fetch recorded west's two instances as added.
    let mut changes = 2;
    let mut gone = ("PAY".to_string(), "w-pay".to_string());
    for round in 0..3 {
        // Changes in both regions: a remote registration and cancellation, a local one.
        let ship = format!("w-ship-{round}");
        register(&west, "SHIP", &ship).await;
        cancel(&west, &gone.0, &gone.1).await;
        gone = ("SHIP".to_string(), ship);
        register(&east, "ORDERS", &format!("e-extra-{round}")).await;
        changes += 2;
        eventually_within(FETCHED, "east fetched west's changes", async || {
            east.state.remote.regions.stats()[0].recent_changes >= changes
        })
        .await;
        assert_eq!(
            refresh(&server, &mut copy, true).await.unwrap(),
            Refreshed::Delta,
            "round {round}: the delta must reconcile without a full fetch"
        );
    }
    let full = apps(&east, "apps?regions=west").await;
    assert_eq!(copy.hash_code(), full.apps_hashcode);
    assert_eq!(ids(&copy.to_applications()), ids(&full));
    assert!(ids(&full).contains(&"SHIP/w-ship-2".to_string()));
}

#[tokio::test]
async fn whitelists_limit_what_a_region_serves_fallback_included() {
    let west = west().await;
    let per_region =
        east(&west, &[("eureka.server.remote-region-app-whitelist.west", "pay")]).await;
    until_copy_holds(&per_region, 2).await;
    let merged = apps(&per_region, "apps?regions=west").await;
    assert_eq!(ids(&merged), ["ORDERS/e-orders", "PAY/w-pay"]);
    register(&west, "SECRET", "w-secret").await;
    until_copy_holds(&per_region, 3).await;
    assert_eq!(get(&per_region, "apps/SECRET").await.0, 404);
    assert_eq!(get(&per_region, "instances/w-secret").await.0, 404);
    assert_eq!(get(&per_region, "apps/PAY").await.0, 200);

    // A global whitelist applies to regions without their own.
    let global =
        east(&west, &[("eureka.server.remote-region-app-whitelist.global", "SECRET")]).await;
    until_copy_holds(&global, 3).await;
    assert_eq!(
        ids(&apps(&global, "apps?regions=west").await),
        ["ORDERS/e-orders", "SECRET/w-secret"]
    );
}

#[tokio::test]
async fn without_transparent_fallback_only_reads_that_ask_get_the_region() {
    let west = west().await;
    let east =
        east(&west, &[("eureka.server.disable-transparent-fallback-to-other-region", "true")])
            .await;
    until_copy_holds(&east, 2).await;
    assert_eq!(ids(&apps(&east, "apps").await), ["ORDERS/e-orders"]);
    assert_eq!(get(&east, "apps/PAY").await.0, 404);
    assert_eq!(get(&east, "instances/w-pay").await.0, 404);
    assert_eq!(apps(&east, "apps?regions=west").await.applications.len(), 2);
    let (_, delta) = get(&east, "apps/delta").await;
    assert!(!delta.contains("w-pay"), "a plain delta is local only: {delta}");
    let (_, delta) = get(&east, "apps/delta?regions=west").await;
    assert!(delta.contains("w-pay"), "the region's recent changes: {delta}");
}

#[tokio::test]
async fn region_reads_are_refused_until_the_region_answered_and_a_lost_region_is_kept_or_expires() {
    // A region nobody answers for: reads asking for it get 403, as Java's.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/eureka/", closed.local_addr().unwrap());
    drop(closed);
    let lonely = TestServer::start_with(
        config(&[
            ("eureka.server.remote-region-urls-with-name.gone", dead.as_str()),
            ("eureka.server.remote-region-registry-fetch-interval", "1"),
        ]),
        Clock::System,
    )
    .await;
    let (code, body) = get(&lonely, "apps?regions=gone").await;
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("remote regions not fetched yet"), "{body}");
    assert_eq!(get(&lonely, "apps").await.0, 200, "reads without regions= are not held");
    eventually_within(FETCHED, "the failure shows in status", async || {
        let (_, status) = get(&lonely, "status").await;
        status.contains("\"lastError\":\"cannot connect")
    })
    .await;

    // A region that answered, then went away: its copy is served for its lifetime.
    let west = west().await;
    let east = east(&west, &[("eureka.server.remote-region-cache-lifetime", "5s")]).await;
    until_copy_holds(&east, 2).await;
    west.stop().await;
    eventually_within(FETCHED, "a failed fetch of west", async || {
        east.state.remote.links[0].health().consecutive_failures > 0
    })
    .await;
    assert_eq!(apps(&east, "apps?regions=west").await.applications.len(), 2, "still served");
    eventually_within(FETCHED, "west's copy expires", async || {
        apps(&east, "apps?regions=west").await.applications.len() == 1
    })
    .await;
    let (_, status) = get(&east, "status").await;
    assert!(status.contains("\"expired\":true"), "{status}");
    let metrics = east.scrape().await;
    assert_eq!(metrics.get("eureka_remote_region_served", &[("region", "west")]), Some(0.0));
}

#[tokio::test]
async fn status_and_metrics_describe_each_region() {
    let west = west().await;
    let east = east(&west, &[]).await;
    until_copy_holds(&east, 2).await;
    let (_, status) = get(&east, "status").await;
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let region = &status["remoteRegions"][0];
    assert_eq!(region["name"], "west");
    assert_eq!(region["url"], west.service_url());
    assert_eq!(region["served"], true);
    assert_eq!(region["servedInstances"], 2);
    assert!(region["lastSuccessMs"].as_u64().is_some());
    assert_eq!(status["region"], "east");
    let metrics = east.scrape().await;
    let up = [("region", "west"), ("status", "UP")];
    assert_eq!(metrics.get("eureka_remote_region_instances", &up), Some(2.0));
    assert_eq!(metrics.get("eureka_remote_region_served", &[("region", "west")]), Some(1.0));
    assert!(metrics.sum("eureka_remote_region_full_fetches_total", &[("region", "west")]) >= 1.0);
    // The console lists the remote instances with their region.
    let console = http().get(format!("http://{}/api/console", east.addr)).send().await.unwrap();
    let console: serde_json::Value = console.json().await.unwrap();
    let listed = &console["remoteRegions"][0]["instanceList"];
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{console}");
    assert_eq!(listed[0]["region"], "west");
    // The page's polled summary carries the regions' status, and their instances only when
    // it asks (the list is open).
    let summary = async |query: &str| -> serde_json::Value {
        let url = format!("http://{}/api/console/summary{query}", east.addr);
        http().get(url).send().await.unwrap().json().await.unwrap()
    };
    let lean = summary("").await;
    assert_eq!(lean["remoteRegions"][0]["servedInstances"], 2, "{lean}");
    assert!(lean["remoteRegions"][0].get("instanceList").is_none(), "{lean}");
    let full = summary("?remote=1").await;
    assert_eq!(full["remoteRegions"][0]["instanceList"].as_array().map(Vec::len), Some(2));
}
