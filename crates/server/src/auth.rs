//! The API key: generated when none is given, required on every API and toolbox request
//! (`Authorization: Bearer <key>`), compared in constant time.

use hyper::HeaderMap;

/// A fresh key: 256 random bits (two v4 UUIDs' random parts), hex.
pub fn generate_key() -> String {
    format!("dtn_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Equality whose time depends on the lengths only, not on where the inputs differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn authorized(key: &str, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) else { return false };
    constant_time_eq(token.trim().as_bytes(), key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        let k = generate_key();
        assert_eq!(k.len(), 4 + 64);
        let mut h = HeaderMap::new();
        assert!(!authorized(&k, &h));
        h.insert(hyper::header::AUTHORIZATION, format!("Bearer {k}").parse().unwrap());
        assert!(authorized(&k, &h));
        h.insert(hyper::header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert!(!authorized(&k, &h));
    }
}
