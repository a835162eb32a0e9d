//! One error type for every client operation. `kind` says what went wrong in the terms of the
//! official SDK's error hierarchy (reference §4); the glue maps each kind to its JavaScript class
//! (`src/errors.rs`). Messages say what went wrong and what to do.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The base class of the hierarchy (no more specific kind applies).
    Generic,
    InvalidArgument,
    NotFound,
    Authentication,
    Timeout,
    Conflict,
    Connection,
    ConnectionTimeout,
    /// An image build failed (a kind of this package, not of the official hierarchy).
    Build,
    ProcessExecutionTimeout,
    FileNotFound,
    // The rest of the official hierarchy (reference §4), produced by the API backend's error
    // mapping: status classes first, then the daemon's (source, code) classes.
    BadRequest,
    /// 400 as thrown (a BadRequest subclass in the official hierarchy).
    Validation,
    Forbidden,
    /// 403 as thrown (a Forbidden subclass in the official hierarchy).
    Authorization,
    Gone,
    UnprocessableEntity,
    RateLimit,
    InternalServer,
    BadGateway,
    ServiceUnavailable,
    GitAuthFailed,
    GitRepoNotFound,
    GitBranchNotFound,
    GitBranchExists,
    GitPushRejected,
    GitDirtyWorktree,
    GitMergeConflict,
    GitTransportFailed,
    GitRemoteRejected,
    FileAccessDenied,
    InvalidFilePath,
    FileReadFailed,
    LspServerNotInitialized,
    ProcessNotFound,
    SessionEnded,
    CommandAlreadyCompleted,
    A11yUnavailable,
    RecordingStillActive,
    RecordingFfmpegNotFound,
    /// The caller cancelled the operation (an AbortSignal); the glue rejects with the signal's
    /// reason instead.
    Aborted,
}

impl ErrorKind {
    /// `err instanceof DaytonaTimeoutError` in the official SDK: timeouts, their subclass, and
    /// connection timeouts (which the official class also claims).
    pub fn is_timeout(self) -> bool {
        matches!(self, ErrorKind::Timeout | ErrorKind::ConnectionTimeout | ErrorKind::ProcessExecutionTimeout)
    }

    /// `err instanceof DaytonaNotFoundError`.
    pub fn is_not_found(self) -> bool {
        use ErrorKind::*;
        matches!(self, NotFound | FileNotFound | GitRepoNotFound | GitBranchNotFound | ProcessNotFound)
    }
}

#[derive(Debug, Clone)]
pub struct ClientError {
    pub kind: ErrorKind,
    pub message: String,
    pub status_code: Option<u16>,
    pub code: Option<String>,
    /// `DAYTONA_API`, `DAYTONA_DAEMON`, `DAYTONA_PROXY` when the server said so.
    pub source: Option<String>,
    /// Response headers of the failed request (lower-case names), when there was a response.
    pub headers: Option<Vec<(String, String)>>,
    /// Structured fields a caller can inspect (e.g. a failed build's step, exit code, log tail).
    /// Boxed to keep `Result<T, ClientError>` small.
    pub details: Option<Box<serde_json::Value>>,
}

impl ClientError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ClientError { kind, message: message.into(), status_code: None, code: None, source: None, headers: None, details: None }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::NotFound, message);
        e.status_code = Some(404);
        e
    }
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }
    /// The error of an operation its caller cancelled.
    pub fn aborted() -> Self {
        ClientError::new(ErrorKind::Aborted, "The operation was aborted")
    }

    pub fn generic(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Generic, message)
    }
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ClientError {}

impl From<daytona_image::ImageError> for ClientError {
    fn from(e: daytona_image::ImageError) -> Self {
        match e {
            daytona_image::ImageError::InvalidArgument(m) => ClientError::invalid(m),
            daytona_image::ImageError::NotFound(m) => ClientError::new(ErrorKind::NotFound, m),
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;
