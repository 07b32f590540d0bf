//! The cluster under soak: `eureka-server` processes peered with each other.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinSet;

use super::STARTUP;
use crate::process::{free_port, ServerProcess};

/// The cluster under soak: `eureka-server` processes on loopback, each naming all the others
/// as peers. Dropping it kills them; [`Cluster::stop`] lets them drain first.
pub struct Cluster {
    /// The nodes, in order.
    pub nodes: Vec<ServerProcess>,
    /// Each node's log file.
    pub logs: Vec<PathBuf>,
}

impl Cluster {
    /// Starts `n` nodes of `program` on free ports at once (each copies the registry from
    /// its peers at start-up) and waits until every one is ready.
    pub async fn start(program: &Path, n: usize, log_dir: &Path) -> anyhow::Result<Cluster> {
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let peers: Vec<String> =
            ports.iter().map(|p| format!("http://127.0.0.1:{p}/eureka/")).collect();
        let logs: Vec<PathBuf> =
            (0..n).map(|i| log_dir.join(format!("soak-node{i}.log"))).collect();
        let mut starting = JoinSet::new();
        for (i, port) in ports.iter().copied().enumerate() {
            let mut args = vec!["--port".to_string(), port.to_string()];
            for peer in &peers {
                // A node skips its own URL (same host and port).
                args.push("--peer".into());
                args.push(peer.clone());
            }
            let (program, log) = (program.display().to_string(), logs[i].clone());
            starting.spawn(async move {
                let node = ServerProcess::start_unpinned(&program, &args, port, &log, STARTUP)
                    .await
                    .with_context(|| format!("node {i}"))?;
                anyhow::Ok((i, node))
            });
        }
        let mut nodes: Vec<Option<ServerProcess>> = (0..n).map(|_| None).collect();
        while let Some(started) = starting.join_next().await {
            let (i, node) = started.context("node start-up panicked")??;
            nodes[i] = Some(node);
        }
        Ok(Cluster {
            nodes: nodes.into_iter().map(|n| n.expect("every node started")).collect(),
            logs,
        })
    }

    /// Stops every node with SIGTERM, killing one that has not exited after `grace`; returns
    /// how many exited on their own.
    pub async fn stop(self, grace: Duration) -> usize {
        let mut stopping = JoinSet::new();
        for node in self.nodes {
            stopping.spawn(node.terminate(grace));
        }
        let mut clean = 0;
        while let Some(done) = stopping.join_next().await {
            clean += usize::from(done.unwrap_or(false));
        }
        clean
    }
}
