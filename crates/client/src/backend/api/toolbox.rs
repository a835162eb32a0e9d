//! Toolbox calls through the sandbox's toolbox proxy (reference §3.8) that are the API
//! backend's own: `process/execute`. The file transfers are the toolbox's, for both backends
//! (`crate::toolbox::files`).

use reqwest::Method;
use serde_json::Value;

use super::http::{Deadline, Request};
use super::{ApiBackend, dto};
use crate::error::Result;
use crate::types::*;

/// Extra time an exec request gets over its execution timeout (`EXEC_TIMEOUT_BUFFER_MS`).
const EXEC_TIMEOUT_BUFFER_MS: f64 = 5000.0;

/// The HTTP deadline of `executeCommand`: a positive execution timeout plus 5 s, whatever
/// `requestTimeoutMs` is (the official SDK applies it only when a positive `requestTimeoutMs`
/// was configured, and otherwise waits up to 24 h for a command that should have ended after
/// `timeout`). A timeout of 0 (no limit) lifts a configured `requestTimeoutMs`, as in the
/// official SDK; no timeout at all leaves the request timeout.
pub fn exec_deadline(timeout: Option<f64>, request_timeout_ms: Option<f64>) -> Deadline {
    match (timeout, request_timeout_ms) {
        (Some(t), _) if t > 0.0 && t.is_finite() => Deadline::Ms(t * 1000.0 + EXEC_TIMEOUT_BUFFER_MS),
        (Some(_), Some(r)) if r > 0.0 => Deadline::Ms(0.0),
        _ => Deadline::Default,
    }
}

impl ApiBackend {
    /// `{toolboxProxyUrl}/{id}` (with one `/` between); a URL not known yet is asked for within
    /// `deadline` (the deadline of the call that needs it).
    pub(super) async fn toolbox_base(&self, id: &str, deadline: Deadline) -> Result<String> {
        let known = self.toolbox.lock().unwrap().get(id).cloned();
        let url = match known {
            Some(u) => u,
            None => {
                let u = self.fetch_toolbox_url_within(id, deadline).await?;
                self.http.trust_origin_of(&u);
                self.toolbox.lock().unwrap().insert(id.to_string(), u.clone());
                u
            }
        };
        let sep = if url.ends_with('/') { "" } else { "/" };
        Ok(format!("{url}{sep}{id}"))
    }

    pub(super) async fn execute(&self, id: &str, request: &ExecRequest) -> Result<ExecResult> {
        let deadline = exec_deadline(request.timeout, self.http.config().request_timeout_ms);
        let url = format!("{}/process/execute", self.toolbox_base(id, deadline).await?);
        let mut req = Request::new(Method::POST, url).json(dto::execute_body(request)).deadline(deadline);
        req.max_body = super::http::MAX_EXEC_BODY;
        let v = self.http.json(&req).await?;
        let exit_code = v.get("exitCode").filter(|x| !x.is_null()).or_else(|| v.get("code")).and_then(Value::as_f64).unwrap_or(0.0);
        let result = v.get("result").and_then(Value::as_str).unwrap_or_default().to_string();
        Ok(ExecResult { exit_code: exit_code as i64, result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn exec_deadline_rule() {
        assert_eq!(exec_deadline(Some(5.0), Some(30_000.0)), Deadline::Ms(10_000.0));
        assert_eq!(exec_deadline(Some(0.0), Some(30_000.0)), Deadline::Ms(0.0));
        assert_eq!(exec_deadline(Some(0.0), None), Deadline::Default);
        // Bounded by its own timeout even without requestTimeoutMs (the official SDK: 24 h).
        assert_eq!(exec_deadline(Some(5.0), None), Deadline::Ms(10_000.0));
        assert_eq!(exec_deadline(Some(5.0), Some(0.0)), Deadline::Ms(10_000.0));
        assert_eq!(exec_deadline(None, Some(30_000.0)), Deadline::Default);
    }

    fn download_error(data: &[u8], content_type: Option<&str>) -> crate::error::ClientError {
        let (message, details) = crate::toolbox::files::parse_error_part(data, content_type);
        let r = crate::toolbox::files::DownloadResult { source: "x".into(), result: None, error: Some(message), error_details: details };
        r.failure().unwrap()
    }

    #[test]
    fn download_error_parts() {
        let e = download_error(
            br#"{"message":"file not found","statusCode":404,"code":"FILE_NOT_FOUND","source":"DAYTONA_DAEMON"}"#,
            Some("application/json"),
        );
        assert_eq!((e.kind, e.message.as_str(), e.status_code), (ErrorKind::FileNotFound, "file not found", Some(404)));
        let e = download_error(b" plain failure \n", Some("text/plain"));
        assert_eq!((e.kind, e.message.as_str(), e.status_code), (ErrorKind::Generic, "plain failure", None));
        let e = download_error(br#"{"message":"denied","status_code":403}"#, Some("application/json; charset=utf-8"));
        assert_eq!((e.kind, e.status_code), (ErrorKind::Authorization, Some(403)));
        let e = download_error(b"[1]", Some("application/json"));
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Generic, "[1]"));
    }

    #[test]
    fn basenames() {
        assert_eq!(crate::toolbox::files::basename("/home/x/data.csv"), "data.csv");
        assert_eq!(crate::toolbox::files::basename("rel.txt"), "rel.txt");
        assert_eq!(crate::toolbox::files::basename("/tmp/dir/"), "dir");
        assert_eq!(crate::toolbox::files::basename("/"), "");
    }
}
