//! `.dockerignore` rules with Docker's semantics.
//!
//! Written from the documented behaviour of Docker's ignore-file reader and pattern matcher
//! (moby `patternmatcher` / `ignorefile`, as used by the CLI and BuildKit's file sync), not with a
//! general-purpose glob crate, because several details differ from every glob library:
//!
//! * lines: a UTF-8 BOM is stripped from the first line; a line whose *first* byte is `#` is a
//!   comment (a `#` after leading blanks is a pattern); lines are trimmed; blank lines skipped;
//!   `!` marks an exception (blanks after it are trimmed); patterns are `filepath.Clean`ed and one
//!   leading `/` is removed;
//! * matching: per segment like Go's `filepath.Match` (`*` and `?` never match `/`, `[...]` with
//!   `^` negation and ranges, `\` escapes the next character), plus `**` for any number of segments;
//!   Docker classifies every pattern as exact / prefix (`foo/**`) / suffix (`**/foo`) / regex and
//!   the prefix and suffix forms are plain string tests (so `**foo` also matches `barfoo`) —
//!   replicated here;
//! * a pattern also matches a path when it matches any parent directory of the path, so `build`
//!   excludes everything below `build/`;
//! * the last pattern that matches decides (`!keep.log` after `*.log` re-includes);
//! * malformed patterns (unclosed `[`, trailing `\`, a lone `!`) are errors, as in Docker.

use std::fmt;

/// A malformed `.dockerignore` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The pattern as it appeared after line processing (with its `!`, if any).
    pub pattern: String,
    pub reason: &'static str,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid pattern {:?}: {}", self.pattern, self.reason)
    }
}

impl std::error::Error for PatternError {}

/// Parsed `.dockerignore` rules.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
    has_exceptions: bool,
}

#[derive(Debug, Clone)]
struct Pattern {
    /// Cleaned pattern text without the leading `!`.
    text: String,
    exception: bool,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// No wildcard at all: the path must equal the pattern.
    Exact,
    /// `literal**`: the path must start with `literal`.
    Prefix(String),
    /// `**literal`: the path must end with `literal` (or equal it minus a leading `/`).
    Suffix(String),
    /// Anything else: an anchored automaton over characters.
    Nfa(Vec<Node>),
}

#[derive(Debug, Clone)]
enum Node {
    /// One specific character.
    Lit(char),
    /// `?`: one character other than `/`.
    NotSlash,
    /// `[...]`: one character in (or, negated, not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `*`: any run of characters other than `/` (may be empty).
    StarNotSlash,
    /// `.*`: any run of characters (may be empty).
    AnyRun,
    /// Optional group start: may jump to the given node index without consuming anything.
    SkipTo(usize),
}

impl IgnoreRules {
    /// Parses the text of a `.dockerignore` file.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        Self::from_patterns(read_lines(text))
    }

    /// Builds rules from already-extracted patterns (one per element, `!` for exceptions), with
    /// the same trimming and cleaning Docker applies to each.
    pub fn from_patterns<I, S>(patterns: I) -> Result<Self, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut rules = IgnoreRules::default();
        for raw in patterns {
            let p = raw.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let p = clean(p);
            let (exception, text) = match p.strip_prefix('!') {
                Some("") => {
                    return Err(PatternError {
                        pattern: p.clone(),
                        reason: "a lone \"!\" is not a pattern",
                    });
                }
                Some(rest) => (true, rest.to_string()),
                None => (false, p.clone()),
            };
            validate(&text).map_err(|reason| PatternError {
                pattern: p.clone(),
                reason,
            })?;
            let matcher = compile(&text);
            rules.has_exceptions |= exception;
            rules.patterns.push(Pattern {
                text,
                exception,
                matcher,
            });
        }
        Ok(rules)
    }

    /// True when there are no patterns at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// True when at least one `!` exception exists.
    pub fn has_exceptions(&self) -> bool {
        self.has_exceptions
    }

    /// Whether `path` (relative to the context root, `/`-separated, no leading `/`) is excluded,
    /// taking matches on its parent directories into account.
    pub fn is_excluded(&self, path: &str) -> bool {
        let mut parents = self.no_matches();
        let mut start = 0;
        while let Some(pos) = path[start..].find('/') {
            let parent = &path[..start + pos];
            parents = self.matches_below(&parents, parent);
            start += pos + 1;
        }
        let own = self.matches_below(&parents, path);
        self.decide(&own)
    }

    /// Per-pattern "matches this path or one of its parents" for the context root (nothing).
    pub(crate) fn no_matches(&self) -> Vec<bool> {
        vec![false; self.patterns.len()]
    }

    /// Per-pattern match flags for `path`, given the flags of its parent directory.
    pub(crate) fn matches_below(&self, parent: &[bool], path: &str) -> Vec<bool> {
        self.patterns
            .iter()
            .zip(parent)
            .map(|(p, &parent_matched)| parent_matched || p.matches(path))
            .collect()
    }

    /// Docker's decision from per-pattern flags: walk the patterns in order; a matching pattern
    /// sets "excluded" (or, for an exception, clears it). The last matching pattern wins.
    pub(crate) fn decide(&self, flags: &[bool]) -> bool {
        let mut excluded = false;
        for (p, &m) in self.patterns.iter().zip(flags) {
            if m {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// For an excluded directory `dir`: could any exception match something below it? If not,
    /// the walk may skip the directory entirely. (Over-approximating is safe: every entry below is
    /// still decided by [`IgnoreRules::decide`].)
    pub(crate) fn may_include_below(&self, dir: &str) -> bool {
        if !self.has_exceptions {
            return false;
        }
        let mut dir_slash = String::with_capacity(dir.len() + 1);
        dir_slash.push_str(dir);
        dir_slash.push('/');
        self.patterns
            .iter()
            .filter(|p| p.exception)
            .any(|p| p.may_match_with_prefix(&dir_slash))
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => path == self.text,
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Matcher::Nfa(nodes) => nfa_run(nodes, path).is_some_and(|set| set[nodes.len()]),
        }
    }

    /// Can this pattern match some path that starts with `prefix` (which ends with `/`)?
    fn may_match_with_prefix(&self, prefix: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => self.text.starts_with(prefix),
            Matcher::Prefix(p) => p.starts_with(prefix) || prefix.starts_with(p.as_str()),
            Matcher::Suffix(_) => true,
            Matcher::Nfa(nodes) => nfa_run(nodes, prefix).is_some_and(|set| set.iter().any(|&s| s)),
        }
    }
}

/// Docker's ignore-file line processing; returns the pattern strings (exceptions keep `!`).
fn read_lines(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut p = String::new();
        if !pattern.is_empty() {
            let cleaned = clean(pattern);
            p = match cleaned.strip_prefix('/') {
                Some(rest) if !rest.is_empty() => rest.to_string(),
                _ => cleaned,
            };
        }
        if invert {
            p.insert(0, '!');
        }
        out.push(p);
    }
    out
}

/// Lexical path cleaning with Go's `path/filepath.Clean` rules for `/`-separated paths:
/// repeated separators collapse, `.` segments vanish, `..` removes the previous segment (and is
/// dropped at the root of a rooted path), an empty result is `.`.
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// Go's `filepath.Match` syntax check (which Docker runs on every pattern), plus the one extra
/// failure Docker hits when it turns a class into a regular expression (a reversed range).
fn validate(pattern: &str) -> Result<(), &'static str> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if i + 1 >= chars.len() {
                    return Err("trailing backslash");
                }
                i += 2;
            }
            '[' => {
                i = parse_class(&chars, i + 1)?.0;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Index after the class, negated, ranges.
type ParsedClass = (usize, bool, Vec<(char, char)>);

/// Parses a class body starting just after `[`. Returns the index after the closing `]`, whether
/// the class is negated, and its ranges. Errors follow `filepath.Match`: an unescaped `-` or `]`
/// where a character is expected, a trailing `\`, a missing `]`.
fn parse_class(chars: &[char], mut i: usize) -> Result<ParsedClass, &'static str> {
    let mut negated = false;
    if chars.get(i) == Some(&'^') {
        negated = true;
        i += 1;
    }
    let mut ranges = Vec::new();
    loop {
        if chars.get(i) == Some(&']') && !ranges.is_empty() {
            return Ok((i + 1, negated, ranges));
        }
        let (lo, next) = class_char(chars, i)?;
        i = next;
        let mut hi = lo;
        if chars.get(i) == Some(&'-') {
            let (h, next) = class_char(chars, i + 1)?;
            hi = h;
            i = next;
        }
        if lo > hi {
            return Err("reversed range in character class");
        }
        ranges.push((lo, hi));
    }
}

fn class_char(chars: &[char], i: usize) -> Result<(char, usize), &'static str> {
    let (c, next) = match chars.get(i) {
        None => return Err("unterminated character class"),
        Some('-') | Some(']') => return Err("unexpected '-' or ']' in character class"),
        Some('\\') => match chars.get(i + 1) {
            None => return Err("trailing backslash in character class"),
            Some(&c) => (c, i + 2),
        },
        Some(&c) => (c, i + 1),
    };
    if next >= chars.len() {
        return Err("unterminated character class");
    }
    Ok((c, next))
}

/// Docker's classification and translation of a (validated) pattern.
fn compile(text: &str) -> Matcher {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let chars: Vec<char> = text.chars().collect();
    let mut kind = Kind::Exact;
    let mut nodes: Vec<Node> = Vec::new();
    let mut i = 0;
    let mut first = true;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        nodes.push(Node::AnyRun);
                        kind = Kind::Regex;
                    }
                } else {
                    // "(.*/)?"
                    let at = nodes.len();
                    nodes.push(Node::SkipTo(at + 3));
                    nodes.push(Node::AnyRun);
                    nodes.push(Node::Lit('/'));
                    kind = Kind::Regex;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                nodes.push(Node::StarNotSlash);
                kind = Kind::Regex;
            }
            '?' => {
                nodes.push(Node::NotSlash);
                kind = Kind::Regex;
            }
            '\\' => {
                // validate() guarantees a following character.
                nodes.push(Node::Lit(chars[i]));
                i += 1;
                kind = Kind::Regex;
            }
            '[' => {
                let (next, negated, ranges) =
                    parse_class(&chars, i).expect("pattern validated before compiling");
                i = next;
                nodes.push(Node::Class { negated, ranges });
                kind = Kind::Regex;
            }
            ']' => {
                nodes.push(Node::Lit(']'));
                kind = Kind::Regex;
            }
            other => nodes.push(Node::Lit(other)),
        }
        first = false;
    }
    match kind {
        Kind::Exact => Matcher::Exact,
        Kind::Prefix => Matcher::Prefix(text[..text.len() - 2].to_string()),
        Kind::Suffix => Matcher::Suffix(text[2..].to_string()),
        Kind::Regex => Matcher::Nfa(nodes),
    }
}

/// Runs the automaton over all of `input`; returns the final state set (index `nodes.len()` is
/// the accepting state), or `None` once no state is alive.
fn nfa_run(nodes: &[Node], input: &str) -> Option<Vec<bool>> {
    let n = nodes.len();
    let mut set = vec![false; n + 1];
    set[0] = true;
    close(nodes, &mut set);
    let mut next = vec![false; n + 1];
    for c in input.chars() {
        next.iter_mut().for_each(|s| *s = false);
        let mut alive = false;
        for (idx, node) in nodes.iter().enumerate() {
            if !set[idx] {
                continue;
            }
            let target = match node {
                Node::Lit(x) => (*x == c).then_some(idx + 1),
                Node::NotSlash => (c != '/').then_some(idx + 1),
                Node::Class { negated, ranges } => {
                    let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                    (inside != *negated).then_some(idx + 1)
                }
                Node::StarNotSlash => (c != '/').then_some(idx),
                Node::AnyRun => Some(idx),
                Node::SkipTo(_) => None,
            };
            if let Some(t) = target {
                next[t] = true;
                alive = true;
            }
        }
        if !alive {
            return None;
        }
        std::mem::swap(&mut set, &mut next);
        close(nodes, &mut set);
    }
    Some(set)
}

/// Epsilon closure. All epsilon edges point forward, so one ascending pass suffices.
fn close(nodes: &[Node], set: &mut [bool]) {
    for idx in 0..nodes.len() {
        if !set[idx] {
            continue;
        }
        match nodes[idx] {
            Node::StarNotSlash | Node::AnyRun => set[idx + 1] = true,
            Node::SkipTo(t) => {
                set[idx + 1] = true;
                set[t] = true;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> IgnoreRules {
        IgnoreRules::parse(text).unwrap()
    }

    fn m(pattern: &str, path: &str) -> bool {
        IgnoreRules::from_patterns([pattern]).unwrap().patterns[0].matches(path)
    }

    #[test]
    fn clean_matches_go() {
        for (i, o) in [
            ("", "."),
            (".", "."),
            ("/", "/"),
            ("a/./b/", "a/b"),
            ("a//b", "a/b"),
            ("a/../..", ".."),
            ("../a/../b", "../b"),
            ("/../a", "/a"),
            ("/a/b/../../..", "/"),
            ("./src/", "src"),
        ] {
            assert_eq!(clean(i), o, "clean({i:?})");
        }
    }

    #[test]
    fn line_processing() {
        let lines = read_lines(
            "\u{feff}# comment\n  \n*.log\r\n #notacomment\n/abs/path\n! keep.log \n./a/../b/\n/\n",
        );
        assert_eq!(
            lines,
            vec!["*.log", "#notacomment", "abs/path", "!keep.log", "b", "/"]
        );
    }

    #[test]
    fn single_segment_wildcards() {
        assert!(m("*.log", "a.log"));
        assert!(!m("*.log", "dir/a.log"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "a/c"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[a-c]x", "dx"));
        assert!(m("[^a-c]x", "dx"));
        assert!(!m("[^a-c]x", "ax"));
        assert!(m("a/*/c", "a/b/c"));
        assert!(!m("a/*/c", "a/b/d/c"));
        assert!(m(r"\*", "*"));
        assert!(!m(r"\*", "x"));
        assert!(m(r"a\?b", "a?b"));
        assert!(!m(r"a\?b", "axb"));
        assert!(m("file.txt", "file.txt"));
        assert!(!m("file.txt", "fileXtxt"));
        assert!(m("a+b(c)", "a+b(c)"));
    }

    #[test]
    fn double_star() {
        assert!(m("**", "anything/at/all"));
        assert!(m("**/*.tmp", "x.tmp"));
        assert!(m("**/*.tmp", "a/b/x.tmp"));
        assert!(!m("**/*.tmp", "a/b/x.tmpl"));
        assert!(m("**/foo", "foo"));
        assert!(m("**/foo", "a/b/foo"));
        assert!(!m("**/foo", "a/bfoo"));
        // Docker's suffix test is a plain string test.
        assert!(m("**foo", "a/bfoo"));
        assert!(m("dir/**", "dir/x/y"));
        assert!(!m("dir/**", "dir"));
        assert!(m("a/**/b", "a/b"));
        assert!(m("a/**/b", "a/x/y/b"));
        assert!(!m("a/**/b", "a/x/yb"));
        assert!(m("a/**/*.go", "a/x/y.go"));
        assert!(m("a*/**", "abc/d"));
        assert!(!m("a*/**", "abc"));
    }

    #[test]
    fn parents_and_last_match_wins() {
        let r = rules("build\n*.log\n!keep.log\n");
        assert!(r.is_excluded("build"));
        assert!(r.is_excluded("build/out/x.o"));
        assert!(r.is_excluded("a.log"));
        assert!(!r.is_excluded("keep.log"));
        assert!(!r.is_excluded("src/a.log"));
        let r = rules("!keep.log\n*.log\n");
        assert!(r.is_excluded("keep.log"));
    }

    #[test]
    fn exceptions_below_excluded_dirs() {
        let r = rules("dir\n!dir/keep\n");
        assert!(r.is_excluded("dir"));
        assert!(r.is_excluded("dir/other"));
        assert!(!r.is_excluded("dir/keep"));
        assert!(!r.is_excluded("dir/keep/inner"));
        assert!(r.may_include_below("dir"));
        assert!(!r.may_include_below("other"));
        let r = rules("dir\n!dir/sub/*.keep\n");
        assert!(r.may_include_below("dir"));
        assert!(r.may_include_below("dir/sub"));
        assert!(!r.may_include_below("dir/other"));
        let r = rules("node_modules\n");
        assert!(!r.may_include_below("node_modules"));
        let r = rules("dir\n!**/keep\n");
        assert!(r.may_include_below("dir"));
        assert!(!r.is_excluded("dir/a/keep"));
    }

    #[test]
    fn bad_patterns() {
        for bad in ["[", "a[", "[]", "[a-]", "[z-a]", "x\\", "[a", "!", "[\\"] {
            assert!(
                IgnoreRules::from_patterns([bad]).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert!(IgnoreRules::from_patterns(["[a-c]", "]", "a]b", r"[\]]"]).is_ok());
        assert!(m(r"[\]]", "]"));
    }
}
