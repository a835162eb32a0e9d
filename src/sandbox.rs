//! The `Sandbox` class (`Process`: process.rs, `FileSystem`: filesystem.rs). A Sandbox holds the last known state
//! (refreshed by its own operations); everything else is forwarded to the core.

use std::sync::{Arc, Mutex};

use daytona_client::Daytona;
use daytona_client::ClientError;
use daytona_client::types::{ResizeParams, SANDBOX_FIELDS, SandboxInfo};
use serde_json::{Value, json};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::abort::Cancellation;
use crate::filesystem::FileSystem;
use crate::interpreter::CodeInterpreter;
use crate::process::{CODE_TOOLBOX_LANGUAGE_LABEL, Process};
use crate::process::on_toolbox;
use crate::promise::{read_args, spawn};
use crate::values;

fn js_record<'env>(env: &'env Env, pairs: &[(String, String)]) -> Result<Object<'env>> {
    let mut obj = Object::new(env)?;
    for (k, v) in pairs {
        obj.set_named_property(k, v.as_str())?;
    }
    Ok(obj)
}

/// The sandbox's data as the official object holds it: [`SANDBOX_FIELDS`] in their order,
/// absent ones left out.
fn data(i: &SandboxInfo) -> serde_json::Map<String, Value> {
    let record = |pairs: &[(String, String)]| Value::Object(pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect());
    let mut m = serde_json::Map::new();
    for key in SANDBOX_FIELDS {
        let v = match key {
            "id" => json!(i.id),
            "name" => json!(i.name),
            "organizationId" => json!(i.organization_id),
            "snapshot" => json!(i.snapshot),
            "user" => json!(i.user),
            "env" => record(&i.env),
            "labels" => record(&i.labels),
            "public" => json!(i.public),
            "target" => json!(i.target),
            "cpu" => json!(i.cpu),
            "gpu" => json!(i.gpu),
            "memory" => json!(i.memory),
            "disk" => json!(i.disk),
            "state" => json!(i.state),
            "errorReason" => json!(i.error_reason),
            "autoStopInterval" => json!(i.auto_stop_interval),
            "autoArchiveInterval" => json!(i.auto_archive_interval),
            "autoDeleteInterval" => json!(i.auto_delete_interval),
            "networkBlockAll" => json!(i.network_block_all),
            "createdAt" => json!(i.created_at),
            "updatedAt" => json!(i.updated_at),
            other => i.extra.get(other).cloned().unwrap_or(Value::Null),
        };
        // `null` only where the DTO said so (an extra field); a typed field without a value is absent.
        if !v.is_null() || i.extra.get(key).is_some_and(Value::is_null) {
            m.insert(key.to_string(), v);
        }
    }
    m
}

/// The official check of the interval setters: a non-negative integer.
fn interval_arg(value: Option<Unknown>, name: &str) -> values::Args<f64> {
    let message = format!("{name} must be a non-negative integer");
    match values::optional_number(value, name) {
        Ok(Some(n)) if n.is_finite() && n.fract() == 0.0 && n >= 0.0 => Ok(n),
        Ok(_) | Err(values::ArgError::Invalid(_)) => Err(values::ArgError::Invalid(ClientError::invalid(message))),
        Err(e) => Err(e),
    }
}

#[napi]
pub struct Sandbox {
    client: Daytona,
    info: Arc<Mutex<SandboxInfo>>,
}

impl Sandbox {
    /// A sandbox handed to JavaScript: its client carries no caller's cancellation.
    pub fn new(client: Daytona, info: SandboxInfo) -> Self {
        Sandbox { client: client.without_cancellation(), info: Arc::new(Mutex::new(info)) }
    }

    fn with<T>(&self, f: impl FnOnce(&SandboxInfo) -> T) -> T {
        f(&self.info.lock().unwrap())
    }

    /// Runs an operation that returns fresh sandbox data and stores it.
    fn update<'env, F>(&self, env: &'env Env, op: F) -> Result<PromiseRaw<'env, ()>>
    where
        F: std::future::Future<Output = daytona_client::Result<SandboxInfo>> + Send + 'static,
    {
        let info = self.info.clone();
        spawn(env, async move { Ok(op.await) }, move |_, fresh| {
            *info.lock().unwrap() = fresh;
            Ok(())
        })
    }
}

#[napi]
impl Sandbox {
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.with(|i| i.id.clone())
    }
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.with(|i| i.name.clone())
    }
    #[napi(getter)]
    pub fn organization_id(&self) -> String {
        self.with(|i| i.organization_id.clone())
    }
    #[napi(getter)]
    pub fn snapshot(&self) -> Option<String> {
        self.with(|i| i.snapshot.clone())
    }
    #[napi(getter)]
    pub fn user(&self) -> String {
        self.with(|i| i.user.clone())
    }
    #[napi(getter)]
    pub fn env<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let pairs = self.with(|i| i.env.clone());
        js_record(env, &pairs)
    }
    #[napi(getter)]
    pub fn labels<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let pairs = self.with(|i| i.labels.clone());
        js_record(env, &pairs)
    }
    #[napi(getter)]
    pub fn public(&self) -> bool {
        self.with(|i| i.public)
    }
    #[napi(getter)]
    pub fn target(&self) -> String {
        self.with(|i| i.target.clone())
    }
    #[napi(getter)]
    pub fn cpu(&self) -> f64 {
        self.with(|i| i.cpu)
    }
    #[napi(getter)]
    pub fn gpu(&self) -> f64 {
        self.with(|i| i.gpu)
    }
    #[napi(getter)]
    pub fn memory(&self) -> f64 {
        self.with(|i| i.memory)
    }
    #[napi(getter)]
    pub fn disk(&self) -> f64 {
        self.with(|i| i.disk)
    }
    #[napi(getter)]
    pub fn state(&self) -> String {
        self.with(|i| i.state.clone())
    }
    #[napi(getter)]
    pub fn error_reason(&self) -> Option<String> {
        self.with(|i| i.error_reason.clone())
    }
    #[napi(getter)]
    pub fn auto_stop_interval(&self) -> Option<f64> {
        self.with(|i| i.auto_stop_interval)
    }
    #[napi(getter)]
    pub fn auto_archive_interval(&self) -> Option<f64> {
        self.with(|i| i.auto_archive_interval)
    }
    #[napi(getter)]
    pub fn auto_delete_interval(&self) -> Option<f64> {
        self.with(|i| i.auto_delete_interval)
    }
    #[napi(getter)]
    pub fn network_block_all(&self) -> bool {
        self.with(|i| i.network_block_all)
    }
    #[napi(getter)]
    pub fn created_at(&self) -> Option<String> {
        self.with(|i| i.created_at.clone())
    }
    #[napi(getter)]
    pub fn updated_at(&self) -> Option<String> {
        self.with(|i| i.updated_at.clone())
    }

    /// This sandbox (same data) with its operations bound to `cancellation` (index.js:
    /// AbortSignal).
    #[napi(js_name = "_abortable")]
    pub fn abortable(&self, cancellation: &Cancellation) -> Sandbox {
        Sandbox { client: self.client.with_cancellation(cancellation.token()), info: self.info.clone() }
    }

    /// Commands, sessions, PTYs and `codeRun` (in the language of the `code-toolbox-language`
    /// label, read when the getter is called).
    #[napi(getter)]
    pub fn process(&self) -> Process {
        let language = self.with(|i| i.labels.iter().find(|(k, _)| k == CODE_TOOLBOX_LANGUAGE_LABEL).map(|(_, v)| v.clone()));
        Process::new(self.client.clone(), self.id(), language)
    }

    /// The stateful code interpreter.
    #[napi(getter)]
    pub fn code_interpreter(&self) -> CodeInterpreter {
        CodeInterpreter::new(self.client.clone(), self.id())
    }

    #[napi(getter)]
    pub fn fs(&self) -> FileSystem {
        FileSystem::new(self.client.clone(), self.id())
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn start<'env>(&self, env: &'env Env, timeout: Option<f64>) -> Result<PromiseRaw<'env, ()>> {
        let (client, id) = (self.client.clone(), self.id());
        self.update(env, async move { client.start(&id, timeout).await })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop<'env>(&self, env: &'env Env, timeout: Option<f64>, force: Option<bool>) -> Result<PromiseRaw<'env, ()>> {
        let (client, id) = (self.client.clone(), self.id());
        self.update(env, async move { client.stop(&id, timeout, force.unwrap_or(false)).await })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'env>(&self, env: &'env Env, timeout: Option<f64>, wait: Option<bool>) -> Result<PromiseRaw<'env, ()>> {
        let (client, id) = (self.client.clone(), self.id());
        let info = self.info.clone();
        let wait = wait.unwrap_or(false);
        spawn(env, async move { Ok(client.delete_and_wait(&id, timeout, wait).await) }, move |_, ()| {
            info.lock().unwrap().state = "destroyed".into();
            Ok(())
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn refresh_data<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let (client, id) = (self.client.clone(), self.id());
        self.update(env, async move { client.get(&id).await })
    }

    /// The sandbox's data (`toJSON`, `util.inspect`, and the official fields without a getter
    /// of their own: index.js).
    #[napi(js_name = "_data")]
    pub fn data<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        let m = self.with(data);
        env.to_js_value(&Value::Object(m))
    }

    /// `setLabels(labels)`: resolves to the labels the sandbox has afterwards.
    #[napi(ts_return_type = "Promise<Record<string, string>>")]
    pub fn set_labels<'env>(&self, env: &'env Env, labels: Option<Unknown>) -> Result<PromiseRaw<'env, Object<'env>>> {
        let labels = read_args!(env, match values::optional_string_record(labels, "labels")? {
            Some(l) => l,
            None => return Err(values::ArgError::Invalid(ClientError::invalid("labels is required: an object of strings"))),
        });
        let (client, id, info) = (self.client.clone(), self.id(), self.info.clone());
        spawn(env, async move { Ok(client.set_labels(&id, &labels).await) }, move |env, fresh| {
            let obj = js_record(env, &fresh)?;
            info.lock().unwrap().labels = fresh;
            Ok(obj)
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn refresh_activity<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let (client, id) = (self.client.clone(), self.id());
        spawn(env, async move { Ok(client.refresh_activity(&id).await) }, |_, ()| Ok(()))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_autostop_interval<'env>(&self, env: &'env Env, interval: Option<Unknown>) -> Result<PromiseRaw<'env, ()>> {
        let minutes = read_args!(env, interval_arg(interval, "autoStopInterval")?);
        let (client, id, info) = (self.client.clone(), self.id(), self.info.clone());
        spawn(env, async move { Ok(client.set_autostop_interval(&id, minutes).await) }, move |_, ()| {
            info.lock().unwrap().auto_stop_interval = Some(minutes);
            Ok(())
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_auto_archive_interval<'env>(&self, env: &'env Env, interval: Option<Unknown>) -> Result<PromiseRaw<'env, ()>> {
        let minutes = read_args!(env, interval_arg(interval, "autoArchiveInterval")?);
        let (client, id, info) = (self.client.clone(), self.id(), self.info.clone());
        spawn(env, async move { Ok(client.set_auto_archive_interval(&id, minutes).await) }, move |_, ()| {
            info.lock().unwrap().auto_archive_interval = Some(minutes);
            Ok(())
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_auto_delete_interval<'env>(&self, env: &'env Env, interval: Option<Unknown>) -> Result<PromiseRaw<'env, ()>> {
        let minutes = read_args!(env, values::required_number(interval, "interval")?);
        let (client, id, info) = (self.client.clone(), self.id(), self.info.clone());
        spawn(env, async move { Ok(client.set_auto_delete_interval(&id, minutes).await) }, move |_, ()| {
            info.lock().unwrap().auto_delete_interval = Some(minutes);
            Ok(())
        })
    }

    /// `getWorkDir()`: the image's WORKDIR, else the user's home directory.
    #[napi(ts_return_type = "Promise<string | undefined>")]
    pub fn get_work_dir<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<String>>> {
        let op = on_toolbox(self.client.clone(), self.id(), |tb| async move { tb.get_work_dir().await });
        spawn(env, async move { Ok(op.await) }, |_, dir| Ok(dir))
    }

    #[napi(ts_return_type = "Promise<string | undefined>")]
    pub fn get_user_home_dir<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<String>>> {
        let op = on_toolbox(self.client.clone(), self.id(), |tb| async move { tb.get_user_home_dir().await });
        spawn(env, async move { Ok(op.await) }, |_, dir| Ok(dir))
    }

    /// `updateEnv(env, { unset }?)`: processes started in the sandbox from now on see the change.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn update_env<'env>(&self, env: &'env Env, vars: Option<Unknown>, options: Option<Unknown>) -> Result<PromiseRaw<'env, ()>> {
        let (set, unset) = read_args!(env, {
            let set = match values::optional_string_record(vars, "env")? {
                Some(s) => s,
                None => return Err(values::ArgError::Invalid(ClientError::invalid("env is required: an object of strings"))),
            };
            let unset = match values::optional_object(options, "options")? {
                Some(o) => values::optional_string_array(values::property(&o, "unset")?, "options.unset")?,
                None => None,
            };
            (set, unset)
        });
        let op = on_toolbox(self.client.clone(), self.id(), move |tb| async move { tb.update_env(&set, unset.as_deref()).await });
        spawn(env, async move { Ok(op.await) }, |_, ()| Ok(()))
    }

    /// Deprecated officially: `getUserHomeDir()`.
    #[napi(ts_return_type = "Promise<string | undefined>")]
    pub fn get_user_root_dir<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<String>>> {
        self.get_user_home_dir(env)
    }

    /// `resize({ cpu, memory, disk }, timeout = 60)`; `gpu`/`gpuType` are refused as officially.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn resize<'env>(&self, env: &'env Env, resources: Option<Unknown>, timeout: Option<f64>) -> Result<PromiseRaw<'env, ()>> {
        let params = read_args!(env, {
            let obj = match values::optional_object(resources, "resources")? {
                Some(o) => o,
                None => return Err(values::ArgError::Invalid(ClientError::invalid("resources is required: { cpu?, memory?, disk? }"))),
            };
            if obj.has_property("gpu")? || obj.has_property("gpuType")? {
                return Err(values::ArgError::Invalid(ClientError::invalid(
                    "Resize does not support changes to gpu or gpuType \u{2014} to change GPU, create a new Sandbox",
                )));
            }
            ResizeParams {
                cpu: values::optional_number(values::property(&obj, "cpu")?, "resources.cpu")?,
                memory: values::optional_number(values::property(&obj, "memory")?, "resources.memory")?,
                disk: values::optional_number(values::property(&obj, "disk")?, "resources.disk")?,
            }
        });
        let (client, id, org) = (self.client.clone(), self.id(), self.organization_id());
        self.update(env, async move { client.resize(&id, &org, &params, timeout).await })
    }

    /// `fork({ name }?, timeout = 60)`: resolves to the new, started sandbox.
    #[napi(ts_return_type = "Promise<Sandbox>")]
    pub fn fork<'env>(&self, env: &'env Env, params: Option<Unknown>, timeout: Option<f64>) -> Result<PromiseRaw<'env, Sandbox>> {
        let name = read_args!(env, match values::optional_object(params, "params")? {
            Some(obj) => values::optional_string(values::property(&obj, "name")?, "params.name")?,
            None => None,
        });
        let (client, id) = (self.client.clone(), self.id());
        let for_fork = self.client.clone();
        spawn(env, async move { Ok(client.fork(&id, name.as_deref(), timeout).await) }, move |_, info| Ok(Sandbox::new(for_fork, info)))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn archive<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let (client, id) = (self.client.clone(), self.id());
        self.update(env, async move { client.archive(&id).await })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn recover<'env>(&self, env: &'env Env, timeout: Option<f64>) -> Result<PromiseRaw<'env, ()>> {
        let (client, id) = (self.client.clone(), self.id());
        self.update(env, async move { client.recover(&id, timeout).await })
    }

    /// `getPreviewLink(port)`: `{ sandboxId, url, token }`.
    #[napi(ts_return_type = "Promise<{ sandboxId: string; url: string; token: string }>")]
    pub fn get_preview_link<'env>(&self, env: &'env Env, port: f64) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (client, id) = (self.client.clone(), self.id());
        spawn(env, async move { Ok(client.get_preview_link(&id, port).await) }, |env, l| {
            env.to_js_value(&json!({ "sandboxId": l.sandbox_id, "url": l.url, "token": l.token }))
        })
    }

    /// `getSignedPreviewUrl(port, expiresInSeconds?)`: `{ sandboxId, port, token, url }`.
    #[napi(ts_return_type = "Promise<{ sandboxId: string; port: number; token: string; url: string }>")]
    pub fn get_signed_preview_url<'env>(&self, env: &'env Env, port: f64, expires_in_seconds: Option<f64>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (client, id) = (self.client.clone(), self.id());
        spawn(env, async move { Ok(client.get_signed_preview_url(&id, port, expires_in_seconds).await) }, |env, l| {
            env.to_js_value(&json!({ "sandboxId": l.sandbox_id, "port": l.port, "token": l.token, "url": l.url }))
        })
    }

    /// `createSnapshot(name, timeout = 60)`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn create_snapshot<'env>(&self, env: &'env Env, name: Option<Unknown>, timeout: Option<f64>) -> Result<PromiseRaw<'env, ()>> {
        let name = read_args!(env, values::required_string(name, "name", "createSandboxSnapshot")?);
        let (client, id) = (self.client.clone(), self.id());
        self.update(env, async move { client.create_sandbox_snapshot(&id, &name, timeout).await })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn wait_for_resize_complete<'env>(&self, env: &'env Env, timeout: Option<f64>) -> Result<PromiseRaw<'env, ()>> {
        let (client, id, cached) = (self.client.clone(), self.id(), self.state());
        let info = self.info.clone();
        spawn(env, async move { Ok(client.wait_for_resize_complete(&id, &cached, timeout).await) }, move |_, fresh| {
            if let Some(fresh) = fresh {
                *info.lock().unwrap() = fresh;
            }
            Ok(())
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn wait_until_stopped<'env>(&self, env: &'env Env, timeout: Option<f64>) -> Result<PromiseRaw<'env, ()>> {
        let (client, id) = (self.client.clone(), self.id());
        let cached = self.state();
        let info = self.info.clone();
        spawn(env, async move { Ok(client.wait_until_stopped_from(&id, Some(&cached), timeout).await) }, move |_, fresh| {
            if let Some(fresh) = fresh {
                *info.lock().unwrap() = fresh;
            }
            Ok(())
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn wait_until_started<'env>(&self, env: &'env Env, timeout: Option<f64>) -> Result<PromiseRaw<'env, ()>> {
        let (client, id) = (self.client.clone(), self.id());
        let cached = self.state();
        let info = self.info.clone();
        spawn(env, async move { Ok(client.wait_until_started_from(&id, Some(&cached), timeout).await) }, move |_, fresh| {
            if let Some(fresh) = fresh {
                *info.lock().unwrap() = fresh;
            }
            Ok(())
        })
    }
}
