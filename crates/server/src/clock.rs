//! Where the server reads the time from.

use std::time::{SystemTime, UNIX_EPOCH};

/// The source of "now" in epoch milliseconds for every registry call.
///
/// Production reads the wall clock, because `lastDirtyTimestamp` values are compared with
/// clients' wall clocks. Tests use [`Clock::tokio`], which follows tokio's clock so lease expiry
/// and eviction run under `tokio::time::pause()` without sleeping.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The system wall clock.
    System,
    /// The wall-clock time at creation plus tokio's elapsed (pausable) time.
    Tokio {
        /// Epoch ms when the clock was created.
        base_ms: u64,
        /// tokio's instant at creation.
        start: tokio::time::Instant,
    },
}

impl Clock {
    /// A clock driven by tokio's (pausable) time.
    pub fn tokio() -> Self {
        Clock::Tokio { base_ms: system_now_ms(), start: tokio::time::Instant::now() }
    }

    /// The current time in epoch milliseconds.
    pub fn now_ms(&self) -> u64 {
        match self {
            Clock::System => system_now_ms(),
            Clock::Tokio { base_ms, start } => base_ms + start.elapsed().as_millis() as u64,
        }
    }
}

fn system_now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
