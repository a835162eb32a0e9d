//! Name patterns for `GET /files/search`, with the daemon's semantics (shell-style patterns
//! matched against one file name: `*`, `?`, `[a-z]`, `[^…]`/`[!…]`, `\` escapes; `*` and `?`
//! never match `/`). Kept here rather than via globset: globset adds `{a,b}` and `**`, which
//! the toolbox does not have, and a bad pattern must simply match nothing.

/// Whether `name` matches `pattern` as a whole. A malformed pattern matches nothing.
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative wildcard matching with one backtrack point for the last `*`.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() && n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' if ni < n.len() => match class(&p, pi + 1, n[ni]) {
                    None => return false,
                    Some((true, next)) if n[ni] != '/' => {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                    Some(_) => {}
                },
                '\\' => {
                    let Some(&c) = p.get(pi + 1) else { return false };
                    if ni < n.len() && n[ni] == c {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c if c != '?' && c != '[' && ni < n.len() && n[ni] == c => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more character (never a `/`).
        match star {
            Some((sp, sn)) if sn < n.len() && n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => return false,
        }
    }
}

/// Parses the class starting after `[` at `i`; returns (matched, index after `]`), or None
/// when the class is malformed.
fn class(p: &[char], mut i: usize, c: char) -> Option<(bool, usize)> {
    let negate = matches!(p.get(i), Some('^') | Some('!'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &ch = p.get(i)?;
        if ch == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        let (lo, next) = class_char(p, i)?;
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            let (h, next) = class_char(p, i + 1)?;
            hi = h;
            i = next;
            if hi < lo {
                return None;
            }
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}

fn class_char(p: &[char], i: usize) -> Option<(char, usize)> {
    match *p.get(i)? {
        '\\' => Some((*p.get(i + 1)?, i + 2)),
        // As in the daemon, a range bound may not be a bare `-` or `]` (escape them).
        '-' | ']' => None,
        c => Some((c, i + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns() {
        assert!(matches("*.txt", "a.txt"));
        assert!(!matches("*.txt", "a.txt.bak"));
        assert!(matches("a?c", "abc"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[^a-c]x", "bx"));
        assert!(matches("[!a-c]x", "dx"));
        assert!(matches("\\*", "*"));
        assert!(!matches("\\*", "a"));
        assert!(matches("*", ""));
        assert!(matches("*a*b", "xxaxxb"));
        assert!(!matches("[a-", "a"));
        assert!(matches("é*", "été"));
    }
}
