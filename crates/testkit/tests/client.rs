//! The Rust discovery client against our server on a real socket: registration, renewals,
//! re-registration after a lost lease, discovery by deltas with hash reconciliation, status
//! pushes, fail-over, XML, redirects and shutdown.

use std::time::Duration;

use eureka_client::{
    ClientBuilder, DiscoveryClient, EurekaHttp, Failover, Format, InstanceStatus, Timeouts,
};
use eureka_server::state::RequestKind;
use eureka_testkit::fixtures::{fast_client, loopback_instance as instance};
use eureka_testkit::{eventually, eventually_within, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const T: Timeouts = Timeouts { connect: Duration::from_secs(1), request: Duration::from_secs(2) };

fn builder(server: &TestServer) -> ClientBuilder {
    fast_client(&server.service_url())
}

#[tokio::test]
async fn registers_renews_and_cancels_on_shutdown() {
    let server = TestServer::start().await;
    let client = builder(&server).register(instance("orders", 8080)).start().await.unwrap();
    assert!(client.is_registered());
    let id = "127.0.0.1:orders:8080";
    let registered = server.state.registry.find_instance(id).expect("registered at start");
    assert_eq!(registered.app, "ORDERS");
    assert_eq!(registered.vip_address.as_deref(), Some("orders"));

    let renews = || server.state.requests.get(RequestKind::Renew);
    eventually("two renewals", async || renews() >= 2).await;
    assert_eq!(server.state.requests.get(RequestKind::RenewNotFound), 0);

    client.shutdown().await;
    assert!(server.state.registry.find_instance(id).is_none(), "lease cancelled on shutdown");
}

#[tokio::test]
async fn registers_again_when_the_server_lost_the_lease() {
    let server = TestServer::start().await;
    let client = builder(&server).register(instance("orders", 8081)).start().await.unwrap();
    let id = "127.0.0.1:orders:8081";
    // An operator (or an eviction) removes the lease behind the client's back.
    EurekaHttp::new(&server.service_url(), T).unwrap().cancel("ORDERS", id).await.unwrap();
    assert!(server.state.registry.find_instance(id).is_none());
    eventually("re-registration after a 404 renewal", async || {
        server.state.registry.find_instance(id).is_some()
    })
    .await;
    assert!(server.state.requests.get(RequestKind::RenewNotFound) >= 1);
    client.shutdown().await;
}

#[tokio::test]
async fn discovers_changes_by_deltas_without_full_fetches() {
    let server = TestServer::start().await;
    // Polling as against a Java server: the stream is covered by its own test.
    let watcher = builder(&server).configure(|c| c.use_watch = false).start().await.unwrap();
    let mut updates = watcher.subscribe();
    assert!(watcher.snapshot().is_empty());
    updates.borrow_and_update();

    let billing = builder(&server)
        .fetch_registry(false)
        .register(instance("billing", 9000).metadata("zone", "a"))
        .start()
        .await
        .unwrap();
    eventually("the new instance reaches the watcher", async || {
        watcher.instances("BILLING").len() == 1
    })
    .await;
    assert!(updates.has_changed().unwrap(), "subscribers are told");
    let seen = updates.borrow_and_update().clone();
    assert!(seen.changes().iter().any(|c| c.instance().app == "BILLING"));
    assert_eq!(seen.instances("billing")[0].metadata.get("zone").map(String::as_str), Some("a"));
    assert_eq!(watcher.instances_by_vip("BILLING").len(), 1, "VIP lookups are case-insensitive");

    // From here the watcher's registry is not empty, so it refreshes by delta; the server's
    // hash must match what the client computes, or it would fall back to full fetches.
    let full_before = server.state.requests.get(RequestKind::FullFetch);
    let deltas_before = server.state.requests.get(RequestKind::DeltaFetch);
    billing.set_status(InstanceStatus::Down);
    eventually("the status change reaches the watcher", async || {
        watcher.instances("billing").is_empty()
            && watcher.snapshot().all_instances("billing").len() == 1
    })
    .await;
    billing.set_status(InstanceStatus::Up);
    billing.take_out_of_service().await.unwrap();
    eventually("the override reaches the watcher", async || {
        let snap = watcher.snapshot();
        snap.all_instances("billing").first().map(|i| i.status)
            == Some(InstanceStatus::OutOfService)
    })
    .await;
    billing.return_to_service().await.unwrap();
    eventually("the return to service reaches the watcher", async || {
        watcher.instances("billing").len() == 1
    })
    .await;
    assert!(server.state.requests.get(RequestKind::DeltaFetch) > deltas_before);
    assert_eq!(
        server.state.requests.get(RequestKind::FullFetch),
        full_before,
        "a delta did not reconcile with the server's hash"
    );

    billing.shutdown().await;
    eventually("the cancel reaches the watcher", async || {
        watcher.snapshot().all_instances("billing").is_empty()
    })
    .await;
    watcher.shutdown().await;
}

#[tokio::test]
async fn fails_over_from_a_dead_server_and_remembers_the_live_one() {
    let server = TestServer::start().await;
    let dead = TestServer::listener().await;
    let dead_url = format!("http://{}/eureka/", dead.local_addr().unwrap());
    drop(dead);
    let urls = format!("{dead_url},{}", server.service_url());
    let api = Failover::from_urls(&urls, T).unwrap().in_order();
    let client = ClientBuilder::new(&urls).register(instance("orders", 8082)).start_with(api).await;
    assert!(client.is_registered());
    assert_eq!(client.api().current().url(), server.service_url(), "sticks to the live server");
    assert!(server.state.registry.find_instance("127.0.0.1:orders:8082").is_some());
    client.shutdown().await;
}

#[tokio::test]
async fn speaks_xml_when_asked() {
    let server = TestServer::start().await;
    let client: DiscoveryClient = builder(&server)
        .configure(|c| c.format = Format::Xml)
        .register(instance("xml-app", 8083).metadata("k", "v"))
        .start()
        .await
        .unwrap();
    let stored = server.state.registry.find_instance("127.0.0.1:xml-app:8083").unwrap();
    assert_eq!(stored.metadata.get("k").map(String::as_str), Some("v"));
    client.refresh_now().await.unwrap();
    assert_eq!(client.snapshot().all_instances("XML-APP").len(), 1);
    let http = EurekaHttp::new(&server.service_url(), T).unwrap().with_format(Format::Xml);
    let app = http.application("xml-app").await.unwrap();
    assert_eq!(app.instances.len(), 1);
    client.shutdown().await;
}

#[tokio::test]
async fn operator_calls_override_status_and_metadata() {
    let server = TestServer::start().await;
    let client = builder(&server).register(instance("ops", 8084)).start().await.unwrap();
    let id = "127.0.0.1:ops:8084";
    let http = EurekaHttp::new(&server.service_url(), T).unwrap();
    http.set_status_override("ops", id, InstanceStatus::OutOfService, 0).await.unwrap();
    assert_eq!(http.instance("OPS", id).await.unwrap().status, InstanceStatus::OutOfService);
    http.delete_status_override("ops", id, Some(InstanceStatus::Up), 0).await.unwrap();
    http.update_metadata("ops", id, &[("build".into(), "a b&c".into())]).await.unwrap();
    let info = http.instance_by_id(id).await.unwrap();
    assert_eq!(info.status, InstanceStatus::Up);
    assert_eq!(info.metadata.get("build").map(String::as_str), Some("a b&c"));
    let err = http.instance("OPS", "nobody").await.unwrap_err();
    assert!(matches!(err, eureka_client::TransportError::Status { status: 404, .. }), "{err}");
    client.shutdown().await;
}

/// A server that answers every request with a redirect to `target` + the same path.
async fn redirector(target: String) -> String {
    let listener = TestServer::listener().await;
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = conn.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let reply = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {target}{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    path.trim_start_matches('/')
                );
                let _ = conn.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/")
}

#[tokio::test]
async fn follows_redirects() {
    let server = TestServer::start().await;
    let target = format!("http://{}/", server.addr);
    let front = redirector(target).await;
    let client = builder(&server).register(instance("moved", 8085)).start().await.unwrap();
    let http = EurekaHttp::new(&format!("{front}eureka/"), T).unwrap();
    let apps = http.applications().await.unwrap();
    assert!(apps.instances().any(|i| i.id() == "127.0.0.1:moved:8085"));
    client.shutdown().await;
}

#[tokio::test]
async fn follows_the_change_stream_so_changes_arrive_long_before_the_next_poll() {
    let server = TestServer::start().await;
    // A 60 s poll: only the stream can explain a change seen within a second or two.
    let watcher = fast_client(&server.service_url())
        .registry_fetch_interval(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    eventually("the stream is open", async || server.state.watch.watcher_count() == 1).await;
    let mut changes = watcher.subscribe();
    let service = builder(&server).register(instance("orders", 8080)).start().await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(2),
        changes.wait_for(|s| !s.instances("ORDERS").is_empty()),
    )
    .await
    .expect("registration seen through the stream")
    .unwrap();
    service.take_out_of_service().await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(2),
        changes.wait_for(|s| s.instances("ORDERS").is_empty()),
    )
    .await
    .expect("OUT_OF_SERVICE seen through the stream (lookups return UP instances)")
    .unwrap();
    let deltas = server.state.requests.get(RequestKind::DeltaFetch);
    assert_eq!(deltas, 0, "no polling while the stream is up");
    service.shutdown().await;
    watcher.shutdown().await;
    eventually("the stream is closed", async || server.state.watch.watcher_count() == 0).await;
}

#[tokio::test]
async fn registers_and_discovers_over_mutual_tls_with_a_private_ca() {
    use eureka_server::config::ClientAuth;
    let ca = eureka_testkit::tls::TestCa::new("client");
    let mut config = eureka_server::ServerConfig::default();
    ca.configure(&mut config, &ca.server("server"), ClientAuth::Need);
    let server = TestServer::start_with(config, eureka_server::Clock::System).await;

    // Without the client certificate the server refuses the handshake: nothing registers.
    let anonymous = builder(&server)
        .tls(ca.tls_options(None))
        .register(instance("orders", 8082))
        .start()
        .await
        .unwrap();
    assert!(!anonymous.is_registered());
    anonymous.shutdown().await;

    let client = builder(&server)
        .tls(ca.tls_options(Some(&ca.server("orders-1"))))
        .register(instance("orders", 8083))
        .start()
        .await
        .unwrap();
    assert!(client.is_registered());
    eventually("the client sees itself", async || !client.instances("orders").is_empty()).await;
    assert!(server.state.registry.find_instance("127.0.0.1:orders:8082").is_none());
    client.shutdown().await;
    assert!(server.state.registry.find_instance("127.0.0.1:orders:8083").is_none());
}

/// Zones: the client registers with a server of its own zone, its lookups prefer instances of
/// its zone while that zone has one UP, and it moves to the other zone's server when its own
/// is gone.
#[tokio::test]
async fn prefers_its_own_zone_and_falls_back_when_it_is_empty() {
    let zone_a = TestServer::start().await;
    let zone_b = TestServer::start().await;
    // The instances to call, registered in zone b's server (which the client reads from).
    for (id, zone) in [("t-a", "zone-a"), ("t-b", "zone-b")] {
        let info = eureka_client::Instance::new("target", 7000)
            .instance_id(id)
            .host_name(id)
            .ip_addr("127.0.0.1")
            .metadata("zone", zone)
            .to_instance_info();
        EurekaHttp::new(&zone_b.service_url(), T).unwrap().register(&info).await.unwrap();
    }
    let a = zone_a.service_url();
    let b = zone_b.service_url();
    let client = ClientBuilder::new("")
        .zones("zone-b", [("zone-a", a.as_str()), ("zone-b", b.as_str())])
        .prefer_zone_instances(true)
        .configure(|c| {
            c.registry_fetch_interval = Duration::from_millis(200);
            c.use_watch = false;
            c.timeouts = T;
        })
        .register(instance("caller", 7100).metadata("zone", "zone-b"))
        .start()
        .await
        .unwrap();
    let id = "127.0.0.1:caller:7100";
    assert!(zone_b.state.registry.find_instance(id).is_some(), "registered in its own zone");
    assert!(zone_a.state.registry.find_instance(id).is_none());

    let chooser = client.chooser("target", eureka_client::Strategy::RoundRobin);
    for _ in 0..4 {
        assert_eq!(chooser.choose().unwrap().id(), "t-b", "its own zone's instance");
    }
    assert_eq!(client.snapshot().instances_any_zone("target").len(), 2);
    // Its zone has nothing UP any more: every zone's UP instances.
    let http = EurekaHttp::new(&b, T).unwrap();
    http.set_status_override("TARGET", "t-b", InstanceStatus::OutOfService, 0).await.unwrap();
    eventually("the lookup falls back to the other zone", async || {
        chooser.choose().is_some_and(|i| i.id() == "t-a")
    })
    .await;

    // Its zone's server goes away: heartbeats move to zone a, which registers the caller.
    zone_b.stop().await;
    eventually_within(Duration::from_secs(10), "re-registered in the other zone", async || {
        zone_a.state.registry.find_instance(id).is_some()
    })
    .await;
    client.shutdown().await;
}
