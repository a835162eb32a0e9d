//! BuildKit on the local engine: `POST /build?version=2` with the same tar body as the classic
//! builder (the Dockerfile and the planned contexts; no session is needed for a context sent in
//! the body, and the engine's built-in Dockerfile frontend needs no image pull), and its
//! progress — base64 protobuf `StatusResponse`s in `moby.buildkit.trace` messages — turned into
//! whole lines in BuildKit's plain progress format (`#5 [2/4] RUN …`, `#5 0.231 output`,
//! `#5 DONE 0.3s`, `#4 CACHED`, `#5 ERROR: …`).
//!
//! The Engine API is spoken here directly (HTTP/1.1 over the engine's unix socket or TCP):
//! bollard decodes the trace only with its `buildkit` feature (tonic, tower and all of
//! BuildKit's generated API).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use prost::Message as _;
use serde_json::Value;

use super::build::{BuildRequest, DOCKERFILE_NAME, classify, spawn_archive, tokio_stream};
use super::{LocalBackend, labels, session};
use crate::error::{ClientError, ErrorKind, Result};
use crate::events::BuildEvent;
use crate::logs::{LineAssembler, Logs};

/// The messages of BuildKit's `api/services/control/control.proto` that the build stream
/// carries, with their field numbers there (only the fields this package reads).
pub mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct StatusResponse {
        #[prost(message, repeated, tag = "1")]
        pub vertexes: Vec<Vertex>,
        #[prost(message, repeated, tag = "2")]
        pub statuses: Vec<VertexStatus>,
        #[prost(message, repeated, tag = "3")]
        pub logs: Vec<VertexLog>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Vertex {
        #[prost(string, tag = "1")]
        pub digest: String,
        #[prost(string, repeated, tag = "2")]
        pub inputs: Vec<String>,
        #[prost(string, tag = "3")]
        pub name: String,
        #[prost(bool, tag = "4")]
        pub cached: bool,
        #[prost(message, optional, tag = "5")]
        pub started: Option<Timestamp>,
        #[prost(message, optional, tag = "6")]
        pub completed: Option<Timestamp>,
        #[prost(string, tag = "7")]
        pub error: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct VertexStatus {
        #[prost(string, tag = "1")]
        pub id: String,
        #[prost(string, tag = "2")]
        pub vertex: String,
        #[prost(string, tag = "3")]
        pub name: String,
        #[prost(int64, tag = "4")]
        pub current: i64,
        #[prost(int64, tag = "5")]
        pub total: i64,
        #[prost(message, optional, tag = "8")]
        pub completed: Option<Timestamp>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct VertexLog {
        #[prost(string, tag = "1")]
        pub vertex: String,
        #[prost(message, optional, tag = "2")]
        pub timestamp: Option<Timestamp>,
        #[prost(int64, tag = "3")]
        pub stream: i64,
        #[prost(bytes = "vec", tag = "4")]
        pub msg: Vec<u8>,
    }

    /// `google.protobuf.Timestamp`.
    #[derive(Clone, Copy, PartialEq, prost::Message)]
    pub struct Timestamp {
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }

    impl Timestamp {
        pub fn as_secs_f64(&self) -> f64 {
            self.seconds as f64 + self.nanos as f64 / 1e9
        }
    }
}

/// Decodes the `aux` of a `moby.buildkit.trace` message.
pub fn decode_trace(aux: &str) -> Result<proto::StatusResponse> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(aux)
        .map_err(|e| ClientError::new(ErrorKind::Connection, format!("The engine's BuildKit progress is not base64: {e}")))?;
    proto::StatusResponse::decode(raw.as_slice())
        .map_err(|e| ClientError::new(ErrorKind::Connection, format!("The engine's BuildKit progress could not be decoded: {e}")))
}

/// Lines of one step's output kept for the error message of a failed build.
const TAIL_LINES: usize = 30;
/// An output line longer than this is cut into pieces of this size (a bound on memory).
const MAX_LINE: usize = 1 << 20;

/// What changed in the build, in the order BuildKit reported it.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A vertex (a Dockerfile step or an internal one) started; `index` numbers vertices in
    /// order of first appearance, from 1.
    Started { index: usize, name: String },
    Cached { index: usize },
    /// One whole line of a step's output, `elapsed` seconds after the step started.
    Output { index: usize, elapsed: f64, line: String },
    Done { index: usize, seconds: f64 },
    Failed { index: usize, message: String },
    /// A transfer or extraction finished (`transferring context: 2.34MB`).
    StatusDone { index: usize, name: String, current: i64 },
}

impl Change {
    /// The line `docker build --progress=plain` prints for it.
    pub fn plain_line(&self) -> String {
        match self {
            Change::Started { index, name } => format!("#{index} {name}"),
            Change::Cached { index } => format!("#{index} CACHED"),
            Change::Output { index, elapsed, line } => format!("#{index} {elapsed:.3} {line}"),
            Change::Done { index, seconds } => format!("#{index} DONE {seconds:.1}s"),
            Change::Failed { index, message } => format!("#{index} ERROR: {message}"),
            Change::StatusDone { index, name, current } if *current > 0 => format!("#{index} {name} {} done", human_bytes(*current)),
            Change::StatusDone { index, name, .. } => format!("#{index} {name} done"),
        }
    }
}

fn human_bytes(n: i64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.2}GB", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.2}MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.2}kB", n as f64 / 1e3),
        n => format!("{n}B"),
    }
}

#[derive(Default)]
struct VertexState {
    index: usize,
    name: String,
    announced: bool,
    cached: bool,
    done: bool,
    failed: bool,
    started: Option<f64>,
    /// Unfinished output line per stream (stdout 1, stderr 2).
    partial: HashMap<i64, Vec<u8>>,
    tail: VecDeque<String>,
    statuses_done: Vec<String>,
}

/// The build's progress so far: turns each `StatusResponse` into [`Change`]s.
#[derive(Default)]
pub struct Progress {
    vertices: HashMap<String, VertexState>,
    count: usize,
    /// The vertex that failed, by digest.
    failed: Option<String>,
}

impl Progress {
    fn vertex(&mut self, digest: &str) -> &mut VertexState {
        if !self.vertices.contains_key(digest) {
            self.count += 1;
            self.vertices.insert(digest.to_string(), VertexState { index: self.count, ..Default::default() });
        }
        self.vertices.get_mut(digest).expect("inserted above")
    }

    pub fn apply(&mut self, status: proto::StatusResponse) -> Vec<Change> {
        let mut out = Vec::new();
        for v in status.vertexes {
            let failed_now = {
                let state = self.vertex(&v.digest);
                if !v.name.is_empty() {
                    state.name = v.name.clone();
                }
                if let Some(t) = v.started {
                    state.started.get_or_insert(t.as_secs_f64());
                }
                if !state.announced && (v.started.is_some() || v.cached) {
                    state.announced = true;
                    out.push(Change::Started { index: state.index, name: state.name.clone() });
                }
                if v.cached && !state.cached {
                    state.cached = true;
                    out.push(Change::Cached { index: state.index });
                }
                let mut failed_now = false;
                if v.completed.is_some() || !v.error.is_empty() {
                    // The rest of its output comes before its end.
                    for (_, rest) in std::mem::take(&mut state.partial) {
                        if !rest.is_empty() {
                            let line = String::from_utf8_lossy(&rest).into_owned();
                            push_tail(&mut state.tail, &line);
                            out.push(Change::Output { index: state.index, elapsed: 0.0, line });
                        }
                    }
                }
                if !v.error.is_empty() && !state.failed {
                    state.failed = true;
                    failed_now = true;
                    out.push(Change::Failed { index: state.index, message: v.error.clone() });
                } else if let (Some(done), false, false) = (v.completed, state.done, state.cached) {
                    state.done = true;
                    let seconds = (done.as_secs_f64() - state.started.unwrap_or(done.as_secs_f64())).max(0.0);
                    out.push(Change::Done { index: state.index, seconds });
                }
                failed_now
            };
            if failed_now && self.failed.is_none() {
                self.failed = Some(v.digest.clone());
            }
        }
        for s in status.statuses {
            let state = self.vertex(&s.vertex);
            if s.completed.is_some() && !s.name.is_empty() && !state.statuses_done.contains(&s.id) {
                state.statuses_done.push(s.id.clone());
                out.push(Change::StatusDone { index: state.index, name: s.name.clone(), current: s.current });
            }
        }
        for log in status.logs {
            let state = self.vertex(&log.vertex);
            let at = log.timestamp.map(|t| t.as_secs_f64());
            let elapsed = match (at, state.started) {
                (Some(at), Some(started)) => (at - started).max(0.0),
                _ => 0.0,
            };
            let partial = state.partial.entry(log.stream).or_default();
            partial.extend_from_slice(&log.msg);
            let mut lines = Vec::new();
            while let Some(pos) = memchr::memchr(b'\n', partial) {
                let mut line: Vec<u8> = partial.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                lines.push(line);
            }
            while partial.len() >= MAX_LINE {
                lines.push(partial.drain(..MAX_LINE).collect());
            }
            for line in lines {
                let line = String::from_utf8_lossy(&line).into_owned();
                push_tail(&mut state.tail, &line);
                out.push(Change::Output { index: state.index, elapsed, line });
            }
        }
        out
    }

    /// The failed vertex's name (the Dockerfile step, e.g. `[stage-0 2/4] RUN make`) and the
    /// last lines of its output.
    pub fn failure(&self) -> Option<(String, Vec<String>)> {
        let v = self.vertices.get(self.failed.as_ref()?)?;
        Some((v.name.clone(), v.tail.iter().cloned().collect()))
    }
}

fn push_tail(tail: &mut VecDeque<String>, line: &str) {
    if tail.len() == TAIL_LINES {
        tail.pop_front();
    }
    tail.push_back(line.to_string());
}

/// `(index, total)` of a Dockerfile step's vertex name: `[stage-0 2/4] RUN …` or `[2/4] RUN …`.
pub fn step_position(name: &str) -> Option<(u32, u32)> {
    let inner = name.strip_prefix('[')?.split(']').next()?;
    let frac = inner.rsplit(' ').next()?;
    let (i, n) = frac.split_once('/')?;
    Some((i.parse().ok()?, n.parse().ok()?))
}

/// The instruction as the Dockerfile wrote it: BuildKit names a `FROM` vertex by the
/// normalized reference (`FROM docker.io/library/alpine:3.20`).
pub fn dockerfile_instruction(vertex: &str) -> String {
    match vertex.strip_prefix("FROM ") {
        Some(image) => {
            let short = image.strip_prefix("docker.io/library/").or_else(|| image.strip_prefix("docker.io/")).unwrap_or(image);
            format!("FROM {short}")
        }
        None => vertex.to_string(),
    }
}

/// How to reach the engine for a raw Engine API request.
#[derive(Debug, Clone)]
pub enum EngineAddress {
    Unix(std::path::PathBuf),
    Tcp(String),
}

impl EngineAddress {
    /// From the `unix://` / `tcp://` / `http://` address the backend was configured with.
    pub fn parse(host: &str) -> Option<EngineAddress> {
        if let Some(path) = host.strip_prefix("unix://") {
            return Some(EngineAddress::Unix(path.into()));
        }
        let addr = host.strip_prefix("tcp://").or_else(|| host.strip_prefix("http://"))?;
        Some(EngineAddress::Tcp(addr.trim_end_matches('/').to_string()))
    }
}

/// The engine API version spoken on the raw path: BuildKit needs 1.39; 1.41 is Docker 20.10,
/// which every engine since accepts.
pub(super) const API_VERSION: &str = "v1.41";
/// How long connecting and the engine's first answer may take.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A build-stream message longer than this is an engine fault, not progress.
const MAX_MESSAGE: usize = 64 << 20;

type Sender = hyper::client::conn::http1::SendRequest<http_body_util::combinators::BoxBody<Bytes, std::io::Error>>;

async fn connect(address: &EngineAddress) -> std::io::Result<Sender> {
    async fn handshake<T>(io: T) -> std::io::Result<Sender>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io)).await.map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }
    match address {
        EngineAddress::Unix(path) => handshake(tokio::net::UnixStream::connect(path).await?).await,
        EngineAddress::Tcp(addr) => handshake(tokio::net::TcpStream::connect(addr.as_str()).await?).await,
    }
}

/// The messages of the engine's answer to a build, one JSON value per line.
pub struct BuildStream {
    body: hyper::body::Incoming,
    buf: BytesMut,
    done: bool,
}

impl BuildStream {
    pub async fn next(&mut self) -> Option<Result<Value>> {
        loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.buf) {
                let line = self.buf.split_to(pos + 1);
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                if text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(serde_json::from_slice(text).map_err(|e| unreadable(&e.to_string())));
            }
            if self.done {
                if self.buf.iter().all(u8::is_ascii_whitespace) {
                    return None;
                }
                let rest = self.buf.split();
                return Some(serde_json::from_slice(&rest).map_err(|e| unreadable(&e.to_string())));
            }
            if self.buf.len() > MAX_MESSAGE {
                return Some(Err(unreadable("a message of the build stream is larger than 64 MiB")));
            }
            match self.body.frame().await {
                None => self.done = true,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => {
                    return Some(Err(ClientError::new(ErrorKind::Connection, format!("The Docker Engine's build stream broke: {e}"))));
                }
            }
        }
    }
}

fn unreadable(what: &str) -> ClientError {
    ClientError::new(ErrorKind::Connection, format!("The Docker Engine's build stream could not be understood: {what}"))
}

/// What a build request was refused with before it ran.
#[derive(Debug)]
pub enum Refused {
    /// The engine cannot build with BuildKit (API too old, BuildKit disabled, not Linux).
    NoBuildKit(String),
    /// Any other answer than 200 (e.g. a Dockerfile that does not parse: 400).
    Status(u16, String),
    Failed(ClientError),
}

/// Sends `POST /build?<query>` with `body` (the tar) and returns the answer's messages.
pub async fn post_build<S>(address: &EngineAddress, query: &str, body: S) -> std::result::Result<BuildStream, Refused>
where
    S: futures_util::Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static,
{
    use futures_util::StreamExt;
    let connecting = async {
        let mut sender = connect(address).await.map_err(|e| {
            Refused::Failed(ClientError::new(ErrorKind::Connection, format!("Building the image: cannot reach the Docker Engine: {e}")))
        })?;
        let frames = body.map(|chunk| chunk.map(hyper::body::Frame::data));
        let body = http_body_util::BodyExt::boxed(http_body_util::StreamBody::new(frames));
        let request = http::Request::post(format!("/{API_VERSION}/build?{query}"))
            .header(http::header::HOST, "docker")
            .header(http::header::CONTENT_TYPE, "application/x-tar")
            .body(body)
            .map_err(|e| Refused::Failed(ClientError::generic(format!("Building the image: {e}"))))?;
        sender.send_request(request).await.map_err(|e| {
            Refused::Failed(ClientError::new(ErrorKind::Connection, format!("Building the image: the Docker Engine did not answer: {e}")))
        })
    };
    let response = tokio::time::timeout(CONNECT_TIMEOUT, connecting).await.map_err(|_| {
        Refused::Failed(ClientError::new(ErrorKind::ConnectionTimeout, "Building the image: the Docker Engine did not answer within 30 s"))
    })??;
    let status = response.status().as_u16();
    let mut stream = BuildStream { body: response.into_body(), buf: BytesMut::new(), done: false };
    if status == 200 {
        return Ok(stream);
    }
    // An error answer is one small JSON object ({"message": ...}).
    let mut message = String::new();
    if let Ok(Some(Ok(v))) = tokio::time::timeout(CONNECT_TIMEOUT, stream.next()).await {
        message = v.get("message").and_then(Value::as_str).unwrap_or_default().to_string();
    }
    let lower = message.to_lowercase();
    if lower.contains("buildkit") && (lower.contains("not supported") || lower.contains("disabled") || lower.contains("not enabled")) {
        return Err(Refused::NoBuildKit(message));
    }
    Err(Refused::Status(status, message))
}

/// Which builder builds images on the local engine (`local.builder`, else
/// `DAYTONA_LOCAL_BUILDER`): `buildkit`, `classic`, or `auto` (the default: BuildKit, falling
/// back to the classic builder where the engine has none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Builder {
    BuildKit,
    Classic,
}

pub fn builder_choice(setting: Option<&str>) -> Result<Builder> {
    let value = setting.map(str::to_string).or_else(|| std::env::var("DAYTONA_LOCAL_BUILDER").ok()).filter(|v| !v.is_empty());
    match value.as_deref() {
        Some("classic") => Ok(Builder::Classic),
        None | Some("auto") | Some("buildkit") => Ok(Builder::BuildKit),
        Some(other) => Err(ClientError::invalid(format!("local.builder (or DAYTONA_LOCAL_BUILDER) must be 'buildkit', 'classic' or 'auto', not '{other}'"))),
    }
}

/// Engines already found without BuildKit in this process (said once each).
fn without_buildkit() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
    static SEEN: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> = std::sync::OnceLock::new();
    SEEN.get_or_init(Default::default)
}

/// Why a BuildKit build did not happen: the engine cannot, or it failed.
pub(super) enum BuildKitError {
    Unsupported(String),
    Failed(ClientError),
}

impl From<ClientError> for BuildKitError {
    fn from(e: ClientError) -> Self {
        BuildKitError::Failed(e)
    }
}

impl LocalBackend {
    /// Builds with the chosen builder; BuildKit falls back to the classic builder, saying so
    /// once per engine, where the engine cannot do BuildKit.
    pub(super) async fn build(&self, docker: &bollard::Docker, req: BuildRequest<'_>, logs: &Logs) -> Result<()> {
        let address = EngineAddress::parse(&self.host);
        let chosen = builder_choice(self.settings.builder.as_deref())?;
        let secrets = session::mounts_secrets(&req.plan.dockerfile);
        let buildkit = chosen == Builder::BuildKit && !without_buildkit().lock().unwrap_or_else(|e| e.into_inner()).contains(&self.host);
        if let (true, Some(address)) = (buildkit, address) {
            match build_with_buildkit(&address, &req, logs, &self.settings.build_secrets).await {
                Ok(()) => return Ok(()),
                Err(BuildKitError::Failed(e)) => return Err(e),
                Err(BuildKitError::Unsupported(why)) => {
                    without_buildkit().lock().unwrap_or_else(|e| e.into_inner()).insert(self.host.clone());
                    let notice = format!("daytona-native: the Docker Engine at {} cannot build with BuildKit ({why}); using the classic builder", self.host);
                    eprintln!("{notice}");
                    logs.line(notice).await;
                }
            }
        }
        if secrets {
            let why = if chosen == Builder::BuildKit {
                format!("the Docker Engine at {} cannot build with BuildKit", self.host)
            } else {
                "the classic builder is in use; set local.builder to 'buildkit' (or DAYTONA_LOCAL_BUILDER=buildkit)".to_string()
            };
            return Err(ClientError::invalid(format!(
                "The Dockerfile of {} mounts a build secret (RUN --mount=type=secret), which only BuildKit can build: {why}",
                req.what
            ))
            .with_details(serde_json::json!({ "reason": "buildkit_required" })));
        }
        super::build::build_image(docker, req, logs).await
    }
}

/// One build with BuildKit; every progress line goes to `logs`.
pub(super) async fn build_with_buildkit(
    address: &EngineAddress,
    req: &BuildRequest<'_>,
    logs: &Logs,
    secrets: &crate::config::BuildSecretsSetting,
) -> std::result::Result<(), BuildKitError> {
    // A session only where a step mounts a secret: it serves the secrets for this build alone.
    let session = if session::mounts_secrets(&req.plan.dockerfile) {
        let sources = session::parse_sources(secrets.0.as_ref().unwrap_or(&Value::Null))?;
        Some(session::Session::open(address, session::Secrets::resolve(&sources)?).await?)
    } else {
        None
    };
    let mut build_labels = serde_json::Map::new();
    build_labels.insert(labels::MANAGED.into(), "true".into());
    if let Some(session) = req.session {
        build_labels.insert(labels::SESSION.into(), session.into());
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("version", "2")
        .append_pair("dockerfile", DOCKERFILE_NAME)
        .append_pair("t", req.tag)
        .append_pair("networkmode", req.network_mode)
        .append_pair("labels", &Value::Object(build_labels).to_string())
        .extend_pairs(session.as_ref().map(|s| ("session", s.id.as_str())))
        .finish();
    let (rx, archive) = spawn_archive(req.plan);
    let mut stream = match post_build(address, &query, tokio_stream(rx)).await {
        Ok(stream) => stream,
        Err(Refused::NoBuildKit(why)) => return Err(BuildKitError::Unsupported(why)),
        Err(Refused::Status(400, message)) => {
            // A context error beats the engine's reaction to the aborted upload.
            if let Ok(Err(e)) = archive.await {
                return Err(e.into());
            }
            return Err(ClientError::invalid(format!("Dockerfile of {} is invalid: {message}", req.what))
                .with_details(serde_json::json!({ "reason": "invalid_dockerfile" }))
                .into());
        }
        Err(Refused::Status(status, message)) => {
            let mut e = ClientError::generic(format!("Building {}: the Docker Engine answered {status}: {message}", req.what));
            e.status_code = Some(status);
            return Err(e.into());
        }
        Err(Refused::Failed(e)) => return Err(e.into()),
    };
    let mut progress = Progress::default();
    let mut assembler = LineAssembler::default();
    let mut failure: Option<ClientError> = None;
    let mut failure_detail: Option<String> = None;
    // Vertex number -> Dockerfile step number, for the step events and the lines' steps.
    let mut steps: HashMap<usize, u32> = HashMap::new();
    let mut image_id: Option<String> = None;
    while let Some(message) = stream.next().await {
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        if message.get("id").and_then(Value::as_str) == Some("moby.image.id") {
            image_id = message.get("aux").and_then(|a| a.get("ID")).and_then(Value::as_str).map(str::to_string);
        }
        if message.get("id").and_then(Value::as_str) == Some("moby.buildkit.trace") {
            let status = decode_trace(message.get("aux").and_then(Value::as_str).unwrap_or_default())?;
            for change in progress.apply(status) {
                let line = change.plain_line();
                match &change {
                    Change::Started { index, name } => {
                        if let Some((step, total)) = step_position(name) {
                            steps.insert(*index, step);
                            let instruction = dockerfile_instruction(name.split_once("] ").map(|(_, rest)| rest).unwrap_or_default());
                            logs.event(BuildEvent::StepStarted { index: step, total, instruction }).await;
                        }
                    }
                    Change::Cached { index } => {
                        if let Some(step) = steps.get(index) {
                            logs.event(BuildEvent::StepCached { index: *step }).await;
                        }
                    }
                    Change::Done { index, seconds } => {
                        if let Some(step) = steps.get(index) {
                            logs.event(BuildEvent::StepFinished { index: *step, duration_ms: seconds * 1000.0 }).await;
                        }
                    }
                    _ => {}
                }
                let step = match &change {
                    Change::Started { index, .. }
                    | Change::Cached { index }
                    | Change::Output { index, .. }
                    | Change::Done { index, .. }
                    | Change::Failed { index, .. }
                    | Change::StatusDone { index, .. } => steps.get(index).copied(),
                };
                logs.step_line(line, step).await;
            }
        }
        if let Some(text) = message.get("stream").and_then(Value::as_str) {
            for line in assembler.push(text) {
                logs.line(line).await;
            }
        }
        let error = message.get("errorDetail").and_then(|d| d.get("message")).or_else(|| message.get("error")).and_then(Value::as_str);
        if let Some(error) = error {
            failure_detail = Some(error.to_string());
            // BuildKit parses the Dockerfile after accepting the request (the classic builder
            // answers 400): the same error as there.
            if let Some(at) = error.find("dockerfile parse error") {
                failure = Some(
                    ClientError::invalid(format!("Dockerfile of {} is invalid: {}", req.what, &error[at..]))
                        .with_details(serde_json::json!({ "reason": "invalid_dockerfile" })),
                );
                break;
            }
            let (step, tail) = progress.failure().unzip();
            let tail: VecDeque<String> = tail.unwrap_or_default().into();
            failure = Some(classify(req, error, step.as_deref(), &tail));
            break;
        }
    }
    drop(stream);
    drop(session);
    if let Some(rest) = assembler.finish() {
        logs.line(rest).await;
    }
    let archived = archive.await.map_err(|e| ClientError::generic(format!("archive task failed: {e}")))?;
    archived?;
    match failure {
        Some(f) => {
            let step = progress.failure().and_then(|(name, _)| step_position(&name)).map(|(i, _)| i);
            let exit_code = crate::events::exit_code(failure_detail.as_deref().unwrap_or(&f.message));
            logs.event(BuildEvent::BuildFailed { step, exit_code, message: f.message.clone() }).await;
            Err(f.into())
        }
        None => {
            // The build's last lines say it succeeded, in the classic builder's words, which
            // scripts look for.
            let short = image_id.as_deref().map(|id| id.trim_start_matches("sha256:").chars().take(12).collect::<String>());
            if let Some(short) = short {
                logs.line(format!("Successfully built {short}")).await;
            }
            let tag = if req.tag.contains(':') { req.tag.to_string() } else { format!("{}:latest", req.tag) };
            logs.line(format!("Successfully tagged {tag}")).await;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace_messages(fixture: &str) -> Vec<proto::StatusResponse> {
        fixture
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["id"] == "moby.buildkit.trace")
            .map(|v| decode_trace(v["aux"].as_str().unwrap()).unwrap())
            .collect()
    }

    fn plain(fixture: &str) -> (Vec<String>, Progress) {
        let mut p = Progress::default();
        let mut lines = Vec::new();
        for m in trace_messages(fixture) {
            lines.extend(p.apply(m).iter().map(Change::plain_line));
        }
        (lines, p)
    }

    /// A build of `FROM busybox; RUN --mount=type=cache … echo hi …; COPY --chmod=755 a.sh
    /// /a.sh; RUN ls -l /a.sh` on Docker 20.10.24, captured from the Engine API.
    const OK: &str = include_str!("../../../tests/fixtures/buildkit-ok.jsonl");
    /// The same Dockerfile on an engine without a bridge network: the RUN step fails.
    const FAILED: &str = include_str!("../../../tests/fixtures/buildkit-failed.jsonl");

    #[test]
    fn plain_progress_of_a_real_build() {
        let (lines, p) = plain(OK);
        assert!(p.failure().is_none());
        let text = lines.join("\n");
        assert!(text.contains("] RUN --mount=type=cache,target=/root/.cache echo hi > /root/.cache/x && ls /root/.cache"), "{text}");
        assert!(lines.iter().any(|l| l.ends_with(" x")), "the step's output line: {text}");
        assert!(lines.iter().any(|l| l.contains("-rwxr-xr-x") && l.contains("/a.sh")), "COPY --chmod applied: {text}");
        assert!(lines.iter().any(|l| l.contains(" DONE ")), "{text}");
        // Every vertex is announced once, before its other lines.
        let started: Vec<&String> = lines.iter().filter(|l| l.split(' ').nth(1).is_some_and(|w| w.starts_with('['))).collect();
        let unique: std::collections::HashSet<_> = started.iter().collect();
        assert_eq!(started.len(), unique.len(), "{text}");
    }

    #[test]
    fn the_failed_step_and_its_error() {
        let (lines, p) = plain(FAILED);
        let (step, _tail) = p.failure().expect("a vertex failed");
        assert_eq!(step_position(&step), Some((2, 4)), "{step}");
        assert!(step.contains("RUN --mount=type=cache"), "{step}");
        assert!(lines.iter().any(|l| l.contains("ERROR: executor failed running")), "{}", lines.join("\n"));
    }

    #[test]
    fn instructions_as_written() {
        assert_eq!(dockerfile_instruction("FROM docker.io/library/alpine:3.20"), "FROM alpine:3.20");
        assert_eq!(dockerfile_instruction("FROM docker.io/daytona-test/busybox:1"), "FROM daytona-test/busybox:1");
        assert_eq!(dockerfile_instruction("FROM ghcr.io/x/y:1"), "FROM ghcr.io/x/y:1");
        assert_eq!(dockerfile_instruction("RUN echo docker.io/x"), "RUN echo docker.io/x");
    }

    #[test]
    fn step_positions() {
        assert_eq!(step_position("[stage-0 2/4] RUN make"), Some((2, 4)));
        assert_eq!(step_position("[3/7] COPY . /app"), Some((3, 7)));
        assert_eq!(step_position("[internal] load metadata for docker.io/library/python:3.12"), None);
    }

    #[test]
    fn output_lines_are_whole_across_messages_and_bounded() {
        let mut p = Progress::default();
        let digest = "sha256:1".to_string();
        let t = |s| Some(proto::Timestamp { seconds: s, nanos: 0 });
        let start = proto::StatusResponse { vertexes: vec![proto::Vertex { digest: digest.clone(), name: "[1/1] RUN x".into(), started: t(10), ..Default::default() }], ..Default::default() };
        assert_eq!(p.apply(start), vec![Change::Started { index: 1, name: "[1/1] RUN x".into() }]);
        let log = |msg: &[u8]| proto::StatusResponse {
            logs: vec![proto::VertexLog { vertex: digest.clone(), timestamp: t(12), stream: 1, msg: msg.to_vec() }],
            ..Default::default()
        };
        assert_eq!(p.apply(log(b"hel")), vec![]);
        assert_eq!(p.apply(log(b"lo\nwor")), vec![Change::Output { index: 1, elapsed: 2.0, line: "hello".into() }]);
        let done = proto::StatusResponse {
            vertexes: vec![proto::Vertex { digest: digest.clone(), started: t(10), completed: t(13), ..Default::default() }],
            ..Default::default()
        };
        let changes = p.apply(done);
        assert_eq!(changes[0], Change::Output { index: 1, elapsed: 0.0, line: "wor".into() });
        assert_eq!(changes[1].plain_line(), "#1 DONE 3.0s");
        let huge = vec![b'a'; MAX_LINE + 10];
        let cut = p.apply(log(&huge));
        assert_eq!(cut.len(), 1, "one full piece out, the rest waits for its line end");
    }
}
