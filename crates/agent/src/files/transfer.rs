//! File bodies: `GET /files/download`, `POST /files/bulk-download` (multipart answer),
//! `POST /files/bulk-upload` and `POST /files/upload-v2` (multipart or raw requests). Every
//! byte streams: a reader thread feeds a small bounded channel into the response, and request
//! parts are written to disk as they arrive, so memory stays bounded whatever the file size.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode, header};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::{absolute, os_error, reason, status_of};
use crate::http::{self, ApiError, ApiResult, Body};

const CHUNK: usize = 256 * 1024;
/// Chunks in flight between the reader thread and the connection.
const DEPTH: usize = 4;
const BOUNDARY: &str = "DAYTONA-FILE-BOUNDARY";

type Tx = mpsc::Sender<io::Result<Bytes>>;

fn channel_body(rx: mpsc::Receiver<io::Result<Bytes>>) -> Body {
    let stream =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|item| (item.map(Frame::data), rx)) },
        );
    StreamBody::new(stream).boxed_unsync()
}

/// Copies the open file into the channel; false when the client went away.
fn pump(f: impl Read, tx: &Tx) -> bool {
    let mut f = f;
    loop {
        let mut buf = vec![0u8; CHUNK];
        match f.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => {
                buf.truncate(n);
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    return false;
                }
            }
            Err(e) => {
                // Ends the body abnormally: the client sees a truncated transfer, not a short file.
                let _ = tx.blocking_send(Err(e));
                return false;
            }
        }
    }
}

pub async fn download(path: String) -> ApiResult {
    let abs = absolute(&path);
    let (f, len) = tokio::task::spawn_blocking(move || -> Result<(File, Option<u64>), ApiError> {
        let md = std::fs::metadata(&abs).map_err(|e| ApiError::new(status_of(&e), os_error("stat", &abs, &e)))?;
        if md.is_dir() {
            return Err(ApiError::bad_request("path must be a file"));
        }
        let f = File::open(&abs).map_err(|e| ApiError::new(status_of(&e), os_error("open", &abs, &e)))?;
        let md = f.metadata().unwrap_or(md);
        // A length only where the size is the content's: /proc files say 0, devices nothing.
        let len = (md.is_file() && md.len() > 0).then_some(md.len());
        Ok((f, len))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let (tx, rx) = mpsc::channel(DEPTH);
    std::thread::spawn(move || match len {
        // Never more than announced, even if the file grows meanwhile (a shrinking file ends
        // the body early, which the client sees as a cut-off transfer).
        Some(n) => pump(f.take(n), &tx),
        None => pump(f, &tx),
    });
    let name = super::file_name(Path::new(&path));
    let mut r = Response::new(channel_body(rx));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/octet-stream"));
    if let Some(n) = len {
        h.insert(header::CONTENT_LENGTH, n.into());
    }
    if let Ok(v) = header::HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"; filename*=utf-8''{}",
        to_latin1(&name),
        rfc5987(&name)
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// A quoted-string-safe form of a name: `\` and `"` escaped, CR/LF/NUL dropped, other control
/// characters and characters beyond Latin-1 replaced by `_`.
fn to_latin1(s: &str) -> String {
    let mut out = Vec::new();
    for c in s.chars() {
        match c {
            '\\' | '"' => {
                out.push(b'\\');
                out.push(c as u8);
            }
            '\r' | '\n' | '\0' => {}
            c if (c as u32) < 0x20 || c as u32 == 0x7f || c as u32 > 0xff => out.push(b'_'),
            c => out.push(c as u32 as u8),
        }
    }
    // Header values are bytes; Latin-1 code points map one to one.
    out.iter().map(|&b| b as char).collect()
}

/// RFC 5987 percent-encoding (attr-char kept).
fn rfc5987(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn disposition(name: &str, path: &str) -> String {
    format!("form-data; name=\"{name}\"; filename=\"{}\"; filename*=utf-8''{}", to_latin1(path), rfc5987(path))
}

/// Content type by extension (the common ones; anything else is octet-stream).
fn content_type(path: &str) -> &'static str {
    let ext = Path::new(path).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "avif" => "image/avif",
        "css" => "text/css; charset=utf-8",
        "gif" => "image/gif",
        "htm" | "html" => "text/html; charset=utf-8",
        "jpeg" | "jpg" => "image/jpeg",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "wasm" => "application/wasm",
        "webp" => "image/webp",
        "xml" => "text/xml; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[derive(serde::Deserialize)]
struct BulkDownload {
    paths: Vec<String>,
}

pub async fn bulk_download(req: Request<Incoming>) -> ApiResult {
    let paths = match http::body_json::<BulkDownload>(req).await {
        Ok(b) if !b.paths.is_empty() => b.paths,
        // The daemon answers this one with a bare `{error}` object.
        _ => {
            return Ok(http::json_response(
                StatusCode::BAD_REQUEST,
                &json!({ "error": "request body must be {\"paths\": [ ... ]} and non-empty" }),
            ));
        }
    };
    let (tx, rx) = mpsc::channel(DEPTH);
    std::thread::spawn(move || {
        for (i, path) in paths.iter().enumerate() {
            let sep = if i == 0 { "" } else { "\r\n" };
            match open_for_download(path) {
                Ok((f, len)) => {
                    let head = format!(
                        "{sep}--{BOUNDARY}\r\nContent-Disposition: {}\r\nContent-Length: {len}\r\nContent-Type: {}\r\n\r\n",
                        disposition("file", path),
                        content_type(path)
                    );
                    if tx.blocking_send(Ok(Bytes::from(head))).is_err() || !pump(f, &tx) {
                        return;
                    }
                }
                Err((status, code, message)) => {
                    let payload = json!({
                        "statusCode": status.as_u16(),
                        "message": message,
                        "code": code,
                        "timestamp": http::rfc3339_now(),
                        "path": path,
                        "method": "POST",
                    });
                    let part = format!(
                        "{sep}--{BOUNDARY}\r\nContent-Disposition: {}\r\nContent-Type: application/json; charset=utf-8\r\n\r\n{payload}",
                        disposition("error", path)
                    );
                    if tx.blocking_send(Ok(Bytes::from(part))).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.blocking_send(Ok(Bytes::from(format!("\r\n--{BOUNDARY}--\r\n"))));
    });
    let mut r = Response::new(channel_body(rx));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_str(&format!("multipart/form-data; boundary={BOUNDARY}")).expect("static header"),
    );
    Ok(r)
}

/// Opens one requested file, or says why not: (status, error code, message) as the daemon.
fn open_for_download(path: &str) -> Result<(File, u64), (StatusCode, &'static str, String)> {
    if path.is_empty() {
        return Err((StatusCode::BAD_REQUEST, "INVALID_FILE_PATH", "invalid file path: path is empty".into()));
    }
    let classify = |e: io::Error, open: bool| match e.kind() {
        io::ErrorKind::NotFound => (StatusCode::NOT_FOUND, "FILE_NOT_FOUND", format!("file not found: {path}")),
        io::ErrorKind::PermissionDenied => {
            (StatusCode::FORBIDDEN, "FILE_ACCESS_DENIED", format!("permission denied: {path}"))
        }
        _ => {
            let what = if open { "failed to open file" } else { "failed to access file" };
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "FILE_READ_FAILED",
                format!("{what}: {}", os_error("open", Path::new(path), &e)),
            )
        }
    };
    let f = File::open(path).map_err(|e| classify(e, true))?;
    let md = f.metadata().map_err(|e| classify(e, false))?;
    if md.is_dir() {
        return Err((
            StatusCode::BAD_REQUEST,
            "INVALID_FILE_PATH",
            format!("invalid file path: path points to a directory: {path}"),
        ));
    }
    Ok((f, md.len()))
}

/// The request body as a stream of data chunks (trailers dropped).
fn body_stream(req: Request<Incoming>) -> impl futures_util::Stream<Item = Result<Bytes, hyper::Error>> + Send {
    http_body_util::BodyStream::new(req.into_body()).filter_map(|frame| async move {
        match frame {
            Ok(f) => f.into_data().ok().map(Ok),
            Err(e) => Some(Err(e)),
        }
    })
}

fn boundary_of(req: &Request<Incoming>) -> Option<String> {
    let ct = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    multer::parse_boundary(ct).ok()
}

/// Writes one streamed part to `dest` (parents made first); returns the bytes written.
async fn save(field: &mut multer::Field<'_>, dest: &str) -> Result<u64, String> {
    let parent = Path::new(dest).parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(d) = parent {
        mkdir_all(d).await.map_err(|e| format!("{dest}: mkdir {}: {}", d.display(), os_error("mkdir", d, &e)))?;
    }
    let mut f = tokio::fs::File::create(dest)
        .await
        .map_err(|e| format!("{dest}: create: {}", os_error("open", Path::new(dest), &e)))?;
    let mut n = 0u64;
    let copied: Result<(), String> = async {
        while let Some(c) = field.chunk().await.map_err(|e| format!("{dest}: write: {e}"))? {
            f.write_all(&c).await.map_err(|e| format!("{dest}: write: {}", reason(&e)))?;
            n += c.len() as u64;
        }
        // Surface errors of the final write-back (network file systems report them here).
        f.flush().await.map_err(|e| format!("{dest}: close: {}", reason(&e)))
    }
    .await;
    if copied.is_err() {
        // A cut-off upload leaves no half-written file behind.
        drop(f);
        let _ = tokio::fs::remove_file(dest).await;
    }
    copied.map(|()| n)
}

async fn mkdir_all(d: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let d = d.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::DirBuilder::new().recursive(true).mode(0o755).create(&d))
        .await
        .map_err(io::Error::other)?
}

/// Reads the rest of a request body and drops it, so an early error answer reaches a client
/// that is still sending (as the daemon does for uploads) instead of a reset connection.
pub async fn drain(req: Request<Incoming>) {
    let mut body = std::pin::pin!(body_stream(req));
    while let Some(Ok(_)) = body.next().await {}
}

pub async fn bulk_upload(req: Request<Incoming>) -> ApiResult {
    let Some(boundary) = boundary_of(&req) else {
        drain(req).await;
        return Ok(http::json_response(StatusCode::BAD_REQUEST, &json!({ "errors": ["invalid multipart form"] })));
    };
    let mut mp = multer::Multipart::new(body_stream(req), boundary);
    let mut dests = std::collections::HashMap::<String, String>::new();
    let mut errors: Vec<String> = Vec::new();
    let mut files: Vec<Value> = Vec::new();
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                errors.push(format!("reading part: {e}"));
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let idx = name
            .strip_prefix("files[")
            .unwrap_or(&name)
            .trim_end_matches("].path")
            .trim_end_matches("].file")
            .to_string();
        if name.ends_with(".path") {
            match field.text().await {
                Ok(t) if t.trim().is_empty() => errors.push(format!("path[{idx}]: empty path")),
                Ok(t) => {
                    dests.insert(idx, t.trim().to_string());
                }
                Err(e) => errors.push(format!("path[{idx}]: {e}")),
            }
        } else if name.ends_with(".file") {
            let Some(dest) = dests.get(&idx).cloned() else {
                errors.push(format!("file[{idx}]: missing .path metadata"));
                continue;
            };
            match save(&mut field, &dest).await {
                Ok(n) => files.push(json!({ "path": dest, "bytes": n })),
                Err(e) => errors.push(e),
            }
        }
    }
    // The daemon reports no files as null.
    let files = if files.is_empty() { Value::Null } else { Value::Array(files) };
    if errors.is_empty() {
        http::ok(json!({ "files": files }))
    } else {
        Ok(http::json_response(StatusCode::BAD_REQUEST, &json!({ "errors": errors, "files": files })))
    }
}

/// One file to `path`: the `file` part of a multipart body, or the raw body.
pub async fn upload(req: Request<Incoming>, path: String) -> ApiResult {
    let abs = absolute(&path);
    let dest = abs.to_string_lossy().into_owned();
    if let Some(boundary) = boundary_of(&req) {
        let mut mp = multer::Multipart::new(body_stream(req), boundary);
        let mut saved: Option<Result<u64, String>> = None;
        // Every part is read (unread ones are skipped by the parser), so errors never cut the
        // request short.
        loop {
            match mp.next_field().await {
                Ok(Some(mut field)) if field.name() == Some("file") && saved.is_none() => {
                    saved = Some(save(&mut field, &dest).await);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return Err(ApiError::bad_request(e.to_string())),
            }
        }
        saved.ok_or_else(|| ApiError::bad_request("http: no such file"))?.map_err(ApiError::bad_request)?;
    } else {
        save_raw(req, &dest).await.map_err(ApiError::bad_request)?;
    }
    http::ok(json!({ "name": super::file_name(&abs), "path": dest, "type": "file" }))
}

async fn save_raw(req: Request<Incoming>, dest: &str) -> Result<u64, String> {
    let mut body = std::pin::pin!(body_stream(req));
    let opened = async {
        if let Some(d) = Path::new(dest).parent() {
            mkdir_all(d).await.map_err(|e| os_error("mkdir", d, &e))?;
        }
        tokio::fs::File::create(dest).await.map_err(|e| os_error("open", Path::new(dest), &e))
    };
    let mut f = match opened.await {
        Ok(f) => f,
        Err(e) => {
            while let Some(Ok(_)) = body.next().await {}
            return Err(e);
        }
    };
    let mut n = 0u64;
    while let Some(c) = body.next().await {
        let written = match c {
            Ok(c) => f.write_all(&c).await.map(|()| c.len()).map_err(|e| os_error("write", Path::new(dest), &e)),
            Err(e) => Err(format!("read body: {e}")),
        };
        match written {
            Ok(len) => n += len as u64,
            Err(e) => {
                // A cut-off upload leaves no half-written file behind.
                drop(f);
                let _ = tokio::fs::remove_file(dest).await;
                while let Some(Ok(_)) = body.next().await {}
                return Err(e);
            }
        }
    }
    f.flush().await.map_err(|e| os_error("close", Path::new(dest), &e))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_forms() {
        assert_eq!(super::to_latin1("a\"b\\c\nd€"), "a\\\"b\\\\cd_");
        assert_eq!(super::rfc5987("a b/é"), "a%20b%2F%C3%A9");
    }
}
