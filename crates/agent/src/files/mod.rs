//! The toolbox's `/files` routes, with the semantics of Daytona's daemon: paths are the
//! sandbox's (relative ones against the agent's working directory), the agent acts as the
//! container user so permission errors are the kernel's, and file bodies stream both ways.

mod glob;
mod owners;
mod text;
mod transfer;

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::http::{self, ApiError, ApiResult};

/// Routes `/files/...` (`rest` is what follows `files`).
pub async fn route(req: Request<Incoming>, method: &Method, rest: &[&str], q: Option<&str>) -> ApiResult {
    let arg = |k: &str| http::query_get(q, k).unwrap_or_default();
    match (method, rest) {
        (&Method::GET, []) => {
            let depth = match http::query_get(q, "depth").filter(|d| !d.is_empty()) {
                None => 1,
                Some(d) => d
                    .parse::<u32>()
                    .ok()
                    .filter(|d| *d >= 1)
                    .ok_or_else(|| ApiError::bad_request("depth must be an integer of at least 1"))?,
            };
            let path = arg("path");
            blocking(move || list(&path, depth)).await
        }
        (&Method::DELETE, []) => {
            let (path, recursive) = (arg("path"), arg("recursive") == "true");
            blocking(move || delete(&path, recursive)).await
        }
        (&Method::GET, ["info"]) => {
            let path = required(arg("path"))?;
            blocking(move || http::ok(file_info(Path::new(&path), None).map_err(stat_error)?)).await
        }
        (&Method::POST, ["folder"]) => {
            let (path, mode) = (required(arg("path"))?, arg("mode"));
            blocking(move || create_folder(&path, &mode)).await
        }
        (&Method::POST, ["move"]) => {
            let (src, dst) = (arg("source"), arg("destination"));
            blocking(move || move_path(&src, &dst)).await
        }
        (&Method::POST, ["permissions"]) => {
            let (path, mode, owner, group) = (required(arg("path"))?, arg("mode"), arg("owner"), arg("group"));
            blocking(move || set_permissions(&path, &mode, &owner, &group)).await
        }
        (&Method::GET, ["search"]) => {
            let (path, pattern) = (arg("path"), arg("pattern"));
            if path.is_empty() || pattern.is_empty() {
                return Err(ApiError::bad_request("path and pattern are required"));
            }
            blocking(move || {
                let mut files = Vec::new();
                walk(Path::new(&path), &mut |p, _| {
                    if glob::matches(&pattern, &file_name(p)) {
                        files.push(Value::String(p.to_string_lossy().into_owned()));
                    }
                });
                http::ok(json!({ "files": files }))
            })
            .await
        }
        (&Method::GET, ["find"]) => {
            let (path, pattern) = (arg("path"), arg("pattern"));
            if path.is_empty() || pattern.is_empty() {
                return Err(ApiError::bad_request("path and pattern are required"));
            }
            blocking(move || http::ok(text::find(Path::new(&path), pattern.as_bytes()))).await
        }
        (&Method::POST, ["replace"]) => {
            let body: text::ReplaceRequest = http::body_json(req).await?;
            blocking(move || http::ok(text::replace(body))).await
        }
        (&Method::GET, ["download"]) => transfer::download(required(arg("path"))?).await,
        (&Method::POST, ["bulk-download"]) => transfer::bulk_download(req).await,
        (&Method::POST, ["bulk-upload"]) => transfer::bulk_upload(req).await,
        (&Method::POST, ["upload-v2"]) => match required(arg("path")) {
            Ok(path) => transfer::upload(req, path).await,
            Err(e) => {
                transfer::drain(req).await;
                Err(e)
            }
        },
        _ => Err(ApiError::not_found(format!("route not found: {method} /files/{}", rest.join("/")))),
    }
}

fn required(path: String) -> Result<String, ApiError> {
    if path.is_empty() { Err(ApiError::bad_request("path is required")) } else { Ok(path) }
}

/// Runs file system work off the async threads.
async fn blocking(f: impl FnOnce() -> ApiResult + Send + 'static) -> ApiResult {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(e.to_string()))?
}

/// `op path: reason`, the way the daemon words OS errors (`stat /x: no such file or directory`).
pub(crate) fn os_error(op: &str, path: &Path, e: &io::Error) -> String {
    format!("{op} {}: {}", path.display(), reason(e))
}

/// The kernel's reason for an error, without Rust's ` (os error N)` suffix, lower-case first.
pub(crate) fn reason(e: &io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or(&s).to_string();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => s,
    }
}

/// Status for a failed look-up of a path: 404 missing, 403 denied, else 400.
fn status_of(e: &io::Error) -> StatusCode {
    match e.kind() {
        io::ErrorKind::NotFound => StatusCode::NOT_FOUND,
        io::ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn stat_error((path, e): (PathBuf, io::Error)) -> ApiError {
    ApiError::new(status_of(&e), os_error("stat", &path, &e))
}

fn stat(path: &Path) -> Result<std::fs::Metadata, ApiError> {
    std::fs::metadata(path).map_err(|e| stat_error((path.to_path_buf(), e)))
}

/// Absolute, lexically cleaned path (relative ones against the working directory).
pub(crate) fn absolute(path: &str) -> PathBuf {
    let p = Path::new(path);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")).join(p)
    };
    clean(&joined)
}

/// Removes `.`, `..` and doubled slashes without touching the file system (as the daemon's
/// path handling does; `..` above the root stays at the root).
pub(crate) fn clean(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Child path as the daemon joins it (cleaned).
fn join(dir: &Path, name: &std::ffi::OsStr) -> PathBuf {
    clean(&dir.join(name))
}

fn file_name(p: &Path) -> String {
    // Like a base name: the last component; "/" for the root, "." for an empty path.
    let s = p.to_string_lossy();
    let t = s.trim_end_matches('/');
    if t.is_empty() {
        return if s.is_empty() { ".".into() } else { "/".into() };
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// The toolbox's FileInfo for `path` (following symlinks, as the daemon does). `full` is the
/// entry's full path when listing.
fn file_info(path: &Path, full: Option<&Path>) -> Result<Value, (PathBuf, io::Error)> {
    let md = std::fs::metadata(path).map_err(|e| (path.to_path_buf(), e))?;
    let (secs, nanos) = (md.mtime(), md.mtime_nsec() as u32);
    let abs = match full {
        Some(f) => absolute(&f.to_string_lossy()),
        None => absolute(&path.to_string_lossy()),
    };
    Ok(json!({
        "name": file_name(path),
        "path": abs.to_string_lossy(),
        "size": md.size(),
        "mode": mode_string(md.mode()),
        "modTime": go_time_string(secs, nanos),
        "modifiedAt": rfc3339_trimmed(secs, nanos),
        "isDir": md.is_dir(),
        "owner": md.uid().to_string(),
        "group": md.gid().to_string(),
        "permissions": format!("{:04o}", md.permissions().mode() & 0o777),
    }))
}

/// `drwxr-xr-x`-style mode string with the daemon's type letters (d, L, D, p, S, u, g, c, t).
fn mode_string(mode: u32) -> String {
    let fmt = mode & 0o170000;
    let mut s = String::new();
    if fmt == 0o040000 {
        s.push('d');
    }
    if fmt == 0o120000 {
        s.push('L');
    }
    if fmt == 0o060000 || fmt == 0o020000 {
        s.push('D');
    }
    if fmt == 0o010000 {
        s.push('p');
    }
    if fmt == 0o140000 {
        s.push('S');
    }
    if mode & 0o4000 != 0 {
        s.push('u');
    }
    if mode & 0o2000 != 0 {
        s.push('g');
    }
    if fmt == 0o020000 {
        s.push('c');
    }
    if mode & 0o1000 != 0 {
        s.push('t');
    }
    if s.is_empty() {
        s.push('-');
    }
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        s.push(if mode & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    s
}

/// RFC 3339 in UTC with trailing zero digits of the fraction dropped (`modifiedAt`).
fn rfc3339_trimmed(secs: i64, nanos: u32) -> String {
    let full = http::rfc3339(secs, nanos); // …SS.nnnnnnnnnZ
    let (head, frac) = full.trim_end_matches('Z').split_once('.').unwrap_or((&full, ""));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { format!("{head}Z") } else { format!("{head}.{frac}Z") }
}

/// The deprecated `modTime`: `2006-01-02 15:04:05.999999999 +0000 UTC` (the agent reports UTC).
fn go_time_string(secs: i64, nanos: u32) -> String {
    let t = rfc3339_trimmed(secs, nanos);
    let t = t.trim_end_matches('Z').replacen('T', " ", 1);
    format!("{t} +0000 UTC")
}

fn list(path: &str, depth: u32) -> ApiResult {
    let dir = if path.is_empty() { "." } else { path };
    let mut out = Vec::new();
    list_into(Path::new(dir), depth, &mut out)
        .map_err(|e| ApiError::new(status_of(&e), os_error("open", Path::new(dir), &e)))?;
    http::ok(Value::Array(out))
}

fn list_into(dir: &Path, depth: u32, out: &mut Vec<Value>) -> io::Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
    names.sort();
    for name in names {
        let p = join(dir, &name);
        // Entries that cannot be stat'ed (dangling links, races) are left out, as the daemon does.
        let Ok(info) = file_info(&p, Some(&p)) else { continue };
        out.push(info);
        // Deeper levels only through real directories, so link cycles cannot repeat.
        if depth > 1 && std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            let _ = list_into(&p, depth - 1, out);
        }
    }
    Ok(())
}

fn delete(path: &str, recursive: bool) -> ApiResult {
    if path.is_empty() {
        return Err(ApiError::bad_request("path is required"));
    }
    let p = Path::new(path);
    let md = stat(p)?;
    if md.is_dir() && !recursive {
        return Err(ApiError::bad_request("cannot delete directory without recursive flag"));
    }
    let res = if recursive {
        // A link is removed itself, never what it points to.
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
            _ => std::fs::remove_file(p),
        }
    } else {
        std::fs::remove_file(p)
    };
    res.map_err(|e| ApiError::bad_request(os_error("remove", p, &e)))?;
    http::empty(StatusCode::NO_CONTENT)
}

/// Octal mode as the daemon accepts it (`755`, `0755`).
fn parse_mode(mode: &str) -> Result<u32, ApiError> {
    u32::from_str_radix(mode, 8)
        .ok()
        .filter(|_| !mode.starts_with('+') && !mode.starts_with('-'))
        .ok_or_else(|| ApiError::bad_request("invalid mode format"))
}

fn create_folder(path: &str, mode: &str) -> ApiResult {
    use std::os::unix::fs::DirBuilderExt;
    let perm = if mode.is_empty() { 0o755 } else { parse_mode(mode)? };
    let p = Path::new(path);
    if let Ok(md) = std::fs::metadata(p) {
        if md.is_dir() {
            return http::empty(StatusCode::CREATED);
        }
        return Err(ApiError::bad_request(format!("mkdir {path}: not a directory")));
    }
    // Only permission bits count (the daemon ignores setuid/sticky here); umask applies.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(perm & 0o777)
        .create(p)
        .map_err(|e| ApiError::bad_request(os_error("mkdir", p, &e)))?;
    http::empty(StatusCode::CREATED)
}

fn move_path(source: &str, destination: &str) -> ApiResult {
    if source.is_empty() || destination.is_empty() {
        return Err(ApiError::bad_request("source and destination paths are required"));
    }
    let (src, dst) = (absolute(source), absolute(destination));
    stat(&src)?;
    stat(dst.parent().unwrap_or(Path::new("/")))?;
    if std::fs::metadata(&dst).is_ok() {
        return Err(ApiError::conflict("destination already exists"));
    }
    match std::fs::rename(&src, &dst) {
        Ok(()) => {}
        // Another file system: copy, then remove the source.
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::XDEV.raw_os_error()) => {
            let top = std::fs::symlink_metadata(&src).map_err(|e| stat_error((src.clone(), e)))?;
            if let Err(e) = copy_tree(&src, &dst, &top) {
                // Nothing half-copied stays behind; the source is untouched.
                let _ = if top.is_dir() { std::fs::remove_dir_all(&dst) } else { std::fs::remove_file(&dst) };
                return Err(ApiError::bad_request(format!("failed to move file: {}", reason(&e))));
            }
            let removed = if top.is_dir() { std::fs::remove_dir_all(&src) } else { std::fs::remove_file(&src) };
            if let Err(e) = removed {
                return http::ok(json!({
                    "message": "file copied successfully but source could not be deleted",
                    "error": format!("failed to delete source: {}", os_error("remove", &src, &e)),
                }));
            }
        }
        Err(e) => {
            let msg = format!("failed to move file: rename {} {}: {}", src.display(), dst.display(), reason(&e));
            return Err(ApiError::bad_request(msg));
        }
    }
    http::empty(StatusCode::OK)
}

/// Copy for a move across file systems. Links are recreated as links (copying what they point
/// to could loop or pull in files outside the tree).
fn copy_tree(src: &Path, dst: &Path, md: &std::fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if md.file_type().is_symlink() {
        return std::os::unix::fs::symlink(std::fs::read_link(src)?, dst);
    }
    if !md.is_dir() {
        std::fs::copy(src, dst)?;
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(md.permissions().mode() & 0o7777).create(dst)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let md = std::fs::symlink_metadata(entry.path())?;
        copy_tree(&entry.path(), &dst.join(entry.file_name()), &md)?;
    }
    Ok(())
}

fn set_permissions(path: &str, mode: &str, owner: &str, group: &str) -> ApiResult {
    let p = absolute(path);
    stat(&p)?;
    if !mode.is_empty() {
        let m = parse_mode(mode)?;
        // As the daemon: only the permission bits are applied.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m & 0o777))
            .map_err(|e| ApiError::bad_request(format!("failed to change mode: {}", os_error("chmod", &p, &e))))?;
    }
    if !owner.is_empty() || !group.is_empty() {
        let uid = match owner {
            "" => None,
            o => Some(owners::uid(o).ok_or_else(|| ApiError::bad_request("user not found"))?),
        };
        let gid = match group {
            "" => None,
            g => Some(owners::gid(g).ok_or_else(|| ApiError::bad_request("group not found"))?),
        };
        std::os::unix::fs::chown(&p, uid, gid)
            .map_err(|e| ApiError::bad_request(format!("failed to change ownership: {}", os_error("chown", &p, &e))))?;
    }
    http::empty(StatusCode::OK)
}

/// Depth-first walk in name order that does not follow links, calling `f` for `root` and every
/// entry below it; unreadable directories and vanished entries are skipped silently (what the
/// daemon's search and find do). A missing root yields nothing.
pub(crate) fn walk(root: &Path, f: &mut dyn FnMut(&Path, &std::fs::Metadata)) {
    let Ok(md) = std::fs::symlink_metadata(root) else { return };
    walk_entry(root, &md, f);
}

fn walk_entry(path: &Path, md: &std::fs::Metadata, f: &mut dyn FnMut(&Path, &std::fs::Metadata)) {
    f(path, md);
    if !md.is_dir() {
        return;
    }
    let Ok(rd) = std::fs::read_dir(path) else { return };
    let mut names: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
    names.sort();
    for name in names {
        let child = join(path, &name);
        if let Ok(cmd) = std::fs::symlink_metadata(&child) {
            walk_entry(&child, &cmd, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_names() {
        assert_eq!(mode_string(0o100644), "-rw-r--r--");
        assert_eq!(mode_string(0o041777), "dtrwxrwxrwx");
        assert_eq!(mode_string(0o020666), "Dcrw-rw-rw-");
        assert_eq!(mode_string(0o104755), "urwxr-xr-x");
        assert_eq!(file_name(Path::new("/a/b/")), "b");
        assert_eq!(file_name(Path::new("/")), "/");
        assert_eq!(clean(Path::new("/a/./b/../../../c")), PathBuf::from("/c"));
        assert_eq!(clean(Path::new("a/..")), PathBuf::from("."));
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339_trimmed(1_700_000_000, 500_000_000), "2023-11-14T22:13:20.5Z");
        assert_eq!(rfc3339_trimmed(1_700_000_000, 0), "2023-11-14T22:13:20Z");
        assert_eq!(go_time_string(1_700_000_000, 120), "2023-11-14 22:13:20.00000012 +0000 UTC");
    }

    #[test]
    fn modes_parse() {
        assert_eq!(parse_mode("0755").unwrap(), 0o755);
        assert!(parse_mode("0789").is_err());
        assert!(parse_mode("rwx").is_err());
        assert!(parse_mode("+7").is_err());
    }
}
