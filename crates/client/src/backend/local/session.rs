//! A BuildKit session on the local engine, for build secrets (`RUN --mount=type=secret`).
//!
//! `POST /session` with `Upgrade: h2c` is answered `101 Switching Protocols`; from then on the
//! connection carries HTTP/2 in which the *engine* is the client and this process the server.
//! The engine calls gRPC methods on it: `moby.buildkit.secrets.v1.Secrets/GetSecret` when a step
//! mounts a secret, and `grpc.health.v1.Health/Check` about every second (two failures in a row
//! end the session). Every other method is answered UNIMPLEMENTED. The session's methods are
//! announced in `X-Docker-Expose-Session-Grpc-Method` headers (one per method), and the build
//! names it with `session=<id>`. The build context still travels in the build request's body,
//! so no file sync is served.
//!
//! The gRPC framing is done here (a 5-byte prefix per message, status in the trailers) over the
//! `h2` crate, with prost for the two message pairs: no tonic, tower or generated code.
//!
//! Secret values are kept in memory only while the build runs, are sent to the engine only in
//! answer to `GetSecret`, and appear in no message, log line or error (errors name the id).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message as _;
use serde_json::Value;

use super::buildkit::{API_VERSION, EngineAddress};
use crate::error::{ClientError, ErrorKind, Result};

/// BuildKit's own limit on one secret (`secrets.MaxSecretSize`).
pub const MAX_SECRET_SIZE: usize = 500 * 1024;
/// A gRPC request larger than this is not one the engine sends to a secrets provider.
const MAX_REQUEST: usize = 64 * 1024;

const GET_SECRET: &str = "/moby.buildkit.secrets.v1.Secrets/GetSecret";
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

/// gRPC status codes used here.
const OK: u32 = 0;
const NOT_FOUND: u32 = 5;
const UNIMPLEMENTED: u32 = 12;

mod proto {
    /// `moby.buildkit.secrets.v1.GetSecretRequest` (session/secrets/secrets.proto).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GetSecretRequest {
        #[prost(string, tag = "1")]
        pub id: String,
    }

    /// `moby.buildkit.secrets.v1.GetSecretResponse`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GetSecretResponse {
        #[prost(bytes = "vec", tag = "1")]
        pub data: Vec<u8>,
    }

    /// `grpc.health.v1.HealthCheckResponse` (`status` 1 = SERVING).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct HealthCheckResponse {
        #[prost(int32, tag = "1")]
        pub status: i32,
    }
}

/// Where one secret's value comes from (`local.buildSecrets[id]`).
#[derive(Clone, PartialEq)]
pub enum SecretSource {
    Value(String),
    Env(String),
    File(PathBuf),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Value(_) => f.write_str("Value(<redacted>)"),
            SecretSource::Env(name) => write!(f, "Env({name:?})"),
            SecretSource::File(path) => write!(f, "File({path:?})"),
        }
    }
}

/// Reads `local.buildSecrets`: `{ [id]: string | { env: string } | { file: string } }`.
pub fn parse_sources(setting: &Value) -> Result<Vec<(String, SecretSource)>> {
    let bad = |what: String| ClientError::invalid(format!("local.buildSecrets: {what}"));
    let map = match setting {
        Value::Null => return Ok(Vec::new()),
        Value::Object(map) => map,
        _ => return Err(bad("must be an object mapping secret ids to a string, { env: name } or { file: path }".into())),
    };
    let mut out = Vec::with_capacity(map.len());
    for (id, source) in map {
        if id.is_empty() {
            return Err(bad("a secret id must not be empty".into()));
        }
        let source = match source {
            Value::String(s) => SecretSource::Value(s.clone()),
            Value::Object(o) => match (o.get("env"), o.get("file"), o.len()) {
                (Some(Value::String(name)), None, 1) if !name.is_empty() => SecretSource::Env(name.clone()),
                (None, Some(Value::String(path)), 1) if !path.is_empty() => SecretSource::File(path.into()),
                _ => return Err(bad(format!("secret '{id}' must be a string, {{ env: name }} or {{ file: path }} (one non-empty key)"))),
            },
            _ => return Err(bad(format!("secret '{id}' must be a string, {{ env: name }} or {{ file: path }}"))),
        };
        out.push((id.clone(), source));
    }
    Ok(out)
}

/// The secrets' values, read when the build starts.
#[derive(Default)]
pub struct Secrets(HashMap<String, Vec<u8>>);

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Secrets {
    pub fn resolve(sources: &[(String, SecretSource)]) -> Result<Secrets> {
        let mut values = HashMap::new();
        for (id, source) in sources {
            let value = match source {
                SecretSource::Value(v) => v.clone().into_bytes(),
                SecretSource::Env(name) => std::env::var_os(name)
                    .ok_or_else(|| ClientError::invalid(format!("local.buildSecrets: secret '{id}' comes from the environment variable {name}, which is not set")))?
                    .into_encoded_bytes(),
                SecretSource::File(path) => std::fs::read(path).map_err(|e| {
                    ClientError::invalid(format!("local.buildSecrets: secret '{id}' comes from the file {}, which cannot be read: {}", path.display(), e.kind()))
                })?,
            };
            if value.len() > MAX_SECRET_SIZE {
                return Err(ClientError::invalid(format!(
                    "local.buildSecrets: secret '{id}' is {} bytes; BuildKit takes at most {MAX_SECRET_SIZE} bytes per secret",
                    value.len()
                )));
            }
            values.insert(id.clone(), value);
        }
        Ok(Secrets(values))
    }
}

/// Whether a Dockerfile mounts a build secret in some `RUN` (`--mount=type=secret,…` or
/// `--mount=id=x,type=secret`).
pub fn mounts_secrets(dockerfile: &str) -> bool {
    // Continuation lines are part of their RUN; a flag can only come before the command, so
    // looking for the flag anywhere in the text errs only towards opening a session.
    dockerfile.split(|c: char| c.is_whitespace()).any(|word| {
        word.strip_prefix("--mount=").is_some_and(|spec| spec.split(',').any(|kv| kv.trim().eq_ignore_ascii_case("type=secret")))
    })
}

/// An open session; dropping it closes the connection.
pub struct Session {
    pub id: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Session {
    /// Opens a session serving `secrets` and waits until the engine has accepted it.
    pub async fn open(address: &EngineAddress, secrets: Secrets) -> Result<Session> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let upgraded = tokio::time::timeout(super::buildkit::CONNECT_TIMEOUT, upgrade(address, &id))
            .await
            .map_err(|_| ClientError::new(ErrorKind::ConnectionTimeout, "Opening a BuildKit session: the Docker Engine did not answer within 30 s"))??;
        let task = tokio::spawn(serve(upgraded, secrets));
        Ok(Session { id, task })
    }
}

type Upgraded = hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>;

async fn upgrade(address: &EngineAddress, id: &str) -> Result<Upgraded> {
    let failed = |e: &dyn fmt::Display| ClientError::new(ErrorKind::Connection, format!("Opening a BuildKit session: cannot reach the Docker Engine: {e}"));
    let io: Box<dyn Io> = match address {
        EngineAddress::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await.map_err(|e| failed(&e))?),
        EngineAddress::Tcp(addr) => Box::new(tokio::net::TcpStream::connect(addr.as_str()).await.map_err(|e| failed(&e))?),
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, http_body_util::Empty<Bytes>>(hyper_util::rt::TokioIo::new(io))
        .await
        .map_err(|e| failed(&e))?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    let mut request = http::Request::post(format!("/{API_VERSION}/session"))
        .header(http::header::HOST, "docker")
        .header(http::header::CONNECTION, "Upgrade")
        .header(http::header::UPGRADE, "h2c")
        .header("X-Docker-Expose-Session-Uuid", id)
        .header("X-Docker-Expose-Session-Name", "daytona-native")
        .header("X-Docker-Expose-Session-Sharedkey", id);
    for method in [GET_SECRET, HEALTH_CHECK] {
        request = request.header("X-Docker-Expose-Session-Grpc-Method", method);
    }
    let request = request.body(http_body_util::Empty::new()).map_err(|e| ClientError::generic(format!("Opening a BuildKit session: {e}")))?;
    let response = sender.send_request(request).await.map_err(|e| failed(&e))?;
    if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        let status = response.status().as_u16();
        let body = http_body_util::BodyExt::collect(response.into_body()).await.map(|b| b.to_bytes()).unwrap_or_default();
        let message = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_string());
        let mut e = ClientError::generic(format!("Opening a BuildKit session: the Docker Engine answered {status}: {message}"));
        e.status_code = Some(status);
        return Err(e);
    }
    let upgraded = hyper::upgrade::on(response).await.map_err(|e| failed(&e))?;
    Ok(hyper_util::rt::TokioIo::new(upgraded))
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// Serves the engine's gRPC calls until the connection ends.
async fn serve(io: Upgraded, secrets: Secrets) {
    let Ok(mut connection) = h2::server::handshake(io).await else { return };
    let secrets = std::sync::Arc::new(secrets);
    while let Some(Ok((request, respond))) = connection.accept().await {
        let secrets = secrets.clone();
        tokio::spawn(async move {
            let _ = answer(request, respond, &secrets).await;
        });
    }
}

async fn answer(request: http::Request<h2::RecvStream>, mut respond: h2::server::SendResponse<Bytes>, secrets: &Secrets) -> std::result::Result<(), h2::Error> {
    let path = request.uri().path().to_string();
    let mut body = request.into_body();
    let mut raw = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if raw.len() + chunk.len() > MAX_REQUEST {
            return trailers_only(&mut respond, UNIMPLEMENTED, "request too large");
        }
        raw.extend_from_slice(&chunk);
    }
    let message = unframe(&raw);
    match path.as_str() {
        HEALTH_CHECK => reply(&mut respond, proto::HealthCheckResponse { status: 1 }.encode_to_vec()).await,
        GET_SECRET => {
            let Some(req) = message.and_then(|m| proto::GetSecretRequest::decode(m).ok()) else {
                return trailers_only(&mut respond, UNIMPLEMENTED, "unreadable request");
            };
            match secrets.0.get(&req.id) {
                Some(value) => reply(&mut respond, proto::GetSecretResponse { data: value.clone() }.encode_to_vec()).await,
                None => trailers_only(&mut respond, NOT_FOUND, &format!("secret {} not found", req.id)),
            }
        }
        _ => trailers_only(&mut respond, UNIMPLEMENTED, &format!("unknown method {path}")),
    }
}

/// The message of a unary gRPC request: one uncompressed length-prefixed frame.
fn unframe(raw: &[u8]) -> Option<&[u8]> {
    let (&compressed, rest) = raw.split_first()?;
    if compressed != 0 || rest.len() < 4 {
        return None;
    }
    let len = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
    rest.get(4..4 + len)
}

fn grpc_response() -> http::Response<()> {
    let mut response = http::Response::new(());
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/grpc"));
    response
}

async fn reply(respond: &mut h2::server::SendResponse<Bytes>, message: Vec<u8>) -> std::result::Result<(), h2::Error> {
    let mut stream = respond.send_response(grpc_response(), false)?;
    let mut framed = BytesMut::with_capacity(5 + message.len());
    framed.put_u8(0);
    framed.put_u32(message.len() as u32);
    framed.extend_from_slice(&message);
    stream.send_data(framed.freeze(), false)?;
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from(OK));
    stream.send_trailers(trailers)
}

fn trailers_only(respond: &mut h2::server::SendResponse<Bytes>, code: u32, message: &str) -> std::result::Result<(), h2::Error> {
    let mut response = grpc_response();
    response.headers_mut().insert("grpc-status", http::HeaderValue::from(code));
    let encoded: String = percent_encoding::utf8_percent_encode(message, percent_encoding::NON_ALPHANUMERIC).to_string();
    if let Ok(v) = http::HeaderValue::from_str(&encoded) {
        response.headers_mut().insert("grpc-message", v);
    }
    respond.send_response(response, true).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_mounts_are_found() {
        assert!(mounts_secrets("FROM x\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n"));
        assert!(mounts_secrets("FROM x\nRUN --mount=id=tok,type=secret,required=true true\n"));
        assert!(mounts_secrets("FROM x\nRUN --mount=type=cache,target=/c \\\n  --mount=type=secret,id=a true\n"));
        assert!(!mounts_secrets("FROM x\nRUN --mount=type=cache,target=/root/.cache pip install a\n"));
        assert!(!mounts_secrets("FROM x\nRUN echo type=secret\n"));
    }

    #[test]
    fn sources_are_read_and_values_never_printed() {
        let setting = serde_json::json!({ "a": "hunter2", "b": { "env": "DAYTONA_TEST_SECRET_B" }, "c": { "file": "/nonexistent/x" } });
        let sources = parse_sources(&setting).unwrap();
        let debug = format!("{sources:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("DAYTONA_TEST_SECRET_B"));
        let e = Secrets::resolve(&sources[..2]).unwrap_err();
        assert!(e.message.contains("DAYTONA_TEST_SECRET_B") && !e.message.contains("hunter2"), "{}", e.message);
        let e = Secrets::resolve(&sources[2..]).unwrap_err();
        assert!(e.message.contains("/nonexistent/x"), "{}", e.message);
        let ok = Secrets::resolve(&sources[..1]).unwrap();
        assert_eq!(ok.0["a"], b"hunter2");
        assert!(!format!("{ok:?}").contains("hunter2"));
        for bad in [serde_json::json!("x"), serde_json::json!({ "a": 1 }), serde_json::json!({ "a": { "env": "X", "file": "y" } }), serde_json::json!({ "": "v" })] {
            let e = parse_sources(&bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument);
        }
    }

    #[test]
    fn grpc_frames() {
        let msg = proto::GetSecretRequest { id: "tok".into() }.encode_to_vec();
        let mut framed = vec![0u8];
        framed.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        framed.extend_from_slice(&msg);
        let got = proto::GetSecretRequest::decode(unframe(&framed).unwrap()).unwrap();
        assert_eq!(got.id, "tok");
        assert!(unframe(&framed[..3]).is_none());
        assert_eq!(proto::HealthCheckResponse { status: 1 }.encode_to_vec(), vec![0x08, 0x01]);
    }
}
