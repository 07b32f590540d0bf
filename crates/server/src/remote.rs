//! Remote regions (`eureka.server.remote-region-urls-with-name.<region>`): one owned
//! background task per region keeps a copy of that region's registry, fetched as a Java client
//! fetches (full, then deltas checked against `apps__hashcode`, with the discovery client's own
//! copy and [`refresh`]), and hands each result to the registry's [`RemoteRegions`], which the
//! reads merge from. Remote instances are never replicated, evicted or health-checked here.
//!
//! Each fetch runs every `remote-region-registry-fetch-interval`, bounded by that interval; a
//! run that times out (or meets a 503) doubles the pause, up to 5× (Java's bound). The first
//! fetch starts with the server; reads that ask for regions get 403 until every region has
//! answered once, as in Java.

use std::time::Duration;

use eureka_client::cache::{refresh, LocalRegistry, Refreshed};
use eureka_client::supervise::{pause, Backoff};
use eureka_client::transport::redact;
use eureka_client::{EurekaHttp, Timeouts, TlsOptions, TransportError};
use eureka_registry::{RegionConfig, RegionSet, RemoteRegions};
use parking_lot::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info_span, Instrument};

use crate::config::ServerConfig;
use crate::state::SharedState;

/// Java's back-off bound for remote-region fetches.
const BACKOFF_BOUND: u32 = 5;

/// How fetching one region has gone, for `status` and the metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchHealth {
    /// When a fetch last succeeded, epoch ms.
    pub last_success_ms: Option<u64>,
    /// The last failure: when, and what.
    pub last_error: Option<(u64, String)>,
    /// Failures since the last success.
    pub consecutive_failures: u64,
    /// Successful fetches by kind.
    pub full_fetches: u64,
    /// Deltas applied whose hash matched.
    pub delta_fetches: u64,
    /// Deltas whose hash differed, so the registry was fetched in full.
    pub delta_mismatches: u64,
    /// Failed or timed-out fetches.
    pub failures: u64,
}

/// One region's link: where it is fetched from and how that goes.
#[derive(Debug)]
pub struct RegionLink {
    /// The region's name (lower case).
    pub name: String,
    /// Its service URL, without credentials.
    pub url: String,
    http: Option<EurekaHttp>,
    health: Mutex<FetchHealth>,
}

impl RegionLink {
    /// How fetching has gone so far.
    pub fn health(&self) -> FetchHealth {
        self.health.lock().clone()
    }
}

/// The configured remote regions: their copies (the registry's [`RemoteRegions`]) and the
/// links they are fetched over.
#[derive(Debug)]
pub struct Remote {
    /// The copies and the merged reads over them.
    pub regions: RemoteRegions,
    /// Per region, in the same order: where it is fetched from.
    pub links: Vec<RegionLink>,
    /// Reads without `regions=` merge every region, and lookups fall back to them.
    pub fallback: bool,
    interval: Duration,
    use_delta: bool,
}

impl Remote {
    /// The regions of `config`, fetched with `tls` (the peers' trust and client certificate)
    /// as the server named `node_id`, with the peers' default credentials.
    pub fn from_config(config: &ServerConfig, tls: &TlsOptions, node_id: &str) -> Self {
        let settings = &config.remote_regions;
        let timeouts =
            Timeouts { connect: settings.connect_timeout, request: settings.read_timeout };
        let mut configs = Vec::new();
        let mut links = Vec::new();
        for (name, url) in &settings.urls {
            let http = match EurekaHttp::with_tls(url, timeouts, tls) {
                Ok(http) => Some(match &config.peer_username {
                    Some(user) => http.with_default_credentials(
                        user,
                        config.peer_password.as_ref().map_or("", |p| p.expose()),
                    ),
                    None => http,
                }),
                Err(e) => {
                    tracing::error!(region = %name, url = %redact(url), error = %e, "unusable remote region URL");
                    None
                }
            };
            let http = http.map(|h| h.with_node_id(node_id));
            configs.push(RegionConfig {
                name: name.clone(),
                whitelist: settings.whitelist(name).cloned(),
            });
            links.push(RegionLink {
                name: name.clone(),
                url: redact(url),
                http,
                health: Mutex::new(FetchHealth::default()),
            });
        }
        let lifetime = (!settings.cache_lifetime.is_zero())
            .then_some(settings.cache_lifetime.as_millis() as u64);
        Remote {
            regions: RemoteRegions::new(
                configs,
                config.delta_retention.as_millis() as u64,
                lifetime,
            ),
            links,
            fallback: !settings.disable_transparent_fallback,
            interval: settings.fetch_interval,
            use_delta: !settings.disable_delta,
        }
    }

    /// Whether any remote region is configured.
    pub fn is_configured(&self) -> bool {
        !self.links.is_empty()
    }

    /// The regions a read without `regions=` includes: every one while transparent fallback
    /// is on (Java's `getApplications()`), none otherwise.
    pub fn default_set(&self) -> RegionSet {
        if self.fallback {
            self.regions.all()
        } else {
            RegionSet::EMPTY
        }
    }

    /// Spawns one fetcher per region into `tasks`, each stopped by `shutdown`.
    pub fn spawn(state: &SharedState, shutdown: &CancellationToken, tasks: &mut JoinSet<()>) {
        for (index, link) in state.remote.links.iter().enumerate() {
            let Some(http) = link.http.clone() else { continue };
            tracing::info!(region = %link.name, url = %link.url, "following remote region");
            let span = info_span!("remote_region", region = %link.name);
            tasks.spawn(follow(state.clone(), index, http, shutdown.clone()).instrument(span));
        }
    }
}

/// Keeps region `index`'s copy fresh until `shutdown`.
async fn follow(state: SharedState, index: usize, http: EurekaHttp, shutdown: CancellationToken) {
    let remote = &state.remote;
    let mut backoff = Backoff::new(remote.interval, BACKOFF_BOUND);
    let mut copy = LocalRegistry::default();
    let mut delay = Duration::ZERO;
    loop {
        if !pause(&shutdown, delay).await {
            break;
        }
        let run =
            tokio::time::timeout(remote.interval, refresh(&http, &mut copy, remote.use_delta));
        let outcome = tokio::select! {
            _ = shutdown.cancelled() => break,
            outcome = run => outcome,
        };
        let now = state.clock.now_ms();
        let link = &remote.links[index];
        delay = match outcome {
            Ok(Ok(how)) => {
                let summary = remote.regions.update(index, &copy.to_applications(), now);
                let mut h = link.health.lock();
                h.last_success_ms = Some(now);
                h.consecutive_failures = 0;
                match how {
                    Refreshed::Delta => h.delta_fetches += 1,
                    Refreshed::Full => h.full_fetches += 1,
                    Refreshed::Reconciled => {
                        h.delta_mismatches += 1;
                        h.full_fetches += 1;
                    }
                }
                drop(h);
                if summary != Default::default() {
                    tracing::info!(
                        ?how,
                        added = summary.added,
                        modified = summary.modified,
                        removed = summary.removed,
                        instances = copy.len(),
                        "remote region changed"
                    );
                }
                backoff.reset()
            }
            Ok(Err(e)) => {
                failed(&state, index, now, &e.to_string());
                if e.is_congestion() {
                    backoff.slow_down()
                } else {
                    backoff.reset()
                }
            }
            Err(_) => {
                failed(&state, index, now, &TransportError::Timeout.to_string());
                backoff.slow_down()
            }
        };
    }
    tracing::debug!("remote region task stopped");
}

fn failed(state: &SharedState, index: usize, now: u64, error: &str) {
    let remote = &state.remote;
    let link = &remote.links[index];
    {
        let mut h = link.health.lock();
        h.failures += 1;
        h.consecutive_failures += 1;
        h.last_error = Some((now, error.to_string()));
        if h.consecutive_failures == 1 {
            tracing::warn!(url = %link.url, %error, "remote region fetch failed; serving its last copy");
        } else {
            tracing::debug!(url = %link.url, %error, "remote region fetch failed again");
        }
    }
    if remote.regions.check_expiry(index, now) {
        tracing::warn!(url = %link.url, "remote region copy outlived remote-region-cache-lifetime; no longer served");
    }
}
