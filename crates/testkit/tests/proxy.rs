//! The fault-injection proxy against a tiny echo server (and the real server over HTTP):
//! each fault shows the symptom a client would see from a slow, partitioned or crashed peer.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eureka_testkit::proxy::{Fault, FaultProxy};
use eureka_testkit::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};

/// How long a read may wait before we call it "no answer".
const SHORT: Duration = Duration::from_millis(150);
/// How long a symptom that should be immediate may take to show.
const PROMPT: Duration = Duration::from_millis(500);

/// An echo server that counts every byte it receives; aborted on drop.
struct Echo {
    addr: SocketAddr,
    received: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Echo {
    async fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&received);
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                let counter = Arc::clone(&counter);
                conns.spawn(async move {
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        counter.fetch_add(n as u64, Ordering::SeqCst);
                        if stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Echo { addr, received, task }
    }

    fn received(&self) -> u64 {
        self.received.load(Ordering::SeqCst)
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Writes `msg` and reads back exactly as many bytes, within `PROMPT` plus `extra`.
async fn round_trip(stream: &mut TcpStream, msg: &[u8], extra: Duration) -> Vec<u8> {
    stream.write_all(msg).await.unwrap();
    let mut back = vec![0u8; msg.len()];
    timeout(PROMPT + extra, stream.read_exact(&mut back))
        .await
        .expect("echo within deadline")
        .expect("echo read");
    back
}

/// Whether the connection shows it is dead (EOF or error) within `PROMPT`.
async fn is_closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(timeout(PROMPT, stream.read(&mut buf)).await, Ok(Ok(0)) | Ok(Err(_)))
}

/// Whether a fresh connection through `addr` fails or is closed at once.
async fn new_connection_fails(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return true;
    };
    // A write may succeed before the reset arrives; the read is what must fail.
    let _ = stream.write_all(b"ping").await;
    is_closed(&mut stream).await
}

#[tokio::test]
async fn pass_forwards_both_directions() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(echo.addr).await.unwrap();
    assert_eq!(proxy.fault(), Fault::Pass);
    assert_ne!(proxy.addr(), echo.addr);

    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut stream, b"hello", Duration::ZERO).await, b"hello");
    assert_eq!(round_trip(&mut stream, b"again", Duration::ZERO).await, b"again");
    assert_eq!(echo.received(), 10);
    assert_eq!(proxy.connections(), 1);
    proxy.stop().await;
}

#[tokio::test]
async fn delay_slows_each_round_trip() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(echo.addr).await.unwrap();
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut stream, b"warm", Duration::ZERO).await, b"warm");

    let delay = Duration::from_millis(200);
    proxy.set(Fault::Delay(delay));
    assert_eq!(proxy.fault(), Fault::Delay(delay));
    let started = Instant::now();
    assert_eq!(round_trip(&mut stream, b"slow", 2 * delay).await, b"slow");
    assert!(started.elapsed() >= delay, "round trip took only {:?}", started.elapsed());

    proxy.set(Fault::Pass);
    let started = Instant::now();
    assert_eq!(round_trip(&mut stream, b"fast", Duration::ZERO).await, b"fast");
    assert!(started.elapsed() < delay, "still delayed: {:?}", started.elapsed());
    proxy.stop().await;
}

#[tokio::test]
async fn drop_black_holes_until_lifted() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(echo.addr).await.unwrap();
    let mut before = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut before, b"ok", Duration::ZERO).await, b"ok");
    let seen = echo.received();

    proxy.set(Fault::Drop);
    let mut during = TcpStream::connect(proxy.addr()).await.unwrap();
    for stream in [&mut before, &mut during] {
        stream.write_all(b"lost").await.unwrap();
        let mut buf = [0u8; 16];
        assert!(timeout(SHORT, stream.read(&mut buf)).await.is_err(), "answered during Drop");
    }
    assert_eq!(echo.received(), seen, "upstream saw bytes during Drop");

    // Lifting the Drop closes the connections that lost bytes; new ones forward again.
    proxy.set(Fault::Pass);
    assert!(is_closed(&mut before).await, "pre-Drop connection left open");
    assert!(is_closed(&mut during).await, "Drop-time connection left open");
    let mut after = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut after, b"back", Duration::ZERO).await, b"back");
    assert_eq!(proxy.connections(), 3);
    proxy.stop().await;
}

#[tokio::test]
async fn cut_kills_open_and_new_connections_until_lifted() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(echo.addr).await.unwrap();
    let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut open, b"ok", Duration::ZERO).await, b"ok");

    proxy.set(Fault::Cut);
    assert_eq!(proxy.fault(), Fault::Cut);
    assert!(is_closed(&mut open).await, "open connection survived Cut");
    assert!(new_connection_fails(proxy.addr()).await, "new connection survived Cut");

    proxy.set(Fault::Pass);
    let mut again = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut again, b"back", Duration::ZERO).await, b"back");
    proxy.stop().await;
}

#[tokio::test]
async fn stop_returns_promptly_and_closes_everything() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(echo.addr).await.unwrap();
    let addr = proxy.addr();
    let mut forwarding = TcpStream::connect(addr).await.unwrap();
    assert_eq!(round_trip(&mut forwarding, b"ok", Duration::ZERO).await, b"ok");
    proxy.set(Fault::Drop);
    let mut held = TcpStream::connect(addr).await.unwrap();
    held.write_all(b"lost").await.unwrap();

    timeout(PROMPT, proxy.stop()).await.expect("stop() hung");
    assert!(is_closed(&mut forwarding).await);
    assert!(is_closed(&mut held).await);
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting after stop()");
}

#[tokio::test]
async fn drop_of_proxy_closes_connections() {
    let echo = Echo::start().await;
    let proxy = FaultProxy::start(echo.addr).await.unwrap();
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut stream, b"ok", Duration::ZERO).await, b"ok");
    drop(proxy);
    assert!(is_closed(&mut stream).await);
}

#[tokio::test]
async fn http_client_sees_timeouts_under_drop_and_errors_under_cut() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.addr).await.unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let url = format!("http://{}/eureka/apps", proxy.addr());
    let get = || client.get(&url).header("Accept", "application/json").send();

    assert!(get().await.unwrap().status().is_success());

    proxy.set(Fault::Drop);
    let err = get().await.expect_err("answered through Drop");
    assert!(err.is_timeout(), "expected a timeout, got {err:?}");

    proxy.set(Fault::Cut);
    let started = Instant::now();
    let err = get().await.expect_err("answered through Cut");
    assert!(!err.is_timeout(), "expected a connection error, got {err:?}");
    assert!(started.elapsed() < Duration::from_millis(300));

    proxy.set(Fault::Pass);
    assert!(get().await.unwrap().status().is_success());
    proxy.stop().await;
    server.stop().await;
}
