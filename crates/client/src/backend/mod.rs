//! The operations a backend provides. `Daytona`, `Sandbox` and `SnapshotService` validate,
//! apply deadlines and shape results; a backend only talks to its engine. Nothing outside
//! `backend::*` knows which backend is in use.

pub mod api;
pub mod local;

use std::future::Future;

use async_trait::async_trait;

use crate::error::Result;
use crate::logs::Logs;
use crate::types::*;

#[async_trait]
pub trait Backend: Send + Sync {
    /// One line for humans: which engine this is and where.
    fn describe(&self) -> String;

    /// Builds the image if needed, then creates and starts the sandbox. Must clean up what it
    /// created if it fails or its future is dropped. A backend that creates the sandbox after
    /// the build waits for `logs.delivered()` first, so a failing log callback cancels it.
    async fn create_sandbox(&self, params: &CreateSandboxParams, logs: &Logs) -> Result<SandboxInfo>;
    async fn get_sandbox(&self, id_or_name: &str) -> Result<SandboxInfo>;
    /// Sandboxes carrying all of `labels`.
    async fn list_sandboxes(&self, labels: &[(String, String)]) -> Result<Vec<SandboxInfo>>;
    async fn start_sandbox(&self, id: &str) -> Result<SandboxInfo>;
    async fn stop_sandbox(&self, id: &str, force: bool) -> Result<SandboxInfo>;
    async fn delete_sandbox(&self, id: &str) -> Result<()>;

    async fn execute_command(&self, id: &str, request: &ExecRequest) -> Result<ExecResult>;
    async fn upload_file(&self, id: &str, content: Vec<u8>, remote_path: &str) -> Result<()>;
    async fn download_file(&self, id: &str, remote_path: &str) -> Result<Vec<u8>>;

    async fn create_snapshot(&self, params: &CreateSnapshotParams, logs: &Logs) -> Result<SnapshotInfo>;
    async fn get_snapshot(&self, id_or_name: &str) -> Result<SnapshotInfo>;
    async fn list_snapshots(&self) -> Result<Vec<SnapshotInfo>>;
    async fn delete_snapshot(&self, id_or_name: &str) -> Result<()>;

    // Added for the API backend; the defaults serve engines without these notions.

    /// One page of `daytona.list(query)`. Default: every sandbox carrying the query's labels,
    /// in one page.
    async fn list_sandboxes_page(&self, query: &ListSandboxesQuery, cursor: Option<&str>) -> Result<SandboxPage> {
        if cursor.is_some() {
            return Ok(SandboxPage::default());
        }
        let items = self.list_sandboxes(query.labels.as_deref().unwrap_or_default()).await?;
        Ok(SandboxPage { items, next_cursor: None })
    }

    /// `fs.uploadFile` from a buffer or a local file. Default: read the file, then `upload_file`.
    async fn upload_file_source(&self, id: &str, source: UploadSource, remote_path: &str) -> Result<()> {
        let content = match source {
            UploadSource::Bytes(b) => b,
            UploadSource::Path(p) => tokio::fs::read(&p).await.map_err(|e| local_read_error(&p, e))?,
        };
        self.upload_file(id, content, remote_path).await
    }

    /// `fs.downloadFile(remote, localPath)` (the parent directory exists). Default: download,
    /// then write.
    async fn download_file_to(&self, id: &str, remote_path: &str, local_path: &str) -> Result<()> {
        let bytes = self.download_file(id, remote_path).await?;
        tokio::fs::write(local_path, bytes)
            .await
            .map_err(|e| crate::error::ClientError::invalid(format!("Cannot write {local_path}: {e}")))
    }

    /// One page of `snapshot.list`. Default: pages cut from `list_snapshots`.
    async fn list_snapshots_page(&self, query: &ListSnapshotsQuery) -> Result<SnapshotPage> {
        let all = self.list_snapshots().await?;
        let total = all.len();
        let limit = query.limit.filter(|l| *l >= 1.0).map(|l| l as usize).unwrap_or(total.max(1));
        let page = query.page.filter(|p| *p >= 1.0).map(|p| p as usize).unwrap_or(1);
        let items = all.into_iter().skip((page - 1) * limit).take(limit).collect();
        Ok(SnapshotPage { items, total: total as f64, page: page as f64, total_pages: total.div_ceil(limit).max(1) as f64 })
    }

    /// `snapshot.delete(snapshotOrIdOrName)`. Default: by the object's name (else id) or the string.
    async fn delete_snapshot_by(&self, snapshot: &SnapshotRef) -> Result<()> {
        self.delete_snapshot(&snapshot.key()).await
    }

    /// `snapshot.activate(...)`. Default: snapshots are always active; returns it.
    async fn activate_snapshot(&self, snapshot: &SnapshotRef) -> Result<SnapshotInfo> {
        self.get_snapshot(&snapshot.key()).await
    }
}

/// The error for a local file that cannot be read for an upload.
pub fn local_read_error(path: &str, e: std::io::Error) -> crate::error::ClientError {
    use crate::error::{ClientError, ErrorKind};
    match e.kind() {
        std::io::ErrorKind::NotFound => ClientError::new(ErrorKind::NotFound, format!("Local file {path} does not exist")),
        _ => ClientError::invalid(format!("Cannot read local file {path}: {e}")),
    }
}

tokio::task_local! {
    static OPERATION_TIMEOUT: f64;
}

/// Runs `fut` with the timeout (seconds, 0 = none) of the public operation it implements
/// (`create`, `start`, `stop`, `delete`, `uploadFile`, `downloadFile`, `snapshot.create`)
/// visible to the backend: the official SDK bounds the HTTP request that starts such an
/// operation by it, and a backend that makes HTTP requests does the same.
pub async fn with_operation_timeout<F: Future>(seconds: f64, fut: F) -> F::Output {
    OPERATION_TIMEOUT.scope(seconds, fut).await
}

/// The timeout of the operation being run, when `Daytona` set one.
pub fn operation_timeout() -> Option<f64> {
    OPERATION_TIMEOUT.try_with(|t| *t).ok()
}
