//! What the load counts, per node: requests by kind, errors by kind, lost leases.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// The kinds of request the load sends, each counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Register,
    Renew,
    FullFetch,
    Delta,
    /// The sampler's `GET status`, on counters of its own.
    Status,
}

pub(crate) const KINDS: usize = 5;

/// Counters one node's load shares; read by the sampler.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: [AtomicU64; KINDS],
    pub(crate) connect_errors: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    /// Non-2xx answers by status (a renewal's 404 is a lost lease, counted apart).
    pub(crate) http_errors: Mutex<BTreeMap<u16, u64>>,
    pub(crate) lost_leases: AtomicU64,
    pub(crate) reregistered: AtomicU64,
}

impl Counters {
    pub(crate) fn tally(&self) -> Tally {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Tally {
            registers: get(&self.requests[Kind::Register as usize]),
            renews: get(&self.requests[Kind::Renew as usize]),
            full_fetches: get(&self.requests[Kind::FullFetch as usize]),
            deltas: get(&self.requests[Kind::Delta as usize]),
            connect_errors: get(&self.connect_errors),
            timeouts: get(&self.timeouts),
            http_errors: self.http_errors.lock().expect("counter lock").clone(),
            lost_leases: get(&self.lost_leases),
            reregistered: get(&self.reregistered),
        }
    }
}

/// Counts at one moment (or between two moments, see `Tally::since`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Registrations sent (the initial ones and re-registrations).
    pub registers: u64,
    /// Renewals sent.
    pub renews: u64,
    /// Full fetches sent.
    pub full_fetches: u64,
    /// Delta fetches sent.
    pub deltas: u64,
    /// Connections refused or broken.
    pub connect_errors: u64,
    /// Requests unanswered after [`REQUEST_TIMEOUT`](super::REQUEST_TIMEOUT).
    pub timeouts: u64,
    /// Non-2xx answers by status, a renewal's 404 excepted.
    pub http_errors: BTreeMap<u16, u64>,
    /// Renewals answered 404: the node had lost the lease.
    pub lost_leases: u64,
    /// Re-registrations after a lost lease that the node accepted.
    pub reregistered: u64,
}

impl Tally {
    /// Every request sent.
    pub fn requests(&self) -> u64 {
        self.registers + self.renews + self.full_fetches + self.deltas
    }

    /// Connection errors, timeouts and non-2xx answers (lost leases are counted apart).
    pub fn errors(&self) -> u64 {
        self.connect_errors + self.timeouts + self.http_errors.values().sum::<u64>()
    }

    /// The counts since `earlier`.
    pub(crate) fn since(&self, earlier: &Tally) -> Tally {
        let mut http_errors = self.http_errors.clone();
        for (status, n) in &earlier.http_errors {
            *http_errors.entry(*status).or_default() -= n;
        }
        http_errors.retain(|_, n| *n > 0);
        Tally {
            registers: self.registers - earlier.registers,
            renews: self.renews - earlier.renews,
            full_fetches: self.full_fetches - earlier.full_fetches,
            deltas: self.deltas - earlier.deltas,
            connect_errors: self.connect_errors - earlier.connect_errors,
            timeouts: self.timeouts - earlier.timeouts,
            http_errors,
            lost_leases: self.lost_leases - earlier.lost_leases,
            reregistered: self.reregistered - earlier.reregistered,
        }
    }

    pub(crate) fn add(&mut self, other: &Tally) {
        self.registers += other.registers;
        self.renews += other.renews;
        self.full_fetches += other.full_fetches;
        self.deltas += other.deltas;
        self.connect_errors += other.connect_errors;
        self.timeouts += other.timeouts;
        for (status, n) in &other.http_errors {
            *self.http_errors.entry(*status).or_default() += n;
        }
        self.lost_leases += other.lost_leases;
        self.reregistered += other.reregistered;
    }

    pub(crate) fn error_text(&self) -> String {
        let mut parts = Vec::new();
        if self.connect_errors > 0 {
            parts.push(format!("{} conn", self.connect_errors));
        }
        if self.timeouts > 0 {
            parts.push(format!("{} timeout", self.timeouts));
        }
        for (status, n) in &self.http_errors {
            parts.push(format!("{n}×{status}"));
        }
        if parts.is_empty() {
            "0".to_string()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_since_an_earlier_one_keeps_only_the_difference() {
        let mut earlier = Tally { renews: 5, timeouts: 1, ..Default::default() };
        earlier.http_errors.insert(503, 2);
        let mut later = Tally { renews: 9, timeouts: 1, ..Default::default() };
        later.http_errors.insert(503, 2);
        later.http_errors.insert(500, 1);
        let d = later.since(&earlier);
        assert_eq!((d.renews, d.timeouts, d.errors()), (4, 0, 1));
        assert_eq!(d.http_errors, BTreeMap::from([(500, 1)]));
    }
}
