//! Dependencies of a pyproject.toml, selected as the official SDK selects them (JavaScript
//! truthiness of the parsed TOML values included).

use crate::error::{Result, invalid};
use crate::image::StrTree;

fn tree(v: &toml::Value) -> StrTree {
    match v {
        toml::Value::String(s) => StrTree::Str(s.clone()),
        toml::Value::Array(items) => StrTree::List(items.iter().map(tree).collect()),
        _ => StrTree::Other,
    }
}

/// JavaScript truthiness of a parsed TOML value (tables, arrays and dates are objects).
fn truthy(v: &toml::Value) -> bool {
    match v {
        toml::Value::String(s) => !s.is_empty(),
        toml::Value::Integer(i) => *i != 0,
        toml::Value::Float(f) => *f != 0.0 && !f.is_nan(),
        toml::Value::Boolean(b) => *b,
        _ => true,
    }
}

/// The type name @iarna/toml gives a value in its "Inline lists must be a single type" check
/// (non-finite floats are plain JavaScript numbers there, hence "number").
fn iarna_type(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "string",
        toml::Value::Integer(_) => "integer",
        toml::Value::Float(f) if f.is_finite() => "float",
        toml::Value::Float(_) => "number",
        toml::Value::Boolean(_) => "boolean",
        toml::Value::Datetime(_) => "datetime",
        toml::Value::Array(_) => "inline-list",
        toml::Value::Table(_) => "inline-table",
    }
}

/// TOML 0.5 (which @iarna/toml implements) requires the elements of an array to share one type;
/// TOML 1.0 (the toml crate) does not. Reports the first mixed array as @iarna/toml words it
/// (without its position excerpt).
fn check_homogeneous(v: &toml::Value) -> std::result::Result<(), String> {
    match v {
        toml::Value::Array(items) => {
            if let Some(first) = items.first() {
                let list_type = iarna_type(first);
                if let Some(other) = items.iter().map(iarna_type).find(|t| *t != list_type) {
                    return Err(format!("Inline lists must be a single type, not a mix of {list_type} and {other}"));
                }
            }
            items.iter().try_for_each(check_homogeneous)
        }
        toml::Value::Table(t) => t.values().try_for_each(check_homogeneous),
        _ => Ok(()),
    }
}

pub(crate) fn dependencies(text: &str, arg: &str, optional: Option<&[String]>) -> Result<Vec<StrTree>> {
    // Node keeps a byte order mark when decoding the file and @iarna/toml rejects it.
    if text.starts_with('\u{feff}') {
        return Err(invalid(format!("Invalid pyproject.toml file {arg}: Unknown character \"65279\" at row 1, col 2, pos 1")));
    }
    let data: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(format!("Invalid pyproject.toml file {arg}: {}", e.message())))?;
    data.values()
        .try_for_each(check_homogeneous)
        .map_err(|m| invalid(format!("Invalid pyproject.toml file {arg}: {m}")))?;
    let deps = data.get("project").and_then(|p| p.as_table()).and_then(|p| p.get("dependencies"));
    let Some(toml::Value::Array(deps)) = deps else {
        return Err(invalid(
            "No [project.dependencies] section in pyproject.toml file. \
             See https://packaging.python.org/en/latest/guides/writing-pyproject-toml \
             for further file format guidelines.",
        ));
    };
    let mut out: Vec<StrTree> = deps.iter().map(tree).collect();
    let project = data["project"].as_table().expect("checked above");
    if let (Some(groups), Some(opt)) = (optional, project.get("optional-dependencies"))
        && truthy(opt)
    {
        let table = match opt {
            toml::Value::Table(t) => Some(t),
            toml::Value::Datetime(_) => None, // an object without group keys
            _ => return Err(invalid("optional-dependencies must be a mapping in pyproject.toml")),
        };
        for group in groups {
            if let Some(toml::Value::Array(items)) = table.and_then(|t| t.get(group)) {
                out.extend(items.iter().map(tree));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(text: &str, optional: Option<&[String]>) -> Result<Vec<StrTree>> {
        dependencies(text, "p.toml", optional)
    }

    #[test]
    fn mixed_arrays_are_parse_errors_as_in_toml_0_5() {
        let err = deps("[project]\ndependencies = [\"a\", 1]\n", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid pyproject.toml file p.toml: Inline lists must be a single type, not a mix of string and integer"
        );
        let err = deps("[project]\ndependencies = []\n[x]\ny = [[1], {a = 1}]\n", None).unwrap_err();
        assert!(err.to_string().ends_with("not a mix of inline-list and inline-table"), "{err}");
        let err = deps("[project]\ndependencies = []\nz = [inf, 1]\n", None).unwrap_err();
        assert!(err.to_string().ends_with("not a mix of number and integer"), "{err}");
        // arrays of arrays of different element types are fine in TOML 0.5
        assert_eq!(
            deps("[project]\ndependencies = [[\"b\"], [\"a\"]]\n", None).unwrap(),
            [StrTree::List(vec![StrTree::Str("b".into())]), StrTree::List(vec![StrTree::Str("a".into())])]
        );
        // non-string but homogeneous dependencies reach pipInstall (which rejects them)
        assert_eq!(deps("[project]\ndependencies = [1, 2]\n", None).unwrap(), [StrTree::Other, StrTree::Other]);
    }

    #[test]
    fn byte_order_mark_is_rejected_as_by_iarna_toml() {
        let err = deps("\u{feff}[project]\ndependencies = [\"a\"]\n", None).unwrap_err();
        assert!(err.to_string().starts_with("Invalid pyproject.toml file p.toml: Unknown character \"65279\""), "{err}");
    }

    #[test]
    fn optional_dependencies_truthiness() {
        let groups = ["dev".to_string()];
        let with = |opt: &str| deps(&format!("[project]\ndependencies = [\"a\"]\noptional-dependencies = {opt}\n"), Some(&groups));
        assert!(with("\"\"").is_ok());
        assert!(with("0").is_ok());
        assert!(with("false").is_ok());
        assert!(with("1979-05-27").is_ok());
        assert_eq!(with("\"x\"").unwrap_err().to_string(), "optional-dependencies must be a mapping in pyproject.toml");
        assert_eq!(with("[\"dev\"]").unwrap_err().to_string(), "optional-dependencies must be a mapping in pyproject.toml");
        assert_eq!(with("{ dev = [\"b\"] }").unwrap().len(), 2);
    }
}
