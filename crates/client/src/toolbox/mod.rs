//! The sandbox toolbox (`daytona-toolbox.json`): sessions, PTY, code run and the code
//! interpreter, written once over a [`ToolboxTransport`] that each backend provides — the API
//! backend reaches the sandbox's toolbox proxy over HTTPS and WebSocket, the local engine
//! reaches the agent inside the sandbox through a `docker exec` stream. Both speak the same
//! routes and bodies, so nothing here knows which backend is in use.

mod demux;
pub mod files;
mod info;
mod follow;
mod interpreter;
mod pty;
mod transport;

pub use demux::{Demuxer, Utf8Stream};
pub use interpreter::parse_interpreter_message;
pub use pty::{PtyConnection, PtyControl, parse_pty_close, parse_pty_text};
pub use transport::{ByteStream, StreamBody, StreamResponse, ToolboxCall, ToolboxIo, ToolboxSocket, ToolboxTransport};

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use http::Method;

use crate::backend::api::encode::{path_segment, query_string};
use crate::backend::api::json::{self, record, stringify};
use crate::backend::{Deadline, OperationContext};
use crate::error::{ClientError, ErrorKind, Result};

/// A chunk of a command's output, UTF-8 decoded per stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout(String),
    Stderr(String),
}

/// Where followed output goes: bounded, so a slow consumer slows the reader down.
pub type OutputSender = tokio::sync::mpsc::Sender<Output>;

/// `codeRun`'s `ExecuteResponse` with the charts parsed as the official SDK parses them.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeRunResult {
    pub exit_code: f64,
    pub result: String,
    /// `parseChart` output, one per chart artifact.
    pub charts: Vec<Value>,
}

/// `getSessionCommandLogs` without callbacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionLogs {
    pub output: String,
    pub stdout: String,
    pub stderr: String,
}

/// `createPty`'s options.
#[derive(Debug, Clone, Default)]
pub struct PtyCreateOptions {
    pub id: String,
    pub cwd: Option<String>,
    pub envs: Option<Vec<(String, String)>>,
    pub cols: Option<u16>,
    pub rows: Option<u16>,
}

/// How a PTY ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PtyResult {
    pub exit_code: Option<i32>,
    pub error: Option<String>,
}

/// `runCode`'s options (the callbacks become [`InterpreterEvent`]s).
#[derive(Debug, Clone, Default)]
pub struct RunCodeOptions {
    pub context_id: Option<String>,
    pub envs: Option<Vec<(String, String)>>,
    pub timeout: Option<f64>,
}

/// The interpreter's `ExecutionError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionError {
    pub name: String,
    pub value: String,
    pub traceback: Option<String>,
}

/// What `runCode` hands its callbacks, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpreterEvent {
    Stdout(String),
    Stderr(String),
    Error(ExecutionError),
}

/// `runCode`'s result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionResult {
    pub stdout: String,
    pub stderr: String,
    pub error: Option<ExecutionError>,
}

/// One sandbox's toolbox operations.
#[derive(Clone)]
pub struct Toolbox {
    transport: Arc<dyn ToolboxTransport>,
    /// The caller's AbortSignal: every call stops where it is when it is cancelled.
    cancel: tokio_util::sync::CancellationToken,
}

/// Extra time a code run's request gets over its execution timeout (the official SDK's
/// `EXEC_TIMEOUT_BUFFER_MS`).
const EXEC_TIMEOUT_BUFFER_MS: f64 = 5000.0;

/// The largest response that carries a command's output (code run, a synchronous session
/// command, a log snapshot): as large as `process/execute`'s; following logs streams instead.
const MAX_OUTPUT_BODY: usize = 256 << 20;

/// `encodeURIComponent(String(x))` of a path parameter.
fn seg(s: &str) -> String {
    path_segment(s)
}

/// A JSON object from the pairs that are set, in order (`JSON.stringify` leaves out undefined).
fn object(pairs: Vec<(&str, Option<Value>)>) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in pairs {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    }
    Value::Object(m)
}

/// `response.data`: the parsed body, the text itself when it is not JSON (axios), `""` when empty.
fn data(body: &[u8]) -> Value {
    json::parse_lenient(body)
}

/// `x ?? ''` for a string field of a response.
fn text_or_empty(v: &Value, key: &str) -> String {
    match v.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => stringify(other),
    }
}

/// The deadline of a request bounded by an execution `timeout` (codeRun): the timeout plus a
/// buffer; 0 lifts any deadline; none leaves the transport's default.
fn exec_deadline(timeout: Option<f64>) -> Deadline {
    match timeout {
        Some(t) if t > 0.0 && t.is_finite() => Deadline::Ms(t * 1000.0 + EXEC_TIMEOUT_BUFFER_MS),
        Some(0.0) => Deadline::Ms(0.0),
        _ => Deadline::Default,
    }
}

/// `timeout ? { timeout: timeout * 1000 } : {}` (executeSessionCommand).
fn session_exec_deadline(timeout: Option<f64>) -> Deadline {
    match timeout {
        Some(t) if t != 0.0 && !t.is_nan() => Deadline::Ms((t * 1000.0).max(0.0)),
        _ => Deadline::Default,
    }
}

/// `data.artifacts?.charts?.map(parseChart) ?? []`; `parseChart` returns each chart as it is
/// (its switch only narrows the TypeScript type).
pub fn parse_charts(data: &Value) -> Vec<Value> {
    data.get("artifacts").and_then(|a| a.get("charts")).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// `{ output, stdout, stderr }` with `''` defaults.
fn session_logs(v: &Value) -> SessionLogs {
    SessionLogs { output: text_or_empty(v, "output"), stdout: text_or_empty(v, "stdout"), stderr: text_or_empty(v, "stderr") }
}

impl Toolbox {
    pub fn new(transport: Arc<dyn ToolboxTransport>) -> Toolbox {
        Toolbox { transport, cancel: Default::default() }
    }

    /// These operations stop where they are when `token` is cancelled and fail with
    /// [`ErrorKind::Aborted`](crate::ErrorKind::Aborted); a session command that was running is
    /// ended in the sandbox where the toolbox can do that (see
    /// [`ToolboxTransport::kills_abandoned_commands`]).
    pub fn with_cancellation(mut self, token: tokio_util::sync::CancellationToken) -> Toolbox {
        self.cancel = token;
        self
    }

    /// The context of one toolbox request.
    fn context(&self) -> OperationContext {
        OperationContext::new().cancellable(self.cancel.clone())
    }

    /// A byte stream to the sandbox's toolbox server that speaks HTTP/1.1 (see
    /// [`ToolboxTransport::raw_connection`]); fails where the backend has none.
    pub async fn raw_connection(&self) -> Result<Box<dyn transport::ToolboxIo>> {
        let ctx = self.context();
        match ctx.run(self.transport.raw_connection(&ctx)).await? {
            Some(io) => Ok(io),
            None => Err(crate::error::ClientError::generic("This backend gives no direct connection to the toolbox")),
        }
    }

    pub(crate) fn transport(&self) -> &Arc<dyn ToolboxTransport> {
        &self.transport
    }

    async fn call(&self, call: ToolboxCall) -> Result<Bytes> {
        // The call carries its own deadline.
        let ctx = self.context();
        ctx.run(self.transport.call(&ctx, call)).await
    }

    async fn get(&self, path: String) -> Result<Value> {
        Ok(data(&self.call(ToolboxCall::new(Method::GET, path)).await?))
    }

    async fn post(&self, path: String, body: &Value, accept: &'static str, deadline: Deadline) -> Result<Value> {
        self.post_max(path, body, accept, deadline, ToolboxCall::DEFAULT_MAX_BODY).await
    }

    async fn post_max(&self, path: String, body: &Value, accept: &'static str, deadline: Deadline, max_body: usize) -> Result<Value> {
        let call = ToolboxCall::new(Method::POST, path).json(stringify(body)).accept(accept).deadline(deadline).max_body(max_body);
        Ok(data(&self.call(call).await?))
    }

    async fn delete(&self, path: String, accept: &'static str) -> Result<()> {
        self.call(ToolboxCall::new(Method::DELETE, path).accept(accept)).await?;
        Ok(())
    }

    /// `process.codeRun(code, { argv, env }, timeout)` in the sandbox's `language`.
    pub async fn code_run(&self, language: &str, code: &str, argv: Option<Vec<String>>, env: Option<Vec<(String, String)>>, timeout: Option<f64>) -> Result<CodeRunResult> {
        if language.is_empty() {
            return Err(ClientError::generic("Code language is required for codeRun"));
        }
        let body = object(vec![
            ("code", Some(Value::String(code.into()))),
            ("language", Some(Value::String(language.into()))),
            ("argv", argv.map(|a| Value::Array(a.into_iter().map(Value::String).collect()))),
            ("envs", env.map(|e| record(&e))),
            ("timeout", timeout.map(number)),
        ]);
        let v = self.post_max("process/code-run".into(), &body, "application/json", exec_deadline(timeout), MAX_OUTPUT_BODY).await?;
        let exit_code = match v.get("exitCode") {
            None | Some(Value::Null) => 0.0,
            Some(x) => x.as_f64().unwrap_or(0.0),
        };
        Ok(CodeRunResult { exit_code, result: text_or_empty(&v, "result"), charts: parse_charts(&v) })
    }

    pub async fn create_session(&self, session_id: &str) -> Result<()> {
        let body = object(vec![("sessionId", Some(Value::String(session_id.into())))]);
        self.post("process/session".into(), &body, "application/json", Deadline::Default).await?;
        Ok(())
    }

    pub async fn get_session(&self, session_id: &str) -> Result<Value> {
        self.get(format!("process/session/{}", seg(session_id))).await
    }

    pub async fn get_entrypoint_session(&self) -> Result<Value> {
        self.get("process/session/entrypoint".into()).await
    }

    pub async fn get_session_command(&self, session_id: &str, command_id: &str) -> Result<Value> {
        self.get(format!("process/session/{}/command/{}", seg(session_id), seg(command_id))).await
    }

    /// `executeSessionCommand(sessionId, { command, runAsync, suppressInputEcho }, timeout)`:
    /// the response with `stdout`/`stderr` defaulting to `''` (an existing key keeps its place).
    pub async fn execute_session_command(&self, session_id: &str, command: &str, run_async: Option<bool>, suppress_input_echo: Option<bool>, timeout: Option<f64>) -> Result<Value> {
        let body = object(vec![
            ("command", Some(Value::String(command.into()))),
            ("runAsync", run_async.map(Value::Bool)),
            ("suppressInputEcho", suppress_input_echo.map(Value::Bool)),
        ]);
        let path = format!("process/session/{}/exec", seg(session_id));
        let v = match self.post_max(path, &body, "application/json", session_exec_deadline(timeout), MAX_OUTPUT_BODY).await {
            Err(e) if (e.kind.is_timeout() || e.kind == ErrorKind::Aborted) && run_async != Some(true) && self.transport.kills_abandoned_commands() => {
                // Aborted, the kill runs unhindered by the cancelled token.
                let unhindered = Toolbox::new(self.transport.clone());
                unhindered.kill_abandoned(session_id, command).await;
                return Err(e);
            }
            other => other?,
        };
        let mut m = match v {
            Value::Object(m) => m,
            // `{...x}` of a string spreads its characters; of anything else, nothing.
            Value::String(s) => s.chars().enumerate().map(|(i, c)| (i.to_string(), Value::String(c.into()))).collect(),
            _ => serde_json::Map::new(),
        };
        for key in ["stdout", "stderr"] {
            let keep = m.get(key).is_some_and(|x| !x.is_null());
            if !keep {
                m.insert(key.into(), Value::String(String::new()));
            }
        }
        Ok(Value::Object(m))
    }

    /// Ends the command a timed-out `executeSessionCommand` left running: the session's last
    /// unfinished command with that text (its id never reached the caller). Best effort.
    async fn kill_abandoned(&self, session_id: &str, command: &str) {
        let Ok(session) = self.get_session(session_id).await else { return };
        let Some(commands) = session.get("commands").and_then(Value::as_array) else { return };
        let running = commands.iter().rev().find(|c| {
            c.get("command").and_then(Value::as_str) == Some(command) && c.get("exitCode").is_none_or(Value::is_null)
        });
        if let Some(id) = running.and_then(|c| c.get("id")).and_then(Value::as_str) {
            let path = format!("process/session/{}/command/{}/kill", seg(session_id), seg(id));
            let _ = self.call(ToolboxCall::new(Method::POST, path).accept("*/*")).await;
        }
    }

    pub async fn get_session_command_logs(&self, session_id: &str, command_id: &str) -> Result<SessionLogs> {
        let path = format!("process/session/{}/command/{}/logs", seg(session_id), seg(command_id));
        let call = ToolboxCall::new(Method::GET, path).accept("application/json,text/plain").max_body(MAX_OUTPUT_BODY);
        Ok(session_logs(&data(&self.call(call).await?)))
    }

    /// Follows a command's output until it ends (see [`follow`] for a dropped connection).
    pub async fn follow_session_command_logs(&self, session_id: &str, command_id: &str, out: OutputSender) -> Result<()> {
        // The official SDK puts the ids into the WebSocket URL as they are.
        let path = format!("process/session/{}/command/{}/logs?follow=true", follow::raw_segment(session_id), follow::raw_segment(command_id));
        follow::follow(self, &path, out).await
    }

    pub async fn get_entrypoint_logs(&self) -> Result<SessionLogs> {
        let call = ToolboxCall::new(Method::GET, "process/session/entrypoint/logs").accept("application/json,text/plain").max_body(MAX_OUTPUT_BODY);
        Ok(session_logs(&data(&self.call(call).await?)))
    }

    pub async fn follow_entrypoint_logs(&self, out: OutputSender) -> Result<()> {
        follow::follow(self, "process/session/entrypoint/logs?follow=true", out).await
    }

    pub async fn send_session_command_input(&self, session_id: &str, command_id: &str, data: &str) -> Result<()> {
        let body = object(vec![("data", Some(Value::String(data.into())))]);
        let path = format!("process/session/{}/command/{}/input", seg(session_id), seg(command_id));
        self.post(path, &body, "*/*", Deadline::Default).await?;
        Ok(())
    }

    pub async fn list_sessions(&self) -> Result<Value> {
        self.get("process/session".into()).await
    }

    pub async fn delete_session(&self, session_id: &str) -> Result<()> {
        self.delete(format!("process/session/{}", seg(session_id)), "*/*").await
    }

    /// `createPty`: one WebSocket to `process/pty/create-connect` creates the PTY and connects
    /// to it; returns once the toolbox said it is connected.
    pub async fn create_pty(&self, opts: PtyCreateOptions) -> Result<PtyConnection> {
        let mut q = vec![
            ("id".to_string(), opts.id.clone()),
            ("cols".to_string(), opts.cols.unwrap_or(80).to_string()),
            ("rows".to_string(), opts.rows.unwrap_or(24).to_string()),
        ];
        if let Some(cwd) = opts.cwd.as_deref().filter(|c| !c.is_empty()) {
            q.push(("cwd".into(), cwd.into()));
        }
        let path = format!("process/pty/create-connect?{}", query_string(&q));
        let mut protocols = Vec::new();
        if let Some(envs) = opts.envs.as_ref().filter(|e| !e.is_empty()) {
            protocols.push(pty::envs_subprotocol(envs));
        }
        protocols.push(pty::EXIT_CONTROL_SUBPROTOCOL.to_string());
        PtyConnection::open(self.clone(), opts.id, &path, &protocols).await
    }

    pub async fn connect_pty(&self, session_id: &str) -> Result<PtyConnection> {
        let path = format!("process/pty/{}/connect", follow::raw_segment(session_id));
        PtyConnection::open(self.clone(), session_id.to_string(), &path, &[pty::EXIT_CONTROL_SUBPROTOCOL.to_string()]).await
    }

    /// `.data.sessions`.
    pub async fn list_pty_sessions(&self) -> Result<Value> {
        let v = self.get("process/pty".into()).await?;
        Ok(v.get("sessions").cloned().unwrap_or(Value::Null))
    }

    pub async fn get_pty_session_info(&self, session_id: &str) -> Result<Value> {
        self.get(format!("process/pty/{}", seg(session_id))).await
    }

    pub async fn kill_pty_session(&self, session_id: &str) -> Result<()> {
        self.delete(format!("process/pty/{}", seg(session_id)), "application/json").await
    }

    pub async fn resize_pty_session(&self, session_id: &str, cols: f64, rows: f64) -> Result<Value> {
        let body = object(vec![("cols", Some(number(cols))), ("rows", Some(number(rows)))]);
        self.post(format!("process/pty/{}/resize", seg(session_id)), &body, "application/json", Deadline::Default).await
    }

    /// `codeInterpreter.runCode`: events go to `out` in order as they arrive.
    pub async fn run_code(&self, code: &str, opts: RunCodeOptions, out: tokio::sync::mpsc::Sender<InterpreterEvent>) -> Result<ExecutionResult> {
        interpreter::run_code(self, code, opts, out).await
    }

    /// `createContext(cwd)` (`language` is sent when given).
    pub async fn create_interpreter_context(&self, cwd: Option<&str>, language: Option<&str>) -> Result<Value> {
        let body = object(vec![
            ("cwd", cwd.map(|c| Value::String(c.into()))),
            ("language", language.map(|l| Value::String(l.into()))),
        ]);
        self.post("process/interpreter/context".into(), &body, "application/json", Deadline::Default).await
    }

    /// `.data.contexts ?? []`.
    pub async fn list_interpreter_contexts(&self) -> Result<Value> {
        let v = self.get("process/interpreter/context".into()).await?;
        Ok(match v.get("contexts") {
            None | Some(Value::Null) => Value::Array(Vec::new()),
            Some(c) => c.clone(),
        })
    }

    pub async fn delete_interpreter_context(&self, context_id: &str) -> Result<()> {
        self.delete(format!("process/interpreter/context/{}", seg(context_id)), "application/json").await
    }
}

/// A JavaScript number as JSON (integers without a fraction, as `JSON.stringify` writes them).
fn number(n: f64) -> Value {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_returned_as_sent() {
        let v: Value = serde_json::from_str(r#"{"exitCode":0,"result":"","artifacts":{"charts":[{"type":"line","title":"t","elements":[]},{"type":"weird"}]}}"#).unwrap();
        let charts = parse_charts(&v);
        assert_eq!(charts.len(), 2);
        assert_eq!(charts[0]["type"], "line");
        assert_eq!(charts[1], serde_json::json!({"type": "weird"}));
        assert!(parse_charts(&serde_json::json!({"result": "x"})).is_empty());
        assert!(parse_charts(&serde_json::json!({"artifacts": {"charts": null}})).is_empty());
    }

    #[test]
    fn bodies_leave_out_what_is_not_set() {
        let b = object(vec![("command", Some(Value::String("ls".into()))), ("runAsync", None), ("suppressInputEcho", Some(Value::Bool(true)))]);
        assert_eq!(stringify(&b), r#"{"command":"ls","suppressInputEcho":true}"#);
        assert_eq!(stringify(&object(vec![("cols", Some(number(120.0))), ("rows", Some(number(30.5)))])), r#"{"cols":120,"rows":30.5}"#);
    }

    #[test]
    fn deadlines() {
        assert_eq!(exec_deadline(Some(5.0)), Deadline::Ms(10_000.0));
        assert_eq!(exec_deadline(Some(0.0)), Deadline::Ms(0.0));
        assert_eq!(exec_deadline(None), Deadline::Default);
        assert_eq!(session_exec_deadline(Some(2.0)), Deadline::Ms(2000.0));
        assert_eq!(session_exec_deadline(Some(0.0)), Deadline::Default);
        assert_eq!(session_exec_deadline(None), Deadline::Default);
    }

    /// A transport that answers calls from a script and records them.
    struct Scripted {
        kills: bool,
        calls: std::sync::Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl ToolboxTransport for Scripted {
        async fn call(&self, _ctx: &OperationContext, call: ToolboxCall) -> Result<Bytes> {
            self.calls.lock().unwrap().push(format!("{} {} {}", call.method, call.path, call.json.unwrap_or_default()));
            match (call.method.as_str(), call.path.as_str()) {
                ("POST", "process/session/s/exec") => Err(ClientError::timeout("timeout of 1000ms exceeded")),
                ("GET", "process/session/s") => Ok(Bytes::from_static(
                    br#"{"sessionId":"s","commands":[{"id":"c1","command":"sleep 9","exitCode":0},{"id":"c2","command":"sleep 9"},{"id":"c3","command":"other"}]}"#,
                )),
                _ => Ok(Bytes::new()),
            }
        }
        async fn call_streaming(&self, _ctx: &OperationContext, _call: ToolboxCall, _body: Option<StreamBody>) -> Result<StreamResponse> {
            Err(ClientError::generic("no streams here"))
        }
        async fn websocket(&self, _ctx: &OperationContext, _path: &str, _subprotocols: &[String]) -> Result<ToolboxSocket> {
            Err(ClientError::generic("no sockets here"))
        }
        fn kills_abandoned_commands(&self) -> bool {
            self.kills
        }
    }

    #[tokio::test]
    async fn a_timed_out_session_command_is_ended_where_the_toolbox_can() {
        for kills in [true, false] {
            let t = Arc::new(Scripted { kills, calls: Default::default() });
            let tb = Toolbox::new(t.clone());
            let e = tb.execute_session_command("s", "sleep 9", None, None, Some(1.0)).await.unwrap_err();
            assert!(e.kind.is_timeout());
            let calls = t.calls.lock().unwrap().clone();
            let mut expected = vec![r#"POST process/session/s/exec {"command":"sleep 9"}"#.to_string()];
            if kills {
                expected.push("GET process/session/s ".into());
                expected.push("POST process/session/s/command/c2/kill ".into());
            }
            assert_eq!(calls, expected);
        }
    }

    #[test]
    fn session_logs_default_to_empty() {
        let l = session_logs(&serde_json::json!({"output": "ab", "stdout": "a"}));
        assert_eq!(l, SessionLogs { output: "ab".into(), stdout: "a".into(), stderr: String::new() });
        assert_eq!(session_logs(&Value::String("plain".into())), SessionLogs::default());
    }
}
