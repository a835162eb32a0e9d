//! Conversions of loosely typed JavaScript arguments into core types, keeping the distinction
//! the official SDK's validation needs (e.g. "not a string" vs "a string").

use daytona_image::StrTree;
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
