//! `serve(options)`: starts `daytona-server` (the Daytona API over the local engine) and hands
//! JavaScript a handle with its URL, key and `close()`.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::mirrors::LocalEngineConfig;
use crate::promise;

/// `serve(options?)`.
#[napi(object)]
pub struct ServeOptions {
    /// 0 or absent: any free port.
    pub port: Option<u32>,
    /// Default `127.0.0.1`; anything but a loopback address needs `allowRemote`.
    pub host: Option<String>,
    /// Generated when absent.
    pub api_key: Option<String>,
    pub allow_remote: Option<bool>,
    /// Settings of the local engine backend.
    pub local: Option<LocalEngineConfig>,
}

/// A running server.
#[napi]
pub struct ServeHandle {
    url: String,
    api_key: String,
    warning: Option<String>,
    server: Arc<Mutex<Option<daytona_server::Server>>>,
}

#[napi]
impl ServeHandle {
    /// `http://host:port/api`: what `DAYTONA_API_URL` / `apiUrl` should be.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    #[napi(getter)]
    pub fn api_key(&self) -> String {
        self.api_key.clone()
    }

    /// Set when the server listens beyond loopback.
    #[napi(getter)]
    pub fn warning(&self) -> Option<String> {
        self.warning.clone()
    }

    /// Stops the server (sandboxes stay in the engine).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        promise::spawn(
            env,
            async move {
                if let Some(s) = server {
                    s.close().await;
                }
                Ok(Ok(()))
            },
            |_, ()| Ok(()),
        )
    }
}

#[napi(ts_return_type = "Promise<ServeHandle>")]
pub fn serve<'env>(env: &'env Env, options: Option<ServeOptions>) -> Result<PromiseRaw<'env, ServeHandle>> {
    let o = options.unwrap_or(ServeOptions { port: None, host: None, api_key: None, allow_remote: None, local: None });
    let Ok(port) = u16::try_from(o.port.unwrap_or(0)) else {
        return promise::rejected(env, daytona_client::ClientError::invalid("port must be between 0 and 65535"));
    };
    let options = daytona_server::ServeOptions {
        port,
        host: o.host,
        api_key: o.api_key,
        allow_remote: o.allow_remote.unwrap_or(false),
        local: o.local.map(Into::into).unwrap_or_default(),
    };
    promise::spawn(env, async move { Ok(daytona_server::serve(options).await) }, |_, s| {
        Ok(ServeHandle { url: s.url.clone(), api_key: s.api_key.clone(), warning: s.warning.clone(), server: Arc::new(Mutex::new(Some(s))) })
    })
}
