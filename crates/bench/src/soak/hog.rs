//! Competing CPU-bound processes, for a soak run on a deliberately overloaded machine
//! (`eureka-soak --cpu-hogs N`): each is this very binary re-run with [`BURN_FLAG`], spinning
//! on one core until it is stopped or its own time limit passes, so a crashed soak leaves
//! nothing burning.

use std::hint::black_box;
use std::time::Duration;

use anyhow::Context;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The hidden flag that turns `eureka-soak` into a CPU hog for the given number of seconds.
pub const BURN_FLAG: &str = "--burn-cpu-for";

/// Running hogs; dropping them kills them.
pub struct Hogs {
    children: Vec<Child>,
}

impl Hogs {
    /// Starts `n` hogs of the current executable, each stopping by itself after `limit`.
    pub fn start(n: usize, limit: Duration) -> anyhow::Result<Hogs> {
        let exe = std::env::current_exe().context("find the soak's own executable")?;
        let children = (0..n)
            .map(|_| {
                Command::new(&exe)
                    .arg(BURN_FLAG)
                    .arg(limit.as_secs().max(1).to_string())
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                    .context("start a CPU hog")
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Hogs { children })
    }

    /// How many run.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// Kills every hog and reaps it.
    pub async fn stop(mut self) {
        for child in &mut self.children {
            let _ = child.kill().await;
        }
    }
}

/// Spins one core until `limit` has passed (the body of a hog process).
pub fn burn(limit: Duration) {
    let end = Instant::now() + limit;
    let mut x: u64 = 1;
    while Instant::now() < end {
        for _ in 0..100_000 {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

/// The 1-minute load average (`/proc/loadavg`), when the system tells it.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burn_stops_by_itself() {
        let started = Instant::now();
        burn(Duration::from_millis(50));
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(50) && took < Duration::from_secs(5), "{took:?}");
    }
}
