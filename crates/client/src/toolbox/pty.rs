//! A PTY session's WebSocket (`PtyHandle`): binary frames carry terminal bytes both ways; text
//! frames from the toolbox are JSON control messages (`connected`, `exited` with its exit code
//! — sent because the client offers `X-Daytona-Pty-Exit-Control` — or `error`) or else terminal
//! text; the close frame's reason may carry the exit as JSON. Environment variables of a new
//! PTY travel as a subprotocol token (`X-Daytona-Pty-Envs~` + base64url of the JSON object).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use super::{PtyResult, Toolbox, ToolboxSocket};
use crate::backend::OperationContext;
use crate::backend::api::json::{record, stringify};
use crate::error::{ClientError, ErrorKind, Result};

pub const EXIT_CONTROL_SUBPROTOCOL: &str = "X-Daytona-Pty-Exit-Control";

/// Output chunks buffered for the consumer before reading the socket waits.
const DATA_CAPACITY: usize = 64;
/// How long `createPty`/`connectPty` wait for the `connected` message (the official SDK's).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a disconnect waits for the toolbox to answer the close (`ws`' close timeout).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// The subprotocol token carrying a new PTY's environment.
pub fn envs_subprotocol(envs: &[(String, String)]) -> String {
    let json = stringify(&record(envs));
    format!("X-Daytona-Pty-Envs~{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.as_bytes()))
}

/// A control message of the PTY protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PtyControl {
    Connected,
    Exited { exit_code: Option<i32>, reason: Option<String> },
    Error(String),
}

/// A JavaScript number that is an exit code.
fn exit_code_of(v: Option<&Value>) -> Option<i32> {
    v.and_then(Value::as_f64).filter(|f| f.fract() == 0.0 && *f >= i32::MIN as f64 && *f <= i32::MAX as f64).map(|f| f as i32)
}

/// JavaScript truthiness of an optional string field, as text.
fn truthy_text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(v @ (Value::Number(_) | Value::Object(_) | Value::Array(_))) => Some(stringify(v)),
        Some(Value::Bool(true)) => Some("true".into()),
        _ => None,
    }
}

/// A text frame: a control message, or `None` when it is terminal output.
pub fn parse_pty_text(text: &str) -> Option<PtyControl> {
    let v: Value = serde_json::from_str(text).ok()?;
    if v.get("type").and_then(Value::as_str) != Some("control") {
        return None;
    }
    match v.get("status").and_then(Value::as_str) {
        Some("connected") => Some(PtyControl::Connected),
        Some("exited") => Some(PtyControl::Exited { exit_code: exit_code_of(v.get("exitCode")), reason: truthy_text(v.get("exitReason")) }),
        Some("error") => Some(PtyControl::Error(truthy_text(v.get("error")).unwrap_or_else(|| "Unknown connection error".into()))),
        // Any other control message is shown as output, as the official SDK does.
        _ => None,
    }
}

/// What a close frame (`code`, `reason`) says about the exit, given what is known: the new
/// `(exit_code, error)`.
pub fn parse_pty_close(code: Option<u16>, reason: &str, exit_code: Option<i32>, error: Option<String>) -> (Option<i32>, Option<String>) {
    let (mut exit_code, mut error) = (exit_code, error);
    if exit_code.is_none() && !reason.is_empty() {
        match serde_json::from_str::<Value>(reason) {
            Ok(Value::Object(m)) => {
                if let Some(c) = m.get("exitCode").filter(|c| c.is_number()) {
                    exit_code = exit_code_of(Some(c));
                    if let Some(r) = truthy_text(m.get("exitReason")) {
                        error = Some(r);
                    }
                }
                if let Some(e) = truthy_text(m.get("error")) {
                    error = Some(e);
                }
            }
            Ok(Value::Null) | Err(_) if code == Some(1000) => exit_code = Some(0),
            _ => {}
        }
    }
    if exit_code.is_none() && code == Some(1000) {
        exit_code = Some(0);
    }
    (exit_code, error)
}

#[derive(Debug, Clone, Default)]
struct State {
    /// The socket is open and the PTY has not exited.
    connected: bool,
    /// The toolbox said `connected` (or `exited`).
    established: bool,
    /// The socket is closed.
    closed: bool,
    /// `wait()` may return: exited, or the socket closed.
    ended: bool,
    exit_code: Option<i32>,
    error: Option<String>,
}

struct Shared {
    state: watch::Sender<State>,
    sink: tokio::sync::Mutex<SplitSink<ToolboxSocket, Message>>,
    /// The output receiver until someone takes it.
    data: Mutex<Option<mpsc::Receiver<Bytes>>>,
    reader: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A connected PTY session (`PtyHandle`).
pub struct PtyConnection {
    session_id: String,
    toolbox: Toolbox,
    shared: Arc<Shared>,
}

impl PtyConnection {
    /// Opens the WebSocket at `path` and waits for the toolbox's `connected`.
    pub(super) async fn open(toolbox: Toolbox, session_id: String, path: &str, protocols: &[String]) -> Result<PtyConnection> {
        let socket = toolbox.transport().websocket(&OperationContext::new(), path, protocols).await?;
        let (sink, stream) = socket.split();
        let (tx, rx) = mpsc::channel(DATA_CAPACITY);
        let (state, _) = watch::channel(State { connected: true, ..Default::default() });
        let shared = Arc::new(Shared { state, sink: tokio::sync::Mutex::new(sink), data: Mutex::new(Some(rx)), reader: Mutex::new(None) });
        let task = tokio::spawn(read_loop(shared.clone(), stream, tx));
        *shared.reader.lock().unwrap() = Some(task);
        let pty = PtyConnection { session_id, toolbox, shared };
        if let Err(e) = pty.wait_for_connection().await {
            pty.disconnect().await;
            return Err(e);
        }
        Ok(pty)
    }

    async fn wait_for_connection(&self) -> Result<()> {
        let mut rx = self.shared.state.subscribe();
        let wait = rx.wait_for(|s| s.established || s.closed || s.error.is_some());
        let s = match tokio::time::timeout(CONNECT_TIMEOUT, wait).await {
            Err(_) => return Err(ClientError::timeout("PTY connection timeout")),
            Ok(Err(_)) => return Err(ClientError::new(ErrorKind::Connection, "Connection failed")),
            Ok(Ok(s)) => s.clone(),
        };
        if s.established {
            return Ok(());
        }
        Err(ClientError::new(ErrorKind::Connection, s.error.unwrap_or_else(|| "Connection closed".into())))
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The terminal output, once: the receiver goes to the first caller. Until it is taken the
    /// oldest chunks beyond a small buffer are dropped (as the official handle drops output
    /// without an `onData`); once taken, a slow reader slows the socket down.
    pub fn take_data(&self) -> Option<mpsc::Receiver<Bytes>> {
        self.shared.data.lock().unwrap().take()
    }

    pub async fn send_input(&self, data: Bytes) -> Result<()> {
        if !self.is_connected() {
            return Err(ClientError::new(ErrorKind::Connection, "PTY is not connected"));
        }
        let mut sink = self.shared.sink.lock().await;
        sink.send(Message::Binary(data))
            .await
            .map_err(|e| ClientError::new(ErrorKind::Connection, format!("Failed to send input to PTY: {e}")))
    }

    pub async fn resize(&self, cols: f64, rows: f64) -> Result<Value> {
        self.toolbox.resize_pty_session(&self.session_id, cols, rows).await
    }

    pub async fn kill(&self) -> Result<()> {
        self.toolbox.kill_pty_session(&self.session_id).await
    }

    /// Closes the WebSocket (the PTY keeps running in the sandbox).
    pub async fn disconnect(&self) {
        {
            let mut sink = self.shared.sink.lock().await;
            let _ = sink.send(Message::Close(None)).await;
        }
        // Stop reading if the toolbox never answers the close.
        let task = self.shared.reader.lock().unwrap().take();
        if let Some(task) = task {
            let abort = task.abort_handle();
            tokio::spawn(async move {
                if tokio::time::timeout(CLOSE_TIMEOUT, task).await.is_err() {
                    abort.abort();
                }
            });
        }
    }

    /// Waits for the PTY to exit (or the connection to end).
    pub async fn wait(&self) -> Result<PtyResult> {
        let mut rx = self.shared.state.subscribe();
        let now = rx.borrow().clone();
        if now.exit_code.is_some() {
            return Ok(PtyResult { exit_code: now.exit_code, error: now.error });
        }
        if let Some(e) = now.error {
            return Err(ClientError::generic(e));
        }
        let s = match rx.wait_for(|s| s.ended).await {
            Ok(s) => s.clone(),
            Err(_) => self.shared.state.borrow().clone(),
        };
        Ok(PtyResult { exit_code: s.exit_code, error: s.error })
    }

    pub fn exit_code(&self) -> Option<i32> {
        self.shared.state.borrow().exit_code
    }

    pub fn error(&self) -> Option<String> {
        self.shared.state.borrow().error.clone()
    }

    pub fn is_connected(&self) -> bool {
        let s = self.shared.state.borrow();
        s.connected && !s.closed
    }
}

/// Hands a chunk of output to the consumer (see [`PtyConnection::take_data`]).
async fn deliver(shared: &Shared, tx: &mpsc::Sender<Bytes>, chunk: Bytes) {
    let chunk = match tx.try_send(chunk) {
        Ok(()) => return,
        Err(mpsc::error::TrySendError::Closed(_)) => return,
        Err(mpsc::error::TrySendError::Full(c)) => c,
    };
    {
        let mut slot = shared.data.lock().unwrap();
        if let Some(rx) = slot.as_mut() {
            // Nobody reads yet: make room by dropping the oldest chunk.
            let _ = rx.try_recv();
            let _ = tx.try_send(chunk);
            return;
        }
    }
    let _ = tx.send(chunk).await;
}

async fn read_loop(shared: Arc<Shared>, mut stream: SplitStream<ToolboxSocket>, tx: mpsc::Sender<Bytes>) {
    let mut close: Option<(Option<u16>, String)> = None;
    while let Some(msg) = stream.next().await {
        match msg {
            Ok(Message::Binary(b)) => deliver(&shared, &tx, b).await,
            Ok(Message::Text(t)) => match parse_pty_text(t.as_str()) {
                Some(PtyControl::Connected) => shared.state.send_modify(|s| s.established = true),
                Some(PtyControl::Exited { exit_code, reason }) => shared.state.send_modify(|s| {
                    s.exit_code = exit_code;
                    if reason.is_some() {
                        s.error = reason;
                    }
                    s.established = true;
                    s.connected = false;
                    s.ended = true;
                }),
                Some(PtyControl::Error(e)) => shared.state.send_modify(|s| {
                    s.error = Some(e);
                    s.connected = false;
                }),
                None => deliver(&shared, &tx, Bytes::from(t)).await,
            },
            Ok(Message::Close(frame)) => {
                close = Some(match frame {
                    Some(f) => (Some(u16::from(f.code)), f.reason.as_str().to_string()),
                    None => (None, String::new()),
                });
            }
            Ok(_) => {}
            Err(e) => {
                shared.state.send_modify(|s| {
                    s.error = Some(e.to_string());
                    s.connected = false;
                });
                break;
            }
        }
    }
    // A connection that ended without a close frame is 1006 (abnormal closure).
    let (code, reason) = close.unwrap_or((Some(1006), String::new()));
    shared.state.send_modify(|s| {
        let (exit_code, error) = parse_pty_close(code, &reason, s.exit_code, s.error.take());
        s.exit_code = exit_code;
        s.error = error;
        s.connected = false;
        s.closed = true;
        s.ended = true;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages() {
        assert_eq!(parse_pty_text(r#"{"type":"control","status":"connected"}"#), Some(PtyControl::Connected));
        assert_eq!(
            parse_pty_text(r#"{"type":"control","status":"exited","exitCode":3,"exitReason":"killed"}"#),
            Some(PtyControl::Exited { exit_code: Some(3), reason: Some("killed".into()) })
        );
        assert_eq!(
            parse_pty_text(r#"{"type":"control","status":"exited","exitCode":0,"exitReason":""}"#),
            Some(PtyControl::Exited { exit_code: Some(0), reason: None })
        );
        assert_eq!(parse_pty_text(r#"{"type":"control","status":"error","error":"no such session"}"#), Some(PtyControl::Error("no such session".into())));
        assert_eq!(parse_pty_text(r#"{"type":"control","status":"error"}"#), Some(PtyControl::Error("Unknown connection error".into())));
        // Terminal text, including JSON that is not a control message.
        assert_eq!(parse_pty_text("$ ls\r\n"), None);
        assert_eq!(parse_pty_text(r#"{"type":"data"}"#), None);
        assert_eq!(parse_pty_text(r#"{"type":"control","status":"other"}"#), None);
        assert_eq!(parse_pty_text("null"), None);
    }

    #[test]
    fn close_frames() {
        assert_eq!(parse_pty_close(Some(1000), r#"{"exitCode":2,"exitReason":"boom"}"#, None, None), (Some(2), Some("boom".into())));
        assert_eq!(parse_pty_close(Some(1000), "", None, None), (Some(0), None));
        assert_eq!(parse_pty_close(Some(1000), "not json", None, None), (Some(0), None));
        assert_eq!(parse_pty_close(Some(1011), r#"{"error":"PTY session not found"}"#, None, None), (None, Some("PTY session not found".into())));
        assert_eq!(parse_pty_close(Some(1006), "", None, Some("reset".into())), (None, Some("reset".into())));
        // A code already known from the control message stays.
        assert_eq!(parse_pty_close(Some(1000), r#"{"exitCode":9}"#, Some(1), None), (Some(1), None));
    }

    #[test]
    fn envs_token() {
        let t = envs_subprotocol(&[("TERM".into(), "xterm-256color".into()), ("A".into(), "?>".into())]);
        let b64 = t.strip_prefix("X-Daytona-Pty-Envs~").unwrap();
        assert!(!b64.contains('=') && !b64.contains('+') && !b64.contains('/'));
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b64).unwrap();
        assert_eq!(String::from_utf8(json).unwrap(), r#"{"TERM":"xterm-256color","A":"?>"}"#);
    }
}
