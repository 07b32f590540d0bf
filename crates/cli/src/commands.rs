//! The commands: each read or write is one REST call through [`Servers`] (fail-over over
//! the `--server` list), then one print. `register` and `watch` run until a signal and live
//! in [`crate::live`].

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use eureka_client::failover::split_urls;
use eureka_client::{EurekaHttp, Failover, Timeouts, TlsOptions, TransportError};

use eureka_client::InstanceStatus;
use eureka_model::{Application, Applications};

use crate::args::{Cli, Command, MetadataCommand, Output, StatusCommand};
use crate::error::{CliError, Kind, Target};
use crate::output::cluster::Node;
use crate::output::{Leases, LiveLease, TableOpts};
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
    if let Command::Completion { shell } = cli.command {
        return completion(shell);
    }
    let password = cli.user.as_ref().map(|_| std::env::var(PASSWORD_ENV).unwrap_or_default());
    let credentials = cli.user.as_deref().zip(password.as_deref());
    let servers = Servers::new(&cli.server, cli.timeout, cli.cacert.as_deref(), credentials)?;
    let out = cli.output;
    let opts = TableOpts { no_headers: cli.no_headers, wide: out == Output::Wide };
    match cli.command {
        Command::Apps { status, not_up } => {
            let filter = match (status, not_up) {
                (Some(status), _) => AppFilter::Status(status),
                (None, true) => AppFilter::NotUp,
                (None, false) => AppFilter::All,
            };
            apps(&servers, out, opts, filter).await
        }
        Command::App { name } => app(&servers, out, opts, &name).await,
        Command::Problems { apps } => problems(&servers, out, opts, &apps).await,
        Command::Cluster => cluster(&servers, out, opts).await,
        Command::Completion { .. } => Ok(()),
        Command::Instance { id, app } => instance(&servers, out, app.as_deref(), &id).await,
        Command::Register(args) => live::register(args, servers).await,
        Command::Status(StatusCommand::Set { app, id, status }) => {
            // lastDirtyTimestamp 0: an operator's override is not a change of the instance's
            // own data, so it must not make the server's copy look newer than the client's.
            on_instance(&servers, &app, &id, |s| s.set_status_override(&app, &id, status, 0))
                .await?;
            confirm(&format!("{}/{id}: status override set to {status}", upper(&app)));
            Ok(())
        }
        Command::Status(StatusCommand::Clear { app, id, to }) => {
            on_instance(&servers, &app, &id, |s| s.delete_status_override(&app, &id, to, 0))
                .await?;
            let now = to.map_or("UNKNOWN until its next heartbeat".to_string(), |s| s.to_string());
            confirm(&format!("{}/{id}: status override cleared, status now {now}", upper(&app)));
            Ok(())
        }
        Command::Metadata(MetadataCommand::Set { app, id, entries }) => {
            on_instance(&servers, &app, &id, |s| s.update_metadata(&app, &id, &entries)).await?;
            let list: Vec<String> = entries.iter().map(|(k, v)| format!("{k}={v}")).collect();
            confirm(&format!("{}/{id}: metadata set: {}", upper(&app), list.join(", ")));
            Ok(())
        }
        Command::Cancel { app, id } => {
            on_instance(&servers, &app, &id, |s| s.cancel(&app, &id)).await?;
            confirm(&format!("cancelled {}/{id}", upper(&app)));
            Ok(())
        }
        Command::Drain { app, id, wait } => drain(&servers, out, &app, &id, wait).await,
        Command::Watch { apps, interval } => live::watch(servers, out, apps, interval).await,
    }
}

/// Which applications `apps` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AppFilter {
    All,
    Status(InstanceStatus),
    NotUp,
}

impl AppFilter {
    fn keeps(self, app: &Application) -> bool {
        match self {
            AppFilter::All => true,
            AppFilter::Status(s) => app.instances.iter().any(|i| i.status == s),
            AppFilter::NotUp => app.instances.iter().any(|i| i.status != InstanceStatus::Up),
        }
    }
}

/// A document in the format asked for (`yaml` is made from the JSON document).
fn print_document(
    out: Output,
    encode: impl Fn(eureka_model::Format) -> Vec<u8>,
) -> Result<(), CliError> {
    let Some(format) = out.document() else { return Ok(()) };
    let bytes = encode(format);
    let bytes = if out == Output::Yaml { output::yaml(&bytes)? } else { output::document(bytes) };
    output::stdout(&bytes)
}

async fn apps(
    servers: &Servers,
    out: Output,
    opts: TableOpts,
    filter: AppFilter,
) -> Result<(), CliError> {
    let mut apps = servers.call(Target::Registry, |s| s.applications()).await?;
    apps.applications.retain(|a| filter.keeps(a));
    match out.document() {
        None => output::stdout(output::apps_table(&apps, opts).as_bytes()),
        Some(_) => print_document(out, |f| f.encode_applications(&apps)),
    }
}

async fn app(servers: &Servers, out: Output, opts: TableOpts, name: &str) -> Result<(), CliError> {
    let app = match servers.call(Target::App(name), |s| s.application(name)).await {
        Ok(app) => app,
        Err(e) => return Err(suggest(servers, e, name, None).await),
    };
    if out.document().is_some() {
        return print_document(out, |f| f.encode_application(&app));
    }
    let leases = live_leases(servers, &[name]).await;
    let now = duration::now_ms();
    output::stdout(output::app_table(&app, leases.as_ref(), now, opts).as_bytes())
}

/// `problems`: the instances not UP (or, from live leases, expired), worst first; as a
/// document, the registry's applications with only those instances.
async fn problems(
    servers: &Servers,
    out: Output,
    opts: TableOpts,
    only: &[String],
) -> Result<(), CliError> {
    let mut apps = servers.call(Target::Registry, |s| s.applications()).await?;
    let wanted: Vec<String> = only.iter().map(|a| a.to_uppercase()).collect();
    if !wanted.is_empty() {
        apps.applications.retain(|a| wanted.contains(&a.name));
    }
    let names: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let leases = live_leases(servers, &names).await;
    let rank = |s: InstanceStatus| match s {
        InstanceStatus::Down => 0,
        InstanceStatus::OutOfService => 1,
        InstanceStatus::Starting => 2,
        InstanceStatus::Unknown => 3,
        InstanceStatus::Up => 4,
    };
    let mut found: Vec<&eureka_client::InstanceInfo> = apps
        .applications
        .iter()
        .flat_map(|a| a.instances.iter().map(|i| &**i))
        .filter(|i| output::is_problem(i, leases.as_ref()))
        .collect();
    found.sort_by(|a, b| (rank(a.status), &a.app, a.id()).cmp(&(rank(b.status), &b.app, b.id())));
    if out.document().is_some() {
        let mut only_problems = Applications { applications: Vec::new(), ..apps.clone() };
        for app in &apps.applications {
            let instances: Vec<_> = app
                .instances
                .iter()
                .filter(|i| output::is_problem(i, leases.as_ref()))
                .cloned()
                .collect();
            if !instances.is_empty() {
                only_problems.applications.push(Application { name: app.name.clone(), instances });
            }
        }
        return print_document(out, |f| f.encode_applications(&only_problems));
    }
    let now = duration::now_ms();
    output::stdout(output::problems_table(&found, leases.as_ref(), now, opts).as_bytes())
}

/// Live lease timings of `apps` (all when empty) from the server's `GET leases`, or `None`
/// when it has none (a Java server) or the call fails: callers then leave LAST RENEWAL out
/// rather than show the registry document's timestamp, which may be a minute old.
async fn live_leases(servers: &Servers, apps: &[&str]) -> Option<Leases> {
    let body = servers.call(Target::Registry, |s| s.leases(apps)).await.ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let leases = doc["leases"].as_array()?;
    Some(
        leases
            .iter()
            .filter_map(|l| {
                let key = (l["app"].as_str()?.to_string(), l["id"].as_str()?.to_string());
                let lease = LiveLease {
                    last_renewal: l["lastRenewal"].as_u64()?,
                    expires_at: l["expiresAt"].as_u64()?,
                    expired: l["expired"].as_bool()?,
                    health_down: l["healthDown"]["reason"].as_str().map(str::to_string),
                };
                Some((key, lease))
            })
            .collect(),
    )
}

/// `cluster`: every server's `GET status`, each asked on its own (no fail-over).
async fn cluster(servers: &Servers, out: Output, opts: TableOpts) -> Result<(), CliError> {
    let calls = servers.failover().servers().iter().map(|server| async move {
        let status = match server.status().await {
            Ok(body) => serde_json::from_slice::<serde_json::Value>(&body)
                .map_err(|e| format!("its status is not JSON: {e}")),
            Err(e) => {
                let url = server.url();
                let e = CliError::from_transport(&e, &Target::Registry, url, servers.timeout);
                // The table names the server already.
                Err(e.message.replace(&format!("cannot reach {url}: "), ""))
            }
        };
        Node { server: server.url().to_string(), status }
    });
    let nodes: Vec<Node> = futures_util::future::join_all(calls).await;
    let unreachable = nodes.iter().filter(|n| n.status.is_err()).count();
    match out.document() {
        None => output::stdout(
            output::cluster::cluster_tables(&nodes, duration::now_ms(), opts).as_bytes(),
        )?,
        Some(_) => {
            let doc: Vec<serde_json::Value> = nodes
                .iter()
                .map(|n| match &n.status {
                    Ok(status) => serde_json::json!({ "server": n.server, "status": status }),
                    Err(e) => serde_json::json!({ "server": n.server, "error": e }),
                })
                .collect();
            let json = serde_json::to_vec(&doc).unwrap_or_default();
            print_document(out, |_| json.clone())?;
        }
    }
    if unreachable > 0 {
        return Err(CliError::new(
            Kind::Unreachable,
            format!("{unreachable} of {} servers could not be reached", nodes.len()),
        ));
    }
    Ok(())
}

/// One call about `app`/`id`; a 404 says which of the two is missing and what is close.
async fn on_instance<'a, T, F, Fut>(
    servers: &'a Servers,
    app: &str,
    id: &str,
    call: F,
) -> Result<T, CliError>
where
    F: Fn(&'a EurekaHttp) -> Fut,
    Fut: Future<Output = Result<T, TransportError>>,
{
    match servers.call(Target::Instance { app: Some(app), id }, call).await {
        Ok(v) => Ok(v),
        Err(e) => Err(suggest(servers, e, app, Some(id)).await),
    }
}

/// `completion SHELL`: the completion script on stdout.
fn completion(shell: clap_complete::Shell) -> Result<(), CliError> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "eurekactl", &mut script);
    output::stdout(&script)
}

/// A "not found" with the closest name the registry has: `application ORDRS not found (did
/// you mean ORDERS?)`. Other errors, and names with nothing close, are returned as they are.
pub async fn suggest(servers: &Servers, e: CliError, app: &str, id: Option<&str>) -> CliError {
    if e.kind != Kind::NotFound {
        return e;
    }
    let Ok(apps) = servers.call(Target::Registry, |s| s.applications()).await else { return e };
    let upper = app.to_uppercase();
    let message = match (apps.applications.iter().find(|a| a.name == upper), id) {
        (None, _) => closest(&upper, apps.applications.iter().map(|a| a.name.as_str()))
            .map(|name| format!("application {upper} not found (did you mean {name}?)")),
        // Ids of one application all look alike: only a difference of case is suggested.
        (Some(found), Some(id)) => found
            .instances
            .iter()
            .map(|i| i.id())
            .find(|other| other.eq_ignore_ascii_case(id))
            .map(|other| format!("{} (did you mean {other}?)", e.message)),
        (Some(_), None) => None,
    };
    match message {
        Some(message) => CliError::new(e.kind, message),
        None => e,
    }
}

/// The candidate most like `wanted` (Jaro-Winkler over lower case, at least 0.8), or one that
/// contains it or that it contains.
fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = wanted.to_lowercase();
    candidates
        .map(|c| {
            let cl = c.to_lowercase();
            let contains = cl.contains(&lower) || lower.contains(&cl);
            let score = if contains { 0.9 } else { strsim::jaro_winkler(&lower, &cl) };
            (score, c)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

async fn instance(
    servers: &Servers,
    out: Output,
    app: Option<&str>,
    id: &str,
) -> Result<(), CliError> {
    let target = Target::Instance { app, id };
    let info = match app {
        Some(app) => on_instance(servers, app, id, |s| s.instance(app, id)).await?,
        None => servers.call(target, |s| s.instance_by_id(id)).await?,
    };
    match out.document() {
        None => output::stdout(output::instance_view(&info, duration::now_ms()).as_bytes()),
        Some(_) => print_document(out, |f| f.encode_instance(&info)),
    }
}

/// `drain`: the summary (or the server's JSON) on stdout; exit 7 when someone is pending.
async fn drain(
    servers: &Servers,
    out: Output,
    app: &str,
    id: &str,
    wait: Duration,
) -> Result<(), CliError> {
    let body = on_instance(servers, app, id, |s| s.drain(app, id, wait)).await?;
    let report: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        CliError::new(Kind::Undecodable, format!("cannot decode the drain report: {e}"))
    })?;
    let complete = report["complete"].as_bool().unwrap_or(false);
    match out {
        Output::Json | Output::Yaml => print_document(out, |_| body.to_vec())?,
        Output::Table | Output::Wide | Output::Xml => {
            output::stdout(drain_summary(app, id, &report).as_bytes())?
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_name_is_suggested_only_when_close() {
        let apps = ["ORDERS", "BILLING", "ORDER-HISTORY", "SHIPPING"];
        assert_eq!(closest("ORDRS", apps.into_iter()), Some("ORDERS"));
        assert_eq!(closest("biling", apps.into_iter()), Some("BILLING"));
        assert_eq!(closest("HISTORY", apps.into_iter()), Some("ORDER-HISTORY"));
        assert_eq!(closest("PAYMENTS", apps.into_iter()), None);
        assert_eq!(closest("x", std::iter::empty()), None);
    }
}
