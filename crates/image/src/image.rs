//! The `Image` builder: each method appends Dockerfile lines exactly as the official SDK does
//! (reference §1.3-§1.4) and records the local paths the build needs.

use crate::context_sources::{SourceScope, resolve_copy_sources};
use crate::error::{ImageError, Result, invalid, not_found};
use crate::paths::{expand_tilde, pathe_basename, pathe_dirname, pathe_resolve};
use crate::quote::{is_js_space, quote, quote_word};
use crate::extensions::{CopyOptions, PipExtensions};
use crate::{PYTHON_VERSIONS, pyproject};

/// A local path the build needs: read from `source_path`, expected at `archive_path` in the
/// build context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub source_path: String,
    pub archive_path: String,
    /// Apply a `.dockerignore` at the root of this (directory) context. Only `addLocalDir` can
    /// turn it off; it is not part of the official SDK's `contextList` entries.
    pub dockerignore: bool,
    /// For a COPY/ADD source: the build context directory it must stay inside (nothing outside
    /// it may be read, even through a link). `None` for paths the user named directly
    /// (`addLocalFile`, `addLocalDir`, `pipInstallFromRequirements`), whose own top-level link
    /// is followed as `docker build` follows a linked context root.
    pub boundary: Option<String>,
}

impl Context {
    pub(crate) fn new(source_path: String, archive_path: String) -> Self {
        Context { source_path, archive_path, dockerignore: true, boundary: None }
    }

    pub(crate) fn copy_source(source_path: String, archive_path: String, boundary: String) -> Self {
        Context { boundary: Some(boundary), ..Context::new(source_path, archive_path) }
    }
}

/// A `pipInstall` argument: strings, arbitrarily nested lists of strings, or anything else
/// (which the official SDK rejects).
#[derive(Debug, Clone, PartialEq)]
pub enum StrTree {
    Str(String),
    List(Vec<StrTree>),
    Other,
}

/// One `runCommands` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunCommand {
    /// Appended verbatim after `RUN `.
    Shell(String),
    /// Each element double-quoted with the official SDK's escaping (still shell form).
    Argv(Vec<String>),
}

/// Options of `pipInstall` and friends. Empty strings count as absent, as in JavaScript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipInstallOptions {
    pub find_links: Option<Vec<String>>,
    pub index_url: Option<String>,
    pub extra_index_urls: Option<Vec<String>>,
    pub pre: bool,
    pub extra_options: Option<String>,
}

impl PipInstallOptions {
    pub(crate) fn format_args(&self) -> String {
        let mut out = String::new();
        for link in self.find_links.iter().flatten() {
            out.push_str(" --find-links ");
            out.push_str(&quote_word(link));
        }
        if let Some(url) = self.index_url.as_deref().filter(|u| !u.is_empty()) {
            out.push_str(" --index-url ");
            out.push_str(&quote_word(url));
        }
        for url in self.extra_index_urls.iter().flatten() {
            out.push_str(" --extra-index-url ");
            out.push_str(&quote_word(url));
        }
        if self.pre {
            out.push_str(" --pre");
        }
        if let Some(extra) = self.extra_options.as_deref().filter(|e| !e.is_empty()) {
            out.push(' ');
            out.push_str(extra.trim_matches(is_js_space));
        }
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Image {
    pub(crate) dockerfile: String,
    pub(crate) context_list: Vec<Context>,
}

/// Sorts as JavaScript's default `Array.prototype.sort` does: by UTF-16 code units.
pub(crate) fn js_sort(items: &mut [String]) {
    items.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
}

pub(crate) fn flatten(tree: &StrTree, out: &mut Vec<String>) -> Result<()> {
    match tree {
        StrTree::Str(s) => out.push(s.clone()),
        StrTree::List(items) => {
            for item in items {
                flatten(item, out)?;
            }
        }
        StrTree::Other => return Err(invalid("pipInstall: packages must only contain strings")),
    }
    Ok(())
}

/// `fs.existsSync` + `statSync`: follows symlinks; a dangling link does not exist.
pub(crate) fn stat(path: &str) -> Option<std::fs::Metadata> {
    if path.is_empty() {
        return None;
    }
    std::fs::metadata(path).ok()
}

impl Image {
    /// The Dockerfile text.
    pub fn dockerfile(&self) -> &str {
        &self.dockerfile
    }

    /// The local paths the build needs, in builder-call order.
    pub fn context_list(&self) -> &[Context] {
        &self.context_list
    }

    /// `Image.base(image)`: `FROM <image>`.
    pub fn base(image: &str) -> Image {
        Image { dockerfile: format!("FROM {image}\n"), context_list: Vec::new() }
    }

    /// `Image.debianSlim(pythonVersion?)`; an empty or absent version means 3.13.
    pub fn debian_slim(python_version: Option<&str>) -> Result<Image> {
        let series = python_version.filter(|v| !v.is_empty()).unwrap_or(PYTHON_VERSIONS[PYTHON_VERSIONS.len() - 1].0);
        let Some((_, micro)) = PYTHON_VERSIONS.iter().find(|(s, _)| *s == series) else {
            return Err(unsupported_python_version(series));
        };
        let lines = [
            format!("FROM python:{micro}-slim-bookworm"),
            "RUN apt-get update".into(),
            "RUN apt-get install -y gcc gfortran build-essential".into(),
            "RUN pip install --upgrade pip".into(),
            "RUN echo 'debconf debconf/frontend select Noninteractive' | debconf-set-selections".into(),
        ];
        Ok(Image { dockerfile: lines.join("\n") + "\n", context_list: Vec::new() })
    }

    /// `Image.fromDockerfile(path, { strictContext })`: the file's text verbatim; its COPY/ADD
    /// sources become contexts relative to the Dockerfile's directory.
    pub fn from_dockerfile(path: &str, strict_context: bool) -> Result<Image> {
        let expanded = pathe_resolve(&[&expand_tilde(path)]);
        let meta = stat(&expanded).ok_or_else(|| not_found(format!("Dockerfile {path} does not exist")))?;
        if !meta.is_file() {
            return Err(invalid(format!("Dockerfile path {path} exists but is not a file")));
        }
        let bytes = std::fs::read(&expanded).map_err(|e| invalid(format!("Dockerfile {path} cannot be read: {e}")))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let prefix = pathe_dirname(&expanded) + "/";
        let scope = SourceScope { prefix: &prefix, strict: strict_context, whole_dockerfile: true };
        let context_list = resolve_copy_sources(&text, &scope)?;
        Ok(Image { dockerfile: text, context_list })
    }

    /// `pipInstall(packages, options)`: sorted, shell-quoted package list.
    pub fn pip_install(&mut self, packages: &StrTree, options: Option<&PipInstallOptions>) -> Result<()> {
        self.pip_install_ext(packages, options, PipExtensions::default())
    }

    /// `pipInstall` with this package's options (`PipExtensions::default()` adds nothing).
    pub fn pip_install_ext(&mut self, packages: &StrTree, options: Option<&PipInstallOptions>, ext: PipExtensions) -> Result<()> {
        let mut pkgs = Vec::new();
        flatten(packages, &mut pkgs)?;
        if pkgs.is_empty() {
            return Ok(());
        }
        js_sort(&mut pkgs);
        let extra = options.map(PipInstallOptions::format_args).unwrap_or_default();
        self.dockerfile.push_str(&format!("RUN {}python -m pip install {}{extra}\n", ext.pip_mounts(), quote(&pkgs)));
        Ok(())
    }

    /// `pipInstallFromRequirements(path, options)`.
    pub fn pip_install_from_requirements(&mut self, path: &str, options: Option<&PipInstallOptions>) -> Result<()> {
        self.pip_install_from_requirements_ext(path, options, PipExtensions::default())
    }

    /// `pipInstallFromRequirements` with this package's options.
    pub fn pip_install_from_requirements_ext(&mut self, path: &str, options: Option<&PipInstallOptions>, ext: PipExtensions) -> Result<()> {
        let expanded = expand_tilde(path);
        let meta = stat(&expanded).ok_or_else(|| not_found(format!("Requirements file {path} does not exist")))?;
        if !meta.is_file() {
            return Err(invalid(format!("Requirements path {path} exists but is not a file")));
        }
        let extra = options.map(PipInstallOptions::format_args).unwrap_or_default();
        self.context_list.push(Context::new(expanded.clone(), expanded.clone()));
        self.dockerfile.push_str(&format!("COPY {expanded} /.requirements.txt\n"));
        self.dockerfile.push_str(&format!("RUN {}python -m pip install -r /.requirements.txt{extra}\n", ext.pip_mounts()));
        Ok(())
    }

    /// `pipInstallFromPyproject(path, { optionalDependencies, ...pipOptions })`.
    pub fn pip_install_from_pyproject(
        &mut self,
        path: &str,
        optional_dependencies: Option<&[String]>,
        options: Option<&PipInstallOptions>,
    ) -> Result<()> {
        self.pip_install_from_pyproject_ext(path, optional_dependencies, options, PipExtensions::default())
    }

    /// `pipInstallFromPyproject` with this package's options.
    pub fn pip_install_from_pyproject_ext(
        &mut self,
        path: &str,
        optional_dependencies: Option<&[String]>,
        options: Option<&PipInstallOptions>,
        ext: PipExtensions,
    ) -> Result<()> {
        let expanded = expand_tilde(path);
        let meta = stat(&expanded).ok_or_else(|| not_found(format!("pyproject.toml file {path} does not exist")))?;
        if !meta.is_file() {
            return Err(invalid(format!("pyproject.toml path {path} exists but is not a file")));
        }
        let bytes = std::fs::read(&expanded)
            .map_err(|e| invalid(format!("Invalid pyproject.toml file {path}: {e}")))?;
        let text = String::from_utf8_lossy(&bytes);
        let deps = pyproject::dependencies(&text, path, optional_dependencies)?;
        self.pip_install_ext(&StrTree::List(deps), options, ext)
    }

    /// `addLocalFile(localPath, remotePath)`; a `remotePath` ending in `/` gets the file's name.
    pub fn add_local_file(&mut self, local_path: &str, remote_path: &str) -> Result<()> {
        self.add_local_file_with(local_path, remote_path, &CopyOptions::default())
    }

    /// `addLocalFile(localPath, remotePath, { chmod, chown })`; the options are checked first.
    pub fn add_local_file_with(&mut self, local_path: &str, remote_path: &str, options: &CopyOptions) -> Result<()> {
        let flags = options.flags("addLocalFile")?;
        let remote =
            if remote_path.ends_with('/') { format!("{remote_path}{}", pathe_basename(local_path)) } else { remote_path.to_string() };
        let expanded = expand_tilde(local_path);
        let meta = stat(&expanded).ok_or_else(|| not_found(format!("Local file {local_path} does not exist")))?;
        if !meta.is_file() {
            return Err(invalid(format!("Local path {local_path} exists but is not a file")));
        }
        self.context_list.push(Context::new(expanded.clone(), expanded.clone()));
        self.dockerfile.push_str(&format!("COPY {flags}{expanded} {remote}\n"));
        Ok(())
    }

    /// `addLocalDir(localPath, remotePath)`.
    /// `dockerignore: false` archives the directory without applying its `.dockerignore`.
    pub fn add_local_dir(&mut self, local_path: &str, remote_path: &str, dockerignore: bool) -> Result<()> {
        self.add_local_dir_with(local_path, remote_path, dockerignore, &CopyOptions::default())
    }

    /// `addLocalDir(localPath, remotePath, { chmod, chown, dockerignore })`; the options are
    /// checked first.
    pub fn add_local_dir_with(&mut self, local_path: &str, remote_path: &str, dockerignore: bool, options: &CopyOptions) -> Result<()> {
        let flags = options.flags("addLocalDir")?;
        let expanded = expand_tilde(local_path);
        let meta = stat(&expanded).ok_or_else(|| not_found(format!("Local directory {local_path} does not exist")))?;
        if !meta.is_dir() {
            return Err(invalid(format!("Local path {local_path} exists but is not a directory")));
        }
        self.context_list.push(Context { dockerignore, ..Context::new(expanded.clone(), expanded.clone()) });
        self.dockerfile.push_str(&format!("COPY {flags}{expanded} {remote_path}\n"));
        Ok(())
    }

    /// `runCommands(...commands)`.
    pub fn run_commands(&mut self, commands: &[RunCommand]) {
        for command in commands {
            match command {
                RunCommand::Shell(s) => self.dockerfile.push_str(&format!("RUN {s}\n")),
                RunCommand::Argv(args) => {
                    let parts: Vec<String> = args
                        .iter()
                        .map(|c| format!("\"{}\"", c.replace('"', "\\\\\\\"").replace('\'', "\\'")))
                        .collect();
                    self.dockerfile.push_str(&format!("RUN {}\n", parts.join(" ")));
                }
            }
        }
    }

    /// `env(record)`: entries in `Object.entries` order; `None` values are not strings.
    pub fn env(&mut self, entries: &[(String, Option<String>)]) -> Result<()> {
        let bad: Vec<&str> = entries.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k.as_str()).collect();
        if !bad.is_empty() {
            return Err(invalid(format!("Image ENV variables must be strings. Invalid keys: {}", bad.join(","))));
        }
        for (key, value) in entries {
            let value = value.as_deref().unwrap_or_default();
            self.dockerfile.push_str(&format!("ENV {key}={}\n", quote_word(value)));
        }
        Ok(())
    }

    /// `workdir(path)`.
    pub fn workdir(&mut self, path: &str) {
        self.dockerfile.push_str(&format!("WORKDIR {}\n", quote_word(path)));
    }

    /// `entrypoint(args)`; `None` means the argument was not an array of strings.
    pub fn entrypoint(&mut self, args: Option<&[String]>) -> Result<()> {
        let args = args.ok_or_else(|| invalid("entrypoint_commands must be a list of strings"))?;
        self.dockerfile.push_str(&format!("ENTRYPOINT [{}]\n", exec_list(args)));
        Ok(())
    }

    /// `cmd(args)`; `None` means the argument was not an array of strings.
    pub fn cmd(&mut self, args: Option<&[String]>) -> Result<()> {
        let args = args.ok_or_else(|| invalid("Image CMD must be a list of strings"))?;
        self.dockerfile.push_str(&format!("CMD [{}]\n", exec_list(args)));
        Ok(())
    }

    /// `dockerfileCommands(commands, contextDir?, { strictContext })`.
    pub fn dockerfile_commands(&mut self, commands: &[String], context_dir: Option<&str>, strict_context: bool) -> Result<()> {
        let context_dir = context_dir.filter(|d| !d.is_empty());
        if context_dir.is_none() && strict_context {
            return Err(invalid("strictContext requires contextDir so that the build context boundary is explicit"));
        }
        // The official SDK resolves sources against the unexpanded directory unless strict
        // (reference §8 item 9); the expanded one is the directory that was validated.
        let mut prefix = String::new();
        if let Some(dir) = context_dir {
            let expanded = expand_tilde(dir);
            let meta = stat(&expanded).ok_or_else(|| not_found(format!("Context directory {dir} does not exist")))?;
            if !meta.is_dir() {
                return Err(invalid(format!("Context path {dir} exists but is not a directory")));
            }
            prefix = expanded;
        }
        let text = commands.join("\n");
        let scope = SourceScope { prefix: &prefix, strict: strict_context, whole_dockerfile: false };
        let contexts = resolve_copy_sources(&text, &scope)?;
        self.context_list.extend(contexts);
        self.dockerfile.push_str(&text);
        self.dockerfile.push('\n');
        Ok(())
    }

    /// Appends an ENTRYPOINT line to a copy (used by snapshot creation, which must not mutate
    /// the caller's Image).
    pub fn with_entrypoint(&self, args: &[String]) -> Image {
        let mut copy = self.clone();
        copy.dockerfile.push_str(&format!("ENTRYPOINT [{}]\n", exec_list(args)));
        copy
    }
}

/// The error `debianSlim` raises for a version outside the supported series. `version` is the
/// argument as JavaScript prints it (a non-string argument, e.g. the number `3.12`, is never
/// supported: the official SDK compares with `===`).
pub fn unsupported_python_version(version: &str) -> ImageError {
    let list: Vec<&str> = PYTHON_VERSIONS.iter().map(|(s, _)| *s).collect();
    invalid(format!("Unsupported Python version: {version}. Daytona supports the following series: {}", list.join(", ")))
}

fn exec_list(args: &[String]) -> String {
    args.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_slim_versions() {
        assert!(Image::debian_slim(None).unwrap().dockerfile().starts_with("FROM python:3.13.3-slim-bookworm\n"));
        assert!(Image::debian_slim(Some("")).unwrap().dockerfile().starts_with("FROM python:3.13.3-slim-bookworm\n"));
        assert!(Image::debian_slim(Some("3.9")).unwrap().dockerfile().starts_with("FROM python:3.9.22-slim-bookworm\n"));
        let expected = "Unsupported Python version: 3.12.4. Daytona supports the following series: 3.9, 3.10, 3.11, 3.12, 3.13";
        assert_eq!(Image::debian_slim(Some("3.12.4")).unwrap_err(), ImageError::InvalidArgument(expected.into()));
        // a non-string argument (the number 3.12 prints as "3.12") is rejected with the same text
        assert_eq!(
            unsupported_python_version("3.12").to_string(),
            "Unsupported Python version: 3.12. Daytona supports the following series: 3.9, 3.10, 3.11, 3.12, 3.13"
        );
    }

    #[test]
    fn run_commands_one_at_a_time() {
        let mut image = Image::base("x");
        image.run_commands(&[RunCommand::Shell("a".into())]);
        image.run_commands(&[RunCommand::Argv(vec!["b\"c".into(), "d'e".into()])]);
        assert_eq!(image.dockerfile(), "FROM x\nRUN a\nRUN \"b\\\\\\\"c\" \"d\\'e\"\n");
    }
}
