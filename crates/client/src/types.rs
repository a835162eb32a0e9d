//! Data passed between the public classes and the backends. Field names follow the official
//! SDK's DTOs (reference §6).

/// `resources` of create/snapshot calls. CPU in cores, memory and disk in GiB.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    pub cpu: Option<f64>,
    pub gpu: Option<f64>,
    pub memory: Option<f64>,
    pub disk: Option<f64>,
    /// `gpuType` (a single string becomes a one-element list, as in the official SDK).
    pub gpu_type: Option<Vec<String>>,
}

/// What a sandbox or snapshot is built from.
#[derive(Debug, Clone)]
pub enum ImageSpec {
    /// An existing image reference (`image: 'python:3.12'`).
    Name(String),
    /// A declarative image to build.
    Build(daytona_image::Image),
}

/// `daytona.create(params)` after normalisation.
#[derive(Debug, Clone, Default)]
pub struct CreateSandboxParams {
    pub name: Option<String>,
    pub user: Option<String>,
    pub language: Option<String>,
    pub env_vars: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub public: Option<bool>,
    pub auto_stop_interval: Option<f64>,
    pub auto_pause_interval: Option<f64>,
    pub auto_archive_interval: Option<f64>,
    pub auto_delete_interval: Option<f64>,
    pub ttl_minutes: Option<f64>,
    pub ephemeral: Option<bool>,
    pub network_block_all: Option<bool>,
    pub image: Option<ImageSpec>,
    pub snapshot: Option<String>,
    pub resources: Option<Resources>,
    // Fields only the Daytona API uses; sent as the official SDK sends them.
    pub spot: Option<bool>,
    pub kvm: Option<bool>,
    /// `[{ volumeId, mountPath, subpath? }]`, as the caller wrote it.
    pub volumes: Option<serde_json::Value>,
    pub network_allow_list: Option<String>,
    pub domain_allow_list: Option<String>,
    pub outbound_proxy_url: Option<String>,
    pub otel_endpoint_override: Option<String>,
    pub linked_sandbox: Option<String>,
    /// `secrets: { ENV_NAME: secretName }`.
    pub secrets: Option<Vec<(String, String)>>,
}

/// A sandbox as the API's `Sandbox` DTO describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SandboxInfo {
    pub id: String,
    pub name: String,
    pub organization_id: String,
    pub snapshot: Option<String>,
    pub user: String,
    pub env: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub public: bool,
    pub target: String,
    pub cpu: f64,
    pub gpu: f64,
    pub memory: f64,
    pub disk: f64,
    /// A `SandboxState` value (`started`, `stopped`, ...).
    pub state: String,
    pub error_reason: Option<String>,
    pub auto_stop_interval: Option<f64>,
    pub auto_archive_interval: Option<f64>,
    pub auto_delete_interval: Option<f64>,
    pub network_block_all: bool,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// The DTO's other fields the official `Sandbox` carries ([`SANDBOX_EXTRA_FIELDS`]:
    /// `desiredState`, `buildInfo`, `lastActivityAt`, ...), as the backend reported them.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The fields of the official `Sandbox` class, in the order its objects list them (own
/// properties after `processSandboxDto`); those without a typed field in [`SandboxInfo`] are
/// in its `extra`.
pub const SANDBOX_FIELDS: [&str; 43] = [
    "id", "name", "organizationId", "snapshot", "user", "env", "labels", "public", "target", "cpu", "gpu", "spot", "spotEvictedAt", "gpuType",
    "memory", "disk", "state", "desiredState", "errorReason", "recoverable", "backupState", "backupCreatedAt", "autoStopInterval",
    "autoPauseInterval", "autoArchiveInterval", "autoDeleteInterval", "autoDestroyAt", "volumes", "buildInfo", "createdAt", "updatedAt",
    "lastActivityAt", "kvm", "networkBlockAll", "networkAllowList", "domainAllowList", "outboundProxyUrl", "otelEndpointOverride",
    "linkedSandboxId", "sandboxClass", "warmPoolId", "daemonVersion", "toolboxProxyUrl",
];

/// The fields of [`SANDBOX_FIELDS`] kept in [`SandboxInfo::extra`].
pub const SANDBOX_EXTRA_FIELDS: [&str; 22] = [
    "spot", "spotEvictedAt", "gpuType", "desiredState", "recoverable", "backupState", "backupCreatedAt", "autoPauseInterval", "autoDestroyAt",
    "volumes", "buildInfo", "lastActivityAt", "kvm", "networkAllowList", "domainAllowList", "outboundProxyUrl", "otelEndpointOverride",
    "linkedSandboxId", "sandboxClass", "warmPoolId", "daemonVersion", "toolboxProxyUrl",
];

/// `sandbox.resize(resources)`: cores and GiB.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResizeParams {
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
    pub disk: Option<f64>,
}

/// `getPreviewLink(port)` / `getSignedPreviewUrl(port)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreviewLink {
    pub sandbox_id: String,
    pub port: f64,
    pub url: String,
    pub token: String,
}

/// `snapshot.create(params)`.
#[derive(Debug, Clone)]
pub struct CreateSnapshotParams {
    pub name: String,
    pub image: ImageSpec,
    pub entrypoint: Option<Vec<String>>,
    pub resources: Option<Resources>,
    /// API only: `regionId` (default: the client's target) and `sandboxClass`.
    pub region_id: Option<String>,
    pub sandbox_class: Option<String>,
}

/// A snapshot as the API's `SnapshotDto` describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotInfo {
    pub id: String,
    pub name: String,
    pub image_name: Option<String>,
    /// A `SnapshotState` value (`active`, `building`, ...).
    pub state: String,
    /// Size in GB.
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

/// `process.executeCommand(command, cwd?, env?, timeout?)`.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    pub command: String,
    pub cwd: Option<String>,
    pub env: Vec<(String, String)>,
    /// Seconds; 0 or absent means no limit.
    pub timeout: Option<f64>,
}

/// The toolbox's `ExecuteResponse`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecResult {
    pub exit_code: i64,
    pub result: String,
}

/// What `fs.uploadFile` sends: a buffer, or a local file read at upload time.
#[derive(Debug, Clone)]
pub enum UploadSource {
    Bytes(Vec<u8>),
    Path(String),
}

/// `daytona.list(query)`: filters, sort and page size (reference §3.7). Dates are ISO strings.
#[derive(Debug, Clone, Default)]
pub struct ListSandboxesQuery {
    pub limit: Option<f64>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub labels: Option<Vec<(String, String)>>,
    pub states: Option<Vec<String>>,
    pub snapshots: Option<Vec<String>>,
    pub targets: Option<Vec<String>>,
    pub min_cpu: Option<f64>,
    pub max_cpu: Option<f64>,
    pub min_memory_gib: Option<f64>,
    pub max_memory_gib: Option<f64>,
    pub min_disk_gib: Option<f64>,
    pub max_disk_gib: Option<f64>,
    pub is_public: Option<bool>,
    pub is_recoverable: Option<bool>,
    pub created_at_after: Option<String>,
    pub created_at_before: Option<String>,
    pub last_activity_after: Option<String>,
    pub last_activity_before: Option<String>,
    pub auto_destroy_at_after: Option<String>,
    pub auto_destroy_at_before: Option<String>,
    pub sort: Option<String>,
    pub order: Option<String>,
}

/// One page of sandboxes; `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, Default)]
pub struct SandboxPage {
    pub items: Vec<SandboxInfo>,
    pub next_cursor: Option<String>,
}

/// `snapshot.list(page?, limit?)` / `list({ page, limit, sourceSandboxId })`.
#[derive(Debug, Clone, Default)]
pub struct ListSnapshotsQuery {
    pub page: Option<f64>,
    pub limit: Option<f64>,
    pub source_sandbox_id: Option<String>,
}

/// `PaginatedSnapshots`.
#[derive(Debug, Clone, Default)]
pub struct SnapshotPage {
    pub items: Vec<SnapshotInfo>,
    pub total: f64,
    pub page: f64,
    pub total_pages: f64,
}

/// What `snapshot.delete(s)` / `activate(s)` were given: a `Snapshot` object or a string.
#[derive(Debug, Clone)]
pub enum SnapshotRef {
    Object { id: Option<String>, name: Option<String> },
    IdOrName(String),
}

impl SnapshotRef {
    /// The name (else id) of an object, or the string itself.
    pub fn key(&self) -> String {
        match self {
            SnapshotRef::Object { id, name } => name.clone().or_else(|| id.clone()).unwrap_or_default(),
            SnapshotRef::IdOrName(s) => s.clone(),
        }
    }
}

/// An image this package built on the local engine (a build cache image, a snapshot, or both).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalImage {
    pub id: String,
    /// Every tag of the image (cache key tags `daytona-<hash>:latest` and snapshot names).
    pub tags: Vec<String>,
    /// The snapshot names among the tags.
    pub snapshots: Vec<String>,
    /// Seconds since the epoch.
    pub created: i64,
    pub size_bytes: f64,
    /// Containers (sandboxes or not, in any state) made from it.
    pub used_by: Vec<String>,
}

/// `localImages.prune(options)`.
#[derive(Debug, Clone, Default)]
pub struct PruneLocalImages {
    /// Only images created at least this many minutes ago.
    pub older_than_minutes: Option<f64>,
    /// Keep this many of the most recently created candidates.
    pub keep: Option<usize>,
    /// Also remove snapshots (untagged and deleted like cache images); default: cache images only.
    pub include_snapshots: bool,
    /// Report what would be removed, remove nothing.
    pub dry_run: bool,
}

/// What `localImages.prune` removed (or would remove, in a dry run).
#[derive(Debug, Clone, Default)]
pub struct PruneReport {
    pub removed: Vec<LocalImage>,
    pub bytes_freed: f64,
    /// Images kept because a container uses them.
    pub in_use: usize,
}

