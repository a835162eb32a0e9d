//! `quote()` of shell-quote 1.12.0, as the official SDK uses it for pip packages, pip URLs, ENV
//! values and WORKDIR. Output must match byte for byte, so the rules (and JavaScript's `\s`)
//! are reproduced exactly rather than "improved".

/// JavaScript's `\s`: ECMAScript WhiteSpace plus LineTerminator.
pub(crate) fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

fn is_special(c: char) -> bool {
    matches!(
        c,
        '#' | '!' | '"' | '$' | '&' | '\'' | '(' | ')' | '*' | ',' | ':' | ';' | '<' | '=' | '>'
            | '?' | '@' | '[' | '\\' | ']' | '^' | '`' | '{' | '|' | '}' | '~'
    )
}

/// Quotes one word.
pub fn quote_word(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let has_single = s.contains('\'');
    if has_single && s.contains('!') {
        return format!("'{}'", s.replace('\'', "'\"'\"'"));
    }
    if s.chars().any(|c| c == '"' || c == '\\' || is_js_space(c)) && !has_single {
        return format!("'{s}'");
    }
    if s.chars().any(|c| c == '"' || c == '\'' || is_js_space(c)) {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        for c in s.chars() {
            if matches!(c, '"' | '\\' | '$' | '`') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        return out;
    }
    // /([A-Za-z]:)?([special])/g: a drive-letter colon directly before a special character is
    // kept as is; every other special character gets a backslash.
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic()
            && chars.get(i + 1) == Some(&':')
            && chars.get(i + 2).is_some_and(|&n| is_special(n))
        {
            out.push(c);
            out.push(':');
            out.push('\\');
            out.push(chars[i + 2]);
            i += 3;
        } else if is_special(c) {
            out.push('\\');
            out.push(c);
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Quotes each word and joins them with one space.
pub fn quote<S: AsRef<str>>(words: &[S]) -> String {
    words.iter().map(|w| quote_word(w.as_ref())).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::quote_word;

    #[test]
    fn reference_table() {
        let cases = [
            ("numpy>=1.0", "numpy\\>\\=1.0"),
            ("https://i.example/simple", "https\\://i.example/simple"),
            ("a b", "'a b'"),
            ("it's", "\"it's\""),
            ("it's!", "'it'\"'\"'s!'"),
            ("say \"hi\"", "'say \"hi\"'"),
            ("C:\\x", "'C:\\x'"),
            ("~/x", "\\~/x"),
            ("a$b", "a\\$b"),
            ("pkg[extra]", "pkg\\[extra\\]"),
            ("a=b", "a\\=b"),
            ("a'b\"c", "\"a'b\\\"c\""),
            ("", "''"),
            ("new\nline", "'new\nline'"),
            ("a::", "a:\\:"),
            ("x\u{3000}y", "'x\u{3000}y'"),
        ];
        for (input, expected) in cases {
            assert_eq!(quote_word(input), expected, "input {input:?}");
        }
    }
}
