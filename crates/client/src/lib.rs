//! The Daytona client: `Daytona`, sandbox and snapshot operations with the official SDK's
//! validation, defaults and deadlines, over a [`backend::Backend`] (the local Docker Engine
//! here; the Daytona API implements the same trait). Knows nothing of JavaScript.

pub mod backend;
mod daytona;
pub mod error;
pub mod logs;
pub mod plan;
pub mod types;
pub mod wait;

pub use daytona::{BackendChoice, Daytona, DaytonaConfig, LocalNotice};
pub use error::{ClientError, ErrorKind, Result};
