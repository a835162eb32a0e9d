//! `DaytonaConfig`: what `new Daytona(config)` was given. Read by `backend::connect` (which
//! backend, and its settings); knows nothing of either backend.

/// Configuration of [`crate::Daytona::new`]. Absent fields fall back to `DAYTONA_*` variables.
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

/// Settings of the local engine backend.
#[derive(Debug, Clone, Default)]
pub struct LocalSettings {
    /// `unix:///…` or `tcp://…`; default `DOCKER_HOST` or the platform socket.
    pub docker_host: Option<String>,
    /// Network mode of build steps (`RUN`). Default: `bridge` when the engine has one, else `host`.
    pub build_network_mode: Option<String>,
    /// Network mode of sandboxes that do not set `networkBlockAll`. Default: the engine's default.
    pub sandbox_network_mode: Option<String>,
    /// Image used by `create()` without `image` or `snapshot`.
    pub default_image: Option<String>,
    /// Remove this client's sandboxes (and leftovers of its builds) when the process ends, for
    /// whatever reason. Default `DAYTONA_LOCAL_REMOVE_ON_EXIT`, else on under a test runner.
    pub remove_on_exit: Option<bool>,
    /// `buildkit`, `classic` or `auto` (default `DAYTONA_LOCAL_BUILDER`, else `auto`: BuildKit,
    /// the classic builder where the engine has no BuildKit).
    pub builder: Option<String>,
    /// `local.buildSecrets` as given: `{ [id]: string | { env } | { file } }`, read when a
    /// build mounts a secret (`backend/local/session.rs`). Its `Debug` shows the ids only.
    pub build_secrets: BuildSecretsSetting,
}

/// The build secrets setting; never printed with its values.
#[derive(Clone, Default)]
pub struct BuildSecretsSetting(pub Option<serde_json::Value>);

impl BuildSecretsSetting {
    /// Whether any secret is configured.
    pub fn is_set(&self) -> bool {
        match &self.0 {
            Some(serde_json::Value::Object(m)) => !m.is_empty(),
            Some(serde_json::Value::Null) | None => false,
            Some(_) => true,
        }
    }
}

impl std::fmt::Debug for BuildSecretsSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(serde_json::Value::Object(m)) => f.debug_list().entries(m.keys()).finish(),
            Some(_) => f.write_str("<redacted>"),
            None => f.write_str("None"),
        }
    }
}
