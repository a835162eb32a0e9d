//! The operations a backend provides. `Daytona`, `Sandbox` and `SnapshotService` validate,
//! apply deadlines and shape results; a backend only talks to its engine. Nothing outside
//! `backend::*` knows which backend is in use.

pub mod local;

use async_trait::async_trait;

use crate::error::Result;
use crate::logs::Logs;
use crate::types::*;

#[async_trait]
pub trait Backend: Send + Sync {
    /// One line for humans: which engine this is and where.
    fn describe(&self) -> String;

    /// Builds the image if needed, then creates and starts the sandbox. Must clean up what it
    /// created if it fails or its future is dropped.
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
}
