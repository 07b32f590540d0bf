//! `eureka-server`: starts a standalone registry with embedded defaults, or as configured.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use eureka_server::config::{
    effective, render_effective, render_reference, Checked, ConfigSources, LogFormat,
    ReferenceFormat, ServerConfig,
};
use eureka_server::dns::DnsSockets;
use eureka_server::replication::PeerSources;
use eureka_server::{tls, Clock, ServerState};
use tokio::net::TcpListener;

/// jemalloc on glibc Linux: it hands freed memory back to the kernel (a storm's replication
/// queues and delta log are freed minutes later) and packs the registry's many small records.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A Netflix-Eureka-compatible service registry: without a subcommand, starts the server.
#[derive(Debug, Parser)]
#[command(name = "eureka-server", version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    sources: SourceArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Where the settings come from, besides the environment: the same for starting the server,
/// `config check` and `config show`, so they see the same configuration.
#[derive(Debug, Clone, Default, clap::Args)]
struct SourceArgs {
    /// Port to listen on (`server.port`; default 8761).
    #[arg(long)]
    port: Option<u16>,
    /// Spring Boot style `application.yml` (or `.properties`) to read settings from.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A peer's service URL, e.g. `--peer http://peer2:8761/eureka/`; repeat for more (adds to
    /// `eureka.client.service-url.defaultZone`).
    #[arg(long = "peer", value_name = "URL")]
    peers: Vec<String>,
    /// Any setting by its Spring key, e.g. `--set eureka.server.enable-self-preservation=false`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    settings: Vec<String>,
    /// Log line format, `text` or `json` (`logging.format`; default text).
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect the configuration without starting the server.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print every setting: key, type, default, description, Spring equivalent.
    Keys {
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t = KeysFormat::Text)]
        format: KeysFormat,
    },
    /// Check a file, the environment and the flags as start-up would, listing every problem;
    /// exit 1 when there is one.
    Check {
        /// The configuration file (the same as `--config FILE`).
        #[arg(value_name = "FILE", conflicts_with = "config")]
        file: Option<PathBuf>,
        /// Fail on warnings too (unknown keys, skipped profile documents, advisories).
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        sources: SourceArgs,
    },
    /// Print the effective configuration and where each value came from (secrets masked).
    Show {
        /// Only the values a file, the environment or a flag set.
        #[arg(long)]
        changed: bool,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
        #[command(flatten)]
        sources: SourceArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KeysFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ShowFormat {
    Text,
    Json,
}

/// How long in-flight requests get to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => start(&cli.sources),
        Some(Command::Config(command)) => match config_command(command) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("eureka-server: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Loads the configuration and serves until SIGINT/SIGTERM.
fn start(args: &SourceArgs) -> ExitCode {
    // Configuration first: it says how to log. Its own warnings wait for the logger.
    let loaded = match Sources::gather(args, None)
        .and_then(|sources| Ok(ServerConfig::load(sources.borrow())?))
    {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("eureka-server: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(loaded.config.log_format);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("eureka-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(loaded.config, args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("eureka-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `eureka-server config …`: prints to stdout; the exit code says whether the check passed.
fn config_command(command: ConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Keys { format } => {
            let format = match format {
                KeysFormat::Text => ReferenceFormat::Text,
                KeysFormat::Markdown => ReferenceFormat::Markdown,
                KeysFormat::Json => ReferenceFormat::Json,
            };
            print!("{}", render_reference(format));
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Check { file, strict, sources: args } => {
            let sources = Sources::gather(&args, file)?;
            let checked = ServerConfig::check(sources.borrow());
            let problems = check_report(&checked, sources.file.as_deref());
            let failed = problems.errors > 0 || (strict && problems.warnings > 0);
            Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        ConfigCommand::Show { changed, format, sources: args } => {
            let checked = ServerConfig::check(Sources::gather(&args, None)?.borrow());
            if !checked.errors.is_empty() {
                for error in &checked.errors {
                    eprintln!("error: {error}");
                }
                anyhow::bail!("the configuration has errors (see `eureka-server config check`)");
            }
            for warning in &checked.loaded.warnings {
                eprintln!("warning: {warning}");
            }
            let mut values = effective(&checked.loaded);
            if changed {
                values.retain(|v| v.is_set());
            }
            match format {
                ShowFormat::Text => print!("{}", render_effective(&values)),
                ShowFormat::Json => println!("{}", serde_json::to_string_pretty(&values)?),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// How many problems `config check` found.
struct Problems {
    errors: usize,
    warnings: usize,
}

/// Prints every error and warning of a check (and, when the settings are sound, whether the
/// TLS files they name can be used), then a summary line.
fn check_report(checked: &Checked, file: Option<&std::path::Path>) -> Problems {
    let mut errors: Vec<String> = checked.errors.iter().map(ToString::to_string).collect();
    if errors.is_empty() {
        // Start-up reads these files before binding the port; so does the check.
        let config = &checked.loaded.config;
        if let Err(e) = tls::server_config(&config.ssl) {
            errors.push(e.to_string());
        }
        if let Err(e) = tls::peer_options(&config.peer_tls) {
            errors.push(e.to_string());
        }
    }
    for error in &errors {
        println!("error: {error}");
    }
    for warning in &checked.loaded.warnings {
        println!("warning: {warning}");
    }
    let what = match file {
        Some(path) => format!("{}, the environment and the flags", path.display()),
        None => "the environment and the flags".to_string(),
    };
    let count = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    if errors.is_empty() {
        println!(
            "ok: {what} give a valid configuration ({} set, {})",
            count(checked.loaded.sources.len(), "value"),
            count(checked.loaded.warnings.len(), "warning")
        );
    } else {
        println!(
            "failed: {} and {} in {what}",
            count(errors.len(), "error"),
            count(checked.loaded.warnings.len(), "warning")
        );
    }
    Problems { errors: errors.len(), warnings: checked.loaded.warnings.len() }
}

/// The configuration sources of one run: the file, the process environment, the flags.
struct Sources {
    file: Option<PathBuf>,
    env: Vec<(String, String)>,
    overrides: Vec<(String, String)>,
}

impl Sources {
    /// The flags as overrides (defaults < file < environment < flags); `file`, a command's
    /// positional argument, stands for `--config`.
    fn gather(args: &SourceArgs, file: Option<PathBuf>) -> anyhow::Result<Sources> {
        let mut overrides = Vec::new();
        for s in &args.settings {
            let (k, v) =
                s.split_once('=').with_context(|| format!("--set '{s}': expected KEY=VALUE"))?;
            overrides.push((k.trim().to_string(), v.trim().to_string()));
        }
        if !args.peers.is_empty() {
            overrides.push(("eureka.server.peer-urls".to_string(), args.peers.join(",")));
        }
        if let Some(port) = args.port {
            overrides.push(("server.port".to_string(), port.to_string()));
        }
        if let Some(format) = &args.log_format {
            overrides.push(("logging.format".to_string(), format.clone()));
        }
        // Lossy: a non-UTF-8 variable elsewhere in the environment must not stop start-up.
        let env = std::env::vars_os()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
            .collect();
        Ok(Sources { file: file.or_else(|| args.config.clone()), env, overrides })
    }

    fn borrow(&self) -> ConfigSources<'_> {
        ConfigSources {
            file: self.file.as_deref(),
            env: self.env.clone(),
            overrides: self.overrides.clone(),
        }
    }
}

/// hickory-server logs every DNS query and answer at `info`: kept at `warn` unless `RUST_LOG`
/// names hickory itself.
const HICKORY_QUIET: &str = "hickory_server=warn,hickory_proto=warn,hickory_net=warn";

/// Logs to stdout at `RUST_LOG` (default `info`), as text or as one JSON object per line
/// carrying the fields of every enclosing span (request id, peer, background job).
fn init_logging(format: LogFormat) {
    let directives = match std::env::var("RUST_LOG") {
        Ok(asked) if asked.contains("hickory") => asked,
        Ok(asked) if !asked.trim().is_empty() => format!("{asked},{HICKORY_QUIET}"),
        _ => format!("info,{HICKORY_QUIET}"),
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("info,{HICKORY_QUIET}")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        // Colour codes only for a person at a terminal, not in files or pipes.
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(true).init(),
    }
}

async fn serve(config: ServerConfig, args: &SourceArgs) -> anyhow::Result<()> {
    for key in &config.compat_ignored {
        tracing::info!(key = %key, "setting accepted for Java compatibility; it has no effect here (see the README's Configuration table)");
    }

    let addr = std::net::SocketAddr::new(config.address, config.port);
    let scheme = if config.ssl.is_enabled() { "https" } else { "http" };
    // TLS files are read before the port is taken, so a bad one stops start-up cleanly.
    let state = ServerState::new(config, Clock::System)?;
    let listener =
        TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let dns = &state.config.dns;
    let dns = match dns.enabled {
        true => {
            let dns_addr = dns.listen_addr(state.config.address);
            let sockets = DnsSockets::bind(dns_addr)
                .await
                .with_context(|| format!("cannot listen for DNS on {dns_addr} (UDP and TCP)"))?;
            Some(sockets)
        }
        false => None,
    };
    // With port 0 the kernel picks one: log the port actually taken.
    let addr = listener.local_addr().unwrap_or(addr);
    let urls = Urls::of(&state.config, scheme, addr.port());
    tracing::info!(
        %addr,
        api = %urls.api,
        console = %urls.console.as_deref().unwrap_or("disabled"),
        metrics = %urls.metrics,
        "eureka server listening"
    );

    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = signalled_tx.send(());
    };
    let server = tokio::spawn(eureka_server::run_with_dns(listener, dns, state.clone(), shutdown));
    tokio::pin!(server);
    tokio::pin!(signalled_rx);
    let mut hangups = Hangups::new();
    loop {
        tokio::select! {
            result = &mut server => return Ok(result.context("server task failed")??),
            _ = &mut signalled_rx => break,
            _ = hangups.next() => reload_peers(&state, args),
        }
    }
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(result) => Ok(result.context("server task failed")??),
        Err(_) => {
            tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}; exiting anyway");
            Ok(())
        }
    }
}

/// SIGHUP, where there is such a thing (none: never).
struct Hangups(#[cfg(unix)] Option<tokio::signal::unix::Signal>);

impl Hangups {
    fn new() -> Self {
        #[cfg(unix)]
        {
            let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
            if let Err(e) = &hup {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; peer list reloads are off");
            }
            Hangups(hup.ok())
        }
        #[cfg(not(unix))]
        Hangups()
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(hup) = &mut self.0 {
            if hup.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await
    }
}

/// SIGHUP: reads the configuration again (same file, environment and flags) and applies its
/// peer sources (static list, DNS settings). Other settings need a restart; a bad file keeps
/// everything as it is.
fn reload_peers(state: &eureka_server::SharedState, args: &SourceArgs) {
    let loaded = match Sources::gather(args, None)
        .and_then(|sources| Ok(ServerConfig::load(sources.borrow())?))
    {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::error!("SIGHUP: configuration not reloaded, peers unchanged: {e:#}");
            return;
        }
    };
    let new = loaded.config;
    let sources = PeerSources::from_config(&new);
    let peers = sources.static_urls.len();
    let dns = sources.dns_description();
    if state.replication.membership.reload(sources) {
        tracing::info!(
            static_peers = peers,
            dns = dns.as_deref().unwrap_or("none"),
            "SIGHUP: peer sources reloaded"
        );
    } else {
        tracing::info!("SIGHUP: peer sources unchanged");
    }
    let without_peers = |c: &ServerConfig| {
        let mut c = c.clone();
        c.client.service_urls.clear();
        c.extra_peer_urls.clear();
        c.peer_discovery = Default::default();
        c.compat_ignored.clear();
        c
    };
    if without_peers(&new) != without_peers(&state.config) {
        tracing::warn!(
            "SIGHUP: settings other than the peers changed; they take effect at the next restart"
        );
    }
}

/// The addresses a person opens after start-up, as logged: a wildcard listen address is
/// shown as `localhost`.
struct Urls {
    api: String,
    console: Option<String>,
    metrics: String,
}

impl Urls {
    fn of(config: &ServerConfig, scheme: &str, port: u16) -> Urls {
        let host = if config.address.is_unspecified() {
            "localhost".to_string()
        } else {
            config.address.to_string()
        };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        let root = format!("{scheme}://{host}:{port}");
        let console = config.dashboard_enabled.then(|| {
            let path = config.dashboard_path.trim_end_matches('/');
            format!("{root}{path}/")
        });
        Urls { api: format!("{root}/eureka/"), console, metrics: format!("{root}/metrics") }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
