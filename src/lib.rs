//! napi glue: converts JavaScript values into the Rust core's types and back, and forwards.
//! It decides nothing; behaviour lives in `crates/*`.

mod daytona;
mod errors;
mod image;
mod logs;
mod mirrors;
mod plan;
mod promise;
mod sandbox;
mod values;

pub use daytona::{JsDaytona, SnapshotService};
pub use errors::register_error_class;
pub use image::JsImage;
pub use sandbox::{FileSystem, Process, Sandbox};

/// Runs when the addon loads: the working directory at that moment is where a runtime read its
/// dotenv files (the API backend's endpoint-ambiguity check looks there too).
#[napi_derive::module_init]
fn init() {
    daytona_client::remember_startup_cwd();
}
