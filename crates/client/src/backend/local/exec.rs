//! `process.executeCommand` on the local engine.
//!
//! In a sandbox with the toolbox agent (every sandbox this version creates) it is the toolbox's
//! `POST process/execute`, as on the API backend ([`execute_via_agent`]): the command runs as a
//! child of the agent, so it sees what `sandbox.updateEnv` set, like sessions, PTYs and code
//! runs. The agent kills the command's process group when its timeout passes or its output
//! passes [`AGENT_MAX_OUTPUT_BYTES`] (256 MiB); a call that is dropped (an
//! AbortSignal, a deadline of the caller) names the run in a second request
//! (`process/execute/{runId}/kill`, an agent extension), which kills it too.
//!
//! A sandbox without the agent (made by an older version) falls back to a Docker exec:
//! `/bin/sh -c <command>`, stdout and stderr in arrival order as the result, the exit code from
//! the exec's inspection. Docker cannot kill an exec, so the command runs under a one-line
//! wrapper that reports its PID on stderr before it `exec`s the command (same process, same
//! PID); a timeout, output past [`MAX_OUTPUT_BYTES`] or a dropped call kills that process group
//! through a second exec. Nothing is written to the sandbox's file system, so this works on
//! read-only images too.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;

use serde_json::Value;

use super::build::engine_error;
use crate::backend::OperationContext;
use crate::error::{ClientError, ErrorKind, Result};
use crate::toolbox::{ToolboxCall, ToolboxTransport};
use crate::types::{ExecRequest, ExecResult};

/// The longest output `executeCommand` returns: V8's maximum string length on 64-bit
/// platforms (2^29 - 24 UTF-16 code units; a UTF-8 text of that many bytes never has more).
pub const MAX_OUTPUT_BYTES: usize = (1 << 29) - 24;

/// The first line the wrapper writes to stderr.
const PID_MARKER: &[u8] = b"daytona-native-pid:";
/// `$1` is the user's command. `echo` is a builtin of every `sh` (busybox, dash, bash).
const WRAPPER: &str = "echo \"daytona-native-pid:$$\" >&2; exec /bin/sh -c \"$1\"";

/// Why reading the output stopped early.
enum Cut {
    TooLarge,
}

/// Collects the exec's output: raw bytes joined in arrival order and decoded once at the end,
/// so a character split across frames stays whole. Takes the wrapper's PID line off stderr.
struct Output {
    bytes: Vec<u8>,
    pid: Option<i64>,
    /// `pid`, shared with the [`KillOnDrop`] guard.
    pid_cell: Arc<AtomicI64>,
    /// Stderr bytes seen before the PID line was complete.
    pending_stderr: Vec<u8>,
    limit: usize,
}

impl Output {
    fn new(limit: usize) -> Self {
        Output { bytes: Vec::new(), pid: None, pid_cell: Arc::default(), pending_stderr: Vec::new(), limit }
    }

    fn push_stdout(&mut self, data: &[u8]) -> std::result::Result<(), Cut> {
        if self.bytes.len() + data.len() > self.limit {
            return Err(Cut::TooLarge);
        }
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    fn push_stderr(&mut self, data: &[u8]) -> std::result::Result<(), Cut> {
        if self.pid.is_some() || self.pending_stderr.len() > 64 {
            return self.push_stdout(data);
        }
        self.pending_stderr.extend_from_slice(data);
        let Some(nl) = self.pending_stderr.iter().position(|b| *b == b'\n') else { return Ok(()) };
        let line = &self.pending_stderr[..nl];
        let rest = self.pending_stderr[nl + 1..].to_vec();
        match line.strip_prefix(PID_MARKER).and_then(|p| std::str::from_utf8(p).ok()).and_then(|p| p.trim().parse().ok()) {
            Some(pid) => {
                self.pid = Some(pid);
                self.pid_cell.store(pid, Ordering::SeqCst);
                self.pending_stderr.clear();
                self.push_stdout(&rest)
            }
            // Not our line (cannot happen with the wrapper): keep it as output.
            None => {
                let all = std::mem::take(&mut self.pending_stderr);
                self.pid = Some(-1);
                self.push_stdout(&all)
            }
        }
    }

    fn text(mut self) -> String {
        if self.pid.is_none() && !self.pending_stderr.is_empty() {
            self.bytes.append(&mut self.pending_stderr);
        }
        String::from_utf8(self.bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    fn pid(&self) -> Option<i64> {
        self.pid.filter(|p| *p > 0)
    }
}

/// `executeCommand` on a sandbox that is not running.
pub(super) fn not_running() -> ClientError {
    ClientError::new(ErrorKind::Conflict, "Sandbox is not running; start it before executing commands")
}

async fn create(docker: &Docker, container: &str, cmd: Vec<String>, request: &ExecRequest) -> Result<String> {
    let env: Vec<String> = request.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let exec = docker
        .create_exec(
            container,
            CreateExecOptions {
                cmd: Some(cmd),
                env: if env.is_empty() { None } else { Some(env) },
                working_dir: request.cwd.clone().filter(|c| !c.is_empty()),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| match e {
            bollard::errors::Error::DockerResponseServerError { status_code: 409, .. } => not_running(),
            other => engine_error("Executing the command", other),
        })?;
    Ok(exec.id)
}

/// Reads the output of a started exec into `out` until it ends or is cut.
async fn read_output(docker: &Docker, exec_id: &str, out: &mut Output) -> Result<Option<Cut>> {
    if let StartExecResults::Attached { output: mut stream, .. } =
        docker.start_exec(exec_id, None).await.map_err(|e| engine_error("Executing the command", e))?
    {
        while let Some(frame) = stream.next().await {
            let pushed = match frame.map_err(|e| engine_error("Reading the command's output", e))? {
                LogOutput::StdOut { message } | LogOutput::Console { message } => out.push_stdout(&message),
                LogOutput::StdErr { message } => out.push_stderr(&message),
                LogOutput::StdIn { .. } => Ok(()),
            };
            if let Err(cut) = pushed {
                return Ok(Some(cut));
            }
        }
    }
    Ok(None)
}

async fn exit_code(docker: &Docker, exec_id: &str) -> Result<Option<i64>> {
    for _ in 0..50 {
        let inspect = docker.inspect_exec(exec_id).await.map_err(|e| engine_error("Reading the exit code", e))?;
        if inspect.running != Some(true) {
            return Ok(Some(inspect.exit_code.unwrap_or(-1)));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(None)
}

/// Kills the command's process group (an exec's process leads its own group, so `sleep 60;
/// echo done` dies whole) and reports whether the exec ended. `kill -9 -PGID` is the form
/// busybox, dash and bash all accept.
async fn kill(docker: &Docker, container: &str, exec_id: &str, pid: Option<i64>) -> bool {
    if let Some(pid) = pid {
        let script = format!("kill -9 -{pid} 2>/dev/null; kill -9 {pid} 2>/dev/null; true");
        if let Ok(id) = create(docker, container, vec!["/bin/sh".into(), "-c".into(), script], &ExecRequest::default()).await {
            let mut ignored = Output::new(4096);
            let _ = read_output(docker, &id, &mut ignored).await;
        }
    }
    matches!(exit_code(docker, exec_id).await, Ok(Some(_)))
}

/// Kills the command if the call is dropped before it ended (a deadline of the caller, a
/// cancelled Promise): a command nobody waits for does not keep running in the sandbox.
struct KillOnDrop {
    docker: Docker,
    container: String,
    exec_id: String,
    /// Set once the wrapper's PID line was read (0 until then).
    pid: Arc<AtomicI64>,
    armed: bool,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let pid = self.pid.load(Ordering::SeqCst);
        if !self.armed || pid <= 0 {
            return;
        }
        // Bounded: the engine may be the reason the call was dropped.
        let docker = self.docker.clone().with_timeout(std::time::Duration::from_secs(30));
        let (container, exec_id) = (self.container.clone(), self.exec_id.clone());
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                kill(&docker, &container, &exec_id, Some(pid)).await;
            });
        }
    }
}

pub(super) async fn execute(docker: &Docker, container: &str, request: &ExecRequest) -> Result<ExecResult> {
    let cmd = vec!["/bin/sh".into(), "-c".into(), WRAPPER.into(), "sh".into(), request.command.clone()];
    let exec_id = create(docker, container, cmd, request).await?;
    let mut out = Output::new(MAX_OUTPUT_BYTES);
    let mut guard =
        KillOnDrop { docker: docker.clone(), container: container.to_string(), exec_id: exec_id.clone(), pid: out.pid_cell.clone(), armed: true };
    let reading = read_output(docker, &exec_id, &mut out);
    let read = match request.timeout.filter(|t| *t > 0.0 && t.is_finite()) {
        Some(seconds) => match tokio::time::timeout(std::time::Duration::from_secs_f64(seconds), reading).await {
            Ok(r) => r,
            Err(_) => {
                let killed = kill(docker, container, &exec_id, out.pid()).await;
                guard.armed = false;
                return Err(timeout_error(seconds, killed, request));
            }
        },
        None => reading.await,
    };
    match read {
        Err(e) => Err(e),
        Ok(Some(Cut::TooLarge)) => {
            let killed = kill(docker, container, &exec_id, out.pid()).await;
            guard.armed = false;
            let mut err = ClientError::generic(format!(
                "The command's output exceeded {MAX_OUTPUT_BYTES} bytes, the most a JavaScript string can hold; the command was {}. \
                 Redirect its output to a file in the sandbox and download that instead: {}",
                if killed { "killed" } else { "no longer read but could not be killed" },
                request.command
            ));
            err.code = Some("OUTPUT_TOO_LARGE".into());
            Err(err)
        }
        Ok(None) => {
            guard.armed = false;
            let code = exit_code(docker, &exec_id).await?.unwrap_or(-1);
            Ok(ExecResult { exit_code: code, result: out.text() })
        }
    }
}

/// The most output the agent collects for one command (`MAX_EXECUTE_OUTPUT` of
/// `crates/agent/src/run.rs`).
pub const AGENT_MAX_OUTPUT_BYTES: usize = 256 << 20;
/// The largest answer read from the agent: its output limit with every byte escaped as JSON
/// escapes control characters (`\u0000`, six bytes), plus room for the rest of the answer.
const AGENT_MAX_BODY: usize = AGENT_MAX_OUTPUT_BYTES * 6 + (64 << 10);
/// Extra time the agent call gets over the command's timeout (the agent answers 408 itself).
const AGENT_TIMEOUT_BUFFER_MS: f64 = 5000.0;

/// Sends `process/execute/{runId}/kill` if dropped armed: a call nobody waits for any more
/// does not leave its command running.
struct KillRunOnDrop {
    transport: Arc<dyn ToolboxTransport>,
    run_id: String,
    armed: bool,
}

impl KillRunOnDrop {
    fn kill(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let transport = self.transport.clone();
        let call = ToolboxCall::new(http::Method::POST, format!("process/execute/{}/kill", self.run_id))
            .accept("*/*")
            .deadline(crate::backend::Deadline::Ms(30_000.0));
        async move {
            let _ = transport.call(&OperationContext::new(), call).await;
        }
    }
}

impl Drop for KillRunOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(self.kill());
        }
    }
}

/// The deadline of the agent call, as the API backend's: the timeout plus a buffer; 0 (no
/// limit) lifts `requestTimeoutMs`; none leaves it (24 h when not configured).
fn agent_deadline(timeout: Option<f64>) -> crate::backend::Deadline {
    match timeout {
        Some(t) if t > 0.0 && t.is_finite() => crate::backend::Deadline::Ms(t * 1000.0 + AGENT_TIMEOUT_BUFFER_MS),
        Some(t) if t == 0.0 => crate::backend::Deadline::Ms(0.0),
        _ => crate::backend::Deadline::Default,
    }
}

/// `executeCommand` through the sandbox's toolbox agent (see the module's documentation).
pub(super) async fn execute_via_agent(transport: Arc<dyn ToolboxTransport>, request: &ExecRequest) -> Result<ExecResult> {
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let mut body = serde_json::Map::new();
    body.insert("command".into(), Value::String(request.command.clone()));
    if let Some(t) = request.timeout.and_then(serde_json::Number::from_f64) {
        body.insert("timeout".into(), Value::Number(t));
    }
    if let Some(cwd) = request.cwd.clone().filter(|c| !c.is_empty()) {
        body.insert("cwd".into(), Value::String(cwd));
    }
    if !request.env.is_empty() {
        body.insert("envs".into(), Value::Object(request.env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()));
    }
    body.insert("runId".into(), Value::String(run_id.clone()));
    let seconds = request.timeout.filter(|t| *t > 0.0 && t.is_finite());
    let call = ToolboxCall::new(http::Method::POST, "process/execute")
        .json(Value::Object(body).to_string())
        .deadline(agent_deadline(request.timeout))
        .max_body(AGENT_MAX_BODY);
    let mut guard = KillRunOnDrop { transport: transport.clone(), run_id, armed: true };
    // Bounded by the call's own deadline (the timeout plus a buffer, so that the agent's own
    // timeout answers first), not by the operation's (the timeout itself); a cancelled
    // operation drops this future, and the guard ends the command.
    let answer = transport.call(&OperationContext::new(), call).await;
    match answer {
        Ok(bytes) => {
            guard.armed = false;
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| ClientError::generic(format!("The toolbox answered executeCommand with something that is not JSON: {e}")))?;
            let exit_code = v.get("exitCode").and_then(Value::as_f64).unwrap_or(0.0) as i64;
            let result = match v.get("result") {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            Ok(ExecResult { exit_code, result })
        }
        // The agent answered: it ended the command itself.
        Err(e) if e.status_code == Some(408) => {
            guard.armed = false;
            Err(timeout_error(seconds.unwrap_or_default(), true, request))
        }
        Err(e) if e.status_code == Some(413) => {
            guard.armed = false;
            let mut err = ClientError::generic(format!(
                "The command's output exceeded {AGENT_MAX_OUTPUT_BYTES} bytes and the command was killed. \
                 Redirect its output to a file in the sandbox and download that instead: {}",
                request.command
            ));
            err.code = Some("OUTPUT_TOO_LARGE".into());
            Err(err)
        }
        Err(e) if e.status_code.is_some() => {
            guard.armed = false;
            Err(e)
        }
        // No answer (a deadline, a broken relay): the command may still run; end it.
        Err(e) => {
            guard.armed = false;
            guard.kill().await;
            Err(e)
        }
    }
}

fn timeout_error(seconds: f64, killed: bool, request: &ExecRequest) -> ClientError {
    let mut err = ClientError::new(
        ErrorKind::ProcessExecutionTimeout,
        if killed {
            format!("Command execution timed out after {seconds} seconds and was killed: {}", request.command)
        } else {
            format!("Command execution timed out after {seconds} seconds and could not be killed; it may still be running: {}", request.command)
        },
    );
    err.code = Some("PROCESS_EXECUTION_TIMEOUT".into());
    err.status_code = Some(408);
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_joins_bytes_before_decoding() {
        let mut out = Output::new(1024);
        let check = "✓".as_bytes();
        out.push_stderr(b"daytona-native-pid:42\n").ok().unwrap();
        out.push_stdout(&check[..1]).ok().unwrap();
        out.push_stdout(&check[1..]).ok().unwrap();
        assert_eq!(out.pid(), Some(42));
        assert_eq!(out.text(), "✓");
    }

    #[test]
    fn pid_line_split_across_frames_is_removed() {
        let mut out = Output::new(1024);
        out.push_stderr(b"daytona-native-p").ok().unwrap();
        out.push_stderr(b"id:7\nerr\n").ok().unwrap();
        out.push_stdout(b"out\n").ok().unwrap();
        assert_eq!(out.pid(), Some(7));
        assert_eq!(out.text(), "err\nout\n");
    }

    #[test]
    fn agent_call_deadlines() {
        use crate::backend::Deadline;
        assert_eq!(agent_deadline(Some(2.0)), Deadline::Ms(7000.0));
        assert_eq!(agent_deadline(Some(0.0)), Deadline::Ms(0.0));
        assert_eq!(agent_deadline(None), Deadline::Default);
        assert_eq!(agent_deadline(Some(-1.0)), Deadline::Default);
    }

    #[test]
    fn output_past_the_limit_is_cut() {
        let mut out = Output::new(4);
        assert!(out.push_stdout(b"abcd").is_ok());
        assert!(matches!(out.push_stdout(b"e"), Err(Cut::TooLarge)));
    }
}
