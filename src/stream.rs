//! Output of a running toolbox operation (followed session logs, the interpreter's messages, PTY
//! bytes), pulled by JavaScript in batches: index.js awaits `next()`, runs the callback on each
//! item (awaiting a returned Promise) and only then asks for more. Nothing is pushed at JS, so a
//! slow callback leaves the core's bounded channel full and the producer waits: memory stays
//! at most the channel plus one batch whatever the amount of output. A callback that throws makes
//! index.js call `cancel()`, which stops the operation.

use std::future::{Future, poll_fn};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use daytona_client::ClientError;
use daytona_client::toolbox::{ExecutionError, ExecutionResult, InterpreterEvent, Output};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::sync::{mpsc, oneshot, watch};

use crate::promise::spawn;

/// Chunks between the core and the delivery loop. Each is one read of the core (a network or
/// pipe chunk), so this bounds the memory a fast producer can fill while JS is busy.
pub const CHANNEL: usize = 64;
/// A batch stops growing at this many items or bytes (one Promise round trip per batch).
const BATCH_ITEMS: usize = 256;
const BATCH_BYTES: usize = 1 << 20;

/// One item for a callback.
pub enum Item {
    Stdout(String),
    Stderr(String),
    Error(ExecutionError),
    /// Bytes as the core read them: copied into a Buffer of Node's own on the JavaScript thread
    /// (see [`data_buffer`]), then dropped.
    Data(Box<dyn AsRef<[u8]> + Send>),
}

impl Item {
    fn size(&self) -> usize {
        match self {
            Item::Stdout(s) | Item::Stderr(s) => s.len(),
            Item::Error(e) => e.name.len() + e.value.len() + e.traceback.as_ref().map_or(0, String::len),
            Item::Data(d) => (**d).as_ref().len(),
        }
    }
}

/// A receiver of the core's items, whatever their type.
pub trait Source: Send {
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Item>>;
}

/// Followed session or entrypoint logs.
pub struct Logs(pub mpsc::Receiver<Output>);

impl Source for Logs {
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        self.0.poll_recv(cx).map(|o| {
            o.map(|o| match o {
                Output::Stdout(s) => Item::Stdout(s),
                Output::Stderr(s) => Item::Stderr(s),
            })
        })
    }
}

/// The interpreter's messages.
pub struct Events(pub mpsc::Receiver<InterpreterEvent>);

impl Source for Events {
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        self.0.poll_recv(cx).map(|e| {
            e.map(|e| match e {
                InterpreterEvent::Stdout(s) => Item::Stdout(s),
                InterpreterEvent::Stderr(s) => Item::Stderr(s),
                InterpreterEvent::Error(e) => Item::Error(e),
            })
        })
    }
}

/// PTY output bytes (any byte container the core uses).
pub struct Bytes<T>(pub mpsc::Receiver<T>);

impl<T: AsRef<[u8]> + Send + 'static> Source for Bytes<T> {
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Item::Data(Box::new(b))))
    }
}

/// A piece of output as a Buffer that Node allocates (`napi_create_buffer_copy`), not one
/// wrapping the core's memory (`napi_create_external_buffer`): V8 counts Node's Buffers with
/// the young generation, so those a reader has finished with go at a scavenge, as the chunks of
/// `fs.createReadStream` do, where pieces wrapping Rust memory waited for a full collection,
/// which V8 starts only after 64 MB of them: a 1 GiB `downloadFileStream` over HTTP (512 KiB
/// pieces) peaked 86 MB above idle with them, 47 MB with Node's (BENCHMARKS.md, "Results: file
/// transfers"). The copy replaces the one made before into a `Vec` for the external Buffer.
fn data_buffer<'env>(env: &'env Env, data: &[u8]) -> Result<BufferSlice<'env>> {
    BufferSlice::copy_from(env, data)
}

/// What the operation returns when its output has ended.
pub enum Finished {
    Nothing,
    Execution(ExecutionResult),
}

/// `ExecutionError` as the official SDK hands it over: `traceback` is `''` when there is none.
#[napi(object, object_from_js = false)]
pub struct JsExecutionError {
    pub name: String,
    pub value: String,
    pub traceback: String,
}

impl From<ExecutionError> for JsExecutionError {
    fn from(e: ExecutionError) -> Self {
        JsExecutionError { name: e.name, value: e.value, traceback: e.traceback.unwrap_or_default() }
    }
}

/// `ExecutionResult`: `error` only when the code raised.
#[napi(object, object_from_js = false)]
pub struct JsExecutionResult {
    pub stdout: String,
    pub stderr: String,
    pub error: Option<JsExecutionError>,
}

/// One item as index.js reads it: `kind` is `stdout`, `stderr`, `error` or `data`.
#[napi(object, object_from_js = false)]
pub struct StreamItem {
    pub kind: &'static str,
    pub text: Option<String>,
    pub error: Option<JsExecutionError>,
}

struct State {
    source: Option<Box<dyn Source>>,
    finished: Option<oneshot::Receiver<std::result::Result<Finished, ClientError>>>,
}

/// The pull side of a running operation (internal: index.js drives it).
#[napi(js_name = "_ToolboxStream")]
pub struct ToolboxStream {
    state: Arc<tokio::sync::Mutex<State>>,
    cancel: watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl ToolboxStream {
    /// Runs `op` on the runtime; its items come out of `source`.
    pub fn start<F>(source: Option<Box<dyn Source>>, op: F) -> Self
    where
        F: Future<Output = std::result::Result<Finished, ClientError>> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel();
        let task = napi::bindgen_prelude::spawn(async move {
            let _ = done_tx.send(op.await);
        });
        ToolboxStream {
            state: Arc::new(tokio::sync::Mutex::new(State { source, finished: Some(done_rx) })),
            cancel: watch::channel(false).0,
            task: Mutex::new(Some(task)),
        }
    }
}

impl Drop for ToolboxStream {
    fn drop(&mut self) {
        // Garbage-collected without reaching its end: nobody reads the output any more.
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
    }
}

/// Collects what is ready: waits for the first item, then takes more while they are already
/// there, up to the batch limits. `None`: the source has ended.
async fn next_batch(source: &mut dyn Source) -> Option<Vec<Item>> {
    let mut batch: Vec<Item> = Vec::new();
    let mut bytes = 0;
    let mut ended = false;
    poll_fn(|cx| {
        while !ended && batch.len() < BATCH_ITEMS && bytes < BATCH_BYTES {
            match source.poll_item(cx) {
                Poll::Ready(Some(item)) => {
                    bytes += item.size();
                    batch.push(item);
                }
                Poll::Ready(None) => ended = true,
                Poll::Pending if batch.is_empty() => return Poll::Pending,
                Poll::Pending => break,
            }
        }
        Poll::Ready(())
    })
    .await;
    if batch.is_empty() { None } else { Some(batch) }
}

#[napi]
impl ToolboxStream {
    /// The next items in order, or `null` once the output has ended (or `cancel()` was called).
    #[napi(ts_return_type = "Promise<Array<{ kind: 'stdout' | 'stderr' | 'error' | 'data'; text?: string; error?: ExecutionError; data?: Buffer }> | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<Array<'env>>>> {
        let state = self.state.clone();
        let mut cancelled = self.cancel.subscribe();
        spawn(
            env,
            async move {
                let mut state = state.lock().await;
                let Some(source) = state.source.as_mut() else { return Ok(Ok(None)) };
                let batch = tokio::select! {
                    biased;
                    _ = cancelled.wait_for(|c| *c) => None,
                    batch = next_batch(source.as_mut()) => batch,
                };
                if batch.is_none() {
                    // Ended: dropping the receiver tells a producer still running to stop.
                    state.source = None;
                }
                Ok(Ok(batch))
            },
            |env, batch| {
                let Some(items) = batch else { return Ok(None) };
                let mut array = env.create_array(items.len() as u32)?;
                for (i, item) in items.into_iter().enumerate() {
                    let i = i as u32;
                    match item {
                        Item::Stdout(s) => array.set(i, StreamItem { kind: "stdout", text: Some(s), error: None })?,
                        Item::Stderr(s) => array.set(i, StreamItem { kind: "stderr", text: Some(s), error: None })?,
                        Item::Error(e) => array.set(i, StreamItem { kind: "error", text: None, error: Some(e.into()) })?,
                        Item::Data(d) => {
                            let mut o = Object::new(env)?;
                            o.set_named_property("kind", "data")?;
                            o.set_named_property("data", &data_buffer(env, (*d).as_ref())?)?;
                            array.set(i, o)?
                        }
                    }
                }
                Ok(Some(array))
            },
        )
    }

    /// The operation's result once its output has ended: `undefined`, or the interpreter's
    /// `ExecutionResult`; rejects with the operation's error.
    #[napi(ts_return_type = "Promise<ExecutionResult | undefined>")]
    pub fn finish<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<JsExecutionResult>>> {
        let state = self.state.clone();
        spawn(
            env,
            async move {
                let finished = state.lock().await.finished.take();
                let Some(finished) = finished else { return Ok(Ok(Finished::Nothing)) };
                Ok(finished.await.unwrap_or_else(|_| Err(ClientError::generic("the operation was cancelled"))))
            },
            |_, f| {
                Ok(match f {
                    Finished::Nothing => None,
                    Finished::Execution(r) => Some(JsExecutionResult { stdout: r.stdout, stderr: r.stderr, error: r.error.map(Into::into) }),
                })
            },
        )
    }

    /// Stops the operation and ends the output (a callback threw, or the caller is done).
    #[napi]
    pub fn cancel(&self) {
        self.cancel.send_replace(true);
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
    }
}
