//! The official SDK's configuration rules (reference §3.1): which of `apiKey`, `jwtToken`,
//! `organizationId`, `apiUrl`, `target` come from the config and which from `DAYTONA_*`
//! variables, the deprecated `DAYTONA_SERVER_URL`, the refusal of an endpoint that a dotenv file
//! in the working directory could have injected, and the authentication errors.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::config::DaytonaConfig;
use crate::error::{ClientError, ErrorKind, Result};

pub const DEFAULT_API_URL: &str = "https://app.daytona.io/api";
pub const SERVER_URL_DEPRECATION: &str = "[Deprecation Warning] Environment variable `DAYTONA_SERVER_URL` is deprecated and will be removed in future versions. Use `DAYTONA_API_URL` instead.";
const ENDPOINT_VARS: [&str; 2] = ["DAYTONA_API_URL", "DAYTONA_SERVER_URL"];
const PRELOADABLE_DOTENV_FILES: [&str; 8] = [
    ".env",
    ".env.local",
    ".env.development",
    ".env.development.local",
    ".env.production",
    ".env.production.local",
    ".env.test",
    ".env.test.local",
];

/// The settings the API backend runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    pub api_url: String,
    pub api_key: Option<String>,
    pub jwt_token: Option<String>,
    pub organization_id: Option<String>,
    pub target: Option<String>,
    pub request_timeout_ms: Option<f64>,
}

impl ApiConfig {
    /// The bearer token: the API key, else the JWT.
    pub fn token(&self) -> &str {
        self.api_key.as_deref().or(self.jwt_token.as_deref()).unwrap_or_default()
    }
    /// `X-Daytona-Organization-ID`, sent only in JWT mode.
    pub fn organization_header(&self) -> Option<&str> {
        if self.api_key.is_some() { None } else { self.organization_id.as_deref() }
    }
}

/// What the resolution reads from the outside world (injectable for tests).
pub struct Environment<'a> {
    /// A process environment variable (`None` when unset).
    pub var: &'a dyn Fn(&str) -> Option<String>,
    /// The first dotenv file in the working directory that defines an endpoint variable.
    pub dotenv_defining_endpoint: &'a dyn Fn() -> Option<PathBuf>,
    /// `console.warn`.
    pub warn: &'a dyn Fn(&str),
}

fn given(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !s.is_empty())
}

/// Whether the config or the environment carries credentials (used to pick the backend).
pub fn has_credentials(config: &DaytonaConfig, var: &dyn Fn(&str) -> Option<String>) -> bool {
    let nonempty = |k: &str| var(k).filter(|s| !s.is_empty());
    given(&config.api_key).is_some() || given(&config.jwt_token).is_some() || nonempty("DAYTONA_API_KEY").is_some() || nonempty("DAYTONA_JWT_TOKEN").is_some()
}

pub fn resolve(config: &DaytonaConfig, env: &Environment<'_>) -> Result<ApiConfig> {
    let var = |k: &str| (env.var)(k).filter(|s| !s.is_empty());
    let endpoint_given = given(&config.api_url).is_some();
    let mut jwt = given(&config.jwt_token);
    let mut api_key = if given(&config.api_key).is_none() && jwt.is_some() { None } else { given(&config.api_key) };
    let mut org = given(&config.organization_id);
    let mut api_url = given(&config.api_url);
    let mut target = given(&config.target);
    let complete = (api_key.is_some() && api_url.is_some() && target.is_some())
        || (jwt.is_some() && org.is_some() && api_url.is_some() && target.is_some());
    if !complete {
        if api_key.is_none() && jwt.is_none() {
            api_key = var("DAYTONA_API_KEY");
        }
        jwt = jwt.or_else(|| var("DAYTONA_JWT_TOKEN"));
        org = org.or_else(|| var("DAYTONA_ORGANIZATION_ID"));
        api_url = api_url.or_else(|| var("DAYTONA_API_URL")).or_else(|| var("DAYTONA_SERVER_URL"));
        target = target.or_else(|| var("DAYTONA_TARGET"));
        if var("DAYTONA_SERVER_URL").is_some() && var("DAYTONA_API_URL").is_none() {
            (env.warn)(SERVER_URL_DEPRECATION);
        }
    }
    // Presence, not value: an empty variable still names the endpoint.
    let named_in_env = ENDPOINT_VARS.iter().any(|k| (env.var)(k).is_some());
    if !endpoint_given
        && named_in_env
        && let Some(file) = (env.dotenv_defining_endpoint)()
    {
        let file = file.display();
        return Err(ClientError::invalid(format!(
            "The Daytona API endpoint is ambiguous: `{file}` in the working directory sets DAYTONA_API_URL or DAYTONA_SERVER_URL, \
             and that variable is present in the process environment, so the endpoint cannot be attributed to you. \
             Pass `apiUrl` to the Daytona constructor to say which endpoint you mean, or remove the variable from `{file}`."
        )));
    }
    let api_url = api_url.unwrap_or_else(|| DEFAULT_API_URL.to_string());
    if api_key.is_none() && jwt.is_none() {
        return Err(ClientError::new(
            ErrorKind::Authentication,
            "Authentication credentials not found. Set DAYTONA_API_KEY, or both DAYTONA_JWT_TOKEN and DAYTONA_ORGANIZATION_ID. These can also be provided via DaytonaConfig.",
        ));
    }
    if api_key.is_none() && org.is_none() {
        return Err(ClientError::new(
            ErrorKind::Authentication,
            "DAYTONA_ORGANIZATION_ID is required when authenticating with DAYTONA_JWT_TOKEN. It can also be provided via DaytonaConfig.",
        ));
    }
    Ok(ApiConfig { api_url, api_key, jwt_token: jwt, organization_id: org, target, request_timeout_ms: config.request_timeout_ms })
}

/// The real environment: process variables, the working directory's dotenv files, stderr.
pub fn process_environment_resolve(config: &DaytonaConfig) -> Result<ApiConfig> {
    let var = |k: &str| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned());
    let scan = || find_dotenv_file_defining_endpoint(&dotenv_search_dirs(), &explicit_dotenv_paths());
    let warn = |m: &str| eprintln!("{m}");
    resolve(config, &Environment { var: &var, dotenv_defining_endpoint: &scan, warn: &warn })
}

/// The working directory when the API configuration was first looked at (close to process
/// start: the official SDK records it when its module loads, since a runtime resolves its
/// dotenv files against the directory it started in).
fn startup_cwd() -> Option<&'static PathBuf> {
    static CWD: OnceLock<Option<PathBuf>> = OnceLock::new();
    CWD.get_or_init(|| std::env::current_dir().ok()).as_ref()
}

/// Records the startup working directory; called when the addon loads.
pub fn remember_startup_cwd() {
    let _ = startup_cwd();
}

pub fn dotenv_search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let current = std::env::current_dir().ok();
    if let Some(c) = &current {
        dirs.push(c.clone());
    }
    if let Some(s) = startup_cwd()
        && Some(s) != current.as_ref()
    {
        dirs.push(s.clone());
    }
    dirs
}

/// Dotenv paths a runtime or preloader was told to read: `--env-file[=]` style options in the
/// process's command line, `DOTENV_CONFIG_PATH`, `dotenv_config_path=` arguments.
pub fn explicit_dotenv_paths() -> Vec<String> {
    let args: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    explicit_paths_from(&args, std::env::var("DOTENV_CONFIG_PATH").ok())
}

fn explicit_paths_from(args: &[String], dotenv_config_path: Option<String>) -> Vec<String> {
    let mut paths = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg.starts_with("--env-file") {
            if let Some((_, value)) = arg.split_once('=') {
                if !value.is_empty() {
                    paths.push(value.to_string());
                }
            } else if let Some(next) = args.get(i + 1).filter(|n| !n.starts_with('-')) {
                paths.push(next.clone());
                i += 1;
            }
        }
        i += 1;
    }
    if let Some(p) = dotenv_config_path.filter(|p| !p.is_empty()) {
        paths.push(p);
    }
    for arg in args {
        if let Some(v) = arg.strip_prefix("dotenv_config_path=").filter(|v| !v.is_empty()) {
            paths.push(v.to_string());
        }
    }
    paths
}

pub fn find_dotenv_file_defining_endpoint(dirs: &[PathBuf], explicit: &[String]) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    for name in explicit.iter().map(String::as_str).chain(PRELOADABLE_DOTENV_FILES) {
        for dir in dirs {
            let c = normalize(&dir.join(name));
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
    }
    candidates.into_iter().find(|file| {
        file.is_file()
            && std::fs::read(file).is_ok_and(|bytes| defines_endpoint_var(&String::from_utf8_lossy(&bytes)))
    })
}

/// `path.resolve` without touching the file system: `.` and `..` removed lexically.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// Whether a dotenv text assigns `DAYTONA_API_URL` or `DAYTONA_SERVER_URL`, with exactly the
/// grammar of the official check (the `dotenvAssignments` expression, applied globally): an
/// optional `export`, a key, `=` or `:` plus blanks, a value that may be quoted and may then span
/// lines (so a key inside a multi-line value is not an assignment), an optional comment.
pub fn defines_endpoint_var(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let chars: Vec<char> = text.chars().collect();
    let mut from = 0;
    while from <= chars.len() {
        // Leftmost match at a line start at or after `from`.
        let mut found = None;
        let mut p = from;
        while p <= chars.len() {
            let at_line_start = p == 0 || is_line_terminator(chars[p - 1]);
            if at_line_start && let Some(m) = match_assignment(&chars, p) {
                found = Some(m);
                break;
            }
            p += 1;
        }
        let Some((key, end)) = found else { return false };
        if ENDPOINT_VARS.contains(&key.as_str()) {
            return true;
        }
        from = if end > p { end } else { p + 1 };
    }
    false
}

/// Matches one assignment starting at `p`: `Some((key, end))`.
fn match_assignment(s: &[char], p: usize) -> Option<(String, usize)> {
    let mut i = p;
    while i < s.len() && matches!(s[i], ' ' | '\t') {
        i += 1;
    }
    // `(?:export[ \t]+)?` is tried first with, then without.
    let mut starts = Vec::new();
    let word: String = s[i..s.len().min(i + 6)].iter().collect();
    if word == "export" {
        let mut j = i + 6;
        if j < s.len() && matches!(s[j], ' ' | '\t') {
            while j < s.len() && matches!(s[j], ' ' | '\t') {
                j += 1;
            }
            starts.push(j);
        }
    }
    starts.push(i);
    starts.into_iter().find_map(|k| match_from_key(s, k))
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn match_from_key(s: &[char], k: usize) -> Option<(String, usize)> {
    let mut i = k;
    while i < s.len() && is_key_char(s[i]) {
        i += 1;
    }
    if i == k {
        return None;
    }
    let key: String = s[k..i].iter().collect();
    // `[ \t]*=[ \t]*` or `:[ \t]+`.
    let mut j = i;
    while j < s.len() && matches!(s[j], ' ' | '\t') {
        j += 1;
    }
    let value_start = if j < s.len() && s[j] == '=' {
        j += 1;
        while j < s.len() && matches!(s[j], ' ' | '\t') {
            j += 1;
        }
        j
    } else if i < s.len() && s[i] == ':' && i + 1 < s.len() && matches!(s[i + 1], ' ' | '\t') {
        let mut j = i + 1;
        while j < s.len() && matches!(s[j], ' ' | '\t') {
            j += 1;
        }
        j
    } else {
        return None;
    };
    // Quoted alternatives first, each only if the rest of the line then matches.
    if let Some(&q) = s.get(value_start)
        && matches!(q, '\'' | '"' | '`')
    {
        {
            let mut m = value_start + 1;
            let mut closed = None;
            while m < s.len() {
                if q != '\'' && s[m] == '\\' {
                    m += 2;
                    continue;
                }
                if s[m] == q {
                    closed = Some(m + 1);
                    break;
                }
                m += 1;
            }
            if let Some(after) = closed.filter(|&a| a <= s.len())
                && let Some(end) = match_tail(s, after)
            {
                return Some((key, end));
            }
        }
    }
    // `[^#\r\n]*`, then the tail (which always matches at the end of the line).
    let mut m = value_start;
    while m < s.len() && !matches!(s[m], '#' | '\r' | '\n') {
        m += 1;
    }
    match_tail(s, m).map(|end| (key, end))
}

/// `[ \t]*(?:#[^\r\n]*)?\r?$` (multiline `$`).
fn match_tail(s: &[char], from: usize) -> Option<usize> {
    let mut i = from;
    while i < s.len() && matches!(s[i], ' ' | '\t') {
        i += 1;
    }
    if i < s.len() && s[i] == '#' {
        while i < s.len() && !matches!(s[i], '\r' | '\n') {
            i += 1;
        }
    }
    let at_end = |k: usize| k >= s.len() || is_line_terminator(s[k]);
    if i < s.len() && s[i] == '\r' && at_end(i + 1) {
        return Some(i + 1);
    }
    if at_end(i) { Some(i) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    fn run(config: DaytonaConfig, vars: &[(&str, &str)], dotenv: Option<&str>) -> (Result<ApiConfig>, Vec<String>) {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let warnings = RefCell::new(Vec::new());
        let var = |k: &str| vars.get(k).cloned();
        let scan = || dotenv.map(PathBuf::from);
        let warn = |m: &str| warnings.borrow_mut().push(m.to_string());
        let r = resolve(&config, &Environment { var: &var, dotenv_defining_endpoint: &scan, warn: &warn });
        (r, warnings.into_inner())
    }

    #[test]
    fn credentials_and_defaults() {
        let (r, _) = run(DaytonaConfig::default(), &[("DAYTONA_API_KEY", "k")], None);
        let c = r.unwrap();
        assert_eq!((c.api_url.as_str(), c.token(), c.organization_header()), (DEFAULT_API_URL, "k", None));
        let (r, _) = run(DaytonaConfig::default(), &[("DAYTONA_JWT_TOKEN", "j"), ("DAYTONA_ORGANIZATION_ID", "o"), ("DAYTONA_TARGET", "eu")], None);
        let c = r.unwrap();
        assert_eq!((c.token(), c.organization_header(), c.target.as_deref()), ("j", Some("o"), Some("eu")));
        // A configured JWT keeps the environment's API key out.
        let cfg = DaytonaConfig { jwt_token: Some("j".into()), organization_id: Some("o".into()), ..Default::default() };
        let (r, _) = run(cfg, &[("DAYTONA_API_KEY", "k")], None);
        assert_eq!(r.unwrap().api_key, None);
        // A complete config reads nothing from the environment.
        let cfg = DaytonaConfig { api_key: Some("c".into()), api_url: Some("http://x/api".into()), target: Some("us".into()), ..Default::default() };
        let (r, w) = run(cfg, &[("DAYTONA_SERVER_URL", "http://y"), ("DAYTONA_ORGANIZATION_ID", "o")], None);
        assert_eq!(r.unwrap().organization_id, None);
        assert!(w.is_empty());
    }

    #[test]
    fn authentication_errors() {
        let (r, _) = run(DaytonaConfig::default(), &[], None);
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Authentication);
        assert_eq!(e.message, "Authentication credentials not found. Set DAYTONA_API_KEY, or both DAYTONA_JWT_TOKEN and DAYTONA_ORGANIZATION_ID. These can also be provided via DaytonaConfig.");
        let (r, _) = run(DaytonaConfig::default(), &[("DAYTONA_JWT_TOKEN", "j"), ("DAYTONA_API_KEY", "")], None);
        let e = r.unwrap_err();
        assert_eq!(e.message, "DAYTONA_ORGANIZATION_ID is required when authenticating with DAYTONA_JWT_TOKEN. It can also be provided via DaytonaConfig.");
    }

    #[test]
    fn server_url_is_deprecated() {
        let (r, w) = run(DaytonaConfig::default(), &[("DAYTONA_API_KEY", "k"), ("DAYTONA_SERVER_URL", "http://s/api")], None);
        assert_eq!(r.unwrap().api_url, "http://s/api");
        assert_eq!(w, [SERVER_URL_DEPRECATION]);
        let (r, w) = run(DaytonaConfig::default(), &[("DAYTONA_API_KEY", "k"), ("DAYTONA_SERVER_URL", "http://s"), ("DAYTONA_API_URL", "http://a")], None);
        assert_eq!(r.unwrap().api_url, "http://a");
        assert!(w.is_empty());
    }

    #[test]
    fn dotenv_ambiguity() {
        let env = [("DAYTONA_API_KEY", "k"), ("DAYTONA_API_URL", "http://a")];
        let (r, _) = run(DaytonaConfig::default(), &env, Some("/w/.env"));
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert_eq!(e.message, "The Daytona API endpoint is ambiguous: `/w/.env` in the working directory sets DAYTONA_API_URL or DAYTONA_SERVER_URL, and that variable is present in the process environment, so the endpoint cannot be attributed to you. Pass `apiUrl` to the Daytona constructor to say which endpoint you mean, or remove the variable from `/w/.env`.");
        // An explicit apiUrl, or no endpoint variable in the environment: no refusal.
        let cfg = DaytonaConfig { api_url: Some("http://b".into()), ..Default::default() };
        assert!(run(cfg, &env, Some("/w/.env")).0.is_ok());
        assert!(run(DaytonaConfig::default(), &[("DAYTONA_API_KEY", "k")], Some("/w/.env")).0.is_ok());
        // Present but empty still counts as named.
        assert!(run(DaytonaConfig::default(), &[("DAYTONA_API_KEY", "k"), ("DAYTONA_SERVER_URL", "")], Some("/w/.env")).0.is_err());
    }

    #[test]
    fn dotenv_grammar() {
        assert!(defines_endpoint_var("DAYTONA_API_URL=http://x\n"));
        assert!(defines_endpoint_var("\u{feff}DAYTONA_API_URL=http://x"));
        assert!(defines_endpoint_var("  export DAYTONA_SERVER_URL = 'x' # c\r\n"));
        assert!(defines_endpoint_var("DAYTONA_API_URL: http://x"));
        assert!(defines_endpoint_var("DAYTONA_API_URL="));
        assert!(!defines_endpoint_var("DAYTONA_API_URL:http://x"));
        assert!(!defines_endpoint_var("# DAYTONA_API_URL=x"));
        assert!(!defines_endpoint_var("XDAYTONA_API_URL=x\nDAYTONA_API_URLS=y"));
        // Inside a multi-line quoted value it is not an assignment...
        assert!(!defines_endpoint_var("A=\"line1\nDAYTONA_API_URL=x\nend\"\n"));
        assert!(!defines_endpoint_var("A=`a\nDAYTONA_API_URL=x`"));
        // ...unless the quote does not close the value properly (then it is a plain value).
        assert!(defines_endpoint_var("A=\"x\" trailing\nDAYTONA_API_URL=x"));
        assert!(defines_endpoint_var("A='unterminated\nDAYTONA_API_URL=x"));
        assert!(defines_endpoint_var("export=1\nDAYTONA_API_URL=1"));
        assert!(defines_endpoint_var("OTHER=1\r\rDAYTONA_API_URL=1"));
    }

    #[test]
    fn explicit_paths() {
        let args: Vec<String> = ["--env-file=a.env", "--env-file", "b.env", "--env-file", "--x", "--env-file-if-exists=c", "script.js", "dotenv_config_path=d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(explicit_paths_from(&args, Some("e".into())), ["a.env", "b.env", "c", "e", "d"]);
    }

    #[test]
    fn finds_the_first_defining_file() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(".env"), "A=1\n").unwrap();
        std::fs::write(d.path().join(".env.test"), "DAYTONA_SERVER_URL=x\n").unwrap();
        std::fs::write(d.path().join("custom.env"), "DAYTONA_API_URL=x\n").unwrap();
        let dirs = [d.path().to_path_buf()];
        assert_eq!(find_dotenv_file_defining_endpoint(&dirs, &[]), Some(d.path().join(".env.test")));
        assert_eq!(find_dotenv_file_defining_endpoint(&dirs, &["custom.env".into()]), Some(d.path().join("custom.env")));
    }
}
