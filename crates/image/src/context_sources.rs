//! Turns the COPY/ADD sources of Dockerfile text into context-list entries: where to read each
//! one locally (`sourcePath`, spelled as the official SDK spells it) and where the build expects
//! it inside the context (`archivePath`, computed correctly where the official SDK's prefix
//! arithmetic is broken: reference §8 items 7-10). Also enforces `strictContext` (§1.7).

use std::path::Path;

use crate::dockerfile::copy_sources;
use crate::error::{Result, invalid};
use crate::glob;
use crate::image::Context;
use crate::paths::{pathe_is_absolute, pathe_join, pathe_normalize, pathe_relative, pathe_resolve};

pub(crate) struct SourceScope<'a> {
    /// Directory the sources are relative to, as the caller spelled it ("" = working directory).
    pub prefix: &'a str,
    /// `strictContext`: reject sources outside `prefix` before reading anything.
    pub strict: bool,
    /// A whole Dockerfile (parser directives honoured) rather than appended commands.
    pub whole_dockerfile: bool,
}

fn forbidden(path: &str) -> crate::ImageError {
    invalid(format!("forbidden path outside the build context: {path}"))
}

/// Lexical check of a source as written, before any file is looked at.
fn ensure_source_within_context(source: &str) -> Result<()> {
    let normalized = pathe_normalize(source);
    let b = source.as_bytes();
    let drive_or_unc = (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':') || source.starts_with("\\\\");
    if pathe_is_absolute(source) || drive_or_unc || normalized == ".." || normalized.starts_with("../") {
        return Err(forbidden(source));
    }
    Ok(())
}

fn real_root(prefix: &str) -> String {
    match std::fs::canonicalize(if prefix.is_empty() { "." } else { prefix }) {
        Ok(p) => pathe_normalize(&p.to_string_lossy()),
        Err(_) => pathe_resolve(&[prefix]),
    }
}

/// Resolved-path check: catches escapes through symlinked directories and dangling links.
fn ensure_within_build_context(real_root: &str, candidate: &str) -> Result<()> {
    let resolved = match std::fs::canonicalize(candidate) {
        Ok(p) => pathe_normalize(&p.to_string_lossy()),
        Err(_) => {
            if Path::new(candidate).symlink_metadata().is_ok() {
                return Err(forbidden(candidate));
            }
            return Ok(());
        }
    };
    let rel = pathe_relative(real_root, &resolved);
    if rel == ".." || rel.starts_with("../") {
        return Err(forbidden(&resolved));
    }
    Ok(())
}

/// Where Docker looks for a relative source inside the context: `..` cannot climb above the
/// context root, `.` is the root itself.
fn archive_path_for_relative(source: &str, has_prefix: bool) -> String {
    let mut a = pathe_normalize(source);
    while let Some(rest) = a.strip_prefix("../") {
        a = rest.to_string();
    }
    match a.as_str() {
        "." | "./" | ".." | "../" | "" => {
            if has_prefix {
                String::new()
            } else if a == "./" {
                a
            } else {
                ".".into()
            }
        }
        _ => a,
    }
}

pub(crate) fn resolve_copy_sources(text: &str, scope: &SourceScope) -> Result<Vec<Context>> {
    let sources = copy_sources(text, scope.whole_dockerfile);
    let mut contexts = Vec::new();
    if sources.is_empty() {
        return Ok(contexts);
    }
    let root = if scope.strict { Some(real_root(scope.prefix)) } else { None };
    let check = |candidate: &str| match &root {
        Some(r) => ensure_within_build_context(r, candidate),
        None => Ok(()),
    };
    let has_prefix = !scope.prefix.is_empty();
    let base = if has_prefix { scope.prefix } else { "." };
    for source in sources {
        let source = source.path;
        if scope.strict {
            ensure_source_within_context(&source)?;
        }
        let absolute = pathe_is_absolute(&source);
        let matches = if glob::has_wildcards(&source) { glob::expand(Path::new(base), &source) } else { Vec::new() };
        if matches.is_empty() {
            let candidate = if absolute { source.clone() } else { pathe_join(&[scope.prefix, &source]) };
            check(&candidate)?;
            let archive = if absolute { candidate.clone() } else { archive_path_for_relative(&source, has_prefix) };
            contexts.push(Context::new(candidate, archive));
        } else {
            for m in matches {
                let candidate = if absolute { m.clone() } else { pathe_join(&[scope.prefix, &m]) };
                check(&candidate)?;
                let archive = if absolute { candidate.clone() } else { archive_path_for_relative(&m, has_prefix) };
                contexts.push(Context::new(candidate, archive));
            }
        }
    }
    Ok(contexts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths() {
        assert_eq!(archive_path_for_relative("src", true), "src");
        assert_eq!(archive_path_for_relative("./src/", true), "src/");
        assert_eq!(archive_path_for_relative(".", true), "");
        assert_eq!(archive_path_for_relative(".", false), ".");
        assert_eq!(archive_path_for_relative("../outside/secret.txt", true), "outside/secret.txt");
        assert_eq!(archive_path_for_relative("ctx/src", false), "ctx/src");
    }

    #[test]
    fn lexical_strict_check() {
        assert!(ensure_source_within_context("a/../b").is_ok());
        assert!(ensure_source_within_context("../x").is_err());
        assert!(ensure_source_within_context("..").is_err());
        assert!(ensure_source_within_context("/etc/hosts").is_err());
        assert!(ensure_source_within_context("C:x").is_err());
    }
}
