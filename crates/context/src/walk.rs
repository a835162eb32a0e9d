//! Byte-sorted, depth-first, pre-order walk of a context. Symlinks are entries, never followed.

use std::ffi::{OsStr, OsString};
use std::fs::{self, Metadata};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::ContextError;
use crate::ignore::IgnoreRules;
use crate::RootLink;

/// What an entry is, with what the key and the archive need about it.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Dir,
    /// `digest` is filled in by the hashing pass after the walk.
    File {
        digest: [u8; 32],
        ident: FileIdent,
    },
    Symlink {
        target: PathBuf,
    },
}

/// Identity of a regular file at the time it was seen, used to detect replacement or
/// modification between planning and archiving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileIdent {
    dev: u64,
    ino: u64,
    mtime: (i64, i64),
}

impl FileIdent {
    #[cfg(unix)]
    pub(crate) fn of(md: &Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileIdent {
            dev: md.dev(),
            ino: md.ino(),
            mtime: (md.mtime(), md.mtime_nsec()),
        }
    }

    #[cfg(not(unix))]
    pub(crate) fn of(md: &Metadata) -> Self {
        let mtime = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| (d.as_secs() as i64, d.subsec_nanos() as i64))
            .unwrap_or((0, 0));
        FileIdent {
            dev: 0,
            ino: 0,
            mtime,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Path relative to the context root, `/`-joined; empty for the context itself.
    pub rel: OsString,
    /// Where it is on disk (the context path as given, joined with `rel`).
    pub fs_path: PathBuf,
    pub kind: Kind,
    /// Normalised mode: dirs 0755, files 0755/0644, symlinks 0777.
    pub mode: u32,
    /// Content size for files; 0 otherwise.
    pub size: u64,
}

impl Entry {
    pub(crate) fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir)
    }
}

/// Raw bytes of an OS string (lossy UTF-8 off Unix).
#[cfg(unix)]
pub(crate) fn os_bytes(s: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(s.as_bytes())
}

#[cfg(not(unix))]
pub(crate) fn os_bytes(s: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    match s.to_string_lossy() {
        std::borrow::Cow::Borrowed(b) => std::borrow::Cow::Borrowed(b.as_bytes()),
        std::borrow::Cow::Owned(o) => std::borrow::Cow::Owned(o.into_bytes()),
    }
}

#[cfg(unix)]
pub(crate) fn os_from_bytes(b: Vec<u8>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(b)
}

#[cfg(not(unix))]
pub(crate) fn os_from_bytes(b: Vec<u8>) -> OsString {
    OsString::from(String::from_utf8_lossy(&b).into_owned())
}

#[cfg(unix)]
fn file_mode(md: &Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    if md.permissions().mode() & 0o100 != 0 {
        0o755
    } else {
        0o644
    }
}

#[cfg(not(unix))]
fn file_mode(_md: &Metadata) -> u32 {
    0o644
}

pub(crate) const DIR_MODE: u32 = 0o755;
pub(crate) const LINK_MODE: u32 = 0o777;

/// The path to walk for a context given as `given`, under the [`RootLink`] policy.
pub(crate) fn resolve_root(given: &Path, policy: &RootLink) -> Result<PathBuf, ContextError> {
    let not_found = || ContextError::NotFound {
        path: given.to_path_buf(),
    };
    match policy {
        RootLink::Keep => Ok(given.to_path_buf()),
        RootLink::Follow => match fs::canonicalize(given) {
            Ok(real) => Ok(real),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(not_found()),
            Err(e) => Err(ContextError::unreadable(given, e)),
        },
        RootLink::Within(boundary) => {
            let real_boundary = fs::canonicalize(boundary).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => ContextError::NotFound {
                    path: boundary.clone(),
                },
                _ => ContextError::unreadable(boundary, e),
            })?;
            let outside = |resolved: PathBuf| ContextError::OutsideContext {
                path: given.to_path_buf(),
                resolved,
                boundary: boundary.clone(),
            };
            let resolved = match fs::canonicalize(given) {
                Ok(real) if real.starts_with(&real_boundary) => return Ok(real),
                Ok(real) => Some(real),
                Err(_) => None,
            };
            // Only the last component may lead out (a link, maybe dangling): the directory that
            // holds it must itself lie inside.
            let parent = match given.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let (real_parent, rest) = existing_ancestor(parent)?;
            let is_link = fs::symlink_metadata(given).is_ok_and(|md| md.file_type().is_symlink());
            if !real_parent.starts_with(&real_boundary) {
                let mut r = real_parent.join(rest);
                if let Some(name) = given.file_name() {
                    r.push(name);
                }
                return Err(outside(r));
            }
            match resolved {
                _ if is_link => Ok(given.to_path_buf()),
                Some(real) => Err(outside(real)),
                None => Err(not_found()),
            }
        }
    }
}

/// The real path of the nearest existing ancestor of `p` (itself included) and the part of `p`
/// below it.
fn existing_ancestor(p: &Path) -> Result<(PathBuf, PathBuf), ContextError> {
    let mut rest: Vec<&OsStr> = Vec::new();
    let mut cur = p;
    loop {
        match fs::canonicalize(cur) {
            Ok(real) => return Ok((real, rest.iter().rev().collect())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(ContextError::unreadable(cur, e)),
        }
        match (cur.file_name(), cur.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                cur = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            }
            _ => return Err(ContextError::NotFound { path: p.to_path_buf() }),
        }
    }
}

/// Walks the context given as `given`, found on disk at `root` (see [`resolve_root`]). Returns
/// entries in walk order: the context itself first (with an empty `rel`), then, for a
/// directory, its included descendants.
pub(crate) fn walk(given: &Path, root: &Path, dockerignore: bool) -> Result<Vec<Entry>, ContextError> {
    let md = match fs::symlink_metadata(root) {
        Ok(md) => md,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ContextError::NotFound {
                path: given.to_path_buf(),
            });
        }
        Err(e) => return Err(ContextError::unreadable(root, e)),
    };
    let ft = md.file_type();
    if ft.is_symlink() || ft.is_file() {
        let entry = leaf_entry(root, OsString::new(), &md)?;
        return Ok(vec![entry]);
    }
    if !ft.is_dir() {
        return Err(ContextError::unreadable(
            root,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file, directory or symlink",
            ),
        ));
    }

    let rules = if dockerignore {
        load_dockerignore(root)?
    } else {
        None
    };
    let mut out = vec![Entry {
        rel: OsString::new(),
        fs_path: root.to_path_buf(),
        kind: Kind::Dir,
        mode: DIR_MODE,
        size: 0,
    }];
    let mut walker = Walker {
        rules: rules.as_ref(),
        out: &mut out,
    };
    let root_flags = rules.as_ref().map(|r| r.no_matches()).unwrap_or_default();
    walker.dir(root, &[], "", &root_flags)?;
    Ok(out)
}

fn load_dockerignore(root: &Path) -> Result<Option<IgnoreRules>, ContextError> {
    let path = root.join(".dockerignore");
    // Docker follows a linked .dockerignore; we follow it only inside the context, so that no
    // link makes us read a file of the host.
    match fs::symlink_metadata(&path) {
        Ok(md) if md.file_type().is_symlink() => {
            let real = match fs::canonicalize(&path) {
                Ok(real) => real,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(ContextError::unreadable(path, e)),
            };
            let real_root = fs::canonicalize(root).map_err(|e| ContextError::unreadable(root, e))?;
            if !real.starts_with(&real_root) {
                return Err(ContextError::OutsideContext {
                    path,
                    resolved: real,
                    boundary: root.to_path_buf(),
                });
            }
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ContextError::unreadable(path, e)),
    }
    // Non-blocking open and a type check on the opened file: a FIFO of that name (or one
    // swapped in) must not block planning. A directory or special file of that name is ignored.
    let mut file = open_dockerignore(&path).map_err(|e| ContextError::unreadable(&path, e))?;
    let md = file.metadata().map_err(|e| ContextError::unreadable(&path, e))?;
    if !md.is_file() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut file, &mut bytes).map_err(|e| ContextError::unreadable(&path, e))?;
    let text = String::from_utf8_lossy(&bytes);
    let rules = IgnoreRules::parse(&text).map_err(|e| ContextError::BadIgnorePattern {
        path: path.clone(),
        pattern: e.pattern,
        reason: e.reason.to_string(),
    })?;
    Ok(if rules.is_empty() { None } else { Some(rules) })
}

#[cfg(unix)]
fn open_dockerignore(path: &Path) -> io::Result<fs::File> {
    crate::key::open_nonblocking(path, 0)
}

#[cfg(not(unix))]
fn open_dockerignore(path: &Path) -> io::Result<fs::File> {
    fs::File::open(path)
}

fn leaf_entry(fs_path: &Path, rel: OsString, md: &Metadata) -> Result<Entry, ContextError> {
    let ft = md.file_type();
    if ft.is_symlink() {
        let target = fs::read_link(fs_path).map_err(|e| vanished_or_unreadable(fs_path, e))?;
        Ok(Entry {
            rel,
            fs_path: fs_path.to_path_buf(),
            kind: Kind::Symlink { target },
            mode: LINK_MODE,
            size: 0,
        })
    } else {
        Ok(Entry {
            rel,
            fs_path: fs_path.to_path_buf(),
            kind: Kind::File {
                digest: [0; 32],
                ident: FileIdent::of(md),
            },
            mode: file_mode(md),
            size: md.len(),
        })
    }
}

/// An entry listed by `readdir` that is gone by the time we look at it changed under us.
fn vanished_or_unreadable(path: &Path, e: io::Error) -> ContextError {
    if e.kind() == io::ErrorKind::NotFound {
        ContextError::Changed {
            path: path.to_path_buf(),
        }
    } else {
        ContextError::unreadable(path, e)
    }
}

struct Walker<'a> {
    rules: Option<&'a IgnoreRules>,
    out: &'a mut Vec<Entry>,
}

impl Walker<'_> {
    /// Appends the included descendants of `dir` (whose relative path is `rel`, bytes, and
    /// `rel_str`, lossy text for pattern matching; `flags` = per-pattern parent matches).
    fn dir(
        &mut self,
        dir: &Path,
        rel: &[u8],
        rel_str: &str,
        flags: &[bool],
    ) -> Result<(), ContextError> {
        let mut names: Vec<OsString> = Vec::new();
        let rd = fs::read_dir(dir).map_err(|e| vanished_or_unreadable(dir, e))?;
        for item in rd {
            let item = item.map_err(|e| ContextError::unreadable(dir, e))?;
            names.push(item.file_name());
        }
        names.sort_unstable_by(|a, b| os_bytes(a).cmp(&os_bytes(b)));

        for name in names {
            let fs_path = dir.join(&name);
            let md =
                fs::symlink_metadata(&fs_path).map_err(|e| vanished_or_unreadable(&fs_path, e))?;
            let ft = md.file_type();
            if !(ft.is_dir() || ft.is_file() || ft.is_symlink()) {
                continue; // sockets, fifos, devices
            }

            let name_bytes = os_bytes(&name);
            let mut child_rel = Vec::with_capacity(rel.len() + 1 + name_bytes.len());
            if !rel.is_empty() {
                child_rel.extend_from_slice(rel);
                child_rel.push(b'/');
            }
            child_rel.extend_from_slice(&name_bytes);
            let name_str = name.to_string_lossy();
            let child_str = if rel_str.is_empty() {
                name_str.into_owned()
            } else {
                format!("{rel_str}/{name_str}")
            };

            let (excluded, child_flags) = match self.rules {
                None => (false, Vec::new()),
                Some(rules) => {
                    let child_flags = rules.matches_below(flags, &child_str);
                    // Docker always sends the root .dockerignore.
                    let always = rel.is_empty() && name_bytes.as_ref() == b".dockerignore";
                    (!always && rules.decide(&child_flags), child_flags)
                }
            };

            if ft.is_dir() {
                let entry = Entry {
                    rel: os_from_bytes(child_rel.clone()),
                    fs_path: fs_path.clone(),
                    kind: Kind::Dir,
                    mode: DIR_MODE,
                    size: 0,
                };
                if excluded {
                    let may = self.rules.is_some_and(|r| r.may_include_below(&child_str));
                    if !may {
                        continue;
                    }
                    // Emitted only if something below it ends up included (as BuildKit does).
                    let mark = self.out.len();
                    self.out.push(entry);
                    self.dir(&fs_path, &child_rel, &child_str, &child_flags)?;
                    if self.out.len() == mark + 1 {
                        self.out.pop();
                    }
                } else {
                    self.out.push(entry);
                    self.dir(&fs_path, &child_rel, &child_str, &child_flags)?;
                }
            } else if !excluded {
                let entry = leaf_entry(&fs_path, os_from_bytes(child_rel), &md)?;
                self.out.push(entry);
            }
        }
        Ok(())
    }
}
