//! Per-client token buckets: a bucket holds up to `per_minute` tokens and
//! refills at `per_minute / 60` a second; a request takes one token or is
//! refused with the seconds until one is back.
//!
//! Memory stays bounded: buckets idle long enough to be full again carry no
//! state and are dropped (at most once a second, when more than
//! [`SWEEP_ABOVE`] clients are tracked); past [`MAX_CLIENTS`] unknown
//! clients share one overflow bucket rather than each getting a fresh one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients tracked before idle buckets are swept.
const SWEEP_ABOVE: usize = 10_000;
/// Clients tracked at most; beyond, new clients share one bucket.
const MAX_CLIENTS: usize = 100_000;
/// The key of the shared overflow bucket.
const OVERFLOW: &str = "\u{0}overflow";

/// A bucket's figures after a request, for the `RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
}

/// A refusal: the quota and the seconds until one request is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub quota: Quota,
    pub retry_after_secs: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets keyed by client.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
    last_sweep: Mutex<Instant>,
}

impl RateLimiter {
    /// `per_minute` of 0 allows everything.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
            last_sweep: Mutex::new(Instant::now()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    fn rate(&self) -> f64 {
        f64::from(self.per_minute) / 60.0
    }

    /// Takes a token for `client`, or says when to come back. `None` when
    /// the limiter is off.
    pub fn check(&self, client: &str, at: Instant) -> Option<Result<Quota, Limited>> {
        if self.per_minute == 0 {
            return None;
        }
        let capacity = f64::from(self.per_minute);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        self.sweep(&mut buckets, at);

        let key = if buckets.contains_key(client) || buckets.len() < MAX_CLIENTS {
            client
        } else {
            OVERFLOW
        };
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            updated: at,
        });
        let elapsed = at.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate()).min(capacity);
        bucket.updated = at;

        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let quota = Quota {
            limit: self.per_minute,
            remaining: bucket.tokens.floor() as u32,
            reset_secs: ((capacity - bucket.tokens) / self.rate()).ceil() as u64,
        };
        if allowed {
            Some(Ok(quota))
        } else {
            let retry_after_secs = ((1.0 - bucket.tokens) / self.rate()).ceil().max(1.0) as u64;
            Some(Err(Limited {
                quota,
                retry_after_secs,
            }))
        }
    }

    /// Drops buckets that would be full by now (they carry no state).
    fn sweep(&self, buckets: &mut HashMap<String, Bucket>, at: Instant) {
        if buckets.len() <= SWEEP_ABOVE {
            return;
        }
        let mut last = self.last_sweep.lock().unwrap_or_else(|p| p.into_inner());
        if at.saturating_duration_since(*last) < Duration::from_secs(1) {
            return;
        }
        *last = at;
        let capacity = f64::from(self.per_minute);
        let rate = self.rate();
        buckets.retain(|_, bucket| {
            let elapsed = at.saturating_duration_since(bucket.updated).as_secs_f64();
            bucket.tokens + elapsed * rate < capacity
        });
    }

    /// Clients currently tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_until_refilled() {
        let limiter = RateLimiter::new(3);
        let start = Instant::now();
        for left in [2, 1, 0] {
            let quota = limiter.check("a", start).expect("on").expect("allowed");
            assert_eq!(quota.remaining, left);
        }
        let refused = limiter.check("a", start).expect("on").expect_err("limited");
        assert_eq!(refused.retry_after_secs, 20);
        assert!(
            limiter.check("b", start).expect("on").is_ok(),
            "other clients unaffected"
        );
        let later = start + Duration::from_secs(20);
        assert!(limiter.check("a", later).expect("on").is_ok());
    }

    #[test]
    fn idle_clients_are_forgotten() {
        let limiter = RateLimiter::new(60);
        let start = Instant::now();
        for client in 0..=SWEEP_ABOVE {
            let _ = limiter.check(&client.to_string(), start);
        }
        let later = start + Duration::from_secs(120);
        let _ = limiter.check("fresh", later);
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn zero_disables_the_limit() {
        assert!(RateLimiter::new(0).check("a", Instant::now()).is_none());
    }
}
