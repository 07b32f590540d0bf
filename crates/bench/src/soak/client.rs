//! The simulated clients: one keep-alive connection each, registering, renewing or fetching.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use hyper::{Request, StatusCode};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use super::tally::{Counters, Kind};
use super::{split, Cluster, Params, REQUEST_TIMEOUT};
use crate::load::{Body, Conn};
use crate::wire;

/// Tries of one registration before the soak gives up (backing off 0.4 s to 3.2 s between).
const REGISTER_ATTEMPTS: u32 = 10;

/// One keep-alive connection of a simulated client to one node, reopened after a failure.
pub(crate) struct Client {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) conn: Option<Conn>,
    pub(crate) counters: Arc<Counters>,
}

impl Client {
    pub(crate) fn new(addr: std::net::SocketAddr, counters: Arc<Counters>) -> Client {
        Client { addr, conn: None, counters }
    }

    /// Sends one request and counts it; `None` when it failed (connection error or timeout,
    /// after which the next call opens a new connection). A non-2xx answer is counted as an
    /// error, except a renewal's 404, which the caller handles as a lost lease.
    pub(crate) async fn call(
        &mut self,
        kind: Kind,
        req: Request<Body>,
    ) -> Option<(StatusCode, Bytes)> {
        self.counters.requests[kind as usize].fetch_add(1, Ordering::Relaxed);
        let (addr, slot) = (self.addr, &mut self.conn);
        let attempt = tokio::time::timeout(REQUEST_TIMEOUT, async move {
            if slot.is_none() {
                *slot = Some(Conn::open(addr).await?);
            }
            slot.as_mut().expect("connection just opened").send(req).await
        })
        .await;
        match attempt {
            Err(_) => {
                self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
                self.conn = None;
                None
            }
            Ok(Err(_)) => {
                self.counters.connect_errors.fetch_add(1, Ordering::Relaxed);
                self.conn = None;
                None
            }
            Ok(Ok((status, body))) => {
                let lost_lease = kind == Kind::Renew && status == StatusCode::NOT_FOUND;
                if !status.is_success() && !lost_lease {
                    let mut errors = self.counters.http_errors.lock().expect("counter lock");
                    *errors.entry(status.as_u16()).or_default() += 1;
                }
                Some((status, body))
            }
        }
    }
}

/// Registers every instance on its node, `params.connections` connections per node, each
/// retried a few times; fails if one cannot be registered at all.
pub(crate) async fn register_all(
    params: &Params,
    cluster: &Cluster,
    owned: &[Vec<u64>],
    counters: &[Arc<Counters>],
) -> anyhow::Result<()> {
    let mut tasks = JoinSet::new();
    for (i, node) in cluster.nodes.iter().enumerate() {
        for ids in split(&owned[i], params.connections) {
            let mut client = Client::new(node.addr, counters[i].clone());
            let lease = params.lease;
            tasks.spawn(async move {
                for n in ids {
                    let mut attempts = 0;
                    loop {
                        let req = wire::register_with_lease(client.addr, n, dirty(), lease);
                        match client.call(Kind::Register, req).await {
                            Some((status, _)) if status.is_success() => break,
                            _ if attempts < REGISTER_ATTEMPTS => attempts += 1,
                            other => bail!(
                                "instance {n} not registered on {}: {:?}",
                                client.addr,
                                other.map(|(s, _)| s)
                            ),
                        }
                        // Backing off as a client does: an overloaded node gets room.
                        tokio::time::sleep(Duration::from_millis(200) * (1 << attempts.min(4)))
                            .await;
                    }
                }
                anyhow::Ok(())
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.context("registration task panicked")??;
    }
    Ok(())
}

/// The `lastDirtyTimestamp` of every registration: the constant the renewals send back, so a
/// renewal's timestamp always matches the stored one.
pub(crate) fn dirty() -> u64 {
    wire::DIRTY.parse().expect("a number")
}

/// Renews `ids` in turn, one every `period`, on one connection, until `stop`. A renewal
/// answered 404 is a lost lease: the instance registers again, as a client does.
pub(crate) async fn renew_loop(
    mut client: Client,
    ids: Vec<u64>,
    period: Duration,
    first: Instant,
    lease: (u32, u32),
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = interval_at(first, period);
    // After a slow answer the connection catches up back to back (it is one of many, each
    // sequential), so every instance still renews once per period on average.
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    for &n in ids.iter().cycle() {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tick.tick() => {}
        }
        let answer = client.call(Kind::Renew, wire::renew(client.addr, n)).await;
        if answer.is_some_and(|(status, _)| status == StatusCode::NOT_FOUND) {
            client.counters.lost_leases.fetch_add(1, Ordering::Relaxed);
            let req = wire::register_with_lease(client.addr, n, dirty(), lease);
            if client.call(Kind::Register, req).await.is_some_and(|(s, _)| s.is_success()) {
                client.counters.reregistered.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Sends `rate` fetches of `kind` per second on one connection until `stop`.
pub(crate) async fn fetch_loop(
    mut client: Client,
    kind: Kind,
    rate: f64,
    start: Instant,
    mut stop: watch::Receiver<bool>,
) {
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut tick = interval_at(start, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tick.tick() => {}
        }
        let req = match kind {
            Kind::Delta => wire::delta_fetch(client.addr),
            _ => wire::full_fetch(client.addr),
        };
        client.call(kind, req).await;
    }
}
