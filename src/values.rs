//! Conversions of loosely typed JavaScript arguments into core types, keeping the distinction
//! the official SDK's validation needs (e.g. "not a string" vs "a string").

use daytona_client::ClientError;
use daytona_client::types::{ImageSpec, ListSandboxesQuery, SnapshotRef};
use daytona_image::{PipInstallOptions, StrTree};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::UnknownReturnValue;

use crate::image::JsImage;
use crate::logs::{Batch, LogDelivery};

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

/// `resources.gpuType`: a string or an array of strings (a string becomes a one-element list).
pub fn gpu_type(resources: Option<Object>) -> Result<Option<Vec<String>>> {
    let Some(r) = resources else { return Ok(None) };
    let v: Unknown = r.get_named_property("gpuType")?;
    match v.get_type()? {
        ValueType::Undefined => Ok(None),
        ValueType::String => Ok(Some(vec![unsafe { v.cast::<String>()? }])),
        _ => Ok(string_array(&v)?),
    }
}

/// An optional property as a JSON value, exactly as the caller wrote it.
pub fn json_property(env: &Env, obj: &Object, key: &str) -> Result<Option<serde_json::Value>> {
    let v: Unknown = obj.get_named_property(key)?;
    match v.get_type()? {
        ValueType::Undefined => Ok(None),
        _ => Ok(Some(env.from_js_value(v)?)),
    }
}

/// A string, or the ISO form of a Date (`x instanceof Date ? x.toISOString() : x`).
fn date_or_string(obj: &Object, key: &str) -> Result<Option<String>> {
    let v: Unknown = obj.get_named_property(key)?;
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::Object => {
            let o: Object = unsafe { v.cast()? };
            if o.has_named_property("toISOString")? {
                let f: Function<(), String> = o.get_named_property("toISOString")?;
                return Ok(Some(f.apply(o, ())?));
            }
            Ok(Some(crate::values::js_string(&v)?))
        }
        _ => Ok(Some(crate::values::js_string(&v)?)),
    }
}

/// A string, or each element of an array.
fn string_list(obj: &Object, key: &str) -> Result<Option<Vec<String>>> {
    let v: Unknown = obj.get_named_property(key)?;
    match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::Object if v.is_array()? => {
            let a: Array = unsafe { v.cast()? };
            let mut out = Vec::new();
            for i in 0..a.len() {
                let item: Unknown = a.get(i)?.expect("index within length");
                out.push(crate::values::js_string(&item)?);
            }
            Ok(Some(out))
        }
        _ => Ok(Some(vec![crate::values::js_string(&v)?])),
    }
}

/// `daytona.list(query)`'s query object.
pub fn list_query(query: Option<Object>) -> Result<ListSandboxesQuery> {
    let Some(q) = query else { return Ok(ListSandboxesQuery::default()) };
    let labels: Unknown = q.get_named_property("labels")?;
    let labels = match labels.get_type()? {
        ValueType::Object => {
            let o: Object = unsafe { labels.cast()? };
            Some(string_record(&o)?.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect())
        }
        _ => None,
    };
    Ok(ListSandboxesQuery {
        limit: q.get(&"limit")?,
        id: q.get(&"id")?,
        name: q.get(&"name")?,
        labels,
        states: string_list(&q, "states")?,
        snapshots: string_list(&q, "snapshots")?,
        targets: string_list(&q, "targets")?,
        min_cpu: q.get(&"minCpu")?,
        max_cpu: q.get(&"maxCpu")?,
        min_memory_gib: q.get(&"minMemoryGib")?,
        max_memory_gib: q.get(&"maxMemoryGib")?,
        min_disk_gib: q.get(&"minDiskGib")?,
        max_disk_gib: q.get(&"maxDiskGib")?,
        is_public: q.get(&"isPublic")?,
        is_recoverable: q.get(&"isRecoverable")?,
        created_at_after: date_or_string(&q, "createdAtAfter")?,
        created_at_before: date_or_string(&q, "createdAtBefore")?,
        last_activity_after: date_or_string(&q, "lastActivityAfter")?,
        last_activity_before: date_or_string(&q, "lastActivityBefore")?,
        auto_destroy_at_after: date_or_string(&q, "autoDestroyAtAfter")?,
        auto_destroy_at_before: date_or_string(&q, "autoDestroyAtBefore")?,
        sort: q.get(&"sort")?,
        order: q.get(&"order")?,
    })
}

/// `image: string | Image` as the core's ImageSpec; the Image is copied, never shared.
pub fn image_spec(env: &Env, value: Unknown) -> Result<Option<ImageSpec>> {
    match value.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::String => Ok(Some(ImageSpec::Name(unsafe { value.cast::<String>()? }))),
        _ if JsImage::instance_of(env, &value)? => {
            let image = unsafe { ClassInstance::<JsImage>::from_napi_value(env.raw(), value.raw())? };
            Ok(Some(ImageSpec::Build(image.inner.clone())))
        }
        _ => Err(crate::errors::js_error(
            env,
            crate::errors::JsErrorSpec {
                class: "DaytonaInvalidArgumentError",
                message: "image must be an image reference string or an Image".into(),
                status_code: None,
                code: None,
                source: None,
                details: None,
            },
        )),
    }
}

pub fn record(obj: &Object, key: &str) -> Result<Vec<(String, String)>> {
    let value: Unknown = obj.get_named_property(key)?;
    if value.get_type()? != ValueType::Object {
        return Ok(Vec::new());
    }
    let o: Object = unsafe { value.cast()? };
    Ok(string_record(&o)?.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect())
}

/// `options` of create/snapshot.create: a number (timeout) or `{ timeout, <logs callback>,
/// onBuildEvent }`. The callbacks are called by index.js, which passes `_deliverLogs` (a
/// function of one batch of items, see `logs.rs`) beside them; the callbacks themselves tell
/// what to send. `_logBatch` (a number, for the delivery benchmark) caps the items per call.
pub fn options(options: Option<Unknown>, callback_name: &str) -> Result<(Option<f64>, Option<LogDelivery>)> {
    let Some(options) = options else { return Ok((None, None)) };
    match options.get_type()? {
        ValueType::Number => Ok((Some(unsafe { options.cast::<f64>()? }), None)),
        ValueType::Object => {
            let o: Object = unsafe { options.cast()? };
            let timeout: Option<f64> = o.get(&"timeout")?;
            let is_function = |key: &str| -> Result<bool> {
                let v: Unknown = o.get_named_property(key)?;
                Ok(v.get_type()? == ValueType::Function)
            };
            let (lines, events) = (is_function(callback_name)?, is_function("onBuildEvent")?);
            let deliver: Option<Function<Batch, UnknownReturnValue>> = o.get("_deliverLogs")?;
            let delivery = match deliver {
                Some(f) if lines || events => Some(LogDelivery {
                    callback: f.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?,
                    events,
                    batch: o.get::<f64>("_logBatch")?.filter(|n| n.is_finite() && *n >= 1.0).map_or(usize::MAX, |n| n as usize),
                }),
                _ => None,
            };
            Ok((timeout, delivery))
        }
        _ => Ok((None, None)),
    }
}

/// `snapshot.delete`/`activate`'s argument: a Snapshot object or its id or name.
pub fn snapshot_ref(snapshot: Either<String, Object>) -> Result<SnapshotRef> {
    Ok(match snapshot {
        Either::A(s) => SnapshotRef::IdOrName(s),
        Either::B(o) => SnapshotRef::Object { id: o.get::<String>(&"id")?, name: o.get::<String>(&"name")? },
    })
}

// ---------------------------------------------------------------------------------------------
// Arguments of the toolbox methods. The official methods are `async`: a bad argument rejects the
// returned Promise (never throws), so readers report it as an `ArgError::Invalid` that the method
// turns into a rejected Promise (`promise::rejected`).


/// Why an argument could not be read: a JavaScript failure while reading it (a throwing getter),
/// or a value of the wrong type (a `DaytonaInvalidArgumentError`).
pub enum ArgError {
    Js(Error),
    Invalid(ClientError),
}

impl From<Error> for ArgError {
    fn from(e: Error) -> Self {
        ArgError::Js(e)
    }
}

pub type Args<T> = std::result::Result<T, ArgError>;

fn invalid<T>(message: String) -> Args<T> {
    Err(ArgError::Invalid(ClientError::invalid(message)))
}

/// How a value is named in "(got …)": its `typeof`, with null and arrays told apart.
fn describe(value: &Unknown) -> Result<&'static str> {
    Ok(match value.get_type()? {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "boolean",
        ValueType::Number => "number",
        ValueType::BigInt => "bigint",
        ValueType::String => "string",
        ValueType::Symbol => "symbol",
        ValueType::Function => "function",
        ValueType::Object if value.is_array()? => "an array",
        _ => "object",
    })
}

/// A required string parameter. Absent: the message the official SDK's generated client gives
/// (`Required parameter sessionId was null or undefined when calling getSession.`).
pub fn required_string(value: Option<Unknown>, param: &str, api: &str) -> Args<String> {
    match present(value)? {
        None => invalid(format!("Required parameter {param} was null or undefined when calling {api}.")),
        Some(v) if v.get_type()? == ValueType::String => Ok(unsafe { v.cast::<String>()? }),
        Some(v) => invalid(format!("{param} must be a string (got {})", describe(&v)?)),
    }
}

/// A required id (of a session, command, PTY or context): a string that is not empty (an empty
/// one would address the collection instead: `GET /process/session/` lists sessions).
pub fn required_id(value: Option<Unknown>, param: &str, api: &str) -> Args<String> {
    let id = required_string(value, param, api)?;
    if id.is_empty() {
        return invalid(format!("{param} must not be empty"));
    }
    Ok(id)
}

/// An optional string (`undefined`/`null` mean absent).
pub fn optional_string(value: Option<Unknown>, what: &str) -> Args<Option<String>> {
    match present(value)? {
        None => Ok(None),
        Some(v) if v.get_type()? == ValueType::String => Ok(Some(unsafe { v.cast::<String>()? })),
        Some(v) => invalid(format!("{what} must be a string (got {})", describe(&v)?)),
    }
}

/// An optional number (`undefined`/`null` mean absent).
pub fn optional_number(value: Option<Unknown>, what: &str) -> Args<Option<f64>> {
    match present(value)? {
        None => Ok(None),
        Some(v) if v.get_type()? == ValueType::Number => Ok(Some(unsafe { v.cast::<f64>()? })),
        Some(v) => invalid(format!("{what} must be a number (got {})", describe(&v)?)),
    }
}

/// A required number.
pub fn required_number(value: Option<Unknown>, what: &str) -> Args<f64> {
    match optional_number(value, what)? {
        Some(n) => Ok(n),
        None => invalid(format!("{what} is required: a number")),
    }
}

/// An optional boolean (`undefined`/`null` mean absent).
pub fn optional_bool(value: Option<Unknown>, what: &str) -> Args<Option<bool>> {
    match present(value)? {
        None => Ok(None),
        Some(v) if v.get_type()? == ValueType::Boolean => Ok(Some(unsafe { v.cast::<bool>()? })),
        Some(v) => invalid(format!("{what} must be a boolean (got {})", describe(&v)?)),
    }
}

/// An optional terminal size (`cols`/`rows`): an integer from 1 to 65535.
pub fn optional_dimension(value: Option<Unknown>, what: &str) -> Args<Option<u16>> {
    match optional_number(value, what)? {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && (1.0..=65535.0).contains(&n) => Ok(Some(n as u16)),
        Some(n) => invalid(format!("{what} must be an integer from 1 to 65535 (got {n})")),
    }
}

/// An optional options object (`undefined`/`null` mean absent).
pub fn optional_object<'a>(value: Option<Unknown<'a>>, what: &str) -> Args<Option<Object<'a>>> {
    match present(value)? {
        None => Ok(None),
        Some(v) if v.get_type()? == ValueType::Object && !v.is_array()? => Ok(Some(unsafe { v.cast::<Object>()? })),
        Some(v) => invalid(format!("{what} must be an object (got {})", describe(&v)?)),
    }
}

/// A property of an options object, as an argument of its own.
pub fn property<'a>(obj: &Object<'a>, key: &str) -> Result<Option<Unknown<'a>>> {
    Ok(Some(obj.get_named_property::<Unknown>(key)?))
}

/// An optional array of strings (`argv`).
pub fn optional_string_array(value: Option<Unknown>, what: &str) -> Args<Option<Vec<String>>> {
    let Some(v) = present(value)? else { return Ok(None) };
    match string_array(&v)? {
        Some(items) => Ok(Some(items)),
        None if v.get_type()? == ValueType::Object && v.is_array()? => invalid(format!("{what} must be an array of strings (an element is not a string)")),
        None => invalid(format!("{what} must be an array of strings (got {})", describe(&v)?)),
    }
}

/// An optional record of strings (`env`, `envs`): every value must be a string.
pub fn optional_string_record(value: Option<Unknown>, what: &str) -> Args<Option<Vec<(String, String)>>> {
    let Some(obj) = optional_object(value, what)? else { return Ok(None) };
    let mut out = Vec::new();
    for (k, v) in string_record(&obj)? {
        match v {
            Some(v) => out.push((k, v)),
            None => {
                let raw: Unknown = obj.get_named_property(&k)?;
                return invalid(format!("{what}.{k} must be a string (got {})", describe(&raw)?));
            }
        }
    }
    Ok(Some(out))
}
