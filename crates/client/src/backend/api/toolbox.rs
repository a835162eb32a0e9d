//! Toolbox calls through the sandbox's toolbox proxy (reference §3.8): `process/execute`,
//! `files/bulk-upload` (multipart, streamed from a buffer or a local file), `files/bulk-download`
//! (multipart response parsed as it arrives; a file can go straight to disk).

use crate::backend::OperationContext;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::Method;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::errors::create_error;
use super::http::{Body, Deadline, Request};
use super::toolbox_form::{self, Event, FormError, Parts};
use super::{ApiBackend, dto, per_call_deadline};
use crate::error::{ClientError, Result};
use crate::types::*;

/// Extra time an exec request gets over its execution timeout (`EXEC_TIMEOUT_BUFFER_MS`).
const EXEC_TIMEOUT_BUFFER_MS: f64 = 5000.0;

/// `path.basename`, POSIX.
fn basename(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "";
    }
    t.rsplit('/').next().unwrap_or(t)
}

/// The HTTP deadline of `executeCommand`: a positive execution timeout plus 5 s, whatever
/// `requestTimeoutMs` is (the official SDK applies it only when a positive `requestTimeoutMs`
/// was configured, and otherwise waits up to 24 h for a command that should have ended after
/// `timeout`). A timeout of 0 (no limit) lifts a configured `requestTimeoutMs`, as in the
/// official SDK; no timeout at all leaves the request timeout.
pub fn exec_deadline(timeout: Option<f64>, request_timeout_ms: Option<f64>) -> Deadline {
    match (timeout, request_timeout_ms) {
        (Some(t), _) if t > 0.0 && t.is_finite() => Deadline::Ms(t * 1000.0 + EXEC_TIMEOUT_BUFFER_MS),
        (Some(_), Some(r)) if r > 0.0 => Deadline::Ms(0.0),
        _ => Deadline::Default,
    }
}

/// `{message, errorDetails}` of a bulk-download `error` part.
pub fn download_error(data: &[u8], content_type: Option<&str>) -> ClientError {
    let mut message = String::from_utf8_lossy(data).trim().to_string();
    let is_json = content_type.is_some_and(|c| c.to_ascii_lowercase().contains("application/json"));
    if !is_json {
        return ClientError::generic(message);
    }
    let Ok(Value::Object(payload)) = serde_json::from_str::<Value>(&message) else {
        return ClientError::generic(message);
    };
    if let Some(m) = payload.get("message").and_then(Value::as_str) {
        message = m.to_string();
    }
    let status = match payload.get("statusCode") {
        Some(Value::Null) | None => payload.get("status_code"),
        some => some,
    }
    .and_then(Value::as_f64);
    let code = match payload.get("code") {
        Some(Value::Null) | None => payload.get("error_code"),
        some => some,
    }
    .and_then(Value::as_str)
    .map(str::to_string);
    let source = payload.get("source").and_then(Value::as_str).map(str::to_string);
    let status = status.filter(|s| s.fract() == 0.0 && *s >= 0.0 && *s <= 65535.0).map(|s| s as u16);
    create_error(message, status, None, code, source)
}

impl ApiBackend {
    /// `{toolboxProxyUrl}/{id}` (with one `/` between); a URL not known yet is asked for within
    /// `deadline` (the deadline of the call that needs it).
    pub(super) async fn toolbox_base(&self, id: &str, deadline: Deadline) -> Result<String> {
        let known = self.toolbox.lock().unwrap().get(id).cloned();
        let url = match known {
            Some(u) => u,
            None => {
                let u = self.fetch_toolbox_url_within(id, deadline).await?;
                self.http.trust_origin_of(&u);
                self.toolbox.lock().unwrap().insert(id.to_string(), u.clone());
                u
            }
        };
        let sep = if url.ends_with('/') { "" } else { "/" };
        Ok(format!("{url}{sep}{id}"))
    }

    pub(super) async fn execute(&self, id: &str, request: &ExecRequest) -> Result<ExecResult> {
        let deadline = exec_deadline(request.timeout, self.http.config().request_timeout_ms);
        let url = format!("{}/process/execute", self.toolbox_base(id, deadline).await?);
        let mut req = Request::new(Method::POST, url).json(dto::execute_body(request)).deadline(deadline);
        req.max_body = super::http::MAX_EXEC_BODY;
        let v = self.http.json(&req).await?;
        let exit_code = v.get("exitCode").filter(|x| !x.is_null()).or_else(|| v.get("code")).and_then(Value::as_f64).unwrap_or(0.0);
        let result = v.get("result").and_then(Value::as_str).unwrap_or_default().to_string();
        Ok(ExecResult { exit_code: exit_code as i64, result })
    }

    pub(super) async fn upload(&self, ctx: &OperationContext, id: &str, source: UploadSource, remote_path: &str) -> Result<()> {
        let deadline = per_call_deadline(ctx.timeout());
        let url = format!("{}/files/bulk-upload", self.toolbox_base(id, deadline).await?);
        let filename = basename(remote_path).to_string();
        let content_type = match &source {
            UploadSource::Path(p) => match toolbox_form::guess_content_type(basename(p)) {
                "application/octet-stream" => toolbox_form::guess_content_type(&filename),
                t => t,
            },
            UploadSource::Bytes(_) => toolbox_form::guess_content_type(&filename),
        };
        let boundary = toolbox_form::new_boundary();
        let head = Bytes::from(toolbox_form::upload_head(&boundary, remote_path, &filename, content_type));
        let tail = Bytes::from(toolbox_form::upload_tail(&boundary));
        let make: Arc<dyn Fn() -> Result<reqwest::Body> + Send + Sync> = match source {
            UploadSource::Bytes(b) => {
                let content = Bytes::from(b);
                Arc::new(move || {
                    let mut all = Vec::with_capacity(head.len() + content.len() + tail.len());
                    all.extend_from_slice(&head);
                    all.extend_from_slice(&content);
                    all.extend_from_slice(&tail);
                    Ok(reqwest::Body::from(all))
                })
            }
            UploadSource::Path(p) => {
                // Fail before any request when the file cannot be read.
                std::fs::File::open(&p).map_err(|e| crate::backend::local_read_error(&p, e))?;
                Arc::new(move || {
                    let file = std::fs::File::open(&p).map_err(|e| crate::backend::local_read_error(&p, e))?;
                    Ok(reqwest::Body::wrap_stream(file_stream(head.clone(), file, tail.clone())))
                })
            }
        };
        let mut req = Request::new(Method::POST, url).deadline(deadline);
        req.accept = "*/*";
        req.follow_redirects = false;
        req.body = Body::Stream { content_type: toolbox_form::content_type_header(&boundary), make };
        self.http.send(&req).await?;
        Ok(())
    }

    /// Downloads one file: into memory (`local_path` None) or to `local_path`.
    pub(super) async fn download(&self, ctx: &OperationContext, id: &str, remote_path: &str, local_path: Option<&str>) -> Result<Option<Vec<u8>>> {
        let deadline = per_call_deadline(ctx.timeout());
        let url = format!("{}/files/bulk-download", self.toolbox_base(id, deadline).await?);
        let body = super::json::stringify(&serde_json::json!({ "paths": [remote_path] }));
        let mut req = Request::new(Method::POST, url).json(body).deadline(deadline);
        req.accept = "multipart/form-data";
        let resp = self.http.send_streaming(&req).await?;
        let content_type = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let boundary = toolbox_form::boundary_of(&content_type)
            .ok_or_else(|| ClientError::generic(format!("Unsupported content type: {content_type}")))?;
        let mut parts = Parts::new(resp.bytes_stream(), &boundary);

        enum Sink {
            None,
            Memory(Vec<u8>),
            File(tokio::fs::File),
            Error(Vec<u8>, Option<String>),
        }
        let mut sink = Sink::None;
        let mut result: Option<Vec<u8>> = None;
        let mut wrote_file = false;
        let mut error: Option<ClientError> = None;
        let timeout_ms = self.http.deadline_ms(req.deadline);
        loop {
            let event = match parts.next().await {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(FormError::Read(e)) => match e.downcast::<reqwest::Error>() {
                    Ok(e) => return Err(self.http.transport_error(&e, timeout_ms).1),
                    Err(e) => return Err(ClientError::generic(e.to_string())),
                },
                Err(FormError::Malformed(m)) => return Err(ClientError::generic(m)),
            };
            match event {
                Event::Part { name, filename, content_type } => {
                    sink = match filename {
                        // A part without a file name is a plain field: ignored.
                        None => Sink::None,
                        Some(f) if f.is_empty() => return Err(ClientError::generic("Received unexpected file \"\".")),
                        Some(f) if f != remote_path => {
                            return Err(ClientError::generic(format!("Target metadata missing for valid source: {f}")));
                        }
                        Some(_) => match name.as_deref() {
                            Some("error") => Sink::Error(Vec::new(), content_type),
                            Some("file") => match local_path {
                                Some(p) => {
                                    let f = tokio::fs::File::create(p)
                                        .await
                                        .map_err(|e| ClientError::generic(format!("Write stream failed: {e}")))?;
                                    Sink::File(f)
                                }
                                None => Sink::Memory(Vec::new()),
                            },
                            _ => Sink::None,
                        },
                    };
                }
                Event::Data(d) => match &mut sink {
                    Sink::None => {}
                    Sink::Memory(buf) => buf.extend_from_slice(&d),
                    Sink::Error(buf, _) => {
                        // An error part is a short JSON message: keep its first MiB.
                        let room = super::http::MAX_ERROR_BODY.saturating_sub(buf.len());
                        buf.extend_from_slice(&d[..d.len().min(room)]);
                    }
                    Sink::File(f) => {
                        f.write_all(&d).await.map_err(|e| ClientError::generic(format!("Write stream failed: {e}")))?;
                    }
                },
                Event::End => match std::mem::replace(&mut sink, Sink::None) {
                    Sink::None => {}
                    Sink::Memory(buf) => result = Some(buf),
                    Sink::File(mut f) => {
                        f.flush().await.map_err(|e| ClientError::generic(format!("Write stream failed: {e}")))?;
                        wrote_file = true;
                    }
                    Sink::Error(buf, ct) => error = Some(download_error(&buf, ct.as_deref())),
                },
            }
        }
        if let Some(e) = error {
            let mut e = e;
            e.message = self.http.scrub(&e.message);
            return Err(e);
        }
        if result.is_none() && !wrote_file {
            return Err(ClientError::generic("No data received for this file"));
        }
        Ok(result)
    }
}

/// `head`, the file's bytes in 256 KiB chunks, `tail`.
fn file_stream(head: Bytes, file: std::fs::File, tail: Bytes) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    use tokio::io::AsyncReadExt;
    enum Stage {
        Head(Bytes, tokio::fs::File, Bytes),
        Body(tokio::fs::File, Bytes),
        Done,
    }
    futures_util::stream::unfold(Stage::Head(head, tokio::fs::File::from_std(file), tail), |stage| async move {
        match stage {
            Stage::Head(h, f, t) => Some((Ok(h), Stage::Body(f, t))),
            Stage::Body(mut f, t) => {
                let mut buf = vec![0u8; 256 * 1024];
                match f.read(&mut buf).await {
                    Ok(0) => Some((Ok(t), Stage::Done)),
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(Bytes::from(buf)), Stage::Body(f, t)))
                    }
                    Err(e) => Some((Err(e), Stage::Done)),
                }
            }
            Stage::Done => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn exec_deadline_rule() {
        assert_eq!(exec_deadline(Some(5.0), Some(30_000.0)), Deadline::Ms(10_000.0));
        assert_eq!(exec_deadline(Some(0.0), Some(30_000.0)), Deadline::Ms(0.0));
        assert_eq!(exec_deadline(Some(0.0), None), Deadline::Default);
        // Bounded by its own timeout even without requestTimeoutMs (the official SDK: 24 h).
        assert_eq!(exec_deadline(Some(5.0), None), Deadline::Ms(10_000.0));
        assert_eq!(exec_deadline(Some(5.0), Some(0.0)), Deadline::Ms(10_000.0));
        assert_eq!(exec_deadline(None, Some(30_000.0)), Deadline::Default);
    }

    #[test]
    fn download_error_parts() {
        let e = download_error(
            br#"{"message":"file not found","statusCode":404,"code":"FILE_NOT_FOUND","source":"DAYTONA_DAEMON"}"#,
            Some("application/json"),
        );
        assert_eq!((e.kind, e.message.as_str(), e.status_code), (ErrorKind::FileNotFound, "file not found", Some(404)));
        let e = download_error(b" plain failure \n", Some("text/plain"));
        assert_eq!((e.kind, e.message.as_str(), e.status_code), (ErrorKind::Generic, "plain failure", None));
        let e = download_error(br#"{"message":"denied","status_code":403}"#, Some("application/json; charset=utf-8"));
        assert_eq!((e.kind, e.status_code), (ErrorKind::Authorization, Some(403)));
        let e = download_error(b"[1]", Some("application/json"));
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Generic, "[1]"));
    }

    #[test]
    fn basenames() {
        assert_eq!(basename("/home/x/data.csv"), "data.csv");
        assert_eq!(basename("rel.txt"), "rel.txt");
        assert_eq!(basename("/tmp/dir/"), "dir");
        assert_eq!(basename("/"), "");
    }
}
