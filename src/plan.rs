//! `image.plan()`: forwards to `daytona_client::plan::plan_image` on a blocking thread.

use daytona_client::plan::plan_image;
use daytona_context::ContextOptions;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::image::JsImage;
use crate::promise::spawn;

#[napi(object)]
pub struct PlanOptions {
    /// Apply `.dockerignore` files of directory contexts (default true).
    pub dockerignore: Option<bool>,
    /// Warn about contexts larger than this many bytes (default 100 MiB).
    pub warn_bytes: Option<f64>,
}

#[napi(object)]
pub struct PlannedContext {
    pub source_path: String,
    pub archive_path: String,
    pub key: String,
    pub files: f64,
    pub bytes: f64,
}

#[napi(object)]
pub struct ImagePlan {
    pub dockerfile: String,
    pub contexts: Vec<PlannedContext>,
    pub cache_key: String,
    pub warnings: Vec<String>,
}

#[napi]
impl JsImage {
    #[napi(ts_return_type = "Promise<ImagePlan>")]
    pub fn plan<'env>(&self, env: &'env Env, options: Option<PlanOptions>) -> Result<PromiseRaw<'env, ImagePlan>> {
        let mut opts = ContextOptions::default();
        if let Some(o) = options {
            if let Some(d) = o.dockerignore {
                opts.dockerignore = d;
            }
            if let Some(w) = o.warn_bytes {
                opts.warn_bytes = w.max(0.0) as u64;
            }
        }
        let image = self.inner.clone();
        spawn(
            env,
            async move {
                tokio::task::spawn_blocking(move || plan_image(&image, &opts))
                    .await
                    .map_err(|e| Error::from_reason(format!("planning task failed: {e}")))
            },
            |_, plan| {
                Ok(ImagePlan {
                    dockerfile: plan.dockerfile,
                    contexts: plan
                        .contexts
                        .into_iter()
                        .map(|c| PlannedContext {
                            source_path: c.source_path.to_string_lossy().into_owned(),
                            archive_path: c.archive_path,
                            key: c.key,
                            files: c.files as f64,
                            bytes: c.bytes as f64,
                        })
                        .collect(),
                    cache_key: plan.cache_key,
                    warnings: plan.warnings,
                })
            },
        )
    }
}
