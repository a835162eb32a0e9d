//! Build contexts for image builds: the local files and directories an image needs (from
//! `addLocalFile`, `addLocalDir` and `COPY` sources).
//!
//! [`plan_context`] walks a context once (byte-sorted, depth-first, symlinks kept as links,
//! `.dockerignore` applied), hashes every file in parallel and derives a content key.
//! [`ContextPlan::append_to`] / [`ContextPlan::write_archive`] then stream a deterministic tar of
//! exactly what was planned, re-reading each file once and failing with
//! [`ContextError::Changed`] if anything differs from the plan, so an archive never silently
//! disagrees with its key.
//!
//! This crate knows nothing of JavaScript, Docker or object storage.

mod archive;
mod error;
pub mod ignore;
mod key;
mod walk;

use std::io::Write;
use std::path::PathBuf;

use rayon::prelude::*;

pub use error::ContextError;
pub use ignore::{IgnoreRules, PatternError};
pub use key::cache_key;

use walk::{Entry, Kind};

/// Default size above which a context gets a warning: 100 MiB.
pub const DEFAULT_WARN_BYTES: u64 = 100 * 1024 * 1024;

/// Directory names that are almost never meant to be part of a build context.
const SUSPICIOUS_DIRS: [&str; 3] = ["node_modules", ".git", "__pycache__"];

/// A local file or directory to ship with a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextSource {
    /// As given; a relative path is relative to the process's current directory.
    pub source_path: PathBuf,
    /// Where it goes inside the build context, as given (normalised by [`tar_prefix`]).
    pub archive_path: String,
    /// What to do when `source_path` itself is a symlink. Links below it are always archived
    /// as links.
    pub root: RootLink,
}

/// Treatment of a context whose path is itself a symbolic link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RootLink {
    /// Archive the link itself.
    #[default]
    Keep,
    /// Follow it, as `docker build` follows a linked context root (the user named the path).
    Follow,
    /// A COPY/ADD source of a build whose context directory is this path: nothing may be read
    /// outside it. The source is followed when it resolves inside the directory, archived as a
    /// link when only its last component points outside (Docker resolves such a link inside the
    /// build context, never on the host), and rejected with [`ContextError::OutsideContext`]
    /// when a directory on its way leads outside.
    Within(PathBuf),
}

impl ContextSource {
    pub fn new(source_path: impl Into<PathBuf>, archive_path: impl Into<String>) -> Self {
        ContextSource {
            source_path: source_path.into(),
            archive_path: archive_path.into(),
            root: RootLink::Keep,
        }
    }

    /// The same source with another [`RootLink`] policy.
    pub fn with_root(self, root: RootLink) -> Self {
        ContextSource { root, ..self }
    }
}

/// Knobs for planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextOptions {
    /// Apply a `.dockerignore` found at the root of a directory context. Default `true`.
    pub dockerignore: bool,
    /// Warn when a context's file bytes exceed this. Default [`DEFAULT_WARN_BYTES`];
    /// `u64::MAX` disables the warning.
    pub warn_bytes: u64,
}

impl Default for ContextOptions {
    fn default() -> Self {
        ContextOptions {
            dockerignore: true,
            warn_bytes: DEFAULT_WARN_BYTES,
        }
    }
}

/// The result of walking and hashing one context.
#[derive(Debug, Clone)]
pub struct ContextPlan {
    pub source_path: PathBuf,
    /// As given.
    pub archive_path: String,
    /// Normalised location inside the archive; see [`tar_prefix`].
    pub tar_prefix: String,
    /// 64 lowercase hex digits.
    pub key: String,
    /// Regular files included.
    pub files: u64,
    /// Total content bytes of the included files.
    pub bytes: u64,
    pub warnings: Vec<String>,
    entries: Vec<Entry>,
}

/// How Docker resolves an archive path inside a build context: `clean("/" + archive_path)`
/// without its leading `/` (`""` for the root). `"../x"` → `"x"`, `"/t/a.txt"` → `"t/a.txt"`,
/// `"./src/"` → `"src"`, `""` and `"."` → `""`.
pub fn tar_prefix(archive_path: &str) -> String {
    let cleaned = ignore::clean(&format!("/{archive_path}"));
    cleaned[1..].to_string()
}

/// Walks, filters and hashes one context.
pub fn plan_context(
    src: &ContextSource,
    opts: &ContextOptions,
) -> Result<ContextPlan, ContextError> {
    let prefix = tar_prefix(&src.archive_path);
    let walk_root = walk::resolve_root(&src.source_path, &src.root)?;
    let mut entries = walk::walk(&src.source_path, &walk_root, opts.dockerignore)?;
    if prefix.is_empty() && !entries[0].is_dir() {
        return Err(ContextError::FileAtRoot {
            path: src.source_path.clone(),
            archive_path: src.archive_path.clone(),
        });
    }
    key::hash_files(&mut entries)?;
    let key = key::context_key(&prefix, &entries);

    let mut files = 0u64;
    let mut bytes = 0u64;
    for e in &entries {
        if matches!(e.kind, Kind::File { .. }) {
            files += 1;
            bytes += e.size;
        }
    }
    let warnings = warnings(src, opts, &entries, bytes);

    Ok(ContextPlan {
        source_path: src.source_path.clone(),
        archive_path: src.archive_path.clone(),
        tar_prefix: prefix,
        key,
        files,
        bytes,
        warnings,
        entries,
    })
}

/// [`plan_context`] for several contexts at once, in parallel; results keep the input order.
/// The first error (in no particular order) is returned.
pub fn plan_contexts(
    srcs: &[ContextSource],
    opts: &ContextOptions,
) -> Result<Vec<ContextPlan>, ContextError> {
    srcs.par_iter().map(|s| plan_context(s, opts)).collect()
}

impl ContextPlan {
    /// Appends this context's entries to `builder` (for merging several contexts and a
    /// Dockerfile into one build archive). Each file is read once more, streamed through a
    /// bounded buffer and hashed on the way; a file whose size, identity or content no longer
    /// matches the plan yields [`ContextError::Changed`] — the bytes already written must then be
    /// discarded. Does not finish the archive.
    pub fn append_to<W: Write>(&self, builder: &mut tar::Builder<W>) -> Result<(), ContextError> {
        archive::append_entries(builder, &self.tar_prefix, &self.entries)
    }

    /// Writes this context alone as a finished tar archive and returns the writer.
    pub fn write_archive<W: Write>(&self, w: W) -> Result<W, ContextError> {
        let mut builder = tar::Builder::new(w);
        self.append_to(&mut builder)?;
        Ok(builder.into_inner()?)
    }

    /// Exact number of bytes [`ContextPlan::append_to`] writes (headers, long-name records,
    /// padded contents), computed without reading any file.
    pub fn appended_len(&self) -> Result<u64, ContextError> {
        archive::appended_len(&self.tar_prefix, &self.entries)
    }

    /// Exact length of [`ContextPlan::write_archive`]'s output: [`ContextPlan::appended_len`]
    /// plus the two zero blocks that end an archive.
    pub fn archive_len(&self) -> Result<u64, ContextError> {
        Ok(self.appended_len()? + 1024)
    }

    /// Entry names as they appear in the archive, in order (directories end with `/`).
    pub fn entry_names(&self) -> Vec<String> {
        archive::names(&self.tar_prefix, &self.entries)
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn human(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else if bytes < 1024 * 1024 * 1024 {
        mib(bytes)
    } else {
        format!("{:.1} GiB", bytes as f64 / (1024.0 * 1024.0 * 1024.0))
    }
}

fn warnings(
    src: &ContextSource,
    opts: &ContextOptions,
    entries: &[Entry],
    bytes: u64,
) -> Vec<String> {
    let source = src.source_path.display();
    let mut out = Vec::new();
    if bytes > opts.warn_bytes {
        out.push(format!(
            "context {source} is {}; consider a .dockerignore",
            mib(bytes)
        ));
    }
    // One warning per outermost suspicious directory (entries are in pre-order, so a
    // directory's descendants follow it contiguously).
    let mut i = 1;
    while i < entries.len() {
        let e = &entries[i];
        let suspicious = e.is_dir()
            && e.fs_path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| SUSPICIOUS_DIRS.contains(&n));
        if !suspicious {
            i += 1;
            continue;
        }
        let rel = walk::os_bytes(&e.rel).into_owned();
        let mut below = rel.clone();
        below.push(b'/');
        let mut size = 0u64;
        let mut j = i + 1;
        while j < entries.len() && walk::os_bytes(&entries[j].rel).starts_with(&below) {
            size += entries[j].size;
            j += 1;
        }
        out.push(format!(
            "context {source} includes {}/ ({}); consider a .dockerignore",
            String::from_utf8_lossy(&rel),
            human(size)
        ));
        i = j;
    }
    out
}
