//! The discovery client: registers this service, keeps its lease alive, pushes its status,
//! and keeps a local copy of the registry fresh for lookups (Java's `DiscoveryClient`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eureka_model::{InstanceInfo, InstanceStatus};
use rand::Rng;
use thiserror::Error;
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::EurekaApi;
use crate::cache::{LocalRegistry, Snapshot, View};
use crate::config::{ClientConfig, Instance};
use crate::failover::{split_urls, zone_ordered_urls, Failover};
use crate::supervise::{pause, pause_until, supervise, Backoff, TokenBucket};
use crate::transport::{EurekaHttp, Renewal, TlsOptions, TransportError};

/// Maps the service's own view of its health to the status it should have in the registry;
/// consulted on every periodic instance check. Keep it cheap: it runs on the client's task.
pub type HealthCheck = Arc<dyn Fn() -> InstanceStatus + Send + Sync>;

/// Why a client could not be built.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The configuration cannot work (no URL, a bad URL...).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// A call failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// Builds a [`DiscoveryClient`]: service URLs, the instance to register (if any), timings.
pub struct ClientBuilder {
    config: ClientConfig,
    instance: Option<Instance>,
    health: Option<HealthCheck>,
}

impl ClientBuilder {
    /// A builder for the servers in `service_urls` (comma-separated, like `defaultZone`;
    /// `user:pass@` credentials become Basic auth).
    pub fn new(service_urls: &str) -> Self {
        let config = ClientConfig {
            service_urls: split_urls(service_urls).map(str::to_string).collect(),
            ..ClientConfig::default()
        };
        ClientBuilder { config, instance: None, health: None }
    }

    /// A builder from a complete configuration.
    pub fn from_config(config: ClientConfig) -> Self {
        ClientBuilder { config, instance: None, health: None }
    }

    /// Registers `instance` and keeps its lease alive (without it, the client only discovers).
    pub fn register(mut self, instance: Instance) -> Self {
        self.instance = Some(instance);
        self
    }

    /// Maps a health check to the registered status (UP, DOWN...), checked periodically.
    pub fn health_check(
        mut self,
        check: impl Fn() -> InstanceStatus + Send + Sync + 'static,
    ) -> Self {
        self.health = Some(Arc::new(check));
        self
    }

    /// Changes any setting.
    pub fn configure(mut self, change: impl FnOnce(&mut ClientConfig)) -> Self {
        change(&mut self.config);
        self
    }

    /// Sets how often the local registry is refreshed (default 30 s).
    pub fn registry_fetch_interval(self, every: Duration) -> Self {
        self.configure(|c| c.registry_fetch_interval = every)
    }

    /// Whether to keep a local copy of the registry (default true).
    pub fn fetch_registry(self, yes: bool) -> Self {
        self.configure(|c| c.fetch_registry = yes)
    }

    /// Sets this client's zone and the servers of each zone (`service-url.<zone>`): servers
    /// of the own zone are tried first (`prefer-same-zone-eureka`), the others after.
    pub fn zones<'a>(
        self,
        own: &str,
        servers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let own = own.to_string();
        let servers: Vec<(String, Vec<String>)> = servers
            .into_iter()
            .map(|(zone, urls)| (zone.to_string(), split_urls(urls).map(str::to_string).collect()))
            .collect();
        self.configure(move |c| {
            c.zone = Some(own);
            c.zone_service_urls.extend(servers);
        })
    }

    /// Lookups prefer instances of this client's zone while it has any usable one.
    pub fn prefer_zone_instances(self, yes: bool) -> Self {
        self.configure(|c| c.prefer_zone_instances = yes)
    }

    /// Trusts extra CAs or presents a client certificate to `https://` servers.
    pub fn tls(self, tls: TlsOptions) -> Self {
        self.configure(|c| c.tls = tls)
    }

    /// Builds the fail-over transport from the configuration and starts the client. With
    /// zones configured, servers of the own zone are tried first ([`zone_ordered_urls`]).
    pub async fn start(self) -> Result<DiscoveryClient<Failover>, ClientError> {
        let info = self.instance.as_ref().map(Instance::to_instance_info);
        let urls = if self.config.has_zones() {
            zone_ordered_urls(&self.config, self.config.own_zone(info.as_ref()).as_deref())
        } else {
            self.config.service_urls.clone()
        };
        if urls.is_empty() {
            return Err(ClientError::Config("no Eureka service URL given".into()));
        }
        // The instance id when registering (what a deploy script drains), else a random one.
        let client_id = info
            .and_then(|i| i.instance_id)
            .unwrap_or_else(|| format!("client-{:016x}", rand::random::<u64>()));
        let regions = self.config.fetch_remote_regions.join(",");
        let servers = urls
            .iter()
            .map(|url| {
                EurekaHttp::with_tls(url, self.config.timeouts, &self.config.tls).map(|s| {
                    s.with_format(self.config.format)
                        .with_client_id(client_id.clone())
                        .with_regions(&regions)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut api = Failover::new(servers)?.with_quarantine(self.config.quarantine);
        if self.config.has_zones() {
            api = api.in_order();
        }
        Ok(self.start_with(api).await)
    }

    /// Starts the client over any transport (a single server, or a scripted one in tests).
    ///
    /// Returns once the first registry fetch and the first registration have been tried
    /// (unless a registration delay is configured); failures are logged and retried in the
    /// background, so a registry that is down does not stop the service from starting.
    pub async fn start_with<A: EurekaApi>(self, api: A) -> DiscoveryClient<A> {
        let ClientBuilder { config, instance, health } = self;
        let me = instance.as_ref().map(|i| {
            let mut info = i.to_instance_info();
            info.last_dirty_timestamp = now_ms();
            Mutex::new(Me { info, dirty: true, registered: false })
        });
        let (published, registry) = watch::channel(Arc::new(Snapshot::default()));
        let own = me.as_ref().map(|m| lock(m).info.clone());
        let view = View {
            only_up: config.filter_only_up_instances,
            shuffle: config.shuffle_instances,
            zone: config.own_zone(own.as_ref()).filter(|_| config.prefer_zone_instances),
        };
        let inner = Arc::new(Inner {
            view,
            api,
            config,
            me,
            health,
            push: Notify::new(),
            local: tokio::sync::Mutex::new(LocalRegistry::default()),
            published,
        });
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let mut first_steps = Vec::new();

        if inner.config.fetch_registry {
            let (done, first) = oneshot::channel();
            first_steps.push(first);
            tasks.spawn(refresh_loop(inner.clone(), shutdown.clone(), done));
        }
        if let Some(instance) = &instance {
            let (done, first) = oneshot::channel();
            if inner.config.initial_registration_delay.is_zero() {
                first_steps.push(first);
            }
            tasks.spawn(registration_loop(inner.clone(), shutdown.clone(), done));
            let every = instance.renewal();
            let heartbeat = inner.clone();
            tasks.spawn(supervise(
                "heartbeat",
                shutdown.clone(),
                every,
                Backoff::new(every, inner.config.backoff_bound),
                every,
                move || {
                    let inner = heartbeat.clone();
                    async move { inner.heartbeat().await }
                },
            ));
        }
        for step in first_steps {
            let _ = step.await;
        }
        DiscoveryClient { inner, registry, shutdown, tasks: Mutex::new(Some(tasks)) }
    }
}

/// A running Eureka client. Lookups read the local copy and never touch the network.
///
/// Stop it with [`DiscoveryClient::shutdown`], which cancels the lease; dropping it stops its
/// tasks and cancels the lease on a best-effort basis.
pub struct DiscoveryClient<A: EurekaApi = Failover> {
    inner: Arc<Inner<A>>,
    registry: watch::Receiver<Arc<Snapshot>>,
    shutdown: CancellationToken,
    tasks: Mutex<Option<JoinSet<()>>>,
}

/// This service's registration as the client holds it.
struct Me {
    info: InstanceInfo,
    /// Changed since the last successful registration.
    dirty: bool,
    /// Registered at least once, so there is a lease to cancel.
    registered: bool,
}

impl Me {
    /// Marks the instance changed; `lastDirtyTimestamp` only grows, since servers compare it.
    fn touch(&mut self) {
        self.info.last_dirty_timestamp = now_ms().max(self.info.last_dirty_timestamp + 1);
        self.dirty = true;
    }
}

struct Inner<A> {
    api: A,
    config: ClientConfig,
    me: Option<Mutex<Me>>,
    health: Option<HealthCheck>,
    /// Wakes the registration task for an on-demand push.
    push: Notify,
    /// The registry copy; held across a whole refresh so refreshes never interleave.
    local: tokio::sync::Mutex<LocalRegistry>,
    published: watch::Sender<Arc<Snapshot>>,
    /// How published snapshots answer lookups.
    view: View,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<A: EurekaApi> Inner<A> {
    /// Registers if something changed; clears the dirty mark only if nothing changed while
    /// the call was in flight.
    async fn register_if_dirty(&self) -> Result<(), TransportError> {
        let Some(me) = &self.me else { return Ok(()) };
        let info = {
            let me = lock(me);
            if !me.dirty {
                return Ok(());
            }
            me.info.clone()
        };
        self.api.register(&info).await?;
        let mut me = lock(me);
        me.registered = true;
        if me.info.last_dirty_timestamp == info.last_dirty_timestamp {
            me.dirty = false;
        }
        tracing::info!(app = %info.app, instance_id = %info.id(), status = %info.status, "registered with eureka");
        Ok(())
    }

    /// One renewal; a 404 means the server lost the lease, so register again at once.
    async fn heartbeat(&self) -> Result<Renewal, TransportError> {
        let Some(me) = &self.me else { return Ok(Renewal::Renewed) };
        let (app, id, status, dirty_ts) = {
            let me = lock(me);
            let i = &me.info;
            (i.app.clone(), i.id().to_string(), i.status, i.last_dirty_timestamp)
        };
        let renewal = self.api.heartbeat(&app, &id, status, dirty_ts).await?;
        if renewal == Renewal::NotFound {
            tracing::info!(app = %app, instance_id = %id, "lease unknown to the server, registering again");
            lock(me).touch();
            self.register_if_dirty().await?;
        }
        Ok(renewal)
    }

    /// Asks the health check for a status; an explicit STARTING or OUT_OF_SERVICE set by the
    /// service is left alone, as Java's bridge does.
    fn check_health(&self) {
        let (Some(me), Some(check)) = (&self.me, &self.health) else { return };
        let current = lock(me).info.status;
        if matches!(current, InstanceStatus::Starting | InstanceStatus::OutOfService) {
            return;
        }
        let status = check();
        let mut me = lock(me);
        if me.info.status != status {
            tracing::info!(from = %me.info.status, to = %status, "health check changed the instance status");
            me.info.status = status;
            me.touch();
        }
    }

    /// Brings the local registry up to date ([`crate::cache::refresh`]) and publishes it.
    async fn refresh(&self) -> Result<(), TransportError> {
        let mut local = self.local.lock().await;
        let refreshed =
            crate::cache::refresh(&self.api, &mut local, !self.config.disable_delta).await;
        if refreshed.is_ok() {
            self.publish(&mut local);
        }
        refreshed.map(drop)
    }

    /// Follows the server's change stream until shutdown (returns false) or until the server
    /// turns out to have none (returns true: poll instead). Broken streams reconnect with
    /// `Last-Event-ID` after a growing pause; while streaming, the ordinary delta refresh
    /// still runs every fetch interval as the hash-checked safety net.
    async fn follow_stream(&self, shutdown: &CancellationToken) -> bool {
        let every = self.config.registry_fetch_interval;
        let mut cursor: Option<u64> = None;
        let mut pause = Duration::from_millis(100);
        loop {
            let opened = tokio::select! {
                _ = shutdown.cancelled() => return false,
                opened = self.api.watch(cursor) => opened,
            };
            let mut stream = match opened {
                Ok(Some(stream)) => stream,
                Ok(None) => {
                    tracing::info!("server offers no change stream, polling");
                    return true;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "could not open the change stream, retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return false,
                        _ = tokio::time::sleep(pause) => {}
                    }
                    pause = (pause * 2).min(every);
                    // Keep the copy fresh by polling while the stream is away.
                    let _ = self.refresh().await;
                    continue;
                }
            };
            let mut check = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return false,
                    _ = check.tick() => {
                        if let Err(e) = self.refresh().await {
                            tracing::debug!(error = %e, "periodic registry check failed");
                        }
                    }
                    event = stream.next() => match event {
                        Ok(Some(event)) => {
                            pause = Duration::from_millis(100);
                            self.apply_event(&event, &mut cursor).await;
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::debug!(error = %e, "change stream broke, reconnecting");
                            break;
                        }
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return false,
                _ = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(every);
        }
    }

    /// Applies one stream event to the local copy and publishes at once.
    async fn apply_event(&self, event: &crate::sse::SseEvent, cursor: &mut Option<u64>) {
        let id = event.id.as_deref().and_then(|v| v.parse::<u64>().ok());
        let mut local = self.local.lock().await;
        match event.event.as_str() {
            "snapshot" => match eureka_model::json::decode_applications(event.data.as_bytes()) {
                Ok(full) => *local = LocalRegistry::from_full(&full),
                Err(e) => {
                    tracing::warn!(error = %e, "undecodable snapshot event");
                    return;
                }
            },
            "change" => match eureka_model::json::decode_instance(event.data.as_bytes()) {
                Ok(mut info) => {
                    info.normalize();
                    local.apply_change(Arc::new(info));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "undecodable change event");
                    return;
                }
            },
            _ => return,
        }
        if id.is_some() {
            *cursor = id;
        }
        self.publish(&mut local);
    }

    /// Publishes a new snapshot if anything a caller can see changed (always the first time).
    fn publish(&self, local: &mut LocalRegistry) {
        let previous = self.published.borrow().clone();
        // Counted once: an empty list means a new snapshot would show nothing new.
        let known = local.touched_changes();
        if previous.version() != 0 && known.as_ref().is_some_and(Vec::is_empty) {
            local.mark_published();
            return;
        }
        let next = local.snapshot_with(&previous, &self.view, known);
        if previous.version() == 0 || !next.changes().is_empty() {
            self.published.send_replace(Arc::new(next));
        }
        // Whether sent or equal to it, the published snapshot now matches `local`.
        local.mark_published();
    }

    async fn cancel_lease(&self) {
        let Some(me) = &self.me else { return };
        let (app, id, registered) = {
            let me = lock(me);
            (me.info.app.clone(), me.info.id().to_string(), me.registered)
        };
        if !registered || !self.config.unregister_on_shutdown {
            return;
        }
        match self.api.cancel(&app, &id).await {
            Ok(()) => tracing::info!(%app, instance_id = %id, "lease cancelled"),
            Err(e) => {
                tracing::warn!(%app, instance_id = %id, error = %e, "could not cancel the lease")
            }
        }
        lock(me).registered = false;
    }
}

/// First fetch at once (signalled to `start`), then supervised refreshes.
async fn refresh_loop<A: EurekaApi>(
    inner: Arc<Inner<A>>,
    shutdown: CancellationToken,
    first_done: oneshot::Sender<()>,
) {
    let every = inner.config.registry_fetch_interval;
    let first = tokio::select! {
        _ = shutdown.cancelled() => return,
        r = tokio::time::timeout(every, inner.refresh()) => r,
    };
    if !matches!(first, Ok(Ok(()))) {
        tracing::warn!("first registry fetch failed, will retry");
    }
    let _ = first_done.send(());
    if inner.config.use_watch && !inner.follow_stream(&shutdown).await {
        return;
    }
    let backoff = Backoff::new(every, inner.config.backoff_bound);
    let me = inner.clone();
    supervise("registry-refresh", shutdown, every, backoff, every, move || {
        let inner = me.clone();
        async move { inner.refresh().await }
    })
    .await;
}

/// Java's `InstanceInfoReplicator`: registers when the instance is dirty, on a period and on
/// demand (rate-limited); a failed registration is retried sooner, with back-off.
async fn registration_loop<A: EurekaApi>(
    inner: Arc<Inner<A>>,
    shutdown: CancellationToken,
    first_done: oneshot::Sender<()>,
) {
    let every = inner.config.instance_info_replication_interval;
    if !pause(&shutdown, inner.config.initial_registration_delay).await {
        return;
    }
    let mut first_done = Some(first_done);
    let mut bucket = TokenBucket::new(2, inner.config.on_demand_updates_per_minute, Instant::now());
    let mut failures = 0u32;
    loop {
        let wait = match inner.register_if_dirty().await {
            Ok(()) => {
                failures = 0;
                every
            }
            Err(e) => {
                failures += 1;
                let retry = retry_delay(failures).min(every);
                tracing::warn!(error = %e, retry_in = ?retry, "registration failed");
                retry
            }
        };
        if let Some(done) = first_done.take() {
            let _ = done.send(());
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => inner.check_health(),
            _ = inner.push.notified() => {
                let at = bucket.take(Instant::now());
                if !pause_until(&shutdown, at).await {
                    return;
                }
            }
        }
    }
}

/// 1 s, 2 s, 4 s... with a little jitter so a fleet restarted together spreads out.
fn retry_delay(failures: u32) -> Duration {
    let base = Duration::from_secs(1) * 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    base + Duration::from_millis(rand::thread_rng().gen_range(0..250))
}

/// Milliseconds since the epoch, the unit of every Eureka timestamp.
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl DiscoveryClient<Failover> {
    /// A builder for the servers in `service_urls` (comma-separated).
    pub fn builder(service_urls: &str) -> ClientBuilder {
        ClientBuilder::new(service_urls)
    }
}

impl<A: EurekaApi> DiscoveryClient<A> {
    /// The transport, for calls the client does not make itself (overrides, metadata...).
    pub fn api(&self) -> &A {
        &self.inner.api
    }

    /// The registry as last fetched.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.registry.borrow().clone()
    }

    /// A receiver of new snapshots: `changed().await`, then `borrow_and_update()`. Each
    /// snapshot lists its [`Snapshot::changes`] against the one before it; a subscriber that
    /// may miss snapshots (it only ever sees the latest) should [`Snapshot::diff`] against
    /// the last one it handled instead.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.registry.clone()
    }

    /// The usable (UP, shuffled) instances of `app`, from the local copy.
    pub fn instances(&self, app: &str) -> Vec<Arc<InstanceInfo>> {
        self.registry.borrow().instances(app).to_vec()
    }

    /// The usable instances behind a VIP address, from the local copy.
    pub fn instances_by_vip(&self, vip: &str) -> Vec<Arc<InstanceInfo>> {
        self.registry.borrow().instances_by_vip(vip).to_vec()
    }

    /// A chooser over the usable instances of `app` that follows registry changes.
    pub fn chooser(&self, app: &str, strategy: Strategy) -> Chooser {
        Chooser {
            registry: self.registry.clone(),
            app: app.to_string(),
            strategy,
            next: AtomicUsize::new(0),
        }
    }

    /// Refreshes the local registry now, instead of waiting for the next period.
    pub async fn refresh_now(&self) -> Result<(), TransportError> {
        self.inner.refresh().await
    }

    /// This service's instance as it will next be registered, if the client registers one.
    pub fn instance(&self) -> Option<InstanceInfo> {
        self.inner.me.as_ref().map(|me| lock(me).info.clone())
    }

    /// Whether the server has accepted a registration (and no shutdown cancelled it since).
    pub fn is_registered(&self) -> bool {
        self.inner.me.as_ref().is_some_and(|me| lock(me).registered)
    }

    /// Changes the instance's own status (UP, DOWN, STARTING) and pushes it at once, within
    /// the on-demand rate limit (a burst of 2, then 4 per minute; pushes that must wait are
    /// merged).
    ///
    /// Eureka servers (Java's and ours) keep an UP lease UP when its client re-registers as
    /// OUT_OF_SERVICE; to take an instance out of traffic use
    /// [`DiscoveryClient::take_out_of_service`], which sets an override.
    pub fn set_status(&self, status: InstanceStatus) {
        self.update(|info| {
            let changed = info.status != status;
            info.status = status;
            changed
        });
    }

    /// Takes this instance out of traffic with an OUT_OF_SERVICE override on the server (what
    /// Spring's service-registry endpoint does); it sticks until
    /// [`DiscoveryClient::return_to_service`].
    pub async fn take_out_of_service(&self) -> Result<(), TransportError> {
        let Some((app, id, dirty)) = self.identity() else { return Ok(()) };
        let status = InstanceStatus::OutOfService;
        self.inner.api.set_status_override(&app, &id, status, dirty).await
    }

    /// Removes the override set by [`DiscoveryClient::take_out_of_service`]; the instance
    /// returns to its own status.
    pub async fn return_to_service(&self) -> Result<(), TransportError> {
        let Some((app, id, dirty)) = self.identity() else { return Ok(()) };
        let own = self.instance().map(|i| i.status);
        self.inner.api.delete_status_override(&app, &id, own, dirty).await
    }

    fn identity(&self) -> Option<(String, String, u64)> {
        let me = lock(self.inner.me.as_ref()?);
        Some((me.info.app.clone(), me.info.id().to_string(), me.info.last_dirty_timestamp))
    }

    /// Sets a metadata entry and pushes it (as a re-registration, like Java).
    pub fn set_metadata(&self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        self.update(|info| info.metadata.insert(key, value.clone()).as_ref() != Some(&value));
    }

    fn update(&self, change: impl FnOnce(&mut InstanceInfo) -> bool) {
        let Some(me) = &self.inner.me else { return };
        let mut me = lock(me);
        if change(&mut me.info) {
            me.touch();
            drop(me);
            self.inner.push.notify_one();
        }
    }

    /// Stops the background tasks and cancels the lease (if registered and configured to).
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        let tasks = lock(&self.tasks).take();
        if let Some(mut tasks) = tasks {
            while tasks.join_next().await.is_some() {}
            let limit = self.inner.config.timeouts.request;
            let _ = tokio::time::timeout(limit, self.inner.cancel_lease()).await;
        }
    }
}

impl<A: EurekaApi> Drop for DiscoveryClient<A> {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let Some(tasks) = lock(&self.tasks).take() else { return };
        drop(tasks);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let inner = self.inner.clone();
            let limit = inner.config.timeouts.request;
            runtime.spawn(async move {
                let _ = tokio::time::timeout(limit, inner.cancel_lease()).await;
            });
        }
    }
}

/// How a [`Chooser`] picks among the usable instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// In turn, over this client's shuffled order.
    #[default]
    RoundRobin,
    /// At random each time.
    Random,
}

/// Picks an instance of one application for each call, following registry changes.
pub struct Chooser {
    registry: watch::Receiver<Arc<Snapshot>>,
    app: String,
    strategy: Strategy,
    next: AtomicUsize,
}

impl Chooser {
    /// The instance to call now, or `None` when the application has no usable instance.
    pub fn choose(&self) -> Option<Arc<InstanceInfo>> {
        let snapshot = self.registry.borrow().clone();
        let list = snapshot.instances(&self.app);
        if list.is_empty() {
            return None;
        }
        let i = match self.strategy {
            Strategy::RoundRobin => self.next.fetch_add(1, Ordering::Relaxed) % list.len(),
            Strategy::Random => rand::thread_rng().gen_range(0..list.len()),
        };
        Some(Arc::clone(&list[i]))
    }
}

/// The base URL to call an instance at: `http://host:port` on its plain port when enabled,
/// otherwise `https://host:securePort`.
pub fn base_url(info: &InstanceInfo) -> String {
    if info.port.enabled || !info.secure_port.enabled {
        format!("http://{}:{}", info.host_name, info.port.port)
    } else {
        format!("https://{}:{}", info.host_name, info.secure_port.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eureka_model::{ActionType, Application, Applications};
    use std::sync::atomic::AtomicBool;

    /// A scripted server: knows whether it holds our lease, serves a registry and a delta
    /// the test sets, and records every call.
    #[derive(Default)]
    struct FakeServer {
        state: Mutex<Fake>,
    }

    #[derive(Default)]
    struct Fake {
        lease: bool,
        registered: Vec<InstanceInfo>,
        heartbeats: usize,
        cancels: usize,
        overrides: Vec<Option<InstanceStatus>>,
        full_fetches: usize,
        delta_fetches: usize,
        full: Applications,
        delta: Applications,
    }

    impl FakeServer {
        fn get(&self) -> MutexGuard<'_, Fake> {
            lock(&self.state)
        }

        fn fetches(&self) -> (usize, usize) {
            let s = self.get();
            (s.full_fetches, s.delta_fetches)
        }
    }

    impl EurekaApi for Arc<FakeServer> {
        async fn register(&self, info: &InstanceInfo) -> Result<(), TransportError> {
            let mut s = self.get();
            s.lease = true;
            s.registered.push(info.clone());
            Ok(())
        }
        async fn heartbeat(
            &self,
            _: &str,
            _: &str,
            _: InstanceStatus,
            _: u64,
        ) -> Result<Renewal, TransportError> {
            let mut s = self.get();
            s.heartbeats += 1;
            Ok(if s.lease { Renewal::Renewed } else { Renewal::NotFound })
        }
        async fn cancel(&self, _: &str, _: &str) -> Result<(), TransportError> {
            let mut s = self.get();
            s.cancels += 1;
            s.lease = false;
            Ok(())
        }
        async fn set_status_override(
            &self,
            _: &str,
            _: &str,
            status: InstanceStatus,
            _: u64,
        ) -> Result<(), TransportError> {
            self.get().overrides.push(Some(status));
            Ok(())
        }
        async fn delete_status_override(
            &self,
            _: &str,
            _: &str,
            _: Option<InstanceStatus>,
            _: u64,
        ) -> Result<(), TransportError> {
            self.get().overrides.push(None);
            Ok(())
        }
        async fn applications(&self) -> Result<Applications, TransportError> {
            let mut s = self.get();
            s.full_fetches += 1;
            Ok(s.full.clone())
        }
        async fn delta(&self) -> Result<Applications, TransportError> {
            let mut s = self.get();
            s.delta_fetches += 1;
            Ok(s.delta.clone())
        }
    }

    fn inst(app: &str, id: &str, action: Option<ActionType>) -> Arc<InstanceInfo> {
        Arc::new(InstanceInfo {
            instance_id: Some(id.into()),
            host_name: id.into(),
            app: app.into(),
            ip_addr: "10.0.0.1".into(),
            action_type: action,
            ..Default::default()
        })
    }

    fn doc(hash: &str, instances: Vec<Arc<InstanceInfo>>) -> Applications {
        Applications {
            versions_delta: "1".into(),
            apps_hashcode: hash.into(),
            applications: instances
                .into_iter()
                .map(|i| Application { name: i.app.clone(), instances: vec![i] })
                .collect(),
        }
    }

    const EVERY: Duration = Duration::from_secs(30);

    async fn client(server: &Arc<FakeServer>, register: bool) -> DiscoveryClient<Arc<FakeServer>> {
        let mut b =
            ClientBuilder::new("http://unused/eureka/").configure(|c| c.shuffle_instances = false);
        if register {
            b = b.register(Instance::new("me", 8080).host_name("h").ip_addr("10.0.0.9"));
        }
        b.start_with(server.clone()).await
    }

    /// Lets the client's tasks run up to `d` of (paused) time.
    async fn elapse(d: Duration) {
        tokio::time::sleep(d).await;
    }

    #[tokio::test(start_paused = true)]
    async fn registers_at_start_and_again_when_a_heartbeat_gets_404() {
        let server = Arc::new(FakeServer::default());
        let client = client(&server, true).await;
        assert_eq!(server.get().registered.len(), 1, "registered before start returns");
        assert!(client.is_registered());

        elapse(EVERY + Duration::from_secs(1)).await;
        let counts = {
            let s = server.get();
            (s.heartbeats, s.registered.len())
        };
        assert_eq!(counts, (1, 1));

        server.get().lease = false; // the server forgot us (eviction, restart)
        elapse(EVERY).await;
        let s = server.get();
        assert_eq!((s.heartbeats, s.registered.len()), (2, 2));
        assert!(
            s.registered[1].last_dirty_timestamp > s.registered[0].last_dirty_timestamp,
            "a re-registration carries a newer lastDirtyTimestamp"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn deltas_are_applied_and_a_hash_mismatch_falls_back_to_a_full_fetch() {
        let server = Arc::new(FakeServer::default());
        server.get().full = doc("UP_1_", vec![inst("A", "a1", None)]);
        let client = client(&server, false).await;
        assert_eq!(client.snapshot().len(), 1);
        let mut changes = client.subscribe();
        changes.borrow_and_update();

        server.get().delta = doc("UP_2_", vec![inst("B", "b1", Some(ActionType::Added))]);
        elapse(EVERY + Duration::from_secs(1)).await;
        assert!(changes.has_changed().unwrap());
        let snap = changes.borrow_and_update().clone();
        assert_eq!(snap.instances("b").len(), 1);
        assert!(matches!(snap.changes(), [crate::Change::Added(i)] if i.id() == "b1"));
        assert_eq!(server.fetches(), (1, 1));

        // The server now counts three instances, but the delta does not say which: the client
        // must notice from the hash and fetch everything.
        server.get().delta = doc("UP_3_", vec![]);
        server.get().full =
            doc("UP_3_", vec![inst("A", "a1", None), inst("B", "b1", None), inst("C", "c1", None)]);
        elapse(EVERY).await;
        assert_eq!(server.fetches(), (2, 2));
        let snap = client.snapshot();
        assert_eq!(snap.len(), 3);
        assert_eq!(snap.hash_code(), "UP_3_");
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_registry_is_fetched_in_full_not_by_delta() {
        let server = Arc::new(FakeServer::default());
        let _client = client(&server, false).await;
        elapse(EVERY * 2 + Duration::from_secs(1)).await;
        assert_eq!(server.fetches(), (3, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn status_pushes_are_rate_limited_and_merged() {
        let server = Arc::new(FakeServer::default());
        let client = client(&server, true).await;
        let statuses = || server.get().registered.iter().map(|i| i.status).collect::<Vec<_>>();
        use InstanceStatus::*;

        client.set_status(Down);
        elapse(Duration::from_millis(10)).await;
        client.set_status(Up);
        elapse(Duration::from_millis(10)).await;
        assert_eq!(statuses(), [Up, Down, Up], "a burst of two goes at once");

        client.set_status(OutOfService);
        elapse(Duration::from_millis(10)).await;
        client.set_status(Down);
        elapse(Duration::from_secs(5)).await;
        assert_eq!(statuses().len(), 3, "the third push waits for a token");
        elapse(Duration::from_secs(11)).await;
        assert_eq!(statuses(), [Up, Down, Up, Down], "and carries the latest status only");
    }

    #[tokio::test(start_paused = true)]
    async fn health_check_sets_the_status_but_not_over_an_explicit_out_of_service() {
        let server = Arc::new(FakeServer::default());
        let healthy = Arc::new(AtomicBool::new(true));
        let flag = healthy.clone();
        let client = ClientBuilder::new("http://unused/eureka/")
            .register(Instance::new("me", 8080).host_name("h").ip_addr("10.0.0.9"))
            .health_check(move || {
                if flag.load(Ordering::Relaxed) {
                    InstanceStatus::Up
                } else {
                    InstanceStatus::Down
                }
            })
            .start_with(server.clone())
            .await;
        healthy.store(false, Ordering::Relaxed);
        elapse(EVERY + Duration::from_secs(1)).await;
        assert_eq!(server.get().registered.last().unwrap().status, InstanceStatus::Down);

        client.set_status(InstanceStatus::OutOfService);
        healthy.store(true, Ordering::Relaxed);
        elapse(EVERY * 2).await;
        assert_eq!(client.instance().unwrap().status, InstanceStatus::OutOfService);
        assert_eq!(server.get().registered.last().unwrap().status, InstanceStatus::OutOfService);
    }

    #[tokio::test(start_paused = true)]
    async fn out_of_service_is_an_override_and_returning_removes_it() {
        let server = Arc::new(FakeServer::default());
        let client = client(&server, true).await;
        client.take_out_of_service().await.unwrap();
        client.return_to_service().await.unwrap();
        assert_eq!(server.get().overrides, [Some(InstanceStatus::OutOfService), None]);
        assert_eq!(server.get().registered.len(), 1, "no re-registration needed");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_stops_the_tasks_and_cancels_the_lease() {
        let server = Arc::new(FakeServer::default());
        let client = client(&server, true).await;
        client.shutdown().await;
        assert_eq!(server.get().cancels, 1);
        assert!(!client.is_registered());
        elapse(EVERY * 3).await;
        assert_eq!(server.get().heartbeats, 0, "no heartbeat after shutdown");
        drop(client);
        elapse(Duration::from_secs(1)).await;
        assert_eq!(server.get().cancels, 1, "drop after shutdown does not cancel twice");
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_client_cancels_the_lease_best_effort() {
        let server = Arc::new(FakeServer::default());
        drop(client(&server, true).await);
        elapse(Duration::from_millis(10)).await;
        assert_eq!(server.get().cancels, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn round_robin_visits_every_usable_instance() {
        let server = Arc::new(FakeServer::default());
        server.get().full =
            doc("UP_3_", vec![inst("A", "a1", None), inst("A", "a2", None), inst("A", "a3", None)]);
        let client = client(&server, false).await;
        let chooser = client.chooser("a", Strategy::RoundRobin);
        let mut seen: Vec<String> =
            (0..6).map(|_| chooser.choose().unwrap().id().to_string()).collect();
        assert_eq!(seen[..3], seen[3..]);
        seen.sort();
        seen.dedup();
        assert_eq!(seen, ["a1", "a2", "a3"]);
        assert!(client.chooser("nobody", Strategy::Random).choose().is_none());
    }

    #[test]
    fn base_url_prefers_the_plain_port() {
        let mut info = InstanceInfo { host_name: "h".into(), ..Default::default() };
        info.port.port = 8080;
        assert_eq!(base_url(&info), "http://h:8080");
        info.port.enabled = false;
        info.secure_port = eureka_model::Port { port: 8443, enabled: true };
        assert_eq!(base_url(&info), "https://h:8443");
    }
}
