//! URL encodings of the official SDK's generated client: path parameters through
//! `encodeURIComponent`, query strings through `URLSearchParams` (form encoding).

/// `encodeURIComponent(s)`.
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One `application/x-www-form-urlencoded` component as `URLSearchParams.toString()` writes it.
pub fn form_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query string (without `?`) from ordered pairs; repeated keys stay repeated.
pub fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_component(k), form_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_generated_client() {
        assert_eq!(path_segment("my sandbox/ä?"), "my%20sandbox%2F%C3%A4%3F");
        assert_eq!(path_segment("a-b_c.d!~*'()"), "a-b_c.d!~*'()");
        let q = query_string(&[
            ("limit".into(), "10".into()),
            ("labels".into(), r#"{"a":"b"}"#.into()),
            ("states".into(), "started".into()),
            ("states".into(), "stopped".into()),
            ("name".into(), "a b~".into()),
        ]);
        assert_eq!(q, "limit=10&labels=%7B%22a%22%3A%22b%22%7D&states=started&states=stopped&name=a+b%7E");
    }
}
