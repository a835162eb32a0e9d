//! `fs.uploadFile` / `fs.downloadFile` over the engine's archive endpoints. Relative remote
//! paths are relative to the sandbox's working directory; missing parent directories are
//! created, as the Daytona toolbox does.

use bollard::Docker;
use bollard::container::PathStatResponse;
use bollard::query_parameters::{
    ContainerArchiveInfoOptionsBuilder, DownloadFromContainerOptionsBuilder, InspectContainerOptions, UploadToContainerOptionsBuilder,
};
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

/// Go's `os.FileMode` bits, as the engine reports them in a path stat.
const MODE_DIR: u32 = 1 << 31;
const MODE_SYMLINK: u32 = 1 << 27;

/// What is at `path` in the sandbox (without following a final symlink), or `None`.
async fn stat(docker: &Docker, container: &str, path: &str) -> Result<Option<PathStatResponse>> {
    match docker.get_container_archive_info(container, Some(ContainerArchiveInfoOptionsBuilder::new().path(path).build())).await {
        Ok(s) => Ok(Some(s)),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
        Err(e) => Err(engine_error(&format!("Looking up {path} in the sandbox"), e)),
    }
}

fn file_not_found(remote_path: &str) -> ClientError {
    let mut err = ClientError::new(ErrorKind::FileNotFound, format!("file not found: {remote_path}"));
    err.status_code = Some(404);
    err.code = Some("FILE_NOT_FOUND".into());
    err
}

/// Kernel file systems the engine's archive endpoint cannot read from (it sees the sandbox's
/// root file system and volumes only); their files are read with `cat` inside the sandbox.
fn on_kernel_fs(path: &str) -> bool {
    ["/proc/", "/sys/", "/dev/"].iter().any(|p| path.starts_with(p))
}

/// The most `downloadFile` reads from a kernel file (`/dev/zero` never ends).
const MAX_KERNEL_FILE_BYTES: usize = 64 << 20;

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
    // The engine's archive extraction replaces a directory with the file (the whole tree is
    // gone): refuse, as the Daytona toolbox does.
    if stat(docker, container, &path).await?.is_some_and(|s| s.file_mode & MODE_DIR != 0) {
        let mut err = ClientError::new(
            ErrorKind::Validation,
            format!("Cannot upload to {remote_path}: it is a directory in the sandbox. Name a file path, e.g. {}/{{file name}}", path.trim_end_matches('/')),
        );
        err.status_code = Some(400);
        return Err(err);
    }
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
    let mut path = absolute(docker, container, remote_path).await?;
    let mut info = stat(docker, container, &path).await?;
    // The engine resolves a link inside the sandbox's file system (`linkTarget`); read its
    // target, as the toolbox (which opens the path) does.
    if let Some(link) = info.as_ref().filter(|s| s.file_mode & MODE_SYMLINK != 0) {
        if link.link_target.is_empty() {
            return Err(file_not_found(remote_path));
        }
        path = link.link_target.clone();
        info = stat(docker, container, &path).await?;
    }
    match info {
        None if on_kernel_fs(&path) => return super::exec::read_file(docker, container, &path, MAX_KERNEL_FILE_BYTES).await,
        // Missing, or a dangling link.
        None => return Err(file_not_found(remote_path)),
        Some(s) if s.file_mode & MODE_DIR != 0 => return Err(ClientError::invalid(format!("{remote_path} is a directory, not a file"))),
        Some(_) => {}
    }
    let mut stream = docker.download_from_container(container, Some(DownloadFromContainerOptionsBuilder::new().path(&path).build()));
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => archive.extend_from_slice(&bytes),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Err(file_not_found(remote_path)),
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
