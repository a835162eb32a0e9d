//! The plain JavaScript objects the classes take and return (`#[napi(object)]` mirrors of the
//! official SDK's shapes) and their conversions to and from the core's types.

use daytona_client::types::{LocalImage, PruneLocalImages, PruneReport, Resources, SnapshotInfo};
use daytona_client::{DaytonaConfig, LocalSettings};
use napi_derive::napi;

use crate::sandbox::Sandbox;

/// `DaytonaConfig.local`: settings of the local engine backend.
#[napi(object)]
pub struct LocalEngineConfig {
    /// `unix:///…` or `tcp://…`; default `DOCKER_HOST` or the platform socket.
    pub docker_host: Option<String>,
    /// Network mode of build steps (`RUN`); default `bridge` when the engine has one, else `host`.
    pub build_network_mode: Option<String>,
    /// Network mode of sandboxes that do not set `networkBlockAll`; default the engine's.
    pub sandbox_network_mode: Option<String>,
    /// Image of `create()` without `image` or `snapshot`.
    pub default_image: Option<String>,
    /// Remove this client's sandboxes when the process ends; default on under a test runner.
    pub remove_on_exit: Option<bool>,
    /// `buildkit`, `classic` or `auto` (default `DAYTONA_LOCAL_BUILDER`, else `auto`: BuildKit
    /// where the engine has it).
    pub builder: Option<String>,
    /// `{ [id]: string | { env: string } | { file: string } }`: the secrets of
    /// `RUN --mount=type=secret` steps (checked by the core when a build uses them).
    pub build_secrets: Option<serde_json::Value>,
}

/// `new Daytona(config)`; absent fields fall back to `DAYTONA_*` variables.
#[napi(object)]
pub struct JsDaytonaConfig {
    pub api_key: Option<String>,
    pub jwt_token: Option<String>,
    /// Sent as `X-Daytona-Organization-ID` in JWT mode.
    pub organization_id: Option<String>,
    pub api_url: Option<String>,
    /// Deprecated spelling of `apiUrl`, used when `apiUrl` is absent or empty.
    pub server_url: Option<String>,
    pub target: Option<String>,
    /// Bound on one HTTP or engine request of an operation without a timeout of its own.
    pub request_timeout_ms: Option<f64>,
    /// `"local"` or `"api"`; default `DAYTONA_BACKEND`, else by the credentials configured.
    pub backend: Option<String>,
    pub local: Option<LocalEngineConfig>,
}

impl From<LocalEngineConfig> for LocalSettings {
    fn from(l: LocalEngineConfig) -> Self {
        LocalSettings {
            docker_host: l.docker_host,
            build_network_mode: l.build_network_mode,
            sandbox_network_mode: l.sandbox_network_mode,
            default_image: l.default_image,
            remove_on_exit: l.remove_on_exit,
            builder: l.builder,
            build_secrets: daytona_client::BuildSecretsSetting(l.build_secrets),
        }
    }
}

impl From<JsDaytonaConfig> for DaytonaConfig {
    fn from(c: JsDaytonaConfig) -> Self {
        DaytonaConfig {
            api_key: c.api_key,
            jwt_token: c.jwt_token,
            organization_id: c.organization_id,
            api_url: c.api_url.filter(|u| !u.is_empty()).or(c.server_url),
            target: c.target,
            request_timeout_ms: c.request_timeout_ms,
            backend: c.backend,
            local: c.local.map(LocalSettings::from).unwrap_or_default(),
        }
    }
}

/// `resources` of `create()` and `snapshot.create()` (`gpuType` is read separately: it may be
/// a string or an array).
#[napi(object)]
pub struct JsResources {
    /// CPU cores.
    pub cpu: Option<f64>,
    /// GPUs.
    pub gpu: Option<f64>,
    /// Memory in GiB.
    pub memory: Option<f64>,
    /// Disk in GiB.
    pub disk: Option<f64>,
}

impl From<JsResources> for Resources {
    fn from(r: JsResources) -> Self {
        Resources { cpu: r.cpu, gpu: r.gpu, memory: r.memory, disk: r.disk, ..Default::default() }
    }
}

/// The plain fields of `create()` params; `image`, `envVars` and `labels` are read separately.
#[napi(object)]
pub struct JsCreateParams {
    pub name: Option<String>,
    pub user: Option<String>,
    pub language: Option<String>,
    pub public: Option<bool>,
    pub auto_stop_interval: Option<f64>,
    pub auto_pause_interval: Option<f64>,
    pub auto_archive_interval: Option<f64>,
    pub auto_delete_interval: Option<f64>,
    pub ttl_minutes: Option<f64>,
    pub ephemeral: Option<bool>,
    pub network_block_all: Option<bool>,
    pub snapshot: Option<String>,
    pub resources: Option<JsResources>,
    pub spot: Option<bool>,
    pub kvm: Option<bool>,
    pub network_allow_list: Option<String>,
    pub domain_allow_list: Option<String>,
    pub outbound_proxy_url: Option<String>,
    pub otel_endpoint_override: Option<String>,
    pub linked_sandbox: Option<String>,
}

#[napi(object, object_from_js = false)]
pub struct JsSandboxPage {
    pub items: Vec<Sandbox>,
    pub next_cursor: Option<String>,
}

#[napi(object)]
pub struct JsSnapshot {
    pub id: String,
    pub name: String,
    pub image_name: Option<String>,
    pub state: String,
    pub size: Option<f64>,
    pub entrypoint: Option<Vec<String>>,
    pub cpu: f64,
    pub gpu: f64,
    pub mem: f64,
    pub disk: f64,
    pub error_reason: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl From<SnapshotInfo> for JsSnapshot {
    fn from(s: SnapshotInfo) -> Self {
        JsSnapshot {
            id: s.id,
            name: s.name,
            image_name: s.image_name,
            state: s.state,
            size: s.size,
            entrypoint: s.entrypoint,
            cpu: s.cpu,
            gpu: s.gpu,
            mem: s.mem,
            disk: s.disk,
            error_reason: s.error_reason,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[napi(object)]
pub struct JsPaginatedSnapshots {
    pub items: Vec<JsSnapshot>,
    pub total: u32,
    pub page: u32,
    pub total_pages: u32,
}

#[napi(object)]
pub struct ExecuteArtifacts {
    /// The command's output (the same text as `result`).
    pub stdout: String,
}

/// `process.executeCommand`'s result.
#[napi(object)]
pub struct ExecuteResponse {
    pub exit_code: i64,
    /// The command's output.
    pub result: String,
    pub artifacts: ExecuteArtifacts,
}

/// An image this package built on the local engine (`localImages.list()`); index.js adds
/// `createdAt` (a `Date`) from `created`.
#[napi(object)]
pub struct JsLocalImage {
    pub id: String,
    /// Every tag: cache key tags (`daytona-<hash>:latest`) and snapshot names.
    pub tags: Vec<String>,
    /// The snapshot names among the tags.
    pub snapshots: Vec<String>,
    /// Seconds since the epoch.
    pub created: f64,
    pub size_bytes: f64,
    /// Ids of the containers made from it (any state).
    pub used_by: Vec<String>,
}

impl From<LocalImage> for JsLocalImage {
    fn from(i: LocalImage) -> Self {
        JsLocalImage { id: i.id, tags: i.tags, snapshots: i.snapshots, created: i.created as f64, size_bytes: i.size_bytes, used_by: i.used_by }
    }
}

/// `localImages.prune(options)`.
#[napi(object)]
pub struct JsPruneOptions {
    /// Only images created at least this many minutes ago.
    pub older_than_minutes: Option<f64>,
    /// Keep this many of the newest candidates.
    pub keep: Option<u32>,
    /// Also remove snapshots (default: build cache images only).
    pub include_snapshots: Option<bool>,
    /// Report, remove nothing.
    pub dry_run: Option<bool>,
}

impl From<JsPruneOptions> for PruneLocalImages {
    fn from(o: JsPruneOptions) -> Self {
        PruneLocalImages {
            older_than_minutes: o.older_than_minutes,
            keep: o.keep.map(|k| k as usize),
            include_snapshots: o.include_snapshots.unwrap_or(false),
            dry_run: o.dry_run.unwrap_or(false),
        }
    }
}

/// What `localImages.prune` removed (or would, in a dry run).
#[napi(object)]
pub struct JsPruneReport {
    pub removed: Vec<JsLocalImage>,
    pub bytes_freed: f64,
    /// Images kept because a container uses them.
    pub in_use: u32,
}

impl From<PruneReport> for JsPruneReport {
    fn from(r: PruneReport) -> Self {
        JsPruneReport { removed: r.removed.into_iter().map(JsLocalImage::from).collect(), bytes_freed: r.bytes_freed, in_use: r.in_use as u32 }
    }
}
