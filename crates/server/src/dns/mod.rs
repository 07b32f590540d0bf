//! The DNS interface: the registry's UP instances answered over DNS (UDP and TCP), for
//! software that can resolve a name but speaks no Eureka (`eureka.dns.*`, off by default).
//!
//! hickory-server runs the sockets (one task per UDP query, one per TCP connection, idle TCP
//! connections closed after [`TCP_IDLE_TIMEOUT`]) and decodes queries; malformed packets are
//! answered FORMERR or dropped there. Our [`answer::Answerer`] answers every decoded query from
//! an index of the registry built once per registry version, so a change is visible to the
//! next query and the registry's locks are taken only to snapshot a new version.
//!
//! - [`names`]: the names answered and how applications, VIPs and instance ids become labels.
//! - [`index`]: the registry as records, per version, rebuilt per changed application.
//! - [`answer`]: one query's answer: codes, shuffling, the answer limit, EDNS0.

pub mod answer;
pub mod index;
pub mod names;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info_span, Instrument};

pub use answer::Answerer;
/// The transport a query came over, for [`Answerer::answer_raw`].
pub use hickory_server::net::xfer::Protocol;

use crate::state::SharedState;

/// How long a TCP connection may stay silent before it is closed.
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Answers queued per TCP connection before its reader waits for the writer.
const TCP_RESPONSE_BUFFER: usize = 32;
/// Attempts at finding a port free for both UDP and TCP when asked for port 0.
const EPHEMERAL_ATTEMPTS: usize = 16;

/// The bound UDP socket and TCP listener, on one address and port.
#[derive(Debug)]
pub struct DnsSockets {
    udp: UdpSocket,
    tcp: TcpListener,
}

impl DnsSockets {
    /// Binds UDP and TCP on `addr`; port 0 picks one port free for both.
    pub async fn bind(addr: SocketAddr) -> io::Result<DnsSockets> {
        if addr.port() != 0 {
            let udp = UdpSocket::bind(addr).await?;
            let tcp = TcpListener::bind(addr).await?;
            return Ok(DnsSockets { udp, tcp });
        }
        let mut last_error = None;
        for _ in 0..EPHEMERAL_ATTEMPTS {
            let udp = UdpSocket::bind(addr).await?;
            match TcpListener::bind(udp.local_addr()?).await {
                Ok(tcp) => return Ok(DnsSockets { udp, tcp }),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no port free for UDP and TCP")))
    }

    /// The address both are bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.udp.local_addr()
    }
}

/// Serves DNS on `sockets` from `state`'s registry until `shutdown` is cancelled.
pub fn spawn(
    sockets: DnsSockets,
    state: &SharedState,
    shutdown: &CancellationToken,
    tasks: &mut JoinSet<()>,
) -> io::Result<()> {
    let answerer = Answerer::new(state.clone()).map_err(io::Error::other)?;
    let shutdown = shutdown.clone();
    let addr = sockets.local_addr()?;
    tasks.spawn(
        async move {
            let mut server = Server::new(answerer);
            server.register_socket(sockets.udp);
            server.register_listener(sockets.tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
            tracing::info!(%addr, "answering DNS over UDP and TCP");
            tokio::select! {
                _ = shutdown.cancelled() => {}
                result = server.block_until_done() => {
                    // Only an unrecoverable socket error ends hickory's loops before shutdown.
                    tracing::error!(?result, "the DNS listener stopped");
                    return;
                }
            }
            if let Err(error) = server.shutdown_gracefully().await {
                tracing::warn!(%error, "DNS listener stopped with an error");
            }
        }
        .instrument(info_span!("dns")),
    );
    Ok(())
}
