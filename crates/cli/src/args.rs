//! The command line: global flags, subcommands and the parsers of their values.
//!
//! Values are checked here, while parsing, so that a mistyped status or duration is a usage
//! error (exit 2) before any server is called.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use eureka_client::{Format, InstanceStatus, DEFAULT_SERVICE_URL};

use crate::duration::parse_positive as positive;
use crate::error::EXIT_CODES_HELP;

/// Heading of the flags every subcommand takes, so that they stand apart in `CMD --help`.
const GLOBAL: &str = "Global options";
/// How durations are shown in usage lines.
const DURATION: &str = "DURATION";

/// Inspect and change a Eureka service registry.
///
/// Reads print tables by default; `--output json|xml` prints the Eureka documents exactly as
/// the server's codec writes them, for scripts. Data goes to standard output; confirmations,
/// warnings and errors go to standard error.
#[derive(Debug, Parser)]
#[command(name = "eurekactl", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Eureka service URL; a comma-separated list fails over in order. `user:pass@` is sent
    /// as Basic auth and never printed.
    #[arg(
        short,
        long,
        global = true,
        env = "EUREKA_URL",
        hide_env_values = true,
        default_value = DEFAULT_SERVICE_URL,
        value_name = "URL[,URL...]",
        help_heading = GLOBAL
    )]
    pub server: String,

    /// User for HTTP Basic auth on --server URLs without `user:pass@` of their own; the
    /// password comes from EUREKA_PASSWORD (never a flag: flags show in `ps`).
    #[arg(
        long,
        global = true,
        env = "EUREKA_USERNAME",
        hide_env_values = true,
        value_name = "USER",
        help_heading = GLOBAL
    )]
    pub user: Option<String>,

    /// Output format: a table for people (`wide`: more columns), or the Eureka documents as
    /// JSON, XML or YAML for scripts.
    #[arg(
        short,
        long,
        global = true,
        value_enum,
        default_value_t = Output::Table,
        help_heading = GLOBAL
    )]
    pub output: Output,

    /// Tables without their header line (and `apps` without its total row), for scripts
    /// that read columns.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_headers: bool,

    /// Limit for connecting and for each call, e.g. 500ms, 5s, 1m.
    #[arg(
        long,
        global = true,
        default_value = "5s",
        value_parser = positive,
        value_name = DURATION,
        help_heading = GLOBAL
    )]
    pub timeout: Duration,

    /// PEM file of extra CAs to trust for `https://` servers (e.g. a private cluster CA),
    /// besides the public web roots.
    #[arg(
        long,
        global = true,
        env = "EUREKA_CACERT",
        value_name = "FILE",
        help_heading = GLOBAL
    )]
    pub cacert: Option<std::path::PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned columns for people (coloured on a terminal unless NO_COLOR is set).
    Table,
    /// The table with more columns (IP, zone, version, registered; metadata in full).
    Wide,
    /// Eureka JSON documents (the server's codec); `watch` prints one JSON object per line.
    Json,
    /// Eureka XML documents (the server's codec).
    Xml,
    /// The JSON documents as YAML.
    Yaml,
}

impl Output {
    /// The document format, or `None` for tables. YAML is made from the JSON document.
    pub fn document(self) -> Option<Format> {
        match self {
            Output::Table | Output::Wide => None,
            Output::Json | Output::Yaml => Some(Format::Json),
            Output::Xml => Some(Format::Xml),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the applications with their instance counts by status.
    Apps {
        /// Only applications with at least one instance in this status.
        #[arg(long, value_parser = status, value_name = "STATUS", conflicts_with = "not_up")]
        status: Option<InstanceStatus>,
        /// Only applications with at least one instance that is not UP.
        #[arg(long)]
        not_up: bool,
    },
    /// Show the instances of one application.
    App {
        /// Application name (case-insensitive).
        name: String,
    },
    /// List every instance that needs attention, across applications: not UP, or (on our
    /// server) its lease expired. Worst first. Exit 0 whether or not there are any.
    Problems {
        /// Only these applications (case-insensitive); all when none is given.
        apps: Vec<String>,
    },
    /// Show each server's own view of the cluster: whether it answers and is ready, its
    /// registry, self-preservation and its inputs, and its peer links (reachability, queue,
    /// last success, last error). Every server of `--server` is asked, not just the first
    /// that answers. Exits 4 when any of them cannot be reached.
    Cluster,
    /// Print a shell completion script: `eurekactl completion bash > /etc/bash_completion.d/eurekactl`,
    /// `eurekactl completion zsh > "${fpath[1]}/_eurekactl"`,
    /// `eurekactl completion fish > ~/.config/fish/completions/eurekactl.fish`.
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Show one instance.
    Instance {
        /// Instance id, e.g. `web-1:orders:8080`.
        id: String,
        /// Look the id up in this application (`apps/APP/ID`) instead of in every
        /// application (`instances/ID`).
        #[arg(long)]
        app: Option<String>,
    },
    /// Register an instance and keep its lease alive until Ctrl-C or SIGTERM, then cancel it.
    Register(RegisterArgs),
    /// Set or clear an operator status override.
    #[command(subcommand)]
    Status(StatusCommand),
    /// Change an instance's metadata.
    #[command(subcommand)]
    Metadata(MetadataCommand),
    /// Cancel an instance's lease: it leaves the registry at once.
    Cancel {
        /// Application name.
        app: String,
        /// Instance id.
        id: String,
    },
    /// Take an instance out of service and wait until everyone has seen it.
    ///
    /// Sets the OUT_OF_SERVICE override (our server only: `POST apps/APP/ID/drain`) and
    /// waits until every watcher of the application and every polling client that names
    /// itself (`X-Eureka-Client-Id`, as eureka-rs clients do) on that server was sent the
    /// change. Prints one summary line and who is still pending; `--output json` prints the
    /// server's report. Exits 0 when everyone saw it, 7 when the wait ran out first; safe to
    /// stop the instance only on 0. Each server of a cluster counts its own clients only.
    Drain {
        /// Application name.
        app: String,
        /// Instance id.
        id: String,
        /// How long the server waits for everyone to see it (whole seconds, at most 2m).
        #[arg(long, default_value = "30s", value_parser = drain_wait, value_name = DURATION)]
        wait: Duration,
    },
    /// Print registry changes as they happen, until Ctrl-C.
    ///
    /// The first lines are the instances registered now, as ADDED. Then one line per change:
    /// time, ADDED/MODIFIED/DELETED, application, instance id, status, host:port. With
    /// `--output json`, one JSON object per line:
    /// {"time":..,"action":..,"app":..,"id":..,"instance":{Eureka JSON instance}}.
    /// Changes arrive on the server's change stream (`GET watch`) as they happen; against a
    /// server without one (the Java server) they are found by polling deltas every
    /// `--interval`.
    Watch {
        /// Only these applications (case-insensitive); all when none is given.
        apps: Vec<String>,
        /// How often to poll the registry when the server has no change stream (and how often
        /// the stream's copy is checked against the registry), e.g. 500ms, 1s, 30s.
        #[arg(long, default_value = "1s", value_parser = positive, value_name = DURATION)]
        interval: Duration,
    },
}

/// The longest drain wait the server accepts.
pub const MAX_DRAIN_WAIT: Duration = Duration::from_secs(120);

/// A drain's `--wait`: positive, at most [`MAX_DRAIN_WAIT`].
fn drain_wait(text: &str) -> Result<Duration, String> {
    match positive(text)? {
        d if d > MAX_DRAIN_WAIT => {
            Err(format!("'{}' is more than the 2m a drain may wait", text.trim()))
        }
        d => Ok(d),
    }
}

/// What `register` registers.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Application name (upper-cased by the server).
    #[arg(long)]
    pub app: String,
    /// Plain (HTTP) port.
    #[arg(long)]
    pub port: u16,
    /// Instance id [default: HOST:app:PORT].
    #[arg(long)]
    pub id: Option<String>,
    /// Host name [default: this machine's].
    #[arg(long)]
    pub host: Option<String>,
    /// IP address [default: the address of the interface that routes outwards].
    #[arg(long)]
    pub ip: Option<String>,
    /// Enables the TLS port.
    #[arg(long, value_name = "PORT")]
    pub secure_port: Option<u16>,
    /// VIP address, comma-separated [default: the app name in lower case].
    #[arg(long)]
    pub vip: Option<String>,
    /// A metadata entry; repeat for more.
    #[arg(long = "metadata", value_name = "KEY=VALUE", value_parser = key_value)]
    pub metadata: Vec<(String, String)>,
    /// Status to register with.
    #[arg(long, default_value = "UP", value_parser = status)]
    pub status: InstanceStatus,
    /// How often to renew the lease (whole seconds on the wire).
    #[arg(long, default_value = "30s", value_parser = positive, value_name = DURATION)]
    pub renewal_interval: Duration,
    /// How long the server keeps the lease without a renewal (whole seconds on the wire).
    #[arg(long, default_value = "90s", value_parser = positive, value_name = DURATION)]
    pub lease_duration: Duration,
    /// Register the IP address as the host name.
    #[arg(long)]
    pub prefer_ip: bool,
}

/// `status set|clear`.
#[derive(Debug, Subcommand)]
pub enum StatusCommand {
    /// Override an instance's status (e.g. OUT_OF_SERVICE takes it out of traffic).
    Set {
        /// Application name.
        app: String,
        /// Instance id.
        id: String,
        /// UP, DOWN, STARTING, OUT_OF_SERVICE or UNKNOWN.
        #[arg(value_parser = status)]
        status: InstanceStatus,
    },
    /// Remove an override.
    ///
    /// Without --to the server sets UNKNOWN, which makes the instance's next heartbeat
    /// re-register it with its own status (Eureka's behaviour).
    Clear {
        /// Application name.
        app: String,
        /// Instance id.
        id: String,
        /// Status to leave the instance at.
        #[arg(long, value_parser = status, value_name = "STATUS")]
        to: Option<InstanceStatus>,
    },
}

/// `metadata set`.
#[derive(Debug, Subcommand)]
pub enum MetadataCommand {
    /// Merge entries into an instance's metadata. The instance's own client overwrites them
    /// when it next registers, as with any Eureka server.
    Set {
        /// Application name.
        app: String,
        /// Instance id.
        id: String,
        /// Entries to set.
        #[arg(required = true, value_name = "KEY=VALUE", value_parser = key_value)]
        entries: Vec<(String, String)>,
    },
}

/// Parses an instance status, case-insensitively (`out_of_service` is fine).
pub fn status(text: &str) -> Result<InstanceStatus, String> {
    InstanceStatus::parse(&text.trim().to_ascii_uppercase()).ok_or_else(|| {
        let names: Vec<_> = InstanceStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!("'{text}' is not a status: expected one of {}", names.join(", "))
    })
}

/// Parses `KEY=VALUE`; the value may be empty and may contain `=`.
pub fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("'{text}' is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("eurekactl").chain(args.iter().copied()))
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_anywhere_and_have_defaults() {
        let cli = parse(&["apps", "-o", "json", "--timeout", "750ms"]).unwrap();
        assert_eq!(cli.output, Output::Json);
        assert_eq!(cli.timeout, Duration::from_millis(750));
        assert!(matches!(cli.command, Command::Apps { status: None, not_up: false }));
        let cli = parse(&["apps", "--status", "down", "--no-headers", "-o", "wide"]).unwrap();
        assert!(matches!(cli.command, Command::Apps { status: Some(InstanceStatus::Down), .. }));
        assert!(cli.no_headers && cli.output == Output::Wide);
        assert!(parse(&["apps", "--status", "DOWN", "--not-up"]).is_err(), "one filter at a time");
        let cli = parse(&["-s", "http://a/eureka/,http://b/eureka/", "app", "orders"]).unwrap();
        assert_eq!(cli.server, "http://a/eureka/,http://b/eureka/");
        assert_eq!(cli.output, Output::Table);
    }

    #[test]
    fn register_reads_every_flag() {
        let cli = parse(&[
            "register",
            "--app",
            "orders",
            "--port",
            "8080",
            "--metadata",
            "zone=a",
            "--metadata",
            "url=http://x/?a=b",
            "--status",
            "starting",
            "--renewal-interval",
            "5s",
            "--prefer-ip",
        ])
        .unwrap();
        let Command::Register(r) = cli.command else { panic!("not register") };
        assert_eq!((r.app.as_str(), r.port), ("orders", 8080));
        assert_eq!(r.metadata[1], ("url".to_string(), "http://x/?a=b".to_string()));
        assert_eq!(r.status, InstanceStatus::Starting);
        assert_eq!(r.renewal_interval, Duration::from_secs(5));
        assert_eq!(r.lease_duration, Duration::from_secs(90));
        assert!(r.prefer_ip);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["status", "set", "A", "i", "SLEEPING"][..],
            &["metadata", "set", "A", "i"],
            &["metadata", "set", "A", "i", "=v"],
            &["watch", "--interval", "0s"],
            &["apps", "--timeout", "5"],
            &["apps", "-o", "toml"],
            &["completion", "tcsh"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn value_parsers() {
        assert_eq!(status("out_of_service"), Ok(InstanceStatus::OutOfService));
        assert!(status("up!").unwrap_err().contains("OUT_OF_SERVICE"));
        assert_eq!(key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(key_value("a="), Ok(("a".into(), String::new())));
        assert!(key_value("novalue").is_err());
    }
}
