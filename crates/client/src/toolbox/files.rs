//! `sandbox.fs`: the toolbox's `/files` routes, written once for both backends. The small
//! operations are JSON calls; uploads and downloads are multipart bodies streamed both ways
//! (`files/bulk-upload`, `files/bulk-download`), so no file is ever held whole in memory unless
//! the caller asked for it in memory. A download to a local path goes to a temporary file next
//! to it, renamed at the end: a failed or cancelled download leaves nothing half-written.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::Method;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::{ByteStream, StreamBody, Toolbox, ToolboxCall, data, object};
use crate::backend::Deadline;
use crate::backend::api::encode::query_string;
use crate::backend::api::errors::{self, create_error};
use crate::backend::api::json::stringify;
use crate::backend::api::toolbox_form::{self, Event, FormError, Parts};
use crate::error::{ClientError, Result};

/// The official default of the transfer operations: 30 minutes.
pub const DEFAULT_TRANSFER_TIMEOUT: f64 = 30.0 * 60.0;

/// How big the pieces of a local file read for an upload are.
const READ_CHUNK: usize = 256 << 10;

/// What one uploaded file is made of.
#[derive(Clone)]
pub enum FileSource {
    Bytes(Bytes),
    /// A local file, read while it is sent.
    Path(String),
    /// Bytes that come from elsewhere (a JavaScript stream): can be sent once.
    Stream(Arc<Mutex<Option<ByteStream>>>),
}

impl FileSource {
    pub fn stream(s: ByteStream) -> FileSource {
        FileSource::Stream(Arc::new(Mutex::new(Some(s))))
    }
}

impl From<crate::types::UploadSource> for FileSource {
    fn from(s: crate::types::UploadSource) -> FileSource {
        match s {
            crate::types::UploadSource::Bytes(b) => FileSource::Bytes(Bytes::from(b)),
            crate::types::UploadSource::Path(p) => FileSource::Path(p),
        }
    }
}

/// The writing end of a [`FileSource`] fed piece by piece (`uploadFileStream`'s JavaScript
/// stream): `send` waits while the upload is behind, so memory stays bounded.
#[derive(Clone)]
pub struct UploadFeed {
    tx: Arc<Mutex<Option<tokio::sync::mpsc::Sender<Bytes>>>>,
    failure: Arc<Mutex<Option<String>>>,
    abort: tokio_util::sync::CancellationToken,
}

impl UploadFeed {
    /// A feed and the source it feeds, holding at most `capacity` pieces.
    pub fn new(capacity: usize) -> (UploadFeed, FileSource) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(capacity.max(1));
        let feed = UploadFeed { tx: Arc::new(Mutex::new(Some(tx))), failure: Default::default(), abort: Default::default() };
        let (abort, failure) = (feed.abort.clone(), feed.failure.clone());
        let broken = move |failure: &Mutex<Option<String>>| {
            let message = failure.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or_else(|| "The upload was broken off".into());
            std::io::Error::other(ClientError::generic(message))
        };
        let stream = futures_util::stream::unfold(Some(rx), move |rx| {
            let (abort, failure) = (abort.clone(), failure.clone());
            async move {
                let mut rx = rx?;
                tokio::select! {
                    biased;
                    _ = abort.cancelled() => Some((Err(broken(&failure)), None)),
                    piece = rx.recv() => match piece {
                        Some(p) => Some((Ok(p), Some(rx))),
                        None if abort.is_cancelled() => Some((Err(broken(&failure)), None)),
                        None => None,
                    },
                }
            }
        });
        (feed, FileSource::stream(Box::pin(stream)))
    }

    /// Hands over one piece; `false` once the upload takes no more (it ended or failed).
    pub async fn send(&self, piece: Vec<u8>) -> bool {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match tx {
            Some(tx) => tx.send(Bytes::from(piece)).await.is_ok(),
            None => false,
        }
    }

    /// Hands over one piece if there is room for it now: `Ok(true)` taken, `Ok(false)` the upload
    /// takes no more, `Err(piece)` no room yet ([`UploadFeed::send`] waits for it).
    pub fn try_send(&self, piece: Vec<u8>) -> std::result::Result<bool, Vec<u8>> {
        use tokio::sync::mpsc::error::TrySendError;
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(tx) = tx else { return Ok(false) };
        match tx.try_send(Bytes::from(piece)) {
            Ok(()) => Ok(true),
            Err(TrySendError::Closed(_)) => Ok(false),
            Err(TrySendError::Full(piece)) => Err(piece.into()),
        }
    }

    /// The source ended: the upload completes with what was sent.
    pub fn end(&self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// The source failed: the upload is broken off with `message`, the sandbox keeps nothing.
    pub fn fail(&self, message: String) {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
        self.abort.cancel();
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// `FileDownloadErrorDetails`.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadErrorDetails {
    pub message: String,
    pub status_code: Option<f64>,
    pub code: Option<String>,
    pub source: Option<String>,
}

/// What a downloaded file became.
#[derive(Debug, Clone, PartialEq)]
pub enum Downloaded {
    Bytes(Vec<u8>),
    /// Written to this local path.
    Path(String),
}

/// `FileDownloadResponse`.
#[derive(Debug, Clone)]
pub struct DownloadResult {
    pub source: String,
    pub result: Option<Downloaded>,
    pub error: Option<String>,
    pub error_details: Option<DownloadErrorDetails>,
}

impl DownloadResult {
    /// The error `downloadFile` throws for this result (`createFileDownloadError`).
    pub fn failure(&self) -> Option<ClientError> {
        let error = self.error.as_ref()?;
        Some(match &self.error_details {
            None => ClientError::generic(error.clone()),
            Some(d) => {
                let status = d.status_code.filter(|s| s.fract() == 0.0 && *s >= 0.0 && *s <= 65535.0).map(|s| s as u16);
                create_error(d.message.clone(), status, None, d.code.clone(), d.source.clone())
            }
        })
    }
}

/// `parseDownloadErrorPart`: the message, and the details when the part is JSON.
pub fn parse_error_part(data: &[u8], content_type: Option<&str>) -> (String, Option<DownloadErrorDetails>) {
    let mut message = String::from_utf8_lossy(data).trim().to_string();
    if !content_type.is_some_and(|c| c.to_ascii_lowercase().contains("application/json")) {
        return (message, None);
    }
    let Ok(Value::Object(payload)) = serde_json::from_str::<Value>(&message) else { return (message, None) };
    let either = |a: &str, b: &str| match payload.get(a) {
        None | Some(Value::Null) => payload.get(b).cloned(),
        some => some.cloned(),
    };
    if let Some(m) = payload.get("message").and_then(Value::as_str) {
        message = m.to_string();
    }
    let details = DownloadErrorDetails {
        message: message.clone(),
        status_code: either("statusCode", "status_code").and_then(|v| v.as_f64()),
        code: either("code", "error_code").and_then(|v| v.as_str().map(str::to_string)),
        source: payload.get("source").and_then(Value::as_str).map(str::to_string),
    };
    (message, Some(details))
}

/// `path.basename`, POSIX.
pub fn basename(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "";
    }
    t.rsplit('/').next().unwrap_or(t)
}

/// `?k=v&...` of the parameters that are set, as the generated client writes them.
fn query(pairs: &[(&str, Option<String>)]) -> String {
    let set: Vec<(String, String)> = pairs.iter().filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v))).collect();
    if set.is_empty() { String::new() } else { format!("?{}", query_string(&set)) }
}

/// The deadline of a transfer of `timeout` seconds (`timeout * 1000`; 0 is none).
fn transfer_deadline(timeout: f64) -> Deadline {
    Deadline::Ms(if timeout.is_finite() && timeout > 0.0 { timeout * 1000.0 } else { 0.0 })
}

/// Bounds a whole transfer (head and body) by its timeout, failing as axios does.
async fn within<T>(timeout: f64, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    if timeout.is_finite() && timeout > 0.0 {
        match tokio::time::timeout(Duration::from_secs_f64(timeout), f).await {
            Ok(r) => r,
            Err(_) => Err(errors::timeout_error(Some(timeout * 1000.0))),
        }
    } else {
        f.await
    }
}

/// The client error a failed body stream carries, or one that says what failed.
fn stream_error(e: std::io::Error) -> ClientError {
    if let Some(c) = e.get_ref().and_then(|i| i.downcast_ref::<ClientError>()) {
        return c.clone();
    }
    errors::connection_error(e.to_string())
}

fn form_error(e: FormError) -> ClientError {
    match e {
        FormError::Read(e) => match e.downcast::<std::io::Error>() {
            Ok(io) => stream_error(*io),
            Err(e) => match e.downcast::<ClientError>() {
                Ok(c) => *c,
                Err(e) => errors::connection_error(e.to_string()),
            },
        },
        FormError::Malformed(m) => ClientError::generic(m),
    }
}

/// A local file read in pieces.
fn file_chunks(path: String) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold((None::<tokio::fs::File>, path, false), |(file, path, done)| async move {
        if done {
            return None;
        }
        let mut file = match file {
            Some(f) => f,
            None => match tokio::fs::File::open(&path).await {
                Ok(f) => f,
                Err(e) => return Some((Err(std::io::Error::other(crate::backend::local_read_error(&path, e))), (None, path, true))),
            },
        };
        let mut buf = vec![0u8; READ_CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (Some(file), path, false)))
            }
            Err(e) => Some((Err(std::io::Error::other(crate::backend::local_read_error(&path, e))), (None, path, true))),
        }
    })
}

/// The multipart body of `files/bulk-upload` as the `form-data` package writes it: per file a
/// `files[i].path` field and a `files[i].file` part named after the destination's base name.
fn upload_body(files: &[(FileSource, String)]) -> Result<StreamBody> {
    let boundary = toolbox_form::new_boundary();
    let mut pieces = Vec::with_capacity(files.len());
    for (i, (source, destination)) in files.iter().enumerate() {
        let filename = basename(destination).to_string();
        let content_type = match source {
            FileSource::Path(p) => match toolbox_form::guess_content_type(basename(p)) {
                "application/octet-stream" => toolbox_form::guess_content_type(&filename),
                t => t,
            },
            _ => toolbox_form::guess_content_type(&filename),
        };
        if let FileSource::Path(p) = source {
            // Fail before any request when a file cannot be read.
            std::fs::File::open(p).map_err(|e| crate::backend::local_read_error(p, e))?;
        }
        let lead = if i == 0 { Vec::new() } else { b"\r\n".to_vec() };
        let head = Bytes::from([lead, toolbox_form::part_head(&boundary, i, destination, &filename, content_type)].concat());
        pieces.push((head, source.clone()));
    }
    let tail = Bytes::from(if files.is_empty() { format!("--{boundary}--\r\n") } else { format!("\r\n--{boundary}--\r\n") });
    let make = move || -> Result<ByteStream> {
        let mut parts: Vec<ByteStream> = Vec::with_capacity(pieces.len() * 2 + 1);
        for (head, source) in &pieces {
            parts.push(Box::pin(futures_util::stream::once(futures_util::future::ready(Ok(head.clone())))));
            parts.push(match source {
                FileSource::Bytes(b) => Box::pin(futures_util::stream::once(futures_util::future::ready(Ok(b.clone())))),
                FileSource::Path(p) => Box::pin(file_chunks(p.clone())),
                FileSource::Stream(s) => s
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .ok_or_else(|| ClientError::generic("The upload stream was already sent and cannot be sent again"))?,
            });
        }
        parts.push(Box::pin(futures_util::stream::once(futures_util::future::ready(Ok(tail.clone())))));
        Ok(Box::pin(futures_util::stream::iter(parts).flatten()))
    };
    Ok(StreamBody { content_type: toolbox_form::content_type_header(&boundary), make: Arc::new(make) })
}

/// A file being written next to its destination, renamed into place by `finish`; removed
/// if dropped before that.
struct PartFile {
    temp: PathBuf,
    destination: PathBuf,
    /// Buffered: the pieces of a multipart answer are small, each write a thread hop.
    file: Option<tokio::io::BufWriter<tokio::fs::File>>,
}

impl PartFile {
    async fn create(destination: &str) -> std::io::Result<PartFile> {
        let destination = PathBuf::from(destination);
        let name = destination.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let dir = destination.parent().map(Path::to_path_buf).unwrap_or_default();
        let temp = dir.join(format!(".{name}.{}.part", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&temp).await?;
        Ok(PartFile { temp, destination, file: Some(tokio::io::BufWriter::with_capacity(1 << 20, file)) })
    }

    async fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(data).await,
            None => Ok(()),
        }
    }

    async fn finish(mut self) -> std::io::Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush().await?;
        }
        tokio::fs::rename(&self.temp, &self.destination).await?;
        self.temp = PathBuf::new();
        Ok(())
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Where the parts of one requested file go.
enum Sink {
    None,
    Memory(Vec<u8>),
    File(PartFile),
    Error(Vec<u8>, Option<String>),
    /// Writing to the local file failed; the rest of the part is skipped.
    Failed,
}

/// A downloaded file handed out as it arrives (`downloadFileStream`).
pub struct DownloadStream {
    parts: Parts,
    deadline: Option<tokio::time::Instant>,
    timeout: f64,
    ended: bool,
}

impl DownloadStream {
    /// The next piece of the file; `None` at its end.
    pub async fn next(&mut self) -> Result<Option<Bytes>> {
        if self.ended {
            return Ok(None);
        }
        let next = async {
            loop {
                match self.parts.next().await.map_err(form_error)? {
                    Some(Event::Data(d)) if d.is_empty() => continue,
                    Some(Event::Data(d)) => return Ok(Some(d)),
                    _ => return Ok(None),
                }
            }
        };
        let r = match self.deadline {
            Some(at) => tokio::time::timeout_at(at, next).await.unwrap_or_else(|_| Err(errors::timeout_error(Some(self.timeout * 1000.0)))),
            None => next.await,
        };
        if !matches!(r, Ok(Some(_))) {
            self.ended = true;
        }
        r
    }
}

impl Toolbox {
    async fn files_call(&self, method: Method, path: String, accept: &'static str) -> Result<Value> {
        Ok(data(&self.call(ToolboxCall::new(method, path).accept(accept)).await?))
    }

    /// `createFolder(path, mode)`: `response.data`.
    pub async fn create_folder(&self, path: &str, mode: &str) -> Result<Value> {
        let q = query(&[("path", Some(path.into())), ("mode", Some(mode.into()))]);
        self.files_call(Method::POST, format!("files/folder{q}"), "*/*").await
    }

    /// `deleteFile(path, recursive?)`.
    pub async fn delete_file(&self, path: &str, recursive: Option<bool>) -> Result<Value> {
        let q = query(&[("path", Some(path.into())), ("recursive", recursive.map(|r| r.to_string()))]);
        self.files_call(Method::DELETE, format!("files{q}"), "*/*").await
    }

    /// `getFileDetails(path)`: the toolbox's `FileInfo`.
    pub async fn get_file_details(&self, path: &str) -> Result<Value> {
        self.files_call(Method::GET, format!("files/info{}", query(&[("path", Some(path.into()))])), "application/json").await
    }

    /// `listFiles(path, { depth })`.
    pub async fn list_files(&self, path: &str, depth: Option<f64>) -> Result<Value> {
        if let Some(d) = depth
            && (d.fract() != 0.0 || !d.is_finite() || d < 1.0)
        {
            return Err(ClientError::generic("depth must be an integer of at least 1"));
        }
        let q = query(&[("path", Some(path.into())), ("depth", depth.map(crate::backend::api::json::js_number))]);
        self.files_call(Method::GET, format!("files{q}"), "application/json").await
    }

    /// `moveFiles(source, destination)`.
    pub async fn move_files(&self, source: &str, destination: &str) -> Result<Value> {
        let q = query(&[("source", Some(source.into())), ("destination", Some(destination.into()))]);
        self.files_call(Method::POST, format!("files/move{q}"), "*/*").await
    }

    /// `setFilePermissions(path, { owner, group, mode })`.
    pub async fn set_file_permissions(&self, path: &str, owner: Option<String>, group: Option<String>, mode: Option<String>) -> Result<Value> {
        let q = query(&[("path", Some(path.into())), ("owner", owner), ("group", group), ("mode", mode)]);
        self.files_call(Method::POST, format!("files/permissions{q}"), "*/*").await
    }

    /// `findFiles(path, pattern)`: `Match[]`.
    pub async fn find_files(&self, path: &str, pattern: &str) -> Result<Value> {
        let q = query(&[("path", Some(path.into())), ("pattern", Some(pattern.into()))]);
        self.files_call(Method::GET, format!("files/find{q}"), "application/json").await
    }

    /// `searchFiles(path, pattern)`: `SearchFilesResponse`.
    pub async fn search_files(&self, path: &str, pattern: &str) -> Result<Value> {
        let q = query(&[("path", Some(path.into())), ("pattern", Some(pattern.into()))]);
        self.files_call(Method::GET, format!("files/search{q}"), "application/json").await
    }

    /// `replaceInFiles(files, pattern, newValue)`: `ReplaceResult[]`.
    pub async fn replace_in_files(&self, files: Vec<String>, pattern: &str, new_value: &str) -> Result<Value> {
        let body = object(vec![
            ("files", Some(Value::Array(files.into_iter().map(Value::String).collect()))),
            ("newValue", Some(Value::String(new_value.into()))),
            ("pattern", Some(Value::String(pattern.into()))),
        ]);
        let call = ToolboxCall::new(Method::POST, "files/replace").json(stringify(&body));
        Ok(data(&self.call(call).await?))
    }

    /// `uploadFiles(files, timeout = 1800)`: one multipart request, each file streamed.
    pub async fn upload_files(&self, files: Vec<(FileSource, String)>, timeout: Option<f64>) -> Result<()> {
        let timeout = timeout.unwrap_or(DEFAULT_TRANSFER_TIMEOUT);
        let body = upload_body(&files)?;
        let call = ToolboxCall::new(Method::POST, "files/bulk-upload").accept("*/*").deadline(transfer_deadline(timeout));
        let ctx = self.context();
        ctx.run(within(timeout, async {
            let response = self.transport.call_streaming(&ctx, call, Some(body)).await?;
            // The answer is empty; read it to its end.
            let mut body = response.body;
            while let Some(piece) = body.next().await {
                piece.map_err(stream_error)?;
            }
            Ok(())
        }))
        .await
    }

    /// Sends `files/bulk-download` for `paths` and returns the multipart reader of the answer.
    async fn bulk_download(&self, ctx: &crate::backend::OperationContext, paths: &[&str], timeout: f64) -> Result<Parts> {
        let body = stringify(&serde_json::json!({ "paths": paths }));
        let call = ToolboxCall::new(Method::POST, "files/bulk-download").json(body).accept("multipart/form-data").deadline(transfer_deadline(timeout));
        let response = self.transport.call_streaming(ctx, call, None).await?;
        let content_type = response.content_type.unwrap_or_default();
        let boundary = toolbox_form::boundary_of(&content_type).ok_or_else(|| ClientError::generic(format!("Unsupported content type: {content_type}")))?;
        Ok(Parts::new(response.body, &boundary))
    }

    /// `downloadFiles(files, timeout = 1800)`: each file into memory or, when it has a
    /// destination, to that local path (its directory created first).
    pub async fn download_files(&self, files: Vec<(String, Option<String>)>, timeout: Option<f64>) -> Result<Vec<DownloadResult>> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let timeout = timeout.unwrap_or(DEFAULT_TRANSFER_TIMEOUT);
        for (_, destination) in &files {
            if let Some(d) = destination {
                let dir = Path::new(d).parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                tokio::fs::create_dir_all(dir).await.map_err(|e| ClientError::invalid(format!("Cannot create directory {}: {e}", dir.display())))?;
            }
        }
        let ctx = self.context();
        ctx.run(within(timeout, async {
            let paths: Vec<&str> = files.iter().map(|(s, _)| s.as_str()).collect();
            let mut parts = self.bulk_download(&ctx, &paths, timeout).await?;
            let mut results: Vec<DownloadResult> =
                files.iter().map(|(s, _)| DownloadResult { source: s.clone(), result: None, error: None, error_details: None }).collect();
            let find = |source: &str| files.iter().position(|(s, _)| s == source);
            let mut sink = Sink::None;
            let mut current = 0usize;
            while let Some(event) = parts.next().await.map_err(form_error)? {
                match event {
                    Event::Part { name, filename, content_type } => {
                        sink = match filename {
                            None => Sink::None,
                            Some(f) if f.is_empty() => return Err(ClientError::generic("Received unexpected file \"\".")),
                            Some(f) => {
                                let Some(i) = find(&f) else {
                                    return Err(ClientError::generic(format!("Target metadata missing for valid source: {f}")));
                                };
                                current = i;
                                match name.as_deref() {
                                    Some("error") => Sink::Error(Vec::new(), content_type),
                                    Some("file") => match &files[i].1 {
                                        Some(d) => match PartFile::create(d).await {
                                            Ok(p) => Sink::File(p),
                                            Err(e) => {
                                                results[i].error = Some(format!("Write stream failed: {e}"));
                                                Sink::Failed
                                            }
                                        },
                                        None => Sink::Memory(Vec::new()),
                                    },
                                    _ => Sink::None,
                                }
                            }
                        };
                    }
                    Event::Data(d) => match &mut sink {
                        Sink::None | Sink::Failed => {}
                        Sink::Memory(buf) => buf.extend_from_slice(&d),
                        Sink::Error(buf, _) => {
                            let room = crate::backend::api::http::MAX_ERROR_BODY.saturating_sub(buf.len());
                            buf.extend_from_slice(&d[..d.len().min(room)]);
                        }
                        Sink::File(f) => {
                            if let Err(e) = f.write(&d).await {
                                results[current].error = Some(format!("Write stream failed: {e}"));
                                sink = Sink::Failed;
                            }
                        }
                    },
                    Event::End => match std::mem::replace(&mut sink, Sink::None) {
                        Sink::None | Sink::Failed => {}
                        Sink::Memory(buf) => results[current].result = Some(Downloaded::Bytes(buf)),
                        Sink::File(f) => match f.finish().await {
                            Ok(()) => results[current].result = Some(Downloaded::Path(files[current].1.clone().unwrap_or_default())),
                            Err(e) => results[current].error = Some(format!("Write stream failed: {e}")),
                        },
                        Sink::Error(buf, ct) => {
                            let (message, details) = parse_error_part(&buf, ct.as_deref());
                            results[current].error = Some(message);
                            results[current].error_details = details;
                        }
                    },
                }
            }
            for r in &mut results {
                if r.error.is_some() {
                    r.result = None;
                } else if r.result.is_none() {
                    r.error = Some("No data received for this file".into());
                }
                if r.error.is_none() {
                    r.error_details = None;
                }
            }
            Ok(results)
        }))
        .await
    }

    /// `downloadFile(remotePath, timeout)` / `downloadFile(remotePath, localPath, timeout)`.
    pub async fn download_file(&self, remote_path: &str, local_path: Option<&str>, timeout: Option<f64>) -> Result<Option<Vec<u8>>> {
        let mut results = self.download_files(vec![(remote_path.to_string(), local_path.map(str::to_string))], timeout).await?;
        let r = results.remove(0);
        if let Some(e) = r.failure() {
            return Err(e);
        }
        Ok(match r.result {
            Some(Downloaded::Bytes(b)) => Some(b),
            _ => None,
        })
    }

    /// `downloadFileStream(remotePath, { timeout })`: resolves once the file's data begins (a
    /// file the toolbox cannot send fails here); the stream then hands out its pieces, the
    /// whole transfer bounded by `timeout` seconds (0: none).
    pub async fn download_stream(&self, remote_path: &str, timeout: Option<f64>) -> Result<DownloadStream> {
        let timeout = timeout.unwrap_or(DEFAULT_TRANSFER_TIMEOUT);
        let deadline = (timeout.is_finite() && timeout > 0.0).then(|| tokio::time::Instant::now() + Duration::from_secs_f64(timeout));
        let ctx = self.context();
        ctx.run(within(timeout, async {
            let mut parts = self.bulk_download(&ctx, &[remote_path], timeout).await?;
            let mut error: Option<(Vec<u8>, Option<String>)> = None;
            let mut in_error = false;
            while let Some(event) = parts.next().await.map_err(form_error)? {
                match event {
                    Event::Part { name, filename, content_type } => {
                        in_error = false;
                        match filename {
                            None => {}
                            Some(f) if f.is_empty() => return Err(ClientError::generic("Received unexpected file \"\".")),
                            Some(f) if f != remote_path => return Err(ClientError::generic(format!("Target metadata missing for valid source: {f}"))),
                            Some(_) => match name.as_deref() {
                                Some("file") => return Ok(DownloadStream { parts, deadline, timeout, ended: false }),
                                Some("error") => {
                                    in_error = true;
                                    error = Some((Vec::new(), content_type));
                                }
                                _ => {}
                            },
                        }
                    }
                    Event::Data(d) => {
                        if in_error && let Some((buf, _)) = &mut error {
                            let room = crate::backend::api::http::MAX_ERROR_BODY.saturating_sub(buf.len());
                            buf.extend_from_slice(&d[..d.len().min(room)]);
                        }
                    }
                    Event::End => in_error = false,
                }
            }
            match error {
                Some((buf, ct)) => {
                    let (message, details) = parse_error_part(&buf, ct.as_deref());
                    let r = DownloadResult { source: remote_path.into(), result: None, error: Some(message), error_details: details };
                    Err(r.failure().unwrap_or_else(|| ClientError::generic("download failed")))
                }
                None => Err(ClientError::generic(format!("No file data received for: {remote_path}"))),
            }
        }))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_leave_out_what_is_not_set() {
        assert_eq!(query(&[("path", Some("a b/é".into())), ("recursive", None)]), "?path=a+b%2F%C3%A9");
        assert_eq!(query(&[("path", Some("x".into())), ("depth", Some("2".into()))]), "?path=x&depth=2");
        assert_eq!(basename("dir/sub/"), "sub");
        assert_eq!(basename("/tmp/a.txt"), "a.txt");
    }

    #[test]
    fn error_parts() {
        let (m, d) = parse_error_part(br#"{"message":"nope","statusCode":404,"code":"FILE_NOT_FOUND"}"#, Some("application/json"));
        assert_eq!(m, "nope");
        let d = d.unwrap();
        assert_eq!((d.status_code, d.code.as_deref()), (Some(404.0), Some("FILE_NOT_FOUND")));
        let (m, d) = parse_error_part(b" plain \n", Some("text/plain"));
        assert_eq!((m.as_str(), d), ("plain", None));
        let r = DownloadResult { source: "x".into(), result: None, error: Some("nope".into()), error_details: Some(DownloadErrorDetails { message: "nope".into(), status_code: Some(404.0), code: None, source: None }) };
        assert_eq!(r.failure().unwrap().kind, crate::error::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn the_upload_body_is_the_form_data_packages() {
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("local.json");
        std::fs::write(&local, b"{}").unwrap();
        let files = vec![(FileSource::Bytes(Bytes::from_static(b"hello")), "/tmp/a.txt".to_string()), (FileSource::Path(local.to_string_lossy().into()), "b".to_string())];
        let body = upload_body(&files).unwrap();
        let boundary = body.content_type.strip_prefix("multipart/form-data; boundary=").unwrap().to_string();
        let all: Vec<u8> = (body.make)().unwrap().map(|b| b.unwrap().to_vec()).concat().await;
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files[0].path\"\r\n\r\n/tmp/a.txt\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files[0].file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"files[1].path\"\r\n\r\nb\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files[1].file\"; filename=\"b\"\r\nContent-Type: application/json\r\n\r\n{{}}\r\n--{boundary}--\r\n"
        );
        assert_eq!(String::from_utf8(all).unwrap(), expected);
        let missing = upload_body(&[(FileSource::Path("/nonexistent/x".into()), "x".into())]).err().unwrap();
        assert_eq!(missing.kind, crate::error::ErrorKind::NotFound);
    }
}
