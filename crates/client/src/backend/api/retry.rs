//! When a request is sent again (reference §3.1, plus what the official SDK lacks).
//!
//! - Transport failures, as the official SDK: at most 2 retries with a backoff of
//!   `250 ms · attempt + U(0, 100) ms`. A failure before any byte was sent (connect phase:
//!   refused, DNS, unreachable) is retried for every method; a failure that may have reached the
//!   server (reset, broken pipe, closed mid-response) only for idempotent methods
//!   (GET/HEAD/OPTIONS/TRACE/PUT/DELETE). Timeouts and everything else are never retried.
//! - New: a `429` or `503` response that carries `Retry-After` is retried for idempotent
//!   methods only (a POST that could create twice is never repeated), when the wait is at most
//!   [`MAX_RETRY_AFTER`] and fits the request's remaining deadline.

use std::time::{Duration, SystemTime};

use reqwest::Method;

pub const MAX_RETRIES: u32 = 2;
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How a request failed without an HTTP response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Before anything was written (DNS, TCP connect, TLS handshake to an unreachable host).
    Connect,
    /// Reset, broken pipe or the connection closed before the response: the server may have
    /// seen the request.
    MidFlight,
    /// The client-side deadline passed.
    Timeout,
    Other,
}

pub fn is_idempotent(method: &Method) -> bool {
    matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Retry(Duration),
    GiveUp,
}

/// `retries_done`: how many retries already happened for this request.
pub fn after_failure(retries_done: u32, method: &Method, failure: Failure, jitter_ms: u64) -> Decision {
    if retries_done >= MAX_RETRIES {
        return Decision::GiveUp;
    }
    let retry = match failure {
        Failure::Connect => true,
        Failure::MidFlight => is_idempotent(method),
        Failure::Timeout | Failure::Other => false,
    };
    if retry { Decision::Retry(backoff(retries_done + 1, jitter_ms)) } else { Decision::GiveUp }
}

/// After an HTTP response with `status`.
pub fn after_status(
    retries_done: u32,
    method: &Method,
    status: u16,
    retry_after: Option<&str>,
    now: SystemTime,
    remaining: Option<Duration>,
) -> Decision {
    if retries_done >= MAX_RETRIES || !matches!(status, 429 | 503) || !is_idempotent(method) {
        return Decision::GiveUp;
    }
    let Some(wait) = retry_after.and_then(|v| parse_retry_after(v, now)) else { return Decision::GiveUp };
    if wait > MAX_RETRY_AFTER || remaining.is_some_and(|r| wait >= r) {
        return Decision::GiveUp;
    }
    Decision::Retry(wait)
}

/// `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `250 ms · attempt + jitter` (jitter in 0..100 ms).
pub fn backoff(attempt: u32, jitter_ms: u64) -> Duration {
    Duration::from_millis(250 * u64::from(attempt) + jitter_ms.min(99))
}

/// 0..100 ms of jitter.
pub fn jitter() -> u64 {
    (uuid::Uuid::new_v4().as_u128() % 100) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_policy() {
        let post = Method::POST;
        let get = Method::GET;
        assert_eq!(after_failure(0, &post, Failure::Connect, 0), Decision::Retry(Duration::from_millis(250)));
        assert_eq!(after_failure(1, &post, Failure::Connect, 50), Decision::Retry(Duration::from_millis(550)));
        assert_eq!(after_failure(2, &post, Failure::Connect, 0), Decision::GiveUp);
        assert_eq!(after_failure(0, &post, Failure::MidFlight, 0), Decision::GiveUp);
        assert_eq!(after_failure(0, &get, Failure::MidFlight, 0), Decision::Retry(Duration::from_millis(250)));
        assert_eq!(after_failure(0, &Method::DELETE, Failure::MidFlight, 0), Decision::Retry(Duration::from_millis(250)));
        assert_eq!(after_failure(0, &Method::PUT, Failure::MidFlight, 0), Decision::Retry(Duration::from_millis(250)));
        assert_eq!(after_failure(0, &Method::PATCH, Failure::MidFlight, 0), Decision::GiveUp);
        assert_eq!(after_failure(0, &get, Failure::Timeout, 0), Decision::GiveUp);
        assert_eq!(after_failure(0, &get, Failure::Other, 0), Decision::GiveUp);
    }

    #[test]
    fn retry_after_policy() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let get = Method::GET;
        assert_eq!(after_status(0, &get, 429, Some("2"), now, None), Decision::Retry(Duration::from_secs(2)));
        assert_eq!(after_status(0, &get, 503, Some("0"), now, None), Decision::Retry(Duration::ZERO));
        // Never a POST, never without Retry-After, never other statuses, never past the budget.
        assert_eq!(after_status(0, &Method::POST, 429, Some("1"), now, None), Decision::GiveUp);
        assert_eq!(after_status(0, &get, 429, None, now, None), Decision::GiveUp);
        assert_eq!(after_status(0, &get, 500, Some("1"), now, None), Decision::GiveUp);
        assert_eq!(after_status(2, &get, 429, Some("1"), now, None), Decision::GiveUp);
        assert_eq!(after_status(0, &get, 429, Some("61"), now, None), Decision::GiveUp);
        assert_eq!(after_status(0, &get, 429, Some("5"), now, Some(Duration::from_secs(3))), Decision::GiveUp);
        assert_eq!(after_status(0, &Method::DELETE, 503, Some("1"), now, Some(Duration::from_secs(3))), Decision::Retry(Duration::from_secs(1)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
