//! Wildcard COPY sources, expanded against the file system the way Docker does: Go's
//! `filepath.Match` per path segment (`*`, `?`, `[...]`, `[^...]`, `\` escapes; `*` matches
//! dotfiles too), matching files and directories alike, results in byte order.

use std::path::{Path, PathBuf};

/// Does `source` contain wildcard characters Docker expands?
pub fn has_wildcards(source: &str) -> bool {
    source.contains(['*', '?', '['])
}

/// Go's `filepath.Match` for one path segment (no `/` in `name`).
pub fn segment_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, 0, &n, 0)
}

fn match_from(p: &[char], mut pi: usize, n: &[char], mut ni: usize) -> bool {
    while pi < p.len() {
        match p[pi] {
            '*' => {
                while pi < p.len() && p[pi] == '*' {
                    pi += 1;
                }
                if pi == p.len() {
                    return true;
                }
                for start in ni..=n.len() {
                    if match_from(p, pi, n, start) {
                        return true;
                    }
                }
                return false;
            }
            '?' => {
                if ni >= n.len() {
                    return false;
                }
                pi += 1;
                ni += 1;
            }
            '[' => {
                if ni >= n.len() {
                    return false;
                }
                let Some((matched, next)) = class_match(p, pi + 1, n[ni]) else { return false };
                if !matched {
                    return false;
                }
                pi = next;
                ni += 1;
            }
            '\\' if pi + 1 < p.len() => {
                if ni >= n.len() || n[ni] != p[pi + 1] {
                    return false;
                }
                pi += 2;
                ni += 1;
            }
            c => {
                if ni >= n.len() || n[ni] != c {
                    return false;
                }
                pi += 1;
                ni += 1;
            }
        }
    }
    ni == n.len()
}

/// Matches `c` against the class starting after `[` at `p[i]`; returns (matched, index after `]`).
/// A malformed class matches nothing, as Go reports ErrBadPattern.
fn class_match(p: &[char], mut i: usize, c: char) -> Option<(bool, usize)> {
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *p.get(i)?;
        if lo == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let lo = if lo == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            lo
        };
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            i += 1;
            hi = if p[i] == '\\' {
                i += 1;
                *p.get(i)?
            } else {
                p[i]
            };
            i += 1;
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
    Some((matched != negated, i))
}

/// Expands `pattern` (relative to `base`) into matching paths, each returned as the pattern's
/// own spelling of its directory part joined with the matched names. Byte-sorted. No directory
/// whose real path lies outside `real_root` is looked into, so a linked directory cannot make
/// the expansion list the host's files.
pub fn expand(base: &Path, pattern: &str, real_root: &Path) -> Vec<String> {
    let segments: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    let mut results: Vec<(PathBuf, Vec<String>)> = vec![(base.to_path_buf(), Vec::new())];
    for (idx, seg) in segments.iter().enumerate() {
        let last = idx + 1 == segments.len();
        let mut next = Vec::new();
        for (dir, rel) in results {
            if !std::fs::canonicalize(&dir).is_ok_and(|real| real.starts_with(real_root)) {
                continue;
            }
            if *seg == ".." {
                let mut r = rel.clone();
                r.push("..".into());
                next.push((dir.join(".."), r));
                continue;
            }
            if !has_wildcards(seg) {
                let candidate = dir.join(unescape(seg));
                if candidate.symlink_metadata().is_ok() && (last || candidate.is_dir()) {
                    let mut r = rel.clone();
                    r.push(unescape(seg));
                    next.push((candidate, r));
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|name| segment_match(seg, name))
                .collect();
            names.sort();
            for name in names {
                let candidate = dir.join(&name);
                if last || candidate.is_dir() {
                    let mut r = rel.clone();
                    r.push(name);
                    next.push((candidate, r));
                }
            }
        }
        results = next;
    }
    results.into_iter().map(|(_, rel)| rel.join("/")).collect()
}

fn unescape(seg: &str) -> String {
    let mut out = String::new();
    let mut chars = seg.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_match_semantics() {
        assert!(segment_match("*.png", "x.png"));
        assert!(segment_match("*.png", ".hidden.png"));
        assert!(!segment_match("*.png", "x.jpg"));
        assert!(segment_match("a?c", "abc"));
        assert!(segment_match("[a-c]x", "bx"));
        assert!(!segment_match("[^a-c]x", "bx"));
        assert!(segment_match("[^a-c]x", "dx"));
        assert!(segment_match("\\*", "*"));
        assert!(!segment_match("\\*", "a"));
        assert!(segment_match("*", ""));
        assert!(!segment_match("[", "["));
    }

    #[test]
    fn expands_files_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("assets/sub")).unwrap();
        std::fs::write(dir.path().join("assets/b.png"), "b").unwrap();
        std::fs::write(dir.path().join("assets/a.png"), "a").unwrap();
        std::fs::write(dir.path().join("assets/c.txt"), "c").unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(expand(dir.path(), "assets/*.png", &real), ["assets/a.png", "assets/b.png"]);
        assert_eq!(expand(dir.path(), "./assets/*", &real), ["assets/a.png", "assets/b.png", "assets/c.txt", "assets/sub"]);
        assert_eq!(expand(dir.path(), "*/sub", &real), ["assets/sub"]);
        assert!(expand(dir.path(), "nope/*", &real).is_empty());
        // a linked directory leading out of the root is not looked into
        std::os::unix::fs::symlink(dir.path().join("assets"), dir.path().join("assets/sub/up")).unwrap();
        let sub = real.join("assets/sub");
        assert_eq!(expand(&sub, "up/*.png", &sub), Vec::<String>::new());
        assert_eq!(expand(dir.path(), "assets/sub/up/*.png", &real).len(), 2);
    }
}
