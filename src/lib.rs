//! napi glue: converts JavaScript values into the Rust core's types and back, and forwards.
//! It decides nothing; behaviour lives in `crates/*`.

mod abort;
mod daytona;
mod errors;
mod filesystem;
mod image;
mod interpreter;
mod logs;
mod mirrors;
mod plan;
mod process;
mod promise;
mod pty;
mod sandbox;
mod server;
mod stream;
mod values;

pub use abort::Cancellation;
pub use daytona::{JsDaytona, LocalImageService, SnapshotService};
pub use errors::register_error_class;
pub use image::JsImage;
pub use interpreter::CodeInterpreter;
pub use process::Process;
pub use pty::PtyConnectionHandle;
pub use filesystem::FileSystem;
pub use sandbox::Sandbox;
pub use server::ServeHandle;
pub use stream::ToolboxStream;

/// Runs when the addon loads: the working directory at that moment is where a runtime read its
/// dotenv files (the API backend's endpoint-ambiguity check looks there too).
#[napi_derive::module_init]
fn init() {
    daytona_client::remember_startup_cwd();
}

/// Tells the local engine backend where this package's toolbox agents are
/// (`<dir>/<arch>/daytona-native-agent`, shipped in the package); index.js calls it at load.
/// `DAYTONA_NATIVE_AGENT_DIR` still takes precedence.
#[napi_derive::napi]
pub fn set_agent_directory(dir: String) {
    daytona_client::set_agent_directory(dir);
}
