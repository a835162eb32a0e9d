//! The official SDK's error translation (`createAxiosDaytonaError`, reference §4): the class
//! from (source, code) first, then the HTTP status, then the base class; the message from the
//! response body in the official order; client-side timeouts and transport failures as
//! `DaytonaConnectionTimeoutError` / `DaytonaConnectionError`.

use serde_json::Value;

use super::json::{parse_lenient, stringify, truthy};
use crate::error::{ClientError, ErrorKind};

/// The 21 daemon codes with their own class (`DAYTONA_DAEMON|<code>`).
pub fn daemon_kind(code: &str) -> Option<ErrorKind> {
    use ErrorKind::*;
    Some(match code {
        "GIT_AUTH_FAILED" => GitAuthFailed,
        "GIT_REPO_NOT_FOUND" => GitRepoNotFound,
        "GIT_BRANCH_NOT_FOUND" => GitBranchNotFound,
        "GIT_BRANCH_EXISTS" => GitBranchExists,
        "GIT_PUSH_REJECTED" => GitPushRejected,
        "GIT_DIRTY_WORKTREE" => GitDirtyWorktree,
        "GIT_MERGE_CONFLICT" => GitMergeConflict,
        "GIT_TRANSPORT_FAILED" => GitTransportFailed,
        "GIT_REMOTE_REJECTED" => GitRemoteRejected,
        "FILE_NOT_FOUND" => FileNotFound,
        "FILE_ACCESS_DENIED" => FileAccessDenied,
        "INVALID_FILE_PATH" => InvalidFilePath,
        "FILE_READ_FAILED" => FileReadFailed,
        "LSP_SERVER_NOT_INITIALIZED" => LspServerNotInitialized,
        "PROCESS_EXECUTION_TIMEOUT" => ProcessExecutionTimeout,
        "PROCESS_NOT_FOUND" => ProcessNotFound,
        "SESSION_ENDED" => SessionEnded,
        "COMMAND_ALREADY_COMPLETED" => CommandAlreadyCompleted,
        "A11Y_UNAVAILABLE" => A11yUnavailable,
        "RECORDING_STILL_ACTIVE" => RecordingStillActive,
        "RECORDING_FFMPEG_NOT_FOUND" => RecordingFfmpegNotFound,
        _ => return None,
    })
}

/// The class thrown for an HTTP status (`STATUS_CODE_TO_ERROR`).
pub fn status_kind(status: Option<u16>) -> ErrorKind {
    use ErrorKind::*;
    match status {
        Some(400) => Validation,
        Some(401) => Authentication,
        Some(403) => Authorization,
        Some(404) => NotFound,
        Some(408) | Some(504) => Timeout,
        Some(409) => Conflict,
        Some(410) => Gone,
        Some(422) => UnprocessableEntity,
        Some(429) => RateLimit,
        Some(500) => InternalServer,
        Some(502) => BadGateway,
        Some(503) => ServiceUnavailable,
        _ => Generic,
    }
}

/// `createDaytonaError(message, statusCode, headers, code, source)`.
pub fn create_error(
    message: String,
    status: Option<u16>,
    headers: Option<Vec<(String, String)>>,
    code: Option<String>,
    source: Option<String>,
) -> ClientError {
    let by_code = match (source.as_deref(), code.as_deref()) {
        (Some("DAYTONA_DAEMON"), Some(c)) if !c.is_empty() => daemon_kind(c),
        _ => None,
    };
    let mut e = ClientError::new(by_code.unwrap_or_else(|| status_kind(status)), message);
    e.status_code = status;
    e.headers = headers;
    e.code = code;
    e.source = source;
    e
}

/// `code`: `data.code ?? data.error_code`, strings only.
pub fn extract_code(data: &Value) -> Option<String> {
    let obj = data.as_object()?;
    let v = match obj.get("code") {
        Some(Value::Null) | None => obj.get("error_code"),
        some => some,
    };
    v.and_then(Value::as_str).map(str::to_string)
}

pub fn extract_source(data: &Value) -> Option<String> {
    data.as_object()?.get("source").and_then(Value::as_str).map(str::to_string)
}

/// The message of an HTTP error response, in the official order: `data.message` (string),
/// `data.error` (string), the body itself when it is a non-empty string, `JSON.stringify(body)`
/// for any other truthy value, else `Request failed with status code N`.
pub fn extract_message(data: &Value, status: u16) -> String {
    let as_obj = data.as_object();
    let from_field = |k: &str| as_obj.and_then(|o| o.get(k)).and_then(Value::as_str).map(str::to_string);
    let chosen: Value = match from_field("message").or_else(|| from_field("error")) {
        Some(s) => Value::String(s),
        None => data.clone(),
    };
    if !truthy(&chosen) {
        return format!("Request failed with status code {status}");
    }
    match chosen {
        Value::String(s) => s,
        other => stringify(&other),
    }
}

/// The error for a response with a non-2xx status.
pub fn from_response(status: u16, headers: Vec<(String, String)>, body: &[u8]) -> ClientError {
    let data = parse_lenient(body);
    let message = extract_message(&data, status);
    create_error(message, Some(status), Some(headers), extract_code(&data), extract_source(&data))
}

/// A client-side deadline passed before the response arrived.
pub fn timeout_error(timeout_ms: Option<f64>) -> ClientError {
    let after = match timeout_ms {
        Some(ms) if ms > 0.0 => format!(" after {}ms", super::json::js_number(ms)),
        _ => String::new(),
    };
    ClientError::new(
        ErrorKind::ConnectionTimeout,
        format!(
            "HTTP request timed out{after} waiting for a response. This is a client-side deadline \
             (DaytonaConfig.requestTimeoutMs, or the per-call operation/execution timeout); any operation \
             already started on the server may still be running."
        ),
    )
}

/// No response was received.
pub fn connection_error(message: impl Into<String>) -> ClientError {
    ClientError::new(ErrorKind::Connection, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind_of(status: u16, body: &str) -> (ErrorKind, String) {
        let e = from_response(status, vec![], body.as_bytes());
        (e.kind, e.message)
    }

    #[test]
    fn status_classes() {
        use ErrorKind::*;
        let table = [
            (400, Validation),
            (401, Authentication),
            (403, Authorization),
            (404, NotFound),
            (408, Timeout),
            (409, Conflict),
            (410, Gone),
            (422, UnprocessableEntity),
            (429, RateLimit),
            (500, InternalServer),
            (502, BadGateway),
            (503, ServiceUnavailable),
            (504, Timeout),
            (418, Generic),
            (501, Generic),
        ];
        for (status, kind) in table {
            assert_eq!(kind_of(status, "{}").0, kind, "{status}");
        }
    }

    #[test]
    fn daemon_codes_win_over_status() {
        let e = from_response(500, vec![], br#"{"code":"GIT_AUTH_FAILED","source":"DAYTONA_DAEMON"}"#);
        assert_eq!(e.kind, ErrorKind::GitAuthFailed);
        assert_eq!(e.code.as_deref(), Some("GIT_AUTH_FAILED"));
        assert_eq!(e.source.as_deref(), Some("DAYTONA_DAEMON"));
        assert_eq!(e.message, r#"{"code":"GIT_AUTH_FAILED","source":"DAYTONA_DAEMON"}"#);
        // Only the daemon source maps codes.
        let e = from_response(404, vec![], br#"{"message":"x","code":"FILE_NOT_FOUND","source":"DAYTONA_API"}"#);
        assert_eq!(e.kind, ErrorKind::NotFound);
        // error_code is the fallback field.
        let e = from_response(404, vec![], br#"{"message":"gone","error_code":"FILE_NOT_FOUND","source":"DAYTONA_DAEMON"}"#);
        assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::FileNotFound, Some("FILE_NOT_FOUND")));
        // Unknown daemon code: status class.
        assert_eq!(kind_of(409, r#"{"code":"NOPE","source":"DAYTONA_DAEMON"}"#).0, ErrorKind::Conflict);
        let all = [
            "GIT_AUTH_FAILED", "GIT_REPO_NOT_FOUND", "GIT_BRANCH_NOT_FOUND", "GIT_BRANCH_EXISTS", "GIT_PUSH_REJECTED",
            "GIT_DIRTY_WORKTREE", "GIT_MERGE_CONFLICT", "GIT_TRANSPORT_FAILED", "GIT_REMOTE_REJECTED", "FILE_NOT_FOUND",
            "FILE_ACCESS_DENIED", "INVALID_FILE_PATH", "FILE_READ_FAILED", "LSP_SERVER_NOT_INITIALIZED",
            "PROCESS_EXECUTION_TIMEOUT", "PROCESS_NOT_FOUND", "SESSION_ENDED", "COMMAND_ALREADY_COMPLETED",
            "A11Y_UNAVAILABLE", "RECORDING_STILL_ACTIVE", "RECORDING_FFMPEG_NOT_FOUND",
        ];
        for code in all {
            let k = daemon_kind(code).unwrap();
            // The kind is named after the code (the glue's table names its class after the kind).
            let expected = format!("{}", code.split('_').map(|w| {
                let w = w.to_lowercase();
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
            }).collect::<String>());
            assert_eq!(format!("{k:?}"), expected, "{code}");
        }
    }

    #[test]
    fn message_extraction_order() {
        assert_eq!(kind_of(404, r#"{"message":"Sandbox with ID or name missing not found"}"#).1, "Sandbox with ID or name missing not found");
        assert_eq!(kind_of(409, "{}").1, "{}");
        assert_eq!(kind_of(404, r#"{"message":["a","b"]}"#).1, r#"{"message":["a","b"]}"#);
        assert_eq!(kind_of(400, r#"{"error":"bad","message":3}"#).1, "bad");
        assert_eq!(kind_of(400, r#"{"message":"m","error":"e"}"#).1, "m");
        assert_eq!(kind_of(502, "upstream down").1, "upstream down");
        assert_eq!(kind_of(504, "").1, "Request failed with status code 504");
        assert_eq!(kind_of(500, "null").1, "Request failed with status code 500");
        assert_eq!(kind_of(500, "0").1, "Request failed with status code 500");
        assert_eq!(kind_of(500, "12").1, "12");
        assert_eq!(kind_of(500, "[]").1, "[]");
        assert_eq!(kind_of(500, r#"{"message":""}"#).1, "Request failed with status code 500");
        assert_eq!(extract_code(&json!({"code": 5})), None);
    }

    #[test]
    fn timeout_message() {
        assert_eq!(
            timeout_error(Some(5000.0)).message,
            "HTTP request timed out after 5000ms waiting for a response. This is a client-side deadline (DaytonaConfig.requestTimeoutMs, or the per-call operation/execution timeout); any operation already started on the server may still be running."
        );
        assert!(timeout_error(None).message.starts_with("HTTP request timed out waiting"));
        assert!(timeout_error(Some(0.0)).message.starts_with("HTTP request timed out waiting"));
    }
}
