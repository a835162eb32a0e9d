//! Object storage for build contexts: `GET /api/object-storage/push-access` hands out
//! credentials for `/s3`, where the server answers the S3 subset the SDKs use to upload
//! contexts (ListObjectsV2, PutObject, HeadObject/GetObject, multipart uploads), every request
//! checked against an AWS Signature Version 4 made with those credentials. Objects are files in
//! a private temporary directory of the server (streamed to disk, never held whole); a build
//! unpacks the contexts it names into a directory of its own and builds the Dockerfile there.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;
use daytona_client::ClientError;
use daytona_image::Image;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use hyper::Method;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::http::{self, Req, Resp};
use crate::App;

pub(crate) const BUCKET: &str = "daytona-volume-builds";
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const ORGANIZATION: &str = "local";
const DOCKERFILE: &str = ".daytona-native-serve.Dockerfile";

struct Object {
    path: PathBuf,
    size: u64,
    etag: String,
    modified: u64,
}

struct Upload {
    key: String,
    parts: HashMap<u32, Object>,
}

pub(crate) struct Storage {
    dir: tempfile::TempDir,
    access_key: String,
    secret: String,
    session_token: String,
    objects: Mutex<HashMap<String, Object>>,
    uploads: Mutex<HashMap<String, Upload>>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// RFC 3986 encoding of SigV4 canonical query strings (everything but the unreserved set).
fn uri_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn snapshot_ref(dockerfile: &str) -> String {
    format!("daytona-{}:daytona", &hex(&Sha256::digest(dockerfile.as_bytes()))[..32])
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn xml(status: u16, body: String) -> Resp {
    hyper::Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/xml")
        .body(http::full(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}")))
        .unwrap_or_else(|_| hyper::Response::new(http::empty()))
}

fn s3_error(status: u16, code: &str, message: &str) -> Resp {
    xml(status, format!("<Error><Code>{code}</Code><Message>{}</Message></Error>", xml_escape(message)))
}

pub(crate) fn push_access(app: &App) -> Resp {
    let s = &app.storage;
    http::json(
        200,
        &json!({
            "accessKey": s.access_key,
            "secret": s.secret,
            "sessionToken": s.session_token,
            "storageUrl": format!("{}/s3", app.origin),
            "organizationId": ORGANIZATION,
            "bucket": BUCKET,
            "region": REGION,
        }),
    )
}

impl Storage {
    pub fn new() -> std::io::Result<Storage> {
        let dir = tempfile::Builder::new().prefix("daytona-native-serve-").tempdir()?;
        let access_key = format!("DTN{}", uuid::Uuid::new_v4().simple().to_string()[..17].to_uppercase());
        Ok(Storage {
            dir,
            access_key,
            secret: uuid::Uuid::new_v4().simple().to_string(),
            session_token: uuid::Uuid::new_v4().simple().to_string(),
            objects: Mutex::new(HashMap::new()),
            uploads: Mutex::new(HashMap::new()),
        })
    }

    fn new_file(&self) -> PathBuf {
        self.dir.path().join(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Checks the request's SigV4 `Authorization` header against this storage's credentials.
    fn verify(&self, req: &Req) -> Result<(), String> {
        let headers = req.headers();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let auth = header("authorization").ok_or("the request is not signed")?;
        let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or("only AWS4-HMAC-SHA256 signatures are accepted")?;
        let mut credential = None;
        let mut signed = None;
        let mut signature = None;
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Credential=") {
                credential = Some(v);
            } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
                signed = Some(v);
            } else if let Some(v) = part.strip_prefix("Signature=") {
                signature = Some(v);
            }
        }
        let (credential, signed, signature) = (credential.ok_or("no Credential")?, signed.ok_or("no SignedHeaders")?, signature.ok_or("no Signature")?);
        let mut scope_parts = credential.splitn(2, '/');
        let key_id = scope_parts.next().unwrap_or("");
        let scope = scope_parts.next().ok_or("malformed Credential")?;
        if !crate::auth::constant_time_eq(key_id.as_bytes(), self.access_key.as_bytes()) {
            return Err("unknown access key: use the credentials of GET /api/object-storage/push-access".into());
        }
        let token = header("x-amz-security-token").unwrap_or("");
        if !crate::auth::constant_time_eq(token.as_bytes(), self.session_token.as_bytes()) {
            return Err("wrong or missing session token".into());
        }
        let date = header("x-amz-date").ok_or("no x-amz-date")?;
        let scope_fields: Vec<&str> = scope.split('/').collect();
        if scope_fields.len() != 4 || scope_fields[3] != "aws4_request" || !date.starts_with(scope_fields[0]) {
            return Err("malformed credential scope".into());
        }
        let payload = header("x-amz-content-sha256").unwrap_or("UNSIGNED-PAYLOAD");
        let mut query: Vec<(String, String)> = req
            .uri()
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (uri_encode(&http::decode_segment(k)), uri_encode(&http::decode_segment(v)))
            })
            .collect();
        query.sort();
        let canonical_query = query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let mut canonical_headers = String::new();
        for name in signed.split(';') {
            let values: Vec<String> = headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            if values.is_empty() {
                return Err(format!("signed header {name} is missing"));
            }
            canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
        }
        let canonical = format!("{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed}\n{payload}", req.method(), req.uri().path());
        let to_sign = format!("AWS4-HMAC-SHA256\n{date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
        let mut key = hmac(format!("AWS4{}", self.secret).as_bytes(), scope_fields[0].as_bytes());
        for part in &scope_fields[1..] {
            key = hmac(&key, part.as_bytes());
        }
        let expected = hex(&hmac(&key, to_sign.as_bytes()));
        if !crate::auth::constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err("the request signature does not match".into());
        }
        Ok(())
    }

    /// Streams the body to a new file (decoding `aws-chunked` bodies) and checks its SHA-256
    /// against `x-amz-content-sha256` when that names one.
    async fn receive(&self, req: Req) -> Result<Object, Resp> {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let declared = header("x-amz-content-sha256").unwrap_or_default();
        let chunked = declared.starts_with("STREAMING-") || header("content-encoding").is_some_and(|e| e.contains("aws-chunked"));
        let raw = self.new_file();
        let io = |e: std::io::Error| s3_error(500, "InternalError", &format!("cannot store the object: {e}"));
        let mut file = tokio::fs::File::create(&raw).await.map_err(io)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut body = req.into_body().into_data_stream();
        while let Some(chunk) = body.next().await {
            let chunk: Bytes = chunk.map_err(|e| s3_error(400, "IncompleteBody", &format!("the body broke off: {e}")))?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        drop(file);
        let digest = hex(&hasher.finalize());
        if declared.len() == 64 && declared.bytes().all(|b| b.is_ascii_hexdigit()) && !declared.eq_ignore_ascii_case(&digest) {
            let _ = std::fs::remove_file(&raw);
            return Err(s3_error(400, "XAmzContentSHA256Mismatch", "the body's SHA-256 is not x-amz-content-sha256"));
        }
        let (path, size, digest) = if chunked {
            let out = self.new_file();
            let (r, o) = (raw.clone(), out.clone());
            let decoded = tokio::task::spawn_blocking(move || decode_aws_chunked(&r, &o)).await.map_err(|e| io(std::io::Error::other(e)))?;
            let _ = std::fs::remove_file(&raw);
            match decoded {
                Ok((n, d)) => (out, n, d),
                Err(e) => {
                    let _ = std::fs::remove_file(&out);
                    return Err(s3_error(400, "InvalidRequest", &format!("malformed aws-chunked body: {e}")));
                }
            }
        } else {
            (raw, size, digest)
        };
        Ok(Object { path, size, etag: format!("\"{}\"", &digest[..32]), modified: now_secs() })
    }

    fn put(&self, key: String, obj: Object) {
        if let Some(old) = self.objects.lock().unwrap_or_else(|e| e.into_inner()).insert(key, obj) {
            let _ = std::fs::remove_file(old.path);
        }
    }

    /// Unpacks the contexts named by `hashes` into a new directory, writes the Dockerfile
    /// there and plans the image from it; the directory lives as long as the returned handle.
    pub async fn build_context(&self, dockerfile: &str, hashes: &[String]) -> Result<(tempfile::TempDir, Image), ClientError> {
        let dir = tempfile::Builder::new()
            .prefix("daytona-native-context-")
            .tempdir()
            .map_err(|e| ClientError::generic(format!("Cannot make a build directory: {e}")))?;
        let mut archives = Vec::new();
        {
            let objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
            for h in hashes {
                let prefix = format!("{BUCKET}/{ORGANIZATION}/{h}/");
                let found = objects.iter().find(|(k, _)| k.starts_with(&prefix)).map(|(_, o)| o.path.clone());
                match found {
                    Some(p) => archives.push(p),
                    None => {
                        return Err(ClientError::invalid(format!(
                            "Build context {h} was not uploaded to this server's object storage (GET /api/object-storage/push-access, then upload {ORGANIZATION}/{h}/context.tar)"
                        )));
                    }
                }
            }
        }
        let root = dir.path().to_path_buf();
        let text = dockerfile.to_string();
        let image = tokio::task::spawn_blocking(move || -> Result<Image, ClientError> {
            for a in &archives {
                let file = std::fs::File::open(a).map_err(|e| ClientError::generic(format!("Cannot read a build context: {e}")))?;
                tar::Archive::new(file)
                    .unpack(&root)
                    .map_err(|e| ClientError::invalid(format!("A build context is not a valid tar archive: {e}")))?;
            }
            let path = root.join(DOCKERFILE);
            std::fs::write(&path, text.as_bytes()).map_err(|e| ClientError::generic(format!("Cannot write the Dockerfile: {e}")))?;
            Ok(Image::from_dockerfile(&path.to_string_lossy(), false)?)
        })
        .await
        .map_err(|e| ClientError::generic(format!("The build preparation failed: {e}")))??;
        Ok((dir, image))
    }
}

/// Decodes an `aws-chunked` body (`<hex size>[;chunk-signature=..]\r\n<data>\r\n` ... `0\r\n`
/// then trailers) from `from` into `to`; returns the size and SHA-256 of the data.
fn decode_aws_chunked(from: &Path, to: &Path) -> std::io::Result<(u64, String)> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut input = std::io::BufReader::new(std::fs::File::open(from)?);
    let mut output = std::io::BufWriter::new(std::fs::File::create(to)?);
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Err(bad("the body ends before its last chunk"));
        }
        let size_text = line.trim_end().split(';').next().unwrap_or("");
        let size = u64::from_str_radix(size_text.trim(), 16).map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            break;
        }
        let mut remaining = size;
        let mut buf = vec![0u8; 64 * 1024];
        while remaining > 0 {
            let n = (remaining as usize).min(buf.len());
            input.read_exact(&mut buf[..n])?;
            hasher.update(&buf[..n]);
            output.write_all(&buf[..n])?;
            remaining -= n as u64;
        }
        total += size;
        let mut crlf = [0u8; 2];
        input.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(bad("a chunk does not end with CRLF"));
        }
    }
    output.flush()?;
    Ok((total, hex(&hasher.finalize())))
}

/// `/s3/{bucket}/{key}` (path style).
pub(crate) async fn route(app: &App, req: Req, rest: &str) -> Resp {
    let s = &app.storage;
    if let Err(why) = s.verify(&req) {
        return s3_error(403, "SignatureDoesNotMatch", &why);
    }
    let (bucket, key) = match rest.split_once('/') {
        Some((b, k)) => (http::decode_segment(b), http::decode_segment(k)),
        None => (http::decode_segment(rest), String::new()),
    };
    if bucket != BUCKET {
        return s3_error(404, "NoSuchBucket", &format!("this server has one bucket, {BUCKET}"));
    }
    let q = http::query(&req);
    let has = |k: &str| q.iter().any(|(n, _)| n == k);
    let full_key = format!("{bucket}/{key}");
    let method = req.method().clone();
    match method {
        Method::GET if key.is_empty() => list(s, &q),
        Method::GET | Method::HEAD => {
            let (path, size, etag, modified) = {
                let objects = s.objects.lock().unwrap_or_else(|e| e.into_inner());
                match objects.get(&full_key) {
                    Some(o) => (o.path.clone(), o.size, o.etag.clone(), o.modified),
                    None => return s3_error(404, "NoSuchKey", "The specified key does not exist."),
                }
            };
            let builder = hyper::Response::builder()
                .status(200)
                .header(hyper::header::CONTENT_LENGTH, size)
                .header(hyper::header::ETAG, etag)
                .header(hyper::header::LAST_MODIFIED, httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(modified)))
                .header(hyper::header::CONTENT_TYPE, "application/octet-stream");
            if method == Method::HEAD {
                return builder.body(http::empty()).unwrap_or_else(|_| http::status(500));
            }
            match tokio::fs::File::open(&path).await {
                Ok(f) => {
                    let stream = tokio_util::io::ReaderStream::new(f).map(|r| r.map(hyper::body::Frame::data));
                    builder.body(http_body_util::StreamBody::new(stream).boxed_unsync()).unwrap_or_else(|_| http::status(500))
                }
                Err(_) => s3_error(404, "NoSuchKey", "The specified key does not exist."),
            }
        }
        Method::PUT if has("uploadId") => {
            let upload_id = http::query_one(&q, "uploadId").unwrap_or("").to_string();
            let Some(part) = http::query_one(&q, "partNumber").and_then(|p| p.parse::<u32>().ok()) else {
                return s3_error(400, "InvalidArgument", "partNumber must be an integer");
            };
            if !s.uploads.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&upload_id) {
                return s3_error(404, "NoSuchUpload", "The specified upload does not exist.");
            }
            let obj = match s.receive(req).await {
                Ok(o) => o,
                Err(r) => return r,
            };
            let etag = obj.etag.clone();
            let mut uploads = s.uploads.lock().unwrap_or_else(|e| e.into_inner());
            match uploads.get_mut(&upload_id) {
                Some(u) => {
                    if let Some(old) = u.parts.insert(part, obj) {
                        let _ = std::fs::remove_file(old.path);
                    }
                }
                None => return s3_error(404, "NoSuchUpload", "The specified upload does not exist."),
            }
            hyper::Response::builder().status(200).header(hyper::header::ETAG, etag).body(http::empty()).unwrap_or_else(|_| http::status(500))
        }
        Method::PUT if !key.is_empty() => match s.receive(req).await {
            Ok(obj) => {
                let etag = obj.etag.clone();
                s.put(full_key, obj);
                hyper::Response::builder().status(200).header(hyper::header::ETAG, etag).body(http::empty()).unwrap_or_else(|_| http::status(500))
            }
            Err(r) => r,
        },
        Method::POST if has("uploads") && !key.is_empty() => {
            let id = uuid::Uuid::new_v4().simple().to_string();
            s.uploads.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), Upload { key: full_key, parts: HashMap::new() });
            xml(
                200,
                format!(
                    "<InitiateMultipartUploadResult><Bucket>{BUCKET}</Bucket><Key>{}</Key><UploadId>{id}</UploadId></InitiateMultipartUploadResult>",
                    xml_escape(&key)
                ),
            )
        }
        Method::POST if has("uploadId") => {
            let upload_id = http::query_one(&q, "uploadId").unwrap_or("").to_string();
            // The part list of the request is not needed: the parts received are joined in order.
            let _ = http::bytes(req, http::MAX_JSON).await;
            let Some(upload) = s.uploads.lock().unwrap_or_else(|e| e.into_inner()).remove(&upload_id) else {
                return s3_error(404, "NoSuchUpload", "The specified upload does not exist.");
            };
            let out = s.new_file();
            let mut numbers: Vec<u32> = upload.parts.keys().copied().collect();
            numbers.sort();
            let paths: Vec<PathBuf> = numbers.iter().map(|n| upload.parts[n].path.clone()).collect();
            let o = out.clone();
            let joined = tokio::task::spawn_blocking(move || -> std::io::Result<(u64, String)> {
                let mut w = std::io::BufWriter::new(std::fs::File::create(&o)?);
                let mut hasher = Sha256::new();
                let mut total = 0;
                for p in &paths {
                    let mut r = std::fs::File::open(p)?;
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = r.read(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        hasher.update(&buf[..n]);
                        w.write_all(&buf[..n])?;
                        total += n as u64;
                    }
                    let _ = std::fs::remove_file(p);
                }
                w.flush()?;
                Ok((total, hex(&hasher.finalize())))
            })
            .await;
            match joined {
                Ok(Ok((size, digest))) => {
                    let etag = format!("\"{}-{}\"", &digest[..32], numbers.len());
                    s.put(upload.key.clone(), Object { path: out, size, etag: etag.clone(), modified: now_secs() });
                    xml(
                        200,
                        format!(
                            "<CompleteMultipartUploadResult><Bucket>{BUCKET}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
                            xml_escape(&key),
                            xml_escape(&etag)
                        ),
                    )
                }
                _ => s3_error(500, "InternalError", "cannot join the parts"),
            }
        }
        Method::DELETE if has("uploadId") => {
            let upload_id = http::query_one(&q, "uploadId").unwrap_or("");
            if let Some(u) = s.uploads.lock().unwrap_or_else(|e| e.into_inner()).remove(upload_id) {
                for p in u.parts.into_values() {
                    let _ = std::fs::remove_file(p.path);
                }
            }
            http::status(204)
        }
        Method::DELETE if !key.is_empty() => {
            if let Some(o) = s.objects.lock().unwrap_or_else(|e| e.into_inner()).remove(&full_key) {
                let _ = std::fs::remove_file(o.path);
            }
            http::status(204)
        }
        _ => s3_error(501, "NotImplemented", "this S3 operation is not served by daytona-native serve"),
    }
}

/// ListObjectsV2 (prefix, max-keys, start-after / continuation-token).
fn list(s: &Storage, q: &[(String, String)]) -> Resp {
    let prefix = http::query_one(q, "prefix").unwrap_or("");
    let max = http::query_one(q, "max-keys").and_then(|m| m.parse::<usize>().ok()).unwrap_or(1000).min(1000);
    let after = http::query_one(q, "continuation-token").or_else(|| http::query_one(q, "start-after")).unwrap_or("");
    let objects = s.objects.lock().unwrap_or_else(|e| e.into_inner());
    let mut keys: Vec<(&str, &Object)> = objects
        .iter()
        .filter_map(|(k, o)| k.strip_prefix(&format!("{BUCKET}/")).map(|k| (k, o)))
        .filter(|(k, _)| k.starts_with(prefix) && *k > after)
        .collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let truncated = keys.len() > max;
    keys.truncate(max);
    let mut body = format!(
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{BUCKET}</Name><Prefix>{}</Prefix><KeyCount>{}</KeyCount><MaxKeys>{max}</MaxKeys><IsTruncated>{truncated}</IsTruncated>",
        xml_escape(prefix),
        keys.len()
    );
    for (k, o) in &keys {
        body.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            xml_escape(k),
            http::iso_time(o.modified),
            xml_escape(&o.etag),
            o.size
        ));
    }
    if truncated && let Some((last, _)) = keys.last() {
        body.push_str(&format!("<NextContinuationToken>{}</NextContinuationToken>", xml_escape(last)));
    }
    body.push_str("</ListBucketResult>");
    xml(200, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2.
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn aws_chunked_bodies_decode() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"5;chunk-signature=x\r\nhello\r\n1\r\n!\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n").unwrap();
        let (n, _) = decode_aws_chunked(&a, &b).unwrap();
        assert_eq!(n, 6);
        assert_eq!(std::fs::read(&b).unwrap(), b"hello!");
        std::fs::write(&a, b"5\r\nhel").unwrap();
        assert!(decode_aws_chunked(&a, &b).is_err());
    }
}
