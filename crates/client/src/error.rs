//! One error type for every client operation. `kind` decides the JavaScript class the glue
//! throws (`DaytonaNotFoundError`, ...); messages say what went wrong and what to do.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Base `DaytonaError`.
    Generic,
    InvalidArgument,
    NotFound,
    Authentication,
    Timeout,
    Conflict,
    Connection,
    ConnectionTimeout,
    /// An image build failed (`DaytonaBuildError`, a `DaytonaError` subclass of this package).
    Build,
    ProcessExecutionTimeout,
    FileNotFound,
}

#[derive(Debug, Clone)]
pub struct ClientError {
    pub kind: ErrorKind,
    pub message: String,
    pub status_code: Option<u16>,
    pub code: Option<String>,
    /// Structured fields a caller can inspect (e.g. a failed build's step, exit code, log tail).
    pub details: Option<serde_json::Value>,
}

impl ClientError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ClientError { kind, message: message.into(), status_code: None, code: None, details: None }
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
    pub fn generic(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Generic, message)
    }
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
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
