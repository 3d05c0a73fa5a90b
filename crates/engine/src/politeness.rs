//! Per-host politeness: the delay between requests, adapted to latency (AutoThrottle, as
//! Scrapy does it), never lowered by errors, raised by 429/503 with `Retry-After`, and
//! bounded by `Crawl-delay` and the configured limits.

use std::time::Duration;

/// The delay policy of one host.
#[derive(Debug, Clone)]
pub(crate) struct Throttle {
    /// Current delay between request starts.
    delay: Duration,
    /// The floor: the configured minimum, raised to a (capped) `Crawl-delay`.
    floor: Duration,
    ceiling: Duration,
    /// Requests in flight the delay aims for (AutoThrottle's target concurrency).
    target_concurrency: u32,
    adaptive: bool,
    /// Consecutive 429/503/5xx responses: the exponent of the backoff.
    strikes: u32,
}

/// What a response says about the host's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// A normal response (2xx, 3xx, 304, 404...).
    Ok,
    /// A server error or timeout: do not speed up.
    Error,
    /// 429 or 503: back off the whole host.
    Overloaded,
}

impl Throttle {
    pub(crate) fn new(min: Duration, max: Duration, per_host: usize, adaptive: bool) -> Throttle {
        Throttle {
            delay: min,
            floor: min,
            ceiling: max.max(min),
            target_concurrency: u32::try_from(per_host.max(1)).unwrap_or(u32::MAX),
            adaptive,
            strikes: 0,
        }
    }

    /// Applies a robots.txt `Crawl-delay`, capped.
    pub(crate) fn set_crawl_delay(&mut self, crawl_delay: Duration, cap: Duration) {
        self.floor = self.floor.max(crawl_delay.min(cap));
        self.ceiling = self.ceiling.max(self.floor);
        self.delay = self.delay.max(self.floor);
    }

    pub(crate) fn delay(&self) -> Duration {
        self.delay
    }

    /// Feeds one response's latency and signal; returns the extra wait before the host's
    /// next request (the backoff), on top of the delay.
    pub(crate) fn observe(&mut self, latency: Duration, signal: Signal) -> Duration {
        match signal {
            Signal::Ok => {
                self.strikes = 0;
                if self.adaptive {
                    let target = latency / self.target_concurrency;
                    let next = (self.delay + target) / 2;
                    self.delay = next.clamp(self.floor, self.ceiling);
                }
                Duration::ZERO
            }
            Signal::Error | Signal::Overloaded => {
                self.strikes = self.strikes.saturating_add(1);
                if self.adaptive {
                    // Errors may only slow us down (Scrapy: non-200 cannot lower the delay).
                    let target = latency / self.target_concurrency;
                    self.delay = self.delay.max((self.delay + target) / 2).min(self.ceiling);
                }
                if signal == Signal::Overloaded {
                    // Exponential: 1 s, 2 s, 4 s ... up to the ceiling.
                    let backoff = Duration::from_secs(1) * 2u32.saturating_pow(self.strikes - 1);
                    backoff.min(self.ceiling.max(Duration::from_secs(1)))
                } else {
                    Duration::ZERO
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn adapts_to_latency_within_bounds() {
        let mut t = Throttle::new(100 * MS, 10_000 * MS, 1, true);
        for _ in 0..20 {
            t.observe(2_000 * MS, Signal::Ok);
        }
        assert!(
            t.delay() > 1_900 * MS && t.delay() <= 2_000 * MS,
            "{:?}",
            t.delay()
        );
        for _ in 0..20 {
            t.observe(MS, Signal::Ok);
        }
        assert_eq!(t.delay(), 100 * MS, "never below the floor");
    }

    #[test]
    fn errors_never_speed_up() {
        let mut t = Throttle::new(100 * MS, 10_000 * MS, 1, true);
        t.observe(4_000 * MS, Signal::Ok);
        let before = t.delay();
        t.observe(MS, Signal::Error);
        assert!(t.delay() >= before);
    }

    #[test]
    fn overload_backs_off_exponentially_and_resets() {
        let mut t = Throttle::new(Duration::ZERO, 60_000 * MS, 2, false);
        assert_eq!(t.observe(MS, Signal::Overloaded), 1_000 * MS);
        assert_eq!(t.observe(MS, Signal::Overloaded), 2_000 * MS);
        assert_eq!(t.observe(MS, Signal::Overloaded), 4_000 * MS);
        assert_eq!(t.observe(MS, Signal::Ok), Duration::ZERO);
        assert_eq!(t.observe(MS, Signal::Overloaded), 1_000 * MS);
    }

    #[test]
    fn crawl_delay_is_a_capped_floor() {
        let mut t = Throttle::new(100 * MS, 60_000 * MS, 1, true);
        t.set_crawl_delay(Duration::from_secs(5), Duration::from_secs(30));
        assert_eq!(t.delay(), Duration::from_secs(5));
        t.observe(MS, Signal::Ok);
        assert_eq!(t.delay(), Duration::from_secs(5));
        let mut capped = Throttle::new(100 * MS, 60_000 * MS, 1, true);
        capped.set_crawl_delay(Duration::from_secs(3600), Duration::from_secs(30));
        assert_eq!(capped.delay(), Duration::from_secs(30));
    }
}
