//! Typed errors of this crate.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while planning or archiving a context.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The context path itself does not exist. `path` is the path as the caller gave it.
    #[error("context path {} does not exist", .path.display())]
    NotFound { path: PathBuf },

    /// A file or directory inside the context could not be read (permission denied, I/O error).
    #[error("cannot read {}: {source}", .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A file changed (content, size, identity) between planning and archiving, or while it was
    /// being read. The archive written so far does not match the plan's key and must be discarded.
    #[error("{} changed while the context was being archived", .path.display())]
    Changed { path: PathBuf },

    /// An archive entry name would land outside the archive root (absolute or containing `..`).
    /// The walk never produces such names; this is a defensive check before anything is written.
    #[error("archive entry {path:?} would be stored outside the archive root")]
    Escape { path: String },

    /// A COPY/ADD source reaches outside its build context through a symbolic link on its way.
    /// Nothing below `resolved` was read.
    #[error("{} resolves to {}, outside the build context {}: a symbolic link on its way leads out of the context, and Docker never reads outside the context directory; move the file into the context or make the link point inside it", .path.display(), .resolved.display(), .boundary.display())]
    OutsideContext {
        path: PathBuf,
        resolved: PathBuf,
        boundary: PathBuf,
    },

    /// A single file (or symlink) context whose archive path resolves to the archive root, so it
    /// has no name inside the archive.
    #[error("archive path {archive_path:?} for {} resolves to the archive root; a file needs a name", .path.display())]
    FileAtRoot { path: PathBuf, archive_path: String },

    /// A `.dockerignore` line that Docker would reject as a malformed pattern.
    #[error("invalid pattern {pattern:?} in {}: {reason}", .path.display())]
    BadIgnorePattern {
        path: PathBuf,
        pattern: String,
        reason: String,
    },

    /// Any other I/O error, typically from the writer the archive is streamed into.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl ContextError {
    pub(crate) fn unreadable(path: impl Into<PathBuf>, source: io::Error) -> Self {
        ContextError::Unreadable {
            path: path.into(),
            source,
        }
    }
}
