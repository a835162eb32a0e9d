//! Maps core errors to the JavaScript error classes defined in `index.js`. The classes are
//! registered once per JS thread at load time, so errors thrown from Rust are real instances
//! of `DaytonaError` subclasses (with `statusCode`, `code`, `source`).

use std::cell::RefCell;
use std::collections::HashMap;

use daytona_client::ErrorKind;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// `new C(message, statusCode, headers, code, source)`; absent fields are `undefined` (not
/// `null`), as in the official SDK.
type CtorArgs = FnArgs<(String, Either<u32, Undefined>, Undefined, Either<String, Undefined>, Either<String, Undefined>)>;
type ErrorCtor = FunctionRef<CtorArgs, Unknown<'static>>;

fn opt<T>(v: Option<T>) -> Either<T, Undefined> {
    v.map_or(Either::B(()), Either::A)
}

thread_local! {
    static CLASSES: RefCell<HashMap<String, ErrorCtor>> = RefCell::new(HashMap::new());
}

/// Called by index.js for each error class it defines.
#[napi]
pub fn register_error_class(
    name: String,
    ctor: Function<CtorArgs, Unknown<'static>>,
) -> Result<()> {
    let r = ctor.create_ref()?;
    CLASSES.with(|c| c.borrow_mut().insert(name, r));
    Ok(())
}

/// The one table from core error kinds to the JavaScript classes of `errors.js` (the official
/// SDK's hierarchy, reference §4, plus this package's `DaytonaBuildError`).
/// `__test__/error-classes.test.js` checks that it covers every kind and names official classes.
pub fn class_name(kind: ErrorKind) -> &'static str {
    use ErrorKind::*;
    match kind {
        Generic => "DaytonaError",
        InvalidArgument => "DaytonaInvalidArgumentError",
        NotFound => "DaytonaNotFoundError",
        Authentication => "DaytonaAuthenticationError",
        Timeout => "DaytonaTimeoutError",
        Conflict => "DaytonaConflictError",
        Connection => "DaytonaConnectionError",
        ConnectionTimeout => "DaytonaConnectionTimeoutError",
        Build => "DaytonaBuildError",
        ProcessExecutionTimeout => "DaytonaProcessExecutionTimeoutError",
        FileNotFound => "DaytonaFileNotFoundError",
        BadRequest => "DaytonaBadRequestError",
        Validation => "DaytonaValidationError",
        Forbidden => "DaytonaForbiddenError",
        Authorization => "DaytonaAuthorizationError",
        Gone => "DaytonaGoneError",
        UnprocessableEntity => "DaytonaUnprocessableEntityError",
        RateLimit => "DaytonaRateLimitError",
        InternalServer => "DaytonaInternalServerError",
        BadGateway => "DaytonaBadGatewayError",
        ServiceUnavailable => "DaytonaServiceUnavailableError",
        GitAuthFailed => "DaytonaGitAuthFailedError",
        GitRepoNotFound => "DaytonaGitRepoNotFoundError",
        GitBranchNotFound => "DaytonaGitBranchNotFoundError",
        GitBranchExists => "DaytonaGitBranchExistsError",
        GitPushRejected => "DaytonaGitPushRejectedError",
        GitDirtyWorktree => "DaytonaGitDirtyWorktreeError",
        GitMergeConflict => "DaytonaGitMergeConflictError",
        GitTransportFailed => "DaytonaGitTransportFailedError",
        GitRemoteRejected => "DaytonaGitRemoteRejectedError",
        FileAccessDenied => "DaytonaFileAccessDeniedError",
        InvalidFilePath => "DaytonaInvalidFilePathError",
        FileReadFailed => "DaytonaFileReadFailedError",
        LspServerNotInitialized => "DaytonaLspServerNotInitializedError",
        ProcessNotFound => "DaytonaProcessNotFoundError",
        SessionEnded => "DaytonaSessionEndedError",
        CommandAlreadyCompleted => "DaytonaCommandAlreadyCompletedError",
        A11yUnavailable => "DaytonaA11yUnavailableError",
        RecordingStillActive => "DaytonaRecordingStillActiveError",
        // Never reaches users as is: index.js rejects an aborted call with `signal.reason`.
        Aborted => "DaytonaError",
        RecordingFfmpegNotFound => "DaytonaRecordingFfmpegNotFoundError",
    }
}

/// What the glue needs to build a JS error: the class name and its fields.
pub struct JsErrorSpec {
    pub class: &'static str,
    pub message: String,
    pub status_code: Option<u32>,
    pub code: Option<String>,
    pub source: Option<String>,
    /// Extra fields set on the error object (e.g. a failed build's `step`, `exitCode`).
    pub details: Option<serde_json::Value>,
}

/// Builds an instance of the registered class; falls back to a plain Error if index.js did not
/// register it (e.g. the binding is loaded directly).
pub fn js_error(env: &Env, spec: JsErrorSpec) -> Error {
    let made = CLASSES.with(|c| -> Option<Result<Error>> {
        let classes = c.borrow();
        let ctor = classes.get(spec.class).or_else(|| classes.get("DaytonaError"))?;
        Some((|| {
            let f = ctor.borrow_back(env)?;
            let obj = f.new_instance(FnArgs::from((
                spec.message.clone(),
                opt(spec.status_code),
                (),
                opt(spec.code.clone()),
                opt(spec.source.clone()),
            )))?;
            if let Some(serde_json::Value::Object(fields)) = &spec.details {
                let mut obj_as_object = Object::from_unknown(obj)?;
                for (k, v) in fields {
                    obj_as_object.set_named_property(k, env.to_js_value(v)?)?;
                }
            }
            Ok(Error::from(obj))
        })())
    });
    match made {
        Some(Ok(e)) => e,
        _ => Error::new(Status::GenericFailure, spec.message),
    }
}

impl From<&daytona_image::ImageError> for JsErrorSpec {
    fn from(e: &daytona_image::ImageError) -> Self {
        let class = class_name(match e {
            daytona_image::ImageError::InvalidArgument(_) => ErrorKind::InvalidArgument,
            daytona_image::ImageError::NotFound(_) => ErrorKind::NotFound,
        });
        JsErrorSpec { class, message: e.to_string(), status_code: None, code: None, source: None, details: None }
    }
}

/// Converts a core result into a napi result, throwing the mapped JS error class.
pub fn throw<T, E>(env: &Env, r: std::result::Result<T, E>) -> Result<T>
where
    for<'a> &'a E: Into<JsErrorSpec>,
{
    r.map_err(|e| js_error(env, (&e).into()))
}

impl From<&daytona_client::ClientError> for JsErrorSpec {
    fn from(e: &daytona_client::ClientError) -> Self {
        // `headers` travels as an extra field (set after construction), like build details.
        let details = match (e.details.as_deref(), &e.headers) {
            (details, None) => details.cloned(),
            (details, Some(headers)) => {
                let mut fields = match details {
                    Some(serde_json::Value::Object(m)) => m.clone(),
                    _ => serde_json::Map::new(),
                };
                let h: serde_json::Map<String, serde_json::Value> =
                    headers.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
                fields.insert("headers".into(), serde_json::Value::Object(h));
                Some(serde_json::Value::Object(fields))
            }
        };
        JsErrorSpec {
            class: class_name(e.kind),
            message: e.message.clone(),
            status_code: e.status_code.map(u32::from),
            code: e.code.clone(),
            source: e.source.clone(),
            details,
        }
    }
}
