//! The DNS scenario: A queries for an application of [`INSTANCES`] instances, answered by our
//! server (`eureka.dns.enabled`, the registry filled through the Eureka API) and by
//! `eureka-bench-dns`, a static hickory server holding the same records (the ceiling), one
//! after the other, each pinned like the HTTP servers, under the same UDP load.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::load::{Conn, Outcome};
use crate::process::{self, ServerProcess};
use crate::report::{Report, Who};
use crate::scenario::Params;

/// Instances of the queried application.
pub const INSTANCES: usize = 10;
/// The application (its DNS name is `bench.service.eureka.`).
const APP: &str = "BENCH";
/// The name queried.
pub const NAME: &str = "bench.service.eureka.";
/// Concurrent clients, each a UDP socket with one query in flight.
pub const CLIENTS: usize = 32;
/// How long a client waits for an answer before counting an error and asking again.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(1);
/// The scenario's row name.
const SCENARIO: &str = "dns";

/// Instance `i`'s address.
fn address(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 77, 0, i as u8 + 1)
}

/// The query `NAME IN A` with id 0 (each send sets its own), recursion desired, no EDNS0.
pub fn query() -> Vec<u8> {
    let mut out = vec![0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in NAME.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.extend_from_slice(&[0, 0, 1, 0, 1]);
    out
}

/// Whether `answer` answers query `id` with NOERROR and [`INSTANCES`] records.
fn answered(answer: &[u8], id: u16) -> Option<bool> {
    if answer.len() < 12 || u16::from_be_bytes([answer[0], answer[1]]) != id {
        return None;
    }
    let rcode = answer[3] & 0x0f;
    let count = u16::from_be_bytes([answer[6], answer[7]]);
    Some(rcode == 0 && usize::from(count) == INSTANCES)
}

/// Closed loop: [`CLIENTS`] sockets each send the next query as soon as the previous one is
/// answered, for `duration`. A wrong or late answer is an error.
pub async fn closed_loop(addr: SocketAddr, duration: Duration) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..CLIENTS {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        socket.connect(addr).await?;
        let mut packet = query();
        tasks.spawn(async move {
            let mut out = Outcome::empty();
            let mut buf = vec![0u8; 4096];
            let mut id = (client as u16).wrapping_mul(2039);
            while Instant::now() < deadline {
                id = id.wrapping_add(1);
                packet[..2].copy_from_slice(&id.to_be_bytes());
                let sent = Instant::now();
                if socket.send(&packet).await.is_err() {
                    out.errors += 1;
                    continue;
                }
                let give_up = sent + ANSWER_TIMEOUT;
                let verdict = loop {
                    match tokio::time::timeout_at(give_up, socket.recv(&mut buf)).await {
                        Ok(Ok(n)) => match answered(&buf[..n], id) {
                            Some(ok) => break ok,
                            None => continue, // a late answer to an earlier query
                        },
                        _ => break false,
                    }
                };
                if verdict {
                    out.ok += 1;
                    let _ = out.latency.record(sent.elapsed().as_micros().max(1) as u64);
                } else {
                    out.errors += 1;
                }
            }
            out
        });
    }
    let mut total = Outcome::empty();
    while let Some(out) = tasks.join_next().await {
        total.merge(out.context("dns load task panicked")?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// Polls `addr` with the query until it is answered with all the records.
async fn wait_until_answering(addr: SocketAddr, limit: Duration) -> anyhow::Result<()> {
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    socket.connect(addr).await?;
    let deadline = Instant::now() + limit;
    let mut buf = vec![0u8; 4096];
    loop {
        socket.send(&query()).await?;
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(200), socket.recv(&mut buf)).await
        {
            if answered(&buf[..n], 0) == Some(true) {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("{addr} does not answer {NAME} with {INSTANCES} records after {limit:?}");
        }
    }
}

/// Our server's arguments for the scenario: `base` (the HTTP scenarios' settings) with DNS on
/// `dns_port`.
pub fn ours_args(mut base: Vec<String>, dns_port: u16) -> Vec<String> {
    for kv in [
        "eureka.dns.enabled=true".to_string(),
        "eureka.dns.address=127.0.0.1".to_string(),
        format!("eureka.dns.port={dns_port}"),
    ] {
        base.push("--set".into());
        base.push(kv);
    }
    base
}

/// Registers the application's instances through the Eureka API.
async fn register(addr: SocketAddr) -> anyhow::Result<()> {
    let mut conn = Conn::open(addr).await?;
    for i in 0..INSTANCES {
        let id = format!("bench-{i}");
        let body = eureka_testkit::fixtures::java_json(APP, &id, 8080)
            .replace(r#""ipAddr":"127.0.0.1""#, &format!(r#""ipAddr":"{}""#, address(i)));
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/eureka/apps/{APP}"))
            .header(HOST, addr.to_string())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))?;
        let (status, _) = conn.send(req).await?;
        if !status.is_success() {
            bail!("register {id}: {status}");
        }
    }
    Ok(())
}

/// Runs the scenario on one server's DNS address: warm-up, then the measured run.
async fn measure(
    server: &ServerProcess,
    dns: SocketAddr,
    who: Who,
    params: &Params,
    report: &mut Report,
) -> anyhow::Result<()> {
    closed_loop(dns, params.warmup).await?;
    let cpu = server.cpu()?;
    let out = closed_loop(dns, params.duration).await?;
    let cpu = server.cpu()? - cpu;
    report.record(SCENARIO, "throughput (queries/s)", who, out.throughput());
    report.record(SCENARIO, "p50 (ms)", who, out.quantile_ms(0.5));
    report.record(SCENARIO, "p99 (ms)", who, out.quantile_ms(0.99));
    report.record(
        SCENARIO,
        "server CPU (% of a core)",
        who,
        100.0 * cpu.as_secs_f64() / out.elapsed.as_secs_f64(),
    );
    report.record(
        SCENARIO,
        "CPU per query (µs)",
        who,
        cpu.as_secs_f64() * 1e6 / out.ok.max(1) as f64,
    );
    report.record(SCENARIO, "peak RSS (MiB)", who, server.peak_rss_mib()?);
    report.record(SCENARIO, "errors", who, out.errors as f64);
    if out.ok == 0 {
        bail!("dns: no query to {} was answered", who.name());
    }
    Ok(())
}

/// The scenario: ours (started by `ours`, given its HTTP and DNS ports), then the static
/// hickory server `hickory_bin`, each measured under the same load.
pub async fn run(
    ours: &dyn Fn(u16, u16) -> (String, Vec<String>),
    hickory_bin: &str,
    params: &Params,
    logs: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let startup = Duration::from_secs(20);
    let (http_port, dns_port) = (process::free_port(), process::free_port());
    let (program, args) = ours(http_port, dns_port);
    let log = logs.join("ours-dns.log");
    let server = ServerProcess::start(&program, &args, http_port, &log, startup).await?;
    let dns = SocketAddr::from(([127, 0, 0, 1], dns_port));
    register(server.addr).await.context("ours: register the DNS application")?;
    wait_until_answering(dns, startup).await.context("ours")?;
    let measured = measure(&server, dns, Who::Ours, params, report).await;
    server.stop().await;
    measured.context("ours: dns")?;

    let port = process::free_port();
    let mut args = vec!["--port".to_string(), port.to_string(), "--name".into(), NAME.into()];
    for i in 0..INSTANCES {
        args.extend(["--address".to_string(), address(i).to_string()]);
    }
    let log = logs.join("hickory-dns.log");
    let server = ServerProcess::spawn_pinned(hickory_bin, &args, port, &log)?;
    let dns = SocketAddr::from(([127, 0, 0, 1], port));
    let up = wait_until_answering(dns, startup).await.context("hickory");
    let measured = match up {
        Ok(()) => measure(&server, dns, Who::Hickory, params, report).await,
        Err(e) => Err(e),
    };
    server.stop().await;
    measured.context("hickory: dns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_read_back_by_the_answer_check() {
        let q = query();
        assert_eq!(q.len(), 12 + NAME.len() + 1 + 4);
        let mut answer = q.clone();
        answer[2] |= 0x80;
        answer[7] = INSTANCES as u8;
        assert_eq!(answered(&answer, 0), Some(true));
        assert_eq!(answered(&answer, 1), None, "another query's answer");
        answer[3] = 3;
        assert_eq!(answered(&answer, 0), Some(false), "NXDOMAIN");
    }
}
