//! HTTP transport of the API backend: the official SDK's headers, per-request deadlines
//! (`requestTimeoutMs`, or the per-call timeout; each covers connecting, the response head and
//! the whole body), the retry policy of [`super::retry`], and the error translation of
//! [`super::errors`]. The credential goes only to trusted origins (the configured API and the
//! toolbox proxies the API named) and never into an error message, header value or log line, in
//! any encoding ([`Scrubber`]). Response bodies are read with a byte limit ([`MAX_JSON_BODY`],
//! [`MAX_EXEC_BODY`], [`MAX_ERROR_BODY`]), never buffered whole first.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::config::ApiConfig;
use super::errors;
use super::retry::{self, Decision, Failure};
use crate::error::{ClientError, ErrorKind, Result};

/// `X-Daytona-Source` of this package.
pub const SOURCE_LABEL: &str = "sdk-typescript-native";
/// `X-Daytona-SDK-Version`: this package's version.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The official SDK's default `requestTimeoutMs` (24 h).
pub const DEFAULT_REQUEST_TIMEOUT_MS: f64 = 86_400_000.0;

/// The largest JSON response body read from the API or the toolbox (every call except
/// `process/execute`): 32 MiB, hundreds of times the largest page the API sends. A larger body
/// is a `DaytonaError` naming the limit (code `RESPONSE_TOO_LARGE`), detected after at most
/// this many bytes were read.
pub const MAX_JSON_BODY: usize = 32 << 20;
/// The largest `process/execute` response body: 256 MiB. The command output inside it then has
/// at most 2^28 UTF-16 code units, so it always fits in a JavaScript string (V8's limit is
/// 2^29 - 24) and the client's memory stays near twice the body at most.
pub const MAX_EXEC_BODY: usize = 256 << 20;
/// How much of an error response's body is read for its message (the rest is ignored).
pub const MAX_ERROR_BODY: usize = 1 << 20;
/// `code` of the error for a response body over its limit.
pub const TOO_LARGE_CODE: &str = "RESPONSE_TOO_LARGE";

pub use crate::backend::Deadline;

/// A request body that can be produced again for a retry.
#[derive(Clone)]
pub enum Body {
    Empty,
    Json(String),
    /// A streamed body with its content type, built afresh for every attempt.
    Stream { content_type: String, make: Arc<dyn Fn() -> Result<reqwest::Body> + Send + Sync> },
}

pub struct Request {
    pub method: Method,
    pub url: String,
    pub accept: &'static str,
    pub body: Body,
    pub deadline: Deadline,
    /// Follow redirects (axios' default); the bulk upload sets `maxRedirects: 0`.
    pub follow_redirects: bool,
    /// Extra headers (e.g. `Range` when resuming a log stream).
    pub extra_headers: Vec<(HeaderName, HeaderValue)>,
    /// Return non-2xx responses instead of turning them into errors.
    pub any_status: bool,
    /// The largest response body [`Http::send`] reads ([`MAX_JSON_BODY`] unless said).
    pub max_body: usize,
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            accept: "application/json",
            body: Body::Empty,
            deadline: Deadline::Default,
            follow_redirects: true,
            extra_headers: Vec::new(),
            any_status: false,
            max_body: MAX_JSON_BODY,
        }
    }
    pub fn json(mut self, body: String) -> Request {
        self.body = Body::Json(body);
        self
    }
    pub fn deadline(mut self, d: Deadline) -> Request {
        self.deadline = d;
        self
    }
}

/// `scheme://host:port`, for comparing where a URL points.
pub fn origin_of(url: &str) -> Option<String> {
    let u = Url::parse(url).ok()?;
    Some(format!("{}://{}:{}", u.scheme(), u.host_str()?, u.port_or_known_default()?))
}

/// Is `host` a loopback address or name (127.0.0.0/8, ::1, `localhost`)?
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// The one-time stderr warning for a credential sent over plain HTTP to another machine.
static CLEARTEXT_WARNING: std::sync::Once = std::sync::Once::new();

/// The warning for `url` when it is plain `http://` to a host that is not loopback (`what`
/// names the endpoint), else `None`.
pub fn cleartext_warning(url: &str, what: &str) -> Option<String> {
    let u = Url::parse(url).ok()?;
    let host = u.host_str()?;
    if u.scheme() != "http" || is_loopback_host(host) {
        return None;
    }
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!(
        "daytona-native: warning: {what} http://{host}{port} is plain HTTP to {host}, which is not a loopback address: \
         the API key is sent in cleartext with every request and can be read by anyone on the network path. \
         Use https://{host} instead."
    ))
}

/// Prints [`cleartext_warning`] on stderr, at most once per process.
fn warn_if_cleartext(url: &str, what: &str) {
    if let Some(w) = cleartext_warning(url, what) {
        CLEARTEXT_WARNING.call_once(|| eprintln!("{w}"));
    }
}

/// Every form in which a credential can come back in text: as is, percent-encoded (upper- and
/// lower-case hex, with the sets of `encodeURIComponent`, RFC 3986 unreserved characters and
/// forms), JSON-escaped, and base64 (standard and URL-safe alphabets) as it appears inside any
/// base64 text (`Basic` credentials, encoded headers): the part of the encoding that depends
/// only on the credential, at each of the three byte alignments.
pub struct Scrubber {
    /// Longest first, so that no shorter form leaves part of a longer one.
    forms: Vec<String>,
}

/// The shortest form worth replacing (shorter ones would hit unrelated text).
const MIN_FORM: usize = 6;

impl Scrubber {
    pub fn new(secret: &str) -> Scrubber {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        use super::encode::URI_COMPONENT;
        use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
        let mut forms: Vec<String> = Vec::new();
        if secret.len() < 4 {
            return Scrubber { forms };
        }
        forms.push(secret.to_string());
        const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
        for set in [NON_ALPHANUMERIC, URI_COMPONENT, UNRESERVED] {
            let upper = utf8_percent_encode(secret, set).to_string();
            let lower = lower_hex_escapes(&upper);
            let form_plus = upper.replace("%20", "+");
            forms.extend([upper, lower, form_plus]);
        }
        if let Ok(json) = serde_json::to_string(secret) {
            forms.push(json[1..json.len() - 1].to_string());
        }
        let bytes = secret.as_bytes();
        for align in 0..3usize {
            let mut padded = vec![0u8; align];
            padded.extend_from_slice(bytes);
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                let enc = engine.encode(&padded);
                // Characters that also depend on the bytes before the secret...
                let skip = [0, 2, 3][align];
                // ...and on the bytes after it (the last, incomplete group).
                let drop = match padded.len() % 3 {
                    0 => 0,
                    _ => 1,
                };
                if enc.len() > skip + drop {
                    forms.push(enc[skip..enc.len() - drop].to_string());
                }
            }
        }
        forms.retain(|f| f.len() >= MIN_FORM || f == secret);
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        forms.dedup();
        Scrubber { forms }
    }

    /// `text` with every form of the secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = std::borrow::Cow::Borrowed(text);
        for f in &self.forms {
            if out.contains(f.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(f.as_str(), "***"));
            }
        }
        out.into_owned()
    }

    /// Scrubs every string inside a JSON value.
    pub fn scrub_json(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.scrub(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.scrub_json(i)),
            Value::Object(m) => m.values_mut().for_each(|i| self.scrub_json(i)),
            _ => {}
        }
    }
}

/// `%2F` -> `%2f` in percent-encoded text.
fn lower_hex_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        out.push(c);
        if c == '%' {
            for _ in 0..2 {
                if let Some(h) = it.next() {
                    out.push(h.to_ascii_lowercase());
                }
            }
        }
    }
    out
}

pub struct Http {
    client: reqwest::Client,
    no_redirect: reqwest::Client,
    config: ApiConfig,
    /// Origins the credential may go to: the API's, then every toolbox proxy the API named.
    trusted: Mutex<Vec<String>>,
    scrubber: Scrubber,
}

/// Installs rustls' ring provider once per process (reqwest and object_store are built
/// without a bundled provider).
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn build_client(follow: bool) -> Result<reqwest::Client> {
    install_crypto_provider();
    let policy = if follow { reqwest::redirect::Policy::limited(21) } else { reqwest::redirect::Policy::none() };
    reqwest::Client::builder()
        .redirect(policy)
        .build()
        .map_err(|e| ClientError::generic(format!("Cannot set up the HTTP client: {e}")))
}

/// A completed response.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Response {
    /// The body as JSON (`null` for an empty body). A body that is not JSON is a
    /// `DaytonaConnectionError`: the reply is unusable, as if it had been cut.
    pub fn json(&self) -> Result<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| errors::connection_error(format!("The Daytona API sent a response that is not valid JSON ({e})")))
    }
}

/// Why a body could not be read.
/// What [`Http::exchange`] read: the head only, or the whole response.
enum Reply {
    Head(reqwest::Response),
    Whole(Response),
}

enum BodyError {
    /// More than the limit (declared by `Content-Length`, or received).
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads a response body, at most `limit` bytes: past that, stops reading (the connection is
/// dropped) and says so. Memory: the body, never more than `limit`.
async fn read_body(resp: reqwest::Response, limit: usize) -> std::result::Result<Bytes, BodyError> {
    use futures_util::StreamExt;
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut buf = Vec::with_capacity(resp.content_length().map_or(0, |n| n as usize).min(limit));
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(BodyError::Transport)?;
        if buf.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Reads at most `limit` bytes of a body and ignores the rest (and any failure to read it).
async fn read_body_prefix(resp: reqwest::Response, limit: usize) -> Bytes {
    use futures_util::StreamExt;
    let mut buf = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let take = chunk.len().min(limit - buf.len());
        buf.extend_from_slice(&chunk[..take]);
        if buf.len() >= limit {
            break;
        }
    }
    Bytes::from(buf)
}

/// `1 MiB`, `256 MiB`, `64 KiB`.
pub fn byte_size(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// The error for a response body over its limit: names the request (without its query, which
/// may carry a signed token) and the limit.
pub fn too_large_error(method: &Method, url: &str, limit: usize) -> ClientError {
    let path = Url::parse(url).map(|u| u.path().to_string()).unwrap_or_default();
    let what = if limit == MAX_EXEC_BODY {
        format!(
            "the limit for command output ({} bytes, so that the output fits in a JavaScript string; \
             redirect large output to a file in the sandbox and download it with fs.downloadFile)",
            MAX_EXEC_BODY
        )
    } else {
        format!("the limit for a Daytona API JSON response ({limit} bytes)")
    };
    let mut e =
        ClientError::generic(format!("The response to {method} {path} is larger than {}, {what}; it was not read", byte_size(limit)));
    e.code = Some(TOO_LARGE_CODE.to_string());
    e
}

fn header_pairs(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect()
}

impl Http {
    pub fn new(config: ApiConfig) -> Result<Http> {
        let api_origin = origin_of(&config.api_url).ok_or_else(|| {
            ClientError::invalid(format!("apiUrl {} is not a valid http(s) URL", config.api_url))
        })?;
        warn_if_cleartext(&config.api_url, "apiUrl");
        let scrubber = Scrubber::new(config.token());
        Ok(Http { client: build_client(true)?, no_redirect: build_client(false)?, config, trusted: Mutex::new(vec![api_origin]), scrubber })
    }

    pub fn config(&self) -> &ApiConfig {
        &self.config
    }

    /// `{apiUrl}{path}`, as the generated client concatenates them.
    pub fn api(&self, path: &str) -> String {
        format!("{}{}", self.config.api_url, path)
    }

    pub fn api_origin(&self) -> String {
        self.trusted.lock().unwrap()[0].clone()
    }

    /// Marks the origin of a toolbox proxy URL the API returned as one the credential may go to.
    pub fn trust_origin_of(&self, url: &str) {
        if let Some(o) = origin_of(url) {
            let mut t = self.trusted.lock().unwrap();
            if !t.contains(&o) {
                warn_if_cleartext(url, "the toolbox proxy");
                t.push(o);
            }
        }
    }

    pub fn is_trusted(&self, url: &str) -> bool {
        origin_of(url).is_some_and(|o| self.trusted.lock().unwrap().contains(&o))
    }

    /// Removes the credential, in every encoding of [`Scrubber`], from text that is about to
    /// be shown (error messages, header values, log lines).
    pub fn scrub(&self, text: &str) -> String {
        self.scrubber.scrub(text)
    }

    /// [`Http::scrub`] applied to an error's message, header values and details.
    pub fn scrub_error(&self, mut e: ClientError) -> ClientError {
        e.message = self.scrub(&e.message);
        if let Some(headers) = &mut e.headers {
            for (_, v) in headers.iter_mut() {
                *v = self.scrub(v);
            }
        }
        if let Some(d) = &mut e.details {
            self.scrubber.scrub_json(d);
        }
        for field in [&mut e.code, &mut e.source] {
            if let Some(v) = field {
                *v = self.scrub(v);
            }
        }
        e
    }

    /// The official SDK's headers; `Authorization` (and the organisation header) only when
    /// `authorize`.
    pub fn headers(&self, authorize: bool) -> HeaderMap {
        let mut h = HeaderMap::new();
        let mut put = |k: &'static str, v: &str| {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(HeaderName::from_static(k), v);
            }
        };
        if authorize {
            put("authorization", &format!("Bearer {}", self.config.token()));
        }
        put("x-daytona-source", SOURCE_LABEL);
        put("x-daytona-sdk-version", SDK_VERSION);
        put("user-agent", &format!("{SOURCE_LABEL}/{SDK_VERSION}"));
        if authorize && let Some(org) = self.config.organization_header() {
            put("x-daytona-organization-id", org);
        }
        h
    }

    /// The deadline in milliseconds (`None`: no deadline).
    pub fn deadline_ms(&self, d: Deadline) -> Option<f64> {
        let ms = match d {
            Deadline::Default => self.config.request_timeout_ms.unwrap_or(DEFAULT_REQUEST_TIMEOUT_MS),
            Deadline::Ms(ms) => ms,
        };
        (ms > 0.0 && ms.is_finite()).then_some(ms)
    }

    /// Sends `req` (with retries) and returns the response head; the body is read by the caller.
    /// Non-2xx statuses are errors (their body is read for the message).
    pub async fn send_streaming(&self, req: &Request) -> Result<reqwest::Response> {
        match self.exchange(req, false).await? {
            Reply::Head(resp) => Ok(resp),
            Reply::Whole(_) => unreachable!("the head was asked for"),
        }
    }

    /// Sends `req` and reads the whole response body, at most `req.max_body` bytes (a body cut
    /// short is retried like a dropped connection, for idempotent methods).
    pub async fn send(&self, req: &Request) -> Result<Response> {
        match self.exchange(req, true).await? {
            Reply::Whole(resp) => Ok(resp),
            Reply::Head(_) => unreachable!("the whole body was asked for"),
        }
    }

    /// The one retry loop of a request: every attempt (a failed connect, a retryable status,
    /// a body cut short) counts against the same [`retry::MAX_RETRIES`].
    async fn exchange(&self, req: &Request, whole_body: bool) -> Result<Reply> {
        let authorize = self.is_trusted(&req.url);
        let timeout_ms = self.deadline_ms(req.deadline);
        let started = Instant::now();
        let mut retries = 0u32;
        loop {
            let decision = match self.attempt(req, authorize, timeout_ms).await {
                Ok(resp) if resp.status().is_success() || req.any_status => {
                    if !whole_body {
                        return Ok(Reply::Head(resp));
                    }
                    let status = resp.status().as_u16();
                    let headers = header_pairs(resp.headers());
                    match read_body(resp, req.max_body).await {
                        Ok(body) => return Ok(Reply::Whole(Response { status, headers, body })),
                        Err(BodyError::TooLarge) => return Err(too_large_error(&req.method, &req.url, req.max_body)),
                        Err(BodyError::Transport(e)) => {
                            let (failure, err) = self.transport_error(&e, timeout_ms);
                            match retry::after_failure(retries, &req.method, failure, retry::jitter()) {
                                Decision::GiveUp => return Err(self.scrub_error(err)),
                                retry => retry,
                            }
                        }
                    }
                }
                Ok(resp) => {
                    let remaining = timeout_ms.map(|ms| Duration::from_secs_f64(ms / 1000.0).saturating_sub(started.elapsed()));
                    let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok());
                    match retry::after_status(retries, &req.method, resp.status().as_u16(), retry_after, SystemTime::now(), remaining) {
                        Decision::GiveUp => return Err(self.error_from_response(resp).await),
                        retry => retry,
                    }
                }
                Err((failure, e)) => match retry::after_failure(retries, &req.method, failure, retry::jitter()) {
                    Decision::GiveUp => return Err(self.scrub_error(e)),
                    retry => retry,
                },
            };
            if let Decision::Retry(wait) = decision {
                tokio::time::sleep(wait).await;
                retries += 1;
            }
        }
    }

    /// [`Http::send`] and parse the JSON body.
    pub async fn json(&self, req: &Request) -> Result<Value> {
        self.send(req).await?.json()
    }

    async fn attempt(
        &self,
        req: &Request,
        authorize: bool,
        timeout_ms: Option<f64>,
    ) -> std::result::Result<reqwest::Response, (Failure, ClientError)> {
        let client = if req.follow_redirects { &self.client } else { &self.no_redirect };
        let mut headers = self.headers(authorize);
        headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static(req.accept));
        for (k, v) in &req.extra_headers {
            headers.insert(k.clone(), v.clone());
        }
        let mut builder = client.request(req.method.clone(), &req.url);
        match &req.body {
            Body::Empty => {}
            Body::Json(s) => {
                headers.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                builder = builder.body(s.clone());
            }
            Body::Stream { content_type, make } => {
                if let Ok(v) = HeaderValue::from_str(content_type) {
                    headers.insert(reqwest::header::CONTENT_TYPE, v);
                }
                builder = builder.body(make().map_err(|e| (Failure::Other, e))?);
            }
        }
        builder = builder.headers(headers);
        if let Some(ms) = timeout_ms {
            // Each attempt gets the whole deadline, as each axios attempt does.
            builder = builder.timeout(Duration::from_secs_f64(ms / 1000.0));
        }
        builder.send().await.map_err(|e| self.transport_error(&e, timeout_ms))
    }

    pub async fn error_from_response(&self, resp: reqwest::Response) -> ClientError {
        let status = resp.status().as_u16();
        let headers = header_pairs(resp.headers());
        let body = read_body_prefix(resp, MAX_ERROR_BODY).await;
        self.scrub_error(errors::from_response(status, headers, &body))
    }

    /// The failure class and the error to report for a transport failure.
    pub fn transport_error(&self, e: &reqwest::Error, timeout_ms: Option<f64>) -> (Failure, ClientError) {
        if e.is_timeout() {
            return (Failure::Timeout, errors::timeout_error(timeout_ms));
        }
        let url = e.url().cloned();
        let host = url.as_ref().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
        let port = url.as_ref().and_then(Url::port_or_known_default).map(|p| p.to_string()).unwrap_or_default();
        let io_kind = io_error_kind(e);
        if e.is_connect() {
            let message = match io_kind {
                Some(std::io::ErrorKind::ConnectionRefused) => format!("connect ECONNREFUSED {host}:{port}"),
                Some(std::io::ErrorKind::TimedOut) => format!("connect ETIMEDOUT {host}:{port}"),
                _ if chain_text(e).contains("dns error") || chain_text(e).contains("failed to lookup") => {
                    format!("getaddrinfo ENOTFOUND {host}")
                }
                _ => format!("connect to {host}:{port} failed: {}", chain_text(e)),
            };
            return (Failure::Connect, errors::connection_error(message));
        }
        let text = chain_text(e);
        let mid_flight = matches!(
            io_kind,
            Some(std::io::ErrorKind::ConnectionReset)
                | Some(std::io::ErrorKind::ConnectionAborted)
                | Some(std::io::ErrorKind::BrokenPipe)
                | Some(std::io::ErrorKind::UnexpectedEof)
        ) || text.contains("connection closed before message completed")
            || text.contains("error reading a body from connection")
            || text.contains("end of file before message length reached")
            || text.contains("connection reset");
        if mid_flight {
            return (Failure::MidFlight, errors::connection_error("socket hang up"));
        }
        if text.contains("parse") || text.contains("invalid HTTP") || text.contains("too large") {
            // The peer answered with something that is not HTTP (or broke the framing).
            return (
                Failure::Other,
                errors::connection_error(format!("The server at {host}:{port} did not answer with valid HTTP ({text})")),
            );
        }
        (Failure::Other, errors::connection_error(format!("Request to {host}:{port} failed: {text}")))
    }
}

fn io_error_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = err.source();
    }
    None
}

/// The error and its causes, without any URL (a URL may carry a signed token).
fn chain_text(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    if parts.is_empty() {
        // reqwest's own text names the URL; drop it.
        let mut own = e.to_string();
        if let Some(i) = own.find(" for url (") {
            own.truncate(i);
        }
        parts.push(own);
    }
    parts.join(": ")
}

/// `true` for 2xx.
pub fn is_success(status: u16) -> bool {
    StatusCode::from_u16(status).is_ok_and(|s| s.is_success())
}

/// The error for a request this client refuses to make.
pub fn refused(message: impl Into<String>) -> ClientError {
    ClientError::new(ErrorKind::Generic, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(api_key: Option<&str>, jwt: Option<&str>, org: Option<&str>) -> Http {
        Http::new(ApiConfig {
            api_url: "http://127.0.0.1:3000/api".into(),
            api_key: api_key.map(str::to_string),
            jwt_token: jwt.map(str::to_string),
            organization_id: org.map(str::to_string),
            target: None,
            request_timeout_ms: None,
        })
        .unwrap()
    }

    /// A server that, per connection, alternately drops the request unanswered and answers
    /// with a body cut short; returns its URL and the connection count.
    fn flaky_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/sandbox", listener.local_addr().unwrap());
        let count = std::sync::Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                if n % 2 == 1 {
                    let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"items\"");
                }
                // Dropping the connection: unanswered, or the body cut short.
            }
        });
        (url, count)
    }

    #[tokio::test]
    async fn one_retry_budget_per_request() {
        let (url, connections) = flaky_server();
        let h = Http::new(ApiConfig {
            api_url: url.replace("/sandbox", ""),
            api_key: Some("k".into()),
            jwt_token: None,
            organization_id: None,
            target: None,
            request_timeout_ms: Some(5000.0),
        })
        .unwrap();
        let Err(err) = h.send(&Request::new(Method::GET, url)).await else { panic!("a body cut short every time cannot succeed") };
        assert_eq!(err.kind, crate::error::ErrorKind::Connection, "{err:?}");
        // Dropped requests and cut bodies share one budget: 1 + MAX_RETRIES attempts, not
        // (1 + MAX_RETRIES) squared.
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1 + retry::MAX_RETRIES as usize);
    }

    #[test]
    fn version_is_the_package_version() {
        let pkg = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../package.json")).unwrap();
        let v: Value = serde_json::from_str(&pkg).unwrap();
        assert_eq!(v["version"].as_str(), Some(SDK_VERSION));
    }

    #[test]
    fn headers_and_trust() {
        let h = http(Some("key-123"), None, Some("org"));
        let m = h.headers(true);
        assert_eq!(m["authorization"], "Bearer key-123");
        assert_eq!(m["x-daytona-source"], "sdk-typescript-native");
        assert_eq!(m["user-agent"], format!("sdk-typescript-native/{SDK_VERSION}").as_str());
        assert!(m.get("x-daytona-organization-id").is_none(), "API-key mode sends no organization header");
        assert!(h.headers(false).get("authorization").is_none());
        let j = http(None, Some("jwt"), Some("org-1"));
        let m = j.headers(true);
        assert_eq!((m["authorization"].to_str().unwrap(), m["x-daytona-organization-id"].to_str().unwrap()), ("Bearer jwt", "org-1"));
        assert!(h.is_trusted("http://127.0.0.1:3000/api/sandbox"));
        assert!(!h.is_trusted("http://127.0.0.2:3000/logs"));
        assert!(!h.is_trusted("https://127.0.0.1:3000/api"));
        h.trust_origin_of("https://proxy.app.daytona.io/toolbox");
        assert!(h.is_trusted("https://proxy.app.daytona.io:443/toolbox/x/process/execute"));
        assert_eq!(h.scrub("echo Bearer key-123!"), "echo Bearer ***!");
        assert_eq!(h.deadline_ms(Deadline::Default), Some(DEFAULT_REQUEST_TIMEOUT_MS));
        assert_eq!(h.deadline_ms(Deadline::Ms(0.0)), None);
        assert!(is_loopback_host("[::1]") && is_loopback_host("LOCALHOST") && !is_loopback_host("10.0.0.1"));
    }

    #[test]
    fn every_encoding_of_the_key_is_scrubbed() {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let key = "dtn_Key/with+special=chars&more~é";
        let h = http(Some(key), None, None);
        let pct_upper = percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC).to_string();
        let samples = [
            format!("echo {key}!"),
            format!("echo {pct_upper}!"),
            format!("echo {}!", lower_hex_escapes(&pct_upper)),
            format!("q=dtn_Key%2Fwith%2Bspecial%3Dchars%26more~%C3%A9&x=1"),
            format!("{}", serde_json::to_string(key).unwrap()),
            format!("Basic {}", STANDARD.encode(format!("{key}:"))),
            format!("Basic {}", STANDARD.encode(format!("user:{key}"))),
            format!("{}", URL_SAFE.encode(format!("ab{key}cd"))),
            format!("{}", STANDARD.encode(format!("Authorization: Bearer {key}\r\n"))),
        ];
        for s in samples {
            let out = h.scrub(&s);
            assert!(out.contains("***"), "{s} -> {out}");
            assert!(!out.contains(key) && !out.contains(&pct_upper), "{out}");
        }
        // Nothing else is touched.
        assert_eq!(h.scrub("Sandbox abc not found"), "Sandbox abc not found");
        // Headers and details of an error too.
        let mut e = ClientError::generic(format!("bad {pct_upper}"));
        e.headers = Some(vec![("www-authenticate".into(), format!("Bearer realm=\"{key}\""))]);
        e.details = Some(Box::new(serde_json::json!({"echo": [format!("Basic {}", STANDARD.encode(key))]})));
        let e = h.scrub_error(e);
        let all = format!("{} {:?} {:?}", e.message, e.headers, e.details);
        assert!(!all.contains(key) && !all.contains(&STANDARD.encode(key)[..8]), "{all}");
        // A tiny token is not scrubbed everywhere (it would hit unrelated text), a short one as is.
        assert_eq!(http(Some("abc"), None, None).scrub("abc"), "abc");
        assert_eq!(http(Some("abcd"), None, None).scrub("xabcdx"), "x***x");
    }

    #[test]
    fn cleartext_warning_names_the_host() {
        let w = cleartext_warning("http://api.example.com:8080/api", "apiUrl").unwrap();
        assert!(w.contains("api.example.com") && w.contains("cleartext") && w.contains("https://"), "{w}");
        for quiet in [
            "https://api.example.com/api",
            "http://127.0.0.1:3000/api",
            "http://127.8.9.10/api",
            "http://localhost:3000/api",
            "http://[::1]:3000/api",
        ] {
            assert_eq!(cleartext_warning(quiet, "apiUrl"), None, "{quiet}");
        }
        assert!(cleartext_warning("http://10.0.0.5/api", "apiUrl").is_some());
    }

    #[test]
    fn too_large_names_the_limit() {
        let e = too_large_error(&Method::GET, "http://h/api/sandbox/x/build-logs-url?sig=secret", MAX_JSON_BODY);
        assert_eq!(e.code.as_deref(), Some(TOO_LARGE_CODE));
        assert!(e.message.contains("32 MiB") && e.message.contains("/api/sandbox/x/build-logs-url"), "{}", e.message);
        assert!(!e.message.contains("secret"));
        let e = too_large_error(&Method::POST, "http://h/toolbox/x/process/execute", MAX_EXEC_BODY);
        assert!(e.message.contains("256 MiB") && e.message.contains("command output"), "{}", e.message);
        assert_eq!(byte_size(64 * 1024), "64 KiB");
    }
}
