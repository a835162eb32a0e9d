//! `fs.uploadFile` / `fs.downloadFile` over the engine's archive endpoints. Relative remote
//! paths are relative to the sandbox's working directory; missing parent directories are
//! created, as the Daytona toolbox does.

use bollard::Docker;
use bollard::query_parameters::{DownloadFromContainerOptionsBuilder, InspectContainerOptions, UploadToContainerOptionsBuilder};
use bytes::Bytes;
use futures_util::StreamExt;

use super::build::engine_error;
use crate::error::{ClientError, ErrorKind, Result};
use crate::types::ExecRequest;

async fn absolute(docker: &Docker, container: &str, remote_path: &str) -> Result<String> {
    if remote_path.starts_with('/') {
        return Ok(remote_path.to_string());
    }
    let c = docker
        .inspect_container(container, None::<InspectContainerOptions>)
        .await
        .map_err(|e| engine_error("Inspecting the sandbox", e))?;
    let workdir = c.config.and_then(|c| c.working_dir).filter(|w| !w.is_empty()).unwrap_or_else(|| "/".into());
    Ok(format!("{}/{}", workdir.trim_end_matches('/'), remote_path.trim_start_matches("./")))
}

fn split(path: &str) -> Result<(String, String)> {
    let trimmed = path.trim_end_matches('/');
    let (dir, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
    if name.is_empty() || name == "." || name == ".." {
        return Err(ClientError::invalid(format!("Remote path {path} does not name a file")));
    }
    Ok((if dir.is_empty() { "/".into() } else { dir.to_string() }, name.to_string()))
}

pub(super) async fn upload(docker: &Docker, container: &str, content: Vec<u8>, remote_path: &str) -> Result<()> {
    let path = absolute(docker, container, remote_path).await?;
    let (dir, name) = split(&path)?;
    let mkdir = ExecRequest { command: String::new(), ..Default::default() };
    let quoted = format!("'{}'", dir.replace('\'', "'\\''"));
    super::exec::execute(docker, container, &ExecRequest { command: format!("mkdir -p {quoted}"), ..mkdir }).await?;
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0));
    let mut builder = tar::Builder::new(Vec::with_capacity(content.len() + 1024));
    builder
        .append_data(&mut header, &name, content.as_slice())
        .map_err(|e| ClientError::generic(format!("Cannot pack {remote_path}: {e}")))?;
    let archive = builder.into_inner().map_err(|e| ClientError::generic(format!("Cannot pack {remote_path}: {e}")))?;
    docker
        .upload_to_container(
            container,
            Some(UploadToContainerOptionsBuilder::new().path(&dir).build()),
            bollard::body_full(Bytes::from(archive)),
        )
        .await
        .map_err(|e| engine_error(&format!("Uploading {remote_path}"), e))
}

pub(super) async fn download(docker: &Docker, container: &str, remote_path: &str) -> Result<Vec<u8>> {
    let path = absolute(docker, container, remote_path).await?;
    let mut stream = docker.download_from_container(container, Some(DownloadFromContainerOptionsBuilder::new().path(&path).build()));
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => archive.extend_from_slice(&bytes),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                let mut err = ClientError::new(ErrorKind::FileNotFound, format!("file not found: {remote_path}"));
                err.status_code = Some(404);
                err.code = Some("FILE_NOT_FOUND".into());
                return Err(err);
            }
            Err(e) => return Err(engine_error(&format!("Downloading {remote_path}"), e)),
        }
    }
    let mut entries = tar::Archive::new(archive.as_slice());
    let mut entries = entries.entries().map_err(|e| ClientError::generic(format!("Cannot read {remote_path}: {e}")))?;
    let first = entries
        .next()
        .ok_or_else(|| ClientError::generic(format!("No data received for {remote_path}")))?
        .map_err(|e| ClientError::generic(format!("Cannot read {remote_path}: {e}")))?;
    if first.header().entry_type().is_dir() {
        return Err(ClientError::invalid(format!("{remote_path} is a directory, not a file")));
    }
    let mut first = first;
    let mut out = Vec::with_capacity(first.header().size().unwrap_or(0) as usize);
    std::io::Read::read_to_end(&mut first, &mut out).map_err(|e| ClientError::generic(format!("Cannot read {remote_path}: {e}")))?;
    Ok(out)
}
