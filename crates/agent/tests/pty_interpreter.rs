//! PTY and code interpreter WebSocket protocols against the real agent binary.
mod common;

use base64::Engine;
use common::Agent;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::UnixStream>;

/// Reads PTY output until `needle` shows up; returns everything read.
async fn read_until(ws: &mut Ws, needle: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(needle) {
        match ws.next().await.expect("pty stream ended").unwrap() {
            Message::Binary(b) => seen.push_str(&String::from_utf8_lossy(&b)),
            Message::Text(t) => seen.push_str(&t),
            Message::Close(f) => panic!("closed early: {f:?}; output so far: {seen}"),
            _ => {}
        }
    }
    seen
}

#[tokio::test]
async fn pty_round_trip_resize_and_exit_code() {
    let agent = Agent::start(&[]).await;
    let envs = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"PTY_VAR": "pty-value"}).to_string());
    let envs_proto = format!("X-Daytona-Pty-Envs~{envs}");
    let (mut ws, proto) = agent
        .ws("/process/pty/create-connect?id=t1&cols=100&rows=30&cwd=%2Ftmp", &[&envs_proto, "X-Daytona-Pty-Exit-Control"])
        .await;
    assert_eq!(proto.as_deref(), Some("X-Daytona-Pty-Exit-Control"));
    let first = ws.next().await.unwrap().unwrap();
    let v: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(v, json!({"type": "control", "status": "connected"}));

    ws.send(Message::binary(b"echo \"[$PTY_VAR:$(pwd)]\"\n".to_vec())).await.unwrap();
    read_until(&mut ws, "[pty-value:/tmp]").await;

    let (st, info) = agent.call("POST", "/process/pty/t1/resize", Some(json!({"cols": 120, "rows": 40}))).await;
    assert_eq!(st, 200);
    assert_eq!((info["cols"].clone(), info["rows"].clone()), (json!(120), json!(40)));
    ws.send(Message::binary(b"stty size\n".to_vec())).await.unwrap();
    read_until(&mut ws, "40 120").await;

    let (_, info) = agent.call("GET", "/process/pty/t1", None).await;
    assert_eq!(info["id"], "t1");
    assert_eq!(info["active"], true);
    assert_eq!(info["envs"]["PTY_VAR"], "pty-value");
    let (_, list) = agent.call("GET", "/process/pty", None).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
    let (st, _) = agent.call("POST", "/process/pty", Some(json!({"id": "t1"}))).await;
    assert_eq!(st, 409);

    ws.send(Message::binary(b"exit 5\n".to_vec())).await.unwrap();
    let mut exit = None;
    let mut close_reason = None;
    while let Some(Ok(m)) = ws.next().await {
        match m {
            Message::Text(t) => {
                if let Ok(v) = serde_json::from_str::<Value>(&t)
                    && v["status"] == "exited"
                {
                    exit = v["exitCode"].as_i64();
                }
            }
            Message::Close(f) => {
                close_reason = f.map(|f| (u16::from(f.code), f.reason.to_string()));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(exit, Some(5));
    let (code, reason) = close_reason.unwrap();
    assert_eq!(code, 1000);
    assert_eq!(serde_json::from_str::<Value>(&reason).unwrap()["exitCode"], 5);
}

#[tokio::test]
async fn pty_created_then_connected_and_killed() {
    let agent = Agent::start(&[]).await;
    let (st, r) = agent.call("POST", "/process/pty", Some(json!({"id": "k1", "cols": 80, "rows": 24}))).await;
    assert_eq!(st, 201);
    assert_eq!(r["sessionId"], "k1");
    let (mut ws, proto) = agent.ws("/process/pty/k1/connect", &["X-Daytona-Pty-Exit-Control"]).await;
    assert_eq!(proto.as_deref(), Some("X-Daytona-Pty-Exit-Control"));
    ws.send(Message::binary(b"echo ready-$((20+22))\n".to_vec())).await.unwrap();
    read_until(&mut ws, "ready-42").await;
    let (st, _) = agent.call("DELETE", "/process/pty/k1", None).await;
    assert_eq!(st, 200);
    let mut exited = false;
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = &m
            && t.contains("\"exited\"")
        {
            exited = true;
        }
        if m.is_close() {
            break;
        }
    }
    assert!(exited);
    let (st, _) = agent.call("GET", "/process/pty/k1", None).await;
    assert_eq!(st, 404);
}

/// One runCode call: collected (stdout, stderr, errors, control texts, close code).
async fn run_code(agent: &Agent, req: Value) -> (String, String, Vec<Value>, Vec<String>, Option<u16>) {
    let (mut ws, _) = agent.ws("/process/interpreter/execute", &[]).await;
    ws.send(Message::text(req.to_string())).await.unwrap();
    let (mut out, mut err, mut errors, mut control, mut close) = (String::new(), String::new(), vec![], vec![], None);
    while let Some(m) = ws.next().await {
        match m {
            Ok(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                match v["type"].as_str().unwrap() {
                    "stdout" => out.push_str(v["text"].as_str().unwrap()),
                    "stderr" => err.push_str(v["text"].as_str().unwrap()),
                    "error" => errors.push(v),
                    "control" => control.push(v["text"].as_str().unwrap().to_string()),
                    other => panic!("unexpected message type {other}"),
                }
            }
            Ok(Message::Close(f)) => {
                close = f.map(|f| u16::from(f.code));
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    (out, err, errors, control, close)
}

#[tokio::test]
async fn interpreter_keeps_state_per_context() {
    let agent = Agent::start(&[]).await;
    let (out, _, errors, control, close) = run_code(&agent, json!({"code": "x = 41"})).await;
    assert_eq!((out.as_str(), errors.len()), ("", 0));
    assert_eq!(control, vec!["completed"]);
    assert_eq!(close, Some(1000));
    let (out, err, _, _, _) =
        run_code(&agent, json!({"code": "import sys\nprint(x + 1)\nprint('warn', file=sys.stderr)"})).await;
    assert_eq!(out, "42\n");
    assert_eq!(err, "warn\n");

    let (_, _, errors, control, _) = run_code(&agent, json!({"code": "1/0"})).await;
    assert_eq!(errors[0]["name"], "ZeroDivisionError");
    assert_eq!(errors[0]["value"], "division by zero");
    assert!(errors[0]["traceback"].as_str().unwrap().contains("ZeroDivisionError"));
    assert_eq!(control, vec!["completed"]);

    // A separate context has its own namespace and cwd.
    let (st, ctx) = agent.call("POST", "/process/interpreter/context", Some(json!({"cwd": "/tmp"}))).await;
    assert_eq!(st, 200);
    assert_eq!(ctx["language"], "python");
    let id = ctx["id"].as_str().unwrap().to_string();
    let (out, _, errors, _, _) = run_code(
        &agent,
        json!({"code": "import os\nprint(os.getcwd(), os.environ.get('E'))\nprint('x' in globals())", "contextId": id, "envs": {"E": "e1"}}),
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(out, "/tmp e1\nFalse\n");
    let (_, list) = agent.call("GET", "/process/interpreter/context", None).await;
    assert_eq!(list["contexts"].as_array().unwrap().len(), 1);
    let (st, _) = agent.call("DELETE", &format!("/process/interpreter/context/{id}"), None).await;
    assert_eq!(st, 200);
    let (st, _) = agent.call("DELETE", &format!("/process/interpreter/context/{id}"), None).await;
    assert_eq!(st, 404);
    let (st, _) = agent.call("DELETE", "/process/interpreter/context/default", None).await;
    assert_eq!(st, 400);
    let (st, _) = agent.call("POST", "/process/interpreter/context", Some(json!({"language": "ruby"}))).await;
    assert_eq!(st, 400);

    let (_, _, errors, _, close) = run_code(&agent, json!({"code": "print(1)", "contextId": "missing"})).await;
    assert_eq!(errors.len(), 1);
    assert_eq!(close, Some(1008));
}

#[tokio::test]
async fn interpreter_timeout_closes_with_4008_and_keeps_state() {
    let agent = Agent::start(&[]).await;
    run_code(&agent, json!({"code": "kept = 'yes'"})).await;
    let (_, _, _, _, close) = run_code(&agent, json!({"code": "import time\nwhile True: time.sleep(0.05)", "timeout": 1})).await;
    assert_eq!(close, Some(4008));
    let (out, _, _, _, _) = run_code(&agent, json!({"code": "print(kept)"})).await;
    assert_eq!(out, "yes\n");
}
