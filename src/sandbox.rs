//! The `Sandbox` class (`Process`: process.rs, `FileSystem`: filesystem.rs). A Sandbox holds the last known state
//! (refreshed by its own operations); everything else is forwarded to the core.

use std::sync::{Arc, Mutex};

use daytona_client::Daytona;
use daytona_client::types::SandboxInfo;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::abort::Cancellation;
use crate::filesystem::FileSystem;
use crate::interpreter::CodeInterpreter;
use crate::process::{CODE_TOOLBOX_LANGUAGE_LABEL, Process};
use crate::promise::spawn;

fn js_record<'env>(env: &'env Env, pairs: &[(String, String)]) -> Result<Object<'env>> {
    let mut obj = Object::new(env)?;
    for (k, v) in pairs {
        obj.set_named_property(k, v.as_str())?;
    }
    Ok(obj)
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
