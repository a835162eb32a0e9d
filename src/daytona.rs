//! The `Daytona` and `SnapshotService` classes: each method reads its arguments (mirrors in
//! `mirrors.rs`, loose values through `values.rs`) and forwards to `daytona_client::Daytona`.

use daytona_client::types::{CreateSandboxParams, CreateSnapshotParams, ListSnapshotsQuery, Resources};
use daytona_client::{Daytona, DaytonaConfig};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::abort::Cancellation;
use crate::errors::throw;
use crate::logs::{log_channel, run_with_logs};
use crate::mirrors::{JsCreateParams, JsDaytonaConfig, JsLocalImage, JsPaginatedSnapshots, JsPruneOptions, JsPruneReport, JsResources, JsSandboxPage, JsSnapshot};
use crate::promise::{spawn, spawn_creation};
use crate::sandbox::Sandbox;
use crate::values::{gpu_type, image_spec, json_property, list_query, options, record, snapshot_ref, string_record};

#[napi(js_name = "Daytona")]
pub struct JsDaytona {
    inner: Daytona,
}

#[napi]
impl JsDaytona {
    #[napi(constructor)]
    pub fn new(env: &Env, config: Option<JsDaytonaConfig>) -> Result<Self> {
        let config = config.map(DaytonaConfig::from).unwrap_or_default();
        Ok(JsDaytona { inner: throw(env, Daytona::new(config))? })
    }

    /// This client with its operations bound to `cancellation` (index.js: AbortSignal).
    #[napi(js_name = "_abortable")]
    pub fn abortable(&self, cancellation: &Cancellation) -> JsDaytona {
        JsDaytona { inner: self.inner.with_cancellation(cancellation.token()) }
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

    /// The images this package built on the local engine.
    #[napi(getter)]
    pub fn local_images(&self) -> LocalImageService {
        LocalImageService { inner: self.inner.clone() }
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
        spawn_creation(
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

#[napi]
pub struct SnapshotService {
    inner: Daytona,
}

#[napi]
impl SnapshotService {
    /// This service with its operations bound to `cancellation` (index.js: AbortSignal).
    #[napi(js_name = "_abortable")]
    pub fn abortable(&self, cancellation: &Cancellation) -> SnapshotService {
        SnapshotService { inner: self.inner.with_cancellation(cancellation.token()) }
    }

    #[napi(ts_return_type = "Promise<Snapshot>")]
    pub fn create<'env>(&self, env: &'env Env, params: Object, options_arg: Option<Unknown>) -> Result<PromiseRaw<'env, JsSnapshot>> {
        let core = snapshot_params(env, &params)?;
        let (timeout, callback) = options(options_arg, "onLogs")?;
        let (sink, delivery) = log_channel(callback);
        let client = self.inner.clone();
        spawn_creation(
            env,
            async move { run_with_logs(async move { client.create_snapshot(core, timeout, sink).await }, delivery).await },
            |_, s| Ok(JsSnapshot::from(s)),
        )
    }

    /// `ensure({ name?, image, entrypoint?, resources? }, { onLogs, timeout })`: the snapshot of
    /// this image, created only when missing.
    #[napi(ts_return_type = "Promise<Snapshot>")]
    pub fn ensure<'env>(&self, env: &'env Env, params: Object, options_arg: Option<Unknown>) -> Result<PromiseRaw<'env, JsSnapshot>> {
        let core = snapshot_params(env, &params)?;
        let (timeout, callback) = options(options_arg, "onLogs")?;
        let (sink, delivery) = log_channel(callback);
        let client = self.inner.clone();
        spawn_creation(
            env,
            async move { run_with_logs(async move { client.ensure_snapshot(core, timeout, sink).await }, delivery).await },
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

/// `daytona.localImages`: the images this package built on the local engine.
#[napi]
pub struct LocalImageService {
    inner: Daytona,
}

#[napi]
impl LocalImageService {
    /// Newest first; `_list` because index.js adds `createdAt` dates.
    #[napi(js_name = "_list", ts_return_type = "Promise<LocalImage[]>")]
    pub fn list<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<JsLocalImage>>> {
        let client = self.inner.clone();
        spawn(env, async move { Ok(client.local_images().await) }, |_, images| Ok(images.into_iter().map(JsLocalImage::from).collect()))
    }

    /// One built image (by id or tag) with all its tags.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove<'env>(&self, env: &'env Env, id_or_tag: String) -> Result<PromiseRaw<'env, ()>> {
        let client = self.inner.clone();
        spawn(env, async move { Ok(client.remove_local_image(&id_or_tag).await) }, |_, ()| Ok(()))
    }

    #[napi(js_name = "_prune", ts_return_type = "Promise<PruneReport>")]
    pub fn prune<'env>(&self, env: &'env Env, options: Option<JsPruneOptions>) -> Result<PromiseRaw<'env, JsPruneReport>> {
        let options = options.map(Into::into).unwrap_or_default();
        let client = self.inner.clone();
        spawn(env, async move { Ok(client.prune_local_images(&options).await) }, |_, r| Ok(JsPruneReport::from(r)))
    }
}

/// The parameters of `snapshot.create` / `snapshot.ensure` (an empty name: none given).
fn snapshot_params(env: &Env, params: &Object) -> Result<CreateSnapshotParams> {
    let name: String = params.get(&"name")?.unwrap_or_default();
    let image = image_spec(env, params.get_named_property("image")?)?;
    let image = match image {
        Some(i) => i,
        None => {
            return Err(crate::errors::js_error(
                env,
                crate::errors::JsErrorSpec {
                    class: "DaytonaInvalidArgumentError",
                    message: "snapshot.create and snapshot.ensure need an image: an image reference string or an Image".into(),
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
    Ok(CreateSnapshotParams { name, image, entrypoint, resources, region_id, sandbox_class })
}
