//! The code interpreter's WebSocket (`process/interpreter/execute`): the client sends one JSON
//! request `{code, contextId?, envs?, timeout?}`; the toolbox answers with JSON messages
//! (`stdout`/`stderr` text, an `error`, and `control` `completed`/`interrupted` at the end) and
//! closes with 4008 when the execution timed out.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::{ExecutionError, ExecutionResult, InterpreterEvent, RunCodeOptions, Toolbox, object, text_or_empty};
use crate::backend::OperationContext;
use crate::backend::api::json::{record, stringify};
use crate::error::{ClientError, ErrorKind, Result};

const TIMEOUT_CLOSE_CODE: u16 = 4008;

/// One message of the interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpreterMessage {
    Event(InterpreterEvent),
    /// `completed` or `interrupted`: the run is over.
    Done,
}

/// Parses a message; `None` for anything the official SDK ignores (invalid JSON, unknown types).
pub fn parse_interpreter_message(text: &str) -> Option<InterpreterMessage> {
    let v: Value = serde_json::from_str(text).ok()?;
    match v.get("type").and_then(Value::as_str)? {
        "stdout" => Some(InterpreterMessage::Event(InterpreterEvent::Stdout(text_or_empty(&v, "text")))),
        "stderr" => Some(InterpreterMessage::Event(InterpreterEvent::Stderr(text_or_empty(&v, "text")))),
        "error" => Some(InterpreterMessage::Event(InterpreterEvent::Error(ExecutionError {
            name: text_or_empty(&v, "name"),
            value: text_or_empty(&v, "value"),
            traceback: Some(text_or_empty(&v, "traceback")),
        }))),
        "control" => match v.get("text").and_then(Value::as_str) {
            Some("completed" | "interrupted") => Some(InterpreterMessage::Done),
            _ => None,
        },
        _ => None,
    }
}

/// The error of a close other than 1000/1001.
pub fn close_error(code: u16, reason: &str) -> ClientError {
    if code == TIMEOUT_CLOSE_CODE {
        return ClientError::timeout("Execution timed out: operation exceeded the configured `timeout`. Provide a larger value if needed.");
    }
    if !reason.is_empty() {
        return ClientError::new(ErrorKind::Connection, format!("{reason} (close code {code})"));
    }
    ClientError::new(ErrorKind::Connection, format!("Code execution failed: WebSocket closed with code {code}"))
}

fn failed(message: impl std::fmt::Display) -> ClientError {
    ClientError::new(ErrorKind::Connection, format!("Failed to execute code: {message}"))
}

/// The request message.
pub fn request(code: &str, opts: &RunCodeOptions) -> String {
    let timeout = opts.timeout.map(|t| {
        if t.is_finite() && t.fract() == 0.0 { Value::from(t as i64) } else { serde_json::Number::from_f64(t).map(Value::Number).unwrap_or(Value::Null) }
    });
    stringify(&object(vec![
        ("code", Some(Value::String(code.into()))),
        ("contextId", opts.context_id.clone().filter(|c| !c.is_empty()).map(Value::String)),
        ("envs", opts.envs.as_ref().map(|e| record(e))),
        ("timeout", timeout),
    ]))
}

pub(super) async fn run_code(tb: &Toolbox, code: &str, opts: RunCodeOptions, out: mpsc::Sender<InterpreterEvent>) -> Result<ExecutionResult> {
    if code.trim().is_empty() {
        return Err(ClientError::invalid("Code is required for execution"));
    }
    let mut socket = tb.transport().websocket(&OperationContext::new(), "process/interpreter/execute", &[]).await.map_err(|e| failed(e.message))?;
    socket.send(Message::text(request(code, &opts))).await.map_err(failed)?;
    let mut result = ExecutionResult::default();
    let outcome = loop {
        let text = match socket.next().await {
            Some(Ok(Message::Text(t))) => t.as_str().to_string(),
            Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
            Some(Ok(Message::Close(frame))) => {
                // No status code in the frame is 1005, as `ws` reports it.
                let (code, reason) = frame.map(|f| (u16::from(f.code), f.reason.as_str().to_string())).unwrap_or((1005, String::new()));
                break if code == 1000 || code == 1001 { Ok(()) } else { Err(close_error(code, &reason)) };
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => break Err(failed(e)),
            None => break Err(close_error(1006, "")),
        };
        match parse_interpreter_message(&text) {
            Some(InterpreterMessage::Event(ev)) => {
                match &ev {
                    InterpreterEvent::Stdout(s) => result.stdout.push_str(s),
                    InterpreterEvent::Stderr(s) => result.stderr.push_str(s),
                    InterpreterEvent::Error(e) => result.error = Some(e.clone()),
                }
                // A consumer that went away does not stop the run (callback failures are
                // ignored by the official SDK too).
                let _ = out.send(ev).await;
            }
            Some(InterpreterMessage::Done) => break Ok(()),
            None => {}
        }
    };
    let _ = socket.close(None).await;
    outcome.map(|()| result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(parse_interpreter_message(r#"{"type":"stdout","text":"hi\n"}"#), Some(InterpreterMessage::Event(InterpreterEvent::Stdout("hi\n".into()))));
        assert_eq!(parse_interpreter_message(r#"{"type":"stderr"}"#), Some(InterpreterMessage::Event(InterpreterEvent::Stderr(String::new()))));
        assert_eq!(
            parse_interpreter_message(r#"{"type":"error","name":"ValueError","value":"bad"}"#),
            Some(InterpreterMessage::Event(InterpreterEvent::Error(ExecutionError { name: "ValueError".into(), value: "bad".into(), traceback: Some(String::new()) })))
        );
        assert_eq!(parse_interpreter_message(r#"{"type":"control","text":"completed"}"#), Some(InterpreterMessage::Done));
        assert_eq!(parse_interpreter_message(r#"{"type":"control","text":"interrupted"}"#), Some(InterpreterMessage::Done));
        assert_eq!(parse_interpreter_message(r#"{"type":"control","text":"started"}"#), None);
        assert_eq!(parse_interpreter_message("not json"), None);
        assert_eq!(parse_interpreter_message("[1]"), None);
    }

    #[test]
    fn close_errors() {
        let e = close_error(4008, "whatever");
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(e.message, "Execution timed out: operation exceeded the configured `timeout`. Provide a larger value if needed.");
        assert_eq!(close_error(1011, "worker died").message, "worker died (close code 1011)");
        assert_eq!(close_error(1006, "").message, "Code execution failed: WebSocket closed with code 1006");
        assert_eq!(close_error(1006, "").kind, ErrorKind::Connection);
    }

    #[test]
    fn request_message() {
        let o = RunCodeOptions { context_id: Some("c1".into()), envs: Some(vec![("A".into(), "1".into())]), timeout: Some(10.0) };
        assert_eq!(request("print(1)", &o), r#"{"code":"print(1)","contextId":"c1","envs":{"A":"1"},"timeout":10}"#);
        assert_eq!(request("x", &RunCodeOptions::default()), r#"{"code":"x"}"#);
    }
}
