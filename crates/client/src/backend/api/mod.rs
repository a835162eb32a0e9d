//! The Daytona API backend: the REST API and the toolbox proxy, spoken exactly as the official
//! TypeScript SDK 0.218 speaks them (reference §2-§4), with what it does badly done right
//! (deadlines on every wait, whole and resumable build-log lines, the credential kept to the
//! API and toolbox origins, retries that never repeat a create, parallel content-addressed
//! context uploads).

pub mod config;
pub mod dotenv;
mod dto;
pub mod encode;
pub mod errors;
pub mod http;
pub mod json;
pub mod logstream;
pub mod toolbox_form;
pub mod retry;
mod sandbox;
mod snapshot;
mod toolbox;
pub mod toolbox_transport;
pub mod upload;

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use crate::backend::{Backend, OperationContext};
use crate::config::DaytonaConfig;
use crate::error::Result;
use crate::types::*;
use config::ApiConfig;
use http::Http;

pub struct ApiBackend {
    http: std::sync::Arc<Http>,
    /// `toolboxProxyUrl` of every sandbox seen, by id.
    toolbox: Mutex<HashMap<String, String>>,
    /// `local.buildSecrets` is configured: an image that mounts a secret is refused here,
    /// Daytona's servers take no build secrets.
    build_secrets: bool,
}

impl ApiBackend {
    /// Resolves the configuration as the official SDK does (config, `DAYTONA_*`, dotenv
    /// refusal, authentication errors) and sets up the HTTP client. No request is made.
    pub fn new(config: &DaytonaConfig) -> Result<ApiBackend> {
        let mut backend = Self::with_config(config::process_environment_resolve(config)?)?;
        backend.build_secrets = config.local.build_secrets.is_set();
        Ok(backend)
    }

    /// Refuses, before anything is uploaded, an image whose Dockerfile mounts a build secret
    /// when `local.buildSecrets` is set: the servers would build it without the secret.
    fn refuse_build_secrets(&self, image: Option<&ImageSpec>) -> Result<()> {
        match image {
            Some(ImageSpec::Build(image)) if self.build_secrets && crate::backend::local::session::mounts_secrets(image.dockerfile()) => {
                Err(crate::error::ClientError::invalid(
                    "The image mounts a build secret (RUN --mount=type=secret), and Daytona's servers take no build secrets: \
                     local.buildSecrets applies to the local engine only. Build this image with backend 'local', or pass the \
                     value another way (e.g. env vars of the sandbox)",
                )
                .with_details(serde_json::json!({ "reason": "build_secrets_unsupported" })))
            }
            _ => Ok(()),
        }
    }

    pub fn with_config(config: ApiConfig) -> Result<ApiBackend> {
        Ok(ApiBackend { http: std::sync::Arc::new(Http::new(config)?), toolbox: Mutex::new(HashMap::new()), build_secrets: false })
    }

    pub fn api_url(&self) -> &str {
        &self.http.config().api_url
    }

    /// Reads a sandbox DTO and remembers its toolbox URL. The error reason (which ends up in
    /// error messages) is scrubbed of the credential.
    fn remember(&self, dto: &Value) -> SandboxInfo {
        let mut info = dto::sandbox_info(dto);
        info.error_reason = info.error_reason.map(|r| self.http.scrub(&r));
        if let Some(url) = dto.get("toolboxProxyUrl").and_then(Value::as_str).filter(|u| !u.is_empty()) {
            self.http.trust_origin_of(url);
            self.toolbox.lock().unwrap().insert(info.id.clone(), url.to_string());
        }
        info
    }
}

/// Every error leaving the backend, scrubbed of the credential (messages built from server
/// data, e.g. a snapshot's error reason, included).
async fn scrubbed<T>(http: &Http, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    fut.await.map_err(|e| http.scrub_error(e))
}

/// `Math.max(0.001, timeout - elapsed)` style HTTP deadline for a per-call timeout in seconds.
fn per_call_deadline(timeout: Option<f64>) -> http::Deadline {
    match timeout {
        Some(t) => http::Deadline::Ms(t * 1000.0),
        None => http::Deadline::Default,
    }
}

#[async_trait]
impl Backend for ApiBackend {
    fn describe(&self) -> String {
        format!("the Daytona API at {}", self.http.config().api_url)
    }

    async fn create_sandbox(&self, ctx: &OperationContext, params: &CreateSandboxParams) -> Result<SandboxInfo> {
        self.refuse_build_secrets(params.image.as_ref())?;
        scrubbed(&self.http, self.create(ctx, params)).await
    }

    async fn get_sandbox(&self, _ctx: &OperationContext, id_or_name: &str) -> Result<SandboxInfo> {
        scrubbed(&self.http, self.get(id_or_name)).await
    }

    async fn refresh_sandbox(&self, _ctx: &OperationContext, id: &str) -> Result<SandboxInfo> {
        scrubbed(&self.http, self.get_remembered(id)).await
    }

    async fn list_sandboxes(&self, _ctx: &OperationContext, query: &ListSandboxesQuery, cursor: Option<&str>) -> Result<SandboxPage> {
        scrubbed(&self.http, self.list_page(query, cursor)).await
    }

    async fn start_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<SandboxInfo> {
        scrubbed(&self.http, self.start(ctx, id)).await
    }

    async fn stop_sandbox(&self, ctx: &OperationContext, id: &str, force: bool) -> Result<SandboxInfo> {
        scrubbed(&self.http, self.stop(ctx, id, force)).await
    }

    async fn delete_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<()> {
        scrubbed(&self.http, self.delete(ctx, id)).await
    }

    async fn execute_command(&self, _ctx: &OperationContext, id: &str, request: &ExecRequest) -> Result<ExecResult> {
        scrubbed(&self.http, self.execute(id, request)).await
    }

    async fn create_snapshot(&self, ctx: &OperationContext, params: &CreateSnapshotParams) -> Result<SnapshotInfo> {
        self.refuse_build_secrets(Some(&params.image))?;
        scrubbed(&self.http, self.create_snapshot_flow(ctx, params)).await
    }

    async fn get_snapshot(&self, _ctx: &OperationContext, id_or_name: &str) -> Result<SnapshotInfo> {
        scrubbed(&self.http, async { self.snapshot_dto(id_or_name).await.map(|v| dto::snapshot_info(&v)) }).await
    }

    async fn list_snapshots(&self, _ctx: &OperationContext, query: &ListSnapshotsQuery) -> Result<SnapshotPage> {
        scrubbed(&self.http, self.list_snapshots_query(query)).await
    }

    async fn delete_snapshot(&self, _ctx: &OperationContext, snapshot: &SnapshotRef) -> Result<()> {
        scrubbed(&self.http, self.delete_snapshot_ref(snapshot)).await
    }

    async fn activate_snapshot(&self, _ctx: &OperationContext, snapshot: &SnapshotRef) -> Result<SnapshotInfo> {
        scrubbed(&self.http, self.activate_snapshot_ref(snapshot)).await
    }

    async fn toolbox(&self, ctx: &OperationContext, id: &str) -> Result<std::sync::Arc<dyn crate::toolbox::ToolboxTransport>> {
        scrubbed(&self.http, async {
            let base = self.toolbox_base(id, per_call_deadline(ctx.timeout())).await?;
            Ok(std::sync::Arc::new(toolbox_transport::ApiToolboxTransport::new(self.http.clone(), base)) as std::sync::Arc<dyn crate::toolbox::ToolboxTransport>)
        })
        .await
    }

    async fn set_sandbox_labels(&self, _ctx: &OperationContext, id: &str, labels: &[(String, String)]) -> Result<Vec<(String, String)>> {
        scrubbed(&self.http, self.replace_labels(id, labels)).await
    }

    async fn refresh_sandbox_activity(&self, _ctx: &OperationContext, id: &str) -> Result<()> {
        scrubbed(&self.http, self.update_last_activity(id)).await
    }

    async fn set_autostop_interval(&self, _ctx: &OperationContext, id: &str, minutes: f64) -> Result<()> {
        scrubbed(&self.http, self.set_interval(id, "autostop", minutes)).await
    }

    async fn set_auto_archive_interval(&self, _ctx: &OperationContext, id: &str, minutes: f64) -> Result<()> {
        scrubbed(&self.http, self.set_interval(id, "autoarchive", minutes)).await
    }

    async fn set_auto_delete_interval(&self, _ctx: &OperationContext, id: &str, minutes: f64) -> Result<()> {
        scrubbed(&self.http, self.set_interval(id, "autodelete", minutes)).await
    }

    async fn resize_sandbox(&self, ctx: &OperationContext, id: &str, organization_id: &str, resources: &ResizeParams) -> Result<SandboxInfo> {
        scrubbed(&self.http, self.resize(ctx, id, organization_id, resources)).await
    }

    async fn create_sandbox_snapshot(&self, ctx: &OperationContext, id: &str, name: &str) -> Result<SandboxInfo> {
        scrubbed(&self.http, self.snapshot_sandbox(ctx, id, name)).await
    }

    async fn fork_sandbox(&self, ctx: &OperationContext, id: &str, name: Option<&str>) -> Result<SandboxInfo> {
        scrubbed(&self.http, self.fork(ctx, id, name)).await
    }

    async fn archive_sandbox(&self, _ctx: &OperationContext, id: &str) -> Result<()> {
        scrubbed(&self.http, self.archive(id)).await
    }

    async fn recover_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<SandboxInfo> {
        scrubbed(&self.http, self.recover(ctx, id)).await
    }

    async fn get_preview_link(&self, _ctx: &OperationContext, id: &str, port: u16) -> Result<PreviewLink> {
        scrubbed(&self.http, self.preview_url(id, port, None)).await
    }

    async fn get_signed_preview_url(&self, _ctx: &OperationContext, id: &str, port: u16, expires_in_seconds: Option<f64>) -> Result<PreviewLink> {
        scrubbed(&self.http, self.preview_url(id, port, Some(expires_in_seconds))).await
    }
}
