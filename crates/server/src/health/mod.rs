//! Server-side health checks: the registry checks its instances itself, so a killed process
//! is DOWN in seconds instead of after its lease runs out (`eureka.server.health-checks.*`).
//!
//! - [`target`]: which check an instance gets (metadata, per-application and default mode) and
//!   the URL or address it leads to.
//! - [`probe`]: running one HTTP or TCP check under the timeout.
//! - [`owner`]: which node checks which instance (rendezvous hashing over the nodes that check).
//!
//! One owned task ([`spawn`]) walks the registry every interval, keeps the instances this node
//! owns, and schedules each one's check at a fixed offset within the interval (so checks spread
//! out), at most `max-concurrency` at a time, on one shared HTTP client. Results are counted per
//! instance here; after `failures-before-down` consecutive failures the registry marks the
//! instance DOWN ([`eureka_registry::Registry::mark_health_down`]), after `successes-before-up`
//! passes it lifts the mark, and either is replicated to every peer in the form it reads. No
//! registry lock is held across a check: the registry is read once per round and written once
//! per verdict. While more than `max-failing-fraction` of this node's instances fail at once it
//! suspects its own network and marks nothing.

pub mod owner;
pub mod probe;
pub mod target;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eureka_model::replication::ReplicationAction;
use eureka_model::InstanceInfo;
use eureka_registry::{HealthDown, HealthMark, InstanceHealth, Origin};
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{interval_at, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{info_span, Instrument};

use crate::config::{HealthCheckMode, HealthCheckSettings};
use crate::replication::task::{HealthVerdict, ReplicationTask};
use crate::state::SharedState;
use target::Target;

/// (application, instance id).
type Key = (String, String);

/// What this node knows of one instance it checks.
#[derive(Debug)]
struct Entry {
    target: Target,
    /// The last result: pass (true), fail (false), none yet.
    last: Option<bool>,
    last_at: u64,
    last_error: Option<Arc<str>>,
    failures: u32,
    passes: u32,
    in_flight: bool,
    round: u64,
}

#[derive(Debug, Default)]
struct Table {
    entries: HashMap<Key, Entry>,
    /// Entries whose last check failed.
    failing: usize,
    /// Entries with a result.
    with_result: usize,
}

impl Table {
    fn forget(&mut self, entry: &Entry) {
        if entry.last.is_some() {
            self.with_result -= 1;
        }
        if entry.last == Some(false) {
            self.failing -= 1;
        }
    }
}

/// What a result asks of the registry.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Nothing,
    MarkDown(String),
    Lift,
}

/// The health checker's settings, its shared HTTP client and what it learned; part of the
/// server state (the console, `status` and metrics read it).
#[derive(Debug)]
pub struct HealthChecker {
    settings: HealthCheckSettings,
    name: Arc<str>,
    client: reqwest::Client,
    table: Mutex<Table>,
    suspect: AtomicBool,
    rounds: AtomicU64,
}

impl HealthChecker {
    /// A checker with `settings`, calling itself `name` in the cluster; HTTPS checks trust
    /// what `tls` (the peer TLS settings) trusts besides the public roots.
    pub fn new(
        settings: HealthCheckSettings,
        name: Arc<str>,
        tls: &eureka_client::TlsOptions,
    ) -> Self {
        let client = if settings.enabled { probe::client(tls) } else { reqwest::Client::new() };
        HealthChecker {
            settings,
            name,
            client,
            table: Mutex::new(Table::default()),
            suspect: AtomicBool::new(false),
            rounds: AtomicU64::new(0),
        }
    }

    /// Whether this node checks instances.
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// The settings in force.
    pub fn settings(&self) -> &HealthCheckSettings {
        &self.settings
    }

    /// Whether this node suspects its own network now (and so marks nothing DOWN).
    pub fn is_suspect(&self) -> bool {
        self.suspect.load(Ordering::Relaxed)
    }

    /// (instances checked here, those whose last check failed).
    pub fn counts(&self) -> (usize, usize) {
        let t = self.table.lock();
        (t.entries.len(), t.failing)
    }

    /// `healthChecks` of `/eureka/status` and the console: the settings that matter and the
    /// state of this node's checks.
    pub fn summary(&self, marked_down: usize) -> Value {
        let (checked, failing, with_result) = {
            let t = self.table.lock();
            (t.entries.len(), t.failing, t.with_result)
        };
        let fraction = if with_result == 0 { 0.0 } else { failing as f64 / with_result as f64 };
        json!({
            "enabled": self.settings.enabled,
            "intervalMs": self.settings.interval.as_millis() as u64,
            "timeoutMs": self.settings.timeout().as_millis() as u64,
            "failuresBeforeDown": self.settings.failures_before_down,
            "successesBeforeUp": self.settings.successes_before_up,
            "maxFailingFraction": self.settings.max_failing_fraction,
            "node": &*self.name,
            "suspect": self.is_suspect(),
            "failingFraction": fraction,
            "checkedHere": checked,
            "failing": failing,
            "markedDown": marked_down,
        })
    }

    /// Each instance's `health` for the console, by (app, id): see [`Self::document_of`].
    pub fn documents(&self, state: &SharedState, view: &[InstanceHealth]) -> HashMap<Key, Value> {
        let nodes = candidates(state);
        let t = self.table.lock();
        view.iter()
            .map(|ih| {
                let key = (ih.instance.app.clone(), ih.instance.id().to_string());
                let doc = self.document(&t, &nodes, &ih.instance, ih.down.as_ref());
                (key, doc)
            })
            .collect()
    }

    /// One instance's `health` for the console's instance page: its mode, who checks it,
    /// this node's last result if it checks it, and its DOWN mark (`down`). `Null` when
    /// checks are off here and the instance carries no mark.
    pub fn document_of(
        &self,
        state: &SharedState,
        info: &InstanceInfo,
        down: Option<&HealthDown>,
    ) -> Value {
        let nodes = candidates(state);
        let t = self.table.lock();
        self.document(&t, &nodes, info, down)
    }

    fn document(
        &self,
        t: &Table,
        nodes: &[Arc<str>],
        info: &InstanceInfo,
        down: Option<&HealthDown>,
    ) -> Value {
        if !self.settings.enabled && down.is_none() {
            return Value::Null;
        }
        let key = (info.app.clone(), info.id().to_string());
        let mode = target::mode_of(info, &self.settings);
        let checked_by = (self.settings.enabled && mode != HealthCheckMode::None)
            .then(|| owner::owner(info.id(), nodes).map(|n| n.to_string()))
            .flatten();
        let entry = t.entries.get(&key);
        json!({
            "mode": mode.as_str(),
            "checkedBy": checked_by,
            "lastResult": entry.and_then(|e| e.last).map(|ok| if ok { "pass" } else { "fail" }),
            "lastCheckedAt": entry.filter(|e| e.last.is_some()).map(|e| e.last_at),
            "lastError": entry.and_then(|e| e.last_error.as_deref()),
            "consecutiveFailures": entry.map_or(0, |e| e.failures),
            "downReason": down.map(|d| &*d.reason),
            "downSince": down.map(|d| d.since),
            "downBy": down.map(|d| &*d.by).filter(|b| !b.is_empty()),
        })
    }

    /// Records a result and says what the registry should do about it.
    fn record(&self, key: &Key, result: &Result<(), String>, now: u64) -> Verdict {
        let s = &self.settings;
        let mut t = self.table.lock();
        let Some(e) = t.entries.get_mut(key) else { return Verdict::Nothing };
        e.in_flight = false;
        let before = e.last;
        e.last_at = now;
        match result {
            Ok(()) => {
                e.last = Some(true);
                e.passes = e.passes.saturating_add(1);
                e.failures = 0;
                e.last_error = None;
            }
            Err(reason) => {
                e.last = Some(false);
                e.failures = e.failures.saturating_add(1);
                e.passes = 0;
                e.last_error = Some(Arc::from(reason.as_str()));
            }
        }
        let verdict = match result {
            Ok(()) if e.passes >= s.successes_before_up => Verdict::Lift,
            Err(reason) if e.failures >= s.failures_before_down => {
                Verdict::MarkDown(format!("health check: {reason}"))
            }
            _ => Verdict::Nothing,
        };
        let now_failing = e.last == Some(false);
        if before.is_none() {
            t.with_result += 1;
        }
        match (before == Some(false), now_failing) {
            (false, true) => t.failing += 1,
            (true, false) => t.failing -= 1,
            _ => {}
        }
        let suspect = t.failing >= s.suspicion_min_failing.max(1)
            && t.failing as f64 > s.max_failing_fraction * t.with_result as f64;
        let (failing, checked) = (t.failing, t.with_result);
        drop(t);
        if self.suspect.swap(suspect, Ordering::Relaxed) != suspect {
            if suspect {
                tracing::warn!(
                    failing,
                    checked,
                    max_fraction = s.max_failing_fraction,
                    "health checks: most instances checked here fail at once; suspecting this \
                     node's own network and marking nothing DOWN until that changes"
                );
            } else {
                tracing::info!(
                    failing,
                    checked,
                    "health checks: no longer suspecting this node's network"
                );
            }
        }
        match verdict {
            Verdict::MarkDown(_) if suspect => Verdict::Nothing,
            other => other,
        }
    }
}

/// The nodes that share the checks out, this one first: this node and every peer that is
/// reachable now and announced that it checks (a Java peer, or one with checks off, never
/// owns instances: nobody would check them). Read afresh at every round from the live peer
/// set, so a peer that joined (DNS, SIGHUP) takes its share once it answers and one that left
/// gives its share back at once.
pub fn candidates(state: &SharedState) -> Vec<Arc<str>> {
    let checker = &state.health;
    let peers = state.replication.peers();
    let mut nodes = Vec::with_capacity(peers.len() + 1);
    if checker.enabled() {
        nodes.push(checker.name.clone());
    }
    for peer in peers.iter() {
        if !peer.is_reachable() {
            continue;
        }
        let features = peer.features();
        if let (true, Some(name)) = (features.health_checks, features.name) {
            if !nodes.contains(&name) {
                nodes.push(name);
            }
        }
    }
    nodes
}

/// Spawns the checker into `tasks` when checks are on. The checker and its checks run on a
/// runtime of their own, one thread named `health-checks` that this task owns and shuts down
/// when the checker stops: checks open a connection each, and that work (mostly the kernel's)
/// would otherwise be done by the workers that answer renewals and fetches, taking their turn
/// on the CPU. On its own thread it is scheduled apart, and the hot path's workers stay free.
pub fn spawn(state: &SharedState, shutdown: &CancellationToken, tasks: &mut JoinSet<()>) {
    if !state.health.enabled() {
        return;
    }
    let s = &state.health.settings;
    tracing::info!(node = %state.health.name, interval_ms = s.interval.as_millis() as u64,
        timeout_ms = s.timeout().as_millis() as u64, failures_before_down = s.failures_before_down,
        successes_before_up = s.successes_before_up, "health checks on");
    let (state, shutdown) = (state.clone(), shutdown.clone());
    tasks.spawn(
        async move {
            let runtime = match ProbeRuntime::start() {
                Ok(runtime) => runtime,
                Err(e) => {
                    tracing::error!(error = %e, "health checks: cannot start their thread; not checking");
                    return;
                }
            };
            let checker = runtime.spawn(run(state, shutdown).in_current_span());
            if let Err(e) = checker.await {
                tracing::error!(error = %e, "health checks stopped unexpectedly");
            }
        }
        .instrument(info_span!("health_checks")),
    );
}

/// The checks' own runtime: one worker thread, shut down (without waiting on its tasks,
/// which the checker has already stopped) when dropped, also from inside another runtime.
struct ProbeRuntime(Option<tokio::runtime::Runtime>);

impl ProbeRuntime {
    fn start() -> std::io::Result<ProbeRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("health-checks")
            .enable_all()
            .build()?;
        Ok(ProbeRuntime(Some(runtime)))
    }

    fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.as_ref().expect("runtime present until dropped").spawn(task)
    }
}

impl Drop for ProbeRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The checker's loop: a round every interval (the first after half of one, once peers have
/// answered their first probe), results handled as they come, everything stopped on shutdown.
async fn run(state: SharedState, shutdown: CancellationToken) {
    let settings = state.health.settings.clone();
    let mut tick = interval_at(Instant::now() + settings.interval / 2, settings.interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let permits = Arc::new(Semaphore::new(settings.max_concurrency));
    let mut checks = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            start = tick.tick() => {
                if state.replication.is_synced() {
                    round(&state, &mut checks, &permits, start);
                }
            }
            Some(_) = checks.join_next(), if !checks.is_empty() => {}
        }
    }
    checks.abort_all();
    tracing::debug!("health checks stopped");
}

/// Schedules this round's checks of the instances this node owns and forgets the others.
fn round(state: &SharedState, checks: &mut JoinSet<()>, permits: &Arc<Semaphore>, start: Instant) {
    let checker = &state.health;
    let settings = &checker.settings;
    let number = checker.rounds.fetch_add(1, Ordering::Relaxed) + 1;
    let nodes = candidates(state);
    let view = state.registry.health_view();
    let interval_ns = settings.interval.as_nanos().max(1) as u64;
    let mut due = Vec::new();
    {
        let mut t = checker.table.lock();
        for ih in &view {
            let info = &ih.instance;
            if owner::owner(info.id(), &nodes) != Some(&checker.name) {
                continue;
            }
            let Ok(target) = target::target_of(info, target::mode_of(info, settings)) else {
                continue;
            };
            let key = (info.app.clone(), info.id().to_string());
            let new = !t.entries.contains_key(&key);
            let e = t.entries.entry(key.clone()).or_insert_with(|| Entry {
                target: target.clone(),
                last: None,
                last_at: 0,
                last_error: None,
                failures: 0,
                passes: 0,
                in_flight: false,
                round: number,
            });
            e.round = number;
            e.target = target.clone();
            if e.in_flight {
                continue;
            }
            e.in_flight = true;
            // A fixed offset per node and instance: checks spread over the interval, and each
            // instance is checked once per interval. An instance new here (taken over from a
            // node that left) is first checked within half an interval, so a takeover, which
            // waits up to half an interval for the next peer probe, completes within two.
            let spread = if new { (interval_ns / 2).max(1) } else { interval_ns };
            let offset = Duration::from_nanos(owner::weight(&checker.name, info.id()) % spread);
            due.push((key, target, start + offset));
        }
        let gone: Vec<Key> =
            t.entries.iter().filter(|(_, e)| e.round != number).map(|(k, _)| k.clone()).collect();
        for key in gone {
            if let Some(e) = t.entries.remove(&key) {
                t.forget(&e);
            }
        }
    }
    for (key, target, at) in due {
        checks.spawn(check(state.clone(), key, target, at, permits.clone()));
    }
}

/// One scheduled check and what follows from it.
async fn check(state: SharedState, key: Key, target: Target, at: Instant, permits: Arc<Semaphore>) {
    tokio::time::sleep_until(at).await;
    let Ok(_permit) = permits.acquire_owned().await else { return };
    let checker = &state.health;
    let started = Instant::now();
    let result =
        probe::probe(&checker.client, &target, checker.settings.timeout(), &checker.name).await;
    state.metrics.health_check(target.mode(), result.is_ok(), started.elapsed());
    let now = state.clock.now_ms();
    match checker.record(&key, &result, now) {
        Verdict::Nothing => {}
        Verdict::MarkDown(reason) => mark_down(&state, &key, reason, now),
        Verdict::Lift => lift(&state, &key, now),
    }
}

fn mark_down(state: &SharedState, (app, id): &Key, reason: String, now: u64) {
    if state.registry.health_of(app, id).is_some() {
        return;
    }
    let by = state.health.name.clone();
    let mark = HealthMark { reason: Arc::from(reason.as_str()), since: now, by: by.clone() };
    let Ok(change) = state.registry.mark_health_down(app, id, mark.clone(), now) else { return };
    if !change.mark_changed {
        return;
    }
    state.metrics.health_marked_down();
    tracing::info!(app = %app, instance_id = %id, reason = %reason,
        served = change.instance.status.as_str(), "health check marked instance DOWN");
    let verdict = HealthVerdict::Down { reason: mark.reason, since: now, by };
    let task = ReplicationTask::health(
        ReplicationAction::StatusUpdate,
        change.instance,
        verdict,
        change.status_changed,
    );
    state.replication.replicate(Origin::Client, || task);
}

fn lift(state: &SharedState, (app, id): &Key, now: u64) {
    if state.registry.health_of(app, id).is_none() {
        return;
    }
    let Ok(change) = state.registry.lift_health_down(app, id, None, now) else { return };
    if !change.mark_changed {
        return;
    }
    tracing::info!(app = %app, instance_id = %id, served = change.instance.status.as_str(),
        "health check passes again; DOWN mark lifted");
    let reported = change.instance.status;
    for action in [ReplicationAction::StatusUpdate, ReplicationAction::DeleteStatusOverride] {
        let task = ReplicationTask::health(
            action,
            change.instance.clone(),
            HealthVerdict::Up { reported },
            change.status_changed,
        );
        state.replication.replicate(Origin::Client, || task);
    }
}
