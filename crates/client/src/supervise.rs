//! Timed, supervised repetition of a call (Java's `TimedSupervisorTask`): each run is bounded
//! by a timeout, and a run that times out (or finds the server congested) doubles the pause
//! before the next, up to a bound; a run that succeeds restores the normal interval.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::transport::TransportError;

/// The pause before the next run.
#[derive(Debug, Clone)]
pub struct Backoff {
    interval: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    /// Starts at `interval`, doubling up to `interval × bound`.
    pub fn new(interval: Duration, bound: u32) -> Self {
        Backoff { interval, max: interval * bound.max(1), current: interval }
    }

    /// After a run that went well (or failed fast): back to the interval.
    pub fn reset(&mut self) -> Duration {
        self.current = self.interval;
        self.current
    }

    /// After a run that timed out or met congestion: double, up to the bound.
    pub fn slow_down(&mut self) -> Duration {
        self.current = (self.current * 2).min(self.max);
        self.current
    }
}

/// Sleeps `d` unless `shutdown` comes first; says whether to go on.
pub async fn pause(shutdown: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

/// Sleeps until `at` unless `shutdown` comes first; says whether to go on.
pub(crate) async fn pause_until(shutdown: &CancellationToken, at: Instant) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep_until(at) => true,
    }
}

/// Runs `run` after `first_delay`, then again after each pause given by `backoff`, each run
/// bounded by `timeout`, until `shutdown`.
pub(crate) async fn supervise<F, Fut, T>(
    name: &'static str,
    shutdown: CancellationToken,
    first_delay: Duration,
    mut backoff: Backoff,
    timeout: Duration,
    mut run: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, TransportError>>,
{
    let mut delay = first_delay;
    loop {
        if !pause(&shutdown, delay).await {
            return;
        }
        let outcome = tokio::select! {
            _ = shutdown.cancelled() => return,
            outcome = tokio::time::timeout(timeout, run()) => outcome,
        };
        delay = match outcome {
            Ok(Ok(_)) => backoff.reset(),
            Ok(Err(e)) if e.is_congestion() => {
                let next = backoff.slow_down();
                tracing::warn!(task = name, error = %e, next_in = ?next, "eureka server congested, backing off");
                next
            }
            Ok(Err(e)) => {
                tracing::warn!(task = name, error = %e, "eureka call failed");
                backoff.reset()
            }
            Err(_) => {
                let next = backoff.slow_down();
                tracing::warn!(task = name, timeout = ?timeout, next_in = ?next, "eureka call timed out, backing off");
                next
            }
        };
    }
}

/// A token bucket for on-demand pushes: `burst` at once, then one per `period`.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    burst: u32,
    tokens: u32,
    period: Duration,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(burst: u32, per_minute: u32, now: Instant) -> Self {
        let period = Duration::from_secs(60) / per_minute.max(1);
        TokenBucket { burst: burst.max(1), tokens: burst.max(1), period, last: now }
    }

    /// Takes a token and returns when it may be used: `now`, or later when the bucket is
    /// empty (the token is reserved, so callers queue fairly).
    pub(crate) fn take(&mut self, now: Instant) -> Instant {
        if self.tokens >= self.burst {
            self.last = now;
        } else if now > self.last {
            let earned = ((now - self.last).as_nanos() / self.period.as_nanos().max(1)) as u32;
            self.tokens = (self.tokens + earned).min(self.burst);
            self.last =
                if self.tokens == self.burst { now } else { self.last + self.period * earned };
        }
        if self.tokens > 0 {
            self.tokens -= 1;
            now
        } else {
            self.last += self.period;
            self.last
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn backoff_doubles_to_the_bound_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(30), 10);
        let steps: Vec<u64> = (0..6).map(|_| b.slow_down().as_secs()).collect();
        assert_eq!(steps, [60, 120, 240, 300, 300, 300]);
        assert_eq!(b.reset(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn timed_out_runs_back_off_and_a_success_restores_the_interval() {
        let start = Instant::now();
        let runs: Arc<Mutex<Vec<u64>>> = Arc::default();
        let shutdown = CancellationToken::new();
        let log = runs.clone();
        let task = tokio::spawn(supervise(
            "test",
            shutdown.clone(),
            Duration::from_secs(10),
            Backoff::new(Duration::from_secs(10), 4),
            Duration::from_secs(5),
            move || {
                let mut log = log.lock().unwrap();
                log.push((Instant::now() - start).as_secs());
                let hang = log.len() <= 3;
                async move {
                    if hang {
                        std::future::pending::<()>().await;
                    }
                    Ok::<_, TransportError>(())
                }
            },
        ));
        tokio::time::sleep(Duration::from_secs(200)).await;
        shutdown.cancel();
        task.await.unwrap();
        // Runs at 10 (hangs until 15) → +20 = 35 (hangs to 40) → +40 = 80 (hangs to 85)
        // → +40 (bound 4×10) = 125 succeeds → +10 = 135, 145 ...
        let runs = runs.lock().unwrap();
        assert_eq!(&runs[..6], &[10, 35, 80, 125, 135, 145]);
    }

    #[test]
    fn bucket_allows_a_burst_then_one_per_period() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(2, 4, t0);
        assert_eq!(b.take(t0), t0);
        assert_eq!(b.take(t0), t0);
        assert_eq!(b.take(t0), t0 + Duration::from_secs(15));
        assert_eq!(b.take(t0), t0 + Duration::from_secs(30));
        // Long idle: the bucket refills to the burst, not beyond.
        let later = t0 + Duration::from_secs(600);
        assert_eq!(b.take(later), later);
        assert_eq!(b.take(later), later);
        assert_eq!(b.take(later), later + Duration::from_secs(15));
    }
}
