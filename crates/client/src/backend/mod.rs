//! The operations a backend provides, the context each receives, and the choice of backend
//! ([`connect`]). `Daytona`, `Sandbox` and `SnapshotService` validate,
//! apply deadlines and shape results; a backend only talks to its engine. Nothing outside
//! `backend::*` knows which backend is in use.

pub mod api;
pub mod local;
mod select;

pub use select::connect;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::logs::Logs;
use crate::types::*;

/// What one public operation hands every backend call it makes: the operation's own timeout
/// (the API backend bounds the HTTP request that starts the operation by it, as the official
/// SDK does; the local backend then drops its per-request bound), the sink for its log lines,
/// and the cancellation token of the caller's AbortSignal.
#[derive(Clone, Default)]
pub struct OperationContext {
    /// Seconds, 0 = no limit; `None`: the operation has no timeout of its own (`get`, `list`, ...).
    timeout: Option<f64>,
    started: Option<Instant>,
    logs: Logs,
    cancel: CancellationToken,
}

impl OperationContext {
    /// An operation without a timeout of its own and without logs.
    pub fn new() -> OperationContext {
        OperationContext::default()
    }

    /// An operation bounded by `seconds` (0 = no limit) from now.
    pub fn with_timeout(seconds: f64) -> OperationContext {
        OperationContext { timeout: Some(seconds), started: Some(Instant::now()), ..Default::default() }
    }

    /// The operation stops where it is when `token` is cancelled (see [`OperationContext::run`]).
    pub fn cancellable(mut self, token: CancellationToken) -> OperationContext {
        self.cancel = token;
        self
    }

    pub fn logs(mut self, logs: Logs) -> OperationContext {
        self.logs = logs;
        self
    }

    /// The operation's own timeout in seconds (0 = no limit), if it has one.
    pub fn timeout(&self) -> Option<f64> {
        self.timeout
    }

    /// Time left before the operation's deadline; `None` when it has none.
    pub fn remaining(&self) -> Option<Duration> {
        match (self.timeout, self.started) {
            (Some(t), Some(t0)) if t > 0.0 && t.is_finite() => Some(Duration::from_secs_f64(t).saturating_sub(t0.elapsed())),
            _ => None,
        }
    }

    pub fn log_sink(&self) -> &Logs {
        &self.logs
    }

    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Runs `fut` until it completes or the context's token is cancelled. Cancelled, the future
    /// is dropped where it is (the drop guards of the backends end what it started: the build,
    /// the container being created, the command, the upload) and the result is
    /// [`ErrorKind::Aborted`](crate::ErrorKind::Aborted); a token cancelled before the call
    /// means `fut` never runs.
    pub async fn run<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        if self.cancel.is_cancelled() {
            return Err(crate::error::ClientError::aborted());
        }
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(crate::error::ClientError::aborted()),
            r = fut => r,
        }
    }
}

/// Undoes what an operation made when the operation is dropped because its caller aborted it
/// (not when it fails or times out: the official SDK keeps a sandbox whose create timed out,
/// and so does this package). `undo` runs as a task of its own, after the drop.
pub struct UndoOnAbort {
    token: CancellationToken,
    undo: Option<Box<dyn FnOnce() -> futures_util::future::BoxFuture<'static, ()> + Send>>,
}

impl UndoOnAbort {
    pub fn new<F, Fut>(ctx: &OperationContext, undo: F) -> UndoOnAbort
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        UndoOnAbort { token: ctx.cancel.clone(), undo: Some(Box::new(move || Box::pin(undo()))) }
    }

    /// The operation finished: nothing to undo.
    pub fn disarm(mut self) {
        self.undo = None;
    }
}

impl Drop for UndoOnAbort {
    fn drop(&mut self) {
        if let Some(undo) = self.undo.take().filter(|_| self.token.is_cancelled()) {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(undo());
            }
        }
    }
}

/// How long one request may take until its response is complete.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Deadline {
    /// `requestTimeoutMs`, else 24 h.
    Default,
    /// An explicit axios timeout in milliseconds; 0 means none.
    Ms(f64),
}

/// The operations a backend must provide: one method per operation, nothing derived. A
/// convenience built from them (e.g. all pages of a list) belongs beside the trait, written
/// once for every backend (an extension trait, as object_store does), not in it.
#[async_trait]
pub trait Backend: Send + Sync {
    /// One line for humans: which engine this is and where.
    fn describe(&self) -> String;

    /// Builds the image if needed, then creates the sandbox and starts it; returns it in the
    /// state the engine reports (the wait until it is started is `Daytona`'s, for both
    /// backends). Must clean up what it created if it fails or its future is dropped (after an
    /// abort: [`UndoOnAbort`]). A backend that creates the sandbox after the build waits for
    /// `ctx.log_sink().delivered()` first, so a failing log callback cancels it.
    async fn create_sandbox(&self, ctx: &OperationContext, params: &CreateSandboxParams) -> Result<SandboxInfo>;
    async fn get_sandbox(&self, ctx: &OperationContext, id_or_name: &str) -> Result<SandboxInfo>;
    /// `sandbox.refreshData()`, what the waits for a state poll with: the sandbox as it is now
    /// (the API backend sends only `GET /sandbox/{id}`, as the official SDK; `get_sandbox` also
    /// asks for a missing toolbox URL).
    async fn refresh_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<SandboxInfo> {
        self.get_sandbox(ctx, id).await
    }
    /// One page of `daytona.list(query)`; `cursor` is the previous page's `next_cursor`.
    async fn list_sandboxes(&self, ctx: &OperationContext, query: &ListSandboxesQuery, cursor: Option<&str>) -> Result<SandboxPage>;
    async fn start_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<SandboxInfo>;
    async fn stop_sandbox(&self, ctx: &OperationContext, id: &str, force: bool) -> Result<SandboxInfo>;
    async fn delete_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<()>;

    async fn execute_command(&self, ctx: &OperationContext, id: &str, request: &ExecRequest) -> Result<ExecResult>;

    async fn create_snapshot(&self, ctx: &OperationContext, params: &CreateSnapshotParams) -> Result<SnapshotInfo>;
    async fn get_snapshot(&self, ctx: &OperationContext, id_or_name: &str) -> Result<SnapshotInfo>;
    /// One page of `snapshot.list`.
    async fn list_snapshots(&self, ctx: &OperationContext, query: &ListSnapshotsQuery) -> Result<SnapshotPage>;
    /// `snapshot.delete(snapshotOrIdOrName)`.
    async fn delete_snapshot(&self, ctx: &OperationContext, snapshot: &SnapshotRef) -> Result<()>;
    /// `snapshot.activate(...)`.
    async fn activate_snapshot(&self, ctx: &OperationContext, snapshot: &SnapshotRef) -> Result<SnapshotInfo>;

    /// The way to the sandbox's toolbox API (`daytona-toolbox.json`): sessions, PTY, code run
    /// and the code interpreter are written once over it, in [`crate::toolbox`].
    async fn toolbox(&self, ctx: &OperationContext, id: &str) -> Result<std::sync::Arc<dyn crate::toolbox::ToolboxTransport>>;

    /// `sandbox.setLabels(labels)`: replaces the sandbox's labels; returns them as the sandbox
    /// now has them.
    async fn set_sandbox_labels(&self, ctx: &OperationContext, id: &str, labels: &[(String, String)]) -> Result<Vec<(String, String)>>;
    /// `sandbox.refreshActivity()`: the sandbox counts as used now (for its auto-stop).
    async fn refresh_sandbox_activity(&self, ctx: &OperationContext, id: &str) -> Result<()>;
    /// `sandbox.setAutostopInterval(minutes)`.
    async fn set_autostop_interval(&self, ctx: &OperationContext, id: &str, minutes: f64) -> Result<()>;
    /// `sandbox.setAutoArchiveInterval(minutes)`.
    async fn set_auto_archive_interval(&self, ctx: &OperationContext, id: &str, minutes: f64) -> Result<()>;
    /// `sandbox.setAutoDeleteInterval(minutes)`.
    async fn set_auto_delete_interval(&self, ctx: &OperationContext, id: &str, minutes: f64) -> Result<()>;
    /// `sandbox.resize(resources)`: the sandbox as the request left it (`resizing` while the
    /// API works on it). `organization_id` is the sandbox's (the official SDK sends it).
    async fn resize_sandbox(&self, ctx: &OperationContext, id: &str, organization_id: &str, resources: &ResizeParams) -> Result<SandboxInfo>;
    /// `sandbox.createSnapshot(name)`: a snapshot of the sandbox's file system under `name`;
    /// returns the sandbox as the request left it (`snapshotting` while the API works on it).
    async fn create_sandbox_snapshot(&self, ctx: &OperationContext, id: &str, name: &str) -> Result<SandboxInfo>;
    /// `sandbox.fork({ name })`: a new sandbox with a copy of this one's file system and its
    /// settings; returned as the engine reports it (the wait until it runs is `Daytona`'s).
    async fn fork_sandbox(&self, ctx: &OperationContext, id: &str, name: Option<&str>) -> Result<SandboxInfo>;
    /// `sandbox.archive()`: the archive request only (the refresh after it is `Daytona`'s).
    async fn archive_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<()>;
    /// `sandbox.recover()`: the recover request; the sandbox as it answered.
    async fn recover_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<SandboxInfo>;
    /// `sandbox.getPreviewLink(port)`.
    async fn get_preview_link(&self, ctx: &OperationContext, id: &str, port: u16) -> Result<PreviewLink>;
    /// `sandbox.getSignedPreviewUrl(port, expiresInSeconds)`.
    async fn get_signed_preview_url(&self, ctx: &OperationContext, id: &str, port: u16, expires_in_seconds: Option<f64>) -> Result<PreviewLink>;
    /// `localImages.list()`: the images this package built on this engine. Only the local
    /// engine keeps images of its own.
    async fn list_local_images(&self, _ctx: &OperationContext) -> Result<Vec<LocalImage>> {
        Err(local_images_only())
    }
    /// Removes one image of [`Backend::list_local_images`] (by id, with all its tags); an image
    /// a container uses is refused (`ErrorKind::Conflict`).
    async fn remove_local_image(&self, _ctx: &OperationContext, _id: &str) -> Result<()> {
        Err(local_images_only())
    }
}

/// `snapshot.list`'s page of `all` for an engine that lists everything at once.
pub fn snapshot_page(all: Vec<SnapshotInfo>, query: &ListSnapshotsQuery) -> SnapshotPage {
    let total = all.len();
    let limit = query.limit.filter(|l| *l >= 1.0).map(|l| l as usize).unwrap_or(total.max(1));
    let page = query.page.filter(|p| *p >= 1.0).map(|p| p as usize).unwrap_or(1);
    let items = all.into_iter().skip((page - 1) * limit).take(limit).collect();
    SnapshotPage { items, total: total as f64, page: page as f64, total_pages: total.div_ceil(limit).max(1) as f64 }
}

fn local_images_only() -> crate::error::ClientError {
    crate::error::ClientError::invalid(
        "localImages is for the local engine: the Daytona API keeps no images of this package's builds (manage snapshots with daytona.snapshot)",
    )
}

/// The error for a local file that cannot be read for an upload.
pub fn local_read_error(path: &str, e: std::io::Error) -> crate::error::ClientError {
    use crate::error::{ClientError, ErrorKind};
    match e.kind() {
        std::io::ErrorKind::NotFound => ClientError::new(ErrorKind::NotFound, format!("Local file {path} does not exist")),
        _ => ClientError::invalid(format!("Cannot read local file {path}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_deadline_views() {
        let plain = OperationContext::new();
        assert_eq!(plain.timeout(), None);
        assert_eq!(plain.remaining(), None);
        assert!(!plain.log_sink().enabled() && !plain.cancellation().is_cancelled());

        let unlimited = OperationContext::with_timeout(0.0);
        assert_eq!(unlimited.timeout(), Some(0.0));
        assert_eq!(unlimited.remaining(), None);

        let bounded = OperationContext::with_timeout(30.0);
        let left = bounded.remaining().unwrap();
        assert!(left <= Duration::from_secs(30) && left > Duration::from_secs(29));
    }

    #[test]
    fn snapshot_pages_are_cut_from_the_whole_list() {
        let all: Vec<SnapshotInfo> = (0..5).map(|i| SnapshotInfo { name: format!("s{i}"), ..Default::default() }).collect();
        let page = snapshot_page(all.clone(), &ListSnapshotsQuery { page: Some(2.0), limit: Some(2.0), ..Default::default() });
        let names: Vec<_> = page.items.iter().map(|s| s.name.as_str()).collect();
        assert_eq!((names, page.total, page.page, page.total_pages), (vec!["s2", "s3"], 5.0, 2.0, 3.0));
        let whole = snapshot_page(all, &ListSnapshotsQuery::default());
        assert_eq!((whole.items.len(), whole.total_pages), (5, 1.0));
    }
}
