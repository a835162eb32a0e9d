//! Sandboxes as containers: creation (kept running whatever the image's CMD), lookup by id or
//! name, state derived from the container's state, start/stop/delete.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, ContainerInspectResponse, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, InspectContainerOptions, KillContainerOptionsBuilder,
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, StartContainerOptions, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::build::{BuildRequest, engine_error};
use super::{DEFAULT_IMAGE, LocalBackend, labels, settings};
use crate::backend::OperationContext;
use crate::error::{ClientError, ErrorKind, Result};
use crate::events::BuildEvent;
use crate::logs::Logs;
use crate::plan::plan_image;
use crate::types::*;

/// PID 2 of every sandbox (tini is PID 1): starts the image's own ENTRYPOINT, if it has one, in
/// the background and then waits forever, so the sandbox runs whatever the image's CMD does.
const KEEPALIVE: &str = "if [ \"$#\" -gt 0 ]; then \"$@\" & fi; trap 'exit 0' TERM INT; while :; do sleep 2147483647 & wait $!; done";

/// Removes a container when dropped unless disarmed: a create that fails or is cancelled
/// (timeout, dropped future) leaves nothing behind.
struct ContainerGuard {
    docker: bollard::Docker,
    id: Option<String>,
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            // Bounded: a cleanup must not wait forever on an engine that stopped answering.
            let docker = self.docker.clone().with_timeout(std::time::Duration::from_secs(30));
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    let opts = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
                    let _ = docker.remove_container(&id, Some(opts)).await;
                });
            }
        }
    }
}

fn json_label(map: &HashMap<String, String>, key: &str) -> Value {
    map.get(key).and_then(|s| serde_json::from_str(s).ok()).unwrap_or(Value::Null)
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|p| Some((p.get(0)?.as_str()?.to_string(), p.get(1)?.as_str()?.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

fn state_of(c: &ContainerInspectResponse) -> (String, Option<String>) {
    use bollard::models::ContainerStateStatusEnum as S;
    let state = c.state.as_ref();
    let status = state.and_then(|s| s.status);
    let error = state.and_then(|s| s.error.clone()).filter(|e| !e.is_empty());
    let name = match status {
        Some(S::RUNNING) if state.and_then(|s| s.paused) == Some(true) => "paused",
        Some(S::RUNNING) => "started",
        Some(S::PAUSED) => "paused",
        Some(S::RESTARTING) => "starting",
        Some(S::REMOVING) => "destroying",
        Some(S::DEAD) => "error",
        Some(S::CREATED) | Some(S::EXITED) => {
            if error.is_some() {
                "error"
            } else {
                "stopped"
            }
        }
        _ => "unknown",
    };
    (name.to_string(), error)
}

/// The `Sandbox` DTO of a managed container.
pub(super) fn sandbox_info(c: &ContainerInspectResponse) -> SandboxInfo {
    let config = c.config.clone().unwrap_or_default();
    let container_labels = config.labels.clone().unwrap_or_default();
    let settings = json_label(&container_labels, labels::SETTINGS);
    let env_keys: Vec<String> = serde_json::from_value(json_label(&container_labels, labels::ENV_KEYS)).unwrap_or_default();
    let env: Vec<(String, String)> = config
        .env
        .clone()
        .unwrap_or_default()
        .iter()
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| env_keys.iter().any(|e| e == k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (state, error_reason) = state_of(c);
    let num = |k: &str| settings.get(k).and_then(Value::as_f64);
    SandboxInfo {
        id: container_labels.get(labels::SANDBOX_ID).cloned().unwrap_or_default(),
        name: c.name.clone().unwrap_or_default().trim_start_matches('/').to_string(),
        organization_id: "local".into(),
        snapshot: container_labels.get(labels::SNAPSHOT).cloned(),
        user: config.user.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".into()),
        env,
        labels: pairs(&json_label(&container_labels, labels::USER_LABELS)),
        public: settings.get("public").and_then(Value::as_bool).unwrap_or(false),
        target: "local".into(),
        cpu: num("cpu").unwrap_or(0.0),
        gpu: num("gpu").unwrap_or(0.0),
        memory: num("memory").unwrap_or(0.0),
        disk: num("disk").unwrap_or(0.0),
        state,
        error_reason,
        auto_stop_interval: num("autoStopInterval"),
        auto_archive_interval: num("autoArchiveInterval"),
        auto_delete_interval: num("autoDeleteInterval"),
        network_block_all: settings.get("networkBlockAll").and_then(Value::as_bool).unwrap_or(false),
        created_at: c.created.clone(),
        updated_at: c.state.as_ref().and_then(|s| s.started_at.clone()),
        extra: local_extra(c, &settings),
    }
}

/// The official `Sandbox` fields the engine has an answer for (see `SANDBOX_EXTRA_FIELDS`).
fn local_extra(c: &ContainerInspectResponse, settings: &Value) -> serde_json::Map<String, Value> {
    let running = c.state.as_ref().and_then(|s| s.running) == Some(true);
    let mut m = serde_json::Map::new();
    m.insert("desiredState".into(), json!(if running { "started" } else { "stopped" }));
    m.insert("recoverable".into(), json!(false));
    m.insert("backupState".into(), json!("None"));
    if let Some(v) = settings.get("autoPauseInterval").filter(|v| !v.is_null()) {
        m.insert("autoPauseInterval".into(), v.clone());
    }
    m.insert("volumes".into(), json!([]));
    m.insert("sandboxClass".into(), json!("container"));
    m
}

/// Creates and starts a sandbox container; returns its container id and the sandbox. Removes
/// the container again if it cannot be started.
async fn create_and_start(docker: &bollard::Docker, name: &str, id: &str, body: ContainerCreateBody, agent: Option<Vec<u8>>, state: Vec<u8>) -> Result<(String, SandboxInfo)> {
    let opts = CreateContainerOptionsBuilder::new().name(name).build();
    let created = docker.create_container(Some(opts), body).await.map_err(|e| match e {
        bollard::errors::Error::DockerResponseServerError { status_code: 409, .. } => {
            let mut err = ClientError::new(ErrorKind::Conflict, format!("Sandbox with name {name} already exists"));
            err.status_code = Some(409);
            err
        }
        other => engine_error("Creating the sandbox container", other),
    })?;
    let mut guard = ContainerGuard { docker: docker.clone(), id: Some(created.id.clone()) };
    if let Some(archive) = agent {
        let opts = bollard::query_parameters::UploadToContainerOptionsBuilder::new().path("/").build();
        docker
            .upload_to_container(&created.id, Some(opts), bollard::body_full(archive.into()))
            .await
            .map_err(|e| engine_error("Placing the toolbox agent into the sandbox", e))?;
    }
    // The directory of the sandbox's mutable settings (`settings.rs`), with those it starts with.
    let opts = bollard::query_parameters::UploadToContainerOptionsBuilder::new().path("/").build();
    docker
        .upload_to_container(&created.id, Some(opts), bollard::body_full(state.into()))
        .await
        .map_err(|e| engine_error("Placing the settings directory into the sandbox", e))?;
    docker
        .start_container(&created.id, None::<StartContainerOptions>)
        .await
        .map_err(|e| engine_error("Starting the sandbox container", e))?;
    let info = sandbox_info(
        &docker
            .inspect_container(&created.id, None::<InspectContainerOptions>)
            .await
            .map_err(|e| engine_error("Inspecting the sandbox", e))?,
    );
    if info.state != "started" {
        return Err(ClientError::generic(format!(
            "Sandbox {id} failed to start with status: {}, error reason: {}",
            info.state,
            info.error_reason.clone().unwrap_or_default()
        )));
    }
    guard.id = None;
    Ok((created.id, info))
}

/// The lock of one image build (engine + cache key), shared by every client of this process.
/// Entries nobody holds any more are dropped whenever a lock is handed out.
fn build_lock(key: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    locks.retain(|_, l| Arc::strong_count(l) > 1);
    locks.entry(key.to_string()).or_default().clone()
}

impl LocalBackend {
    /// Makes sure an image exists locally, pulling it if the engine can.
    pub(super) async fn ensure_image(&self, ctx: &OperationContext, reference: &str, logs: &Logs) -> Result<()> {
        if self.image_exists(ctx, reference).await? {
            return Ok(());
        }
        logs.line(format!("Pulling image {reference}")).await;
        let opts = CreateImageOptionsBuilder::new().from_image(reference).build();
        let mut stream = self.engine(ctx).create_image(Some(opts), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(status) = info.status {
                        let line = match info.id {
                            Some(id) => format!("{id}: {status}"),
                            None => status,
                        };
                        logs.line(line).await;
                    }
                }
                // The engine answered: the image cannot be had (no registry access, no such image).
                Err(e @ (bollard::errors::Error::DockerResponseServerError { .. } | bollard::errors::Error::DockerStreamError { .. })) => {
                    return Err(ClientError::new(
                        ErrorKind::NotFound,
                        format!("Image {reference} is not available locally and could not be pulled: {e}"),
                    ));
                }
                Err(e) => return Err(engine_error(&format!("Pulling image {reference}"), e)),
            }
        }
        Ok(())
    }

    /// Builds (unless cached) and returns the image reference a sandbox runs.
    pub(super) async fn image_for(&self, ctx: &OperationContext, params: &CreateSandboxParams, logs: &Logs) -> Result<String> {
        if let Some(snapshot) = &params.snapshot {
            return match self.engine(ctx).inspect_image(snapshot).await {
                Ok(_) => Ok(snapshot.clone()),
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                    Err(ClientError::not_found(format!("Snapshot {snapshot} not found")))
                }
                Err(e) => Err(engine_error("Looking up the snapshot", e)),
            };
        }
        match &params.image {
            Some(ImageSpec::Build(image)) => self.build_cached(ctx, image, "the sandbox image", logs).await,
            Some(ImageSpec::Name(name)) => {
                self.ensure_image(ctx, name, logs).await?;
                Ok(name.clone())
            }
            None => {
                let image = self
                    .settings
                    .default_image
                    .clone()
                    .or_else(|| std::env::var("DAYTONA_LOCAL_DEFAULT_IMAGE").ok().filter(|s| !s.is_empty()))
                    .unwrap_or_else(|| DEFAULT_IMAGE.to_string());
                self.ensure_image(ctx, &image, logs).await?;
                Ok(image)
            }
        }
    }

    /// Builds `image` tagged by its cache key unless an image with that key exists.
    pub(super) async fn build_cached(&self, ctx: &OperationContext, image: &daytona_image::Image, what: &str, logs: &Logs) -> Result<String> {
        let t0 = std::time::Instant::now();
        let finished = |tag: &str, cached: bool| BuildEvent::BuildFinished { duration_ms: t0.elapsed().as_secs_f64() * 1000.0, image: Some(tag.to_string()), cached };
        let owned = image.clone();
        let plan = tokio::task::spawn_blocking(move || plan_image(&owned, &Default::default()))
            .await
            .map_err(|e| ClientError::generic(format!("planning task failed: {e}")))??;
        logs.event(BuildEvent::context_planned(&plan.contexts)).await;
        for w in &plan.warnings {
            logs.line(format!("warning: {w}")).await;
        }
        let tag = plan.cache_key.clone();
        if self.image_exists(ctx, &tag).await? {
            logs.line(format!("Using cached image {tag}: nothing changed since it was built")).await;
            logs.event(finished(&tag, true)).await;
            return Ok(tag);
        }
        // One build per image at a time in this process: concurrent creates of the same image
        // wait for the first build and use its result instead of building (and leaving an
        // untagged copy) each.
        let lock = build_lock(&format!("{}|{tag}", self.host));
        let _building = match lock.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                logs.line(format!("Waiting for a build of the same image {tag} already running in this process")).await;
                lock.lock().await
            }
        };
        if self.image_exists(ctx, &tag).await? {
            logs.line(format!("Using cached image {tag}: built by a concurrent create")).await;
            logs.event(finished(&tag, true)).await;
            return Ok(tag);
        }
        let files: u64 = plan.contexts.iter().map(|c| c.files).sum();
        let bytes: u64 = plan.contexts.iter().map(|c| c.bytes).sum();
        logs.line(format!(
            "Building image {tag} ({} context{}, {files} file{}, {bytes} bytes)",
            plan.contexts.len(),
            if plan.contexts.len() == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" },
        ))
        .await;
        let network = self.build_network().await?.to_string();
        let session = self.cleanup_session().await?;
        self.build(self.engine(ctx), BuildRequest { plan: &plan, tag: &tag, network_mode: &network, what, session }, logs).await?;
        self.keep_image(&tag).await;
        logs.event(finished(&tag, false)).await;
        Ok(tag)
    }

    pub(super) async fn run_sandbox(&self, ctx: &OperationContext, params: &CreateSandboxParams, image: &str) -> Result<SandboxInfo> {
        let id = uuid::Uuid::new_v4().to_string();
        let name = params.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| id.clone());
        let image_entrypoint = self
            .docker
            .inspect_image(image)
            .await
            .map_err(|e| engine_error("Inspecting the sandbox image", e))?
            .config
            .and_then(|c| {
                let ep = c.entrypoint.unwrap_or_default();
                if ep.is_empty() { None } else { Some(ep.into_iter().chain(c.cmd.unwrap_or_default()).collect::<Vec<_>>()) }
            });

        let mut container_labels: HashMap<String, String> = params.labels.iter().cloned().collect();
        container_labels.insert(labels::MANAGED.into(), "true".into());
        container_labels.insert(labels::SANDBOX_ID.into(), id.clone());
        container_labels.insert(labels::SNAPSHOT.into(), image.to_string());
        let env_keys: Vec<&str> = params.env_vars.iter().map(|(k, _)| k.as_str()).collect();
        container_labels.insert(labels::ENV_KEYS.into(), json!(env_keys).to_string());
        let user_labels: Vec<[&str; 2]> = params.labels.iter().map(|(k, v)| [k.as_str(), v.as_str()]).collect();
        container_labels.insert(labels::USER_LABELS.into(), json!(user_labels).to_string());
        let r = params.resources.clone().unwrap_or_default();
        let settings = json!({
            "cpu": r.cpu, "gpu": r.gpu, "memory": r.memory, "disk": r.disk,
            "public": params.public.unwrap_or(false),
            "autoStopInterval": params.auto_stop_interval,
            "autoArchiveInterval": params.auto_archive_interval,
            "autoDeleteInterval": params.auto_delete_interval,
            "autoPauseInterval": params.auto_pause_interval,
            "networkBlockAll": params.network_block_all.unwrap_or(false),
        });
        container_labels.insert(labels::SETTINGS.into(), settings.to_string());
        if let Some(session) = self.cleanup_session().await? {
            container_labels.insert(labels::SESSION.into(), session.into());
        }

        let network_mode = if params.network_block_all == Some(true) {
            Some("none".to_string())
        } else {
            self.settings.sandbox_network_mode.clone()
        };
        let host_config = HostConfig {
            init: Some(true),
            nano_cpus: r.cpu.map(|c| (c * 1e9) as i64),
            memory: r.memory.map(|m| (m * 1024.0 * 1024.0 * 1024.0) as i64),
            network_mode,
            auto_remove: Some(params.ephemeral == Some(true)),
            ..Default::default()
        };
        // The toolbox agent is the keep-alive process where this package has one for the
        // engine's architecture; otherwise the sandbox runs without a toolbox (said in the logs).
        let agent = match self.agent_archive().await {
            Ok(archive) => Some(archive),
            Err(why) => {
                ctx.log_sink().line(format!("warning: {why}; sessions, PTY and the code interpreter will not work in this sandbox")).await;
                None
            }
        };
        let mut entrypoint = match agent {
            Some(_) => {
                container_labels.insert(labels::AGENT.into(), "1".into());
                vec![super::agent::AGENT_PATH.to_string(), "serve".into(), "--".into()]
            }
            None => vec!["/bin/sh".to_string(), "-c".into(), KEEPALIVE.into(), "daytona-sandbox".into()],
        };
        entrypoint.extend(image_entrypoint.unwrap_or_default());
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(entrypoint),
            cmd: None,
            env: Some(params.env_vars.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(container_labels),
            user: params.user.clone().filter(|u| !u.is_empty()),
            host_config: Some(host_config),
            ..Default::default()
        };
        let initial = SandboxInfo {
            labels: params.labels.clone(),
            auto_stop_interval: params.auto_stop_interval,
            auto_archive_interval: params.auto_archive_interval,
            auto_delete_interval: params.auto_delete_interval,
            cpu: r.cpu.unwrap_or(0.0),
            memory: r.memory.unwrap_or(0.0),
            disk: r.disk.unwrap_or(0.0),
            extra: params.auto_pause_interval.map(|p| [("autoPauseInterval".to_string(), json!(p))].into_iter().collect()).unwrap_or_default(),
            ..Default::default()
        };
        let mut state_settings = settings::settings_of(&initial);
        state_settings.remove("updatedAt");
        let state = settings::state_archive(&state_settings)?;
        // Creating and starting run in a task of their own: a caller that gives up (timeout,
        // failed log callback) while the engine is creating the container cannot leave it
        // behind, because the task removes what nobody is left to receive.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let docker = self.engine(ctx).clone();
        tokio::spawn(async move {
            let result = create_and_start(&docker, &name, &id, body, agent, state).await;
            if let Err(Ok((container, _))) = tx.send(result) {
                let opts = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
                let _ = docker.remove_container(&container, Some(opts)).await;
            }
        });
        let (_, info) = rx.await.map_err(|_| ClientError::generic("The sandbox creation task ended unexpectedly"))??;
        self.janitor_for(&info).await;
        Ok(info)
    }

    /// The archive that places the agent for this engine's architecture into a sandbox.
    async fn agent_archive(&self) -> std::result::Result<Vec<u8>, String> {
        let arch = self
            .engine_arch
            .get_or_try_init(|| async {
                self.docker.info().await.map(|i| i.architecture.unwrap_or_default()).map_err(|e| format!("cannot ask the engine for its architecture: {e}"))
            })
            .await?;
        let binary = super::agent::agent_binary(arch)?;
        super::agent::agent_archive(&binary).map_err(|e| e.message)
    }

    pub(super) async fn resize(&self, ctx: &OperationContext, id_or_name: &str, r: &ResizeParams) -> Result<SandboxInfo> {
        let container = self.container_id(ctx, id_or_name).await?;
        let memory = r.memory.map(|m| (m * 1024.0 * 1024.0 * 1024.0) as i64);
        let update = bollard::models::ContainerUpdateBody {
            nano_cpus: r.cpu.map(|c| (c * 1e9) as i64),
            memory,
            // Swap follows memory (the engine refuses memory above an older swap limit).
            memory_swap: memory,
            ..Default::default()
        };
        if update.nano_cpus.is_some() || update.memory.is_some() {
            self.engine(ctx).update_container(&container, update).await.map_err(|e| match e {
                bollard::errors::Error::DockerResponseServerError { status_code, message } if (400..500).contains(&status_code) => {
                    ClientError::invalid(format!("The engine cannot resize the sandbox to {r:?}: {message}"))
                }
                other => engine_error("Resizing the sandbox", other),
            })?;
        }
        self.change_settings(ctx, &container, |info| {
            info.cpu = r.cpu.unwrap_or(info.cpu);
            info.memory = r.memory.unwrap_or(info.memory);
            info.disk = r.disk.unwrap_or(info.disk);
        })
        .await
    }

    pub(super) async fn commit_snapshot(&self, ctx: &OperationContext, id_or_name: &str, name: &str) -> Result<SandboxInfo> {
        let (repo, tag) = super::snapshot::check_name(name)?;
        let c = self.managed_container(ctx, id_or_name).await?;
        if self.image_exists(ctx, name).await? {
            let mut err = ClientError::new(ErrorKind::Conflict, format!("Snapshot with name {name} already exists"));
            err.status_code = Some(409);
            return Err(err);
        }
        let image = c.image.clone().unwrap_or_default();
        let original = self.engine(ctx).inspect_image(&image).await.map_err(|e| engine_error("Inspecting the sandbox image", e))?.config.unwrap_or_default();
        let mut image_labels: HashMap<String, String> = HashMap::new();
        // The commit keeps the container's labels unless overridden: what ties an image to one
        // sandbox or cleanup session is blanked.
        for key in [labels::SANDBOX_ID, labels::SESSION, labels::USER_LABELS, labels::ENV_KEYS, labels::SETTINGS, labels::SNAPSHOT, labels::FORK_IMAGE] {
            image_labels.insert(key.into(), String::new());
        }
        image_labels.insert(labels::MANAGED.into(), "true".into());
        image_labels.insert(labels::SNAPSHOT_NAME.into(), name.to_string());
        let entrypoint = original.entrypoint.clone().unwrap_or_default();
        let mut cmd = original.cmd.clone().unwrap_or_default();
        if entrypoint.is_empty() && cmd.is_empty() {
            // Neither: the commit would keep the sandbox's keep-alive command.
            cmd = vec!["/bin/sh".into()];
        }
        let config = bollard::models::ContainerConfig {
            entrypoint: Some(entrypoint),
            cmd: Some(cmd),
            labels: Some(image_labels),
            ..Default::default()
        };
        let opts = bollard::query_parameters::CommitContainerOptionsBuilder::new()
            .container(c.id.as_deref().unwrap_or_default())
            .repo(&repo)
            .tag(&tag)
            .pause(true)
            .build();
        self.engine(ctx).commit_container(opts, config).await.map_err(|e| engine_error("Committing the sandbox to a snapshot", e))?;
        self.keep_image(name).await;
        self.described(ctx, &c).await
    }

    pub(super) async fn fork(&self, ctx: &OperationContext, id_or_name: &str, name: Option<&str>) -> Result<SandboxInfo> {
        let c = self.managed_container(ctx, id_or_name).await?;
        let source = self.described(ctx, &c).await?;
        let original = self
            .engine(ctx)
            .inspect_image(c.image.as_deref().unwrap_or_default())
            .await
            .map_err(|e| engine_error("Inspecting the sandbox image", e))?
            .config
            .unwrap_or_default();
        let mut image_labels: HashMap<String, String> = HashMap::new();
        for key in [labels::SANDBOX_ID, labels::SESSION, labels::USER_LABELS, labels::ENV_KEYS, labels::SETTINGS, labels::SNAPSHOT, labels::SNAPSHOT_NAME] {
            image_labels.insert(key.into(), String::new());
        }
        image_labels.insert(labels::FORK_IMAGE.into(), "true".into());
        let entrypoint = original.entrypoint.clone().unwrap_or_default();
        let mut cmd = original.cmd.clone().unwrap_or_default();
        if entrypoint.is_empty() && cmd.is_empty() {
            cmd = vec!["/bin/sh".into()];
        }
        let config = bollard::models::ContainerConfig { entrypoint: Some(entrypoint), cmd: Some(cmd), labels: Some(image_labels), ..Default::default() };
        let opts = bollard::query_parameters::CommitContainerOptionsBuilder::new().container(c.id.as_deref().unwrap_or_default()).pause(true).build();
        let image = self.engine(ctx).commit_container(opts, config).await.map_err(|e| engine_error("Copying the sandbox for its fork", e))?.id;
        let host = c.host_config.clone().unwrap_or_default();
        let nonzero = |v: f64| (v > 0.0).then_some(v);
        let params = CreateSandboxParams {
            name: name.map(str::to_string),
            user: c.config.as_ref().and_then(|cfg| cfg.user.clone()).filter(|u| !u.is_empty()),
            env_vars: source.env.clone(),
            labels: source.labels.clone(),
            public: Some(source.public),
            auto_stop_interval: source.auto_stop_interval,
            auto_archive_interval: source.auto_archive_interval,
            auto_delete_interval: source.auto_delete_interval,
            network_block_all: Some(source.network_block_all),
            ephemeral: host.auto_remove,
            resources: Some(Resources { cpu: nonzero(source.cpu), memory: nonzero(source.memory), disk: nonzero(source.disk), ..Default::default() }),
            ..Default::default()
        };
        match self.run_sandbox(ctx, &params, &image).await {
            Ok(info) => Ok(info),
            Err(e) => {
                let _ = self.engine(ctx).remove_image(&image, None::<bollard::query_parameters::RemoveImageOptions>, None).await;
                Err(e)
            }
        }
    }

    pub(super) async fn archive(&self, ctx: &OperationContext, id_or_name: &str) -> Result<()> {
        let id = self.container_id(ctx, id_or_name).await?;
        match self.engine(ctx).stop_container(&id, Some(StopContainerOptionsBuilder::new().t(10).build())).await {
            // 304: not running.
            Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 304, .. }) => {}
            Err(e) => return Err(engine_error("Archiving the sandbox", e)),
        }
        self.change_settings(ctx, &id, |info| {
            info.extra.insert("archived".into(), Value::Bool(true));
        })
        .await
        .map(|_| ())
    }

    /// Changes a sandbox's settings: reads them, lets `change` modify them and writes them back
    /// whole (the last writer wins); returns the sandbox as it is now.
    pub(super) async fn change_settings(&self, ctx: &OperationContext, id_or_name: &str, change: impl FnOnce(&mut SandboxInfo)) -> Result<SandboxInfo> {
        let c = self.managed_container(ctx, id_or_name).await?;
        let mut info = self.described(ctx, &c).await?;
        change(&mut info);
        let fresh = settings::settings_of(&info);
        settings::write(self.engine(ctx), c.id.as_deref().unwrap_or_default(), &fresh).await?;
        if let Some(at) = fresh.get("updatedAt").and_then(Value::as_str) {
            info.updated_at = Some(at.to_string());
        }
        self.janitor_for(&info).await;
        Ok(info)
    }

    /// The managed container for a sandbox id or name.
    pub(super) async fn managed_container(&self, ctx: &OperationContext, id_or_name: &str) -> Result<ContainerInspectResponse> {
        let not_found = || ClientError::not_found(format!("Sandbox with ID or name {id_or_name} not found"));
        if id_or_name.is_empty() {
            return Err(not_found());
        }
        let is_managed = |c: &ContainerInspectResponse| {
            c.config.as_ref().and_then(|c| c.labels.as_ref()).is_some_and(|l| l.contains_key(labels::MANAGED) && l.contains_key(labels::SANDBOX_ID))
        };
        match self.engine(ctx).inspect_container(id_or_name, None::<InspectContainerOptions>).await {
            Ok(c) if is_managed(&c) => return Ok(c),
            Ok(_) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(e) => return Err(engine_error("Looking up the sandbox", e)),
        }
        let filters: HashMap<&str, Vec<String>> = HashMap::from([("label", vec![format!("{}={id_or_name}", labels::SANDBOX_ID)])]);
        let found = self
            .docker
            .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filters).build()))
            .await
            .map_err(|e| engine_error("Looking up the sandbox", e))?;
        let container_id = found.first().and_then(|c| c.id.clone()).ok_or_else(not_found)?;
        match self.engine(ctx).inspect_container(&container_id, None::<InspectContainerOptions>).await {
            Ok(c) => Ok(c),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Err(not_found()),
            Err(e) => Err(engine_error("Looking up the sandbox", e)),
        }
    }

    pub(super) async fn container_id(&self, ctx: &OperationContext, id_or_name: &str) -> Result<String> {
        Ok(self.managed_container(ctx, id_or_name).await?.id.unwrap_or_default())
    }

    pub(super) async fn inspect_sandbox(&self, ctx: &OperationContext, id_or_name: &str) -> Result<SandboxInfo> {
        let c = self.managed_container(ctx, id_or_name).await?;
        self.described(ctx, &c).await
    }

    /// The sandbox of a managed container: its creation labels, then its settings file. A
    /// stopped sandbox past its `autoDeleteInterval` is removed here (not found), one past its
    /// `autoArchiveInterval` archived. The engine's janitor (`janitor.rs`) does that without
    /// any process of this package; this is the fallback for when it is not there (the engine
    /// restarted, which removes AutoRemove containers; an engine without an agent binary for
    /// its architecture; a janitor someone removed), and it keeps a sandbox looked at between
    /// two of the janitor's sweeps from showing a state its intervals already ended.
    pub(super) async fn described(&self, ctx: &OperationContext, c: &ContainerInspectResponse) -> Result<SandboxInfo> {
        let mut info = sandbox_info(c);
        let container = c.id.clone().unwrap_or_default();
        match settings::read(self.engine(ctx), &container).await {
            Ok(state) => settings::apply(&mut info, &state),
            // Removed meanwhile: what the inspection saw.
            Err(e) if e.kind.is_not_found() => {}
            Err(e) => return Err(e),
        }
        let running = c.state.as_ref().and_then(|s| s.running) == Some(true);
        let stopped_at = c.state.as_ref().and_then(|s| s.finished_at.as_deref()).and_then(settings::epoch_of);
        if let (false, Some(at)) = (running, stopped_at) {
            match settings::due(&info, at, settings::now()) {
                settings::Due::Delete => {
                    let opts = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
                    match self.engine(ctx).remove_container(&container, Some(opts)).await {
                        Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
                        Err(e) => return Err(engine_error("Deleting the sandbox after its autoDeleteInterval", e)),
                    }
                    // A fork's own image goes with it, as with `delete()`.
                    let fork_image = c.config.as_ref().and_then(|cfg| cfg.labels.as_ref()).and_then(|l| l.get(labels::FORK_IMAGE)).is_some_and(|v| v == "true");
                    if let (true, Some(image)) = (fork_image, c.image.as_deref()) {
                        let _ = self.engine(ctx).remove_image(image, None::<bollard::query_parameters::RemoveImageOptions>, None).await;
                    }
                    return Err(ClientError::not_found(format!("Sandbox with ID or name {} not found", info.id)));
                }
                settings::Due::Archive => {
                    info.extra.insert("archived".into(), Value::Bool(true));
                    settings::write(self.engine(ctx), &container, &settings::settings_of(&info)).await?;
                    info.state = "archived".into();
                    info.extra.insert("desiredState".into(), Value::String("archived".into()));
                }
                settings::Due::Nothing => {}
            }
        }
        Ok(info)
    }

    /// The sandboxes whose labels (as `setLabels` left them) include `wanted`.
    pub(super) async fn list(&self, ctx: &OperationContext, wanted: &[(String, String)]) -> Result<Vec<SandboxInfo>> {
        // Labels can change after creation (they are in each sandbox's settings file), so the
        // engine filters only the managed containers and the labels are compared here.
        let label_filters = vec![format!("{}=true", labels::MANAGED)];
        let filters: HashMap<&str, Vec<String>> = HashMap::from([("label", label_filters)]);
        let summaries = self
            .docker
            .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filters).build()))
            .await
            .map_err(|e| engine_error("Listing sandboxes", e))?;
        let mut out = Vec::with_capacity(summaries.len());
        for s in summaries {
            let Some(id) = s.id else { continue };
            match self.engine(ctx).inspect_container(&id, None::<InspectContainerOptions>).await {
                Ok(c) if c.config.as_ref().and_then(|c| c.labels.as_ref()).is_some_and(|l| l.contains_key(labels::SANDBOX_ID)) => {
                    let info = match self.described(ctx, &c).await {
                        Ok(info) => info,
                        // Removed meanwhile, or past its autoDeleteInterval.
                        Err(e) if e.kind.is_not_found() => continue,
                        Err(e) => return Err(e),
                    };
                    if wanted.iter().all(|(k, v)| info.labels.iter().any(|(lk, lv)| lk == k && lv == v)) {
                        out.push(info);
                    }
                }
                Ok(_) => {}
                // Removed between list and inspect.
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
                Err(e) => return Err(engine_error("Listing sandboxes", e)),
            }
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(out)
    }

    pub(super) async fn start(&self, ctx: &OperationContext, id_or_name: &str) -> Result<SandboxInfo> {
        let c = self.managed_container(ctx, id_or_name).await?;
        let id = c.id.clone().unwrap_or_default();
        if self.described(ctx, &c).await?.state == "archived" {
            self.change_settings(ctx, &id, |info| {
                info.extra.remove("archived");
            })
            .await?;
        }
        self.engine(ctx)
            .start_container(&id, None::<StartContainerOptions>)
            .await
            .map_err(|e| engine_error("Starting the sandbox", e))?;
        let info = self.inspect_sandbox(ctx, &id).await?;
        // Its own auto-stop may stop it with no client around: the janitor then takes over.
        self.janitor_for(&info).await;
        Ok(info)
    }

    pub(super) async fn stop(&self, ctx: &OperationContext, id_or_name: &str, force: bool) -> Result<SandboxInfo> {
        let id = self.container_id(ctx, id_or_name).await?;
        if force {
            match self.engine(ctx).kill_container(&id, Some(KillContainerOptionsBuilder::new().signal("KILL").build())).await {
                // 409: not running.
                Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => {}
                Err(e) => return Err(engine_error("Stopping the sandbox", e)),
            }
        } else {
            self.engine(ctx)
                .stop_container(&id, Some(StopContainerOptionsBuilder::new().t(10).build()))
                .await
                .map_err(|e| engine_error("Stopping the sandbox", e))?;
        }
        match self.engine(ctx).inspect_container(&id, None::<InspectContainerOptions>).await {
            // Gone once stopped (autoDeleteInterval 0): destroyed, as an ephemeral one.
            Ok(c) => match self.described(ctx, &c).await {
                Err(e) if e.kind.is_not_found() => Ok(SandboxInfo { id: id_or_name.to_string(), state: "destroyed".into(), ..Default::default() }),
                // Stopped with an interval to apply later: the janitor watches it.
                Ok(info) => {
                    self.janitor_for(&info).await;
                    Ok(info)
                }
                other => other,
            },
            // An ephemeral sandbox removes itself when it stops.
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                Ok(SandboxInfo { id: id_or_name.to_string(), state: "destroyed".into(), ..Default::default() })
            }
            Err(e) => Err(engine_error("Stopping the sandbox", e)),
        }
    }

    pub(super) async fn remove(&self, ctx: &OperationContext, id_or_name: &str) -> Result<()> {
        let c = self.managed_container(ctx, id_or_name).await?;
        let id = c.id.clone().unwrap_or_default();
        match self.engine(ctx).remove_container(&id, Some(RemoveContainerOptionsBuilder::new().force(true).v(true).build())).await {
            Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(e) => return Err(engine_error("Deleting the sandbox", e)),
        }
        // A fork's own image goes with it.
        let fork_image = c.config.as_ref().and_then(|cfg| cfg.labels.as_ref()).and_then(|l| l.get(labels::FORK_IMAGE)).is_some_and(|v| v == "true");
        if let (true, Some(image)) = (fork_image, c.image.as_deref()) {
            let _ = self.engine(ctx).remove_image(image, None::<bollard::query_parameters::RemoveImageOptions>, None).await;
        }
        Ok(())
    }
}
