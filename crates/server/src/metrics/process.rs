//! The process's own figures (memory, CPU, file descriptors, threads), read from `/proc` when
//! scraped, under the names every Prometheus client library uses (`process_*`), so existing
//! dashboards and alerts apply.
//!
//! Off Linux, or where `/proc` cannot be read, each figure is simply absent: a scrape never
//! fails for want of one.

use std::fs;

/// `/proc` counts CPU time in `USER_HZ` ticks, a fixed 100 per second on every Linux
/// architecture Rust targets (it is not the kernel's `HZ`); reading it needs no `sysconf`.
const USER_HZ: f64 = 100.0;

/// What could be read about this process; `None` where a figure is unavailable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessStats {
    /// User plus system CPU time, seconds.
    pub cpu_seconds: Option<f64>,
    /// Resident set size, bytes.
    pub resident_bytes: Option<u64>,
    /// Virtual memory size, bytes.
    pub virtual_bytes: Option<u64>,
    /// Open file descriptors.
    pub open_fds: Option<u64>,
    /// The soft limit on open file descriptors (`None` when unlimited).
    pub max_fds: Option<u64>,
    /// OS threads.
    pub threads: Option<u64>,
    /// When the process started, seconds since the Unix epoch.
    pub start_time_seconds: Option<f64>,
}

impl ProcessStats {
    /// Reads this process's figures from `/proc/self`.
    pub fn read() -> Self {
        let stat = fs::read_to_string("/proc/self/stat").ok();
        let stat = stat.as_deref().and_then(parse_stat);
        let boot_time = fs::read_to_string("/proc/stat").ok().as_deref().and_then(parse_boot_time);
        ProcessStats {
            cpu_seconds: stat.map(|s| (s.utime + s.stime) as f64 / USER_HZ),
            resident_bytes: fs::read_to_string("/proc/self/status")
                .ok()
                .as_deref()
                .and_then(parse_vm_rss),
            virtual_bytes: stat.map(|s| s.vsize),
            open_fds: fs::read_dir("/proc/self/fd").ok().map(|dir| dir.count() as u64),
            max_fds: fs::read_to_string("/proc/self/limits")
                .ok()
                .as_deref()
                .and_then(parse_max_open_files),
            threads: stat.map(|s| s.threads),
            start_time_seconds: stat
                .zip(boot_time)
                .map(|(s, boot)| boot as f64 + s.start_ticks as f64 / USER_HZ),
        }
    }
}

/// The fields of `/proc/self/stat` we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    utime: u64,
    stime: u64,
    threads: u64,
    start_ticks: u64,
    vsize: u64,
}

/// Parses `/proc/[pid]/stat`. The command name (field 2) is in parentheses and may itself
/// contain spaces and parentheses, so fields are counted from its *last* `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `fields[0]` is field 3 (state) of proc(5); field N is `fields[N - 3]`.
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some(Stat {
        utime: field(14)?,
        stime: field(15)?,
        threads: field(20)?,
        start_ticks: field(22)?,
        vsize: field(23)?,
    })
}

/// `VmRSS:  12345 kB` from `/proc/[pid]/status`, in bytes.
fn parse_vm_rss(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The soft limit from the `Max open files` row of `/proc/[pid]/limits`.
fn parse_max_open_files(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files").split_whitespace().next()?.parse().ok()
}

/// `btime` (boot time, epoch seconds) from `/proc/stat`.
fn parse_boot_time(text: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 2087 0 0 0 \
                    250 75 0 0 20 0 9 0 123456 987654321 3000 18446744073709551615";
        let stat = parse_stat(line).unwrap();
        assert_eq!(
            stat,
            Stat { utime: 250, stime: 75, threads: 9, start_ticks: 123456, vsize: 987654321 }
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None, "too few fields");
    }

    #[test]
    fn status_limits_and_boot_time() {
        assert_eq!(parse_vm_rss("Name:\tx\nVmRSS:\t    2048 kB\n"), Some(2048 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_open_files(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_max_open_files(unlimited), None);
        assert_eq!(
            parse_boot_time("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n"),
            Some(1_700_000_000)
        );
    }

    #[test]
    fn reading_this_process_never_fails() {
        let stats = ProcessStats::read();
        if cfg!(target_os = "linux") {
            assert!(stats.resident_bytes.is_some_and(|b| b > 0), "{stats:?}");
            assert!(stats.open_fds.is_some_and(|n| n > 0), "{stats:?}");
            assert!(stats.cpu_seconds.is_some(), "{stats:?}");
            assert!(stats.start_time_seconds.is_some_and(|t| t > 1.0e9), "{stats:?}");
        }
    }
}
