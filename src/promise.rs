//! Runs a core future on napi's tokio runtime and settles a Promise on the JS thread, where
//! core errors become instances of the JS error classes.
//!
//! A pending Promise keeps Node's event loop alive (as pending I/O does). The exception is
//! [`spawn_creation`] under jest, used by `create()` and `snapshot.create()`: there every test
//! and hook runs under a timer of jest's, and a create a timed-out test abandoned would
//! otherwise keep the finished run from exiting ("Jest did not exit one second after the test
//! run has completed") until its build ends. With `local.removeOnExit` (on by default under a
//! test runner) the process ending removes what the create made. Only creates: jest's
//! globalTeardown runs in the same process in band, outside any timer, and typically awaits
//! deletes, which must keep the process alive. `DAYTONA_NATIVE_REF_PENDING` (any value) keeps
//! creates holding the loop under jest too, for code that awaits them outside a test or hook.

use std::ffi::c_void;
use std::future::Future;
use std::marker::PhantomData;

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

/// [`spawn`] for `create()` and `snapshot.create()`: unref'd under jest (see the module doc).
pub fn spawn_creation<'env, T, V, F, C>(env: &'env Env, fut: F, convert: C) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = Result<std::result::Result<T, ClientError>>> + Send + 'static,
    C: FnOnce(&'env Env, T) -> Result<V> + 'static,
{
    if std::env::var_os("JEST_WORKER_ID").is_some() && std::env::var_os("DAYTONA_NATIVE_REF_PENDING").is_none() {
        return spawn_unref(env, fut, convert);
    }
    spawn(env, fut, convert)
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

/// What the JS-thread callback needs: the deferred to settle and the conversion.
struct Slot<T, C> {
    deferred: sys::napi_deferred,
    convert: C,
    _t: PhantomData<T>,
}

/// The threadsafe function, moved to the runtime thread that settles it (napi allows calling
/// and releasing it from any thread).
struct Tsfn(sys::napi_threadsafe_function);
unsafe impl Send for Tsfn {}

/// As `spawn`, with the Promise settled through an unref'd threadsafe function: pending, it
/// does not keep the event loop alive.
fn spawn_unref<'env, T, V, F, C>(env: &'env Env, fut: F, convert: C) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = Result<std::result::Result<T, ClientError>>> + Send + 'static,
    C: FnOnce(&'env Env, T) -> Result<V> + 'static,
{
    let raw_env = env.raw();
    let mut deferred = std::ptr::null_mut();
    let mut promise = std::ptr::null_mut();
    check_status!(unsafe { sys::napi_create_promise(raw_env, &mut deferred, &mut promise) }, "create promise")?;
    let mut name = std::ptr::null_mut();
    check_status!(unsafe { sys::napi_create_string_utf8(raw_env, c"daytona_native_settle".as_ptr(), 21, &mut name) }, "create name")?;
    let slot = Box::into_raw(Box::new(Slot::<T, C> { deferred, convert, _t: PhantomData }));
    let mut tsfn = std::ptr::null_mut();
    let created = unsafe {
        sys::napi_create_threadsafe_function(
            raw_env,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            name,
            0,
            1,
            std::ptr::null_mut(),
            None,
            slot.cast(),
            Some(settle::<'env, T, V, C>),
            &mut tsfn,
        )
    };
    if let Err(e) = check_status!(created, "create threadsafe function") {
        drop(unsafe { Box::from_raw(slot) });
        return Err(e);
    }
    check_status!(unsafe { sys::napi_unref_threadsafe_function(raw_env, tsfn) }, "unref threadsafe function")?;
    let tsfn = Tsfn(tsfn);
    napi::bindgen_prelude::spawn(async move {
        let outcome = Box::into_raw(Box::new(fut.await));
        let tsfn = tsfn;
        unsafe {
            let status = sys::napi_call_threadsafe_function(tsfn.0, outcome.cast(), sys::ThreadsafeFunctionCallMode::nonblocking);
            if status != sys::Status::napi_ok {
                // The environment is closing: nobody is left to settle for.
                drop(Box::from_raw(outcome));
            }
            sys::napi_release_threadsafe_function(tsfn.0, sys::ThreadsafeFunctionReleaseMode::release);
        }
    });
    Ok(PromiseRaw::new(raw_env, promise))
}

/// Runs once on the JS thread with the future's outcome; settles the Promise.
unsafe extern "C" fn settle<'env, T, V, C>(raw_env: sys::napi_env, _callback: sys::napi_value, context: *mut c_void, data: *mut c_void)
where
    T: Send + 'static,
    V: ToNapiValue,
    C: FnOnce(&'env Env, T) -> Result<V> + 'static,
{
    let outcome = unsafe { Box::from_raw(data.cast::<Result<std::result::Result<T, ClientError>>>()) };
    let slot = unsafe { Box::from_raw(context.cast::<Slot<T, C>>()) };
    if raw_env.is_null() {
        return;
    }
    let env = Env::from_raw(raw_env);
    // The conversion uses the environment only during this call, as on napi's own path.
    let env_ref: &'env Env = unsafe { &*(&env as *const Env) };
    let value = match *outcome {
        Ok(Ok(v)) => (slot.convert)(env_ref, v).and_then(|v| unsafe { V::to_napi_value(raw_env, v) }),
        Ok(Err(e)) => Err(js_error(env_ref, (&e).into())),
        Err(e) => Err(e),
    };
    unsafe {
        match value {
            Ok(v) => sys::napi_resolve_deferred(raw_env, slot.deferred, v),
            Err(e) => sys::napi_reject_deferred(raw_env, slot.deferred, JsError::from(e).into_value(raw_env)),
        };
    }
}
