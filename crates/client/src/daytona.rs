//! `Daytona`: backend selection, the official SDK's argument validation and defaults
//! (reference §3.2-§3.6), and deadlines around every backend operation.

use std::future::Future;
use std::sync::{Arc, Once};
use std::time::Duration;

use crate::backend::Backend;
use crate::backend::local::{LocalBackend, LocalSettings, engine_host, engine_reachable};
use crate::error::{ClientError, ErrorKind, Result};
use crate::logs::{LogSink, Logs};
use crate::types::*;

/// Configuration of [`Daytona::new`]. Absent fields fall back to `DAYTONA_*` variables.
#[derive(Debug, Clone, Default)]
pub struct DaytonaConfig {
    pub api_key: Option<String>,
    pub jwt_token: Option<String>,
    pub organization_id: Option<String>,
    pub api_url: Option<String>,
    pub target: Option<String>,
    pub request_timeout_ms: Option<f64>,
    /// `"local"` or `"api"`; default `DAYTONA_BACKEND`, else `api` when credentials are
    /// configured and `local` otherwise.
    pub backend: Option<String>,
    pub local: LocalSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    Local,
    Api,
}

/// The one-time stderr notice printed when the local engine is chosen implicitly.
pub struct LocalNotice;

static NOTICE: Once = Once::new();

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

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

/// JavaScript's `${n}` for a number.
fn js_number(n: f64) -> String {
    format!("{n}")
}

#[derive(Clone)]
pub struct Daytona {
    backend: Arc<dyn Backend>,
    choice: BackendChoice,
}

impl Daytona {
    /// Selects and sets up the backend. Synchronous and cheap: the only I/O is, when the local
    /// engine is chosen implicitly, a connect to its socket to see whether it is there.
    pub fn new(config: DaytonaConfig) -> Result<Daytona> {
        if let Some(ms) = config.request_timeout_ms {
            if !ms.is_finite() || ms < 0.0 {
                return Err(ClientError::invalid("requestTimeoutMs must be a non-negative finite number of milliseconds"));
            }
        }
        let explicit = match config.backend.clone().or_else(|| env("DAYTONA_BACKEND")) {
            None => None,
            Some(b) if b == "local" => Some(BackendChoice::Local),
            Some(b) if b == "api" => Some(BackendChoice::Api),
            Some(other) => {
                return Err(ClientError::invalid(format!(
                    "Unknown backend {other:?}: use \"local\" (the Docker Engine on this machine) or \"api\" (the Daytona platform)"
                )));
            }
        };
        let jwt = config.jwt_token.clone().or_else(|| env("DAYTONA_JWT_TOKEN"));
        let api_key = config.api_key.clone().or_else(|| if jwt.is_some() { None } else { env("DAYTONA_API_KEY") });
        let has_credentials = api_key.is_some() || jwt.is_some();
        let choice = explicit.unwrap_or(if has_credentials { BackendChoice::Api } else { BackendChoice::Local });
        match choice {
            BackendChoice::Api => Err(ClientError::new(
                ErrorKind::Generic,
                "The Daytona API backend is not available in this version of daytona-native. \
                 Use the local Docker Engine instead: set DAYTONA_BACKEND=local (or pass { backend: 'local' }).",
            )),
            BackendChoice::Local => {
                let host = engine_host(&config.local);
                if explicit.is_none() {
                    if let Err(reason) = engine_reachable(&host) {
                        let mut err = ClientError::new(
                            ErrorKind::Authentication,
                            format!(
                                "Authentication credentials not found, and no local Docker Engine is reachable at {host} ({reason}). \
                                 To use the Daytona platform, set DAYTONA_API_KEY, or both DAYTONA_JWT_TOKEN and DAYTONA_ORGANIZATION_ID. \
                                 To use the local engine, start a Docker Engine or point DOCKER_HOST at one."
                            ),
                        );
                        err.status_code = None;
                        return Err(err);
                    }
                    NOTICE.call_once(|| {
                        eprintln!(
                            "daytona-native: no DAYTONA_API_KEY or DAYTONA_JWT_TOKEN configured; using the local Docker Engine at {host}. \
                             Set DAYTONA_BACKEND=local to choose it explicitly and silence this notice."
                        );
                    });
                }
                let backend = LocalBackend::connect(config.local)?;
                Ok(Daytona { backend: Arc::new(backend), choice })
            }
        }
    }

    pub fn backend_choice(&self) -> BackendChoice {
        self.choice
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
        params.labels.retain(|(k, _)| k != "code-toolbox-language");
        params.labels.push(("code-toolbox-language".into(), language.clone()));
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
        let logs = Logs::new(logs);
        with_deadline(
            timeout,
            || format!("Failed to create and start sandbox within {} seconds. Operation timed out.", js_number(timeout)),
            self.backend.create_sandbox(&params, &logs),
        )
        .await
    }

    pub async fn get(&self, id_or_name: &str) -> Result<SandboxInfo> {
        self.backend.get_sandbox(id_or_name).await
    }

    pub async fn list(&self, labels: &[(String, String)]) -> Result<Vec<SandboxInfo>> {
        self.backend.list_sandboxes(labels).await
    }

    /// `sandbox.start(timeout = 60)`.
    pub async fn start(&self, id: &str, timeout: Option<f64>) -> Result<SandboxInfo> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        with_deadline(timeout, || "Sandbox failed to become ready within the timeout period".into(), async {
            let info = self.backend.start_sandbox(id).await?;
            self.settle(id, info, "started").await
        })
        .await
    }

    /// `sandbox.stop(timeout = 60, force = false)`.
    pub async fn stop(&self, id: &str, timeout: Option<f64>, force: bool) -> Result<SandboxInfo> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        with_deadline(timeout, || "Sandbox failed to become stopped within the timeout period".into(), async {
            self.backend.stop_sandbox(id, force).await
        })
        .await
    }

    /// `sandbox.delete(timeout = 60)`.
    pub async fn delete(&self, id: &str, timeout: Option<f64>) -> Result<()> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        with_deadline(timeout, || "Sandbox failed to be destroyed within the timeout period".into(), self.backend.delete_sandbox(id)).await
    }

    /// `sandbox.waitUntilStarted(timeout = 60)`.
    pub async fn wait_until_started(&self, id: &str, timeout: Option<f64>) -> Result<SandboxInfo> {
        let timeout = timeout.unwrap_or(60.0);
        check_timeout(timeout)?;
        with_deadline(timeout, || "Sandbox failed to become ready within the timeout period".into(), async {
            let info = self.backend.get_sandbox(id).await?;
            self.settle(id, info, "started").await
        })
        .await
    }

    /// Polls until the sandbox reaches `target`, failing on an error state (reference §3.4).
    async fn settle(&self, id: &str, mut info: SandboxInfo, target: &str) -> Result<SandboxInfo> {
        let mut delay = Duration::from_millis(100);
        loop {
            if info.state == target {
                return Ok(info);
            }
            if info.state == "error" || info.state == "build_failed" {
                return Err(ClientError::generic(format!(
                    "Sandbox {} failed to start with status: {}, error reason: {}",
                    info.id,
                    info.state,
                    info.error_reason.clone().unwrap_or_default()
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay.mul_f64(1.1)).min(Duration::from_secs(1));
            info = self.backend.get_sandbox(id).await?;
        }
    }

    /// `process.executeCommand(command, cwd?, env?, timeout?)`.
    pub async fn execute_command(&self, id: &str, request: ExecRequest) -> Result<ExecResult> {
        self.backend.execute_command(id, &request).await
    }

    /// `fs.uploadFile(bufferOrLocalPath, remotePath, timeout = 1800)`.
    pub async fn upload_file(&self, id: &str, source: UploadSource, remote_path: &str, timeout: Option<f64>) -> Result<()> {
        let timeout = timeout.unwrap_or(1800.0);
        with_deadline(timeout, || format!("Uploading {remote_path} did not finish within {} seconds", js_number(timeout)), async {
            let content = match source {
                UploadSource::Bytes(b) => b,
                UploadSource::Path(p) => tokio::fs::read(&p).await.map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => ClientError::new(ErrorKind::NotFound, format!("Local file {p} does not exist")),
                    _ => ClientError::invalid(format!("Cannot read local file {p}: {e}")),
                })?,
            };
            self.backend.upload_file(id, content, remote_path).await
        })
        .await
    }

    /// `fs.downloadFile(remotePath, localPath, timeout = 1800)`: writes the file, creating its
    /// parent directories.
    pub async fn download_file_to(&self, id: &str, remote_path: &str, local_path: &str, timeout: Option<f64>) -> Result<()> {
        let bytes = self.download_file(id, remote_path, timeout).await?;
        if let Some(parent) = std::path::Path::new(local_path).parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| ClientError::invalid(format!("Cannot create directory {}: {e}", parent.display())))?;
        }
        tokio::fs::write(local_path, bytes).await.map_err(|e| ClientError::invalid(format!("Cannot write {local_path}: {e}")))
    }

    /// `fs.downloadFile(remotePath, timeout = 1800)`.
    pub async fn download_file(&self, id: &str, remote_path: &str, timeout: Option<f64>) -> Result<Vec<u8>> {
        let timeout = timeout.unwrap_or(1800.0);
        with_deadline(timeout, || format!("Downloading {remote_path} did not finish within {} seconds", js_number(timeout)), {
            self.backend.download_file(id, remote_path)
        })
        .await
    }

    /// `snapshot.create(params, { onLogs, timeout })`; no timeout (or 0) means no limit.
    pub async fn create_snapshot(&self, params: CreateSnapshotParams, timeout: Option<f64>, logs: Option<LogSink>) -> Result<SnapshotInfo> {
        let timeout = timeout.unwrap_or(0.0);
        check_timeout(timeout)?;
        let logs = Logs::new(logs);
        let name = params.name.clone();
        with_deadline(
            timeout,
            || format!("Failed to create snapshot {name} within {} seconds. Operation timed out.", js_number(timeout)),
            self.backend.create_snapshot(&params, &logs),
        )
        .await
        .map_err(|mut e| {
            if e.kind == ErrorKind::Build {
                e.message = format!("Failed to create snapshot. Name: {} Reason: {}", params.name, e.message);
            }
            e
        })
    }

    pub async fn get_snapshot(&self, id_or_name: &str) -> Result<SnapshotInfo> {
        self.backend.get_snapshot(id_or_name).await
    }

    pub async fn list_snapshots(&self) -> Result<Vec<SnapshotInfo>> {
        self.backend.list_snapshots().await
    }

    pub async fn delete_snapshot(&self, id_or_name: &str) -> Result<()> {
        self.backend.delete_snapshot(id_or_name).await
    }
}
