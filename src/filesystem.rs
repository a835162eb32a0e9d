//! The `FileSystem` class (`sandbox.fs`): reads the arguments and forwards to the core's
//! toolbox (`daytona_client::toolbox::files`). index.js adds `uploadFileStream` and
//! `downloadFileStream` on top of `_uploadSink` and `_downloadStream`.

use std::future::Future;
use std::sync::Mutex;

use daytona_client::Daytona;
use daytona_client::toolbox::Toolbox;
use daytona_client::toolbox::files::{DownloadResult, Downloaded, FileSource, UploadFeed};
use daytona_client::types::UploadSource;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::sync::{mpsc, oneshot};

use crate::process::on_toolbox;
use crate::promise::{read_args, spawn};
use crate::stream::{Bytes as ByteItems, Finished, ToolboxStream};

/// Pieces of a streamed download held between the sandbox and JavaScript.
const DOWNLOAD_PIECES: usize = 4;
use crate::values::{optional_bool, optional_number, optional_object, optional_string, property, required_string};

#[napi]
pub struct FileSystem {
    client: Daytona,
    id: String,
}

impl FileSystem {
    pub fn new(client: Daytona, id: String) -> Self {
        FileSystem { client, id }
    }

    fn run<'env, T, V, F, Fut, C>(&self, env: &'env Env, op: F, convert: C) -> Result<PromiseRaw<'env, V>>
    where
        T: Send + 'static,
        V: ToNapiValue,
        F: FnOnce(Toolbox) -> Fut + Send + 'static,
        Fut: Future<Output = daytona_client::Result<T>> + Send + 'static,
        C: FnOnce(&'env Env, T) -> Result<V> + 'static,
    {
        let op = on_toolbox(self.client.clone(), self.id.clone(), op);
        spawn(env, async move { Ok(op.await) }, convert)
    }

    /// A toolbox answer handed to JavaScript as is (`response.data`).
    fn json<'env, F, Fut>(&self, env: &'env Env, op: F) -> Result<PromiseRaw<'env, Unknown<'env>>>
    where
        F: FnOnce(Toolbox) -> Fut + Send + 'static,
        Fut: Future<Output = daytona_client::Result<serde_json::Value>> + Send + 'static,
    {
        self.run(env, op, |env, v| env.to_js_value(&v))
    }
}

/// `FileUpload` as index.js hands it over (a `Uint8Array` made a Buffer).
#[napi(object)]
pub struct FileUploadArg {
    pub source: Either<String, Buffer>,
    pub destination: String,
}

/// `FileDownloadRequest`.
#[napi(object)]
pub struct FileDownloadArg {
    pub source: String,
    pub destination: Option<String>,
}

/// Sets `key` to `value`, or to `undefined` when there is none (as the official objects have it).
fn set_or_undefined<T: ToNapiValue>(o: &mut Object, key: &str, value: Option<T>) -> Result<()> {
    match value {
        Some(v) => o.set_named_property(key, v),
        None => o.set_named_property(key, ()),
    }
}

/// A `FileDownloadResponse` as the official SDK builds it: every key present.
fn download_response<'env>(env: &'env Env, r: DownloadResult) -> Result<Object<'env>> {
    let mut o = Object::new(env)?;
    o.set_named_property("source", r.source)?;
    match r.result {
        Some(Downloaded::Bytes(b)) => o.set_named_property("result", Buffer::from(b))?,
        Some(Downloaded::Path(p)) => o.set_named_property("result", p)?,
        None => o.set_named_property("result", ())?,
    }
    set_or_undefined(&mut o, "error", r.error)?;
    match r.error_details {
        Some(d) => {
            let mut details = Object::new(env)?;
            details.set_named_property("message", d.message)?;
            set_or_undefined(&mut details, "statusCode", d.status_code)?;
            set_or_undefined(&mut details, "code", d.code.clone())?;
            set_or_undefined(&mut details, "errorCode", d.code)?;
            set_or_undefined(&mut details, "source", d.source)?;
            o.set_named_property("errorDetails", details)?;
        }
        None => o.set_named_property("errorDetails", ())?,
    }
    Ok(o)
}

#[napi]
impl FileSystem {
    /// This file system with its operations bound to `cancellation` (index.js: AbortSignal).
    #[napi(js_name = "_abortable")]
    pub fn abortable(&self, cancellation: &crate::abort::Cancellation) -> FileSystem {
        FileSystem { client: self.client.with_cancellation(cancellation.token()), id: self.id.clone() }
    }

    /// `createFolder(path, mode)`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn create_folder<'env>(&self, env: &'env Env, path: Option<Unknown>, mode: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (path, mode) = read_args!(env, (required_string(path, "path", "createFolder")?, required_string(mode, "mode", "createFolder")?));
        self.json(env, move |tb| async move { tb.create_folder(&path, &mode).await })
    }

    /// `deleteFile(path, recursive?)`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_file<'env>(&self, env: &'env Env, path: Option<Unknown>, recursive: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (path, recursive) = read_args!(env, (required_string(path, "path", "deleteFile")?, optional_bool(recursive, "recursive")?));
        self.json(env, move |tb| async move { tb.delete_file(&path, recursive).await })
    }

    /// `getFileDetails(path)`.
    #[napi(ts_return_type = "Promise<FileInfo>")]
    pub fn get_file_details<'env>(&self, env: &'env Env, path: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let path = read_args!(env, required_string(path, "path", "getFileInfo")?);
        self.json(env, move |tb| async move { tb.get_file_details(&path).await })
    }

    /// `listFiles(path, { depth }?)`.
    #[napi(ts_return_type = "Promise<FileInfo[]>")]
    pub fn list_files<'env>(&self, env: &'env Env, path: Option<Unknown>, options: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (path, depth) = read_args!(env, {
            let path = required_string(path, "path", "listFiles")?;
            let depth = match optional_object(options, "options")? {
                Some(o) => optional_number(property(&o, "depth")?, "options.depth")?,
                None => None,
            };
            (path, depth)
        });
        self.json(env, move |tb| async move { tb.list_files(&path, depth).await })
    }

    /// `moveFiles(source, destination)`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn move_files<'env>(&self, env: &'env Env, source: Option<Unknown>, destination: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (source, destination) =
            read_args!(env, (required_string(source, "source", "moveFile")?, required_string(destination, "destination", "moveFile")?));
        self.json(env, move |tb| async move { tb.move_files(&source, &destination).await })
    }

    /// `setFilePermissions(path, { owner, group, mode })`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_file_permissions<'env>(&self, env: &'env Env, path: Option<Unknown>, permissions: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (path, owner, group, mode) = read_args!(env, {
            let path = required_string(path, "path", "setFilePermissions")?;
            match optional_object(permissions, "permissions")? {
                Some(p) => (
                    path,
                    optional_string(property(&p, "owner")?, "permissions.owner")?,
                    optional_string(property(&p, "group")?, "permissions.group")?,
                    optional_string(property(&p, "mode")?, "permissions.mode")?,
                ),
                None => (path, None, None, None),
            }
        });
        self.json(env, move |tb| async move { tb.set_file_permissions(&path, owner, group, mode).await })
    }

    /// `findFiles(path, pattern)`.
    #[napi(ts_return_type = "Promise<Match[]>")]
    pub fn find_files<'env>(&self, env: &'env Env, path: Option<Unknown>, pattern: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (path, pattern) = read_args!(env, (required_string(path, "path", "findInFiles")?, required_string(pattern, "pattern", "findInFiles")?));
        self.json(env, move |tb| async move { tb.find_files(&path, &pattern).await })
    }

    /// `searchFiles(path, pattern)`.
    #[napi(ts_return_type = "Promise<SearchFilesResponse>")]
    pub fn search_files<'env>(&self, env: &'env Env, path: Option<Unknown>, pattern: Option<Unknown>) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (path, pattern) = read_args!(env, (required_string(path, "path", "searchFiles")?, required_string(pattern, "pattern", "searchFiles")?));
        self.json(env, move |tb| async move { tb.search_files(&path, &pattern).await })
    }

    /// `replaceInFiles(files, pattern, newValue)`.
    #[napi(ts_return_type = "Promise<ReplaceResult[]>")]
    pub fn replace_in_files<'env>(
        &self,
        env: &'env Env,
        files: Option<Unknown>,
        pattern: Option<Unknown>,
        new_value: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let (files, pattern, new_value) = read_args!(env, {
            let files = match crate::values::optional_string_array(files, "files")? {
                Some(f) => f,
                None => return Err(crate::values::ArgError::Invalid(daytona_client::ClientError::invalid("files must be an array of strings"))),
            };
            (files, required_string(pattern, "pattern", "replaceInFiles")?, required_string(new_value, "newValue", "replaceInFiles")?)
        });
        self.json(env, move |tb| async move { tb.replace_in_files(files, &pattern, &new_value).await })
    }

    /// `uploadFile(file: Buffer | localPath, remotePath, timeout?)`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn upload_file<'env>(
        &self,
        env: &'env Env,
        file: Either<Buffer, String>,
        remote_path: String,
        timeout: Option<f64>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let source = match file {
            Either::A(buf) => UploadSource::Bytes(buf.to_vec()),
            Either::B(path) => UploadSource::Path(path),
        };
        let (client, id) = (self.client.clone(), self.id.clone());
        spawn(env, async move { Ok(client.upload_file(&id, source, &remote_path, timeout).await) }, |_, ()| Ok(()))
    }

    /// `uploadFiles(files, timeout = 1800)`: one request, every file streamed.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn upload_files<'env>(&self, env: &'env Env, files: Vec<FileUploadArg>, timeout: Option<f64>) -> Result<PromiseRaw<'env, ()>> {
        let files: Vec<(FileSource, String)> = files
            .into_iter()
            .map(|f| {
                let source = match f.source {
                    Either::A(path) => FileSource::Path(path),
                    Either::B(buf) => FileSource::from(UploadSource::Bytes(buf.to_vec())),
                };
                (source, f.destination)
            })
            .collect();
        self.run(env, move |tb| async move { tb.upload_files(files, timeout).await }, |_, ()| Ok(()))
    }

    /// `downloadFile(remotePath, timeout?)` resolves to a Buffer;
    /// `downloadFile(remotePath, localPath, timeout?)` writes the file and resolves to undefined.
    #[napi(ts_return_type = "Promise<Buffer | void>")]
    pub fn download_file<'env>(
        &self,
        env: &'env Env,
        remote_path: String,
        local_path_or_timeout: Option<Either<String, f64>>,
        timeout: Option<f64>,
    ) -> Result<PromiseRaw<'env, Either<Buffer, ()>>> {
        let (client, id) = (self.client.clone(), self.id.clone());
        match local_path_or_timeout {
            Some(Either::A(local)) => spawn(
                env,
                async move { Ok(client.download_file_to(&id, &remote_path, &local, timeout).await) },
                |_, ()| Ok(Either::B(())),
            ),
            other => {
                let timeout = match other {
                    // `if (dst) timeout = dst`: 0 keeps the default.
                    Some(Either::B(t)) if t != 0.0 && !t.is_nan() => Some(t),
                    _ => timeout,
                };
                spawn(env, async move { Ok(client.download_file(&id, &remote_path, timeout).await) }, |_, bytes| {
                    Ok(Either::A(Buffer::from(bytes)))
                })
            }
        }
    }

    /// `downloadFiles(files, timeout = 1800)`.
    #[napi(ts_return_type = "Promise<FileDownloadResponse[]>")]
    pub fn download_files<'env>(&self, env: &'env Env, files: Vec<FileDownloadArg>, timeout: Option<f64>) -> Result<PromiseRaw<'env, Array<'env>>> {
        let files: Vec<(String, Option<String>)> = files.into_iter().map(|f| (f.source, f.destination)).collect();
        self.run(env, move |tb| async move { tb.download_files(files, timeout).await }, |env, results| {
            let mut array = env.create_array(results.len() as u32)?;
            for (i, r) in results.into_iter().enumerate() {
                array.set(i as u32, download_response(env, r)?)?;
            }
            Ok(array)
        })
    }

    /// The stream of one file's bytes for `downloadFileStream`: resolves once the data begins.
    #[napi(js_name = "_downloadStream", ts_return_type = "Promise<_ToolboxStream>")]
    pub fn download_stream<'env>(&self, env: &'env Env, remote_path: String, timeout: Option<f64>) -> Result<PromiseRaw<'env, ToolboxStream>> {
        self.run(env, move |tb| async move { tb.download_stream(&remote_path, timeout).await }, |_, mut download| {
            // A few pieces in flight: the reader's pace sets the download's.
            let (tx, rx) = mpsc::channel(DOWNLOAD_PIECES);
            Ok(ToolboxStream::start(Some(Box::new(ByteItems(rx))), async move {
                while let Some(piece) = download.next().await? {
                    if tx.send(piece).await.is_err() {
                        break;
                    }
                }
                Ok(Finished::Nothing)
            }))
        })
    }

    /// Starts `uploadFileStream`'s upload to `remotePath`; index.js writes the source into the
    /// returned sink.
    #[napi(js_name = "_uploadSink")]
    pub fn upload_sink(&self, remote_path: String, timeout: Option<f64>) -> UploadSink {
        let (feed, source) = UploadFeed::new(8);
        let (done_tx, done_rx) = oneshot::channel();
        let op = on_toolbox(self.client.clone(), self.id.clone(), move |tb| async move { tb.upload_files(vec![(source, remote_path)], timeout).await });
        let broken = feed.clone();
        napi::bindgen_prelude::spawn(async move {
            let result = op.await;
            // Whatever ended the upload, the writer stops waiting.
            broken.end();
            let _ = done_tx.send(result);
        });
        UploadSink { feed, done: Mutex::new(Some(done_rx)) }
    }
}

/// The sending end of a streamed upload: `write` resolves once there is room for the piece
/// (so a fast source waits for the sandbox), `end` finishes the body, `fail` breaks it off,
/// `done` settles with the upload's result.
#[napi(js_name = "_UploadSink")]
pub struct UploadSink {
    feed: UploadFeed,
    done: Mutex<Option<oneshot::Receiver<daytona_client::Result<()>>>>,
}

#[napi]
impl UploadSink {
    /// Resolves to `false` when the upload no longer takes data (it failed: see `done`).
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn write<'env>(&self, env: &'env Env, chunk: Buffer) -> Result<PromiseRaw<'env, bool>> {
        let feed = self.feed.clone();
        let piece = chunk.to_vec();
        spawn(env, async move { Ok(Ok::<bool, daytona_client::ClientError>(feed.send(piece).await)) }, |_, ok| Ok(ok))
    }

    /// Takes the piece at once when there is room for it: `true` taken, `false` the upload no
    /// longer takes data, `null` no room yet (then `write` waits for it). Saves a Promise per
    /// piece while the sandbox keeps up.
    #[napi]
    pub fn try_write(&self, chunk: &[u8]) -> Option<bool> {
        self.feed.try_send(chunk.to_vec()).ok()
    }

    #[napi]
    pub fn end(&self) {
        self.feed.end();
    }

    /// Breaks the upload off: the sandbox keeps nothing of it.
    #[napi]
    pub fn fail(&self, message: String) {
        self.feed.fail(message);
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn done<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner()).take();
        spawn(
            env,
            async move {
                Ok(match done {
                    Some(rx) => rx.await.unwrap_or_else(|_| Err(daytona_client::ClientError::generic("The upload was cancelled"))),
                    None => Ok(()),
                })
            },
            |_, ()| Ok(()),
        )
    }
}
