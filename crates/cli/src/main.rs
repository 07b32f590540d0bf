//! `eurekactl`: a command-line tool for Eureka registries, a thin layer over `eureka-client`.
//!
//! - `args`: the command line (clap) and the parsers of its values.
//! - `commands`: the fail-over server set and the one-call commands (`apps`, `app`,
//!   `instance`, `status`, `metadata`, `cancel`, `drain`).
//! - `live`: the commands that run until a signal (`register`, `watch`), over the discovery
//!   client.
//! - `output`: tables for people; the model's encoders for `--output json|xml`.
//! - `error`: failures as one line for a person and an exit code for a script.
//! - `duration`: `500ms`/`30s`/`2m` parsing, "12s ago", RFC 3339 times.

mod args;
mod commands;
mod duration;
mod error;
mod live;
mod output;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use crate::error::CliError;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(e),
    };
    // One thread is plenty for one command; the discovery client's tasks share it.
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(format!("cannot start the async runtime: {e}")))
        .and_then(|runtime| runtime.block_on(commands::run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.message.is_empty() {
                eprintln!("eurekactl: {}", e.message);
            }
            ExitCode::from(e.kind.exit_code())
        }
    }
}

/// Help and version go to stdout as clap writes them (exit 0; a missing subcommand prints the
/// help to stderr, exit 2). Every other usage error is one line like every other error:
/// `eurekactl: unexpected argument '--foo' found (tip: ...; see 'eurekactl --help')`, exit 2.
fn usage(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(error::Kind::Usage.exit_code());
        }
        _ => {}
    }
    eprintln!("eurekactl: {}", one_line(&e.render().to_string()));
    ExitCode::from(error::Kind::Usage.exit_code())
}

/// clap's multi-line error as one line: the `error:` line, its tips, and where to look.
fn one_line(rendered: &str) -> String {
    let mut message = String::new();
    let mut tips = Vec::new();
    let mut usage = None;
    for line in rendered.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("error: ") {
            message = rest.to_string();
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            tips.push(tip.to_string());
        } else if let Some(u) = line.strip_prefix("Usage: ") {
            usage = Some(u.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
        } else if message.is_empty() {
            message = line.to_string();
        } else if !line.starts_with("For more information") {
            // Continuation lines (e.g. the possible values) belong to the message.
            message.push_str("; ");
            message.push_str(line);
        }
    }
    let help = usage.filter(|u| u.starts_with("eurekactl ")).unwrap_or_else(|| "eurekactl".into());
    let mut line = message;
    line.push_str(" (");
    for tip in tips {
        line.push_str(&tip);
        line.push_str("; ");
    }
    line.push_str(&format!("see '{help} --help')"));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(args: &[&str]) -> String {
        let e = args::Cli::try_parse_from(std::iter::once("eurekactl").chain(args.iter().copied()))
            .unwrap_err();
        one_line(&e.render().to_string())
    }

    #[test]
    fn usage_errors_are_one_line_with_their_tips() {
        let line = rendered(&["apps", "--statsu", "DOWN"]);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("unexpected argument '--statsu' found"), "{line}");
        assert!(line.contains("'--status'"), "clap's own suggestion: {line}");
        assert!(line.ends_with("see 'eurekactl apps --help')"), "{line}");
        let line = rendered(&["aps"]);
        assert!(
            line.contains("unrecognized subcommand 'aps'") && line.contains("'apps'"),
            "{line}"
        );
        let line = rendered(&["status", "set", "A", "i", "SLEEPING"]);
        assert!(line.contains("'SLEEPING' is not a status"), "{line}");
    }
}
