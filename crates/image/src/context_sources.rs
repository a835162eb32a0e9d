//! Turns the COPY/ADD sources of Dockerfile text into context-list entries: where to read each
//! one locally (`sourcePath`, spelled as the official SDK spells it) and where the build expects
//! it inside the context (`archivePath`, computed correctly where the official SDK's prefix
//! arithmetic is broken: reference §8 items 7-10). Also enforces `strictContext` (§1.7).

use std::path::{Path, PathBuf};

use crate::dockerfile::copy_sources;
use crate::error::{Result, invalid};
use crate::glob;
use crate::image::Context;
use crate::paths::{
    context_relative, pathe_basename, pathe_dirname, pathe_is_absolute, pathe_join, pathe_normalize, pathe_relative,
    pathe_resolve,
};

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

fn is_within(real_root: &str, resolved: &Path) -> bool {
    resolved.starts_with(Path::new(real_root))
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

/// Both modes: no directory on the way to `candidate` may be a symlink leading out of the
/// context, since reading the source would then read the host. A last component that is itself
/// a link is fine: it is archived as a link (or followed, when it stays inside).
fn ensure_no_link_leads_out(real_root: &str, context_dir: &str, candidate: &str, source: &str, strict: bool) -> Result<()> {
    let escaped = |resolved: &Path| {
        if strict {
            // strict mode speaks the official SDK's words
            return forbidden(&resolved.to_string_lossy());
        }
        invalid(format!(
            "COPY source {source} resolves to {}, outside the build context {context_dir}, through a symbolic link; \
             Docker never reads outside the context directory: move the file into the context or make the link point inside it",
            resolved.display()
        ))
    };
    let resolved = std::fs::canonicalize(candidate).ok();
    if resolved.as_deref().is_some_and(|r| is_within(real_root, r)) {
        return Ok(());
    }
    let mut parent = PathBuf::from(pathe_dirname(candidate));
    let mut rest = PathBuf::new();
    let real_parent = loop {
        if let Ok(real) = std::fs::canonicalize(&parent) {
            break real.join(rest);
        }
        match (parent.file_name().map(|n| n.to_os_string()), parent.parent()) {
            (Some(name), Some(up)) => {
                rest = Path::new(&name).join(rest);
                parent = if up.as_os_str().is_empty() { PathBuf::from(".") } else { up.to_path_buf() };
            }
            _ => return Ok(()),
        }
    };
    if !is_within(real_root, &real_parent) {
        return Err(escaped(&real_parent.join(pathe_basename(candidate))));
    }
    let is_link = Path::new(candidate).symlink_metadata().is_ok_and(|m| m.file_type().is_symlink());
    match resolved {
        Some(r) if !is_link => Err(escaped(&r)),
        _ => Ok(()),
    }
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

/// Docker resolves every COPY/ADD source inside the build context and never reads the host:
/// a relative source climbing above the context with `..` is rejected, an absolute source
/// outside the context directory means that path inside the context (`/etc/x` is
/// `<context>/etc/x`), and no symlinked directory may lead out. An absolute source inside the
/// context directory keeps the official SDK's spelling (archived at its absolute path, where
/// the build finds it). Without a context directory the working directory is the context.
pub(crate) fn resolve_copy_sources(text: &str, scope: &SourceScope) -> Result<Vec<Context>> {
    let sources = copy_sources(text, scope.whole_dockerfile);
    let mut contexts = Vec::new();
    if sources.is_empty() {
        return Ok(contexts);
    }
    let has_prefix = !scope.prefix.is_empty();
    let base = if has_prefix { scope.prefix } else { "." };
    let context_dir = pathe_resolve(&[base]);
    let root = real_root(scope.prefix);
    for source in sources {
        let source = source.path;
        if scope.strict {
            ensure_source_within_context(&source)?;
        }
        // `rel`: the source relative to the context directory; `absolute`: spelled as given.
        let (rel, absolute) = if pathe_is_absolute(&source) {
            let r = pathe_relative(&context_dir, &source);
            if r == ".." || r.starts_with("../") {
                let inside = context_relative(&source);
                (if inside.is_empty() { ".".into() } else { inside }, false)
            } else {
                (r, true)
            }
        } else {
            let n = pathe_normalize(&source);
            if n == ".." || n.starts_with("../") {
                return Err(invalid(format!(
                    "COPY source {source} is outside the build context {context_dir}: '..' cannot climb above the context directory \
                     (Docker resolves every COPY/ADD source inside it); move the file into the context or use a context directory that contains it"
                )));
            }
            (source.clone(), false)
        };
        let matches = if glob::has_wildcards(&rel) { glob::expand(Path::new(base), &rel, Path::new(&root)) } else { Vec::new() };
        let globbed = !matches.is_empty();
        for m in if globbed { matches } else { vec![rel] } {
            let (candidate, archive) = if absolute {
                let c = if globbed { pathe_join(&[&context_dir, &m]) } else { source.clone() };
                (c.clone(), c)
            } else {
                (pathe_join(&[scope.prefix, &m]), archive_path_for_relative(&m, has_prefix))
            };
            if scope.strict {
                ensure_within_build_context(&root, &candidate)?;
            }
            ensure_no_link_leads_out(&root, &context_dir, &candidate, &source, scope.strict)?;
            contexts.push(Context::copy_source(candidate, archive, base.to_string()));
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
