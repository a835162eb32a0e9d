//! Path arithmetic of the JavaScript libraries the official SDK uses: Node's `path.posix`
//! (through expand-tilde) and `pathe` 2.0.3. The Dockerfile text and the context list contain
//! paths produced by them, so their exact normalisation rules are reproduced here.

use std::path::PathBuf;

/// The shared `normalizeString` of Node and pathe: resolves `.` and `..` segments and collapses
/// separators; `allow_above_root` keeps leading `..` segments of relative paths.
fn normalize_string(path: &str, allow_above_root: bool) -> String {
    let bytes = path.as_bytes();
    let mut res = String::new();
    let mut last_segment_length: usize = 0;
    let mut last_slash: isize = -1;
    let mut dots: i32 = 0;
    let mut ch: u8 = 0;
    let mut index: usize = 0;
    while index <= bytes.len() {
        if index < bytes.len() {
            ch = bytes[index];
        } else if ch == b'/' {
            break;
        } else {
            ch = b'/';
        }
        if ch == b'/' {
            if last_slash == index as isize - 1 || dots == 1 {
                // empty segment or "."
            } else if dots == 2 {
                let res_b = res.as_bytes();
                let ends_with_dotdot = res_b.len() >= 2
                    && last_segment_length == 2
                    && res_b[res_b.len() - 1] == b'.'
                    && res_b[res_b.len() - 2] == b'.';
                if !ends_with_dotdot {
                    if res.len() > 2 {
                        match res.rfind('/') {
                            None => {
                                res.clear();
                                last_segment_length = 0;
                            }
                            Some(i) => {
                                res.truncate(i);
                                // res.length - 1 - res.lastIndexOf('/'), where lastIndexOf is -1 when absent
                                let last = res.rfind('/').map_or(-1isize, |x| x as isize);
                                last_segment_length = (res.len() as isize - 1 - last) as usize;
                            }
                        }
                        last_slash = index as isize;
                        dots = 0;
                        index += 1;
                        continue;
                    } else if !res.is_empty() {
                        res.clear();
                        last_segment_length = 0;
                        last_slash = index as isize;
                        dots = 0;
                        index += 1;
                        continue;
                    }
                }
                if allow_above_root {
                    res.push_str(if res.is_empty() { ".." } else { "/.." });
                    last_segment_length = 2;
                }
            } else {
                let seg = &path[(last_slash + 1) as usize..index];
                if !res.is_empty() {
                    res.push('/');
                }
                res.push_str(seg);
                last_segment_length = index - (last_slash + 1) as usize;
            }
            last_slash = index as isize;
            dots = 0;
        } else if ch == b'.' && dots != -1 {
            dots += 1;
        } else {
            dots = -1;
        }
        index += 1;
    }
    res
}

/// Node's `path.posix.normalize`.
pub fn node_normalize(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let absolute = path.starts_with('/');
    let trailing = path.ends_with('/');
    let mut p = normalize_string(path, !absolute);
    if p.is_empty() {
        if absolute {
            return "/".into();
        }
        return if trailing { "./".into() } else { ".".into() };
    }
    if trailing {
        p.push('/');
    }
    if absolute { format!("/{p}") } else { p }
}

/// Node's `path.posix.join`.
pub fn node_join(parts: &[&str]) -> String {
    let joined: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    if joined.is_empty() {
        return ".".into();
    }
    node_normalize(&joined.join("/"))
}

fn windows_to_posix(input: &str) -> String {
    let mut s = input.replace('\\', "/");
    let b = s.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
        let upper = (b[0] as char).to_ascii_uppercase();
        s.replace_range(0..1, &upper.to_string());
    }
    s
}

/// pathe's `isAbsolute`: `/x`, `//host` (UNC, not `//.`), `C:/`.
pub fn pathe_is_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    let sep = |c: u8| c == b'/' || c == b'\\';
    if !b.is_empty() && sep(b[0]) && !(b.len() > 1 && sep(b[1])) {
        return true;
    }
    if b.len() >= 2 && sep(b[0]) && sep(b[1]) && b.get(2) != Some(&b'.') {
        return true;
    }
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && sep(b[2])
}

fn is_drive_letter(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() == 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// pathe's `normalize`.
pub fn pathe_normalize(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let path = windows_to_posix(path);
    let unc = path.starts_with("//");
    let absolute = pathe_is_absolute(&path);
    let trailing = path.ends_with('/');
    let mut p = normalize_string(&path, !absolute);
    if p.is_empty() {
        if absolute {
            return "/".into();
        }
        return if trailing { "./".into() } else { ".".into() };
    }
    if trailing {
        p.push('/');
    }
    if is_drive_letter(&p) {
        p.push('/');
    }
    if unc {
        if !absolute {
            return format!("//./{p}");
        }
        return format!("//{p}");
    }
    if absolute && !pathe_is_absolute(&p) { format!("/{p}") } else { p }
}

/// pathe's `join`.
pub fn pathe_join(segments: &[&str]) -> String {
    let mut path = String::new();
    for seg in segments {
        if seg.is_empty() {
            continue;
        }
        if !path.is_empty() {
            let trailing = path.ends_with('/');
            let leading = seg.starts_with('/');
            if trailing && leading {
                path.push_str(&seg[1..]);
            } else if trailing || leading {
                path.push_str(seg);
            } else {
                path.push('/');
                path.push_str(seg);
            }
        } else {
            path.push_str(seg);
        }
    }
    pathe_normalize(&path)
}

/// The process's working directory as Node's `process.cwd()` reports it.
pub fn cwd() -> String {
    std::env::current_dir().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "/".into())
}

/// pathe's `resolve`.
pub fn pathe_resolve(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| if a.is_empty() { String::new() } else { windows_to_posix(a) }).collect();
    let mut resolved = String::new();
    let mut absolute = false;
    let cwd = cwd().replace('\\', "/");
    let mut index = args.len() as isize - 1;
    while index >= -1 && !absolute {
        let p: &str = if index >= 0 { &args[index as usize] } else { &cwd };
        index -= 1;
        if p.is_empty() {
            continue;
        }
        resolved = format!("{p}/{resolved}");
        absolute = pathe_is_absolute(p);
    }
    let r = normalize_string(&resolved, !absolute);
    if absolute && !pathe_is_absolute(&r) {
        return format!("/{r}");
    }
    if r.is_empty() { ".".into() } else { r }
}

/// pathe's `dirname`.
pub fn pathe_dirname(p: &str) -> String {
    let posix = windows_to_posix(p);
    let trimmed = posix.strip_suffix('/').unwrap_or(&posix);
    let mut segments: Vec<String> = trimmed.split('/').map(String::from).collect();
    segments.pop();
    if segments.len() == 1 && is_drive_letter(&segments[0]) {
        segments[0].push('/');
    }
    let joined = segments.join("/");
    if !joined.is_empty() {
        joined
    } else if pathe_is_absolute(p) {
        "/".into()
    } else {
        ".".into()
    }
}

/// pathe's `basename` (without the extension argument).
pub fn pathe_basename(p: &str) -> String {
    let posix = windows_to_posix(p);
    posix.split('/').rev().find(|s| !s.is_empty()).unwrap_or("").to_string()
}

/// pathe's `relative`.
pub fn pathe_relative(from: &str, to: &str) -> String {
    let strip_root = |s: String| -> String {
        // /^\/([A-Za-z]:)?$/ -> "$1"
        if s == "/" {
            return String::new();
        }
        if s.len() == 3 && s.starts_with('/') && is_drive_letter(&s[1..]) {
            return s[1..].to_string();
        }
        s
    };
    let from = strip_root(pathe_resolve(&[from]));
    let to = strip_root(pathe_resolve(&[to]));
    let mut f: Vec<&str> = from.split('/').collect();
    let mut t: Vec<&str> = to.split('/').collect();
    while !f.is_empty() && !t.is_empty() && f[0] == t[0] {
        f.remove(0);
        t.remove(0);
    }
    let mut out: Vec<&str> = f.iter().map(|_| "..").collect();
    out.extend(t);
    out.join("/")
}

/// The user's home directory as Node's `os.homedir()` sees it: `$HOME` whenever it is set (an
/// empty `$HOME` gives no home directory, so expand-tilde leaves `~` alone), else the password
/// database.
pub fn home_dir() -> Option<String> {
    match std::env::var_os("HOME") {
        Some(h) => Some(h.to_string_lossy().into_owned()).filter(|h| !h.is_empty()),
        None => std::env::home_dir().map(|p: PathBuf| p.to_string_lossy().into_owned()).filter(|h| !h.is_empty()),
    }
}

/// expand-tilde 2.0.2: only a leading `~` is expanded (`~user` is not supported: `~bob/x`
/// becomes `$HOME/bob/x`), `~+` is the working directory.
pub fn expand_tilde(path: &str) -> String {
    if let Some(rest) = path.strip_prefix('~') {
        if let Some(rest) = rest.strip_prefix('+') {
            return node_join(&[&cwd(), rest]);
        }
        return match home_dir() {
            Some(home) => node_join(&[&home, rest]),
            None => path.to_string(),
        };
    }
    path.to_string()
}

/// Where Docker looks for a context path inside the build context: `clean("/" + p)` without the
/// leading slash, so `..` can never leave the context root (`../x` is `x`).
pub fn context_relative(p: &str) -> String {
    let n = node_normalize(&format!("/{p}"));
    n.trim_start_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_normalize_cases() {
        assert_eq!(node_normalize("/t/ctx/."), "/t/ctx");
        assert_eq!(node_normalize("a//b/../c/"), "a/c/");
        assert_eq!(node_normalize("../../x"), "../../x");
        assert_eq!(node_normalize("/../x"), "/x");
        assert_eq!(node_normalize("./"), "./");
        assert_eq!(node_normalize("a/.."), ".");
        assert_eq!(node_normalize("ab/../../c"), "../c");
    }

    #[test]
    fn pathe_cases() {
        assert_eq!(pathe_join(&["/t/ctx/", "."]), "/t/ctx");
        assert_eq!(pathe_join(&["/t/ctx/", "./src/"]), "/t/ctx/src/");
        assert_eq!(pathe_join(&["./ctx", "src"]), "ctx/src");
        assert_eq!(pathe_join(&["", "ctx/src"]), "ctx/src");
        assert_eq!(pathe_join(&["ctx", "a\\b"]), "ctx/a/b");
        assert_eq!(pathe_dirname("/t/ctx/Dockerfile"), "/t/ctx");
        assert_eq!(pathe_dirname("/Dockerfile"), "/");
        assert_eq!(pathe_basename("a/b/"), "b");
        assert_eq!(pathe_relative("/t/ctx", "/t/outside/x"), "../outside/x");
        assert_eq!(pathe_relative("/t/ctx", "/t/ctx"), "");
        assert!(pathe_is_absolute("/x"));
        assert!(pathe_is_absolute("//host/x"));
        assert!(!pathe_is_absolute("//./x"));
        assert!(pathe_is_absolute("C:/x"));
        assert!(!pathe_is_absolute("x"));
    }

    #[test]
    fn tilde_follows_home_like_node() {
        // The only test in this crate that touches $HOME; restored before returning.
        let saved = std::env::var_os("HOME");
        unsafe { std::env::set_var("HOME", "/h/") };
        assert_eq!(expand_tilde("~/x"), "/h/x");
        assert_eq!(expand_tilde("~"), "/h/");
        assert_eq!(expand_tilde("~bob/x"), "/h/bob/x");
        assert_eq!(expand_tilde("a/~"), "a/~");
        // An empty $HOME means no home directory: expand-tilde returns the path unchanged.
        unsafe { std::env::set_var("HOME", "") };
        assert_eq!(expand_tilde("~/x"), "~/x");
        match saved {
            Some(h) => unsafe { std::env::set_var("HOME", h) },
            None => unsafe { std::env::remove_var("HOME") },
        }
        assert_eq!(expand_tilde("~+/y"), node_join(&[&cwd(), "/y"]));
    }

    #[test]
    fn context_relative_clamps() {
        assert_eq!(context_relative("../x"), "x");
        assert_eq!(context_relative("/t/a.txt"), "t/a.txt");
        assert_eq!(context_relative("./src/"), "src/");
        assert_eq!(context_relative("."), "");
        assert_eq!(context_relative(""), "");
    }
}
