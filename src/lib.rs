//! napi glue: converts JavaScript values into the Rust core's types and back. It decides
//! nothing; behaviour lives in `crates/*`.

mod errors;
mod image;
mod values;

pub use errors::register_error_class;
pub use image::JsImage;
