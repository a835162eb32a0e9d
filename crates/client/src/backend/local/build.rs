//! Builds an image on the local engine: one tar (the Dockerfile plus every planned context)
//! streamed into `POST /build` (classic builder), the build stream turned into whole log
//! lines, and failures mapped to errors that say which step failed and why.

use std::collections::{HashMap, VecDeque};
use std::io::Write;

use bollard::Docker;
use bollard::query_parameters::{BuildImageOptionsBuilder, BuilderVersion};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;

use super::labels;
use crate::error::{ClientError, ErrorKind, Result};
use crate::events::{StepParser, exit_code};
use crate::logs::{LineAssembler, Logs};
use crate::plan::{ImagePlan, context_error};

/// Name of the Dockerfile inside the build archive; chosen so it cannot collide with context
/// files placed at the archive root.
pub(super) const DOCKERFILE_NAME: &str = ".daytona-native/Dockerfile";
const LOG_TAIL_LINES: usize = 30;

/// `io::Write` that hands 256 KiB chunks to an async receiver (the HTTP body). Fails once the
/// receiver is gone, which stops the archiving thread when a build is cancelled.
struct ChannelWriter {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    const CHUNK: usize = 256 * 1024;
    fn flush_chunk(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(Self::CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "build was cancelled"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= Self::CHUNK {
            self.flush_chunk()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.flush_chunk()
    }
}

/// Streams the build archive from a blocking thread. A context error is sent down the body
/// (aborting the upload) and also returned through the join handle.
pub(super) fn spawn_archive(plan: &ImagePlan) -> (mpsc::Receiver<std::io::Result<Bytes>>, tokio::task::JoinHandle<Result<()>>) {
    let (tx, rx) = mpsc::channel(8);
    let dockerfile = plan.dockerfile.clone().into_bytes();
    let contexts = plan.contexts.clone();
    let handle = tokio::task::spawn_blocking(move || {
        let err_tx = tx.clone();
        let mut builder = tar::Builder::new(ChannelWriter { tx, buf: Vec::with_capacity(ChannelWriter::CHUNK) });
        let result = (|| -> Result<()> {
            let mut header = tar::Header::new_gnu();
            header.set_size(dockerfile.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_cksum();
            builder
                .append_data(&mut header, DOCKERFILE_NAME, dockerfile.as_slice())
                .map_err(|e| ClientError::generic(format!("Cannot send the build context: {e}")))?;
            for c in &contexts {
                c.append_to(&mut builder).map_err(context_error)?;
            }
            let mut w = builder.into_inner().map_err(|e| ClientError::generic(format!("Cannot send the build context: {e}")))?;
            w.flush().map_err(|e| ClientError::generic(format!("Cannot send the build context: {e}")))?;
            Ok(())
        })();
        if let Err(e) = &result {
            let _ = err_tx.blocking_send(Err(std::io::Error::other(e.message.clone())));
        }
        result
    });
    (rx, handle)
}

pub(super) struct BuildRequest<'a> {
    pub plan: &'a ImagePlan,
    pub tag: &'a str,
    pub network_mode: &'a str,
    /// What the error message calls this build ("snapshot x", "image for sandbox y").
    pub what: &'a str,
    /// The cleanup session the image is labelled with (`local/reaper.rs`), if any.
    pub session: Option<&'a str>,
}

/// Runs the build; every line of its output goes to `logs`, with the step events the
/// classic builder's output implies ([`StepParser`]) and `buildFailed` when it fails.
pub(super) async fn build_image(docker: &Docker, req: BuildRequest<'_>, logs: &Logs) -> Result<()> {
    let mut steps = StepParser::new();
    let result = run_build(docker, &req, logs, &mut steps).await;
    if let Err((e, detail)) = &result {
        logs.event(steps.failed_as(detail.as_deref().unwrap_or(e.message.as_str()), e.message.clone())).await;
    }
    if result.is_ok() {
        for e in steps.succeeded(std::time::Instant::now()) {
            logs.event(e).await;
        }
    }
    result.map_err(|(e, _)| e)
}

/// The build; a failure comes with the engine's own message when it gave one.
async fn run_build(docker: &Docker, req: &BuildRequest<'_>, logs: &Logs, steps: &mut StepParser) -> std::result::Result<(), (ClientError, Option<String>)> {
    let events = logs.events_enabled();
    let (rx, archive) = spawn_archive(req.plan);
    let body = bollard::body_try_stream(tokio_stream(rx));
    let mut build_labels = HashMap::new();
    build_labels.insert(labels::MANAGED.to_string(), "true".to_string());
    if let Some(session) = req.session {
        build_labels.insert(labels::SESSION.to_string(), session.to_string());
    }
    let options = BuildImageOptionsBuilder::new()
        .dockerfile(DOCKERFILE_NAME)
        .t(req.tag)
        .rm(true)
        .forcerm(true)
        .networkmode(req.network_mode)
        .labels(&build_labels)
        .version(BuilderVersion::BuilderV1)
        .build();
    let mut stream = docker.build_image(options, None, Some(body));
    let mut assembler = LineAssembler::default();
    let mut tail: VecDeque<String> = VecDeque::with_capacity(LOG_TAIL_LINES);
    let mut step: Option<String> = None;
    let mut failure: Option<(ClientError, Option<String>)> = None;
    let remember = |line: &str, tail: &mut VecDeque<String>, step: &mut Option<String>| {
        if line.starts_with("Step ") && line.contains(" : ") {
            *step = Some(line.to_string());
            tail.clear();
            return;
        }
        // The builder's own chatter is not the step's output.
        if line.starts_with(" ---> ") || line.starts_with("Removing intermediate container ") {
            return;
        }
        if tail.len() == LOG_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line.to_string());
    };
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = info.stream.as_deref() {
                    for line in assembler.push(text) {
                        remember(&line, &mut tail, &mut step);
                        let (implied, in_step) = steps.line(&line, std::time::Instant::now());
                        if events {
                            for e in implied {
                                logs.event(e).await;
                            }
                        }
                        logs.step_line(line, in_step).await;
                    }
                }
                if let Some(status) = info.status.as_deref() {
                    let line = match info.id.as_deref() {
                        Some(id) => format!("{id}: {status}"),
                        None => status.to_string(),
                    };
                    logs.step_line(line, steps.step()).await;
                }
                if let Some(detail) = info.error_detail {
                    let msg = detail.message.unwrap_or_default();
                    failure = Some((classify(req, &msg, step.as_deref(), &tail), Some(msg)));
                    break;
                }
            }
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                failure = Some((classify(req, &error, step.as_deref(), &tail), Some(error)));
                break;
            }
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 400, message }) => {
                // Rejected before any step ran: the Dockerfile does not parse.
                failure = Some((
                    ClientError::invalid(format!("Dockerfile of {} is invalid: {message}", req.what))
                        .with_details(json!({ "reason": "invalid_dockerfile" })),
                    None,
                ));
                break;
            }
            Err(e) => {
                failure = Some((engine_error(&format!("Building {}", req.what), e), None));
                break;
            }
        }
    }
    drop(stream);
    if let Some(rest) = assembler.finish() {
        logs.step_line(rest, steps.step()).await;
    }
    // The archive thread ends on its own once the body is consumed or dropped.
    let archived = archive.await.map_err(|e| (ClientError::generic(format!("archive task failed: {e}")), None))?;
    if let Err(e) = archived {
        // A context error beats the engine's reaction to the aborted upload.
        return Err((e, None));
    }
    match failure {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

pub(super) fn tokio_stream(mut rx: mpsc::Receiver<std::io::Result<Bytes>>) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Turns the engine's build error into a message that names the failing step, its exit code
/// and the last lines of its output (reference docker-and-s3.md §2).
pub(super) fn classify(req: &BuildRequest<'_>, message: &str, step: Option<&str>, tail: &VecDeque<String>) -> ClientError {
    let tail_vec: Vec<String> = tail.iter().cloned().collect();
    // `what` starts a sentence here ("the sandbox image" -> "The sandbox image failed ...").
    let mut chars = req.what.chars();
    let what: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
    let step_text = step.map(|s| s.trim().to_string());
    // Classic: `Step 1/4 : FROM x`; BuildKit: `[stage-0 1/4] FROM x`.
    // BuildKit resolves a base image in a vertex of its own before any step.
    let base_metadata = step_text.as_deref().and_then(|s| s.strip_prefix("[internal] load metadata for "));
    let is_first_step = base_metadata.is_some()
        || step_text
            .as_deref()
            .is_some_and(|s| s.starts_with("Step 1/") || super::buildkit::step_position(s).is_some_and(|(i, _)| i == 1));
    let missing_source = message.starts_with("COPY failed:")
        || message.starts_with("ADD failed:")
        || (message.contains("failed to compute cache key") && message.contains("not found"));
    let (reason, text) = if missing_source {
        ("context_file_missing", format!("{} failed: a COPY/ADD source is missing from the build context: {message}", what))
    } else if is_first_step
        || message.contains("pull access denied")
        || message.contains("manifest unknown")
        || message.contains("failed to resolve source metadata")
    {
        let image = match base_metadata {
            Some(reference) => super::buildkit::dockerfile_instruction(&format!("FROM {reference}")),
            None => step_text
                .as_deref()
                .and_then(|s| s.split(" : ").nth(1).or_else(|| s.split_once("] ").map(|(_, rest)| rest)))
                .map(super::buildkit::dockerfile_instruction)
                .unwrap_or_else(|| "the base image".to_string()),
        };
        (
            "base_image_unavailable",
            format!("{} failed: base image {} is not available locally and could not be pulled: {message}", what, image.trim_start_matches("FROM ").trim()),
        )
    } else if let Some(code) = exit_code(message) {
        let at = step_text.clone().unwrap_or_else(|| "a build step".into());
        let mut text = format!("{} failed at {at}: the command exited with code {code}", what);
        if !tail_vec.is_empty() {
            text.push_str("\nLast lines of its output:\n");
            text.push_str(&tail_vec.join("\n"));
        }
        ("step_failed", text)
    } else {
        ("engine", format!("{} failed: {message}", what))
    };
    let exit = exit_code(message);
    ClientError::new(ErrorKind::Build, text).with_details(json!({
        "reason": reason,
        "step": step_text,
        "exitCode": exit,
        "logTail": tail_vec,
        "engineMessage": message,
    }))
}

/// Maps a bollard error of any engine call.
pub(super) fn engine_error(doing: &str, e: bollard::errors::Error) -> ClientError {
    use bollard::errors::Error as B;
    match e {
        B::DockerResponseServerError { status_code: 404, message } => ClientError::not_found(message),
        B::DockerResponseServerError { status_code: 409, message } => {
            let mut err = ClientError::new(ErrorKind::Conflict, format!("{doing}: {message}"));
            err.status_code = Some(409);
            err
        }
        B::DockerResponseServerError { status_code, message } => {
            let mut err = ClientError::generic(format!("{doing}: the Docker Engine answered {status_code}: {message}"));
            err.status_code = Some(status_code);
            err
        }
        B::RequestTimeoutError => ClientError::new(
            ErrorKind::ConnectionTimeout,
            format!(
                "{doing}: the Docker Engine did not answer in time. This is a client-side deadline (requestTimeoutMs, \
                 default {} s on the local engine, or the operation's own timeout)",
                super::DEFAULT_REQUEST_TIMEOUT.as_secs()
            ),
        ),
        // Refused, reset or dropped connections, and replies that are not HTTP or not the JSON
        // the Engine API defines: the engine is unreachable or is not a Docker Engine.
        B::HyperResponseError { .. } | B::HyperLegacyError { .. } | B::SocketNotFoundError(_) | B::IOError { .. } => {
            ClientError::new(ErrorKind::Connection, format!("{doing}: cannot reach the Docker Engine: {}", error_chain(&e)))
        }
        B::JsonDataError { .. } | B::JsonSerdeError { .. } | B::StrParseError { .. } | B::HttpClientError { .. } => ClientError::new(
            ErrorKind::Connection,
            format!("{doing}: the Docker Engine's reply could not be understood: {}", error_chain(&e)),
        ),
        other => ClientError::generic(format!("{doing}: {other}")),
    }
}

/// An error and its sources in one line (hyper's top-level messages alone say little:
/// "client error (Connect)").
fn error_chain(e: &dyn std::error::Error) -> String {
    // bollard's own wrapper text names its HTTP library, which tells a user nothing.
    let (mut text, mut source) = match e.source() {
        Some(inner) if e.to_string().starts_with("Error in the hyper") => (inner.to_string(), inner.source()),
        _ => (e.to_string(), e.source()),
    };
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}
