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

/// A Promise already rejected with `error` (a bad argument of an `async` method).
pub fn rejected<'env, V: ToNapiValue>(env: &'env Env, error: ClientError) -> Result<PromiseRaw<'env, V>> {
    spawn(env, async move { Ok(Err::<(), _>(error)) }, |_, ()| unreachable!("the future always fails"))
}

/// Reads a method's arguments with `values.rs`'s readers: a wrong one returns a rejected Promise
/// from the method (the official methods are `async`), a JavaScript failure is thrown.
macro_rules! read_args {
    ($env:expr, $body:expr) => {
        match (|| -> $crate::values::Args<_> { Ok($body) })() {
            Ok(v) => v,
            Err($crate::values::ArgError::Invalid(e)) => return $crate::promise::rejected($env, e),
            Err($crate::values::ArgError::Js(e)) => return Err(e),
        }
    };
}
pub(crate) use read_args;
