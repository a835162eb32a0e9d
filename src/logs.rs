//! Delivers log lines and build events from a running operation to JavaScript: in order,
//! every item, before the operation's Promise settles, with a bounded window of items in flight
//! (reference napi-rs.md §4). Items go in batches, one JavaScript call per batch: index.js
//! unrolls each batch into calls of the user's callbacks (a string for the log callback, an
//! object for `onBuildEvent`). A callback that throws cancels the operation and the Promise
//! rejects with the thrown value.

use std::future::Future;
use std::sync::{Arc, Mutex};

use daytona_client::events::BuildEvent;
use daytona_client::logs::{LogItem, LogSink, LogStream};
use napi::bindgen_prelude::*;
use napi::JsValue;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
use tokio::sync::{Notify, Semaphore};

/// Weak (unref'd): the callback alone does not keep Node's event loop alive. The operation's
/// Promise does while it is pending, and it settles only after the last item was delivered,
/// so no item is lost; a process whose Promise was abandoned is not held up by its callback.
pub type LogCallback = ThreadsafeFunction<Batch, UnknownReturnValue, Batch, Status, false, true>;

/// Permits for what is handed to JS but not yet processed by it: one per item, or one per
/// [`PERMIT_BYTES`] of line text when that is more, so at most 1024 items or about 16 MiB.
const WINDOW: u32 = 1024;
const PERMIT_BYTES: usize = 16 * 1024;
/// Items buffered between the backend and the delivery loop.
const CHANNEL: usize = 1024;
/// Items per JavaScript call at most (a quarter of the window: batches overlap).
const MAX_BATCH: usize = 256;

/// The window permits a batch takes (never more than the whole window).
fn permits(items: &[LogItem]) -> u32 {
    let bytes: usize = items.iter().map(|i| if let LogItem::Line { text, .. } = i { text.len() } else { 0 }).sum();
    (items.len().max(bytes.div_ceil(PERMIT_BYTES)) as u32).min(WINDOW)
}

/// Delivery through `callback` (index.js's batch unroller, which calls the callbacks that exist:
/// the string log callback and/or `onBuildEvent`; lines travel once for both). `events`: build
/// events are wanted.
pub struct LogDelivery {
    pub callback: LogCallback,
    pub events: bool,
    /// Items per call at most (1 measures the cost of a call per item).
    pub batch: usize,
}

/// Items of one JavaScript call, turned into an array: a string per line, followed (when events
/// are wanted) by its step (a number, or null), from which index.js makes the `log` event (an
/// object made in JS costs a fraction of one made through N-API); an object per other event.
pub struct Batch {
    items: Vec<LogItem>,
    events: bool,
}

fn event_object(env: &Env, event: BuildEvent) -> Result<Object<'_>> {
    let mut o = Object::new(env)?;
    o.set("type", event.type_name())?;
    match event {
        BuildEvent::ContextPlanned { files, bytes, keys, contexts } => {
            o.set("files", files as f64)?;
            o.set("bytes", bytes as f64)?;
            o.set("keys", keys)?;
            let mut list = env.create_array(contexts.len() as u32)?;
            for (i, c) in contexts.into_iter().enumerate() {
                let mut co = Object::new(env)?;
                co.set("key", c.key)?;
                co.set("sourcePath", c.source_path)?;
                co.set("files", c.files as f64)?;
                co.set("bytes", c.bytes as f64)?;
                list.set(i as u32, &co)?;
            }
            o.set("contexts", list.to_unknown())?;
        }
        BuildEvent::UploadProgress { key, bytes_sent, total_bytes, skipped } => {
            o.set("key", key)?;
            o.set("bytesSent", bytes_sent as f64)?;
            o.set("totalBytes", total_bytes as f64)?;
            o.set("skipped", skipped)?;
        }
        BuildEvent::StepStarted { index, total, instruction } => {
            o.set("index", index)?;
            o.set("total", total)?;
            o.set("instruction", instruction)?;
        }
        BuildEvent::StepCached { index } => o.set("index", index)?,
        BuildEvent::StepFinished { index, duration_ms } => {
            o.set("index", index)?;
            o.set("durationMs", duration_ms)?;
        }
        BuildEvent::Log { line, step } => {
            o.set("line", line)?;
            o.set("step", step)?;
        }
        BuildEvent::BuildFinished { duration_ms, image, cached } => {
            o.set("durationMs", duration_ms)?;
            o.set("image", image)?;
            o.set("cached", cached)?;
        }
        BuildEvent::BuildFailed { step, exit_code, message } => {
            o.set("step", step)?;
            o.set("exitCode", exit_code.map(|c| c as f64))?;
            o.set("message", message)?;
        }
    }
    Ok(o)
}

impl ToNapiValue for Batch {
    unsafe fn to_napi_value(raw: napi::sys::napi_env, batch: Self) -> Result<napi::sys::napi_value> {
        let env = Env::from_raw(raw);
        let per_line = if batch.events { 2 } else { 1 };
        let len: usize = batch.items.iter().map(|item| if matches!(item, LogItem::Line { .. }) { per_line } else { 1 }).sum();
        let mut array = env.create_array(len as u32)?;
        let mut i = 0u32;
        for item in batch.items {
            match item {
                LogItem::Line { text, step } => {
                    array.set(i, text)?;
                    i += 1;
                    if batch.events {
                        array.set(i, step)?;
                        i += 1;
                    }
                }
                LogItem::Event(e) => {
                    array.set(i, &event_object(&env, e)?)?;
                    i += 1;
                }
            }
        }
        debug_assert_eq!(i as usize, len);
        Ok(array.raw())
    }
}

/// A sink for the operation and the delivery half, when something listens.
pub fn log_channel(delivery: Option<LogDelivery>) -> (Option<LogSink>, Option<(LogStream, LogDelivery)>) {
    match delivery {
        None => (None, None),
        Some(d) => {
            let (sink, stream) = LogSink::channel(CHANNEL, d.events);
            (Some(sink), Some((stream, d)))
        }
    }
}

/// Runs `op` while delivering its log lines and events. Outer error: a callback threw (the
/// original JS value); inner: the operation's own result.
pub async fn run_with_logs<T, E>(
    op: impl Future<Output = std::result::Result<T, E>>,
    delivery: Option<(LogStream, LogDelivery)>,
) -> Result<std::result::Result<T, E>> {
    let Some((mut stream, LogDelivery { callback, events, batch })) = delivery else {
        return Ok(op.await);
    };
    let max_batch = batch.clamp(1, MAX_BATCH);
    let window = Arc::new(Semaphore::new(WINDOW as usize));
    let failure: Arc<Mutex<Option<Error>>> = Arc::default();
    let failed = Arc::new(Notify::new());
    let deliver = {
        let (window, failure, failed) = (window.clone(), failure.clone(), failed.clone());
        async move {
            while let Some((items, receipt)) = stream.recv_batch(max_batch).await {
                if failure.lock().unwrap().is_some() {
                    break;
                }
                let permit = window.clone().acquire_many_owned(permits(&items)).await.expect("semaphore is never closed");
                let (failure, failed) = (failure.clone(), failed.clone());
                let batch = Batch { items, events };
                callback.call_with_return_value(batch, ThreadsafeFunctionCallMode::NonBlocking, move |ret, _env| {
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
        // Every item handed to JS has been processed once all permits are back.
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
