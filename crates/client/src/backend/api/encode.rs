//! URL encodings of the official SDK's generated client: path parameters through
//! `encodeURIComponent`, query strings through `URLSearchParams` (form encoding).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What `encodeURIComponent` escapes: everything but ASCII alphanumerics and `-_.!~*'()`.
pub(super) const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// `encodeURIComponent(s)`.
pub fn path_segment(s: &str) -> String {
    utf8_percent_encode(s, URI_COMPONENT).to_string()
}

/// One `application/x-www-form-urlencoded` component as `URLSearchParams.toString()` writes it
/// (the WHATWG urlencoded serializer, which `form_urlencoded` implements).
pub fn form_component(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
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

    #[test]
    fn every_byte_as_the_javascript_functions_encode_it() {
        // encodeURIComponent / URLSearchParams on every printable ASCII byte and a few others.
        let all: String = (0x20u8..0x7f).map(char::from).chain("é✓\u{1F600}".chars()).collect();
        assert_eq!(
            path_segment(&all),
            "%20!%22%23%24%25%26'()*%2B%2C-.%2F0123456789%3A%3B%3C%3D%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D~%C3%A9%E2%9C%93%F0%9F%98%80"
        );
        assert_eq!(
            form_component(&all),
            "+%21%22%23%24%25%26%27%28%29*%2B%2C-.%2F0123456789%3A%3B%3C%3D%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D%7E%C3%A9%E2%9C%93%F0%9F%98%80"
        );
    }
}
