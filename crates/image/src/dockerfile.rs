//! Reads COPY/ADD sources out of Dockerfile text the way Docker does: parser directives
//! (`# escape=`), logical lines (continuations, comment and blank lines inside them), heredoc
//! bodies, flags (`--from=` means the sources are not in the context), JSON and whitespace
//! forms, quotes, and `$VAR` substitution from the ENV/ARG instructions seen so far.
//!
//! The official SDK's parser differs (reference §1.5, §8 item 10); the Dockerfile text is not
//! affected, only which local files become contexts.

use std::collections::HashMap;

/// One source operand of a COPY/ADD that names something in the build context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    /// The operand after quote removal and variable substitution.
    pub path: String,
}

struct Lexer {
    escape: char,
}

impl Lexer {
    /// Splits `text` into words: whitespace separates words outside quotes, quotes are removed,
    /// the escape character escapes the next character, `$VAR`/`${VAR}` are substituted.
    fn words(&self, text: &str, vars: &HashMap<String, String>) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut words = Vec::new();
        let mut cur = String::new();
        let mut in_word = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                i += 1;
                continue;
            }
            in_word = true;
            if c == self.escape {
                if let Some(&n) = chars.get(i + 1) {
                    cur.push(n);
                    i += 2;
                } else {
                    i += 1;
                }
            } else if c == '\'' {
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    cur.push(chars[i]);
                    i += 1;
                }
                i += 1;
            } else if c == '"' {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == self.escape && matches!(chars.get(i + 1), Some('"' | '$' | '`') ) {
                        cur.push(chars[i + 1]);
                        i += 2;
                    } else if chars[i] == self.escape && chars.get(i + 1) == Some(&self.escape) {
                        cur.push(self.escape);
                        i += 2;
                    } else if chars[i] == '$' {
                        i = self.substitute(&chars, i, vars, &mut cur);
                    } else {
                        cur.push(chars[i]);
                        i += 1;
                    }
                }
                i += 1;
            } else if c == '$' {
                i = self.substitute(&chars, i, vars, &mut cur);
            } else {
                cur.push(c);
                i += 1;
            }
        }
        if in_word {
            words.push(cur);
        }
        words
    }

    /// Expands the variable reference at `chars[i] == '$'`; returns the index after it.
    fn substitute(&self, chars: &[char], i: usize, vars: &HashMap<String, String>, out: &mut String) -> usize {
        let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if chars.get(i + 1) == Some(&'{') {
            let Some(close) = chars[i + 2..].iter().position(|&c| c == '}').map(|p| p + i + 2) else {
                out.push('$');
                return i + 1;
            };
            let inner: String = chars[i + 2..close].iter().collect();
            let name_len = inner.chars().take_while(|&c| is_name(c)).count();
            let name = &inner[..name_len];
            let modifier = &inner[name_len..];
            let value = vars.get(name);
            let set = value.is_some_and(|v| !v.is_empty());
            if let Some(word) = modifier.strip_prefix(":-") {
                out.push_str(if set { value.unwrap() } else { word });
            } else if let Some(word) = modifier.strip_prefix(":+") {
                if set {
                    out.push_str(word);
                }
            } else if let Some(word) = modifier.strip_prefix('-') {
                out.push_str(value.map_or(word, |v| v.as_str()));
            } else if let Some(word) = modifier.strip_prefix('+') {
                if value.is_some() {
                    out.push_str(word);
                }
            } else if let Some(v) = value {
                out.push_str(v);
            }
            return close + 1;
        }
        let name: String = chars[i + 1..].iter().take_while(|&&c| is_name(c)).collect();
        if name.is_empty() {
            out.push('$');
            return i + 1;
        }
        if let Some(v) = vars.get(&name) {
            out.push_str(v);
        }
        i + 1 + name.chars().count()
    }
}

/// The escape character set by a `# escape=` parser directive at the top of the text.
fn escape_directive(text: &str) -> char {
    for line in text.split('\n') {
        let t = line.trim();
        let Some(body) = t.strip_prefix('#') else { break };
        let Some((key, value)) = body.split_once('=') else { break };
        let key = key.trim().to_ascii_lowercase();
        if key == "escape" {
            return match value.trim() {
                "`" => '`',
                _ => '\\',
            };
        }
        if key != "syntax" && key != "check" {
            break;
        }
    }
    '\\'
}

/// Heredoc terminators opened on an instruction line (`<<EOF`, `<<-EOF`, `<<"EOF"`).
fn heredoc_markers(line: &str) -> Vec<(String, bool)> {
    let mut markers = Vec::new();
    let mut rest = line;
    while let Some(pos) = rest.find("<<") {
        let mut after = &rest[pos + 2..];
        let strip_tabs = after.starts_with('-');
        if strip_tabs {
            after = &after[1..];
        }
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
        if let Some(q) = quote {
            after = &after[1..];
            let name: String = after.chars().take_while(|&c| c != q).collect();
            if !name.is_empty() {
                markers.push((name, strip_tabs));
            }
        } else {
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                markers.push((name, strip_tabs));
            }
        }
        rest = after;
    }
    markers
}

/// Logical instructions of a Dockerfile, with heredoc bodies removed.
fn instructions(text: &str, escape: char) -> Vec<String> {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut current = String::new();
        let mut segment = line;
        loop {
            let end = segment.trim_end();
            if end.ends_with(escape) {
                current.push_str(&end[..end.len() - escape.len_utf8()]);
                // Docker drops blank and comment lines inside a continued instruction.
                while i < lines.len() {
                    let t = lines[i].trim_start();
                    if t.is_empty() || t.starts_with('#') {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if i >= lines.len() {
                    break;
                }
                segment = lines[i];
                i += 1;
            } else {
                current.push_str(segment);
                break;
            }
        }
        let keyword = current.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        if matches!(keyword.as_str(), "run" | "copy" | "add") {
            for (name, strip_tabs) in heredoc_markers(&current) {
                while i < lines.len() {
                    let body = if strip_tabs { lines[i].trim_start_matches('\t') } else { lines[i] };
                    i += 1;
                    if body == name {
                        break;
                    }
                }
            }
        }
        out.push(current);
    }
    out
}

fn record_vars(keyword: &str, args: &str, lexer: &Lexer, vars: &mut HashMap<String, String>) {
    let words = lexer.words(args, vars);
    if keyword == "env" && words.len() >= 2 && !words[0].contains('=') {
        // Legacy form: ENV key value with spaces
        let value = args.trim_start()[words[0].len()..].trim().to_string();
        vars.insert(words[0].clone(), value);
        return;
    }
    for w in words {
        match w.split_once('=') {
            Some((k, v)) => {
                vars.insert(k.to_string(), v.to_string());
            }
            None if keyword == "arg" => {
                vars.entry(w).or_default();
            }
            None => {}
        }
    }
}

/// Sources of every COPY/ADD in `text` that name build-context paths, in order.
/// `honor_directives` is true for a whole Dockerfile (where `# escape=` can appear).
pub fn copy_sources(text: &str, honor_directives: bool) -> Vec<CopySource> {
    // Docker ignores a UTF-8 byte order mark at the start of a Dockerfile (the official SDK's
    // `\s` and `trim()` skip it too).
    let text = if honor_directives { text.strip_prefix('\u{feff}').unwrap_or(text) } else { text };
    let escape = if honor_directives { escape_directive(text) } else { '\\' };
    let lexer = Lexer { escape };
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut sources = Vec::new();
    for instruction in instructions(text, escape) {
        let trimmed = instruction.trim_start();
        let (keyword, rest) = match trimmed.find(char::is_whitespace) {
            Some(p) => (trimmed[..p].to_ascii_lowercase(), &trimmed[p..]),
            None => (trimmed.to_ascii_lowercase(), ""),
        };
        match keyword.as_str() {
            "env" | "arg" => record_vars(&keyword, rest, &lexer, &mut vars),
            "from" => {
                // A new stage starts with a fresh ARG scope; ENV of earlier stages does not carry over.
                vars.clear();
            }
            "copy" | "add" => {
                let mut args = rest.trim_start();
                let mut from_other_stage = false;
                while args.starts_with("--") {
                    let end = args.find(char::is_whitespace).unwrap_or(args.len());
                    let flag = &args[..end];
                    if flag.to_ascii_lowercase().starts_with("--from=") {
                        from_other_stage = true;
                    }
                    args = args[end..].trim_start();
                }
                if from_other_stage {
                    continue;
                }
                let operands: Vec<String> = if args.starts_with('[') {
                    match serde_json::from_str::<Vec<String>>(args.trim_end()) {
                        Ok(list) => list
                            .iter()
                            .map(|s| {
                                let mut out = String::new();
                                let chars: Vec<char> = s.chars().collect();
                                let mut i = 0;
                                while i < chars.len() {
                                    if chars[i] == '$' {
                                        i = lexer.substitute(&chars, i, &vars, &mut out);
                                    } else {
                                        out.push(chars[i]);
                                        i += 1;
                                    }
                                }
                                out
                            })
                            .collect(),
                        Err(_) => lexer.words(args, &vars),
                    }
                } else {
                    lexer.words(args, &vars)
                };
                if operands.len() < 2 {
                    continue;
                }
                for op in &operands[..operands.len() - 1] {
                    if op.starts_with("<<") {
                        continue; // heredoc: inline content
                    }
                    if keyword == "add" && (op.contains("://") || op.starts_with("git@")) {
                        continue; // remote source
                    }
                    sources.push(CopySource { path: op.clone() });
                }
            }
            _ => {}
        }
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srcs(text: &str) -> Vec<String> {
        copy_sources(text, true).into_iter().map(|s| s.path).collect()
    }

    #[test]
    fn forms_and_flags() {
        assert_eq!(srcs("COPY a.txt b.txt /app/\n"), ["a.txt", "b.txt"]);
        assert_eq!(srcs("copy [\"./a.txt\", \"dir with space/b\", \"/app/\"]"), ["./a.txt", "dir with space/b"]);
        assert_eq!(srcs("COPY --chown=1:1 --link a /d"), ["a"]);
        assert_eq!(srcs("COPY --from=builder /x /y\nCOPY z /w"), ["z"]);
        assert_eq!(srcs("COPY x y --from=z /d"), ["x", "y", "--from=z"]);
        assert_eq!(srcs("COPY --chmod=755 [\"a\", \"/d\"]"), ["a"]);
        assert_eq!(srcs("COPY assets/*.png /a/"), ["assets/*.png"]);
        assert_eq!(srcs("ADD https://x.example/a.tgz local.tgz /d/"), ["local.tgz"]);
        assert_eq!(srcs("COPY \"unterminated /app/"), Vec::<String>::new());
    }

    #[test]
    fn continuations_comments_heredocs() {
        assert_eq!(srcs("COPY a.txt \\\n  # comment \\\n\n  b.txt /d/\n"), ["a.txt", "b.txt"]);
        assert_eq!(srcs("# comment \\\nCOPY c /d"), ["c"]);
        assert_eq!(srcs("RUN <<EOF\nCOPY not-a-source /x\nEOF\nCOPY real /y"), ["real"]);
        assert_eq!(srcs("COPY <<EOF /dst\nhello\nEOF\n"), Vec::<String>::new());
        assert_eq!(srcs("COPY <<-EOF file.txt /dst/\n\thello\n\tEOF\nCOPY z /z"), ["file.txt", "z"]);
        assert_eq!(srcs("# escape=`\nCOPY a `\n  b /d"), ["a", "b"]);
        assert_eq!(srcs("RUN a \\  \r\n  # c\r\n\r\n  b\nCOPY x \\"), Vec::<String>::new());
    }

    #[test]
    fn byte_order_mark() {
        assert_eq!(srcs("\u{feff}COPY a.txt /d/\n"), ["a.txt"]);
        assert_eq!(srcs("\u{feff}# escape=`\nCOPY a `\n  b /d"), ["a", "b"]);
    }

    #[test]
    fn variables() {
        assert_eq!(srcs("ARG SRC=app\nENV DIR=conf\nCOPY $SRC/${DIR}/x ${MISSING:-def} /d/"), ["app/conf/x", "def"]);
        assert_eq!(srcs("COPY '$HOME/x' /d"), ["$HOME/x"]);
        assert_eq!(srcs("COPY $HOME/x /d"), ["/x"]);
        assert_eq!(srcs("ENV A=1\nFROM base\nCOPY $A/x /d"), ["/x"]);
    }
}
