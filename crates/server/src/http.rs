//! Request and response plumbing shared by the routes: body types, JSON in and out (bounded,
//! strict about field names and types), query strings.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use serde_json::{Map, Value};

use crate::errors;

pub(crate) type Req = hyper::Request<Incoming>;
pub(crate) type Body = UnsyncBoxBody<Bytes, std::io::Error>;
pub(crate) type Resp = hyper::Response<Body>;

/// The largest JSON request body the API accepts.
pub(crate) const MAX_JSON: usize = 1 << 20;

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

pub(crate) fn empty() -> Body {
    full(Bytes::new())
}

pub(crate) fn json(status: u16, value: &Value) -> Resp {
    hyper::Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(full(serde_json::to_vec(value).unwrap_or_default()))
        .unwrap_or_else(|_| hyper::Response::new(empty()))
}

pub(crate) fn status(status: u16) -> Resp {
    hyper::Response::builder().status(status).body(empty()).unwrap_or_else(|_| hyper::Response::new(empty()))
}

pub(crate) fn decode_segment(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The query string's pairs, decoded, in order.
pub(crate) fn query(req: &Req) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

pub(crate) fn query_one<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A body over the limit is read on (and dropped) up to this much, so that the client, still
/// sending, gets the 413 instead of a broken pipe; beyond it the connection is closed.
const DRAIN_MAX: u64 = 256 << 20;

/// The body as bytes, at most `limit` of them (413 beyond).
pub(crate) async fn bytes(req: Req, limit: usize) -> Result<Bytes, Resp> {
    let mut body = req.into_body();
    let mut kept = bytes::BytesMut::new();
    let mut seen = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| errors::body(400, format!("cannot read the request body: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len() as u64;
        if seen > DRAIN_MAX {
            break;
        }
        if seen <= limit as u64 {
            kept.extend_from_slice(&data);
        }
    }
    if seen > limit as u64 {
        return Err(errors::body(413, format!("request body is larger than {limit} bytes")));
    }
    Ok(kept.freeze())
}

/// The JSON object body of a request: an empty body is `{}`; anything but an object, and
/// malformed JSON, are 400.
pub(crate) async fn json_object(req: Req) -> Result<Map<String, Value>, Resp> {
    let content_type = req.headers().get(hyper::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    let body = bytes(req, MAX_JSON).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if let Some(ct) = content_type
        && !ct.split(';').next().unwrap_or("").trim().ends_with("json")
    {
        return Err(errors::body(415, format!("request body must be application/json (got {ct})")));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(errors::body(400, "request body must be a JSON object")),
        Err(e) => Err(errors::body(400, format!("malformed JSON in the request body: {e}"))),
    }
}

/// What a field of a request body may hold.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Str,
    Bool,
    Int,
    Object,
    Array,
}

/// Checks that `body` has only the `fields` named, each of its kind (null counts as absent);
/// the first offence is a 400 in the API's words.
pub(crate) fn check_fields(body: &Map<String, Value>, fields: &[(&str, Kind)]) -> Result<(), Resp> {
    for (k, v) in body {
        let Some((_, kind)) = fields.iter().find(|(name, _)| name == k) else {
            return Err(errors::body(400, format!("property {k} should not exist")));
        };
        if v.is_null() {
            continue;
        }
        let ok = match kind {
            Kind::Str => v.is_string(),
            Kind::Bool => v.is_boolean(),
            Kind::Int => v.as_f64().is_some_and(|n| n.fract() == 0.0),
            Kind::Object => v.is_object(),
            Kind::Array => v.is_array(),
        };
        if !ok {
            let what = match kind {
                Kind::Str => "a string",
                Kind::Bool => "a boolean value",
                Kind::Int => "an integer number",
                Kind::Object => "an object",
                Kind::Array => "an array",
            };
            return Err(errors::body(400, format!("{k} must be {what}")));
        }
    }
    Ok(())
}

/// A `{ key: string }` object as pairs; other values are a 400 naming `field`.
pub(crate) fn string_map(v: Option<&Value>, field: &str) -> Result<Vec<(String, String)>, Resp> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(errors::body(400, format!("{field}.{k} must be a string"))),
            })
            .collect(),
        Some(_) => Err(errors::body(400, format!("{field} must be an object"))),
    }
}

/// A number as JSON: an integer when it is whole (typed clients want integers for
/// `cpu`, `memory`, intervals, ...).
pub(crate) fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 { Value::from(n as i64) } else { Value::from(n) }
}

pub(crate) fn pairs_object(pairs: &[(String, String)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// RFC 3339 UTC time of `secs` since the epoch (`2026-01-02T03:04:05.000Z`).
pub(crate) fn iso_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

pub(crate) fn now_iso() -> String {
    iso_time(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_time(1_700_000_000), "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn fields() {
        let m: Map<String, Value> = serde_json::from_str(r#"{"a":"x","n":1}"#).unwrap();
        assert!(check_fields(&m, &[("a", Kind::Str), ("n", Kind::Int)]).is_ok());
        assert!(check_fields(&m, &[("a", Kind::Str)]).is_err());
        assert!(check_fields(&m, &[("a", Kind::Bool), ("n", Kind::Int)]).is_err());
    }
}
