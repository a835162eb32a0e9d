//! The toolbox's multipart/form-data, both ways: the body of `files/bulk-upload`, written as the
//! `form-data` package writes it, and a reader for the `files/bulk-download` response (parts
//! are handed out as they arrive, so a large file can go straight to disk).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;

/// A boundary in the `form-data` package's style: 26 dashes and 24 random digits.
pub fn new_boundary() -> String {
    let n = uuid::Uuid::new_v4().as_u128();
    format!("--------------------------{:024}", n % 10u128.pow(24))
}

pub fn content_type_header(boundary: &str) -> String {
    format!("multipart/form-data; boundary={boundary}")
}

/// `"` and line breaks cannot appear inside a quoted header parameter; encode them as browsers do.
fn quote_param(s: &str) -> String {
    s.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A")
}

/// Everything before the bytes of the `index`th file: its `files[i].path` field and its file
/// part's header.
pub fn part_head(boundary: &str, index: usize, remote_path: &str, filename: &str, content_type: &str) -> Vec<u8> {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files[{index}].path\"\r\n\r\n{remote_path}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"files[{index}].file\"; filename=\"{}\"\r\nContent-Type: {content_type}\r\n\r\n",
        quote_param(filename)
    )
    .into_bytes()
}

/// Everything before the file's bytes of a one-file upload.
pub fn upload_head(boundary: &str, remote_path: &str, filename: &str, content_type: &str) -> Vec<u8> {
    part_head(boundary, 0, remote_path, filename, content_type)
}

/// Everything after the file's bytes.
pub fn upload_tail(boundary: &str) -> Vec<u8> {
    format!("\r\n--{boundary}--\r\n").into_bytes()
}

/// The content type the `form-data` package (mime-types) guesses for a file name; the default
/// is `application/octet-stream`.
pub fn guess_content_type(name: &str) -> &'static str {
    let ext = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() || name.matches('.').count() > 1 => ext.to_ascii_lowercase(),
        _ => return "application/octet-stream",
    };
    match ext.as_str() {
        "txt" | "text" | "conf" | "log" | "ini" | "list" | "def" | "in" => "text/plain",
        "html" | "htm" | "shtml" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "md" | "markdown" => "text/markdown",
        "xml" => "application/xml",
        "yaml" | "yml" => "text/yaml",
        "js" | "mjs" => "application/javascript",
        "cjs" => "application/node",
        "json" | "map" => "application/json",
        "ts" => "video/mp2t",
        "mts" => "model/vnd.mts",
        "sh" => "application/x-sh",
        "toml" => "application/toml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "jpg" | "jpeg" | "jpe" => "image/jpeg",
        "gif" => "image/gif",
        "svg" | "svgz" => "image/svg+xml",
        "webp" => "image/webp",
        "ico" => "image/vnd.microsoft.icon",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wave",
        "mp4" | "mp4v" | "mpg4" => "video/mp4",
        "exe" => "application/x-msdos-program",
        "dll" => "application/x-msdownload",
        _ => "application/octet-stream",
    }
}

/// The boundary of a `Content-Type` header (`/boundary="?([^";]+)"?/i`).
pub fn boundary_of(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    let i = lower.find("boundary=")?;
    let rest = &content_type[i + "boundary=".len()..];
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let end = rest.find(['"', ';']).unwrap_or(rest.len());
    let b = &rest[..end];
    if b.is_empty() { None } else { Some(b.to_string()) }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A part begins; `name` and `filename` come from its `Content-Disposition`.
    Part { name: Option<String>, filename: Option<String>, content_type: Option<String> },
    Data(Bytes),
    End,
}

/// Why reading the parts failed.
#[derive(Debug)]
pub enum FormError {
    /// The body stream itself failed (the error it yielded, e.g. a `reqwest::Error`).
    Read(BoxError),
    /// The bytes are not a complete multipart body.
    Malformed(String),
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Incremental multipart reader over a response body: framing and part headers are multer's
/// (already in the tree through crates/agent); the `Content-Disposition` parameters are read
/// here, as the official SDK's parser reads them (`filename*`, backslash escapes). Parts are
/// handed out as they arrive, so a large file can go straight to disk: at most twice
/// [`YIELD_AFTER`] plus one network chunk is held (read while parsing the headers, then for
/// the next piece of data). A body that gives no event for [`MAX_WITHOUT_EVENT`] bytes (a
/// preamble or part headers that do not end) is refused instead of buffered.
pub struct Parts {
    multipart: multer::Multipart<'static>,
    field: Option<multer::Field<'static>>,
    parts_seen: usize,
    /// Bytes read from the body since the last event was handed out.
    unconsumed: Arc<AtomicUsize>,
}

/// The most the reader takes from the body without handing out an event.
pub const MAX_WITHOUT_EVENT: usize = 8 << 20;

/// How many bytes the reader takes from the body before it lets the consumer run (multer reads
/// everything the stream has ready; this keeps that bounded).
pub const YIELD_AFTER: usize = 256 << 10;

impl Parts {
    pub fn new<S, E>(body: S, boundary: &str) -> Parts
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let unconsumed = Arc::new(AtomicUsize::new(0));
        let body = Bounded { inner: Box::pin(body), since_yield: 0, unconsumed: unconsumed.clone() };
        Parts { multipart: multer::Multipart::new(body, boundary), field: None, parts_seen: 0, unconsumed }
    }

    /// The next event; `None` after the closing delimiter (the epilogue is not read).
    pub async fn next(&mut self) -> Result<Option<Event>, FormError> {
        let next = self.next_event().await;
        self.unconsumed.store(0, Ordering::Relaxed);
        next
    }

    async fn next_event(&mut self) -> Result<Option<Event>, FormError> {
        if let Some(field) = &mut self.field {
            loop {
                match field.chunk().await {
                    Ok(Some(data)) if data.is_empty() => continue,
                    Ok(Some(data)) => return Ok(Some(Event::Data(data))),
                    Ok(None) => {
                        self.field = None;
                        return Ok(Some(Event::End));
                    }
                    Err(e) => return Err(self.error(e)),
                }
            }
        }
        match self.multipart.next_field().await {
            Ok(Some(field)) => {
                let header = |name| field.headers().get(name).map(|v: &http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned());
                let event = part_event(header(http::header::CONTENT_DISPOSITION).as_deref(), header(http::header::CONTENT_TYPE));
                self.field = Some(field);
                self.parts_seen += 1;
                Ok(Some(event))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    fn error(&self, e: multer::Error) -> FormError {
        match e {
            multer::Error::StreamReadFailed(e) if e.is::<TooMuchWithoutEvent>() => {
                FormError::Malformed(format!("the multipart response has no part data in {MAX_WITHOUT_EVENT} bytes"))
            }
            multer::Error::StreamReadFailed(e) => FormError::Read(e),
            multer::Error::IncompleteStream if self.parts_seen == 0 => FormError::Malformed("the response has no multipart parts".into()),
            multer::Error::IncompleteStream | multer::Error::IncompleteFieldData { .. } => {
                FormError::Malformed("the multipart response ended in the middle of a part".into())
            }
            e => FormError::Malformed(format!("malformed multipart response: {e}")),
        }
    }
}

/// The body stream, made to return `Pending` (waking itself at once) after [`YIELD_AFTER`]
/// bytes, so that multer's "read all that is ready" stops there, and to fail once
/// [`MAX_WITHOUT_EVENT`] bytes were read without an event.
struct Bounded<E> {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, E>> + Send>>,
    since_yield: usize,
    unconsumed: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct TooMuchWithoutEvent;

impl std::fmt::Display for TooMuchWithoutEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no multipart event in {MAX_WITHOUT_EVENT} bytes")
    }
}

impl std::error::Error for TooMuchWithoutEvent {}

impl<E: Into<BoxError>> Stream for Bounded<E> {
    type Item = Result<Bytes, BoxError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.unconsumed.load(Ordering::Relaxed) > MAX_WITHOUT_EVENT {
            return Poll::Ready(Some(Err(Box::new(TooMuchWithoutEvent))));
        }
        if self.since_yield >= YIELD_AFTER {
            self.since_yield = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.since_yield += chunk.len();
                self.unconsumed.fetch_add(chunk.len(), Ordering::Relaxed);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The event for a part's `Content-Disposition` and `Content-Type` header values.
fn part_event(disposition: Option<&str>, content_type: Option<String>) -> Event {
    let mut name = None;
    let mut filename = None;
    let mut filename_ext = None;
    for (pk, pv) in disposition.map(disposition_params).unwrap_or_default() {
        match pk.as_str() {
            "name" => name = Some(pv),
            "filename" => filename = Some(pv),
            "filename*" => filename_ext = decode_ext_value(&pv),
            _ => {}
        }
    }
    Event::Part { name, filename: filename_ext.or(filename), content_type }
}

/// `form-data; name="a"; filename="b"` → [("name","a"), ("filename","b")]. Quoted strings may
/// contain `;` and backslash escapes.
fn disposition_params(v: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = v.chars().collect();
    let mut i = 0;
    // Skip the disposition type.
    while i < chars.len() && chars[i] != ';' {
        i += 1;
    }
    while i < chars.len() {
        i += 1; // ';'
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' && chars[i] != ';' {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect::<String>().trim().to_ascii_lowercase();
        if i >= chars.len() || chars[i] == ';' {
            continue;
        }
        i += 1; // '='
        let mut value = String::new();
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
            i += 1; // closing quote
            while i < chars.len() && chars[i] != ';' {
                i += 1;
            }
        } else {
            let s = i;
            while i < chars.len() && chars[i] != ';' {
                i += 1;
            }
            value = chars[s..i].iter().collect::<String>().trim().to_string();
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
    out
}

/// RFC 5987 `utf-8''percent%20encoded`.
fn decode_ext_value(v: &str) -> Option<String> {
    let (charset, rest) = v.split_once('\'')?;
    let (_, encoded) = rest.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(boundary: &str) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(format!("preamble\r\n--{boundary}\r\n").as_bytes());
        body.extend_from_slice(b"Content-Disposition: form-data; name=\"file\"; filename=\"/tmp/a b.txt\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.extend_from_slice(b"line1\r\nline2 --not-the-boundary\r\n");
        body.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
        body.extend_from_slice(b"Content-Disposition: form-data; name=\"error\"; filename=\"/missing\"\r\nContent-Type: application/json\r\n\r\n");
        body.extend_from_slice(br#"{"message":"file not found","statusCode":404,"code":"FILE_NOT_FOUND","source":"DAYTONA_DAEMON"}"#);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\nepilogue").as_bytes());
        body
    }

    fn collect(events: Vec<Event>) -> Vec<(Option<String>, Option<String>, Vec<u8>)> {
        let mut parts = Vec::new();
        for e in events {
            match e {
                Event::Part { name, filename, .. } => parts.push((name, filename, Vec::new())),
                Event::Data(d) => parts.last_mut().unwrap().2.extend(d),
                Event::End => {}
            }
        }
        parts
    }

    /// Reads `body` delivered in chunks of `chunk` bytes: every event, or the first error.
    async fn read(body: &[u8], chunk: usize, boundary: &str) -> Result<Vec<Event>, String> {
        let chunks: Vec<Result<Bytes, std::io::Error>> = body.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let mut parts = Parts::new(futures_util::stream::iter(chunks), boundary);
        let mut events = Vec::new();
        loop {
            match parts.next().await {
                Ok(Some(e)) => events.push(e),
                Ok(None) => return Ok(events),
                Err(FormError::Malformed(m)) => return Err(m),
                Err(FormError::Read(e)) => return Err(format!("read: {e}")),
            }
        }
    }

    #[tokio::test]
    async fn parses_in_any_chunking() {
        let boundary = "XyZ123";
        let body = sample(boundary);
        for chunk in [1usize, 2, 3, 7, 16, 1000] {
            let parts = collect(read(&body, chunk, boundary).await.unwrap());
            assert_eq!(parts.len(), 2, "chunk {chunk}");
            assert_eq!(parts[0].0.as_deref(), Some("file"));
            assert_eq!(parts[0].1.as_deref(), Some("/tmp/a b.txt"));
            assert_eq!(parts[0].2, b"line1\r\nline2 --not-the-boundary\r\n");
            assert_eq!(parts[1].0.as_deref(), Some("error"));
            assert!(String::from_utf8_lossy(&parts[1].2).contains("FILE_NOT_FOUND"));
        }
    }

    #[tokio::test]
    async fn truncated_and_empty_bodies() {
        let e = read(b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\nabc", 1000, "b").await;
        assert_eq!(e.unwrap_err(), "the multipart response ended in the middle of a part");
        let ev = read(b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n\r\n--b--", 1000, "b").await.unwrap();
        assert_eq!(collect(ev), [(Some("file".into()), Some("x".into()), vec![])]);
        assert_eq!(read(b"nothing", 1000, "b").await.unwrap_err(), "the response has no multipart parts");
    }

    #[tokio::test]
    async fn stream_errors_are_passed_through() {
        let chunks = vec![Ok(Bytes::from_static(b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\nab")), Err(std::io::Error::other("cut"))];
        let mut parts = Parts::new(futures_util::stream::iter(chunks), "b");
        // The error comes with the next event that needs the body past the bytes before it.
        let err = loop {
            match parts.next().await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("ended"),
                Err(e) => break e,
            }
        };
        let FormError::Read(e) = err else { panic!("{err:?}") };
        assert_eq!(e.downcast::<std::io::Error>().unwrap().to_string(), "cut");
    }

    #[tokio::test]
    async fn a_large_part_is_handed_out_in_bounded_pieces() {
        // 64 MiB of file in 64 KiB chunks, all ready at once: no event carries more than the
        // reader's bound.
        let head = Bytes::from_static(b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n");
        let piece = Bytes::from(vec![b'a'; 64 << 10]);
        let body = std::iter::once(head)
            .chain(std::iter::repeat_n(piece, 1024))
            .chain(std::iter::once(Bytes::from_static(b"\r\n--b--\r\n")))
            .map(Ok::<_, std::io::Error>);
        let mut parts = Parts::new(futures_util::stream::iter(body), "b");
        let (mut total, mut largest) = (0, 0);
        while let Some(e) = parts.next().await.unwrap() {
            if let Event::Data(d) = e {
                total += d.len();
                largest = largest.max(d.len());
            }
        }
        assert_eq!(total, 64 << 20);
        assert!(largest <= 2 * YIELD_AFTER + (64 << 10), "largest piece {largest}");
    }

    #[tokio::test]
    async fn a_body_that_never_gets_to_data_is_refused() {
        // An endless preamble, and part headers that never end: an error after the bound, not
        // a buffer that grows with the body.
        let piece = Bytes::from(vec![b'x'; 64 << 10]);
        for head in [&b""[..], b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\nX-Pad: "] {
            let body = std::iter::once(Bytes::copy_from_slice(head)).chain(std::iter::repeat(piece.clone())).map(Ok::<_, std::io::Error>);
            let mut parts = Parts::new(futures_util::stream::iter(body), "b");
            match parts.next().await {
                Err(FormError::Malformed(m)) => assert_eq!(m, format!("the multipart response has no part data in {MAX_WITHOUT_EVENT} bytes")),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn disposition_forms() {
        assert_eq!(
            part_event(Some("form-data; name=file; filename=\"a\\\"b;c\""), None),
            Event::Part { name: Some("file".into()), filename: Some("a\"b;c".into()), content_type: None }
        );
        assert_eq!(
            part_event(Some("form-data; name=\"file\"; filename*=UTF-8''%C3%A4.txt"), None),
            Event::Part { name: Some("file".into()), filename: Some("ä.txt".into()), content_type: None }
        );
    }

    #[test]
    fn boundary_and_upload_body() {
        assert_eq!(boundary_of("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary_of("multipart/form-data; BOUNDARY=\"a b\"; x=y").as_deref(), Some("a b"));
        assert_eq!(boundary_of("application/json"), None);
        let b = new_boundary();
        assert_eq!(b.len(), 50);
        assert!(b.starts_with("--------------------------"));
        let mut body = upload_head("B", "/home/x/data.csv", "data.csv", "text/csv");
        body.extend_from_slice(b"1,2\n");
        body.extend(upload_tail("B"));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "--B\r\nContent-Disposition: form-data; name=\"files[0].path\"\r\n\r\n/home/x/data.csv\r\n--B\r\nContent-Disposition: form-data; name=\"files[0].file\"; filename=\"data.csv\"\r\nContent-Type: text/csv\r\n\r\n1,2\n\r\n--B--\r\n"
        );
        assert_eq!(guess_content_type("a.JSON"), "application/json");
        assert_eq!(guess_content_type("noext"), "application/octet-stream");
        assert_eq!(guess_content_type(".bashrc"), "application/octet-stream");
    }

    #[tokio::test]
    async fn our_upload_parses_back() {
        let mut body = upload_head("B", "/p", "f", "application/octet-stream");
        body.extend(upload_tail("B"));
        let parts = collect(read(&body, 1000, "B").await.unwrap());
        assert_eq!(parts[0].2, b"/p");
        assert_eq!(parts[1].1.as_deref(), Some("f"));
    }
}
