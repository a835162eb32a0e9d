//! The `Process` class: commands, code, sessions and PTYs of one sandbox. Every method reads its
//! arguments (a wrong one rejects the Promise with `DaytonaInvalidArgumentError`, as the official
//! methods are `async`) and forwards to the core's `Toolbox`. index.js adds the methods that call
//! back into JavaScript (`getSessionCommandLogs`/`getEntrypointLogs` with callbacks, `createPty`,
//! `connectPty`) on top of the underscored ones here.

use std::future::Future;

use daytona_client::Daytona;
use daytona_client::toolbox::{OutputSender, PtyCreateOptions, SessionLogs, Toolbox};
use daytona_client::types::ExecRequest;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::sync::mpsc;

use crate::mirrors::{ExecuteArtifacts, ExecuteResponse};
use crate::promise::{read_args, rejected, spawn};
use crate::pty::PtyConnectionHandle;
use crate::stream::{CHANNEL, Finished, Logs, ToolboxStream};
use crate::values::{
    optional_bool, optional_dimension, optional_number, optional_object, optional_string, optional_string_array,
    optional_string_record, property, required_id, required_number, required_string, string_record,
};

/// The sandbox label that names the language of `codeRun` (set by `create({ language })`).
pub const CODE_TOOLBOX_LANGUAGE_LABEL: &str = "code-toolbox-language";

#[napi]
pub struct Process {
    client: Daytona,
    id: String,
    language: Option<String>,
}

/// `getSessionCommandLogs`/`getEntrypointLogs` without callbacks.
#[napi(object, object_from_js = false)]
pub struct SessionCommandLogs {
    pub output: String,
    pub stdout: String,
    pub stderr: String,
}

impl From<SessionLogs> for SessionCommandLogs {
    fn from(l: SessionLogs) -> Self {
        SessionCommandLogs { output: l.output, stdout: l.stdout, stderr: l.stderr }
    }
}

/// Runs `op` on the sandbox's toolbox.
pub async fn on_toolbox<T, F, Fut>(client: Daytona, id: String, op: F) -> daytona_client::Result<T>
where
    T: Send + 'static,
    F: FnOnce(Toolbox) -> Fut + Send + 'static,
    Fut: Future<Output = daytona_client::Result<T>> + Send + 'static,
{
    op(client.toolbox(&id).await?).await
}

/// A JSON answer of the toolbox, handed to JavaScript as is.
fn json<'env>(env: &'env Env, value: serde_json::Value) -> Result<Unknown<'env>> {
    env.to_js_value(&value)
}

impl Process {
    pub fn new(client: Daytona, id: String, language: Option<String>) -> Self {
        Process { client, id, language }
    }

    fn run<'env, T, V, F, Fut, C>(&self, env: &'env Env, op: F, convert: C) -> Result<PromiseRaw<'env, V>>
    where
        T: Send + 'static,
        V: ToNapiValue,
        F: FnOnce(Toolbox) -> Fut + Send + 'static,
        Fut: Future<Output = daytona_client::Result<T>> + Send + 'static,
        C: FnOnce(&'env Env, T) -> Result<V> + 'static,
    {
        let op = on_toolbox(self.client.clone(), self.id.clone(), op);
        spawn(env, async move { Ok(op.await) }, convert)
    }

    /// A stream of followed logs: `follow` runs with the sender until the output ends.
    fn follow<F, Fut>(&self, follow: F) -> ToolboxStream
    where
        F: FnOnce(Toolbox, OutputSender) -> Fut + Send + 'static,
        Fut: Future<Output = daytona_client::Result<()>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let op = on_toolbox(self.client.clone(), self.id.clone(), move |tb| follow(tb, tx));
        ToolboxStream::start(Some(Box::new(Logs(rx))), async move { op.await.map(|()| Finished::Nothing) })
    }
}

#[napi]
impl Process {
    /// This process API with its operations bound to `cancellation` (index.js: AbortSignal).
    #[napi(js_name = "_abortable")]
    pub fn abortable(&self, cancellation: &crate::abort::Cancellation) -> Process {
        Process { client: self.client.with_cancellation(cancellation.token()), id: self.id.clone(), language: self.language.clone() }
    }

    /// `executeCommand(command, cwd?, env?, timeout?)`.
    #[napi(ts_return_type = "Promise<ExecuteResponse>")]
    pub fn execute_command<'env>(
        &self,
        env: &'env Env,
        command: String,
        cwd: Option<String>,
        env_vars: Option<Object>,
        timeout: Option<f64>,
    ) -> Result<PromiseRaw<'env, ExecuteResponse>> {
        let env_pairs = match env_vars {
            Some(o) => string_record(&o)?.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect(),
            None => Vec::new(),
        };
        let (client, id) = (self.client.clone(), self.id.clone());
        let request = ExecRequest { command, cwd, env: env_pairs, timeout };
        spawn(env, async move { Ok(client.execute_command(&id, request).await) }, |_, r| {
            Ok(ExecuteResponse { exit_code: r.exit_code, artifacts: ExecuteArtifacts { stdout: r.result.clone() }, result: r.result })
        })
    }

    /// `codeRun(code, params?, timeout?)` in the sandbox's language.
    #[napi(ts_return_type = "Promise<ExecuteResponse>")]
    pub fn code_run<'env>(
        &self,
        env: &'env Env,
        code: Option<Unknown>,
        params: Option<Unknown>,
        timeout: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let Some(language) = self.language.clone().filter(|l| !l.is_empty()) else {
            // The official message; the sandbox has no `code-toolbox-language` label.
            return rejected(env, daytona_client::ClientError::generic("Code language is required for codeRun"));
        };
        let (code, argv, env_vars, timeout) = read_args!(env, {
            let code = required_string(code, "code", "codeRun")?;
            let params = optional_object(params, "params")?;
            let (argv, env_vars) = match &params {
                Some(p) => (
                    optional_string_array(property(p, "argv")?, "params.argv")?,
                    optional_string_record(property(p, "env")?, "params.env")?,
                ),
                None => (None, None),
            };
            (code, argv, env_vars, optional_number(timeout, "timeout")?)
        });
        self.run(
            env,
            move |tb| async move { tb.code_run(&language, &code, argv, env_vars, timeout).await },
            |env, r| {
                json(
                    env,
                    serde_json::json!({
                        "exitCode": r.exit_code,
                        "result": r.result,
                        "artifacts": { "stdout": r.result, "charts": r.charts },
                    }),
                )
            },
        )
    }

    /// `createSession(sessionId)`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn create_session<'env>(&self, env: &'env Env, session_id: Option<Unknown>) -> Result<PromiseRaw<'env, ()>> {
        let session_id = read_args!(env, required_id(session_id, "sessionId", "createSession")?);
        self.run(env, move |tb| async move { tb.create_session(&session_id).await }, |_, ()| Ok(()))
    }

    /// `getSession(sessionId)`: `{ sessionId, commands }`.
    #[napi(ts_return_type = "Promise<Session>")]
    pub fn get_session<'env>(&self, env: &'env Env, session_id: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let session_id = read_args!(env, required_id(session_id, "sessionId", "getSession")?);
        self.run(env, move |tb| async move { tb.get_session(&session_id).await }, json)
    }

    /// `getEntrypointSession()`.
    #[napi(ts_return_type = "Promise<Session>")]
    pub fn get_entrypoint_session<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        self.run(env, |tb| async move { tb.get_entrypoint_session().await }, json)
    }

    /// `getSessionCommand(sessionId, commandId)`.
    #[napi(ts_return_type = "Promise<Command>")]
    pub fn get_session_command<'env>(
        &self,
        env: &'env Env,
        session_id: Option<Unknown>,
        command_id: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (session_id, command_id) = read_args!(
            env,
            (
                required_id(session_id, "sessionId", "getSessionCommand")?,
                required_id(command_id, "commandId", "getSessionCommand")?,
            )
        );
        self.run(env, move |tb| async move { tb.get_session_command(&session_id, &command_id).await }, json)
    }

    /// `executeSessionCommand(sessionId, { command, runAsync, suppressInputEcho }, timeout?)`.
    #[napi(ts_return_type = "Promise<SessionExecuteResponse>")]
    pub fn execute_session_command<'env>(
        &self,
        env: &'env Env,
        session_id: Option<Unknown>,
        req: Option<Unknown>,
        timeout: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (session_id, command, run_async, suppress, timeout) = read_args!(env, {
            let session_id = required_id(session_id, "sessionId", "sessionExecuteCommand")?;
            let Some(req) = optional_object(req, "req")? else {
                return Err(crate::values::ArgError::Invalid(daytona_client::ClientError::invalid(
                    "Required parameter request was null or undefined when calling sessionExecuteCommand.",
                )));
            };
            let command = required_string(property(&req, "command")?, "req.command", "sessionExecuteCommand")?;
            // `async` is the deprecated spelling the toolbox still accepts.
            let run_async = match optional_bool(property(&req, "runAsync")?, "req.runAsync")? {
                Some(b) => Some(b),
                None => optional_bool(property(&req, "async")?, "req.async")?,
            };
            let suppress = optional_bool(property(&req, "suppressInputEcho")?, "req.suppressInputEcho")?;
            (session_id, command, run_async, suppress, optional_number(timeout, "timeout")?)
        });
        self.run(
            env,
            move |tb| async move { tb.execute_session_command(&session_id, &command, run_async, suppress, timeout).await },
            json,
        )
    }

    /// `getSessionCommandLogs(sessionId, commandId)` without callbacks.
    #[napi(js_name = "_sessionCommandLogs", ts_return_type = "Promise<SessionCommandLogsResponse>")]
    pub fn session_command_logs<'env>(
        &self,
        env: &'env Env,
        session_id: Option<Unknown>,
        command_id: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, SessionCommandLogs>> {
        let (session_id, command_id) = read_args!(
            env,
            (
                required_id(session_id, "sessionId", "getSessionCommandLogs")?,
                required_id(command_id, "commandId", "getSessionCommandLogs")?,
            )
        );
        self.run(env, move |tb| async move { tb.get_session_command_logs(&session_id, &command_id).await }, |_, l| Ok(l.into()))
    }

    /// The output of a session command as it comes, until the command ends.
    #[napi(js_name = "_followSessionCommandLogs", ts_return_type = "Promise<_ToolboxStream>")]
    pub fn follow_session_command_logs<'env>(
        &self,
        env: &'env Env,
        session_id: Option<Unknown>,
        command_id: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, ToolboxStream>> {
        let (session_id, command_id) = read_args!(
            env,
            (
                required_id(session_id, "sessionId", "getSessionCommandLogs")?,
                required_id(command_id, "commandId", "getSessionCommandLogs")?,
            )
        );
        let stream = self.follow(move |tb, tx| async move { tb.follow_session_command_logs(&session_id, &command_id, tx).await });
        PromiseRaw::resolve(env, stream)
    }

    /// `getEntrypointLogs()` without callbacks.
    #[napi(js_name = "_entrypointLogs", ts_return_type = "Promise<SessionCommandLogsResponse>")]
    pub fn entrypoint_logs<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, SessionCommandLogs>> {
        self.run(env, |tb| async move { tb.get_entrypoint_logs().await }, |_, l| Ok(l.into()))
    }

    /// The entrypoint's output as it comes, until it ends.
    #[napi(js_name = "_followEntrypointLogs", ts_return_type = "Promise<_ToolboxStream>")]
    pub fn follow_entrypoint_logs<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ToolboxStream>> {
        let stream = self.follow(|tb, tx| async move { tb.follow_entrypoint_logs(tx).await });
        PromiseRaw::resolve(env, stream)
    }

    /// `sendSessionCommandInput(sessionId, commandId, data)`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn send_session_command_input<'env>(
        &self,
        env: &'env Env,
        session_id: Option<Unknown>,
        command_id: Option<Unknown>,
        data: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (session_id, command_id, data) = read_args!(
            env,
            (
                required_id(session_id, "sessionId", "sendInput")?,
                required_id(command_id, "commandId", "sendInput")?,
                required_string(data, "data", "sendInput")?,
            )
        );
        self.run(env, move |tb| async move { tb.send_session_command_input(&session_id, &command_id, &data).await }, |_, ()| Ok(()))
    }

    /// `listSessions()`.
    #[napi(ts_return_type = "Promise<Session[]>")]
    pub fn list_sessions<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        self.run(env, |tb| async move { tb.list_sessions().await }, json)
    }

    /// `deleteSession(sessionId)`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_session<'env>(&self, env: &'env Env, session_id: Option<Unknown>) -> Result<PromiseRaw<'env, ()>> {
        let session_id = read_args!(env, required_id(session_id, "sessionId", "deleteSession")?);
        self.run(env, move |tb| async move { tb.delete_session(&session_id).await }, |_, ()| Ok(()))
    }

    /// Creates a PTY session and connects to it (index.js wraps the connection in a PtyHandle).
    #[napi(js_name = "_createPty", ts_return_type = "Promise<_PtyConnection>")]
    pub fn create_pty<'env>(&self, env: &'env Env, options: Option<Unknown>) -> Result<PromiseRaw<'env, PtyConnectionHandle>> {
        let opts = read_args!(env, {
            let Some(o) = optional_object(options, "options")? else {
                return Err(crate::values::ArgError::Invalid(daytona_client::ClientError::invalid(
                    "createPty needs options with an id: createPty({ id, onData })",
                )));
            };
            PtyCreateOptions {
                id: required_id(property(&o, "id")?, "options.id", "createPty")?,
                cwd: optional_string(property(&o, "cwd")?, "options.cwd")?,
                envs: optional_string_record(property(&o, "envs")?, "options.envs")?,
                cols: optional_dimension(property(&o, "cols")?, "options.cols")?,
                rows: optional_dimension(property(&o, "rows")?, "options.rows")?,
            }
        });
        self.run(env, move |tb| async move { tb.create_pty(opts).await }, |_, c| Ok(PtyConnectionHandle::new(c)))
    }

    /// Connects to an existing PTY session.
    #[napi(js_name = "_connectPty", ts_return_type = "Promise<_PtyConnection>")]
    pub fn connect_pty<'env>(&self, env: &'env Env, session_id: Option<Unknown>) -> Result<PromiseRaw<'env, PtyConnectionHandle>> {
        let session_id = read_args!(env, required_id(session_id, "sessionId", "connectPtySession")?);
        self.run(env, move |tb| async move { tb.connect_pty(&session_id).await }, |_, c| Ok(PtyConnectionHandle::new(c)))
    }

    /// `listPtySessions()`.
    #[napi(ts_return_type = "Promise<PtySessionInfo[]>")]
    pub fn list_pty_sessions<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        self.run(env, |tb| async move { tb.list_pty_sessions().await }, json)
    }

    /// `getPtySessionInfo(sessionId)`.
    #[napi(ts_return_type = "Promise<PtySessionInfo>")]
    pub fn get_pty_session_info<'env>(&self, env: &'env Env, session_id: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let session_id = read_args!(env, required_id(session_id, "sessionId", "getPtySession")?);
        self.run(env, move |tb| async move { tb.get_pty_session_info(&session_id).await }, json)
    }

    /// `killPtySession(sessionId)`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn kill_pty_session<'env>(&self, env: &'env Env, session_id: Option<Unknown>) -> Result<PromiseRaw<'env, ()>> {
        let session_id = read_args!(env, required_id(session_id, "sessionId", "deletePtySession")?);
        self.run(env, move |tb| async move { tb.kill_pty_session(&session_id).await }, |_, ()| Ok(()))
    }

    /// `resizePtySession(sessionId, cols, rows)`.
    #[napi(ts_return_type = "Promise<PtySessionInfo>")]
    pub fn resize_pty_session<'env>(
        &self,
        env: &'env Env,
        session_id: Option<Unknown>,
        cols: Option<Unknown>,
        rows: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (session_id, cols, rows) = read_args!(
            env,
            (
                required_id(session_id, "sessionId", "resizePtySession")?,
                required_number(cols, "cols")?,
                required_number(rows, "rows")?,
            )
        );
        self.run(env, move |tb| async move { tb.resize_pty_session(&session_id, cols, rows).await }, json)
    }
}
