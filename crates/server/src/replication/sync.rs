//! Start-up sync: copy the registry from a peer before reporting ready (§4.12).

use std::sync::Arc;

use eureka_registry::Origin;
use tokio_util::sync::CancellationToken;

use super::ReplicationHost;

/// Copies the registry from the first peer that answers, registering every instance as a
/// replication (so it is not sent back out), then marks the server ready.
///
/// Tries every peer in order, up to `1 + registry-sync-retries` rounds with
/// `registry-sync-retry-wait-ms` between rounds. Java makes no attempt at all when the retry
/// count is 0 (Spring's default); a server with peers always tries once here, because
/// starting empty next to a full peer is what a restarted node must never do. A peer that
/// answers with an empty registry ends the sync: the cluster is empty.
pub async fn sync_from_peers<H: ReplicationHost>(host: Arc<H>, shutdown: CancellationToken) {
    let replicator = host.replicator();
    let rounds = 1 + host.config().registry_sync_retries;
    let mut copied = None;
    'rounds: for round in 0..rounds {
        if round > 0 {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(host.config().registry_sync_retry_wait) => {},
            }
        }
        for peer in replicator.peers().iter() {
            let fetched = tokio::select! {
                _ = shutdown.cancelled() => return,
                fetched = peer.http().applications() => fetched,
            };
            match fetched {
                Ok(apps) => {
                    let now = host.now_ms();
                    peer.record_success(now, 0, 0);
                    let mut count = 0;
                    for app in apps.applications {
                        for instance in app.instances {
                            let mut info = Arc::unwrap_or_clone(instance);
                            info.normalize();
                            host.registry().register(info, Origin::Peer, now);
                            count += 1;
                        }
                    }
                    tracing::info!(peer = %peer.url(), instances = count, "copied the registry from a peer");
                    copied = Some(count);
                    break 'rounds;
                }
                Err(error) => {
                    peer.record_failure(host.now_ms(), &error);
                    tracing::debug!(peer = %peer.url(), %error, round = round + 1, rounds,
                        "start-up sync: peer did not answer");
                }
            }
        }
    }
    if copied.is_none() && !replicator.peers().is_empty() {
        tracing::warn!("start-up sync: no peer answered; starting with an empty registry");
    }
    replicator.mark_synced(copied.unwrap_or(0));
}
