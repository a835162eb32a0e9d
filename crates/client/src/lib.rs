//! The Daytona client: `Daytona`, sandbox and snapshot operations with the official SDK's
//! validation, defaults and deadlines, over a [`backend::Backend`] (the local Docker Engine
//! here; the Daytona API implements the same trait). Knows nothing of JavaScript.

pub mod backend;
pub mod config;
mod daytona;
pub mod error;
pub mod events;
pub mod logs;
pub mod plan;
pub mod toolbox;
pub mod types;
pub mod wait;

pub use backend::api::dotenv::remember_startup_cwd;
pub use backend::local::set_agent_directory;
pub use config::{BuildSecretsSetting, DaytonaConfig, LocalSettings};
pub use daytona::Daytona;
pub use error::{ClientError, ErrorKind, Result};
/// Cancels operations started through [`Daytona::with_cancellation`].
pub use tokio_util::sync::CancellationToken;
