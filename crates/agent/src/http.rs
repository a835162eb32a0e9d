//! HTTP plumbing shared by the routes: JSON/error responses in the toolbox API's shape,
//! query parsing and WebSocket upgrades on top of hyper.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

pub type Resp = Response<Full<Bytes>>;
pub type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// An error answer: status, message and the daemon's error code.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, m)
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, m)
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, m)
    }
    pub fn gone(m: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, m)
    }

    pub fn into_response(self, method: &str, path: &str) -> Resp {
        let code = match self.status {
            StatusCode::NOT_FOUND => "NOT_FOUND",
            StatusCode::BAD_REQUEST => "BAD_REQUEST",
            StatusCode::CONFLICT => "CONFLICT",
            StatusCode::GONE => "GONE",
            StatusCode::REQUEST_TIMEOUT => "REQUEST_TIMEOUT",
            StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
            _ => "INTERNAL_SERVER_ERROR",
        };
        let body = json!({
            "statusCode": self.status.as_u16(),
            "message": self.message,
            "code": code,
            "timestamp": rfc3339_now(),
            "path": path,
            "method": method,
        });
        json_response(self.status, &body)
    }
}

pub type ApiResult = Result<Resp, ApiError>;

pub fn json_response(status: StatusCode, v: &Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(serde_json::to_vec(v).unwrap_or_default())));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    r
}

pub fn ok(v: Value) -> ApiResult {
    Ok(json_response(StatusCode::OK, &v))
}

pub fn empty(status: StatusCode) -> ApiResult {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    Ok(r)
}

/// Reads and parses a JSON request body (bounded: toolbox requests are small).
pub async fn body_json<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T, ApiError> {
    const LIMIT: usize = 64 << 20;
    let body = http_body_util::Limited::new(req.into_body(), LIMIT)
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

/// `key=value&...` pairs of the query string, percent-decoded.
pub fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub fn query_get(q: Option<&str>, key: &str) -> Option<String> {
    query_pairs(q).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Query-string decoding (`+` is a space).
pub fn percent_decode(s: &str) -> String {
    decode(s, true)
}

/// Path-segment decoding (`+` stays).
pub fn percent_decode_path(s: &str) -> String {
    decode(s, false)
}

fn decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn is_upgrade(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Subprotocols the client offered, in order.
pub fn offered_protocols(req: &Request<Incoming>) -> Vec<String> {
    req.headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Answers the upgrade (echoing `protocol` if given) and runs `f` on the WebSocket once hyper
/// hands over the connection.
pub fn upgrade<F, Fut>(req: Request<Incoming>, protocol: Option<String>, f: F) -> ApiResult
where
    F: FnOnce(Ws) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let key = req
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or_else(|| ApiError::bad_request("missing Sec-WebSocket-Key"))?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut req = req;
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            f(ws).await;
        }
    });
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::UPGRADE, header::HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, header::HeaderValue::from_static("Upgrade"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, header::HeaderValue::from_str(&accept).expect("base64 header"));
    if let Some(p) = protocol
        && let Ok(v) = header::HeaderValue::from_str(&p)
    {
        h.insert(header::SEC_WEBSOCKET_PROTOCOL, v);
    }
    Ok(r)
}

/// Current UTC time as RFC 3339 (no chrono: civil-from-days arithmetic).
pub fn rfc3339_now() -> String {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        nanos
    )
}

/// Splits raw bytes into the longest valid UTF-8 prefix (lossy for invalid bytes) and keeps an
/// incomplete trailing sequence in `pending` for the next chunk.
pub fn utf8_chunk(pending: &mut Vec<u8>, data: &[u8]) -> String {
    pending.extend_from_slice(data);
    let cut = match std::str::from_utf8(pending) {
        Ok(_) => pending.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => pending.len(),
    };
    let rest = pending.split_off(cut);
    let s = String::from_utf8_lossy(pending).into_owned();
    *pending = rest;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(1_700_000_000, 5), "2023-11-14T22:13:20.000000005Z");
    }

    #[test]
    fn decode() {
        assert_eq!(percent_decode("a%2Fb+c%zz"), "a/b c%zz");
        assert_eq!(percent_decode("%4"), "%4");
    }

    #[test]
    fn utf8_split() {
        let mut p = Vec::new();
        let s = "é".as_bytes();
        assert_eq!(utf8_chunk(&mut p, &s[..1]), "");
        assert_eq!(utf8_chunk(&mut p, &s[1..]), "é");
    }
}
