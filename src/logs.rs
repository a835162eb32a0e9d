//! Delivers log lines from a running operation to a JavaScript callback: in order, every line,
//! before the operation's Promise settles, with a bounded window of lines in flight
//! (reference napi-rs.md §4). A callback that throws cancels the operation and the Promise
//! rejects with the thrown value.

use std::future::Future;
use std::sync::{Arc, Mutex};

use daytona_client::logs::{LogSink, LogStream};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
use tokio::sync::{Notify, Semaphore};

/// Weak (unref'd): the callback alone does not keep Node's event loop alive. The operation's
/// Promise does while it is pending, and it settles only after the last line was delivered,
/// so no line is lost; a process whose Promise was abandoned is not held up by its callback.
pub type LogCallback = ThreadsafeFunction<String, UnknownReturnValue, String, Status, false, true>;

/// Lines handed to JS but not yet processed by it.
const WINDOW: u32 = 256;
/// Lines buffered between the backend and the delivery loop.
const CHANNEL: usize = 1024;

/// A sink for the operation and the delivery half, when a callback was given.
pub fn log_channel(callback: Option<LogCallback>) -> (Option<LogSink>, Option<(LogStream, LogCallback)>) {
    match callback {
        None => (None, None),
        Some(cb) => {
            let (sink, stream) = LogSink::channel(CHANNEL);
            (Some(sink), Some((stream, cb)))
        }
    }
}

/// Runs `op` while delivering its log lines. Outer error: the callback threw (the original JS
/// value); inner: the operation's own result.
pub async fn run_with_logs<T, E>(
    op: impl Future<Output = std::result::Result<T, E>>,
    delivery: Option<(LogStream, LogCallback)>,
) -> Result<std::result::Result<T, E>> {
    let Some((mut stream, callback)) = delivery else {
        return Ok(op.await);
    };
    let window = Arc::new(Semaphore::new(WINDOW as usize));
    let failure: Arc<Mutex<Option<Error>>> = Arc::default();
    let failed = Arc::new(Notify::new());
    let deliver = {
        let (window, failure, failed) = (window.clone(), failure.clone(), failed.clone());
        async move {
            while let Some((line, receipt)) = stream.recv().await {
                if failure.lock().unwrap().is_some() {
                    break;
                }
                let permit = window.clone().acquire_owned().await.expect("semaphore is never closed");
                let (failure, failed) = (failure.clone(), failed.clone());
                callback.call_with_return_value(line, ThreadsafeFunctionCallMode::NonBlocking, move |ret, _env| {
                    if let Err(e) = ret {
                        failure.lock().unwrap().get_or_insert(e);
                        failed.notify_one();
                        // Tells the operation (waiting in `LogSink::delivered`) to stop.
                        receipt.fail();
                    }
                    // Dropped even when the environment is torn down: the barrier below never
                    // hangs, and neither does an operation waiting for its lines (the receipt).
                    drop(permit);
                    Ok(())
                });
            }
        }
    };
    let mut op = Box::pin(op);
    let mut deliver = Box::pin(deliver);
    let mut result = None;
    let mut delivering = true;
    let mut callback_failed = false;
    while result.is_none() || delivering {
        tokio::select! {
            r = &mut op, if result.is_none() => result = Some(r),
            _ = &mut deliver, if delivering => delivering = false,
            _ = failed.notified() => {
                callback_failed = true;
                break;
            }
        }
    }
    // The delivery loop may be parked in a window acquire: dropped, it gives its place in the
    // semaphore's queue back (otherwise the fair semaphore would hand it a released permit that
    // it never takes, and the barrier below would wait forever). A failed callback cancels the
    // operation right away instead of letting it run to its end.
    drop(deliver);
    if callback_failed {
        drop(op);
        // Every line handed to JS has been processed once all permits are back.
        let _barrier = window.acquire_many(WINDOW).await.expect("semaphore is never closed");
        let e = failure.lock().unwrap().take();
        return Err(e.expect("a failed callback recorded its error"));
    }
    let _barrier = window.acquire_many(WINDOW).await.expect("semaphore is never closed");
    if let Some(e) = failure.lock().unwrap().take() {
        return Err(e);
    }
    match result {
        Some(r) => Ok(r),
        // Delivery ended first only because the operation dropped its sink; finish it.
        None => Ok(op.await),
    }
}
