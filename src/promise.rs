//! Runs a core future on napi's tokio runtime and settles a Promise on the JS thread, where
//! core errors become instances of the JS error classes.

use std::future::Future;

use daytona_client::ClientError;
use napi::bindgen_prelude::*;

use crate::errors::js_error;

pub fn spawn<'env, T, V, F, C>(env: &'env Env, fut: F, convert: C) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = Result<std::result::Result<T, ClientError>>> + Send + 'static,
    C: FnOnce(&'env Env, T) -> Result<V> + 'static,
{
    env.spawn_future_with_callback(fut, move |env, r| match r {
        Ok(v) => convert(env, v),
        Err(e) => Err(js_error(env, (&e).into())),
    })
}
