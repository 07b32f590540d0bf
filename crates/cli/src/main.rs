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

use clap::Parser;

use crate::error::CliError;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with 2, as our exit codes promise.
    let cli = args::Cli::parse();
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
