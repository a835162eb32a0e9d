//! The way to a local sandbox's toolbox: the agent inside the sandbox (`crates/agent`) serves
//! the toolbox API on an abstract unix socket, and every connection from here is a
//! `docker exec -i <container> daytona-native-agent relay` whose stdin and stdout carry
//! HTTP/1.1 (and WebSocket upgrades). The engine's hijacked exec stream is the only path, so
//! this works with network mode `none` and with a remote `DOCKER_HOST`, and nothing listens on
//! the host.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bytes::Bytes;
use futures_util::Stream;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody as HttpStreamBody};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::build::engine_error;
use crate::backend::api::errors;
use crate::backend::{Deadline, OperationContext};
use crate::error::{ClientError, Result};
use crate::toolbox::{StreamBody, StreamResponse, ToolboxCall, ToolboxIo, ToolboxSocket, ToolboxTransport};

/// A request body to the agent: a JSON text or a stream.
type AgentBody = UnsyncBoxBody<Bytes, std::io::Error>;

fn full_body(bytes: Bytes) -> AgentBody {
    Full::new(bytes).map_err(|never| match never {}).boxed_unsync()
}

/// Where the agent lives inside a sandbox.
pub const AGENT_DIR: &str = ".daytona-native";
pub const AGENT_PATH: &str = "/.daytona-native/daytona-native-agent";
/// The agent's file name in this package's `agent/<arch>/` directories.
const AGENT_FILE: &str = "daytona-native-agent";
/// Idle connections kept per sandbox (each is one `relay` process in the sandbox).
const MAX_IDLE: usize = 4;
/// What a relay says on stderr is kept up to this many bytes, for error messages.
const MAX_STDERR: usize = 4096;

static AGENT_HOME: OnceLock<PathBuf> = OnceLock::new();

/// Where this package keeps its agent binaries (`<dir>/<arch>/daytona-native-agent`); set once
/// by the Node package at load. `DAYTONA_NATIVE_AGENT_DIR` takes precedence.
pub fn set_agent_directory(dir: impl Into<PathBuf>) {
    let _ = AGENT_HOME.set(dir.into());
}

fn agent_home() -> Option<PathBuf> {
    std::env::var_os("DAYTONA_NATIVE_AGENT_DIR").filter(|d| !d.is_empty()).map(PathBuf::from).or_else(|| AGENT_HOME.get().cloned())
}

/// The engine's architecture as the agent directories name it.
fn arch_dir(engine_arch: &str) -> &str {
    match engine_arch {
        "x86_64" | "amd64" => "x86_64",
        "aarch64" | "arm64" => "aarch64",
        other => other,
    }
}

/// The agent binary for an engine of `engine_arch`, read once per process; `Err` says why
/// there is none (the sandbox is then created without a toolbox).
pub fn agent_binary(engine_arch: &str) -> std::result::Result<Arc<Vec<u8>>, String> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Vec<u8>>>>> = OnceLock::new();
    let home = agent_home().ok_or_else(|| "the package's agent directory is not known".to_string())?;
    let path = home.join(arch_dir(engine_arch)).join(AGENT_FILE);
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(bytes) = cache.get(&path) {
        return Ok(bytes.clone());
    }
    let bytes = Arc::new(std::fs::read(&path).map_err(|e| format!("no toolbox agent for {engine_arch} engines at {}: {e}", path.display()))?);
    cache.insert(path, bytes.clone());
    Ok(bytes)
}

/// A tar archive (for the engine's archive endpoint at `/`) holding the agent at [`AGENT_PATH`].
pub fn agent_archive(binary: &[u8]) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::with_capacity(binary.len() + 2048));
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    dir.set_mtime(0);
    let mut file = tar::Header::new_gnu();
    file.set_entry_type(tar::EntryType::Regular);
    file.set_mode(0o755);
    file.set_size(binary.len() as u64);
    file.set_mtime(0);
    let io = |e: std::io::Error| ClientError::generic(format!("Packing the toolbox agent: {e}"));
    tar.append_data(&mut dir, format!("{AGENT_DIR}/"), std::io::empty()).map_err(io)?;
    tar.append_data(&mut file, Path::new(AGENT_PATH).strip_prefix("/").unwrap_or(Path::new(AGENT_PATH)), binary).map_err(io)?;
    tar.into_inner().map_err(io)
}

type ExecOutput = Pin<Box<dyn Stream<Item = std::result::Result<LogOutput, bollard::errors::Error>> + Send>>;

/// One `relay` exec as a byte stream: reads are its stdout, writes go to its stdin; what it
/// writes to stderr is kept (bounded) for error messages.
pub struct ExecIo {
    output: ExecOutput,
    input: Pin<Box<dyn AsyncWrite + Send>>,
    pending: Bytes,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for ExecIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        loop {
            if !self.pending.is_empty() {
                let n = self.pending.len().min(buf.remaining());
                let chunk = self.pending.split_to(n);
                buf.put_slice(&chunk);
                return Poll::Ready(Ok(()));
            }
            match self.output.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(std::io::Error::other(e))),
                Poll::Ready(Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message }))) => self.pending = message,
                Poll::Ready(Some(Ok(LogOutput::StdErr { message }))) => {
                    let mut kept = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
                    let room = MAX_STDERR.saturating_sub(kept.len());
                    kept.extend_from_slice(&message[..message.len().min(room)]);
                }
                Poll::Ready(Some(Ok(LogOutput::StdIn { .. }))) => {}
            }
        }
    }
}

impl AsyncWrite for ExecIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.input.as_mut().poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.input.as_mut().poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.input.as_mut().poll_shutdown(cx)
    }
}

/// The toolbox of one local sandbox, through its agent.
pub struct AgentTransport {
    docker: bollard::Docker,
    container: String,
    sandbox: String,
    /// The deadline of a call that has none of its own: `requestTimeoutMs`, else 24 h (the
    /// official SDK's axios default); `None` only when `requestTimeoutMs` is 0.
    default_timeout: Option<Duration>,
    idle: Mutex<Vec<SendRequest<AgentBody>>>,
}

impl AgentTransport {
    pub fn new(docker: bollard::Docker, container: String, sandbox: String, default_timeout: Option<Duration>) -> AgentTransport {
        AgentTransport { docker, container, sandbox, default_timeout, idle: Mutex::new(Vec::new()) }
    }

    /// Starts a `relay` in the sandbox and returns its stream and its (bounded) stderr.
    async fn open(&self) -> Result<(ExecIo, Arc<Mutex<Vec<u8>>>)> {
        let exec = self
            .docker
            .create_exec(
                &self.container,
                CreateExecOptions::<String> {
                    cmd: Some(vec![AGENT_PATH.to_string(), "relay".to_string()]),
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    tty: Some(false),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| self.engine_failure(e))?;
        match self.docker.start_exec(&exec.id, None).await.map_err(|e| self.engine_failure(e))? {
            StartExecResults::Attached { output, input } => {
                let stderr = Arc::new(Mutex::new(Vec::new()));
                Ok((ExecIo { output, input, pending: Bytes::new(), stderr: stderr.clone() }, stderr))
            }
            StartExecResults::Detached => Err(ClientError::generic("The engine did not attach to the toolbox relay")),
        }
    }

    fn engine_failure(&self, e: bollard::errors::Error) -> ClientError {
        match e {
            bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => {
                ClientError::not_found(format!("Sandbox with ID or name {} not found", self.sandbox))
            }
            bollard::errors::Error::DockerResponseServerError { status_code: 409, ref message } => {
                ClientError::generic(format!("Sandbox {} is not running: {message}", self.sandbox))
            }
            other => engine_error("Reaching the sandbox's toolbox", other),
        }
    }

    /// Why a relay ended without an answer, in the words of the relay if it said anything.
    fn relay_failure(&self, what: &str, stderr: &Mutex<Vec<u8>>) -> ClientError {
        let said = String::from_utf8_lossy(&stderr.lock().unwrap_or_else(|e| e.into_inner())).trim().to_string();
        let detail = if said.is_empty() { String::new() } else { format!(": {said}") };
        errors::connection_error(format!("The toolbox of sandbox {} {what}{detail}", self.sandbox))
    }

    /// An idle connection that is still open, or a new one.
    async fn connection(&self) -> Result<(SendRequest<AgentBody>, Option<Arc<Mutex<Vec<u8>>>>)> {
        loop {
            let Some(mut sender) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() else { break };
            if !sender.is_closed() && sender.ready().await.is_ok() {
                return Ok((sender, None));
            }
        }
        let (io, stderr) = self.open().await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| self.relay_failure(&format!("did not answer ({e})"), &stderr))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok((sender, Some(stderr)))
    }

    fn time_limit(&self, ctx: &OperationContext, deadline: Deadline) -> (Option<Duration>, Option<f64>) {
        let own = match deadline {
            Deadline::Default => self.default_timeout,
            Deadline::Ms(ms) if ms > 0.0 && ms.is_finite() => Some(Duration::from_secs_f64(ms / 1000.0)),
            Deadline::Ms(_) => None,
        };
        let limit = match (own, ctx.remaining()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        (limit, own.map(|d| d.as_secs_f64() * 1000.0))
    }

    /// Sends `call` (with `body` streamed instead of its JSON when given) and returns the
    /// response head, the connection it came on and the relay's stderr for errors.
    async fn send(
        &self,
        call: &ToolboxCall,
        body: Option<StreamBody>,
    ) -> Result<(hyper::Response<hyper::body::Incoming>, SendRequest<AgentBody>, Arc<Mutex<Vec<u8>>>)> {
        let (mut sender, stderr) = self.connection().await?;
        let stderr = stderr.unwrap_or_default();
        let mut request = hyper::Request::builder()
            .method(call.method.clone())
            .uri(format!("/{}", call.path.trim_start_matches('/')))
            .header(hyper::header::HOST, "daytona-native-agent")
            .header(hyper::header::ACCEPT, "application/json");
        let body = match body {
            Some(StreamBody { content_type, make }) => {
                use futures_util::TryStreamExt;
                request = request.header(hyper::header::CONTENT_TYPE, content_type);
                HttpStreamBody::new(make()?.map_ok(hyper::body::Frame::data)).boxed_unsync()
            }
            None => {
                if call.json.is_some() {
                    request = request.header(hyper::header::CONTENT_TYPE, "application/json");
                }
                full_body(call.json.clone().map(Bytes::from).unwrap_or_default())
            }
        };
        let request = request.body(body).map_err(|e| ClientError::generic(format!("Invalid toolbox request: {e}")))?;
        let response = sender.send_request(request).await.map_err(|e| {
            // A failing request body (an unreadable local file) says why itself.
            if let Some(inner) = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>()).and_then(|io| io.get_ref())
                && let Some(client) = inner.downcast_ref::<ClientError>()
            {
                return client.clone();
            }
            self.relay_failure(&format!("closed the connection ({e})"), &stderr)
        })?;
        Ok((response, sender, stderr))
    }

    async fn exchange(&self, call: &ToolboxCall) -> Result<(hyper::StatusCode, Bytes)> {
        let (response, sender, stderr) = self.send(call, None).await?;
        let status = response.status();
        let body = Limited::new(response.into_body(), call.max_body)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                    ClientError::generic(format!(
                        "The toolbox answer to {} /{} is larger than {} bytes",
                        call.method, call.path, call.max_body
                    ))
                } else {
                    self.relay_failure(&format!("broke off its answer ({e})"), &stderr)
                }
            })?
            .to_bytes();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(sender);
        }
        Ok((status, body))
    }

    /// The deadline of `call` around `f`.
    async fn bounded<T>(&self, ctx: &OperationContext, deadline: Deadline, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let (limit, limit_ms) = self.time_limit(ctx, deadline);
        match limit {
            Some(limit) => tokio::time::timeout(limit, f).await.map_err(|_| errors::timeout_error(limit_ms))?,
            None => f.await,
        }
    }
}

#[async_trait]
impl ToolboxTransport for AgentTransport {
    async fn call(&self, ctx: &OperationContext, call: ToolboxCall) -> Result<Bytes> {
        let (status, body) = self.bounded(ctx, call.deadline, self.exchange(&call)).await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(errors::from_response(status.as_u16(), Vec::new(), &body))
        }
    }

    async fn call_streaming(&self, ctx: &OperationContext, call: ToolboxCall, body: Option<StreamBody>) -> Result<StreamResponse> {
        use futures_util::TryStreamExt;
        let (response, _sender, stderr) = self.bounded(ctx, call.deadline, self.send(&call, body)).await?;
        let status = response.status();
        if !status.is_success() {
            let body = Limited::new(response.into_body(), crate::backend::api::http::MAX_ERROR_BODY).collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            return Err(errors::from_response(status.as_u16(), Vec::new(), &body));
        }
        let content_type = response.headers().get(hyper::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        // The connection is not reused: it ends with the body (`_sender` is dropped here, the
        // connection task finishes once the body was read).
        let sandbox = self.sandbox.clone();
        let body = response.into_body().into_data_stream().map_err(move |e| {
            let said = String::from_utf8_lossy(&stderr.lock().unwrap_or_else(|e| e.into_inner())).trim().to_string();
            let detail = if said.is_empty() { String::new() } else { format!(": {said}") };
            std::io::Error::other(errors::connection_error(format!("The toolbox of sandbox {sandbox} broke off its answer ({e}){detail}")))
        });
        Ok(StreamResponse { content_type, body: Box::pin(body) })
    }

    async fn raw_connection(&self, _ctx: &OperationContext) -> Result<Option<Box<dyn ToolboxIo>>> {
        let (io, _stderr) = self.open().await?;
        Ok(Some(Box::new(io)))
    }

    async fn websocket(&self, ctx: &OperationContext, path: &str, subprotocols: &[String]) -> Result<ToolboxSocket> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://daytona-native-agent/{}", path.trim_start_matches('/'))
            .into_client_request()
            .map_err(|e| ClientError::generic(format!("Invalid toolbox WebSocket path {path}: {e}")))?;
        if !subprotocols.is_empty() {
            let value = subprotocols.join(", ");
            request.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                value.parse().map_err(|_| ClientError::invalid(format!("Invalid WebSocket subprotocol list {value}")))?,
            );
        }
        let connect = async {
            let (io, stderr) = self.open().await?;
            let io: Box<dyn ToolboxIo> = Box::new(io);
            match tokio_tungstenite::client_async(request, io).await {
                Ok((socket, _)) => Ok(socket),
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    let body = response.body().clone().unwrap_or_default();
                    Err(errors::from_response(response.status().as_u16(), Vec::new(), &body))
                }
                Err(e) => Err(self.relay_failure(&format!("refused the WebSocket ({e})"), &stderr)),
            }
        };
        let (limit, limit_ms) = self.time_limit(ctx, Deadline::Default);
        match limit {
            Some(limit) => tokio::time::timeout(limit, connect).await.map_err(|_| errors::timeout_error(limit_ms))?,
            None => connect.await,
        }
    }

    /// The agent has the kill route: a timed-out session command leaves nothing running.
    fn kills_abandoned_commands(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_holds_the_agent_executable_at_its_path() {
        let archive = agent_archive(b"\x7fELF-not-really").unwrap();
        let mut tar = tar::Archive::new(&archive[..]);
        let entries: Vec<(String, u32, u64)> = tar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().to_string_lossy().into_owned(), e.header().mode().unwrap(), e.header().size().unwrap())
            })
            .collect();
        assert_eq!(entries, vec![(".daytona-native/".to_string(), 0o755, 0), (".daytona-native/daytona-native-agent".to_string(), 0o755, 15)]);
    }

    /// The transport against a real sandbox: a busybox container whose keep-alive is the
    /// agent (placed as `create` places it), reached through `docker exec ... relay`. Needs the
    /// test engine (`scripts/test-services.sh engine images`, which `npm test` starts first)
    /// and the built agent (`node scripts/build-agent.js`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_and_websockets_reach_the_agent_through_exec_relays() {
        use bollard::models::{ContainerCreateBody, HostConfig};
        use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder, StartContainerOptions};
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;

        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../agent");
        set_agent_directory(&root);
        let binary = agent_binary("x86_64").expect("the agent is built: node scripts/build-agent.js");
        let docker = bollard::Docker::connect_with_defaults().unwrap();
        let name = format!("dn-agent-transport-{}", uuid::Uuid::new_v4());
        let body = ContainerCreateBody {
            image: Some("daytona-test/busybox:1".into()),
            entrypoint: Some(vec![AGENT_PATH.into(), "serve".into(), "--".into()]),
            labels: Some([("daytona-native-test".to_string(), "agent-transport".to_string())].into()),
            host_config: Some(HostConfig { init: Some(true), network_mode: Some("none".into()), ..Default::default() }),
            ..Default::default()
        };
        let created = docker.create_container(Some(CreateContainerOptionsBuilder::new().name(&name).build()), body).await.unwrap();
        let cleanup = scopeguard(docker.clone(), created.id.clone());
        let opts = bollard::query_parameters::UploadToContainerOptionsBuilder::new().path("/").build();
        docker.upload_to_container(&created.id, Some(opts), bollard::body_full(agent_archive(&binary).unwrap().into())).await.unwrap();
        docker.start_container(&created.id, None::<StartContainerOptions>).await.unwrap();

        let transport = AgentTransport::new(docker.clone(), created.id.clone(), name.clone(), None);
        let ctx = OperationContext::new();
        let call = |method: http::Method, path: &str, json: Option<&str>| {
            let mut c = ToolboxCall::new(method, path);
            c.json = json.map(str::to_string);
            c
        };
        transport.call(&ctx, call(http::Method::POST, "process/session", Some(r#"{"sessionId":"s1"}"#))).await.unwrap();
        // Sequential calls reuse the idle connection; concurrent ones open more relays.
        for _ in 0..3 {
            let listed: serde_json::Value = serde_json::from_slice(&transport.call(&ctx, call(http::Method::GET, "process/session", None)).await.unwrap()).unwrap();
            assert!(listed.to_string().contains("\"s1\""), "{listed}");
        }
        let many = futures_util::future::join_all((0..6).map(|_| transport.call(&ctx, call(http::Method::GET, "process/session/s1", None)))).await;
        assert!(many.iter().all(|r| r.is_ok()), "{:?}", many.iter().filter_map(|r| r.as_ref().err()).collect::<Vec<_>>());
        assert!(transport.idle.lock().unwrap().len() <= MAX_IDLE);

        let exec: serde_json::Value = serde_json::from_slice(
            &transport.call(&ctx, call(http::Method::POST, "process/session/s1/exec", Some(r#"{"command":"echo hi; echo oops >&2; exit 3"}"#))).await.unwrap(),
        )
        .unwrap();
        assert_eq!((exec["exitCode"].as_i64(), exec["stdout"].as_str()), (Some(3), Some("hi\n")), "{exec}");

        // A toolbox error keeps its status and becomes the matching error kind.
        let missing = transport.call(&ctx, call(http::Method::GET, "process/session/nope", None)).await.unwrap_err();
        assert_eq!((missing.kind, missing.status_code), (crate::error::ErrorKind::NotFound, Some(404)), "{missing:?}");

        // A WebSocket over a fresh relay: follow the logs of a command that already ended.
        let cmd = exec["cmdId"].as_str().unwrap().to_string();
        let mut socket = transport.websocket(&ctx, &format!("process/session/s1/command/{cmd}/logs?follow=true"), &[]).await.unwrap();
        let mut bytes = Vec::new();
        while let Some(msg) = socket.next().await {
            match msg.unwrap() {
                Message::Binary(b) => bytes.extend_from_slice(&b),
                Message::Text(t) => bytes.extend_from_slice(t.as_bytes()),
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = socket.close(None).await;
        // The two streams are separate pipes: their relative order is not defined.
        let (out, err) = (&b"\x01\x01\x01hi\n"[..], &b"\x02\x02\x02oops\n"[..]);
        assert!(bytes == [out, err].concat() || bytes == [err, out].concat(), "{:?}", String::from_utf8_lossy(&bytes));

        // Once the sandbox is gone, calls fail as "not found", not with a hang.
        drop(cleanup);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut gone = None;
        for _ in 0..50 {
            match transport.call(&ctx, call(http::Method::GET, "process/session", None)).await {
                Err(e) => {
                    gone = Some(e);
                    break;
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let gone = gone.expect("calls keep working after the container was removed");
        assert_eq!(gone.kind, crate::error::ErrorKind::NotFound, "{gone:?}");

        fn scopeguard(docker: bollard::Docker, id: String) -> impl Drop {
            struct Remove(bollard::Docker, String);
            impl Drop for Remove {
                fn drop(&mut self) {
                    let (docker, id) = (self.0.clone(), self.1.clone());
                    let _ = std::thread::spawn(move || {
                        tokio::runtime::Runtime::new().unwrap().block_on(async move {
                            let _ = docker.remove_container(&id, Some(RemoveContainerOptionsBuilder::new().force(true).build())).await;
                        })
                    })
                    .join();
                }
            }
            Remove(docker, id)
        }
    }

    #[test]
    fn engine_architectures_map_to_agent_directories() {
        assert_eq!(arch_dir("x86_64"), "x86_64");
        assert_eq!(arch_dir("amd64"), "x86_64");
        assert_eq!(arch_dir("arm64"), "aarch64");
    }
}
