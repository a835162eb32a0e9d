//! The `FileSystem` class (`sandbox.fs`): forwards to the core.

use daytona_client::Daytona;
use daytona_client::types::UploadSource;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::promise::spawn;

#[napi]
pub struct FileSystem {
    client: Daytona,
    id: String,
}

impl FileSystem {
    pub fn new(client: Daytona, id: String) -> Self {
        FileSystem { client, id }
    }
}

#[napi]
impl FileSystem {
    /// This file system with its operations bound to `cancellation` (index.js: AbortSignal).
    #[napi(js_name = "_abortable")]
    pub fn abortable(&self, cancellation: &crate::abort::Cancellation) -> FileSystem {
        FileSystem { client: self.client.with_cancellation(cancellation.token()), id: self.id.clone() }
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
                    Some(Either::B(t)) => Some(t),
                    _ => timeout,
                };
                spawn(env, async move { Ok(client.download_file(&id, &remote_path, timeout).await) }, |_, bytes| {
                    Ok(Either::A(Buffer::from(bytes)))
                })
            }
        }
    }
}
