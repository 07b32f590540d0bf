//! A fault-injection TCP proxy for loopback tests: put it in front of a peer, then partition,
//! slow or cut that peer at run time with [`FaultProxy::set`].
//!
//! Every task the proxy spawns is owned: connection tasks live in a [`JoinSet`] owned by the
//! accept task, which [`FaultProxy::stop`] cancels and awaits and which `Drop` aborts.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

/// Size of the per-direction copy buffer.
const CHUNK: usize = 16 * 1024;

/// What the proxy does with traffic; switched at run time with [`FaultProxy::set`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward both directions untouched.
    Pass,
    /// Forward both directions, but hold each chunk this long before writing it.
    Delay(Duration),
    /// Black hole (a partition as TCP sees it): accept connections, read and discard bytes,
    /// forward nothing, never answer, so requests time out. Connections that lived through a
    /// `Drop` are closed when it is lifted, since their streams have lost bytes.
    Drop,
    /// A crashed peer: reset every open connection now and reset new ones as soon as they are
    /// accepted, so clients see connection errors.
    Cut,
}

/// The fault plus a generation that changes whenever existing connections must die
/// (entering `Cut`, or leaving `Drop`).
#[derive(Clone, Copy, Debug)]
struct State {
    fault: Fault,
    epoch: u64,
}

/// A TCP proxy on `127.0.0.1:0` in front of `target`, whose behaviour tests switch at run time.
pub struct FaultProxy {
    addr: SocketAddr,
    state: watch::Sender<State>,
    connections: Arc<AtomicU64>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Binds `127.0.0.1:0` and starts forwarding to `target` with [`Fault::Pass`].
    pub async fn start(target: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (state, rx) = watch::channel(State { fault: Fault::Pass, epoch: 0 });
        let connections = Arc::new(AtomicU64::new(0));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(accept_loop(
            listener,
            target,
            rx,
            Arc::clone(&connections),
            shutdown.clone(),
        ));
        Ok(FaultProxy { addr, state, connections, shutdown, task: Some(task) })
    }

    /// The address clients should connect to instead of the target.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Switches the fault; it applies to the next chunk of data and to new connections at once.
    pub fn set(&self, fault: Fault) {
        self.state.send_modify(|s| {
            let kill = fault == Fault::Cut || (s.fault == Fault::Drop && fault != Fault::Drop);
            if kill {
                s.epoch += 1;
            }
            s.fault = fault;
        });
    }

    /// The fault currently in force.
    pub fn fault(&self) -> Fault {
        self.state.borrow().fault
    }

    /// How many connections the proxy has accepted so far, whatever the fault (for assertions).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Stops accepting, closes every connection and waits for all proxy tasks to finish.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            // Aborting drops the accept task's JoinSet, which aborts every connection task.
            task.abort();
        }
    }
}

/// Accepts clients and spawns one owned task per connection until `shutdown`.
async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    state: watch::Receiver<State>,
    connections: Arc<AtomicU64>,
    shutdown: CancellationToken,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    connections.fetch_add(1, Ordering::Relaxed);
                    let at_accept = *state.borrow();
                    if at_accept.fault == Fault::Cut {
                        reset(client);
                        continue;
                    }
                    conns.spawn(serve(client, target, state.clone(), at_accept, shutdown.clone()));
                }
                // Transient (e.g. aborted handshake, fd exhaustion): back off briefly, keep going.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
        }
    }
    drop(listener);
    // Every connection task also watches `shutdown`, so this drains promptly.
    while conns.join_next().await.is_some() {}
}

/// Closes a socket abortively (RST), as a crashed peer's kernel would answer.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Runs one proxied connection until it ends, is killed by a fault switch, or the proxy stops.
async fn serve(
    mut client: TcpStream,
    target: SocketAddr,
    state: watch::Receiver<State>,
    at_accept: State,
    shutdown: CancellationToken,
) {
    let outcome = tokio::select! {
        _ = shutdown.cancelled() => return,
        cut = killed(state.clone(), at_accept.epoch) => cut,
        _ = forward(&mut client, target, state, at_accept.fault) => return,
    };
    if outcome {
        reset(client);
    }
}

/// Completes when this connection's generation is over; returns whether that was a `Cut`.
async fn killed(mut state: watch::Receiver<State>, epoch: u64) -> bool {
    loop {
        let now = *state.borrow_and_update();
        if now.epoch != epoch {
            return now.fault == Fault::Cut;
        }
        if state.changed().await.is_err() {
            return false;
        }
    }
}

/// Black-holes the client if accepted under `Drop`, otherwise connects upstream and copies
/// both ways until both sides finish or one fails.
async fn forward(
    client: &mut TcpStream,
    target: SocketAddr,
    state: watch::Receiver<State>,
    at_accept: Fault,
) {
    if at_accept == Fault::Drop {
        let mut buf = vec![0u8; CHUNK];
        while let Ok(1..) = client.read(&mut buf).await {}
        // Never answer, not even with a FIN: wait to be killed when the Drop is lifted.
        std::future::pending::<()>().await;
    }
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (mut client_rd, mut client_wr) = client.split();
    let (mut upstream_rd, mut upstream_wr) = upstream.split();
    let _ = tokio::try_join!(
        pipe(&mut client_rd, &mut upstream_wr, state.clone()),
        pipe(&mut upstream_rd, &mut client_wr, state),
    );
}

/// Copies one direction chunk by chunk, applying the fault in force to each chunk.
async fn pipe<R, W>(rd: &mut R, wr: &mut W, state: watch::Receiver<State>) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = rd.read(&mut buf).await?;
        if n == 0 {
            let fault = state.borrow().fault;
            if fault == Fault::Drop {
                // Swallow the FIN too; the connection dies when the Drop is lifted.
                std::future::pending::<()>().await;
            }
            return wr.shutdown().await;
        }
        let fault = state.borrow().fault;
        if let Fault::Delay(delay) = fault {
            tokio::time::sleep(delay).await;
        }
        // Copy out first: a watch borrow must never be held across an await.
        let fault = state.borrow().fault;
        match fault {
            Fault::Drop => continue,
            // The connection is being reset; forward nothing more.
            Fault::Cut => std::future::pending::<()>().await,
            Fault::Pass | Fault::Delay(_) => {}
        }
        wr.write_all(&buf[..n]).await?;
    }
}
