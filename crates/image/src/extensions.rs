//! Builder methods this package adds to Daytona's `Image` (not in the official SDK): `aptInstall`,
//! `uvPipInstall`, `user`, `label`, `expose`, `skipCache`, `chmod`/`chown` for `addLocalFile` and
//! `addLocalDir`, and a pip cache mount. Each writes plain Dockerfile text that Daytona's servers
//! (BuildKit) accept; all of it also builds on the classic builder except `COPY --chmod` and
//! `RUN --mount`. Nothing here changes the text of the official methods when its options are not
//! used. Every argument is checked before anything is appended.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{ImageError, Result, invalid};
use crate::image::{Image, PipInstallOptions, StrTree, js_sort};
use crate::quote::{quote, quote_word};

/// Where pip keeps its cache when the step runs as root; `cacheMount` mounts BuildKit's cache there.
pub const PIP_CACHE_DIR: &str = "/root/.cache/pip";
/// Where uv keeps its cache when the step runs as root.
pub const UV_CACHE_DIR: &str = "/root/.cache/uv";

/// A scalar argument as JavaScript passed it, so that the checks here can say what was wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Str(String),
    Number(f64),
    Bool(bool),
    /// Anything else, described as an error message should name it (`a boolean`, `an object`, ...).
    Other(String),
}

impl Arg {
    /// How an error message names the value: `the string "80"`, `the number 1.5`, `undefined`.
    pub fn got(&self) -> String {
        match self {
            Arg::Str(s) => format!("the string {s:?}"),
            Arg::Number(n) => format!("the number {}", js_number(*n)),
            Arg::Bool(b) => format!("the boolean {b}"),
            Arg::Other(what) => what.clone(),
        }
    }
}

/// A number as JavaScript prints it (integers without a fraction).
fn js_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e21 { format!("{}", n as i64) } else { format!("{n}") }
}

/// Options this package adds to the pip commands; `Default` adds nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PipExtensions {
    /// `RUN --mount=type=cache,target=/root/.cache/pip` (uv: also `/root/.cache/uv`). BuildKit
    /// only: the classic builder rejects `--mount`.
    pub cache_mount: bool,
}

impl PipExtensions {
    /// The `RUN` flags of a pip step (with the trailing space), or nothing.
    pub(crate) fn pip_mounts(&self) -> String {
        if self.cache_mount { format!("--mount=type=cache,target={PIP_CACHE_DIR} ") } else { String::new() }
    }
}

/// Options of `aptInstall`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AptInstallOptions {
    /// `apt-get install --no-install-recommends`.
    pub no_install_recommends: bool,
}

/// The `chmod`/`chown` options of `addLocalFile` and `addLocalDir` (`None`: absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyOptions {
    pub chmod: Option<Arg>,
    pub chown: Option<Arg>,
}

/// The first whitespace or control character of `s`.
fn blank_or_control(s: &str) -> Option<char> {
    s.chars().find(|c| c.is_whitespace() || c.is_control())
}

/// A user or group as `USER` and `COPY --chown` take it: a name or a numeric id, `user[:group]`.
fn user_spec(method: &str, what: &str, value: &Arg) -> Result<String> {
    let spec = match value {
        Arg::Str(s) => s.clone(),
        Arg::Number(n) if n.fract() == 0.0 && (0.0..=4294967295.0).contains(n) => js_number(*n),
        other => {
            return Err(invalid(format!(
                "{method}: {what} must be a user name or id, optionally with a group (\"daytona\", \"1000:1000\"); got {}",
                other.got()
            )));
        }
    };
    if spec.is_empty() {
        return Err(invalid(format!("{method}: {what} must not be empty; give a user name or id such as \"daytona\" or \"1000:1000\"")));
    }
    if let Some(c) = blank_or_control(&spec) {
        return Err(invalid(format!("{method}: {what} {spec:?} contains {c:?}; a user or group name has no whitespace or control characters")));
    }
    if spec.split(':').count() > 2 || spec.split(':').any(str::is_empty) {
        return Err(invalid(format!("{method}: {what} {spec:?} must be \"user\" or \"user:group\" (names or numeric ids)")));
    }
    Ok(spec)
}

impl CopyOptions {
    /// `--chmod=<mode> --chown=<user> ` (each only when given), or nothing.
    pub(crate) fn flags(&self, method: &str) -> Result<String> {
        let mut out = String::new();
        if let Some(chmod) = &self.chmod {
            let mode = match chmod {
                Arg::Str(s) if (3..=4).contains(&s.len()) && s.bytes().all(|b| (b'0'..=b'7').contains(&b)) => s,
                Arg::Str(s) => {
                    return Err(invalid(format!(
                        "{method}: chmod must be an octal mode of 3 or 4 digits such as \"755\" or \"0644\"; got {s:?}"
                    )));
                }
                other => {
                    return Err(invalid(format!(
                        "{method}: chmod must be a string of octal digits such as \"755\" or \"0644\" (a number would be read in decimal); got {}",
                        other.got()
                    )));
                }
            };
            out.push_str(&format!("--chmod={mode} "));
        }
        if let Some(chown) = &self.chown {
            out.push_str(&format!("--chown={} ", user_spec(method, "chown", chown)?));
        }
        Ok(out)
    }
}

fn flatten(method: &str, tree: &StrTree, out: &mut Vec<String>) -> Result<()> {
    match tree {
        StrTree::Str(s) => out.push(s.clone()),
        StrTree::List(items) => {
            for item in items {
                flatten(method, item, out)?;
            }
        }
        StrTree::Other => return Err(invalid(format!("{method}: packages must be a string or an array of strings"))),
    }
    Ok(())
}

/// Rejects control characters (a newline would end the Dockerfile instruction) in `value`.
fn no_control(method: &str, what: &str, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(invalid(format!("{method}: {what} {value:?} contains the control character {c:?}; remove it")));
    }
    Ok(())
}

/// Escapes a word for a double-quoted Dockerfile word (LABEL keys and values): the Dockerfile
/// lexer treats `\`, `"` and `$` specially inside double quotes.
fn dockerfile_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `addLocalDir`'s `dockerignore` option: a boolean, absent meaning true.
pub fn dockerignore_option(value: Option<&Arg>) -> Result<bool> {
    match value {
        None => Ok(true),
        Some(Arg::Bool(b)) => Ok(*b),
        Some(other) => Err(invalid(format!("addLocalDir: dockerignore must be a boolean; got {}", other.got()))),
    }
}

/// The error of `label(x)` for an `x` that is not an object.
pub fn labels_not_an_object(got: &Arg) -> ImageError {
    invalid(format!(
        "label: labels must be an object whose values are strings, such as {{ \"org.opencontainers.image.source\": \"https://...\" }}; got {}",
        got.got()
    ))
}

/// A value that differs on every call: 64 bits from the standard library's randomly seeded
/// hasher, fed the time, the process id and a counter.
fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    h.write_u128(now);
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

impl Image {
    /// `aptInstall(packages, { noInstallRecommends })`: one step that updates the package lists,
    /// installs the (sorted, shell-quoted) packages without prompts and removes the lists again:
    /// `RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y [--no-install-recommends] <packages> && rm -rf /var/lib/apt/lists/*`.
    /// No packages: nothing is appended.
    pub fn apt_install(&mut self, packages: &StrTree, options: &AptInstallOptions) -> Result<()> {
        const M: &str = "aptInstall";
        let mut pkgs = Vec::new();
        flatten(M, packages, &mut pkgs)?;
        for p in &pkgs {
            if p.is_empty() {
                return Err(invalid(format!("{M}: a package name is empty; remove it from the list")));
            }
            if let Some(c) = blank_or_control(p) {
                return Err(invalid(format!("{M}: package {p:?} contains {c:?}; pass each package as its own array element, without whitespace")));
            }
            if p.starts_with('-') {
                return Err(invalid(format!("{M}: package {p:?} starts with \"-\"; apt-get would read it as an option (use noInstallRecommends, or runCommands for other options)")));
            }
        }
        if pkgs.is_empty() {
            return Ok(());
        }
        js_sort(&mut pkgs);
        let recommends = if options.no_install_recommends { " --no-install-recommends" } else { "" };
        self.dockerfile.push_str(&format!(
            "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y{recommends} {} && rm -rf /var/lib/apt/lists/*\n",
            quote(&pkgs)
        ));
        Ok(())
    }

    /// `uvPipInstall(packages, options)`: installs uv from the package index with pip, then the
    /// (sorted, shell-quoted) packages into the system Python with `uv pip install --system`, in
    /// one step. The index options (`findLinks`, `indexUrl`, `extraIndexUrls`) apply to both;
    /// `pre` (`--pre`, uv's alias of `--prerelease allow`) and `extraOptions` to uv only. With
    /// `cacheMount`, pip's and uv's caches are BuildKit cache mounts and uv copies out of its
    /// cache (`--link-mode copy`: the mount is another file system). No packages: nothing is appended.
    pub fn uv_pip_install(&mut self, packages: &StrTree, options: Option<&PipInstallOptions>, ext: PipExtensions) -> Result<()> {
        const M: &str = "uvPipInstall";
        let mut pkgs = Vec::new();
        flatten(M, packages, &mut pkgs)?;
        for p in &pkgs {
            if p.is_empty() {
                return Err(invalid(format!("{M}: a package name is empty; remove it from the list")));
            }
            no_control(M, "package", p)?;
        }
        if let Some(o) = options {
            for link in o.find_links.iter().flatten() {
                no_control(M, "findLinks entry", link)?;
            }
            for url in o.index_url.iter().chain(o.extra_index_urls.iter().flatten()) {
                no_control(M, "index URL", url)?;
            }
            if let Some(extra) = &o.extra_options {
                no_control(M, "extraOptions", extra)?;
            }
        }
        if pkgs.is_empty() {
            return Ok(());
        }
        js_sort(&mut pkgs);
        let index_only = options.map(|o| PipInstallOptions {
            find_links: o.find_links.clone(),
            index_url: o.index_url.clone(),
            extra_index_urls: o.extra_index_urls.clone(),
            pre: false,
            extra_options: None,
        });
        let bootstrap = index_only.as_ref().map(PipInstallOptions::format_args).unwrap_or_default();
        let extra = options.map(PipInstallOptions::format_args).unwrap_or_default();
        let (mounts, link) = if ext.cache_mount {
            (format!("--mount=type=cache,target={PIP_CACHE_DIR} --mount=type=cache,target={UV_CACHE_DIR} "), " --link-mode copy")
        } else {
            (String::new(), "")
        };
        self.dockerfile.push_str(&format!(
            "RUN {mounts}python -m pip install uv{bootstrap} && python -m uv pip install --system{link} {}{extra}\n",
            quote(&pkgs)
        ));
        Ok(())
    }

    /// `user(name)`: `USER <name>` (a name or numeric id, optionally `:group`); later steps and
    /// the sandbox's processes run as that user.
    pub fn user(&mut self, name: &Arg) -> Result<()> {
        let spec = user_spec("user", "name", name)?;
        self.dockerfile.push_str(&format!("USER {spec}\n"));
        Ok(())
    }

    /// `label(labels)`: one `LABEL "key"="value" ...` line, entries in `Object.entries` order,
    /// keys and values double-quoted with `\`, `"` and `$` escaped. `None` values are not strings.
    /// No entries: nothing is appended.
    pub fn label(&mut self, labels: &[(String, Option<String>)]) -> Result<()> {
        let bad: Vec<&str> = labels.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k.as_str()).collect();
        if !bad.is_empty() {
            return Err(invalid(format!("label: label values must be strings. Invalid keys: {}", bad.join(","))));
        }
        for (key, value) in labels {
            if key.is_empty() {
                return Err(invalid("label: a label key is empty; give every label a name such as \"org.opencontainers.image.source\""));
            }
            if key.contains('=') {
                return Err(invalid(format!("label: label key {key:?} contains \"=\"; the Dockerfile would split the key there")));
            }
            no_control("label", "label key", key)?;
            // a tab stays inside the double quotes; line breaks and other controls would not
            let value = value.as_deref().unwrap_or_default();
            if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\t') {
                return Err(invalid(format!("label: value of label {key:?}: {value:?} contains the control character {c:?}; remove it")));
            }
        }
        if labels.is_empty() {
            return Ok(());
        }
        let pairs: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{}={}", dockerfile_quoted(k), dockerfile_quoted(v.as_deref().unwrap_or_default())))
            .collect();
        self.dockerfile.push_str(&format!("LABEL {}\n", pairs.join(" ")));
        Ok(())
    }

    /// `expose(ports)`: `EXPOSE <port> ...` (TCP), ports being integers from 1 to 65535, in the
    /// order given. No ports: nothing is appended.
    pub fn expose(&mut self, ports: &[Arg]) -> Result<()> {
        let mut out = Vec::with_capacity(ports.len());
        for port in ports {
            match port {
                Arg::Number(n) if n.fract() == 0.0 && (1.0..=65535.0).contains(n) => out.push(js_number(*n)),
                Arg::Number(n) if n.fract() == 0.0 => {
                    return Err(invalid(format!("expose: port {} is outside 1-65535", js_number(*n))));
                }
                other => return Err(invalid(format!("expose: ports must be integers from 1 to 65535; got {}", other.got()))),
            }
        }
        if out.is_empty() {
            return Ok(());
        }
        self.dockerfile.push_str(&format!("EXPOSE {}\n", out.join(" ")));
        Ok(())
    }

    /// `skipCache()`: a step whose text is new on every call (`RUN echo skip-cache <nonce>`), so
    /// no builder has it cached and every later step is built again. It changes the Dockerfile,
    /// hence `plan().cacheKey`. Runs `/bin/sh` like any shell-form `RUN`.
    pub fn skip_cache(&mut self) {
        self.skip_cache_with_nonce(&nonce());
    }

    pub(crate) fn skip_cache_with_nonce(&mut self, nonce: &str) {
        self.dockerfile.push_str(&format!("RUN echo skip-cache {}\n", quote_word(nonce)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(items: &[&str]) -> StrTree {
        StrTree::List(items.iter().map(|s| StrTree::Str(s.to_string())).collect())
    }

    fn message(e: ImageError) -> String {
        match e {
            ImageError::InvalidArgument(m) => m,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn apt_install_text() {
        let mut image = Image::base("debian");
        image.apt_install(&strs(&["git", "curl", "libpq-dev=15.*", "g++"]), &AptInstallOptions::default()).unwrap();
        image.apt_install(&StrTree::Str("vim".into()), &AptInstallOptions { no_install_recommends: true }).unwrap();
        image.apt_install(&strs(&[]), &AptInstallOptions::default()).unwrap();
        assert_eq!(
            image.dockerfile(),
            "FROM debian\n\
             RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y curl g++ git libpq-dev\\=15.\\* && rm -rf /var/lib/apt/lists/*\n\
             RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends vim && rm -rf /var/lib/apt/lists/*\n"
        );
    }

    #[test]
    fn apt_install_validation() {
        let opts = AptInstallOptions::default();
        let cases: [(StrTree, &str); 5] = [
            (strs(&["git\nRUN rm -rf /"]), "aptInstall: package \"git\\nRUN rm -rf /\" contains '\\n'; pass each package as its own array element, without whitespace"),
            (strs(&["git curl"]), "aptInstall: package \"git curl\" contains ' '; pass each package as its own array element, without whitespace"),
            (strs(&["git", ""]), "aptInstall: a package name is empty; remove it from the list"),
            (strs(&["-y"]), "aptInstall: package \"-y\" starts with \"-\"; apt-get would read it as an option (use noInstallRecommends, or runCommands for other options)"),
            (StrTree::List(vec![StrTree::Other]), "aptInstall: packages must be a string or an array of strings"),
        ];
        for (tree, expected) in cases {
            let mut image = Image::base("debian");
            assert_eq!(message(image.apt_install(&tree, &opts).unwrap_err()), expected);
            assert_eq!(image.dockerfile(), "FROM debian\n", "nothing appended");
        }
    }

    #[test]
    fn uv_pip_install_text() {
        let mut image = Image::base("python");
        image.uv_pip_install(&strs(&["requests", "numpy>=2"]), None, PipExtensions::default()).unwrap();
        let options = PipInstallOptions {
            find_links: Some(vec!["/wheels".into()]),
            index_url: Some("https://i.example/simple".into()),
            extra_index_urls: Some(vec!["https://x.example/simple".into()]),
            pre: true,
            extra_options: Some("  --no-deps ".into()),
        };
        image.uv_pip_install(&StrTree::Str("torch".into()), Some(&options), PipExtensions { cache_mount: true }).unwrap();
        image.uv_pip_install(&strs(&[]), Some(&options), PipExtensions::default()).unwrap();
        assert_eq!(
            image.dockerfile(),
            "FROM python\n\
             RUN python -m pip install uv && python -m uv pip install --system numpy\\>\\=2 requests\n\
             RUN --mount=type=cache,target=/root/.cache/pip --mount=type=cache,target=/root/.cache/uv python -m pip install uv \
             --find-links /wheels --index-url https\\://i.example/simple --extra-index-url https\\://x.example/simple && \
             python -m uv pip install --system --link-mode copy torch --find-links /wheels --index-url https\\://i.example/simple \
             --extra-index-url https\\://x.example/simple --pre --no-deps\n"
        );
    }

    #[test]
    fn uv_pip_install_validation() {
        let mut image = Image::base("python");
        let e = image.uv_pip_install(&strs(&["a\nb"]), None, PipExtensions::default()).unwrap_err();
        assert_eq!(message(e), "uvPipInstall: package \"a\\nb\" contains the control character '\\n'; remove it");
        let e = image.uv_pip_install(&strs(&[""]), None, PipExtensions::default()).unwrap_err();
        assert_eq!(message(e), "uvPipInstall: a package name is empty; remove it from the list");
        let options = PipInstallOptions { index_url: Some("https://i\r\n".into()), ..Default::default() };
        let e = image.uv_pip_install(&strs(&["a"]), Some(&options), PipExtensions::default()).unwrap_err();
        assert_eq!(message(e), "uvPipInstall: index URL \"https://i\\r\\n\" contains the control character '\\r'; remove it");
        let options = PipInstallOptions { extra_options: Some("--x\n".into()), ..Default::default() };
        assert!(image.uv_pip_install(&strs(&["a"]), Some(&options), PipExtensions::default()).is_err());
        let e = image.uv_pip_install(&StrTree::Other, None, PipExtensions::default()).unwrap_err();
        assert_eq!(message(e), "uvPipInstall: packages must be a string or an array of strings");
        assert_eq!(image.dockerfile(), "FROM python\n");
    }

    #[test]
    fn pip_cache_mount() {
        let dir = tempfile::tempdir().unwrap();
        let req = dir.path().join("requirements.txt");
        std::fs::write(&req, "six\n").unwrap();
        let req = req.to_str().unwrap();
        let cached = PipExtensions { cache_mount: true };
        let mut image = Image::base("python");
        image.pip_install_ext(&strs(&["b", "a"]), None, cached).unwrap();
        image.pip_install_from_requirements_ext(req, None, cached).unwrap();
        assert_eq!(
            image.dockerfile(),
            format!(
                "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip python -m pip install a b\n\
                 COPY {req} /.requirements.txt\nRUN --mount=type=cache,target=/root/.cache/pip python -m pip install -r /.requirements.txt\n"
            )
        );
        // without the option: the official text
        let mut a = Image::base("python");
        a.pip_install_ext(&strs(&["b", "a"]), None, PipExtensions::default()).unwrap();
        let mut b = Image::base("python");
        b.pip_install(&strs(&["b", "a"]), None).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.dockerfile(), "FROM python\nRUN python -m pip install a b\n");
    }

    #[test]
    fn user_text_and_validation() {
        let mut image = Image::base("x");
        image.user(&Arg::Str("daytona".into())).unwrap();
        image.user(&Arg::Str("1000:1000".into())).unwrap();
        image.user(&Arg::Number(0.0)).unwrap();
        assert_eq!(image.dockerfile(), "FROM x\nUSER daytona\nUSER 1000:1000\nUSER 0\n");
        let cases = [
            (Arg::Str("".into()), "user: name must not be empty; give a user name or id such as \"daytona\" or \"1000:1000\""),
            (Arg::Str("a b".into()), "user: name \"a b\" contains ' '; a user or group name has no whitespace or control characters"),
            (Arg::Str("a\n".into()), "user: name \"a\\n\" contains '\\n'; a user or group name has no whitespace or control characters"),
            (Arg::Str("a:b:c".into()), "user: name \"a:b:c\" must be \"user\" or \"user:group\" (names or numeric ids)"),
            (Arg::Str(":g".into()), "user: name \":g\" must be \"user\" or \"user:group\" (names or numeric ids)"),
            (Arg::Number(-1.0), "user: name must be a user name or id, optionally with a group (\"daytona\", \"1000:1000\"); got the number -1"),
            (Arg::Other("undefined".into()), "user: name must be a user name or id, optionally with a group (\"daytona\", \"1000:1000\"); got undefined"),
        ];
        for (arg, expected) in cases {
            assert_eq!(message(image.user(&arg).unwrap_err()), expected);
        }
        assert_eq!(image.dockerfile(), "FROM x\nUSER daytona\nUSER 1000:1000\nUSER 0\n");
    }

    #[test]
    fn label_text_and_validation() {
        let mut image = Image::base("x");
        let labels = vec![
            ("org.opencontainers.image.title".to_string(), Some("My app".to_string())),
            ("quote\"d".to_string(), Some("a \"b\" $HOME \\n\ttab".to_string())),
            ("empty".to_string(), Some(String::new())),
        ];
        image.label(&labels).unwrap();
        image.label(&[]).unwrap();
        assert_eq!(
            image.dockerfile(),
            "FROM x\nLABEL \"org.opencontainers.image.title\"=\"My app\" \"quote\\\"d\"=\"a \\\"b\\\" \\$HOME \\\\n\ttab\" \"empty\"=\"\"\n"
        );
        let one = |k: &str, v: Option<&str>| vec![(k.to_string(), v.map(str::to_string))];
        let cases = [
            (one("", Some("v")), "label: a label key is empty; give every label a name such as \"org.opencontainers.image.source\""),
            (one("a=b", Some("v")), "label: label key \"a=b\" contains \"=\"; the Dockerfile would split the key there"),
            (one("k", Some("line\nbreak")), "label: value of label \"k\": \"line\\nbreak\" contains the control character '\\n'; remove it"),
            (one("k\n", Some("v")), "label: label key \"k\\n\" contains the control character '\\n'; remove it"),
            (vec![("a".into(), None), ("b".into(), Some("x".into())), ("c".into(), None)], "label: label values must be strings. Invalid keys: a,c"),
        ];
        let before = image.dockerfile().to_string();
        for (labels, expected) in cases {
            assert_eq!(message(image.label(&labels).unwrap_err()), expected);
        }
        assert_eq!(image.dockerfile(), before);
    }

    #[test]
    fn expose_text_and_validation() {
        let mut image = Image::base("x");
        image.expose(&[Arg::Number(8080.0), Arg::Number(1.0), Arg::Number(65535.0)]).unwrap();
        image.expose(&[]).unwrap();
        assert_eq!(image.dockerfile(), "FROM x\nEXPOSE 8080 1 65535\n");
        let cases = [
            (vec![Arg::Number(0.0)], "expose: port 0 is outside 1-65535"),
            (vec![Arg::Number(80.0), Arg::Number(65536.0)], "expose: port 65536 is outside 1-65535"),
            (vec![Arg::Number(80.5)], "expose: ports must be integers from 1 to 65535; got the number 80.5"),
            (vec![Arg::Number(f64::NAN)], "expose: ports must be integers from 1 to 65535; got the number NaN"),
            (vec![Arg::Str("80".into())], "expose: ports must be integers from 1 to 65535; got the string \"80\""),
        ];
        for (ports, expected) in cases {
            assert_eq!(message(image.expose(&ports).unwrap_err()), expected);
        }
        assert_eq!(image.dockerfile(), "FROM x\nEXPOSE 8080 1 65535\n");
    }

    #[test]
    fn option_type_errors() {
        assert_eq!(dockerignore_option(None), Ok(true));
        assert_eq!(dockerignore_option(Some(&Arg::Bool(false))), Ok(false));
        let e = dockerignore_option(Some(&Arg::Str("no".into()))).unwrap_err();
        assert_eq!(message(e), "addLocalDir: dockerignore must be a boolean; got the string \"no\"");
        assert_eq!(
            message(labels_not_an_object(&Arg::Other("an array".into()))),
            "label: labels must be an object whose values are strings, such as { \"org.opencontainers.image.source\": \"https://...\" }; got an array"
        );
    }

    #[test]
    fn skip_cache_is_new_every_call() {
        let mut a = Image::base("x");
        a.skip_cache_with_nonce("0123abcd");
        assert_eq!(a.dockerfile(), "FROM x\nRUN echo skip-cache 0123abcd\n");
        let mut b = Image::base("x");
        b.skip_cache();
        let mut c = Image::base("x");
        c.skip_cache();
        assert_ne!(b.dockerfile(), c.dockerfile());
        for image in [&b, &c] {
            let line = image.dockerfile().strip_prefix("FROM x\nRUN echo skip-cache ").unwrap();
            assert!(line.len() == 17 && line.ends_with('\n') && line[..16].bytes().all(|b| b.is_ascii_hexdigit()), "{line:?}");
        }
    }

    #[test]
    fn copy_options() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.sh");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        let f = file.to_str().unwrap();
        let d = dir.path().to_str().unwrap();
        let both = CopyOptions { chmod: Some(Arg::Str("0755".into())), chown: Some(Arg::Str("daytona:daytona".into())) };
        let mut image = Image::base("x");
        image.add_local_file_with(f, "/usr/local/bin/", &both).unwrap();
        image.add_local_dir_with(d, "/app", true, &CopyOptions { chown: Some(Arg::Number(1000.0)), chmod: None }).unwrap();
        image.add_local_dir_with(d, "/app2", false, &CopyOptions { chmod: Some(Arg::Str("644".into())), chown: None }).unwrap();
        assert_eq!(
            image.dockerfile(),
            format!(
                "FROM x\nCOPY --chmod=0755 --chown=daytona:daytona {f} /usr/local/bin/f.sh\nCOPY --chown=1000 {d} /app\nCOPY --chmod=644 {d} /app2\n"
            )
        );
        assert_eq!(image.context_list().len(), 3);
        assert!(!image.context_list()[2].dockerignore);

        // absent options: the official text
        let mut plain = Image::base("x");
        plain.add_local_file(f, "/a").unwrap();
        plain.add_local_dir(d, "/b", true).unwrap();
        let mut with_none = Image::base("x");
        with_none.add_local_file_with(f, "/a", &CopyOptions::default()).unwrap();
        with_none.add_local_dir_with(d, "/b", true, &CopyOptions::default()).unwrap();
        assert_eq!(plain, with_none);
        assert_eq!(plain.dockerfile(), format!("FROM x\nCOPY {f} /a\nCOPY {d} /b\n"));

        let bad = |chmod: Option<Arg>, chown: Option<Arg>| CopyOptions { chmod, chown };
        let cases = [
            (bad(Some(Arg::Str("rwx".into())), None), "addLocalFile: chmod must be an octal mode of 3 or 4 digits such as \"755\" or \"0644\"; got \"rwx\""),
            (bad(Some(Arg::Str("0789".into())), None), "addLocalFile: chmod must be an octal mode of 3 or 4 digits such as \"755\" or \"0644\"; got \"0789\""),
            (bad(Some(Arg::Str("75".into())), None), "addLocalFile: chmod must be an octal mode of 3 or 4 digits such as \"755\" or \"0644\"; got \"75\""),
            (bad(Some(Arg::Number(493.0)), None), "addLocalFile: chmod must be a string of octal digits such as \"755\" or \"0644\" (a number would be read in decimal); got the number 493"),
            (bad(None, Some(Arg::Str("".into()))), "addLocalFile: chown must not be empty; give a user name or id such as \"daytona\" or \"1000:1000\""),
            (bad(None, Some(Arg::Str("a b".into()))), "addLocalFile: chown \"a b\" contains ' '; a user or group name has no whitespace or control characters"),
        ];
        for (options, expected) in cases {
            let mut image = Image::base("x");
            assert_eq!(message(image.add_local_file_with(f, "/a", &options).unwrap_err()), expected);
            // the options are checked before the path
            assert_eq!(message(image.add_local_file_with("/does/not/exist", "/a", &options).unwrap_err()), expected);
            assert_eq!(image, Image::base("x"));
        }
        let mut image = Image::base("x");
        let e = image.add_local_dir_with(d, "/a", true, &bad(Some(Arg::Other("a boolean".into())), None)).unwrap_err();
        assert_eq!(message(e), "addLocalDir: chmod must be a string of octal digits such as \"755\" or \"0644\" (a number would be read in decimal); got a boolean");
    }
}
