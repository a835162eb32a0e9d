//! Conversions of loosely typed JavaScript arguments into core types, keeping the distinction
//! the official SDK's validation needs (e.g. "not a string" vs "a string").

use daytona_image::{PipInstallOptions, StrTree};
use napi::bindgen_prelude::*;

/// A `pipInstall` packages argument: strings and nested arrays of strings; anything else is
/// `Other` (rejected by the core with the official message).
pub fn str_tree(value: &Unknown) -> Result<StrTree> {
    match value.get_type()? {
        ValueType::String => Ok(StrTree::Str(unsafe { value.cast::<String>()? })),
        ValueType::Object if value.is_array()? => {
            let array: Array = unsafe { value.cast()? };
            let mut items = Vec::with_capacity(array.len() as usize);
            for i in 0..array.len() {
                let item: Unknown = array.get(i)?.expect("index within length");
                items.push(str_tree(&item)?);
            }
            Ok(StrTree::List(items))
        }
        _ => Ok(StrTree::Other),
    }
}

/// An array whose elements are all strings, or `None` for anything else.
pub fn string_array(value: &Unknown) -> Result<Option<Vec<String>>> {
    if value.get_type()? != ValueType::Object || !value.is_array()? {
        return Ok(None);
    }
    let array: Array = unsafe { value.cast()? };
    let mut out = Vec::with_capacity(array.len() as usize);
    for i in 0..array.len() {
        let item: Unknown = array.get(i)?.expect("index within length");
        if item.get_type()? != ValueType::String {
            return Ok(None);
        }
        out.push(unsafe { item.cast::<String>()? });
    }
    Ok(Some(out))
}

/// `Object.entries(record)` with non-string values marked `None`.
pub fn string_record(record: &Object) -> Result<Vec<(String, Option<String>)>> {
    let keys = record.get_all_property_names(
        KeyCollectionMode::OwnOnly,
        KeyFilter::Enumerable,
        KeyConversion::NumbersToStrings,
    )?;
    let keys: Array = unsafe { Array::from_napi_value(keys.value().env, keys.raw())? };
    let mut out = Vec::with_capacity(keys.len() as usize);
    for i in 0..keys.len() {
        let key: Unknown = keys.get(i)?.expect("index within length");
        if key.get_type()? != ValueType::String {
            continue; // symbol keys are not part of Object.entries
        }
        let key: String = unsafe { key.cast()? };
        let value: Unknown = record.get_named_property(&key)?;
        let value = if value.get_type()? == ValueType::String { Some(unsafe { value.cast::<String>()? }) } else { None };
        out.push((key, value));
    }
    Ok(out)
}

/// JavaScript truthiness (`!!value`).
pub fn truthy(value: &Unknown) -> Result<bool> {
    value.coerce_to_bool()
}

/// `String(value)` / `${value}`, as a template literal in the official SDK prints it.
pub fn js_string(value: &Unknown) -> Result<String> {
    if value.get_type()? == ValueType::String {
        return unsafe { value.cast::<String>() };
    }
    value.coerce_to_string()?.into_utf8()?.into_owned()
}

/// An optional argument that is absent, `undefined` or `null`.
fn present<'a>(value: Option<Unknown<'a>>) -> Result<Option<Unknown<'a>>> {
    match value {
        Some(v) if !matches!(v.get_type()?, ValueType::Undefined | ValueType::Null) => Ok(Some(v)),
        _ => Ok(None),
    }
}

/// `debianSlim`'s version: `None` when falsy (the default series), otherwise the string, or
/// `Err(text)` for a truthy non-string (never a supported series; `text` is how JS prints it).
pub fn python_version(value: Option<Unknown>) -> Result<std::result::Result<Option<String>, String>> {
    let Some(v) = present(value)? else { return Ok(Ok(None)) };
    if !truthy(&v)? {
        return Ok(Ok(None));
    }
    if v.get_type()? == ValueType::String {
        return Ok(Ok(Some(js_string(&v)?)));
    }
    Ok(Err(js_string(&v)?))
}

/// A list option iterated with `for...of`: an array (elements printed as strings) or a string
/// (its code points); falsy means absent.
fn iterable_strings(value: Unknown) -> Result<Option<Vec<String>>> {
    if !truthy(&value)? {
        return Ok(None);
    }
    if value.get_type()? == ValueType::String {
        return Ok(Some(js_string(&value)?.chars().map(String::from).collect()));
    }
    if value.get_type()? == ValueType::Object && value.is_array()? {
        let array: Array = unsafe { value.cast()? };
        let mut out = Vec::with_capacity(array.len() as usize);
        for i in 0..array.len() {
            let item: Unknown = array.get(i)?.expect("index within length");
            out.push(js_string(&item)?);
        }
        return Ok(Some(out));
    }
    Err(Error::new(Status::InvalidArg, "pip install options: a list option must be an array of strings"))
}

/// The pip options object of `pipInstall`/`pipInstallFromRequirements`/`pipInstallFromPyproject`,
/// read with the official SDK's truthiness checks, plus `optionalDependencies`.
pub struct PipArgs {
    pub options: Option<PipInstallOptions>,
    pub optional_dependencies: Option<Vec<String>>,
}

pub fn pip_args(value: Option<Unknown>) -> Result<PipArgs> {
    let Some(value) = present(value)? else { return Ok(PipArgs { options: None, optional_dependencies: None }) };
    if !truthy(&value)? || value.get_type()? != ValueType::Object {
        // `if (!options) return ''`; a truthy primitive has none of the option properties
        return Ok(PipArgs { options: if truthy(&value)? { Some(PipInstallOptions::default()) } else { None }, optional_dependencies: None });
    }
    let obj: Object = unsafe { value.cast()? };
    let field = |name: &str| -> Result<Unknown> { obj.get_named_property::<Unknown>(name) };
    let index_url = field("indexUrl")?;
    let index_url = if truthy(&index_url)? { Some(js_string(&index_url)?) } else { None };
    let extra = field("extraOptions")?;
    let extra_options = if !truthy(&extra)? {
        None
    } else if extra.get_type()? == ValueType::String {
        Some(js_string(&extra)?)
    } else {
        return Err(Error::new(Status::InvalidArg, "options.extraOptions.trim is not a function"));
    };
    let options = PipInstallOptions {
        find_links: iterable_strings(field("findLinks")?)?,
        index_url,
        extra_index_urls: iterable_strings(field("extraIndexUrls")?)?,
        pre: truthy(&field("pre")?)?,
        extra_options,
    };
    Ok(PipArgs { options: Some(options), optional_dependencies: iterable_strings(field("optionalDependencies")?)? })
}

/// Throws a JavaScript `TypeError` (what the official SDK's code throws when it calls a method
/// the value does not have) and returns the error that tells napi an exception is pending.
pub fn type_error(env: &Env, message: &str) -> Error {
    match env.throw_type_error(message, None) {
        Ok(()) => Error::from_status(Status::PendingException),
        Err(e) => e,
    }
}

/// `options?.strictContext`, by JavaScript truthiness.
pub fn strict_context(options: Option<Unknown>) -> Result<bool> {
    let Some(options) = present(options)? else { return Ok(false) };
    if !matches!(options.get_type()?, ValueType::Object | ValueType::Function) {
        return Ok(false);
    }
    let obj: Object = unsafe { options.cast()? };
    truthy(&obj.get_named_property::<Unknown>("strictContext")?)
}

/// One element of `array.join(sep)`: `null`/`undefined` become empty, anything else `String(x)`.
pub fn join_element(value: &Unknown) -> Result<String> {
    match value.get_type()? {
        ValueType::Null | ValueType::Undefined => Ok(String::new()),
        _ => js_string(value),
    }
}

/// V8's message for `c.replace(...)` on the first non-string element of `array`.
pub fn replace_type_error(array: &Unknown) -> Result<String> {
    let array: Array = unsafe { array.cast()? };
    for i in 0..array.len() {
        let item: Unknown = array.get(i)?.expect("index within length");
        match item.get_type()? {
            ValueType::String => continue,
            ValueType::Null => return Ok("Cannot read properties of null (reading 'replace')".into()),
            ValueType::Undefined => return Ok("Cannot read properties of undefined (reading 'replace')".into()),
            _ => return Ok("c.replace is not a function".into()),
        }
    }
    Ok("c.replace is not a function".into())
}
