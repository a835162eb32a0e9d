//! Sessions, entrypoint and relay against the real agent binary.
mod common;

use common::{Agent, demux};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn exec(agent: &Agent, session: &str, body: Value) -> (u16, Value) {
    agent.call("POST", &format!("/process/session/{session}/exec"), Some(body)).await
}

#[tokio::test]
async fn session_state_persists_and_exit_codes_are_recorded() {
    let agent = Agent::start(&[]).await;
    let (st, _) = agent.call("POST", "/process/session", Some(json!({"sessionId": "s1"}))).await;
    assert_eq!(st, 201);
    let (st, err) = agent.call("POST", "/process/session", Some(json!({"sessionId": "s1"}))).await;
    assert_eq!(st, 409);
    assert_eq!(err["statusCode"], 409);
    assert_eq!(err["message"], "session already exists");

    let (st, r) = exec(&agent, "s1", json!({"command": "cd /tmp && export FOO=bar; X=local"})).await;
    assert_eq!(st, 200);
    assert_eq!(r["exitCode"], 0);
    let (_, r) = exec(&agent, "s1", json!({"command": "echo \"$PWD $FOO $X\"; echo oops >&2; false"})).await;
    assert_eq!(r["exitCode"], 1);
    assert_eq!(r["stdout"], "/tmp bar local\n");
    assert_eq!(r["stderr"], "oops\n");
    let (out, err) = demux(r["output"].as_str().unwrap().as_bytes());
    assert_eq!((out.as_str(), err.as_str()), ("/tmp bar local\n", "oops\n"));
    let failing_id = r["cmdId"].as_str().unwrap().to_string();

    let (_, r) = exec(&agent, "s1", json!({"command": "sh -c 'exit 3'"})).await;
    assert_eq!(r["exitCode"], 3);

    let (st, cmd) = agent.call("GET", &format!("/process/session/s1/command/{failing_id}"), None).await;
    assert_eq!(st, 200);
    assert_eq!(cmd["exitCode"], 1);
    assert_eq!(cmd["id"], failing_id.as_str());

    let (st, logs) = agent.call("GET", &format!("/process/session/s1/command/{failing_id}/logs"), None).await;
    assert_eq!(st, 200);
    assert_eq!(logs["stdout"], "/tmp bar local\n");
    assert_eq!(logs["stderr"], "oops\n");

    let (_, s) = agent.call("GET", "/process/session/s1", None).await;
    assert_eq!(s["sessionId"], "s1");
    assert_eq!(s["commands"].as_array().unwrap().len(), 3);
    let (_, list) = agent.call("GET", "/process/session", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // `exit` ends the session's shell: the command gets its code, the session a new shell.
    let (_, r) = exec(&agent, "s1", json!({"command": "exit 7"})).await;
    assert_eq!(r["exitCode"], 7);
    let (_, r) = exec(&agent, "s1", json!({"command": "echo again"})).await;
    assert_eq!(r["stdout"], "again\n");

    let (st, _) = agent.call("DELETE", "/process/session/s1", None).await;
    assert_eq!(st, 204);
    let (st, _) = agent.call("GET", "/process/session/s1", None).await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let agent = Agent::start(&[]).await;
    let (st, e) = agent.call("GET", "/process/session/nope", None).await;
    assert_eq!(st, 404);
    assert_eq!(e["code"], "NOT_FOUND");
    assert_eq!(e["message"], "session not found");
    assert_eq!(e["path"], "/process/session/nope");
    let (st, _) = agent.call("DELETE", "/process/session/nope", None).await;
    assert_eq!(st, 404);
    let (st, _) = exec(&agent, "nope", json!({"command": "true"})).await;
    assert_eq!(st, 404);
    agent.call("POST", "/process/session", Some(json!({"sessionId": "s"}))).await;
    let (st, e) = agent.call("GET", "/process/session/s/command/nope", None).await;
    assert_eq!(st, 404);
    assert_eq!(e["message"], "command not found");
    let (st, _) = agent.call("GET", "/process/session/s/command/nope/logs", None).await;
    assert_eq!(st, 404);
    let (st, _) = agent.call("POST", "/process/session/s/command/nope/input", Some(json!({"data": "x"}))).await;
    assert_eq!(st, 404);
    let (st, _) = agent.call("GET", "/process/pty/nope", None).await;
    assert_eq!(st, 404);
    let (st, _) = agent.call("GET", "/process/session/entrypoint", None).await;
    assert_eq!(st, 404);
    let (st, e) = exec(&agent, "s", json!({"command": "  "})).await;
    assert_eq!(st, 400);
    assert_eq!(e["message"], "command cannot be empty");
}

#[tokio::test]
async fn async_command_takes_input_and_follow_streams_until_it_ends() {
    let agent = Agent::start(&[]).await;
    agent.call("POST", "/process/session", Some(json!({"sessionId": "a"}))).await;
    let (st, r) = exec(
        &agent,
        "a",
        json!({"command": "read first; echo \"got $first\"; read second; echo \"err $second\" >&2", "runAsync": true}),
    )
    .await;
    assert_eq!(st, 202);
    let id = r["cmdId"].as_str().unwrap().to_string();
    assert!(r.get("exitCode").is_none());

    let (mut ws, _) = agent.ws(&format!("/process/session/a/command/{id}/logs?follow=true"), &[]).await;
    let input = |data: &'static str| {
        let path = format!("/process/session/a/command/{id}/input");
        let agent = &agent;
        async move { agent.call("POST", &path, Some(json!({ "data": data }))).await.0 }
    };
    assert_eq!(input("one").await, 204);
    let mut data = Vec::new();
    let mut sent_second = false;
    let mut closed_normally = false;
    while let Some(m) = ws.next().await {
        match m.unwrap() {
            Message::Binary(b) => data.extend_from_slice(&b),
            Message::Close(f) => {
                closed_normally = f.is_none_or(|f| u16::from(f.code) == 1000);
                break;
            }
            _ => {}
        }
        // The second line goes in once the first was answered, so the log order is fixed.
        if !sent_second && demux(&data).0.contains("got one") {
            sent_second = true;
            assert_eq!(input("two\n").await, 204);
        }
    }
    assert!(closed_normally);
    let (out, err) = demux(&data);
    // Input is echoed into stdout (suppressInputEcho is false) before the command's own output.
    assert_eq!(out, "one\ngot one\ntwo\n");
    assert_eq!(err, "err two\n");

    let (_, cmd) = agent.call("GET", &format!("/process/session/a/command/{id}"), None).await;
    assert_eq!(cmd["exitCode"], 0);
    let (st, e) = agent
        .call("POST", &format!("/process/session/a/command/{id}/input"), Some(json!({"data": "late"})))
        .await;
    assert_eq!(st, 410);
    assert_eq!(e["code"], "GONE");

    // A later command runs after it, in the same shell.
    let (_, r) = exec(&agent, "a", json!({"command": "echo next", "suppressInputEcho": true})).await;
    assert_eq!(r["stdout"], "next\n");
    ws.close(None).await.ok();
}

#[tokio::test]
async fn deleting_a_session_kills_its_processes() {
    let agent = Agent::start(&[]).await;
    agent.call("POST", "/process/session", Some(json!({"sessionId": "k"}))).await;
    let (_, r) = exec(&agent, "k", json!({"command": "sleep 1000 & echo $!; wait", "runAsync": true})).await;
    let id = r["cmdId"].as_str().unwrap().to_string();
    let pid = loop {
        let (_, logs) = agent.call("GET", &format!("/process/session/k/command/{id}/logs"), None).await;
        if let Some(l) = logs["stdout"].as_str().filter(|s| s.ends_with('\n')) {
            break l.trim().parse::<i32>().unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    let (st, _) = agent.call("DELETE", "/process/session/k", None).await;
    assert_eq!(st, 204);
    // Killed processes linger as zombies until their parent reaps them; wait for that.
    let gone = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.split(' ').nth(2) == Some("Z"))
            .unwrap_or(true)
    };
    while !gone(pid) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn entrypoint_session_records_the_serve_command() {
    let agent = Agent::start(&["sh", "-c", "echo from-entry; echo to-stderr >&2; exit 4"]).await;
    let (mut ws, _) = agent.ws("/process/session/entrypoint/logs?follow=true", &[]).await;
    let mut data = Vec::new();
    while let Some(Ok(m)) = ws.next().await {
        match m {
            Message::Binary(b) => data.extend_from_slice(&b),
            Message::Close(_) => break,
            _ => {}
        }
    }
    assert_eq!(demux(&data), ("from-entry\n".to_string(), "to-stderr\n".to_string()));
    let (st, s) = agent.call("GET", "/process/session/entrypoint", None).await;
    assert_eq!(st, 200);
    assert_eq!(s["sessionId"], "entrypoint");
    assert_eq!(s["commands"][0]["id"], "entrypoint_command");
    assert_eq!(s["commands"][0]["exitCode"], 4);
    let (_, logs) = agent.call("GET", "/process/session/entrypoint/logs", None).await;
    assert_eq!(logs["stdout"], "from-entry\n");
    assert_eq!(logs["stderr"], "to-stderr\n");
}

#[tokio::test]
async fn relay_carries_http_to_the_agent() {
    use std::io::{Read, Write};
    let agent = Agent::start(&[]).await;
    agent.call("POST", "/process/session", Some(json!({"sessionId": "via-relay"}))).await;
    let mut relay = std::process::Command::new(common::BIN)
        .arg("relay")
        .env("DAYTONA_AGENT_SOCKET", &agent.socket)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let body = r#"{"command":"echo relayed"}"#;
    let req = format!(
        "POST /process/session/via-relay/exec HTTP/1.1\r\nHost: agent\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stdin = relay.stdin.take().unwrap();
    stdin.write_all(req.as_bytes()).unwrap();
    drop(stdin);
    let mut out = Vec::new();
    relay.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert!(relay.wait().unwrap().success());
    let (status, body) = common::parse_response(&out);
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["stdout"], "relayed\n");
    assert_eq!(v["exitCode"], 0);
}

#[tokio::test]
async fn execute_and_code_run() {
    let agent = Agent::start(&[]).await;
    let (st, r) = agent
        .call("POST", "/process/execute", Some(json!({"command": "echo $GREETING; echo e >&2; exit 3", "envs": {"GREETING": "hi"}})))
        .await;
    assert_eq!(st, 200);
    assert_eq!(r, json!({"exitCode": 3, "result": "hi\ne\n"}));
    let (st, r) = agent.call("POST", "/process/execute", Some(json!({"command": "pwd", "cwd": "/tmp"}))).await;
    assert_eq!(st, 200);
    assert_eq!(r["result"], "/tmp\n");
    let (st, e) = agent.call("POST", "/process/execute", Some(json!({"command": "sleep 100", "timeout": 1}))).await;
    assert_eq!(st, 408);
    assert_eq!(e["code"], "REQUEST_TIMEOUT");

    let code = "import os, sys\nprint('args', sys.argv[1:], os.environ['V'])\nsys.exit(2)\n";
    let (st, r) = agent
        .call(
            "POST",
            "/process/code-run",
            Some(json!({"code": code, "language": "python", "argv": ["a", "b"], "envs": {"V": "x"}})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(r["exitCode"], 2);
    assert_eq!(r["result"], "args ['a', 'b'] x\n");
}

#[tokio::test]
async fn follow_of_a_finished_command_sends_everything_and_closes() {
    let agent = Agent::start(&[]).await;
    agent.call("POST", "/process/session", Some(json!({"sessionId": "f"}))).await;
    let (_, r) = exec(&agent, "f", json!({"command": "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done"})).await;
    let id = r["cmdId"].as_str().unwrap();
    let (mut ws, _) = agent.ws(&format!("/process/session/f/command/{id}/logs?follow=true"), &[]).await;
    let mut data = Vec::new();
    while let Some(Ok(m)) = ws.next().await {
        match m {
            Message::Binary(b) => data.extend_from_slice(&b),
            Message::Close(_) => break,
            _ => {}
        }
    }
    let (out, _) = demux(&data);
    assert_eq!(out.lines().count(), 2000);
    assert_eq!(out.lines().last(), Some("line1999"));
    let _ = ws.send(Message::Close(None)).await;
}

#[tokio::test]
async fn a_command_can_be_killed_and_the_session_goes_on() {
    let agent = Agent::start(&[]).await;
    agent.call("POST", "/process/session", Some(json!({"sessionId": "t"}))).await;
    exec(&agent, "t", json!({"command": "KEEP=kept"})).await;
    // A client whose sync exec timed out gives up on the request; the command keeps running.
    let (_, r) = exec(&agent, "t", json!({"command": "sleep 1000", "runAsync": true})).await;
    let id = r["cmdId"].as_str().unwrap().to_string();
    let (st, _) = agent.call("POST", &format!("/process/session/t/command/{id}/kill"), None).await;
    assert_eq!(st, 204);
    let (_, cmd) = agent.call("GET", &format!("/process/session/t/command/{id}"), None).await;
    assert_eq!(cmd["exitCode"], 137);
    let (_, r) = exec(&agent, "t", json!({"command": "echo $KEEP"})).await;
    assert_eq!(r["stdout"], "kept\n");

    // A builtin loop has no process of its own: the shell goes, a fresh one takes over.
    let (_, r) = exec(&agent, "t", json!({"command": "while :; do :; done", "runAsync": true})).await;
    let id = r["cmdId"].as_str().unwrap().to_string();
    let (st, _) = agent.call("POST", &format!("/process/session/t/command/{id}/kill"), None).await;
    assert_eq!(st, 204);
    let (_, cmd) = agent.call("GET", &format!("/process/session/t/command/{id}"), None).await;
    assert_eq!(cmd["exitCode"], 137);
    let (_, r) = exec(&agent, "t", json!({"command": "echo alive"})).await;
    assert_eq!(r["stdout"], "alive\n");
}

#[tokio::test]
async fn serve_exits_zero_on_sigterm_and_stops_the_entrypoint() {
    let mut child = std::process::Command::new(common::BIN)
        .args(["serve", "--", "sleep", "1000"])
        .env("DAYTONA_AGENT_SOCKET", format!("daytona-agent-test-term-{}", std::process::id()))
        .spawn()
        .unwrap();
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    // Wait for the entrypoint to be running (a child of the agent).
    let entry = loop {
        let kids = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children", pid = child.id())).unwrap_or_default();
        if let Some(k) = kids.split_whitespace().next() {
            break k.parse::<i32>().unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    // The entrypoint got SIGTERM too (it may linger as a zombie of init until reaped).
    while std::fs::read_to_string(format!("/proc/{entry}/stat")).is_ok_and(|s| !s.contains(") Z ")) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
