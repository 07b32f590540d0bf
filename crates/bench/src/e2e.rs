//! The end-to-end scenario (`eureka-e2e`): what a registry's freshness is worth to the
//! applications people run. A Spring Boot caller calls a service of three Spring Boot
//! instances through a `@LoadBalanced` `RestClient` at a steady rate
//! (`harness/real-clients/spring-push`); one instance then goes away by `kill -9`, by a drain
//! (OUT_OF_SERVICE) or by SIGTERM, and the caller's own log says until when it still sent
//! calls to that instance and how many calls failed.
//!
//! Each set-up runs on one registry process; after each event the gone instance is replaced by
//! a new one and the next event waits until the caller calls all three again.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use eureka_testkit::real::{epoch_ms, Ready, SpringApp};
use http_body_util::Full;
use hyper::header::HOST;
use hyper::{Method, Request};

use crate::load::Conn;
use crate::process::{self, ServerProcess};

/// Which registry a set-up runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registry {
    /// `eureka-server` of this repository.
    Ours,
    /// The Spring Cloud Netflix Eureka server (`SPRING_SERVER_CMD` of the READY file).
    Java,
}

/// One column of the table: a registry and whether the applications use the starter.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// `1`, `2` or `3`, as the issue numbers them.
    pub key: &'static str,
    /// The column heading.
    pub label: &'static str,
    /// The registry.
    pub registry: Registry,
    /// Whether the starter is on (`eureka.client.push.enabled`) in every application.
    pub push: bool,
}

/// The three set-ups compared.
pub const SETUPS: [Setup; 3] = [
    Setup {
        key: "1",
        label: "(1) eureka-rs + health checks + starter",
        registry: Registry::Ours,
        push: true,
    },
    Setup {
        key: "2",
        label: "(2) eureka-rs, stock clients",
        registry: Registry::Ours,
        push: false,
    },
    Setup {
        key: "3",
        label: "(3) Spring Cloud Eureka server, stock clients",
        registry: Registry::Java,
        push: false,
    },
];

/// How the instance goes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `kill -9`: no goodbye; only the registry's health checks or the lease notice.
    Kill,
    /// `POST …/drain` on eureka-rs, `PUT …/status?value=OUT_OF_SERVICE` on the Java server
    /// (which has no drain); the instance keeps serving.
    Drain,
    /// SIGTERM: Spring Boot's graceful shutdown (and the starter's, when it is there).
    Term,
}

impl Event {
    /// All events, in table order.
    pub const ALL: [Event; 3] = [Event::Kill, Event::Drain, Event::Term];

    /// The short name (`kill`, `drain`, `term`) used on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Event::Kill => "kill",
            Event::Drain => "drain",
            Event::Term => "term",
        }
    }

    /// The row heading.
    pub fn label(self) -> &'static str {
        match self {
            Event::Kill => "(a) kill -9",
            Event::Drain => "(b) drain (OUT_OF_SERVICE)",
            Event::Term => "(c) SIGTERM",
        }
    }
}

/// One repetition of one event.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Milliseconds from the event to the start of the last call the caller sent to the
    /// instance (0 if none followed); `None` if it still sent calls at the cap.
    pub stopped_ms: Option<u64>,
    /// Calls that failed from the event on.
    pub failed: u64,
    /// Calls from the event until the measurement ended.
    pub calls: u64,
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct Params {
    /// The caller's calls per second.
    pub rate: u32,
    /// How long after the event the measurement gives up.
    pub cap: Duration,
    /// Without a call to the instance for this long, the caller has stopped sending to it
    /// (longer than the caller's connect + read timeouts, 1 s + 2 s).
    pub quiet: Duration,
    /// How long the next event waits for the caller to call all three instances again.
    pub settle: Duration,
    /// Extra `--set KEY=VALUE` settings of eureka-rs in set-up (1) (its health checks).
    pub ours_extra: Vec<String>,
    /// The `eureka-server` binary.
    pub ours_bin: PathBuf,
    /// Where process logs go.
    pub logs: PathBuf,
}

/// The service's application name.
const SERVICE: &str = "svc";

/// One set-up: its registry, three instances and a caller.
struct Stage<'a> {
    setup: Setup,
    params: &'a Params,
    ready: &'a Ready,
    registry: ServerProcess,
    url: String,
    instances: Vec<SpringApp>,
    caller: SpringApp,
    started: usize,
}

/// Runs `events` `reps` times under `setup`; the samples per event, in `events` order.
pub async fn run_setup(
    setup: Setup,
    events: &[Event],
    reps: usize,
    params: &Params,
    ready: &Ready,
) -> anyhow::Result<Vec<Vec<Sample>>> {
    let mut stage = Stage::start(setup, params, ready).await?;
    let mut samples = vec![Vec::new(); events.len()];
    for rep in 0..reps {
        for (i, &event) in events.iter().enumerate() {
            stage.settle().await?;
            let s = stage.case(event).await?;
            eprintln!(
                "  {} {} #{}: stopped {} ms, {} of {} calls failed",
                setup.key,
                event.key(),
                rep + 1,
                s.stopped_ms.map_or(format!(">{}", params.cap.as_millis()), |m| m.to_string()),
                s.failed,
                s.calls
            );
            samples[i].push(s);
        }
    }
    stage.registry.stop().await;
    Ok(samples)
}

impl<'a> Stage<'a> {
    async fn start(setup: Setup, params: &'a Params, ready: &'a Ready) -> anyhow::Result<Self> {
        let port = process::free_port();
        let log = params.logs.join(format!("e2e-{}-registry.log", setup.key));
        let (program, args, startup) = match setup.registry {
            Registry::Ours => {
                let mut args = vec!["--port".to_string(), port.to_string()];
                let mut set = vec!["eureka.server.enable-self-preservation=false".to_string()];
                if setup.push {
                    set.extend(params.ours_extra.iter().cloned());
                }
                for kv in set {
                    args.extend(["--set".to_string(), kv]);
                }
                (params.ours_bin.display().to_string(), args, Duration::from_secs(20))
            }
            Registry::Java => {
                let mut parts = ready.get("SPRING_SERVER_CMD").split(' ').map(str::to_string);
                let program = parts.next().context("empty SPRING_SERVER_CMD")?;
                let mut args: Vec<String> = parts.collect();
                args.push(format!("--server.port={port}"));
                args.extend(java_stock_settings());
                (program, args, Duration::from_secs(180))
            }
        };
        let registry = ServerProcess::start_shared(&program, &args, port, &log, startup).await?;
        let url = format!("http://127.0.0.1:{port}/eureka/");
        let mut caller_args = app_args(setup, &url);
        caller_args.push(format!("--harness.call={SERVICE}"));
        caller_args.push(format!("--harness.rate={}", params.rate));
        let log = params.logs.join(format!("e2e-{}-caller.log", setup.key));
        let caller = SpringApp::start(
            ready,
            "SPRING_PUSH3_CMD",
            "caller",
            process::free_port(),
            &caller_args,
            log,
        );
        let mut stage = Stage {
            setup,
            params,
            ready,
            registry,
            url,
            instances: Vec::new(),
            caller,
            started: 0,
        };
        for _ in 0..3 {
            stage.add_instance();
        }
        for app in stage.instances.iter().chain([&stage.caller]) {
            app.wait_for(0, "READY", Duration::from_secs(180), |l| l.starts_with("READY ")).await;
        }
        Ok(stage)
    }

    fn add_instance(&mut self) {
        self.started += 1;
        let log = self.params.logs.join(format!("e2e-{}-svc{}.log", self.setup.key, self.started));
        let app = SpringApp::start(
            self.ready,
            "SPRING_PUSH3_CMD",
            SERVICE,
            process::free_port(),
            &app_args(self.setup, &self.url),
            log,
        );
        self.instances.push(app);
    }

    /// Waits until two seconds of the caller's calls all succeeded and reached all three
    /// instances, and only them.
    async fn settle(&self) -> anyhow::Result<()> {
        let want: BTreeSet<u16> = self.instances.iter().map(|a| a.port).collect();
        for app in &self.instances {
            app.wait_for(0, "READY", Duration::from_secs(180), |l| l.starts_with("READY ")).await;
        }
        let deadline = epoch_ms() + millis(self.params.settle);
        let mut from = 0;
        loop {
            let now = epoch_ms();
            let lines = self.caller.lines_from(from);
            from += lines.len().saturating_sub(2000);
            let recent: Vec<Call> = lines
                .iter()
                .filter_map(|l| Call::parse(l))
                // Two seconds that ended a second ago: a call is logged when it ends.
                .filter(|c| c.started + 3000 >= now && c.started + 1000 < now)
                .collect();
            let seen: BTreeSet<u16> =
                recent.iter().filter(|c| c.ok).filter_map(|c| c.port).collect();
            // Also nothing failed and nothing went elsewhere: a gone instance the caller still
            // chooses (stock clients, minutes after a kill -9) would spoil the next event.
            let clean = recent.iter().all(|c| c.ok && c.port.is_some_and(|p| want.contains(&p)));
            if seen == want && clean {
                return Ok(());
            }
            if now > deadline {
                bail!(
                    "set-up {}: the caller calls {seen:?}, not {want:?}, after {:?}; see {}",
                    self.setup.key,
                    self.params.settle,
                    self.caller.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// One event on the oldest instance, measured, then that instance replaced.
    async fn case(&mut self, event: Event) -> anyhow::Result<Sample> {
        let mut gone = self.instances.remove(0);
        let mark = self.caller.mark();
        let t0 = epoch_ms();
        match event {
            Event::Kill => gone.signal("KILL"),
            Event::Term => gone.signal("TERM"),
            Event::Drain => self.drain(&gone).await?,
        }
        let sample = self.measure(gone.port, mark, t0).await;
        // The instance is done with: a drained one is killed and stays registered
        // OUT_OF_SERVICE until its lease runs out, which no caller notices.
        if event == Event::Drain {
            gone.signal("KILL");
        }
        if !gone.exited_within(Duration::from_secs(30)).await {
            gone.signal("KILL");
            gone.exited_within(Duration::from_secs(10)).await;
        }
        // And forgotten by the registry (cancelled; a 404 if it already is): dead instances
        // piling up would count as failing health checks, and enough of them make the server
        // suspect its own network and mark nothing DOWN.
        let path = format!("/eureka/apps/SVC/{}", gone.id);
        if let Ok(mut conn) = Conn::open(self.registry.addr).await {
            let _ = conn.send(request(self.registry.addr, Method::DELETE, &path)).await;
        }
        drop(gone);
        self.add_instance();
        Ok(sample)
    }

    async fn drain(&self, app: &SpringApp) -> anyhow::Result<()> {
        let path = match self.setup.registry {
            Registry::Ours => format!("/eureka/apps/SVC/{}/drain?wait=5", app.id),
            Registry::Java => format!("/eureka/apps/SVC/{}/status?value=OUT_OF_SERVICE", app.id),
        };
        let method = match self.setup.registry {
            Registry::Ours => Method::POST,
            Registry::Java => Method::PUT,
        };
        let addr = self.registry.addr;
        let mut conn = Conn::open(addr).await?;
        let (status, body) = conn.send(request(addr, method, &path)).await?;
        if !status.is_success() {
            bail!("{path}: HTTP {status}: {}", String::from_utf8_lossy(&body));
        }
        Ok(())
    }

    /// Reads the caller's calls from `mark` on until none went to `port` for the quiet time.
    async fn measure(&self, port: u16, mark: usize, t0: u64) -> Sample {
        let quiet = millis(self.params.quiet);
        let cap = millis(self.params.cap);
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let now = epoch_ms();
            let calls: Vec<Call> = self
                .caller
                .lines_from(mark)
                .iter()
                .filter_map(|l| Call::parse(l))
                .filter(|c| c.started >= t0)
                .collect();
            let last = calls.iter().filter(|c| c.port == Some(port)).map(|c| c.started).max();
            let stopped = last.map_or(0, |l| l - t0);
            let done = now.saturating_sub(t0 + stopped) >= quiet;
            if done || now - t0 >= cap {
                return Sample {
                    stopped_ms: done.then_some(stopped),
                    failed: calls.iter().filter(|c| !c.ok).count() as u64,
                    calls: calls.len() as u64,
                };
            }
        }
    }
}

/// The settings every application of `setup` gets: the registry, and the starter off for
/// stock clients. Everything else is Spring's default (30 s fetches, 35 s load balancer cache).
fn app_args(setup: Setup, url: &str) -> Vec<String> {
    let mut args = vec![format!("--eureka.client.service-url.defaultZone={url}")];
    if !setup.push {
        args.push("--eureka.client.push.enabled=false".into());
    }
    args
}

/// The Spring server's production defaults where the test harness's `application.yml` speeds
/// it up (response cache, eviction and renewal timers). Self-preservation stays off, as on
/// eureka-rs: with four instances one lost lease would otherwise keep it forever.
fn java_stock_settings() -> Vec<String> {
    [
        "--eureka.server.use-read-only-response-cache=true",
        "--eureka.server.response-cache-update-interval-ms=30000",
        "--eureka.server.eviction-interval-timer-in-ms=60000",
        "--eureka.server.expected-client-renewal-interval-seconds=30",
        "--eureka.server.renewal-threshold-update-interval-ms=900000",
        "--eureka.server.delta-retention-timer-interval-in-ms=30000",
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}

fn request(addr: SocketAddr, method: Method, path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, addr.to_string())
        .header("Accept", "application/json")
        .body(Full::new(Bytes::new()))
        .expect("a valid request")
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One `CALL ms OK port` / `CALL ms FAIL port|- reason` line of the caller.
#[derive(Debug, Clone, Copy)]
struct Call {
    started: u64,
    ok: bool,
    port: Option<u16>,
}

impl Call {
    fn parse(line: &str) -> Option<Call> {
        let mut f = line.strip_prefix("CALL ")?.split(' ');
        let started = f.next()?.parse().ok()?;
        let ok = f.next()? == "OK";
        let port = f.next().and_then(|p| p.parse().ok());
        Some(Call { started, ok, port })
    }
}

/// The median and the maximum of `values` (for an even count, the lower of the two middle
/// values: a measured one).
pub fn median_max<T: Ord + Copy>(values: &[T]) -> Option<(T, T)> {
    let mut v = values.to_vec();
    v.sort();
    Some((*v.get(v.len().checked_sub(1)? / 2)?, *v.last()?))
}

/// The markdown table: a row per event, a column per set-up, each cell "stop time median
/// (max); failed calls median (max)".
pub fn table(
    setups: &[Setup],
    events: &[Event],
    results: &[Vec<Vec<Sample>>],
    cap: Duration,
) -> String {
    let mut out = String::from("| event |");
    for s in setups {
        out.push_str(&format!(" {} |", s.label));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(setups.len()));
    out.push('\n');
    for (e, event) in events.iter().enumerate() {
        out.push_str(&format!("| {} |", event.label()));
        for r in results {
            let samples = &r[e];
            // None (beyond the cap) is the largest.
            let keyed: Vec<(bool, u64)> = samples
                .iter()
                .map(|s| (s.stopped_ms.is_none(), s.stopped_ms.unwrap_or(0)))
                .collect();
            let failed: Vec<u64> = samples.iter().map(|s| s.failed).collect();
            let cell = match (median_max(&keyed), median_max(&failed)) {
                (Some((m, x)), Some((fm, fx))) => format!(
                    " {} (max {}); {fm} failed (max {fx}); n={} |",
                    secs(m, cap),
                    secs(x, cap),
                    samples.len()
                ),
                _ => " – |".to_string(),
            };
            out.push_str(&cell);
        }
        out.push('\n');
    }
    out
}

fn secs((beyond, ms): (bool, u64), cap: Duration) -> String {
    if beyond {
        format!("> {} s", cap.as_secs())
    } else if ms < 10_000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// Writes `text` to `path`, creating its folder.
pub fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text).with_context(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_lines_name_the_chosen_port_for_failures_too() {
        let ok = Call::parse("CALL 1700000000123 OK 8081").expect("ok line");
        assert_eq!((ok.started, ok.ok, ok.port), (1_700_000_000_123, true, Some(8081)));
        let failed =
            Call::parse("CALL 5 FAIL 8082 ResourceAccessException: I/O error").expect("fail");
        assert_eq!((failed.ok, failed.port), (false, Some(8082)));
        let unknown = Call::parse("CALL 5 FAIL - IllegalStateException: no instances").expect("-");
        assert_eq!(unknown.port, None);
        assert!(Call::parse("VIEW DC 5 -").is_none());
    }

    #[test]
    fn cells_hold_the_median_and_the_maximum_and_say_when_the_cap_was_reached() {
        assert_eq!(median_max(&[3, 1, 2]), Some((2, 3)));
        assert_eq!(median_max(&[4, 1]), Some((1, 4)));
        assert_eq!(median_max::<u64>(&[]), None);
        let sample = |stopped_ms, failed| Sample { stopped_ms, failed, calls: 100 };
        let results = vec![vec![vec![sample(Some(120), 0), sample(None, 7), sample(Some(90), 1)]]];
        let table = table(&SETUPS[..1], &[Event::Kill], &results, Duration::from_secs(300));
        assert!(
            table.contains("| (a) kill -9 | 120 ms (max > 300 s); 1 failed (max 7); n=3 |"),
            "{table}"
        );
    }
}
