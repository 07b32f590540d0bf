//! The accept loop: a bounded number of connections, an optional TLS handshake, HTTP/1.1 with
//! limits on heads and idle time, and a graceful drain on shutdown.
//!
//! Accepting never waits on a client: the TLS handshake runs in the connection's own task,
//! bounded by `server.connection-timeout`, as is every request head (hyper's header-read
//! timer, which also runs while a kept-alive connection is idle). At `server.max-connections`
//! the loop stops accepting until a connection closes, so further clients wait in the
//! kernel's backlog instead of costing memory here. On shutdown the listener is dropped,
//! handshakes in progress are abandoned, and every served connection finishes its request in
//! flight and closes (long polls and change streams are ended by the watch hub's `closing`
//! token, which the caller cancels first).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::config::Limits;

/// Read buffer beyond the head limit, so a head and the start of its body fit in one read.
const READ_BUFFER_SLACK: usize = 8 * 1024;
/// hyper's smallest allowed read buffer.
const MIN_READ_BUFFER: usize = 8 * 1024;
/// Pause after an accept error that is not one connection's fault (e.g. out of file
/// descriptors), so the loop does not spin while the cause lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// Connection counts for `/metrics`: atomics, touched once per connection, never per request.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    open: AtomicU64,
    accepted: AtomicU64,
    limit_waits: AtomicU64,
    handshake_failures: AtomicU64,
}

impl ConnectionStats {
    /// Connections open now (TLS handshakes in progress included).
    pub fn open(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }

    /// Connections accepted since start.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Times the accept loop found every slot taken and waited for a connection to close.
    pub fn limit_waits(&self) -> u64 {
        self.limit_waits.load(Ordering::Relaxed)
    }

    /// TLS handshakes that failed or timed out.
    pub fn handshake_failures(&self) -> u64 {
        self.handshake_failures.load(Ordering::Relaxed)
    }
}

/// Decrements the open-connection gauge and frees the slot when a connection ends, however
/// its task ends.
struct OpenConnection {
    stats: Arc<ConnectionStats>,
    _slot: OwnedSemaphorePermit,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What every connection task shares.
struct Shared {
    stats: Arc<ConnectionStats>,
    router: Router,
    http: http1::Builder,
    tls: Option<TlsAcceptor>,
    handshake_timeout: Duration,
    /// Cancelled on shutdown: handshakes in progress stop, so draining waits only for
    /// connections that are serving HTTP.
    stopping: CancellationToken,
}

/// What the listener needs from the server: its limits (`server.*`), its TLS configuration
/// (`None` for plain HTTP) and where to count connections. Handed over rather than read from
/// the server's state, so the listener does not depend on that state.
#[derive(Debug, Clone)]
pub struct ListenerSetup {
    /// Connection and request limits.
    pub limits: Limits,
    /// The TLS configuration, `None` for plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Connection counts, shared with `/metrics`.
    pub stats: Arc<ConnectionStats>,
}

/// Serves `router` on `listener` until `stop` completes, then drains: returns once every
/// connection has finished its request in flight and closed.
pub async fn serve(
    listener: TcpListener,
    setup: ListenerSetup,
    router: Router,
    stop: impl Future<Output = ()>,
) {
    let ListenerSetup { limits, tls, stats } = setup;
    let limits = &limits;
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.connection_timeout)
        .max_header_size(limits.max_http_request_header_size)
        .max_buf_size(limits.max_http_request_header_size.max(MIN_READ_BUFFER) + READ_BUFFER_SLACK);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let shared = Arc::new(Shared {
        tls: tls.map(TlsAcceptor::from),
        handshake_timeout: limits.connection_timeout,
        stats: stats.clone(),
        router,
        http,
        stopping: CancellationToken::new(),
    });
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                stats.limit_waits.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    limit = limits.max_connections,
                    "connection limit reached; not accepting until a connection closes"
                );
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break, // never closed; nothing left to serve if it were
                    },
                    () = &mut stop => break,
                }
            }
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        stats.accepted.fetch_add(1, Ordering::Relaxed);
        stats.open.fetch_add(1, Ordering::Relaxed);
        let open = OpenConnection { stats: stats.clone(), _slot: slot };
        // Owned by the graceful drain: `graceful.shutdown()` waits for every watcher.
        tokio::spawn(connection(shared.clone(), stream, remote, graceful.watcher(), open));
    }
    drop(listener);
    shared.stopping.cancel();
    graceful.shutdown().await;
}

/// One connection: the TLS handshake if configured, then HTTP/1.1 until either side closes
/// or the drain ends it.
async fn connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    remote: SocketAddr,
    watcher: Watcher,
    _open: OpenConnection,
) {
    // Small answers (renewals) must not wait for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    let service = TowerToHyperService::new(shared.router.clone());
    let served = match &shared.tls {
        None => watcher.watch(shared.http.serve_connection(TokioIo::new(stream), service)).await,
        Some(acceptor) => {
            let handshake = tokio::time::timeout(shared.handshake_timeout, acceptor.accept(stream));
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => return handshake_failed(&shared, remote, &e.to_string()),
                    Err(_) => return handshake_failed(&shared, remote, "timed out"),
                },
                () = shared.stopping.cancelled() => return,
            };
            watcher.watch(shared.http.serve_connection(TokioIo::new(stream), service)).await
        }
    };
    if let Err(e) = served {
        // Clients that vanish, time out or send garbage: theirs to fix, not an operator's.
        tracing::debug!(%remote, error = %e, "connection ended with an error");
    }
}

fn handshake_failed(shared: &Shared, remote: SocketAddr, error: &str) {
    shared.stats.handshake_failures.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(%remote, error, "tls handshake failed");
}

/// Errors of one connection that died in the backlog are skipped at once; anything else
/// (e.g. out of file descriptors) is logged and waited out.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept connections; retrying in {ACCEPT_ERROR_PAUSE:?}");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}
