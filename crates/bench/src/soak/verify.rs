//! The final check: every node holds every instance UP, with equal `apps__hashcode`s.

use std::time::Duration;

use anyhow::{bail, Context};
use tokio::time::Instant;

use super::report::{NodeCheck, Verification};
use super::{Cluster, REQUEST_TIMEOUT};
use crate::load::Conn;
use crate::wire;

/// Reads every node's full registry until all hold every instance UP with equal hashes, or
/// `settle` has passed; reports what the last round found. A node that does not answer (it
/// crashed, say) counts as holding nothing, so the report still gets written.
pub(crate) async fn verify(cluster: &Cluster, instances: u64, settle: Duration) -> Verification {
    let started = Instant::now();
    let expected: Vec<String> = (0..instances).map(wire::id).collect();
    loop {
        let mut checks = Vec::new();
        let mut lost_ids = std::collections::BTreeSet::new();
        for node in &cluster.nodes {
            let (held, apps_hashcode) = match registry_of(node.addr).await {
                Ok(apps) => {
                    let up: std::collections::HashSet<String> = apps
                        .instances()
                        .filter(|i| i.status == eureka_model::InstanceStatus::Up)
                        .map(|i| i.id().to_string())
                        .collect();
                    (up, apps.apps_hashcode.clone())
                }
                Err(error) => (Default::default(), format!("(no answer: {error:#})")),
            };
            let lost: Vec<&String> = expected.iter().filter(|id| !held.contains(*id)).collect();
            checks.push(NodeCheck { instances: held.len(), apps_hashcode, lost: lost.len() });
            lost_ids.extend(lost.into_iter().cloned());
        }
        let hashes_equal = checks.windows(2).all(|w| w[0].apps_hashcode == w[1].apps_hashcode);
        if (lost_ids.is_empty() && hashes_equal) || started.elapsed() > settle {
            return Verification {
                nodes: checks,
                lost: lost_ids.len(),
                lost_examples: lost_ids.into_iter().take(20).collect(),
                hashes_equal,
                settled_after_secs: started.elapsed().as_secs_f64(),
            };
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One node's full registry (`GET /eureka/apps`, gzip), decoded.
pub(crate) async fn registry_of(
    addr: std::net::SocketAddr,
) -> anyhow::Result<eureka_model::Applications> {
    let mut conn = Conn::open(addr).await?;
    let (status, body) =
        tokio::time::timeout(REQUEST_TIMEOUT * 4, conn.send(wire::full_fetch(addr)))
            .await
            .context("timed out")??;
    if !status.is_success() {
        bail!("answered {status}");
    }
    eureka_model::json::decode_applications(&wire::inflate(&body)).context("undecodable")
}
