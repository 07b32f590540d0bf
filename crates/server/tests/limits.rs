//! What one client may cost: head size (431), open connections (the accept loop waits),
//! slow heads and idle keep-alive (closed after `server.connection-timeout`), slow bodies
//! (408 after `server.request-timeout`), while long polls and change streams outlive the
//! request timeout. Raw sockets, so the test controls every byte and pause.

use std::time::Duration;

use eureka_server::{Clock, ServerConfig};
use eureka_testkit::fixtures::java_json;
use eureka_testkit::{eventually, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

async fn server(change: impl FnOnce(&mut ServerConfig)) -> TestServer {
    let mut config = ServerConfig::default();
    change(&mut config);
    TestServer::start_with(config, Clock::System).await
}

/// Reads until the peer closes or `limit` passes; returns what arrived and whether it closed.
async fn read_for(tcp: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut seen = Vec::new();
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&seen).into_owned(), true),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&seen).into_owned(), false),
        }
    }
}

/// Sends a whole GET and returns the status line's code, reading until the head ends.
async fn get_status(tcp: &mut TcpStream, path: &str) -> u16 {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = timeout(Duration::from_secs(5), tcp.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "closed before answering");
        seen.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&seen);
    head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn an_oversized_head_is_answered_431_and_others_are_still_served() {
    let s = server(|c| c.limits.max_http_request_header_size = 2048).await;
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let big = "x".repeat(4096);
    let request = format!("GET /eureka/apps HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let (answer, closed) = read_for(&mut tcp, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(closed);

    // A head just under the limit is fine, on a new connection.
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    assert_eq!(get_status(&mut tcp, &format!("/health?{}", "y".repeat(1500))).await, 200);
}

#[tokio::test]
async fn at_the_connection_limit_a_new_client_waits_until_a_slot_frees() {
    let s = server(|c| c.limits.max_connections = 2).await;
    let mut first = TcpStream::connect(s.addr).await.unwrap();
    assert_eq!(get_status(&mut first, "/health").await, 200);
    let second = TcpStream::connect(s.addr).await.unwrap();
    eventually("both connections accepted", async || s.state.connections.open() == 2).await;

    // The third connects (the kernel's backlog) but is not served.
    let mut third = TcpStream::connect(s.addr).await.unwrap();
    third.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let (answer, closed) = read_for(&mut third, Duration::from_millis(400)).await;
    assert!(answer.is_empty() && !closed, "served past the limit: {answer}");
    assert_eq!(s.state.connections.open(), 2);
    assert!(s.state.connections.limit_waits() >= 1);

    drop(second);
    let mut buf = [0u8; 64];
    let n = timeout(Duration::from_secs(5), third.read(&mut buf)).await.unwrap().unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&buf[..n]));

    // The scrape (through the slot `first` holds) shows the gauge and the wait.
    drop(third);
    let scrape_status = get_status(&mut first, "/metrics").await;
    assert_eq!(scrape_status, 200);
    drop(first);
    eventually("every connection closed", async || s.state.connections.open() == 0).await;
    let scrape = s.scrape().await;
    assert!(scrape.get("eureka_connection_limit_waits_total", &[]) >= Some(1.0));
    assert_eq!(scrape.get("eureka_open_connections", &[]), Some(1.0), "the scrape's own");
    assert!(scrape.get("eureka_connections_accepted_total", &[]) >= Some(4.0));
}

#[tokio::test]
async fn a_half_sent_head_is_cut_after_the_connection_timeout() {
    let s = server(|c| c.limits.connection_timeout = Duration::from_millis(300)).await;
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let started = Instant::now();
    tcp.write_all(b"GET /eureka/apps HTTP/1.1\r\nHost: loc").await.unwrap();
    let (answer, closed) = read_for(&mut tcp, Duration::from_secs(5)).await;
    assert!(closed, "the slow client kept its connection");
    assert!(!answer.contains(" 200 "), "{answer}");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(3), "{took:?}");
    eventually("its slot is free again", async || s.state.connections.open() == 0).await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_connection_timeout() {
    let s = server(|c| c.limits.connection_timeout = Duration::from_millis(300)).await;
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    assert_eq!(get_status(&mut tcp, "/health").await, 200);
    // Still usable right away...
    assert_eq!(get_status(&mut tcp, "/health").await, 200);
    // ...and closed once idle for longer than the timeout.
    let started = Instant::now();
    let (_, closed) = read_for(&mut tcp, Duration::from_secs(5)).await;
    assert!(closed);
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn a_trickling_body_is_answered_408_after_the_request_timeout() {
    let s = server(|c| c.limits.request_timeout = Duration::from_millis(300)).await;
    let body = java_json("ORDERS", "o1", 8080);
    let head = format!(
        "POST /eureka/apps/ORDERS HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body.as_bytes()[..10]).await.unwrap();
    let started = Instant::now();
    let (answer, closed) = read_for(&mut tcp, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("server.request-timeout"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(closed);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(s.state.registry.get_instance("ORDERS", "o1").is_none());
    let scrape = s.scrape().await;
    let timeouts = scrape.sum("eureka_rejected_requests_total", &[("reason", "timeout")]);
    assert_eq!(timeouts, 1.0);
}

#[tokio::test]
async fn long_polls_and_change_streams_outlive_the_request_timeout() {
    let s = server(|c| c.limits.request_timeout = Duration::from_millis(200)).await;
    let http = reqwest::Client::new();
    let version = s.state.registry.version();
    let started = Instant::now();
    let poll = http.get(s.url(&format!("apps/delta?since={version}&wait=1"))).send().await.unwrap();
    assert_eq!(poll.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());

    let mut watch = http.get(s.url("watch")).send().await.unwrap();
    assert_eq!(watch.status(), 200);
    watch.chunk().await.unwrap().expect("the snapshot");
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.register_json("ORDERS", "o1").await;
    let mut seen = String::new();
    while !seen.contains("\"o1\"") {
        let chunk = timeout(Duration::from_secs(5), watch.chunk()).await.unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("the stream is still open")));
    }
}
