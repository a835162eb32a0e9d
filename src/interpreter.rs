//! The `CodeInterpreter` class (`sandbox.codeInterpreter`): stateful Python contexts. `runCode`'s
//! callbacks are called by index.js, which pulls the messages from `_runCode`'s stream.

use daytona_client::Daytona;
use daytona_client::toolbox::{InterpreterEvent, RunCodeOptions};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::sync::mpsc;

use crate::process::on_toolbox;
use crate::promise::{read_args, spawn};
use crate::stream::{CHANNEL, Events, Finished, Source, ToolboxStream};
use crate::values::{
    ArgError, Args, optional_number, optional_object, optional_string, optional_string_record, property,
};

#[napi]
pub struct CodeInterpreter {
    client: Daytona,
    id: String,
}

impl CodeInterpreter {
    pub fn new(client: Daytona, id: String) -> Self {
        CodeInterpreter { client, id }
    }
}

/// `code`: the official check (`!code || !code.trim()`), and a string.
fn code_arg(code: Option<Unknown>) -> Args<String> {
    let invalid = |m: String| Err(ArgError::Invalid(daytona_client::ClientError::invalid(m)));
    match code {
        Some(c) if c.get_type()? == ValueType::String => {
            let s = unsafe { c.cast::<String>()? };
            if s.trim().is_empty() { invalid("Code is required for execution".into()) } else { Ok(s) }
        }
        Some(c) if c.get_type()? != ValueType::Undefined && c.get_type()? != ValueType::Null && c.coerce_to_bool()? => {
            invalid("code must be a string of Python code".into())
        }
        _ => invalid("Code is required for execution".into()),
    }
}

#[napi]
impl CodeInterpreter {
    /// Starts `runCode(code, options)`; `deliver` says whether a callback wants the messages
    /// (without one they are drained here).
    #[napi(js_name = "_runCode", ts_return_type = "Promise<_ToolboxStream>")]
    pub fn run_code<'env>(
        &self,
        env: &'env Env,
        code: Option<Unknown>,
        options: Option<Unknown>,
        deliver: bool,
    ) -> Result<PromiseRaw<'env, ToolboxStream>> {
        let (code, opts) = read_args!(env, {
            let code = code_arg(code)?;
            let mut opts = RunCodeOptions::default();
            if let Some(o) = optional_object(options, "options")? {
                if let Some(ctx) = optional_object(property(&o, "context")?, "options.context")? {
                    opts.context_id = optional_string(property(&ctx, "id")?, "options.context.id")?;
                }
                opts.envs = optional_string_record(property(&o, "envs")?, "options.envs")?;
                opts.timeout = optional_number(property(&o, "timeout")?, "options.timeout")?;
            }
            (code, opts)
        });
        let (tx, mut rx) = mpsc::channel::<InterpreterEvent>(CHANNEL);
        let run = on_toolbox(self.client.clone(), self.id.clone(), move |tb| async move { tb.run_code(&code, opts, tx).await });
        let stream = if deliver {
            ToolboxStream::start(Some(Box::new(Events(rx)) as Box<dyn Source>), async move {
                run.await.map(Finished::Execution)
            })
        } else {
            ToolboxStream::start(None, async move {
                let drain = async move { while rx.recv().await.is_some() {} };
                let (r, ()) = tokio::join!(run, drain);
                r.map(Finished::Execution)
            })
        };
        PromiseRaw::resolve(env, stream)
    }

    /// `createContext(cwd?)`.
    #[napi(ts_return_type = "Promise<InterpreterContext>")]
    pub fn create_context<'env>(&self, env: &'env Env, cwd: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let cwd = read_args!(env, optional_string(cwd, "cwd")?);
        let op = on_toolbox(self.client.clone(), self.id.clone(), move |tb| async move {
            tb.create_interpreter_context(cwd.as_deref(), None).await
        });
        spawn(env, async move { Ok(op.await) }, |env, v| env.to_js_value(&v))
    }

    /// `listContexts()`.
    #[napi(ts_return_type = "Promise<InterpreterContext[]>")]
    pub fn list_contexts<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let op = on_toolbox(self.client.clone(), self.id.clone(), |tb| async move { tb.list_interpreter_contexts().await });
        spawn(env, async move { Ok(op.await) }, |env, v| env.to_js_value(&v))
    }

    /// `deleteContext(context)`: an `InterpreterContext` (its `id`), or the id itself.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_context<'env>(&self, env: &'env Env, context: Option<Unknown>) -> Result<PromiseRaw<'env, ()>> {
        let id = read_args!(env, {
            let is_string = match &context {
                Some(c) => c.get_type()? == ValueType::String,
                None => false,
            };
            if is_string {
                crate::values::required_string(context, "id", "deleteInterpreterContext")?
            } else {
                let Some(ctx) = optional_object(context, "context")? else {
                    return Err(ArgError::Invalid(daytona_client::ClientError::invalid(
                        "deleteContext needs the context to delete: an InterpreterContext or its id",
                    )));
                };
                crate::values::required_string(property(&ctx, "id")?, "id", "deleteInterpreterContext")?
            }
        });
        let op = on_toolbox(self.client.clone(), self.id.clone(), move |tb| async move { tb.delete_interpreter_context(&id).await });
        spawn(env, async move { Ok(op.await) }, |_, ()| Ok(()))
    }
}
