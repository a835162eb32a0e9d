//! One-shot process runs: `POST /process/execute` (a shell command, combined output) and
//! `POST /process/code-run` (python / javascript / typescript, with chart artifacts).

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::Duration;

use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::http::ApiError;

/// Marker the chart prelude prints before each artifact line; those lines leave the output.
const ARTIFACT_MARKER: &str = "dtn_artifact_k39fd2:";
const CHART_PRELUDE: &str = include_str!("chart_prelude.py");

#[derive(Deserialize)]
pub struct ExecuteReq {
    command: Option<String>,
    cwd: Option<String>,
    envs: Option<HashMap<String, String>>,
    timeout: Option<f64>,
    /// Agent extension: a name the caller gives this run, so that `POST
    /// /process/execute/{runId}/kill` can end it (a caller that stopped waiting: an AbortSignal,
    /// a dropped connection the server cannot notice while the command runs).
    #[serde(rename = "runId")]
    run_id: Option<String>,
}

/// The most output `process/execute` collects (stdout and stderr together): past it, the
/// command is killed and the request fails (413). 256 MiB, so the result always fits in a
/// JavaScript string on the client.
pub const MAX_EXECUTE_OUTPUT: usize = 256 << 20;

/// Process groups of the runs that have a `runId`, and the ids killed before their run began
/// (a kill can overtake its request); the latter bounded.
#[derive(Default)]
struct Runs {
    running: HashMap<String, i32>,
    killed: std::collections::VecDeque<String>,
}

static RUNS: std::sync::Mutex<Option<Runs>> = std::sync::Mutex::new(None);
const MAX_KILLED_KEPT: usize = 1024;

fn runs<T>(f: impl FnOnce(&mut Runs) -> T) -> T {
    let mut guard = RUNS.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Runs::default))
}

fn kill_group(pgid: i32) {
    if let Some(p) = rustix::process::Pid::from_raw(pgid) {
        let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
    }
}

/// `POST /process/execute/{runId}/kill`: ends the run's whole process group, or the run as
/// soon as it begins when it has not yet. Whether it was running.
pub fn kill(run_id: &str) -> bool {
    runs(|r| match r.running.remove(run_id) {
        Some(pgid) => {
            kill_group(pgid);
            true
        }
        None => {
            r.killed.push_back(run_id.to_string());
            if r.killed.len() > MAX_KILLED_KEPT {
                r.killed.pop_front();
            }
            false
        }
    })
}

/// Registers a run's process group under its id (killed at once if its kill came first);
/// unregistered on drop.
struct Registered(Option<String>);

impl Registered {
    fn new(run_id: Option<String>, pgid: i32) -> Registered {
        let Some(id) = run_id else { return Registered(None) };
        runs(|r| {
            if let Some(at) = r.killed.iter().position(|k| *k == id) {
                r.killed.remove(at);
                kill_group(pgid);
            } else {
                r.running.insert(id.clone(), pgid);
            }
        });
        Registered(Some(id))
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(id) = self.0.take() {
            runs(|r| r.running.remove(&id));
        }
    }
}

#[derive(Deserialize)]
pub struct CodeRunReq {
    code: Option<String>,
    language: Option<String>,
    argv: Option<Vec<String>>,
    envs: Option<HashMap<String, String>>,
    timeout: Option<f64>,
}

pub enum Outcome {
    Exited(i32, Vec<u8>),
    TimedOut,
    /// More output than the limit: the group was killed.
    TooLarge,
}

fn validate_envs(envs: &Option<HashMap<String, String>>) -> Result<(), ApiError> {
    for k in envs.iter().flat_map(|m| m.keys()) {
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(ApiError::bad_request(format!("invalid environment variable name: {k:?}")));
        }
    }
    Ok(())
}

/// Runs `cmd` in its own process group with stdout and stderr on one pipe; a timeout (seconds,
/// > 0) or more output than `max_output` kills the whole group. `run_id`: see [`kill`].
pub async fn run_combined(
    mut cmd: tokio::process::Command,
    stdin: Option<Vec<u8>>,
    timeout: Option<f64>,
    max_output: Option<usize>,
    run_id: Option<String>,
) -> std::io::Result<Outcome> {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let w2: OwnedFd = w.try_clone()?;
    cmd.stdout(std::process::Stdio::from(w))
        .stderr(std::process::Stdio::from(w2))
        .stdin(if stdin.is_some() { std::process::Stdio::piped() } else { std::process::Stdio::null() })
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn()?;
    // The parent's copies of the write end were moved into the Command; drop them now.
    drop(cmd);
    let pgid = child.id().unwrap_or(0) as i32;
    // Should this request be dropped before the process ends, its whole group goes with it.
    let mut guard = GroupKill(pgid);
    let _registered = Registered::new(run_id, pgid);
    if let (Some(data), Some(mut si)) = (stdin, child.stdin.take()) {
        tokio::spawn(async move {
            let _ = si.write_all(&data).await;
        });
    }
    let mut rx = tokio::net::unix::pipe::Receiver::from_owned_fd(r)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    let deadline = timeout.filter(|t| *t > 0.0).map(|t| tokio::time::Instant::now() + Duration::from_secs_f64(t));
    let sleep = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep);
    let mut open = true;
    let status = loop {
        tokio::select! {
            n = rx.read(&mut buf), if open => match n {
                Ok(n) if n > 0 => {
                    if max_output.is_some_and(|max| out.len() + n > max) {
                        kill_group(pgid);
                        let _ = child.wait().await;
                        guard.0 = 0;
                        return Ok(Outcome::TooLarge);
                    }
                    out.extend_from_slice(&buf[..n]);
                }
                _ => open = false,
            },
            st = child.wait() => break st?,
            _ = &mut sleep => {
                if pgid > 0 {
                    let _ = rustix::process::kill_process_group(
                        rustix::process::Pid::from_raw(pgid).expect("positive pid"),
                        rustix::process::Signal::KILL,
                    );
                }
                let _ = child.wait().await;
                guard.0 = 0;
                return Ok(Outcome::TimedOut);
            }
        }
    };
    // Finished normally: what it left running in the background is its business.
    guard.0 = 0;
    // Everything the process wrote is in the pipe now; children that keep it open are not waited for.
    if open {
        use std::os::fd::AsFd;
        while let Ok(n) = rustix::io::read(rx.as_fd(), &mut buf) {
            if n == 0 {
                break;
            }
            if max_output.is_some_and(|max| out.len() + n > max) {
                return Ok(Outcome::TooLarge);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
    use std::os::unix::process::ExitStatusExt;
    let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok(Outcome::Exited(code, out))
}

struct GroupKill(i32);

impl Drop for GroupKill {
    fn drop(&mut self) {
        if let Some(p) = rustix::process::Pid::from_raw(self.0) {
            let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
        }
    }
}

fn timeout_error() -> ApiError {
    ApiError::new(StatusCode::REQUEST_TIMEOUT, "command execution timeout")
}

pub async fn execute(shell: &str, req: ExecuteReq) -> Result<Value, ApiError> {
    let command = req.command.unwrap_or_default();
    if command.trim().is_empty() {
        return Err(ApiError::bad_request("command cannot be empty or whitespace-only"));
    }
    validate_envs(&req.envs)?;
    let mut cmd = crate::env::command(shell);
    if let Some(cwd) = &req.cwd {
        cmd.current_dir(cwd);
    }
    cmd.envs(req.envs.unwrap_or_default());
    // The command goes in on stdin so its size is not limited by ARG_MAX.
    match run_combined(cmd, Some(command.into_bytes()), req.timeout, Some(MAX_EXECUTE_OUTPUT), req.run_id).await {
        Ok(Outcome::Exited(code, out)) => Ok(json!({ "exitCode": code, "result": String::from_utf8_lossy(&out) })),
        Ok(Outcome::TimedOut) => Err(timeout_error()),
        Ok(Outcome::TooLarge) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the command's output exceeded {MAX_EXECUTE_OUTPUT} bytes and the command was killed"),
        )),
        Err(e) => Ok(json!({ "exitCode": -1, "result": e.to_string() })),
    }
}

/// Output minus artifact lines, and the charts those lines carried.
pub fn split_artifacts(output: &str) -> (String, Vec<Value>) {
    let mut charts = Vec::new();
    let mut kept = Vec::new();
    for line in output.split('\n') {
        match line.strip_prefix(ARTIFACT_MARKER) {
            Some(payload) => {
                if let Ok(v) = serde_json::from_str::<Value>(payload.trim())
                    && v["type"] == "chart"
                    && v["value"].is_object()
                {
                    charts.push(v["value"].clone());
                }
            }
            None => kept.push(line),
        }
    }
    (kept.join("\n"), charts)
}

pub async fn code_run(state_dir: &Path, req: CodeRunReq) -> Result<Value, ApiError> {
    let code = req.code.unwrap_or_default();
    let language = req.language.unwrap_or_default();
    validate_envs(&req.envs)?;
    let argv = req.argv.unwrap_or_default();
    let id = uuid::Uuid::new_v4();
    let (ext, program, mut args): (&str, &str, Vec<String>) = match language.as_str() {
        "python" => ("py", "python3", vec!["-u".into()]),
        "javascript" => ("js", "node", vec![]),
        "typescript" => (
            "ts",
            "npx",
            ["ts-node", "-T", "--ignore-diagnostics", "5107", "-O", "{\"module\":\"CommonJS\"}"].map(String::from).to_vec(),
        ),
        other => return Err(ApiError::bad_request(format!("unsupported language: {other}"))),
    };
    let file = state_dir.join(format!("code-{id}.{ext}"));
    std::fs::write(&file, &code).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut prelude = None;
    if ext == "py" && code.contains("matplotlib") {
        let p = state_dir.join(format!("prelude-{id}.py"));
        std::fs::write(&p, CHART_PRELUDE).map_err(|e| ApiError::internal(e.to_string()))?;
        args.push(p.to_string_lossy().into_owned());
        prelude = Some(p);
    }
    args.push(file.to_string_lossy().into_owned());
    args.extend(argv);
    let mut cmd = crate::env::command(program);
    cmd.args(&args).envs(req.envs.unwrap_or_default());
    if ext == "ts" {
        cmd.env("npm_config_loglevel", "error");
    }
    if prelude.is_some() {
        cmd.env("MPLBACKEND", "Agg");
    }
    let outcome = run_combined(cmd, None, req.timeout, None, None).await;
    let _ = std::fs::remove_file(&file);
    if let Some(p) = prelude {
        let _ = std::fs::remove_file(p);
    }
    match outcome {
        Ok(Outcome::Exited(code, out)) => {
            let (result, charts) = split_artifacts(&String::from_utf8_lossy(&out));
            let mut v = json!({ "exitCode": code, "result": result });
            if !charts.is_empty() {
                v["artifacts"] = json!({ "charts": charts });
            }
            Ok(v)
        }
        Ok(Outcome::TimedOut) => Err(timeout_error()),
        Ok(Outcome::TooLarge) => Err(ApiError::internal("output limit exceeded")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(json!({ "exitCode": 127, "result": format!("{program}: not found\n") }))
        }
        Err(e) => Ok(json!({ "exitCode": -1, "result": e.to_string() })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_leave_output() {
        let out = "a\ndtn_artifact_k39fd2:{\"type\":\"chart\",\"value\":{\"type\":\"line\"}}\nb\n";
        let (r, c) = split_artifacts(out);
        assert_eq!(r, "a\nb\n");
        assert_eq!(c, vec![json!({"type": "line"})]);
    }
}
