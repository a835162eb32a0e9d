//! `process.executeCommand` as a Docker exec: `/bin/sh -c <command>`, stdout and stderr in
//! arrival order as the result, the exit code from the exec's inspection. Docker cannot kill
//! an exec, so a timeout kills the process (and its process group) through a second exec using
//! the PID it recorded.

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;

use super::build::engine_error;
use crate::error::{ClientError, ErrorKind, Result};
use crate::types::{ExecRequest, ExecResult};

async fn run(docker: &Docker, container: &str, cmd: Vec<String>, request: &ExecRequest) -> Result<(String, String)> {
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
            bollard::errors::Error::DockerResponseServerError { status_code: 409, .. } => {
                ClientError::new(ErrorKind::Conflict, "Sandbox is not running; start it before executing commands")
            }
            other => engine_error("Executing the command", other),
        })?;
    let mut output = String::new();
    if let StartExecResults::Attached { output: mut stream, .. } =
        docker.start_exec(&exec.id, None).await.map_err(|e| engine_error("Executing the command", e))?
    {
        while let Some(frame) = stream.next().await {
            match frame.map_err(|e| engine_error("Reading the command's output", e))? {
                LogOutput::StdOut { message } | LogOutput::StdErr { message } | LogOutput::Console { message } => {
                    output.push_str(&String::from_utf8_lossy(&message));
                }
                LogOutput::StdIn { .. } => {}
            }
        }
    }
    Ok((exec.id, output))
}

async fn exit_code(docker: &Docker, exec_id: &str) -> Result<i64> {
    for _ in 0..50 {
        let inspect = docker.inspect_exec(exec_id).await.map_err(|e| engine_error("Reading the exit code", e))?;
        if inspect.running != Some(true) {
            return Ok(inspect.exit_code.unwrap_or(-1));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(-1)
}

pub(super) async fn execute(docker: &Docker, container: &str, request: &ExecRequest) -> Result<ExecResult> {
    let timeout = request.timeout.filter(|t| *t > 0.0);
    let Some(seconds) = timeout else {
        let (id, result) = run(docker, container, vec!["/bin/sh".into(), "-c".into(), request.command.clone()], request).await?;
        return Ok(ExecResult { exit_code: exit_code(docker, &id).await?, result });
    };
    let pid_file = format!("/tmp/.daytona-exec-{}.pid", uuid::Uuid::new_v4());
    let wrapper = format!("echo $$ > {pid_file}; exec /bin/sh -c \"$1\"");
    let cmd = vec!["/bin/sh".into(), "-c".into(), wrapper, "sh".into(), request.command.clone()];
    match tokio::time::timeout(std::time::Duration::from_secs_f64(seconds), run(docker, container, cmd, request)).await {
        Ok(r) => {
            let (id, result) = r?;
            let _ = run(docker, container, vec!["rm".into(), "-f".into(), pid_file], &ExecRequest::default()).await;
            Ok(ExecResult { exit_code: exit_code(docker, &id).await?, result })
        }
        Err(_) => {
            // An exec's process leads its own process group: killing the group also ends the
            // children of a compound command (`sleep 60; echo done`). `kill -9 -PGID` is the
            // form busybox, dash and bash all accept.
            let kill = format!("p=$(cat {pid_file}) && {{ kill -9 -$p 2>/dev/null; kill -9 $p 2>/dev/null; }}; rm -f {pid_file}");
            let _ = run(docker, container, vec!["/bin/sh".into(), "-c".into(), kill], &ExecRequest::default()).await;
            let mut err = ClientError::new(
                ErrorKind::ProcessExecutionTimeout,
                format!("Command execution timed out after {seconds} seconds and was killed: {}", request.command),
            );
            err.code = Some("PROCESS_EXECUTION_TIMEOUT".into());
            err.status_code = Some(408);
            Err(err)
        }
    }
}
