//! The commands that run until Ctrl-C or SIGTERM, over the discovery client: `register`
//! keeps a lease alive, `watch` polls the registry and prints what changed.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use eureka_client::stream::WatchStream;
use eureka_client::{
    Change, ClientBuilder, ClientConfig, EurekaApi, Instance, InstanceInfo, InstanceStatus,
    Renewal, Snapshot, TransportError,
};
use eureka_model::Applications;

use crate::args::{Output, RegisterArgs};
use crate::commands::{confirm, Servers};
use crate::error::{CliError, Kind, Target};
use crate::{duration, output};

/// `register`: registers, prints `registered APP/ID on SERVER`, renews until a signal, then
/// cancels the lease and prints `cancelled APP/ID`. Fails at once if the first registration
/// fails, with the reason.
pub async fn register(args: RegisterArgs, servers: Servers) -> Result<(), CliError> {
    // Before anything is registered: a signal that arrives early must cancel, not kill.
    let mut signals = Signals::install()?;
    let config = ClientConfig {
        fetch_registry: false,
        timeouts: servers.timeouts(),
        ..ClientConfig::default()
    };
    let limit = duration::display(servers.timeouts().request);
    let client = ClientBuilder::from_config(config)
        .register(instance(&args))
        .start_with(Observed::new(servers))
        .await;
    let Some(me) = client.instance() else {
        return Err(CliError::internal("the client holds no instance to register"));
    };
    let name = format!("{}/{}", me.app, me.id());
    if !client.is_registered() {
        client.shutdown().await;
        let reason = client.api().lock().register.take();
        let e = reason.unwrap_or_else(|| CliError::internal("registration failed"));
        return Err(CliError::new(e.kind, format!("cannot register {name}: {}", e.message)));
    }
    confirm(&format!("registered {name} on {}", client.api().servers.failover().current().url()));
    client.api().lock().announce = true;

    signals.wait().await;
    client.shutdown().await;
    let outcome = client.api().lock().cancel.take();
    match outcome {
        Some(Ok(())) => confirm(&format!("cancelled {name}")),
        Some(Err(e)) if e.kind == Kind::NotFound => {
            confirm(&format!("cancelled {name} (the server had already dropped it)"))
        }
        Some(Err(e)) => {
            return Err(CliError::new(e.kind, format!("could not cancel {name}: {}", e.message)))
        }
        None => {
            return Err(CliError::new(
                Kind::Unreachable,
                format!("could not cancel {name}: no answer within {limit}"),
            ))
        }
    }
    Ok(())
}

fn instance(args: &RegisterArgs) -> Instance {
    let mut i = Instance::new(&args.app, args.port)
        .initial_status(args.status)
        .renewal_interval(args.renewal_interval)
        .lease_duration(args.lease_duration)
        .prefer_ip_address(args.prefer_ip);
    if let Some(id) = &args.id {
        i = i.instance_id(id);
    }
    if let Some(host) = &args.host {
        i = i.host_name(host);
    }
    if let Some(ip) = &args.ip {
        i = i.ip_addr(ip);
    }
    if let Some(port) = args.secure_port {
        i = i.secure_port(port);
    }
    if let Some(vip) = &args.vip {
        i = i.vip_address(vip);
    }
    for (k, v) in &args.metadata {
        i = i.metadata(k, v);
    }
    i
}

/// `watch`: prints the instances registered now as ADDED, then every change, until a
/// signal. The discovery client follows the server's change stream when it has one (ours),
/// so changes print as they happen; against a server without it (Java's) it polls deltas
/// every `interval`.
pub async fn watch(
    servers: Servers,
    out: Output,
    apps: Vec<String>,
    interval: Duration,
) -> Result<(), CliError> {
    if matches!(out, Output::Xml | Output::Yaml) {
        return Err(CliError::usage(
            "watch prints a table or JSON lines (--output json); --output xml and yaml are not \
             supported",
        ));
    }
    let mut signals = Signals::install()?;
    let names = servers.names().to_string();
    let config = ClientConfig {
        registry_fetch_interval: interval,
        filter_only_up_instances: false,
        shuffle_instances: false,
        timeouts: servers.timeouts(),
        ..ClientConfig::default()
    };
    let client = ClientBuilder::from_config(config).start_with(Observed::new(servers)).await;
    // `start_with` logs a failed first fetch and keeps retrying; a watch that cannot show the
    // registry it starts from should say why and stop.
    if client.snapshot().version() == 0 {
        if let Err(e) = client.refresh_now().await {
            client.shutdown().await;
            return Err(client.api().servers.error(&e, Target::Registry));
        }
    }
    client.api().lock().announce = true;
    confirm(&format!(
        "watching {names}: its change stream, or polling every {} without one (Ctrl-C to stop)",
        duration::display(interval)
    ));

    let wanted: Vec<String> = apps.iter().map(|a| a.to_uppercase()).collect();
    let mut updates = client.subscribe();
    let mut shown = Arc::new(Snapshot::default());
    let mut columns = output::WatchColumns::default();
    let result = loop {
        let latest = updates.borrow_and_update().clone();
        // Diffing against what was printed, rather than reading `latest.changes()`, keeps
        // changes from being lost when two refreshes land between two wake-ups.
        if let Err(e) = print_changes(&shown, &latest, &wanted, out, &mut columns) {
            break Err(e);
        }
        shown = latest;
        tokio::select! {
            () = signals.wait() => break Ok(()),
            changed = updates.changed() => if changed.is_err() { break Ok(()) },
        }
    };
    client.shutdown().await;
    result
}

fn print_changes(
    shown: &Arc<Snapshot>,
    latest: &Arc<Snapshot>,
    wanted: &[String],
    out: Output,
    columns: &mut output::WatchColumns,
) -> Result<(), CliError> {
    if Arc::ptr_eq(shown, latest) {
        return Ok(());
    }
    let now = duration::now_ms();
    let changes: Vec<Change> = shown
        .diff(latest)
        .into_iter()
        .filter(|c| wanted.is_empty() || wanted.contains(&c.instance().app.to_uppercase()))
        .collect();
    columns.fit(&changes);
    let text: String = changes
        .iter()
        .map(|change| match out {
            Output::Json => output::change_json(change, now),
            Output::Table | Output::Wide | Output::Xml | Output::Yaml => columns.line(change, now),
        })
        .collect();
    output::stdout(text.as_bytes())
}

/// SIGINT and SIGTERM, listened for from the moment of creation.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Self, CliError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let listen = |kind| {
                signal(kind).map_err(|e| CliError::internal(format!("cannot handle signals: {e}")))
            };
            Ok(Signals {
                interrupt: listen(SignalKind::interrupt())?,
                terminate: listen(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn wait(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The fail-over set as the discovery client's transport, remembering what the client itself
/// only logs: why the first registration failed and how the final cancel went. Once the
/// command is up, it also tells the operator on stderr when the servers stop answering and
/// when they answer again.
struct Observed {
    servers: Servers,
    state: Mutex<Observations>,
}

#[derive(Default)]
struct Observations {
    /// Report connectivity changes on stderr (not during start-up, whose failure is fatal).
    announce: bool,
    /// The last call failed in a way that retrying may fix.
    failing: bool,
    /// Why the latest registration failed, if it did.
    register: Option<CliError>,
    /// How the cancel went, once tried.
    cancel: Option<Result<(), CliError>>,
}

impl Observed {
    fn new(servers: Servers) -> Self {
        Observed { servers, state: Mutex::new(Observations::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, Observations> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes whether the servers answered and says so on a change.
    fn note<T>(&self, result: &Result<T, TransportError>, target: Target<'_>) {
        let mut state = self.lock();
        match result {
            Err(e) if e.is_retryable() => {
                if state.announce && !state.failing {
                    eprintln!("eurekactl: {}; retrying", self.servers.error(e, target));
                }
                state.failing = true;
            }
            Ok(_) if state.failing => {
                if state.announce {
                    eprintln!("eurekactl: {} answers again", self.servers.names());
                }
                state.failing = false;
            }
            _ => {}
        }
    }
}

impl EurekaApi for Observed {
    async fn register(&self, info: &InstanceInfo) -> Result<(), TransportError> {
        let result = EurekaApi::register(self.servers.failover(), info).await;
        self.note(&result, Target::Registry);
        self.lock().register = result.as_ref().err().map(|e| {
            // A 404 on `POST apps/APP` means the URL is not a Eureka API.
            self.servers.error(e, Target::Registry)
        });
        result
    }

    async fn heartbeat(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: u64,
    ) -> Result<Renewal, TransportError> {
        let result =
            EurekaApi::heartbeat(self.servers.failover(), app, id, status, last_dirty_timestamp)
                .await;
        self.note(&result, Target::Instance { app: Some(app), id });
        if matches!(result, Ok(Renewal::NotFound)) && self.lock().announce {
            eprintln!("eurekactl: the server no longer knows {app}/{id}; registering it again");
        }
        result
    }

    async fn cancel(&self, app: &str, id: &str) -> Result<(), TransportError> {
        let result = EurekaApi::cancel(self.servers.failover(), app, id).await;
        let target = Target::Instance { app: Some(app), id };
        self.lock().cancel =
            Some(result.as_ref().map(drop).map_err(|e| self.servers.error(e, target)));
        result
    }

    async fn set_status_override(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: u64,
    ) -> Result<(), TransportError> {
        let servers = self.servers.failover();
        let result =
            EurekaApi::set_status_override(servers, app, id, status, last_dirty_timestamp).await;
        self.note(&result, Target::Instance { app: Some(app), id });
        result
    }

    async fn delete_status_override(
        &self,
        app: &str,
        id: &str,
        status: Option<InstanceStatus>,
        last_dirty_timestamp: u64,
    ) -> Result<(), TransportError> {
        let servers = self.servers.failover();
        let result =
            EurekaApi::delete_status_override(servers, app, id, status, last_dirty_timestamp).await;
        self.note(&result, Target::Instance { app: Some(app), id });
        result
    }

    async fn applications(&self) -> Result<Applications, TransportError> {
        let result = EurekaApi::applications(self.servers.failover()).await;
        self.note(&result, Target::Registry);
        result
    }

    async fn delta(&self) -> Result<Applications, TransportError> {
        let result = EurekaApi::delta(self.servers.failover()).await;
        self.note(&result, Target::Registry);
        result
    }

    /// Our server's change stream, so `watch` prints a change as it happens; servers without
    /// one (Java's) answer `None` and are polled every `--interval`.
    async fn watch(
        &self,
        last_event_id: Option<u64>,
    ) -> Result<Option<WatchStream>, TransportError> {
        let result = EurekaApi::watch(self.servers.failover(), last_event_id).await;
        self.note(&result, Target::Registry);
        result
    }
}
