//! The local engine backend: sandboxes are containers and snapshots are images on the Docker
//! Engine of this machine, reached with bollard over `DOCKER_HOST` or the default socket.

mod agent;
mod build;
mod buildkit;
mod exec;
mod images;
mod janitor;
pub mod labels;
mod reaper;
mod preview;
mod sandbox;
pub(crate) mod session;
mod settings;
mod snapshot;

use std::time::Duration;

use async_trait::async_trait;
use bollard::Docker;
use tokio::sync::OnceCell;

use crate::config::LocalSettings;
use crate::backend::{Backend, OperationContext, snapshot_page};
use build::engine_error;
use crate::error::{ClientError, ErrorKind, Result};
use crate::types::*;

pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";
/// Bound on one engine request of an operation that has no timeout of its own (`get`, `list`,
/// `refreshData`, `snapshot.get`/`list`/`delete`) when `requestTimeoutMs` is not configured.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Engine requests of an operation with its own timeout are bounded by that operation's
/// deadline (applied by `Daytona`), not per request.
const OPERATION_REQUEST_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);
/// Deadline of a toolbox call that has none of its own when `requestTimeoutMs` is not
/// configured: the official SDK's axios default.
const TOOLBOX_DEFAULT_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_IMAGE: &str = "python:3.13.3-slim-bookworm";

pub struct LocalBackend {
    /// Engine client whose requests are bounded by the request timeout.
    docker: Docker,
    /// The same client without a per-request bound (the operation's deadline applies).
    docker_unbounded: Docker,
    host: String,
    settings: LocalSettings,
    build_network: OnceCell<String>,
    /// The engine's architecture (`x86_64`, `aarch64`): which agent binary goes into sandboxes.
    engine_arch: OnceCell<String>,
    /// Deadline of a toolbox call without one of its own (see [`TOOLBOX_DEFAULT_TIMEOUT`]).
    toolbox_timeout: Option<Duration>,
    /// The toolbox of each sandbox reached so far, by the id or name it was asked for with.
    toolboxes: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<agent::AgentTransport>>>,
    /// `local.removeOnExit` as resolved at construction (`reaper::remove_on_exit`).
    remove_on_exit: reaper::Policy,
}

pub use agent::set_agent_directory;

/// The engine address the settings (or `DOCKER_HOST`) name.
pub fn engine_host(settings: &LocalSettings) -> String {
    settings
        .docker_host
        .clone()
        .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| DEFAULT_SOCKET.to_string())
}

/// A quick synchronous check that something listens at the engine address (used to decide,
/// in a constructor, whether the local engine can be the default backend).
pub fn engine_reachable(host: &str) -> std::result::Result<(), String> {
    if let Some(path) = host.strip_prefix("unix://") {
        std::os::unix::net::UnixStream::connect(path).map(|_| ()).map_err(|e| e.to_string())
    } else if let Some(addr) = host.strip_prefix("tcp://").or_else(|| host.strip_prefix("http://")) {
        use std::net::ToSocketAddrs;
        let addrs: Vec<_> = addr.to_socket_addrs().map_err(|e| e.to_string())?.collect();
        let first = addrs.first().ok_or_else(|| "no address".to_string())?;
        std::net::TcpStream::connect_timeout(first, std::time::Duration::from_millis(500)).map(|_| ()).map_err(|e| e.to_string())
    } else {
        Err(format!("unsupported engine address {host}"))
    }
}

impl LocalBackend {
    /// The toolbox agent of a sandbox (remembered per id or name); `None` when the sandbox has
    /// no agent.
    async fn agent_transport(&self, ctx: &OperationContext, id: &str) -> Result<Option<std::sync::Arc<dyn crate::toolbox::ToolboxTransport>>> {
        if let Some(known) = self.toolboxes.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            return Ok(Some(known.clone()));
        }
        let container = self.managed_container(ctx, id).await?;
        let has_agent = container.config.as_ref().and_then(|c| c.labels.as_ref()).is_some_and(|l| l.contains_key(labels::AGENT));
        if !has_agent {
            return Ok(None);
        }
        let transport = std::sync::Arc::new(agent::AgentTransport::new(
            self.docker_unbounded.clone(),
            container.id.clone().unwrap_or_default(),
            id.to_string(),
            self.toolbox_timeout,
        ));
        self.toolboxes.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), transport.clone());
        Ok(Some(transport))
    }

    /// `request_timeout_ms`: the configured `requestTimeoutMs` (0 = unbounded); `None` means
    /// [`DEFAULT_REQUEST_TIMEOUT`].
    pub fn connect(settings: LocalSettings, request_timeout_ms: Option<f64>) -> Result<LocalBackend> {
        let host = engine_host(&settings);
        let docker_unbounded = Docker::connect_with_host(&host)
            .map_err(|e| ClientError::new(ErrorKind::Connection, format!("Cannot use the Docker Engine at {host}: {e}")))?
            .with_timeout(OPERATION_REQUEST_TIMEOUT);
        let request_timeout = match request_timeout_ms {
            None => DEFAULT_REQUEST_TIMEOUT,
            Some(ms) if ms <= 0.0 => OPERATION_REQUEST_TIMEOUT,
            // bollard counts whole seconds (time to the response headers): round up, at least 1.
            Some(ms) => Duration::from_secs(((ms / 1000.0).ceil() as u64).max(1)),
        };
        let docker = docker_unbounded.clone().with_timeout(request_timeout);
        // As the official SDK's toolbox client: `requestTimeoutMs` when set (0 = none), else 24 h.
        let toolbox_timeout = match request_timeout_ms {
            None => Some(TOOLBOX_DEFAULT_TIMEOUT),
            Some(ms) if ms > 0.0 && ms.is_finite() => Some(Duration::from_secs_f64(ms / 1000.0)),
            Some(_) => None,
        };
        let remove_on_exit = reaper::remove_on_exit(&settings);
        Ok(LocalBackend {
            remove_on_exit,
            docker,
            docker_unbounded,
            host,
            settings,
            build_network: OnceCell::new(),
            engine_arch: OnceCell::new(),
            toolbox_timeout,
            toolboxes: Default::default(),
        })
    }

    /// The engine client for an operation: bounded per request unless the operation has a
    /// deadline of its own.
    fn engine(&self, ctx: &OperationContext) -> &Docker {
        if ctx.timeout().is_some() { &self.docker_unbounded } else { &self.docker }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the engine has an image of that reference. Errors other than "no such image"
    /// (an engine that stalls or answers garbage) are errors, not "absent".
    async fn image_exists(&self, ctx: &OperationContext, reference: &str) -> Result<bool> {
        match self.engine(ctx).inspect_image(reference).await {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(false),
            Err(e) => Err(engine_error("Looking up an image", e)),
        }
    }

    /// Build network: the configured one, else `bridge` if the engine has a bridge network,
    /// else `host` (engines started with `--bridge=none`, as in CI, have no other way out).
    async fn build_network(&self) -> Result<&str> {
        self.build_network
            .get_or_try_init(|| async {
                if let Some(mode) = self.settings.build_network_mode.clone() {
                    return Ok(mode);
                }
                let networks = self
                    .docker
                    .list_networks(None::<bollard::query_parameters::ListNetworksOptions>)
                    .await
                    .map_err(|e| engine_error("Listing networks", e))?;
                let has_bridge = networks.iter().any(|n| n.name.as_deref() == Some("bridge"));
                Ok(if has_bridge { "bridge".to_string() } else { "host".to_string() })
            })
            .await
            .map(|s| s.as_str())
    }
}

#[async_trait]
impl Backend for LocalBackend {
    fn describe(&self) -> String {
        format!("the local Docker Engine at {}", self.host)
    }

    async fn create_sandbox(&self, ctx: &OperationContext, params: &CreateSandboxParams) -> Result<SandboxInfo> {
        let logs = ctx.log_sink();
        let image = self.image_for(ctx, params, logs).await?;
        // The caller has seen every log line (and its callback did not fail) before the sandbox
        // exists: a callback that throws cancels the create, it cannot leave a container behind.
        logs.delivered().await?;
        self.run_sandbox(ctx, params, &image).await
    }

    async fn get_sandbox(&self, ctx: &OperationContext, id_or_name: &str) -> Result<SandboxInfo> {
        self.inspect_sandbox(ctx, id_or_name).await
    }

    /// Every sandbox carrying the query's labels, in one page.
    async fn list_sandboxes(&self, ctx: &OperationContext, query: &ListSandboxesQuery, cursor: Option<&str>) -> Result<SandboxPage> {
        if cursor.is_some() {
            return Ok(SandboxPage::default());
        }
        let items = self.list(ctx, query.labels.as_deref().unwrap_or_default()).await?;
        Ok(SandboxPage { items, next_cursor: None })
    }

    async fn start_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<SandboxInfo> {
        self.start(ctx, id).await
    }

    async fn stop_sandbox(&self, ctx: &OperationContext, id: &str, force: bool) -> Result<SandboxInfo> {
        self.stop(ctx, id, force).await
    }

    async fn delete_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<()> {
        self.remove(ctx, id).await
    }

    /// Through the sandbox's toolbox agent, as on the API backend (so `updateEnv` applies); a
    /// sandbox without the agent (made by an older version) through an engine exec.
    async fn execute_command(&self, ctx: &OperationContext, id: &str, request: &ExecRequest) -> Result<ExecResult> {
        match self.agent_transport(ctx, id).await? {
            Some(transport) => match exec::execute_via_agent(transport, request).await {
                // No answer from the toolbox: a stopped sandbox says so as the engine exec did.
                Err(e) if e.status_code.is_none() && e.kind == ErrorKind::Generic => {
                    let stopped = self.managed_container(ctx, id).await.ok().is_some_and(|c| c.state.and_then(|s| s.running) != Some(true));
                    Err(if stopped { exec::not_running() } else { e })
                }
                other => other,
            },
            None => {
                let container = self.container_id(ctx, id).await?;
                exec::execute(self.engine(ctx), &container, request).await
            }
        }
    }

    async fn create_snapshot(&self, ctx: &OperationContext, params: &CreateSnapshotParams) -> Result<SnapshotInfo> {
        self.create_snapshot_image(ctx, params, ctx.log_sink()).await
    }

    async fn get_snapshot(&self, ctx: &OperationContext, id_or_name: &str) -> Result<SnapshotInfo> {
        self.inspect_snapshot(ctx, id_or_name).await
    }

    /// Pages cut from the whole list (the engine has no paging).
    async fn list_snapshots(&self, ctx: &OperationContext, query: &ListSnapshotsQuery) -> Result<SnapshotPage> {
        Ok(snapshot_page(self.list_snapshot_images(ctx).await?, query))
    }

    /// By the object's name (else id) or the string.
    async fn delete_snapshot(&self, ctx: &OperationContext, snapshot: &SnapshotRef) -> Result<()> {
        self.remove_snapshot(ctx, &snapshot.key()).await
    }

    /// Local snapshots are always active: returns it.
    async fn activate_snapshot(&self, ctx: &OperationContext, snapshot: &SnapshotRef) -> Result<SnapshotInfo> {
        self.inspect_snapshot(ctx, &snapshot.key()).await
    }

    async fn toolbox(&self, ctx: &OperationContext, id: &str) -> Result<std::sync::Arc<dyn crate::toolbox::ToolboxTransport>> {
        self.agent_transport(ctx, id).await?.ok_or_else(|| {
            ClientError::generic(format!(
                "Sandbox {id} has no toolbox agent (it was created by an older daytona-native, or on an engine whose \
                 architecture this package has no agent for): sessions, PTY, codeRun and the code interpreter need it. \
                 executeCommand still works; recreate the sandbox for the rest."
            ))
        })
    }

    async fn list_local_images(&self, ctx: &OperationContext) -> Result<Vec<LocalImage>> {
        self.local_images(ctx).await
    }

    async fn remove_local_image(&self, ctx: &OperationContext, id: &str) -> Result<()> {
        LocalBackend::remove_local_image(self, ctx, id).await
    }

    /// In the sandbox's settings file (`settings.rs`).
    async fn set_sandbox_labels(&self, ctx: &OperationContext, id: &str, labels: &[(String, String)]) -> Result<Vec<(String, String)>> {
        Ok(self.change_settings(ctx, id, |info| info.labels = labels.to_vec()).await?.labels)
    }

    async fn refresh_sandbox_activity(&self, ctx: &OperationContext, id: &str) -> Result<()> {
        let container = self.container_id(ctx, id).await?;
        settings::touch_activity(self.engine(ctx), &container).await
    }

    async fn set_autostop_interval(&self, ctx: &OperationContext, id: &str, minutes: f64) -> Result<()> {
        self.change_settings(ctx, id, |info| info.auto_stop_interval = Some(minutes)).await.map(|_| ())
    }

    async fn set_auto_archive_interval(&self, ctx: &OperationContext, id: &str, minutes: f64) -> Result<()> {
        self.change_settings(ctx, id, |info| info.auto_archive_interval = Some(minutes)).await.map(|_| ())
    }

    async fn set_auto_delete_interval(&self, ctx: &OperationContext, id: &str, minutes: f64) -> Result<()> {
        self.change_settings(ctx, id, |info| info.auto_delete_interval = Some(minutes)).await.map(|_| ())
    }

    /// Changes the running container's CPU and memory limits in place (`docker update`);
    /// `disk` is recorded only.
    async fn resize_sandbox(&self, ctx: &OperationContext, id: &str, _organization_id: &str, resources: &ResizeParams) -> Result<SandboxInfo> {
        self.resize(ctx, id, resources).await
    }

    /// The container committed to an image tagged `name` (a snapshot like those of
    /// `snapshot.create`), with the image's own ENTRYPOINT/CMD, not the sandbox's keep-alive.
    async fn create_sandbox_snapshot(&self, ctx: &OperationContext, id: &str, name: &str) -> Result<SandboxInfo> {
        self.commit_snapshot(ctx, id, name).await
    }

    /// The source committed to an image of the fork's own (removed with it), run as a new
    /// sandbox with the source's labels, env, resources, intervals and network mode.
    async fn fork_sandbox(&self, ctx: &OperationContext, id: &str, name: Option<&str>) -> Result<SandboxInfo> {
        self.fork(ctx, id, name).await
    }

    /// Stops the container if it runs and marks it archived in its settings (state `archived`
    /// until it is started again); its file system stays where it is.
    async fn archive_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<()> {
        self.archive(ctx, id).await
    }

    /// Starts the container again (a sandbox in `error`, or stopped).
    async fn recover_sandbox(&self, ctx: &OperationContext, id: &str) -> Result<SandboxInfo> {
        self.start(ctx, id).await
    }

    /// A loopback listener of this process tunnelled to the port through the agent (`preview.rs`).
    async fn get_preview_link(&self, ctx: &OperationContext, id: &str, port: u16) -> Result<PreviewLink> {
        let c = self.managed_container(ctx, id).await?;
        let sandbox_id = sandbox::sandbox_info(&c).id;
        let transport = self.toolbox(ctx, id).await?;
        preview::link(format!("{}|{}|{port}", self.host, c.id.unwrap_or_default()), &sandbox_id, port, transport).await
    }

    /// A listener of its own that stops accepting after `expires_in_seconds` (default 60).
    async fn get_signed_preview_url(&self, ctx: &OperationContext, id: &str, port: u16, expires_in_seconds: Option<f64>) -> Result<PreviewLink> {
        let c = self.managed_container(ctx, id).await?;
        let sandbox_id = sandbox::sandbox_info(&c).id;
        let transport = self.toolbox(ctx, id).await?;
        let expires = std::time::Duration::from_secs_f64(expires_in_seconds.unwrap_or(60.0).max(0.0));
        preview::signed(&sandbox_id, port, expires, transport).await
    }
}
