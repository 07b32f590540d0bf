//! Fail-over across several Eureka servers: stick to the one that last answered, move on to
//! the next when one fails, and keep a failed one aside for a while.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use eureka_model::{Applications, InstanceInfo, InstanceStatus};
use tokio::time::Instant;

use crate::api::EurekaApi;
use crate::config::ClientConfig;
use crate::transport::{EurekaHttp, Renewal, Timeouts, TlsOptions, TransportError};

/// How long a server that failed is skipped, unless every server has failed.
pub const DEFAULT_QUARANTINE: Duration = Duration::from_secs(30);
/// Servers tried per call, as Java's `RetryableEurekaHttpClient` does.
pub const DEFAULT_MAX_ATTEMPTS: usize = 3;

/// A set of Eureka servers called as one (Java's retryable client).
///
/// Each call goes to the server that last answered; when it fails in a way another server
/// could fix (no connection, timeout, 5xx, or 403 "not ready"), the server is quarantined and
/// the call moves on to the next one, up to `max_attempts` servers. When every server is in
/// quarantine, all of them are tried again.
#[derive(Debug)]
pub struct Failover {
    servers: Vec<EurekaHttp>,
    quarantine: Duration,
    max_attempts: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    current: usize,
    quarantined_until: Vec<Option<Instant>>,
}

impl Failover {
    /// A set over `servers` (at least one), starting at a random one so that clients spread
    /// over the cluster.
    pub fn new(servers: Vec<EurekaHttp>) -> Result<Self, TransportError> {
        if servers.is_empty() {
            return Err(TransportError::InvalidUrl {
                url: String::new(),
                reason: "no Eureka service URL given".into(),
            });
        }
        let current = rand::random::<usize>() % servers.len();
        let quarantined_until = vec![None; servers.len()];
        Ok(Failover {
            servers,
            quarantine: DEFAULT_QUARANTINE,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            state: Mutex::new(State { current, quarantined_until }),
        })
    }

    /// A set from a `defaultZone`-style list: comma-separated URLs, credentials allowed.
    pub fn from_urls(urls: &str, timeouts: Timeouts) -> Result<Self, TransportError> {
        Self::from_urls_with_tls(urls, timeouts, &TlsOptions::default())
    }

    /// [`Failover::from_urls`] with extra trusted CAs or a client certificate.
    pub fn from_urls_with_tls(
        urls: &str,
        timeouts: Timeouts,
        tls: &TlsOptions,
    ) -> Result<Self, TransportError> {
        let servers = split_urls(urls)
            .map(|url| EurekaHttp::with_tls(url, timeouts, tls))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(servers)
    }

    /// Sets how long a failed server is skipped.
    pub fn with_quarantine(mut self, quarantine: Duration) -> Self {
        self.quarantine = quarantine;
        self
    }

    /// Sets how many servers one call may try (at least one).
    pub fn with_max_attempts(mut self, attempts: usize) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Starts at the first server of the list instead of a random one.
    pub fn in_order(self) -> Self {
        self.lock().current = 0;
        self
    }

    /// The servers, in configured order.
    pub fn servers(&self) -> &[EurekaHttp] {
        &self.servers
    }

    /// The server the next call goes to first.
    pub fn current(&self) -> &EurekaHttp {
        &self.servers[self.lock().current]
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The servers to try, in order: the sticky one first, then the others in list order,
    /// quarantined ones left out unless all are.
    fn candidates(&self) -> Vec<usize> {
        let now = Instant::now();
        let state = self.lock();
        let n = self.servers.len();
        let ring = (0..n).map(|k| (state.current + k) % n);
        let healthy: Vec<usize> = ring
            .clone()
            .filter(|&i| state.quarantined_until[i].is_none_or(|until| until <= now))
            .collect();
        let mut order = if healthy.is_empty() { ring.collect() } else { healthy };
        order.truncate(self.max_attempts);
        order
    }

    /// Runs `call` against the servers in fail-over order and returns the first answer that
    /// another server could not improve on.
    pub async fn call<'a, T, F, Fut>(&'a self, call: F) -> Result<T, TransportError>
    where
        F: Fn(&'a EurekaHttp) -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        let mut last = None;
        for i in self.candidates() {
            match call(&self.servers[i]).await {
                Err(e) if should_try_another(&e) => {
                    tracing::debug!(server = %self.servers[i].url(), error = %e, "eureka server failed, trying the next");
                    self.lock().quarantined_until[i] = Some(Instant::now() + self.quarantine);
                    last = Some(e);
                }
                answer => {
                    let mut state = self.lock();
                    state.current = i;
                    state.quarantined_until[i] = None;
                    return answer;
                }
            }
        }
        Err(last.expect("candidates is never empty"))
    }
}

/// Whether another server may answer better: connection trouble, 5xx, and 403, which Java
/// servers answer while their registry is not yet synced.
fn should_try_another(e: &TransportError) -> bool {
    match e {
        TransportError::Status { status, .. } => *status >= 500 || *status == 403,
        other => other.is_retryable(),
    }
}

/// The service URLs in the order Java's zone-affine resolver gives them: the own zone's
/// servers first, then those of every other zone, each part shuffled so clients spread over
/// it; with `prefer_same_zone` off, the other zones' first. A zone without a list of its own
/// has the default list; a URL listed twice keeps its first place.
pub fn zone_ordered_urls(config: &ClientConfig, own_zone: Option<&str>) -> Vec<String> {
    use rand::seq::SliceRandom;
    let mut own = Vec::new();
    let mut others = Vec::new();
    for zone in config.zones() {
        let mine = own_zone.is_some_and(|z| z.eq_ignore_ascii_case(&zone));
        let part = if mine { &mut own } else { &mut others };
        part.extend(config.urls_of_zone(&zone).iter().cloned());
    }
    let mut rng = rand::thread_rng();
    own.shuffle(&mut rng);
    others.shuffle(&mut rng);
    let ordered = if config.prefer_same_zone { [own, others] } else { [others, own] };
    let mut seen = std::collections::HashSet::new();
    ordered.into_iter().flatten().filter(|url| seen.insert(url.clone())).collect()
}

/// Splits a comma-separated service URL list, as `defaultZone` is written.
pub fn split_urls(urls: &str) -> impl Iterator<Item = &str> {
    urls.split(',').map(str::trim).filter(|s| !s.is_empty())
}

impl EurekaApi for Failover {
    async fn register(&self, info: &InstanceInfo) -> Result<(), TransportError> {
        self.call(|s| s.register(info)).await
    }

    async fn heartbeat(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: u64,
    ) -> Result<Renewal, TransportError> {
        self.call(|s| s.heartbeat(app, id, status, last_dirty_timestamp)).await
    }

    async fn cancel(&self, app: &str, id: &str) -> Result<(), TransportError> {
        self.call(|s| s.cancel(app, id)).await
    }

    async fn set_status_override(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: u64,
    ) -> Result<(), TransportError> {
        self.call(|s| s.set_status_override(app, id, status, last_dirty_timestamp)).await
    }

    async fn delete_status_override(
        &self,
        app: &str,
        id: &str,
        status: Option<InstanceStatus>,
        last_dirty_timestamp: u64,
    ) -> Result<(), TransportError> {
        self.call(|s| s.delete_status_override(app, id, status, last_dirty_timestamp)).await
    }

    async fn applications(&self) -> Result<Applications, TransportError> {
        self.call(|s| s.applications()).await
    }

    async fn watch(
        &self,
        last_event_id: Option<u64>,
    ) -> Result<Option<crate::stream::WatchStream>, TransportError> {
        self.call(|s| s.watch(last_event_id)).await
    }

    async fn delta(&self) -> Result<Applications, TransportError> {
        self.call(|s| s.delta()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts =
        Timeouts { connect: Duration::from_millis(200), request: Duration::from_millis(500) };

    fn set(urls: &[&str]) -> Failover {
        Failover::from_urls(&urls.join(","), T).unwrap().in_order()
    }

    fn refused() -> TransportError {
        TransportError::Connect("refused".into())
    }

    #[tokio::test(start_paused = true)]
    async fn sticks_to_the_server_that_answered_and_quarantines_the_one_that_failed() {
        let f = set(&["http://a/eureka/", "http://b/eureka/", "http://c/eureka/"]);
        let tried = Mutex::new(Vec::new());
        let answer = f
            .call(|s| {
                tried.lock().unwrap().push(s.url().to_string());
                let ok = !s.url().contains("//a/");
                async move {
                    if ok {
                        Ok(s.url().to_string())
                    } else {
                        Err(refused())
                    }
                }
            })
            .await
            .unwrap();
        assert_eq!(answer, "http://b/eureka/");
        assert_eq!(f.current().url(), "http://b/eureka/");
        // The next call starts at b and skips a while it is quarantined.
        let order = f.candidates();
        assert_eq!(order, vec![1, 2]);
        tokio::time::advance(DEFAULT_QUARANTINE + Duration::from_millis(1)).await;
        assert_eq!(f.candidates(), vec![1, 2, 0]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_error_is_final_and_not_retried_elsewhere() {
        let f = set(&["http://a/eureka/", "http://b/eureka/"]);
        let calls = Mutex::new(0);
        let err = f
            .call(|_| {
                *calls.lock().unwrap() += 1;
                async { Err::<(), _>(TransportError::Status { status: 400, body: "bad".into() }) }
            })
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Status { status: 400, .. }));
        assert_eq!(*calls.lock().unwrap(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn when_every_server_failed_all_are_tried_again() {
        let f = set(&["http://a/eureka/", "http://b/eureka/"]).with_max_attempts(5);
        let calls = Mutex::new(0);
        let fail = || {
            f.call(|_| {
                *calls.lock().unwrap() += 1;
                async { Err::<(), _>(TransportError::Status { status: 503, body: String::new() }) }
            })
        };
        assert!(fail().await.is_err());
        assert_eq!(*calls.lock().unwrap(), 2, "each server once per call, despite 5 attempts");
        assert!(fail().await.is_err());
        assert_eq!(*calls.lock().unwrap(), 4, "all quarantined: all tried again");
    }

    fn zoned(prefer: bool) -> ClientConfig {
        let mut config = ClientConfig {
            service_urls: vec!["http://default/eureka/".into()],
            availability_zones: vec!["a".into(), "b".into(), "c".into()],
            prefer_same_zone: prefer,
            ..ClientConfig::default()
        };
        config.zone_service_urls.insert("a".into(), vec!["http://a1/".into(), "http://a2/".into()]);
        config.zone_service_urls.insert("b".into(), vec!["http://b1/".into()]);
        config
    }

    #[test]
    fn own_zone_servers_come_first_and_zones_without_a_list_use_the_default() {
        for _ in 0..20 {
            let order = zone_ordered_urls(&zoned(true), Some("B"));
            assert_eq!(order[0], "http://b1/", "{order:?}");
            let mut rest = order[1..].to_vec();
            rest.sort();
            assert_eq!(rest, ["http://a1/", "http://a2/", "http://default/eureka/"]);
        }
        let order = zone_ordered_urls(&zoned(false), Some("b"));
        assert_eq!(order.last().map(String::as_str), Some("http://b1/"), "{order:?}");
        // Both own-zone servers get to be first over a few runs: the part is shuffled.
        let firsts: std::collections::BTreeSet<String> =
            (0..64).map(|_| zone_ordered_urls(&zoned(true), Some("a"))[0].clone()).collect();
        assert_eq!(firsts.len(), 2, "{firsts:?}");
    }

    #[test]
    fn url_lists_split_like_default_zone() {
        let urls: Vec<_> = split_urls(" http://a/eureka/, ,http://b/eureka/ ").collect();
        assert_eq!(urls, ["http://a/eureka/", "http://b/eureka/"]);
        assert!(Failover::from_urls(" , ", T).is_err());
    }
}
