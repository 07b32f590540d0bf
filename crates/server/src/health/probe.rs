//! One check: an HTTP `GET` (2xx passes) or a TCP connection, under the timeout, with the
//! failure said in a few words (`connection refused`, `HTTP 503`, `timed out after 2s`).

use std::time::Duration;

use tokio::net::TcpStream;

use super::target::Target;

/// The largest part of an HTTP answer's body read (and dropped): enough for any health
/// document; the answer's status is what counts.
const MAX_BODY: usize = 64 * 1024;

/// Header naming the checking node on every HTTP check, so an instance's logs tell who asks.
pub const HEADER_CHECKED_BY: &str = "x-eureka-checked-by";

/// The HTTP client all checks share (one TLS configuration and resolver; no redirects: a 3xx
/// is a failure, as a load balancer's check would count it). It keeps no idle connections, as
/// Consul's HTTP checks do not: an instance is checked once per interval, so a kept connection
/// would sit idle between checks, and 10,000 of them cost ~200 MiB and 10,000 descriptors
/// (measured by `eureka-health-bench cost`), while open sockets stay bounded by
/// `max-concurrency` without them.
pub fn client(tls: &eureka_client::TlsOptions) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .tcp_nodelay(true)
        .user_agent(concat!("eureka-rs-health-check/", env!("CARGO_PKG_VERSION")));
    tls.apply(builder).build().unwrap_or_else(|e| {
        tracing::error!(error = %e, "health-check HTTP client with TLS settings failed; using defaults");
        reqwest::Client::new()
    })
}

/// Runs one check; `Err` says why it failed.
pub async fn probe(
    client: &reqwest::Client,
    target: &Target,
    timeout: Duration,
    checked_by: &str,
) -> Result<(), String> {
    let run = async {
        match target {
            Target::Http(url) => http(client, url, checked_by).await,
            Target::Tcp(host, port) => match TcpStream::connect((host.as_str(), *port)).await {
                Ok(_) => Ok(()),
                Err(e) => Err(io_reason(&e)),
            },
        }
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(result) => result,
        Err(_) => Err(format!("timed out after {}", show(timeout))),
    }
}

async fn http(client: &reqwest::Client, url: &str, checked_by: &str) -> Result<(), String> {
    let mut resp = client
        .get(url)
        .header(HEADER_CHECKED_BY, checked_by)
        .send()
        .await
        .map_err(|e| request_reason(&e))?;
    let status = resp.status();
    let mut read = 0;
    while read < MAX_BODY {
        match resp.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}

/// A reqwest error in words: the innermost I/O error if there is one.
fn request_reason(e: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io_reason(io);
        }
        source = err.source();
    }
    if e.is_connect() {
        return "cannot connect".to_string();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        text = err.to_string();
        source = err.source();
    }
    text
}

fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".to_string(),
        ConnectionReset => "connection reset".to_string(),
        ConnectionAborted => "connection aborted".to_string(),
        TimedOut => "connection timed out".to_string(),
        UnexpectedEof => "connection closed without an answer".to_string(),
        _ => e.to_string(),
    }
}

fn show(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
