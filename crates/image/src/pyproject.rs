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

pub(crate) fn dependencies(text: &str, arg: &str, optional: Option<&[String]>) -> Result<Vec<StrTree>> {
    let data: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(format!("Invalid pyproject.toml file {arg}: {}", e.message())))?;
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
    if let (Some(groups), Some(opt)) = (optional, project.get("optional-dependencies")) {
        if truthy(opt) {
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
    }
    Ok(out)
}
