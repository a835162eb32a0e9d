//! The `Daytona` and `SnapshotService` classes: argument conversion and forwarding to
//! `daytona_client::Daytona`.

use daytona_client::types::{
    CreateSandboxParams, CreateSnapshotParams, ImageSpec, ListSandboxesQuery, ListSnapshotsQuery, Resources, SnapshotInfo, SnapshotRef,
};
use daytona_client::{Daytona, DaytonaConfig, LocalSettings};
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

/// `resources.gpuType`: a string or an array of strings (a string becomes a one-element list).
fn gpu_type(resources: Option<Object>) -> Result<Option<Vec<String>>> {
    let Some(r) = resources else { return Ok(None) };
    let v: Unknown = r.get_named_property("gpuType")?;
    match v.get_type()? {
        ValueType::Undefined => Ok(None),
        ValueType::String => Ok(Some(vec![unsafe { v.cast::<String>()? }])),
        _ => Ok(crate::values::string_array(&v)?),
    }
}

/// An optional property as a JSON value, exactly as the caller wrote it.
fn json_property(env: &Env, obj: &Object, key: &str) -> Result<Option<serde_json::Value>> {
    let v: Unknown = obj.get_named_property(key)?;
    match v.get_type()? {
        ValueType::Undefined => Ok(None),
        _ => Ok(Some(env.from_js_value(v)?)),
    }
}

/// A string, or the ISO form of a Date (`x instanceof Date ? x.toISOString() : x`).
fn date_or_string(obj: &Object, key: &str) -> Result<Option<String>> {
    let v: Unknown = obj.get_named_property(key)?;
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::Object => {
            let o: Object = unsafe { v.cast()? };
            if o.has_named_property("toISOString")? {
                let f: Function<(), String> = o.get_named_property("toISOString")?;
                return Ok(Some(f.apply(o, ())?));
            }
            Ok(Some(crate::values::js_string(&v)?))
        }
        _ => Ok(Some(crate::values::js_string(&v)?)),
    }
}

/// A string, or each element of an array.
fn string_list(obj: &Object, key: &str) -> Result<Option<Vec<String>>> {
    let v: Unknown = obj.get_named_property(key)?;
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::Object if v.is_array()? => {
            let a: Array = unsafe { v.cast()? };
            let mut out = Vec::new();
            for i in 0..a.len() {
                let item: Unknown = a.get(i)?.expect("index within length");
                out.push(crate::values::js_string(&item)?);
            }
            Ok(Some(out))
        }
        _ => Ok(Some(vec![crate::values::js_string(&v)?])),
    }
}

/// `daytona.list(query)`'s query object.
fn list_query(query: Option<Object>) -> Result<ListSandboxesQuery> {
    let Some(q) = query else { return Ok(ListSandboxesQuery::default()) };
    let labels: Unknown = q.get_named_property("labels")?;
    let labels = match labels.get_type()? {
        ValueType::Object => {
            let o: Object = unsafe { labels.cast()? };
            Some(string_record(&o)?.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect())
        }
        _ => None,
    };
    Ok(ListSandboxesQuery {
        limit: q.get(&"limit")?,
        id: q.get(&"id")?,
        name: q.get(&"name")?,
        labels,
        states: string_list(&q, "states")?,
        snapshots: string_list(&q, "snapshots")?,
        targets: string_list(&q, "targets")?,
        min_cpu: q.get(&"minCpu")?,
        max_cpu: q.get(&"maxCpu")?,
        min_memory_gib: q.get(&"minMemoryGib")?,
        max_memory_gib: q.get(&"maxMemoryGib")?,
        min_disk_gib: q.get(&"minDiskGib")?,
        max_disk_gib: q.get(&"maxDiskGib")?,
        is_public: q.get(&"isPublic")?,
        is_recoverable: q.get(&"isRecoverable")?,
        created_at_after: date_or_string(&q, "createdAtAfter")?,
        created_at_before: date_or_string(&q, "createdAtBefore")?,
        last_activity_after: date_or_string(&q, "lastActivityAfter")?,
        last_activity_before: date_or_string(&q, "lastActivityBefore")?,
        auto_destroy_at_after: date_or_string(&q, "autoDestroyAtAfter")?,
        auto_destroy_at_before: date_or_string(&q, "autoDestroyAtBefore")?,
        sort: q.get(&"sort")?,
        order: q.get(&"order")?,
    })
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
            api_url: c.api_url.filter(|u| !u.is_empty()).or(c.server_url),
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
            if let Some(r) = core.resources.as_mut() {
                r.gpu_type = gpu_type(p.get(&"resources")?)?;
            }
            core.spot = plain.spot;
            core.kvm = plain.kvm;
            core.network_allow_list = plain.network_allow_list;
            core.domain_allow_list = plain.domain_allow_list;
            core.outbound_proxy_url = plain.outbound_proxy_url;
            core.otel_endpoint_override = plain.otel_endpoint_override;
            core.linked_sandbox = plain.linked_sandbox;
            core.volumes = json_property(env, p, "volumes")?;
            let secrets: Unknown = p.get_named_property("secrets")?;
            if crate::values::truthy(&secrets)? && secrets.get_type()? == ValueType::Object {
                let o: Object = unsafe { secrets.cast()? };
                core.secrets = Some(string_record(&o)?.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect());
            }
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

    /// One page of `list(query)`; index.js turns the pages into the async iterator.
    #[napi(js_name = "_listPage", ts_return_type = "Promise<{ items: Sandbox[]; nextCursor?: string }>")]
    pub fn list_page<'env>(&self, env: &'env Env, query: Option<Object>, cursor: Option<String>) -> Result<PromiseRaw<'env, JsSandboxPage>> {
        let query = list_query(query)?;
        let client = self.inner.clone();
        let for_sandboxes = self.inner.clone();
        spawn(env, async move { Ok(client.list_page(&query, cursor.as_deref()).await) }, move |_, page| {
            Ok(JsSandboxPage {
                items: page.items.into_iter().map(|i| Sandbox::new(for_sandboxes.clone(), i)).collect(),
                next_cursor: page.next_cursor,
            })
        })
    }
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
        let mut resources = resources.map(Resources::from);
        if let Some(r) = resources.as_mut() {
            r.gpu_type = gpu_type(params.get(&"resources")?)?;
        }
        let region_id: Option<String> = params.get(&"regionId")?;
        let sandbox_class: Option<String> = params.get(&"sandboxClass")?;
        let core = CreateSnapshotParams { name, image, entrypoint, resources, region_id, sandbox_class };
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

    /// `list(page?, limit?)` or `list({ page, limit, sourceSandboxId })`.
    #[napi(ts_return_type = "Promise<PaginatedSnapshots>")]
    pub fn list<'env>(&self, env: &'env Env, page: Option<Unknown>, limit: Option<f64>) -> Result<PromiseRaw<'env, JsPaginatedSnapshots>> {
        let query = match page {
            Some(p) if p.get_type()? == ValueType::Number => ListSnapshotsQuery { page: Some(unsafe { p.cast::<f64>()? }), limit, source_sandbox_id: None },
            Some(p) if p.get_type()? == ValueType::Object => {
                let o: Object = unsafe { p.cast()? };
                ListSnapshotsQuery { page: o.get(&"page")?, limit: o.get(&"limit")?, source_sandbox_id: o.get(&"sourceSandboxId")? }
            }
            _ => ListSnapshotsQuery { page: None, limit, source_sandbox_id: None },
        };
        let client = self.inner.clone();
        spawn(env, async move { Ok(client.list_snapshots_page(&query).await) }, move |_, p| {
            Ok(JsPaginatedSnapshots {
                items: p.items.into_iter().map(JsSnapshot::from).collect(),
                total: p.total as u32,
                page: p.page as u32,
                total_pages: p.total_pages as u32,
            })
        })
    }

    /// `delete(snapshot)`: a Snapshot object or its id or name.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'env>(&self, env: &'env Env, snapshot: Either<String, Object>) -> Result<PromiseRaw<'env, ()>> {
        let target = snapshot_ref(snapshot)?;
        let client = self.inner.clone();
        spawn(env, async move { Ok(client.delete_snapshot_by(&target).await) }, |_, ()| Ok(()))
    }

    /// `activate(snapshot)`: a Snapshot object or its id or name.
    #[napi(ts_return_type = "Promise<Snapshot>")]
    pub fn activate<'env>(&self, env: &'env Env, snapshot: Either<String, Object>) -> Result<PromiseRaw<'env, JsSnapshot>> {
        let target = snapshot_ref(snapshot)?;
        let client = self.inner.clone();
        spawn(env, async move { Ok(client.activate_snapshot(&target).await) }, |_, s| Ok(JsSnapshot::from(s)))
    }
}

fn snapshot_ref(snapshot: Either<String, Object>) -> Result<SnapshotRef> {
    Ok(match snapshot {
        Either::A(s) => SnapshotRef::IdOrName(s),
        Either::B(o) => SnapshotRef::Object { id: o.get::<String>(&"id")?, name: o.get::<String>(&"name")? },
    })
}
