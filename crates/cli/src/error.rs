//! Why a command failed: one line a person understands, and an exit code a script can test.
//!
//! Every failure becomes a [`CliError`] here, so the wording and the codes live in one place:
//! transport errors are sorted by [`CliError::from_transport`], and `main` prints the message
//! once, prefixed `eurekactl: `.

use std::fmt;
use std::io;
use std::time::Duration;

use eureka_client::TransportError;

use crate::duration;

/// The exit codes, as `--help` and the README list them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  unexpected internal error
  2  usage error (bad flag, argument or server URL)
  3  not found (unknown application or instance)
  4  cannot reach any server (connection refused, DNS, timeout)
  5  the server refused the request (other 4xx/5xx; its status and message are shown)
  6  the server's answer could not be decoded
  7  drain: not every watcher and client saw the change before --wait ran out";

/// What kind of failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A bug or an environment problem (no runtime, no signal handler): exit 1.
    Internal,
    /// Bad flags, arguments or server URL: exit 2, as clap uses for its own usage errors.
    Usage,
    /// The application or instance does not exist (404): exit 3.
    NotFound,
    /// No server could be reached (connection, DNS, timeout): exit 4.
    Unreachable,
    /// A server answered with another 4xx or 5xx: exit 5.
    Refused,
    /// A server answered something that is not a Eureka document: exit 6.
    Undecodable,
    /// A drain's wait ran out before everyone saw the change: exit 7, so a deploy script
    /// does not stop the instance yet.
    Incomplete,
    /// Whoever read our standard output went away (`| head`): exit 0, silently, as pipes
    /// expect.
    OutputClosed,
}

impl Kind {
    /// The process exit code for this kind.
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::OutputClosed => 0,
            Kind::Internal => 1,
            Kind::Usage => 2,
            Kind::NotFound => 3,
            Kind::Unreachable => 4,
            Kind::Refused => 5,
            Kind::Undecodable => 6,
            Kind::Incomplete => 7,
        }
    }
}

/// A failed command: its kind and a one-line message without the `eurekactl: ` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// Decides the exit code.
    pub kind: Kind,
    /// One line, for a person.
    pub message: String,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// What a call was about, so that a 404 can say what is missing.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The registry itself (`apps`, deltas): a 404 means the URL is not a Eureka API.
    Registry,
    /// One application.
    App(&'a str),
    /// One instance, with its application when the call named it.
    Instance {
        /// The application, when known.
        app: Option<&'a str>,
        /// The instance id.
        id: &'a str,
    },
}

impl Target<'_> {
    fn not_found(&self, servers: &str) -> String {
        match self {
            Target::Registry => {
                format!("no Eureka API at {servers} (404): service URLs usually end in /eureka/")
            }
            Target::App(app) => format!("application {} not found", app.to_uppercase()),
            Target::Instance { app: Some(app), id } => {
                format!("instance {id} not found in {}", app.to_uppercase())
            }
            Target::Instance { app: None, id } => format!("instance {id} not found"),
        }
    }
}

impl CliError {
    /// An error of `kind` with `message`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        CliError { kind, message: message.into() }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    /// An unexpected failure (exit 1).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Kind::Internal, message)
    }

    /// Sorts a failed call by what the user can do about it. `servers` names the servers
    /// tried (credentials already removed) and `timeout` is the per-call limit, so that
    /// the message can say both.
    pub fn from_transport(
        e: &TransportError,
        target: &Target<'_>,
        servers: &str,
        timeout: Duration,
    ) -> Self {
        match e {
            TransportError::InvalidUrl { url, reason } => {
                Self::usage(format!("invalid server URL '{url}': {reason}"))
            }
            TransportError::Connect(cause) => {
                Self::new(Kind::Unreachable, format!("cannot reach {servers}: {}", humane(cause)))
            }
            TransportError::Timeout => Self::new(
                Kind::Unreachable,
                format!("cannot reach {servers}: no answer within {}", duration::display(timeout)),
            ),
            TransportError::Io(cause) => Self::new(
                Kind::Unreachable,
                format!("lost the connection to {servers}: {}", humane(cause)),
            ),
            TransportError::Status { status: 404, .. } => {
                Self::new(Kind::NotFound, target.not_found(servers))
            }
            TransportError::Status { status, body } => {
                Self::new(Kind::Refused, refused(*status, body))
            }
            TransportError::Decode(e) => {
                Self::new(Kind::Undecodable, format!("cannot decode the answer of {servers}: {e}"))
            }
        }
    }

    /// A failed write to standard output; a closed pipe is not an error worth a message.
    pub fn from_stdout(e: &io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Self::new(Kind::OutputClosed, "")
        } else {
            Self::internal(format!("cannot write to standard output: {e}"))
        }
    }
}

/// `the server answered 403 Forbidden: registry not ready ...`, with hints where a status
/// has a usual cause.
fn refused(status: u16, body: &str) -> String {
    let mut message = format!("the server answered {status}");
    if let Some(reason) = reason_phrase(status) {
        message.push(' ');
        message.push_str(reason);
    }
    let detail = one_line(body);
    if !detail.is_empty() {
        message.push_str(": ");
        message.push_str(&detail);
    }
    if status == 401 {
        message.push_str(
            " (credentials: user:pass@ in --server, or --user/EUREKA_USERNAME with EUREKA_PASSWORD)",
        );
    }
    message
}

/// The server's message on one line; HTML error pages say nothing a person needs here.
fn one_line(body: &str) -> String {
    let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("<!doctype") || lower.starts_with("<html") {
        return String::new();
    }
    text
}

fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

/// `Connection refused (os error 111)` → `connection refused`: the OS error number helps no
/// one, and the message continues a sentence.
fn humane(cause: &str) -> String {
    let cause = match cause.rfind(" (os error ") {
        Some(i) if cause.ends_with(')') => &cause[..i],
        _ => cause,
    };
    let mut chars = cause.chars();
    match (chars.next(), chars.next()) {
        // Leave acronyms (`DNS error`) alone.
        (Some(first), Some(second)) if first.is_ascii_uppercase() && !second.is_uppercase() => {
            format!("{}{}", first.to_ascii_lowercase(), &cause[1..])
        }
        _ => cause.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:8761/eureka/";
    const T: Duration = Duration::from_secs(5);

    fn map(e: TransportError, target: Target<'_>) -> CliError {
        CliError::from_transport(&e, &target, URL, T)
    }

    #[test]
    fn connection_failures_exit_4_in_plain_words() {
        let e = map(
            TransportError::Connect("Connection refused (os error 111)".into()),
            Target::Registry,
        );
        assert_eq!(e.kind.exit_code(), 4);
        assert_eq!(e.message, "cannot reach http://127.0.0.1:8761/eureka/: connection refused");
        let e = map(TransportError::Timeout, Target::Registry);
        assert_eq!(e.message, "cannot reach http://127.0.0.1:8761/eureka/: no answer within 5s");
        assert_eq!(humane("DNS error: no such host"), "DNS error: no such host");
    }

    #[test]
    fn not_found_names_what_is_missing() {
        let status = || TransportError::Status { status: 404, body: "whatever\n".into() };
        let e = map(status(), Target::Instance { app: Some("orders"), id: "web-1:orders:8080" });
        assert_eq!((e.kind, e.kind.exit_code()), (Kind::NotFound, 3));
        assert_eq!(e.message, "instance web-1:orders:8080 not found in ORDERS");
        assert_eq!(map(status(), Target::App("billing")).message, "application BILLING not found");
        assert!(map(status(), Target::Registry).message.contains("usually end in /eureka/"));
    }

    #[test]
    fn refusals_exit_5_with_the_servers_message_on_one_line() {
        let e = map(
            TransportError::Status { status: 403, body: "registry not ready:\n  retry\n".into() },
            Target::Registry,
        );
        assert_eq!(e.kind.exit_code(), 5);
        assert_eq!(e.message, "the server answered 403 Forbidden: registry not ready: retry");
        let e = map(TransportError::Status { status: 401, body: String::new() }, Target::Registry);
        assert!(e.message.contains("credentials"), "{}", e.message);
        let e = map(
            TransportError::Status { status: 502, body: "<html><body>nginx</body></html>".into() },
            Target::Registry,
        );
        assert_eq!(e.message, "the server answered 502 Bad Gateway");
        let e = map(TransportError::Status { status: 418, body: "tea".into() }, Target::Registry);
        assert_eq!(e.message, "the server answered 418: tea");
    }

    #[test]
    fn bad_urls_are_usage_errors_and_a_closed_pipe_is_quiet() {
        let e = map(
            TransportError::InvalidUrl { url: "ftp://x".into(), reason: "expected http".into() },
            Target::Registry,
        );
        assert_eq!(e.kind.exit_code(), 2);
        let e = CliError::from_stdout(&io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!((e.kind.exit_code(), e.message.as_str()), (0, ""));
    }
}
