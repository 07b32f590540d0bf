//! Running Debian's `dig` (bind9-dnsutils) against a server and reading its answer.

use std::net::SocketAddr;
use std::process::Command;

/// One `dig` answer: the header's status and flags, and the records of each section.
#[derive(Debug, Clone)]
pub struct Dig {
    /// `NOERROR`, `NXDOMAIN`, …
    pub status: String,
    /// Header flags: `qr`, `aa`, `tc`, `rd`, …
    pub flags: Vec<String>,
    /// The answer section.
    pub answers: Vec<Rr>,
    /// The authority section.
    pub authority: Vec<Rr>,
    /// The additional section (without the OPT pseudo-record, which dig shows apart).
    pub additional: Vec<Rr>,
    /// The whole output, for failure messages.
    pub text: String,
}

/// A record as dig prints it: `name ttl class type data…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    /// Owner name, with the final dot.
    pub name: String,
    /// TTL, seconds.
    pub ttl: u32,
    /// Type, e.g. `A`.
    pub rtype: String,
    /// The data, as printed (TXT strings keep their quotes).
    pub data: String,
}

impl Dig {
    /// Whether the header has `flag` (`aa`, `tc`).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// The data of the answers of type `rtype`, sorted.
    pub fn data(&self, rtype: &str) -> Vec<String> {
        let mut data: Vec<String> =
            self.answers.iter().filter(|r| r.rtype == rtype).map(|r| r.data.clone()).collect();
        data.sort();
        data
    }
}

/// `dig @addr -p port ARGS…` with a 2 s timeout and one try; panics with dig's output when it
/// cannot get an answer, and with the package to install when dig is missing (tests that need
/// dig must fail, not pass, without it).
pub async fn dig(addr: SocketAddr, args: &[&str]) -> Dig {
    let mut command = Command::new("dig");
    command
        .arg(format!("@{}", addr.ip()))
        .arg("-p")
        .arg(addr.port().to_string())
        .args(["+time=2", "+tries=1"])
        .args(args);
    let shown = format!("dig @{} -p {} {}", addr.ip(), addr.port(), args.join(" "));
    let output = tokio::task::spawn_blocking(move || command.output()).await.expect("dig task");
    let output = match output {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`dig` is not installed: install Debian's bind9-dnsutils \
             (`apt-get install bind9-dnsutils`; scripts/test does it when run as root)"
        ),
        Err(e) => panic!("{shown}: {e}"),
    };
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{shown} failed ({}):\n{text}", output.status);
    parse(&text).unwrap_or_else(|| panic!("{shown}: unreadable output:\n{text}"))
}

fn parse(text: &str) -> Option<Dig> {
    let status = text
        .lines()
        .find_map(|l| l.split_once("status: "))
        .map(|(_, rest)| rest.split(',').next().unwrap_or_default().to_string())?;
    let flags = text
        .lines()
        .find_map(|l| l.strip_prefix(";; flags: "))
        .map(|rest| rest.split(';').next().unwrap_or_default())
        .map(|f| f.split_whitespace().map(str::to_string).collect())?;
    Some(Dig {
        status,
        flags,
        answers: section(text, ";; ANSWER SECTION:"),
        authority: section(text, ";; AUTHORITY SECTION:"),
        additional: section(text, ";; ADDITIONAL SECTION:"),
        text: text.to_string(),
    })
}

fn section(text: &str, title: &str) -> Vec<Rr> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(title));
    lines.next();
    lines
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let mut fields = l.split_whitespace();
            let name = fields.next()?.to_string();
            let ttl = fields.next()?.parse().ok()?;
            let _class = fields.next()?;
            let rtype = fields.next()?.to_string();
            let data = fields.collect::<Vec<_>>().join(" ");
            Some(Rr { name, ttl, rtype, data })
        })
        .collect()
}
