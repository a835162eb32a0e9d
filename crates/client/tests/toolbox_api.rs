//! The toolbox over the API backend against the fake Daytona API (`__test__/api-server`, run as a
//! child process through its `cli.js`): the program of `__test__/api-server/toolbox-program.js`
//! made through our client must send exactly the requests the official SDK sends (HTTP calls and
//! WebSocket handshakes, with Accept, subprotocols and the messages sent on the sockets) and see
//! the same results; following logs survives dropped WebSockets. Skipped when `node` or the
//! official SDK is not installed.
//!
//! With `DAYTONA_TEST_AGENT=<path of daytona-native-agent>` the fake forwards the process routes
//! to that agent, run on this machine (`__test__/api-server/agent.js`): the same comparison
//! against real shells, PTYs and interpreters (random ids and temporary paths normalised).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use daytona_client::toolbox::{InterpreterEvent, Output, PtyCreateOptions, RunCodeOptions, Toolbox};
use daytona_client::types::{CreateSandboxParams, ExecRequest};
use daytona_client::{Daytona, DaytonaConfig, ErrorKind};
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct FakeApi {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    api_url: String,
    api_key: String,
}

impl FakeApi {
    fn start() -> Option<FakeApi> {
        let root = repo_root();
        if !root.join("node_modules/@daytonaio/sdk").exists() {
            eprintln!("skipped: the official SDK is not installed");
            return None;
        }
        let options = match std::env::var("DAYTONA_TEST_AGENT") {
            Ok(bin) if !bin.is_empty() => json!({"toolboxAgent": {"bin": bin}}).to_string(),
            _ => "{}".to_string(),
        };
        let mut child = match Command::new("node")
            .arg(root.join("__test__/api-server/cli.js"))
            .arg(options)
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("skipped: cannot run node: {e}");
                return None;
            }
        };
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).expect("the fake API's first line");
        Some(FakeApi {
            api_url: v["apiUrl"].as_str().unwrap().into(),
            api_key: v["apiKey"].as_str().unwrap().into(),
            child,
            stdin,
            stdout,
        })
    }

    fn ask(&mut self, command: &str) -> Value {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    }

    fn client(&self) -> Daytona {
        Daytona::new(DaytonaConfig {
            api_key: Some(self.api_key.clone()),
            api_url: Some(self.api_url.clone()),
            target: Some("us".into()),
            backend: Some("api".into()),
            ..Default::default()
        })
        .unwrap()
    }

    fn assert_conforming(&mut self) {
        let v = self.ask("violations");
        assert_eq!(v, json!({"violations": [], "responseViolations": [], "unimplemented": [], "authFailures": []}));
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Follows a command's logs into (stdout, stderr).
async fn follow(tb: &Toolbox, session: &str, command: &str) -> (String, String) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let collect = tokio::spawn(async move {
        let (mut out, mut err) = (String::new(), String::new());
        while let Some(o) = rx.recv().await {
            match o {
                Output::Stdout(s) => out.push_str(&s),
                Output::Stderr(s) => err.push_str(&s),
            }
        }
        (out, err)
    });
    tb.follow_session_command_logs(session, command, tx).await.unwrap();
    collect.await.unwrap()
}

fn error_shape(e: &daytona_client::ClientError) -> Value {
    // The JS class the glue throws for the kind (src/errors.rs): `Daytona<Kind>Error`.
    let name = match e.kind {
        ErrorKind::Generic => "DaytonaError".to_string(),
        kind => format!("Daytona{kind:?}Error"),
    };
    json!({"name": name, "message": e.message, "statusCode": e.status_code})
}

/// The Rust mirror of `toolbox-program.js`: the same calls in the same order.
async fn program(d: &Daytona) -> Value {
    let mut obs = serde_json::Map::new();
    let params = CreateSandboxParams { name: Some("tb-sb".into()), language: Some("python".into()), ..Default::default() };
    let sb = d.create(params, Some(60.0), None).await.unwrap();
    let p = d.toolbox(&sb.id).await.unwrap();
    let exec = d
        .execute_command(&sb.id, ExecRequest { command: "echo hi".into(), cwd: Some("/tmp".into()), env: vec![], timeout: None })
        .await
        .unwrap();
    obs.insert("exec".into(), json!({"exitCode": exec.exit_code, "result": exec.result}));

    let run = p
        .code_run("python", "print(\"hi\")\nimport matplotlib.pyplot as plt\nplt.show()", Some(vec!["a".into(), "b".into()]), Some(pairs(&[("K", "V")])), Some(10.0))
        .await
        .unwrap();
    let charts: Vec<Value> = run.charts.iter().map(|c| json!({"type": c["type"], "title": c["title"], "elements": c["elements"]})).collect();
    obs.insert("codeRun".into(), json!({"exitCode": run.exit_code, "result": run.result, "charts": charts}));

    p.create_session("s1").await.unwrap();
    obs.insert("cd".into(), p.execute_session_command("s1", "cd /tmp && export A=1", None, None, None).await.unwrap());
    let pwd = p.execute_session_command("s1", "pwd; echo $A; echo oops >&2", None, None, Some(10.0)).await.unwrap();
    obs.insert("pwd".into(), json!({"stdout": pwd["stdout"], "stderr": pwd["stderr"], "exitCode": pwd["exitCode"], "output": pwd["output"]}));
    let bg = p.execute_session_command("s1", "echo start; sleep 0.3; echo done; echo warn >&2", Some(true), None, None).await.unwrap();
    let mut keys: Vec<&String> = bg.as_object().unwrap().keys().collect();
    keys.sort();
    obs.insert("bgKeys".into(), json!(keys));
    let cmd = bg["cmdId"].as_str().unwrap().to_string();
    let (out, err) = follow(&p, "s1", &cmd).await;
    obs.insert("followed".into(), json!({"out": out, "err": err}));
    let snap = p.get_session_command_logs("s1", &cmd).await.unwrap();
    obs.insert("snapshot".into(), json!({"output": snap.output, "stdout": snap.stdout, "stderr": snap.stderr}));
    obs.insert("command".into(), p.get_session_command("s1", &cmd).await.unwrap());
    let reader = p.execute_session_command("s1", "read X; echo got $X", Some(true), Some(true), None).await.unwrap();
    let rid = reader["cmdId"].as_str().unwrap().to_string();
    p.send_session_command_input("s1", &rid, "typed\n").await.unwrap();
    follow(&p, "s1", &rid).await;
    obs.insert("reader".into(), json!(p.get_session_command_logs("s1", &rid).await.unwrap().stdout));
    let session = p.get_session("s1").await.unwrap();
    let commands: Vec<Value> = session["commands"].as_array().unwrap().iter().map(|c| json!({"command": c["command"], "exitCode": c["exitCode"]})).collect();
    obs.insert("session".into(), json!({"sessionId": session["sessionId"], "commands": commands}));
    let sessions: Vec<Value> = p.list_sessions().await.unwrap().as_array().unwrap().iter().map(|s| s["sessionId"].clone()).collect();
    obs.insert("sessions".into(), json!(sessions));
    obs.insert("entrypoint".into(), p.get_entrypoint_session().await.unwrap()["sessionId"].clone());
    let ep = p.get_entrypoint_logs().await.unwrap();
    obs.insert("entrypointLogs".into(), json!({"output": ep.output, "stdout": ep.stdout, "stderr": ep.stderr}));
    let missing = p.get_session("nope").await.unwrap_err();
    obs.insert("missing".into(), error_shape(&missing));
    p.delete_session("s1").await.unwrap();

    let pty = p
        .create_pty(PtyCreateOptions {
            id: "pty1".into(),
            cwd: Some("/tmp".into()),
            envs: Some(pairs(&[("TERM", "xterm-256color")])),
            cols: Some(100),
            rows: Some(30),
        })
        .await
        .unwrap();
    let mut data = pty.take_data().unwrap();
    let text = tokio::spawn(async move {
        let mut t = Vec::new();
        while let Some(b) = data.recv().await {
            t.extend_from_slice(&b);
        }
        String::from_utf8_lossy(&t).into_owned()
    });
    pty.send_input("echo pty-hello\n".into()).await.unwrap();
    let resized = pty.resize(120.0, 40.0).await.unwrap();
    obs.insert("resized".into(), json!({"cols": resized["cols"], "rows": resized["rows"]}));
    let info = p.get_pty_session_info("pty1").await.unwrap();
    obs.insert("ptyInfo".into(), json!({"id": info["id"], "cwd": info["cwd"], "envs": info["envs"], "active": info["active"]}));
    let list: Vec<Value> = p.list_pty_sessions().await.unwrap().as_array().unwrap().iter().map(|s| s["id"].clone()).collect();
    obs.insert("ptyList".into(), json!(list));
    pty.send_input("exit 3\n".into()).await.unwrap();
    let result = pty.wait().await.unwrap();
    let mut r = serde_json::Map::new();
    if let Some(c) = result.exit_code {
        r.insert("exitCode".into(), json!(c));
    }
    if let Some(e) = &result.error {
        r.insert("error".into(), json!(e));
    }
    obs.insert("ptyResult".into(), Value::Object(r));
    obs.insert("ptyExit".into(), json!(pty.exit_code()));
    pty.disconnect().await;
    obs.insert("ptySawEcho".into(), json!(text.await.unwrap().contains("pty-hello")));
    let pty2 = p.create_pty(PtyCreateOptions { id: "pty2".into(), ..Default::default() }).await.unwrap();
    p.kill_pty_session("pty2").await.unwrap();
    obs.insert("killed".into(), json!(pty2.wait().await.unwrap().exit_code));
    pty2.disconnect().await;

    let ctx = p.create_interpreter_context(Some("/tmp"), None).await.unwrap();
    obs.insert("context".into(), json!({"cwd": ctx["cwd"], "language": ctx["language"]}));
    let ctx_id = ctx["id"].as_str().unwrap().to_string();
    let with_ctx = || RunCodeOptions { context_id: Some(ctx_id.clone()), ..Default::default() };
    let (tx, _rx) = tokio::sync::mpsc::channel(16);
    p.run_code("x = 42", with_ctx(), tx).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let r = p
        .run_code("print(x)\nimport sys\nsys.stderr.write(\"e\")", RunCodeOptions { envs: Some(pairs(&[("A", "B")])), ..with_ctx() }, tx)
        .await
        .unwrap();
    let mut events = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        events.push(match ev {
            InterpreterEvent::Stdout(s) => json!(["out", s]),
            InterpreterEvent::Stderr(s) => json!(["err", s]),
            InterpreterEvent::Error(e) => json!(["error", e.name, e.value]),
        });
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let failed = p.run_code("raise ValueError('bad')", RunCodeOptions::default(), tx).await.unwrap();
    while let Ok(InterpreterEvent::Error(e)) = rx.try_recv() {
        events.push(json!(["error", e.name, e.value]));
    }
    let mut interp = json!({"stdout": r.stdout, "stderr": r.stderr, "events": events});
    if let Some(e) = &r.error {
        interp["error"] = json!({"name": e.name, "value": e.value, "traceback": e.traceback});
    }
    obs.insert("interp".into(), interp);
    let fe = failed.error.unwrap();
    obs.insert("interpError".into(), json!({"name": fe.name, "value": fe.value}));
    let (tx, _rx) = tokio::sync::mpsc::channel(16);
    let timeout = p.run_code("import time\ntime.sleep(5)", RunCodeOptions { timeout: Some(1.0), ..Default::default() }, tx).await.unwrap_err();
    obs.insert("interpTimeout".into(), error_shape(&timeout));
    let (tx, _rx) = tokio::sync::mpsc::channel(16);
    let empty = p.run_code("  ", RunCodeOptions::default(), tx).await.unwrap_err();
    obs.insert("emptyCode".into(), error_shape(&empty));
    let contexts: Vec<Value> = p.list_interpreter_contexts().await.unwrap().as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    obs.insert("contexts".into(), json!(contexts));
    p.delete_interpreter_context(&ctx_id).await.unwrap();
    obs.insert("contextsAfter".into(), json!(p.list_interpreter_contexts().await.unwrap().as_array().unwrap().len()));

    d.delete_and_wait(&sb.id, Some(60.0), false).await.unwrap();
    Value::Object(obs)
}

/// Text with what differs between two agents blanked: UUIDs and the agent's state directory.
fn scrub_ids(s: &str) -> String {
    let b = s.as_bytes();
    let shape = [8, 4, 4, 4, 12];
    let is_uuid_at = |i: usize| {
        let mut j = i;
        for (n, len) in shape.iter().enumerate() {
            if j + len > b.len() || !b[j..j + len].iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
            j += len;
            if n < 4 {
                if b.get(j) != Some(&b'-') {
                    return false;
                }
                j += 1;
            }
        }
        true
    };
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if is_uuid_at(i) {
            out.push_str("<uuid>");
            i += 36;
        } else if s[i..].starts_with(".daytona-native-agent-") {
            out.push_str(".daytona-native-agent-<pid>");
            i += ".daytona-native-agent-".len();
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        } else {
            let ch = s[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// JSON as the official program's observations are compared: `undefined` and `null` fields
/// dropped (JSON.stringify leaves out undefined; ours has no undefined), numbers as numbers, ids
/// of a real agent blanked. With a real agent, `output` (stdout and stderr combined as they
/// arrived from two pipes) is left out and the interpreter's events are joined per kind: how
/// the output is cut into messages and interleaved is up to the scheduler.
fn comparable(v: &Value, agent: bool) -> Value {
    if let (true, Some(events)) = (agent, v.get("events").and_then(Value::as_array)) {
        let mut folded = serde_json::Map::new();
        for e in events {
            let kind = e[0].as_str().unwrap_or_default().to_string();
            let rest: Vec<Value> = e.as_array().unwrap()[1..].to_vec();
            match folded.entry(kind).or_insert_with(|| json!([])) {
                Value::Array(a) => a.extend(rest),
                _ => unreachable!(),
            }
        }
        for kind in ["out", "err"] {
            if let Some(v) = folded.get_mut(kind) {
                *v = json!(v.as_array().unwrap().iter().filter_map(Value::as_str).collect::<String>());
            }
        }
        let mut m = v.as_object().unwrap().clone();
        m.insert("events".into(), Value::Object(folded));
        return comparable(&Value::Object(m), false);
    }
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| !(v.is_null() || (agent && k.as_str() == "output")))
                .map(|(k, v)| (k.clone(), comparable(v, agent)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| comparable(x, agent)).collect()),
        Value::Number(n) => n.as_f64().map(|f| json!(f)).unwrap_or(Value::Null),
        Value::String(s) => Value::String(scrub_ids(s)),
        other => other.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_requests_and_results_as_the_official_sdk() {
    let Some(mut srv) = FakeApi::start() else { return };
    let official = srv.ask("run-official");
    assert_eq!(official["error"], Value::Null, "the official SDK failed on the fake");
    let d = srv.client();
    let ours = program(&d).await;
    let lines = srv.ask("requests");
    let (ours_lines, official_lines) = (lines.as_array().unwrap(), official["lines"].as_array().unwrap());
    for (i, (a, b)) in ours_lines.iter().zip(official_lines).enumerate() {
        assert_eq!(a, b, "request {i} (ours vs official)");
    }
    assert_eq!(ours_lines.len(), official_lines.len(), "number of requests");
    let agent = std::env::var("DAYTONA_TEST_AGENT").is_ok_and(|v| !v.is_empty());
    let (a, b) = (comparable(&ours, agent), comparable(&official["value"], agent));
    let differing: Vec<String> = b
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| a.get(k.as_str()) != Some(v))
        .map(|(k, v)| format!("{k}: ours {} official {v}", a.get(k.as_str()).unwrap_or(&Value::Null)))
        .collect();
    assert!(differing.is_empty(), "what the program observed differs:\n{}", differing.join("\n"));
    assert_eq!(a, b, "what the program observed");
    srv.assert_conforming();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_logs_survives_dropped_websockets() {
    let Some(mut srv) = FakeApi::start() else { return };
    let d = srv.client();
    let params = CreateSandboxParams { name: Some("tb-cut".into()), ..Default::default() };
    let sb = d.create(params, Some(60.0), None).await.unwrap();
    let tb = d.toolbox(&sb.id).await.unwrap();
    tb.create_session("s").await.unwrap();
    let cmd = tb.execute_session_command("s", "echo één; echo twee >&2; sleep 0.2; echo drie; echo vier >&2", Some(true), None, None).await.unwrap();
    let cmd = cmd["cmdId"].as_str().unwrap().to_string();
    // Cut inside the first marker, inside a multi-byte character of the replay, then later.
    for after in [2, 6, 17] {
        srv.ask(&format!(r#"fault {{"kind":"cutSocket","op":"GetSessionCommandLogs","afterBytes":{after}}}"#));
    }
    let got = follow(&tb, "s", &cmd).await;
    assert_eq!(got, ("één\ndrie\n".to_string(), "twee\nvier\n".to_string()));
    let follows = srv.ask("requests").as_array().unwrap().iter().filter(|l| l.as_str().unwrap().contains("logs?follow=true")).count();
    assert_eq!(follows, 4, "three cuts, three reconnections");
    // An unknown command is a not-found error, as the official SDK reports it.
    let e = tb.get_session_command("s", "nope").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    // Following one too: the refused handshake's status and message (the official SDK only
    // rejects with a plain `Unexpected server response: 404`).
    let (tx, _rx) = tokio::sync::mpsc::channel(1);
    let e = tb.follow_session_command_logs("s", "nope", tx).await.unwrap_err();
    assert_eq!((e.kind, e.message.as_str(), e.status_code), (ErrorKind::NotFound, "command not found", Some(404)));
    srv.assert_conforming();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pty_whose_sandbox_is_deleted_ends_with_an_error() {
    let Some(mut srv) = FakeApi::start() else { return };
    let d = srv.client();
    let params = CreateSandboxParams { name: Some("tb-gone".into()), ..Default::default() };
    let sb = d.create(params, Some(60.0), None).await.unwrap();
    let tb = d.toolbox(&sb.id).await.unwrap();
    let pty = tb.create_pty(PtyCreateOptions { id: "p".into(), ..Default::default() }).await.unwrap();
    assert!(pty.is_connected());
    let waiting = tokio::spawn(async move { pty.wait().await.map(|r| (r, pty.is_connected())) });
    d.delete_and_wait(&sb.id, Some(60.0), false).await.unwrap();
    let (result, connected) = waiting.await.unwrap().unwrap();
    assert!(!connected);
    assert_eq!(result.exit_code, None);
    assert!(result.error.is_some(), "the dropped connection is the error: {result:?}");
    srv.assert_conforming();
}
