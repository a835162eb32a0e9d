//! Daytona's declarative `Image`: builder calls become Dockerfile text (byte-identical to
//! `@daytonaio/sdk` 0.218) and a list of local paths the build needs (the context list).
//! Pure Rust; reads the file system only to validate paths and expand COPY sources.

mod context_sources;
mod dockerfile;
mod error;
mod extensions;
mod glob;
mod image;
pub mod paths;
mod pyproject;
mod quote;

pub use dockerfile::{CopySource, copy_sources};
pub use error::{ImageError, Result};
pub use extensions::{
    AptInstallOptions, Arg, CopyOptions, PIP_CACHE_DIR, PipExtensions, UV_CACHE_DIR, dockerignore_option, labels_not_an_object,
};
pub use image::{Context, Image, PipInstallOptions, RunCommand, StrTree, unsupported_python_version};
pub use quote::{quote, quote_word};

/// Python series `debianSlim` accepts, and the micro version each maps to.
pub const PYTHON_VERSIONS: [(&str, &str); 5] =
    [("3.9", "3.9.22"), ("3.10", "3.10.17"), ("3.11", "3.11.12"), ("3.12", "3.12.10"), ("3.13", "3.13.3")];
