//! `eureka-server`: starts a standalone registry with embedded defaults, or as configured.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use eureka_server::config::{ConfigSources, Loaded, LogFormat, ServerConfig};
use eureka_server::replication::PeerSources;
use eureka_server::{Clock, ServerState};
use tokio::net::TcpListener;

/// A Netflix-Eureka-compatible service registry.
#[derive(Debug, Parser)]
#[command(name = "eureka-server", version, about)]
struct Args {
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

/// How long in-flight requests get to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let args = Args::parse();
    // Configuration first: it says how to log. Its own warnings wait for the logger.
    let loaded = match load_config(&args) {
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
    match runtime.block_on(serve(loaded.config, &args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("eureka-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Defaults < file < environment < flags.
fn load_config(args: &Args) -> anyhow::Result<Loaded> {
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
    Ok(ServerConfig::load(ConfigSources {
        file: args.config.as_deref(),
        // Lossy: a non-UTF-8 variable elsewhere in the environment must not stop start-up.
        env: std::env::vars_os()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
            .collect(),
        overrides,
    })?)
}

/// Logs to stdout at `RUST_LOG` (default `info`), as text or as one JSON object per line
/// carrying the fields of every enclosing span (request id, peer, background job).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        // Colour codes only for a person at a terminal, not in files or pipes.
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(true).init(),
    }
}

async fn serve(config: ServerConfig, args: &Args) -> anyhow::Result<()> {
    for key in &config.compat_ignored {
        tracing::info!(key = %key, "setting accepted for Java compatibility; it has no effect here (see the README's Configuration table)");
    }

    let addr = std::net::SocketAddr::new(config.address, config.port);
    let scheme = if config.ssl.is_enabled() { "https" } else { "http" };
    // TLS files are read before the port is taken, so a bad one stops start-up cleanly.
    let state = ServerState::new(config, Clock::System)?;
    let listener =
        TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let urls = Urls::of(&state.config, scheme);
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
    let server = tokio::spawn(eureka_server::run(listener, state.clone(), shutdown));
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
fn reload_peers(state: &eureka_server::SharedState, args: &Args) {
    let loaded = match load_config(args) {
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
    fn of(config: &ServerConfig, scheme: &str) -> Urls {
        let host = if config.address.is_unspecified() {
            "localhost".to_string()
        } else {
            std::net::SocketAddr::new(config.address, config.port).ip().to_string()
        };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        let root = format!("{scheme}://{host}:{}", config.port);
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
