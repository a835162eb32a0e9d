//! JSON exactly as JavaScript's `JSON.stringify` writes it: object keys in insertion order
//! (serde_json's `preserve_order`), no whitespace, numbers in JavaScript's shortest form
//! (`2`, not `2.0`; `1e+21`), the same string escapes. Request bodies and the messages built from
//! error bodies go through here, so they match the official SDK byte for byte.

use serde_json::{Map, Value};

/// `String(n)` / `JSON.stringify(n)` for a finite number (non-finite numbers are `null` in JSON).
pub fn js_number(n: f64) -> String {
    if !n.is_finite() {
        return "null".into();
    }
    if n == 0.0 {
        return "0".into();
    }
    let abs = n.abs();
    if (1e-6..1e21).contains(&abs) {
        // Rust's Display is the shortest round-trip representation without an exponent.
        return format!("{n}");
    }
    // Exponent form: Rust's `{:e}` is the shortest round-trip mantissa (`1e21`, `1.5e-7`);
    // JavaScript writes the exponent with a sign (`1e+21`, `1.5e-7`).
    let s = format!("{n:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => s,
    }
}

/// An object from ordered string pairs (a JS record as the glue read it).
pub fn record(pairs: &[(String, String)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.clone(), Value::String(v.clone()));
    }
    Value::Object(m)
}

/// `JSON.stringify(value)`.
pub fn stringify(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&js_number(u as f64));
            } else {
                out.push_str(&js_number(n.as_f64().unwrap_or(f64::NAN)));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write(v, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `JSON.parse` as axios applies it to a response body: the parsed value, or the text itself
/// when it is not JSON (axios' silent JSON parsing). An empty body stays `""`.
pub fn parse_lenient(body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body);
    if text.is_empty() {
        return Value::String(String::new());
    }
    // JSON.parse accepts surrounding JSON whitespace, as serde_json does.
    serde_json::from_str::<Value>(&text).unwrap_or_else(|_| Value::String(text.into_owned()))
}

/// JavaScript truthiness of a parsed JSON value.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(js_number(2.0), "2");
        assert_eq!(js_number(-0.0), "0");
        assert_eq!(js_number(0.5), "0.5");
        assert_eq!(js_number(60000.0), "60000");
        assert_eq!(js_number(0.1 * 3.0), "0.30000000000000004");
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(1.5e-7), "1.5e-7");
        assert_eq!(js_number(123456789012345680000.0), "123456789012345680000");
        // Serialised f64 values (serde writes 4.0) print as JavaScript numbers.
        assert_eq!(stringify(&json!(4.0)), "4");
        assert_eq!(stringify(&json!(2.5)), "2.5");
    }

    #[test]
    fn stringify_keeps_insertion_order_and_escapes_like_js() {
        let mut m = Map::new();
        m.insert("b".into(), json!(1));
        m.insert("a".into(), json!("x\"y\\z\n\u{1}é"));
        m.insert("c".into(), json!([true, null, 1.5]));
        assert_eq!(stringify(&Value::Object(m)), r#"{"b":1,"a":"x\"y\\z\n\u0001é","c":[true,null,1.5]}"#);
        let parsed = parse_lenient(br#"{"z":2.0,"a":[1]}"#);
        assert_eq!(stringify(&parsed), r#"{"z":2,"a":[1]}"#);
    }

    #[test]
    fn lenient_parse_keeps_non_json_text() {
        assert_eq!(parse_lenient(b"not json"), json!("not json"));
        assert_eq!(parse_lenient(b""), json!(""));
        assert_eq!(parse_lenient(b" \"s\" "), json!("s"));
        assert!(!truthy(&json!(0)));
        assert!(truthy(&json!([])));
        assert!(!truthy(&json!("")));
    }
}
