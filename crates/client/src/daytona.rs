//! `Daytona`: the official SDK's argument validation and defaults
//! (reference §3.2-§3.6), and deadlines around every backend operation.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::{Backend, OperationContext, UndoOnAbort};
use crate::config::DaytonaConfig;
use crate::error::{ClientError, ErrorKind, Result};
use crate::logs::{LogSink, Logs};
use crate::types::*;
use crate::wait::{self, WaitSpec};
use tokio_util::sync::CancellationToken;

const LANGUAGES: [&str; 3] = ["python", "typescript", "javascript"];

fn non_negative_integer(value: Option<f64>, name: &str) -> Result<()> {
    if let Some(v) = value {
        if !v.is_finite() || v.fract() != 0.0 || v < 0.0 {
            return Err(ClientError::invalid(format!("{name} must be a non-negative integer")));
        }
    }
    Ok(())
}

fn check_timeout(timeout: f64) -> Result<()> {
    if timeout < 0.0 {
        return Err(ClientError::invalid("Timeout must be a non-negative number"));
    }
    Ok(())
}

/// Runs `fut` with a deadline of `seconds` (0 = none); when it passes the future is dropped
/// (cancelling the engine work) and a `DaytonaTimeoutError` with `message` is returned.
async fn with_deadline<T>(seconds: f64, message: impl FnOnce() -> String, fut: impl Future<Output = Result<T>>) -> Result<T> {
    if seconds <= 0.0 || !seconds.is_finite() {
        return fut.await;
    }
    match tokio::time::timeout(Duration::from_secs_f64(seconds), fut).await {
        Ok(r) => r,
        Err(_) => Err(ClientError::timeout(message())),
    }
}

/// An outer deadline slightly after `seconds`, so that a backend's own request deadline of
/// `seconds` reports first (0 stays "none").
fn grace(seconds: f64) -> f64 {
    if seconds > 0.0 { seconds + 1.0 } else { seconds }
}

/// JavaScript's `${n}` for a number.
fn js_number(n: f64) -> String {
    format!("{n}")
}

#[derive(Clone)]
pub struct Daytona {
    backend: Arc<dyn Backend>,
    /// Cancels every operation started through this handle ([`Daytona::with_cancellation`]).
    cancel: CancellationToken,
}

impl Daytona {
    /// Selects and sets up the backend ([`crate::backend::connect`]).
    pub fn new(config: DaytonaConfig) -> Result<Daytona> {
        Ok(Daytona { backend: crate::backend::connect(&config)?, cancel: CancellationToken::new() })
    }

    /// The same client, whose operations stop where they are when `token` is cancelled and
    /// fail with [`ErrorKind::Aborted`] (an AbortSignal): the build is cancelled, a half-created
    /// sandbox removed, a command killed, a transfer cut. With a token already cancelled an
    /// operation does nothing at all.
    pub fn with_cancellation(&self, token: CancellationToken) -> Daytona {
        Daytona { backend: self.backend.clone(), cancel: token }
    }

    /// The context of an operation without a timeout of its own.
    fn context(&self) -> OperationContext {
        OperationContext::new().cancellable(self.cancel.clone())
    }

    /// The context of an operation bounded by `seconds` (0 = no limit).
    fn context_within(&self, seconds: f64) -> OperationContext {
        OperationContext::with_timeout(seconds).cancellable(self.cancel.clone())
    }

    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// `daytona.create(params, { timeout, onSnapshotCreateLogs })`. `timeout` defaults to 60
    /// seconds; 0 means no limit.
    pub async fn create(&self, mut params: CreateSandboxParams, timeout: Option<f64>, logs: Option<LogSink>) -> Result<SandboxInfo> {
        let timeout = timeout.unwrap_or(60.0);
        let language = params.language.clone().filter(|l| !l.is_empty()).unwrap_or_else(|| "python".into());
        if !LANGUAGES.contains(&language.as_str()) {
            return Err(ClientError::invalid(format!(
                "Invalid code-toolbox-language: {language}. Supported languages: {}",
                LANGUAGES.join(", ")
            )));
        }
        // Assigning an existing key keeps its position, as in a JS object.
        match params.labels.iter_mut().find(|(k, _)| k == "code-toolbox-language") {
            Some(entry) => entry.1 = language.clone(),
            None => params.labels.push(("code-toolbox-language".into(), language.clone())),
        }
        params.language = Some(language);
        check_timeout(timeout)?;
        non_negative_integer(params.auto_stop_interval, "autoStopInterval")?;
        non_negative_integer(params.auto_pause_interval, "autoPauseInterval")?;
        let nonzero = |v: Option<f64>| v.is_some_and(|x| x != 0.0);
        if nonzero(params.auto_stop_interval) && nonzero(params.auto_pause_interval) {
            return Err(ClientError::invalid(
                "autoStopInterval and autoPauseInterval are mutually exclusive. Set at most one of them to a non-zero value",
            ));
        }
        if nonzero(params.auto_pause_interval) && (params.ephemeral == Some(true) || params.auto_delete_interval == Some(0.0)) {
            return Err(ClientError::invalid("Ephemeral sandboxes cannot have auto-pause enabled. Set autoPauseInterval to 0"));
        }
        if params.ephemeral == Some(true) {
            if params.auto_delete_interval.is_some_and(|v| v != 0.0) {
                eprintln!(
                    "'ephemeral' and 'autoDeleteInterval' cannot be used together. If ephemeral is true, autoDeleteInterval will be ignored and set to 0."
                );
            }
            params.auto_delete_interval = Some(0.0);
        }
        non_negative_integer(params.auto_archive_interval, "autoArchiveInterval")?;
        non_negative_integer(params.ttl_minutes, "ttlMinutes")?;
        let ctx = self.context_within(timeout).logs(Logs::new(logs));
        let message = || format!("Failed to create and start sandbox within {} seconds. Operation timed out.", js_number(timeout));
        let t0 = Instant::now();
        let create = async {
            let info = self.backend.create_sandbox(&ctx, &params).await?;
            if info.state == "started" {
                return Ok(info);
            }
            // `waitUntilStarted(remaining)`, for every backend. Aborted while waiting, the
            // sandbox goes.
            let (backend, id) = (self.backend.clone(), info.id.clone());
            let undo = UndoOnAbort::new(&ctx, move || async move {
                let _ = backend.delete_sandbox(&OperationContext::new(), &id).await;
            });
            let started = self.wait_started(&info.id.clone(), info, wait::remaining(timeout, t0)).await;
            undo.disarm();
            started
        };
        ctx.run(with_deadline(timeout, message, create))
            .await
            .map_err(|mut e| {
                // As the official SDK: any timeout (including a client-side HTTP deadline) is
                // reported as the create timing out, keeping status, headers, code and source.
                if e.kind.is_timeout() {
                    e.kind = ErrorKind::Timeout;
                    e.message = message();
                }
                e
            })
    }

    /// The sandbox's toolbox (sessions, PTY, code run, the code interpreter).
    pub async fn toolbox(&self, sandbox_id: &str) -> Result<crate::toolbox::Toolbox> {
        let ctx = self.context();
        let transport = ctx.run(self.backend.toolbox(&ctx, sandbox_id)).await?;
        Ok(crate::toolbox::Toolbox::new(transport).with_cancellation(self.cancel.clone()))
    }

    pub async fn get(&self, id_or_name: &str) -> Result<SandboxInfo> {
        let ctx = self.context();
        ctx.run(self.backend.get_sandbox(&ctx, id_or_name)).await
    }

    /// One page of `daytona.list(query)`; `cursor` is the previous page's `next_cursor`.
    pub async fn list_page(&self, query: &ListSandboxesQuery, cursor: Option<&str>) -> Result<SandboxPage> {
        let ctx = self.context();
        ctx.run(self.backend.list_sandboxes(&ctx, query, cursor)).await
    }

    /// `sandbox.start(timeout = 60)`: the start request (bounded by `timeout`), then
    /// `waitUntilStarted` with what is left of it.
    pub async fn start(&self, id: &str, timeout: Option<f64>) -> Result<SandboxInfo> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        let t0 = Instant::now();
        let ctx = self.context_within(timeout);
        ctx.run(async {
            let info = with_deadline(
                grace(timeout),
                || "Sandbox failed to become ready within the timeout period".into(),
                self.backend.start_sandbox(&ctx, id),
            )
            .await?;
            self.wait_started(id, info, wait::remaining(timeout, t0)).await
        })
        .await
    }

    /// `sandbox.stop(timeout = 60, force = false)`: the stop request, a refresh that reads a
    /// 404 as destroyed, then `waitUntilStopped` with what is left of `timeout`.
    pub async fn stop(&self, id: &str, timeout: Option<f64>, force: bool) -> Result<SandboxInfo> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        let t0 = Instant::now();
        let (ctx, refresh) = (self.context_within(timeout), self.context());
        ctx.run(async {
            let info = with_deadline(
                grace(timeout),
                || "Sandbox failed to become stopped within the timeout period".into(),
                self.backend.stop_sandbox(&ctx, id, force),
            )
            .await?;
            // The refresh is bounded by what is left of `timeout` (a refresh that does not answer in
            // time counts as a failed one: the wait below decides).
            let fresh = with_deadline(wait::remaining(timeout, t0), String::new, self.backend.refresh_sandbox(&refresh, id));
            let info = match fresh.await {
                Ok(fresh) => fresh,
                Err(e) if e.kind.is_not_found() => SandboxInfo { state: "destroyed".into(), ..info },
                Err(_) => info,
            };
            let message = |i: &SandboxInfo| format!("Sandbox failed to stop with status: {}, error reason: {}", i.state, wait::reason(i));
            let spec = WaitSpec {
                targets: wait::STOPPED,
                errors: wait::FAILED,
                timeout: wait::remaining(timeout, t0),
                timeout_message: "Sandbox failed to become stopped within the timeout period",
                error_message: &message,
                safe: true,
            };
            wait::wait_for_state(info, &spec, || self.backend.refresh_sandbox(&refresh, id)).await
        })
        .await
    }

    /// `sandbox.delete(timeout = 60, wait = false)`: the delete request (bounded by `timeout`);
    /// with `wait`, polls until the sandbox is destroyed.
    pub async fn delete_and_wait(&self, id: &str, timeout: Option<f64>, wait_destroyed: bool) -> Result<()> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        let t0 = Instant::now();
        let (ctx, refresh) = (self.context_within(timeout), self.context());
        ctx.run(async {
            with_deadline(
                grace(timeout),
                || format!("Sandbox {id} was not deleted within {} seconds", js_number(timeout)),
                self.backend.delete_sandbox(&ctx, id),
            )
            .await?;
            if !wait_destroyed {
                return Ok(());
            }
            let message = |i: &SandboxInfo| format!("Sandbox {} failed to delete with state: {}, error reason: {}", i.id, i.state, wait::reason(i));
            let spec = WaitSpec {
                targets: wait::DESTROYED,
                errors: wait::FAILED,
                timeout: wait::remaining(timeout, t0),
                timeout_message: "Sandbox failed to be destroyed within the timeout period",
                error_message: &message,
                safe: true,
            };
            let from = SandboxInfo { id: id.to_string(), ..Default::default() };
            wait::wait_for_state(from, &spec, || self.backend.refresh_sandbox(&refresh, id)).await.map(|_| ())
        })
        .await
    }

    /// `sandbox.waitUntilStarted(timeout)` for a sandbox whose last known state is
    /// `cached_state`: already `started` means no request at all (`None`: nothing new).
    pub async fn wait_until_started_from(&self, id: &str, cached_state: Option<&str>, timeout: Option<f64>) -> Result<Option<SandboxInfo>> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        if cached_state == Some("started") {
            return Ok(None);
        }
        let from = SandboxInfo { id: id.to_string(), state: cached_state.unwrap_or_default().to_string(), ..Default::default() };
        self.context().run(self.wait_started(id, from, timeout)).await.map(Some)
    }

    /// `waitUntilStarted` from `info` (reference §3.4).
    async fn wait_started(&self, id: &str, info: SandboxInfo, timeout: f64) -> Result<SandboxInfo> {
        let message = |i: &SandboxInfo| format!("Sandbox {} failed to start with status: {}, error reason: {}", i.id, i.state, wait::reason(i));
        let spec = WaitSpec {
            targets: wait::STARTED,
            errors: wait::FAILED,
            timeout,
            timeout_message: "Sandbox failed to become ready within the timeout period",
            error_message: &message,
            safe: false,
        };
        let refresh = self.context();
        wait::wait_for_state(info, &spec, || self.backend.refresh_sandbox(&refresh, id)).await
    }

    /// `process.executeCommand(command, cwd?, env?, timeout?)`.
    pub async fn execute_command(&self, id: &str, request: ExecRequest) -> Result<ExecResult> {
        // With a timeout, the backend kills the command when it passes; the whole call (lookup,
        // kill, exit code) is bounded a little later, as the official SDK's HTTP timeout is.
        match request.timeout.filter(|t| *t > 0.0 && t.is_finite()) {
            Some(t) => {
                let ctx = self.context_within(t);
                ctx.run(with_deadline(
                    t + 5.0,
                    || format!("Command execution did not finish within {} seconds: the engine did not answer", js_number(t)),
                    self.backend.execute_command(&ctx, id, &request),
                ))
                .await
            }
            None => {
                let ctx = self.context();
                ctx.run(self.backend.execute_command(&ctx, id, &request)).await
            }
        }
    }

    /// `fs.uploadFile(bufferOrLocalPath, remotePath, timeout = 1800)`: streamed from the
    /// buffer or the local file through the sandbox's toolbox.
    pub async fn upload_file(&self, id: &str, source: UploadSource, remote_path: &str, timeout: Option<f64>) -> Result<()> {
        let timeout = timeout.unwrap_or(1800.0);
        // The toolbox bounds its request by `timeout`; the outer deadline (a little later, so
        // a request deadline reports first) bounds everything else.
        let ctx = self.context_within(timeout);
        ctx.run(with_deadline(
            grace(timeout),
            || format!("Uploading {remote_path} did not finish within {} seconds", js_number(timeout)),
            async { self.toolbox(id).await?.upload_files(vec![(source.into(), remote_path.to_string())], Some(timeout)).await },
        ))
        .await
    }

    /// `fs.downloadFile(remotePath, localPath, timeout = 1800)`: creates the parent directories,
    /// then streams the file to a temporary file next to `local_path`, renamed at the end.
    pub async fn download_file_to(&self, id: &str, remote_path: &str, local_path: &str, timeout: Option<f64>) -> Result<()> {
        let timeout = timeout.unwrap_or(1800.0);
        let ctx = self.context_within(timeout);
        ctx.run(with_deadline(
            grace(timeout),
            || format!("Downloading {remote_path} did not finish within {} seconds", js_number(timeout)),
            async { self.toolbox(id).await?.download_file(remote_path, Some(local_path), Some(timeout)).await.map(|_| ()) },
        ))
        .await
    }

    /// `fs.downloadFile(remotePath, timeout = 1800)`.
    pub async fn download_file(&self, id: &str, remote_path: &str, timeout: Option<f64>) -> Result<Vec<u8>> {
        let timeout = timeout.unwrap_or(1800.0);
        let ctx = self.context_within(timeout);
        ctx.run(with_deadline(
            grace(timeout),
            || format!("Downloading {remote_path} did not finish within {} seconds", js_number(timeout)),
            async { Ok(self.toolbox(id).await?.download_file(remote_path, None, Some(timeout)).await?.unwrap_or_default()) },
        ))
        .await
    }

    /// `snapshot.create(params, { onLogs, timeout })`; no timeout (or 0) means no limit.
    pub async fn create_snapshot(&self, params: CreateSnapshotParams, timeout: Option<f64>, logs: Option<LogSink>) -> Result<SnapshotInfo> {
        let timeout = timeout.unwrap_or(0.0);
        check_timeout(timeout)?;
        let ctx = self.context_within(timeout).logs(Logs::new(logs));
        let name = params.name.clone();
        ctx.run(with_deadline(
            timeout,
            || format!("Failed to create snapshot {name} within {} seconds. Operation timed out.", js_number(timeout)),
            self.backend.create_snapshot(&ctx, &params),
        ))
        .await
        .map_err(|mut e| {
            if e.kind == ErrorKind::Build {
                e.message = format!("Failed to create snapshot. Name: {} Reason: {}", params.name, e.message);
            }
            e
        })
    }

    /// `snapshot.list(page?, limit?)` / `list({ page, limit, sourceSandboxId })`.
    pub async fn list_snapshots_page(&self, query: &ListSnapshotsQuery) -> Result<SnapshotPage> {
        let ctx = self.context();
        ctx.run(self.backend.list_snapshots(&ctx, query)).await
    }

    /// `snapshot.delete(snapshot)`: a `Snapshot` object or an id or name.
    pub async fn delete_snapshot_by(&self, snapshot: &SnapshotRef) -> Result<()> {
        let ctx = self.context();
        ctx.run(self.backend.delete_snapshot(&ctx, snapshot)).await
    }

    /// `snapshot.activate(snapshot)`.
    pub async fn activate_snapshot(&self, snapshot: &SnapshotRef) -> Result<SnapshotInfo> {
        let ctx = self.context();
        ctx.run(self.backend.activate_snapshot(&ctx, snapshot)).await
    }

    pub async fn get_snapshot(&self, id_or_name: &str) -> Result<SnapshotInfo> {
        let ctx = self.context();
        ctx.run(self.backend.get_snapshot(&ctx, id_or_name)).await
    }
}
