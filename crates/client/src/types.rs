//! Data passed between the public classes and the backends. Field names follow the official
//! SDK's DTOs (reference §6).

/// `resources` of create/snapshot calls. CPU in cores, memory and disk in GiB.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    pub cpu: Option<f64>,
    pub gpu: Option<f64>,
    pub memory: Option<f64>,
    pub disk: Option<f64>,
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
}

/// `snapshot.create(params)`.
#[derive(Debug, Clone)]
pub struct CreateSnapshotParams {
    pub name: String,
    pub image: ImageSpec,
    pub entrypoint: Option<Vec<String>>,
    pub resources: Option<Resources>,
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
