//! A connected PTY session, as index.js's `PtyHandle` uses it: input, resize, kill, disconnect,
//! the exit result, and the output bytes as a `_ToolboxStream`.

use std::sync::Arc;

use daytona_client::toolbox::PtyConnection;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::promise::{read_args, spawn};
use crate::stream::{Bytes, Finished, ToolboxStream};
use crate::values::required_number;

/// `PtyResult`: `exitCode` and `error`, each `undefined` when unknown.
#[napi(object, object_from_js = false)]
pub struct JsPtyResult {
    pub exit_code: Option<i32>,
    pub error: Option<String>,
}

#[napi(js_name = "_PtyConnection")]
pub struct PtyConnectionHandle {
    conn: Arc<PtyConnection>,
}

impl PtyConnectionHandle {
    pub fn new(conn: PtyConnection) -> Self {
        PtyConnectionHandle { conn: Arc::new(conn) }
    }

    fn run<'env, T, F, Fut, V, C>(&self, env: &'env Env, op: F, convert: C) -> Result<PromiseRaw<'env, V>>
    where
        T: Send + 'static,
        V: ToNapiValue,
        F: FnOnce(Arc<PtyConnection>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = daytona_client::Result<T>> + Send + 'static,
        C: FnOnce(&'env Env, T) -> Result<V> + 'static,
    {
        let conn = self.conn.clone();
        spawn(env, async move { Ok(op(conn).await) }, convert)
    }
}

#[napi]
impl PtyConnectionHandle {
    #[napi(getter)]
    pub fn session_id(&self) -> String {
        self.conn.session_id().to_string()
    }

    /// The output, once (later calls: `null`). Bytes not read stay in the core's bounded
    /// channel, so the reader must keep reading.
    #[napi]
    pub fn data(&self) -> Option<ToolboxStream> {
        let rx = self.conn.take_data()?;
        Some(ToolboxStream::start(Some(Box::new(Bytes(rx))), async { Ok(Finished::Nothing) }))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn send_input<'env>(&self, env: &'env Env, data: Buffer) -> Result<PromiseRaw<'env, ()>> {
        let data = data.to_vec();
        self.run(env, move |c| async move { c.send_input(data.into()).await }, |_, ()| Ok(()))
    }

    #[napi(ts_return_type = "Promise<PtySessionInfo>")]
    pub fn resize<'env>(&self, env: &'env Env, cols: Option<Unknown>, rows: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (cols, rows) = read_args!(env, (required_number(cols, "cols")?, required_number(rows, "rows")?));
        self.run(env, move |c| async move { c.resize(cols, rows).await }, |env, v| env.to_js_value(&v))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn kill<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        self.run(env, |c| async move { c.kill().await }, |_, ()| Ok(()))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn disconnect<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        self.run(
            env,
            |c| async move {
                c.disconnect().await;
                Ok(())
            },
            |_, ()| Ok(()),
        )
    }

    /// Resolves when the PTY has ended.
    #[napi(ts_return_type = "Promise<{ exitCode?: number; error?: string }>")]
    pub fn wait<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, JsPtyResult>> {
        self.run(env, |c| async move { c.wait().await }, |_, r| Ok(JsPtyResult { exit_code: r.exit_code, error: r.error }))
    }

    #[napi(getter)]
    pub fn exit_code(&self) -> Option<i32> {
        self.conn.exit_code()
    }

    #[napi(getter)]
    pub fn error(&self) -> Option<String> {
        self.conn.error()
    }

    #[napi]
    pub fn is_connected(&self) -> bool {
        self.conn.is_connected()
    }
}
