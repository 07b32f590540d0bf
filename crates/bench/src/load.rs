//! The load generator: N keep-alive HTTP/1.1 connections (raw `hyper::client::conn::http1`, the
//! least client overhead), each a loop of requests, latencies in an HDR histogram.
//!
//! Runs on the caller's runtime; `eureka-bench` uses a current-thread runtime pinned to its own
//! core, so the generator never competes with the server for a CPU.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A request body as the generator sends it.
pub type Body = Full<Bytes>;

/// Builds the `seq`-th request of a run (sequence numbers are shared by all connections, so
/// they are distinct across the run).
pub type MakeRequest = Arc<dyn Fn(u64) -> Request<Body> + Send + Sync>;

/// One keep-alive connection to a server.
pub struct Conn(SendRequest<Body>);

impl Conn {
    /// Opens a connection (`TCP_NODELAY`, as every HTTP client sets it).
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await.with_context(|| format!("connect {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        // The connection task ends when the sender is dropped.
        tokio::spawn(conn);
        Ok(Conn(sender))
    }

    /// Sends one request and reads the whole answer.
    pub async fn send(&mut self, req: Request<Body>) -> anyhow::Result<(StatusCode, Bytes)> {
        self.0.ready().await?;
        self.send_ready(req).await
    }

    /// Reopens the connection if the server closed it (Tomcat closes a keep-alive connection
    /// after 100 requests, announcing it), so a planned close is not counted as an error.
    pub async fn reopen_if_closed(&mut self, addr: SocketAddr) -> anyhow::Result<()> {
        if self.0.ready().await.is_err() {
            *self = Conn::open(addr).await?;
        }
        Ok(())
    }

    async fn send_ready(&mut self, req: Request<Body>) -> anyhow::Result<(StatusCode, Bytes)> {
        let response = self.0.send_request(req).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// When a closed-loop run ends.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// After this many requests in total (e.g. register N instances).
    Count(u64),
    /// After this long.
    Elapsed(Duration),
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Requests answered with a 2xx.
    pub ok: u64,
    /// Requests answered otherwise, or failed.
    pub errors: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latency of the answered requests, in microseconds.
    pub latency: Histogram<u64>,
}

impl Outcome {
    /// No requests yet.
    pub fn empty() -> Self {
        Outcome { ok: 0, errors: 0, elapsed: Duration::ZERO, latency: histogram() }
    }

    /// Sends one request on `conn` and records its answer; says whether the connection can
    /// go on. A broken connection is reopened: a server may close keep-alive connections
    /// after N requests (Tomcat does, at 100).
    async fn request(&mut self, conn: &mut Conn, addr: SocketAddr, req: Request<Body>) -> bool {
        if conn.reopen_if_closed(addr).await.is_err() {
            self.errors += 1;
            return false;
        }
        let sent = Instant::now();
        match conn.send_ready(req).await {
            Ok((status, _)) if status.is_success() => {
                self.ok += 1;
                let _ = self.latency.record(sent.elapsed().as_micros().max(1) as u64);
            }
            Ok(_) => self.errors += 1,
            Err(_) => {
                self.errors += 1;
                match Conn::open(addr).await {
                    Ok(c) => *conn = c,
                    Err(_) => return false,
                }
            }
        }
        true
    }

    /// 2xx answers per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at quantile `q` (0..1), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }

    /// Adds another run's counts and latencies (same histogram bounds) to this one.
    pub fn merge(&mut self, other: Outcome) {
        self.ok += other.ok;
        self.errors += other.errors;
        // Same bounds everywhere (`histogram()`), so adding cannot fail.
        let _ = self.latency.add(&other.latency);
    }
}

/// A histogram of 1 µs .. 60 s at 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Closed loop: `connections` connections each send the next request as soon as the previous
/// one is answered, until `until`.
pub async fn closed_loop(
    addr: SocketAddr,
    connections: usize,
    until: Until,
    make: MakeRequest,
) -> anyhow::Result<Outcome> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = match until {
        Until::Elapsed(d) => Some(started + d),
        Until::Count(_) => None,
    };
    let limit = match until {
        Until::Count(n) => n,
        Until::Elapsed(_) => u64::MAX,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (next, make) = (next.clone(), make.clone());
        let mut conn = Conn::open(addr).await?;
        tasks.spawn(async move {
            let mut out = Outcome::empty();
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= limit {
                    break;
                }
                if !out.request(&mut conn, addr, make(seq)).await {
                    break;
                }
            }
            out
        });
    }
    collect(tasks, started).await
}

/// Open loop: `connections` connections together send `rate` requests per second, evenly
/// spaced, for `duration`. A late answer delays that connection's next request (no
/// coordinated-omission correction: this mode reports server cost at a given load).
pub async fn open_loop(
    addr: SocketAddr,
    connections: usize,
    rate: f64,
    duration: Duration,
    make: MakeRequest,
) -> anyhow::Result<Outcome> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let period = Duration::from_secs_f64(connections as f64 / rate);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let (next, make) = (next.clone(), make.clone());
        let mut conn = Conn::open(addr).await?;
        // Spread the connections' first ticks over one period.
        let first = started + period.mul_f64(c as f64 / connections as f64);
        tasks.spawn(async move {
            let mut out = Outcome::empty();
            let mut tick = tokio::time::interval_at(first, period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if Instant::now() >= deadline {
                    break;
                }
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if !out.request(&mut conn, addr, make(seq)).await {
                    break;
                }
            }
            out
        });
    }
    collect(tasks, started).await
}

async fn collect(
    mut tasks: tokio::task::JoinSet<Outcome>,
    started: Instant,
) -> anyhow::Result<Outcome> {
    let mut total = Outcome::empty();
    while let Some(out) = tasks.join_next().await {
        total.merge(out.context("load task panicked")?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}
