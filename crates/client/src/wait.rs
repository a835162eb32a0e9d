//! Waiting for a sandbox state by polling, as the official SDK's `waitForState` does in polling
//! mode (reference §3.4): the first refresh at once, then every 100 ms for 5 s, then 10 % longer
//! each time up to 1 s; an error state fails; at the deadline one last refresh decides, else
//! `DaytonaTimeoutError`. "Safe" waits (stop, delete) read a 404 as `destroyed` and ride out
//! other refresh errors.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::{ClientError, ErrorKind, Result};
use crate::types::SandboxInfo;

pub struct WaitSpec<'a> {
    pub targets: &'a [&'a str],
    pub errors: &'a [&'a str],
    /// Seconds; 0 means no limit.
    pub timeout: f64,
    pub timeout_message: &'a str,
    /// The message for an error state, from the refreshed sandbox.
    pub error_message: &'a (dyn Fn(&SandboxInfo) -> String + Sync),
    pub safe: bool,
}

/// How long the last refresh after the deadline may take (a server that stalls must not hold
/// the wait past its deadline for long).
pub const FINAL_LOOK: Duration = Duration::from_secs(1);

pub const STARTED: &[&str] = &["started"];
pub const STOPPED: &[&str] = &["stopped", "destroyed"];
pub const DESTROYED: &[&str] = &["destroyed"];
pub const FAILED: &[&str] = &["error", "build_failed"];

/// `${errorReason}` as a JavaScript template writes a missing value.
pub fn reason(info: &SandboxInfo) -> String {
    info.error_reason.clone().unwrap_or_else(|| "undefined".into())
}

/// The remaining time of an operation that started at `t0` with `timeout` seconds, clamped to
/// at least 1 ms (0 stays 0: no limit).
pub fn remaining(timeout: f64, t0: Instant) -> f64 {
    if timeout > 0.0 { (timeout - t0.elapsed().as_secs_f64()).max(0.001) } else { timeout }
}

enum Refreshed {
    Fresh(Box<SandboxInfo>),
    /// A safe refresh failed with something other than 404: the state is unknown.
    Stale,
}

async fn refresh_once<F, Fut>(refresh: &mut F, current: &SandboxInfo, safe: bool) -> Result<Refreshed>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<SandboxInfo>>,
{
    match refresh().await {
        Ok(info) => Ok(Refreshed::Fresh(Box::new(info))),
        Err(e) if safe && e.kind.is_not_found() => {
            Ok(Refreshed::Fresh(Box::new(SandboxInfo { state: "destroyed".into(), ..current.clone() })))
        }
        Err(_) if safe => Ok(Refreshed::Stale),
        Err(e) => Err(e),
    }
}

fn evaluate(spec: &WaitSpec<'_>, info: &SandboxInfo) -> Option<Result<SandboxInfo>> {
    if spec.targets.contains(&info.state.as_str()) {
        return Some(Ok(info.clone()));
    }
    if spec.errors.contains(&info.state.as_str()) {
        return Some(Err(ClientError::generic((spec.error_message)(info))));
    }
    None
}

/// Waits from the cached `info` until a target state, with `refresh` fetching the sandbox.
pub async fn wait_for_state<F, Fut>(info: SandboxInfo, spec: &WaitSpec<'_>, mut refresh: F) -> Result<SandboxInfo>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<SandboxInfo>>,
{
    if spec.targets.contains(&info.state.as_str()) {
        return Ok(info);
    }
    // tokio's clock (not std's), so that paused-time tests and timers agree.
    let deadline = (spec.timeout > 0.0).then(|| tokio::time::Instant::now() + Duration::from_secs_f64(spec.timeout));
    let mut current = info;
    let outcome = {
        let polling = async {
            let started = tokio::time::Instant::now();
            let mut interval = Duration::from_millis(100);
            loop {
                if let Refreshed::Fresh(fresh) = refresh_once(&mut refresh, &current, spec.safe).await? {
                    current = *fresh;
                    if let Some(done) = evaluate(spec, &current) {
                        return done;
                    }
                }
                if started.elapsed() > Duration::from_secs(5) {
                    interval = interval.mul_f64(1.1).min(Duration::from_secs(1));
                }
                tokio::time::sleep(interval).await;
            }
        };
        match deadline {
            None => Some(polling.await),
            Some(d) => tokio::select! {
                r = polling => Some(r),
                _ = tokio::time::sleep_until(d) => None,
            },
        }
    };
    if let Some(r) = outcome {
        return r;
    }
    // The deadline passed: one last look, which may take at most FINAL_LOOK.
    if let Ok(Ok(Refreshed::Fresh(fresh))) = tokio::time::timeout(FINAL_LOOK, refresh_once(&mut refresh, &current, spec.safe)).await
        && let Some(done) = evaluate(spec, &fresh)
    {
        return done;
    }
    Err(ClientError::new(ErrorKind::Timeout, spec.timeout_message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn sb(state: &str) -> SandboxInfo {
        SandboxInfo { id: "s1".into(), state: state.into(), ..Default::default() }
    }

    fn scripted(states: &[&str]) -> impl FnMut() -> std::future::Ready<Result<SandboxInfo>> + use<> {
        let queue: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(states.iter().rev().map(|s| s.to_string()).collect()));
        move || {
            let mut q = queue.lock().unwrap();
            let s = if q.len() > 1 { q.pop().unwrap() } else { q[0].clone() };
            std::future::ready(if s == "404" { Err(ClientError::not_found("gone")) } else if s == "502" { Err(ClientError::new(ErrorKind::BadGateway, "bad")) } else { Ok(sb(&s)) })
        }
    }

    fn spec<'a>(targets: &'a [&'a str], timeout: f64, safe: bool, msg: &'a (dyn Fn(&SandboxInfo) -> String + Sync)) -> WaitSpec<'a> {
        WaitSpec { targets, errors: FAILED, timeout, timeout_message: "Sandbox failed to become ready within the timeout period", error_message: msg, safe }
    }

    #[tokio::test]
    async fn reaches_target_and_fails_on_error_states() {
        let msg = |i: &SandboxInfo| format!("Sandbox {} failed to start with status: {}, error reason: {}", i.id, i.state, reason(i));
        let r = wait_for_state(sb("starting"), &spec(STARTED, 5.0, false, &msg), scripted(&["starting", "started"])).await;
        assert_eq!(r.unwrap().state, "started");
        let e = wait_for_state(sb("starting"), &spec(STARTED, 5.0, false, &msg), scripted(&["error"])).await.unwrap_err();
        assert_eq!(e.message, "Sandbox s1 failed to start with status: error, error reason: undefined");
        assert_eq!(e.kind, ErrorKind::Generic);
        // A refresh error fails a normal wait.
        let e = wait_for_state(sb("starting"), &spec(STARTED, 5.0, false, &msg), scripted(&["502"])).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadGateway);
    }

    #[tokio::test]
    async fn safe_waits_map_404_and_ignore_other_errors() {
        let msg = |_: &SandboxInfo| String::new();
        let r = wait_for_state(sb("stopping"), &spec(STOPPED, 5.0, true, &msg), scripted(&["502", "404"])).await;
        assert_eq!(r.unwrap().state, "destroyed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refresh_that_never_answers_does_not_hold_the_wait() {
        let msg = |_: &SandboxInfo| String::new();
        let t0 = tokio::time::Instant::now();
        let stalled = || std::future::pending::<Result<SandboxInfo>>();
        let e = wait_for_state(sb("stopping"), &spec(STOPPED, 2.0, true, &msg), stalled).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(t0.elapsed() <= Duration::from_secs(2) + FINAL_LOOK + Duration::from_millis(10), "{:?}", t0.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_after_a_final_refresh() {
        let msg = |_: &SandboxInfo| String::new();
        let e = wait_for_state(sb("starting"), &spec(STARTED, 0.3, false, &msg), scripted(&["starting"])).await.unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Timeout, "Sandbox failed to become ready within the timeout period"));
        // The last look at the deadline still counts.
        let calls = Arc::new(Mutex::new(0u32));
        let c = calls.clone();
        let refresh = move || {
            let mut n = c.lock().unwrap();
            *n += 1;
            std::future::ready(Ok(sb(if *n > 3 { "started" } else { "starting" })))
        };
        let never = |_: &SandboxInfo| String::new();
        let s = WaitSpec { targets: STARTED, errors: FAILED, timeout: 0.25, timeout_message: "t", error_message: &never, safe: false };
        assert_eq!(wait_for_state(sb("starting"), &s, refresh).await.unwrap().state, "started");
        assert_eq!(remaining(0.0, Instant::now()), 0.0);
        assert!(remaining(10.0, Instant::now()) > 9.0);
    }
}
