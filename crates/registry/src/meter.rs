//! The renews-per-minute meter behind self-preservation.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts renewals in the current minute; [`RenewMeter::tick`] closes the bucket.
///
/// As with Java's `MeasuredRate`, readers only ever see *complete* buckets (the registry keeps
/// the last one), so self-preservation cannot evict during the first minute.
#[derive(Debug, Default)]
pub(crate) struct RenewMeter {
    current: AtomicU64,
}

impl RenewMeter {
    pub(crate) fn record(&self) {
        self.current.fetch_add(1, Ordering::Relaxed);
    }

    /// Closes the current bucket and returns its count.
    pub(crate) fn tick(&self) -> u64 {
        self.current.swap(0, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_returns_the_bucket_and_starts_a_new_one() {
        let m = RenewMeter::default();
        m.record();
        m.record();
        assert_eq!(m.tick(), 2);
        m.record();
        assert_eq!(m.tick(), 1);
        assert_eq!(m.tick(), 0);
    }
}
