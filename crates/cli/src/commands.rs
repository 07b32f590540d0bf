//! The commands: each read or write is one REST call through [`Servers`] (fail-over over
//! the `--server` list), then one print. `register` and `watch` run until a signal and live
//! in [`crate::live`].

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use eureka_client::failover::split_urls;
use eureka_client::{EurekaHttp, Failover, Timeouts, TlsOptions, TransportError};

use crate::args::{Cli, Command, MetadataCommand, Output, StatusCommand};
use crate::error::{CliError, Kind, Target};
use crate::{duration, live, output};

/// The `--server` list as one fail-over set, with what messages need to name it.
#[derive(Debug)]
pub struct Servers {
    failover: Failover,
    names: String,
    timeout: Duration,
}

impl Servers {
    /// Checks the URLs and builds the set. Servers are tried in the order given, so that
    /// `--server primary,backup` means what it says.
    /// `credentials` (from `--user`) go to every server whose URL carries none of its own.
    pub fn new(
        urls: &str,
        timeout: Duration,
        cacert: Option<&Path>,
        credentials: Option<(&str, &str)>,
    ) -> Result<Self, CliError> {
        if split_urls(urls).next().is_none() {
            return Err(CliError::usage("no server URL given (--server or EUREKA_URL)"));
        }
        let mut tls = TlsOptions::default();
        if let Some(path) = cacert {
            let shown = path.display();
            let pem = std::fs::read(path)
                .map_err(|e| CliError::usage(format!("cannot read --cacert {shown}: {e}")))?;
            tls = tls
                .add_root_pem(&pem)
                .map_err(|e| CliError::usage(format!("--cacert {shown}: {e}")))?;
        }
        let timeouts = Timeouts { connect: timeout, request: timeout };
        let servers = split_urls(urls)
            .map(|url| {
                let server = EurekaHttp::with_tls(url, timeouts, &tls)?;
                Ok(match credentials {
                    Some((user, password)) => server.with_default_credentials(user, password),
                    None => server,
                })
            })
            .collect::<Result<Vec<_>, TransportError>>()
            .and_then(Failover::new)
            // Only `InvalidUrl` comes from here; `urls` stays out of it, it may hold a password.
            .map_err(|e| CliError::from_transport(&e, &Target::Registry, "--server", timeout))?;
        let failover = servers.in_order();
        let urls: Vec<&str> = failover.servers().iter().map(EurekaHttp::url).collect();
        let names = match urls.as_slice() {
            [one] => one.to_string(),
            many => format!("any of {}", many.join(", ")),
        };
        Ok(Servers { failover, names, timeout })
    }

    /// The servers as messages name them, without credentials.
    pub fn names(&self) -> &str {
        &self.names
    }

    /// The per-call limit.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts { connect: self.timeout, request: self.timeout }
    }

    /// The fail-over set.
    pub fn failover(&self) -> &Failover {
        &self.failover
    }

    /// A failed call as the user should read it.
    pub fn error(&self, e: &TransportError, target: Target<'_>) -> CliError {
        CliError::from_transport(e, &target, &self.names, self.timeout)
    }

    /// Makes one call with fail-over; `target` says what a 404 means.
    pub async fn call<'a, T, F, Fut>(&'a self, target: Target<'_>, call: F) -> Result<T, CliError>
    where
        F: Fn(&'a EurekaHttp) -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        self.failover.call(call).await.map_err(|e| self.error(&e, target))
    }
}

/// The environment variable holding the password of `--user` (`EUREKA_USERNAME`).
pub const PASSWORD_ENV: &str = "EUREKA_PASSWORD";

/// Runs the command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let password = cli.user.as_ref().map(|_| std::env::var(PASSWORD_ENV).unwrap_or_default());
    let credentials = cli.user.as_deref().zip(password.as_deref());
    let servers = Servers::new(&cli.server, cli.timeout, cli.cacert.as_deref(), credentials)?;
    let out = cli.output;
    match cli.command {
        Command::Apps => apps(&servers, out).await,
        Command::App { name } => app(&servers, out, &name).await,
        Command::Instance { id, app } => instance(&servers, out, app.as_deref(), &id).await,
        Command::Register(args) => live::register(args, servers).await,
        Command::Status(StatusCommand::Set { app, id, status }) => {
            let target = Target::Instance { app: Some(&app), id: &id };
            // lastDirtyTimestamp 0: an operator's override is not a change of the instance's
            // own data, so it must not make the server's copy look newer than the client's.
            servers.call(target, |s| s.set_status_override(&app, &id, status, 0)).await?;
            confirm(&format!("{}/{id}: status override set to {status}", upper(&app)));
            Ok(())
        }
        Command::Status(StatusCommand::Clear { app, id, to }) => {
            let target = Target::Instance { app: Some(&app), id: &id };
            servers.call(target, |s| s.delete_status_override(&app, &id, to, 0)).await?;
            let now = to.map_or("UNKNOWN until its next heartbeat".to_string(), |s| s.to_string());
            confirm(&format!("{}/{id}: status override cleared, status now {now}", upper(&app)));
            Ok(())
        }
        Command::Metadata(MetadataCommand::Set { app, id, entries }) => {
            let target = Target::Instance { app: Some(&app), id: &id };
            servers.call(target, |s| s.update_metadata(&app, &id, &entries)).await?;
            let list: Vec<String> = entries.iter().map(|(k, v)| format!("{k}={v}")).collect();
            confirm(&format!("{}/{id}: metadata set: {}", upper(&app), list.join(", ")));
            Ok(())
        }
        Command::Cancel { app, id } => {
            let target = Target::Instance { app: Some(&app), id: &id };
            servers.call(target, |s| s.cancel(&app, &id)).await?;
            confirm(&format!("cancelled {}/{id}", upper(&app)));
            Ok(())
        }
        Command::Drain { app, id, wait } => drain(&servers, out, &app, &id, wait).await,
        Command::Watch { apps, interval } => live::watch(servers, out, apps, interval).await,
    }
}

async fn apps(servers: &Servers, out: Output) -> Result<(), CliError> {
    let apps = servers.call(Target::Registry, |s| s.applications()).await?;
    output::stdout(&match out.document() {
        None => output::apps_table(&apps).into_bytes(),
        Some(format) => output::document(format.encode_applications(&apps)),
    })
}

async fn app(servers: &Servers, out: Output, name: &str) -> Result<(), CliError> {
    let app = servers.call(Target::App(name), |s| s.application(name)).await?;
    output::stdout(&match out.document() {
        None => output::app_table(&app, duration::now_ms()).into_bytes(),
        Some(format) => output::document(format.encode_application(&app)),
    })
}

async fn instance(
    servers: &Servers,
    out: Output,
    app: Option<&str>,
    id: &str,
) -> Result<(), CliError> {
    let target = Target::Instance { app, id };
    let info = match app {
        Some(app) => servers.call(target, |s| s.instance(app, id)).await?,
        None => servers.call(target, |s| s.instance_by_id(id)).await?,
    };
    output::stdout(&match out.document() {
        None => output::instance_view(&info, duration::now_ms()).into_bytes(),
        Some(format) => output::document(format.encode_instance(&info)),
    })
}

/// `drain`: the summary (or the server's JSON) on stdout; exit 7 when someone is pending.
async fn drain(
    servers: &Servers,
    out: Output,
    app: &str,
    id: &str,
    wait: Duration,
) -> Result<(), CliError> {
    let target = Target::Instance { app: Some(app), id };
    let body = servers.call(target, |s| s.drain(app, id, wait)).await?;
    let report: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        CliError::new(Kind::Undecodable, format!("cannot decode the drain report: {e}"))
    })?;
    let complete = report["complete"].as_bool().unwrap_or(false);
    match out {
        Output::Json => output::stdout(&output::document(body.to_vec()))?,
        Output::Table | Output::Xml => output::stdout(drain_summary(app, id, &report).as_bytes())?,
    }
    if complete {
        Ok(())
    } else {
        Err(CliError::new(
            Kind::Incomplete,
            format!(
                "not everyone saw {}/{id} go out of service within {}; not safe to stop it yet",
                upper(app),
                duration::display(wait)
            ),
        ))
    }
}

/// `ORDERS/o1: OUT_OF_SERVICE at version 7, seen by 2/2 watchers and 1/2 clients`, and a
/// `pending:` line naming who has not seen it.
fn drain_summary(app: &str, id: &str, report: &serde_json::Value) -> String {
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().filter_map(|n| n.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let watchers = &report["watchers"];
    let clients_seen = names(&report["clients"]["seen"]);
    let clients_pending = names(&report["clients"]["pending"]);
    let mut text = format!(
        "{}/{id}: OUT_OF_SERVICE at version {}, seen by {}/{} watchers and {}/{} clients\n",
        upper(app),
        report["version"],
        watchers["seen"],
        watchers["total"],
        clients_seen.len(),
        clients_seen.len() + clients_pending.len(),
    );
    let pending: Vec<String> =
        names(&watchers["pending"]).into_iter().chain(clients_pending).collect();
    if !pending.is_empty() {
        text.push_str(&format!("pending: {}\n", pending.join(", ")));
    }
    text
}

/// Confirmations are messages, not data: they go to stderr so that stdout stays parseable.
pub fn confirm(message: &str) {
    eprintln!("{message}");
}

fn upper(app: &str) -> String {
    app.to_uppercase()
}
