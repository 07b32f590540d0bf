//! TLS on the listener (`server.ssl.*`): HTTPS for clients that trust the CA, refused
//! handshakes for those that do not, client certificates (mTLS) for peers, two nodes
//! replicating over mTLS, and start-up errors that name the key at fault.
//!
//! Certificates are made per test by `eureka_testkit::tls::TestCa`.

use std::time::Duration;

use eureka_client::{EurekaHttp, Timeouts};
use eureka_server::config::ClientAuth;
use eureka_server::{Clock, ServerConfig, ServerState};
use eureka_testkit::fixtures::java_json;
use eureka_testkit::prom::Scrape;
use eureka_testkit::tls::TestCa;
use eureka_testkit::{eventually, find_instance, TestServer};
use reqwest::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUTS: Timeouts =
    Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(5) };

/// A server with TLS from `ca`, verifying client certificates as `client_auth` says.
async fn tls_server(ca: &TestCa, client_auth: ClientAuth) -> TestServer {
    let mut config = ServerConfig::default();
    ca.configure(&mut config, &ca.server("server"), client_auth);
    TestServer::start_with(config, Clock::System).await
}

async fn register(http: &Client, s: &TestServer, app: &str, id: &str) -> reqwest::Result<u16> {
    let r = http
        .post(s.url(&format!("apps/{app}")))
        .header("Content-Type", "application/json")
        .body(java_json(app, id, 8080))
        .send()
        .await?;
    Ok(r.status().as_u16())
}

async fn scrape(http: &Client, s: &TestServer) -> Scrape {
    let url = format!("{}://{}/metrics", s.scheme(), s.addr);
    let text = http.get(&url).send().await.unwrap().text().await.unwrap();
    Scrape::parse(&text).unwrap()
}

#[tokio::test]
async fn a_client_that_trusts_the_ca_registers_and_fetches_over_https() {
    let ca = TestCa::new("https");
    let s = tls_server(&ca, ClientAuth::None).await;
    assert!(s.service_url().starts_with("https://"), "{}", s.service_url());
    let http = ca.client(None);
    assert_eq!(register(&http, &s, "ORDERS", "o1").await.unwrap(), 204);

    // The Rust client's transport, told about the CA.
    let eureka = EurekaHttp::with_tls(&s.service_url(), TIMEOUTS, &ca.tls_options(None)).unwrap();
    let apps = eureka.applications().await.unwrap();
    assert!(find_instance(&apps, "o1").is_some());
    assert!(s.state.registry.get_instance("ORDERS", "o1").is_some());
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_fails_the_handshake() {
    let ca = TestCa::new("untrusted");
    let s = tls_server(&ca, ClientAuth::None).await;
    let stranger = Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let err = register(&stranger, &s, "ORDERS", "o1").await.expect_err("untrusted certificate");
    assert!(err.is_connect(), "{err:?}");
    let other_ca = TestCa::new("other");
    let err = register(&other_ca.client(None), &s, "ORDERS", "o1").await.expect_err("wrong CA");
    assert!(err.is_connect(), "{err:?}");
    assert!(s.state.registry.get_instance("ORDERS", "o1").is_none());

    // Both are counted as failed handshakes (the client closes on our certificate).
    let failures =
        async || scrape(&ca.client(None), &s).await.get("eureka_tls_handshake_failures_total", &[]);
    eventually("two failed handshakes counted", async || failures().await >= Some(2.0)).await;
}

#[tokio::test]
async fn plain_http_to_the_tls_port_gets_no_http_answer() {
    let ca = TestCa::new("plain");
    let s = tls_server(&ca, ClientAuth::None).await;
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    tcp.write_all(b"GET /eureka/apps HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server kept a plain-HTTP connection open");
    assert!(!answer.starts_with(b"HTTP/"), "{:?}", String::from_utf8_lossy(&answer));
    // The connection was closed; the server still serves TLS clients.
    let health = ca.client(None).get(format!("https://{}/health", s.addr)).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_silent_client_is_dropped_after_the_connection_timeout() {
    let ca = TestCa::new("silent");
    let mut config = ServerConfig::default();
    ca.configure(&mut config, &ca.server("server"), ClientAuth::None);
    config.limits.connection_timeout = Duration::from_millis(300);
    let s = TestServer::start_with(config, Clock::System).await;
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await;
    assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "expected a close, got {n:?}");
    assert!(started.elapsed() >= Duration::from_millis(250), "closed too early");
    assert_eq!(s.state.connections.handshake_failures(), 1);
}

#[tokio::test]
async fn need_client_auth_refuses_missing_and_foreign_certificates() {
    let ca = TestCa::new("mtls");
    let s = tls_server(&ca, ClientAuth::Need).await;

    let anonymous = ca.client(None);
    assert!(register(&anonymous, &s, "ORDERS", "o1").await.is_err(), "no client certificate");

    let other_ca = TestCa::new("mtls-other");
    let foreign = ca.client(Some(&other_ca.server("intruder")));
    assert!(register(&foreign, &s, "ORDERS", "o1").await.is_err(), "certificate of another CA");
    assert!(s.state.registry.get_instance("ORDERS", "o1").is_none());

    let peer = ca.client(Some(&ca.server("peer")));
    assert_eq!(register(&peer, &s, "ORDERS", "o1").await.unwrap(), 204);
    assert!(s.state.registry.get_instance("ORDERS", "o1").is_some());
}

#[tokio::test]
async fn want_client_auth_serves_anonymous_clients_but_refuses_foreign_certificates() {
    let ca = TestCa::new("want");
    let s = tls_server(&ca, ClientAuth::Want).await;
    assert_eq!(register(&ca.client(None), &s, "ORDERS", "o1").await.unwrap(), 204);
    let other_ca = TestCa::new("want-other");
    let foreign = ca.client(Some(&other_ca.server("intruder")));
    assert!(register(&foreign, &s, "ORDERS", "o2").await.is_err());
    assert!(s.state.registry.get_instance("ORDERS", "o2").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_replicate_over_mutual_tls() {
    let ca = TestCa::new("cluster");
    let (la, lb) = (TestServer::listener().await, TestServer::listener().await);
    let url = |l: &tokio::net::TcpListener| {
        format!("https://localhost:{}/eureka/", l.local_addr().unwrap().port())
    };
    let (url_a, url_b) = (url(&la), url(&lb));
    let node = |name: &str, peer: String| {
        let mut config = ServerConfig::default();
        let cert = ca.server(name);
        ca.configure(&mut config, &cert, ClientAuth::Need);
        config.peer_tls.trust_certificate = Some(ca.ca_pem.clone());
        config.peer_tls.certificate = Some(cert.cert.clone());
        config.peer_tls.certificate_private_key = Some(cert.key.clone());
        config.extra_peer_urls = vec![peer];
        config.peer_replication_batch_delay = Duration::ZERO;
        config
    };
    let a = TestServer::start_on(la, node("node-a", url_b), Clock::System).await;
    let b = TestServer::start_on(lb, node("node-b", url_a), Clock::System).await;
    let client = ca.client(Some(&ca.server("operator")));
    assert_eq!(register(&client, &a, "ORDERS", "o1").await.unwrap(), 204);
    eventually("the registration reaches B over mTLS", async || {
        b.state.registry.get_instance("ORDERS", "o1").is_some()
    })
    .await;
    let peers = b.state.replication.views();
    assert_eq!(peers.len(), 1);
    assert_eq!(a.state.connections.handshake_failures(), 0);
    assert_eq!(b.state.connections.handshake_failures(), 0);
}

#[tokio::test]
async fn a_node_without_its_peer_certificate_cannot_replicate_to_an_mtls_peer() {
    let ca = TestCa::new("cluster-nocert");
    let lb = TestServer::listener().await;
    let url_b = format!("https://localhost:{}/eureka/", lb.local_addr().unwrap().port());
    let mut config_b = ServerConfig::default();
    ca.configure(&mut config_b, &ca.server("node-b"), ClientAuth::Need);
    let b = TestServer::start_on(lb, config_b, Clock::System).await;
    let mut config_a = ServerConfig::default();
    config_a.peer_tls.trust_certificate = Some(ca.ca_pem.clone());
    config_a.extra_peer_urls = vec![url_b];
    let a = TestServer::start_with(config_a, Clock::System).await;
    a.register_json("ORDERS", "o1").await;
    eventually("A records the failed calls to B", async || {
        a.state.replication.views()[0].health.failures > 0
    })
    .await;
    assert!(b.state.registry.get_instance("ORDERS", "o1").is_none());
    assert!(b.state.connections.handshake_failures() > 0);
}

#[test]
fn unusable_tls_files_stop_start_up_naming_the_key_and_the_file() {
    let ca = TestCa::new("config");
    let server = ca.server("server");
    let missing = ca.dir().join("missing.key");
    let start = |change: &dyn Fn(&mut ServerConfig)| {
        let mut config = ServerConfig::default();
        ca.configure(&mut config, &server, ClientAuth::None);
        change(&mut config);
        ServerState::new(config, Clock::System).expect_err("refused").to_string()
    };
    let e = start(&|c| c.ssl.certificate_private_key = Some(missing.clone()));
    assert!(e.contains("server.ssl.certificate-private-key"), "{e}");
    assert!(e.contains("missing.key"), "{e}");

    // A certificate where the key should be, and the reverse.
    let e = start(&|c| c.ssl.certificate_private_key = Some(server.cert.clone()));
    assert!(e.contains("server.ssl.certificate-private-key") && e.contains("no PEM private key"));
    let e = start(&|c| c.ssl.certificate = Some(server.key.clone()));
    assert!(e.contains("server.ssl.certificate ") && e.contains("no PEM certificate"), "{e}");

    // A key that does not belong to the certificate.
    let other = ca.server("other");
    let e = start(&|c| c.ssl.certificate_private_key = Some(other.key.clone()));
    assert!(e.contains("server.ssl.certificate-private-key") && e.contains("cannot be used"));

    let e = start(&|c| c.peer_tls.trust_certificate = Some(missing.clone()));
    assert!(e.contains("eureka.server.peer-tls.trust-certificate"), "{e}");
}

#[tokio::test]
async fn the_binary_refuses_to_start_with_a_missing_key_file() {
    let ca = TestCa::new("binary");
    let server = ca.server("server");
    let missing = ca.dir().join("nope.key");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_eureka-server"))
        .args(["--port", "0", "--set"])
        .arg(format!("server.ssl.certificate={}", server.cert.display()))
        .arg("--set")
        .arg(format!("server.ssl.certificate-private-key={}", missing.display()))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output).await.unwrap().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.ssl.certificate-private-key"), "{stderr}");
    assert!(stderr.contains("nope.key"), "{stderr}");
}

#[tokio::test]
async fn shutdown_waits_neither_for_a_silent_handshake_nor_for_an_open_stream() {
    let ca = TestCa::new("shutdown");
    let s = tls_server(&ca, ClientAuth::None).await;
    let _silent = TcpStream::connect(s.addr).await.unwrap();
    let mut watch = ca.client(None).get(s.url("watch")).send().await.unwrap();
    assert_eq!(watch.status(), 200);
    watch.chunk().await.unwrap().expect("the snapshot");
    let state = s.state.clone();
    eventually("both connections open", async || state.connections.open() == 2).await;

    let started = tokio::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), s.stop()).await.expect("the server stopped");
    // The handshake would have had 60 s (server.connection-timeout).
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    // Every connection, the stream's included, was closed before `stop` returned.
    assert_eq!(state.connections.open(), 0);
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        while watch.chunk().await.is_ok_and(|c| c.is_some()) {}
    });
    assert!(ended.await.is_ok(), "the stream is still open");
}

#[test]
fn need_without_a_trust_bundle_is_refused_even_when_built_in_code() {
    let ca = TestCa::new("code");
    let mut config = ServerConfig::default();
    ca.configure(&mut config, &ca.server("server"), ClientAuth::Need);
    config.ssl.trust_certificate = None;
    let e = ServerState::new(config, Clock::System).expect_err("refused").to_string();
    assert_eq!(
        e,
        "server.ssl.trust-certificate is not set: server.ssl.client-auth want or need \
         verifies client certificates against it"
    );
}
