//! Build contexts to the push-access bucket (reference §2, done right): one
//! `GET /object-storage/push-access`, contexts planned with our SHA-256 keys (walked and hashed
//! in parallel while that request is in flight), each distinct context uploaded once to
//! `<organizationId>/<key>/context.tar` unless that exact object already exists, several at a
//! time, streamed from a blocking tar writer (multipart from 5 MiB on; an archive is never held
//! in memory whole unless it is small).

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use daytona_context::{ContextOptions, ContextPlan};
use daytona_image::Image;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};
use reqwest::Method;
use serde_json::Value;
use tokio::sync::mpsc;

use super::http::{Http, Request, is_loopback_host};
use crate::error::{ClientError, ErrorKind, Result};
use crate::events::BuildEvent;
use crate::logs::Logs;
use crate::plan::{ImagePlan, context_error, plan_image};

/// The official uploader's part size; also the single-PUT limit.
pub const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts in flight per upload, and uploads in flight per image.
pub const CONCURRENCY: usize = 4;
pub const DEFAULT_BUCKET: &str = "daytona-volume-builds";

/// `StorageAccessDto`.
#[derive(Debug, Clone)]
pub struct PushAccess {
    pub access_key: String,
    pub secret: String,
    pub session_token: String,
    pub storage_url: String,
    pub organization_id: String,
    pub bucket: String,
    pub region: String,
}

impl PushAccess {
    pub fn from_json(v: &Value) -> Result<PushAccess> {
        let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let p = PushAccess {
            access_key: get("accessKey"),
            secret: get("secret"),
            session_token: get("sessionToken"),
            storage_url: get("storageUrl"),
            organization_id: get("organizationId"),
            bucket: get("bucket"),
            region: get("region"),
        };
        if p.storage_url.is_empty() {
            return Err(ClientError::generic("The Daytona API's push-access answer has no storageUrl"));
        }
        Ok(p)
    }

    /// `bucket || 'daytona-volume-builds'`.
    pub fn bucket(&self) -> &str {
        if self.bucket.is_empty() { DEFAULT_BUCKET } else { &self.bucket }
    }

    /// `<organizationId>/<key>/context.tar`.
    pub fn object_key(&self, key: &str) -> String {
        format!("{}/{}/context.tar", self.organization_id, key)
    }
}

/// Plain HTTP to object storage only on loopback, or when the API itself is plain HTTP (a
/// self-hosted setup that chose it): the request carries signed credentials.
pub fn http_allowed(storage_url: &str, api_url: &str) -> bool {
    match reqwest::Url::parse(storage_url) {
        Ok(u) if u.scheme() == "http" => {
            u.host_str().is_some_and(is_loopback_host) || api_url.starts_with("http://")
        }
        _ => false,
    }
}

fn store_for(access: &PushAccess, api_url: &str) -> Result<AmazonS3> {
    super::http::install_crypto_provider();
    let allow_http = http_allowed(&access.storage_url, api_url);
    if access.storage_url.starts_with("http://") && !allow_http {
        return Err(ClientError::generic(format!(
            "Refusing to upload the build context over plain HTTP to {}: object storage credentials would travel unencrypted",
            super::http::origin_of(&access.storage_url).unwrap_or_default()
        )));
    }
    let region = if access.region.is_empty() { "us-east-1" } else { &access.region };
    let mut builder = AmazonS3Builder::new();
    if !access.session_token.is_empty() {
        builder = builder.with_token(&access.session_token);
    }
    builder
        .with_endpoint(access.storage_url.trim_end_matches('/'))
        .with_region(region)
        .with_bucket_name(access.bucket())
        .with_access_key_id(&access.access_key)
        .with_secret_access_key(&access.secret)
        .with_virtual_hosted_style_request(false)
        // A 5 MiB part on a slow link can take a while; object_store retries on its own.
        // (Client options first: they carry allow_http too.)
        .with_client_options(object_store::ClientOptions::new().with_timeout(std::time::Duration::from_secs(600)))
        .with_allow_http(allow_http)
        .build()
        .map_err(|e| ClientError::generic(format!("Cannot set up the object storage client: {e}")))
}

fn storage_error(what: &str, e: object_store::Error) -> ClientError {
    let kind = match &e {
        object_store::Error::NotFound { .. } => ErrorKind::NotFound,
        object_store::Error::PermissionDenied { .. } => ErrorKind::Forbidden,
        object_store::Error::Unauthenticated { .. } => ErrorKind::Authentication,
        _ => ErrorKind::Generic,
    };
    ClientError::new(kind, format!("{what}: {e}"))
}

/// `contextHashes` of `image`: one key per context-list entry, in order, duplicates kept.
/// Reports `contextPlanned` and each context's `uploadProgress` to `logs`.
pub async fn process_image_context(http: &Http, image: &Image, logs: &Logs) -> Result<Vec<String>> {
    if image.context_list().is_empty() {
        logs.event(BuildEvent::context_planned(std::iter::empty())).await;
        return Ok(Vec::new());
    }
    let planning = {
        let image = image.clone();
        async move {
            tokio::task::spawn_blocking(move || plan_image(&image, &ContextOptions::default()))
                .await
                .map_err(|e| ClientError::generic(format!("Planning the build context failed: {e}")))?
        }
    };
    let access = async {
        let v = http.json(&Request::new(Method::GET, http.api("/object-storage/push-access"))).await?;
        PushAccess::from_json(&v)
    };
    let (plan, access) = tokio::try_join!(planning, access)?;
    let keys = context_hashes(image, &plan)?;
    logs.event(BuildEvent::context_planned(&plan.contexts)).await;
    let store = Arc::new(store_for(&access, &http.config().api_url)?);
    let mut distinct: Vec<ContextPlan> = Vec::new();
    for c in &plan.contexts {
        if !distinct.iter().any(|d| d.key == c.key) {
            distinct.push(c.clone());
        }
    }
    let uploads: Vec<_> = distinct
        .into_iter()
        .map(|c| {
            let store = store.clone();
            let path = ObjectPath::from(access.object_key(&c.key));
            async move { upload_one(&store, &path, &c, logs).await }
        })
        .collect();
    futures_util::stream::iter(uploads).buffer_unordered(CONCURRENCY).try_collect::<Vec<()>>().await?;
    Ok(keys)
}

/// The key of each context-list entry (the plan holds each distinct entry once).
fn context_hashes(image: &Image, plan: &ImagePlan) -> Result<Vec<String>> {
    image
        .context_list()
        .iter()
        .map(|c| {
            plan.contexts
                .iter()
                .find(|p| p.source_path == std::path::Path::new(&c.source_path) && p.archive_path == c.archive_path)
                .map(|p| p.key.clone())
                .ok_or_else(|| ClientError::generic(format!("No plan for context {}", c.source_path)))
        })
        .collect()
}

/// `uploadProgress` of one context: `sent` bytes handed to the uploader of `total`.
fn progress(plan: &ContextPlan, sent: u64, total: u64, skipped: bool) -> BuildEvent {
    BuildEvent::UploadProgress { key: plan.key.clone(), bytes_sent: sent, total_bytes: total, skipped }
}

async fn upload_one(store: &AmazonS3, path: &ObjectPath, plan: &ContextPlan, logs: &Logs) -> Result<()> {
    let what = format!("Uploading the build context {} to object storage", plan.source_path.display());
    match store.head(path).await {
        Ok(head) => {
            let size = head.size as u64;
            logs.event(progress(plan, size, size, true)).await;
            return Ok(());
        }
        // Without s3:ListBucket, S3 answers 403 for a missing key: upload (a PUT that is not
        // allowed either fails below, with its own error).
        Err(object_store::Error::NotFound { .. } | object_store::Error::PermissionDenied { .. }) => {}
        Err(e) => return Err(storage_error(&what, e)),
    }
    let len = plan.archive_len().map_err(context_error)?;
    logs.event(progress(plan, 0, len, false)).await;
    if len < PART_SIZE as u64 {
        let owned = plan.clone();
        let bytes = tokio::task::spawn_blocking(move || owned.write_archive(Vec::with_capacity(len as usize)))
            .await
            .map_err(|e| ClientError::generic(format!("{what}: {e}")))?
            .map_err(context_error)?;
        store.put(path, PutPayload::from(bytes)).await.map_err(|e| storage_error(&what, e))?;
        logs.event(progress(plan, len, len, false)).await;
        return Ok(());
    }
    let upload = store.put_multipart(path).await.map_err(|e| storage_error(&what, e))?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let (mut rx, archiving) = spawn_archive(plan.clone());
    let streamed: Result<()> = async {
        // Reported per part handed over (parts in flight may still be on their way).
        let mut handed = 0u64;
        let mut reported = 0u64;
        while let Some(chunk) = rx.recv().await {
            writer.wait_for_capacity(CONCURRENCY).await.map_err(|e| storage_error(&what, e))?;
            handed += chunk.len() as u64;
            writer.put(chunk);
            if handed - reported >= PART_SIZE as u64 && handed < len {
                reported = handed;
                logs.event(progress(plan, handed, len, false)).await;
            }
        }
        archiving.await.map_err(|e| ClientError::generic(format!("{what}: {e}")))??;
        Ok(())
    }
    .await;
    match streamed {
        Ok(()) => {
            writer.finish().await.map_err(|e| storage_error(&what, e))?;
            logs.event(progress(plan, len, len, false)).await;
            Ok(())
        }
        Err(e) => {
            let _ = writer.abort().await;
            Err(e)
        }
    }
}

/// `io::Write` into a bounded channel of 1 MiB chunks (the upload side awaits them).
struct ChannelWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    const CHUNK: usize = 1024 * 1024;
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(Self::CHUNK)));
        self.tx.blocking_send(chunk).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "upload was cancelled"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= Self::CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Writes the context's tar on a blocking thread into a channel.
fn spawn_archive(plan: ContextPlan) -> (mpsc::Receiver<Bytes>, tokio::task::JoinHandle<Result<()>>) {
    let (tx, rx) = mpsc::channel(4);
    let handle = tokio::task::spawn_blocking(move || {
        let w = ChannelWriter { tx, buf: Vec::with_capacity(ChannelWriter::CHUNK) };
        let mut w = plan.write_archive(w).map_err(context_error)?;
        w.flush().map_err(|e| ClientError::generic(format!("Cannot stream the build context: {e}")))?;
        Ok(())
    });
    (rx, handle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn push_access_and_keys() {
        let a = PushAccess::from_json(&json!({
            "accessKey": "AK", "secret": "S", "sessionToken": "T", "storageUrl": "http://127.0.0.1:9000",
            "organizationId": "org", "bucket": "", "region": "us-east-1"
        }))
        .unwrap();
        assert_eq!(a.bucket(), DEFAULT_BUCKET);
        assert_eq!(a.object_key("abc"), "org/abc/context.tar");
        assert!(http_allowed("http://127.0.0.1:9000", "https://app.daytona.io/api"));
        assert!(http_allowed("http://localhost:9000", "https://app.daytona.io/api"));
        assert!(http_allowed("http://[::1]:9000", "https://app.daytona.io/api"));
        assert!(!http_allowed("http://minio.internal:9000", "https://app.daytona.io/api"));
        assert!(http_allowed("http://minio.internal:9000", "http://daytona.internal/api"));
        assert!(!http_allowed("https://s3.example", "http://x"));
    }

    #[test]
    fn hashes_follow_the_context_list_with_duplicates() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.txt");
        std::fs::write(&f, "a").unwrap();
        let g = d.path().join("b.txt");
        std::fs::write(&g, "b").unwrap();
        let mut image = Image::base("alpine");
        image.add_local_file(f.to_str().unwrap(), "/a.txt").unwrap();
        image.add_local_file(g.to_str().unwrap(), "/b.txt").unwrap();
        image.add_local_file(f.to_str().unwrap(), "/again.txt").unwrap();
        let plan = plan_image(&image, &ContextOptions::default()).unwrap();
        assert_eq!(plan.contexts.len(), 2);
        let keys = context_hashes(&image, &plan).unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[0], keys[2]);
        assert_ne!(keys[0], keys[1]);
        assert_eq!(keys[0], plan.contexts[0].key);
    }
}
