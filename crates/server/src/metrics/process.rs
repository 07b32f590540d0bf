//! The process's own figures (memory, CPU, file descriptors, threads), read from `/proc` when
//! scraped, under the names every Prometheus client library uses (`process_*`), so existing
//! dashboards and alerts apply. The `procfs` crate reads and parses `/proc`; this file picks
//! the figures and converts their units.
//!
//! Off Linux, or where `/proc` cannot be read, each figure is simply absent: a scrape never
//! fails for want of one.

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
        #[cfg(target_os = "linux")]
        {
            linux::read()
        }
        #[cfg(not(target_os = "linux"))]
        {
            ProcessStats::default()
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use procfs::process::{LimitValue, Process, Stat};

    use super::ProcessStats;

    /// What `/proc` says about this process, each part `None` when it could not be read.
    pub(super) struct Readings {
        pub(super) stat: Option<Stat>,
        /// `VmRSS` of `/proc/self/status`, in kB.
        pub(super) rss_kb: Option<u64>,
        /// The soft `Max open files` of `/proc/self/limits`.
        pub(super) max_open_files: Option<LimitValue>,
        pub(super) open_fds: Option<usize>,
        /// `btime` of `/proc/stat`: boot time, seconds since the epoch.
        pub(super) boot_time: Option<u64>,
        /// What `/proc` counts CPU time in (`sysconf(_SC_CLK_TCK)`).
        pub(super) ticks_per_second: u64,
    }

    pub(super) fn read() -> ProcessStats {
        let Ok(me) = Process::myself() else {
            return ProcessStats::default();
        };
        figures(Readings {
            stat: me.stat().ok(),
            rss_kb: me.status().ok().and_then(|s| s.vmrss),
            max_open_files: me.limits().ok().map(|l| l.max_open_files.soft_limit),
            open_fds: me.fd_count().ok(),
            boot_time: procfs::boot_time_secs().ok(),
            ticks_per_second: procfs::ticks_per_second(),
        })
    }

    /// The figures in Prometheus's units: seconds and bytes.
    pub(super) fn figures(r: Readings) -> ProcessStats {
        let ticks = r.ticks_per_second.max(1) as f64;
        let stat = r.stat.as_ref();
        ProcessStats {
            cpu_seconds: stat.map(|s| (s.utime + s.stime) as f64 / ticks),
            resident_bytes: r.rss_kb.map(|kb| kb * 1024),
            virtual_bytes: stat.map(|s| s.vsize),
            open_fds: r.open_fds.map(|n| n as u64),
            max_fds: match r.max_open_files {
                Some(LimitValue::Value(n)) => Some(n),
                Some(LimitValue::Unlimited) | None => None,
            },
            threads: stat.and_then(|s| u64::try_from(s.num_threads).ok()),
            start_time_seconds: stat
                .zip(r.boot_time)
                .map(|(s, boot)| boot as f64 + s.starttime as f64 / ticks),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn figures_are_converted_to_seconds_and_bytes() {
        use procfs::process::{Limits, Stat};
        use procfs::FromRead;

        // The command name may itself hold spaces and parentheses.
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 2087 0 0 0 \
                    250 75 0 0 20 0 9 0 123400 987654321 3000 18446744073709551615 \
                    1 1 0 0 0 0 0 4096 17663 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        let stat = Stat::from_read(stat.as_bytes()).expect("stat parses");
        let limits = |open_files: &str| {
            let text = format!(
                "Limit                     Soft Limit           Hard Limit           Units\n\
                 Max cpu time              unlimited            unlimited            seconds\n\
                 Max file size             unlimited            unlimited            bytes\n\
                 Max data size             unlimited            unlimited            bytes\n\
                 Max stack size            8388608              unlimited            bytes\n\
                 Max core file size        0                    unlimited            bytes\n\
                 Max resident set          unlimited            unlimited            bytes\n\
                 Max processes             95712                95712                processes\n\
                 Max open files            {open_files:<20} 524288               files\n\
                 Max locked memory         8388608              8388608              bytes\n\
                 Max address space         unlimited            unlimited            bytes\n\
                 Max file locks            unlimited            unlimited            locks\n\
                 Max pending signals       95712                95712                signals\n\
                 Max msgqueue size         819200               819200               bytes\n\
                 Max nice priority         0                    0\n\
                 Max realtime priority     0                    0\n\
                 Max realtime timeout      unlimited            unlimited            us\n"
            );
            Limits::from_read(text.as_bytes()).expect("limits parse").max_open_files.soft_limit
        };
        let stats = linux::figures(linux::Readings {
            stat: Some(stat),
            rss_kb: Some(2048),
            max_open_files: Some(limits("1024")),
            open_fds: Some(12),
            boot_time: Some(1_700_000_000),
            ticks_per_second: 100,
        });
        assert_eq!(
            stats,
            ProcessStats {
                cpu_seconds: Some(3.25),
                resident_bytes: Some(2048 * 1024),
                virtual_bytes: Some(987_654_321),
                open_fds: Some(12),
                max_fds: Some(1024),
                threads: Some(9),
                start_time_seconds: Some(1_700_001_234.0),
            }
        );
        let unlimited = linux::figures(linux::Readings {
            stat: None,
            rss_kb: None,
            max_open_files: Some(limits("unlimited")),
            open_fds: None,
            boot_time: Some(1_700_000_000),
            ticks_per_second: 100,
        });
        assert_eq!(unlimited, ProcessStats::default(), "unlimited and unread figures are absent");
        assert!(Stat::from_read("garbage".as_bytes()).is_err());
    }

    #[test]
    fn reading_this_process_never_fails() {
        let stats = ProcessStats::read();
        if cfg!(target_os = "linux") {
            assert!(stats.resident_bytes.is_some_and(|b| b > 0), "{stats:?}");
            assert!(stats.open_fds.is_some_and(|n| n > 0), "{stats:?}");
            assert!(stats.cpu_seconds.is_some(), "{stats:?}");
            assert!(stats.start_time_seconds.is_some_and(|t| t > 1.0e9), "{stats:?}");
            assert!(stats.threads.is_some_and(|n| n > 0), "{stats:?}");
        }
    }
}
