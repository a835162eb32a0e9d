/// Errors of the Image builder. The message is exactly what the official SDK puts in its
/// `DaytonaInvalidArgumentError` / `DaytonaNotFoundError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
}

pub type Result<T> = std::result::Result<T, ImageError>;

pub(crate) fn invalid(msg: impl Into<String>) -> ImageError {
    ImageError::InvalidArgument(msg.into())
}

pub(crate) fn not_found(msg: impl Into<String>) -> ImageError {
    ImageError::NotFound(msg.into())
}
