//! The `Daytona` and `SnapshotService` classes: argument conversion and forwarding to
//! `daytona_client::Daytona`.

use daytona_client::backend::local::LocalSettings;
use daytona_client::types::{CreateSandboxParams, CreateSnapshotParams, ImageSpec, Resources, SnapshotInfo};
use daytona_client::{Daytona, DaytonaConfig};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::throw;
use crate::image::JsImage;
use crate::logs::{LogCallback, log_channel, run_with_logs};
use crate::promise::spawn;
use crate::sandbox::Sandbox;
use crate::values::string_record;

#[napi(object)]
pub struct LocalEngineConfig {
    pub docker_host: Option<String>,
    pub build_network_mode: Option<String>,
    pub sandbox_network_mode: Option<String>,
    pub default_image: Option<String>,
}

#[napi(object)]
pub struct JsDaytonaConfig {
    pub api_key: Option<String>,
    pub jwt_token: Option<String>,
    pub organization_id: Option<String>,
    pub api_url: Option<String>,
    pub server_url: Option<String>,
    pub target: Option<String>,
    pub request_timeout_ms: Option<f64>,
    pub backend: Option<String>,
    pub local: Option<LocalEngineConfig>,
}

#[napi(object)]
pub struct JsResources {
    pub cpu: Option<f64>,
    pub gpu: Option<f64>,
    pub memory: Option<f64>,
    pub disk: Option<f64>,
}

impl From<JsResources> for Resources {
    fn from(r: JsResources) -> Self {
        Resources { cpu: r.cpu, gpu: r.gpu, memory: r.memory, disk: r.disk }
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
}

/// `image: string | Image` as the core's ImageSpec; the Image is copied, never shared.
fn image_spec(env: &Env, value: Unknown) -> Result<Option<ImageSpec>> {
    match value.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::String => Ok(Some(ImageSpec::Name(unsafe { value.cast::<String>()? }))),
        _ if JsImage::instance_of(env, &value)? => {
            let image = unsafe { ClassInstance::<JsImage>::from_napi_value(env.raw(), value.raw())? };
            Ok(Some(ImageSpec::Build(image.inner.clone())))
        }
        _ => Err(crate::errors::js_error(
            env,
            crate::errors::JsErrorSpec {
                class: "DaytonaInvalidArgumentError",
                message: "image must be an image reference string or an Image".into(),
                status_code: None,
                code: None,
                source: None,
                details: None,
            },
        )),
    }
}

fn record(obj: &Object, key: &str) -> Result<Vec<(String, String)>> {
    let value: Unknown = obj.get_named_property(key)?;
    if value.get_type()? != ValueType::Object {
        return Ok(Vec::new());
    }
    let o: Object = unsafe { value.cast()? };
    Ok(string_record(&o)?.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect())
}

/// `options` of create/snapshot.create: a number (timeout) or `{ timeout, <logs callback> }`.
fn options(options: Option<Unknown>, callback_name: &str) -> Result<(Option<f64>, Option<LogCallback>)> {
    let Some(options) = options else { return Ok((None, None)) };
    match options.get_type()? {
        ValueType::Number => Ok((Some(unsafe { options.cast::<f64>()? }), None)),
        ValueType::Object => {
            let o: Object = unsafe { options.cast()? };
            let timeout: Option<f64> = o.get(&"timeout")?;
            let cb: Option<Function<String, UnknownReturnValue>> = o.get(callback_name)?;
            let tsfn = match cb {
                Some(f) => Some(f.build_threadsafe_function().callee_handled::<false>().build()?),
                None => None,
            };
            Ok((timeout, tsfn))
        }
        _ => Ok((None, None)),
    }
}

use napi::threadsafe_function::UnknownReturnValue;

#[napi(js_name = "Daytona")]
pub struct JsDaytona {
    inner: Daytona,
}

#[napi]
impl JsDaytona {
    #[napi(constructor)]
    pub fn new(env: &Env, config: Option<JsDaytonaConfig>) -> Result<Self> {
        let config = config.map(|c| DaytonaConfig {
            api_key: c.api_key,
            jwt_token: c.jwt_token,
            organization_id: c.organization_id,
            api_url: c.api_url.or(c.server_url),
            target: c.target,
            request_timeout_ms: c.request_timeout_ms,
            backend: c.backend,
            local: c
                .local
                .map(|l| LocalSettings {
                    docker_host: l.docker_host,
                    build_network_mode: l.build_network_mode,
                    sandbox_network_mode: l.sandbox_network_mode,
                    default_image: l.default_image,
                })
                .unwrap_or_default(),
        });
        Ok(JsDaytona { inner: throw(env, Daytona::new(config.unwrap_or_default()))? })
    }

    /// Which engine this client talks to.
    #[napi(getter)]
    pub fn backend(&self) -> String {
        self.inner.describe()
    }

    #[napi(getter)]
    pub fn snapshot(&self) -> SnapshotService {
        SnapshotService { inner: self.inner.clone() }
    }

    #[napi(ts_return_type = "Promise<Sandbox>")]
    pub fn create<'env>(&self, env: &'env Env, params: Option<Object>, options_arg: Option<Unknown>) -> Result<PromiseRaw<'env, Sandbox>> {
        let mut core = CreateSandboxParams::default();
        if let Some(p) = &params {
            let plain = unsafe { JsCreateParams::from_napi_value(env.raw(), p.raw())? };
            core.name = plain.name;
            core.user = plain.user;
            core.language = plain.language;
            core.public = plain.public;
            core.auto_stop_interval = plain.auto_stop_interval;
            core.auto_pause_interval = plain.auto_pause_interval;
            core.auto_archive_interval = plain.auto_archive_interval;
            core.auto_delete_interval = plain.auto_delete_interval;
            core.ttl_minutes = plain.ttl_minutes;
            core.ephemeral = plain.ephemeral;
            core.network_block_all = plain.network_block_all;
            core.snapshot = plain.snapshot;
            core.resources = plain.resources.map(Resources::from);
            core.env_vars = record(p, "envVars")?;
            core.labels = record(p, "labels")?;
            core.image = image_spec(env, p.get_named_property("image")?)?;
        }
        let (timeout, callback) = options(options_arg, "onSnapshotCreateLogs")?;
        let (sink, delivery) = log_channel(callback);
        let client = self.inner.clone();
        let for_sandbox = self.inner.clone();
        spawn(
            env,
            async move { run_with_logs(async move { client.create(core, timeout, sink).await }, delivery).await },
            move |_, info| Ok(Sandbox::new(for_sandbox, info)),
        )
    }

    #[napi(ts_return_type = "Promise<Sandbox>")]
    pub fn get<'env>(&self, env: &'env Env, sandbox_id_or_name: String) -> Result<PromiseRaw<'env, Sandbox>> {
        let client = self.inner.clone();
        let for_sandbox = self.inner.clone();
        spawn(env, async move { Ok(client.get(&sandbox_id_or_name).await) }, move |_, info| Ok(Sandbox::new(for_sandbox, info)))
    }

    /// All sandboxes carrying every label in `labels` (index.js wraps this as an async iterator).
    #[napi(js_name = "_list", ts_return_type = "Promise<Sandbox[]>")]
    pub fn list<'env>(&self, env: &'env Env, labels: Option<Object>) -> Result<PromiseRaw<'env, Vec<Sandbox>>> {
        let wanted = match labels {
            Some(o) => string_record(&o)?.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect(),
            None => Vec::new(),
        };
        let client = self.inner.clone();
        let for_sandboxes = self.inner.clone();
        spawn(env, async move { Ok(client.list(&wanted).await) }, move |_, infos| {
            Ok(infos.into_iter().map(|i| Sandbox::new(for_sandboxes.clone(), i)).collect())
        })
    }
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

#[napi]
pub struct SnapshotService {
    inner: Daytona,
}

#[napi]
impl SnapshotService {
    #[napi(ts_return_type = "Promise<Snapshot>")]
    pub fn create<'env>(&self, env: &'env Env, params: Object, options_arg: Option<Unknown>) -> Result<PromiseRaw<'env, JsSnapshot>> {
        let name: String = params.get(&"name")?.unwrap_or_default();
        let image = image_spec(env, params.get_named_property("image")?)?;
        let image = match image {
            Some(i) => i,
            None => {
                return Err(crate::errors::js_error(
                    env,
                    crate::errors::JsErrorSpec {
                        class: "DaytonaInvalidArgumentError",
                        message: "snapshot.create needs an image: an image reference string or an Image".into(),
                        status_code: None,
                        code: None,
                        source: None,
                        details: None,
                    },
                ));
            }
        };
        let entrypoint: Option<Vec<String>> = params.get(&"entrypoint")?;
        let resources: Option<JsResources> = params.get(&"resources")?;
        let core = CreateSnapshotParams { name, image, entrypoint, resources: resources.map(Resources::from) };
        let (timeout, callback) = options(options_arg, "onLogs")?;
        let (sink, delivery) = log_channel(callback);
        let client = self.inner.clone();
        spawn(
            env,
            async move { run_with_logs(async move { client.create_snapshot(core, timeout, sink).await }, delivery).await },
            |_, s| Ok(JsSnapshot::from(s)),
        )
    }

    #[napi(ts_return_type = "Promise<Snapshot>")]
    pub fn get<'env>(&self, env: &'env Env, name: String) -> Result<PromiseRaw<'env, JsSnapshot>> {
        let client = self.inner.clone();
        spawn(env, async move { Ok(client.get_snapshot(&name).await) }, |_, s| Ok(JsSnapshot::from(s)))
    }

    /// `list(page?, limit?)`: one page of all snapshots (the local engine has no server paging).
    #[napi(ts_return_type = "Promise<PaginatedSnapshots>")]
    pub fn list<'env>(&self, env: &'env Env, page: Option<Unknown>, limit: Option<f64>) -> Result<PromiseRaw<'env, JsPaginatedSnapshots>> {
        let (page, limit) = match page {
            Some(p) if p.get_type()? == ValueType::Number => (unsafe { p.cast::<f64>()? }, limit),
            Some(p) if p.get_type()? == ValueType::Object => {
                let o: Object = unsafe { p.cast()? };
                (o.get::<f64>(&"page")?.unwrap_or(1.0), o.get::<f64>(&"limit")?)
            }
            _ => (1.0, limit),
        };
        let client = self.inner.clone();
        spawn(env, async move { Ok(client.list_snapshots().await) }, move |_, all| {
            let total = all.len() as u32;
            let limit = limit.filter(|l| *l >= 1.0).map(|l| l as u32).unwrap_or(total.max(1));
            let page = page.max(1.0) as u32;
            let total_pages = total.div_ceil(limit.max(1)).max(1);
            let items = all.into_iter().skip(((page - 1) * limit) as usize).take(limit as usize).map(JsSnapshot::from).collect();
            Ok(JsPaginatedSnapshots { items, total, page, total_pages })
        })
    }

    /// `delete(snapshot)`: a Snapshot object or its id or name.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'env>(&self, env: &'env Env, snapshot: Either<String, Object>) -> Result<PromiseRaw<'env, ()>> {
        let key = match snapshot {
            Either::A(s) => s,
            Either::B(o) => o.get::<String>(&"name")?.or(o.get::<String>(&"id")?).unwrap_or_default(),
        };
        let client = self.inner.clone();
        spawn(env, async move { Ok(client.delete_snapshot(&key).await) }, |_, ()| Ok(()))
    }
}
