//! Java's registry-fetch rate limiter (`RateLimitingFilter`), off unless
//! `eureka.server.rate-limiter-enabled`.
//!
//! Two token buckets shared by every caller: one for all fetches (`GET apps`, `apps/delta`,
//! `apps/{APP}`) at `registry-fetch-average-rate` per second, one more for full fetches at
//! `full-fetch-average-rate`, each holding `burst-size` tokens. A full fetch takes a token from
//! both (and keeps the first if the second is empty, as Java does). Callers naming themselves
//! `DefaultClient` or `DefaultServer` in `DiscoveryIdentity-Name` (every Java client and
//! server), or one of `rate-limiter-privileged-clients`, pass untouched unless
//! `throttle-standard-clients`. A throttled fetch is answered 503, which Java clients take as
//! "try another server". When the limiter is off none of this runs (Java's filter would still
//! count what it would refuse, where it is installed at all: Netflix's `web.xml` ships its
//! mapping commented out, and Spring Cloud's server does not install it).

use std::collections::BTreeSet;

use parking_lot::Mutex;

use crate::config::RateLimiterSettings;

/// `DiscoveryIdentity-Name`s that are never throttled unless `throttle-standard-clients`.
pub const STANDARD_CLIENTS: [&str; 2] = ["DefaultClient", "DefaultServer"];

/// Which limited fetch a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// `GET apps`.
    Full = 0,
    /// `GET apps/delta`.
    Delta = 1,
    /// `GET apps/{APP}`.
    Application = 2,
}

impl Fetch {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Fetch::Full => "full",
            Fetch::Delta => "delta",
            Fetch::Application => "application",
        }
    }
}

/// Java's `RateLimiter`: a count of consumed tokens, refilled by whole tokens as time passes.
#[derive(Debug, Default)]
struct Bucket {
    /// (consumed tokens, time of the last refill in ms; 0 before the first call).
    state: Mutex<(u64, u64)>,
}

impl Bucket {
    /// Takes a token at `now_ms` if one is left; a zero burst or rate lets everything pass.
    fn acquire(&self, burst: u32, rate_per_sec: u32, now_ms: u64) -> bool {
        if burst == 0 || rate_per_sec == 0 {
            return true;
        }
        let (burst, rate) = (u64::from(burst), u64::from(rate_per_sec));
        let mut state = self.state.lock();
        let (consumed, last_refill) = &mut *state;
        let new_tokens = now_ms.saturating_sub(*last_refill).saturating_mul(rate) / 1000;
        if new_tokens > 0 {
            // Time is spent in whole tokens, so fractions carry over to the next call.
            *last_refill = if *last_refill == 0 {
                now_ms
            } else {
                *last_refill + new_tokens.saturating_mul(1000) / rate
            };
            *consumed = (*consumed).min(burst).saturating_sub(new_tokens);
        }
        if *consumed >= burst {
            return false;
        }
        *consumed += 1;
        true
    }
}

/// The limiter: settings and the two shared buckets.
#[derive(Debug)]
pub struct RateLimiter {
    settings: RateLimiterSettings,
    all_fetches: Bucket,
    full_fetches: Bucket,
}

impl RateLimiter {
    /// The limiter of `settings`, or `None` when it is off (then fetches pay nothing).
    pub fn from_settings(settings: &RateLimiterSettings) -> Option<Self> {
        settings.enabled.then(|| RateLimiter {
            settings: settings.clone(),
            all_fetches: Bucket::default(),
            full_fetches: Bucket::default(),
        })
    }

    /// Whether a `fetch` by the caller named `identity` (`DiscoveryIdentity-Name`) at `now_ms`
    /// must be refused.
    pub fn throttles(&self, fetch: Fetch, identity: Option<&str>, now_ms: u64) -> bool {
        if self.is_privileged(identity) {
            return false;
        }
        let s = &self.settings;
        let mut refused =
            !self.all_fetches.acquire(s.burst_size, s.registry_fetch_average_rate, now_ms);
        if fetch == Fetch::Full {
            // Not short-circuited, as Java's `|=`: a full fetch refused by the shared bucket
            // still spends a full-fetch token.
            refused |= !self.full_fetches.acquire(s.burst_size, s.full_fetch_average_rate, now_ms);
        }
        refused
    }

    fn is_privileged(&self, identity: Option<&str>) -> bool {
        let Some(name) = identity else { return false };
        !self.settings.throttle_standard_clients
            && (STANDARD_CLIENTS.contains(&name) || self.privileged().contains(name))
    }

    fn privileged(&self) -> &BTreeSet<String> {
        &self.settings.privileged_clients
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000_000;

    fn limiter(change: impl FnOnce(&mut RateLimiterSettings)) -> RateLimiter {
        let mut s = RateLimiterSettings { enabled: true, ..RateLimiterSettings::default() };
        change(&mut s);
        RateLimiter::from_settings(&s).unwrap()
    }

    fn admitted(l: &RateLimiter, fetch: Fetch, n: usize, at: u64) -> usize {
        (0..n).filter(|_| !l.throttles(fetch, None, at)).count()
    }

    #[test]
    fn off_means_no_limiter_at_all() {
        assert!(RateLimiter::from_settings(&RateLimiterSettings::default()).is_none());
    }

    #[test]
    fn a_burst_then_the_average_rate() {
        let l = limiter(|s| {
            s.burst_size = 5;
            s.registry_fetch_average_rate = 10;
        });
        assert_eq!(admitted(&l, Fetch::Delta, 20, T0), 5, "the burst");
        assert_eq!(admitted(&l, Fetch::Delta, 20, T0 + 99), 0, "no whole token yet");
        assert_eq!(admitted(&l, Fetch::Delta, 20, T0 + 100), 1, "one token per 100 ms");
        assert_eq!(admitted(&l, Fetch::Delta, 20, T0 + 350), 2, "fractions carry over");
        assert_eq!(admitted(&l, Fetch::Delta, 20, T0 + 60_000), 5, "refills up to the burst only");
    }

    #[test]
    fn full_fetches_also_spend_their_own_bucket() {
        let l = limiter(|s| {
            s.burst_size = 4;
            s.registry_fetch_average_rate = 1000;
            s.full_fetch_average_rate = 1;
        });
        assert_eq!(admitted(&l, Fetch::Full, 10, T0), 4);
        // The full-fetch bucket is empty, the shared one is not: deltas still pass.
        assert_eq!(admitted(&l, Fetch::Delta, 1, T0), 0, "every shared token went too");
        assert_eq!(admitted(&l, Fetch::Application, 1, T0 + 1), 1);
        assert_eq!(admitted(&l, Fetch::Full, 1, T0 + 2), 0, "full fetches wait for their own");
        assert_eq!(admitted(&l, Fetch::Full, 1, T0 + 1000), 1);
    }

    #[test]
    fn a_full_fetch_refused_by_the_shared_bucket_still_spends_a_full_fetch_token() {
        let l = limiter(|s| {
            s.burst_size = 2;
            s.registry_fetch_average_rate = 10;
            s.full_fetch_average_rate = 1;
        });
        assert_eq!(admitted(&l, Fetch::Delta, 2, T0), 2);
        assert_eq!(admitted(&l, Fetch::Full, 3, T0), 0, "the shared bucket is empty");
        // 200 ms later the shared bucket holds 2 again, but the refused fetches emptied the
        // full-fetch one (Java's `overloaded |= ...` evaluates both buckets).
        assert_eq!(admitted(&l, Fetch::Full, 3, T0 + 200), 0);
        assert_eq!(admitted(&l, Fetch::Full, 1, T0 + 1000), 1);
    }

    #[test]
    fn standard_and_privileged_clients_pass_unless_told_otherwise() {
        let l = limiter(|s| {
            s.burst_size = 1;
            s.privileged_clients = ["batch-job".to_string()].into();
        });
        assert!(!l.throttles(Fetch::Full, None, T0));
        assert!(l.throttles(Fetch::Full, None, T0), "anonymous callers are limited");
        assert!(l.throttles(Fetch::Full, Some("curl"), T0));
        for name in ["DefaultClient", "DefaultServer", "batch-job"] {
            assert!(!l.throttles(Fetch::Full, Some(name), T0), "{name}");
        }
        let strict = limiter(|s| {
            s.burst_size = 1;
            s.throttle_standard_clients = true;
        });
        assert!(!strict.throttles(Fetch::Full, Some("DefaultClient"), T0));
        assert!(strict.throttles(Fetch::Full, Some("DefaultClient"), T0));
    }

    #[test]
    fn zero_burst_or_rate_lets_everything_pass_as_java() {
        let l = limiter(|s| s.burst_size = 0);
        assert_eq!(admitted(&l, Fetch::Full, 1000, T0), 1000);
    }
}
