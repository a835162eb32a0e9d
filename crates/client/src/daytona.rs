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

/// Every `SandboxState` but `resizing` and the error states: where a resize has ended.
const SETTLED_AFTER_RESIZE: [&str; 19] = [
    "creating", "restoring", "destroyed", "destroying", "started", "stopped", "starting", "stopping", "pending_build", "building_snapshot",
    "unknown", "pulling_snapshot", "archived", "archiving", "snapshotting", "forking", "pausing", "paused", "resuming",
];

/// Every `SandboxState` but `snapshotting` and the error states: where a snapshot has ended.
const SETTLED_AFTER_SNAPSHOT: [&str; 19] = [
    "creating", "restoring", "destroyed", "destroying", "started", "stopped", "starting", "stopping", "pending_build", "building_snapshot",
    "unknown", "pulling_snapshot", "archived", "archiving", "resizing", "forking", "pausing", "paused", "resuming",
];

const LANGUAGES: [&str; 3] = ["python", "typescript", "javascript"];

fn non_negative_integer(value: Option<f64>, name: &str) -> Result<()> {
    if let Some(v) = value {
        if !v.is_finite() || v.fract() != 0.0 || v < 0.0 {
            return Err(ClientError::invalid(format!("{name} must be a non-negative integer")));
        }
    }
    Ok(())
}

fn check_port(port: f64) -> Result<u16> {
    if port.fract() != 0.0 || !(1.0..=65535.0).contains(&port) {
        return Err(ClientError::invalid(format!("port must be an integer from 1 to 65535 (got {})", js_number(port))));
    }
    Ok(port as u16)
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

    /// The same client without the cancellation token (what objects handed out keep).
    pub fn without_cancellation(&self) -> Daytona {
        Daytona { backend: self.backend.clone(), cancel: CancellationToken::new() }
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

    /// `daytona.create(params, { timeout, onSnapshotCreateLogs, onBuildEvent })`: `logs` carries
    /// the log lines and, when made to, the build events. `timeout` defaults to 60 seconds; 0
    /// means no limit.
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
        self.request_then_started(id, timeout, false).await
    }

    /// The start request (`recover`: the recover request), bounded by `timeout`, then
    /// `waitUntilStarted` with what is left of it.
    async fn request_then_started(&self, id: &str, timeout: f64, recover: bool) -> Result<SandboxInfo> {
        let t0 = Instant::now();
        let ctx = self.context_within(timeout);
        ctx.run(async {
            let request = async {
                if recover { self.backend.recover_sandbox(&ctx, id).await } else { self.backend.start_sandbox(&ctx, id).await }
            };
            let info = with_deadline(grace(timeout), || "Sandbox failed to become ready within the timeout period".into(), request).await?;
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

    /// `snapshot.create(params, { onLogs, onBuildEvent, timeout })`; no timeout (or 0) means no
    /// limit.
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

    /// `snapshot.ensure(params, { onLogs, timeout })`: the snapshot of this image, built only
    /// when no snapshot of that name exists. Without a name it is named from the image's cache
    /// key (plus the entrypoint and resources, which change the snapshot):
    /// [`default_snapshot_name`]. An existing snapshot is returned once it is active: an
    /// inactive one is activated, one still being built or pulled is waited for; one whose
    /// build failed is an error that says how to build it again. Two processes ensuring the same
    /// snapshot at once both get it (the loser of the create waits for the winner's).
    pub async fn ensure_snapshot(&self, mut params: CreateSnapshotParams, timeout: Option<f64>, logs: Option<LogSink>) -> Result<SnapshotInfo> {
        let seconds = timeout.unwrap_or(0.0);
        check_timeout(seconds)?;
        let t0 = Instant::now();
        let ctx = self.context();
        if params.name.is_empty() {
            params.name = ctx.run(default_snapshot_name(&params)).await?;
        }
        let name = params.name.clone();
        let existing = match ctx.run(self.backend.get_snapshot(&ctx, &name)).await {
            Ok(s) => Some(s),
            Err(e) if e.kind.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let snapshot = match existing {
            Some(s) => s,
            None => match self.create_snapshot(params, Some(wait::remaining(seconds, t0)), logs).await {
                Ok(created) => return Ok(created),
                // Someone else created it meanwhile: theirs is the one.
                Err(e) if e.kind == ErrorKind::Conflict => ctx.run(self.backend.get_snapshot(&ctx, &name)).await?,
                Err(e) => return Err(e),
            },
        };
        ctx.run(with_deadline(
            wait::remaining(seconds, t0),
            || format!("Snapshot {name} did not become active within {} seconds", js_number(seconds)),
            self.until_snapshot_active(&ctx, snapshot),
        ))
        .await
    }

    /// Polls an existing snapshot (every second, as `snapshot.create` does) until it is active.
    async fn until_snapshot_active(&self, ctx: &OperationContext, mut snapshot: SnapshotInfo) -> Result<SnapshotInfo> {
        loop {
            match snapshot.state.as_str() {
                "active" => return Ok(snapshot),
                "inactive" => {
                    let target = SnapshotRef::IdOrName(snapshot.name.clone());
                    snapshot = self.backend.activate_snapshot(ctx, &target).await?;
                    if snapshot.state == "inactive" {
                        return Ok(snapshot);
                    }
                }
                "build_failed" | "error" => {
                    let reason = snapshot.error_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
                    return Err(ClientError::new(
                        ErrorKind::Build,
                        format!(
                            "Snapshot {} exists but its build failed (state {}{reason}). Delete it with snapshot.delete('{}') to build it again.",
                            snapshot.name, snapshot.state, snapshot.name
                        ),
                    ));
                }
                _ => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    snapshot = self.backend.get_snapshot(ctx, &snapshot.name).await?;
                }
            }
        }
    }

    /// `localImages.list()`: the images this package built on the local engine, newest first.
    pub async fn local_images(&self) -> Result<Vec<LocalImage>> {
        let ctx = self.context();
        ctx.run(self.backend.list_local_images(&ctx)).await
    }

    /// `localImages.prune(options)`: removes built images no container uses, optionally only
    /// those older than `older_than_minutes`, keeping the `keep` newest candidates; snapshots
    /// only with `include_snapshots`. An image that gets used while pruning is kept.
    pub async fn prune_local_images(&self, options: &PruneLocalImages) -> Result<PruneReport> {
        if let Some(m) = options.older_than_minutes {
            if !m.is_finite() || m < 0.0 {
                return Err(ClientError::invalid("olderThanMinutes must be a non-negative number"));
            }
        }
        let ctx = self.context();
        ctx.run(async {
            let images = self.backend.list_local_images(&ctx).await?;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
            let (candidates, in_use) = prune_candidates(images, options, now);
            let mut report = PruneReport { in_use, ..Default::default() };
            for image in candidates {
                if !options.dry_run {
                    match self.backend.remove_local_image(&ctx, &image.id).await {
                        Ok(()) => {}
                        Err(e) if e.kind == ErrorKind::Conflict => {
                            report.in_use += 1;
                            continue;
                        }
                        Err(e) if e.kind.is_not_found() => continue,
                        Err(e) => return Err(e),
                    }
                }
                report.bytes_freed += image.size_bytes;
                report.removed.push(image);
            }
            Ok(report)
        })
        .await
    }

    /// `localImages.remove(idOrTag)`: one built image with all its tags; refused while a
    /// container uses it (`DaytonaConflictError`).
    pub async fn remove_local_image(&self, id_or_tag: &str) -> Result<()> {
        let ctx = self.context();
        ctx.run(self.backend.remove_local_image(&ctx, id_or_tag)).await
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

    /// `sandbox.setLabels(labels)`: the labels the sandbox has afterwards.
    pub async fn set_labels(&self, id: &str, labels: &[(String, String)]) -> Result<Vec<(String, String)>> {
        let ctx = self.context();
        ctx.run(self.backend.set_sandbox_labels(&ctx, id, labels)).await
    }

    /// `sandbox.refreshActivity()`.
    pub async fn refresh_activity(&self, id: &str) -> Result<()> {
        let ctx = self.context();
        ctx.run(self.backend.refresh_sandbox_activity(&ctx, id)).await
    }

    /// `sandbox.setAutostopInterval(minutes)`: a non-negative integer (0 disables auto-stop).
    pub async fn set_autostop_interval(&self, id: &str, minutes: f64) -> Result<()> {
        non_negative_integer(Some(minutes), "autoStopInterval")?;
        let ctx = self.context();
        ctx.run(self.backend.set_autostop_interval(&ctx, id, minutes)).await
    }

    /// `sandbox.setAutoArchiveInterval(minutes)`: a non-negative integer (0: the maximum).
    pub async fn set_auto_archive_interval(&self, id: &str, minutes: f64) -> Result<()> {
        non_negative_integer(Some(minutes), "autoArchiveInterval")?;
        let ctx = self.context();
        ctx.run(self.backend.set_auto_archive_interval(&ctx, id, minutes)).await
    }

    /// `sandbox.setAutoDeleteInterval(minutes)`: negative disables it, 0 deletes on stop (not
    /// checked, as officially).
    pub async fn set_auto_delete_interval(&self, id: &str, minutes: f64) -> Result<()> {
        let ctx = self.context();
        ctx.run(self.backend.set_auto_delete_interval(&ctx, id, minutes)).await
    }

    /// `sandbox.resize(resources, timeout = 60)`: the resize request (bounded by `timeout`), then
    /// `waitForResizeComplete` with what is left of it.
    pub async fn resize(&self, id: &str, organization_id: &str, resources: &ResizeParams, timeout: Option<f64>) -> Result<SandboxInfo> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        let t0 = Instant::now();
        let ctx = self.context_within(timeout);
        ctx.run(async {
            let info = with_deadline(
                grace(timeout),
                || "Sandbox resize did not complete within the timeout period".into(),
                self.backend.resize_sandbox(&ctx, id, organization_id, resources),
            )
            .await?;
            Ok(self.wait_resized(id, info.clone(), wait::remaining(timeout, t0)).await?.unwrap_or(info))
        })
        .await
    }

    /// `sandbox.waitForResizeComplete(timeout = 60)` from a sandbox in `info`'s state: not
    /// `resizing` means no request (`None`).
    pub async fn wait_for_resize_complete(&self, id: &str, cached_state: &str, timeout: Option<f64>) -> Result<Option<SandboxInfo>> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        let from = SandboxInfo { id: id.to_string(), state: cached_state.to_string(), ..Default::default() };
        self.context().run(self.wait_resized(id, from, timeout)).await
    }

    async fn wait_resized(&self, id: &str, info: SandboxInfo, timeout: f64) -> Result<Option<SandboxInfo>> {
        if info.state != "resizing" {
            return Ok(None);
        }
        let message = |i: &SandboxInfo| format!("Sandbox {} resize failed with state: {}, error reason: {}", i.id, i.state, wait::reason(i));
        let spec = WaitSpec {
            targets: &SETTLED_AFTER_RESIZE,
            errors: wait::FAILED,
            timeout,
            timeout_message: "Sandbox resize did not complete within the timeout period",
            error_message: &message,
            safe: false,
        };
        let refresh = self.context();
        wait::wait_for_state(info, &spec, || self.backend.refresh_sandbox(&refresh, id)).await.map(Some)
    }

    /// `sandbox.createSnapshot(name, timeout = 60)`: the request (bounded by `timeout`), then the
    /// wait until the sandbox has left `snapshotting`.
    pub async fn create_sandbox_snapshot(&self, id: &str, name: &str, timeout: Option<f64>) -> Result<SandboxInfo> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        let t0 = Instant::now();
        let ctx = self.context_within(timeout);
        ctx.run(async {
            let info = with_deadline(
                grace(timeout),
                || "Sandbox snapshot did not complete within the timeout period".into(),
                self.backend.create_sandbox_snapshot(&ctx, id, name),
            )
            .await?;
            let message = |i: &SandboxInfo| format!("Sandbox {} snapshot failed with state: {}, error reason: {}", i.id, i.state, wait::reason(i));
            let spec = WaitSpec {
                targets: &SETTLED_AFTER_SNAPSHOT,
                errors: wait::FAILED,
                timeout: wait::remaining(timeout, t0),
                timeout_message: "Sandbox snapshot did not complete within the timeout period",
                error_message: &message,
                safe: false,
            };
            let refresh = self.context();
            wait::wait_for_state(info, &spec, || self.backend.refresh_sandbox(&refresh, id)).await
        })
        .await
    }

    /// `sandbox.fork({ name }, timeout = 60)`: the fork request (bounded by `timeout`), then
    /// `waitUntilStarted` of the new sandbox with what is left of it.
    pub async fn fork(&self, id: &str, name: Option<&str>, timeout: Option<f64>) -> Result<SandboxInfo> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        let t0 = Instant::now();
        let ctx = self.context_within(timeout);
        ctx.run(async {
            let info = with_deadline(
                grace(timeout),
                || "Sandbox failed to become ready within the timeout period".into(),
                self.backend.fork_sandbox(&ctx, id, name),
            )
            .await?;
            let new_id = info.id.clone();
            self.wait_started(&new_id, info, wait::remaining(timeout, t0)).await
        })
        .await
    }

    /// `sandbox.archive()`: the archive request, then the sandbox as it is now.
    pub async fn archive(&self, id: &str) -> Result<SandboxInfo> {
        let ctx = self.context();
        ctx.run(async {
            self.backend.archive_sandbox(&ctx, id).await?;
            self.backend.refresh_sandbox(&ctx, id).await
        })
        .await
    }

    /// `sandbox.recover(timeout = 60)`: the recover request (bounded by `timeout`), then
    /// `waitUntilStarted` with what is left of it.
    pub async fn recover(&self, id: &str, timeout: Option<f64>) -> Result<SandboxInfo> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        self.request_then_started(id, timeout, true).await
    }

    /// `sandbox.getPreviewLink(port)`.
    pub async fn get_preview_link(&self, id: &str, port: f64) -> Result<PreviewLink> {
        let port = check_port(port)?;
        let ctx = self.context();
        ctx.run(self.backend.get_preview_link(&ctx, id, port)).await
    }

    /// `sandbox.getSignedPreviewUrl(port, expiresInSeconds?)`.
    pub async fn get_signed_preview_url(&self, id: &str, port: f64, expires_in_seconds: Option<f64>) -> Result<PreviewLink> {
        let port = check_port(port)?;
        if let Some(s) = expires_in_seconds.filter(|s| !s.is_finite() || *s < 0.0) {
            return Err(ClientError::invalid(format!("expiresInSeconds must be a non-negative number (got {})", js_number(s))));
        }
        let ctx = self.context();
        ctx.run(self.backend.get_signed_preview_url(&ctx, id, port, expires_in_seconds)).await
    }

    /// `sandbox.waitUntilStopped(timeout = 60)` for a sandbox whose last known state is
    /// `cached_state`: already `stopped` or `destroyed` means no request (`None`). A sandbox
    /// that is gone counts as destroyed, as officially.
    pub async fn wait_until_stopped_from(&self, id: &str, cached_state: Option<&str>, timeout: Option<f64>) -> Result<Option<SandboxInfo>> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        if matches!(cached_state, Some("stopped") | Some("destroyed")) {
            return Ok(None);
        }
        let from = SandboxInfo { id: id.to_string(), state: cached_state.unwrap_or_default().to_string(), ..Default::default() };
        let refresh = self.context();
        let message = |i: &SandboxInfo| format!("Sandbox failed to stop with status: {}, error reason: {}", i.state, wait::reason(i));
        let spec = WaitSpec {
            targets: wait::STOPPED,
            errors: wait::FAILED,
            timeout,
            timeout_message: "Sandbox failed to become stopped within the timeout period",
            error_message: &message,
            safe: true,
        };
        refresh.run(wait::wait_for_state(from, &spec, || self.backend.refresh_sandbox(&refresh, id))).await.map(Some)
    }
}

/// The name `snapshot.ensure` gives a snapshot without one: `daytona-native-` and 24 hex digits
/// of a SHA-256 over the image's cache key (`plan().cacheKey`; for an image reference, the cache
/// key of `FROM <ref>`), the entrypoint and the resources. Planning reads the build context, so it
/// runs on a blocking thread.
pub async fn default_snapshot_name(params: &CreateSnapshotParams) -> Result<String> {
    use sha2::{Digest, Sha256};
    let cache_key = match &params.image {
        ImageSpec::Name(reference) => daytona_context::cache_key(&format!("FROM {reference}\n"), &[]),
        ImageSpec::Build(image) => {
            let image = image.clone();
            tokio::task::spawn_blocking(move || crate::plan::plan_image(&image, &Default::default()))
                .await
                .map_err(|e| ClientError::generic(format!("Planning the image failed: {e}")))??
                .cache_key
        }
    };
    let mut h = Sha256::new();
    h.update(cache_key.as_bytes());
    h.update(format!("\nentrypoint {:?}", params.entrypoint).as_bytes());
    if let Some(r) = &params.resources {
        h.update(format!("\nresources {:?} {:?} {:?} {:?} {:?}", r.cpu, r.gpu, r.memory, r.disk, r.gpu_type).as_bytes());
    }
    let digest = h.finalize();
    Ok(format!("daytona-native-{}", digest.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Which of `images` (newest first) `localImages.prune` removes at `now` (seconds), and how many
/// are kept because a container uses them.
pub fn prune_candidates(images: Vec<LocalImage>, options: &PruneLocalImages, now: i64) -> (Vec<LocalImage>, usize) {
    let in_use = images.iter().filter(|i| !i.used_by.is_empty()).count();
    let old_enough = |i: &LocalImage| options.older_than_minutes.is_none_or(|m| (now - i.created) as f64 >= m * 60.0);
    let candidates = images
        .into_iter()
        .filter(|i| i.used_by.is_empty() && (options.include_snapshots || i.snapshots.is_empty()))
        // The newest `keep` candidates stay, whatever their age.
        .skip(options.keep.unwrap_or(0))
        .filter(|i| old_enough(i))
        .collect();
    (candidates, in_use)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, minutes_old: i64, snapshot: bool, used: bool) -> LocalImage {
        LocalImage {
            id: id.into(),
            tags: vec![format!("{id}:latest")],
            snapshots: if snapshot { vec![id.into()] } else { vec![] },
            created: 100_000 - minutes_old * 60,
            size_bytes: 10.0,
            used_by: if used { vec!["c".into()] } else { vec![] },
        }
    }

    fn ids(images: &[LocalImage]) -> Vec<&str> {
        images.iter().map(|i| i.id.as_str()).collect()
    }

    #[test]
    fn prune_keeps_used_images_snapshots_the_newest_and_the_young() {
        // Newest first, as the backend lists them.
        let all = vec![image("a", 1, false, false), image("b", 5, false, true), image("c", 10, true, false), image("d", 20, false, false), image("e", 30, false, false)];
        let everything = PruneLocalImages::default();
        let (removed, in_use) = prune_candidates(all.clone(), &everything, 100_000);
        assert_eq!((ids(&removed), in_use), (vec!["a", "d", "e"], 1));

        let with_snapshots = PruneLocalImages { include_snapshots: true, ..Default::default() };
        assert_eq!(ids(&prune_candidates(all.clone(), &with_snapshots, 100_000).0), vec!["a", "c", "d", "e"]);

        let keep_two = PruneLocalImages { keep: Some(2), ..Default::default() };
        assert_eq!(ids(&prune_candidates(all.clone(), &keep_two, 100_000).0), vec!["e"]);

        let old = PruneLocalImages { older_than_minutes: Some(15.0), ..Default::default() };
        assert_eq!(ids(&prune_candidates(all.clone(), &old, 100_000).0), vec!["d", "e"]);

        let keep_one_old = PruneLocalImages { older_than_minutes: Some(15.0), keep: Some(1), ..Default::default() };
        assert_eq!(ids(&prune_candidates(all, &keep_one_old, 100_000).0), vec!["d", "e"], "the kept newest candidate was young anyway");
    }
}

