//! A checked instance for health-check tests: a tiny HTTP server on loopback whose answer a
//! test chooses (200, 503, or none at all), that can be killed (connections refused) and
//! brought back on the same port, and that counts the checks it receives and who sent them.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The header our checker names itself with.
const CHECKED_BY: &str = "x-eureka-checked-by";

/// How the instance answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Behaviour {
    /// `200 OK`.
    Healthy = 0,
    /// `503 Service Unavailable`.
    Unavailable = 1,
    /// Reads the request and never answers (a hung process).
    Hang = 2,
}

#[derive(Debug, Default)]
struct Seen {
    requests: AtomicU64,
    behaviour: AtomicU8,
    checkers: Mutex<BTreeSet<String>>,
}

/// One instance; it listens until [`CheckedInstance::kill`] or drop.
#[derive(Debug)]
pub struct CheckedInstance {
    /// Its port on 127.0.0.1 (kept across kill and revive).
    pub port: u16,
    seen: Arc<Seen>,
    tasks: Option<JoinSet<()>>,
}

impl CheckedInstance {
    /// Starts listening on a free loopback port, healthy.
    pub async fn start() -> CheckedInstance {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind checked instance");
        let port = listener.local_addr().expect("local addr").port();
        let mut me = CheckedInstance { port, seen: Arc::default(), tasks: None };
        me.serve(listener);
        me
    }

    fn serve(&mut self, listener: TcpListener) {
        let mut tasks = JoinSet::new();
        let seen = self.seen.clone();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                conns.spawn(connection(stream, seen.clone()));
                while conns.try_join_next().is_some() {}
            }
        });
        self.tasks = Some(tasks);
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Changes how it answers from now on.
    pub fn set(&self, behaviour: Behaviour) {
        self.seen.behaviour.store(behaviour as u8, Ordering::Relaxed);
    }

    /// Stops listening and drops every open connection, as a killed process does: new
    /// connections are refused.
    pub fn kill(&mut self) {
        if let Some(mut tasks) = self.tasks.take() {
            tasks.abort_all();
        }
    }

    /// Listens again on the same port, healthy (after [`CheckedInstance::kill`]).
    pub async fn revive(&mut self) {
        self.kill();
        self.set(Behaviour::Healthy);
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr()).await {
                Ok(l) => break l,
                Err(e) if tries < 100 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => panic!("rebind {}: {e}", self.addr()),
            }
        };
        self.serve(listener);
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.seen.requests.load(Ordering::Relaxed)
    }

    /// Who checked it (their `x-eureka-checked-by`) since the last [`CheckedInstance::reset`].
    pub fn checkers(&self) -> BTreeSet<String> {
        self.seen.checkers.lock().expect("checkers").clone()
    }

    /// Forgets the checkers and request count seen so far.
    pub fn reset(&self) {
        self.seen.checkers.lock().expect("checkers").clear();
        self.seen.requests.store(0, Ordering::Relaxed);
    }
}

impl Drop for CheckedInstance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Serves keep-alive requests on one connection until it closes.
async fn connection(mut stream: TcpStream, seen: Arc<Seen>) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end);
        seen.requests.fetch_add(1, Ordering::Relaxed);
        for line in head.lines() {
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case(CHECKED_BY) {
                    seen.checkers.lock().expect("checkers").insert(value.trim().to_string());
                }
            }
        }
        let answer: &[u8] = match seen.behaviour.load(Ordering::Relaxed) {
            0 => b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\n\r\n{\"status\":\"UP\"}",
            1 => b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 17\r\n\r\n{\"status\":\"DOWN\"}",
            _ => {
                std::future::pending::<()>().await;
                return;
            }
        };
        if stream.write_all(answer).await.is_err() {
            return;
        }
    }
}
