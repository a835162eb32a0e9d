//! Code interpreter contexts: one long-lived `python3` worker per context (state persists
//! between runs), driven over WebSocket with the stdout/stderr/error/control messages
//! `CodeInterpreter.runCode` expects.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::http::{ApiError, Ws, utf8_chunk};

const WORKER: &str = include_str!("repl_worker.py");
const DEFAULT_CONTEXT: &str = "default";
/// Close code `CodeInterpreter` maps to a timeout error.
const CLOSE_TIMEOUT: u16 = 4008;

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    stderr: ChildStderr,
    events: BufReader<pipe::Receiver>,
}

impl Worker {
    fn interrupt(&self) {
        if let Some(pid) = self.child.id().and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
        }
    }
}

pub struct Context {
    id: String,
    cwd: String,
    created_at: String,
    worker: tokio::sync::Mutex<Option<Worker>>,
}

impl Context {
    fn info(&self) -> Value {
        json!({ "id": self.id, "cwd": self.cwd, "createdAt": self.created_at, "active": true, "language": "python" })
    }
}

pub struct Interpreters {
    dir: PathBuf,
    map: Mutex<HashMap<String, Arc<Context>>>,
}

#[derive(Deserialize)]
pub struct CreateReq {
    cwd: Option<String>,
    language: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecReq {
    code: Option<String>,
    context_id: Option<String>,
    envs: Option<HashMap<String, String>>,
    timeout: Option<f64>,
}

impl Interpreters {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, map: Mutex::new(HashMap::new()) }
    }

    fn spawn_worker(&self, cwd: &str) -> std::io::Result<Worker> {
        let script = self.dir.join("repl_worker.py");
        if !script.exists() {
            std::fs::write(&script, WORKER)?;
        }
        let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let w_raw = w.as_raw_fd();
        let mut cmd = crate::env::command("python3");
        cmd.arg(&script)
            .current_dir(cwd)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        // SAFETY: only dup2/fcntl between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if w_raw == 3 {
                    let fd = std::os::fd::BorrowedFd::borrow_raw(3);
                    rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty())?;
                } else {
                    let src = std::os::fd::BorrowedFd::borrow_raw(w_raw);
                    let mut target = OwnedFd::from_raw_fd(3);
                    let res = rustix::io::dup2(src, &mut target);
                    std::mem::forget(target);
                    res?;
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn()?;
        drop(cmd);
        drop(w);
        let events = BufReader::new(pipe::Receiver::from_owned_fd(r)?);
        Ok(Worker {
            stdin: child.stdin.take().expect("piped"),
            stdout: child.stdout.take().expect("piped"),
            stderr: child.stderr.take().expect("piped"),
            child,
            events,
        })
    }

    fn new_context(&self, id: String, cwd: Option<String>) -> Result<Arc<Context>, ApiError> {
        let cwd = match cwd.filter(|c| !c.is_empty()) {
            Some(c) => c,
            None => std::env::current_dir().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "/".into()),
        };
        let worker = self.spawn_worker(&cwd).map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::NotFound && std::path::Path::new(&cwd).is_dir() {
                "python3 not found in the sandbox".to_string()
            } else {
                e.to_string()
            };
            ApiError::internal(format!("failed to create interpreter context: {why}"))
        })?;
        Ok(Arc::new(Context {
            id,
            cwd,
            created_at: crate::http::rfc3339_now(),
            worker: tokio::sync::Mutex::new(Some(worker)),
        }))
    }

    pub fn create(&self, req: CreateReq) -> Result<Value, ApiError> {
        let language = req.language.unwrap_or_default();
        if !language.is_empty() && language != "python" {
            return Err(ApiError::bad_request(format!(
                "unsupported language: {language} (only 'python' is supported currently)"
            )));
        }
        let ctx = self.new_context(uuid::Uuid::new_v4().to_string(), req.cwd)?;
        let info = ctx.info();
        self.map.lock().unwrap().insert(ctx.id.clone(), ctx);
        Ok(info)
    }

    pub fn list(&self) -> Value {
        let map = self.map.lock().unwrap();
        let mut all: Vec<&Arc<Context>> = map.values().filter(|c| c.id != DEFAULT_CONTEXT).collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        let v: Vec<Value> = all.into_iter().map(|c| c.info()).collect();
        json!({ "contexts": v })
    }

    pub fn delete(&self, id: &str) -> Result<Value, ApiError> {
        if id.is_empty() {
            return Err(ApiError::bad_request("context ID is required"));
        }
        if id == DEFAULT_CONTEXT {
            return Err(ApiError::bad_request("cannot delete default context"));
        }
        // Dropping the context drops the worker (kill_on_drop).
        self.map
            .lock()
            .unwrap()
            .remove(id)
            .map(|_| json!({ "message": "Context deleted successfully" }))
            .ok_or_else(|| ApiError::not_found(format!("context not found: {id}")))
    }

    fn context(&self, id: Option<&str>) -> Result<Arc<Context>, (String, CloseCode)> {
        let id = id.filter(|s| !s.is_empty()).unwrap_or(DEFAULT_CONTEXT);
        if let Some(c) = self.map.lock().unwrap().get(id) {
            return Ok(c.clone());
        }
        if id != DEFAULT_CONTEXT {
            return Err((format!("context not found: {id}"), CloseCode::Policy));
        }
        let ctx = self
            .new_context(DEFAULT_CONTEXT.into(), None)
            .map_err(|e| (format!("failed to get default context: {}", e.message), CloseCode::Error))?;
        Ok(self.map.lock().unwrap().entry(DEFAULT_CONTEXT.into()).or_insert(ctx).clone())
    }

    pub fn kill_all(&self) {
        self.map.lock().unwrap().clear();
    }
}

type WsTx = futures_util::stream::SplitSink<Ws, Message>;

async fn send_json(tx: &mut WsTx, v: Value) -> bool {
    tx.send(Message::text(v.to_string())).await.is_ok()
}

async fn close(tx: &mut WsTx, code: CloseCode, reason: &str) {
    let _ = tx.send(Message::Close(Some(CloseFrame { code, reason: reason.to_string().into() }))).await;
}

async fn fail(tx: &mut WsTx, message: &str, code: CloseCode) {
    send_json(tx, json!({ "type": "error", "name": "Error", "value": message, "traceback": "" })).await;
    close(tx, code, message).await;
}

fn drain_now(fd: impl AsFd, pending: &mut Vec<u8>) -> String {
    let mut out = String::new();
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = rustix::io::read(fd.as_fd(), &mut buf) {
        if n == 0 {
            break;
        }
        out.push_str(&utf8_chunk(pending, &buf[..n]));
    }
    out
}

/// One `runCode` call: first message is the request; output streams back until completion.
pub async fn execute(interps: Arc<Interpreters>, ws: Ws) {
    let (mut tx, mut rx) = ws.split();
    let req: ExecReq = loop {
        match rx.next().await {
            Some(Ok(Message::Text(t))) => match serde_json::from_str(&t) {
                Ok(r) => break r,
                Err(_) => return fail(&mut tx, "invalid JSON payload", CloseCode::Protocol).await,
            },
            Some(Ok(Message::Binary(b))) => match serde_json::from_slice(&b) {
                Ok(r) => break r,
                Err(_) => return fail(&mut tx, "invalid JSON payload", CloseCode::Protocol).await,
            },
            Some(Ok(_)) => continue,
            _ => return,
        }
    };
    let code = req.code.unwrap_or_default();
    if code.trim().is_empty() {
        return fail(&mut tx, "code is required", CloseCode::Policy).await;
    }
    if req.timeout.is_some_and(|t| t < 0.0) {
        return fail(&mut tx, "timeout must be greater than or equal to 0", CloseCode::Policy).await;
    }
    let ctx = match interps.context(req.context_id.as_deref()) {
        Ok(c) => c,
        Err((m, c)) => return fail(&mut tx, &m, c).await,
    };
    let mut slot = ctx.worker.lock().await;
    if slot.as_mut().is_none_or(|w| w.child.try_wait().ok().flatten().is_some()) {
        // The worker died (e.g. killed after a timeout): start over with fresh state.
        match interps.spawn_worker(&ctx.cwd) {
            Ok(w) => *slot = Some(w),
            Err(e) => return fail(&mut tx, &format!("failed to start interpreter: {e}"), CloseCode::Error).await,
        }
    }
    let worker = slot.as_mut().expect("worker present");
    let line = json!({ "code": code, "envs": req.envs.unwrap_or_default() }).to_string() + "\n";
    if worker.stdin.write_all(line.as_bytes()).await.is_err() {
        *slot = None;
        return fail(&mut tx, "interpreter is not running", CloseCode::Error).await;
    }
    let deadline = req
        .timeout
        .filter(|t| *t > 0.0)
        .map(|t| tokio::time::Instant::now() + Duration::from_secs_f64(t));
    let mut timed_out = false;
    let mut client_gone = false;
    let (mut pout, mut perr) = (Vec::new(), Vec::new());
    let (mut bo, mut be) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let mut ev = String::new();
    let mut grace: Option<tokio::time::Instant> = None;
    let finished = loop {
        let wake = grace.or(if timed_out { None } else { deadline });
        let sleep = async {
            match wake {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            n = worker.stdout.read(&mut bo) => match n {
                Ok(n) if n > 0 => {
                    let text = utf8_chunk(&mut pout, &bo[..n]);
                    if !timed_out && !client_gone && !text.is_empty() {
                        client_gone = !send_json(&mut tx, json!({ "type": "stdout", "text": text })).await;
                    }
                }
                _ => break false,
            },
            n = worker.stderr.read(&mut be) => match n {
                Ok(n) if n > 0 => {
                    let text = utf8_chunk(&mut perr, &be[..n]);
                    if !timed_out && !client_gone && !text.is_empty() {
                        client_gone = !send_json(&mut tx, json!({ "type": "stderr", "text": text })).await;
                    }
                }
                _ => break false,
            },
            r = worker.events.read_line(&mut ev) => {
                if !matches!(r, Ok(n) if n > 0) { break false; }
                let msg: Value = serde_json::from_str(ev.trim()).unwrap_or(Value::Null);
                ev.clear();
                match msg["type"].as_str() {
                    Some("done") => break true,
                    Some("error") if !timed_out && !client_gone => {
                        let out = json!({ "type": "error", "name": msg["name"], "value": msg["value"], "traceback": msg["traceback"] });
                        client_gone = !send_json(&mut tx, out).await;
                    }
                    _ => {}
                }
            },
            m = rx.next(), if !client_gone => match m {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    // Nobody is listening: stop the code, keep the context.
                    client_gone = true;
                    worker.interrupt();
                    grace.get_or_insert(tokio::time::Instant::now() + Duration::from_secs(2));
                }
                _ => {}
            },
            _ = sleep => {
                if grace.is_some() {
                    break false;
                }
                timed_out = true;
                worker.interrupt();
                grace = Some(tokio::time::Instant::now() + Duration::from_secs(2));
            }
        }
    };
    if !finished {
        // Interrupt did not help (or the worker died): restart it on the next run.
        *slot = None;
    } else if !timed_out && !client_gone {
        let out = drain_now(&worker.stdout, &mut pout);
        if !out.is_empty() {
            send_json(&mut tx, json!({ "type": "stdout", "text": out })).await;
        }
        let err = drain_now(&worker.stderr, &mut perr);
        if !err.is_empty() {
            send_json(&mut tx, json!({ "type": "stderr", "text": err })).await;
        }
    }
    drop(slot);
    if client_gone {
        return;
    }
    if timed_out {
        close(&mut tx, CloseCode::from(CLOSE_TIMEOUT), "execution timed out").await;
    } else if finished {
        send_json(&mut tx, json!({ "type": "control", "text": "completed" })).await;
        close(&mut tx, CloseCode::Normal, "").await;
    } else {
        fail(&mut tx, "interpreter worker exited", CloseCode::Error).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(m)) = rx.next().await {
            if m.is_close() {
                break;
            }
        }
    })
    .await;
}
