//! The API's error bodies: `{ statusCode, message, error }` with the status' reason phrase, and
//! the mapping of the core's error kinds to statuses.

use daytona_client::{ClientError, ErrorKind};
use serde_json::json;

use crate::http::{self, Resp};

pub(crate) fn reason(status: u16) -> &'static str {
    hyper::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error")
}

pub(crate) fn body(status: u16, message: impl Into<String>) -> Resp {
    http::json(status, &json!({ "statusCode": status, "message": message.into(), "error": reason(status) }))
}

pub(crate) fn status_of(e: &ClientError) -> u16 {
    use ErrorKind::*;
    match e.kind {
        InvalidArgument | BadRequest | Validation => 400,
        Authentication => 401,
        Forbidden | Authorization => 403,
        NotFound | FileNotFound => 404,
        Timeout | ConnectionTimeout | ProcessExecutionTimeout => 408,
        Conflict => 409,
        Gone => 410,
        UnprocessableEntity => 422,
        Build => 400,
        Connection | BadGateway => 502,
        ServiceUnavailable => 503,
        _ => e.status_code.filter(|s| (400..600).contains(s)).unwrap_or(500),
    }
}

pub(crate) fn from_client(e: &ClientError) -> Resp {
    body(status_of(e), e.message.clone())
}

/// A route this server does not serve (see README, "Serve").
pub(crate) fn not_served(req: &http::Req) -> Resp {
    body(404, format!("Cannot {} {}: not served by daytona-native serve", req.method(), req.uri().path()))
}
