//! `daytona-native-agent reap --session ID`: the local engine's cleanup container (the pattern
//! testcontainers calls Ryuk, without pulling any image: the client imports this binary as a
//! one-file image).
//!
//! The client that started it holds a hijacked attach stream to its stdin for as long as its
//! process lives. When that stream ends, for whatever reason the process ended (exit, crash,
//! SIGKILL, a test runner tearing its worker down), this removes every container labelled with
//! the session and every image a build of the session left, then exits (the container has
//! AutoRemove). On stdin the client may say `keep <tag>` for an image whose build it saw
//! finish: that is a cache entry the next run reuses, not a leftover.
//!
//! It speaks the Engine API over the engine's socket, mounted at `/var/run/docker.sock`
//! (`DAYTONA_REAPER_SOCKET` overrides, for running it outside a container).

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

/// Label the client puts on every container and build of a session (`local/labels.rs`).
const SESSION_LABEL: &str = "io.daytona-native.session";
const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// A container create or build the client sent just before it died may still complete on the
/// engine after a sweep: sweeps repeat (this far apart) until one finds nothing.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
const MIN_SWEEPS: u32 = 2;
const MAX_SWEEPS: u32 = 10;
/// Bound on one Engine API request: an engine that stops answering must not keep this
/// container around forever.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub fn main(args: &[String]) -> ExitCode {
    let session = match args {
        [flag, id] if flag == "--session" && valid_session(id) => id.clone(),
        _ => {
            eprintln!("usage: daytona-native-agent reap --session ID (ID: letters, digits, '-')");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("reaper: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = rt.block_on(run(&session));
    // stdin is read on a blocking thread; do not wait for the runtime to join it.
    std::process::exit(code)
}

/// The session id goes into a label filter; keep it to characters that need no quoting.
fn valid_session(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

async fn run(session: &str) -> i32 {
    let keep = wait_for_client(session).await;
    let mut sweeps = 0;
    let mut failed = false;
    loop {
        let (removed, errors) = sweep(session, &keep).await;
        failed |= errors > 0;
        sweeps += 1;
        if (removed == 0 && sweeps >= MIN_SWEEPS) || sweeps >= MAX_SWEEPS {
            break;
        }
        tokio::time::sleep(SWEEP_INTERVAL).await;
    }
    if failed { 1 } else { 0 }
}

/// Reads stdin until it ends (the client's process is gone) and returns the tags to keep.
async fn wait_for_client(session: &str) -> HashSet<String> {
    let mut keep = HashSet::new();
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                if let Some(tag) = line.strip_prefix("keep ") {
                    keep.insert(tag.trim().to_string());
                }
            }
            Ok(None) => break,
            Err(e) => {
                eprintln!("reaper {session}: reading stdin: {e}; cleaning up now");
                break;
            }
        }
    }
    keep
}

/// One pass over containers and images of the session: (objects removed, errors).
async fn sweep(session: &str, keep: &HashSet<String>) -> (u32, u32) {
    let filter = format!("{{\"label\":[\"{SESSION_LABEL}={session}\"]}}");
    let mut removed = 0;
    let mut errors = 0;

    match list(&format!("/containers/json?all=1&filters={}", query_escape(&filter))).await {
        Ok(containers) => {
            for c in containers {
                let Some(id) = c.get("Id").and_then(Value::as_str) else { continue };
                match request(Method::DELETE, &format!("/containers/{id}?force=1&v=1")).await {
                    // 404: gone meanwhile; 409: the engine is already removing it.
                    Ok((s, _)) if s.is_success() || s == StatusCode::NOT_FOUND || s == StatusCode::CONFLICT => removed += 1,
                    Ok((s, body)) => {
                        eprintln!("reaper {session}: removing container {id}: {s} {}", String::from_utf8_lossy(&body));
                        errors += 1;
                    }
                    Err(e) => {
                        eprintln!("reaper {session}: removing container {id}: {e}");
                        errors += 1;
                    }
                }
            }
        }
        Err(e) => {
            eprintln!("reaper {session}: listing containers: {e}");
            errors += 1;
        }
    }

    match list(&format!("/images/json?filters={}", query_escape(&filter))).await {
        Ok(images) => {
            for image in images {
                let Some(id) = image.get("Id").and_then(Value::as_str) else { continue };
                let tags: Vec<&str> = image
                    .get("RepoTags")
                    .and_then(Value::as_array)
                    .map(|t| t.iter().filter_map(Value::as_str).filter(|t| *t != "<none>:<none>").collect())
                    .unwrap_or_default();
                // Untagging by name removes the image with its last tag; an image without
                // tags goes by id.
                let targets: Vec<&str> = if tags.is_empty() { vec![id] } else { tags.into_iter().filter(|t| !is_kept(keep, t)).collect() };
                for target in targets {
                    match request(Method::DELETE, &format!("/images/{}", path_escape(target))).await {
                        Ok((s, _)) if s.is_success() || s == StatusCode::NOT_FOUND => removed += 1,
                        // In use by a container of another session or of nobody's: it stays
                        // (the engine refuses, as it should); not retried.
                        Ok((StatusCode::CONFLICT, body)) => {
                            eprintln!("reaper {session}: image {target} stays: {}", String::from_utf8_lossy(&body).trim());
                        }
                        Ok((s, body)) => {
                            eprintln!("reaper {session}: removing image {target}: {s} {}", String::from_utf8_lossy(&body));
                            errors += 1;
                        }
                        Err(e) => {
                            eprintln!("reaper {session}: removing image {target}: {e}");
                            errors += 1;
                        }
                    }
                }
            }
        }
        Err(e) => {
            eprintln!("reaper {session}: listing images: {e}");
            errors += 1;
        }
    }
    (removed, errors)
}

/// `keep` lines name a tag as the client used it (`daytona-<hash>` or `name:tag`); the engine
/// lists it with the implicit `:latest`.
fn is_kept(keep: &HashSet<String>, tag: &str) -> bool {
    keep.contains(tag) || tag.strip_suffix(":latest").is_some_and(|t| keep.contains(t))
}

pub(crate) async fn list(path: &str) -> Result<Vec<Value>, String> {
    let (status, body) = request(Method::GET, path).await?;
    if !status.is_success() {
        return Err(format!("{status} {}", String::from_utf8_lossy(&body)));
    }
    match serde_json::from_slice(&body) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) | Err(_) => Err("the engine's answer is not a JSON array".into()),
    }
}

/// One Engine API request on a fresh connection (a handful per sweep: no pooling needed).
pub(crate) async fn request(method: Method, path: &str) -> Result<(StatusCode, Bytes), String> {
    send(method, path, None).await
}

/// [`request`] with a body (`content_type`, bytes), e.g. a tar archive for `PUT .../archive`.
pub(crate) async fn send(method: Method, path: &str, body: Option<(&str, Bytes)>) -> Result<(StatusCode, Bytes), String> {
    let socket = std::env::var("DAYTONA_REAPER_SOCKET").unwrap_or_else(|_| DEFAULT_SOCKET.to_string());
    let exchange = async {
        let stream = tokio::net::UnixStream::connect(&socket).await.map_err(|e| format!("connect to {socket}: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let mut req = Request::builder().method(method).uri(path).header(hyper::header::HOST, "docker");
        if let Some((content_type, _)) = &body {
            req = req.header(hyper::header::CONTENT_TYPE, *content_type);
        }
        let req = req.body(Full::new(body.map(|(_, b)| b).unwrap_or_default())).map_err(|e| e.to_string())?;
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange).await.map_err(|_| "the engine did not answer in time".to_string())?
}

/// Percent-encodes everything but unreserved characters (a query value).
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Image references in a path keep their `/` and `:` (the engine routes `/images/{name}` with
/// slashes in the name).
pub(crate) fn path_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/' | b':' | b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_query_escaped() {
        assert_eq!(query_escape(r#"{"label":["a=b"]}"#), "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
        assert_eq!(path_escape("reg.io:5000/x/y:1 z"), "reg.io:5000/x/y:1%20z");
    }

    #[test]
    fn kept_tags_match_with_the_implicit_latest() {
        let keep: HashSet<String> = ["daytona-abc".to_string(), "snap:v1".to_string()].into();
        assert!(is_kept(&keep, "daytona-abc:latest"));
        assert!(is_kept(&keep, "snap:v1"));
        assert!(!is_kept(&keep, "snap:v2"));
        assert!(!is_kept(&keep, "daytona-abd:latest"));
    }

    #[test]
    fn session_ids_are_label_safe() {
        assert!(valid_session("0123abcdef-9"));
        assert!(!valid_session(""));
        assert!(!valid_session("a\"],\"label\":[\"x"));
    }
}
