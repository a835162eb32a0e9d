//! The sandbox toolbox (`daytona-toolbox.json`): sessions, PTY, code run and the code
//! interpreter, written once over a [`ToolboxTransport`] that each backend provides — the API
//! backend reaches the sandbox's toolbox proxy over HTTPS and WebSocket, the local engine
//! reaches the agent inside the sandbox through a `docker exec` stream. Both speak the same
//! routes and bodies, so nothing here knows which backend is in use.

mod transport;

pub use transport::{ToolboxCall, ToolboxIo, ToolboxSocket, ToolboxTransport};

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use crate::error::{ClientError, Result};

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
}

fn not_yet() -> ClientError {
    ClientError::generic("this toolbox operation is not written yet")
}

impl Toolbox {
    pub fn new(transport: Arc<dyn ToolboxTransport>) -> Toolbox {
        Toolbox { transport }
    }

    pub async fn code_run(&self, _language: &str, _code: &str, _argv: Option<Vec<String>>, _env: Option<Vec<(String, String)>>, _timeout: Option<f64>) -> Result<CodeRunResult> {
        let _ = &self.transport;
        Err(not_yet())
    }
    pub async fn create_session(&self, _session_id: &str) -> Result<()> {
        Err(not_yet())
    }
    pub async fn get_session(&self, _session_id: &str) -> Result<Value> {
        Err(not_yet())
    }
    pub async fn get_entrypoint_session(&self) -> Result<Value> {
        Err(not_yet())
    }
    pub async fn get_session_command(&self, _session_id: &str, _command_id: &str) -> Result<Value> {
        Err(not_yet())
    }
    pub async fn execute_session_command(&self, _session_id: &str, _command: &str, _run_async: Option<bool>, _suppress_input_echo: Option<bool>, _timeout: Option<f64>) -> Result<Value> {
        Err(not_yet())
    }
    pub async fn get_session_command_logs(&self, _session_id: &str, _command_id: &str) -> Result<SessionLogs> {
        Err(not_yet())
    }
    pub async fn follow_session_command_logs(&self, _session_id: &str, _command_id: &str, _out: OutputSender) -> Result<()> {
        Err(not_yet())
    }
    pub async fn get_entrypoint_logs(&self) -> Result<SessionLogs> {
        Err(not_yet())
    }
    pub async fn follow_entrypoint_logs(&self, _out: OutputSender) -> Result<()> {
        Err(not_yet())
    }
    pub async fn send_session_command_input(&self, _session_id: &str, _command_id: &str, _data: &str) -> Result<()> {
        Err(not_yet())
    }
    pub async fn list_sessions(&self) -> Result<Value> {
        Err(not_yet())
    }
    pub async fn delete_session(&self, _session_id: &str) -> Result<()> {
        Err(not_yet())
    }

    pub async fn create_pty(&self, _opts: PtyCreateOptions) -> Result<PtyConnection> {
        Err(not_yet())
    }
    pub async fn connect_pty(&self, _session_id: &str) -> Result<PtyConnection> {
        Err(not_yet())
    }
    pub async fn list_pty_sessions(&self) -> Result<Value> {
        Err(not_yet())
    }
    pub async fn get_pty_session_info(&self, _session_id: &str) -> Result<Value> {
        Err(not_yet())
    }
    pub async fn kill_pty_session(&self, _session_id: &str) -> Result<()> {
        Err(not_yet())
    }
    pub async fn resize_pty_session(&self, _session_id: &str, _cols: f64, _rows: f64) -> Result<Value> {
        Err(not_yet())
    }

    pub async fn run_code(&self, _code: &str, _opts: RunCodeOptions, _out: tokio::sync::mpsc::Sender<InterpreterEvent>) -> Result<ExecutionResult> {
        Err(not_yet())
    }
    pub async fn create_interpreter_context(&self, _cwd: Option<&str>, _language: Option<&str>) -> Result<Value> {
        Err(not_yet())
    }
    pub async fn list_interpreter_contexts(&self) -> Result<Value> {
        Err(not_yet())
    }
    pub async fn delete_interpreter_context(&self, _context_id: &str) -> Result<()> {
        Err(not_yet())
    }
}

/// A connected PTY session (`PtyHandle`).
pub struct PtyConnection {
    session_id: String,
}

impl PtyConnection {
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
    /// The output bytes, once (the receiver is handed out to one reader).
    pub fn take_data(&self) -> Option<tokio::sync::mpsc::Receiver<Bytes>> {
        None
    }
    pub async fn send_input(&self, _data: Bytes) -> Result<()> {
        Err(not_yet())
    }
    pub async fn resize(&self, _cols: f64, _rows: f64) -> Result<Value> {
        Err(not_yet())
    }
    pub async fn kill(&self) -> Result<()> {
        Err(not_yet())
    }
    pub async fn disconnect(&self) {}
    pub async fn wait(&self) -> Result<PtyResult> {
        Err(not_yet())
    }
    pub fn exit_code(&self) -> Option<i32> {
        None
    }
    pub fn error(&self) -> Option<String> {
        None
    }
    pub fn is_connected(&self) -> bool {
        false
    }
}
