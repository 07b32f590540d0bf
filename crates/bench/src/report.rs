//! The results: one row per (scenario, metric) with a value per server, the ratios ours/Java
//! and ours/hyper, and the targets. Rendered as a Markdown table (the terminal and
//! `report.md`) and as `report.json`.

use std::fmt::Write as _;

use serde::Serialize;

/// Which server a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Who {
    /// Our server (`eureka-server`).
    Ours,
    /// The Spring Cloud Netflix Eureka server.
    Java,
    /// The bare hyper server answering pre-built bytes.
    Hyper,
    /// The static hickory DNS server holding the DNS scenario's records.
    Hickory,
}

impl Who {
    /// The column name.
    pub fn name(self) -> &'static str {
        match self {
            Who::Ours => "ours",
            Who::Java => "java",
            Who::Hyper => "hyper",
            Who::Hickory => "hickory",
        }
    }
}

/// A target of the issue, on one row.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// ours / `of` ≥ `ratio` (throughputs).
    AtLeast {
        /// The server compared with.
        of: Who,
        /// The smallest acceptable ratio.
        ratio: f64,
    },
    /// ours / `of` ≤ `ratio` (memory).
    AtMost {
        /// The server compared with.
        of: Who,
        /// The largest acceptable ratio.
        ratio: f64,
    },
    /// ours < `limit`, in the row's unit (latency).
    Below {
        /// The exclusive upper bound.
        limit: f64,
    },
}

impl Target {
    fn text(self) -> String {
        match self {
            Target::AtLeast { of, ratio } => format!("≥ {ratio}× {}", of.name()),
            Target::AtMost { of, ratio } => format!("≤ {ratio}× {}", of.name()),
            Target::Below { limit } => format!("< {limit}"),
        }
    }
}

/// One (scenario, metric) row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The scenario, e.g. `renew`.
    pub scenario: String,
    /// The metric with its unit, e.g. `throughput (req/s)`.
    pub metric: String,
    /// Our server's value.
    pub ours: Option<f64>,
    /// The Java server's value.
    pub java: Option<f64>,
    /// The hyper baseline's value.
    pub hyper: Option<f64>,
    /// The hickory DNS baseline's value.
    pub hickory: Option<f64>,
    /// ours / java.
    pub ours_per_java: Option<f64>,
    /// ours / hyper.
    pub ours_per_hyper: Option<f64>,
    /// ours / hickory.
    pub ours_per_hickory: Option<f64>,
    /// The targets on this row.
    pub targets: Vec<Target>,
    /// Whether every target is met; `None` without targets or without the values they need.
    pub met: Option<bool>,
}

impl Row {
    fn value(&self, who: Who) -> Option<f64> {
        match who {
            Who::Ours => self.ours,
            Who::Java => self.java,
            Who::Hyper => self.hyper,
            Who::Hickory => self.hickory,
        }
    }

    fn ratio(&self, of: Who) -> Option<f64> {
        Some(self.ours? / self.value(of).filter(|v| *v > 0.0)?)
    }

    fn check(&self, target: Target) -> Option<bool> {
        match target {
            Target::AtLeast { of, ratio } => Some(self.ratio(of)? >= ratio),
            Target::AtMost { of, ratio } => Some(self.ratio(of)? <= ratio),
            Target::Below { limit } => Some(self.ours? < limit),
        }
    }

    fn finish(&mut self) {
        self.ours_per_java = self.ratio(Who::Java);
        self.ours_per_hyper = self.ratio(Who::Hyper);
        self.ours_per_hickory = self.ratio(Who::Hickory);
        let checks: Option<Vec<bool>> = self.targets.iter().map(|t| self.check(*t)).collect();
        self.met = checks.filter(|c| !c.is_empty()).map(|c| c.iter().all(|ok| *ok));
    }
}

/// Where and how the run happened.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    /// `date -u` at the start.
    pub date: String,
    /// `quick` or `full`.
    pub mode: String,
    /// Logical CPUs.
    pub cores: usize,
    /// `MemTotal`, in GiB.
    pub memory_gib: f64,
    /// The command line.
    pub command: String,
    /// How each server was run.
    pub servers: Vec<String>,
}

/// Every row of a run, in the order first recorded.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Where and how.
    pub meta: Meta,
    /// The rows.
    pub rows: Vec<Row>,
}

impl Report {
    /// An empty report.
    pub fn new(meta: Meta) -> Report {
        Report { meta, rows: Vec::new() }
    }

    fn row(&mut self, scenario: &str, metric: &str) -> &mut Row {
        let at = self.rows.iter().position(|r| r.scenario == scenario && r.metric == metric);
        let at = at.unwrap_or_else(|| {
            self.rows.push(Row {
                scenario: scenario.to_string(),
                metric: metric.to_string(),
                ours: None,
                java: None,
                hyper: None,
                hickory: None,
                ours_per_java: None,
                ours_per_hyper: None,
                ours_per_hickory: None,
                targets: Vec::new(),
                met: None,
            });
            self.rows.len() - 1
        });
        &mut self.rows[at]
    }

    /// Records `who`'s value of `metric` in `scenario`.
    pub fn record(&mut self, scenario: &str, metric: &str, who: Who, value: f64) {
        let row = self.row(scenario, metric);
        match who {
            Who::Ours => row.ours = Some(value),
            Who::Java => row.java = Some(value),
            Who::Hyper => row.hyper = Some(value),
            Who::Hickory => row.hickory = Some(value),
        }
        row.finish();
    }

    /// Attaches a target to a row (creating it empty if the scenario did not run).
    pub fn target(&mut self, scenario: &str, metric: &str, target: Target) {
        if let Some(row) =
            self.rows.iter_mut().find(|r| r.scenario == scenario && r.metric == metric)
        {
            row.targets.push(target);
            row.finish();
        }
    }

    /// The Markdown table. The hickory columns appear only when the DNS scenario ran.
    pub fn table(&self) -> String {
        let hickory = self.rows.iter().any(|r| r.hickory.is_some());
        let (head, rule) =
            if hickory { ("| hickory | ours/hickory ", "---:|---:|") } else { ("", "") };
        let mut out = format!(
            "| scenario | metric | ours | java | hyper | ours/java | ours/hyper {head}| target | met |\n\
             |---|---|---:|---:|---:|---:|---:|{rule}---|---|\n"
        );
        for r in &self.rows {
            let targets: Vec<String> = r.targets.iter().map(|t| t.text()).collect();
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None if r.targets.is_empty() => "",
                None => "n/a",
            };
            let extra = if hickory {
                format!(" {} | {} |", num(r.hickory), ratio(r.ours_per_hickory))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |{extra} {} | {} |",
                r.scenario,
                r.metric,
                num(r.ours),
                num(r.java),
                num(r.hyper),
                ratio(r.ours_per_java),
                ratio(r.ours_per_hyper),
                targets.join(", "),
                met
            );
        }
        out
    }

    /// `report.md`: the table with the date, machine and command.
    pub fn markdown(&self) -> String {
        let m = &self.meta;
        format!(
            "# eureka-bench ({mode})\n\n{date}; {cores} cores, {mem:.0} GiB; `{cmd}`\n\n{table}\n{servers}\n",
            mode = m.mode,
            date = m.date,
            cores = m.cores,
            mem = m.memory_gib,
            cmd = m.command,
            table = self.table(),
            servers = m.servers.iter().map(|s| format!("- {s}\n")).collect::<String>(),
        )
    }
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "–".to_string(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 1.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.3}"),
    }
}

fn ratio(v: Option<f64>) -> String {
    match v {
        None => "–".to_string(),
        Some(v) if v >= 10.0 => format!("{v:.0}×"),
        Some(v) => format!("{v:.2}×"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_targets_follow_the_values() {
        let meta = Meta {
            date: String::new(),
            mode: "quick".into(),
            cores: 2,
            memory_gib: 1.0,
            command: String::new(),
            servers: vec![],
        };
        let mut report = Report::new(meta);
        report.record("renew", "throughput (req/s)", Who::Ours, 800.0);
        report.record("renew", "throughput (req/s)", Who::Hyper, 1000.0);
        report.record("renew", "throughput (req/s)", Who::Java, 100.0);
        report.target(
            "renew",
            "throughput (req/s)",
            Target::AtLeast { of: Who::Hyper, ratio: 0.7 },
        );
        assert_eq!(report.rows[0].met, Some(true));
        report.target(
            "renew",
            "throughput (req/s)",
            Target::AtLeast { of: Who::Java, ratio: 20.0 },
        );
        assert_eq!(report.rows[0].met, Some(false), "8× Java misses 20×");
        assert_eq!(report.rows[0].ours_per_hyper, Some(0.8));
        assert!(report
            .table()
            .contains("| renew | throughput (req/s) | 800 | 100 | 1000 | 8.00× | 0.80× |"));
        assert!(!report.table().contains("hickory"), "no DNS run, no hickory columns");

        let q = "throughput (queries/s)";
        report.record("dns", q, Who::Ours, 45_000.0);
        report.record("dns", q, Who::Hickory, 50_000.0);
        report.target("dns", q, Target::AtLeast { of: Who::Hickory, ratio: 0.7 });
        let table = report.table();
        assert!(table.contains("| ours/hyper | hickory | ours/hickory | target |"), "{table}");
        assert!(table.contains("| dns | throughput (queries/s) | 45000 | – | – | – | – | 50000 | 0.90× | ≥ 0.7× hickory | yes |"), "{table}");
    }
}
